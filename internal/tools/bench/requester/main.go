package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// graceAfterLast bounds the wait for answers to the last requests; a
// failure guard, local answers take milliseconds.
const graceAfterLast = 3 * time.Second

func main() {
	cli.Main(0, func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

// options are the command-line flags.
type options struct {
	mode      string
	broker    string
	prefix    string
	node      string
	url       string
	rate      int
	duration  time.Duration
	warmup    time.Duration
	label     string
	clkTck    int
	saveReply string
	procs     []proc
}

// proc is one measured process, "name:pid" on the command line.
type proc struct {
	name string
	pid  int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("requester", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", "mqtt", "mqtt (requests on P/N/request), http (GET -url) or none (only measure)")
	fs.StringVar(&o.broker, "broker", "tcp://127.0.0.1:1883", "broker URL")
	fs.StringVar(&o.prefix, "prefix", "ifstat", "topic prefix")
	fs.StringVar(&o.node, "node", "bench", "node id")
	fs.StringVar(&o.url, "url", "", "URL to scrape in http mode")
	fs.IntVar(&o.rate, "rate", 10, "requests per second")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long to measure")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "requests sent, unmeasured, after the first answer")
	fs.StringVar(&o.label, "label", "", "first column of the output rows")
	fs.IntVar(&o.clkTck, "clk-tck", 0, "clock ticks per second of /proc/<pid>/stat (getconf CLK_TCK)")
	fs.StringVar(&o.saveReply, "save-reply", "", "write the last answer's payload to this file (mqtt mode)")
	fs.Func("pid", "process to measure as name:pid; repeatable, the first is the one asked", func(s string) error {
		name, p, ok := strings.Cut(s, ":")
		pid, err := strconv.Atoi(p)
		if !ok || name == "" || err != nil || pid < 1 {
			return fmt.Errorf("want name:pid, got %q", s)
		}
		o.procs = append(o.procs, proc{name, pid})
		return nil
	})
	freePort := fs.Bool("free-port", false, "print a free TCP port on 127.0.0.1 and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *freePort {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintf(stderr, "requester: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, l.Addr().(*net.TCPAddr).Port)
		l.Close()
		return 0
	}
	if o.rate < 1 || o.duration <= 0 || o.clkTck < 1 || len(o.procs) == 0 {
		fmt.Fprintln(stderr, "requester: need -rate ≥ 1, -duration > 0, -clk-tck and at least one -pid")
		return 2
	}
	var a asker
	switch o.mode {
	case "mqtt":
		m, err := newMQTTAsker(o)
		if err != nil {
			fmt.Fprintf(stderr, "requester: %v\n", err)
			return 1
		}
		defer m.close()
		a = m
	case "http":
		a = newHTTPAsker(o.url)
	case "none":
		a = nil
	default:
		fmt.Fprintf(stderr, "requester: unknown -mode %q\n", o.mode)
		return 2
	}
	res, err := measure(ctx, o, a)
	if err != nil {
		fmt.Fprintf(stderr, "requester: %v\n", err)
		return 1
	}
	if o.saveReply != "" {
		if m, ok := a.(*mqttAsker); ok {
			if err := os.WriteFile(o.saveReply, m.lastPayload(), 0o644); err != nil {
				fmt.Fprintf(stderr, "requester: %v\n", err)
				return 1
			}
		}
	}
	for _, row := range res.rows(o) {
		fmt.Fprintln(stdout, strings.Join(row, "\t"))
	}
	return 0
}

// asker sends requests and counts answers.
type asker interface {
	// ask sends request n and returns at once; the answer is counted
	// when it comes.
	ask(n int)
	// answers returns how many answers came and their round-trip times
	// in the order they came; reset forgets them.
	answers() (int, []time.Duration)
	reset()
}

// result is one measurement.
type result struct {
	sent, answered int
	rtt            []time.Duration
	before, after  []sample
}

// measure warms up, samples every process, asks at o.rate for
// o.duration, waits for the answers and samples again.
func measure(ctx context.Context, o options, a asker) (result, error) {
	interval := time.Second / time.Duration(o.rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	if a != nil {
		// Until the first answer the peer may still be connecting: keep
		// asking, then ask for o.warmup more, unmeasured.
		deadline := time.Now().Add(30 * time.Second)
		var warmEnd time.Time
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return result{}, ctx.Err()
			case <-tick.C:
			}
			if got, _ := a.answers(); got > 0 && warmEnd.IsZero() {
				warmEnd = time.Now().Add(o.warmup)
			}
			if !warmEnd.IsZero() && time.Now().After(warmEnd) {
				break
			}
			if time.Now().After(deadline) {
				return result{}, errors.New("no answer within 30 s")
			}
			a.ask(-1 - n)
		}
		time.Sleep(200 * time.Millisecond)
		a.reset()
	} else {
		time.Sleep(o.warmup)
	}

	var r result
	for _, p := range o.procs {
		s, err := readSample(p.pid)
		if err != nil {
			return r, err
		}
		r.before = append(r.before, s)
	}
	tick.Reset(interval)
	end := time.Now().Add(o.duration)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-tick.C:
		}
		if a != nil {
			a.ask(r.sent)
		}
		r.sent++
	}
	if a != nil {
		grace := time.Now().Add(graceAfterLast)
		for {
			got, _ := a.answers()
			if got >= r.sent || time.Now().After(grace) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		r.answered, r.rtt = a.answers()
	} else {
		// The read floor paces itself at the same rate: its work is the
		// nominal count.
		r.answered = r.sent
	}
	for _, p := range o.procs {
		s, err := readSample(p.pid)
		if err != nil {
			return r, err
		}
		r.after = append(r.after, s)
	}
	return r, nil
}

