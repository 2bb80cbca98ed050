package tariff

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCycle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone       string
		day        int
		at         string
		start, end string
	}{
		{"Europe/Berlin", 1, "2025-03-15T12:00:00+01:00", "2025-03-01T00:00:00+01:00", "2025-04-01T00:00:00+02:00"},
		{"Europe/Berlin", 1, "2025-03-01T00:00:00+01:00", "2025-03-01T00:00:00+01:00", "2025-04-01T00:00:00+02:00"},
		{"Europe/Berlin", 1, "2025-02-28T23:59:59+01:00", "2025-02-01T00:00:00+01:00", "2025-03-01T00:00:00+01:00"},
		{"Europe/Berlin", 15, "2025-03-10T12:00:00+01:00", "2025-02-15T00:00:00+01:00", "2025-03-15T00:00:00+01:00"},
		{"Europe/Berlin", 31, "2025-03-10T12:00:00+01:00", "2025-02-28T00:00:00+01:00", "2025-03-31T00:00:00+02:00"},
		{"Europe/Berlin", 31, "2024-03-10T12:00:00+01:00", "2024-02-29T00:00:00+01:00", "2024-03-31T00:00:00+01:00"},
		{"Europe/Berlin", 31, "2025-04-30T12:00:00+02:00", "2025-04-30T00:00:00+02:00", "2025-05-31T00:00:00+02:00"},
		{"Europe/Berlin", 30, "2025-12-31T12:00:00+01:00", "2025-12-30T00:00:00+01:00", "2026-01-30T00:00:00+01:00"},
		{"America/New_York", 1, "2025-11-01T03:00:00Z", "2025-10-01T00:00:00-04:00", "2025-11-01T00:00:00-04:00"},
		// Brazil started DST at midnight: 2018-11-04 00:00 did not exist.
		{"America/Sao_Paulo", 4, "2018-11-10T12:00:00-02:00", "2018-11-04T01:00:00-02:00", "2018-12-04T00:00:00-02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.at, func(t *testing.T) {
			t.Parallel()
			start, end := Cycle(mustTime(t, tt.at), tt.day, mustLoad(t, tt.zone))
			got := []string{start.Format(time.RFC3339), end.Format(time.RFC3339)}
			if diff := cmp.Diff([]string{tt.start, tt.end}, got); diff != "" {
				t.Errorf("Cycle(%s, %d) (-want +got):\n%s", tt.at, tt.day, diff)
			}
		})
	}
}

func TestParseBillingDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int
		wantErr string
	}{
		{"", 1, ""},
		{"1", 1, ""},
		{"31", 31, ""},
		{"0", 0, `must be a day of the month, 1 to 31`},
		{"32", 0, `must be a day of the month, 1 to 31`},
		{"1st", 0, `must be a day of the month, 1 to 31`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseBillingDay(tt.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if got != tt.want || gotErr != tt.wantErr {
				t.Errorf("ParseBillingDay(%q) = %d, %q, want %d, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseCaps(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "happy=00:00-07:00;normal=*", time.UTC)
	tests := []struct {
		spec    string
		want    Caps
		wantErr string
	}{
		{"", Caps{}, ""},
		{"normal=500GB;happy=", Caps{"normal": 500_000_000_000}, ""},
		{"normal = 1.5TiB ; happy = 100 MB", Caps{"normal": 1_649_267_441_664, "happy": 100_000_000}, ""},
		{"normal=1234", Caps{"normal": 1234}, ""},
		{"normal=0.0015kB", Caps{"normal": 1}, ""},
		{"normal=16EiB", nil, `tariff "normal": "16EiB": unknown unit "EiB" (use B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB or PiB)`},
		{"normal=20000PB", nil, `tariff "normal": "20000PB" is too large`},
		{"normal=0.5B", nil, `tariff "normal": "0.5B": a cap must be at least one byte (leave the value empty for no cap)`},
		{"normal=1.2.3GB", nil, `tariff "normal": "1.2.3GB" is not a size (e.g. 500GB, 1.5TiB)`},
		{"normal=GB", nil, `tariff "normal": "GB" is not a size (e.g. 500GB, 1.5TiB)`},
		{"normal", nil, `"normal": want tariff=size, e.g. normal=500GB`},
		{"peak=5GB", nil, `unknown tariff "peak" (the schedule has happy, normal)`},
		{"normal=5GB;normal=6GB", nil, `tariff "normal" capped twice`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCaps(tt.spec, s)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Fatalf("ParseCaps(%q) error = %q, want %q", tt.spec, gotErr, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseCaps(%q) (-want +got):\n%s", tt.spec, diff)
			}
		})
	}
}

// usages reads the current and previous usage of every tariff of a.
func usages(a *Accumulator) map[string][2]Usage {
	out := map[string][2]Usage{}
	for _, n := range a.s.names {
		out[n] = [2]Usage{a.Current(n), a.Previous(n)}
	}
	return out
}

func TestAccumulator(t *testing.T) {
	t.Parallel()
	berlin := mustLoad(t, "Europe/Berlin")
	s := mustParse(t, "happy=00:00-07:00;normal=*", berlin)
	type add struct {
		t0, t1 string
		rx, tx uint64
	}
	tests := []struct {
		name      string
		adds      []add
		roll      string
		want      map[string][2]Usage // tariff: current, previous
		wantCycle string
	}{
		{"straddles the cycle end and a tariff change at once",
			[]add{{"2025-03-31T23:00:00+02:00", "2025-04-01T01:00:00+02:00", 7200, 721}}, "",
			map[string][2]Usage{"happy": {{3600, 361}, {}}, "normal": {{}, {3600, 360}}},
			"2025-04-01T00:00:00+02:00"},
		{"rolls over whole empty cycles",
			[]add{{"2025-03-31T08:00:00+02:00", "2025-03-31T09:00:00+02:00", 10, 20}}, "2025-05-02T00:00:00+02:00",
			map[string][2]Usage{"happy": {}, "normal": {}},
			"2025-05-01T00:00:00+02:00"},
		{"previous kept after one roll",
			[]add{{"2025-03-31T08:00:00+02:00", "2025-03-31T09:00:00+02:00", 10, 20}}, "2025-04-02T00:00:00+02:00",
			map[string][2]Usage{"happy": {}, "normal": {{}, {10, 20}}},
			"2025-04-01T00:00:00+02:00"},
		{"downtime over two cycle ends, split by time",
			// 1 Mar 00:00 to 1 May 00:00 CEST: 61 days minus the lost hour;
			// only the last cycle and the one before are kept.
			[]add{{"2025-03-01T00:00:00+01:00", "2025-05-01T00:00:00+02:00", 61*24 - 1, 0}}, "2025-05-01T00:00:00+02:00",
			map[string][2]Usage{"happy": {{}, {30 * 7, 0}}, "normal": {{}, {30 * 17, 0}}},
			"2025-05-01T00:00:00+02:00"},
		{"late interval counts in the previous cycle",
			[]add{{"2025-04-01T08:00:00+02:00", "2025-04-01T09:00:00+02:00", 1, 2}, {"2025-03-31T08:00:00+02:00", "2025-03-31T09:00:00+02:00", 10, 20}}, "",
			map[string][2]Usage{"happy": {}, "normal": {{1, 2}, {10, 20}}},
			"2025-04-01T00:00:00+02:00"},
		{"empty interval: all to the tariff and cycle at t1",
			[]add{{"2025-03-31T08:00:00+02:00", "2025-03-31T08:00:00+02:00", 5, 6}, {"2025-04-01T06:00:00+02:00", "2025-04-01T05:00:00+02:00", 7, 8}}, "",
			map[string][2]Usage{"happy": {{7, 8}, {}}, "normal": {{}, {5, 6}}},
			"2025-04-01T00:00:00+02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := NewAccumulator(s, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, ad := range tt.adds {
				a.Add(mustTime(t, ad.t0), mustTime(t, ad.t1), ad.rx, ad.tx)
			}
			if tt.roll != "" {
				a.Roll(mustTime(t, tt.roll))
			}
			if diff := cmp.Diff(tt.want, usages(a)); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			if start, _ := a.Cycle(); start.Format(time.RFC3339) != tt.wantCycle {
				t.Errorf("Cycle() start = %v, want %s", start, tt.wantCycle)
			}
		})
	}
}

func TestAccumulatorShare(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "happy=00:00-07:00;normal=*", time.UTC)
	caps, err := ParseCaps("normal=1kB", s)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAccumulator(s, 1, caps)
	if err != nil {
		t.Fatal(err)
	}
	a.Add(time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC), 300, 200)
	if got, ok := a.Share("normal"); got != 50 || !ok {
		t.Errorf("Share(normal) = %v, %v, want 50, true", got, ok)
	}
	if got, ok := a.Share("happy"); got != 0 || ok {
		t.Errorf("Share(happy) = %v, %v, want 0, false", got, ok)
	}
	if _, err := NewAccumulator(s, 0, nil); err == nil || err.Error() != `must be a day of the month, 1 to 31` {
		t.Errorf("NewAccumulator(day 0) error = %v", err)
	}
}

