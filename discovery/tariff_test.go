package discovery_test

import (
	"encoding/json"
	"errors"
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

// twoTariffs: unmetered nights, a capped day rate.
var twoTariffs = []discovery.Tariff{{Name: "happy"}, {Name: "normal", Capped: true}}

// tariffRouter is the router of the tariff goldens.
var tariffRouter = discovery.Router{
	Node:    "er-x",
	Info:    &wire.Info{Node: "er-x", Version: "v0.1.0", OS: "linux", Arch: "mipsle", Kernel: "4.14.54-UBNT", Hostname: "ER-X"},
	Ifaces:  []string{"eth0", "eth0.100"},
	Tariffs: twoTariffs,
}

// perIface is the number of configs per interface with twoTariffs: the
// fixed 10, the current tariff, 4 per tariff and the capped one's share.
const perIface = 13 + 1 + 4*2 + 1

var cet = time.FixedZone("CET", 3600)

func tariffState() discovery.State {
	ts := func(active string, k uint64) *discovery.TariffState {
		return &discovery.TariffState{
			Active:     active,
			CycleStart: time.Date(2026, 11, 1, 0, 0, 0, 0, cet),
			CycleEnd:   time.Date(2026, 12, 1, 0, 0, 0, 0, cet),
			Usage: []discovery.TariffUsage{
				{Name: "happy", Lifetime: discovery.Bytes{Rx: 9000 * k, Tx: 900 * k}, Cycle: discovery.Bytes{Rx: 3000 * k, Tx: 300 * k}, Previous: discovery.Bytes{Rx: 6000 * k, Tx: 600 * k}},
				{Name: "normal", Lifetime: discovery.Bytes{Rx: 1 << 40, Tx: 1 << 33}, Cycle: discovery.Bytes{Rx: 50e9, Tx: 12.5e9}, Previous: discovery.Bytes{Rx: 1, Tx: 2}, Capped: true, Share: 12.5},
			},
		}
	}
	return discovery.State{Time: end, Window: 10 * time.Second, Age: 12 * time.Millisecond, Ifaces: map[string]discovery.IfaceState{
		"eth0":     {Rates: &discovery.Rates{RxBits: 8e6, TxBits: 1e5}, RxBytes: 123456789, TxBytes: 98765, Tariff: ts("happy", 1)},
		"eth0.100": {RxBytes: 5, TxBytes: 6, Tariff: ts("normal", 2)},
	}}
}

func TestTariffConfigsGolden(t *testing.T) {
	t.Parallel()
	msgs := mustConfigs(t, opts, tariffRouter)
	golden.Check(t, t.Name()+".golden", render(msgs))
}

func TestTariffStateGolden(t *testing.T) {
	t.Parallel()
	golden.Check(t, t.Name()+".golden", append(tariffState().Marshal(), '\n'))
}

// TestTariffConfigs checks every tariff config against HA's rules and pins
// what users rely on: names, unique_ids, classes, last_reset, options.
func TestTariffConfigs(t *testing.T) {
	t.Parallel()
	msgs := mustConfigs(t, opts, tariffRouter)
	if want := 2 + perIface*len(tariffRouter.Ifaces); len(msgs) != want {
		t.Fatalf("%d configs, want %d", len(msgs), want)
	}
	type cfg struct {
		Name       string   `json:"name"`
		UniqueID   string   `json:"unique_id"`
		Class      string   `json:"device_class"`
		Unit       string   `json:"unit_of_measurement"`
		StateClass string   `json:"state_class"`
		LastReset  string   `json:"last_reset_value_template"`
		Options    []string `json:"options"`
		Enabled    *bool    `json:"enabled_by_default"`
		Category   string   `json:"entity_category"`
		Expire     int      `json:"expire_after"`
	}
	got := map[string]cfg{}
	uids := map[string]bool{}
	for _, m := range msgs {
		if errs := hatest.Validate(m.Topic, m.Payload); errs != nil {
			t.Errorf("%s: %v", m.Topic, errors.Join(errs...))
		}
		var c cfg
		if err := json.Unmarshal(m.Payload, &c); err != nil {
			t.Fatal(err)
		}
		if uids[c.UniqueID] {
			t.Errorf("unique_id %s twice", c.UniqueID)
		}
		uids[c.UniqueID] = true
		if key, ok := strings.CutPrefix(c.UniqueID, "ifstat:er-x:eth0:"); ok && (strings.Contains(key, "-") || key == "tariff") {
			got[strings.TrimPrefix(m.Topic, "homeassistant/sensor/ifstat_er-x/")] = c
		}
	}
	const lrst = `{{ ((value_json.ifaces['eth0'] | default({})).tariff | default({})).cycle_start | default('', true) }}`
	want := map[string]cfg{
		"eth0_tariff/config":          {Name: "eth0 tariff", UniqueID: "ifstat:er-x:eth0:tariff", Class: "enum", Options: []string{"happy", "normal"}, Expire: 30},
		"eth0_rx_total-happy/config":  {Name: "eth0 received (happy)", UniqueID: "ifstat:er-x:eth0:rx_total-happy", Class: "data_size", Unit: "B", StateClass: "total_increasing", Expire: 30},
		"eth0_tx_total-happy/config":  {Name: "eth0 sent (happy)", UniqueID: "ifstat:er-x:eth0:tx_total-happy", Class: "data_size", Unit: "B", StateClass: "total_increasing", Expire: 30},
		"eth0_rx_cycle-happy/config":  {Name: "eth0 received this cycle (happy)", UniqueID: "ifstat:er-x:eth0:rx_cycle-happy", Class: "data_size", Unit: "B", StateClass: "total", LastReset: lrst, Expire: 30},
		"eth0_tx_cycle-happy/config":  {Name: "eth0 sent this cycle (happy)", UniqueID: "ifstat:er-x:eth0:tx_cycle-happy", Class: "data_size", Unit: "B", StateClass: "total", LastReset: lrst, Expire: 30},
		"eth0_rx_total-normal/config": {Name: "eth0 received (normal)", UniqueID: "ifstat:er-x:eth0:rx_total-normal", Class: "data_size", Unit: "B", StateClass: "total_increasing", Expire: 30},
		"eth0_tx_total-normal/config": {Name: "eth0 sent (normal)", UniqueID: "ifstat:er-x:eth0:tx_total-normal", Class: "data_size", Unit: "B", StateClass: "total_increasing", Expire: 30},
		"eth0_rx_cycle-normal/config": {Name: "eth0 received this cycle (normal)", UniqueID: "ifstat:er-x:eth0:rx_cycle-normal", Class: "data_size", Unit: "B", StateClass: "total", LastReset: lrst, Expire: 30},
		"eth0_tx_cycle-normal/config": {Name: "eth0 sent this cycle (normal)", UniqueID: "ifstat:er-x:eth0:tx_cycle-normal", Class: "data_size", Unit: "B", StateClass: "total", LastReset: lrst, Expire: 30},
		"eth0_share-normal/config":    {Name: "eth0 allowance used (normal)", UniqueID: "ifstat:er-x:eth0:share-normal", Unit: "%", StateClass: "measurement", Expire: 30},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("eth0 tariff configs (-want +got):\n%s", diff)
	}
}

// TestTariffStateMatchesTemplates: every template (state and last_reset)
// of every config reads a key that exists in the state, the enum reads one
// of its options and last_reset an ISO-8601 time with offset.
func TestTariffStateMatchesTemplates(t *testing.T) {
	t.Parallel()
	var st any
	if err := json.Unmarshal(tariffState().Marshal(), &st); err != nil {
		t.Fatal(err)
	}
	msgs := mustConfigs(t, opts, tariffRouter)
	checked := 0
	for _, m := range msgs {
		var c struct {
			ValueTemplate string   `json:"value_template"`
			LastReset     string   `json:"last_reset_value_template"`
			Options       []string `json:"options"`
		}
		if err := json.Unmarshal(m.Payload, &c); err != nil {
			t.Fatal(err)
		}
		for _, tpl := range []string{c.ValueTemplate, c.LastReset} {
			if tpl == "" {
				continue
			}
			path, ok := templatePath(tpl)
			if !ok {
				t.Errorf("%s: template %q not understood by the test", m.Topic, tpl)
				continue
			}
			v, ok := lookup(st, path)
			if !ok {
				t.Errorf("%s: template reads %v, absent from the state", m.Topic, path)
				continue
			}
			checked++
			if tpl == c.LastReset {
				s, _ := v.(string)
				if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "+01:00") {
					t.Errorf("%s: last_reset reads %v, want RFC 3339 with offset", m.Topic, v)
				}
			}
			if c.Options != nil && !slices.Contains(c.Options, v.(string)) {
				t.Errorf("%s: enum reads %v, not among %v", m.Topic, v, c.Options)
			}
			if strings.Contains(m.Topic, "_share-") && v == nil {
				t.Errorf("%s: share of a capped tariff is null", m.Topic)
			}
		}
	}
	// Per interface: 10 fixed + tariff + 4 per tariff + 4 last_reset +
	// 1 share; plus the router's age.
	if want := 1 + len(tariffRouter.Ifaces)*(perIface+4); checked != want {
		t.Errorf("checked %d templates, want %d", checked, want)
	}
}

