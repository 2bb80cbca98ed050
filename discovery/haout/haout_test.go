package haout

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/hatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// awkward are interface names that break naive ids and topics.
var awkward = []string{"br-lan", "eth0", "eth0.100", "ibr10:30", "pppoe-wan", "veth1@if3", "wlan0-1", "💩0"}

// counters returns values of iface i at tick k: each interface moves at
// its own constant rate.
func counters(i, k int) rate.Values {
	n := uint64(i+1) * uint64(k)
	return rate.Values{n * 125_000, n * 25_000, n * 100, n * 50, 0, n, n * 2, 0}
}

func allAt(names []string, k int) map[string]rate.Values {
	m := make(map[string]rate.Values, len(names))
	for i, name := range names {
		m[name] = counters(i, k)
	}
	return m
}

// run drives ticks from..to the way the bridge does: Tick, then the tick's
// reply (or gap when gap(k)).
func run(t *testing.T, out *Output, a *agent, from, to int, vals func(k int) map[string]rate.Values) {
	t.Helper()
	for k := from; k <= to; k++ {
		if err := out.Tick(tick(k), tick(k).Add(time.Millisecond)); err != nil {
			t.Fatalf("Tick: %v", err)
		}
		v := vals(k)
		var ns *bridge.NodeSample
		if v == nil {
			ns = a.gap(k)
		} else {
			ns = a.reply(k, int64(k)*1e9+12345, v)
		}
		if err := out.Emit(ns, tick(k).Add(5*time.Millisecond)); err != nil {
			t.Fatalf("Emit: %v", err)
		}
	}
}

// scenario is the router of the golden file: awkward names, 11 ticks, one
// full window published.
func scenario(t *testing.T) (*Output, *recorder, *agent) {
	t.Helper()
	out, rec := newOutput(t, 30*time.Second)
	out.Connected(tick(0))
	a := newAgent("er-x", erxInfo)
	run(t, out, a, 0, 10, func(k int) map[string]rate.Values { return allAt(awkward, k) })
	out.Tick(tick(11), tick(11).Add(time.Millisecond))
	return out, rec, a
}

func checkAll(t *testing.T, msgs []msg) {
	t.Helper()
	for _, m := range msgs {
		if strings.HasSuffix(m.Topic, "/state") {
			if m.QoS != StateQoS || m.Retained {
				t.Errorf("state %s: qos %d retained %t, want 0 false", m.Topic, m.QoS, m.Retained)
			}
			continue
		}
		if m.QoS != ConfigQoS || !m.Retained {
			t.Errorf("config %s: qos %d retained %t, want 1 true", m.Topic, m.QoS, m.Retained)
		}
		for _, err := range hatest.Validate(m.Topic, []byte(m.Payload)) {
			t.Errorf("%s: %v", m.Topic, err)
		}
	}
}

func TestScenarioGolden(t *testing.T) {
	t.Parallel()
	_, rec, _ := scenario(t)
	msgs := rec.take()
	checkAll(t, msgs)
	st := states(msgs)
	// Windows :00 (baseline only) and :10.
	if len(st) != 2 {
		t.Fatalf("published %d states, want 2", len(st))
	}
	s := decodeState(t, st[1])
	var names []string
	for id, f := range s.Ifaces {
		if id != discovery.IfaceID(f.Name) {
			t.Errorf("state key %q carries name %q whose id is %q", id, f.Name, discovery.IfaceID(f.Name))
		}
		names = append(names, f.Name)
	}
	if diff := cmp.Diff(awkward, names, sortStrings); diff != "" {
		t.Errorf("raw names in the state (-want +got):\n%s", diff)
	}
	// eth0 is interface 1: 250 kB/s = 2 Mbit/s exactly.
	if r := s.Ifaces["eth0"].RxBps; r == nil || *r != 2_000_000 {
		t.Errorf("eth0 rx_bps = %v, want 2000000", r)
	}
	golden.Check(t, t.Name()+".golden", render(msgs))
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
})

func routerConfigs(t *testing.T, info *wire.Info, ifaces ...string) []msg {
	t.Helper()
	ms, err := discovery.Configs(testOptions(), discovery.Router{Node: "er-x", Info: info, Ifaces: ifaces})
	if err != nil {
		t.Fatal(err)
	}
	return asMsgs(ms, ConfigQoS)
}

