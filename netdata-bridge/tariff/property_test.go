package tariff

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// dstZones are zones with their 2025 changes (spring forward, fall back;
// Lord Howe shifts by 30 minutes, in the southern hemisphere's seasons).
var dstZones = []struct {
	name    string
	changes [2]string
}{
	{"UTC", [2]string{"2025-03-30T01:00:00Z", "2025-10-26T01:00:00Z"}},
	{"Europe/Berlin", [2]string{"2025-03-30T01:00:00Z", "2025-10-26T01:00:00Z"}},
	{"America/New_York", [2]string{"2025-03-09T07:00:00Z", "2025-11-02T06:00:00Z"}},
	{"Australia/Lord_Howe", [2]string{"2025-10-04T15:30:00Z", "2025-04-05T15:00:00Z"}},
}

// randomSchedule builds a schedule of up to four tariffs from random
// windows; the windows that would overlap an earlier tariff are dropped.
func randomSchedule(t *testing.T, rng *rand.Rand, loc *time.Location) *Schedule {
	t.Helper()
	for {
		n := 1 + rng.IntN(3)
		spec := ""
		for i := range n {
			d := rng.IntN(7)
			start := rng.IntN(96) * 15
			end := (start + 15*(1+rng.IntN(48))) % minutesPerDay
			w := fmt.Sprintf("%02d:%02d-%02d:%02d", start/60, start%60, end/60, end%60)
			if rng.IntN(2) == 0 {
				w = dayNames[d] + "-" + dayNames[(d+rng.IntN(7))%7] + " " + w
			}
			spec += fmt.Sprintf("t%d=%s;", i, w)
		}
		spec += "rest=*"
		if s, err := Parse(spec, loc); err == nil {
			return s
		}
	}
}

// stretches returns the constant-tariff stretches of [t0, t1] of positive
// length, by Boundaries.
func stretches(s *Schedule, t0, t1 time.Time) (tariffs []string, ends []time.Time) {
	cur, from := s.At(t0), t0
	for _, b := range s.Boundaries(t0, t1) {
		tariffs, ends = append(tariffs, cur), append(ends, b.At)
		cur, from = b.Tariff, b.At
	}
	if t1.After(from) {
		tariffs, ends = append(tariffs, cur), append(ends, t1)
	}
	return tariffs, ends
}

