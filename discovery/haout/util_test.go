package haout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// msg is one recorded publication.
type msg struct {
	Topic    string
	QoS      byte
	Retained bool
	Payload  string
}

// recorder is a Publisher that keeps everything.
type recorder struct {
	mu   sync.Mutex
	msgs []msg
}

func (r *recorder) Publish(topic string, qos byte, retained bool, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg{topic, qos, retained, string(payload)})
}

// take returns and clears what was recorded.
func (r *recorder) take() []msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs = nil
	return m
}

func testOptions() discovery.Options {
	return discovery.Options{BridgeID: "nas", BridgeVersion: "v0.2.0", Interval: 10 * time.Second}
}

func newOutput(t *testing.T, removeAfter time.Duration) (*Output, *recorder) {
	t.Helper()
	rec := &recorder{}
	o, err := New(testOptions(), rec, removeAfter, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Birth's states follow its configs at once; waitBirths waits.
	o.birthDelay = 0
	return o, rec
}

// t0 is a wall-clock multiple of the 10 s HA interval.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func tick(k int) time.Time { return t0.Add(time.Duration(k) * time.Second) }

var erxInfo = &wire.Info{Node: "er-x", Version: "v0.1.0", OS: "linux", Arch: "mipsle", Kernel: "4.14.54-UBNT", Hostname: "ER-X"}

// agent simulates one agent's interfaces through real rate.Trackers, so
// Results (stale, spans, totals) are what the bridge would produce.
type agent struct {
	node     string
	info     *wire.Info
	trackers map[string]*rate.Tracker
}

func newAgent(node string, info *wire.Info) *agent {
	return &agent{node: node, info: info, trackers: make(map[string]*rate.Tracker)}
}

// reply builds the sample of tick k from counters read at monoNS; names
// not in vals are reported absent if the agent knew them.
func (a *agent) reply(k int, monoNS int64, vals map[string]rate.Values) *bridge.NodeSample {
	ns := &bridge.NodeSample{Node: a.node, Tick: tick(k), Info: a.info, Reply: &wire.Reply{Node: a.node, MonoNS: monoNS}}
	for name := range a.trackers {
		if _, ok := vals[name]; !ok {
			ns.Ifaces = append(ns.Ifaces, bridge.IfaceSample{Name: name, Absent: true})
		}
	}
	for name, v := range vals {
		tr := a.trackers[name]
		if tr == nil {
			tr = rate.New(rate.Config{})
			a.trackers[name] = tr
		}
		res := tr.Update(rate.Sample{BootID: "b", MonoNS: monoNS, Values: v})
		ns.Ifaces = append(ns.Ifaces, bridge.IfaceSample{Name: name, Result: res})
	}
	sortIfaces(ns)
	return ns
}

// gap builds the sample of an unanswered tick k.
func (a *agent) gap(k int) *bridge.NodeSample {
	ns := &bridge.NodeSample{Node: a.node, Tick: tick(k), Gap: true, Info: a.info}
	for name := range a.trackers {
		ns.Ifaces = append(ns.Ifaces, bridge.IfaceSample{Name: name, Absent: true})
	}
	sortIfaces(ns)
	return ns
}

func sortIfaces(ns *bridge.NodeSample) {
	slices.SortFunc(ns.Ifaces, func(x, y bridge.IfaceSample) int { return strings.Compare(x.Name, y.Name) })
}

// stateJSON is the state payload as a consumer decodes it.
type stateJSON struct {
	Time    string               `json:"time"`
	WindowS float64              `json:"window_s"`
	AgeS    *float64             `json:"age_s"`
	Ifaces  map[string]ifaceJSON `json:"ifaces"`
}

type ifaceJSON struct {
	Name    string   `json:"name"`
	RxBps   *float64 `json:"rx_bps"`
	TxBps   *float64 `json:"tx_bps"`
	RxBytes uint64   `json:"rx_bytes"`
	TxBytes uint64   `json:"tx_bytes"`
	RxPps   *float64 `json:"rx_pps"`
	TxPps   *float64 `json:"tx_pps"`
}

func decodeState(t *testing.T, m msg) stateJSON {
	t.Helper()
	var s stateJSON
	if err := json.Unmarshal([]byte(m.Payload), &s); err != nil {
		t.Fatalf("state on %s is not JSON: %v\n%s", m.Topic, err, m.Payload)
	}
	return s
}

// states returns the recorded state messages.
func states(msgs []msg) []msg {
	var out []msg
	for _, m := range msgs {
		if strings.HasSuffix(m.Topic, "/state") {
			out = append(out, m)
		}
	}
	return out
}

// asMsgs turns discovery's messages into what Output publishes with qos.
func asMsgs(ms []discovery.Message, qos byte) []msg {
	out := make([]msg, 0, len(ms))
	for _, m := range ms {
		out = append(out, msg{m.Topic, qos, m.Retained, string(m.Payload)})
	}
	return out
}

func render(msgs []msg) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s qos=%d retained=%t\n%s\n\n", m.Topic, m.QoS, m.Retained, m.Payload)
	}
	return b.Bytes()
}

// drain sends every queued config at once, as enough Ticks would.
func drain(o *Output) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sendQueued(math.MaxInt)
}
