package refresh

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// observed returns an Estimator fed with ws, and ws as Windows.
func observed(cfg Config, ws [][2]int64) *Estimator {
	e := New(cfg)
	for _, w := range ws {
		e.Observe(w[0], w[1])
	}
	return e
}

// TestRestoreGivesTheSameEstimate: an Estimator restored from another's
// windows, directly and through Pack/Unpack, fits the same Estimate and
// refines the next window the same way.
func TestRestoreGivesTheSameEstimate(t *testing.T) {
	t.Parallel()
	const period = 976_500_000
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		ws   [][2]int64
	}{
		{"two windows", periodic(period, 300*ms, 2*sec, 0, 0, nil).watch(50*ms, 0)},
		{"MinWindows", periodic(period, 300*ms, 8*sec, 0, 0, nil).watch(50*ms, 0)},
		{"20 windows", periodic(period, 300*ms, 20*sec, 0, 0, nil).watch(50*ms, 0)},
		{"full history", periodic(period, 300*ms, 64*sec, 0, 0, nil).watch(10*ms, 3*ms)},
		{"more than the history", periodic(period, 300*ms, 200*sec, 0, 0, nil).watch(50*ms, 0)},
		{"jitter and missed refreshes", periodic(sec, 700*ms, 90*sec, 2*ms, 0.05, rng).watch(50*ms, 7*ms)},
		{"changes at every read", [][2]int64{{50 * ms, 100 * ms}, {100 * ms, 150 * ms}, {150 * ms, 200 * ms}, {200 * ms, 250 * ms}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			orig := observed(Config{}, tt.ws)
			want := orig.Estimate()
			last := tt.ws[len(tt.ws)-1]
			next := [2]int64{last[0] + period, last[1] + period}
			wantLo, wantHi := orig.Refine(next[0], next[1])

			direct := New(Config{})
			if err := direct.Restore(orig.Changes()); err != nil {
				t.Fatalf("Restore(Changes()): %v", err)
			}
			unpacked, err := Unpack(Pack(orig.Changes()), DefaultHistory)
			if err != nil {
				t.Fatalf("Unpack(Pack(Changes())): %v", err)
			}
			viaPack := New(Config{})
			if err := viaPack.Restore(unpacked); err != nil {
				t.Fatalf("Restore(Unpack(Pack(Changes()))): %v", err)
			}
			for name, e := range map[string]*Estimator{"Restore": direct, "Pack/Unpack": viaPack} {
				if d := cmp.Diff(orig.Changes(), e.Changes()); d != "" {
					t.Errorf("%s: Changes() mismatch (-want +got):\n%s", name, d)
				}
				if d := cmp.Diff(want, e.Estimate()); d != "" {
					t.Errorf("%s: Estimate() mismatch (-want +got):\n%s", name, d)
				}
				if lo, hi := e.Refine(next[0], next[1]); lo != wantLo || hi != wantHi {
					t.Errorf("%s: Refine(%d, %d) = (%d, %d), want (%d, %d)", name, next[0], next[1], lo, hi, wantLo, wantHi)
				}
			}
		})
	}
}

// TestRestoreThenObserve: a restored Estimator goes on as the original
// would: the same change reported again is not a new window, a later one
// is appended.
func TestRestoreThenObserve(t *testing.T) {
	t.Parallel()
	ws := periodic(976_500_000, 300*ms, 30*sec, 0, 0, nil).watch(50*ms, 0)
	orig := observed(Config{}, ws[:len(ws)-1])
	e := New(Config{})
	if err := e.Restore(orig.Changes()); err != nil {
		t.Fatal(err)
	}
	last := ws[len(ws)-2]
	e.Observe(last[0], last[1]) // the checkpoint's change, in the first reply again
	if got, want := len(e.Changes()), len(ws)-1; got != want {
		t.Errorf("%d windows after the restored last one again, want %d", got, want)
	}
	next := ws[len(ws)-1]
	e.Observe(next[0], next[1])
	orig.Observe(next[0], next[1])
	if d := cmp.Diff(orig.Estimate(), e.Estimate()); d != "" {
		t.Errorf("Estimate() after one more window mismatch (-want +got):\n%s", d)
	}
}

