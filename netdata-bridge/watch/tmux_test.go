package watch_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

func TestMain(m *testing.M) { proctest.Main(m) }

// guard turns a hang into a failure; nothing is timed against it (the
// times are logged).
const guard = 60 * time.Second

const node = "tmux-er-x"

// TestWatchTmuxAgentRestart runs "ifstat-bridge watch" in an 80×24 tmux
// pane against a real Mosquitto and a real agent on a fake counter tree,
// stops the agent with SIGTERM (its retained status goes offline) and
// starts it again, then stops it with SIGSTOP (no reply, status still
// online) and continues it. The eth0 row must show a rate, then "offline"
// with blank rates, then a rate again with the outage counted as gaps and
// drawn as holes, then "no reply Ns" with blank rates; no line of the
// screen may be wider than 80 columns.
func TestWatchTmuxAgentRestart(t *testing.T) {
	proctest.SkipShort(t, "starts mosquitto, an agent and the bridge in tmux")
	ci := os.Getenv("CI") == "true"
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if ci {
			t.Fatal("CI=true: tmux is required")
		}
		t.Skip("tmux not installed")
	}
	broker := brokertest.Start(t)
	if broker.Embedded() {
		if ci {
			t.Fatal("CI=true: this test needs a real mosquitto")
		}
		t.Log("mosquitto not installed: running against the embedded broker")
	}
	bin := proctest.BuildCommands(t)

	// eth0 at 100 Mbit/s in, 20 Mbit/s out, rendered at each read.
	tree := netdevtest.NewTree(t)
	tree.SetBootID("6f1c1a4e-3f0e-4c58-9a1e-7a0000000001")
	tree.Set("eth0", wire.Counters{Ifindex: 2, SpeedMbps: 1000})
	start := time.Now()
	proctest.ServePipe(t, filepath.Join(tree.ProcRoot(), "net", "dev"), func(at proctest.Instant) []byte {
		s := at.Wall.Sub(start).Seconds()
		rx, tx := 5e11+uint64(12_500_000*s), 1e11+uint64(2_500_000*s)
		return netdevtest.Format(map[string]wire.Counters{"eth0": {RxBytes: rx, TxBytes: tx, RxPackets: rx / 1000, TxPackets: tx / 1000}})
	})
	agentEnv := []string{
		"IFSTAT_BROKER=" + broker.URL(), "IFSTAT_NODE=" + node,
		"IFSTAT_PROC_ROOT=" + tree.ProcRoot(), "IFSTAT_SYS_ROOT=" + tree.SysRoot(), "IFSTAT_LOG_LEVEL=info",
	}
	agent := proctest.Start(t, "agent", bin.Agent, agentEnv, proctest.Guard(guard))

	pane := startPane(t, tmux, bin.Bridge, broker.URL())
	row := regexp.MustCompile(`(?m)^ eth0 .*$`)
	rated := regexp.MustCompile(`^ eth0 +\d[\d.]* [kMG]?bit/s +\d[\d.]* [kMG]?bit/s `)
	// The row's GAPS column and sparkline: "<gaps> <spark> <status>".
	tail := regexp.MustCompile(`(\d+[kMG]?) ([▁▂▃▄▅▆▇█·]+) +(\S.*)$`)
	var captures []string
	var mu sync.Mutex
	snap := func(what string, screen string) {
		mu.Lock()
		defer mu.Unlock()
		captures = append(captures, what, screen)
		t.Logf("%s (80×24):\n%s", what, screen)
		checkWidth(t, what, screen)
	}

	// Before: a rated row, three rated rounds in its sparkline.
	screen, _ := pane.waitFor(t, "a rated eth0 row", func(s string) bool {
		r := row.FindString(s)
		m := tail.FindStringSubmatch(r)
		return rated.MatchString(r) && m != nil && utf8.RuneCountInString(m[2]) >= 3
	})
	snap("before the kill", screen)

	// During: SIGTERM; the agent publishes its retained "offline" as it
	// stops. The row must say offline, with blank rates.
	killed := time.Now()
	agent.Signal(t, syscall.SIGTERM)
	t.Logf("agent exited %v after SIGTERM (%v)", time.Since(killed).Round(time.Millisecond), agent.Err())
	screen, took := pane.waitFor(t, "the eth0 row offline", func(s string) bool {
		m := tail.FindStringSubmatch(row.FindString(s))
		return m != nil && m[3] == "offline"
	})
	t.Logf("the row said offline %v after SIGTERM", took.Sub(killed).Round(10*time.Millisecond))
	snap("during the outage", screen)
	if r := row.FindString(screen); rated.MatchString(r) {
		t.Errorf("offline row still shows rates: %q", r)
	}
	if !strings.Contains(screen, node+": offline (agent status)") {
		t.Errorf("no heading saying %s is offline:\n%s", node, screen)
	}

	// After: the agent restarted; a rate again, the outage counted and
	// drawn, with at least two rated rounds after it.
	restarted := time.Now()
	agent = proctest.Start(t, "agent (restarted)", bin.Agent, agentEnv, proctest.Guard(guard))
	after := regexp.MustCompile(`·[▁▂▃▄▅▆▇█]{2,}$`)
	screen, took = pane.waitFor(t, "the eth0 row rated again, gaps counted", func(s string) bool {
		r := row.FindString(s)
		m := tail.FindStringSubmatch(r)
		return rated.MatchString(r) && m != nil && m[1] != "0" && after.MatchString(m[2]) && m[3] == "ok"
	})
	t.Logf("rated again with the gaps counted %v after the restart", took.Sub(restarted).Round(10*time.Millisecond))
	snap("after the restart", screen)
	m := tail.FindStringSubmatch(row.FindString(screen))
	if gaps, err := strconv.Atoi(m[1]); err != nil || gaps < 1 {
		t.Errorf("gaps after the restart = %q, want at least 1", m[1])
	}
	if !regexp.MustCompile(`(?m)gaps [1-9]\d*$`).MatchString(screen) {
		t.Errorf("the status line counts no gaps:\n%s", screen)
	}

	// Silent: SIGSTOP. Its status stays online (the broker's keepalive
	// is 45 s away), but no reply comes: "no reply Ns", blank rates.
	if err := syscall.Kill(agent.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	screen, took = pane.waitFor(t, "the eth0 row without reply", func(s string) bool {
		m := tail.FindStringSubmatch(row.FindString(s))
		return m != nil && regexp.MustCompile(`^no reply \d+s$`).MatchString(m[3])
	})
	t.Logf("the row said no reply %v after SIGSTOP", took.Sub(stopped).Round(10*time.Millisecond))
	snap("agent stopped (SIGSTOP)", screen)
	if r := row.FindString(screen); rated.MatchString(r) {
		t.Errorf("row without reply still shows rates: %q", r)
	}
	if err := syscall.Kill(agent.PID(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	pane.waitFor(t, "the eth0 row rated after SIGCONT", func(s string) bool {
		m := tail.FindStringSubmatch(row.FindString(s))
		return rated.MatchString(row.FindString(s)) && m != nil && m[3] == "ok"
	})

	if golden.Update() {
		var b strings.Builder
		for i := 0; i < len(captures); i += 2 {
			fmt.Fprintf(&b, "=== %s (80×24)\n%s\n", captures[i], captures[i+1])
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "tmux-restart.txt"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkWidth fails for any line wider than 80 columns. The capture joins
// wrapped lines (capture-pane -J), so a row the terminal wrapped is one
// long line here.
func checkWidth(t *testing.T, what, screen string) {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if n := utf8.RuneCountInString(strings.TrimRight(l, " ")); n > 80 {
			t.Errorf("%s: a line of %d columns: %q", what, n, l)
		}
	}
}

// pane is the watch running in a private tmux server.
type pane struct {
	tmux, socket, session string
	env                   []string
	stderr                string
}

// startPane runs "bridge watch" in an 80×24 pane of a private tmux server
// (-L) without user configuration (-f /dev/null), the bridge's stderr in
// a file logged when the test fails.
func startPane(t *testing.T, tmux, bridgeBin, brokerURL string) *pane {
	home := t.TempDir()
	p := &pane{tmux: tmux, socket: fmt.Sprintf("ifstat-watch-test-%d", os.Getpid()), session: "ifstat-watch",
		stderr: filepath.Join(home, "bridge.stderr")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "IFSTAT_") || strings.HasPrefix(k, "TMUX") || k == "HOME" || strings.HasPrefix(k, "NETDATA_") {
			continue
		}
		p.env = append(p.env, kv)
	}
	p.env = append(p.env, "HOME="+home, "TMUX_TMPDIR="+home, "IFSTAT_BROKER="+brokerURL, "IFSTAT_NODES="+node)
	cmd := fmt.Sprintf("exec %s watch 2>%s", bridgeBin, p.stderr)
	if out, err := p.run("new-session", "-d", "-s", p.session, "-x", "80", "-y", "24", cmd, ";",
		"set-option", "-t", p.session, "remain-on-exit", "on"); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(p.stderr)
			t.Logf("bridge stderr:\n%s", b)
		}
		for _, args := range [][]string{{"kill-session", "-t", p.session}, {"kill-server"}} {
			p.run(args...)
		}
	})
	return p
}

func (p *pane) run(args ...string) (string, error) {
	cmd := exec.Command(p.tmux, append([]string{"-L", p.socket, "-f", "/dev/null"}, args...)...)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// waitFor captures the pane until ok holds and returns that screen and
// when it was taken; past the guard, or when the watch exited, it fails.
func (p *pane) waitFor(t *testing.T, what string, ok func(string) bool) (string, time.Time) {
	t.Helper()
	start := time.Now()
	for {
		out, err := p.run("capture-pane", "-p", "-J", "-t", p.session)
		if err != nil {
			t.Fatalf("tmux capture-pane: %v\n%s", err, out)
		}
		at := time.Now()
		// -J keeps trailing spaces: drop them.
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		screen := strings.Join(lines, "\n") + "\n"
		if ok(screen) {
			return screen, at
		}
		if dead, _ := p.run("display-message", "-p", "-t", p.session, "#{pane_dead}"); strings.TrimSpace(dead) == "1" {
			t.Fatalf("the watch exited while waiting for %s:\n%s", what, screen)
		}
		if time.Since(start) > guard {
			t.Fatalf("no %s after %v:\n%s", what, guard, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