// TestSplitProperties checks, for random schedules in zones with DST
// (Lord Howe shifts by 30 min) and random intervals near DST changes:
//   - the parts add up to delta exactly;
//   - each tariff's part is within one byte per stretch of its
//     time-weighted share delta*duration/(t1-t0), computed in rationals;
//   - subdividing [t0, t2] at t1, with the counter at t1 read as the
//     pro-rata value F(t1), gives per tariff at most 2 bytes per stretch
//     of difference (each stretch end moves by at most one byte in either
//     split) and the same sum.
func TestSplitProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		z := dstZones[i%len(dstZones)]
		loc := mustLoad(t, z.name)
		s := randomSchedule(t, rng, loc)
		t0 := mustTime(t, z.changes[rng.IntN(2)]).Add(time.Duration(rng.Int64N(int64(72*time.Hour))) - 36*time.Hour)
		t2 := t0.Add(time.Duration(rng.Int64N(int64(30 * time.Hour))))
		t1 := t0.Add(time.Duration(rng.Int64N(int64(t2.Sub(t0)) + 1)))
		var delta uint64
		switch rng.IntN(3) {
		case 0:
			delta = rng.Uint64()
		case 1:
			delta = rng.Uint64N(1000)
		default:
			delta = rng.Uint64N(1 << 40)
		}
		name := fmt.Sprintf("%d %s %s [%v %v %v] %d", i, loc, s, t0, t1, t2, delta)

		whole := Split(delta, t0, t2, s)
		checkSum(t, name, delta, whole)
		if t2.After(t0) {
			// Time-weighted truth.
			tariffs, ends := stretches(s, t0, t2)
			truth, count := map[string]*big.Rat{}, map[string]int64{}
			from := t0
			for k, tar := range tariffs {
				if truth[tar] == nil {
					truth[tar] = new(big.Rat)
				}
				share := new(big.Rat).SetFrac(new(big.Int).Mul(new(big.Int).SetUint64(delta), big.NewInt(int64(ends[k].Sub(from)))), big.NewInt(int64(t2.Sub(t0))))
				truth[tar].Add(truth[tar], share)
				count[tar]++
				from = ends[k]
			}
			if len(whole) != len(truth) {
				t.Fatalf("%s: parts %v, tariffs in force %v", name, whole, tariffs)
			}
			for _, p := range whole {
				diff := new(big.Rat).Sub(new(big.Rat).SetInt(new(big.Int).SetUint64(p.Bytes)), truth[p.Tariff])
				if diff.Abs(diff).Cmp(big.NewRat(count[p.Tariff], 1)) >= 0 {
					t.Fatalf("%s: %s got %d, time-weighted %s, more than %d byte(s) apart", name, p.Tariff, p.Bytes, truth[p.Tariff].FloatString(3), count[p.Tariff])
				}
			}
		}

		d1 := newProrate(delta, t0, t2).at(t1)
		if !t2.After(t0) {
			d1 = 0
		}
		first, second := Split(d1, t0, t1, s), Split(delta-d1, t1, t2, s)
		sub := map[string]int64{}
		checkSum(t, name+" first", d1, first)
		checkSum(t, name+" second", delta-d1, second)
		got := map[string]uint64{}
		for _, p := range append(first, second...) {
			got[p.Tariff] += p.Bytes
		}
		n1, _ := stretches(s, t0, t1)
		n2, _ := stretches(s, t1, t2)
		for _, tar := range append(n1, n2...) {
			sub[tar]++
		}
		for _, p := range whole {
			d := int64(got[p.Tariff] - p.Bytes)
			if d < 0 {
				d = -d
			}
			if d > 2*sub[p.Tariff] && t2.After(t0) {
				t.Fatalf("%s: %s whole %d, subdivided %d (%v + %v)", name, p.Tariff, p.Bytes, got[p.Tariff], first, second)
			}
		}
	}
}

func checkSum(t *testing.T, name string, delta uint64, parts []Part) {
	t.Helper()
	var sum, carry uint64
	seen := map[string]bool{}
	for _, p := range parts {
		if seen[p.Tariff] {
			t.Fatalf("%s: tariff %s twice in %v", name, p.Tariff, parts)
		}
		seen[p.Tariff] = true
		var c uint64
		sum, c = bitsAdd(sum, p.Bytes)
		carry += c
	}
	if sum != delta || carry != 0 {
		t.Fatalf("%s: parts %v add up to %d (carry %d), want %d", name, parts, sum, carry, delta)
	}
}

func bitsAdd(a, b uint64) (uint64, uint64) {
	s := a + b
	if s < a {
		return s, 1
	}
	return s, 0
}

// TestBoundariesMatchAt samples At at every minute of random intervals
// (every zone used shifts on whole minutes, so At is constant within a
// minute) and checks that the changes are exactly Boundaries, and that At
// follows the wall clock outside the hour a fall-back change repeats.
func TestBoundariesMatchAt(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 120 {
		z := dstZones[1+i%(len(dstZones)-1)]
		loc := mustLoad(t, z.name)
		s := randomSchedule(t, rng, loc)
		t0 := mustTime(t, z.changes[rng.IntN(2)]).Add(time.Duration(rng.IntN(28*60)-26*60) * time.Minute)
		t1 := t0.Add(30 * time.Hour)
		var want []string
		prev := s.At(t0)
		for x := t0.Add(time.Minute); !x.After(t1); x = x.Add(time.Minute) {
			cur := s.At(x)
			if cur != prev {
				want = append(want, x.In(loc).Format(time.RFC3339)+" "+cur)
			}
			prev = cur
			if !repeated(x.In(loc)) {
				w := x.In(loc)
				m := (int(w.Weekday())+6)%7*minutesPerDay + w.Hour()*60 + w.Minute()
				if rule := s.names[s.week[m]]; rule != cur {
					t.Fatalf("%s: At(%v) = %s, the wall clock says %s", s, w, cur, rule)
				}
			}
		}
		got := boundaryList(s.Boundaries(t0, t1))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s [%v, %v]:\nBoundaries %v\nAt changes %v", s, t0, t1, got, want)
		}
	}
}

