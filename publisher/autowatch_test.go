package publisher

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
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

func (d *simDriver) trueBytes(t int64) uint64 { return d.bytes(t) }

// simSource is the driver a simulation reads: what a read at t sees, the
// latest refresh at or before t, and the true bytes received by t.
type simSource interface {
	visible(t int64) wire.Counters
	lastRefresh(t int64) int64
	trueBytes(t int64) uint64
}

// driverSource is one interface of a netdevtest.Driver (jitter, missed
// refreshes, period changes), asked at any instant: no tree is served.
type driverSource struct {
	d    *netdevtest.Driver
	name string
}

func (s driverSource) visible(t int64) wire.Counters {
	c, _ := s.d.Visible(s.name, t)
	c.Ifindex = 2
	return c
}

func (s driverSource) lastRefresh(t int64) int64 {
	r, _ := s.d.LastRefresh(s.name, t)
	return r
}

func (s driverSource) trueBytes(t int64) uint64 {
	c, _ := s.d.True(s.name, t)
	return c.RxBytes
}

// newDriverSource makes a driver of one interface, in whose clock the
// simulation's start (simStart) is simStart ns after the origin, so that
// in.Changes[].At count from the origin as usual.
func newDriverSource(t *testing.T, in netdevtest.DriverIface) driverSource {
	t.Helper()
	in.Name, in.Ifindex = "eth0", 2
	d, err := netdevtest.NewDriver(netdevtest.DriverOptions{Dir: t.TempDir(), Ifaces: []netdevtest.DriverIface{in}, Clock: func() int64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	return driverSource{d, in.Name}
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
	// lost counts the fits dropped after the warm-up (periodic, then
	// not): each costs a refit burst and, on an idle interface, the
	// windows until traffic returns.
	lost int
	// doubts counts the fits put in doubt after the warm-up.
	doubts int
	// unprobed counts the replies after the warm-up that claim new
	// values with a window wider than 3 ms: a change no probe pinned.
	unprobed int
}

var simDebug func(mono int64, w *watcher, next int64)

type simReply struct {
	mono int64
	c    wire.Counters
}

// simStart is the instant (ns) a simulation starts at.
const simStart = int64(100e9)

// simulate runs the adaptive watch against d for dur with a request every
// reqEvery, each read landing 40 µs after it was asked for.
func simulate(t *testing.T, d *simDriver, dur, reqEvery, warmup time.Duration) simResult {
	t.Helper()
	if d.random && d.refreshes == nil {
		rng := rand.New(rand.NewPCG(1, 2))
		for r := simStart - 2e9; r < simStart+int64(dur)+2e9; r += 900e6 + int64(rng.IntN(200e6)) {
			d.refreshes = append(d.refreshes, r)
		}
	}
	return simulateSource(t, d, dur, reqEvery, warmup)
}

// simulateSource is simulate on any driver.
func simulateSource(t *testing.T, d simSource, dur, reqEvery, warmup time.Duration) simResult {
	t.Helper()
	return simulateLagged(t, d, dur, reqEvery, warmup, nil)
}

// simulateLagged is simulateSource with reads that begin lag(now) after
// they were asked for (nil: none), as on a busy machine.
func simulateLagged(t *testing.T, d simSource, dur, reqEvery, warmup time.Duration, lag func(now int64) int64) simResult {
	t.Helper()
	return simulateThinned(t, d, dur, reqEvery, warmup, lag, 1)
}

// simulateThinned is simulateLagged with the watch probing 1 in thin of
// the refreshes (over its CPU budget, see probeAt).
func simulateThinned(t *testing.T, d simSource, dur, reqEvery, warmup time.Duration, lag func(now int64) int64, thin int64) simResult {
	t.Helper()
	const start = simStart
	w := newWatcher(true)
	w.thin = thin
	res := simResult{w: w, durationNS: int64(dur), warmupNS: int64(warmup)}
	read := simReader(w, lag, func(data int64) map[string]wire.Counters {
		return map[string]wire.Counters{"eth0": d.visible(data)}
	})
	wasPeriodic, wasDoubt := false, false
	reply := func(mono int64, m map[string]wire.Counters) {
		c := m["eth0"]
		if n := len(res.replies); n > 0 && mono-start > int64(warmup) {
			p := res.replies[n-1].c
			if c.RxBytes != p.RxBytes && c.ChangedNS > 0 && c.ChangedNS != p.ChangedNS && c.ChangedNS-c.UnchangedNS > 3e6 {
				res.unprobed++
			}
		}
		res.replies = append(res.replies, simReply{mono, c})
		if mono-start > int64(warmup) && c.ChangedNS > 0 {
			// The claim: a refresh in (unchanged, changed] made the
			// values current.
			if _, ok := madeBy(d, c); !ok {
				res.missedTruths++
				if res.missedTruths <= 4 {
					t.Logf("reply at %.6f: window (%.6f, %.6f] holds no refresh to %d (true refresh before %.6f: %.6f, class %d) est %+v", float64(mono-start)/1e9,
						float64(c.UnchangedNS-start)/1e9, float64(c.ChangedNS-start)/1e9, c.RxBytes, float64(c.ChangedNS-start)/1e9, float64(d.lastRefresh(c.ChangedNS)-start)/1e9, w.ifaces["eth0"].auto.class, w.ifaces["eth0"].auto.fit.Estimate())
				}
			}
			if c.ChangedNS > mono-int64(reqEvery) {
				res.maxWindowNS = max(res.maxWindowNS, c.ChangedNS-c.UnchangedNS)
			}
		}
	}
	watched := func(mono, next int64) {
		if mono-start > int64(warmup) {
			res.watchReads++
		}
		if st := w.ifaces["eth0"]; st != nil {
			if res.lockedAt == 0 && st.auto.class != classUnknown {
				res.lockedAt = mono - start
			}
			if wasPeriodic && st.auto.class != classPeriodic && mono-start > int64(warmup) {
				res.lost++
			}
			wasPeriodic = st.auto.class == classPeriodic
			if st.auto.doubt && !wasDoubt && mono-start > int64(warmup) {
				res.doubts++
			}
			wasDoubt = st.auto.doubt
		}
		if simDebug != nil {
			simDebug(mono, w, next)
		}
	}
	simRun(w, int64(dur), int64(reqEvery)/2, int64(reqEvery), read, reply, watched)
	return res
}

// simReader returns a read of w's interfaces asked for at now, which
// begins lag(now) later (nil: at once): the kernel makes their values
// (visible at data) 30 µs after it begins, and the read ends 20–120 µs
// after that.
func simReader(w *watcher, lag func(now int64) int64, visible func(data int64) map[string]wire.Counters) func(now int64) (int64, map[string]wire.Counters) {
	var last int64 // the end of the read before: the agent reads one at a time
	return func(now int64) (int64, map[string]wire.Counters) {
		if lag != nil {
			now = max(now+lag(now), last)
		}
		data := now + 30_000
		mono := data + 20_000 + int64(rand.New(rand.NewPCG(uint64(now), 3)).IntN(100_000))
		m := visible(data)
		if os.Getenv("SIMDBG") != "" && now-simStart > 107245e6 && now-simStart < 107260e6 {
			fmt.Printf("READ start %.6f data %.6f mono %.6f rx %d\n", float64(now-simStart)/1e9, float64(data-simStart)/1e9, float64(mono-simStart)/1e9, m["eth0"].RxBytes)
		}
		w.observe(now, mono, m)
		last = mono
		return mono, m
	}
}

// simRun drives the adaptive watch w from simStart for dur: a request
// every reqEvery from simStart+firstReq on, annotated and handed to
// reply, and between them the reads the watch asks for, handed to
// watched with the next read it asks for.
func simRun(w *watcher, dur, firstReq, reqEvery int64, read func(now int64) (int64, map[string]wire.Counters),
	reply func(mono int64, m map[string]wire.Counters), watched func(mono, next int64)) {
	l := simLoop{w: w, nextWatch: simStart, nextReq: simStart + firstReq, reqEvery: reqEvery, read: read, reply: reply, watched: watched}
	l.runTo(simStart + dur)
}

// simLoop is simRun's loop, which runTo advances to a given instant, so
// that a benchmark can run it a second at a time.
type simLoop struct {
	w                            *watcher
	nextWatch, nextReq, reqEvery int64
	read                         func(now int64) (int64, map[string]wire.Counters)
	reply                        func(mono int64, m map[string]wire.Counters)
	watched                      func(mono, next int64)
}

func (l *simLoop) runTo(end int64) {
	for {
		now := min(l.nextWatch, l.nextReq)
		if now >= end {
			return
		}
		if now == l.nextReq {
			mono, m := l.read(now)
			l.w.annotate(mono, m)
			l.reply(mono, m)
			l.nextReq += l.reqEvery
			if l.w.takeWake() {
				// The agent's watch loop reads at once (watchWake).
				l.nextWatch = mono
			}
			continue
		}
		mono, _ := l.read(now)
		l.nextWatch = l.w.nextRead(mono)
		l.w.noteProbe(mono, mono, l.nextWatch)
		l.watched(mono, l.nextWatch)
	}
}

func TestAutoWatchPeriodic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		d             simDriver
		req           time.Duration
		maxLock       time.Duration
		maxPerRefresh float64 // watch reads per driver refresh
		// (the slow drivers probe a little wider: the fit bounds the
		// period no tighter than its slope's standard error allows, and
		// a prediction several periods on carries that error)
		maxWindow     time.Duration
		allowedMisses int
	}{
		{"0.9765 s, no jitter", simDriver{period: 976_500_000, phase: 300e6}, time.Second, 6 * time.Second, 4.5, 1200 * time.Microsecond, 0},
		{"0.5 s, phase 0.3", simDriver{period: 500e6, phase: 300e6}, time.Second, 4 * time.Second, 4.5, 1200 * time.Microsecond, 0},
		{"1 s", simDriver{period: 1e9, phase: 10e6}, time.Second, 6 * time.Second, 4.5, 1200 * time.Microsecond, 0},
		{"1.024 s", simDriver{period: 1_024_000_000, phase: 700e6}, time.Second, 6 * time.Second, 4.5, 1200 * time.Microsecond, 0},
		{"2 s", simDriver{period: 2e9, phase: 1e9}, time.Second, 10 * time.Second, 5, 1200 * time.Microsecond, 0},
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
	t.Run("one refresh late", func(t *testing.T) {
		t.Parallel()
		// A strict 1 s driver whose 71st refresh comes late, beyond any
		// band of the fit (a timer delayed by a busy CPU): the fit is
		// doubted, then confirmed by the next two refreshes, never lost.
		// The doubt costs a burst; this bounds it.
		run := func(late int64) (simResult, simJudgement) {
			d := &simDriver{random: true, bytesPerSec: 12_500_000}
			for k := int64(-2); k < 160; k++ {
				r := simStart + k*1e9 + 300e6
				if k == 70 {
					r += late
				}
				d.refreshes = append(d.refreshes, r)
			}
			res := simulate(t, d, dur, time.Second, warmup)
			return res, judge(t, d, res)
		}
		base, _ := run(0)
		for _, late := range []int64{8e6, 150e6, 300e6, 600e6} {
			res, j := run(late)
			extra := res.watchReads - base.watchReads
			if res.doubts != 1 || res.lost > 0 || res.missedTruths > 0 {
				t.Errorf("%d ms late: %d doubts, %d fits lost, %d windows off the refresh; want one doubt, none lost or off", late/1e6, res.doubts, res.lost, res.missedTruths)
			}
			if j.gaps > 2 || j.maxErr >= 0.003 {
				t.Errorf("%d ms late: %d gaps, max error %.3f %%; want at most 2, under 0.3 %%", late/1e6, j.gaps, 100*j.maxErr)
			}
			if extra > 500 {
				t.Errorf("%d ms late: the doubt cost %d watch reads, want at most 500", late/1e6, extra)
			}
			t.Logf("%d ms late: %d gaps, max error %.3f %%, the doubt cost %d watch reads (%d without it)", late/1e6, j.gaps, 100*j.maxErr, extra, base.watchReads)
		}
	})
	t.Run("a doubt as the traffic stops", func(t *testing.T) {
		t.Parallel()
		// A strict 1 s driver whose 71st refresh comes 8 ms late and is
		// the last to change: the traffic stops just before it and
		// returns 30 s later. Nothing confirms the fit while the
		// interface is idle; it is kept after activeFor, and the idle
		// replies claim the predicted refreshes again (true zeros),
		// where they claimed the doubted change's window for all 30 s.
		const stop, back = simStart + 70_290_000_000, simStart + 100_000_000_000
		d := &simDriver{random: true, bytesPerSec: 12_500_000, on: func(t int64) bool { return t < stop || t >= back }}
		for k := int64(-2); k < 160; k++ {
			r := simStart + k*1e9 + 300e6
			if k == 70 {
				r += 8e6
			}
			d.refreshes = append(d.refreshes, r)
		}
		res := simulate(t, d, dur, time.Second, warmup)
		j := judge(t, d, res)
		if res.doubts != 1 || res.lost > 0 || res.missedTruths > 0 {
			t.Errorf("%d doubts, %d fits lost, %d windows off the refresh; want one doubt, none lost or off", res.doubts, res.lost, res.missedTruths)
		}
		zeros, idle := 0, 0
		for i, r := range res.replies[1:] {
			if r.mono < simStart+80e9 || r.mono >= back {
				continue
			}
			idle++
			if prev := res.replies[i]; r.c.RefreshNS > 0 && r.c.ChangedNS > prev.c.ChangedNS {
				zeros++
			}
		}
		if idle < 15 || zeros < idle-2 {
			t.Errorf("%d of %d idle replies from 80 s on proved a true zero, want all but 2", zeros, idle)
		}
		if j.gaps > 2 || j.maxErr >= 0.003 {
			t.Errorf("%d gaps, max error %.3f %%; want at most 2, under 0.3 %%", j.gaps, 100*j.maxErr)
		}
		t.Logf("%d of %d idle replies true zeros; %d gaps, max error %.3f %%", zeros, idle, j.gaps, 100*j.maxErr)
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
	t.Run("burst first seen by a request at a refresh", func(t *testing.T) {
		t.Parallel()
		// A 0.5 s driver refreshing 20 µs after each request begins,
		// up to 2 ms late: after an idle stretch (no probes) the read
		// that first sees traffic may be before or after the refresh
		// at hand, so the values may be the previous refresh's. The
		// matrix saw the window claim the refresh at the read (141.686)
		// where the values came from 141.187: 25 or 75 Mbit/s for 50.
		on := func(t int64) bool { return (t/1e6)%12_000 >= 7_250 }
		d := &simDriver{period: 500e6, phase: 20e3, jitter: 2e6, bytesPerSec: 1_250_000, on: on}
		res := simulate(t, d, 90*time.Second, time.Second, warmup)
		if res.missedTruths > 0 {
			t.Errorf("%d reply windows do not hold the refresh the values are current as of", res.missedTruths)
		}
		// Only the ambiguous replies go without a window. With every
		// request at a refresh and the watch asleep for up to idleSleep
		// after each idle stretch, that is most of a short burst's
		// replies; the rest still claim their refresh.
		held, moved := 0, 0
		for i, r := range res.replies[1:] {
			if r.c.RxBytes != res.replies[i].c.RxBytes {
				moved++
				if r.c.ChangedNS == 0 {
					held++
				}
			}
		}
		if 4*(moved-held) < moved {
			t.Errorf("%d of %d replies with new values claim a window, want at least a quarter", moved-held, moved)
		}
		t.Logf("%d of %d replies with new values and no window", held, moved)
	})
	t.Run("the first probe sees the change", func(t *testing.T) {
		t.Parallel()
		// New values seen by a read around the band of the next
		// predicted refresh (±m), after a request that saw none 0.5 s
		// earlier. Where the read began before the band, or in it with
		// no probe just before the band (the first probe ran late), the
		// values may have been made before the band (a new clock's first
		// refresh: 19.9 %, 14 % and 3.6 % off in the matrix where the
		// predicted one was claimed, the last seen by a probe 1-2 ms
		// late) or early in it: no window is claimed, and the fit is not
		// doubted, unless the delta settles it. After a probe that missed
		// the change just before the band, the read claims the band. The
		// mirror case at the band's end: the last read that missed the
		// change began in its last probe step. A claim never reaches
		// beyond the band: the delta says which refresh made the values,
		// not when it came to 5 ms.
		const ms = int64(time.Millisecond)
		const period, early = 12_500_000, 11_000_000 // bytes: a refresh's, and a new clock's 0.12 s early
		tests := []struct {
			name       string
			probe      int64 // a read that saw no change, begun this long before the band (0: none)
			start, end int64 // the read that saw it, from the band's start
			delta      uint64
			claim      bool
			// fromEnd: probe, start and end count from the band's end,
			// probe (a read that saw no change) forwards.
			fromEnd bool
		}{
			{"begun before the band", 0, -ms / 10, ms / 2, 2_500_000, false, false},
			{"begun late, in the band's first step", 0, 3 * ms / 10, ms / 2, 2_500_000, false, false},
			{"begun late, in the first step, ended past it", 0, 3 * ms / 10, 3 * ms / 2, 2_500_000, false, false},
			{"begun late, past the band's first step", 0, 3 * ms / 2, 17 * ms / 10, 2_500_000, false, false},
			{"after a probe just before the band", 4 * ms / 10, 6 * ms / 10, 8 * ms / 10, 2_500_000, true, false},
			// The delta settles it: a period's worth of bytes at the
			// steady rate is the predicted refresh's; a new clock's
			// early refresh brings less.
			{"begun before the band, a period's bytes", 0, -ms / 10, ms / 2, period, true, false},
			{"begun late, a period's bytes", 0, 3 * ms / 10, ms / 2, period, true, false},
			{"begun late, past the first step, a period's bytes", 0, 3 * ms / 2, 17 * ms / 10, period, true, false},
			{"begun late, past the first step, an early refresh's bytes", 0, 3 * ms / 2, 17 * ms / 10, early, false, false},
			{"begun before the band, an early refresh's bytes", 0, -ms / 10, ms / 2, early, false, false},
			// The mirror case: the last read that missed the change began
			// in the band's last step, and the next read came after the
			// band (a new clock's refresh 48 ms late, claimed in the
			// band's last 0.1 ms in the matrix).
			{"a miss in the band's last step, seen after it", -ms / 10, 48 * ms, 48*ms + ms/5, 2_500_000, false, true},
			{"a miss in the band's last step, a period's bytes", -ms / 10, 48 * ms, 48*ms + ms/5, period, true, true},
			{"a miss earlier in the band, seen after it", -3 * ms / 2, ms / 2, 7 * ms / 10, 2_500_000, true, true},
		}
		for _, tt := range tests {
			d := &simDriver{period: 1e9, phase: 3e6, bytesPerSec: 12_500_000}
			res := simulate(t, d, 75*time.Second+600*time.Millisecond, time.Second, warmup)
			w := res.w
			st := w.ifaces["eth0"]
			if st.auto.class != classPeriodic || st.auto.doubt {
				t.Fatalf("class %d, doubt %v after 75 s of a 1 s driver; want periodic, no doubt", st.auto.class, st.auto.doubt)
			}
			est := st.auto.fit.Estimate()
			next, _ := latestRefresh(est, simStart+76_100e6)
			m := margin(est, next)
			c := st.c
			from := next - m
			if tt.fromEnd {
				from = next + m
				at := from + tt.probe
				w.observe(at, at+50e3, map[string]wire.Counters{"eth0": c})
			} else if tt.probe > 0 {
				at := from - tt.probe
				w.observe(at, at+200e3, map[string]wire.Counters{"eth0": c})
			}
			c.RxBytes += tt.delta
			start, mono := from+tt.start, from+tt.end
			got := map[string]wire.Counters{"eth0": c}
			w.observe(start, mono, got)
			w.annotate(mono, got)
			g := got["eth0"]
			if claimed := g.ChangedNS != 0; claimed != tt.claim || g.RefreshNS != est.PeriodNS {
				t.Errorf("%s: read (%.4f, %.4f] against the band (%.4f, %.4f]: window (%d, %d] refresh_ns %d, want a window %v and refresh_ns %d", tt.name,
					float64(start-simStart)/1e9, float64(mono-simStart)/1e9, float64(next-m-simStart)/1e9, float64(next+m-simStart)/1e9,
					g.UnchangedNS, g.ChangedNS, g.RefreshNS, tt.claim, est.PeriodNS)
			}
			if g.ChangedNS != 0 && (g.UnchangedNS < next-m || g.ChangedNS > min(next+m, mono)) {
				t.Errorf("%s: window (%.4f, %.4f] reaches beyond the band (%.4f, %.4f] or the read", tt.name,
					float64(g.UnchangedNS-simStart)/1e9, float64(g.ChangedNS-simStart)/1e9, float64(next-m-simStart)/1e9, float64(next+m-simStart)/1e9)
			}
			if st.auto.doubt {
				t.Errorf("%s: the fit is in doubt: a refresh early in the band looks the same", tt.name)
			}
		}
	})
	t.Run("a fit that is no longer confident", func(t *testing.T) {
		t.Parallel()
		// Whatever makes the fit unconfident (its windows cleared), the
		// agent says so and finds the clock again as after a change:
		// the fine burst, whose narrow windows the replies claim
		// meanwhile. Before, it went silently back to the slow start-up
		// burst with no window in any reply: 8 s of replies the bridge
		// rated over read spans at 0.2 s sampling (66 % off in the
		// matrix, with no line in the agent's log).
		d := &simDriver{period: 1e9, phase: 3e6, bytesPerSec: 12_500_000}
		res := simulate(t, d, 60*time.Second+500*time.Millisecond, time.Second, warmup)
		w := res.w
		st := w.ifaces["eth0"]
		if st.auto.class != classPeriodic {
			t.Fatalf("class %d after 60 s of a 1 s driver; want periodic", st.auto.class)
		}
		w.news() // the clock found at the start
		st.auto.fit.Reset()
		now := st.last + 1e6
		next := w.nextRead(now)
		news := w.news()
		if st.auto.class != classUnknown || !st.auto.refitting || len(news) != 1 || !strings.HasPrefix(news[0].what, "refresh clock lost") {
			t.Fatalf("class %d, refitting %v, news %v; want unknown, refitting, the fit lost", st.auto.class, st.auto.refitting, news)
		}
		if next-now > int64(refitWatch)*5/4 {
			t.Errorf("next read in %v, want the fine burst (at most %v)", time.Duration(next-now), refitWatch*5/4)
		}
		// The burst's next change, seen by a read 2 ms after the one
		// that missed it, is claimed as it is.
		at := d.lastRefresh(now + 1e9) // the next refresh
		c := st.c
		w.observe(at-1e6, at-1e6+50e3, map[string]wire.Counters{"eth0": c})
		c = d.visible(at + 1e6)
		got := map[string]wire.Counters{"eth0": c}
		w.observe(at+1e6, at+1e6+50e3, got)
		w.annotate(at+1e6+50e3, got)
		if g := got["eth0"]; g.UnchangedNS != at-1e6 || g.ChangedNS != at+1e6+50e3 || g.RefreshNS != 0 {
			t.Errorf("window (%d, %d] refresh_ns %d, want the reads' (%d, %d] without refresh_ns", g.UnchangedNS, g.ChangedNS, g.RefreshNS, at-1e6, at+1e6+50e3)
		}
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

// simJudgement is how the replies of a simulation read through the
// bridge's rule for refresh windows (netdata-bridge/rate, rule 9): a reply
// whose window is newer than the previous reply's claims the delta (zero
// for unchanged counters: a true zero) over the span between the two
// windows' midpoints; it is judged against the true traffic over that
// span, as the accuracy matrix judges it.
type simJudgement struct {
	samples int // replies that claimed a rate
	// gaps: replies after one with a window that claim none (the bridge
	// has no exact span for them or the next).
	gaps   int
	maxErr float64 // largest relative error of a sample
	off10  int     // samples 10 % or more off
	worst  simReply
}

func judge(t *testing.T, d simSource, res simResult) simJudgement {
	t.Helper()
	var j simJudgement
	mid := func(c wire.Counters) int64 { return c.UnchangedNS + (c.ChangedNS-c.UnchangedNS)/2 }
	for i := 1; i < len(res.replies); i++ {
		prev, cur := res.replies[i-1], res.replies[i]
		if cur.mono-simStart <= res.warmupNS {
			continue
		}
		if cur.c.ChangedNS == 0 || prev.c.ChangedNS == 0 {
			if prev.c.ChangedNS != 0 || cur.c.ChangedNS != 0 {
				j.gaps++
			}
			continue
		}
		lo, hi := mid(prev.c), mid(cur.c)
		if hi <= lo {
			continue // held: no newer refresh claimed
		}
		j.samples++
		// The truth over the span between the refreshes that made the
		// two replies' values, where their windows hold them (as the
		// matrix judges, internal/tools/accuracy snapRefresh): at a
		// burst's edge the midpoints' span holds a few ms of traffic
		// more or less than the driver's, which the bridge did not rate.
		tlo, thi := lo, hi
		if r, ok := madeBy(d, prev.c); ok {
			if r2, ok := madeBy(d, cur.c); ok && r2 > r {
				tlo, thi = r, r2
			}
		}
		claimed, truth := cur.c.RxBytes-prev.c.RxBytes, d.trueBytes(thi)-d.trueBytes(tlo)
		if truth == 0 {
			continue
		}
		// Rates: the claimed bytes over the claimed span against the
		// true bytes over the true span.
		rate := float64(claimed) / float64(hi-lo)
		trueRate := float64(truth) / float64(thi-tlo)
		e := math.Abs(rate-trueRate) / trueRate
		if e >= 0.1 {
			j.off10++
			if j.off10 <= 4 {
				t.Logf("reply at %.6f: %d bytes over (%.6f, %.6f], true %d (%.1f %%)", float64(cur.mono-simStart)/1e9, claimed,
					float64(lo-simStart)/1e9, float64(hi-simStart)/1e9, truth, 100*e)
			}
		}
		if e > j.maxErr {
			j.maxErr, j.worst = e, cur
		}
	}
	return j
}

// madeBy returns the refresh in the window c claims that made its values.
func madeBy(d simSource, c wire.Counters) (int64, bool) {
	for r := d.lastRefresh(c.ChangedNS); r > c.UnchangedNS; r = d.lastRefresh(r - 1) {
		if d.visible(r).RxBytes == c.RxBytes {
			return r, true
		}
	}
	return 0, false
}

// busyLag delays one read in ten by up to 4 ms and the rest by up to
// 0.2 ms, reproducibly: a read's start on a busy machine.
func busyLag(now int64) int64 {
	r := rand.New(rand.NewPCG(uint64(now), 11))
	if r.IntN(10) == 0 {
		return r.Int64N(4e6)
	}
	return r.Int64N(200e3)
}

// TestAutoWatchIrregular runs the adaptive watch against netdevtest.Driver
// clocks as the accuracy matrix has them (4 phases over the period,
// refreshes up to 2 ms late, 1 s requests): a period changed at run time
// and missed refreshes. Every window a reply claims after the warm-up
// must hold a refresh that made its values, and read through the
// bridge's rule no sample may be 0.3 % off: while the fit is in doubt the
// agent claims no window (a gap) rather than one built on the old clock,
// and the new clock's first refreshes are pinned by the fine refit burst
// and then by probes around the new fit's guess (0.41-0.43 % with a 5 ms
// burst alone; the bound for the real processes is 0.5 %).
func TestAutoWatchIrregular(t *testing.T) {
	t.Parallel()
	const dur, warmup = 150 * time.Second, 20 * time.Second
	const ms, p09765 = time.Millisecond, 976500 * time.Microsecond
	changeAt := time.Duration(simStart) + 75*time.Second + 123*ms
	change := func(p time.Duration) []netdevtest.PeriodChange {
		return []netdevtest.PeriodChange{{At: changeAt, Period: p, Phase: p/3 + 7*ms}}
	}
	// Traffic that stops after the warm-up and comes back for 15 s every
	// minute, as in the matrix's idle/burst rows.
	on := time.Duration(simStart)
	idleBurst := netdevtest.Rate{{At: 0, BytesPerSec: 12_500_000}, {At: on + 30*time.Second, BytesPerSec: 0}}
	for c := range 3 {
		at := on + 45*time.Second + 333*ms + time.Duration(c)*time.Minute
		idleBurst = append(idleBurst, netdevtest.Step{At: at, BytesPerSec: 12_500_000}, netdevtest.Step{At: at + 15*time.Second, BytesPerSec: 0})
	}
	tests := []struct {
		name    string
		period  time.Duration
		miss    float64
		changes []netdevtest.PeriodChange
		seeds   int // per phase
		// seedBase offsets the seeds: 1500 gives the interfaces of the
		// accuracy matrix's row (P 2 s, 1 % missed).
		seedBase int
		// maxGaps bounds the replies without a window after one with,
		// per interface: a re-fit, or a doubt that a late refresh
		// raised, costs a few.
		maxGaps int
		// rx is the traffic (nil: 100 Mbit/s throughout).
		rx netdevtest.Rate
		// busy: reads begin late as on a busy machine (busyLag); the
		// issue's bound of 0.5 % applies, not 0.3 %.
		busy bool
		// every is the requests' spacing (0: 1 s).
		every time.Duration
	}{
		{"0.9765 s, steady", p09765, 0, nil, 1, 0, 0, nil, false, 0},
		{"0.9765 s -> 1.024 s", p09765, 0, change(1024 * ms), 1, 0, 8, nil, false, 0},
		{"1 s -> 0.9765 s", time.Second, 0, change(p09765), 1, 0, 8, nil, false, 0},
		{"2 s -> 1 s", 2 * time.Second, 0, change(time.Second), 1, 0, 8, nil, false, 0},
		{"1 s -> 2 s", time.Second, 0, change(2 * time.Second), 1, 0, 8, nil, false, 0},
		{"2 s, 1 % missed", 2 * time.Second, 0.01, nil, 4, 0, 4, nil, false, 0},
		{"2 s, 1 % missed, the matrix's seeds", 2 * time.Second, 0.01, nil, 1, 1500, 4, nil, false, 0},
		{"0.9765 s, 1 % missed", p09765, 0.01, nil, 4, 0, 4, nil, false, 0},
		{"1 s, 5 % missed", time.Second, 0.05, nil, 1, 0, 4, nil, false, 0},
		{"2 s, 5 % missed", 2 * time.Second, 0.05, nil, 4, 0, 4, nil, false, 0},
		{"2 s, idle/burst", 2 * time.Second, 0, nil, 4, 0, 8, idleBurst, false, 0},
		{"2 s, idle/burst, the matrix's seeds", 2 * time.Second, 0, nil, 1, 1900, 8, idleBurst, false, 0},
		{"0.9765 s, idle/burst", p09765, 0, nil, 4, 0, 8, idleBurst, false, 0},
		{"0.5 s, idle/burst", 500 * ms, 0, nil, 4, 0, 8, idleBurst, false, 0},
		// 10 replies without a window in one run of 16 (54-56 in all).
		{"0.5 s, idle/burst, busy", 500 * ms, 0, nil, 4, 0, 10, idleBurst, true, 0},
		{"0.9765 s, steady, busy", p09765, 0, nil, 4, 0, 2, nil, true, 0},
		{"1 s -> 0.9765 s, busy", time.Second, 0, change(p09765), 4, 0, 8, nil, true, 0},
		{"2 s -> 1 s, busy", 2 * time.Second, 0, change(time.Second), 4, 0, 8, nil, true, 0},
		{"2 s, idle/burst, busy", 2 * time.Second, 0, nil, 4, 0, 8, idleBurst, true, 0},
		// Requests every 0.2 s see new traffic before the watch, asleep
		// while all was idle, would: they wake it (watcher.wakes), so
		// that only a burst's first refresh goes unprobed (below).
		{"0.5 s, idle/burst, 0.2 s requests", 500 * ms, 0, nil, 4, 0, 8, idleBurst, false, 200 * ms},
		{"0.9765 s, idle/burst, 0.2 s requests", p09765, 0, nil, 4, 0, 8, idleBurst, false, 200 * ms},
		{"2 s, idle/burst, 0.2 s requests", 2 * time.Second, 0, nil, 4, 0, 8, idleBurst, false, 200 * ms},
	}
	// A burst's first sample spans from the last idle refresh, which
	// changed nothing and is placed by the fit alone, to the first
	// refresh of the traffic, which no probe awaited: each within half
	// the driver's 2 ms jitter and the fit's error of its place, up to
	// 0.5 % of a 0.5 s period. Requests every 0.2 s see such samples
	// one by one; every second, most are summed with the next.
	bounds := map[string]float64{"0.5 s, idle/burst, 0.2 s requests": 0.005}
	refitReads := map[string]float64{"0.9765 s -> 1.024 s": 13, "1 s -> 0.9765 s": 12, "1 s -> 2 s": 20, "2 s -> 1 s": 12}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sum simJudgement
			misses, lost, reads, unprobed := 0, 0, 0, 0
			for k := range 4 {
				for seed := range tt.seeds {
					rx := tt.rx
					if rx == nil {
						rx = netdevtest.Constant(12_500_000)
					}
					in := netdevtest.DriverIface{
						Rx:     rx,
						Period: tt.period, Phase: time.Duration(int64(tt.period)*int64(k)/4) + 3*ms,
						Jitter: 2 * ms, Miss: tt.miss, Seed: uint64(tt.seedBase + 100*seed + k + 1),
					}
					for _, c := range tt.changes {
						c.Phase += time.Duration(int64(c.Period) * int64(k) / 4)
						in.Changes = append(in.Changes, c)
					}
					d := newDriverSource(t, in)
					var lag func(int64) int64
					if tt.busy {
						lag = busyLag
					}
					every := time.Second
					if tt.every > 0 {
						every = tt.every
					}
					res := simulateLagged(t, d, dur, every, warmup, lag)
					j := judge(t, d, res)
					misses += res.missedTruths
					unprobed += res.unprobed
					lost += res.lost
					reads += res.watchReads
					if j.gaps > tt.maxGaps {
						t.Errorf("phase %d seed %d: %d replies without a window, want at most %d", k, seed, j.gaps, tt.maxGaps)
					}
					sum.samples += j.samples
					sum.gaps += j.gaps
					sum.off10 += j.off10
					sum.maxErr = max(sum.maxErr, j.maxErr)
				}
			}
			bound := 0.003
			if tt.busy {
				bound = 0.005
			}
			if b, ok := bounds[tt.name]; ok {
				bound = b
			}
			if sum.off10 > 0 || sum.maxErr >= bound {
				t.Errorf("%d samples 10 %% off or more, max error %.3f %%; want none, max under %.1f %%", sum.off10, 100*sum.maxErr, 100*bound)
			}
			// A window narrowed by the fit may miss a refresh later than
			// the fit's jitter allows by a fraction of a millisecond:
			// logged, and judged by the samples' error above. Except
			// where traffic stops: an idle interface's claims rest on the
			// fit alone for many periods, and a fit that claimed more
			// than it knew lost itself there (and the bridge its windows
			// for a minute, 86 samples at 100 % in the matrix).
			if tt.rx != nil && (misses > 0 || lost > 0) {
				t.Errorf("%d windows off the refresh, %d fits lost; want none", misses, lost)
			}
			// Only a burst's first refresh may go unprobed: the watch,
			// asleep while all was idle, is woken by the first request
			// that sees the traffic (watcher.wakes). Left asleep, 84 of
			// 32 bursts' refreshes were unprobed at 0.2 s requests of a
			// 0.5 s driver, 63 of a 0.9765 s one.
			if tt.rx != nil && !tt.busy {
				bursts := 0
				for i, st := range tt.rx {
					if i > 0 && st.BytesPerSec > 0 && st.At > on+warmup && st.At < on+dur {
						bursts++
					}
				}
				if limit := bursts * 4 * tt.seeds; unprobed > limit {
					t.Errorf("%d changes claimed with a window no probe pinned, want at most %d (one per burst)", unprobed, limit)
				}
			}
			perS := float64(reads) / float64(4*tt.seeds) / (dur - warmup).Seconds()
			// A period change is found again by probes around the new
			// fit's guess once it has two windows, not by the fine burst
			// until it is confident: 9.8-17.4 reads/s here, 14.0-26.0
			// without the guess.
			if bound, ok := refitReads[tt.name]; ok && perS > bound {
				t.Errorf("%.2f watch reads/s per interface, want at most %.0f", perS, bound)
			}
			t.Logf("%d samples, %d gaps, max error %.3f %%, %d ≥ 10 %% off, %d windows off the refresh, %d fits lost, %d changes unprobed, %.2f watch reads/s per interface",
				sum.samples, sum.gaps, 100*sum.maxErr, sum.off10, misses, lost, unprobed, perS)
		})
	}
}

// TestAutoWatchManyClocks: one agent, eight interfaces of a 0.5 s driver
// on four refresh phases, half of them up to 4 ms late (a row of the
// accuracy matrix). The probes of one interface's band must not crowd out
// another's: every reply's window of a change since the last request is
// a probe's, about a millisecond wide. (In the matrix, through real
// processes, the emulated driver served some probes 5-7 ms apart, not
// 1 ms: a refresh in such a gap gets a window as wide as the gap.)
func TestAutoWatchManyClocks(t *testing.T) {
	t.Parallel()
	perS, widest, _ := manyClocks(t, 1)
	for name, wd := range widest {
		if wd > int64(1500*time.Microsecond) {
			t.Errorf("%s: widest reply window %v, want at most 1.5 ms", name, time.Duration(wd))
		}
	}
	// Eight refresh clocks, two refreshes a second each, about four
	// probes a refresh.
	if perS > 80 {
		t.Errorf("%.1f watch reads/s, want at most 80", perS)
	}
	t.Logf("%.1f watch reads/s, widest windows %v", perS, widest)
}

// manyClocks runs the adaptive watch, probing 1 in thin of the refreshes,
// over eight interfaces of 0.5 s drivers whose phases are spread over the
// period, half of them up to 4 ms late, with 1 s requests. Every reply
// after the warm-up must claim a window for each interface, holding a
// refresh that made its values. It returns the watch reads per second
// after the warm-up, each interface's widest window, and the watch.
func manyClocks(t *testing.T, thin int64) (float64, map[string]int64, *watcher) {
	t.Helper()
	const ms = time.Millisecond
	var ins []netdevtest.DriverIface
	for _, j := range []time.Duration{0, 4 * ms} {
		for k := range 4 {
			n := len(ins)
			ins = append(ins, netdevtest.DriverIface{Name: fmt.Sprintf("eth%d", n), Ifindex: int64(n + 2),
				Rx: netdevtest.Constant(12_500_000), Period: 500 * ms, Phase: time.Duration(int64(500*ms)*int64(k)/4) + 3*ms,
				Jitter: j, Seed: uint64(n + 1)})
		}
	}
	d, err := netdevtest.NewDriver(netdevtest.DriverOptions{Dir: t.TempDir(), Ifaces: ins, Clock: func() int64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	const dur, warmup = 120 * time.Second, 30 * time.Second
	w := newWatcher(true)
	w.thin = thin
	read := simReader(w, nil, func(data int64) map[string]wire.Counters {
		m := map[string]wire.Counters{}
		for _, in := range ins {
			c, _ := d.Visible(in.Name, data)
			c.Ifindex = in.Ifindex
			m[in.Name] = c
		}
		return m
	})
	widest := map[string]int64{}
	reads, missed := 0, 0
	reply := func(mono int64, m map[string]wire.Counters) {
		if mono-simStart <= int64(warmup) {
			return
		}
		for name, c := range m {
			switch {
			case c.ChangedNS == 0:
				a := w.ifaces[name].auto
				est := a.fit.Estimate()
				m := margin(est, a.refHi)
				tt, _ := latestRefresh(est, a.refHi+m)
				t.Errorf("thin %d: reply at %.3f s: %s has no window: refLo %.3f refStart %.3f refHi %.3f ms from t, m %.3f", thin, float64(mono-simStart)/1e9, name,
					float64(a.refLo-tt)/1e6, float64(a.refStart-tt)/1e6, float64(a.refHi-tt)/1e6, float64(m)/1e6)
				continue
			case c.ChangedNS > mono-int64(time.Second):
				widest[name] = max(widest[name], c.ChangedNS-c.UnchangedNS)
			}
			if _, ok := madeBy(driverSource{d, name}, c); !ok {
				if missed++; missed <= 4 {
					t.Errorf("thin %d: reply at %.3f s: %s's window (%.6f, %.6f] holds no refresh that made its values", thin,
						float64(mono-simStart)/1e9, name, float64(c.UnchangedNS-simStart)/1e9, float64(c.ChangedNS-simStart)/1e9)
				}
			}
		}
	}
	watched := func(mono, _ int64) {
		if mono-simStart > int64(warmup) {
			reads++
		}
	}
	simRun(w, int64(dur), int64(time.Second)/2+7_000_000, int64(time.Second), read, reply, watched)
	t.Logf("thin %d: withheld (after stretch, before band, late probe, after band) %v", thin, w.withheld[1:])
	return float64(reads) / (dur - warmup).Seconds(), widest, w
}

// TestTrafficRate: the rate deltaFits checks a change against is taken
// over up to rateChanges placed changes while the traffic keeps one rate,
// so that claims each off by a couple of ms do not make it 0.4 % off, and
// starts over where the traffic changed or refreshes went unplaced.
func TestTrafficRate(t *testing.T) {
	t.Parallel()
	const p, rate = int64(time.Second), 12.5e-3 // bytes per ns: 100 Mbit/s
	const ms = int64(time.Millisecond)
	// Claims alternately 2 ms late and 2 ms early, of refreshes 1 s
	// apart: a rate between two of them is 0.4 % off.
	off := func(k int) int64 { return 2 * ms * int64(1-2*(k%2)) }
	steady := func(s *autoState, from, n int, at0 int64, b0 uint64, r float64) {
		for k := from; k < from+n; k++ {
			s.notePlaced(placedChange{at: at0 + int64(k-from)*p + off(k), bytes: b0 + uint64(float64(int64(k-from)*p)*r)}, p)
		}
	}
	within := func(got, want, tol float64) bool { return math.Abs(got/want-1) <= tol }
	tests := []struct {
		name string
		run  func(s *autoState)
		want float64 // perNS (0: unknown)
		tol  float64
	}{
		{"two changes: off by their claims", func(s *autoState) { steady(s, 0, 2, 1e9, 1e6, rate) }, rate, 0.005},
		{"eight changes", func(s *autoState) { steady(s, 0, 8, 1e9, 1e6, rate) }, rate, 0.001},
		{"twenty changes: the latest eight", func(s *autoState) { steady(s, 0, 20, 1e9, 1e6, rate) }, rate, 0.001},
		{"a step to twice the rate, two changes after", func(s *autoState) {
			steady(s, 0, 8, 1e9, 1e6, rate)
			last := s.placed[len(s.placed)-1]
			steady(s, 8, 3, last.at-off(7)+p, last.bytes+uint64(float64(p)*2*rate), 2*rate)
		}, 2 * rate, 0.005},
		{"refreshes unplaced for 3 s", func(s *autoState) {
			steady(s, 0, 8, 1e9, 1e6, rate)
			last := s.placed[len(s.placed)-1]
			s.notePlaced(placedChange{at: last.at + 3*p, bytes: last.bytes + uint64(float64(3*p)*rate)}, p)
		}, 0, 0},
		{"counters that did not grow", func(s *autoState) {
			steady(s, 0, 8, 1e9, 1e6, rate)
			last := s.placed[len(s.placed)-1]
			s.notePlaced(placedChange{at: last.at + p, bytes: last.bytes}, p)
		}, 0, 0},
	}
	for _, tt := range tests {
		s := newAutoState(nil)
		tt.run(s)
		if tt.want == 0 && s.perNS != 0 || tt.want != 0 && !within(s.perNS, tt.want, tt.tol) {
			t.Errorf("%s: rate %.6g bytes/ns over %d changes, want %.6g (to %.2f %%)", tt.name, s.perNS, len(s.placed), tt.want, 100*tt.tol)
		}
		if len(s.placed) > rateChanges {
			t.Errorf("%s: %d placed changes kept, want at most %d", tt.name, len(s.placed), rateChanges)
		}
	}

	// Against that rate, a refresh's bytes fit the predicted refresh a
	// second on; a new clock's first, 36 ms early, does not.
	s := newAutoState(nil)
	steady(s, 0, 8, 1e9, 1e6, rate)
	last := s.placed[len(s.placed)-1]
	next := last.at + p - off(7) // the refresh after the last placed one
	for _, c := range []struct {
		name  string
		at    int64 // when the values were taken
		wants bool
	}{
		{"the predicted refresh", next, true},
		{"the predicted refresh, 3 ms late", next + 3*ms, true},
		{"a new clock's, 36 ms early", next - 36*ms, false},
		{"two refreshes", next + p, false},
	} {
		bytes := 1e6 + uint64(float64(c.at-1e9)*rate)
		if got := s.deltaFits(next, p, bytes); got != c.wants {
			t.Errorf("%s: deltaFits = %v, want %v", c.name, got, c.wants)
		}
	}
}

// TestProbeAtOverrun checks the probe plan around one predicted refresh:
// reads a step apart from the band's start, the next refresh's band after
// this one's end, and a read at once where the last read ran past a step
// (under load a read that waited for the grid would leave two steps, and
// a window that wide, between the reads around the refresh).
func TestProbeAtOverrun(t *testing.T) {
	const ms = int64(time.Millisecond)
	est := refresh.Estimate{PeriodNS: 1000 * ms, PhaseNS: 100_000 * ms, Windows: 32, PrecisionNS: 100_000, Confident: true}
	at := est.PhaseNS + 5*est.PeriodNS // the refresh probed below
	first := at - est.PeriodNS + ms    // its predecessor's change is seen
	s := probeAt(est, first, first, first+10*ms, 1, 0)
	d := margin(est, first+10*ms+est.PeriodNS)
	if s > at-d || s <= at-d-ms {
		t.Fatalf("band starts at %d ms from the refresh, want within a step before -%d ms", (s-at)/ms, d/ms)
	}
	end := at + d + ms
	tests := []struct {
		name            string
		lastStart, now  int64
		want            int64
		wantNextRefresh bool
	}{
		{"on time: the next step", s, s + ms/4, s + ms, false},
		{"a read that ran past the next step: at once", s, s + ms + ms/2, s + ms + ms/2, false},
		{"ran past two steps: at once", s + ms/4, s + 2*ms + ms/4, s + 2*ms + ms/4, false},
		{"began late, after the step: the next step", s + ms + ms/10, s + ms + ms/2, s + 2*ms, false},
		{"woke late into the band: at once", first + 10*ms, s + ms/2, s + ms/2, false},
		{"past the band: the next at's", end - ms/2, end + ms/2, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := probeAt(est, first, tt.lastStart, tt.now, 1, 0)
			if tt.wantNextRefresh {
				if got < at+est.PeriodNS-d-ms || got > at+est.PeriodNS-d {
					t.Errorf("next read at %+.3f ms from the refresh, want the next at's band start", float64(got-at)/1e6)
				}
				return
			}
			if got != tt.want {
				t.Errorf("next read at %+.3f ms from the band start, want %+.3f", float64(got-s)/1e6, float64(tt.want-s)/1e6)
			}
		})
	}
}

// TestSpread: the integer golden-ratio sequence is frac(k·0.618…)·span,
// as math.Mod computed it before (to a nanosecond of a 1 ms span), for
// negative k too, and always within [0, span).
func TestSpread(t *testing.T) {
	t.Parallel()
	for _, span := range []int64{1, int64(probeStep), int64(MinWatch) / 2, 1<<32 - 1} {
		ks := []int64{math.MinInt64, -1e12, -999_999, 1e6, 1e9, 1<<53 - 1, math.MaxInt64}
		for k := int64(-1000); k <= 1000; k++ {
			ks = append(ks, k)
		}
		for _, k := range ks {
			got := spread(k, span)
			if got < 0 || got >= span {
				t.Errorf("spread(%d, %d) = %d, outside [0, span)", k, span, got)
			}
			if k < -1e6 || k > 1e6 || span > 1e9 {
				continue // float64 keeps too few digits of the product
			}
			frac := math.Mod(float64(k)*0.6180339887498949, 1)
			if frac < 0 {
				frac++
			}
			if want := int64(frac * float64(span)); got < want-1 || got > want+1 {
				t.Errorf("spread(%d, %d) = %d, want %d", k, span, got, want)
			}
		}
	}
}

// TestFloorDiv: the subtraction path for small quotients agrees with
// division rounded down, at its edges and at random.
func TestFloorDiv(t *testing.T) {
	t.Parallel()
	ref := func(a, b int64) int64 {
		q := a / b
		if a%b != 0 && (a < 0) != (b < 0) {
			q--
		}
		return q
	}
	check := func(a, b int64) {
		if got, want := floorDiv(a, b), ref(a, b); got != want {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", a, b, got, want)
		}
	}
	bs := []int64{1, 2, 3, 7, 500_000_000, 976_562_500, 1<<58 - 1, 1 << 58, math.MaxInt64, -1, -500_000_000, math.MinInt64 + 1}
	for _, b := range bs {
		for _, a := range []int64{0, 1, -1, b, -b, b - 1, -b - 1, -b + 1, 8 * b, 8*b - 1, 8*b + 1, 3*b + 1, -2 * b, math.MaxInt64, math.MinInt64 + 1} {
			check(a, b)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100_000 {
		b := rng.Int64N(2_000_000_000) + 1
		check(rng.Int64N(20*b)-10*b, b)
	}
}
