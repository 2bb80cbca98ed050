package bridge_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/hatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/haout"
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
	snap := netdev.Snapshot{MonoNS: r.base + int64(el), TimeNS: time.Now().UnixNano(), Ifaces: map[string]wire.Counters{}}
	for n, rate := range r.rates {
		if !r.ifaces[n] {
			continue
		}
		b := uint64(el.Seconds() * float64(rate))
		snap.Ifaces[n] = wire.Counters{RxBytes: b, TxBytes: b / 4, RxPackets: b / 1000, TxPackets: b / 4000, Ifindex: int64(len(n)), SpeedMbps: 10000}
	}
	return snap, nil
}

func (r *liveReader) BootID() string { return "boot-ha" }

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
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// runBridge runs a bridge with the Home Assistant output, as the binary
// wires it, until the returned stop is called.
func runBridge(t *testing.T, ctx context.Context, b *brokertest.Broker, id, node string, obsolete time.Duration, stateDir string) (stop func()) {
	t.Helper()
	cfg := bridge.Config{
		Common: common(b), Interval: 200 * time.Millisecond, Nodes: []string{node}, Netdata: "off",
		ObsoleteAfter: obsolete, MaxGap: 10 * time.Second, MaxBitsPerSec: 1e10, BridgeID: id,
		HA: "on", HAPrefix: "homeassistant", HAInterval: 2 * time.Second, StateDir: stateDir, StateInterval: time.Minute,
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
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); br.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

type haState struct {
	Ifaces map[string]struct {
		Name    string   `json:"name"`
		RxBps   *float64 `json:"rx_bps"`
		RxBytes uint64   `json:"rx_bytes"`
	} `json:"ifaces"`
}

// nextState waits for a state message of node with a rate for iface.
func nextState(t *testing.T, ch <-chan mqtt.Message, iface string) (bps float64, total uint64) {
	t.Helper()
	guard := time.After(30 * time.Second)
	for {
		select {
		case m := <-ch:
			var s haState
			if err := json.Unmarshal(m.Payload(), &s); err != nil {
				t.Fatalf("state payload %q: %v", m.Payload(), err)
			}
			for _, st := range s.Ifaces {
				if st.Name == iface && st.RxBps != nil {
					return *st.RxBps, st.RxBytes
				}
			}
		case <-guard:
			t.Fatalf("no state with a rate for %s before the guard timeout", iface)
		}
	}
}

// retainedConfigs returns the retained discovery configs a fresh
// subscriber gets for node, by topic.
func retainedConfigs(t *testing.T, b *brokertest.Broker, node string) map[string][]byte {
	t.Helper()
	c := b.Client(t, "probe-"+node+"-"+time.Now().Format("150405.000000"))
	ch := brokertest.Subscribe(t, c, "homeassistant/#", 4096)
	got := map[string][]byte{}
	quiet := time.NewTimer(time.Second)
	for {
		select {
		case m := <-ch:
			if m.Retained() && strings.Contains(m.Topic(), "_"+node+"/") {
				got[m.Topic()] = m.Payload()
			}
			quiet.Reset(500 * time.Millisecond)
		case <-quiet.C:
			return got
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

func TestHomeAssistantExactWindowAverage(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	ctx := t.Context()
	const rate = 3_000_000 // bytes/s: 24 Mbit/s
	runAgent(t, ctx, b, "ha-avg", newLiveReader(map[string]uint64{"eth0": rate}))
	watcher := b.Client(t, "watch-avg")
	states := brokertest.Subscribe(t, watcher, discovery.StateTopic("ifstat", "ha-avg"), 64)
	runBridge(t, ctx, b, "br-avg", "ha-avg", time.Minute, "")
	nextState(t, states, "eth0") // the first window may be partial
	for i := range 3 {
		bps, _ := nextState(t, states, "eth0")
		want := float64(rate * 8)
		t.Logf("window %d: rx_bps %.3f, true %.0f, error %+.5f %%", i, bps, want, (bps-want)/want*100)
		if d := (bps - want) / want; d > 0.001 || d < -0.001 {
			t.Errorf("window average %.3f bit/s is %.4f %% off the true %.0f", bps, d*100, want)
		}
	}
}

func TestHomeAssistantBirthRepublishes(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	ctx := t.Context()
	runAgent(t, ctx, b, "ha-birth", newLiveReader(map[string]uint64{"eth0": 1000, "wg0": 10}))
	runBridge(t, ctx, b, "br-birth", "ha-birth", time.Minute, "")
	before := retainedConfigs(t, b, "ha-birth")
	for len(before) < 2+2*10 {
		time.Sleep(200 * time.Millisecond)
		before = retainedConfigs(t, b, "ha-birth")
	}
	// A live subscriber sees re-published configs as non-retained
	// deliveries; count them after HA announces itself.
	c := b.Client(t, "ha-core")
	ch := brokertest.Subscribe(t, c, "homeassistant/+/+/+/config", 4096)
	drain(ch, 500*time.Millisecond)
	if tok := c.Publish("homeassistant/status", 1, false, "online"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal("publishing HA birth failed")
	}
	again := map[string]bool{}
	guard := time.After(20 * time.Second)
	for len(again) < len(before) {
		select {
		case m := <-ch:
			if _, ok := before[m.Topic()]; ok {
				again[m.Topic()] = true
			}
		case <-guard:
			t.Fatalf("after HA birth %d of %d configs re-published", len(again), len(before))
		}
	}
}

func drain(ch <-chan mqtt.Message, quiet time.Duration) {
	for {
		select {
		case <-ch:
		case <-time.After(quiet):
			return
		}
	}
}

func TestHomeAssistantVanishedInterfaceRemoved(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	ctx := t.Context()
	r := newLiveReader(map[string]uint64{"eth0": 1000, "wg0": 10})
	runAgent(t, ctx, b, "ha-gone", r)
	runBridge(t, ctx, b, "br-gone", "ha-gone", 2*time.Second, "")
	hasWG := func(cfgs map[string][]byte) bool {
		for topic := range cfgs {
			if strings.Contains(topic, "_wg0_") || strings.Contains(topic, "/wg0_") {
				return true
			}
		}
		return false
	}
	guard := time.Now().Add(30 * time.Second)
	for !hasWG(retainedConfigs(t, b, "ha-gone")) {
		if time.Now().After(guard) {
			t.Fatal("wg0 configs never published")
		}
	}
	r.remove("wg0")
	for {
		cfgs := retainedConfigs(t, b, "ha-gone")
		if !hasWG(cfgs) {
			if len(cfgs) < 2+10 {
				t.Errorf("only %d configs left; eth0's and the router's must stay", len(cfgs))
			}
			return
		}
		if time.Now().After(guard.Add(30 * time.Second)) {
			t.Fatal("wg0 configs still retained long after it vanished")
		}
	}
}

func TestHomeAssistantBridgeRestartKeepsIDsAndTotals(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	ctx := t.Context()
	runAgent(t, ctx, b, "ha-restart", newLiveReader(map[string]uint64{"eth0": 500_000}))
	watcher := b.Client(t, "watch-restart")
	states := brokertest.Subscribe(t, watcher, discovery.StateTopic("ifstat", "ha-restart"), 64)

	stop := runBridge(t, ctx, b, "br-restart", "ha-restart", time.Minute, t.TempDir())
	nextState(t, states, "eth0")
	_, total1 := nextState(t, states, "eth0")
	ids1 := uniqueIDs(t, retainedConfigs(t, b, "ha-restart"))
	stop()

	time.Sleep(2 * time.Second) // traffic while no bridge runs
	// A new bridge process: no file (another host), only the broker's
	// retained copy of the state.
	runBridge(t, ctx, b, "br-restart", "ha-restart", time.Minute, t.TempDir())
	_, total2 := nextState(t, states, "eth0")
	ids2 := uniqueIDs(t, retainedConfigs(t, b, "ha-restart"))
	t.Logf("rx total before the restart %d, first after %d", total1, total2)
	// At 500 kB/s at least 2 s passed between the two states: the
	// downtime's traffic is counted, not lost, and nothing went down.
	if total2 < total1+1_000_000 {
		t.Errorf("rx total after restart %d, before %d: downtime traffic lost or totals reset", total2, total1)
	}
	if !slices.Equal(ids1, ids2) || len(ids1) == 0 {
		t.Errorf("unique_ids changed across the restart:\n%v\n%v", ids1, ids2)
	}
}

func TestHomeAssistantAgentLWTMakesUnavailable(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the agent")
	}
	b := brokertest.Start(t)
	bin := proctest.Build(t, proctest.AgentPkg)[proctest.AgentPkg]
	tree := netdevtest.NewTree(t)
	tree.Set("eth0", wire.Counters{RxBytes: 1, Ifindex: 2})
	tree.Write()
	ag := proctest.Start(t, "agent ha-lwt", bin, append(os.Environ(), "IFSTAT_BROKER="+b.URL(), "IFSTAT_NODE=ha-lwt", "IFSTAT_PROC_ROOT="+tree.ProcRoot(), "IFSTAT_SYS_ROOT="+tree.SysRoot()))
	runBridge(t, t.Context(), b, "br-lwt", "ha-lwt", time.Minute, "")

	// The entities' availability names the agent's status topic.
	var avail []string
	guard := time.Now().Add(30 * time.Second)
	for len(avail) == 0 {
		for topic, p := range retainedConfigs(t, b, "ha-lwt") {
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
			break
		}
		if time.Now().After(guard) {
			t.Fatal("no sensor config published")
		}
	}
	agentStatus := "ifstat/ha-lwt/status"
	if !slices.Contains(avail, agentStatus) {
		t.Fatalf("availability %v does not include %s", avail, agentStatus)
	}
	if got := retained(t, b, agentStatus); got != "online" {
		t.Fatalf("agent status %q before the kill, want online", got)
	}
	ag.Kill(t) // no clean "offline": only the LWT can say it
	for got := retained(t, b, agentStatus); got != "offline"; got = retained(t, b, agentStatus) {
		if time.Now().After(guard.Add(30 * time.Second)) {
			t.Fatalf("agent status %q after SIGKILL, want the LWT offline", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func retained(t *testing.T, b *brokertest.Broker, topic string) string {
	t.Helper()
	c := b.Client(t, "ret-"+time.Now().Format("150405.000000"))
	ch := brokertest.Subscribe(t, c, topic, 4)
	select {
	case m := <-ch:
		return string(m.Payload())
	case <-time.After(2 * time.Second):
		return ""
	}
}