func bridgeConfigs(t *testing.T) []msg {
	t.Helper()
	ms, err := discovery.BridgeConfigs(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	return asMsgs(ms, ConfigQoS)
}

func TestBirth(t *testing.T) {
	t.Parallel()
	out, rec, _ := scenario(t)
	last := states(rec.take())
	out.Birth(tick(12))
	drain(out)
	out.waitBirths()
	want := append(bridgeConfigs(t), routerConfigs(t, erxInfo, awkward...)...)
	want = append(want, last[len(last)-1])
	if diff := cmp.Diff(want, rec.take()); diff != "" {
		t.Errorf("Birth published (-want +got):\n%s", diff)
	}
}

func TestConnected(t *testing.T) {
	t.Parallel()
	out, rec, _ := scenario(t)
	rec.take()
	out.Connected(tick(12))
	drain(out)
	want := append(bridgeConfigs(t), routerConfigs(t, erxInfo, awkward...)...)
	if diff := cmp.Diff(want, rec.take()); diff != "" {
		t.Errorf("Connected published (-want +got):\n%s", diff)
	}
}

// TestRemoval: wg0 disappears from the replies at tick 3 (with a gap at
// tick 5 that must not count), is removed once absent for more than 3 s,
// and comes back at tick 12.
func TestRemoval(t *testing.T) {
	t.Parallel()
	out, rec := newOutput(t, 3*time.Second)
	a := newAgent("er-x", erxInfo)
	vals := func(k int) map[string]rate.Values {
		switch {
		case k == 5:
			return nil
		case k >= 3 && k < 12:
			return allAt([]string{"eth0"}, k)
		}
		return allAt([]string{"eth0", "wg0"}, k)
	}
	run(t, out, a, 0, 6, vals)
	for _, m := range rec.take() {
		if m.Payload == "" {
			t.Errorf("removal before wg0 was absent for more than 3 s: %s", m.Topic)
		}
	}
	run(t, out, a, 7, 7, vals)
	gone, err := discovery.Removals(testOptions(), "er-x", []string{"wg0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(asMsgs(gone, ConfigQoS), rec.take()); diff != "" {
		t.Errorf("tick 7, wg0 absent 4 s: published (-want +got):\n%s", diff)
	}
	run(t, out, a, 8, 11, vals)
	st := states(rec.take())
	if len(st) != 1 {
		t.Fatalf("published %d states, want 1", len(st))
	}
	if s := decodeState(t, st[0]); len(s.Ifaces) != 1 || s.Ifaces["eth0"].Name != "eth0" {
		t.Errorf("state after removal: %s, want eth0 only", st[0].Payload)
	}
	run(t, out, a, 12, 12, vals)
	drain(out)
	if diff := cmp.Diff(routerConfigs(t, erxInfo, "eth0", "wg0"), rec.take()); diff != "" {
		t.Errorf("wg0 back: published (-want +got):\n%s", diff)
	}
}

// TestObsolete: the sampler's Obsolete flag removes the interface at once.
func TestObsolete(t *testing.T) {
	t.Parallel()
	out, rec := newOutput(t, 0)
	a := newAgent("er-x", erxInfo)
	run(t, out, a, 0, 1, func(k int) map[string]rate.Values { return allAt([]string{"eth0", "wg0"}, k) })
	rec.take()
	ns := a.reply(2, 2e9+12345, allAt([]string{"eth0"}, 2))
	for i := range ns.Ifaces {
		if ns.Ifaces[i].Name == "wg0" {
			ns.Ifaces[i].Obsolete = true
		}
	}
	out.Emit(ns, tick(2))
	want, err := discovery.Removals(testOptions(), "er-x", []string{"wg0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(asMsgs(want, ConfigQoS), rec.take()); diff != "" {
		t.Errorf("Obsolete published (-want +got):\n%s", diff)
	}
	out.Tick(tick(11), tick(11))
	for _, m := range rec.take() {
		if strings.Contains(m.Payload, "wg0") {
			t.Errorf("state after removal still has wg0: %s", m.Payload)
		}
	}
}

// TestConfigTriggers runs one router through a sequence of samples; each
// step says what Emit must publish.
func TestConfigTriggers(t *testing.T) {
	out, rec := newOutput(t, 0)
	v2 := *erxInfo
	v2.Version = "v0.2.0"
	boot2 := v2
	boot2.BootID = "another-boot"
	steps := []struct {
		name   string
		info   *wire.Info
		ifaces []string
		gap    bool
		want   []msg
	}{
		{"first seen without info", nil, []string{"eth0"}, false, routerConfigs(t, nil, "eth0")},
		{"unchanged", nil, []string{"eth0"}, false, nil},
		{"info arrives", erxInfo, []string{"eth0"}, false, routerConfigs(t, erxInfo, "eth0")},
		{"info unchanged", erxInfo, []string{"eth0"}, false, nil},
		{"new version", &v2, []string{"eth0"}, false, routerConfigs(t, &v2, "eth0")},
		{"boot id only", &boot2, []string{"eth0"}, false, nil},
		{"info gone again", nil, []string{"eth0"}, false, nil},
		{"set grows", &v2, []string{"eth0", "eth0.100"}, false, routerConfigs(t, &v2, "eth0", "eth0.100")},
		{"one absent", &v2, []string{"eth0"}, false, nil},
		{"gap", &v2, nil, true, nil},
		{"back", &v2, []string{"eth0", "eth0.100"}, false, nil},
	}
	a := newAgent("er-x", nil)
	for k, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			a.info = st.info
			ns := a.gap(k)
			if !st.gap {
				ns = a.reply(k, int64(k)*1e9+1, allAt(st.ifaces, k))
			}
			if err := out.Emit(ns, tick(k)); err != nil {
				t.Fatal(err)
			}
			drain(out)
			got := rec.take()
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("published (-want +got):\n%s", diff)
			}
			checkAll(t, got)
		})
	}
	var cfg struct {
		Device struct {
			SWVersion string `json:"sw_version"`
		} `json:"device"`
	}
	last := routerConfigs(t, &v2, "eth0")[0]
	if err := json.Unmarshal([]byte(last.Payload), &cfg); err != nil || cfg.Device.SWVersion != "v0.2.0" {
		t.Errorf("republished config has sw_version %q (%v), want v0.2.0", cfg.Device.SWVersion, err)
	}
}

