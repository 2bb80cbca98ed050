package docs

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
)

// demoGuard turns a demo that never shows a rate into a failure; nothing is
// timed against it.
const demoGuard = 20 * time.Second

// ratedRow is an interface row whose RX and TX columns hold scaled rates.
var ratedRow = regexp.MustCompile(`(?m)^ \S+\s+(\d[\d.]*) [kMGT]?bit/s\s+(\d[\d.]*) [kMGT]?bit/s\s`)

func TestMain(m *testing.M) { proctest.Main(m) }

// TestDemoCapture runs the README's quick-start command, "ifstat-bridge
// demo", in a 120×30 tmux pane with IFSTAT_BROKER unset and a private HOME
// and tmux server, waits for a row with a numeric rate, checks the screen,
// stops the demo with Ctrl-C and checks it exits 0. With -update the screen
// is saved to demo-capture.txt, the capture the README shows.
func TestDemoCapture(t *testing.T) {
	proctest.SkipShort(t, "builds and runs the demo")
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: tmux is required")
		}
		t.Skip("tmux not installed")
	}
	const bridgePkg = proctest.BridgePkg
	bin := proctest.Build(t, bridgePkg)[bridgePkg]

	home := t.TempDir()
	// A private tmux server (-L) with no user configuration (-f): nothing of
	// a developer's tmux leaks in, and killing it kills only what we made.
	socket := fmt.Sprintf("ifstat-demo-test-%d", os.Getpid())
	const session = "ifstat-demo"
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "IFSTAT_") || strings.HasPrefix(k, "TMUX") || k == "HOME" || strings.HasPrefix(k, "NETDATA_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "TMUX_TMPDIR="+home)
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(t.Context(), tmux, append([]string{"-L", socket, "-f", "/dev/null"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	start := time.Now()
	if out, err := run("new-session", "-d", "-s", session, "-x", "120", "-y", "30", bin+" demo", ";",
		"set-option", "-t", session, "remain-on-exit", "on"); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run: use a
		// command of its own, or the tmux server outlives the test.
		for _, args := range [][]string{{"kill-session", "-t", session}, {"kill-server"}} {
			cmd := exec.Command(tmux, append([]string{"-L", socket, "-f", "/dev/null"}, args...)...)
			cmd.Env = env
			cmd.Run()
		}
	})

	var screen string
	for {
		out, err := run("capture-pane", "-p", "-t", session)
		if err != nil {
			t.Fatalf("tmux capture-pane: %v\n%s", err, out)
		}
		screen = out
		if ratedRow.MatchString(screen) {
			break
		}
		if dead, _ := run("display-message", "-p", "-t", session, "#{pane_dead}"); strings.TrimSpace(dead) == "1" {
			t.Fatalf("the demo exited before showing a rate:\n%s", screen)
		}
		if time.Since(start) > demoGuard {
			t.Fatalf("no rated row after %v:\n%s", demoGuard, screen)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Informational: how long a fresh start took to show numbers here.
	t.Logf("first rated row after %v", time.Since(start).Round(100*time.Millisecond))
	screen = strings.TrimRight(screen, "\n") + "\n"
	t.Logf("screen:\n%s", screen)

	lines := strings.Split(screen, "\n")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`^ifstat-mqtt demo \(Ctrl-C stops\)$`),
		regexp.MustCompile(`^broker tcp://127\.0\.0\.1:\d+ \(embedded, loopback only\)$`),
		regexp.MustCompile(`^agent "[a-z0-9_-]+" in this process`),
		regexp.MustCompile(`^raw messages: mosquitto_sub -h 127\.0\.0\.1 -p \d+ -v -t 'ifstat/#'$`),
		regexp.MustCompile(`^IFACE\s+RX\s+TX\s+RX total\s+TX total\s+GAPS\s+RX trend\s+STATUS$`),
		regexp.MustCompile(`^[a-z0-9_-]+: online, answering, last reply \d\d:\d\d:\d\d$`),
	} {
		found := false
		for _, l := range lines {
			if want.MatchString(l) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("screen has no line matching %v", want)
		}
	}
	if strings.Contains(screen, "level=") {
		t.Errorf("log lines on the demo screen:\n%s", screen)
	}

	if golden.Update() {
		if err := os.WriteFile("demo-capture.txt", []byte(screen), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Ctrl-C stops it cleanly: exit status 0.
	if out, err := run("send-keys", "-t", session, "C-c"); err != nil {
		t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
	pid, _ := run("display-message", "-p", "-t", session, "#{pane_pid}")
	pid = strings.TrimSpace(pid)
	stopStart := time.Now()
	for {
		out, _ := run("display-message", "-p", "-t", session, "#{pane_dead} #{pane_dead_status}")
		if f := strings.Fields(out); len(f) == 2 && f[0] == "1" {
			if f[1] != "0" {
				t.Errorf("demo exited with status %s after Ctrl-C, want 0", f[1])
			}
			break
		}
		// tmux does not always reap its child at once (seen under
		// load): an exited demo is then a zombie whose exit code the
		// kernel still holds.
		if code, exited := zombieExit(pid); exited {
			if code != 0 {
				t.Errorf("demo exited with wait status %d after Ctrl-C, want 0", code)
			}
			break
		}
		if time.Since(stopStart) > demoGuard {
			// Ask the Go runtime for its goroutines, so the log says
			// where the shutdown hangs.
			if pid, _ := run("display-message", "-p", "-t", session, "#{pane_pid}"); strings.TrimSpace(pid) != "" {
				exec.Command("kill", "-QUIT", strings.TrimSpace(pid)).Run()
				time.Sleep(time.Second)
				dump, _ := run("capture-pane", "-p", "-S", "-3000", "-t", session)
				t.Logf("goroutines of the hung demo:\n%s", dump)
			}
			t.Fatalf("demo still running %v after Ctrl-C", demoGuard)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// zombieExit reports whether process pid has exited but is not yet
// reaped, and its wait status (field 52 of /proc/<pid>/stat).
func zombieExit(pid string) (status int, exited bool) {
	if pid == "" {
		return 0, false
	}
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: split after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 50 || f[0] != "Z" {
		return 0, false
	}
	code, err := strconv.Atoi(f[49])
	if err != nil {
		return 0, false
	}
	return code, true
}
