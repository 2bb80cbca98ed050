package refresh

import (
	"math/rand/v2"
	"testing"
)

// TestShared: Estimators fed the same windows share their fits and
// estimate exactly what each would alone; one fed other windows (another
// clock, or windows wider now and then) takes nothing from them; one that started later, once its windows are the
// same, follows the others' fits from their next refit on.
func TestShared(t *testing.T) {
	t.Parallel()
	cfg := Config{MinWindows: 4, History: 32, RefitAfterGap: true}
	rng := rand.New(rand.NewPCG(3, 4))
	// Probes a millisecond apart around a 0.9765 s driver's refreshes,
	// up to 2 ms late, and around another clock's.
	ws := periodic(976_562_500, 100*ms, 400*sec, 2*ms, 0.01, rng).watch(ms, 0)
	other := periodic(500*ms, 37*ms, 400*sec, 0, 0, nil).watch(ms, 0)

	sh := &Shared{}
	withCfg := func(s *Shared) *Estimator { c := cfg; c.Shared = s; return New(c) }
	a, b, alone := withCfg(sh), withCfg(sh), New(cfg)
	c, cAlone := withCfg(sh), New(cfg)
	// The same ends, a window 3 ms wider now and then: another fit.
	wide, wideAlone := withCfg(sh), New(cfg)
	late, lateAlone := withCfg(sh), New(cfg)
	const lateFrom = 5
	fits, differ := 0, 0
	for i, w := range ws {
		a.Observe(w[0], w[1])
		b.Observe(w[0], w[1])
		alone.Observe(w[0], w[1])
		if i < len(other) {
			c.Observe(other[i][0], other[i][1])
			cAlone.Observe(other[i][0], other[i][1])
		}
		lo := w[0]
		if i%5 == 0 {
			lo -= 3 * ms
		}
		wide.Observe(lo, w[1])
		wideAlone.Observe(lo, w[1])
		if i >= lateFrom {
			late.Observe(w[0], w[1])
			lateAlone.Observe(w[0], w[1])
		}
		hits := sh.hits
		ea, eb, want := a.Estimate(), b.Estimate(), alone.Estimate()
		if ea != want || eb != want {
			t.Fatalf("window %d: shared estimates %+v and %+v, alone %+v", i, ea, eb, want)
		}
		if sh.hits > hits {
			fits++ // b took a's fit
		}
		if got, want := c.Estimate(), cAlone.Estimate(); got != want {
			t.Fatalf("window %d: other clock's shared estimate %+v, alone %+v", i, got, want)
		}
		if got, want := wide.Estimate(), wideAlone.Estimate(); got != want {
			t.Fatalf("window %d: wider windows' shared estimate %+v, alone %+v", i, got, want)
		}
		el, elAlone := late.Estimate(), lateAlone.Estimate()
		if el != elAlone {
			differ++
		}
		// Full histories from window lateFrom+31 on, the same windows;
		// the first refit of a after that (within 8 windows) syncs late.
		if i >= lateFrom+32+refitEvery && el != ea {
			t.Fatalf("window %d: late estimator %+v, the others' %+v", i, el, ea)
		}
	}
	if fits < len(ws)/refitEvery {
		t.Errorf("b took %d fits from a over %d windows, want at least %d", fits, len(ws), len(ws)/refitEvery)
	}
	if differ == 0 {
		t.Errorf("the late estimator never differed from its twin alone: sharing untested")
	}
	t.Logf("%d windows, %d fits shared (%d hits in all), late estimator fresher than alone at %d", len(ws), fits, sh.hits, differ)
}
