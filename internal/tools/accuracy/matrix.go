package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"
)

// The matrix mode: the scenario list of the pure simulation in
// netdata-bridge/rate/matrix_test.go, through the real processes. One
// mosquitto; per mode one agent per scenario (its own driver tree and node
// name) and one bridge per sampling interval asking all of that mode's
// agents, so that the whole list runs at once.

// mxWarmUp is the start of every run that is not judged: the time a
// bridge (or an agent's watch) is given to learn the drivers.
const mxWarmUp = 60 * time.Second

// mxMode is one way of running agent and bridge.
type mxMode struct {
	name  string
	watch string // IFSTAT_WATCH for the agent; "" leaves it unset (as installed)
	exact bool   // IFSTAT_EXACT=on for the bridge
}

var mxModes = []mxMode{
	{"default", "", false},
	{"watch10", "10ms", false},
	{"off", "0", false},
	{"exact", "0", true},
	{"auto", "auto", false},
}

// mxRow is one scenario: a driver with a few interfaces (phases spread,
// and jitter variants), read at interval.
type mxRow struct {
	name     string
	interval time.Duration
	ifaces   []netdevtest.DriverIface
	changeAt time.Duration // a period change at run time, 0 for none
}

const (
	ms     = time.Millisecond
	p09765 = 976500 * time.Microsecond
)

// mxRows builds the scenario list for runs of dur: the traffic patterns
// repeat so that a short run still sees an edge after the warm-up.
func mxRows(dur time.Duration) []mxRow {
	var rows []mxRow
	fmtP := func(p time.Duration) string { return fmt.Sprintf("%.4g s", p.Seconds()) }
	fmtS := func(s time.Duration) string { return fmt.Sprintf("%.3g s", s.Seconds()) }
	// ifaces spreads phases over the period: k·P/n + 3 ms, the 3 ms
	// keeping refreshes off the bridge's wall-clock aligned reads.
	ifaces := func(p time.Duration, phases int, jitters []time.Duration, miss float64, rx, tx netdevtest.Rate, change *netdevtest.PeriodChange) []netdevtest.DriverIface {
		var out []netdevtest.DriverIface
		for _, j := range jitters {
			for k := range phases {
				n := len(out)
				in := netdevtest.DriverIface{
					Name: fmt.Sprintf("eth%d", n), Ifindex: int64(n + 2), SpeedMbps: 1000,
					Base: wire.Counters{RxBytes: uint64(n) << 30, TxBytes: uint64(n) << 28},
					Rx:   rx, Tx: tx,
					Period: p, Phase: time.Duration(int64(p)*int64(k)/int64(phases)) + 3*ms,
					Jitter: j, Miss: miss, Seed: uint64(len(rows)*100 + n + 1),
				}
				if change != nil {
					c := *change
					c.Phase += time.Duration(int64(c.Period) * int64(k) / int64(phases))
					in.Changes = []netdevtest.PeriodChange{c}
				}
				out = append(out, in)
			}
		}
		return out
	}
	constRx, constTx := netdevtest.Constant(rxBps), netdevtest.Constant(txBps)
	periods := []time.Duration{500 * ms, p09765, time.Second, 1024 * ms, 2 * time.Second, 3 * time.Second}
	for _, s := range []time.Duration{time.Second, 200 * ms} {
		for _, p := range periods {
			rows = append(rows, mxRow{
				name:     fmt.Sprintf("P %s, S %s, 4 phases, jitter 0 and 4 ms", fmtP(p), fmtS(s)),
				interval: s, ifaces: ifaces(p, 4, []time.Duration{0, 4 * ms}, 0, constRx, constTx, nil),
			})
		}
	}
	for _, p := range []time.Duration{500 * ms, p09765, time.Second, 2 * time.Second} {
		rows = append(rows, mxRow{
			name:     fmt.Sprintf("P %s, S 1 s, 1 %% missed, 4 phases, jitter 2 ms", fmtP(p)),
			interval: time.Second, ifaces: ifaces(p, 4, []time.Duration{2 * ms}, 0.01, constRx, constTx, nil),
		})
	}
	// The period changes half way (123 ms past, off any grid).
	at := dur/2 + 123*ms
	for _, pc := range [][2]time.Duration{{p09765, 1024 * ms}, {time.Second, p09765}, {2 * time.Second, time.Second}} {
		c := &netdevtest.PeriodChange{At: at, Period: pc[1], Phase: pc[1]/3 + 7*ms}
		rows = append(rows, mxRow{
			name:     fmt.Sprintf("P %s -> %s at %v, S 1 s, 4 phases, jitter 2 ms", fmtP(pc[0]), fmtP(pc[1]), at.Round(time.Second)),
			interval: time.Second, ifaces: ifaces(pc[0], 4, []time.Duration{2 * ms}, 0, constRx, constTx, c), changeAt: at,
		})
	}
	for _, p := range []time.Duration{500 * ms, p09765, 1024 * ms, 2 * time.Second} {
		for _, s := range []time.Duration{time.Second, 200 * ms} {
			rows = append(rows, mxRow{
				name:     fmt.Sprintf("P %s, S %s, idle/burst, 4 phases, jitter 2 ms", fmtP(p), fmtS(s)),
				interval: s, ifaces: ifaces(p, 4, []time.Duration{2 * ms}, 0, burst(rxBps, dur), burst(txBps, dur), nil),
			})
			rows = append(rows, mxRow{
				name:     fmt.Sprintf("P %s, S %s, rate steps x2, x1/4, x1 mid-period, 4 phases, jitter 2 ms", fmtP(p), fmtS(s)),
				interval: s, ifaces: ifaces(p, 4, []time.Duration{2 * ms}, 0, steps(rxBps, dur), steps(txBps, dur), nil),
			})
		}
	}
	// Live counters (a software device, a driver that fetches on read)
	// on a quiet interface: an unchanged read is a true zero, not a
	// stale read (issue 12: 29 of 220 s of a quiet eth0 were gaps).
	for _, s := range []time.Duration{time.Second, 200 * ms} {
		rows = append(rows, mxRow{
			name:     fmt.Sprintf("live counters, S %s, quiet: 0.3 s of traffic every 3.7 s", fmtS(s)),
			interval: s, ifaces: ifaces(0, 4, []time.Duration{0}, 0, quiet(rxBps/100, dur), quiet(txBps/100, dur), nil),
		})
	}
	return rows
}

