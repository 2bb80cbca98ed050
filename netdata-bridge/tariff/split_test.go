package tariff

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	berlin := mustLoad(t, "Europe/Berlin")
	// Three one-second stretches: a, b, a.
	abaStart := time.Date(2025, 1, 1, 0, 59, 59, 0, time.UTC)
	aba := mustParse(t, "b=01:00-01:01;a=*", time.UTC)
	tests := []struct {
		name   string
		s      *Schedule
		delta  uint64
		t0, t1 time.Time
		want   []Part
	}{
		{"no boundary", mustParse(t, "happy=00:00-07:00;normal=*", time.UTC), 1000,
			time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 8, 0, 1, 0, time.UTC),
			[]Part{{"normal", 1000}}},
		{"floor then rest", mustParse(t, "happy=00:00-07:00;normal=*", time.UTC), 10,
			time.Date(2025, 1, 1, 6, 59, 59, 0, time.UTC), time.Date(2025, 1, 1, 7, 0, 2, 0, time.UTC),
			[]Part{{"happy", 3}, {"normal", 7}}},
		{"a b a merges a", mustParse(t, "b=00:00-00:01;a=*", time.UTC), 10,
			time.Date(2024, 12, 31, 23, 59, 40, 0, time.UTC), time.Date(2025, 1, 1, 0, 1, 10, 0, time.UTC),
			// F(20s of 90s) = 2, F(80s) = 8: a 2+2, b 6
			[]Part{{"a", 4}, {"b", 6}}},
		{"a b a by thirds", aba, 10, abaStart.Add(time.Second - time.Minute), abaStart.Add(time.Second + 2*time.Minute),
			// a [0, 1/3): F = 3; b [1/3, 2/3): 6 - 3; a [2/3, 1]: 10 - 6
			[]Part{{"a", 7}, {"b", 3}}},
		{"max delta, one third", mustParse(t, "happy=00:00-07:00;normal=*", time.UTC), math.MaxUint64,
			time.Date(2025, 1, 1, 6, 59, 59, 0, time.UTC), time.Date(2025, 1, 1, 7, 0, 1, 500_000_000, time.UTC),
			// happy 1 s of 2.5 s: floor((2^64-1) * 2/5)
			[]Part{{"happy", 7378697629483820646}, {"normal", 11068046444225730969}}},
		{"nanoseconds count", mustParse(t, "happy=00:00-07:00;normal=*", time.UTC), 3,
			time.Date(2025, 1, 1, 6, 59, 59, 999_999_999, time.UTC), time.Date(2025, 1, 1, 7, 0, 0, 2, time.UTC),
			[]Part{{"happy", 1}, {"normal", 2}}},
		{"boundary at t1 gives the new tariff nothing", mustParse(t, "happy=00:00-07:00;normal=*", time.UTC), 5,
			time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 7, 0, 0, 0, time.UTC),
			[]Part{{"happy", 5}}},
		{"boundary at t0 is not crossed", mustParse(t, "happy=00:00-07:00;normal=*", time.UTC), 5,
			time.Date(2025, 1, 1, 7, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC),
			[]Part{{"normal", 5}}},
		{"t0 == t1: all to the tariff at t1", mustParse(t, "happy=00:00-07:00;normal=*", time.UTC), 5,
			time.Date(2025, 1, 1, 7, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 7, 0, 0, 0, time.UTC),
			[]Part{{"normal", 5}}},
		{"t1 < t0: all to the tariff at t1", mustParse(t, "happy=00:00-07:00;normal=*", time.UTC), 5,
			time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC),
			[]Part{{"happy", 5}}},
		{"zero delta", mustParse(t, "happy=00:00-07:00;normal=*", time.UTC), 0,
			time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC),
			[]Part{{"happy", 0}, {"normal", 0}}},
		{"23 h day", mustParse(t, "happy=00:00-07:00;normal=*", berlin), 23_000,
			mustTime(t, "2025-03-29T12:00:00+01:00"), mustTime(t, "2025-03-30T12:00:00+02:00"),
			[]Part{{"normal", 17000}, {"happy", 6000}}},
		{"25 h day, change in the repeated hour", mustParse(t, "happy=00:00-02:30;normal=*", berlin), 25_000,
			mustTime(t, "2025-10-25T12:00:00+02:00"), mustTime(t, "2025-10-26T12:00:00+01:00"),
			[]Part{{"normal", 22500}, {"happy", 2500}}},
		{"25 h day, window to 03:00 lasts 4 h", mustParse(t, "happy=00:00-03:00;normal=*", berlin), 25_000,
			mustTime(t, "2025-10-25T12:00:00+02:00"), mustTime(t, "2025-10-26T12:00:00+01:00"),
			[]Part{{"normal", 21000}, {"happy", 4000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Split(tt.delta, tt.t0, tt.t1, tt.s)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Split(%d, %v, %v) (-want +got):\n%s", tt.delta, tt.t0, tt.t1, diff)
			}
		})
	}
}
