package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
)

// shLines returns the lines of the ```sh blocks of a Markdown file, with
// comments (" #" to the end) cut off.
func shLines(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case !in && strings.TrimSpace(l) == "```sh":
			in = true
		case in && strings.TrimSpace(l) == "```":
			in = false
		case in:
			if i := strings.Index(l, " #"); i >= 0 {
				l = l[:i]
			}
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return lines
}

// settingRE matches an IFSTAT_NAME=value argument as the docs write them
// (unquoted values without spaces).
var settingRE = regexp.MustCompile(`\b(IFSTAT_[A-Z0-9_]+)=(\S*)`)

// activeLines returns the lines of an ifstat.conf that set name, as
// config.Parse reads them (spaces and "export " allowed).
func activeLines(conf, name string) []string {
	var out []string
	for l := range strings.Lines(conf) {
		s := strings.TrimPrefix(strings.TrimSpace(l), "export ")
		if k, _, ok := strings.Cut(s, "="); ok && strings.TrimSpace(k) == name {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return out
}

// netdataWorkdir lays out what the docs' commands expect in the current
// directory, for both a checkout (packaging/netdata/, ifstat-bridge built
// at the top) and a release archive (install/netdata/, ifstat-bridge at
// the top), and a scratch root with Debian 12's plugins directory. A sudo
// that just runs its arguments stands in for the real one.
func netdataWorkdir(t *testing.T) (work, root string, env []string) {
	t.Helper()
	work, root = t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "usr/lib/netdata/plugins.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"packaging/netdata", "install/netdata"} {
		if err := os.MkdirAll(filepath.Join(work, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"install-plugin.sh", "ifstat.conf", "health.d/ifstat.conf"} {
			b, err := os.ReadFile(filepath.Join("netdata", f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(work, dir, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(work, dir, f), b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	files := map[string]string{
		"ifstat-bridge": "#!/bin/sh\necho bridge\n",
		"bin/sudo":      "#!/bin/sh\nexec \"$@\"\n",
	}
	for name, body := range files {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env = []string{"PATH=" + filepath.Join(work, "bin") + ":" + os.Getenv("PATH"), "ROOT=" + root}
	return work, root, env
}

func runSh(t *testing.T, dir string, env []string, script string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// TestNetdataConfigStepOfDocs runs install-plugin.sh into a scratch Netdata
// layout, then every line of the README's and docs/install.md's sh blocks
// that sets IFSTAT_* variables through install-plugin.sh, exactly as the
// page shows it, and checks that ifstat.conf then holds each of those
// variables once, with the value given. Both pages must show how the broker
// is set. A page whose config step appended a second line (the last one
// wins in config.Parse) fails here.
func TestNetdataConfigStepOfDocs(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"../README.md", "../docs/install.md"} {
		t.Run(filepath.Base(doc), func(t *testing.T) {
			t.Parallel()
			var steps []string
			broker := false
			for _, l := range shLines(t, doc) {
				if strings.Contains(l, "install-plugin.sh") && settingRE.MatchString(l) {
					steps = append(steps, l)
					broker = broker || strings.Contains(l, "IFSTAT_BROKER=")
				}
			}
			if !broker {
				t.Fatalf("%s: no sh line sets IFSTAT_BROKER through install-plugin.sh (found %q)", doc, steps)
			}
			for _, step := range steps {
				t.Run(step, func(t *testing.T) {
					t.Parallel()
					work, root, env := netdataWorkdir(t)
					// The first install writes ifstat.conf from the template.
					runSh(t, work, env, "packaging/netdata/install-plugin.sh ifstat-bridge")
					conf := filepath.Join(root, "etc/netdata/ifstat.conf")
					if got := activeLines(readFile(t, conf), "IFSTAT_BROKER"); len(got) != 1 {
						t.Fatalf("after the first install, IFSTAT_BROKER lines %q, want one", got)
					}
					out := runSh(t, work, env, step)
					text := readFile(t, conf)
					vars, err := config.ReadFile(conf)
					if err != nil {
						t.Fatal(err)
					}
					for _, m := range settingRE.FindAllStringSubmatch(step, -1) {
						if got := activeLines(text, m[1]); len(got) != 1 {
							t.Errorf("after %q: %s lines %q, want exactly one\n%s", step, m[1], got, out)
						}
						if vars[m[1]] != m[2] {
							t.Errorf("after %q: %s = %q, want %q", step, m[1], vars[m[1]], m[2])
						}
					}
					if st, err := os.Stat(conf); err != nil {
						t.Error(err)
					} else if st.Mode().Perm() != 0o640 {
						t.Errorf("ifstat.conf: mode %v, want 0640", st.Mode().Perm())
					}
				})
			}
		})
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNetdataSettings checks how install-plugin.sh's IFSTAT_NAME=value
// arguments edit an existing ifstat.conf.
func TestNetdataSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		conf     string
		args     []string
		want     string
		wantFail bool
	}{
		{
			name: "replaces in place",
			conf: "# c\nIFSTAT_BROKER=tcp://127.0.0.1:1883\n#IFSTAT_USERNAME=bridge\n",
			args: []string{"IFSTAT_BROKER=tcp://10.0.0.1:1883"},
			want: "# c\nIFSTAT_BROKER=tcp://10.0.0.1:1883\n#IFSTAT_USERNAME=bridge\n",
		},
		{
			name: "collapses duplicates left by tee -a",
			conf: "IFSTAT_BROKER=tcp://127.0.0.1:1883\nIFSTAT_NODES=a\nIFSTAT_BROKER=tcp://old:1883\n",
			args: []string{"IFSTAT_BROKER=tcp://new:1883"},
			want: "IFSTAT_BROKER=tcp://new:1883\nIFSTAT_NODES=a\n",
		},
		{
			name: "export and spaces count as the same variable",
			conf: "  export IFSTAT_BROKER = tcp://a:1\nIFSTAT_BROKERS=x\n",
			args: []string{"IFSTAT_BROKER=tcp://b:1"},
			want: "IFSTAT_BROKER=tcp://b:1\nIFSTAT_BROKERS=x\n",
		},
		{
			name: "fills in the commented example",
			conf: "IFSTAT_BROKER=tcp://a:1\n#IFSTAT_USERNAME=bridge\n# IFSTAT_HA=off\n",
			args: []string{"IFSTAT_USERNAME=er-x", "IFSTAT_HA=off"},
			want: "IFSTAT_BROKER=tcp://a:1\nIFSTAT_USERNAME=er-x\nIFSTAT_HA=off\n",
		},
		{
			name: "appends a new one",
			conf: "IFSTAT_BROKER=tcp://a:1\n# about IFSTAT_NODES\n",
			args: []string{"IFSTAT_NODES=er-x,openwrt"},
			want: "IFSTAT_BROKER=tcp://a:1\n# about IFSTAT_NODES\nIFSTAT_NODES=er-x,openwrt\n",
		},
		{
			name: "no character of the value is special",
			conf: "IFSTAT_PASSWORD=x\n",
			args: []string{`IFSTAT_PASSWORD=a|b&c\1/d'e"f$g h`},
			want: "IFSTAT_PASSWORD=a|b&c\\1/d'e\"f$g h\n",
		},
		{name: "bad name", conf: "IFSTAT_BROKER=x\n", args: []string{"IFSTAT_broker=y"}, want: "IFSTAT_BROKER=x\n", wantFail: true},
		{name: "unknown option", conf: "IFSTAT_BROKER=x\n", args: []string{"-b", "tcp://y:1"}, want: "IFSTAT_BROKER=x\n", wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			work, root, env := netdataWorkdir(t)
			conf := filepath.Join(root, "etc/netdata/ifstat.conf")
			if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(conf, []byte(tt.conf), 0o640); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), "sh", append([]string{"packaging/netdata/install-plugin.sh", "ifstat-bridge"}, tt.args...)...)
			cmd.Dir, cmd.Env = work, env
			out, err := cmd.CombinedOutput()
			if (err != nil) != tt.wantFail {
				t.Fatalf("install-plugin.sh %q: err %v, want failure %v\n%s", tt.args, err, tt.wantFail, out)
			}
			if diff := cmp.Diff(tt.want, readFile(t, conf)); diff != "" {
				t.Errorf("ifstat.conf after install-plugin.sh %q (-want +got):\n%s", tt.args, diff)
			}
			if st, err := os.Stat(conf); err != nil {
				t.Error(err)
			} else if st.Mode().Perm() != 0o640 {
				t.Errorf("ifstat.conf: mode %v, want 0640 kept", st.Mode().Perm())
			}
		})
	}
}