// quiet is bps for 0.3 s in every 3.7 s (from 0.4 s past each start),
// idle otherwise: a quiet interface's trickle.
func quiet(bps uint64, dur time.Duration) netdevtest.Rate {
	var r netdevtest.Rate
	for at := time.Duration(0); at < dur+10*time.Second; at += 3700 * ms {
		r = append(r, netdevtest.Step{At: at + 400*ms, BytesPerSec: bps}, netdevtest.Step{At: at + 700*ms, BytesPerSec: 0})
	}
	return r
}

// onlyRows keeps the rows whose name contains one of the '|'-separated
// substrings of only (all rows for ""). It filters the built list, so
// that a row keeps the seeds it has in the whole matrix and a filtered
// run reproduces the same drivers.
func onlyRows(rows []mxRow, only string) ([]mxRow, error) {
	if strings.TrimSpace(only) == "" {
		return rows, nil
	}
	subs := strings.Split(only, "|")
	var out []mxRow
	for _, r := range rows {
		if slices.ContainsFunc(subs, func(s string) bool { return s != "" && strings.Contains(r.name, s) }) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenario name contains any of %q", subs)
	}
	return out, nil
}

// burst is busy for the first 50 s (the warm-up learns the driver), then
// repeats every 60 s: 30.333 s idle, a 15 s burst (1× and 2× the rate in
// turn), 14.667 s idle. 45 s of idle between bursts is long enough that
// nothing about the refreshes can be seen in it.
func burst(bps uint64, dur time.Duration) netdevtest.Rate {
	r := netdevtest.Rate{{At: 0, BytesPerSec: bps}, {At: 50 * time.Second, BytesPerSec: 0}}
	for c := 0; ; c++ {
		start := 50*time.Second + time.Duration(c)*60*time.Second + 30333*ms
		if start > dur {
			return r
		}
		r = append(r, netdevtest.Step{At: start, BytesPerSec: bps * uint64(1+c%2)}, netdevtest.Step{At: start + 15*time.Second, BytesPerSec: 0})
	}
}

// steps is the rate, then ×2, ×1/4 and ×1 of it in turn every 40.611 s
// from 70.437 s: instants that fall anywhere in a refresh period.
func steps(bps uint64, dur time.Duration) netdevtest.Rate {
	r := netdevtest.Rate{{At: 0, BytesPerSec: bps}}
	mult := []float64{2, 0.25, 1}
	for c := 0; ; c++ {
		at := 70437*ms + time.Duration(c)*40611*ms
		if at > dur {
			return r
		}
		r = append(r, netdevtest.Step{At: at, BytesPerSec: uint64(float64(bps) * mult[c%3])})
	}
}

// mxAgent is one agent of one mode on one scenario's driver.
type mxAgent struct {
	mode   mxMode
	row    mxRow
	node   string
	driver *netdevtest.Driver
	proc   *proc
	dir    string
	stop   context.CancelFunc // stops serving the driver

	mu      sync.Mutex
	replies []mxReply
	// served is when the fixture served each copy (netdevtest.Driver's
	// log), taken from the driver when first judged; see servedAt.
	served []int64
}

// servedAt is when the fixture served the copy that the read stamped at t
// carried: the last copy served at or before t, or t if none is known.
// Live counters are judged between those instants, not the stamps: the
// fixture renders a copy when the reader opens its pipe, a few ms before
// the reader stamps it (a kernel renders inside the reader's system
// call), and traffic that starts or stops in between was set against a
// sample that never had it (16 samples 10 % or more off, to 37.7 %, in
// one run of live counters, S 1 s: 235 bytes of a trickle's edge).
func (a *mxAgent) servedAt(t int64) int64 {
	if a.served == nil {
		a.served = a.driver.ServedAt()
	}
	i := sort.Search(len(a.served), func(i int) bool { return a.served[i] > t })
	if i == 0 {
		return t
	}
	return a.served[i-1]
}

// isLive reports whether name's counters are current at every instant
// (no refresh clock): a live-counter scenario.
func isLive(d *netdevtest.Driver, name string) bool {
	t := d.Origin() + int64(time.Second) + 12345
	lr, ok := d.LastRefresh(name, t)
	return ok && lr == t
}

// mxReply is what is kept of one reply: the read time and, per
// interface, the counters and the watch window.
type mxReply struct {
	mono   int64
	ifaces map[string]wire.Counters
}

// mxBridge is one bridge of one mode and interval.
type mxBridge struct {
	mode     mxMode
	interval time.Duration
	agents   []*mxAgent
	proc     *proc
	charts   map[string][]round // by full "type.id"
	mu       sync.Mutex
	parsed   chan error
	out      *os.File
}

