package publisher

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// simDriver is a driver refreshing at phase + k·period (period 0: live),
// each refresh late by up to jitter, carrying bytesPerSec while on(t).
type simDriver struct {
	period, phase, jitter int64
	bytesPerSec           uint64
	on                    func(t int64) bool // nil: always
	random                bool               // refreshes every 0.9–1.1 s at random
	refreshes             []int64            // random: the instants
}

// lateness is refresh k's delay, reproducible for any k.
func (d *simDriver) lateness(k int64) int64 {
	if d.jitter == 0 {
		return 0
	}
	return int64(rand.New(rand.NewPCG(uint64(k), 7)).Uint64() % uint64(d.jitter+1))
}

// lastRefresh is the latest refresh at or before t.
func (d *simDriver) lastRefresh(t int64) int64 {
	if d.random {
		last := int64(0)
		for _, r := range d.refreshes {
			if r > t {
				break
			}
			last = r
		}
		return last
	}
	if d.period == 0 {
		return t
	}
	k := floorDiv(t-d.phase, d.period)
	for ; ; k-- {
		if r := d.phase + k*d.period + d.lateness(k); r <= t {
			return r
		}
	}
}

// bytes is the true traffic up to t, at 1 ms resolution.
func (d *simDriver) bytes(t int64) uint64 {
	if d.on == nil {
		return uint64(t) / 1e6 * d.bytesPerSec / 1000
	}
	var b uint64
	for ms := int64(0); ms < t/1e6; ms++ {
		if d.on(ms * 1e6) {
			b += d.bytesPerSec / 1000
		}
	}
	return b
}

func (d *simDriver) visible(t int64) wire.Counters {
	b := d.bytes(d.lastRefresh(t))
	return wire.Counters{RxBytes: b, RxPackets: b / 1000, Ifindex: 2}
}

type simResult struct {
	w            *watcher
	watchReads   int // reads the watch asked for after the warm-up
	replies      []simReply
	lockedAt     int64 // first read at which the interface was fitted
	durationNS   int64
	warmupNS     int64
	maxWindowNS  int64 // widest window of a reply after the warm-up that changed
	missedTruths int   // reply windows after the warm-up not holding the true refresh
}

var simDebug func(mono int64, w *watcher, next int64)

type simReply struct {
	mono int64
	c    wire.Counters
}

// simulate runs the adaptive watch against d for dur with a request every
// reqEvery, each read landing 40 µs after it was asked for.
func simulate(t *testing.T, d *simDriver, dur, reqEvery, warmup time.Duration) simResult {
	t.Helper()
	const start = int64(100e9)
	if d.random && d.refreshes == nil {
		rng := rand.New(rand.NewPCG(1, 2))
		for r := start - 2e9; r < start+int64(dur)+2e9; r += 900e6 + int64(rng.IntN(200e6)) {
			d.refreshes = append(d.refreshes, r)
		}
	}
	w := newWatcher(true)
	res := simResult{w: w, durationNS: int64(dur), warmupNS: int64(warmup)}
	// A read begins at now, the kernel makes its values 30 µs later,
	// and it ends 20–120 µs after that.
	read := func(now int64) (int64, map[string]wire.Counters) {
		data := now + 30_000
		mono := data + 20_000 + int64(rand.New(rand.NewPCG(uint64(now), 3)).IntN(100_000))
		m := map[string]wire.Counters{"eth0": d.visible(data)}
		w.observe(now, mono, m)
		return mono, m
	}
	// holds reports whether a refresh in (lo, hi] made the values rx.
	holds := func(lo, hi int64, rx uint64) bool {
		for r := d.lastRefresh(hi); r > lo; r = d.lastRefresh(r - 1) {
			if d.visible(r).RxBytes == rx {
				return true
			}
		}
		return false
	}
	nextWatch := start
	nextReq := start + int64(reqEvery)/2
	end := start + int64(dur)
	for {
		now := min(nextWatch, nextReq)
		if now >= end {
			break
		}
		if now == nextReq {
			mono, m := read(now)
			w.annotate(mono, m)
			c := m["eth0"]
			res.replies = append(res.replies, simReply{mono, c})
			nextReq += int64(reqEvery)
			if mono-start > int64(warmup) && c.ChangedNS > 0 {
				// The claim: a refresh in (unchanged, changed] made the
				// values current.
				if !holds(c.UnchangedNS, c.ChangedNS, c.RxBytes) {
					res.missedTruths++
					if res.missedTruths <= 4 {
						t.Logf("reply at %.6f: window (%.6f, %.6f] holds no refresh to %d (true refresh before %.6f: %.6f, class %d)", float64(mono-start)/1e9,
							float64(c.UnchangedNS-start)/1e9, float64(c.ChangedNS-start)/1e9, c.RxBytes, float64(c.ChangedNS-start)/1e9, float64(d.lastRefresh(c.ChangedNS)-start)/1e9, w.ifaces["eth0"].auto.class)
					}
				}
				if c.ChangedNS > mono-int64(reqEvery) {
					res.maxWindowNS = max(res.maxWindowNS, c.ChangedNS-c.UnchangedNS)
				}
			}
			continue
		}
		mono, _ := read(now)
		if mono-start > int64(warmup) {
			res.watchReads++
		}
		if res.lockedAt == 0 && w.ifaces["eth0"] != nil && w.ifaces["eth0"].auto.class != classUnknown {
			res.lockedAt = mono - start
		}
		nextWatch = w.nextRead(mono)
		if simDebug != nil {
			simDebug(mono, w, nextWatch)
		}
	}
	return res
}

