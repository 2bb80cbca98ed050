package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

const (
	node     = "acc"
	nIfaces  = 8
	rxBps    = 12_500_000 // 100 Mbit/s in bytes/s
	txBps    = 6_250_000  // 50 Mbit/s
	anchorNS = 2_000_000  // a round's end must be within 2 ms of a reply
)

func main() {
	cli.Main(0, func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

type options struct {
	agent, bridge, mosquitto string
	scenarios                string
	duration                 time.Duration
	serve                    string
	static                   bool
	oneClock                 bool
	period                   time.Duration
	work                     string
	matrix                   string
	only                     string
}

// scenario is one run of agent and bridge against a driver.
type scenario struct {
	name     string
	period   time.Duration // the driver's refresh period
	interval time.Duration // IFSTAT_INTERVAL
	watch    string        // IFSTAT_WATCH, "" = off
	exact    bool          // the bridge with IFSTAT_EXACT=on
}

var scenarios = []scenario{
	{"a", 976500 * time.Microsecond, time.Second, "50ms", false},
	{"b", 976500 * time.Microsecond, time.Second, "", false},
	{"c", time.Second, 200 * time.Millisecond, "", false},
	// a10: scenario a with a finer watch timer, whose window bounds the
	// error before the refresh fit has settled (±0.5 % instead of ±2.5 %).
	{"a10", 976500 * time.Microsecond, time.Second, "10ms", false},
	// bx, b5, b5x: the agent as installed (no watch); x with the bridge's
	// experimental refresh lock (IFSTAT_EXACT=on), b5 a 0.5 s driver.
	{"bx", 976500 * time.Microsecond, time.Second, "", true},
	{"b5", 500 * time.Millisecond, time.Second, "", false},
	{"b5x", 500 * time.Millisecond, time.Second, "", true},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("accuracy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.agent, "agent", "", "ifstat-agent binary")
	fs.StringVar(&o.bridge, "bridge", "", "ifstat-bridge binary")
	fs.StringVar(&o.mosquitto, "mosquitto", "mosquitto", "mosquitto binary")
	fs.StringVar(&o.scenarios, "scenarios", "a,b,c", "scenarios to run, concurrently")
	fs.DurationVar(&o.duration, "duration", 330*time.Second, "how long each scenario runs")
	fs.StringVar(&o.serve, "serve", "", "only serve a driver tree in this directory until killed")
	fs.DurationVar(&o.period, "period", 976500*time.Microsecond, "refresh period of the -serve tree")
	fs.BoolVar(&o.static, "static", false, "with -serve: write the tree with a regular net/dev file (the counters at start) and exit")
	fs.BoolVar(&o.oneClock, "one-clock", false, "with -serve: every interface refreshes at the same instants (a switch whose ports share one timer), not at phases spread over the period")
	fs.StringVar(&o.work, "work", "", "directory for logs and trees (default: a new temporary one)")
	fs.StringVar(&o.matrix, "matrix", "", "run the scenario matrix for these modes (default,watch10,off,exact,auto; ';' separates batches run one after the other)")
	fs.StringVar(&o.only, "only", "", "with -matrix: run only the scenarios whose name contains one of these '|'-separated substrings (e.g. \"-> |missed\")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.serve != "" {
		d, err := newDriver(o.serve, o.period, o.oneClock)
		if err == nil && o.static {
			return 0
		}
		if err == nil {
			fmt.Fprintf(stderr, "serving %s (%d interfaces, period %v)\n", d.ProcRoot(), nIfaces, o.period)
			err = d.Serve(ctx)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if o.agent == "" || o.bridge == "" {
		fmt.Fprintln(stderr, "-agent and -bridge are required")
		return 2
	}
	if o.work == "" {
		w, err := os.MkdirTemp("", "accuracy.")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		o.work = w
	}
	if o.matrix != "" {
		return runMatrix(ctx, o, o.matrix, stdout, stderr)
	}
	var todo []scenario
	for _, name := range strings.Split(o.scenarios, ",") {
		i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
		if i < 0 {
			fmt.Fprintf(stderr, "unknown scenario %q\n", name)
			return 2
		}
		todo = append(todo, scenarios[i])
	}
	fmt.Fprintf(stderr, "work dir %s; %d scenarios for %v each, concurrently\n", o.work, len(todo), o.duration)
	results := make([]*result, len(todo))
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, sc := range todo {
		wg.Go(func() { results[i], errs[i] = runScenario(ctx, o, sc, stderr) })
	}
	wg.Wait()
	code := 0
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(stderr, "scenario %s: %v\n", todo[i].name, err)
			code = 1
		}
	}
	report(stdout, results)
	return code
}

// newDriver makes the 8-interface tree: eth0…eth7 on one period, phases
// spread over it so that every position against the bridge's clock occurs.
// newDriver writes the tree of nIfaces interfaces refreshing every period,
// at phases spread over it, or all at once with oneClock.
func newDriver(dir string, period time.Duration, oneClock bool) (*netdevtest.Driver, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var ifaces []netdevtest.DriverIface
	for i := range nIfaces {
		phase := time.Duration(int64(period) * int64(2*i+1) / (2 * nIfaces))
		if oneClock {
			phase = period / (2 * nIfaces)
		}
		ifaces = append(ifaces, netdevtest.DriverIface{
			Name: fmt.Sprintf("eth%d", i), Ifindex: int64(i + 2), SpeedMbps: 1000,
			Base: wire.Counters{RxBytes: uint64(i) << 30, TxBytes: uint64(i) << 28},
			Rx:   netdevtest.Constant(rxBps), Tx: netdevtest.Constant(txBps),
			Period: period, Phase: phase,
		})
	}
	return netdevtest.NewDriver(netdevtest.DriverOptions{Dir: dir, Ifaces: ifaces})
}

// round is one BEGIN…END of one chart.
type round struct {
	sinceUS int64
	hasSet  map[string]bool
	vals    map[string]int64
}

// reply is what the benchmark keeps of one agent reply.
type reply struct {
	mono    int64
	changed map[string]int64
}

type result struct {
	sc       scenario
	driver   *netdevtest.Driver
	charts   map[string][]round // "eth0_net" → rounds
	replies  []reply
	logLines []string // bridge stderr lines about refresh periods
	agentErr int      // agent warnings
	started  time.Time
}

func runScenario(ctx context.Context, o options, sc scenario, logw io.Writer) (*result, error) {
	dir := filepath.Join(o.work, sc.name)
	d, err := newDriver(filepath.Join(dir, "tree"), sc.period, false)
	if err != nil {
		return nil, err
	}
	res := &result{sc: sc, driver: d, charts: map[string][]round{}, started: time.Now()}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- d.Serve(sctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			fmt.Fprintf(logw, "scenario %s: driver: %v\n", sc.name, err)
		}
	}()

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "persistence false\nallow_anonymous true\nlistener %d 127.0.0.1\n", port), 0o644); err != nil {
		return nil, err
	}
	broker := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	mosq, err := start(dir, "mosquitto", nil, o.mosquitto, "-c", conf)
	if err != nil {
		return nil, err
	}
	defer mosq.stop()
	if err := waitTCP(port, 10*time.Second); err != nil {
		return nil, fmt.Errorf("mosquitto: %w", err)
	}

	// Our own subscriber, connected before agent and bridge, hears every
	// reply the bridge hears.
	var mu sync.Mutex
	copts := mqtt.NewClientOptions().AddBroker(broker).SetClientID("accuracy-" + sc.name).SetOrderMatters(false)
	cl := mqtt.NewClient(copts)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("subscriber: %v", tok.Error())
	}
	defer cl.Disconnect(100)
	tok := cl.Subscribe(wire.Topics{Prefix: "ifstat", Node: node}.Reply(), 0, func(_ mqtt.Client, m mqtt.Message) {
		r, err := wire.DecodeReply(m.Payload())
		if err != nil {
			return
		}
		rp := reply{mono: r.MonoNS, changed: map[string]int64{}}
		for name, c := range r.Ifaces {
			rp.changed[name] = c.ChangedNS
		}
		mu.Lock()
		res.replies = append(res.replies, rp)
		mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("subscribe: %v", tok.Error())
	}

	agentEnv := []string{
		"IFSTAT_BROKER=" + broker, "IFSTAT_NODE=" + node, "IFSTAT_LOG_LEVEL=info",
		"IFSTAT_PROC_ROOT=" + d.ProcRoot(), "IFSTAT_SYS_ROOT=" + d.SysRoot(),
	}
	if sc.watch != "" {
		agentEnv = append(agentEnv, "IFSTAT_WATCH="+sc.watch)
	}
	agent, err := start(dir, "agent", agentEnv, o.agent)
	if err != nil {
		return nil, err
	}
	defer agent.stop()

	bridgeEnv := []string{
		"IFSTAT_BROKER=" + broker, "IFSTAT_NODES=" + node, "IFSTAT_NETDATA=on", "IFSTAT_HA=off",
		"IFSTAT_INTERVAL=" + sc.interval.String(), "IFSTAT_LOG_LEVEL=info", "IFSTAT_BRIDGE_ID=acc-" + sc.name,
	}
	if sc.exact {
		bridgeEnv = append(bridgeEnv, "IFSTAT_EXACT=on")
	}
	bridge, err := start(dir, "bridge", bridgeEnv, o.bridge)
	if err != nil {
		return nil, err
	}
	defer bridge.stop()
	// Keep the stream as evidence beside the logs.
	out, err := os.Create(filepath.Join(dir, "bridge.stdout"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	parsed := make(chan error, 1)
	go func() { parsed <- parse(io.TeeReader(bridge.stdout, out), res.charts, &mu) }()

	fmt.Fprintf(logw, "scenario %s: period %v, interval %v, watch %q on %s; agent %d, bridge %d, mosquitto %d\n",
		sc.name, sc.period, sc.interval, sc.watch, broker, agent.cmd.Process.Pid, bridge.cmd.Process.Pid, mosq.cmd.Process.Pid)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(o.duration):
	case <-bridge.done:
		return nil, fmt.Errorf("bridge exited early; see %s", filepath.Join(dir, "bridge.stderr"))
	case <-agent.done:
		return nil, fmt.Errorf("agent exited early; see %s", filepath.Join(dir, "agent.stderr"))
	}
	bridge.stop()
	if err := <-parsed; err != nil {
		return nil, err
	}
	agent.stop()
	for _, l := range lines(filepath.Join(dir, "bridge.stderr")) {
		if strings.Contains(l, "period") {
			res.logLines = append(res.logLines, l)
		}
	}
	for _, l := range lines(filepath.Join(dir, "agent.stderr")) {
		if strings.Contains(l, "level=warning") || strings.Contains(l, "level=error") {
			res.agentErr++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	slices.SortFunc(res.replies, func(a, b reply) int { return cmpInt(a.mono, b.mono) })
	return res, nil
}

// parse reads plugins.d from r into charts (by "iface_kind" id) until EOF.
func parse(r io.Reader, charts map[string][]round, mu *sync.Mutex) error {
	return parseKeyed(r, charts, mu, func(typeID string) string {
		_, id, _ := strings.Cut(typeID, ".")
		return id
	})
}

// parseKeyed is parse with the charts keyed by key(BEGIN's "type.id").
func parseKeyed(r io.Reader, charts map[string][]round, mu *sync.Mutex, key func(string) string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *round
	var id string
	for sc.Scan() {
		f := plugind.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "BEGIN":
			if len(f) < 2 {
				return fmt.Errorf("bad BEGIN %q", sc.Text())
			}
			id = key(f[1])
			cur = &round{hasSet: map[string]bool{}, vals: map[string]int64{}}
			if len(f) > 2 {
				us, err := strconv.ParseInt(f[2], 10, 64)
				if err != nil {
					return fmt.Errorf("bad BEGIN %q: %w", sc.Text(), err)
				}
				cur.sinceUS = us
			}
		case "SET":
			if cur == nil || len(f) != 4 {
				return fmt.Errorf("bad SET %q", sc.Text())
			}
			cur.hasSet[f[1]] = true
			if f[3] != "" {
				v, err := strconv.ParseInt(f[3], 10, 64)
				if err != nil {
					return fmt.Errorf("bad SET %q: %w", sc.Text(), err)
				}
				cur.vals[f[1]] = v
			}
		case "END":
			if cur != nil {
				mu.Lock()
				charts[id] = append(charts[id], *cur)
				mu.Unlock()
			}
			cur = nil
		}
	}
	return sc.Err()
}

// proc is a started process; stop kills it by PID once.
type proc struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	done   chan struct{}
	once   sync.Once
}

func start(dir, name string, env []string, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	errf, err := os.Create(filepath.Join(dir, name+".stderr"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = errf
	p := &proc{cmd: cmd, done: make(chan struct{})}
	var pw *os.File
	if name == "bridge" {
		// Our own pipe, not StdoutPipe: Wait (below, as soon as the
		// process exits) would close that under the parser's last read.
		var pr *os.File
		if pr, pw, err = os.Pipe(); err != nil {
			return nil, err
		}
		p.stdout, cmd.Stdout = pr, pw
	}
	err = cmd.Start()
	if pw != nil {
		pw.Close()
	}
	if err != nil {
		errf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		_ = cmd.Wait()
		errf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(port int, guard time.Duration) error {
	deadline := time.Now().Add(guard)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var errNoRounds = errors.New("no rounds")

// stats summarises relative errors (value/true − 1).
type stats struct {
	n, gaps, zeros, over10, double, five int
	errs                                 []float64 // |error|
	minErr, maxErr                       float64
}

func (s *stats) add(value, truth float64) {
	if s.n == 0 {
		s.minErr, s.maxErr = math.Inf(1), math.Inf(-1)
	}
	s.n++
	e := value/truth - 1
	s.minErr, s.maxErr = min(s.minErr, e), max(s.maxErr, e)
	s.errs = append(s.errs, math.Abs(e))
	switch {
	case value == 0:
		s.zeros++
	case value >= 4*truth:
		s.five++
	}
	if value >= 1.9*truth {
		s.double++
	}
	if math.Abs(e) > 0.10 {
		s.over10++
	}
}

func (s *stats) pct(p float64) float64 {
	if len(s.errs) == 0 {
		return math.NaN()
	}
	e := slices.Clone(s.errs)
	slices.Sort(e)
	return e[min(len(e)-1, int(math.Ceil(p*float64(len(e))))-1)]
}

func (s *stats) String() string {
	if s.n == 0 {
		return fmt.Sprintf("no samples, %d gaps", s.gaps)
	}
	return fmt.Sprintf("n=%d gaps=%d zeros=%d >10%%off=%d >=1.9x=%d >=4x=%d err %+.3f%% … %+.3f%% |err| p50 %.3f%% p99 %.3f%% max %.3f%%",
		s.n, s.gaps, s.zeros, s.over10, s.double, s.five, 100*s.minErr, 100*s.maxErr,
		100*s.pct(0.5), 100*s.pct(0.99), 100*s.pct(1))
}

// judged is the outcome of one scenario.
type judged struct {
	all, settled, naive, peak stats
	aligned, unaligned        int
	rawOK, rawBad             int
	periods                   []float64 // confident _refresh periods, µs
	worst                     []sample
	warmup                    int
}

// sample is one judged value, kept to name the worst.
type sample struct {
	iface, dim   string
	round        int
	value, truth float64
}

// settleRounds is how many rounds per interface are reported apart as
// warm-up: the bridge fits the refresh period from the first windows.
const settleRounds = 20

func analyze(res *result) (*judged, error) {
	j := &judged{}
	d := res.driver
	trueRate := func(name string, a, b int64, rx bool) float64 {
		ca, _ := d.True(name, a)
		cb, _ := d.True(name, b)
		if rx {
			return float64(cb.RxBytes-ca.RxBytes) * 8 / (float64(b-a) / 1e9)
		}
		return float64(cb.TxBytes-ca.TxBytes) * 8 / (float64(b-a) / 1e9)
	}
	monos := make([]int64, len(res.replies))
	for i, r := range res.replies {
		monos[i] = r.mono
	}
	nearest := func(want int64) (int64, bool) { return nearestMono(monos, want) }
	total := 0
	for _, name := range d.Names() {
		net, raw, ref, peak := res.charts[name+"_net"], res.charts[name+"_raw_bytes"], res.charts[name+"_refresh"], res.charts[name+"_net_peak"]
		if len(net) == 0 {
			return nil, fmt.Errorf("%s: %w", name, errNoRounds)
		}
		total += len(net)
		// Anchor: the first round that BEGINs without microseconds is
		// the chart's first update; try each early reply as its read and
		// keep the anchor that aligns the most rounds.
		ends := make([]int64, len(net))
		bestN := -1
		for a := 0; a < min(len(monos), 30); a++ {
			e := make([]int64, len(net))
			n, prev := 0, monos[a]
			for k, r := range net {
				if k == 0 {
					e[k] = prev
					continue
				}
				want := prev + r.sinceUS*1000
				if m, ok := nearest(want); ok {
					want = m
					n++
				}
				e[k], prev = want, want
			}
			if n > bestN {
				bestN, ends = n, e
			}
		}
		for k := 1; k < len(net); k++ {
			if _, ok := nearest(ends[k]); ok {
				j.aligned++
			} else {
				j.unaligned++
				continue
			}
			prev := ends[k-1]
			for _, dim := range []string{"received", "sent"} {
				rx := dim == "received"
				truth := trueRate(name, prev, ends[k], rx)
				v, set := net[k].vals[dim]
				st := &j.all
				if !set {
					st.gaps++
					if k > settleRounds {
						j.settled.gaps++
					}
					continue
				}
				// sent is drawn negative by the DIMENSION, not the SET.
				st.add(float64(v), truth)
				j.worst = append(j.worst, sample{name, dim, k, float64(v), truth})
				if k > settleRounds {
					j.settled.add(float64(v), truth)
				} else {
					j.warmup++
				}
				va, _ := d.Visible(name, prev)
				vb, _ := d.Visible(name, ends[k])
				vis := float64(vb.RxBytes - va.RxBytes)
				if !rx {
					vis = float64(vb.TxBytes - va.TxBytes)
				}
				j.naive.add(vis*8/(float64(ends[k]-prev)/1e9), truth)
				if k < len(peak) {
					if p, ok := peak[k].vals[dim]; ok {
						j.peak.add(float64(p), truth)
					}
				}
				if k < len(raw) {
					key := "rx_bytes"
					if !rx {
						key = "tx_bytes"
					}
					if got, ok := raw[k].vals[key]; ok {
						if float64(got) == vis {
							j.rawOK++
						} else {
							j.rawBad++
						}
					}
				}
			}
		}
		for _, r := range ref {
			if p, ok := r.vals["period"]; ok {
				j.periods = append(j.periods, float64(p))
			}
		}
	}
	if total == 0 {
		return nil, errNoRounds
	}
	return j, nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func report(w io.Writer, results []*result) {
	for _, res := range results {
		if res == nil {
			continue
		}
		sc := res.sc
		fmt.Fprintf(w, "\n== scenario %s: driver period %v, IFSTAT_INTERVAL=%v, IFSTAT_WATCH=%q, IFSTAT_EXACT=%v, %d interfaces × (100 Mbit/s rx, 50 Mbit/s tx), %d replies, driver served %d reads (%d rendered copies not read), agent warnings %d\n",
			sc.name, sc.period, sc.interval, sc.watch, sc.exact, nIfaces, len(res.replies), res.driver.Served(), res.driver.Missed(), res.agentErr)
		j, err := analyze(res)
		if err != nil {
			fmt.Fprintf(w, "analysis failed: %v\n", err)
			continue
		}
		fmt.Fprintf(w, "rounds aligned to replies: %d (unaligned, not judged: %d); _raw_bytes deltas equal to the driver's visible deltas: %d of %d\n",
			j.aligned, j.unaligned, j.rawOK, j.rawOK+j.rawBad)
		fmt.Fprintf(w, "bridge _net, all samples:            %s\n", &j.all)
		fmt.Fprintf(w, "bridge _net, after %d rounds/iface:  %s\n", settleRounds, &j.settled)
		fmt.Fprintf(w, "naive Δvisible/Δread, same reads:    %s\n", &j.naive)
		slices.SortFunc(j.worst, func(a, b sample) int {
			return -cmpInt(int64(1e9*math.Abs(a.value/a.truth-1)), int64(1e9*math.Abs(b.value/b.truth-1)))
		})
		for _, s := range j.worst[:min(5, len(j.worst))] {
			fmt.Fprintf(w, "  worst: %s %s round %d (of the chart's rounds): %.0f bit/s, true %.0f, %+.3f%%\n",
				s.iface, s.dim, s.round, s.value, s.truth, 100*(s.value/s.truth-1))
		}
		if sc.interval < time.Second {
			fmt.Fprintf(w, "bridge _net_peak (vs true average):  %s\n", &j.peak)
		}
		truth := float64(sc.period.Microseconds())
		if len(j.periods) == 0 {
			fmt.Fprintf(w, "_refresh period: never reported\n")
		} else {
			lo, hi := slices.Min(j.periods), slices.Max(j.periods)
			fmt.Fprintf(w, "_refresh period (truth %.0f µs): %d rounds reported, %.0f … %.0f µs, worst %+.3f%%\n",
				truth, len(j.periods), lo, hi, 100*max(math.Abs(lo/truth-1), math.Abs(hi/truth-1))*sign(lo, hi, truth))
		}
		for i, l := range res.logLines {
			if i == 3 {
				fmt.Fprintf(w, "  … %d more log lines about the period\n", len(res.logLines)-3)
				break
			}
			fmt.Fprintf(w, "  bridge log: %s\n", l)
		}
	}
}

func sign(lo, hi, truth float64) float64 {
	if math.Abs(lo/truth-1) > math.Abs(hi/truth-1) {
		return math.Copysign(1, lo/truth-1)
	}
	return math.Copysign(1, hi/truth-1)
}

// nearestMono returns the reply mono (monos sorted) within anchorNS of
// want, if any.
func nearestMono(monos []int64, want int64) (int64, bool) {
	i, _ := slices.BinarySearch(monos, want)
	best, ok := int64(0), false
	for _, k := range []int{i - 1, i} {
		if k >= 0 && k < len(monos) && abs(monos[k]-want) <= anchorNS && (!ok || abs(monos[k]-want) < abs(best-want)) {
			best, ok = monos[k], true
		}
	}
	return best, ok
}