// rows renders r: label, process, rate, sent, answered, CPU µs per answer
// from ticks and from schedstat, VmRSS and VmHWM in KiB, RTT p50 and p99 in
// µs, RssAnon in KiB (last, so that the columns before keep their places). The first process answered; the CPU of the others (the broker) is
// divided by the same count.
func (r result) rows(o options) [][]string {
	p50, p99 := "-", "-"
	if len(r.rtt) > 0 {
		s := slices.Clone(r.rtt)
		slices.Sort(s)
		p50 = strconv.FormatInt(s[len(s)/2].Microseconds(), 10)
		p99 = strconv.FormatInt(s[min(len(s)-1, len(s)*99/100)].Microseconds(), 10)
	}
	var rows [][]string
	for i, p := range o.procs {
		ticks := r.after[i].ticks - r.before[i].ticks
		ns := r.after[i].schedNS - r.before[i].schedNS
		perStat, perSched := "-", "-"
		if r.answered > 0 {
			perStat = strconv.FormatFloat(float64(ticks)*1e6/float64(o.clkTck)/float64(r.answered), 'f', 1, 64)
			perSched = strconv.FormatFloat(float64(ns)/1e3/float64(r.answered), 'f', 1, 64)
		}
		rows = append(rows, []string{
			o.label, p.name, strconv.Itoa(o.rate), strconv.Itoa(r.sent), strconv.Itoa(r.answered),
			strconv.FormatUint(ticks, 10), perStat, perSched,
			strconv.FormatUint(r.after[i].rssKiB, 10), strconv.FormatUint(r.after[i].hwmKiB, 10), p50, p99,
			strconv.FormatUint(r.after[i].anonKiB, 10),
		})
	}
	return rows
}

// sample is one look at a process in /proc.
type sample struct {
	ticks          uint64 // utime+stime of /proc/<pid>/stat, all threads
	schedNS        uint64 // sum of the first field of /proc/<pid>/task/*/schedstat
	rssKiB, hwmKiB uint64 // VmRSS, VmHWM of /proc/<pid>/status
	// anonKiB is RssAnon: on a router the memory that counts, as the
	// binary's clean file pages in VmRSS can be dropped and read again.
	anonKiB uint64
}