func TestAutoWatchPeriodic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		d             simDriver
		req           time.Duration
		maxLock       time.Duration
		maxPerRefresh float64 // watch reads per driver refresh
		maxWindow     time.Duration
		allowedMisses int
	}{
		{"0.9765 s, no jitter", simDriver{period: 976_500_000, phase: 300e6}, time.Second, 6 * time.Second, 4.5, 1200 * time.Microsecond, 0},
		{"0.5 s, phase 0.3", simDriver{period: 500e6, phase: 300e6}, time.Second, 4 * time.Second, 4.5, 1200 * time.Microsecond, 0},
		{"1 s", simDriver{period: 1e9, phase: 10e6}, time.Second, 6 * time.Second, 4.5, 1200 * time.Microsecond, 0},
		{"1.024 s", simDriver{period: 1_024_000_000, phase: 700e6}, time.Second, 6 * time.Second, 4.5, 1200 * time.Microsecond, 0},
		{"2 s", simDriver{period: 2e9, phase: 1e9}, time.Second, 10 * time.Second, 4.5, 1200 * time.Microsecond, 0},
		{"3 s", simDriver{period: 3e9, phase: 2e9}, time.Second, 14 * time.Second, 6.5, 1200 * time.Microsecond, 0},
		{"0.9765 s, 4 ms jitter", simDriver{period: 976_500_000, phase: 300e6, jitter: 4e6}, time.Second, 6 * time.Second, 7, 1200 * time.Microsecond, 0},
		{"0.9765 s, requests at 0.2 s", simDriver{period: 976_500_000, phase: 300e6}, 200 * time.Millisecond, 6 * time.Second, 4.5, 1200 * time.Microsecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.d.bytesPerSec = 12_500_000
			const dur, warmup = 120 * time.Second, 20 * time.Second
			res := simulate(t, &tt.d, dur, tt.req, warmup)
			if res.lockedAt == 0 || res.lockedAt > int64(tt.maxLock) {
				t.Errorf("fitted after %v, want within %v", time.Duration(res.lockedAt), tt.maxLock)
			}
			perS := float64(res.watchReads) / (dur - warmup).Seconds()
			if per := perS * float64(tt.d.period) / 1e9; per > tt.maxPerRefresh {
				t.Errorf("%.2f watch reads per refresh after the warm-up, want at most %v", per, tt.maxPerRefresh)
			}
			if res.missedTruths > tt.allowedMisses {
				t.Errorf("%d reply windows do not hold the refresh the values came from", res.missedTruths)
			}
			if res.maxWindowNS > int64(tt.maxWindow) {
				t.Errorf("widest reply window %v, want at most %v", time.Duration(res.maxWindowNS), tt.maxWindow)
			}
			t.Logf("fitted after %v, %.2f watch reads/s, widest window %v", time.Duration(res.lockedAt), perS, time.Duration(res.maxWindowNS))
		})
	}
}

