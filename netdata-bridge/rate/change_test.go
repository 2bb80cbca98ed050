package rate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// watched returns s with the watch-mode window (unchanged, changed] in
// seconds.
func watched(s Sample, unchanged, changed float64) Sample {
	s.UnchangedNS = int64(unchanged * float64(sec))
	s.ChangedNS = int64(changed * float64(sec))
	return s
}

func TestUpdateChangeSpan(t *testing.T) {
	t.Parallel()
	const ms = sec / 1000
	tests := []struct {
		name  string
		steps []step
	}{
		{
			// The reads are 1 s apart, but the second holds two refreshes:
			// its delta is their traffic over the 1.95 s between the
			// changes (window midpoints 0.225 and 2.175), not over 1 s.
			name: "span between the changes, not the reads",
			steps: []step{
				{watched(at(1, 1000, 0, 1, 0), 0.2, 0.25), Result{Status: First}},
				{watched(at(2, 1500, 0, 2, 0), 1.55, 1.6), Result{Status: OK, DtNS: 1350 * ms, ChangeSpan: true, Rate: true,
					Delta: Values{500, 0, 1}, Total: Values{500, 0, 1}}},
				{watched(at(3, 2500, 0, 4, 0), 2.9, 2.95), Result{Status: OK, DtNS: 1350 * ms, ChangeSpan: true, Rate: true,
					Delta: Values{1000, 0, 2}, Total: Values{1500, 0, 3}}},
			},
		},
		{
			name: "changed_ns alone is the change instant",
			steps: []step{
				{watched(at(1, 1000, 0, 1, 0), 0, 0.5), Result{Status: First}},
				{watched(at(2, 1500, 0, 2, 0), 0, 1.5), Result{Status: OK, DtNS: sec, ChangeSpan: true, Rate: true,
					Delta: Values{500, 0, 1}, Total: Values{500, 0, 1}}},
			},
		},
		{
			// A stale read keeps the baseline and its change time.
			name: "across a stale read",
			steps: []step{
				{watched(at(1, 1000, 0, 1, 0), 0.9, 0.95), Result{Status: First}},
				{watched(at(1.5, 1000, 0, 1, 0), 0.9, 0.95), Result{Status: Stale, DtNS: sec / 2}},
				{watched(at(2, 2000, 0, 2, 0), 1.85, 1.9), Result{Status: OK, DtNS: 950 * ms, ChangeSpan: true, Rate: true,
					Delta: Values{1000, 0, 1}, Total: Values{1000, 0, 1}}},
			},
		},
		{
			name: "without a change time on the baseline: read span",
			steps: []step{
				{at(1, 1000, 0, 1, 0), Result{Status: First}},
				{watched(at(2, 1500, 0, 2, 0), 1.5, 1.55), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{500, 0, 1}, Total: Values{500, 0, 1}}},
			},
		},
		{
			name: "changed_ns after the read is ignored",
			steps: []step{
				{watched(at(1, 1000, 0, 1, 0), 0.5, 0.6), Result{Status: First}},
				{watched(at(2, 1500, 0, 2, 0), 0, 2.5), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{500, 0, 1}, Total: Values{500, 0, 1}}},
			},
		},
		{
			name: "change time not after the baseline's: read span",
			steps: []step{
				{watched(at(1, 1000, 0, 1, 0), 0.5, 0.6), Result{Status: First}},
				{watched(at(2, 1500, 0, 2, 0), 0.4, 0.5), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{500, 0, 1}, Total: Values{500, 0, 1}}},
			},
		},
		{
			// Refreshes that change nothing are invisible: after a
			// measured idle interval the last change may be long before
			// the refresh that began the new traffic.
			name: "after an idle interval: read span",
			steps: []step{
				{watched(at(1, 1000, 0, 1, 0), 0.5, 0.6), Result{Status: First}},
				{watched(at(2, 1500, 0, 2, 0), 1.5, 1.6), Result{Status: OK, DtNS: sec, ChangeSpan: true, Rate: true,
					Delta: Values{500, 0, 1}, Total: Values{500, 0, 1}}},
				{watched(at(6, 1500, 0, 2, 0), 1.5, 1.6), Result{Status: OK, DtNS: 4 * sec, Rate: true, Total: Values{500, 0, 1}}},
				{watched(at(7, 1700, 0, 3, 0), 6.5, 6.6), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{200, 0, 1}, Total: Values{700, 0, 2}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := New(Config{})
			runSteps(t, tr, tt.steps)
		})
	}
}

func TestChangeSpanSurvivesRestore(t *testing.T) {
	t.Parallel()
	a := New(Config{})
	a.Update(watched(at(1, 1000, 0, 1, 0), 0.9, 0.95))
	cp := a.Snapshot()
	if cp.BaseChangeNS != 925*sec/1000 {
		t.Fatalf("Snapshot().BaseChangeNS = %d, want %d", cp.BaseChangeNS, 925*sec/1000)
	}
	b := New(Config{})
	b.Restore(cp)
	got := b.Update(watched(at(3, 3000, 0, 3, 0), 2.9, 2.95))
	want := Result{Status: OK, DtNS: 2 * sec, ChangeSpan: true, Rate: true, Delta: Values{2000, 0, 2}, Total: Values{2000, 0, 2}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Update after Restore mismatch (-want +got):\n%s", d)
	}
}