// TestRestoreKeepsTheLatestHistory: an Estimator with a shorter History
// keeps the newest windows, as if it had observed them all.
func TestRestoreKeepsTheLatestHistory(t *testing.T) {
	t.Parallel()
	ws := periodic(sec, 300*ms, 40*sec, 0, 0, nil).watch(50*ms, 0)
	cfg := Config{History: 16}
	want := observed(cfg, ws)
	e := New(cfg)
	if err := e.Restore(observed(Config{}, ws).Changes()); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want.Changes(), e.Changes()); d != "" {
		t.Errorf("Changes() mismatch (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want.Estimate(), e.Estimate()); d != "" {
		t.Errorf("Estimate() mismatch (-want +got):\n%s", d)
	}
}

// TestRestoreRefusesHostileInput: windows that Observe would not have
// accepted are refused as a whole, and the Estimator keeps its own.
func TestRestoreRefusesHostileInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ws   []Change
	}{
		{"zero lo", []Change{{0, 10}}},
		{"negative", []Change{{-20, -10}}},
		{"empty", []Change{{10, 10}}},
		{"inverted", []Change{{20, 10}}},
		{"overlapping", []Change{{10, 30}, {20, 40}}},
		{"descending", []Change{{100, 110}, {10, 20}}},
		{"the same twice", []Change{{10, 20}, {10, 20}}},
		{"bad among good", []Change{{10, 20}, {30, 40}, {50, 50}, {60, 70}}},
		{"extremes", []Change{{1, math.MaxInt64}, {math.MaxInt64, math.MinInt64}}},
	}
	good := periodic(sec, 300*ms, 12*sec, 0, 0, nil).watch(50*ms, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := observed(Config{}, good)
			before, est := e.Changes(), e.Estimate()
			err := e.Restore(tt.ws)
			if !errors.Is(err, ErrBadWindows) {
				t.Errorf("Restore(%v) = %v, want ErrBadWindows", tt.ws, err)
			}
			if d := cmp.Diff(before, e.Changes()); d != "" {
				t.Errorf("windows changed by a refused Restore (-want +got):\n%s", d)
			}
			if d := cmp.Diff(est, e.Estimate()); d != "" {
				t.Errorf("estimate changed by a refused Restore (-want +got):\n%s", d)
			}
		})
	}
}

func TestRestoreEmpty(t *testing.T) {
	t.Parallel()
	e := observed(Config{}, periodic(sec, 300*ms, 12*sec, 0, 0, nil).watch(50*ms, 0))
	if err := e.Restore(nil); err != nil {
		t.Fatalf("Restore(nil) = %v", err)
	}
	if got := e.Estimate(); got != (Estimate{}) {
		t.Errorf("Estimate() after Restore(nil) = %+v, want zero", got)
	}
}

func TestUnpackRefusesHostileInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    []int64
		max  int
	}{
		{"odd length", []int64{1, 2, 3}, 64},
		{"too many", make([]int64, 2*65), 64},
		{"negative start", []int64{-1, 10}, 64},
		{"negative width", []int64{10, -1}, 64},
		{"negative gap", []int64{10, 5, -3, 5}, 64},
		{"overflowing width", []int64{math.MaxInt64, 1}, 64},
		{"overflowing gap", []int64{math.MaxInt64 - 5, 5, 1, 0}, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if ws, err := Unpack(tt.p, tt.max); !errors.Is(err, ErrBadWindows) {
				t.Errorf("Unpack(%v) = %v, %v; want ErrBadWindows", tt.p, ws, err)
			}
		})
	}
}

