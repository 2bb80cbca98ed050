package bridge

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// doubtBps is the driver's traffic in the doubt tests: 100 Mbit/s.
const doubtBps = 12_500_000

// agentRead is one reply of an adaptive agent (wire.CapabilityRefresh)
// for eth0, shaped as publisher's autowatch makes them: the read at
// mono, the counters of the driver's refresh at refresh, and the window
// the agent claims for that refresh (none when lo is 0) with the period
// of its fit (0 while the fit is in doubt or being found again).
type agentRead struct {
	mono, refresh int64
	lo, hi        int64
	refreshNS     int64
}

func (r agentRead) counters() wire.Counters {
	rx := 1<<40 + uint64(r.refresh)*doubtBps/1e9
	return wire.Counters{RxBytes: rx, TxBytes: 1 << 40, RxPackets: 1<<40 + rx/1000, TxPackets: 1 << 40, Ifindex: 2,
		UnchangedNS: r.lo, ChangedNS: r.hi, RefreshNS: r.refreshNS}
}

// around is the narrow window (t-half, t+half] an agent claims for the
// refresh at t, fitted with period p.
func around(mono, t, half, p int64) agentRead {
	return agentRead{mono: mono, refresh: t, lo: t - half, hi: t + half, refreshNS: p}
}

// feedAgent answers one request per read, a second apart, and returns
// eth0's samples.
func feedAgent(t *testing.T, reads []agentRead) []IfaceSample {
	t.Helper()
	s := NewSampler(SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Minute, Rate: rate.Config{MaxGapNS: 10e9}})
	s.Status("n", true)
	s.Info(wire.Info{Node: "n", Protocol: wire.ProtocolVersion, Capabilities: []string{"reply", "watch", wire.CapabilityRefresh}})
	var out []IfaceSample
	for i, r := range reads {
		tick := t0.Add(time.Duration(i) * time.Second)
		s.Tick(tick, 0)
		ns, why := s.Reply("n", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "n", MonoNS: r.mono, TimeNS: tick.UnixNano(), BootID: "b",
			Ifaces: map[string]wire.Counters{"eth0": r.counters()}}, tick)
		if ns == nil {
			t.Fatalf("reply %d dropped: %s", i+1, why)
		}
		out = append(out, ns.Ifaces[0])
	}
	return out
}

const ms = int64(time.Millisecond)

