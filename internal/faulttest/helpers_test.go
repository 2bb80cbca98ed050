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
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

const (
	// tolerance is the largest relative error of a rate, as in the
	// Netdata end-to-end test.
	tolerance = 0.005
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

// read is one rendering of proc/net/dev the source served.
type read struct {
	at time.Time
	rx uint64 // rx_bytes of the judged interface, if present
	ok bool   // the interface was in the file
}

// source serves proc/net/dev of a netdevtest tree from a FIFO, rendering
// the counters at the moment of each read (see proctest.ServePipe
// for why a rewritten file is not exact enough). One interface, eth0,
// grows at rx bytes/s and tx = rx/4.
type source struct {
	tree *netdevtest.Tree
	rx   float64

	mu      sync.Mutex
	start   uint64    // counter at since
	since   time.Time // counters are start + rx × (t − since)
	present bool
	reads   []read
}

func newSource(t *testing.T, rx float64, bootID string) *source {
	t.Helper()
	tree := netdevtest.NewTree(t)
	tree.SetBootID(bootID)
	tree.Set("eth0", wire.Counters{Ifindex: 2, SpeedMbps: 1000})
	s := &source{tree: tree, rx: rx, start: 5e9, since: time.Now(), present: true}
	proctest.ServePipe(t, filepath.Join(tree.ProcRoot(), "net", "dev"), s.render)
	return s
}

// reboot gives the router a new boot id and counters from zero, starting
// at the last read so that no traffic escapes the counters: the truth of
// any total stays rx × time. The agent reads the boot id once, at start,
// as on a real router where a reboot restarts it.
func (s *source) reboot(bootID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tree.SetBootID(bootID)
	if n := len(s.reads); n > 0 {
		s.since = s.reads[n-1].at
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
	now := at.Wall
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]wire.Counters{
		// A second interface that never changes keeps the file from
		// ever being empty.
		"lo": {RxBytes: 1000, TxBytes: 1000, RxPackets: 10, TxPackets: 10, Ifindex: 1},
	}
	r := read{at: now}
	if s.present {
		rx := s.start + uint64(math.Floor(s.rx*now.Sub(s.since).Seconds()))
		m["eth0"] = wire.Counters{RxBytes: rx, TxBytes: rx / 4, RxPackets: rx / 1000, TxPackets: rx / 4000, Ifindex: 2}
		r.rx, r.ok = rx, true
	}
	s.reads = append(s.reads, r)
	return netdevtest.Format(m)
}

// servedReads returns the reads so far.
func (s *source) servedReads() []read {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]read(nil), s.reads...)
}

// proc is one process of ours: started, killed and reaped by its PID.
type proc struct {
	*proctest.Proc
	cmd    *exec.Cmd
	stderr *proctest.LockedBuffer
	done   <-chan struct{}
}

func startProc(t *testing.T, name, bin string, env []string, stdout io.Writer) *proc {
	t.Helper()
	p := proctest.Start(t, name, bin, env, proctest.Stdout(stdout), proctest.Guard(guard))
	return &proc{Proc: p, cmd: p.Cmd(), stderr: p.Stderr(), done: p.Done()}
}

// signal sends sig to the process and waits until it has been reaped.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.Signal(t, sig)
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

// value is one SET 'received' of an ifstat.net chart: bits/s, or a gap.
type value struct {
	at    time.Time // when the line was read
	chart string
	bps   float64
	gap   bool
	raw   string
}

// plugind collects the received values of every *_net chart from the
// plugins.d stream of one or more bridge runs.
type plugind struct {
	mu     sync.Mutex
	values []value
	bad    []string // lines that are not plugins.d as the bridge writes it
}

// writer returns a pipe end for a bridge's stdout; lines are parsed as
// they arrive.
func (pd *plugind) writer(t *testing.T) io.Writer {
	r, w := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pd.parse(r)
	}()
	t.Cleanup(func() {
		w.Close()
		<-done
	})
	return w
}

func (pd *plugind) parse(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	chart := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "BEGIN '"):
			chart, _, _ = strings.Cut(strings.TrimPrefix(line, "BEGIN '"), "'")
		case line == "END":
			chart = ""
		case strings.HasPrefix(line, "SET 'received' = ") && strings.HasSuffix(chart, "_net"):
			v := value{at: time.Now(), chart: chart, raw: line}
			s := strings.TrimPrefix(line, "SET 'received' = ")
			if s == "''" {
				v.gap = true
			} else if f, err := strconv.ParseFloat(s, 64); err == nil {
				v.bps = f
			} else {
				pd.mu.Lock()
				pd.bad = append(pd.bad, line)
				pd.mu.Unlock()
				continue
			}
			pd.mu.Lock()
			pd.values = append(pd.values, v)
			pd.mu.Unlock()
		}
	}
	io.Copy(io.Discard, r)
}

func (pd *plugind) snapshot() []value {
	pd.mu.Lock()
	defer pd.mu.Unlock()
	return append([]value(nil), pd.values...)
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

// judge checks every value of chart: within tolerance of wantBps, or a
// gap. It returns the numbers of rates and gaps.
func (pd *plugind) judge(t *testing.T, chart string, wantBps float64) (rates, gaps int) {
	t.Helper()
	pd.mu.Lock()
	defer pd.mu.Unlock()
	for _, l := range pd.bad {
		t.Errorf("unparsable plugins.d line %q", l)
	}
	for _, v := range pd.values {
		if v.chart != chart {
			continue
		}
		switch {
		case v.gap:
			gaps++
		case v.bps < 0 || math.Abs(v.bps-wantBps) > tolerance*wantBps:
			rates++
			t.Errorf("%s at %s: %q, want %.0f ± %.1f%% or a gap", chart, v.at.Format("15:04:05.000"), v.raw, wantBps, tolerance*100)
		default:
			rates++
		}
	}
	return rates, gaps
}

// haWatch records the Home Assistant state messages of one node.
type haWatch struct {
	mu     sync.Mutex
	states []haState
	bad    []string
}

type haState struct {
	at      time.Time
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
		Ifaces map[string]struct {
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
		w.states = append(w.states, haState{at: time.Now(), rxBps: s.RxBps, rxBytes: s.RxBytes})
	}
}

// judge checks every state of eth0: rx_bps within tolerance of wantBps or
// null, rx_bytes never lower than before. It returns how many states had
// a rate and how many none.
func (w *haWatch) judge(t *testing.T, wantBps float64) (rates, nulls int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.bad {
		t.Errorf("HA state: %s", b)
	}
	var last uint64
	for _, s := range w.states {
		if s.rxBytes < last {
			t.Errorf("HA state at %s: rx_bytes %d < %d before", s.at.Format("15:04:05.000"), s.rxBytes, last)
		}
		last = max(last, s.rxBytes)
		switch {
		case s.rxBps == nil:
			nulls++
		case *s.rxBps < 0 || math.Abs(*s.rxBps-wantBps) > tolerance*wantBps:
			rates++
			t.Errorf("HA state at %s: rx_bps %.3f, want %.0f ± %.1f%% or null", s.at.Format("15:04:05.000"), *s.rxBps, wantBps, tolerance*100)
		default:
			rates++
		}
	}
	return rates, nulls
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
