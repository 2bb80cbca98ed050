package faulttest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
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

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/truthtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

const (
	// guard turns a hang into a failure; nothing is timed against it.
	guard = 60 * time.Second
	// backGuard is the generous bound on "back after a fault": the
	// measured times are logged, this only catches a system that never
	// recovers.
	backGuard = 45 * time.Second
)

func TestMain(m *testing.M) { proctest.Main(m) }

// buildBinaries builds both commands once per test binary, as users build
// them.
func buildBinaries(t *testing.T) binaries {
	c := proctest.BuildCommands(t)
	return binaries{agent: c.Agent, bridge: c.Bridge}
}

type binaries struct{ agent, bridge string }

// source serves proc/net/dev of a netdevtest tree from a FIFO, rendering
// the counters at the moment of each read (see proctest.ServePipe for why
// a rewritten file is not exact enough) and recording every rendering with
// its instant in a truthtest.Ledger: the truth every value of the bridge
// is judged against. One interface, eth0, grows at about rx bytes/s
// (CLOCK_BOOTTIME) and tx = rx/4; the rate is only how the fixture makes
// counters, never what a test compares with.
type source struct {
	tree *netdevtest.Tree
	rx   float64
	led  truthtest.Ledger

	mu      sync.Mutex
	start   uint64 // counter at since
	since   int64  // CLOCK_BOOTTIME ns: counters are start + rx × (t − since)
	last    int64  // BootNS of the last rendering served
	present bool
}

func newSource(t *testing.T, rx float64, bootID string) *source {
	t.Helper()
	tree := netdevtest.NewTree(t)
	tree.SetBootID(bootID)
	tree.Set("eth0", wire.Counters{Ifindex: 2, SpeedMbps: 1000})
	s := &source{tree: tree, rx: rx, start: 5e9, since: proctest.BootNS(), present: true}
	proctest.ServePipe(t, filepath.Join(tree.ProcRoot(), "net", "dev"), s.render)
	noteSource(s)
	return s
}

// reboot gives the router a new boot id and counters from zero, starting
// at the last read so that no traffic escapes the counters (a reset's new
// values are all traffic since the last read, as the bridge books them).
// The agent reads the boot id once, at start, as on a real router where a
// reboot restarts it.
func (s *source) reboot(bootID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tree.SetBootID(bootID)
	if s.last != 0 {
		s.since = s.last
	}
	s.start = 0
}

// setPresent adds or removes eth0 (its sysfs folder and its line); its
// counters keep growing while it is absent, as a link that goes down and
// up keeps its netdev.
func (s *source) setPresent(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.tree.Set("eth0", wire.Counters{Ifindex: 2, SpeedMbps: 1000})
	} else {
		s.tree.Remove("eth0")
	}
	s.present = on
}

func (s *source) render(at proctest.Instant) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]wire.Counters{
		// A second interface that never changes keeps the file from
		// ever being empty.
		"lo": {RxBytes: 1000, TxBytes: 1000, RxPackets: 10, TxPackets: 10, Ifindex: 1},
	}
	if s.present {
		rx := s.start + uint64(math.Floor(s.rx*float64(at.BootNS-s.since)/1e9))
		m["eth0"] = wire.Counters{RxBytes: rx, TxBytes: rx / 4, RxPackets: rx / 1000, TxPackets: rx / 4000, Ifindex: 2}
	}
	s.last = at.BootNS
	s.led.Record(at, m)
	return netdevtest.Format(m)
}

// proc is one process of ours: started, killed and reaped by its PID.
type proc struct {
	*proctest.Proc
	cmd    *exec.Cmd
	stderr *proctest.LockedBuffer
	done   <-chan struct{}
}

// sources links what tests start: a source by the proc root it serves
// (newSource), and the source an agent reads by the agent's node
// (startProc, from IFSTAT_PROC_ROOT and IFSTAT_NODE), so that judge finds
// the truth behind a chart however a test wired its processes.
var sources struct {
	mu     sync.Mutex
	byRoot map[string]*source
	byNode map[string]*source
}

func noteSource(s *source) {
	sources.mu.Lock()
	defer sources.mu.Unlock()
	if sources.byRoot == nil {
		sources.byRoot, sources.byNode = map[string]*source{}, map[string]*source{}
	}
	sources.byRoot[s.tree.ProcRoot()] = s
}

func noteAgent(env []string) {
	var node, root string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "IFSTAT_NODE="); ok {
			node = v
		} else if v, ok := strings.CutPrefix(kv, "IFSTAT_PROC_ROOT="); ok {
			root = v
		}
	}
	sources.mu.Lock()
	defer sources.mu.Unlock()
	if s := sources.byRoot[root]; s != nil && node != "" {
		sources.byNode[node] = s
	}
}

