package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/procfs"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

func main() {
	cli.Main(0, func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

type options struct {
	broker, bin, out, shard, ha string
	bridges, nodes              int
	window, guard               time.Duration
	pids                        map[string]int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var pids string
	fs.StringVar(&o.broker, "broker", "", "broker URL (required)")
	fs.StringVar(&o.bin, "bridge", "", "ifstat-bridge binary (required)")
	fs.StringVar(&o.out, "out", "", "directory for the bridges' logs (required)")
	fs.StringVar(&o.shard, "shard", "auto", "auto, or static: each bridge k of n")
	fs.StringVar(&o.ha, "ha", "on", "IFSTAT_HA of the bridges")
	fs.IntVar(&o.bridges, "bridges", 3, "bridges")
	fs.IntVar(&o.nodes, "nodes", 0, "agents the load generator simulates (required)")
	fs.DurationVar(&o.window, "window", 30*time.Second, "steady measurement window")
	fs.DurationVar(&o.guard, "guard", 3*time.Minute, "longest wait for any phase")
	fs.StringVar(&pids, "pids", "", "other processes to measure, name=pid,...")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.broker == "" || o.bin == "" || o.out == "" || o.nodes < 1 || o.bridges < 2 || fs.NArg() > 0 ||
		o.shard != "auto" && o.shard != "static" {
		fs.Usage()
		return 2
	}
	o.pids = map[string]int{}
	for _, kv := range strings.Split(pids, ",") {
		if name, v, ok := strings.Cut(kv, "="); ok {
			pid, err := strconv.Atoi(v)
			if err != nil {
				fmt.Fprintf(stderr, "fleet: -pids %q: %v\n", kv, err)
				return 2
			}
			o.pids[name] = pid
		}
	}
	f := &fleet{o: o, stdout: stdout, procs: map[string]*bridgeProc{}}
	defer f.stopAll()
	if err := f.run(ctx); err != nil {
		fmt.Fprintf(stderr, "fleet: %v\n", err)
		return 1
	}
	return 0
}

// bridgeProc is one bridge process and what its stream said: per node, when
// it last wrote a rate, and its counts of rated values and gaps.
type bridgeProc struct {
	id   string
	cmd  *exec.Cmd
	done chan struct{}

	mu     sync.Mutex
	rated  map[string]time.Time // the latest rate per node
	first  map[string]time.Time // the first rate per node
	values uint64
	gaps   uint64
}

type fleet struct {
	o      options
	stdout io.Writer
	procs  map[string]*bridgeProc
	ids    []string
}

func (f *fleet) printf(format string, args ...any) { fmt.Fprintf(f.stdout, format, args...) }

func (f *fleet) start(i int) error {
	id := fmt.Sprintf("fleet-%d", i)
	shard := "auto"
	if f.o.shard == "static" {
		shard = fmt.Sprintf("%d/%d", i, f.o.bridges)
	}
	logf, err := os.OpenFile(filepath.Join(f.o.out, id+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(f.o.bin)
	cmd.Env = append(os.Environ(), "IFSTAT_BROKER="+f.o.broker, "IFSTAT_BRIDGE_ID="+id, "IFSTAT_SHARD="+shard,
		"IFSTAT_NETDATA=on", "IFSTAT_HA="+f.o.ha, "IFSTAT_INTERVAL=1s", "IFSTAT_LOG_LEVEL=info")
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &bridgeProc{id: id, cmd: cmd, done: make(chan struct{}), rated: map[string]time.Time{}, first: map[string]time.Time{}}
	go func() {
		p.read(out)
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	f.procs[id] = p
	if !slices.Contains(f.ids, id) {
		f.ids = append(f.ids, id)
	}
	return nil
}

// read follows a plugins.d stream: a SET of "received" on a node's _net
// chart with a value is a rate of that node, with ” a gap. It looks only
// at the two line shapes the bridge's writer produces (plugind.Writer:
// BEGIN 'type.id' and SET 'id' = v), without allocating per line: three
// bridges write tens of MB a second, and a reader that falls behind blocks
// their stdout and would measure itself.
func (p *bridgeProc) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	var node []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull { // a line too long to be ours
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		if err != nil {
			return
		}
		if id, ok := bytes.CutPrefix(line, []byte("BEGIN 'ifstat_")); ok {
			node = node[:0]
			if end := bytes.IndexByte(id, '\''); end > 0 && bytes.HasSuffix(id[:end], []byte("_net")) {
				if dot := bytes.IndexByte(id[:end], '.'); dot > 0 {
					node = append(node, id[:dot]...)
				}
			}
			continue
		}
		if len(node) == 0 {
			continue
		}
		v, ok := bytes.CutPrefix(line, []byte("SET 'received' = "))
		if !ok {
			continue
		}
		p.mu.Lock()
		if v = bytes.TrimSpace(v); len(v) > 0 && string(v) != "''" {
			p.values++
			now := time.Now()
			if _, ok := p.rated[string(node)]; !ok {
				p.first[string(node)] = now
			}
			p.rated[string(node)] = now // no allocation for a known key
		} else {
			p.gaps++
		}
		p.mu.Unlock()
	}
}

// raters returns, per node, the bridges that rated it since t.
func (f *fleet) raters(since time.Time) map[string][]string {
	by := map[string][]string{}
	for _, id := range f.ids {
		p := f.procs[id]
		if p == nil {
			continue
		}
		p.mu.Lock()
		for n, at := range p.rated {
			if at.After(since) {
				by[n] = append(by[n], id)
			}
		}
		p.mu.Unlock()
	}
	return by
}

// settle waits until, over the last 2.5 s (two rounds and a half), every
// node is rated by exactly one bridge; it returns each bridge's nodes.
func (f *fleet) settle(ctx context.Context, from time.Time) (map[string][]string, error) {
	deadline := from.Add(f.o.guard)
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		now := time.Now()
		if now.Sub(from) < 2500*time.Millisecond {
			continue
		}
		by := f.raters(now.Add(-2500 * time.Millisecond))
		ok := len(by) == f.o.nodes
		own := map[string][]string{}
		for n, ids := range by {
			if len(ids) != 1 {
				ok = false
				break
			}
			own[ids[0]] = append(own[ids[0]], n)
		}
		if ok {
			return own, nil
		}
		if now.After(deadline) {
			return nil, fmt.Errorf("not settled after %v: %d of %d nodes rated", f.o.guard, len(by), f.o.nodes)
		}
	}
}

// firstRate waits for p's first rate of any node and returns its time.
func (f *fleet) firstRate(ctx context.Context, p *bridgeProc, from time.Time) (time.Time, error) {
	for {
		p.mu.Lock()
		var first time.Time
		for _, at := range p.first {
			if first.IsZero() || at.Before(first) {
				first = at
			}
		}
		p.mu.Unlock()
		if !first.IsZero() {
			return first, nil
		}
		if time.Since(from) > f.o.guard {
			return time.Time{}, fmt.Errorf("%s rated no node in %v after its restart", p.id, f.o.guard)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (f *fleet) stopAll() {
	for _, p := range f.procs {
		p.cmd.Process.Signal(syscall.SIGCONT)
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range f.procs {
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
	f.procs = map[string]*bridgeProc{}
}

func (f *fleet) run(ctx context.Context) error {
	began := time.Now()
	for i := range f.o.bridges {
		if err := f.start(i); err != nil {
			return err
		}
	}
	own, err := f.settle(ctx, began)
	if err != nil {
		return err
	}
	f.printf("settled\t%.1f s after the start\t%s\n", time.Since(began).Seconds(), shares(own, f.ids))

	// Steady window.
	cpu0, t0 := f.cpu(), time.Now()
	counts0 := f.counts()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(f.o.window):
	}
	cpu1, t1 := f.cpu(), time.Now()
	counts1 := f.counts()
	dt := t1.Sub(t0).Seconds()
	for _, name := range slices.Sorted(maps.Keys(cpu1)) {
		line := fmt.Sprintf("cpu\t%s\t%.1f %% of a core", name, (cpu1[name]-cpu0[name])/dt*100)
		if p := f.procs[name]; p != nil {
			c0, c1 := counts0[name], counts1[name]
			anon, hwm := memMiB(p.cmd.Process.Pid)
			line += fmt.Sprintf("\tRssAnon %.1f MiB\tHWM %.1f MiB\trated %d\tgaps %d", anon, hwm, c1[0]-c0[0], c1[1]-c0[1])
		}
		f.printf("%s\n", line)
	}
	if f.o.shard != "auto" {
		return nil
	}

	before, err := f.copies(ctx)
	if err != nil {
		return err
	}
	victim := f.ids[1]
	p := f.procs[victim]
	will := make(chan time.Time, 1)
	watch, err := f.client("fleet-will")
	if err != nil {
		return err
	}
	defer watch.Disconnect(100)
	watch.Subscribe(wire.BridgeTopics{Prefix: wire.DefaultPrefix, BridgeID: victim}.Status(), 1, func(_ mqtt.Client, m mqtt.Message) {
		if string(m.Payload()) == wire.StatusOffline {
			select {
			case will <- time.Now():
			default:
			}
		}
	}).WaitTimeout(10 * time.Second)
	time.Sleep(500 * time.Millisecond) // the retained "online" passes first
	frozen := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	var willAt time.Time
	taken := map[string]time.Time{}
	for len(taken) < len(own[victim]) {
		if time.Since(frozen) > f.o.guard {
			return fmt.Errorf("only %d of %s's %d nodes taken over after %v", len(taken), victim, len(own[victim]), f.o.guard)
		}
		select {
		case willAt = <-will:
		case <-time.After(50 * time.Millisecond):
		}
		by := f.raters(frozen)
		for _, n := range own[victim] {
			if _, ok := taken[n]; ok {
				continue
			}
			for _, id := range by[n] {
				if id != victim {
					taken[n] = time.Now()
				}
			}
		}
	}
	if willAt.IsZero() {
		select {
		case willAt = <-will:
		case <-time.After(20 * time.Second): // reported as negative
		}
	}
	var last time.Time
	delays := make([]float64, 0, len(taken))
	for _, at := range taken {
		last = maxTime(last, at)
		delays = append(delays, at.Sub(frozen).Seconds())
	}
	slices.Sort(delays)
	f.printf("takeover\t%s frozen, %d nodes\tall rated by the others after %.2f s (half after %.2f s, 90 %% after %.2f s)\tits will after %.2f s\n",
		victim, len(own[victim]), last.Sub(frozen).Seconds(), delays[len(delays)/2], delays[len(delays)*9/10], willAt.Sub(frozen).Seconds())
	// The bridges tick on whole seconds (IFSTAT_INTERVAL=1s): a node
	// asked on the third tick after the victim's last beat is rated on
	// the fourth, 4 s minus this phase after the freeze.
	phase := float64(frozen.Nanosecond()) / 1e9
	f.printf("takeover\tfrozen %.3f s after a whole second; nodes first rated, by whole seconds after that second:%s\n", phase, histogram(delays, phase))

	p.cmd.Process.Kill()
	<-p.done
	delete(f.procs, victim)
	back := time.Now()
	if err := f.start(1); err != nil {
		return err
	}
	// Settled is judged from the returned bridge's first rate on: before
	// it, the others still rate every node on their own, which would
	// pass for settled.
	joined, err := f.firstRate(ctx, f.procs[victim], back)
	if err != nil {
		return err
	}
	again, err := f.settle(ctx, joined)
	if err != nil {
		return err
	}
	same := slices.Equal(sorted(own[victim]), sorted(again[victim]))
	// For each node handed back: the other bridge's last rate against the
	// returned bridge's first. After: rated by both for that long; before:
	// by neither.
	var overlap, gap time.Duration
	np := f.procs[victim]
	np.mu.Lock()
	for _, n := range again[victim] {
		var last time.Time
		for _, id := range f.ids {
			if o := f.procs[id]; o != nil && o != np {
				o.mu.Lock()
				last = maxTime(last, o.rated[n])
				o.mu.Unlock()
			}
		}
		if d := last.Sub(np.first[n]); d > overlap {
			overlap = d
		} else if -d > gap {
			gap = -d
		}
	}
	np.mu.Unlock()
	f.printf("return\t%s restarted\tfirst rate after %.1f s, settled after %.1f s\tsame nodes as before: %v\tlongest overlap %.2f s, longest gap %.2f s\n",
		victim, joined.Sub(back).Seconds(), time.Since(back).Seconds(), same, overlap.Seconds(), gap.Seconds())

	// Totals: stop everything (each bridge saves its nodes' copies), read
	// the copies again.
	f.stopAll()
	after, err := f.copies(ctx)
	if err != nil {
		return err
	}
	var ifaces, exact int
	var worst int64
	for node, b := range before {
		a, ok := after[node]
		if !ok {
			continue
		}
		for name, cb := range b.Ifaces {
			ca, ok := a.Ifaces[name]
			if !ok {
				continue
			}
			ifaces++
			ok = true
			for _, c := range []rate.Counter{rate.RxBytes, rate.TxBytes} {
				grew := ca.Base[c] - cb.Base[c]
				if ca.Base[c] < cb.Base[c] {
					grew += 1 << 32 // a 32-bit wrap
				}
				if d := int64(ca.Totals[c]-cb.Totals[c]) - int64(grew); d != 0 {
					ok = false
					worst = max(worst, abs(d))
				}
			}
			if ok {
				exact++
			}
		}
	}
	f.printf("totals\t%d of %d interfaces exact across the freeze and the return (booked = counters' growth)\tworst difference %d B\n", exact, ifaces, worst)
	return nil
}

// copies reads the retained fleet copies of every node.
func (f *fleet) copies(ctx context.Context) (map[string]state.NodeState, error) {
	c, err := f.client("fleet-copies")
	if err != nil {
		return nil, err
	}
	defer c.Disconnect(100)
	var mu sync.Mutex
	got := map[string]state.NodeState{}
	full := make(chan struct{})
	var once sync.Once
	c.Subscribe(wire.FleetStates(wire.DefaultPrefix).Filter(), 0, func(_ mqtt.Client, m mqtt.Message) {
		s, err := state.DecodeNode(m.Payload())
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for n, ns := range s.Nodes {
			got[n] = ns
		}
		if len(got) >= f.o.nodes {
			once.Do(func() { close(full) })
		}
	})
	select {
	case <-full:
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) < f.o.nodes {
		return nil, fmt.Errorf("%d of %d retained copies", len(got), f.o.nodes)
	}
	return got, nil
}

func (f *fleet) client(id string) (mqtt.Client, error) {
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(f.o.broker).SetClientID(id).SetCleanSession(true))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("connect %s: %v", id, tok.Error())
	}
	return c, nil
}

// cpu returns each measured process's user+system CPU seconds.
func (f *fleet) cpu() map[string]float64 {
	out := map[string]float64{}
	for id, p := range f.procs {
		out[id] = cpuSeconds(p.cmd.Process.Pid)
	}
	for name, pid := range f.o.pids {
		out[name] = cpuSeconds(pid)
	}
	out["this tool"] = cpuSeconds(os.Getpid())
	return out
}

func (f *fleet) counts() map[string][2]uint64 {
	out := map[string][2]uint64{}
	for id, p := range f.procs {
		p.mu.Lock()
		out[id] = [2]uint64{p.values, p.gaps}
		p.mu.Unlock()
	}
	return out
}

// cpuSeconds is the process's user+system CPU time; 0 once it is gone.
func cpuSeconds(pid int) float64 {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0
	}
	st, err := p.Stat()
	if err != nil {
		return 0
	}
	return st.CPUTime()
}

// memMiB is the process's RssAnon and VmHWM in MiB; 0 once it is gone.
func memMiB(pid int) (anon, hwm float64) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0, 0
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0, 0
	}
	return float64(st.RssAnon) / (1 << 20), float64(st.VmHWM) / (1 << 20)
}

func shares(own map[string][]string, ids []string) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("%s %d", id, len(own[id])))
	}
	return strings.Join(parts, ", ")
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// histogram counts delays (seconds after the freeze) by the whole second
// after the tick before the freeze (phase into it) they fall in.
func histogram(delays []float64, phase float64) string {
	counts := map[int]int{}
	var keys []int
	for _, d := range delays {
		k := int(d + phase)
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %d s: %d", k, counts[k])
	}
	return b.String()
}