// runMatrix runs the modes named in modes ("a,b;c,d": batches separated
// by ';' run one after the other, the modes of a batch at once) for
// o.duration each and writes one table per mode.
func runMatrix(ctx context.Context, o options, modes string, stdout, logw io.Writer) int {
	rows, err := onlyRows(mxRows(o.duration), o.only)
	if err != nil {
		fmt.Fprintf(logw, "-only: %v\n", err)
		return 2
	}
	// Every emulated driver serves its reader from a goroutine of this
	// process, where a kernel serves each reader on the reader's own
	// time. With one P per core, a copy waited for a P behind the other
	// drivers and the judge: a thread per driver lets the kernel
	// schedule each as it schedules the agents.
	runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), len(rows)*max(1, strings.Count(modes, ",")+strings.Count(modes, ";")+1)+2))
	var batches [][]mxMode
	for _, b := range strings.Split(modes, ";") {
		var batch []mxMode
		for _, name := range strings.Split(b, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			i := slices.IndexFunc(mxModes, func(m mxMode) bool { return m.name == name })
			if i < 0 {
				fmt.Fprintf(logw, "unknown mode %q (known: default, watch10, off, exact, auto)\n", name)
				return 2
			}
			batch = append(batch, mxModes[i])
		}
		if len(batch) > 0 {
			batches = append(batches, batch)
		}
	}
	mdir := filepath.Join(o.work, "matrix")
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		fmt.Fprintln(logw, err)
		return 1
	}
	port, err := freePort()
	if err != nil {
		fmt.Fprintln(logw, err)
		return 1
	}
	conf := filepath.Join(mdir, "mosquitto.conf")
	// max_queued_messages: one subscriber hears every reply of every agent.
	if err := os.WriteFile(conf, fmt.Appendf(nil, "persistence false\nallow_anonymous true\nmax_queued_messages 100000\nlistener %d 127.0.0.1\n", port), 0o644); err != nil {
		fmt.Fprintln(logw, err)
		return 1
	}
	broker := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	mosq, err := start(mdir, "mosquitto", nil, o.mosquitto, "-c", conf)
	if err != nil {
		fmt.Fprintln(logw, err)
		return 1
	}
	defer mosq.stop()
	if err := waitTCP(port, 10*time.Second); err != nil {
		fmt.Fprintf(logw, "mosquitto: %v\n", err)
		return 1
	}
	fmt.Fprintf(logw, "matrix: %d scenarios × %d batches of modes, %v each, warm-up %v; mosquitto %d on %s; logs in %s\n",
		len(rows), len(batches), o.duration, mxWarmUp, mosq.cmd.Process.Pid, broker, mdir)
	fmt.Fprintf(stdout, "# Scenario matrix through the real agent, bridge and mosquitto\n\n")
	fmt.Fprintf(stdout, "%d scenarios per mode, %v per run, judged after a warm-up of %v from the start (not after a period change); rx 100 Mbit/s and tx 50 Mbit/s per interface (both judged); batches: %s.\n",
		len(rows), o.duration, mxWarmUp, modes)
	code := 0
	for bi, batch := range batches {
		t0 := time.Now()
		res, err := runBatch(ctx, o, mdir, broker, rows, batch, logw)
		if err != nil {
			fmt.Fprintf(logw, "batch %d: %v\n", bi+1, err)
			code = 1
		}
		fmt.Fprintf(logw, "batch %d (%s) done in %v\n", bi+1, modeNames(batch), time.Since(t0).Round(time.Second))
		reportMatrix(stdout, rows, res)
		if ctx.Err() != nil {
			return 1
		}
	}
	return code
}

func modeNames(ms []mxMode) string {
	var n []string
	for _, m := range ms {
		n = append(n, m.name)
	}
	return strings.Join(n, ",")
}

// batchResult is what one batch leaves for the tables.
type batchResult struct {
	modes   []mxMode
	agents  map[string][]*mxAgent // by mode, in row order
	bridges map[string][]*mxBridge
	failed  map[string]string // mode → why it did not run
	load    []string          // /proc/loadavg during the run
}