// truthFor returns the truth behind a chart "ifstat_<node>.<iface>_net"
// whose agent was started by startProc on a source of newSource, with
// the replies recorded if any.
func truthFor(chart string, reps *truthtest.Replies) (truth, bool) {
	typ, id, _ := strings.Cut(chart, ".")
	node, ok1 := strings.CutPrefix(typ, "ifstat_")
	iface, ok2 := strings.CutSuffix(id, "_net")
	sources.mu.Lock()
	s := sources.byNode[node]
	sources.mu.Unlock()
	if !ok1 || !ok2 || s == nil {
		return truth{}, false
	}
	if reps == nil {
		reps = &truthtest.Replies{}
	}
	return truth{iface: iface, led: &s.led, reps: reps}, true
}

func startProc(t *testing.T, name, bin string, env []string, stdout io.Writer) *proc {
	t.Helper()
	noteAgent(env)
	p := proctest.Start(t, name, bin, env, proctest.Stdout(stdout), proctest.Guard(guard))
	return &proc{Proc: p, cmd: p.Cmd(), stderr: p.Stderr(), done: p.Done()}
}

// signal sends sig to the process and waits until it has been reaped.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.Signal(t, sig)
}

// waitLog waits until the process's stderr holds substr at least n times
// (a condition it reports, such as a lost connection).
func (p *proc) waitLog(t *testing.T, substr string, n int) {
	t.Helper()
	p.waitLogWithin(t, substr, n, backGuard)
}

// waitLogWithin is waitLog with its own bound against a hang.
func (p *proc) waitLogWithin(t *testing.T, substr string, n int, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for strings.Count(p.stderr.String(), substr) < n {
		if time.Since(start) > bound {
			t.Fatalf("%q: %d of %d times in the stderr of pid %d within %v", substr, strings.Count(p.stderr.String(), substr), n, p.cmd.Process.Pid, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// statusKiB reads a field such as VmRSS from /proc/<pid>/status.
func (p *proc) statusKiB(key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, p.cmd.Process.Pid)
}

// value is one round of an ifstat.net chart (SET 'received': bits/s, or a
// gap) with what the same round of the interface's raw chart says: the
// rx_bytes delta and the mono_ns span in µs the bridge divided.
type value struct {
	at    time.Time // when the line was read
	gen   int       // which bridge process wrote it (plugind.writer call)
	chart string
	bps   float64
	gap   bool
	raw   string
	// The raw charts' rounds (BEGIN '<type>.<iface>_raw_bytes', then
	// _raw_packets and _raw_span), written after the net chart's in the
	// same Write: rawSeen once the END of _raw_span, the last, was read;
	// rawGap when they had no values (no rated interval: an OK one; a
	// Gap interval is booked to the totals only).
	rawSeen bool
	rawGap  bool
	rxDelta uint64
	spanUS  int64
}

// plugind collects the rounds of every *_net chart from the plugins.d
// stream of one or more bridge runs.
type plugind struct {
	mu     sync.Mutex
	gens   int
	values []value
	bad    []string // lines that are not plugins.d as the bridge writes it
}

// writer returns a pipe end for a bridge's stdout; lines are parsed as
// they arrive. Each call is one bridge process (a generation).
func (pd *plugind) writer(t *testing.T) io.Writer {
	pd.mu.Lock()
	pd.gens++
	gen := pd.gens
	pd.mu.Unlock()
	r, w := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pd.parse(r, gen)
	}()
	t.Cleanup(func() {
		w.Close()
		<-done
	})
	return w
}

func (pd *plugind) parse(r io.Reader, gen int) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	chart := ""
	raw := -1 // index in values of the net round the open raw round belongs to
	bad := func(line string) {
		pd.mu.Lock()
		pd.bad = append(pd.bad, line)
		pd.mu.Unlock()
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "BEGIN '"):
			chart, _, _ = strings.Cut(strings.TrimPrefix(line, "BEGIN '"), "'")
			raw = -1
			for _, suffix := range []string{"_raw_bytes", "_raw_span"} {
				if net, ok := strings.CutSuffix(chart, suffix); ok {
					raw = pd.openRaw(gen, net+"_net")
				}
			}
		case line == "END":
			if raw >= 0 && strings.HasSuffix(chart, "_raw_span") {
				pd.mu.Lock()
				pd.values[raw].rawSeen = true
				pd.mu.Unlock()
			}
			chart, raw = "", -1
		case raw >= 0 && (strings.HasPrefix(line, "SET 'rx_bytes' = ") || strings.HasPrefix(line, "SET 'span' = ")):
			key, s, _ := strings.Cut(strings.TrimPrefix(line, "SET '"), "' = ")
			pd.mu.Lock()
			v := &pd.values[raw]
			if s == "''" {
				v.rawGap = true
			} else if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
				if key == "span" {
					v.spanUS = n
				} else {
					v.rxDelta = uint64(n)
				}
			} else {
				pd.bad = append(pd.bad, line)
			}
			pd.mu.Unlock()
		case strings.HasPrefix(line, "SET 'received' = ") && strings.HasSuffix(chart, "_net"):
			v := value{at: time.Now(), gen: gen, chart: chart, raw: line}
			s := strings.TrimPrefix(line, "SET 'received' = ")
			if s == "''" {
				v.gap = true
			} else if f, err := strconv.ParseFloat(s, 64); err == nil {
				v.bps = f
			} else {
				bad(line)
				continue
			}
			pd.mu.Lock()
			pd.values = append(pd.values, v)
			pd.mu.Unlock()
		}
	}
	io.Copy(io.Discard, r)
}

