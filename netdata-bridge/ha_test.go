package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/kelseyhightower/envconfig"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/haout"
	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/hatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/publisher"
)

// liveReader is a counter source advancing at a known constant rate in
// real time: every read stamps the real monotonic clock and derives the
// counters from it, so the true average over any window is exactly rate.
type liveReader struct {
	mu     sync.Mutex
	start  time.Time
	base   int64 // mono of start, so restarts of the agent continue
	rates  map[string]uint64
	ifaces map[string]bool
	reads  []liveRead
}

// liveRead is what one read served: its mono_ns and wall clock, and each
// interface's rx_bytes.
type liveRead struct {
	mono int64
	wall time.Time
	rx   map[string]uint64
}

func newLiveReader(rates map[string]uint64) *liveReader {
	r := &liveReader{start: time.Now(), base: 1e12, rates: rates, ifaces: map[string]bool{}}
	for n := range rates {
		r.ifaces[n] = true
	}
	return r
}

func (r *liveReader) Read() (netdev.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	el := time.Since(r.start)
	now := time.Now()
	snap := netdev.Snapshot{MonoNS: r.base + int64(el), TimeNS: now.UnixNano(), Ifaces: map[string]wire.Counters{}}
	read := liveRead{mono: snap.MonoNS, wall: now, rx: map[string]uint64{}}
	for n, rate := range r.rates {
		if !r.ifaces[n] {
			continue
		}
		b := uint64(el.Seconds() * float64(rate))
		snap.Ifaces[n] = wire.Counters{RxBytes: b, TxBytes: b / 4, RxPackets: b / 1000, TxPackets: b / 4000, Ifindex: int64(len(n)), SpeedMbps: 10000}
		read.rx[n] = b
	}
	r.reads = append(r.reads, read)
	return snap, nil
}

func (r *liveReader) BootID() string { return "boot-ha" }

func (r *liveReader) served() []liveRead {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]liveRead(nil), r.reads...)
}

// averageSpan returns the span of two reads over which iface's exact
// average rate, as the bridge computes it (Δrx_bytes / Δmono_ns, in bits/s),
// is bps as the state prints it (three decimals).
func (r *liveReader) averageSpan(iface string, bps float64) (from, to liveRead, ok bool) {
	reads := r.served()
	for j := len(reads) - 1; j >= 0; j-- {
		for i := j - 1; i >= 0; i-- {
			a, okA := reads[i].rx[iface]
			b, okB := reads[j].rx[iface]
			if !okA || !okB {
				continue
			}
			avg := float64(b-a) * 8e9 / float64(reads[j].mono-reads[i].mono)
			if math.Abs(avg-bps) <= 0.0005+1e-12*bps {
				return reads[i], reads[j], true
			}
		}
	}
	return liveRead{}, liveRead{}, false
}

// totalStarts returns the rx_bytes of every read s from which iface's
// counters grew by exactly total up to some read: where a bridge whose
// total is total may have started counting.
func (r *liveReader) totalStarts(iface string, total uint64) map[uint64]bool {
	reads := r.served()
	seen := map[uint64]bool{}
	for _, rd := range reads {
		if v, ok := rd.rx[iface]; ok {
			seen[v] = true
		}
	}
	starts := map[uint64]bool{}
	for v := range seen {
		if seen[v+total] {
			starts[v] = true
		}
	}
	return starts
}

func (r *liveReader) remove(name string) {
	r.mu.Lock()
	r.ifaces[name] = false
	r.mu.Unlock()
}

func discard() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

func common(b *brokertest.Broker) config.Common {
	return config.Common{Broker: b.URL(), TopicPrefix: "ifstat", LogLevel: "info", LogFormat: "text"}
}

func runAgent(t *testing.T, ctx context.Context, b *brokertest.Broker, node string, r publisher.CounterReader) (stop func()) {
	t.Helper()
	a, err := publisher.New(publisher.Config{Common: common(b), Node: node, ProcRoot: "/proc", SysRoot: "/sys", MaxRate: 200},
		discard(), publisher.Deps{Version: "v-test", Reader: r})
	if err != nil {
		t.Fatal(err)
	}
	return runUntilStopped(t, ctx, a.Run)
}

