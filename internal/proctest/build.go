package proctest

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// builds is the one build cache of a test binary: building a command takes
// seconds of a shared machine, so every test of a package that needs it
// shares one build.
var builds = struct {
	mu   sync.Mutex
	dir  string
	err  error // from creating dir
	pkgs map[string]*build
}{pkgs: map[string]*build{}}

type build struct {
	once sync.Once
	bin  string
	err  error
}

// Binaries builds each package (an import path of a main package) with
// "go build" (go test puts its own toolchain first on PATH), at most once
// per test binary, and returns the binaries'
// paths keyed by import path. A failed build is reported to every caller
// with go's output.
func Binaries(pkgs ...string) (map[string]string, error) {
	entries := make([]*build, len(pkgs))
	var wg sync.WaitGroup
	for i, pkg := range pkgs {
		b, dir, err := entry(pkg)
		if err != nil {
			return nil, err
		}
		entries[i] = b
		// The builds run at once: linking is mostly one core's work, and
		// a test waiting for two commands waits for the slower only.
		wg.Go(func() {
			b.once.Do(func() {
				bin := filepath.Join(dir, path.Base(pkg))
				if msg, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
					b.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
					return
				}
				b.bin = bin
			})
		})
	}
	wg.Wait()
	out := make(map[string]string, len(pkgs))
	var errs []error
	for i, b := range entries {
		if b.err != nil {
			errs = append(errs, b.err)
			continue
		}
		out[pkgs[i]] = b.bin
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Build is Binaries that fails t on error.
func Build(t testing.TB, pkgs ...string) map[string]string {
	t.Helper()
	bins, err := Binaries(pkgs...)
	if err != nil {
		t.Fatal(err)
	}
	return bins
}

// entry returns pkg's build and the binary directory, creating either.
func entry(pkg string) (*build, string, error) {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir == "" && builds.err == nil {
		builds.dir, builds.err = binDir()
	}
	if builds.err != nil {
		return nil, "", builds.err
	}
	b := builds.pkgs[pkg]
	if b == nil {
		b = &build{}
		builds.pkgs[pkg] = b
	}
	return b, builds.dir, nil
}

// binDir creates the directory of the built binaries. t.TempDir would
// vanish with the first test that asked and is 0700: a test that runs
// a binary as nobody needs to enter it.
func binDir() (string, error) {
	dir, err := os.MkdirTemp("", "proctest-bin-")
	if err != nil {
		return "", fmt.Errorf("binary directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("binary directory: %w", err)
	}
	return dir, nil
}

// RemoveBinaries deletes what Build built; later builds start afresh.
func RemoveBinaries() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.dir, builds.err = "", nil
	builds.pkgs = map[string]*build{}
}

// Main runs the tests, removes the built binaries and exits with the
// tests' code. Call it from TestMain in every package that builds.
func Main(m *testing.M) {
	code := m.Run()
	RemoveBinaries()
	os.Exit(code)
}

// Import paths of the two commands most tests run.
const (
	AgentPkg  = "github.com/ifstat-mqtt/ifstat-mqtt/cmd/ifstat-agent"
	BridgePkg = "github.com/ifstat-mqtt/ifstat-mqtt/cmd/ifstat-bridge"
)

// Commands are the paths of the built agent and bridge.
type Commands struct{ Agent, Bridge string }

// BuildCommands builds ifstat-agent and ifstat-bridge, once per test binary.
func BuildCommands(t testing.TB) Commands {
	t.Helper()
	b := Build(t, AgentPkg, BridgePkg)
	return Commands{Agent: b[AgentPkg], Bridge: b[BridgePkg]}
}

// ParallelAll lets every parallel test of the package run at the same
// time unless -parallel was given. For packages whose tests wait on real
// processes' clocks and use little CPU meanwhile: go test's default,
// GOMAXPROCS at a time, would make such a package as slow as the sum of
// its tests on a 2-core machine. Call it from TestMain; it parses the
// flags.
func ParallelAll() {
	if !flag.Parsed() {
		flag.Parse()
	}
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", "64"); err != nil {
			panic(err)
		}
	}
}
