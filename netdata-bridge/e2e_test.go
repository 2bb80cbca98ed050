package bridge_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdatatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/truthtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// The end-to-end test runs what a user runs: the real ifstat-agent on a fake
// counter tree, a real Mosquitto, and the real ifstat-bridge installed as
// ifstat.plugin in a real Netdata, and reads the points back from Netdata's
// /api/v1/data. Every scenario is one agent (one node) on the same broker
// and Netdata, so the scenarios run side by side.
//
// Points are judged against what the fixture served, not against the rate
// it was configured with: the agent's own reads (its replies, recorded on
// the broker) give the exact rate of every interval, and on a loaded
// machine those differ from the configured rate by the scheduling delay
// between the fixture's render and the agent's mono_ns stamp, more than a
// fixed tolerance can honestly absorb (see judge).

const (
	// warmup is how many points after a chart's first non-null point are
	// not judged. With the bridge's absolute values Netdata 1.37 stores
	// exact points from the first non-null one (judged with no warm-up,
	// every point of four runs, three of them beside two busy loops, was
	// within the truth); one point is left to Netdata's own start-up,
	// which is not the bridge's to answer for.
	warmup = 1
	// goodPoints is how many judged points each phase of a scenario needs.
	goodPoints = 5
	// guard only turns a hang into a failure; nothing is timed against it.
	guard = 60 * time.Second
	// bootID is the same for every agent run: agent restarts are not
	// reboots.
	bootID = "6f1c1a4e-3f0e-4c58-9a1e-e2e000000001"
)

// startE2E starts a real mosquitto and a real Netdata running the bridge
// as ifstat.plugin, configured as install.md has it: the broker, nothing
// else. Skipped with -short.
func startE2E(t *testing.T) *e2e {
	t.Helper()
	proctest.SkipShort(t, "starts Netdata, Mosquitto and agents")
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
	t.Logf("netdata %s on %s, broker %s", nd.Version(), nd.URL(), broker.URL())
	return &e2e{nd: nd, agentBin: bin.agent, broker: broker, born: map[string]time.Time{}}
}