// skipShort skips a test that runs a broker (a mosquitto process where
// one is installed) and waits on the wall clock, with -short.
func skipShort(t *testing.T) {
	t.Helper()
	proctest.SkipShort(t, "runs a broker and waits for the bridge's wall-clock windows")
}

// haInterval is the Home Assistant window of runBridge: the shortest the
// bridge accepts, so tests wait for as few wall-clock seconds as they can.
// bridgeInterval is its request interval.
const (
	haInterval     = time.Second
	bridgeInterval = 200 * time.Millisecond
)

// runBridge runs a bridge with the Home Assistant output, as the binary
// wires it, until the returned stop is called.
func runBridge(t *testing.T, ctx context.Context, b *brokertest.Broker, id, node string, obsolete time.Duration, stateDir string) (stop func()) {
	t.Helper()
	cfg := bridge.Config{
		Common: common(b), Interval: bridgeInterval, Nodes: []string{node}, Netdata: config.AutoOff,
		ObsoleteAfter: obsolete, MaxGap: 10 * time.Second, MaxBitsPerSec: 1e10, BridgeID: id,
		HA: true, HAPrefix: "homeassistant", HAInterval: haInterval, StateDir: stateDir, StateInterval: time.Minute,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	br, err := bridge.New(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	ha, err := haout.New(discovery.Options{HAPrefix: cfg.HAPrefix, TopicPrefix: cfg.TopicPrefix, BridgeID: id, BridgeVersion: "test", Interval: cfg.HAInterval},
		br.Publisher(), obsolete, discard())
	if err != nil {
		t.Fatal(err)
	}
	br.AddOutput(ha)
	return runUntilStopped(t, ctx, br.Run)
}

// runUntilStopped runs run until the returned stop, also a cleanup of t,
// cancels it and waits for it to return.
func runUntilStopped(t *testing.T, ctx context.Context, run func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

type haState struct {
	Time   time.Time `json:"time"`
	Ifaces map[string]struct {
		Name    string   `json:"name"`
		RxBps   *float64 `json:"rx_bps"`
		RxBytes uint64   `json:"rx_bytes"`
	} `json:"ifaces"`
}

// ifaceState is one interface in a state message.
type ifaceState struct {
	end   time.Time // the end of the state's window
	bps   float64
	total uint64
}

// nextState waits for a state message of node with a rate for iface.
func nextState(t *testing.T, ch <-chan mqtt.Message, iface string) ifaceState {
	t.Helper()
	deadline := time.After(guard)
	for {
		select {
		case m := <-ch:
			var s haState
			if err := json.Unmarshal(m.Payload(), &s); err != nil {
				t.Fatalf("state payload %q: %v", m.Payload(), err)
			}
			for _, st := range s.Ifaces {
				if st.Name == iface && st.RxBps != nil {
					return ifaceState{end: s.Time, bps: *st.RxBps, total: st.RxBytes}
				}
			}
		case <-deadline:
			t.Fatalf("no state with a rate for %s within %v", iface, guard)
		}
	}
}

// retainedView follows the retained messages under a topic filter as they
// change, from a subscription made before the bridge publishes: what a
// fresh subscriber would get at any moment, without waiting for the
// broker to fall quiet.
type retainedView struct {
	mu      sync.Mutex
	msgs    map[string][]byte // the latest payload of each topic; empty: removed
	counts  map[string]int    // how many messages each topic got
	changed chan struct{}     // closed at the next message
}

func watchRetained(t *testing.T, b *brokertest.Broker, id, filter string) *retainedView {
	t.Helper()
	v := &retainedView{msgs: map[string][]byte{}, counts: map[string]int{}, changed: make(chan struct{})}
	handler := func(_ mqtt.Client, m mqtt.Message) {
		v.mu.Lock()
		defer v.mu.Unlock()
		v.msgs[m.Topic()] = m.Payload()
		v.counts[m.Topic()]++
		close(v.changed)
		v.changed = make(chan struct{})
	}
	// In order: a removal must not overtake the config it removes.
	c := b.Client(t, id, func(o *mqtt.ClientOptions) { o.SetOrderMatters(true) })
	if tok := c.Subscribe(filter, 1, handler); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribing to %s: %v", filter, tok.Error())
	}
	return v
}

// configs returns the configs of node a fresh subscriber would get, by
// topic.
func (v *retainedView) configs(node string) map[string][]byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[string][]byte{}
	for topic, p := range v.msgs {
		if len(p) > 0 && strings.Contains(topic, "_"+node+"/") {
			out[topic] = p
		}
	}
	return out
}

// count returns how many messages topic got.
func (v *retainedView) count(topic string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.counts[topic]
}

// wait waits until cond holds, checking it after every message; past the
// guard the test fails, naming what it waited for.
func (v *retainedView) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(guard)
	for {
		v.mu.Lock()
		ch := v.changed
		v.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waited %v for %s", guard, what)
		}
	}
}

