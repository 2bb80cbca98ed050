package bridge_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdatatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// The end-to-end test runs what a user runs: the real ifstat-agent on a fake
// counter tree, a real Mosquitto, and the real ifstat-bridge installed as
// ifstat.plugin in a real Netdata, and reads the points back from Netdata's
// /api/v1/data. Every scenario is one agent (one node) on the same broker
// and Netdata, so the scenarios run side by side.

const (
	// tolerance is the largest relative error of a point.
	tolerance = 0.005
	// warmup is how many points after a chart's first non-null point are
	// not judged: Netdata stores the first slots of a chart partially.
	warmup = 3
	// goodPoints is how many judged points each phase of a scenario needs.
	goodPoints = 6
	// guard only turns a hang into a failure; nothing is timed against it.
	guard = 60 * time.Second
	// bootID is the same for every agent run: agent restarts are not
	// reboots.
	bootID = "6f1c1a4e-3f0e-4c58-9a1e-e2e000000001"
)

func TestE2ENetdata(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Netdata, Mosquitto and agents; skipped with -short")
	}
	bin := buildBinaries(t)
	broker := brokertest.Start(t)
	if broker.Embedded() && os.Getenv("CI") == "true" {
		t.Fatal("CI=true: the end-to-end test needs a real mosquitto")
	}
	nd := netdatatest.Start(t, netdatatest.Options{
		PluginFiles: map[string]string{"ifstat.plugin": bin.bridge},
		UserConfig: map[string][]byte{
			"ifstat.conf": []byte("# as the docs describe it\nIFSTAT_BROKER=tcp://" + broker.Addr() + "\n"),
		},
	})
	e := &e2e{nd: nd, agentBin: bin.agent, broker: broker.URL(), born: map[string]time.Time{}}
	t.Logf("netdata %s on %s, broker %s", nd.Version(), nd.URL(), broker.URL())

	// The group returns when its parallel scenarios are done, so the
	// checks after it see the whole run.
	t.Run("scenarios", func(t *testing.T) {
		t.Run("constant_rate", e.constantRate)
		t.Run("interface_added", e.interfaceAdded)
		t.Run("agent_restarted", e.agentRestarted)
		t.Run("ppp0_recreated", e.pppRecreated)
		t.Run("wrap32", e.wrap32)
	})
	// Netdata starts the plugin once; any restart or kill is a bug even
	// when the points look right.
	log := nd.ErrorLog()
	if n := strings.Count(log, "plugins.d/ifstat.plugin' running on pid"); n != 1 {
		t.Errorf("netdata started ifstat.plugin %d times, want 1", n)
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "PLUGINSD[ifstat]") && (strings.Contains(line, "disconnected") || strings.Contains(line, "killed") || strings.Contains(line, "disabl")) {
			t.Errorf("netdata error log: %s", line)
		}
	}
	if t.Failed() {
		t.Logf("bridge stderr (from netdata's error log):\n%s", bridgeLines(log))
	}
}

