package rate

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
)

// driverSim is a driver that refreshes its statistics only at its refresh
// times, carrying a constant 100 Mbit/s: 1 byte per 80 ns, 1250 bytes per
// packet.
type driverSim struct {
	refreshes []int64 // ns, ascending
}

const nsPerByte = 80 // 100 Mbit/s

// at returns the counters the driver shows at t: the traffic up to its last
// refresh at or before t.
func (d *driverSim) at(t int64) Values {
	last := int64(0)
	for _, r := range d.refreshes {
		if r > t {
			break
		}
		last = r
	}
	return Values{uint64(last / nsPerByte), 0, uint64(last / nsPerByte / 1250)}
}

type simStats struct {
	rated, stale, zero  int
	maxErr, minErr      float64 // rate / true rate - 1
	doubled             int     // rated intervals at >= 1.9 x the true rate
	boundBroken         int     // intervals outside (DtNS-S, DtNS+S) of traffic
	firstBoundBroken    string
	bookedBytes, shownB uint64
}

// lastRefresh returns the last refresh at or before t, or 0.
func (d *driverSim) lastRefresh(t int64) int64 {
	i := sort.Search(len(d.refreshes), func(i int) bool { return d.refreshes[i] > t })
	if i == 0 {
		return 0
	}
	return d.refreshes[i-1]
}

// simWatch is an agent in watch mode: it reads the counters every Every ns
// from Phase on, besides the requests, and reports for the values a
// request read shows the first read that saw them and the last read
// before that.
type simWatch struct {
	Every, Phase int64
	// Refine, if set, narrows each change window as a bridge that knows
	// the refresh period would (package refresh).
	Refine func(unchanged, changed int64) (int64, int64)
}

// window returns (unchanged, changed] for the values a request read at t
// shows, where requests are read every s ns from start.
func (w simWatch) window(d *driverSim, start, s, t int64) (unchanged, changed int64) {
	r := d.lastRefresh(t)
	if r == 0 || w.Every == 0 {
		return 0, 0
	}
	// First read at or after r: a watch read or a request read.
	changed = t
	if r >= w.Phase {
		changed = min(changed, w.Phase+(r-w.Phase+w.Every-1)/w.Every*w.Every)
	}
	if r > start {
		changed = min(changed, start+(r-start+s-1)/s*s)
	} else {
		changed = min(changed, start)
	}
	// Last read before r.
	if r > w.Phase {
		unchanged = w.Phase + (r-w.Phase-1)/w.Every*w.Every
	}
	if r > start {
		unchanged = max(unchanged, start+(r-start-1)/s*s)
	}
	if w.Refine != nil && unchanged > 0 {
		unchanged, changed = w.Refine(unchanged, changed)
	}
	return unchanged, changed
}

// run samples the driver every s ns from start for n samples.
func (d *driverSim) run(cfg Config, start, s int64, n int) simStats {
	return d.runWatch(cfg, start, s, n, simWatch{})
}

// runWatch is run with an agent in watch mode w.
func (d *driverSim) runWatch(cfg Config, start, s int64, n int, w simWatch) simStats {
	tr := New(cfg)
	st := simStats{maxErr: -1, minErr: 1e9}
	firstRated := true
	for i := range n {
		t := start + int64(i)*s
		u, c := w.window(d, start, s, t)
		r := tr.Update(Sample{BootID: "b", MonoNS: t, Values: d.at(t), UnchangedNS: u, ChangedNS: c})
		st.bookedBytes = r.Total[RxBytes]
		switch {
		case r.Status == Stale:
			st.stale++
		case r.Rate:
			st.rated++
			if r.Delta[RxBytes] == 0 {
				st.zero++
			}
			if firstRated { // its baseline is no change sample
				firstRated = false
				continue
			}
			e := float64(PerSecond(r.Delta[RxBytes], r.DtNS, 8))/100e6 - 1
			st.maxErr = max(st.maxErr, e)
			st.minErr = min(st.minErr, e)
			if e >= 0.9 {
				st.doubled++
			}
			// Each end of the interval is a sample that saw a change, so
			// the refresh it saw lies within one sample period before
			// it: the traffic counted covers more than DtNS-s and less
			// than DtNS+s. (Without the stale rule the start need not be
			// a change sample and this does not hold.)
			lo, hi := (r.DtNS-s)/nsPerByte-1, (r.DtNS+s)/nsPerByte+1
			if got := int64(r.Delta[RxBytes]); got < lo || got > hi {
				if st.boundBroken == 0 {
					st.firstBoundBroken = fmt.Sprintf("sample %d at %d ns: %d bytes over DtNS %d ns, want %d..%d", i, t, got, r.DtNS, lo, hi)
				}
				st.boundBroken++
			}
		}
	}
	st.shownB = d.at(start + int64(n-1)*s)[RxBytes] - d.at(start)[RxBytes]
	return st
}