func uniqueIDs(t *testing.T, configs map[string][]byte) []string {
	t.Helper()
	var ids []string
	for topic, p := range configs {
		if errs := hatest.Validate(topic, p); len(errs) > 0 {
			t.Errorf("%s: HA would reject it: %v", topic, errs)
		}
		var c struct {
			UniqueID string `json:"unique_id"`
		}
		json.Unmarshal(p, &c)
		ids = append(ids, c.UniqueID)
	}
	slices.Sort(ids)
	return ids
}

// TestHomeAssistantExactWindowAverage: every window's rate is the exact
// average over the agent's reads that bound the window, to the last
// printed decimal.
func TestHomeAssistantExactWindowAverage(t *testing.T) {
	t.Parallel()
	skipShort(t)
	b := brokertest.Start(t)
	ctx := t.Context()
	const rate = 3_000_000 // bytes/s: 24 Mbit/s
	reader := newLiveReader(map[string]uint64{"eth0": rate})
	runAgent(t, ctx, b, "ha-avg", reader)
	watcher := b.Client(t, "watch-avg")
	states := brokertest.Subscribe(t, watcher, wire.Topics{Prefix: "ifstat", Node: "ha-avg"}.State(), 64)
	runBridge(t, ctx, b, "br-avg", "ha-avg", time.Minute, "")
	nextState(t, states, "eth0") // the first window may be partial
	for i := range 3 {
		st := nextState(t, states, "eth0")
		from, to, ok := reader.averageSpan("eth0", st.bps)
		if !ok {
			t.Errorf("window %d: rx_bps %.3f is the average over no span of the agent's reads", i, st.bps)
			continue
		}
		t.Logf("window %d (to %s): rx_bps %.3f, the exact average over the agent's reads at %s and %s", i,
			st.end.Format("05.000"), st.bps, from.wall.Format("05.000"), to.wall.Format("05.000"))
		// The window (end-haInterval, end] holds the intervals whose
		// later sample has its request tick in it; a read comes after
		// its tick and, to count, before the next (the bridge's
		// deadline). So the span ends with a read in (end-haInterval,
		// end+interval) and starts with one before the window's first
		// tick after its start, whatever the machine's load.
		start := st.end.Add(-haInterval)
		if !to.wall.After(start) || !to.wall.Before(st.end.Add(bridgeInterval)) || !from.wall.Before(start.Add(bridgeInterval)) {
			t.Errorf("window %d (%s to %s): rx_bps %.3f is the average over reads at %s and %s, not over the window",
				i, start.Format("05.000"), st.end.Format("05.000"), st.bps, from.wall.Format("05.000"), to.wall.Format("05.000"))
		}
	}
}

