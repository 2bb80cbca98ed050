package discovery_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

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
		}
	}
	s.Ifaces["pppoe-wan"] = discovery.IfaceState{RxBytes: 5, TxBytes: 6} // no valid interval
	return s
}

func TestStateGolden(t *testing.T) {
	t.Parallel()
	golden(t, append(awkwardState().Marshal(), '\n'))
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
			`{"time":"2026-11-22T10:00:10Z","window_s":1,"age_s":0,"ifaces":{"a_b_39a012":{"name":"a\"b","rx_bps":null,"tx_bps":null,"rx_bytes":18446744073709551615,"tx_bytes":0,"rx_pps":null,"tx_pps":0,"rx_errors_ps":1000000000000000,"tx_errors_ps":0,"rx_drops_ps":0.001,"tx_drops_ps":2}}}`},
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
	msgs, err := discovery.Configs(opts, awkward)
	if err != nil {
		t.Fatal(err)
	}
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
	if checked != 10*len(awkward.Ifaces) {
		t.Errorf("checked %d templates, want %d", checked, 10*len(awkward.Ifaces))
	}
}
