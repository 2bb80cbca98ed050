package discovery_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
)

var end = time.Date(2026, 11, 22, 10, 0, 10, 0, time.UTC)

func awkwardState() discovery.State {
	s := discovery.State{Time: end, Window: 10 * time.Second, Age: 12 * time.Millisecond, Ifaces: map[string]discovery.IfaceState{}}
	for i, name := range awkward.Ifaces {
		f := float64(i)
		s.Ifaces[name] = discovery.IfaceState{
			Rates:   &discovery.Rates{RxBits: 12345.6 * f, TxBits: 789 * f, RxPackets: 12.25 * f, TxPackets: 4, RxErrors: 0, TxErrors: 0.1, RxDrops: 0, TxDrops: 1.0 / 3},
			RxBytes: 123456789 * uint64(i), TxBytes: 1 << 40,
			Peak: &discovery.Peak{RxBits: 20000000 * f, TxBits: 1000.5 * f, Span: 250 * time.Millisecond},
		}
	}
	// Counters refreshing every 0.9765625 s (a 1024 Hz driver tick),
	// sampled faster than that; and counters that moved at every read.
	eth0 := s.Ifaces["eth0"]
	eth0.Refresh, eth0.TooCoarse = 976562500*time.Nanosecond, true
	eth0.Peak.Span = 1953125 * time.Microsecond
	s.Ifaces["eth0"] = eth0
	wlan := s.Ifaces["wlan0-1"]
	wlan.RefreshAtMost = 100 * time.Millisecond
	s.Ifaces["wlan0-1"] = wlan
	s.Ifaces["pppoe-wan"] = discovery.IfaceState{RxBytes: 5, TxBytes: 6} // no valid interval
	return s
}

func TestStateGolden(t *testing.T) {
	t.Parallel()
	golden.Check(t, t.Name()+".golden", append(awkwardState().Marshal(), '\n'))
}

func TestStateValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   discovery.State
		want string
	}{
		{"empty", discovery.State{Time: end, Window: 10 * time.Second, Age: -1}, `{"time":"2026-11-22T10:00:10Z","window_s":10,"age_s":null,"ifaces":{}}`},
		{"non-UTC time and fractional window", discovery.State{Time: end.In(time.FixedZone("x", 3600)).Add(500 * time.Millisecond), Window: 2500 * time.Millisecond, Age: 0}, `{"time":"2026-11-22T10:00:10.5Z","window_s":2.5,"age_s":0,"ifaces":{}}`},
		{"bad rates become null", discovery.State{Time: end, Window: time.Second, Ifaces: map[string]discovery.IfaceState{"a\"b": {
			Rates:   &discovery.Rates{RxBits: math.NaN(), TxBits: math.Inf(1), RxPackets: -1, TxPackets: math.Copysign(0, -1), RxErrors: 1e15, TxErrors: 0.0004, RxDrops: 0.0005, TxDrops: 2},
			RxBytes: math.MaxUint64}}},
			`{"time":"2026-11-22T10:00:10Z","window_s":1,"age_s":0,"ifaces":{"a_b_39a012":{"name":"a\"b","rx_bps":null,"tx_bps":null,"rx_bytes":18446744073709551615,"tx_bytes":0,"rx_pps":null,"tx_pps":0,"rx_errors_ps":1000000000000000,"tx_errors_ps":0,"rx_drops_ps":0.001,"tx_drops_ps":2,"rx_peak_bps":null,"tx_peak_bps":null,"peak_span_s":null,"refresh_s":null,"refresh_at_most_s":null,"too_coarse":false}}}`},
		{"peak, refresh period and too coarse", discovery.State{Time: end, Window: 10 * time.Second, Ifaces: map[string]discovery.IfaceState{"eth0": {
			Rates:   &discovery.Rates{RxBits: 1e8, TxBits: 2e6},
			Peak:    &discovery.Peak{RxBits: 4e8, TxBits: 2.0000005e6, Span: 976562500 * time.Nanosecond},
			Refresh: 976562500 * time.Nanosecond, TooCoarse: true}}},
			`{"time":"2026-11-22T10:00:10Z","window_s":10,"age_s":0,"ifaces":{"eth0":{"name":"eth0","rx_bps":100000000,"tx_bps":2000000,"rx_bytes":0,"tx_bytes":0,"rx_pps":0,"tx_pps":0,"rx_errors_ps":0,"tx_errors_ps":0,"rx_drops_ps":0,"tx_drops_ps":0,"rx_peak_bps":400000000,"tx_peak_bps":2000000.5,"peak_span_s":0.976563,"refresh_s":0.976563,"refresh_at_most_s":null,"too_coarse":true}}}`},
		{"only an upper bound of the refresh period, bad peaks null", discovery.State{Time: end, Window: 10 * time.Second, Ifaces: map[string]discovery.IfaceState{"lo": {
			Rates:         &discovery.Rates{},
			Peak:          &discovery.Peak{RxBits: math.Inf(1), TxBits: -1, Span: -time.Second},
			Refresh:       -time.Second,
			RefreshAtMost: 50*time.Millisecond + 400*time.Nanosecond}}},
			`{"time":"2026-11-22T10:00:10Z","window_s":10,"age_s":0,"ifaces":{"lo":{"name":"lo","rx_bps":0,"tx_bps":0,"rx_bytes":0,"tx_bytes":0,"rx_pps":0,"tx_pps":0,"rx_errors_ps":0,"tx_errors_ps":0,"rx_drops_ps":0,"tx_drops_ps":0,"rx_peak_bps":null,"tx_peak_bps":null,"peak_span_s":null,"refresh_s":null,"refresh_at_most_s":0.05,"too_coarse":false}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.in.Marshal()
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Marshal (-want +got):\n%s", diff)
			}
			if !json.Valid(got) {
				t.Errorf("Marshal output is not valid JSON: %s", got)
			}
		})
	}
}

// TestStateMatchesTemplates: every field a config template reads exists in
// the state under the interface id the template names.
func TestStateMatchesTemplates(t *testing.T) {
	t.Parallel()
	var st struct {
		AgeS   *float64                  `json:"age_s"`
		Ifaces map[string]map[string]any `json:"ifaces"`
	}
	if err := json.Unmarshal(awkwardState().Marshal(), &st); err != nil {
		t.Fatal(err)
	}
	msgs := mustConfigs(t, opts, awkward)
	checked := 0
	for _, m := range msgs {
		var c struct {
			ValueTemplate string `json:"value_template"`
		}
		if err := json.Unmarshal(m.Payload, &c); err != nil {
			t.Fatal(err)
		}
		id, field, ok := templateRef(c.ValueTemplate)
		if !ok {
			continue
		}
		if _, ok := st.Ifaces[id][field]; !ok {
			t.Errorf("%s: template reads ifaces[%q].%s, absent from the state", m.Topic, id, field)
		}
		checked++
	}
	if checked != 13*len(awkward.Ifaces) {
		t.Errorf("checked %d templates, want %d", checked, 13*len(awkward.Ifaces))
	}
}