func TestAccumulatorState(t *testing.T) {
	t.Parallel()
	berlin := mustLoad(t, "Europe/Berlin")
	s := mustParse(t, "happy=00:00-07:00;normal=*", berlin)
	a, _ := NewAccumulator(s, 1, nil)
	a.Add(mustTime(t, "2025-03-31T23:00:00+02:00"), mustTime(t, "2025-04-01T01:00:00+02:00"), 7200, 720)
	a.Add(mustTime(t, "2025-04-01T01:00:00+02:00"), mustTime(t, "2025-04-01T01:00:01+02:00"), 1, 1)
	buf, err := json.Marshal(a.State())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(buf, &st); err != nil {
		t.Fatal(err)
	}
	b, _ := NewAccumulator(s, 1, nil)
	if unknown := b.Restore(st); unknown != nil {
		t.Errorf("Restore: unknown %v", unknown)
	}
	if diff := cmp.Diff(a.State(), b.State()); diff != "" {
		t.Errorf("State after a JSON round trip (-want +got):\n%s", diff)
	}
	// The same bytes added to both keep them equal.
	for _, x := range []*Accumulator{a, b} {
		x.Add(mustTime(t, "2025-04-30T23:00:00+02:00"), mustTime(t, "2025-05-01T01:00:00+02:00"), 100, 100)
	}
	if diff := cmp.Diff(a.State(), b.State()); diff != "" {
		t.Errorf("State after the same Add (-want +got):\n%s", diff)
	}

	// A schedule without "happy" keeps happy's totals through State.
	s2 := mustParse(t, "peak=Mon-Fri 08:00-20:00;normal=*", berlin)
	c, _ := NewAccumulator(s2, 1, nil)
	if diff := cmp.Diff([]string{"happy"}, c.Restore(st)); diff != "" {
		t.Errorf("Restore unknown (-want +got):\n%s", diff)
	}
	got := c.State()
	want := State{CycleStart: st.CycleStart,
		Current:  map[string]Usage{"happy": st.Current["happy"], "normal": st.Current["normal"], "peak": {}},
		Previous: map[string]Usage{"happy": st.Previous["happy"], "normal": st.Previous["normal"], "peak": {}},
		Lifetime: map[string]Usage{"happy": st.Lifetime["happy"], "normal": st.Lifetime["normal"], "peak": {}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("State with an orphan (-want +got):\n%s", diff)
	}
	wantJSON := `{"cycle_start":"2025-04-01T00:00:00+02:00","current":{"happy":{"rx_bytes":3601,"tx_bytes":361},"normal":{"rx_bytes":0,"tx_bytes":0}},"previous":{"happy":{"rx_bytes":0,"tx_bytes":0},"normal":{"rx_bytes":3600,"tx_bytes":360}},"lifetime":{"happy":{"rx_bytes":3601,"tx_bytes":361},"normal":{"rx_bytes":3600,"tx_bytes":360}}}`
	if string(buf) != wantJSON {
		t.Errorf("State JSON\n got %s\nwant %s", buf, wantJSON)
	}
}