func TestE2ENetdata(t *testing.T) {
	t.Parallel()
	e := startE2E(t)

	// The scenarios wait on Netdata's clock, not on the CPU, so they run
	// at once, each in a goroutine of its own: as parallel subtests they
	// would take turns in go test's -parallel slots (2 on a 2-core
	// machine) with every other test of the package.
	runScenarios(t, []scenario{
		{"constant_rate", e.constantRate},
		{"interface_added", e.interfaceAdded},
		{"agent_restarted", e.agentRestarted},
		{"ppp0_recreated", e.pppRecreated},
		{"wrap32", e.wrap32},
	})
	// Netdata starts the plugin once; any restart or kill is a bug even
	// when the points look right.
	checkOneRun(t, e.nd)
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

// constantRate: rx 12.5 MB/s and tx 2.5 MB/s, 100,000 and 20,000
// kilobits/s as configured; every point past the warm-up within the rates
// the agent's reads give.
func (e *e2e) constantRate(t testing.TB) {
	const node = "e2e-const"
	src := e.newSource(t, node, map[string]ramp{
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
	s := e.waitSeries(t, chart, time.Time{}, goodPoints)
	src.judge(t, chart, "eth0", s.afterWarmup(time.Time{}), false)
}

// interfaceAdded: eth1 appears while the agent runs; its chart is defined
// and shows its own rate.
func (e *e2e) interfaceAdded(t testing.TB) {
	const node = "e2e-added"
	src := e.newSource(t, node, map[string]ramp{
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
	src.judge(t, chart, "eth1", s.afterWarmup(time.Time{}), false)
}

// agentRestarted: the agent is killed and started again on the same boot,
// its counters continuing. The bridge may leave gaps, never a spike or a
// negative value.
func (e *e2e) agentRestarted(t testing.TB) {
	const node = "e2e-restart"
	src := e.newSource(t, node, map[string]ramp{
		"eth0": {rx: 6_250_000, tx: 1_250_000, rxStart: 3e9, txStart: 7e10, ifindex: 2, speed: 1000},
	})
	status := brokertest.Subscribe(t, e.broker.Client(t, "watch-"+node), "ifstat/"+node+"/status", 16)
	a := e.startAgent(t, node, src)
	chart := "ifstat_" + node + ".eth0_net"
	e.waitSeries(t, chart, time.Time{}, 2)
	a.Kill(t)
	// The broker publishes the agent's will at once, and the bridge stops
	// asking. The agent stays down over the bridge's next tick (ticks are
	// whole seconds).
	waitMessage(t, status, "the agent's will (offline)", func(p string) bool { return p == "offline" })
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	event := time.Now()
	e.startAgent(t, node, src)
	s := e.waitSeries(t, chart, event, goodPoints)
	src.judge(t, chart, "eth0", s.afterWarmup(time.Time{}), true)
}

// pppRecreated: ppp0 goes away and comes back at once with a new ifindex
// and counters from 0. Its old counter sits just below 2^32, so the drop
// would pass for a plausible 32-bit wrap: only the ifindex tells a reset,
// and a bridge that took it for a wrap would show a spike.
func (e *e2e) pppRecreated(t testing.TB) {
	const node = "e2e-ppp"
	src := e.newSource(t, node, map[string]ramp{
		"ppp0": {rx: 1_250_000, tx: 250_000, rxStart: 1<<32 - 60_000_000, txStart: 1<<32 - 20_000_000, ifindex: 10},
	})
	e.startAgent(t, node, src)
	chart := "ifstat_" + node + ".ppp0_net"
	e.waitSeries(t, chart, time.Time{}, 2)
	event := time.Now()
	src.set(t, "ppp0", ramp{rx: 1_250_000, tx: 250_000, ifindex: 11})
	s := e.waitSeries(t, chart, event, goodPoints)
	src.judge(t, chart, "ppp0", s.afterWarmup(time.Time{}), true)
}

// wrap32: a 32-bit rx counter at 1 GB/s on a 10 Gbit/s link wraps every
// 4.3 s; tx (250 MB/s) wraps once. Every point is exact.
func (e *e2e) wrap32(t testing.TB) {
	const node = "e2e-wrap"
	src := e.newSource(t, node, map[string]ramp{
		"eth0": {rx: 1e9, tx: 250e6, rxStart: 1<<32 - 1_500_000_000, txStart: 1<<32 - 3_000_000_000, ifindex: 2, speed: 10000, wrap32: true},
	})
	e.startAgent(t, node, src)
	chart := "ifstat_" + node + ".eth0_net"
	// 9 judged seconds at 1 GB/s cross at least two rx wraps.
	s := e.waitSeries(t, chart, time.Time{}, 9)
	src.judge(t, chart, "eth0", s.afterWarmup(time.Time{}), false)
	if w := src.wraps("eth0"); w < 2 {
		t.Errorf("rx wrapped %d times during the test, want at least 2", w)
	}
}

// waitMessage waits for a message on ch whose payload satisfies ok.
func waitMessage(t testing.TB, ch <-chan mqtt.Message, what string, ok func(string) bool) {
	t.Helper()
	deadline := time.After(guard)
	for {
		select {
		case m := <-ch:
			if ok(string(m.Payload())) {
				return
			}
		case <-deadline:
			t.Fatalf("no %s within %v", what, guard)
		}
	}
}

// e2e is what the scenarios share.
type e2e struct {
	nd       *netdatatest.Netdata
	agentBin string
	broker   *brokertest.Broker

	mu   sync.Mutex
	born map[string]time.Time // when a chart was first listed
}

func TestMain(m *testing.M) {
	// The real-process tests (Netdata, mosquitto, agents, bridges) wait
	// on the processes' one-second clocks and use little CPU meanwhile.
	proctest.ParallelAll()
	proctest.Main(m)
}

// buildBinaries builds both commands once per test binary, as users build
// them.
func buildBinaries(t testing.TB) binaries {
	c := proctest.BuildCommands(t)
	return binaries{agent: c.Agent, bridge: c.Bridge}
}

type binaries struct{ agent, bridge string }

// scenario is one part of TestE2ENetdata.
type scenario struct {
	name string
	run  func(t testing.TB)
}

// runScenarios runs every scenario at once, each in its own goroutine with
// a scenarioT, and then reports each as a subtest of its own, so that the
// output says which one failed and why.
func runScenarios(t *testing.T, scenarios []scenario) {
	sts := make([]*scenarioT, len(scenarios))
	var wg sync.WaitGroup
	for i, sc := range scenarios {
		st := &scenarioT{TB: t, name: sc.name}
		sts[i] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			defer func() { st.Logf("%s took %v", sc.name, time.Since(start).Round(time.Millisecond)) }()
			sc.run(st)
		}()
	}
	wg.Wait()
	t.Run("scenarios", func(t *testing.T) {
		for _, st := range sts {
			t.Run(st.name, st.report)
		}
	})
}

// scenarioT is the testing.TB of a scenario goroutine. It keeps its own
// log and failure, which report hands to the scenario's subtest; FailNow
// ends the scenario's goroutine, never the test's. Everything else
// (TempDir, Cleanup, Context) is the parent test's, whose cleanups run
// after all scenarios: what a scenario logs from a cleanup goes to the
// parent, prefixed with its name.
type scenarioT struct {
	testing.TB
	name string

	mu       sync.Mutex
	lines    []logLine
	failed   bool
	reported bool
}

type logLine struct {
	msg string
	err bool
}

func (s *scenarioT) add(err bool, msg string) {
	msg = caller() + msg
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = s.failed || err
	if !s.reported {
		s.lines = append(s.lines, logLine{msg, err})
		return
	}
	if err {
		s.TB.Errorf("%s: %s", s.name, msg)
	} else {
		s.TB.Logf("%s: %s", s.name, msg)
	}
}

// report replays the scenario's log into t, its subtest.
func (s *scenarioT) report(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if l.err {
			t.Error(l.msg)
		} else {
			t.Log(l.msg)
		}
	}
	if s.failed {
		t.Fail()
	}
	s.lines, s.reported = nil, true
}

func (s *scenarioT) Log(args ...any) { s.add(false, sprint(args...)) }

func (s *scenarioT) Logf(format string, args ...any) { s.add(false, fmt.Sprintf(format, args...)) }

func (s *scenarioT) Error(args ...any) { s.add(true, sprint(args...)) }

func (s *scenarioT) Errorf(format string, args ...any) { s.add(true, fmt.Sprintf(format, args...)) }

func (s *scenarioT) Fail() { s.add(true, "failed") }

func (s *scenarioT) Failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// FailNow ends the scenario's goroutine; in a cleanup of the parent, after
// the report, it is the parent's FailNow.
func (s *scenarioT) FailNow() {
	s.mu.Lock()
	s.failed = true
	reported := s.reported
	s.mu.Unlock()
	if reported {
		s.TB.FailNow()
	}
	runtime.Goexit()
}

func (s *scenarioT) Fatal(args ...any) { s.Error(args...); s.FailNow() }

func (s *scenarioT) Fatalf(format string, args ...any) { s.Errorf(format, args...); s.FailNow() }

// A scenario has nothing to skip: the test as a whole skips before it
// starts them.
func (s *scenarioT) Skip(args ...any) { s.Fatal("skip in a scenario: " + sprint(args...)) }

func (s *scenarioT) Skipf(format string, args ...any) {
	s.Fatalf("skip in a scenario: "+format, args...)
}

func (s *scenarioT) SkipNow() { s.Fatal("skip in a scenario") }

func (s *scenarioT) Name() string { return s.TB.Name() + "/" + s.name }

// caller returns "file:line: " of the code that called a scenarioT
// method, the position t.Log would have printed.
func caller() string {
	pc := make([]uintptr, 16)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	for {
		f, more := frames.Next()
		if !strings.Contains(f.Function, "(*scenarioT)") {
			return fmt.Sprintf("%s:%d: ", filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}

// sprint formats as t.Log does.
func sprint(args ...any) string { return strings.TrimSuffix(fmt.Sprintln(args...), "\n") }

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
// moment of each read. It records what it served (served) and the agent's
// replies (replies), the truth judge compares Netdata's points with.
type source struct {
	tree    *netdevtest.Tree
	served  truthtest.Ledger
	replies *truthtest.Replies

	mu     sync.Mutex
	ifaces map[string]ramp
	maxRx  map[string]uint64 // largest rx_bytes served, to count wraps
	nWraps map[string]int
}

func (e *e2e) newSource(t testing.TB, node string, ifaces map[string]ramp) *source {
	t.Helper()
	tree := netdevtest.NewTree(t)
	tree.SetBootID(bootID)
	s := &source{
		tree:    tree,
		replies: truthtest.RecordReplies(t, e.broker, "ifstat", node),
		ifaces:  map[string]ramp{}, maxRx: map[string]uint64{}, nWraps: map[string]int{},
	}
	for name, r := range ifaces {
		s.set(t, name, r)
	}
	proctest.ServePipe(t, filepath.Join(tree.ProcRoot(), "net", "dev"), s.render)
	return s
}

// set adds or replaces an interface: its sysfs attributes now, its
// counters (starting now) from the next read on. The agent reads sysfs
// only after it saw the counters change, so it never pairs new counters
// with the old ifindex.
func (s *source) set(t testing.TB, name string, r ramp) {
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
	s.served.Record(at, m)
	return netdevtest.Format(m)
}

// agent is one ifstat-agent process.
type agent struct{ *proctest.Proc }

// startAgent starts the real agent for node on src's tree; cleanup kills it
// by PID and, if the test failed, logs its stderr.
func (e *e2e) startAgent(t testing.TB, node string, src *source) *agent {
	t.Helper()
	return &agent{proctest.Start(t, "agent "+node, e.agentBin, []string{
		"IFSTAT_BROKER=" + e.broker.URL(),
		"IFSTAT_NODE=" + node,
		"IFSTAT_PROC_ROOT=" + src.tree.ProcRoot(),
		"IFSTAT_SYS_ROOT=" + src.tree.SysRoot(),
		"IFSTAT_LOG_LEVEL=info",
	}, proctest.Guard(guard))}
}

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

func fmtPoint(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%.3f", *v)
}

func (s series) String() string {
	var b strings.Builder
	for _, p := range s {
		fmt.Fprintf(&b, "\n  %d received %s sent %s", p.t, fmtPoint(p.received), fmtPoint(p.sentNeg))
	}
	return b.String()
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
	return toSeries(chart, d)
}

// toSeries takes the received and sent columns of chart's data.
func toSeries(chart string, d *netdatatest.Data) (series, error) {
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
func (e *e2e) waitSeries(t testing.TB, chart string, since time.Time, n int) series {
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

// interval is one interval between two consecutive reads of the agent, as
// its replies tell it: the wall clock (time_ns) of both reads and the exact
// rates over the agent's mono_ns span, in kilobits/s.
type interval struct {
	from, to int64 // time_ns
	rx, tx   float64
	ok       bool // false: no rate (a reset, the interface missing)
}

// intervals returns the intervals between consecutive replies of one boot
// for iface, in arrival order. An agent restarted on the same boot goes
// on from its predecessor's last read, as the bridge does (same clock,
// same counters). A counter that went down is a wrap where wrap32 (the
// fixture's counters are 32 bits wide) and the ifindex stayed, else a
// reset.
func (s *source) intervals(iface string, wrap32 bool) []interval {
	all := s.replies.All()
	var out []interval
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.BootID != b.BootID || b.MonoNS <= a.MonoNS {
			continue
		}
		sp := truthtest.Span{From: a, To: b}
		iv := interval{from: a.TimeNS, to: b.TimeNS}
		ca, ok1 := a.Ifaces[iface]
		cb, ok2 := b.Ifaces[iface]
		if ok1 && ok2 && ca.Ifindex == cb.Ifindex {
			rx, okRx := perSecond(sp, iface, truthtest.RxBytes, wrap32)
			tx, okTx := perSecond(sp, iface, truthtest.TxBytes, wrap32)
			iv.rx, iv.tx, iv.ok = rx*8/1000, tx*8/1000, okRx && okTx
		}
		out = append(out, iv)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].from < out[j].from })
	return out
}

// perSecond is Span.PerSecond, counting a counter that went down as one
// 32-bit wrap where wrap32.
func perSecond(sp truthtest.Span, iface string, c func(wire.Counters) uint64, wrap32 bool) (float64, bool) {
	if v, ok := sp.PerSecond(iface, c); ok || !wrap32 {
		return v, ok
	}
	a, b := c(sp.From.Ifaces[iface]), c(sp.To.Ifaces[iface])
	if sp.NS() <= 0 || a >= 1<<32 || b >= 1<<32 {
		return 0, false
	}
	return float64(b+1<<32-a) * 1e9 / float64(sp.NS()), true
}

// judge checks chart's points (of iface) against what src served.
//
// The exact rate of each interval of the agent's reads is its counters'
// difference over its own mono_ns span (truthtest.Span), after CheckServed
// has confirmed that every reply carries counters the fixture served, at
// or before the reply's mono_ns. Netdata does not store those rates as
// they are: it keeps one value per second, slot t standing for (t-1, t]
// in Unix seconds, interpolated from the values collected around it, so a
// stored point is a weighted mix of the rates of the intervals around the
// slot. A point is therefore right when it lies within the lowest and the
// highest exact rate of the intervals that overlap its slot (by the
// replies' time_ns), widened by one interval on each side for the offset
// between the agent's wall clock and the moment Netdata files the value,
// plus truthtest.Exact for the rounding of printed values. Outside that
// range it is a real error, whatever the machine's load: no tolerance
// stands for the fixture's timing. Received must not be negative and sent
// (drawn negative) not positive; a slot whose intervals have no rate at all
// (resets only) must be a gap. Gaps are allowed only if gapsOK.
func (s *source) judge(t testing.TB, chart, iface string, pts series, gapsOK bool) {
	t.Helper()
	if n := truthtest.CheckServed(t, &s.served, s.replies, iface); n == 0 {
		t.Errorf("%s: no reply of the agent carries %s", chart, iface)
	}
	s.mu.Lock()
	wrap32 := s.ifaces[iface].wrap32
	s.mu.Unlock()
	ivs := s.intervals(iface, wrap32)
	var b strings.Builder
	if pts.nonNull() < 5 {
		t.Errorf("%s: %d non-null points past the warm-up, want at least 5", chart, pts.nonNull())
	}
	for _, p := range pts {
		lo, hi, n := band(ivs, p.t)
		fmt.Fprintf(&b, "\n  %d received %s sent %s", p.t, fmtPoint(p.received), fmtPoint(p.sentNeg))
		if n == 0 {
			fmt.Fprintf(&b, " (no interval with a rate)")
		} else {
			fmt.Fprintf(&b, " (truth received %.3f..%.3f sent %.3f..%.3f over %d intervals)", lo.rx, hi.rx, -hi.tx, -lo.tx, n)
		}
		for _, c := range []struct {
			name   string
			v      *float64
			sign   float64
			lo, hi float64
		}{{"received", p.received, 1, lo.rx, hi.rx}, {"sent", p.sentNeg, -1, lo.tx, hi.tx}} {
			switch {
			case c.v == nil && !gapsOK:
				t.Errorf("%s at %d: %s is a gap", chart, p.t, c.name)
			case c.v == nil:
			case n == 0:
				t.Errorf("%s at %d: %s = %.3f where no interval around the slot has a rate", chart, p.t, c.name, *c.v)
			case *c.v != 0 && math.Signbit(*c.v) != math.Signbit(c.sign):
				t.Errorf("%s at %d: %s = %.3f has the wrong sign", chart, p.t, c.name, *c.v)
			case !inBand(math.Abs(*c.v), c.lo, c.hi):
				t.Errorf("%s at %d: %s = %.3f, the intervals around the slot give %.3f to %.3f", chart, p.t, c.name, *c.v, c.sign*c.lo, c.sign*c.hi)
			}
		}
	}
	t.Logf("%s, points past the warm-up and the exact rates around each:%s", chart, b.String())
}

// rates is a pair of rates in kilobits/s.
type rates struct{ rx, tx float64 }

// band returns the lowest and highest exact rates among the intervals that
// overlap slot t, (t-1, t] in Unix seconds, and one more interval on each
// side, and how many of those have a rate. ivs is sorted by from.
func band(ivs []interval, t int64) (lo, hi rates, n int) {
	start, end := (t-1)*1e9, t*1e9
	first, last := -1, -1
	for i, iv := range ivs {
		if iv.from < end && iv.to > start {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		// No interval overlaps the slot: the one that ended last before
		// it and the one that began first after it.
		first, last = -1, len(ivs)
		for i, iv := range ivs {
			if iv.to <= start {
				first = i
			}
			if iv.from >= end && last == len(ivs) {
				last = i
			}
		}
	}
	lo = rates{math.Inf(1), math.Inf(1)}
	hi = rates{math.Inf(-1), math.Inf(-1)}
	for i := max(first-1, 0); i <= min(last+1, len(ivs)-1); i++ {
		iv := ivs[i]
		if !iv.ok {
			continue
		}
		lo.rx, hi.rx = min(lo.rx, iv.rx), max(hi.rx, iv.rx)
		lo.tx, hi.tx = min(lo.tx, iv.tx), max(hi.tx, iv.tx)
		n++
	}
	return lo, hi, n
}

// inBand reports whether v lies within [lo, hi] up to truthtest.Exact (or
// one unit, for values printed without decimals).
func inBand(v, lo, hi float64) bool {
	return v >= lo-math.Max(truthtest.Exact*lo, 1) && v <= hi+math.Max(truthtest.Exact*hi, 1)
}