// repeated reports whether t's wall clock is one shown earlier too, after
// a fall-back change.
func repeated(t time.Time) bool {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, off := t.Zone()
	_, poff := start.Add(-time.Second).Zone()
	return poff > off && t.Sub(start) < time.Duration(poff-off)*time.Second
}

// TestAccumulatorProperties feeds random interval sequences with gaps
// (reset intervals the rate package drops) across several billing cycles
// and checks that lifetime totals per tariff equal the sums of Split per
// interval, and that the current and previous cycles hold exactly the
// time-proportional bytes of their cycles.
func TestAccumulatorProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	loc := mustLoad(t, "Europe/Berlin")
	for i := range 30 {
		s := randomSchedule(t, rng, loc)
		day := 1 + rng.IntN(31)
		a, _ := NewAccumulator(s, day, nil)
		wantLife := map[string]Usage{}
		type iv struct {
			t0, t1 time.Time
			rx, tx uint64
		}
		var ivs []iv
		at := mustTime(t, "2025-01-15T00:00:00Z").Add(time.Duration(rng.Int64N(int64(300 * 24 * time.Hour))))
		for range 200 {
			d := time.Duration(rng.Int64N(int64(12 * time.Hour)))
			if rng.IntN(10) == 0 {
				at = at.Add(d) // a reset: the interval contributes nothing
				continue
			}
			v := iv{at, at.Add(d), rng.Uint64N(1 << 50), rng.Uint64N(1 << 50)}
			ivs = append(ivs, v)
			a.Add(v.t0, v.t1, v.rx, v.tx)
			for _, p := range Split(v.rx, v.t0, v.t1, s) {
				u := wantLife[p.Tariff]
				u.Rx += p.Bytes
				wantLife[p.Tariff] = u
			}
			for _, p := range Split(v.tx, v.t0, v.t1, s) {
				u := wantLife[p.Tariff]
				u.Tx += p.Bytes
				wantLife[p.Tariff] = u
			}
			at = v.t1
		}
		start, end := a.Cycle()
		prevStart, _ := Cycle(start.Add(-time.Nanosecond), day, loc)
		var wantCur, wantPrev, gotCur, gotPrev Usage
		for _, v := range ivs {
			prx, ptx := newProrate(v.rx, v.t0, v.t1), newProrate(v.tx, v.t0, v.t1)
			in := func(p prorate, a, b time.Time) uint64 {
				if !v.t1.After(v.t0) {
					if !v.t1.Before(a) && v.t1.Before(b) {
						return p.delta
					}
					return 0
				}
				lo, hi := clamp(v.t0, a, b), clamp(v.t1, a, b)
				return p.at(hi) - p.at(lo)
			}
			wantCur.Rx += in(prx, start, end)
			wantCur.Tx += in(ptx, start, end)
			wantPrev.Rx += in(prx, prevStart, start)
			wantPrev.Tx += in(ptx, prevStart, start)
		}
		for _, n := range s.names {
			if got, want := a.Lifetime(n), wantLife[n]; got != want {
				t.Fatalf("%d %s: Lifetime(%s) = %v, want %v", i, s, n, got, want)
			}
			gotCur.Rx += a.Current(n).Rx
			gotCur.Tx += a.Current(n).Tx
			gotPrev.Rx += a.Previous(n).Rx
			gotPrev.Tx += a.Previous(n).Tx
		}
		if gotCur != wantCur || gotPrev != wantPrev {
			t.Fatalf("%d %s day %d: current %v previous %v, want %v %v", i, s, day, gotCur, gotPrev, wantCur, wantPrev)
		}
	}
}

func clamp(x, a, b time.Time) time.Time {
	if x.Before(a) {
		return a
	}
	if x.After(b) {
		return b
	}
	return x
}