func TestHomeAssistantBirthRepublishes(t *testing.T) {
	t.Parallel()
	skipShort(t)
	b := brokertest.Start(t)
	ctx := t.Context()
	view := watchRetained(t, b, "ha-core", "homeassistant/+/+/+/config")
	states := brokertest.Subscribe(t, b.Client(t, "watch-birth"), wire.Topics{Prefix: "ifstat", Node: "ha-birth"}.State(), 64)
	runAgent(t, ctx, b, "ha-birth", newLiveReader(map[string]uint64{"eth0": 1000, "wg0": 10}))
	runBridge(t, ctx, b, "br-birth", "ha-birth", time.Minute, "")
	const want = 2 + 2*10 // the router's, and each interface's
	view.wait(t, fmt.Sprintf("%d configs of ha-birth", want), func() bool { return len(view.configs("ha-birth")) >= want })
	// A state published after them: the bridge has gone on sampling, so
	// any config it publishes next is an answer to HA's birth.
	nextState(t, states, "eth0")
	before := view.configs("ha-birth")
	counts := map[string]int{}
	for topic := range before {
		counts[topic] = view.count(topic)
	}
	c := b.Client(t, "ha-status")
	if tok := c.Publish("homeassistant/status", 1, false, "online"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal("publishing HA birth failed")
	}
	view.wait(t, "every config re-published after HA's birth", func() bool {
		for topic, n := range counts {
			if view.count(topic) <= n {
				return false
			}
		}
		return true
	})
	if after := view.configs("ha-birth"); len(after) != len(before) {
		t.Errorf("%d configs after HA's birth, %d before", len(after), len(before))
	}
}

func TestHomeAssistantVanishedInterfaceRemoved(t *testing.T) {
	t.Parallel()
	skipShort(t)
	b := brokertest.Start(t)
	ctx := t.Context()
	view := watchRetained(t, b, "view-gone", "homeassistant/+/+/+/config")
	r := newLiveReader(map[string]uint64{"eth0": 1000, "wg0": 10})
	runAgent(t, ctx, b, "ha-gone", r)
	// wg0 is obsolete 600 ms (3 requests) after it vanished.
	runBridge(t, ctx, b, "br-gone", "ha-gone", 600*time.Millisecond, "")
	hasWG := func() bool {
		for topic := range view.configs("ha-gone") {
			if strings.Contains(topic, "_wg0_") || strings.Contains(topic, "/wg0_") {
				return true
			}
		}
		return false
	}
	view.wait(t, "wg0's configs", hasWG)
	r.remove("wg0")
	view.wait(t, "the removal of wg0's configs", func() bool { return !hasWG() })
	if n := len(view.configs("ha-gone")); n < 2+10 {
		t.Errorf("only %d configs left; eth0's and the router's must stay", n)
	}
}

// TestHomeAssistantBridgeRestartKeepsIDsAndTotals: a bridge stops, traffic
// flows, a new bridge process starts with only the broker's retained copy
// of the state. Its rx total goes on from the same first sample as the
// first bridge's, to the byte: nothing lost, nothing counted twice. The
// router's configs stay as they were, not sent again.
func TestHomeAssistantBridgeRestartKeepsIDsAndTotals(t *testing.T) {
	t.Parallel()
	skipShort(t)
	b := brokertest.Start(t)
	ctx := t.Context()
	view := watchRetained(t, b, "view-restart", "homeassistant/+/+/+/config")
	reader := newLiveReader(map[string]uint64{"eth0": 500_000})
	runAgent(t, ctx, b, "ha-restart", reader)
	watcher := b.Client(t, "watch-restart")
	states := brokertest.Subscribe(t, watcher, wire.Topics{Prefix: "ifstat", Node: "ha-restart"}.State(), 64)

	stop := runBridge(t, ctx, b, "br-restart", "ha-restart", time.Minute, t.TempDir())
	nextState(t, states, "eth0")
	st1 := nextState(t, states, "eth0")
	configs1 := view.configs("ha-restart")
	ids1 := uniqueIDs(t, configs1)
	stop()
	counts := map[string]int{}
	for topic := range configs1 {
		counts[topic] = view.count(topic)
	}

	// Traffic while no bridge runs: at least two of its requests.
	time.Sleep(500 * time.Millisecond)
	restart := time.Now()
	// A new bridge process: no file (another host), only the broker's
	// retained copy of the state.
	runBridge(t, ctx, b, "br-restart", "ha-restart", time.Minute, t.TempDir())
	var st2 ifaceState
	for st2.end.Before(restart) {
		st2 = nextState(t, states, "eth0") // not a late state of the first bridge
	}
	// The broker's copy of the state records the key of the configs the
	// first bridge sent (haout CopyKeeper): the new bridge, whose configs
	// would be the same bytes, leaves them retained. They would have gone
	// out with its first sample, a window before the state after next.
	nextState(t, states, "eth0")
	for topic, n := range counts {
		if got := view.count(topic); got != n {
			t.Errorf("%s: %d messages after the restart, %d before: the same configs were sent again", topic, got, n)
		}
	}
	ids2 := uniqueIDs(t, view.configs("ha-restart"))
	t.Logf("rx total before the restart %d, first after %d", st1.total, st2.total)
	// Both totals are the counters' growth from one first sample: the
	// downtime's traffic is counted, nothing went down or twice.
	starts1, starts2 := reader.totalStarts("eth0", st1.total), reader.totalStarts("eth0", st2.total)
	same := false
	for s := range starts1 {
		same = same || starts2[s]
	}
	if len(starts1) == 0 || !same {
		t.Errorf("rx total %d before and %d after the restart are not the growth of the counters served from one first read (before: from %v, after: from %v)",
			st1.total, st2.total, slices.Sorted(maps.Keys(starts1)), slices.Sorted(maps.Keys(starts2)))
	}
	if st2.total <= st1.total {
		t.Errorf("rx total after restart %d, before %d", st2.total, st1.total)
	}
	if !slices.Equal(ids1, ids2) || len(ids1) == 0 {
		t.Errorf("unique_ids changed across the restart:\n%v\n%v", ids1, ids2)
	}
}