// bridgeLines returns the lines the bridge wrote to stderr, which Netdata
// 1.37 copies into its error log without its own prefix.
func bridgeLines(log string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(log, "\n") {
		if strings.Contains(line, "component=") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// constantRate: rx 12.5 MB/s and tx 2.5 MB/s are 100,000 and 20,000
// kilobits/s on every point past the warm-up.
func (e *e2e) constantRate(t *testing.T) {
	t.Parallel()
	const node = "e2e-const"
	src := e.newSource(t, map[string]ramp{
		"eth0": {rx: 12_500_000, tx: 2_500_000, rxStart: 1e12, txStart: 5e11, ifindex: 2, speed: 1000},
	})
	e.startAgent(t, node, src)
	chart := "ifstat_" + node + ".eth0_net"
	ctx, cancel := context.WithTimeout(t.Context(), guard)
	defer cancel()
	c, err := e.nd.WaitChart(ctx, chart)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %s %s %s %s", c.Context, c.Family, c.Units, c.Dimensions["received"].Name, c.Dimensions["sent"].Name)
	if want := "ifstat.net eth0 kilobits/s received sent"; got != want {
		t.Errorf("chart %s: context, family, units, dimensions = %q, want %q", chart, got, want)
	}
	s := e.waitSeries(t, chart, time.Time{}, goodPoints+2)
	judge(t, chart, s.afterWarmup(time.Time{}), 100_000, 20_000, false)
}

// interfaceAdded: eth1 appears while the agent runs; its chart is defined
// and shows its own rate.
func (e *e2e) interfaceAdded(t *testing.T) {
	t.Parallel()
	const node = "e2e-added"
	src := e.newSource(t, map[string]ramp{
		"eth0": {rx: 1_000_000, tx: 500_000, ifindex: 2, speed: 1000},
	})
	e.startAgent(t, node, src)
	ctx, cancel := context.WithTimeout(t.Context(), guard)
	defer cancel()
	if _, err := e.nd.WaitChart(ctx, "ifstat_"+node+".eth0_net"); err != nil {
		t.Fatal(err)
	}
	if c, err := e.nd.Charts(ctx); err == nil {
		if _, ok := c["ifstat_"+node+".eth1_net"]; ok {
			t.Fatal("eth1 chart exists before eth1 does")
		}
	}
	src.set(t, "eth1", ramp{rx: 5_000_000, tx: 1_000_000, ifindex: 3, speed: 100})
	chart := "ifstat_" + node + ".eth1_net"
	c, err := e.nd.WaitChart(ctx, chart)
	if err != nil {
		t.Fatal(err)
	}
	if c.Context != "ifstat.net" || c.Family != "eth1" || c.Units != "kilobits/s" {
		t.Errorf("chart %s: context %q family %q units %q, want ifstat.net eth1 kilobits/s", chart, c.Context, c.Family, c.Units)
	}
	s := e.waitSeries(t, chart, time.Time{}, goodPoints)
	judge(t, chart, s.afterWarmup(time.Time{}), 40_000, 8_000, false)
}

// agentRestarted: the agent is killed and started again on the same boot,
// its counters continuing. The bridge may leave gaps, never a spike or a
// negative value.
func (e *e2e) agentRestarted(t *testing.T) {
	t.Parallel()
	const node = "e2e-restart"
	src := e.newSource(t, map[string]ramp{
		"eth0": {rx: 6_250_000, tx: 1_250_000, rxStart: 3e9, txStart: 7e10, ifindex: 2, speed: 1000},
	})
	a := e.startAgent(t, node, src)
	chart := "ifstat_" + node + ".eth0_net"
	e.waitSeries(t, chart, time.Time{}, 3)
	a.kill(t)
	// Long enough for the bridge to miss a few ticks and see the LWT.
	time.Sleep(2500 * time.Millisecond)
	event := time.Now()
	e.startAgent(t, node, src)
	s := e.waitSeries(t, chart, event, goodPoints)
	judge(t, chart, s.afterWarmup(time.Time{}), 50_000, 10_000, true)
}

// pppRecreated: ppp0 goes away and comes back at once with a new ifindex
// and counters from 0. Its old counter sits just below 2^32, so the drop
// would pass for a plausible 32-bit wrap: only the ifindex tells a reset,
// and a bridge that took it for a wrap would show a spike.
func (e *e2e) pppRecreated(t *testing.T) {
	t.Parallel()
	const node = "e2e-ppp"
	src := e.newSource(t, map[string]ramp{
		"ppp0": {rx: 1_250_000, tx: 250_000, rxStart: 1<<32 - 60_000_000, txStart: 1<<32 - 20_000_000, ifindex: 10},
	})
	e.startAgent(t, node, src)
	chart := "ifstat_" + node + ".ppp0_net"
	e.waitSeries(t, chart, time.Time{}, 3)
	event := time.Now()
	src.set(t, "ppp0", ramp{rx: 1_250_000, tx: 250_000, ifindex: 11})
	s := e.waitSeries(t, chart, event, goodPoints)
	judge(t, chart, s.afterWarmup(time.Time{}), 10_000, 2_000, true)
}

// wrap32: a 32-bit rx counter at 1 GB/s on a 10 Gbit/s link wraps every
// 4.3 s; tx (250 MB/s) wraps once. Every point is exact.
func (e *e2e) wrap32(t *testing.T) {
	t.Parallel()
	const node = "e2e-wrap"
	src := e.newSource(t, map[string]ramp{
		"eth0": {rx: 1e9, tx: 250e6, rxStart: 1<<32 - 1_500_000_000, txStart: 1<<32 - 3_000_000_000, ifindex: 2, speed: 10000, wrap32: true},
	})
	e.startAgent(t, node, src)
	chart := "ifstat_" + node + ".eth0_net"
	// 9 judged seconds at 1 GB/s cross at least two rx wraps.
	s := e.waitSeries(t, chart, time.Time{}, 9)
	judge(t, chart, s.afterWarmup(time.Time{}), 8_000_000, 2_000_000, false)
	if w := src.wraps("eth0"); w < 2 {
		t.Errorf("rx wrapped %d times during the test, want at least 2", w)
	}
}

// e2e is what the scenarios share.
type e2e struct {
	nd       *netdatatest.Netdata
	agentBin string
	broker   string

	mu   sync.Mutex
	born map[string]time.Time // when a chart was first listed
}

func TestMain(m *testing.M) { proctest.Main(m) }

// buildBinaries builds both commands once per test binary, as users build
// them.
func buildBinaries(t *testing.T) binaries {
	c := proctest.BuildCommands(t)
	return binaries{agent: c.Agent, bridge: c.Bridge}
}

type binaries struct{ agent, bridge string }

// ramp is one interface whose counters grow at a constant rate in real
// time from the moment it was set.
type ramp struct {
	rx, tx           float64 // bytes per second
	rxStart, txStart uint64
	ifindex, speed   int64
	wrap32           bool // counters are 32 bits wide, as on many router drivers
	since            time.Time
}

func (r ramp) counters(now time.Time) wire.Counters {
	s := now.Sub(r.since).Seconds()
	rx := r.rxStart + uint64(r.rx*s)
	tx := r.txStart + uint64(r.tx*s)
	c := wire.Counters{
		RxBytes: rx, TxBytes: tx,
		// 1000-byte packets; errors and drops stay 0.
		RxPackets: rx / 1000, TxPackets: tx / 1000,
	}
	if r.wrap32 {
		c.RxBytes, c.TxBytes = rx%(1<<32), tx%(1<<32)
	}
	return c
}

// source serves proc/net/dev of a netdevtest tree from a FIFO
// (proctest.ServePipe): like the kernel, it renders the counters at the
// moment of each read. A file rewritten every few ms would be up to that
// period stale, which at a 1 s interval alone is an error of several
// tenths of a percent.
type source struct {
	tree *netdevtest.Tree

	mu     sync.Mutex
	ifaces map[string]ramp
	maxRx  map[string]uint64 // largest rx_bytes served, to count wraps
	nWraps map[string]int
}

func (e *e2e) newSource(t *testing.T, ifaces map[string]ramp) *source {
	t.Helper()
	tree := netdevtest.NewTree(t)
	tree.SetBootID(bootID)
	s := &source{
		tree:   tree,
		ifaces: map[string]ramp{}, maxRx: map[string]uint64{}, nWraps: map[string]int{},
	}
	for name, r := range ifaces {
		s.set(t, name, r)
	}
	proctest.ServePipe(t, filepath.Join(tree.ProcRoot(), "net", "dev"), s.render)
	return s
}

// set adds or replaces an interface: its sysfs attributes now, its
// counters (starting now) from the next read on.
func (s *source) set(t *testing.T, name string, r ramp) {
	t.Helper()
	s.tree.Set(name, wire.Counters{Ifindex: r.ifindex, SpeedMbps: r.speed})
	r.since = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ifaces[name] = r
	delete(s.maxRx, name)
}

func (s *source) wraps(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nWraps[name]
}

func (s *source) render(at proctest.Instant) []byte {
	now := at.Wall
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]wire.Counters, len(s.ifaces))
	for name, r := range s.ifaces {
		c := r.counters(now)
		c.Ifindex = r.ifindex
		if last, ok := s.maxRx[name]; ok && c.RxBytes < last {
			s.nWraps[name]++
		}
		s.maxRx[name] = c.RxBytes
		m[name] = c
	}
	return netdevtest.Format(m)
}