func runBatch(ctx context.Context, o options, mdir, broker string, rows []mxRow, batch []mxMode, logw io.Writer) (*batchResult, error) {
	br := &batchResult{modes: batch, agents: map[string][]*mxAgent{}, bridges: map[string][]*mxBridge{}, failed: map[string]string{}}
	bctx, cancel := context.WithCancel(ctx)
	var served sync.WaitGroup
	var all []*mxAgent
	var bridges []*mxBridge
	defer func() {
		var ps []*proc
		for _, b := range bridges {
			ps = append(ps, b.proc)
		}
		for _, a := range all {
			ps = append(ps, a.proc)
		}
		stopAll(ps)
		cancel()
		served.Wait()
	}()
	byNode := map[string]*mxAgent{}
	// Each driver's origin, which sets its refresh phases, lies a second
	// over the number of agents after the one before. Made at once, the
	// drivers of every row with a period dividing a second refreshed
	// within a few ms of each other, and a dozen agents probed the same
	// few ms of every quarter second on two cores: the copies around a
	// refresh came 2 ms or more apart a tenth of the time (the matrix's
	// bracket table, 2026-12-07), where a router's one agent probes
	// alone.
	stagger := time.Second / time.Duration(max(len(rows)*len(batch), 1))
	for _, m := range batch {
		for i, row := range rows {
			if len(all) > 0 {
				time.Sleep(stagger)
			}
			a := &mxAgent{mode: m, row: row, node: fmt.Sprintf("%s_%02d", m.name, i)}
			a.dir = filepath.Join(mdir, a.node)
			if err := os.MkdirAll(filepath.Join(a.dir, "tree"), 0o755); err != nil {
				return br, err
			}
			d, err := netdevtest.NewDriver(netdevtest.DriverOptions{Dir: filepath.Join(a.dir, "tree"), Ifaces: row.ifaces, Log: true})
			if err != nil {
				return br, fmt.Errorf("%s: %w", a.node, err)
			}
			a.driver = d
			actx, acancel := context.WithCancel(bctx)
			a.stop = acancel
			served.Add(1)
			go func() {
				defer served.Done()
				if err := d.Serve(actx); err != nil {
					fmt.Fprintf(logw, "%s: driver: %v\n", a.node, err)
				}
			}()
			all = append(all, a)
			byNode[a.node] = a
			br.agents[m.name] = append(br.agents[m.name], a)
		}
	}
	// Our own subscriber hears every reply the bridges hear.
	copts := mqtt.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("accuracy-matrix-%d", time.Now().UnixNano())).SetOrderMatters(false)
	cl := mqtt.NewClient(copts)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return br, fmt.Errorf("subscriber: %v", tok.Error())
	}
	defer cl.Disconnect(100)
	tok := cl.Subscribe("ifstat/+/reply", 0, func(_ mqtt.Client, msg mqtt.Message) {
		r, err := wire.DecodeReply(msg.Payload())
		if err != nil {
			return
		}
		a := byNode[r.Node]
		if a == nil {
			return
		}
		rp := mxReply{mono: r.MonoNS, ifaces: make(map[string]wire.Counters, len(r.Ifaces))}
		for name, c := range r.Ifaces {
			rp.ifaces[name] = c
		}
		a.mu.Lock()
		a.replies = append(a.replies, rp)
		a.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return br, fmt.Errorf("subscribe: %v", tok.Error())
	}

	for _, a := range all {
		env := []string{
			"IFSTAT_BROKER=" + broker, "IFSTAT_NODE=" + a.node, "IFSTAT_LOG_LEVEL=info",
			"IFSTAT_PROC_ROOT=" + a.driver.ProcRoot(), "IFSTAT_SYS_ROOT=" + a.driver.SysRoot(),
		}
		if a.mode.watch != "" {
			env = append(env, "IFSTAT_WATCH="+a.mode.watch)
		}
		p, err := start(a.dir, "agent", env, o.agent)
		if err != nil {
			return br, err
		}
		a.proc = p
	}
	// An agent that does not accept its mode's settings (IFSTAT_WATCH=auto
	// before the adaptive watch is merged) exits at once: report its error
	// and leave the mode out rather than judging nothing.
	time.Sleep(3 * time.Second)
	for _, a := range all {
		select {
		case <-a.proc.done:
			if _, bad := br.failed[a.mode.name]; !bad {
				msg := strings.Join(lines(filepath.Join(a.dir, "agent.stderr")), " / ")
				br.failed[a.mode.name] = fmt.Sprintf("agent %s (IFSTAT_WATCH=%s) exited at start (%v): %s", a.node, a.mode.watch, a.proc.cmd.ProcessState, msg)
				fmt.Fprintf(logw, "mode %s: %s\n", a.mode.name, br.failed[a.mode.name])
			}
		default:
		}
	}
	for _, m := range batch {
		if _, bad := br.failed[m.name]; bad {
			var ps []*proc
			for _, a := range br.agents[m.name] {
				ps = append(ps, a.proc)
				a.stop()
			}
			stopAll(ps)
			continue
		}
		for _, s := range []time.Duration{time.Second, 200 * ms} {
			b := &mxBridge{mode: m, interval: s, charts: map[string][]round{}, parsed: make(chan error, 1)}
			var nodes []string
			for _, a := range br.agents[m.name] {
				if a.row.interval == s {
					b.agents = append(b.agents, a)
					nodes = append(nodes, a.node)
				}
			}
			if len(nodes) == 0 {
				continue
			}
			dir := filepath.Join(mdir, fmt.Sprintf("bridge_%s_%v", m.name, s))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return br, err
			}
			env := []string{
				"IFSTAT_BROKER=" + broker, "IFSTAT_NODES=" + strings.Join(nodes, ","), "IFSTAT_NETDATA=on", "IFSTAT_HA=off",
				"IFSTAT_INTERVAL=" + s.String(), "IFSTAT_LOG_LEVEL=info", "IFSTAT_BRIDGE_ID=acc-" + m.name + "-" + s.String(),
			}
			if m.exact {
				env = append(env, "IFSTAT_EXACT=on")
			}
			p, err := start(dir, "bridge", env, o.bridge)
			if err != nil {
				return br, err
			}
			b.proc = p
			out, err := os.Create(filepath.Join(dir, "bridge.stdout"))
			if err != nil {
				return br, err
			}
			b.out = out
			go func() { b.parsed <- parseFull(io.TeeReader(p.stdout, out), b.charts, &b.mu) }()
			bridges = append(bridges, b)
			br.bridges[m.name] = append(br.bridges[m.name], b)
		}
	}
	fmt.Fprintf(logw, "batch %s: %d agents, %d bridges running for %v\n", modeNames(batch), len(all), len(bridges), o.duration)
	deadline := time.After(o.duration)
	tick := time.NewTicker(o.duration / 4)
	defer tick.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			return br, ctx.Err()
		case <-deadline:
			break wait
		case <-tick.C:
			// The timestamps are only as good as the scheduling: a
			// saturated machine shows up here.
			if b, err := os.ReadFile("/proc/loadavg"); err == nil {
				l := strings.Join(strings.Fields(string(b))[:3], " ")
				br.load = append(br.load, l)
				fmt.Fprintf(logw, "batch %s: load average %s\n", modeNames(batch), l)
			}
		}
	}
	var ps []*proc
	for _, b := range bridges {
		ps = append(ps, b.proc)
	}
	stopAll(ps)
	for _, b := range bridges {
		if err := <-b.parsed; err != nil {
			fmt.Fprintf(logw, "bridge %s %v: %v\n", b.mode.name, b.interval, err)
		}
		b.out.Close()
	}
	ps = ps[:0]
	for _, a := range all {
		ps = append(ps, a.proc)
	}
	stopAll(ps)
	for _, a := range all {
		a.mu.Lock()
		slices.SortFunc(a.replies, func(x, y mxReply) int { return cmpInt(x.mono, y.mono) })
		a.mu.Unlock()
	}
	return br, nil
}

// stopAll stops the processes at once: one by one, agents that wait for
// a broker would take up to 10 s each.
func stopAll(ps []*proc) {
	var wg sync.WaitGroup
	for _, p := range ps {
		if p != nil {
			wg.Go(p.stop)
		}
	}
	wg.Wait()
}

// parseFull is parse keyed by the full "type.id": a bridge asking many
// nodes has the same interface names under each node's type.
func parseFull(r io.Reader, charts map[string][]round, mu *sync.Mutex) error {
	return parseKeyed(r, charts, mu, func(typeID string) string { return typeID })
}

// mxStats are one table row's numbers.
type mxStats struct {
	samples, stale, gaps, rated, off10, spikes int
	sumErr, maxErr                             float64
	unaligned                                  int
	worst                                      string // the sample of maxErr
	lastErr                                    float64
	errs                                       []float64 // of every rated sample, for the trace's counts
	// bar (MATRIX_TRACE): for each sample off by bar or more, ends holds
	// the wider of the windows the agent claimed for the refreshes the
	// sample spans (-1: none found).
	bar  float64
	ends []int64
}