func TestHomeAssistantAgentLWTMakesUnavailable(t *testing.T) {
	t.Parallel()
	skipShort(t)
	b := brokertest.Start(t)
	view := watchRetained(t, b, "view-lwt", "homeassistant/+/+/+/config")
	agentStatus := "ifstat/ha-lwt/status"
	status := brokertest.Subscribe(t, b.Client(t, "watch-lwt"), agentStatus, 16)
	bin := buildBinaries(t).agent
	tree := netdevtest.NewTree(t)
	tree.Set("eth0", wire.Counters{RxBytes: 1, Ifindex: 2})
	tree.Write()
	ag := proctest.Start(t, "agent ha-lwt", bin, []string{"IFSTAT_BROKER=" + b.URL(), "IFSTAT_NODE=ha-lwt", "IFSTAT_PROC_ROOT=" + tree.ProcRoot(), "IFSTAT_SYS_ROOT=" + tree.SysRoot()},
		proctest.Guard(guard))
	runBridge(t, t.Context(), b, "br-lwt", "ha-lwt", time.Minute, "")

	// The entities' availability names the agent's status topic.
	var avail []string
	view.wait(t, "a sensor config of ha-lwt", func() bool {
		for topic, p := range view.configs("ha-lwt") {
			if !strings.Contains(topic, "/sensor/") {
				continue
			}
			var c struct {
				Availability []struct {
					Topic string `json:"topic"`
				} `json:"availability"`
			}
			json.Unmarshal(p, &c)
			for _, a := range c.Availability {
				avail = append(avail, a.Topic)
			}
			return true
		}
		return false
	})
	if !slices.Contains(avail, agentStatus) {
		t.Fatalf("availability %v does not include %s", avail, agentStatus)
	}
	waitPayload(t, status, agentStatus, "online")
	ag.Kill(t) // no clean "offline": only the LWT can say it
	waitPayload(t, status, agentStatus, "offline")
}

// waitPayload waits for want on ch (a subscription to topic).
func waitPayload(t *testing.T, ch <-chan mqtt.Message, topic, want string) {
	t.Helper()
	deadline := time.After(guard)
	var got []string
	for {
		select {
		case m := <-ch:
			if string(m.Payload()) == want {
				return
			}
			got = append(got, string(m.Payload()))
		case <-deadline:
			t.Fatalf("%s: no %q within %v (got %q)", topic, want, guard, got)
		}
	}
}

// appDir is the Home Assistant app (formerly add-on) of the repository.
const appDir = "../ha-app/ifstat-bridge"