// agent is one ifstat-agent process.
type agent struct{ *proctest.Proc }

// startAgent starts the real agent for node on src's tree; cleanup kills it
// by PID and, if the test failed, logs its stderr.
func (e *e2e) startAgent(t *testing.T, node string, src *source) *agent {
	t.Helper()
	return &agent{proctest.Start(t, "agent "+node, e.agentBin, []string{
		"IFSTAT_BROKER=" + e.broker,
		"IFSTAT_NODE=" + node,
		"IFSTAT_PROC_ROOT=" + src.tree.ProcRoot(),
		"IFSTAT_SYS_ROOT=" + src.tree.SysRoot(),
		"IFSTAT_LOG_LEVEL=info",
	}, proctest.Guard(guard))}
}

// kill sends SIGKILL to the agent's PID and waits until it is reaped.
func (a *agent) kill(t *testing.T) { a.Kill(t) }

// point is one stored slot of a net chart; nil is a gap.
type point struct {
	t                 int64 // Unix seconds
	received, sentNeg *float64
}

type series []point

// afterWarmup returns the points from the warmup-th after the first
// non-null received point on, and only those stored after since.
func (s series) afterWarmup(since time.Time) series {
	first := -1
	for i, p := range s {
		if p.received != nil {
			first = i
			break
		}
	}
	if first < 0 || first+warmup >= len(s) {
		return nil
	}
	out := s[first+warmup:]
	for len(out) > 0 && !since.IsZero() && out[0].t <= since.Unix() {
		out = out[1:]
	}
	return out
}