func periodic(period, phase, until int64) *driverSim {
	d := &driverSim{}
	for r := phase; r <= until; r += period {
		d.refreshes = append(d.refreshes, r)
	}
	return d
}

func jittered(rng *rand.Rand, lo, hi, until int64) *driverSim {
	d := &driverSim{}
	for r := lo; r <= until; r += lo + rng.Int64N(hi-lo+1) {
		d.refreshes = append(d.refreshes, r)
	}
	return d
}

func TestSimulatedDriverRefresh(t *testing.T) {
	t.Parallel()
	const minute = 60 * sec
	tests := []struct {
		name   string
		driver *driverSim
		every  int64
		n      int
		cfg    Config
		// bounds on the relative error of every rated interval
		wantMaxErr, wantMinErr float64
		wantBound              bool // the (DtNS-S, DtNS+S) bound holds
	}{
		{
			// One or two refreshes per interval, never none: the stale
			// rule has nothing to do, and an interval holding two
			// refreshes reads 2 x 0.9765 = 1.953 x the rate.
			name:   "refresh 0.9765 s, sampled every 1 s",
			driver: periodic(976_500_000, 300_000_000, 11*minute),
			every:  sec, n: 600,
			wantMaxErr: 2*0.9765 - 1 + 1e-6, wantMinErr: 0.9765 - 1 - 1e-6, wantBound: true,
		},
		{
			// Sampled faster than the driver refreshes: the stale rule
			// divides each refresh by the span between the samples that
			// saw it, 0.75 or 1.0 s: 0.9765/0.75 = 1.302 x at most.
			name:   "refresh 0.9765 s, sampled every 0.25 s",
			driver: periodic(976_500_000, 300_000_000, 11*minute),
			every:  sec / 4, n: 2400,
			wantMaxErr: 0.9765/0.75 - 1 + 1e-6, wantMinErr: 0.9765 - 1 - 1e-6, wantBound: true,
		},
		{
			name:   "refresh 0.9765 s, sampled every 0.25 s, stale rule off",
			driver: periodic(976_500_000, 300_000_000, 11*minute),
			every:  sec / 4, n: 2400, cfg: Config{StaleLimitNS: -1},
			wantMaxErr: 0.9765/0.25 - 1 + 1e-6, wantMinErr: -1,
		},
		{
			// Intervals with no refresh are stale; the next change is
			// divided by 2 s whether it holds one refresh or two.
			name:   "refresh 0.9 to 1.1 s at random, sampled every 1 s",
			driver: jittered(rand.New(rand.NewPCG(1, 2)), 900_000_000, 1_100_000_000, 11*minute),
			every:  sec, n: 600,
			wantMaxErr: 1 + 1e-6, wantMinErr: -0.5 - 1e-6, wantBound: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := tt.driver.run(tt.cfg, 2*sec, tt.every, tt.n)
			t.Logf("rated %d, stale %d, zero %d, >= 1.9x %d; error per interval %+.4f .. %+.4f; booked %d of %d bytes shown",
				st.rated, st.stale, st.zero, st.doubled, st.minErr, st.maxErr, st.bookedBytes, st.shownB)
			if st.maxErr > tt.wantMaxErr || st.minErr < tt.wantMinErr {
				t.Errorf("error per interval %+.4f .. %+.4f, want within %+.4f .. %+.4f", st.minErr, st.maxErr, tt.wantMinErr, tt.wantMaxErr)
			}
			if tt.wantBound && st.boundBroken != 0 {
				t.Errorf("%d intervals counted traffic outside (DtNS-S, DtNS+S), the first %s", st.boundBroken, st.firstBoundBroken)
			}
			if st.bookedBytes != st.shownB {
				t.Errorf("booked %d bytes, the driver showed %d", st.bookedBytes, st.shownB)
			}
		})
	}
}

