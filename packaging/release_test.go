package packaging

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	"github.com/google/go-cmp/cmp"
)

// erxKernel is the kernel release EdgeOS 2.x reports on an ER-X; Go
// runtimes check it (go.mod pins a Go that runs there).
const erxKernel = "4.14.54-UBNT"

// TestReleaseMipsle builds the mipsle archive only (the others differ in
// GOARCH, not in the script's logic, and would cost CI minutes), checks its
// layout and checksum, and runs its agent under qemu-mipsel as an ER-X.
func TestReleaseMipsle(t *testing.T) {
	proctest.SkipShort(t, "cross-compiles the agent")
	t.Parallel() // its own DIST and staging folders
	qemu, err := exec.LookPath("qemu-mipsel")
	if err != nil && os.Getenv("CI") != "true" {
		t.Log("qemu-mipsel not installed: the archive is checked, its binary not run")
	} else if err != nil {
		t.Fatal("CI=true: qemu-mipsel is required (apt-get install qemu-user)")
	}

	dist := t.TempDir()
	const version = "v0.0.0-releasetest"
	cmd := exec.CommandContext(t.Context(), "../scripts/release.sh", "mipsle")
	cmd.Env = append(os.Environ(), "DIST="+dist, "VERSION="+version, "SOURCE_DATE_EPOCH=1700000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh mipsle: %v\n%s", err, out)
	}

	const name = "ifstat-mqtt_" + version + "_linux_mipsle"
	archive := filepath.Join(dist, name+".tar.gz")
	sums := readSums(t, filepath.Join(dist, "SHA256SUMS"))
	if diff := cmp.Diff(map[string]string{name + ".tar.gz": sha256File(t, archive)}, sums); diff != "" {
		t.Errorf("SHA256SUMS (-want +got):\n%s", diff)
	}

	files, modes := untar(t, archive, t.TempDir())
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{
		"README.md",
		"docs/install.md",
		"ifstat-agent",
		"install/edgeos/agent.env",
		"install/edgeos/ifstat-agent.sh",
		"install/edgeos/install.sh",
		"install/openwrt/ifstat-agent.init",
		"install/openwrt/ifstat.config",
		"install/openwrt/install.sh",
		"install/systemd/agent.env",
		"install/systemd/ifstat-agent.service",
	}
	if _, err := os.Stat("../LICENSE"); err == nil {
		want = append(want, "LICENSE")
		slices.Sort(want)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files in %s (-want +got):\n%s", name, diff)
	}
	for _, exe := range []string{"ifstat-agent", "install/edgeos/install.sh", "install/edgeos/ifstat-agent.sh", "install/openwrt/install.sh", "install/openwrt/ifstat-agent.init"} {
		if modes[exe]&0o111 != 0o111 {
			t.Errorf("%s: mode %v, want executable by all", exe, modes[exe])
		}
	}

	bin := files["ifstat-agent"]
	if bin == "" {
		t.Fatal("no ifstat-agent in the archive")
	}
	checkELF(t, bin, elf.EM_MIPS, elf.ELFCLASS32, elf.ELFDATA2LSB)
	if qemu == "" {
		return
	}
	out, err := exec.CommandContext(t.Context(), qemu, "-r", erxKernel, bin, "-version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s -r %s ifstat-agent -version: %v\n%s", qemu, erxKernel, err, out)
	}
	if got, prefix := string(out), "ifstat-agent "+version+" linux/mipsle "; !strings.HasPrefix(got, prefix) {
		t.Errorf("ifstat-agent -version under qemu = %q, want prefix %q", got, prefix)
	}
}

// checkELF asserts bin is a static executable for the given machine.
func checkELF(t *testing.T, bin string, machine elf.Machine, class elf.Class, data elf.Data) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != machine || f.Class != class || f.Data != data {
		t.Errorf("%s: %v %v %v, want %v %v %v", bin, f.Machine, f.Class, f.Data, machine, class, data)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s: has an ELF interpreter, want a static binary", bin)
		}
	}
}

// untar extracts archive into dir and returns the regular files by their
// path below the archive's single top folder, and their modes.
func untar(t *testing.T, archive, dir string) (map[string]string, map[string]os.FileMode) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := make(map[string]string)
	modes := make(map[string]os.FileMode)
	top := strings.TrimSuffix(filepath.Base(archive), ".tar.gz") + "/"
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rel, ok := strings.CutPrefix(h.Name, top)
		if !ok && h.Name != strings.TrimSuffix(top, "/") {
			t.Errorf("%s: entry %q outside the folder %s", archive, h.Name, top)
			continue
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: %s owned by %d:%d, want 0:0", archive, h.Name, h.Uid, h.Gid)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, h.FileInfo().Mode().Perm())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		files[rel] = p
		modes[rel] = h.FileInfo().Mode().Perm()
	}
	return files, modes
}

func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("%s: malformed line %q", path, sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