// endsByWidth tells how wide the claims were at the ends of the samples
// off by bar or more: one narrow (a probe's, a millisecond) and one wide
// (a probe that ran late, or a claim the fit narrowed) is what a late
// read looks like.
func (s *mxStats) endsByWidth() string {
	var narrow, mid, wide, none int
	for _, w := range s.ends {
		switch {
		case w < 0:
			none++
		case w <= int64(2*ms):
			narrow++
		case w <= int64(4*ms):
			mid++
		default:
			wide++
		}
	}
	return fmt.Sprintf("the wider claim at their ends: ≤ 2 ms %d, 2–4 ms %d, > 4 ms %d, not found %d", narrow, mid, wide, none)
}

// claimWidth returns the width of the window the agent first claimed for
// the refresh of name at r (a true refresh instant), -1 if none holds it.
func claimWidth(a *mxAgent, name string, monos []int64, r int64) int64 {
	i := sort.Search(len(monos), func(i int) bool { return monos[i] >= r })
	for ; i < len(monos) && monos[i] < r+int64(3*time.Second); i++ {
		c, ok := a.replies[i].ifaces[name]
		if ok && c.UnchangedNS > 0 && c.UnchangedNS < r && r <= c.ChangedNS {
			return c.ChangedNS - c.UnchangedNS
		}
	}
	return -1
}

// atLeast counts the rated samples off by e or more.
func (s *mxStats) atLeast(e float64) int {
	n := 0
	for _, x := range s.errs {
		if x >= e {
			n++
		}
	}
	return n
}

// note names the sample just added if it is the worst so far.
func (s *mxStats) note(f func() string) {
	if s.rated > 0 && s.lastErr == s.maxErr && s.lastErr > 0 {
		s.worst = f()
	}
}

func (s *mxStats) add(value, truth float64) {
	s.samples++
	s.rated++
	var e float64
	switch {
	case truth == 0 && value == 0:
	case truth == 0:
		e = math.Inf(1)
	default:
		e = math.Abs(value/truth - 1)
		if value/truth >= 1.9 {
			s.spikes++
		}
	}
	if e >= 0.1 {
		s.off10++
	}
	// One sample with no true traffic must not make the mean +Inf.
	s.sumErr += min(e, 10)
	s.maxErr = max(s.maxErr, e)
	s.lastErr = e
	s.errs = append(s.errs, e)
}

func (s *mxStats) row(name string) string {
	mean := 0.0
	if s.rated > 0 {
		mean = s.sumErr / float64(s.rated)
	}
	return fmt.Sprintf("| %s | %d | %d | %d (%.2f %%) | %.3f %% | %.3f %% | %d | %d |",
		name, s.samples, s.stale, s.gaps, 100*float64(s.gaps)/float64(max(s.samples, 1)), 100*mean, 100*s.maxErr, s.off10, s.spikes)
}

// mxHeader: "held" are samples without a value whose reads saw no new
// counters (the driver had not refreshed: the bridge holds them and the
// next sample spans both; with a period of 2 s read every second, every
// other sample); "gaps" are samples without a value although a read saw
// new counters. Both are empty points in Netdata; samples counts them.
const mxHeader = "| scenario | samples | held (stale) | gaps | mean error | max error | ≥ 10 % off | ≥ 1.9× |\n|---|---|---|---|---|---|---|---|"

