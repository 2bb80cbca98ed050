package refresh

import (
	"math/rand/v2"
	"testing"
)

const (
	lms  = int64(1_000_000)
	lsec = 1000 * lms
)

// lockDriver is a driver refreshing every period from phase, each refresh
// late by up to jitter, carrying bytesPerSec; reads every `every`, late by
// up to readJitter.
type lockDriver struct {
	period, phase, jitter, every, readJitter int64
	bytesPerSec                              float64
	rng                                      *rand.Rand
	i                                        int64
	lastShown                                uint64
}

// next returns the next read instant and the traffic since the previous
// read as the counters show it.
func (d *lockDriver) next() (int64, uint64) {
	d.i++
	t := d.i*d.every + d.rng.Int64N(d.readJitter+1)
	// The last refresh at or before t; its own lateness is fixed by its
	// index, so the same refresh is seen the same by every read.
	k := (t - d.phase) / d.period
	var r int64
	for ; k >= 0; k-- {
		r = d.phase + k*d.period + rand.New(rand.NewPCG(uint64(k), 9)).Int64N(d.jitter+1)
		if r <= t {
			break
		}
	}
	shown := uint64(float64(max(r, 0)) * d.bytesPerSec / 1e9)
	delta := shown - d.lastShown
	d.lastShown = shown
	return t, delta
}

func TestLockLocksOnABeat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		period, every int64
	}{
		{"0.9765 s read every 1 s", 976_500_000, lsec},
		{"1.024 s read every 1 s", 1_024 * lms, lsec},
		{"0.5 s read every 1 s", 500 * lms, lsec},
		{"2 s read every 1 s", 2 * lsec, lsec},
		{"0.9765 s read every 0.2 s", 976_500_000, 200 * lms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &lockDriver{period: tc.period, phase: 123 * lms, jitter: 2 * lms, every: tc.every, readJitter: 10 * lms,
				bytesPerSec: 12.5e6, rng: rand.New(rand.NewPCG(1, 2))}
			l := NewLock(LockConfig{})
			n := int(120 * lsec / tc.every)
			for range n {
				at, delta := d.next()
				l.Read(at, delta)
			}
			p, j := l.Period()
			if !l.Locked() {
				t.Fatalf("not locked after 120 s")
			}
			// A period of 0.5 s read every second is seen as 1 s: two
			// refreshes per read at a steady offset are one for the span.
			want := tc.period
			if tc.period == 500*lms {
				want = lsec
			}
			if e := float64(p)/float64(want) - 1; e > 0.001 || e < -0.001 {
				t.Errorf("period %d ns (jitter %d ns), want %d ns ±0.1 %%", p, j, want)
			}
		})
	}
}

// TestLockNonPeriodicDriver: a driver whose refreshes wander at random
// (0.9 to 1.1 s apart) shows one refresh per 1 s read for a while, and a
// lock may form; its counts fail as soon as the drift brings a refresh
// across a read. Whatever it predicts must not be worse than the read
// span: every span it claims between two predicted refreshes is within
// 12 % of the true span between the refreshes the reads followed (the
// read span is within ±10 % plus a whole period where a read saw two
// refreshes or none).
func TestLockNonPeriodicDriver(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	var rs []int64
	for r := int64(0); r < 700*lsec; r += 900*lms + rng.Int64N(200*lms) {
		rs = append(rs, r)
	}
	l := NewLock(LockConfig{})
	var shown, prevAt, prevTrue int64
	predicted, k, worse := 0, 0, 0
	for i := int64(1); i <= 600; i++ {
		at := i * lsec
		for k+1 < len(rs) && rs[k+1] <= at {
			k++
		}
		s := rs[k] / 80
		moved := s != shown
		w := l.Read(at, uint64(s-shown))
		shown = s
		if !w.Predicted {
			prevAt = 0
			continue
		}
		predicted++
		mid := w.UnchangedNS + (w.ChangedNS-w.UnchangedNS)/2
		// A Rebase window ends an interval the tracker gives no rate.
		if moved && prevAt > 0 && !w.Rebase {
			claimed, truth := mid-prevAt, rs[k]-prevTrue
			if e := float64(claimed)/float64(truth) - 1; e > 0.12 || e < -0.12 {
				worse++
			}
		}
		if moved {
			prevAt, prevTrue = mid, rs[k]
		}
	}
	t.Logf("%d of 600 reads predicted, %d claimed spans more than 12 %% off the true one", predicted, worse)
	if worse > 0 {
		t.Errorf("%d claimed spans more than 12 %% off", worse)
	}
}

func TestLockResetOnClockGoingBack(t *testing.T) {
	t.Parallel()
	d := &lockDriver{period: 976_500_000, phase: 123 * lms, every: lsec, readJitter: 10 * lms, bytesPerSec: 12.5e6, rng: rand.New(rand.NewPCG(1, 2))}
	l := NewLock(LockConfig{})
	for range 150 {
		at, delta := d.next()
		l.Read(at, delta)
	}
	if !l.Locked() {
		t.Fatal("not locked")
	}
	if w := l.Read(5*lsec, 100); w.Predicted || l.Locked() {
		t.Errorf("after the clock went back: %+v, locked %v; want nothing known", w, l.Locked())
	}
}

// BenchmarkLockRead is the cost of one read of a locked interface (a
// 0.9765 s driver read every second), refits included.
func BenchmarkLockRead(b *testing.B) {
	d := &lockDriver{period: 976_500_000, phase: 123 * lms, jitter: 2 * lms, every: lsec, readJitter: 10 * lms,
		bytesPerSec: 12.5e6, rng: rand.New(rand.NewPCG(1, 2))}
	const n = 1 << 14
	ts, ds := make([]int64, n), make([]uint64, n)
	for i := range n {
		ts[i], ds[i] = d.next()
	}
	l := NewLock(LockConfig{})
	for i := range 200 {
		l.Read(ts[i], ds[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	locked := 0
	for i := range b.N {
		j := 200 + i%(n-200)
		if j == 200 && i > 0 {
			b.StopTimer()
			l = NewLock(LockConfig{})
			for k := range 200 {
				l.Read(ts[k], ds[k])
			}
			b.StartTimer()
		}
		l.Read(ts[j], ds[j])
		if l.Locked() {
			locked++
		}
	}
	b.ReportMetric(float64(locked)/float64(b.N), "locked/op")
}

// BenchmarkLockReadRandomDriver is the cost of one read of an interface
// whose driver refreshes at random (0.9 to 1.1 s): locks form while the
// reads keep a steady offset and fail when a refresh drifts across a
// read, and acquisition is tried every 4 to 16 reads in between.
func BenchmarkLockReadRandomDriver(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 1 << 14
	var rs []int64
	for r := int64(0); r < (n+2)*lsec; r += 900*lms + rng.Int64N(200*lms) {
		rs = append(rs, r)
	}
	ts, ds := make([]int64, n), make([]uint64, n)
	var shown int64
	k := 0
	for i := range n {
		at := int64(i+1) * lsec
		for k+1 < len(rs) && rs[k+1] <= at {
			k++
		}
		ts[i], ds[i] = at, uint64(rs[k]/80-shown)
		shown = rs[k] / 80
	}
	l := NewLock(LockConfig{})
	b.ReportAllocs()
	b.ResetTimer()
	locked := 0
	for i := range b.N {
		j := i % n
		if j == 0 && i > 0 {
			l.Reset()
		}
		l.Read(ts[j], ds[j])
		if l.Locked() {
			locked++
		}
	}
	b.ReportMetric(float64(locked)/float64(b.N), "locked/op")
}