func (s series) nonNull() int {
	n := 0
	for _, p := range s {
		if p.received != nil || p.sentNeg != nil {
			n++
		}
	}
	return n
}

func (s series) String() string {
	var b strings.Builder
	for _, p := range s {
		fmt.Fprintf(&b, "\n  %d received %s sent %s", p.t, fmtPoint(p.received), fmtPoint(p.sentNeg))
	}
	return b.String()
}

func fmtPoint(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%.3f", *v)
}

func (e *e2e) bornAt(chart string) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.born[chart]
}

// maxHistory bounds the seconds asked of /api/v1/data: every scenario fits.
const maxHistory = 120

// fetch reads chart's received and sent columns from Netdata.
func (e *e2e) fetch(ctx context.Context, chart string) (series, error) {
	// Never ask for slots before the chart existed: Netdata 1.37 logs an
	// internal error for each such query.
	after := min(maxHistory, max(1, int(time.Since(e.bornAt(chart))/time.Second)))
	d, err := e.nd.Data(ctx, chart, after)
	if err != nil {
		return nil, err
	}
	rx, ok1 := d.Column("received")
	tx, ok2 := d.Column("sent")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: labels %q, want received and sent", chart, d.Labels)
	}
	s := make(series, len(d.Rows))
	for i, row := range d.Rows {
		s[i] = point{t: int64(*row[0]), received: rx[i], sentNeg: tx[i]}
	}
	return s, nil
}

// waitSeries polls chart until, past the warm-up and after since, it has n
// non-null points, and returns the whole series. Past the guard it fails
// the test with what it saw.
func (e *e2e) waitSeries(t *testing.T, chart string, since time.Time, n int) series {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), guard)
	defer cancel()
	if _, err := e.nd.WaitChart(ctx, chart); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	if _, ok := e.born[chart]; !ok {
		e.born[chart] = time.Now()
	}
	e.mu.Unlock()
	var last series
	var lastErr error
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		s, err := series(nil), error(nil)
		// A query in the first seconds of a chart reaches before its
		// first slot, which Netdata 1.37 logs as an internal error.
		if time.Since(e.bornAt(chart)) >= 3*time.Second {
			s, err = e.fetch(ctx, chart)
		}
		if err == nil {
			last = s
			if s.afterWarmup(since).nonNull() >= n {
				return s
			}
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d points of %s after %v: %v (last error %v); points:%s",
				n, chart, since.Format(time.TimeOnly), ctx.Err(), lastErr, last)
		case <-tick.C:
		}
	}
}

// judge checks every judged point: received within tolerance of rxKbps,
// sent within tolerance of -txKbps; gaps are allowed only if gapsOK. It
// logs the points either way, so a run documents what Netdata stored.
func judge(t *testing.T, chart string, s series, rxKbps, txKbps float64, gapsOK bool) {
	t.Helper()
	t.Logf("%s, points past the warm-up (want received %.0f, sent %.0f):%s", chart, rxKbps, -txKbps, s)
	if s.nonNull() < 5 {
		t.Errorf("%s: %d non-null points past the warm-up, want at least 5", chart, s.nonNull())
	}
	for _, p := range s {
		for _, c := range []struct {
			name string
			v    *float64
			want float64
		}{{"received", p.received, rxKbps}, {"sent", p.sentNeg, -txKbps}} {
			switch {
			case c.v == nil && !gapsOK:
				t.Errorf("%s at %d: %s is a gap, want %.0f", chart, p.t, c.name, c.want)
			case c.v == nil:
			case math.Signbit(*c.v) != math.Signbit(c.want):
				t.Errorf("%s at %d: %s = %.3f has the wrong sign, want %.0f", chart, p.t, c.name, *c.v, c.want)
			case math.Abs(*c.v-c.want) > tolerance*math.Abs(c.want):
				t.Errorf("%s at %d: %s = %.3f, want %.0f ± %.1f%%", chart, p.t, c.name, *c.v, c.want, tolerance*100)
			}
		}
	}
}