func TestTariffStateValues(t *testing.T) {
	t.Parallel()
	s := discovery.State{Time: end, Window: time.Second, Ifaces: map[string]discovery.IfaceState{"wan": {
		Tariff: &discovery.TariffState{Usage: []discovery.TariffUsage{
			{Name: "a-b", Capped: true, Share: 250.00049},
			{Name: "c", Capped: true, Share: -1},
			{Name: "d", Share: 50},
		}},
	}}}
	want := `{"time":"2026-11-22T10:00:10Z","window_s":1,"age_s":0,"ifaces":{"wan":{"name":"wan","rx_bps":null,"tx_bps":null,"rx_bytes":0,"tx_bytes":0,"rx_pps":null,"tx_pps":null,"rx_errors_ps":null,"tx_errors_ps":null,"rx_drops_ps":null,"tx_drops_ps":null,"rx_peak_bps":null,"tx_peak_bps":null,"peak_span_s":null,"refresh_s":null,"refresh_at_most_s":null,"too_coarse":false,` +
		`"tariff":{"active":null,"cycle_start":null,"cycle_end":null,"usage":{` +
		`"a-b":{"rx_bytes":0,"tx_bytes":0,"rx_cycle":0,"tx_cycle":0,"rx_prev":0,"tx_prev":0,"share":250},` +
		`"c":{"rx_bytes":0,"tx_bytes":0,"rx_cycle":0,"tx_cycle":0,"rx_prev":0,"tx_prev":0,"share":null},` +
		`"d":{"rx_bytes":0,"tx_bytes":0,"rx_cycle":0,"tx_cycle":0,"rx_prev":0,"tx_prev":0,"share":null}}}}}}`
	got := s.Marshal()
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	if !json.Valid(got) {
		t.Errorf("not JSON: %s", got)
	}
}