// TestAutoWatchDrivers: counters current at every read, a driver with no
// period, traffic that stops and starts, a period changed at run time.
func TestAutoWatchDrivers(t *testing.T) {
	t.Parallel()
	const dur, warmup = 150 * time.Second, 20 * time.Second
	t.Run("live counters", func(t *testing.T) {
		t.Parallel()
		d := &simDriver{bytesPerSec: 12_500_000}
		res := simulate(t, d, dur, time.Second, warmup)
		if st := res.w.ifaces["eth0"].auto; st.class != classLive {
			t.Fatalf("class %d, want live", st.class)
		}
		if res.lockedAt > int64(time.Second) {
			t.Errorf("live after %v, want within a second", time.Duration(res.lockedAt))
		}
		for _, r := range res.replies[25:] {
			if r.c.ChangedNS != r.mono || r.c.UnchangedNS != r.mono-1 {
				t.Fatalf("reply at %d: window (%d, %d], want the read itself", r.mono, r.c.UnchangedNS, r.c.ChangedNS)
			}
		}
		// One read per idle sleep, and a short burst every liveRecheck.
		perS := float64(res.watchReads) / (dur - warmup).Seconds()
		if perS > 1 {
			t.Errorf("%.2f watch reads/s, want at most 1", perS)
		}
		t.Logf("live after %v, %.2f watch reads/s", time.Duration(res.lockedAt), perS)
	})
	t.Run("no period", func(t *testing.T) {
		t.Parallel()
		d := &simDriver{bytesPerSec: 12_500_000, random: true}
		res := simulate(t, d, dur, time.Second, warmup)
		windows := 0
		for _, r := range res.replies {
			if r.c.ChangedNS != 0 {
				windows++
			}
		}
		if windows > len(res.replies)/10 {
			t.Errorf("%d of %d replies carry a window for a driver without a period", windows, len(res.replies))
		}
		if res.missedTruths > 0 {
			t.Errorf("%d reply windows do not hold the refresh", res.missedTruths)
		}
		// acquireFor of bursting, then a backoff: well under the 100/s
		// of a burst on average.
		if perS := float64(res.watchReads) / (dur - warmup).Seconds(); perS > 20 {
			t.Errorf("%.2f watch reads/s, want at most 20", perS)
		}
		t.Logf("%d of %d replies with a window, %.2f watch reads/s", windows, len(res.replies), float64(res.watchReads)/(dur-warmup).Seconds())
	})
	t.Run("idle, burst, idle", func(t *testing.T) {
		t.Parallel()
		// 10 s of traffic in every 30 s: refreshes in the idle stretch
		// change nothing.
		on := func(t int64) bool { return (t/1e9)%30 < 10 }
		d := &simDriver{period: 976_500_000, phase: 300e6, bytesPerSec: 12_500_000, on: on}
		res := simulate(t, d, dur, time.Second, warmup)
		if res.missedTruths > 0 {
			t.Errorf("%d reply windows do not hold the refresh the values are current as of", res.missedTruths)
		}
		// Idle replies, from the third idle refresh on, carry the window
		// of the latest refresh: a true zero.
		zeros := 0
		for i, r := range res.replies[1:] {
			prev := res.replies[i]
			if r.c.RxBytes == prev.c.RxBytes && r.c.ChangedNS > prev.c.ChangedNS {
				zeros++
			}
		}
		if zeros < 50 {
			t.Errorf("%d replies proved a true zero, want at least 50 of the %d idle seconds", zeros, 100)
		}
		t.Logf("%d true zeros", zeros)
	})
	t.Run("period changed at run time", func(t *testing.T) {
		t.Parallel()
		// ethtool -C at 60 s: 0.9765 s becomes 0.5 s.
		d := &simDriver{bytesPerSec: 12_500_000, random: true}
		d.refreshes = nil
		for r := int64(100e9 - 2e9); r < 100e9+int64(dur)+2e9; {
			d.refreshes = append(d.refreshes, r)
			if r < 160e9 {
				r += 976_500_000
			} else {
				r += 500e6
			}
		}
		res := simulate(t, d, dur, time.Second, warmup)
		st := res.w.ifaces["eth0"].auto
		if est := st.fit.Estimate(); st.class != classPeriodic || est.PeriodNS < 499e6 || est.PeriodNS > 501e6 {
			t.Errorf("class %d period %d, want periodic at 0.5 s", st.class, est.PeriodNS)
		}
		if res.missedTruths > 0 {
			t.Errorf("%d reply windows do not hold the refresh", res.missedTruths)
		}
		t.Logf("%d windows missed the truth around the change", res.missedTruths)
	})
}
