package discovery_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/hatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// awkward is a router whose interface names break naive id code.
var awkward = discovery.Router{
	Node:   "er-x",
	Info:   &wire.Info{Node: "er-x", Version: "v0.1.0", OS: "linux", Arch: "mipsle", Kernel: "4.14.54-UBNT", Hostname: "ER-X"},
	Ifaces: []string{"eth0", "eth0.100", "eth0_100", "veth1@if3", "pppoe-wan", "wlan0-1", "br-lan:1", "💩0"},
}

var opts = discovery.Options{BridgeID: "nas", BridgeVersion: "v0.2.0"}

func render(msgs []discovery.Message) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s retained=%v\n%s\n\n", m.Topic, m.Retained, m.Payload)
	}
	return b.Bytes()
}

func TestIfaceID(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"eth0", "eth0"},
		{"pppoe-wan", "pppoe-wan"},
		{"wlan0-1", "wlan0-1"},
		{"eth0_100", "eth0_100"},
		{"ETH0", "ETH0"},
		{"eth0.100", "eth0_100_959ba6"},
		{"veth1@if3", "veth1_if3_7528d3"},
		{"br-lan:1", "br-lan_1_daef93"},
		{"💩0", "_0_5967cb"},
		{"wlan 0", "wlan_0_1f1f83"},
		{"", "_e3b0c4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := discovery.IfaceID(tt.name); got != tt.want {
				t.Errorf("IfaceID(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestConfigsGolden(t *testing.T) {
	t.Parallel()
	msgs := mustConfigs(t, opts, awkward)
	golden.Check(t, t.Name()+".golden", render(msgs))
}

func TestBridgeConfigsGolden(t *testing.T) {
	t.Parallel()
	msgs, err := discovery.BridgeConfigs(opts)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, t.Name()+".golden", render(msgs))
}

// TestConfigsValid checks every payload against HA's rules, and that topics
// and unique_ids never repeat, across routers and options.
func TestConfigsValid(t *testing.T) {
	t.Parallel()
	routers := []discovery.Router{
		awkward,
		{Node: "er", Ifaces: []string{"x-eth0", "eth0"}}, // no Info yet
		{Node: "er-x_2", Info: &wire.Info{Node: "er-x_2"}, Ifaces: []string{"eth0"}},
	}
	bridge, err := discovery.BridgeConfigs(opts)
	if err != nil {
		t.Fatal(err)
	}
	all := bridge
	for _, r := range routers {
		msgs, err := discovery.Configs(opts, r)
		if err != nil {
			t.Fatalf("Configs(%s): %v", r.Node, err)
		}
		if want := 2 + 13*len(r.Ifaces); len(msgs) != want {
			t.Errorf("Configs(%s) gave %d messages, want %d", r.Node, len(msgs), want)
		}
		all = append(all, msgs...)
	}
	// default_entity_id may repeat (node "er" + "x-eth0" and node "er-x" +
	// "eth0" slugify alike): HA then appends _2, as for any entity id.
	topics, uids := map[string]bool{}, map[string]bool{}
	for _, m := range all {
		if errs := hatest.Validate(m.Topic, m.Payload); errs != nil {
			t.Errorf("%s: %v", m.Topic, errors.Join(errs...))
		}
		if !m.Retained {
			t.Errorf("%s: config not retained", m.Topic)
		}
		uid := field(t, m.Payload, `"unique_id":"`)
		for _, seen := range []struct {
			set map[string]bool
			key string
		}{{topics, m.Topic}, {uids, uid}} {
			if seen.set[seen.key] {
				t.Errorf("%q used twice", seen.key)
			}
			seen.set[seen.key] = true
		}
	}
}