// FuzzRestore feeds arbitrary packed windows to Unpack, Restore, Estimate,
// Reach and Refine: nothing panics, and what Restore accepts round-trips.
func FuzzRestore(f *testing.F) {
	seed := func(ws [][2]int64) []byte {
		var b []byte
		var e Estimator
		for _, w := range ws {
			e.Observe(w[0], w[1])
		}
		for _, v := range Pack(e.Changes()) {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		return b
	}
	f.Add(seed(periodic(976_500_000, 300*ms, 64*sec, 0, 0, nil).watch(50*ms, 0)))
	f.Add(seed(periodic(sec, 300*ms, 10*sec, 0, 0, nil).watch(10*ms, 0)))
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1), math.MaxUint64))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := make([]int64, 0, len(b)/8)
		for i := 0; i+8 <= len(b); i += 8 {
			p = append(p, int64(binary.LittleEndian.Uint64(b[i:])))
		}
		ws, err := Unpack(p, DefaultHistory)
		if err != nil {
			return
		}
		e := New(Config{MinWindows: 3})
		if err := e.Restore(ws); err != nil {
			return
		}
		if r := Reach(ws); r < 0 {
			t.Fatalf("Reach = %d", r)
		}
		// Widths are kept as float32, rounded up: a window wider than
		// 2²⁴ ns (16.8 ms) comes back up to one float32 step wider on
		// its early side, never narrower, and then round-trips exactly.
		got := e.Changes()
		if len(got) != len(ws) {
			t.Fatalf("Changes() after Restore: %d windows, want %d", len(got), len(ws))
		}
		for i, w := range ws {
			g, width := got[i], w.ChangedNS-w.UnchangedNS
			if g.ChangedNS != w.ChangedNS || g.UnchangedNS > w.UnchangedNS || w.UnchangedNS-g.UnchangedNS > width>>23 {
				t.Fatalf("window %d (%d, %d] came back as (%d, %d]", i, w.UnchangedNS, w.ChangedNS, g.UnchangedNS, g.ChangedNS)
			}
		}
		if len(ws) > 0 {
			again := New(Config{MinWindows: 3})
			if err := again.Restore(got); err != nil {
				t.Fatalf("Restore(Changes()) = %v", err)
			}
			if d := cmp.Diff(got, again.Changes()); d != "" {
				t.Fatalf("a second round trip changed the windows (-want +got):\n%s", d)
			}
		}
		est := e.Estimate()
		if est.PeriodNS < 0 || est.Windows != len(ws) {
			t.Fatalf("Estimate() = %+v for %d windows", est, len(ws))
		}
		if len(ws) > 0 {
			w := ws[len(ws)-1]
			if lo, hi := e.Refine(w.UnchangedNS, w.ChangedNS); lo < w.UnchangedNS || hi > w.ChangedNS || lo >= hi {
				t.Fatalf("Refine(%d, %d) = (%d, %d): outside the window", w.UnchangedNS, w.ChangedNS, lo, hi)
			}
		}
	})
}

// TestWindowWidthRoundsUp: a window is kept with its width as a float32,
// which may only widen it (a narrower window would claim a refresh
// instant the reads do not prove), and by at most one float32 step.
func TestWindowWidthRoundsUp(t *testing.T) {
	t.Parallel()
	const hi int64 = 1_000_000_000_000
	for _, width := range []int64{1, 999_999, 1<<24 - 1, 1 << 24, 1<<24 + 1, 1_000_000_001, 4_294_967_297, 30_000_000_007} {
		var e Estimator
		e.Observe(hi-width, hi)
		ws := e.Changes()
		if len(ws) != 1 || ws[0].ChangedNS != hi {
			t.Fatalf("width %d: Changes() = %v, want one window ending at %d", width, ws, hi)
		}
		got := hi - ws[0].UnchangedNS
		if step := max(width>>23, 1); got < width || got-width >= step {
			t.Errorf("width %d kept as %d, want in [%d, %d)", width, got, width, width+step)
		}
		if width < 1<<24 && got != width {
			t.Errorf("width %d kept as %d, want it exact below 2^24 ns", width, got)
		}
	}
}

// TestWindowsKeptExactly: the windows an Estimator keeps (ends as gaps,
// long gaps aside) are those it was given, in order, the oldest dropped
// first, whatever the gaps between them.
func TestWindowsKeptExactly(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	for _, history := range []int{1, 2, 5, 64} {
		e := New(Config{History: history})
		var want []Change
		hi := int64(1_000_000)
		for i := range 300 {
			var gap int64
			switch r.IntN(4) {
			case 0:
				gap = r.Int64N(1 << 33) // often beyond the 4.29 s of a uint32
			case 1:
				gap = int64(farGap) + r.Int64N(3) - 1 // around the escape
			default:
				gap = 1 + r.Int64N(2_000_000_000)
			}
			width := 1 + r.Int64N(min(gap, 16_000_000))
			lo := hi + gap - width
			if lo < hi {
				lo = hi // windows must not overlap
			}
			hi += gap
			e.Observe(lo, hi)
			want = append(want, Change{lo, hi})
			if len(want) > history {
				want = want[1:]
			}
			if d := cmp.Diff(want, e.Changes()); d != "" {
				t.Fatalf("history %d, after window %d (-want +got):\n%s", history, i, d)
			}
		}
	}
}
