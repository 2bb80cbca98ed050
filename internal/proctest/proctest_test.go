package proctest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) { Main(m) }

func TestLockedBuffer(t *testing.T) {
	t.Parallel()
	var b LockedBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("x"))
			}
		})
	}
	wg.Wait()
	if got := len(b.String()); got != 800 {
		t.Errorf("len(String()) = %d after 8×100 writes of 1 byte, want 800", got)
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        []string
		script     string
		wantStdout string
		wantStderr string
		wantCode   int
	}{
		{"exact_env", []string{"A=1", "B=two"}, `env | sort`, "A=1\nB=two\nPWD=" + mustGetwd(t) + "\n", "", 0},
		{"nil_env_is_empty", nil, `env | grep -v '^PWD=' | wc -l`, "0\n", "", 0},
		{"stderr_and_code", []string{}, `echo out; echo err >&2; exit 3`, "out\n", "err\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := Start(t, tt.name, sh, tt.env, Args("-c", tt.script))
			err := p.Wait(t)
			var ee *exec.ExitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			got := []any{p.Stdout().String(), p.Stderr().String(), code, p.State().ExitCode()}
			want := []any{tt.wantStdout, tt.wantStderr, tt.wantCode, tt.wantCode}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stdout, stderr, Wait's code, State's code (-want +got):\n%s", diff)
			}
		})
	}
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestSignal(t *testing.T) {
	t.Parallel()
	// The shell traps TERM and says so: the signal reached this PID.
	p := Start(t, "sleeper", "/bin/sh", nil, Args("-c", `trap 'echo term; exit 0' TERM; echo ready; while :; do sleep 0.01; done`))
	deadline := time.Now().Add(DefaultGuard)
	for p.Stdout().String() != "ready\n" {
		if time.Now().After(deadline) {
			t.Fatalf("no ready within %v: %q", DefaultGuard, p.Stdout().String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if p.Exited() || p.State() != nil || p.Err() != nil {
		t.Fatalf("running: Exited %v State %v Err %v, want false nil nil", p.Exited(), p.State(), p.Err())
	}
	p.Signal(t, syscall.SIGTERM)
	if !p.Exited() || p.Stdout().String() != "ready\nterm\n" || p.Err() != nil {
		t.Errorf("after SIGTERM: Exited %v stdout %q Err %v, want true %q nil", p.Exited(), p.Stdout().String(), p.Err(), "ready\nterm\n")
	}
	p.Kill(t) // a no-op on an exited process
}

func TestKillByPID(t *testing.T) {
	t.Parallel()
	p := Start(t, "sleep", "/bin/sleep", nil, Args("600"))
	pid := p.PID()
	p.Kill(t)
	if ws, ok := p.State().Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("state %v, want killed by SIGKILL", p.State())
	}
	// Reaped: the PID is gone (or, rarely, reused by another process).
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil && string(b) == "/bin/sleep\x00600\x00" {
		t.Errorf("pid %d still runs sleep 600 after Kill", pid)
	}
}

func TestServePipe(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dev")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var served []Instant
	ServePipe(t, path, func(at Instant) []byte {
		mu.Lock()
		defer mu.Unlock()
		served = append(served, at)
		return []byte("read " + strconv.Itoa(len(served)) + "\n")
	})
	var got []string
	for i := range 3 {
		before := BootNS()
		b, err := os.ReadFile(path)
		after := BootNS()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
		// The instant of each value lies within its read, on the clock
		// the agent stamps reads with.
		mu.Lock()
		if len(served) != i+1 || served[i].BootNS < before || served[i].BootNS > after {
			t.Errorf("read %d: served %v, want the %dth instant within [%d, %d]", i+1, served, i+1, before, after)
		}
		mu.Unlock()
	}
	if diff := cmp.Diff([]string{"read 1\n", "read 2\n", "read 3\n"}, got); diff != "" {
		t.Errorf("three reads (-want +got):\n%s", diff)
	}
}

func TestBuild(t *testing.T) {
	SkipShort(t, "builds ifstat-agent")
	t.Parallel()
	const pkg = "github.com/ifstat-mqtt/ifstat-mqtt/cmd/ifstat-agent"
	first := Build(t, pkg)
	second := Build(t, pkg)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second Build (-first +second):\n%s", diff)
	}
	bin := first[pkg]
	if filepath.Base(bin) != "ifstat-agent" {
		t.Errorf("binary %s, want it named ifstat-agent", bin)
	}
	fi, err := os.Stat(filepath.Dir(bin))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o755 {
		t.Errorf("binary directory mode %v, want 0755 (enterable by nobody)", got)
	}
	out, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil {
		t.Errorf("%s -version: %v\n%s", bin, err, out)
	}
	if _, err := Binaries("github.com/ifstat-mqtt/ifstat-mqtt/no/such/cmd"); err == nil {
		t.Error("Binaries of a missing package: no error")
	}
}