func field(t *testing.T, payload []byte, key string) string {
	t.Helper()
	_, rest, ok := strings.Cut(string(payload), key)
	if !ok {
		t.Fatalf("%s missing in %s", key, payload)
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func TestConfigsDetails(t *testing.T) {
	t.Parallel()
	o := opts
	o.Interval = 1500 * time.Millisecond
	msgs := mustConfigs(t, o, discovery.Router{Node: "gw", Ifaces: []string{"eth0"}})
	rx := string(msgs[2].Payload)
	for _, want := range []string{
		`"name":"eth0 receive rate"`,
		`"unique_id":"ifstat:gw:eth0:rx_rate"`,
		`"state_topic":"ifstat/gw/state"`,
		`"expire_after":5`, // ceil(3 × 1.5 s)
		`"availability_mode":"all"`,
		`{"topic":"ifstat/gw/status","payload_available":"online","payload_not_available":"offline"}`,
		`{"topic":"ifstat/bridge/nas/status","payload_available":"online","payload_not_available":"offline"}`,
		`"device":{"identifiers":["ifstat:gw"],"name":"gw","via_device":"ifstat-bridge:nas"}`,
	} {
		if !strings.Contains(rx, want) {
			t.Errorf("rx rate config lacks %s:\n%s", want, rx)
		}
	}
	if got, want := msgs[2].Topic, "homeassistant/sensor/ifstat_gw/eth0_rx_rate/config"; got != want {
		t.Errorf("topic = %q, want %q", got, want)
	}
}

// TestRefreshAndPeakEntities: the refresh period is an enabled diagnostic
// duration in seconds; the peak rates are data rates, enabled by default
// only when the bridge samples faster than once a second.
func TestRefreshAndPeakEntities(t *testing.T) {
	t.Parallel()
	type entity struct {
		Name             string
		ValueTemplate    string `json:"value_template"`
		DeviceClass      string `json:"device_class"`
		Unit             string `json:"unit_of_measurement"`
		StateClass       string `json:"state_class"`
		Precision        int    `json:"suggested_display_precision"`
		EntityCategory   string `json:"entity_category"`
		EnabledByDefault *bool  `json:"enabled_by_default"`
	}
	no := false
	tpl := func(f string) string {
		return "{{ (value_json.ifaces['eth0'] | default({}))." + f + " | default(none) }}"
	}
	refresh := entity{"eth0 refresh period", tpl("refresh_s"), "duration", "s", "measurement", 4, "diagnostic", nil}
	peaks := func(enabled *bool) map[string]entity {
		return map[string]entity{
			"eth0_rx_peak": {"eth0 peak receive rate", tpl("rx_peak_bps"), "data_rate", "bit/s", "measurement", 0, "", enabled},
			"eth0_tx_peak": {"eth0 peak send rate", tpl("tx_peak_bps"), "data_rate", "bit/s", "measurement", 0, "", enabled},
			"eth0_refresh": refresh,
		}
	}
	tests := []struct {
		name   string
		sample time.Duration
		want   map[string]entity
	}{
		{"interval unknown", 0, peaks(&no)},
		{"1 s", time.Second, peaks(&no)},
		{"5 s", 5 * time.Second, peaks(&no)},
		{"999 ms", 999 * time.Millisecond, peaks(nil)},
		{"250 ms", 250 * time.Millisecond, peaks(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := opts
			o.SampleInterval = tt.sample
			msgs := mustConfigs(t, o, discovery.Router{Node: "gw", Ifaces: []string{"eth0"}})
			got := map[string]entity{}
			for _, m := range msgs {
				object := strings.Split(m.Topic, "/")[3]
				if _, ok := tt.want[object]; !ok {
					continue
				}
				if errs := hatest.Validate(m.Topic, m.Payload); errs != nil {
					t.Errorf("%s: %v", m.Topic, errors.Join(errs...))
				}
				var e entity
				if err := json.Unmarshal(m.Payload, &e); err != nil {
					t.Fatal(err)
				}
				got[object] = e
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("entities (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOptionsPrefixes(t *testing.T) {
	t.Parallel()
	o := discovery.Options{HAPrefix: "ha", TopicPrefix: "lab/ifstat", BridgeID: "b1", Interval: time.Minute}
	msgs := mustConfigs(t, o, discovery.Router{Node: "gw", Ifaces: []string{"eth0"}})
	m := msgs[2]
	if got, want := m.Topic, "ha/sensor/lab_ifstat_d64500_gw/eth0_rx_rate/config"; got != want {
		t.Errorf("topic = %q, want %q", got, want)
	}
	for _, want := range []string{`"state_topic":"lab/ifstat/gw/state"`, `"expire_after":180`, `"topic":"lab/ifstat/bridge/b1/status"`, `"unique_id":"lab_ifstat_d64500:gw:eth0:rx_rate"`} {
		if !strings.Contains(string(m.Payload), want) {
			t.Errorf("payload lacks %s:\n%s", want, m.Payload)
		}
	}
	if errs := hatest.Validate(m.Topic, m.Payload); errs != nil {
		t.Error(errors.Join(errs...))
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    discovery.Options
		r    discovery.Router
	}{
		{"no bridge id", discovery.Options{}, discovery.Router{Node: "gw"}},
		{"bridge id with slash", discovery.Options{BridgeID: "a/b"}, discovery.Router{Node: "gw"}},
		{"wildcard prefix", discovery.Options{BridgeID: "b", TopicPrefix: "a/+"}, discovery.Router{Node: "gw"}},
		{"bad ha prefix", discovery.Options{BridgeID: "b", HAPrefix: "#"}, discovery.Router{Node: "gw"}},
		{"negative interval", discovery.Options{BridgeID: "b", Interval: -time.Second}, discovery.Router{Node: "gw"}},
		{"negative sample interval", discovery.Options{BridgeID: "b", SampleInterval: -time.Second}, discovery.Router{Node: "gw"}},
		{"node plus", opts, discovery.Router{Node: "+"}},
		{"node upper", opts, discovery.Router{Node: "GW"}},
		{"iface slash", opts, discovery.Router{Node: "gw", Ifaces: []string{"a/b"}}},
		{"iface empty", opts, discovery.Router{Node: "gw", Ifaces: []string{""}}},
		{"iface control", opts, discovery.Router{Node: "gw", Ifaces: []string{"a\x01"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msgs, err := discovery.Configs(tt.o, tt.r)
			if !errors.Is(err, discovery.ErrInvalid) || msgs != nil {
				t.Errorf("Configs = %d msgs, %v; want ErrInvalid", len(msgs), err)
			}
			if _, err := discovery.Removals(tt.o, tt.r.Node, tt.r.Ifaces, nil); !errors.Is(err, discovery.ErrInvalid) {
				t.Errorf("Removals err = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestRemovals: removing two interfaces clears exactly their configs, and
// ConfigTopics names every config Configs published.
func TestRemovals(t *testing.T) {
	t.Parallel()
	cfgs := mustConfigs(t, opts, awkward)
	gone := []string{"eth0.100", "💩0"}
	rm, err := discovery.Removals(opts, awkward.Node, gone, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range cfgs {
		for _, name := range gone {
			if strings.Contains(m.Topic, "/"+discovery.IfaceID(name)+"_") {
				want = append(want, m.Topic)
			}
		}
	}
	if diff := cmp.Diff(want, topicsOf(t, rm)); diff != "" {
		t.Errorf("Removals topics (-want +got):\n%s", diff)
	}
	all, err := discovery.ConfigTopics(opts, awkward)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(topicsOf(t, cfgs), all); diff != "" {
		t.Errorf("ConfigTopics (-want +got):\n%s", diff)
	}
}

func topicsOf(t *testing.T, msgs []discovery.Message) []string {
	t.Helper()
	var ts []string
	for _, m := range msgs {
		if len(m.Payload) != 0 || !m.Retained {
			if bytes.HasPrefix(m.Payload, []byte("{")) {
				ts = append(ts, m.Topic)
				continue
			}
			t.Errorf("%s: removal payload %q retained=%v", m.Topic, m.Payload, m.Retained)
		}
		ts = append(ts, m.Topic)
	}
	return ts
}

// TestNameEntityIDs checks the entity ids HA before 2025.10 derives from
// names (it ignores default_entity_id): interfaces whose names slug alike
// (eth0.100, eth0_100, ETH0, eth0) get distinct names, so every entity
// gets its id without a _2 suffix, the same in every discovery order.
func TestNameEntityIDs(t *testing.T) {
	t.Parallel()
	r := awkward
	r.Ifaces = append(slices.Clone(r.Ifaces), "ETH0", "eth0-100", "eth0-peak")
	r.Tariffs = []discovery.Tariff{{Name: "normal", Capped: true}}
	ids := func(ifaces []string) map[string]string {
		rr := r
		rr.Ifaces = ifaces
		msgs := mustConfigs(t, opts, rr)
		byUID, taken := map[string]string{}, map[string]bool{}
		for _, m := range msgs {
			var c struct {
				Name   string `json:"name"`
				UID    string `json:"unique_id"`
				Device struct {
					Name string `json:"name"`
				} `json:"device"`
			}
			if err := json.Unmarshal(m.Payload, &c); err != nil {
				t.Fatal(err)
			}
			component := strings.Split(m.Topic, "/")[1]
			byUID[c.UID] = hatest.Register(taken, hatest.NameEntityID(component, c.Device.Name, c.Name))
		}
		return byUID
	}
	first := ids(r.Ifaces)
	for uid, id := range first {
		if strings.HasSuffix(id, "_2") {
			t.Errorf("%s: entity id %s has a collision suffix", uid, id)
		}
	}
	for _, uid := range []string{"ifstat:er-x:eth0:rx_rate", "ifstat:er-x:eth0_100:rx_rate",
		"ifstat:er-x:eth0_100_959ba6:rx_rate", "ifstat:er-x:ETH0:rx_rate", "ifstat:er-x:eth0-100:rx_rate",
		"ifstat:er-x:eth0:rx_peak", "ifstat:er-x:eth0-peak:rx_rate"} {
		t.Logf("%-38s -> %s", uid, first[uid])
	}
	rev := slices.Clone(r.Ifaces)
	slices.Reverse(rev)
	if diff := cmp.Diff(first, ids(rev)); diff != "" {
		t.Errorf("entity ids depend on the interface order (-given +reversed):\n%s", diff)
	}
}

func TestTariffsSlugAlike(t *testing.T) {
	t.Parallel()
	r := discovery.Router{Node: "gw", Ifaces: []string{"eth0"},
		Tariffs: []discovery.Tariff{{Name: "peak_hours"}, {Name: "peak-hours"}}}
	if _, err := discovery.Configs(opts, r); !errors.Is(err, discovery.ErrInvalid) {
		t.Errorf("tariffs peak_hours and peak-hours: err = %v, want ErrInvalid", err)
	}
}

// TestFleetConfigsNameNoBridge: in a fleet any bridge may publish a router's
// configs, so they must be the same bytes whichever does, and still valid;
// a single bridge's name it (availability, via_device).
func TestFleetConfigsNameNoBridge(t *testing.T) {
	t.Parallel()
	a, b := opts, opts
	a.Fleet, b.Fleet, b.BridgeID = true, true, "nas2"
	ma, mb := mustConfigs(t, a, awkward), mustConfigs(t, b, awkward)
	if diff := cmp.Diff(render(ma), render(mb)); diff != "" {
		t.Errorf("fleet configs differ between bridges (-nas +nas2):\n%s", diff)
	}
	for _, m := range ma {
		if errs := hatest.Validate(m.Topic, m.Payload); errs != nil {
			t.Errorf("%s: %v", m.Topic, errors.Join(errs...))
		}
		if bytes.Contains(m.Payload, []byte("nas")) {
			t.Errorf("%s names the bridge: %s", m.Topic, m.Payload)
		}
	}
	single := render(mustConfigs(t, opts, awkward))
	for _, want := range []string{`"via_device":"ifstat-bridge:nas"`, `ifstat/bridge/nas/status`} {
		if !bytes.Contains(single, []byte(want)) {
			t.Errorf("a single bridge's configs lack %s", want)
		}
	}
}
