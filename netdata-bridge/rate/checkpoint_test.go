package rate

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRestore(t *testing.T) {
	t.Parallel()
	const w32 = uint64(1) << 32
	gig := speed(1000)
	fast := speed(100)
	tests := []struct {
		name   string
		cfg    Config
		before []Sample          // fed to the tracker whose Snapshot is restored
		totals *Values           // SetTotals before the samples, if set
		edit   func(*Checkpoint) // tampers with the checkpoint, if set
		after  []step            // fed to a new Tracker after Restore
	}{
		{
			name: "short downtime: an ordinary interval",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				with(at(10, 1000, 2000, 10, 20), fast),
				with(at(11, 2000, 3000, 20, 30), fast),
			},
			after: []step{
				{with(at(13, 4000, 3500, 40, 35), fast), Result{Status: OK, DtNS: 2 * sec, Rate: true,
					Delta: Values{2000, 500, 20, 5}, Total: Values{3000, 1500, 30, 15}}},
			},
		},
		{
			name: "long downtime, 64-bit counters: booked exactly as a gap",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				{BootID: "b1", MonoNS: 10 * sec, Ifindex: 2, Values: Values{5e9, 6e9, 5e9, 5e9, 5e9, 5e9, 5e9, 5e9}},
				{BootID: "b1", MonoNS: 11 * sec, Ifindex: 2, Values: Values{5e9 + 1000, 6e9 + 2000, 5e9 + 1, 5e9 + 2, 5e9, 5e9, 5e9, 5e9}},
			},
			after: []step{
				{Sample{BootID: "b1", MonoNS: 3611 * sec, Ifindex: 2, Values: Values{305e9 + 1000, 7e9 + 2000, 5.2e9 + 1, 5e9 + 2, 5e9 + 3, 5e9, 5e9 + 4, 5e9}},
					Result{Status: Gap, DtNS: 3600 * sec,
						Delta: Values{300e9, 1e9, 200e6, 0, 3, 0, 4}, Total: Values{300e9 + 1000, 1e9 + 2000, 200e6 + 1, 2, 3, 0, 4}}},
			},
		},
		{
			name: "downtime with one 32-bit wrap on a 100 Mbit/s link",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				with(at(10, w32-100_000_000, 0, 1_000_000, 0), fast),
				with(at(11, w32-90_000_000, 0, 1_010_000, 0), fast),
			},
			after: []step{
				{with(at(71, 400_000_000, 0, 1_500_000, 0), fast), Result{Status: Gap, DtNS: 60 * sec,
					Delta: Values{490_000_000, 0, 490_000}, Wrapped: [N]bool{true}, Total: Values{500_000_000, 0, 500_000}}},
			},
		},
		{
			name: "downtime long enough for several 32-bit wraps: only the delta modulo 2^32",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				with(at(10, 1_000_000, 2_000_000, 1000, 2000), gig),
				with(at(11, 2_000_000, 3_000_000, 2000, 3000), gig),
			},
			after: []step{
				{with(at(131, 500_000_000, 3_500_000, 900_000, 3500), gig), Result{Status: Gap, DtNS: 120 * sec,
					Reason:    "rx_bytes may have wrapped more than once in 120000000000 ns since the restored baseline: only the delta modulo 2^32 is booked",
					Delta:     Values{498_000_000, 500_000, 898_000, 500},
					Ambiguous: [N]bool{true, true},
					Total:     Values{499_000_000, 1_500_000, 899_000, 1500}}},
				{with(at(132, 600_000_000, 3_600_000, 1_000_000, 3600), gig), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{100_000_000, 100_000, 100_000, 100}, Total: Values{599_000_000, 1_600_000, 999_000, 1600}}},
			},
		},
		{
			name: "no gap limit: an ambiguous downtime still gives no rate",
			before: []Sample{
				with(at(10, 1_000_000, 0, 1000, 0), gig),
				with(at(11, 2_000_000, 0, 2000, 0), gig),
			},
			after: []step{
				{with(at(131, 3_000_000, 0, 3000, 0), gig), Result{Status: Gap, DtNS: 120 * sec,
					Reason:    "rx_bytes may have wrapped more than once in 120000000000 ns since the restored baseline: only the delta modulo 2^32 is booked",
					Delta:     Values{1_000_000, 0, 1000},
					Ambiguous: [N]bool{true, true},
					Total:     Values{2_000_000, 0, 2000}}},
			},
		},
		{
			name: "a value >= 2^32 in the new sample proves 64 bits: no ambiguity",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				with(at(10, 4_000_000_000, 0, 1000, 0), gig),
				with(at(11, 4_100_000_000, 0, 2000, 0), gig),
			},
			after: []step{
				{with(at(131, 104_100_000_000, 0, 100_002_000, 0), gig), Result{Status: Gap, DtNS: 120 * sec,
					Reason:    "tx_bytes may have wrapped more than once in 120000000000 ns since the restored baseline: only the delta modulo 2^32 is booked",
					Delta:     Values{100_000_000_000, 0, 100_000_000},
					Ambiguous: [N]bool{false, true},
					Total:     Values{100_100_000_000, 0, 100_001_000}}},
			},
		},
		{
			name: "new boot id after restore: reset books the new values",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				at(10, 1000, 2000, 10, 20),
				at(11, 2000, 3000, 20, 30),
			},
			after: []step{
				{with(at(5, 100, 200, 1, 2), func(s *Sample) { s.BootID = "b2" }), Result{Status: Reset, Reason: "boot id changed",
					Delta: Values{100, 200, 1, 2}, Total: Values{1100, 1200, 11, 12}}},
				{at(12, 9000, 9000, 90, 90), Result{Status: OutOfOrder, Reason: "reply from the previous boot", Total: Values{1100, 1200, 11, 12}}},
			},
		},
		{
			name: "re-created interface after restore: reset",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				at(10, 1000, 2000, 10, 20),
				at(11, 2000, 3000, 20, 30),
			},
			after: []step{
				{with(at(100, 100, 200, 1, 2), func(s *Sample) { s.Ifindex = 3 }), Result{Status: Reset, Reason: "ifindex 2 -> 3", DtNS: 89 * sec,
					Delta: Values{100, 200, 1, 2}, Total: Values{1100, 1200, 11, 12}}},
			},
		},
		{
			name: "64-bit counter lower after restore: reset, not a wrap",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				with(at(10, 5_000_000_000, 0, 10, 0), gig),
				with(at(11, 5_000_001_000, 0, 11, 0), gig),
			},
			after: []step{
				{with(at(100, 7000, 0, 20, 0), gig), Result{Status: Reset, DtNS: 89 * sec,
					Reason: "rx_bytes decreased from 5000001000 to 7000 and cannot have wrapped: old value is not 32-bit",
					Delta:  Values{7000, 0, 9}, Total: Values{8000, 0, 10}}},
			},
		},
		{
			name: "stale after restore keeps the restored baseline",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				with(at(10, 1000, 0, 10, 0), fast),
				with(at(11, 2000, 0, 20, 0), fast),
			},
			after: []step{
				{with(at(12, 2000, 0, 20, 0), fast), Result{Status: Stale, DtNS: sec, Total: Values{1000, 0, 10}}},
				{with(at(13, 4000, 0, 40, 0), fast), Result{Status: OK, DtNS: 2 * sec, Rate: true,
					Delta: Values{2000, 0, 20}, Total: Values{3000, 0, 30}}},
			},
		},
		{
			name: "replies older than the checkpoint are out of order",
			cfg:  Config{MaxGapNS: 3 * sec},
			before: []Sample{
				at(10, 1000, 0, 10, 0),
				at(11, 2000, 0, 20, 0),
			},
			after: []step{
				{at(11, 2000, 0, 20, 0), Result{Status: OutOfOrder, Reason: "duplicate reply", Total: Values{1000, 0, 10}}},
				{at(10.5, 1500, 0, 15, 0), Result{Status: OutOfOrder, Reason: "reply older than the last one", Total: Values{1000, 0, 10}}},
			},
		},
		{
			name:   "checkpoint of a tracker without samples: totals only",
			totals: &Values{5, 6, 7, 8},
			after: []step{
				{at(1, 1000, 0, 10, 0), Result{Status: First, Total: Values{5, 6, 7, 8}}},
				{at(2, 2000, 0, 20, 0), Result{Status: OK, DtNS: sec, Rate: true, Delta: Values{1000, 0, 10}, Total: Values{1005, 6, 17, 8}}},
			},
		},
		{
			name:   "inconsistent checkpoint: totals only",
			before: []Sample{at(10, 1000, 0, 10, 0), at(11, 2000, 0, 20, 0)},
			edit:   func(c *Checkpoint) { c.BaseMonoNS = c.LastMonoNS + 1 },
			after: []step{
				{at(20, 9000, 0, 90, 0), Result{Status: First, Total: Values{1000, 0, 10}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			old := New(tt.cfg)
			if tt.totals != nil {
				old.SetTotals(*tt.totals)
			}
			for _, s := range tt.before {
				old.Update(s)
			}
			cp := old.Snapshot()
			if tt.edit != nil {
				tt.edit(&cp)
			} else if got := New(tt.cfg); true {
				got.Restore(cp)
				if diff := cmp.Diff(cp, got.Snapshot()); diff != "" {
					t.Fatalf("Snapshot after Restore mismatch (-want +got):\n%s", diff)
				}
			}
			tr := New(tt.cfg)
			tr.Restore(cp)
			runSteps(t, tr, tt.after)
		})
	}
}

