package rate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	const ms = sec / 1000
	ok := func(bytes uint64, dt int64) Result {
		return Result{Status: OK, Rate: true, DtNS: dt, Delta: Values{bytes}}
	}
	tests := []struct {
		name              string
		results           []Result
		interval, refresh int64
		want              Summary
	}{
		{name: "none", interval: 250 * ms, want: Summary{}},
		{
			// Four quarter-second intervals of a fast counter: 1, 1, 4
			// and 2 Mbit/s; the average is 2 Mbit/s, the peak 4.
			name:     "microburst",
			results:  []Result{ok(31250, 250*ms), ok(31250, 250*ms), ok(125000, 250*ms), ok(62500, 250*ms)},
			interval: 250 * ms, refresh: 10 * ms,
			want: Summary{Intervals: 4, Rated: 4, Delta: 250000, SpanNS: sec, Average: 2_000_000,
				Peak: 4_000_000, PeakSpanNS: 250 * ms},
		},
		{
			// A counter refreshed every second sampled every 0.25 s: three
			// stale reads and one change over the whole second.
			name:     "refresh slower than the interval",
			results:  []Result{{Status: Stale, DtNS: 250 * ms}, {Status: Stale, DtNS: 500 * ms}, {Status: Stale, DtNS: 750 * ms}, ok(125000, sec)},
			interval: 250 * ms,
			want: Summary{Intervals: 4, Rated: 1, Stale: 3, Delta: 125000, SpanNS: sec, Average: 1_000_000,
				Peak: 1_000_000, PeakSpanNS: sec, TooCoarse: true},
		},
		{
			name:     "known refresh period longer than the interval",
			results:  []Result{ok(125000, sec)},
			interval: 500 * ms, refresh: 976_500_000,
			want: Summary{Intervals: 1, Rated: 1, Delta: 125000, SpanNS: sec, Average: 1_000_000,
				Peak: 1_000_000, PeakSpanNS: sec, TooCoarse: true},
		},
		{
			name:     "gaps and resets carry no rate",
			results:  []Result{{Status: Gap, DtNS: 5 * sec, Delta: Values{1 << 20}}, {Status: Reset, Delta: Values{7}}, ok(0, sec)},
			interval: sec,
			want:     Summary{Intervals: 3, Rated: 1, SpanNS: sec, PeakSpanNS: sec},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Summarize(tt.results, RxBytes, 8, tt.interval, tt.refresh)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Summarize() mismatch (-want +got):\n%s", d)
			}
		})
	}
}