// TestSamplerAgentInDoubt: replies of an adaptive agent around a change of
// its driver's clock and a missed refresh. A reply without a window is
// placed by the clock the agent claimed last only where nothing is in
// doubt (agentFit.place); what stays open is no rate (held, the next rate
// spans both intervals exactly), never a rate over the read span or a
// zero the agent did not claim; the bridge's own fit never narrows a
// window of an agent in doubt.
func TestSamplerAgentInDoubt(t *testing.T) {
	t.Parallel()
	type want struct {
		i      int // index of the sample
		status rate.Status
		dtNS   int64 // with status OK: the exact change span
		// readSpan: with status OK, dtNS is a read span (today's rule).
		readSpan bool
	}
	var (
		// A 1 s driver at phase 0.3 s, read at k+0.5 s. The agent's
		// doubt leaves the 5.5 s reply without a window (a read that ran
		// late, first seen by the request); at 6.3 s it claims its own
		// 4 ms window while in doubt. The read lies 200 ms after the
		// claimed clock's refresh and the delta is one period's: placed.
		noWindow = []agentRead{
			around(1500*ms, 1300*ms, ms/2, 1e9),
			around(2500*ms, 2300*ms, ms/2, 1e9),
			around(3500*ms, 3300*ms, ms/2, 1e9),
			around(4500*ms, 4300*ms, ms/2, 1e9),
			{mono: 5500 * ms, refresh: 5300 * ms},
			around(6500*ms, 6300*ms, 2*ms, 0),
		}
		// The driver's clock moved from phase 0.3 to 0.42 s: the 5.5 s
		// reply holds 1.12 s of traffic where the claimed clock says 1 s,
		// so it is held; the agent's own window at 6.42 s contradicts the
		// claimed clock, which is dropped.
		moved = []agentRead{
			around(1500*ms, 1300*ms, ms/2, 1e9),
			around(2500*ms, 2300*ms, ms/2, 1e9),
			around(3500*ms, 3300*ms, ms/2, 1e9),
			around(4500*ms, 4300*ms, ms/2, 1e9),
			{mono: 5500 * ms, refresh: 5420 * ms},
			around(6500*ms, 6420*ms, 2*ms, 0),
			{mono: 7500 * ms, refresh: 7420 * ms},
		}
		// A read 10 ms after the claimed refresh: it may have read the
		// values before that refresh and been stamped after it. Held.
		nearRefresh = []agentRead{
			around(1500*ms, 1300*ms, ms/2, 1e9),
			around(2500*ms, 2300*ms, ms/2, 1e9),
			{mono: 3310 * ms, refresh: 3300 * ms},
			around(4500*ms, 4300*ms, 2*ms, 0),
		}
		// The agent's fit holds (refresh_ns) but it cannot tell which
		// refresh made the values: a request 1 ms after a predicted
		// refresh, the first read since one a second earlier
		// (publisher's autowatch leaves the window out). Held.
		ambiguous = []agentRead{
			around(1500*ms, 1300*ms, ms/2, 1e9),
			around(2500*ms, 2300*ms, ms/2, 1e9),
			{mono: 3301 * ms, refresh: 3300 * ms, refreshNS: 1e9},
			around(4500*ms, 4300*ms, ms/2, 1e9),
		}
		// A 2 s driver read every second: the reply after the held one
		// has the same values and no window either (the agent repeats
		// what it knows about the values). Still held: the next window
		// spans the whole interval exactly.
		heldThenStill = []agentRead{
			around(1500*ms, 1300*ms, ms/2, 2e9),
			around(2500*ms, 1300*ms, ms/2, 2e9),
			around(3500*ms, 3300*ms, ms/2, 2e9),
			around(4500*ms, 3300*ms, ms/2, 2e9),
			{mono: 5301 * ms, refresh: 5300 * ms, refreshNS: 2e9},
			{mono: 6301 * ms, refresh: 5300 * ms, refreshNS: 2e9},
			around(7500*ms, 7300*ms, ms/2, 2e9),
		}
		// A 2 s driver read every second whose changes are first seen
		// by a read the agent cannot place (refresh_ns, no window), each
		// followed by a still reply, as the matrix had them (P 2 s -> 1 s,
		// 2026-12-06). The held interval passed the 3 s stale limit and
		// closed as a gap, and the next such reply was rated over the
		// second since the still one: 2x. Now each is held until the
		// agent claims a window again, which spans them exactly. After
		// that window, the still reply keeps its refresh as the
		// baseline, so the claimed clock places the next such replies
		// (a read 200 ms after the refresh, a period's bytes), and the
		// agent's window for a refresh placed so is no true zero.
		unplacedThenStill = []agentRead{
			around(1500*ms, 1300*ms, ms/2, 2e9),
			around(2500*ms, 1300*ms, ms/2, 2e9),
			{mono: 3500 * ms, refresh: 3300 * ms, refreshNS: 2e9},
			{mono: 4500 * ms, refresh: 3300 * ms, refreshNS: 2e9},
			{mono: 5500 * ms, refresh: 5300 * ms, refreshNS: 2e9},
			{mono: 6500 * ms, refresh: 5300 * ms, refreshNS: 2e9},
			around(7500*ms, 7300*ms, ms/2, 2e9),
			around(8500*ms, 7300*ms, ms/2, 2e9),
			{mono: 9500 * ms, refresh: 9300 * ms, refreshNS: 2e9},
			{mono: 10500 * ms, refresh: 9300 * ms, refreshNS: 2e9},
			{mono: 11500 * ms, refresh: 11300 * ms, refreshNS: 2e9},
			around(12500*ms, 11300*ms, ms/2, 2e9),
			around(13500*ms, 13300*ms, ms/2, 2e9),
		}
		// Two replies without a window in a row, both placed.
		twoNoWindows = []agentRead{
			around(1500*ms, 1300*ms, ms/2, 1e9),
			around(2500*ms, 2300*ms, ms/2, 1e9),
			{mono: 3500 * ms, refresh: 3300 * ms},
			{mono: 4500 * ms, refresh: 4300 * ms},
			around(5500*ms, 5300*ms, 2*ms, 0),
		}
		// Replies without a window that cannot be placed (each read
		// 10 ms after a refresh), for longer than the stale limit.
		longNoWindows = []agentRead{
			around(1500*ms, 1300*ms, ms/2, 1e9),
			around(2500*ms, 2300*ms, ms/2, 1e9),
			{mono: 3310 * ms, refresh: 3300 * ms},
			{mono: 4310 * ms, refresh: 4300 * ms},
			{mono: 5310 * ms, refresh: 5300 * ms},
			{mono: 6310 * ms, refresh: 6300 * ms},
			around(7500*ms, 7300*ms, 2*ms, 0),
			around(8500*ms, 8300*ms, 2*ms, 0),
		}
		// Live counters (the agent claims each read itself), then a
		// reply without a window: the agent has no fit to doubt.
		live = []agentRead{
			{mono: 1500 * ms, refresh: 1500 * ms, lo: 1500*ms - 1, hi: 1500 * ms},
			{mono: 2500 * ms, refresh: 2500 * ms, lo: 2500*ms - 1, hi: 2500 * ms},
			{mono: 3500 * ms, refresh: 3500 * ms},
		}
		// A 2 s driver at phase 0.3 s that skips its refresh at 6.3 s:
		// the counters stand still from 4.3 to 8.3 s.
		skipped = []agentRead{
			around(1500*ms, 300*ms, ms/2, 2e9),
			around(2500*ms, 2300*ms, ms/2, 2e9),
			around(3500*ms, 2300*ms, ms/2, 2e9),
			around(4500*ms, 4300*ms, ms/2, 2e9),
			around(5500*ms, 4300*ms, ms/2, 2e9),
			around(6500*ms, 4300*ms, ms/2, 2e9),
			around(7500*ms, 4300*ms, ms/2, 2e9),
			around(8500*ms, 8300*ms, ms/2, 2e9),
		}
	)
	tests := []struct {
		name  string
		reads []agentRead
		want  []want
	}{
		{"a reply without a window on the claimed clock is placed", noWindow, []want{{3, rate.OK, 1e9, false}, {4, rate.OK, 1e9, false}, {5, rate.OK, 1e9, false}}},
		{"a clock that moved is held, then dropped", moved, []want{{3, rate.OK, 1e9, false}, {4, rate.Stale, 0, false}, {5, rate.OK, 2120 * ms, false}, {6, rate.Stale, 0, false}}},
		{"a read just after a claimed refresh is held", nearRefresh, []want{{1, rate.OK, 1e9, false}, {2, rate.Stale, 0, false}, {3, rate.OK, 2e9, false}}},
		{"a reply with refresh_ns but no window is held", ambiguous, []want{{1, rate.OK, 1e9, false}, {2, rate.Stale, 0, false}, {3, rate.OK, 2e9, false}}},
		{"a still reply after a held one is held too", heldThenStill, []want{{2, rate.OK, 2e9, false}, {4, rate.Stale, 0, false}, {5, rate.Stale, 0, false}, {6, rate.OK, 4e9, false}}},
		{"replies the agent cannot place are held until its next window", unplacedThenStill,
			[]want{{2, rate.Stale, 0, false}, {3, rate.Stale, 0, false}, {4, rate.Stale, 0, false}, {5, rate.Stale, 0, false}, {6, rate.OK, 6e9, false},
				{8, rate.OK, 2e9, false}, {9, rate.Stale, 0, false}, {10, rate.OK, 2e9, false}, {11, rate.Stale, 0, false}, {12, rate.OK, 2e9, false}}},
		{"two replies without a window are placed", twoNoWindows, []want{{2, rate.OK, 1e9, false}, {3, rate.OK, 1e9, false}, {4, rate.OK, 1e9, false}}},
		{"held past the stale limit: gaps, then exact again", longNoWindows,
			[]want{{2, rate.Stale, 0, false}, {3, rate.Stale, 0, false}, {4, rate.Stale, 0, false}, {5, rate.Gap, 0, false}, {6, rate.Gap, 0, false}, {7, rate.OK, 1e9, false}}},
		{"live counters, then no window: the read span", live, []want{{1, rate.OK, 1e9, false}, {2, rate.OK, 1e9, true}}},
		{"a skipped refresh of a 2 s driver is held, not a zero", skipped,
			[]want{{3, rate.OK, 2e9, false}, {4, rate.Stale, 0, false}, {5, rate.Stale, 0, false}, {6, rate.Stale, 0, false}, {7, rate.OK, 4e9, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := feedAgent(t, tt.reads)
			for _, w := range tt.want {
				res := got[w.i].Result
				if res.Status != w.status {
					t.Errorf("sample %d: status %v (%s, %d ns, %d B/s), want %v", w.i, res.Status, res.Reason, res.DtNS, res.PerSecond(rate.RxBytes, 1), w.status)
					continue
				}
				if w.status != rate.OK {
					continue
				}
				if res.ChangeSpan == w.readSpan || res.DtNS != w.dtNS {
					t.Errorf("sample %d: span %d ns (change span %v), want %d", w.i, res.DtNS, res.ChangeSpan, w.dtNS)
				}
				if got := res.PerSecond(rate.RxBytes, 1); got != doubtBps {
					t.Errorf("sample %d: %d B/s, want %d", w.i, got, doubtBps)
				}
			}
		})
	}
}

// TestSamplerAgentNewClock: a 2 s driver whose period becomes 1 s with
// a new phase. The bridge's own fit (from the agent's narrow windows)
// has the old clock; the windows the agent claims on the new one, in
// doubt (refresh_ns 0) and after its new fit, are taken as they are, so
// every rate spans the midpoints of the agent's windows exactly.
func TestSamplerAgentNewClock(t *testing.T) {
	t.Parallel()
	var reads []agentRead
	// Old clock: refreshes at 2k+0.3 s, read at k+0.5 s, windows 1 ms
	// wide, 40 s: the bridge's fit is confident.
	for k := int64(1); k <= 40; k++ {
		r := (k-k%2)*1e9 + 300*ms
		reads = append(reads, around(k*1e9+500*ms, r, ms/2, 2e9))
	}
	// New clock from 41.3004 s on: refreshes at k+0.3004 s, 0.4 ms after
	// every old-clock instant and as far before the others. In doubt the
	// agent claims its own 8 ms windows, which hold both; then its new
	// fit's 1 ms windows.
	for k := int64(41); k <= 60; k++ {
		r := k*1e9 + 300*ms + 400_000
		half, p := ms/2, int64(1e9)
		if k < 46 {
			half, p = 4*ms, 0
		}
		reads = append(reads, around(k*1e9+500*ms, r, half, p))
	}
	got := feedAgent(t, reads)
	for i := 41; i < len(got); i++ {
		res := got[i].Result
		if i == 41 {
			// The first interval on the new clock began on the old.
			continue
		}
		wantDt := reads[i].refresh - reads[i-1].refresh
		if res.Status != rate.OK || !res.ChangeSpan || res.DtNS != wantDt {
			t.Errorf("sample %d: %v, span %d ns (change span %v), want OK over %d ns, the agent's windows", i, res.Status, res.DtNS, res.ChangeSpan, wantDt)
		}
	}
}

// TestSamplerAgentSilentSubSecond: a bridge asking every 0.2 s an
// adaptive agent that lost its fit without a word (no window, no
// refresh_ns) for a few seconds, of a 1 s driver at phase 0.6136 s. Each
// change then comes after four still replies, none of them periodic.
// Before, such a change was rated over the read span since the last one:
// where reads fell just before or just after a refresh (the matrix's
// trace, 2026-12-06: the read 0.5 ms after a refresh missed it, the one
// 1.8 ms after saw it), 0.6-1.2 s for a second's bytes, 66 % off. While
// the claimed clock is recent, such changes are placed by it or held
// (never a rate over the read span), and exact again once windows
// return.
func TestSamplerAgentSilentSubSecond(t *testing.T) {
	t.Parallel()
	const phase, p = 613_600_000, int64(1e9)
	tests := []struct {
		name string
		// offsets are the reads of second sec, from the second.
		offsets func(sec int64) []int64
		// missed is the offset of a read stamped after a refresh whose
		// values it read before it (0: none).
		missed int64
		// placed: the changes of the silent seconds are placed by the
		// claimed clock (OK and exact), not held.
		placed bool
	}{
		{"reads 0.5 ms and 1.8 ms after refreshes (the trace)", func(sec int64) []int64 {
			if sec%2 == 0 {
				return []int64{14_000_000, 209_800_000, 411_100_000, 614_100_000, 809_500_000}
			}
			return []int64{14_000_000, 209_800_000, 411_100_000, 615_400_000, 809_500_000}
		}, 614_100_000, false},
		{"reads 80-120 ms after refreshes, 40 ms of jitter", func(sec int64) []int64 {
			j := int64(20_000_000)
			if sec%2 == 0 {
				j = -j
			}
			return []int64{100_000_000 + j, 300_000_000 + j, 500_000_000 + j, 713_600_000 + j, 900_000_000 + j}
		}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewSampler(SamplerConfig{Interval: 200 * time.Millisecond, RunID: "run", ObsoleteAfter: time.Minute})
			s.Status("n", true)
			s.Info(wire.Info{Node: "n", Protocol: wire.ProtocolVersion, Capabilities: []string{"reply", "watch", wire.CapabilityRefresh}})
			i := 0
			silentOK, afterOK := 0, 0
			for sec := int64(95); sec < 112; sec++ {
				silent := sec >= 101 && sec < 106
				for _, o := range tt.offsets(sec) {
					mono := sec*1e9 + o
					ref := phase + floorDiv(mono-phase, p)*p
					if o == tt.missed {
						ref -= p
					}
					r := agentRead{mono: mono, refresh: ref}
					if !silent {
						r.lo, r.hi, r.refreshNS = ref-ms/2, ref+ms/2, p
					}
					tick := t0.Add(time.Duration(i) * 200 * time.Millisecond)
					i++
					s.Tick(tick, 0)
					ns, why := s.Reply("n", &wire.Reply{ID: "run-" + strconv.Itoa(i), Node: "n", MonoNS: mono, TimeNS: tick.UnixNano(), BootID: "b",
						Ifaces: map[string]wire.Counters{"eth0": r.counters()}}, tick)
					if ns == nil {
						t.Fatalf("reply %d dropped: %s", i, why)
					}
					res := ns.Ifaces[0].Result
					if res.Status != rate.OK || res.Delta[rate.RxBytes] == 0 {
						continue
					}
					got := float64(res.Delta[rate.RxBytes]) / (float64(res.DtNS) / 1e9)
					if math.Abs(got/doubtBps-1) > 0.005 {
						t.Errorf("read %.4f s (silent %v): %.0f B over %.4f s, %.2f %% off", float64(mono)/1e9, silent, float64(res.Delta[rate.RxBytes]), float64(res.DtNS)/1e9, 100*(got/doubtBps-1))
					}
					switch {
					case silent:
						silentOK++
					case sec >= 107:
						afterOK++
					}
				}
			}
			if tt.placed && silentOK < 4 {
				t.Errorf("%d changes of the 5 silent seconds placed, want at least 4", silentOK)
			}
			if afterOK < 4 {
				t.Errorf("%d exact rates in the 5 s after windows returned, want at least 4", afterOK)
			}
		})
	}
}