// TestTariffRemovals: a vanished interface loses its tariff entities too,
// and a router's removal lists every config Configs published.
func TestTariffRemovals(t *testing.T) {
	t.Parallel()
	cfgs := mustConfigs(t, opts, tariffRouter)
	rm, err := discovery.Removals(opts, "er-x", []string{"eth0.100"}, twoTariffs)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range cfgs {
		if strings.Contains(m.Topic, "/"+discovery.IfaceID("eth0.100")+"_") {
			want = append(want, m.Topic)
		}
	}
	if len(want) != perIface {
		t.Fatalf("found %d configs of eth0.100, want %d", len(want), perIface)
	}
	if diff := cmp.Diff(want, topicsOf(t, rm)); diff != "" {
		t.Errorf("Removals topics (-want +got):\n%s", diff)
	}
	topics, err := discovery.ConfigTopics(opts, tariffRouter)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(topicsOf(t, cfgs), topics); diff != "" {
		t.Errorf("ConfigTopics (-want +got):\n%s", diff)
	}
}

func TestInvalidTariffs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ifaces  []string
		tariffs []discovery.Tariff
	}{
		{"empty name", []string{"eth0"}, []discovery.Tariff{{Name: ""}}},
		{"upper case", []string{"eth0"}, []discovery.Tariff{{Name: "Happy"}}},
		{"dot", []string{"eth0"}, []discovery.Tariff{{Name: "a.b"}}},
		{"quote", []string{"eth0"}, []discovery.Tariff{{Name: "a'b"}}},
		{"too long", []string{"eth0"}, []discovery.Tariff{{Name: strings.Repeat("a", discovery.MaxTariffLen+1)}}},
		{"twice", []string{"eth0"}, []discovery.Tariff{{Name: "a"}, {Name: "a", Capped: true}}},
		// "eth0" + "rx_total-x_tariff" and "eth0_rx_total-x" + "tariff"
		// meet on one topic.
		{"topic collision", []string{"eth0", "eth0_rx_total-x"}, []discovery.Tariff{{Name: "x_tariff"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := discovery.Router{Node: "gw", Ifaces: tt.ifaces, Tariffs: tt.tariffs}
			if msgs, err := discovery.Configs(opts, r); !errors.Is(err, discovery.ErrInvalid) || msgs != nil {
				t.Errorf("Configs = %d msgs, %v; want ErrInvalid", len(msgs), err)
			}
			if _, err := discovery.Removals(opts, r.Node, r.Ifaces, r.Tariffs); !errors.Is(err, discovery.ErrInvalid) {
				t.Errorf("Removals err = %v, want ErrInvalid", err)
			}
		})
	}
	longest := discovery.Router{Node: "gw", Ifaces: []string{"eth0"}, Tariffs: []discovery.Tariff{{Name: strings.Repeat("a-_9", discovery.MaxTariffLen/4), Capped: true}}}
	msgs := mustConfigs(t, opts, longest)
	for _, m := range msgs {
		if errs := hatest.Validate(m.Topic, m.Payload); errs != nil {
			t.Errorf("%s: %v", m.Topic, errors.Join(errs...))
		}
	}
}