func TestRestoreNeverLowersTotals(t *testing.T) {
	t.Parallel()
	old := New(Config{})
	old.Update(at(1, 100, 0, 1, 0))
	old.Update(at(2, 200, 0, 2, 0))
	cp := old.Snapshot() // totals {100, 0, 1}

	tr := New(Config{})
	tr.SetTotals(Values{50, 7, 1, 0, 3})
	tr.Restore(cp)
	if want := (Values{100, 7, 1, 0, 3}); tr.Totals() != want {
		t.Fatalf("Restore(totals %v) over %v: Totals() = %v, want %v", cp.Totals, Values{50, 7, 1, 0, 3}, tr.Totals(), want)
	}
}

func TestCheckpointCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cp   Checkpoint
		want string
	}{
		{"zero", Checkpoint{}, ""},
		{"not started: anything goes", Checkpoint{BaseMonoNS: 5, Ifindex: -1}, ""},
		{"consistent", Checkpoint{Started: true, BaseMonoNS: 5, LastMonoNS: 6, Base: Values{1 << 40}, Seen64: [N]bool{true}}, ""},
		{"base after last", Checkpoint{Started: true, BaseMonoNS: 7, LastMonoNS: 6}, "invalid checkpoint: base_mono_ns 7 after last_mono_ns 6"},
		{"negative ifindex", Checkpoint{Started: true, Ifindex: -2}, "invalid checkpoint: negative ifindex -2"},
		{"change time", Checkpoint{Started: true, BaseMonoNS: 5, LastMonoNS: 6, BaseChangeNS: 5}, ""},
		{"change time after base", Checkpoint{Started: true, BaseMonoNS: 5, LastMonoNS: 6, BaseChangeNS: 6}, "invalid checkpoint: base_change_ns 6 outside 0..base_mono_ns 5"},
		{"negative change time", Checkpoint{Started: true, BaseMonoNS: 5, LastMonoNS: 6, BaseChangeNS: -1}, "invalid checkpoint: base_change_ns -1 outside 0..base_mono_ns 5"},
		{"wide base not marked", Checkpoint{Started: true, Base: Values{0, 1 << 32}}, "invalid checkpoint: tx_bytes base 4294967296 >= 2^32 without seen64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ""
			if err := tt.cp.Check(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Check() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPropertyRestarts feeds the same replies to an uninterrupted Tracker
// and to one that a bridge restarts at random points (Snapshot, a new
// Tracker, Restore), both missing the replies of the downtime. The
// restarted one must book exactly the same deltas; its results differ only
// where the ambiguity rule of Restore turns an interval into a Gap.
func TestPropertyRestarts(t *testing.T) {
	t.Parallel()
	cfg := Config{MaxGapNS: 3_000_000_000}
	var restarts, ambiguous int
	for seed := range uint64(100) {
		m := &agentModel{rng: rand.New(rand.NewPCG(seed, 7)), wide: seed%2 == 1, ifindex: 3, mono: 50_000_000_000, resets: seed%4 < 2}
		m.start()
		whole, parts := New(cfg), New(cfg)
		s := m.sample()
		whole.Update(s)
		parts.Update(s)
		m.sent = append(m.sent, s)
		for i := 0; i < 400; i++ {
			if m.rng.IntN(20) == 0 {
				cp := parts.Snapshot()
				parts = New(cfg)
				parts.Restore(cp)
				restarts++
				for range m.rng.IntN(40) { // replies nobody received
					m.next()
				}
			}
			s := m.next()
			w, p := whole.Update(s), parts.Update(s)
			where := fmt.Sprintf("seed %d step %d: Update(%+v)", seed, i, s)
			if p.Ambiguous != ([N]bool{}) {
				ambiguous++
				if p.Status != Gap || p.Rate || p.Delta != w.Delta || p.Total != w.Total {
					t.Fatalf("%s: ambiguous %+v, uninterrupted %+v", where, p, w)
				}
				continue
			}
			if diff := cmp.Diff(w, p); diff != "" {
				t.Fatalf("%s: restarted tracker differs (-uninterrupted +restarted):\n%s", where, diff)
			}
		}
	}
	t.Logf("%d restarts, %d ambiguous intervals, totals equal", restarts, ambiguous)
}

// FuzzRestore restores arbitrary checkpoints (a file or a retained message
// may hold anything that passes the codec) and feeds one sample: no panic,
// and the totals never fall below the checkpoint's.
func FuzzRestore(f *testing.F) {
	f.Add(true, int64(10), int64(5), uint64(1)<<40, uint64(100), int64(11), uint64(200))
	f.Add(true, int64(5), int64(10), uint64(1), uint64(100), int64(3), uint64(0))
	f.Add(false, int64(0), int64(0), uint64(0), uint64(1)<<63, int64(0), uint64(1)<<63)
	f.Fuzz(func(t *testing.T, started bool, last, base int64, baseVal, total uint64, mono int64, val uint64) {
		cp := Checkpoint{Started: started, BootID: "b1", Ifindex: 2, LastMonoNS: last, BaseMonoNS: base,
			Base: Values{baseVal, baseVal}, Seen64: [N]bool{baseVal >= 1<<32}, Totals: Values{total, total, total}}
		tr := New(Config{MaxGapNS: 3 * sec})
		tr.Restore(cp)
		r := tr.Update(Sample{BootID: "b1", MonoNS: mono, Ifindex: 2, Values: Values{val, val, val}})
		for c := range N {
			if r.Total[c] < cp.Totals[c] {
				t.Fatalf("Restore(%+v), Update: total %v %d below the checkpoint's %d", cp, Counter(c), r.Total[c], cp.Totals[c])
			}
		}
		if r.Rate != (r.Status == OK) {
			t.Fatalf("Restore(%+v), Update = %+v: Rate with status %v", cp, r, r.Status)
		}
	})
}