// Rules of the Supervisor's app schema, home-assistant/supervisor at
// 090ef31e (2026-08-21): supervisor/apps/validate.py _SCHEMA_APP_CONFIG,
// RE_SERVICE; apps/const.py RE_SLUG; const.py ARCH_ALL (ARCH_DEPRECATED:
// armhf, armv7, i386); apps/options.py RE_SCHEMA_ELEMENT.
var (
	appRequired      = []string{"name", "version", "slug", "description", "arch"}
	appArch          = []string{"aarch64", "amd64"}
	appSlugRe        = regexp.MustCompile(`^[-_.A-Za-z0-9]+$`)
	appServiceRe     = regexp.MustCompile(`^(?P<service>mqtt|mysql):(?P<rights>provide|want|need)$`)
	appSchemaElement = regexp.MustCompile(`^(?:|bool|email|url|port|device(?:\((?P<filter>subsystem=[a-z]+)\))?` +
		`|str(?:\((?P<s_min>\d+)?,(?P<s_max>\d+)?\))?|password(?:\((?P<p_min>\d+)?,(?P<p_max>\d+)?\))?` +
		`|int(?:\((?P<i_min>-?\d+)?,(?P<i_max>-?\d+)?\))?|float(?:\((?P<f_min>-?\d*\.?\d+)?,(?P<f_max>-?\d*\.?\d+)?\))?` +
		`|match\((?P<match>.*)\)|list\((?P<list>.+)\))\??$`)
)

// plainYAML reads the subset of YAML the app's files use: "key: value"
// at the top, one level of "  key: value" below a key without value,
// comments and blank lines. Values keep their text, quotes removed. It
// fails on anything else, so a richer file cannot slip past the checks.
func plainYAML(t *testing.T, path string) (top map[string]string, nested map[string]map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	top, nested = map[string]string{}, map[string]map[string]string{}
	line := regexp.MustCompile(`^( {0,4})([A-Za-z0-9_]+):(?: (.*))?$`)
	var parent, child string
	for i, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("%s:%d: not plain YAML: %q", path, i+1, l)
		}
		v := m[3]
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		switch len(m[1]) {
		case 0:
			parent, child = m[2], ""
			if m[3] == "" {
				nested[parent] = map[string]string{}
			} else {
				top[parent] = v
			}
		case 2:
			if nested[parent] == nil {
				t.Fatalf("%s:%d: %q below a key with a value", path, i+1, l)
			}
			child = m[2]
			nested[parent][child] = v
		case 4: // one level deeper (translations): key joined with '.'
			if child == "" {
				t.Fatalf("%s:%d: %q below nothing", path, i+1, l)
			}
			nested[parent][child+"."+m[2]] = v
		default:
			t.Fatalf("%s:%d: indentation %d", path, i+1, len(m[1]))
		}
	}
	return top, nested
}

// flowList reads ["a", b] as a list.
func flowList(t *testing.T, v string) []string {
	t.Helper()
	if !strings.HasPrefix(v, "[") || !strings.HasSuffix(v, "]") {
		t.Fatalf("%q is not a flow list", v)
	}
	var out []string
	for _, s := range strings.Split(v[1:len(v)-1], ",") {
		out = append(out, strings.Trim(strings.TrimSpace(s), `"`))
	}
	return out
}