// openRaw returns the index of the last round of net in generation gen,
// which a raw round that follows belongs to, or -1.
func (pd *plugind) openRaw(gen int, net string) int {
	pd.mu.Lock()
	defer pd.mu.Unlock()
	for i := len(pd.values) - 1; i >= 0; i-- {
		if v := pd.values[i]; v.gen == gen && v.chart == net {
			if v.rawSeen {
				return -1
			}
			return i
		}
	}
	return -1
}

func (pd *plugind) snapshot() []value {
	pd.mu.Lock()
	defer pd.mu.Unlock()
	return append([]value(nil), pd.values...)
}

// of returns the rounds of chart so far.
func (pd *plugind) of(chart string) []value {
	var out []value
	for _, v := range pd.snapshot() {
		if v.chart == chart {
			out = append(out, v)
		}
	}
	return out
}

// mark is the number of rounds of chart so far: "after the fault" for
// waitRounds.
func (pd *plugind) mark(chart string) int { return len(pd.of(chart)) }

// waitRounds waits until chart has at least n rounds after mark that
// satisfy ok (nil: any round) and returns how long it took. The wait is a
// condition, not a measurement; backGuard only turns a hang into a failure.
func (pd *plugind) waitRounds(t *testing.T, chart string, mark, n int, ok func(value) bool, what string) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(backGuard)
	for {
		got := 0
		if vs := pd.of(chart); len(vs) > mark {
			for _, v := range vs[mark:] {
				if ok == nil || ok(v) {
					got++
				}
			}
		}
		if got >= n {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d %s within %v", chart, got, n, what, backGuard)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRates waits for n rates (numeric rounds) of chart after mark.
func (pd *plugind) waitRates(t *testing.T, chart string, mark, n int) time.Duration {
	t.Helper()
	return pd.waitRounds(t, chart, mark, n, func(v value) bool { return !v.gap }, "rates")
}

// firstValueAfter waits for the first numeric value of chart read after
// since and returns how long after since it came.
func (pd *plugind) firstValueAfter(t *testing.T, chart string, since time.Time) time.Duration {
	t.Helper()
	deadline := time.Now().Add(backGuard)
	for time.Now().Before(deadline) {
		for _, v := range pd.snapshot() {
			if v.chart == chart && !v.gap && v.at.After(since) {
				return v.at.Sub(since)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: no rate within %v after %s", chart, backGuard, since.Format(time.TimeOnly))
	return 0
}

// judge checks every value of chart, whose agent reads a source of
// newSource (started by startProc), and returns the numbers of rates and
// gaps: judgeExact with no replies recorded, so every rate must be a
// served difference over the raw chart's span, exactly. There is no
// comparison with the configured rate, which would make the judge depend
// on the machine's scheduling.
func (pd *plugind) judge(t *testing.T, chart string) (rates, gaps int) {
	t.Helper()
	tr, ok := truthFor(chart, nil)
	if !ok {
		t.Fatalf("%s: no served source to judge it by (its agent was not started on a newSource tree by startProc)", chart)
	}
	st := pd.judgeExact(t, chart, tr)
	t.Logf("%s: %v (no replies recorded: judged against the served values)", chart, st)
	return st.exact + st.unconfirmed, st.gaps
}

// bridgeInterval is IFSTAT_INTERVAL of every bridge here. Ticks are
// aligned to its multiples; the bridge accepts a reply to the request of
// tick T only before T + bridgeInterval, so the agent read it in
// [T, T + bridgeInterval).
const bridgeInterval = time.Second

// truth is what a test knows of one interface: what the fixture served
// and what the agent replied (as far as the test's own subscriber got it).
type truth struct {
	iface string
	led   *truthtest.Ledger
	reps  *truthtest.Replies
}

// rated is one judged rate of the bridge: the tick it stands for, the
// delta and the mono_ns span it divided.
type rated struct {
	gen        int
	tick       time.Time
	delta      uint64
	ns         int64
	confirmed  bool // both replies seen by the test
	acrossRuns bool // the two replies are of two runs of the agent on one boot
}

// roundStats counts how the rounds of one chart were judged.
type roundStats struct {
	exact       int // rate = served delta over the agent's own span, both replies seen
	acrossRuns  int // of exact: a span across an agent restart on one boot
	unconfirmed int // a reply missed by the test: delta a served difference, rate = delta/span
	gaps        int
	rawJudged   int // gaps whose raw round (a delta booked without a rate) was judged too
	cut         int // a stream's last round without its raw chart: killed mid-write, or still being read
	rates       []rated
}

func (s roundStats) String() string {
	return fmt.Sprintf("%d rounds exact (%d across an agent restart), %d span unconfirmed, %d gaps (%d with a judged raw delta), %d cut",
		s.exact, s.acrossRuns, s.unconfirmed, s.gaps, s.rawJudged, s.cut)
}

// judgeExact judges every round of chart against the truth of tr:
//   - a rate must be the served delta of two replies over the agent's own
//     mono_ns span between them (the raw chart's delta and span find the
//     two: Replies.FindSpan), to within truthtest.Exact;
//   - where the test's subscriber missed one of the two (a broker
//     restart), the raw delta must be the difference of two values the
//     fixture served and the rate exactly delta over the raw span ("span
//     unconfirmed", counted and logged);
//   - a gap is allowed; where its raw round still books a delta (the
//     first interval after a restored state), that delta is judged the
//     same way;
//   - a negative value, a rate without a raw round or one that matches
//     no truth fails.
func (pd *plugind) judgeExact(t testing.TB, chart string, tr truth) roundStats {
	t.Helper()
	var st roundStats
	pd.mu.Lock()
	for _, l := range pd.bad {
		t.Errorf("unparsable plugins.d line %q", l)
	}
	pd.mu.Unlock()
	vs := pd.of(chart)
	lastOfGen := map[int]int{}
	for i, v := range vs {
		lastOfGen[v.gen] = i
	}
	for i, v := range vs {
		at := v.at.Format("15:04:05.000")
		if !v.rawSeen {
			if lastOfGen[v.gen] == i {
				// Killed between the net chart and the raw chart of one
				// write, or its raw chart not read yet: nothing to judge.
				st.cut++
				continue
			}
			t.Errorf("%s at %s: %q without a raw round", chart, at, v.raw)
			continue
		}
		if v.gap {
			st.gaps++
			if !v.rawGap {
				if _, ok := tr.explain(t, chart, at, v); ok {
					st.rawJudged++
				}
			}
			continue
		}
		if v.bps < 0 {
			t.Errorf("%s at %s: %q: negative", chart, at, v.raw)
			continue
		}
		if v.rawGap || v.spanUS <= 0 {
			t.Errorf("%s at %s: %q but its raw round has no delta over a span (rx %d, span %d µs)", chart, at, v.raw, v.rxDelta, v.spanUS)
			continue
		}
		r, ok := tr.explain(t, chart, at, v)
		if !ok {
			continue
		}
		want := float64(r.delta) * 8e9 / float64(r.ns)
		if !truthtest.Within(v.bps, want, truthtest.Exact) {
			t.Errorf("%s at %s: %q, want %.1f = %d bytes × 8 / %d ns ± %.2g%% (both replies seen: %v)",
				chart, at, v.raw, want, r.delta, r.ns, truthtest.Exact*100, r.confirmed)
			continue
		}
		st.rates = append(st.rates, r)
		switch {
		case !r.confirmed:
			st.unconfirmed++
			if tr.reps.Len() == 0 {
				break
			}
			t.Logf("%s at %s: span unconfirmed (the test missed a reply): %d bytes is a served difference, %q its rate over %d µs",
				chart, at, v.rxDelta, v.raw, v.spanUS)
		case r.acrossRuns:
			st.exact++
			st.acrossRuns++
		default:
			st.exact++
		}
	}
	return st
}

// explain finds the truth behind a round's raw delta and span: the two
// replies it was computed from (confirmed), else two served values whose
// difference it is. It fails t when there is neither.
func (tr truth) explain(t testing.TB, chart, at string, v value) (rated, bool) {
	t.Helper()
	r := rated{gen: v.gen, delta: v.rxDelta}
	s, ok := tr.reps.FindSpan(tr.iface, v.rxDelta, v.spanUS)
	r.acrossRuns = ok && s.From.RunID != s.To.RunID
	if ok {
		r.confirmed, r.ns = true, s.NS()
		r.tick = time.Unix(0, s.To.TimeNS).Truncate(bridgeInterval)
		return r, true
	}
	b, ok := servedDiff(tr.led, tr.iface, v.rxDelta, v.spanUS)
	if !ok {
		t.Errorf("%s at %s: %q with a raw delta of %d bytes over %d µs: no two replies and no two served values differ by it",
			chart, at, v.raw, v.rxDelta, v.spanUS)
		return r, false
	}
	// The raw span is truncated to µs: 1e-6 of a second, far below Exact.
	r.ns = v.spanUS * 1000
	r.tick = b.At.Wall.Truncate(bridgeInterval)
	return r, true
}

// readOf returns the CLOCK_BOOTTIME instant of the later read a rate
// round was computed from (the agent's mono_ns, or when the test missed
// that reply the instant its value was served), false when the round has
// no raw delta (yet) or nothing explains it.
func (tr truth) readOf(v value) (int64, bool) {
	if !v.rawSeen || v.rawGap {
		return 0, false
	}
	if s, ok := tr.reps.FindSpan(tr.iface, v.rxDelta, v.spanUS); ok {
		return s.To.MonoNS, true
	}
	if b, ok := servedDiff(tr.led, tr.iface, v.rxDelta, v.spanUS); ok {
		return b.At.BootNS, true
	}
	return 0, false
}

// servedDiff returns the later of two renderings of one counter segment
// (no decrease between them) whose iface rx_bytes differ by exactly
// delta. Where several pairs do (a constant rate can repeat a delta), it
// is the pair whose serving instants lie closest to spanUS apart: which
// pair does not decide whether the round passes, only the tick it is
// booked to for the Home Assistant judge.
func servedDiff(led *truthtest.Ledger, iface string, delta uint64, spanUS int64) (truthtest.Served, bool) {
	type seen struct {
		seg int
		rx  uint64
	}
	earlier := map[seen]int64{} // BootNS of the rendering
	var found truthtest.Served
	var off int64 = -1
	seg, last := 0, uint64(0)
	for _, s := range led.All() {
		c, present := s.Ifaces[iface]
		if !present {
			continue
		}
		if c.RxBytes < last {
			seg++
		}
		last = c.RxBytes
		if c.RxBytes >= delta {
			if from, ok := earlier[seen{seg, c.RxBytes - delta}]; ok {
				d := (s.At.BootNS-from)/1000 - spanUS
				if d < 0 {
					d = -d
				}
				if off < 0 || d <= off {
					found, off = s, d
				}
			}
		}
		earlier[seen{seg, c.RxBytes}] = s.At.BootNS
	}
	return found, off >= 0
}

// served is the truth of totals: for every rendering of iface, the bytes
// the interface carried from the first rendering up to it. Counters that
// restart (a reboot) restart from zero at the rendering before, so their
// new values are all traffic since then, as the bridge books a reset.
type served struct {
	at  []proctest.Instant
	rx  []uint64
	cum []uint64
}

func servedTotals(led *truthtest.Ledger, iface string) served {
	var s served
	for _, r := range led.All() {
		c, ok := r.Ifaces[iface]
		if !ok {
			continue
		}
		var add uint64
		if n := len(s.rx); n > 0 {
			if c.RxBytes >= s.rx[n-1] {
				add = c.RxBytes - s.rx[n-1]
			} else {
				add = c.RxBytes
			}
		}
		prev := uint64(0)
		if n := len(s.cum); n > 0 {
			prev = s.cum[n-1]
		}
		s.at, s.rx, s.cum = append(s.at, r.At), append(s.rx, c.RxBytes), append(s.cum, prev+add)
	}
	return s
}

// between returns the indexes (f, l) with cum[l] − cum[f] = total, f among
// the first firsts renderings and l among the last lasts (-1, -1 if none):
// a bridge total started at its first sample and ended at its last.
func (s served) between(total uint64, firsts, lasts int) (int, int) {
	for l := len(s.cum) - 1; l >= 0 && l >= len(s.cum)-lasts; l-- {
		for f := 0; f < firsts && f <= l; f++ {
			if s.cum[l]-s.cum[f] == total {
				return f, l
			}
		}
	}
	return -1, -1
}

// reaches reports whether cum[f] + total is the truth at some rendering.
func (s served) reaches(f int, total uint64) bool {
	_, ok := slices.BinarySearch(s.cum, s.cum[f]+total)
	return ok
}

// haWatch records the Home Assistant state messages of one node.
type haWatch struct {
	mu     sync.Mutex
	states []haState
	bad    []string
}

type haState struct {
	at      time.Time // arrival
	end     time.Time // the window's end ("time")
	window  time.Duration
	rxBps   *float64
	rxBytes uint64
}

func watchHA(t *testing.T, b *brokertest.Broker, node string) *haWatch {
	t.Helper()
	w := &haWatch{}
	topic := "ifstat/" + node + "/state"
	// Its own options: subscribe in OnConnect so that broker restarts do
	// not end the watch.
	b.Client(t, "ha-watch-"+node, func(o *mqtt.ClientOptions) {
		o.SetOnConnectHandler(func(c mqtt.Client) {
			c.Subscribe(topic, 0, func(_ mqtt.Client, m mqtt.Message) { w.add(m.Payload()) })
		})
	})
	return w
}

func (w *haWatch) add(payload []byte) {
	var msg struct {
		Time    time.Time `json:"time"`
		WindowS float64   `json:"window_s"`
		Ifaces  map[string]struct {
			RxBps   *float64 `json:"rx_bps"`
			RxBytes uint64   `json:"rx_bytes"`
		} `json:"ifaces"`
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := json.Unmarshal(payload, &msg); err != nil {
		w.bad = append(w.bad, fmt.Sprintf("%v: %.200s", err, payload))
		return
	}
	if s, ok := msg.Ifaces["eth0"]; ok {
		w.states = append(w.states, haState{at: time.Now(), end: msg.Time,
			window: time.Duration(msg.WindowS * float64(time.Second)), rxBps: s.RxBps, rxBytes: s.RxBytes})
	}
}

func (w *haWatch) snapshot() []haState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]haState(nil), w.states...)
}

// waitWindowAfter waits for a state with a rate whose whole window lies
// after since: Home Assistant is back.
func (w *haWatch) waitWindowAfter(t *testing.T, since time.Time) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(backGuard)
	for {
		for _, s := range w.snapshot() {
			if s.rxBps != nil && !s.end.Add(-s.window).Before(since) {
				return time.Since(start)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("home assistant: no state with a rate for a window after %s within %v", since.Format("15:04:05.000"), backGuard)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// haStats counts how the Home Assistant states were judged.
type haStats struct {
	exact, fromServed, nulls, totals int
}

func (s haStats) String() string {
	return fmt.Sprintf("%d rx_bps exact, %d from a round with an unconfirmed span, %d null; %d rx_bytes totals exact",
		s.exact, s.fromServed, s.nulls, s.totals)
}

// judgeExact judges every state of eth0.
//
// rx_bps is Σ delta / Σ span over the rated intervals of the window
// (E − window, E] (haout: a sample of tick T belongs to the window ending
// at ceil(T / window) × window). The rated intervals are the Netdata
// rounds of the same bridge process, each already judged exact, each with
// its tick; so the expectation is exact too. A state's bridge process is
// not named in it: the state must match the rounds of one process.
//
// rx_bytes is the bridge's total: never lower than before, and exactly
// the bytes served from the bridge's first sample (first) to one served
// rendering.
func (w *haWatch) judgeExact(t testing.TB, rounds roundStats, tot served, first int) haStats {
	t.Helper()
	var st haStats
	w.mu.Lock()
	for _, b := range w.bad {
		t.Errorf("HA state: %s", b)
	}
	w.mu.Unlock()
	var last uint64
	for _, s := range w.snapshot() {
		at := s.at.Format("15:04:05.000")
		if s.rxBytes < last {
			t.Errorf("HA state at %s: rx_bytes %d < %d before", at, s.rxBytes, last)
		}
		last = max(last, s.rxBytes)
		if first >= 0 {
			if tot.reaches(first, s.rxBytes) {
				st.totals++
			} else {
				t.Errorf("HA state at %s: rx_bytes %d is not the bytes served from the first sample to any later rendering", at, s.rxBytes)
			}
		}
		if s.rxBps == nil {
			st.nulls++
			continue
		}
		if *s.rxBps < 0 {
			t.Errorf("HA state at %s: rx_bps %.3f: negative", at, *s.rxBps)
			continue
		}
		type sum struct {
			delta     uint64
			ns        int64
			n         int
			confirmed bool
		}
		byGen := map[int]*sum{}
		for _, r := range rounds.rates {
			if !r.tick.After(s.end.Add(-s.window)) || r.tick.After(s.end) {
				continue
			}
			g := byGen[r.gen]
			if g == nil {
				g = &sum{confirmed: true}
				byGen[r.gen] = g
			}
			g.delta += r.delta
			g.ns += r.ns
			g.n++
			g.confirmed = g.confirmed && r.confirmed
		}
		matched := false
		var wants []string
		for _, g := range byGen {
			want := float64(g.delta) * 8e9 / float64(g.ns)
			if truthtest.Within(*s.rxBps, want, truthtest.Exact) {
				matched = true
				if g.confirmed {
					st.exact++
				} else {
					st.fromServed++
				}
				break
			}
			wants = append(wants, fmt.Sprintf("%.3f (%d rounds)", want, g.n))
		}
		if !matched {
			t.Errorf("HA state at %s, window (%s − %v]: rx_bps %.3f, want the rate of its judged rounds: %v",
				at, s.end.Format("15:04:05"), s.window, *s.rxBps, wants)
		}
	}
	return st
}

// retained waits for the retained message on topic, read by a fresh
// client, and returns its payload.
func retained(t *testing.T, b *brokertest.Broker, id, topic string) string {
	t.Helper()
	c := b.Client(t, id)
	ch := brokertest.Subscribe(t, c, topic, 4)
	select {
	case m := <-ch:
		return string(m.Payload())
	case <-time.After(10 * time.Second):
		return "(none)"
	}
}

// errRecorder collects a judge's failures instead of failing the test.
type errRecorder struct {
	testing.TB
	errs []string
}

func (e *errRecorder) Helper()                   {}
func (e *errRecorder) Logf(string, ...any)       {}
func (e *errRecorder) Errorf(f string, a ...any) { e.errs = append(e.errs, fmt.Sprintf(f, a...)) }

// TestJudges runs the judges on a made-up plugins.d stream, ledger and
// Home Assistant states, with no reply recorded: every rate takes the
// "span unconfirmed" path that real runs take only after a missed reply,
// and a wrong rate, a spike, a delta nobody served, a negative value, a
// rate without its raw round, a wrong Home Assistant window and a wrong
// or falling total must each fail. No processes: it runs with -short.
func TestJudges(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	// rx[4]-rx[3] = rx[1]-rx[0]: a delta served twice.
	rx := []uint64{5e9, 5e9 + 1_250_007, 5e9 + 2_500_010, 5e9 + 3_900_021, 5e9 + 5_150_028, 1_250_100, 2_500_300}
	var led truthtest.Ledger
	for k, v := range rx {
		jitter := time.Duration(k*k) * 100 * time.Microsecond
		at := proctest.Instant{Wall: base.Add(time.Duration(k)*time.Second + jitter), BootNS: 10e9 + int64(k)*1e9 + int64(jitter)}
		led.Record(at, map[string]wire.Counters{"eth0": {RxBytes: v, TxBytes: v / 4}})
	}
	tr := truth{iface: "eth0", led: &led, reps: &truthtest.Replies{}}
	round := func(received string, delta uint64, spanUS int64) string {
		rx, span := "''", "''"
		if spanUS > 0 {
			rx, span = strconv.FormatUint(delta, 10), strconv.FormatInt(spanUS, 10)
		}
		return "BEGIN 'ifstat_n.eth0_net' 1000000\nSET 'received' = " + received + "\nSET 'sent' = 1\nEND\n" +
			"BEGIN 'ifstat_n.eth0_packets' 1000000\nSET 'received' = 5\nEND\n" +
			"BEGIN 'ifstat_n.eth0_raw_bytes' 1000000\nSET 'rx_bytes' = " + rx + "\nSET 'tx_bytes' = 1\nEND\n" +
			"BEGIN 'ifstat_n.eth0_raw_packets' 1000000\nSET 'rx_packets' = 1\nSET 'tx_packets' = 1\nEND\n" +
			"BEGIN 'ifstat_n.eth0_raw_span' 1000000\nSET 'span' = " + span + "\nEND\n"
	}
	rate := func(delta uint64, spanUS int64) string {
		return strconv.FormatUint(delta*8_000_000/uint64(spanUS), 10)
	}
	const chart = "ifstat_n.eth0_net"
	good := round("''", 0, 0) + // the first sample
		round(rate(rx[1]-rx[0], 1_000_123), rx[1]-rx[0], 1_000_123) +
		round(rate(rx[3]-rx[1], 2_000_050), rx[3]-rx[1], 2_000_050) + // a missed reply
		round("''", 0, 0) + // the reboot
		round(rate(rx[6]-rx[5], 1_000_000), rx[6]-rx[5], 1_000_000)
	pd := &plugind{}
	pd.parse(strings.NewReader(good), 1)
	rec := &errRecorder{TB: t}
	st := pd.judgeExact(rec, chart, tr)
	if len(rec.errs) > 0 || st.unconfirmed != 3 || st.gaps != 2 || st.exact != 0 {
		t.Errorf("good stream: %v; errors %q", st, rec.errs)
	}

	for name, stream := range map[string]string{
		"10x spike":           round(rate(10*(rx[1]-rx[0]), 1_000_000), rx[1]-rx[0], 1_000_000),
		"0.1% off":            round(strconv.FormatUint((rx[1]-rx[0])*8_008_000/1_000_000, 10), rx[1]-rx[0], 1_000_000),
		"a delta not served":  round(rate(1_234_567, 1_000_000), 1_234_567, 1_000_000),
		"across the reboot":   round(rate(rx[5]+5_150_028, 1_000_000), rx[5]+5_150_028, 1_000_000),
		"negative":            round("-5", rx[1]-rx[0], 1_000_000),
		"no raw delta":        round(rate(rx[1]-rx[0], 1_000_000), 0, 0),
		"no raw round at all": "BEGIN 'ifstat_n.eth0_net'\nSET 'received' = 1\nEND\n" + round("''", 0, 0),
		"raw of a gap":        round("''", 777, 1_000_000),
	} {
		pd := &plugind{}
		pd.parse(strings.NewReader(stream), 1)
		rec := &errRecorder{TB: t}
		pd.judgeExact(rec, chart, tr)
		if len(rec.errs) == 0 {
			t.Errorf("%s: no failure", name)
		}
		t.Logf("%s: %q", name, rec.errs)
	}

	tot := servedTotals(&led, "eth0")
	want := rx[4] - rx[0] + rx[6]
	if f, l := tot.between(want, 4, 3); f != 0 || l != 6 {
		t.Errorf("between(%d) = %d, %d, want 0, 6", want, f, l)
	}
	if f, _ := tot.between(want-1, 4, 3); f != -1 {
		t.Errorf("between(%d) = %d, want -1", want-1, f)
	}

	bps := func(delta uint64, spanUS int64) *float64 {
		v := float64(delta) * 8e6 / float64(spanUS)
		return &v
	}
	state := func(end int, rxBps *float64, total uint64) haState {
		return haState{end: base.Add(time.Duration(end) * time.Second), window: 2 * time.Second, rxBps: rxBps, rxBytes: total}
	}
	for name, tc := range map[string]struct {
		states []haState
		fail   bool
	}{
		"exact": {states: []haState{
			state(2, bps(rx[1]-rx[0], 1_000_123), rx[1]-rx[0]),
			state(4, bps(rx[3]-rx[1], 2_000_050), rx[3]-rx[0]),
			state(6, nil, rx[3]-rx[0]),
		}},
		"wrong window":  {states: []haState{state(4, bps(rx[1]-rx[0], 1_000_123), rx[1]-rx[0])}, fail: true},
		"0.1% off":      {states: []haState{state(2, bps((rx[1]-rx[0])*1001/1000, 1_000_123), rx[1]-rx[0])}, fail: true},
		"total off":     {states: []haState{state(2, nil, rx[1]-rx[0]+1)}, fail: true},
		"total falling": {states: []haState{state(2, nil, rx[3]-rx[0]), state(4, nil, rx[1]-rx[0])}, fail: true},
		"negative":      {states: []haState{state(2, bps(rx[1]-rx[0], 1_000_123), rx[1]-rx[0]), state(4, ptr(-1.0), rx[3]-rx[0])}, fail: true},
	} {
		w := &haWatch{states: tc.states}
		rec := &errRecorder{TB: t}
		hs := w.judgeExact(rec, st, tot, 0)
		if failed := len(rec.errs) > 0; failed != tc.fail {
			t.Errorf("home assistant, %s: %v, errors %q; want failure %v", name, hs, rec.errs, tc.fail)
		}
	}
}

func ptr[T any](v T) *T { return &v }