func reportMatrix(w io.Writer, rows []mxRow, br *batchResult) {
	if br == nil {
		return
	}
	for _, m := range br.modes {
		fmt.Fprintf(w, "\n## mode %s (agent IFSTAT_WATCH=%s, bridge IFSTAT_EXACT=%v)\n\n", m.name, orUnset(m.watch), m.exact)
		if why, bad := br.failed[m.name]; bad {
			fmt.Fprintf(w, "not run: %s\n", why)
			continue
		}
		if len(br.load) > 0 {
			fmt.Fprintf(w, "load average during the batch (%s): %s\n\n", modeNames(br.modes), strings.Join(br.load, "; "))
		}
		fmt.Fprintln(w, mxHeader)
		unaligned := 0
		var worst []string
		// Traced, every scenario off the target (0.5 %) shows its
		// worst sample; otherwise those 10 % or more off.
		show, label, bar := 0.1, "10 % or more off", 0.0
		if os.Getenv("MATRIX_TRACE") != "" {
			show, label = 0.005, "0.5 % or more off"
			// MATRIX_TRACE_MIN (a percentage) lowers the bar, to see
			// what the last tenths of a percent are made of.
			if v, err := strconv.ParseFloat(os.Getenv("MATRIX_TRACE_MIN"), 64); err == nil && v > 0 {
				show, label = v/100, fmt.Sprintf("%g %% or more off", v)
			}
			bar = show
		}
		for _, a := range br.agents[m.name] {
			b := bridgeOf(br, a)
			st := judgeBridge(a, b, bar)
			unaligned += st.unaligned
			fmt.Fprintln(w, st.row(a.row.name))
			if st.worst != "" && st.maxErr >= show {
				worst = append(worst, fmt.Sprintf("- %s (%s; %d of %d rated samples %s, %s): %s", a.row.name, a.node, st.atLeast(show), st.rated, label, st.endsByWidth(), st.worst))
			}
		}
		var missed int64
		for _, a := range br.agents[m.name] {
			missed += a.driver.Missed()
		}
		if missed > 0 {
			fmt.Fprintf(w, "\nThe fixtures rendered %d copies that no reader took.\n", missed)
		}
		if unaligned > 0 {
			fmt.Fprintf(w, "\n%d rounds not aligned to a reply (not judged).\n", unaligned)
		}
		if len(worst) > 0 {
			fmt.Fprintf(w, "\n<details><summary>worst sample of each scenario %s</summary>\n\n%s\n\n</details>\n", label, strings.Join(worst, "\n"))
		}
		if os.Getenv("MATRIX_TRACE") != "" {
			fmt.Fprintf(w, "\n### how closely the reads bracketed the refreshes (mode %s, after the warm-up)\n\n%s\n", m.name, bracketHeader)
			for _, a := range br.agents[m.name] {
				fmt.Fprintln(w, bracketRow(a))
			}
		}
		// The naive reader needs replies without a bridge's stale rule
		// behind them: those of the agents with watch off.
		if m.name == "off" || (m.name == "default" && !slices.ContainsFunc(br.modes, func(x mxMode) bool { return x.name == "off" })) {
			fmt.Fprintf(w, "\n## naive reader (Δ counter / Δ read time of consecutive replies of mode %s, no stale rule; one sample per reply)\n\n%s\n", m.name, mxHeader)
			for _, a := range br.agents[m.name] {
				st := judgeNaive(a)
				fmt.Fprintln(w, st.row(a.row.name))
			}
		}
	}
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

func bridgeOf(br *batchResult, a *mxAgent) *mxBridge {
	for _, b := range br.bridges[a.mode.name] {
		if b.interval == a.row.interval {
			return b
		}
	}
	return nil
}

// judgeNaive divides each delta of consecutive replies by their read
// span and judges it against the true traffic of that span.
func judgeNaive(a *mxAgent) mxStats {
	var st mxStats
	d := a.driver
	warm := d.Origin() + int64(mxWarmUp)
	for i := 1; i < len(a.replies); i++ {
		p, r := a.replies[i-1], a.replies[i]
		if r.mono <= warm || r.mono <= p.mono {
			continue
		}
		for _, name := range d.Names() {
			cp, ok1 := p.ifaces[name]
			cr, ok2 := r.ifaces[name]
			if !ok1 || !ok2 {
				continue
			}
			from, to := p.mono, r.mono
			if isLive(d, name) {
				from, to = a.servedAt(from), a.servedAt(to)
			}
			if to <= from {
				continue
			}
			tp, _ := d.True(name, from)
			tr, _ := d.True(name, to)
			span, truth := float64(r.mono-p.mono)/1e9, float64(to-from)/1e9
			st.add(float64(cr.RxBytes-cp.RxBytes)*8/span, float64(tr.RxBytes-tp.RxBytes)*8/truth)
			st.add(float64(cr.TxBytes-cp.TxBytes)*8/span, float64(tr.TxBytes-tp.TxBytes)*8/truth)
		}
	}
	return st
}

// judgeBridge judges every Netdata sample of a's interfaces after the
// warm-up against the driver's true traffic over the span it claims: the
// _raw_span chart's length, ending where the bridge's last rated interval
// of the round ends. That end is not in the output; it is taken as
//   - the read of the last reply in the round that saw the counters move
//     (the read span, today's rule), or where the reply has a change
//     window (the agent watches) its middle (the bridge's change span),
//     or with IFSTAT_EXACT the driver's refresh that read follows (what
//     a locked bridge predicts; an unlocked one uses the read: only
//     samples whose span holds a change of rate can tell the two apart);
//   - the round's last read when no reply moved, or when traffic stopped
//     after the last move (still reads then are rated zeros, not held);
//   - but where the agent watches, the middle of the round's last
//     reply's window whether or not it moved: the refresh its values are
//     current as of, which for still counters is the idle refresh the
//     agent claimed, or the change the still reads after it repeat;
//   - and the read again where that claim is no newer than the one of
//     the last round the bridge closed: the bridge then rated a zero
//     over the read span.
func judgeBridge(a *mxAgent, b *mxBridge, bar float64) mxStats {
	st := mxStats{bar: bar}
	if b == nil {
		return st
	}
	d := a.driver
	warm := d.Origin() + int64(mxWarmUp)
	monos := make([]int64, len(a.replies))
	for i, r := range a.replies {
		monos[i] = r.mono
	}
	typ := "ifstat_" + a.node
	for _, name := range d.Names() {
		live := isLive(d, name)
		net := b.charts[plugind.TypeID(typ, name+"_net")]
		spans := b.charts[plugind.TypeID(typ, name+"_raw_span")]
		ends, aligned := alignRounds(net, monos)
		var base int64 // the claim of the last round the bridge closed
		for k := 1; k < len(net); k++ {
			if !aligned[k] || !aligned[k-1] {
				st.unaligned++
				base = 0
				continue
			}
			prev, end := ends[k-1], ends[k]
			span := end - prev
			if k < len(spans) {
				if v, ok := spans[k].vals["span"]; ok && v > 0 {
					span = v * 1000 // µs
				}
			}
			e, moved := claimedEnd(a, name, monos, prev, end)
			if base != 0 && abs(e-span-base) > int64(baseSlack) && (e == end || e > base) {
				// The bridge rates from its baseline, the refresh it
				// claimed last; a sample that does not start there
				// ends at another refresh than claimedEnd's.
				if be, ok := baselineEnd(a, name, monos, prev, end, base, span); ok {
					e = be
				}
			}
			claim := e
			if e != end && base != 0 && e <= base {
				// The bridge rates up to a claimed refresh only when it
				// is newer than its baseline's (rate.Tracker's change
				// span). A still reply that repeats the baseline's
				// window, from an agent in doubt on an idle interface,
				// is held and then rated as a zero over the read span,
				// which ends at the read. Judged up to the claim, that
				// zero was set against the burst before it (100 %).
				e = end
			}
			if _, set := net[k].vals["received"]; set || moved {
				base = claim // a held round leaves the baseline alone
			}
			if end <= warm {
				continue
			}
			from := e - span
			if !a.mode.exact && e != end {
				// The sample claims the bytes between two of the driver's
				// refreshes, divided by the span the bridge put between
				// them; the fixture knows when those refreshes really
				// were. Judged over the window's midpoint instead, an
				// edge sample (traffic that began a few ms before the
				// refresh) was off by whatever flowed in the half window,
				// 4 % of a 1 Mbit/s edge that the bridge had exactly.
				from, e = snapRefresh(d, name, from), snapRefresh(d, name, e)
			}
			if f, t := a.servedAt(from), a.servedAt(e); live && t > f {
				from, e = f, t
			}
			for _, dim := range []string{"received", "sent"} {
				v, set := net[k].vals[dim]
				if !set {
					st.samples++
					if moved {
						st.gaps++
					} else {
						st.stale++
					}
					continue
				}
				c0, _ := d.True(name, from)
				c1, _ := d.True(name, e)
				bytes := c1.RxBytes - c0.RxBytes
				if dim == "sent" {
					bytes = c1.TxBytes - c0.TxBytes
				}
				truth := float64(bytes) * 8 / (float64(e-from) / 1e9)
				st.add(float64(v), truth)
				if st.bar > 0 && st.lastErr >= st.bar {
					st.ends = append(st.ends, max(claimWidth(a, name, monos, from), claimWidth(a, name, monos, e)))
				}
				st.note(func() string {
					line := fmt.Sprintf("%s %s at %.3f s: %d bit/s, true %.0f over (%.3f, %.3f] s (reads (%.3f, %.3f] s)",
						name, dim, float64(end-d.Origin())/1e9, v, truth, float64(from-d.Origin())/1e9, float64(e-d.Origin())/1e9,
						float64(prev-d.Origin())/1e9, float64(end-d.Origin())/1e9)
					if os.Getenv("MATRIX_TRACE") != "" {
						line += fmt.Sprintf(" (bridge's span %.4f s)", float64(span)/1e9)
						line += traceReplies(a, name, from-int64(time.Second), end)
					}
					return line
				})
			}
		}
	}
	return st
}

// traceReplies lists the replies of a's interface name read in (from,
// to]: read time, counters, the agent's window, and the driver's true
// counter and last refresh at the read (MATRIX_TRACE=1: to find out why a
// sample is off).
func traceReplies(a *mxAgent, name string, from, to int64) string {
	var b strings.Builder
	o := a.driver.Origin()
	sec := func(ns int64) float64 { return float64(ns-o) / 1e9 }
	served := a.driver.ServedAt()
	for _, r := range a.replies {
		if r.mono <= from || r.mono > to {
			continue
		}
		c := r.ifaces[name]
		t, _ := a.driver.True(name, r.mono)
		lr, _ := a.driver.LastRefresh(name, r.mono)
		fmt.Fprintf(&b, "\n  - read %.4f: tx %d rx %d, window (%.4f, %.4f] refresh_ns %d; true tx %d, last refresh %.4f",
			sec(r.mono), c.TxBytes, c.RxBytes, sec(c.UnchangedNS), sec(c.ChangedNS), c.RefreshNS, t.TxBytes, sec(lr))
		// The copies the fixture served before this read: which one the
		// reply carries, and when the agent read in between.
		i := sort.Search(len(served), func(i int) bool { return served[i] > r.mono })
		for _, at := range served[max(0, i-3):i] {
			v, _ := a.driver.Visible(name, at)
			fmt.Fprintf(&b, "\n    served %.4f: tx %d", sec(at), v.TxBytes)
		}
		// And those around the refresh the values came from: the
		// probes that pinned it, or their absence.
		var near []string
		for _, at := range served {
			if at > lr-int64(12*time.Millisecond) && at < lr+int64(12*time.Millisecond) {
				near = append(near, fmt.Sprintf("%.4f", sec(at)))
			}
		}
		fmt.Fprintf(&b, "\n    served within 12 ms of the refresh: %s", strings.Join(near, " "))
	}
	return b.String()
}

// snapSlack is how far from a claimed refresh instant the driver's real
// refresh may lie and still be taken for it: the widest window an agent
// claims (10 ms) plus the matrix's largest timer jitter (4 ms).
const snapSlack = 14 * ms

// snapRefresh returns the driver's refresh of name nearest t if one lies
// within snapSlack of it, else t.
func snapRefresh(d *netdevtest.Driver, name string, t int64) int64 {
	slack := int64(snapSlack)
	last, ok := d.LastRefresh(name, t+slack)
	if !ok || last == t+slack {
		return t // no period: every instant is a refresh
	}
	best := last
	if last > t {
		// The refresh before t may be the nearer one.
		if prev, ok := d.LastRefresh(name, t); ok && t-prev < last-t {
			best = prev
		}
	}
	if best < t-slack || best > t+slack {
		return t
	}
	return best
}

// baseSlack is how far the judge's idea of the bridge's baseline (the
// midpoint of the window the agent claimed) may lie from the bridge's
// own (that window, narrowed by the bridge's fit).
const baseSlack = 10 * ms

// baselineEnd returns the end of a sample of the reads (prev, end] that
// the bridge rated from its baseline base over span, where claimedEnd's
// end does not start there, and whether one was found: a refresh claimed
// in (prev, end] that lies span after base, or one the bridge placed
// itself (placedEnd). With replies every 0.2 s and a round every
// second, a round whose last change was withheld (no window) reports the
// interval up to the change claimed before it, which the bridge rated,
// not the withheld one, which it holds; judged up to the withheld
// change, such a sample was 28 % off (P 0.5 s, S 0.2 s, idle/burst).
func baselineEnd(a *mxAgent, name string, monos []int64, prev, end, base, span int64) (int64, bool) {
	if pe, ok := placedEnd(a, name, monos, end, base, span); ok {
		return pe, true
	}
	lo := sort.Search(len(monos), func(i int) bool { return monos[i] > prev })
	hi := sort.Search(len(monos), func(i int) bool { return monos[i] > end })
	for i := hi - 1; i >= lo; i-- {
		c, ok := a.replies[i].ifaces[name]
		if !ok || c.UnchangedNS <= 0 || c.ChangedNS <= c.UnchangedNS {
			continue
		}
		if m := c.UnchangedNS + (c.ChangedNS-c.UnchangedNS)/2; abs(m-span-base) <= int64(baseSlack) {
			return m, true
		}
	}
	return 0, false
}

// placedEnd returns the end of a sample that the bridge rated up to a
// refresh it placed itself (netdata-bridge's agentFit.place), and whether
// it did: the reply read at end claims the agent's period but no window
// (the agent withheld it), and the bridge's span runs from its baseline,
// the last refresh claimed, over whole periods to a refresh at least
// readLag (50 ms) before the read. Judged up to the read instead, the
// sample was set against traffic the bridge had not rated: 41.8 % off
// where the rate stepped down in between (P 0.5 s, S 0.2 s, rate steps).
func placedEnd(a *mxAgent, name string, monos []int64, end, base, span int64) (int64, bool) {
	i := sort.Search(len(monos), func(i int) bool { return monos[i] >= end })
	if i == len(monos) || monos[i] != end {
		return 0, false
	}
	c, ok := a.replies[i].ifaces[name]
	if !ok || c.RefreshNS <= 0 || c.UnchangedNS > 0 || c.ChangedNS > 0 {
		return 0, false
	}
	p := c.RefreshNS
	n := (span + p/2) / p
	if n < 1 || abs(span-n*p) > min(p/100, int64(10*ms)) || base+span > end-int64(50*ms) {
		return 0, false
	}
	return base + span, true
}

// claimedEnd returns the end of the span a sample over the reads (prev,
// end] claims (see judgeBridge), and whether any of those reads saw the
// counters move.
func claimedEnd(a *mxAgent, name string, monos []int64, prev, end int64) (int64, bool) {
	lo := sort.Search(len(monos), func(i int) bool { return monos[i] > prev })
	hi := sort.Search(len(monos), func(i int) bool { return monos[i] > end })
	last := -1
	for i := max(lo, 1); i < hi; i++ {
		c0, ok0 := a.replies[i-1].ifaces[name]
		c1, ok1 := a.replies[i].ifaces[name]
		if ok0 && ok1 && (c0.RxBytes != c1.RxBytes || c0.TxBytes != c1.TxBytes) {
			last = i
		}
	}
	// A watching agent's reply claims the refresh its values are current
	// as of: the change it saw, or an idle refresh it predicted for still
	// counters. The bridge's interval ends there, not at the read: still
	// reads after a change within (prev, end] are held until the agent
	// claims a newer refresh, and a zero then spans up to that one.
	if !a.mode.exact && hi > 0 && a.replies[hi-1].mono == end {
		if c, ok := a.replies[hi-1].ifaces[name]; ok && c.UnchangedNS > 0 && c.UnchangedNS < c.ChangedNS && c.ChangedNS <= end {
			return c.UnchangedNS + (c.ChangedNS-c.UnchangedNS)/2, last >= 0
		}
	}
	if last < 0 {
		return end, false
	}
	r := a.replies[last]
	if r.mono != end {
		t0, _ := a.driver.True(name, r.mono)
		t1, _ := a.driver.True(name, end)
		if t0 == t1 {
			return end, true
		}
	}
	switch {
	case a.mode.exact:
		lr, _ := a.driver.LastRefresh(name, r.mono)
		return lr, true
	default:
		// Whatever the mode is called: an agent that watches (10ms,
		// auto, or a default that became auto) reports the window.
		c := r.ifaces[name]
		if c.ChangedNS > 0 && c.ChangedNS <= r.mono {
			if c.UnchangedNS > 0 && c.UnchangedNS < c.ChangedNS {
				return c.UnchangedNS + (c.ChangedNS-c.UnchangedNS)/2, true
			}
			return c.ChangedNS, true
		}
	}
	return r.mono, true
}

// alignRounds anchors a chart's rounds to replies as analyze does: the
// first round is the chart's first update; each BEGIN's microseconds
// since the last round lead to the next reply (within anchorNS). Every
// early reply is tried as the first round's read, and the anchor that
// aligns the most rounds is kept.
func alignRounds(net []round, monos []int64) ([]int64, []bool) {
	nearest := func(want int64) (int64, bool) { return nearestMono(monos, want) }
	ends := make([]int64, len(net))
	aligned := make([]bool, len(net))
	bestN := -1
	for a := 0; a < min(len(monos), 30); a++ {
		e := make([]int64, len(net))
		al := make([]bool, len(net))
		n, prev := 0, monos[a]
		for k, r := range net {
			if k == 0 {
				e[k], al[k] = prev, true
				continue
			}
			want := prev + r.sinceUS*1000
			if m, ok := nearest(want); ok {
				want, al[k] = m, true
				n++
			}
			e[k], prev = want, want
		}
		if n > bestN {
			bestN, ends, aligned = n, e, al
		}
	}
	return ends, aligned
}

// bracketHeader heads the table of bracketRow.
const bracketHeader = `| scenario | refreshes seen | copies served around them, apart: median | p90 | p99 | max | windows claimed: median | p90 | max | of those apart > 2 ms: the fixture was ready again after (median) | and then waited for the reader (median) |
|---|---|---|---|---|---|---|---|---|---|---|`

// bracketRow tells, for one agent (MATRIX_TRACE=1), how far apart the
// fixture served the copies on either side of each refresh that changed
// an interface's counters (the narrowest window any reader could have
// had), and how wide the windows were that the replies claimed: where
// the claims are wider than the copies' spacing, the agent's reads ran
// long; where the spacing itself is wide, the reads came late.
func bracketRow(a *mxAgent) string {
	d := a.driver
	warm := d.Origin() + int64(mxWarmUp)
	served, ready := d.ServedAt(), d.ReadyAt()
	var gaps, claims, again, waited []int64
	for _, name := range d.Names() {
		for i := 1; i < len(served); i++ {
			s0, s1 := served[i-1], served[i]
			if s0 <= warm {
				continue
			}
			v0, _ := d.Visible(name, s0)
			v1, _ := d.Visible(name, s1)
			if v0.RxBytes != v1.RxBytes || v0.TxBytes != v1.TxBytes {
				gaps = append(gaps, s1-s0)
				if s1-s0 > int64(2*ms) && i < len(ready) {
					again = append(again, ready[i]-s0)
					waited = append(waited, s1-ready[i])
				}
			}
		}
		last := int64(0)
		for _, r := range a.replies {
			c, ok := r.ifaces[name]
			if !ok || r.mono <= warm || c.UnchangedNS <= 0 || c.ChangedNS <= c.UnchangedNS || c.ChangedNS == last {
				continue
			}
			last = c.ChangedNS
			claims = append(claims, c.ChangedNS-c.UnchangedNS)
		}
	}
	q := func(x []int64, f float64) string {
		if len(x) == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f ms", float64(x[int(f*float64(len(x)-1))])/1e6)
	}
	slices.Sort(gaps)
	slices.Sort(claims)
	slices.Sort(again)
	slices.Sort(waited)
	return fmt.Sprintf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |", a.row.name, len(gaps),
		q(gaps, 0.5), q(gaps, 0.9), q(gaps, 0.99), q(gaps, 1), q(claims, 0.5), q(claims, 0.9), q(claims, 1), q(again, 0.5), q(waited, 0.5))
}