// TestBadInput: names discovery cannot use are skipped and logged once,
// an unusable node publishes nothing, nothing panics.
func TestBadInput(t *testing.T) {
	t.Parallel()
	logger, hook := logtest.NewNullLogger()
	rec := &recorder{}
	out, err := New(testOptions(), rec, 0, logrus.NewEntry(logger))
	if err != nil {
		t.Fatal(err)
	}
	// "eth0_100_…" is the id of "eth0.100": a second name with that id.
	clash := discovery.IfaceID("eth0.100")
	a := newAgent("er-x", erxInfo)
	for k := range 3 {
		ns := a.reply(k, int64(k)*1e9+1, allAt([]string{"eth0.100", clash, "bad name", "a/b", ""}, k))
		if err := out.Emit(ns, tick(k)); err != nil {
			t.Fatal(err)
		}
	}
	drain(out)
	if diff := cmp.Diff(routerConfigs(t, erxInfo, "eth0.100"), rec.take()); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	var logged []string
	for _, e := range hook.AllEntries() {
		logged = append(logged, e.Data["iface"].(string))
	}
	if diff := cmp.Diff([]string{clash, "bad name", "a/b", ""}, logged, sortStrings); diff != "" {
		t.Errorf("logged ifaces (-want +got):\n%s", diff)
	}

	bad := newAgent("Bad Node", nil)
	for _, ns := range []*bridge.NodeSample{bad.reply(0, 1, allAt([]string{"eth0"}, 0)), nil, {Node: "er-x", Tick: tick(3)}} {
		if err := out.Emit(ns, tick(3)); err != nil {
			t.Fatal(err)
		}
	}
	out.Tick(tick(30), tick(30))
	for _, m := range rec.take() {
		if !strings.HasPrefix(m.Topic, "ifstat/er-x/") {
			t.Errorf("published for an unusable node: %s", m.Topic)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        discovery.Options
		pub         bridge.Publisher
		removeAfter time.Duration
		wantErr     bool
	}{
		{"ok", testOptions(), &recorder{}, time.Minute, false},
		{"zero remove-after", testOptions(), &recorder{}, 0, false},
		{"no bridge id", discovery.Options{}, &recorder{}, 0, true},
		{"nil publisher", testOptions(), nil, 0, true},
		{"negative remove-after", testOptions(), &recorder{}, -time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := logrus.New()
			l.SetOutput(io.Discard)
			_, err := New(tt.opts, tt.pub, tt.removeAfter, logrus.NewEntry(l))
			if (err != nil) != tt.wantErr {
				t.Errorf("New() error = %v, want error %t", err, tt.wantErr)
			}
		})
	}
}