// TestSimulatedWatch is TestSimulatedDriverRefresh with the agent in watch
// mode: each rate spans the time between the two refreshes that produced
// its values, known to the watch period g, so an interval that holds two
// refreshes reads their traffic over their true span, never twice the
// rate. Each end's midpoint is within g/2 of its refresh: the span is
// within g of the truth, the error within g/(P-g) on a span of one period P.
func TestSimulatedWatch(t *testing.T) {
	t.Parallel()
	const (
		minute = 60 * sec
		period = 976_500_000
		ms     = 1_000_000
	)
	tests := []struct {
		name  string
		every int64
		n     int
		watch simWatch
	}{
		{"sampled every 1 s, watch 50 ms", sec, 600, simWatch{Every: 50 * ms, Phase: 7 * ms}},
		{"sampled every 1 s, watch 10 ms", sec, 600, simWatch{Every: 10 * ms, Phase: 3 * ms}},
		{"sampled every 0.25 s, watch 50 ms", sec / 4, 2400, simWatch{Every: 50 * ms, Phase: 7 * ms}},
		{"sampled every 0.25 s, watch 10 ms", sec / 4, 2400, simWatch{Every: 10 * ms, Phase: 3 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := periodic(period, 300_000_000, 11*minute)
			st := d.runWatch(Config{}, 2*sec, tt.every, tt.n, tt.watch)
			bound := float64(tt.watch.Every)/float64(period-tt.watch.Every) + 1e-6
			t.Logf("rated %d, stale %d, zero %d, >= 1.9x %d; error per interval %+.4f .. %+.4f (bound ±%.4f); booked %d of %d bytes shown",
				st.rated, st.stale, st.zero, st.doubled, st.minErr, st.maxErr, bound, st.bookedBytes, st.shownB)
			if st.doubled != 0 || st.zero != 0 {
				t.Errorf("%d intervals at >= 1.9 x the rate, %d zero; want none", st.doubled, st.zero)
			}
			if st.maxErr > bound || st.minErr < -bound {
				t.Errorf("error per interval %+.4f .. %+.4f, want within ±%.4f", st.minErr, st.maxErr, bound)
			}
			if st.bookedBytes != st.shownB {
				t.Errorf("booked %d bytes, the driver showed %d", st.bookedBytes, st.shownB)
			}
		})
	}
}

// TestSimulatedWatchRefined is TestSimulatedWatch with each change window
// narrowed to the refresh instant that package refresh fits over the
// windows seen so far, as a bridge keeping one refresh.Estimator per
// interface does: the span between two changes is then known to well
// under the watch period. The first minute (the fit's history) is left
// out of the error.
func TestSimulatedWatchRefined(t *testing.T) {
	t.Parallel()
	const (
		minute = 60 * sec
		period = 976_500_000
		ms     = 1_000_000
	)
	for _, tt := range []struct {
		name  string
		every int64
		n     int
		watch int64
	}{
		{"sampled every 1 s, watch 50 ms", sec, 660, 50 * ms},
		{"sampled every 0.25 s, watch 50 ms", sec / 4, 2640, 50 * ms},
		{"sampled every 1 s, watch 10 ms", sec, 660, 10 * ms},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := periodic(period, 300_000_000, 12*minute)
			est := refresh.New(refresh.Config{})
			w := simWatch{Every: tt.watch, Phase: 7 * ms, Refine: func(u, c int64) (int64, int64) {
				est.Observe(u, c)
				return est.Refine(u, c)
			}}
			// Warm up for a minute, then measure from the state reached.
			for i := range int64(60 * sec / tt.every) {
				w.window(d, 2*sec, tt.every, 2*sec+i*tt.every)
			}
			start := 2*sec + minute
			st := d.runWatch(Config{}, start, tt.every, tt.n-int(minute/tt.every), simWatch{Every: tt.watch, Phase: 7*ms + minute/tt.watch*tt.watch, Refine: w.Refine})
			e := est.Estimate()
			t.Logf("fitted period %d ns, precision %d ns, confident %v; rated %d, >= 1.9x %d; error per interval %+.5f .. %+.5f",
				e.PeriodNS, e.PrecisionNS, e.Confident, st.rated, st.doubled, st.minErr, st.maxErr)
			if st.doubled != 0 || st.zero != 0 || st.maxErr > 0.005 || st.minErr < -0.005 {
				t.Errorf("error per interval %+.5f .. %+.5f, %d doubled, %d zero; want within ±0.5 %%, none", st.minErr, st.maxErr, st.doubled, st.zero)
			}
			if st.bookedBytes != st.shownB {
				t.Errorf("booked %d bytes, the driver showed %d", st.bookedBytes, st.shownB)
			}
		})
	}
}