// TestHomeAssistantApp checks the app against the Supervisor's schema and
// the bridge: every option maps (run.sh) to a variable bridge.Config
// reads, the defaults are HA on, Netdata off, totals under /data, and the
// broker comes from the Supervisor's MQTT service.
func TestHomeAssistantApp(t *testing.T) {
	t.Parallel()
	top, nested := plainYAML(t, filepath.Join(appDir, "config.yaml"))
	for _, k := range appRequired {
		if top[k] == "" {
			t.Errorf("config.yaml: required key %q missing", k)
		}
	}
	if !appSlugRe.MatchString(top["slug"]) {
		t.Errorf("slug %q does not match RE_SLUG", top["slug"])
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(top["version"]) {
		t.Errorf("version %q is no x.y.z (the Dockerfile builds tag v<version>)", top["version"])
	}
	for _, a := range flowList(t, top["arch"]) {
		if !slices.Contains(appArch, a) {
			t.Errorf("arch %q is not in ARCH_ALL (deprecated or unknown)", a)
		}
	}
	services := flowList(t, top["services"])
	for _, s := range services {
		if !appServiceRe.MatchString(s) {
			t.Errorf("service %q does not match RE_SERVICE", s)
		}
	}
	if !slices.Contains(services, "mqtt:need") {
		t.Errorf("services %v lack mqtt:need", services)
	}
	if top["init"] != "false" {
		t.Errorf("init: %q; the base image's s6-overlay is the init, so init: false", top["init"])
	}
	if _, err := os.Stat(filepath.Join(appDir, "build.yaml")); err == nil {
		t.Error("build.yaml is deprecated; the Dockerfile sets its base image")
	}
	opts, schema := nested["options"], nested["schema"]
	if opts == nil || schema == nil {
		t.Fatal("config.yaml: options or schema missing")
	}
	for k, el := range schema {
		if !appSchemaElement.MatchString(el) {
			t.Errorf("schema %s: %q does not match RE_SCHEMA_ELEMENT", k, el)
		}
		if _, ok := opts[k]; !ok && !strings.HasSuffix(el, "?") {
			t.Errorf("schema %s is required but has no default in options", k)
		}
	}
	for k := range opts {
		if _, ok := schema[k]; !ok {
			t.Errorf("option %s has no schema", k)
		}
	}
	for k, want := range map[string]string{"ha": "true", "netdata": "false"} {
		if opts[k] != want {
			t.Errorf("option %s defaults to %q, want %q", k, opts[k], want)
		}
	}

	// The variables bridge.Config reads, as envconfig names them.
	var keys bytes.Buffer
	if err := envconfig.Usagef("ifstat", &bridge.Config{}, &keys, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
		t.Fatal(err)
	}
	known := strings.Fields(keys.String())
	run, err := os.ReadFile(filepath.Join(appDir, "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	mapped := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(?:opt|onoff) ([a-z_]+) ([A-Z_]+)$`).FindAllStringSubmatch(string(run), -1) {
		if !slices.Contains(known, m[2]) {
			t.Errorf("run.sh maps %s to %s, which the bridge does not read", m[1], m[2])
		}
		mapped[m[1]] = m[2]
	}
	for k := range schema {
		if mapped[k] == "" {
			t.Errorf("option %s is not mapped to a variable in run.sh", k)
		}
	}
	for _, want := range []string{"IFSTAT_STATE_DIR=/data", "bashio::services mqtt host", "bashio::services mqtt username",
		"bashio::services mqtt password", "IFSTAT_BROKER=", "exec /usr/bin/ifstat-bridge"} {
		if !strings.Contains(string(run), want) {
			t.Errorf("run.sh lacks %q", want)
		}
	}
	for _, v := range []string{"IFSTAT_STATE_DIR", "IFSTAT_BROKER", "IFSTAT_USERNAME", "IFSTAT_PASSWORD"} {
		if !slices.Contains(known, v) {
			t.Errorf("run.sh sets %s, which the bridge does not read", v)
		}
	}

	// Translations name every option, and only those.
	_, tr := plainYAML(t, filepath.Join(appDir, "translations", "en.yaml"))
	for k := range schema {
		if tr["configuration"][k+".name"] == "" {
			t.Errorf("translations/en.yaml: %s has no name", k)
		}
	}
	for k := range tr["configuration"] {
		if opt, _, _ := strings.Cut(k, "."); schema[opt] == "" {
			t.Errorf("translations/en.yaml: %s is no option", k)
		}
	}

	// The Supervisor takes every config.* outside dot folders and rootfs
	// for an app (store/data.py _find_app_configs): only ours may exist.
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "rootfs") {
			return filepath.SkipDir
		}
		switch filepath.Ext(d.Name()) {
		case ".json", ".yaml", ".yml":
			if strings.TrimSuffix(d.Name(), filepath.Ext(d.Name())) == "config" && path != filepath.Join(appDir, "config.yaml") {
				t.Errorf("%s would be taken for a Home Assistant app", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("../repository.yaml"); err != nil || !strings.Contains(string(b), "\nname: ") {
		t.Errorf("repository.yaml with a name at the repository root: %v", err)
	}
}
