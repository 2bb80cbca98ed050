package sectest

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/truthtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// guard turns a hang into a failure; nothing is timed against it.
const guard = 30 * time.Second

// binaries are the paths of the programs under test.
type binaries struct{ agent, bridge string }

const (
	agentPkg  = proctest.AgentPkg
	bridgePkg = proctest.BridgePkg
)

var built struct {
	once sync.Once
	bins binaries
	err  error
}

// bins builds the agent and the bridge once per test binary, both at once
// (a build is mostly go's start-up and the link, one core each), and
// returns their paths. Tests ask for them after their own set-up (brokers,
// certificates, fake agents), which so runs while the first one builds.
// proctest builds into a directory nobody can enter: the unprivileged-agent
// test runs the agent as nobody.
func bins(t *testing.T) binaries {
	t.Helper()
	built.once.Do(func() {
		var wg sync.WaitGroup
		for _, pkg := range []string{agentPkg, bridgePkg} {
			wg.Go(func() { proctest.Binaries(pkg) }) // the error comes again below
		}
		wg.Wait()
		b, err := proctest.Binaries(agentPkg, bridgePkg)
		built.bins, built.err = binaries{agent: b[agentPkg], bridge: b[bridgePkg]}, err
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bins
}

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() { // with -short every test here skips
		// The tests wait on real processes' clocks (a bridge charts once
		// a second, a client retries every 2 s) and use little CPU.
		proctest.ParallelAll()
	}
	proctest.Main(m)
}

// haveMosquitto reports whether brokertest will find a mosquitto binary.
func haveMosquitto() bool {
	if _, err := exec.LookPath("mosquitto"); err == nil {
		return true
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// startBroker starts a mosquitto for t. Without mosquitto the test is
// skipped, or fails with CI=true: every test here is about what Mosquitto
// enforces, which the embedded fallback broker does not model.
func startBroker(t *testing.T, opts ...brokertest.Option) *brokertest.Broker {
	t.Helper()
	if !haveMosquitto() {
		if os.Getenv("CI") == "true" {
			t.Fatal("mosquitto not found; CI=true requires it")
		}
		t.Skip("mosquitto not installed")
	}
	b := brokertest.Start(t, opts...)
	if b.Embedded() {
		t.Fatal("brokertest chose the embedded broker (IFSTAT_TEST_BROKER=embedded?); these tests need mosquitto")
	}
	return b
}

// proc is a started binary. Its output is kept in memory.
type proc struct {
	*proctest.Proc
	name           string
	cmd            *exec.Cmd
	stdout, stderr *proctest.LockedBuffer
	state          *os.ProcessState // set by exited once it reports true
}

// start runs bin with exactly env (nothing inherited, so the test's own
// IFSTAT_* variables cannot leak in) and args. prep, if not nil, adjusts
// the command before it starts. A cleanup SIGKILLs the process by its PID
// if it still runs and prints its output if the test failed.
func start(t *testing.T, name, bin string, env []string, prep func(*exec.Cmd), args ...string) *proc {
	t.Helper()
	p := proctest.Start(t, name, bin, env, proctest.Args(args...), proctest.Prep(prep), proctest.Guard(guard), proctest.LogTail(60))
	return &proc{Proc: p, name: name, cmd: p.Cmd(), stdout: p.Stdout(), stderr: p.Stderr()}
}

// run runs bin to completion (bounded by guard) and returns its exit code
// and combined stdout and stderr.
func run(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	p := start(t, filepath.Base(bin), bin, env, nil, args...)
	p.Wait(t)
	return p.State().ExitCode(), p.stdout.String() + p.stderr.String()
}

// signal sends sig to the process (by PID) unless it has exited, and waits
// for it to exit.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.Signal(t, sig)
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	if !p.Exited() {
		return false
	}
	p.state = p.State()
	return true
}

// waitFor polls cond until it holds; the test fails with what after guard,
// or at once if the process exits first.
func (p *proc) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if p.exited() {
			t.Fatalf("%s exited (%v) while waiting for %s", p.name, p.state, what)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s within %v", p.name, what, guard)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLog waits until the process's stderr contains s at least n times.
func (p *proc) waitLog(t *testing.T, s string, n int) {
	t.Helper()
	p.waitFor(t, fmt.Sprintf("%d× %q in stderr", n, s), func() bool { return strings.Count(p.stderr.String(), s) >= n })
}

func tail(s string, lines int) string {
	l := strings.SplitAfter(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "")
}

// streamCharts is what a bridge wrote on stdout in the plugins.d protocol: the
// values of every SET per chart and dimension, in order; "" is an empty
// SET (a gap).
type streamCharts map[string]map[string][]string

// parsePlugind reads the complete lines of a plugins.d stream.
func parsePlugind(stream string) streamCharts {
	if i := strings.LastIndexByte(stream, '\n'); i >= 0 {
		stream = stream[:i+1]
	} else {
		stream = ""
	}
	out := streamCharts{}
	var chart string
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := plugind.Fields(sc.Text())
		switch {
		case len(f) >= 2 && (f[0] == "CHART" || f[0] == "BEGIN"):
			chart = f[1]
			if out[chart] == nil {
				out[chart] = map[string][]string{}
			}
		case len(f) == 4 && f[0] == "SET" && f[2] == "=" && chart != "":
			out[chart][f[1]] = append(out[chart][f[1]], f[3])
		case len(f) >= 1 && f[0] == "END":
			chart = ""
		}
	}
	return out
}

// nodes returns the sorted node ids that have a bandwidth chart
// ("ifstat_<node>.<iface>_net") with at least one non-empty value.
func (p streamCharts) nodes() []string {
	var nodes []string
	for chart, dims := range p {
		node, ok := strings.CutPrefix(chart, "ifstat_")
		if !ok || !strings.HasSuffix(chart, "_net") {
			continue
		}
		node, _, _ = strings.Cut(node, ".")
		if len(rated(dims["received"])) > 0 && !slices.Contains(nodes, node) {
			nodes = append(nodes, node)
		}
	}
	slices.Sort(nodes)
	return nodes
}

// rated returns the non-empty values of a dimension as numbers; values
// that are not integers are left out (and fail nothing: the caller counts).
func rated(values []string) []int64 {
	var out []int64
	for _, v := range values {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && v != "" {
			out = append(out, n)
		}
	}
	return out
}

// rampTree is a fake counter tree whose eth0 counters grow at a constant
// rate in real time. Its net/dev is a named pipe rendered when the agent
// opens it (proctest.ServePipe), so the counters an agent reads are those of
// the moment it stamps its read: the rates are exact however slow the
// machine, not off by however long a rewriting goroutine was starved.
type rampTree struct {
	*netdevtest.Tree
	rx, tx uint64 // bytes per second
	served truthtest.Ledger
}

// newRampTree writes the tree and serves its moving net/dev until the test
// ends. Its files are readable by everyone (the unprivileged test reads
// them as nobody).
func newRampTree(t *testing.T, rx, tx uint64) *rampTree {
	t.Helper()
	tree := netdevtest.NewTree(t)
	tree.SetBootID("5ec0000-0000-4000-8000-000000000001")
	tree.Set("eth0", wire.Counters{Ifindex: 2, SpeedMbps: 1000})
	tree.Write()
	r := &rampTree{Tree: tree, rx: rx, tx: tx}
	begin := proctest.BootNS()
	proctest.ServePipe(t, filepath.Join(tree.ProcRoot(), "net", "dev"), func(at proctest.Instant) []byte {
		s := float64(at.BootNS-begin) / 1e9
		c := wire.Counters{Ifindex: 2, SpeedMbps: 1000}
		c.RxBytes, c.TxBytes = 1e9+uint64(float64(rx)*s), 2e9+uint64(float64(tx)*s)
		c.RxPackets, c.TxPackets = c.RxBytes/1000, c.TxBytes/1000
		m := map[string]wire.Counters{"eth0": c}
		r.served.Record(at, m)
		return netdevtest.Format(m)
	})
	return r
}

// agentEnv is the environment of a real agent for node on broker, reading
// tree; extra variables are appended (later ones win in the binaries,
// which read the last value of a duplicated variable).
func agentEnv(broker, node string, tree *rampTree, extra ...string) []string {
	env := []string{"IFSTAT_BROKER=" + broker, "IFSTAT_NODE=" + node, "IFSTAT_LOG_LEVEL=debug"}
	if tree != nil {
		env = append(env, "IFSTAT_PROC_ROOT="+tree.ProcRoot(), "IFSTAT_SYS_ROOT="+tree.SysRoot())
	}
	return append(env, extra...)
}

// bridgeEnv is the environment of a real bridge daemon writing plugins.d
// on stdout, sampling only nodes (when given) every 500 ms, without Home
// Assistant output unless extra turns it on.
func bridgeEnv(broker, id string, extra ...string) []string {
	env := []string{
		"IFSTAT_BROKER=" + broker, "IFSTAT_BRIDGE_ID=" + id, "IFSTAT_NETDATA=on", "IFSTAT_HA=off",
		"IFSTAT_INTERVAL=500ms", "IFSTAT_LOG_LEVEL=debug",
	}
	return append(env, extra...)
}

// waitRated waits until the bridge's stdout holds at least n rated values
// of node's eth0 bandwidth and returns them (received, sent).
func waitRated(t *testing.T, br *proc, node string, n int) (rx, tx []int64) {
	t.Helper()
	chart := "ifstat_" + node + ".eth0_net"
	br.waitFor(t, fmt.Sprintf("%d rated values on %s", n, chart), func() bool {
		p := parsePlugind(br.stdout.String())
		rx, tx = rated(p[chart]["received"]), rated(p[chart]["sent"])
		return len(rx) >= n && len(tx) >= n
	})
	return rx, tx
}

// checkRates fails the test unless every rated round of node's eth0 is
// exact: its raw rx and tx deltas (the bridge's raw_bytes chart) are differences
// of two values the tree served, and the received and sent values are
// those deltas over the span the raw_span chart gives (the agent's own mono_ns
// span), to within truthtest.Exact. No tolerance stands for the
// machine's speed: a slow agent moves the span and the delta together.
// It returns how many rounds it judged.
func checkRates(t *testing.T, br *proc, node string, tree *rampTree) int {
	t.Helper()
	p := parsePlugind(br.stdout.String())
	net, raw := p["ifstat_"+node+".eth0_net"], p["ifstat_"+node+".eth0_raw_bytes"]
	spans := p["ifstat_"+node+".eth0_raw_span"]["span"]
	servedRx, servedTx := map[uint64]bool{}, map[uint64]bool{}
	for _, s := range tree.served.All() {
		servedRx[s.Ifaces["eth0"].RxBytes], servedTx[s.Ifaces["eth0"].TxBytes] = true, true
	}
	isDiff := func(served map[uint64]bool, d uint64) bool {
		for v := range served {
			if v >= d && served[v-d] {
				return true
			}
		}
		return false
	}
	n := 0
	for i, v := range net["received"] {
		if v == "" || i >= len(net["sent"]) || i >= len(spans) {
			continue
		}
		span, err := strconv.ParseInt(spans[i], 10, 64)
		if err != nil || span <= 0 {
			t.Errorf("%s round %d: received %s with raw span %q", node, i, v, spans[i])
			continue
		}
		for _, d := range []struct {
			name, got, delta string
			served           map[uint64]bool
		}{
			{"received", v, raw["rx_bytes"][i], servedRx},
			{"sent", net["sent"][i], raw["tx_bytes"][i], servedTx},
		} {
			got, err1 := strconv.ParseInt(d.got, 10, 64)
			delta, err2 := strconv.ParseUint(d.delta, 10, 64)
			if err1 != nil || err2 != nil {
				t.Errorf("%s round %d: %s %q, raw delta %q", node, i, d.name, d.got, d.delta)
				continue
			}
			want := float64(delta) * 8 * 1e6 / float64(span)
			switch {
			case got <= 0:
				// The bridge SETs both directions positive; Netdata's
				// multiplier draws sent negative.
				t.Errorf("%s round %d: %s = %d is not positive", node, i, d.name, got)
			case !isDiff(d.served, delta):
				t.Errorf("%s round %d: %s delta %d is no difference of two served values", node, i, d.name, delta)
			case !truthtest.Within(float64(got), want, truthtest.Exact):
				t.Errorf("%s round %d: %s = %d, want %d bytes × 8 over %d µs = %.0f", node, i, d.name, got, delta, span, want)
			}
		}
		n++
	}
	t.Logf("%s: %d rounds exact to the served deltas over the agent's spans", node, n)
	if n == 0 {
		t.Errorf("%s: no rated round to judge", node)
	}
	return n
}