func readSample(pid int) (sample, error) {
	var s sample
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, fmt.Errorf("reading stat: %w", err)
	}
	// The command name in parentheses may hold spaces; fields count from
	// the last ')'. After it: state(3) … utime(14) stime(15).
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(f) < 13 {
		return s, fmt.Errorf("%s/stat: unexpected format", dir)
	}
	for _, v := range f[11:13] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s, fmt.Errorf("%s/stat: %w", dir, err)
		}
		s.ticks += n
	}
	tasks, err := os.ReadDir(dir + "/task")
	if err != nil {
		return s, fmt.Errorf("listing tasks: %w", err)
	}
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread exited
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.ParseUint(f[0], 10, 64)
			s.schedNS += n
		}
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, fmt.Errorf("reading status: %w", err)
	}
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(line, ":")
		var dst *uint64
		switch k {
		case "VmRSS":
			dst = &s.rssKiB
		case "VmHWM":
			dst = &s.hwmKiB
		case "RssAnon":
			dst = &s.anonKiB
		default:
			continue
		}
		*dst, _ = strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	}
	return s, nil
}

// mqttAsker publishes requests with ids and counts messages on the reply
// topic. QoS 0 over one connection keeps order, so the k-th answer is
// matched with the k-th request: the transport floor's constant payload
// carries no id.
type mqttAsker struct {
	c       mqtt.Client
	request string

	mu    sync.Mutex
	sent  []time.Time
	rtt   []time.Duration
	last  []byte
	first int // index in sent of the first request since reset
}

func newMQTTAsker(o options) (*mqttAsker, error) {
	m := &mqttAsker{request: wire.Topics{Prefix: o.prefix, Node: o.node}.Request()}
	opts := mqtt.NewClientOptions().
		AddBroker(o.broker).
		SetClientID("bench-requester-" + strconv.Itoa(os.Getpid())).
		SetCleanSession(true)
	m.c = mqtt.NewClient(opts)
	if tok := m.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("connecting to %s: %v", o.broker, tok.Error())
	}
	reply := wire.Topics{Prefix: o.prefix, Node: o.node}.Reply()
	if tok := m.c.Subscribe(reply, 0, m.onReply); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		m.c.Disconnect(0)
		return nil, fmt.Errorf("subscribing to %s: %v", reply, tok.Error())
	}
	return m, nil
}

func (m *mqttAsker) onReply(_ mqtt.Client, msg mqtt.Message) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := m.first + len(m.rtt); k < len(m.sent) {
		m.rtt = append(m.rtt, now.Sub(m.sent[k]))
	} else {
		m.rtt = append(m.rtt, 0) // an answer to nothing we sent
	}
	m.last = append(m.last[:0], msg.Payload()...)
}

func (m *mqttAsker) ask(n int) {
	var payload string
	if n >= 0 {
		payload = `{"id":"bench-` + strconv.Itoa(n) + `"}`
	} else {
		payload = `{"id":"warmup-` + strconv.Itoa(-n) + `"}`
	}
	m.mu.Lock()
	m.sent = append(m.sent, time.Now())
	m.mu.Unlock()
	m.c.Publish(m.request, 0, false, payload)
}

func (m *mqttAsker) answers() (int, []time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rtt), slices.Clone(m.rtt)
}

func (m *mqttAsker) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.first = len(m.sent)
	m.rtt = m.rtt[:0]
}

func (m *mqttAsker) lastPayload() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.last)
}

func (m *mqttAsker) close() { m.c.Disconnect(100) }

// httpAsker scrapes a URL, one GET at a time, as Prometheus would.
type httpAsker struct {
	url    string
	client *http.Client
	mu     sync.Mutex
	rtt    []time.Duration
}

func newHTTPAsker(url string) *httpAsker {
	return &httpAsker{url: url, client: &http.Client{Timeout: 5 * time.Second}}
}

// ask scrapes synchronously: a scrape slower than the interval makes the
// ticker drop ticks rather than pile up requests.
func (h *httpAsker) ask(int) {
	start := time.Now()
	resp, err := h.client.Get(h.url)
	if err != nil {
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rtt = append(h.rtt, time.Since(start))
}

func (h *httpAsker) answers() (int, []time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rtt), slices.Clone(h.rtt)
}

func (h *httpAsker) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rtt = h.rtt[:0]
}
