package rate

import (
	"testing"
)

// predicted returns s with the window of a predicted refresh at sec
// seconds (refresh.Lock): (at-1 ms, at+1 ms].
func predicted(s Sample, at float64) Sample {
	c := int64(at * float64(sec))
	s.UnchangedNS, s.ChangedNS, s.Predicted = c-sec/1000, c+sec/1000, true
	return s
}

func unsure(s Sample) Sample { s.Unsure = true; return s }

func hold(s Sample, ns int64) Sample { s.HoldNS = ns; return s }

func TestUpdatePredicted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
	}{
		{
			// Two refreshes 0.9765 s apart fall into the second interval:
			// the delta is divided by their span, 1.953 s, not by the
			// read span of 1 s.
			name: "the span between predicted refreshes",
			steps: []step{
				{predicted(at(1, 1000, 0, 1, 0), 0.5), Result{Status: First}},
				{predicted(at(2, 2000, 0, 2, 0), 1.4765), Result{Status: OK, DtNS: 976_500_000, ChangeSpan: true, Rate: true,
					Delta: Values{1000, 0, 1}, Total: Values{1000, 0, 1}}},
				{predicted(at(3, 4000, 0, 4, 0), 2.9295), Result{Status: OK, DtNS: 1_453_000_000, ChangeSpan: true, Rate: true,
					Delta: Values{2000, 0, 2}, Total: Values{3000, 0, 3}}},
			},
		},
		{
			// After an idle interval the predicted refreshes still hold:
			// the traffic began after the baseline's refresh.
			name: "after idle",
			steps: []step{
				{predicted(at(1, 1000, 0, 1, 0), 0.5), Result{Status: First}},
				{with(predicted(at(2, 1000, 0, 1, 0), 1.5), func(s *Sample) { s.Live = true }), Result{Status: OK, DtNS: sec, ChangeSpan: true, Rate: true}},
				{predicted(at(3, 1500, 0, 2, 0), 2.5), Result{Status: OK, DtNS: sec, ChangeSpan: true, Rate: true,
					Delta: Values{500, 0, 1}, Total: Values{500, 0, 1}}},
			},
		},
		{
			// An unsure read closes no interval: the next one spans both.
			name: "unsure is held",
			steps: []step{
				{predicted(at(1, 1000, 0, 1, 0), 0.5), Result{Status: First}},
				{unsure(at(2, 2000, 0, 2, 0)), Result{Status: Stale, Reason: "read too close to a predicted driver refresh", DtNS: sec, Total: Values{}}},
				{predicted(at(3, 3000, 0, 3, 0), 2.5), Result{Status: OK, DtNS: 2 * sec, ChangeSpan: true, Rate: true,
					Delta: Values{2000, 0, 2}, Total: Values{2000, 0, 2}}},
			},
		},
		{
			// Without Live, stillness after traffic is stale; with it, a
			// true zero at once.
			name: "live stillness is a zero",
			steps: []step{
				{predicted(at(1, 1000, 0, 1, 0), 0.5), Result{Status: First}},
				{predicted(at(2, 2000, 0, 2, 0), 1.5), Result{Status: OK, DtNS: sec, ChangeSpan: true, Rate: true,
					Delta: Values{1000, 0, 1}, Total: Values{1000, 0, 1}}},
				{predicted(at(3, 2000, 0, 2, 0), 2.5), Result{Status: Stale, DtNS: sec, Total: Values{1000, 0, 1}}},
				{with(predicted(at(4, 2000, 0, 2, 0), 3.5), func(s *Sample) { s.Live = true }), Result{Status: OK, DtNS: 2 * sec, ChangeSpan: true, Rate: true,
					Total: Values{1000, 0, 1}}},
			},
		},
		{
			// An unsure read held past the stale limit: where the
			// interval ends is not known, so it closes as a gap, not a
			// rate over the read span.
			name: "unsure past the stale limit is a gap",
			steps: []step{
				{predicted(at(1, 1000, 0, 1, 0), 0.5), Result{Status: First}},
				{unsure(at(2, 2000, 0, 2, 0)), Result{Status: Stale, Reason: "read too close to a predicted driver refresh", DtNS: sec}},
				{unsure(at(3, 3000, 0, 3, 0)), Result{Status: Stale, Reason: "read too close to a predicted driver refresh", DtNS: 2 * sec}},
				{unsure(at(4, 4000, 0, 4, 0)), Result{Status: Gap, DtNS: 3 * sec, Delta: Values{3000, 0, 3}, Total: Values{3000, 0, 3}}},
			},
		},
		{
			// With HoldNS (the agent's fit holds, refresh_ns 2 s: 8 s)
			// an unsure read is held that long, not the stale limit, and
			// the next window spans the whole interval.
			name: "unsure held for HoldNS",
			steps: []step{
				{predicted(at(1, 1000, 0, 1, 0), 0.5), Result{Status: First}},
				{hold(unsure(at(2, 2000, 0, 2, 0)), 8*sec), Result{Status: Stale, Reason: "read too close to a predicted driver refresh", DtNS: sec}},
				{hold(unsure(at(4, 4000, 0, 4, 0)), 8*sec), Result{Status: Stale, Reason: "read too close to a predicted driver refresh", DtNS: 3 * sec}},
				{predicted(at(5, 5000, 0, 5, 0), 4.5), Result{Status: OK, DtNS: 4 * sec, ChangeSpan: true, Rate: true,
					Delta: Values{4000, 0, 4}, Total: Values{4000, 0, 4}}},
				{hold(unsure(at(14, 14000, 0, 14, 0)), 8*sec), Result{Status: Gap, DtNS: 9 * sec, Delta: Values{9000, 0, 9}, Total: Values{13000, 0, 13}}},
			},
		},
		{
			// HoldNS: still counters under the baseline's refresh are
			// held past the stale limit (a driver that skipped a
			// refresh), and a newer refresh (Live) is a zero at once.
			name: "held for HoldNS",
			steps: []step{
				{predicted(at(1, 1000, 0, 1, 0), 0.5), Result{Status: First}},
				{predicted(at(2, 2000, 0, 2, 0), 1.5), Result{Status: OK, DtNS: sec, ChangeSpan: true, Rate: true,
					Delta: Values{1000, 0, 1}, Total: Values{1000, 0, 1}}},
				{hold(predicted(at(5, 2000, 0, 2, 0), 1.5), 8*sec), Result{Status: Stale, DtNS: 3 * sec, Total: Values{1000, 0, 1}}},
				{hold(predicted(at(10, 2000, 0, 2, 0), 1.5), 8*sec), Result{Status: OK, DtNS: 8 * sec, Rate: true, Total: Values{1000, 0, 1}}},
			},
		},
		{
			// Idle: each claimed refresh closes a zero up to it; a read
			// that claims the same refresh again is held, not a zero over
			// its read span (which would overlap the next claim's).
			// Past HoldNS it closes as before.
			name: "idle, the same refresh claimed again",
			steps: []step{
				{predicted(at(1, 1000, 0, 1, 0), 0.5), Result{Status: First}},
				{hold(with(predicted(at(2, 1000, 0, 1, 0), 1.5), func(s *Sample) { s.Live = true }), 3*sec), Result{Status: OK, DtNS: sec, ChangeSpan: true, Rate: true}},
				{hold(predicted(at(2.2, 1000, 0, 1, 0), 1.5), 3*sec), Result{Status: Stale, Reason: "no refresh claimed since the baseline's", DtNS: sec / 5}},
				{hold(predicted(at(2.4, 1000, 0, 1, 0), 1.5), 3*sec), Result{Status: Stale, Reason: "no refresh claimed since the baseline's", DtNS: 2 * sec / 5}},
				{hold(with(predicted(at(2.6, 1000, 0, 1, 0), 2.5), func(s *Sample) { s.Live = true }), 3*sec), Result{Status: OK, DtNS: sec, ChangeSpan: true, Rate: true}},
				{hold(predicted(at(5.7, 1000, 0, 1, 0), 2.5), 3*sec), Result{Status: OK, DtNS: 3_100_000_000, Rate: true}},
			},
		},
		{
			// A new clock: the interval that began on the old one is a gap.
			name: "rebase",
			steps: []step{
				{predicted(at(1, 1000, 0, 1, 0), 0.5), Result{Status: First}},
				{with(predicted(at(2, 2000, 0, 2, 0), 1.7), func(s *Sample) { s.Rebase = true }), Result{Status: Gap, Reason: "refresh clock fitted anew: the interval spans two clocks",
					DtNS: sec, Delta: Values{1000, 0, 1}, Total: Values{1000, 0, 1}}},
				{predicted(at(3, 3000, 0, 3, 0), 2.7), Result{Status: OK, DtNS: sec, ChangeSpan: true, Rate: true,
					Delta: Values{1000, 0, 1}, Total: Values{2000, 0, 2}}},
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
