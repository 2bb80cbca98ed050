package bridge

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
)

// bookingSchedule has a tariff of one minute, 12:01-12:02 UTC: two
// boundaries a test at noon crosses.
const bookingSchedule = "late=12:01-12:02;early=*"

func bookingSampler(t *testing.T) *Sampler {
	t.Helper()
	s, err := tariff.Parse(bookingSchedule, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return NewSampler(SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Hour,
		Tariffs: &Tariffs{Schedule: s, BillingDay: 1}})
}

// bookingNoon is the wall clock the booking tests start from.
var bookingNoon = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// watchHalfNS is half the agent's watch period: a change at instant c is
// reported as (c-watchHalfNS, c+watchHalfNS], whose midpoint is c.
const watchHalfNS = 5_000_000

// flow is traffic at a constant rate over [from, to), offsets from
// bookingNoon; tx runs at half the rx rate.
type flow struct {
	from, to time.Duration
	rxPerSec uint64
}

// flowSim is a driver that refreshes its counters every second at phase
// 0.5 s and carries flows, whose ends lie on refresh instants, so every
// counter value is a whole number of bytes.
type flowSim struct {
	flows []flow
	// monoOff is the offset from noon minus mono: the agent's boot clock
	// started long before noon, so the two clocks differ.
	monoOff time.Duration
}

const (
	simPeriod = time.Second
	simPhase  = 500 * time.Millisecond
)

// trueRx is the bytes received in [a, b).
func (f flowSim) trueRx(a, b time.Duration) uint64 {
	var n uint64
	for _, fl := range f.flows {
		lo, hi := max(a, fl.from), min(b, fl.to)
		if hi > lo {
			n += fl.rxPerSec * uint64(hi-lo) / uint64(time.Second)
		}
	}
	return n
}

// lastRefresh is the latest refresh at or before x.
func lastRefresh(x time.Duration) time.Duration {
	if x < simPhase {
		return simPhase - simPeriod // no read before noon needs more
	}
	return (x-simPhase)/simPeriod*simPeriod + simPhase
}

// visible is the rx counter a read at x sees: the traffic up to the last
// refresh.
func (f flowSim) visible(x time.Duration) uint64 { return f.trueRx(-time.Hour, lastRefresh(x)) }

// lastChange is the latest refresh at or before x that changed the
// counters, false when none has since the start.
func (f flowSim) lastChange(x time.Duration) (time.Duration, bool) {
	for r := lastRefresh(x); r > 0; r -= simPeriod {
		if f.visible(r) != f.visible(r-simPeriod) {
			return r, true
		}
	}
	return 0, false
}

// reply is the agent's reply to a read at x, with change windows when
// watch is set.
func (f flowSim) reply(id string, x time.Duration, watch bool) *wire.Reply {
	rx := f.visible(x)
	c := wire.Counters{RxBytes: rx, TxBytes: rx / 2, RxPackets: rx / 1000, TxPackets: rx / 2000, Ifindex: 2, SpeedMbps: 1000}
	mono := int64(x - f.monoOff)
	if ch, ok := f.lastChange(x); ok && watch {
		c.UnchangedNS = int64(ch-f.monoOff) - watchHalfNS
		c.ChangedNS = int64(ch-f.monoOff) + watchHalfNS
	}
	return &wire.Reply{ID: id, Node: "n", MonoNS: mono, TimeNS: bookingNoon.Add(x).UnixNano(), BootID: "b",
		Ifaces: map[string]wire.Counters{"eth0": c}}
}

// readSpanRx is what booking over read spans gives a tariff window
// [a, b) whose ends are reads at which traffic flowed (baselines, not
// stale reads): the counter growth between those two reads.
func (f flowSim) readSpanRx(a, b time.Duration) uint64 { return f.visible(b) - f.visible(a) }

// TestTariffBookedWhenFlowed: bytes are booked when they flowed. A one-minute tariff, a
// driver refreshing every second at phase 0.5 s, traffic starting and
// stopping on refresh instants, reads every second. With change windows
// each delta is split over the span between the two refreshes it came
// from, so the per-tariff totals are the synthetic traffic's within one
// byte per booked interval (the pro-rata floor). Without them the read
// spans are kept as before: each delta split over its read span, which
// puts half a second of traffic on the wrong side of each boundary.
func TestTariffBookedWhenFlowed(t *testing.T) {
	t.Parallel()
	sim := flowSim{
		flows: []flow{
			{10*time.Second + simPhase, 80*time.Second + simPhase, 1_000_000},   // across 12:01
			{100*time.Second + simPhase, 130*time.Second + simPhase, 3_000_000}, // across 12:02
		},
		monoOff: -11 * time.Hour,
	}
	minute := time.Minute
	all := sim.trueRx(-time.Hour, time.Hour)
	truthLate := sim.trueRx(minute, 2*minute)
	for _, tt := range []struct {
		name     string
		watch    bool
		wantLate uint64 // rx; early is the rest
		// exact: the totals must equal want to the byte; otherwise within
		// one byte per booked interval.
		exact bool
	}{
		{"change windows: the truth", true, truthLate, false},
		{"read spans: as before", false, sim.readSpanRx(minute, 2*minute), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := bookingSampler(t)
			s.Status("n", true)
			var last *IfaceSample
			booked := uint64(0)
			for k := range 151 { // 12:00:00 .. 12:02:30
				x := time.Duration(k) * time.Second
				tick := bookingNoon.Add(x)
				s.Tick(tick, 0)
				ns, why := s.Reply("n", sim.reply("run-"+strconv.FormatUint(s.seq, 10), x, tt.watch), tick)
				if ns == nil {
					t.Fatalf("read %d: dropped: %s", k, why)
				}
				last = &ns.Ifaces[0]
				if d := last.Result.Delta[rate.RxBytes]; d > 0 {
					booked++
				}
			}
			got := map[string]uint64{}
			gotTx := map[string]uint64{}
			for _, tu := range last.Tariff.Tariffs {
				got[tu.Name], gotTx[tu.Name] = tu.Lifetime.Rx, tu.Lifetime.Tx
			}
			if got["early"]+got["late"] != all || gotTx["early"]+gotTx["late"] != all/2 {
				t.Fatalf("booked rx %v tx %v, want %d and %d in all", got, gotTx, all, all/2)
			}
			t.Logf("rx late %d early %d; truth late %d early %d (late off by %+.2f %%); %d intervals booked",
				got["late"], got["early"], truthLate, all-truthLate, 100*(float64(got["late"])/float64(truthLate)-1), booked)
			tol := booked
			if tt.exact {
				tol = 0
			}
			if diff(got["late"], tt.wantLate) > tol {
				t.Errorf("rx late %d, want %d (±%d)", got["late"], tt.wantLate, tol)
			}
			if tt.watch && diff(gotTx["late"], truthLate/2) > tol {
				t.Errorf("tx late %d, want %d (±%d)", gotTx["late"], truthLate/2, tol)
			}
		})
	}
}

func diff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// bookStep is one read of TestTariffBookingSpans, at wall offset at from
// 12:01:00; change, when set, is the offset at which its values appeared
// (a watch window around it).
type bookStep struct {
	at, change time.Duration
	boot       string
	mono       time.Duration // the agent's boot clock at the read
	rx         uint64
	// restart persists the state and continues with a new sampler before
	// this read; oldLast, if set, rewrites the persisted booked end to
	// that offset, as a bridge that booked read spans left it.
	restart bool
	oldLast time.Duration
}

// TestTariffBookingSpans checks the booking rules on small hand-made runs
// around 12:01:00, with the per-tariff totals worked out by hand. A change
// span before the first booked end is clamped to it (the first one after
// a First, and after a restart from a state whose booked end is a read);
// a Reset has no change span, so it is split over its read span from the
// last booked end, and the change span after it is clamped to its read.
func TestTariffBookingSpans(t *testing.T) {
	t.Parallel()
	const ms = time.Millisecond
	sec := time.Second
	// w: a read at offset at, with a change window, mono = wall - 1 h.
	w := func(at, change time.Duration, rx uint64) bookStep {
		return bookStep{at: at, change: change, boot: "b1", mono: at + time.Hour, rx: rx}
	}
	for _, tt := range []struct {
		name        string
		steps       []bookStep
		early, late uint64
	}{
		{"read spans, as before", []bookStep{
			{at: -2 * sec, boot: "b1", mono: time.Hour - 2*sec, rx: 1000},
			{at: -sec, boot: "b1", mono: time.Hour - sec, rx: 1_001_000},
			{at: 0, boot: "b1", mono: time.Hour, rx: 2_001_000},
			{at: sec, boot: "b1", mono: time.Hour + sec, rx: 3_001_000},
		}, 2_000_000, 1_000_000},
		{"change spans split where the bytes flowed", []bookStep{
			w(-2*sec, -2500*ms, 1000), // First: the next span is clamped to this read
			w(-sec, -1500*ms, 1_001_000),
			w(0, -500*ms, 2_001_000),
			w(sec, 500*ms, 3_001_000), // (-0.5 s, 0.5 s]: half each
		}, 2_500_000, 500_000},
		{"reset between change spans", []bookStep{
			w(-2*sec, -2500*ms, 5_000_000),
			w(-sec, -1500*ms, 6_000_000), // booked up to -1.5 s
			// Reboot: counters from zero, a new boot clock. Split over
			// (-1.5 s, 1 s]: 1.5/2.5 early.
			{at: sec, change: 500 * ms, boot: "b2", mono: 2 * sec, rx: 600_000},
			// (0.5 s, 1.5 s] clamped to (1 s, 1.5 s]: all late.
			{at: 2 * sec, change: 1500 * ms, boot: "b2", mono: 3 * sec, rx: 1_600_000},
		}, 1_000_000 + 360_000, 240_000 + 1_000_000},
		{"restored baseline continues the change span", []bookStep{
			w(-2*sec, -2500*ms, 1000),
			w(-sec, -1500*ms, 1_001_000), // persisted: booked up to -1.5 s
			// A read missed while the bridge restarted: (-1.5 s, 0.5 s].
			func() bookStep { s := w(sec, 500*ms, 3_001_000); s.restart = true; return s }(),
		}, 1_000_000 + 1_500_000, 500_000},
		{"restored booked end after the span's start", []bookStep{
			w(-2*sec, -2500*ms, 1000),
			w(-sec, -1500*ms, 1_001_000),
			// The state says booked up to the read at -1 s: the span
			// (-1.5 s, 0.5 s] is clamped to (-1 s, 0.5 s], 2/3 early.
			func() bookStep {
				s := w(sec, 500*ms, 3_001_000)
				s.restart, s.oldLast = true, -sec
				return s
			}(),
		}, 1_000_000 + 1_333_333, 666_667},
		{"stale reads keep the booked end", []bookStep{
			w(-3*sec, -3500*ms, 1000),
			w(-2*sec, -2500*ms, 1_001_000),
			w(-sec, -2500*ms, 1_001_000), // stale: nothing booked
			w(0, -2500*ms, 1_001_000),    // stale
			// (-2.5 s, 0.5 s]: 2.5/3 early.
			w(sec, 500*ms, 4_001_000),
		}, 1_000_000 + 2_500_000, 500_000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := bookingSampler(t)
			s.Status("n", true)
			var last *IfaceSample
			for i, st := range tt.steps {
				tick := bookingNoon.Add(time.Minute + st.at)
				if st.restart {
					snap := s.Snapshot("br", tick)
					if st.oldLast != 0 {
						setPersistedLast(t, snap.Nodes["n"].Extra, bookingNoon.Add(time.Minute+st.oldLast))
					}
					s = bookingSampler(t)
					s.Restore(snap)
					s.Status("n", true)
				}
				s.Tick(tick, 0)
				c := wire.Counters{RxBytes: st.rx, Ifindex: 2}
				if st.change != 0 {
					ch := int64(st.mono - (st.at - st.change))
					c.UnchangedNS, c.ChangedNS = ch-watchHalfNS, ch+watchHalfNS
				}
				r := &wire.Reply{ID: "run-" + strconv.FormatUint(s.seq, 10), Node: "n", MonoNS: int64(st.mono), TimeNS: tick.UnixNano(),
					BootID: st.boot, Ifaces: map[string]wire.Counters{"eth0": c}}
				ns, why := s.Reply("n", r, tick)
				if ns == nil {
					t.Fatalf("step %d: dropped: %s", i, why)
				}
				last = &ns.Ifaces[0]
				t.Logf("step %d: %s dt %v change span %v", i, last.Result.Status, time.Duration(last.Result.DtNS), last.Result.ChangeSpan)
			}
			got := map[string]uint64{}
			for _, tu := range last.Tariff.Tariffs {
				got[tu.Name] = tu.Lifetime.Rx
			}
			if got["early"] != tt.early || got["late"] != tt.late {
				t.Errorf("rx early %d late %d, want %d and %d", got["early"], got["late"], tt.early, tt.late)
			}
		})
	}
}

// setPersistedLast rewrites the booked end of eth0 in a node's persisted
// tariff state, in place.
func setPersistedLast(t *testing.T, extra map[string]json.RawMessage, last time.Time) {
	t.Helper()
	var all map[string]persistedTariff
	if err := json.Unmarshal(extra[extraKey], &all); err != nil {
		t.Fatal(err)
	}
	p := all["eth0"]
	p.Last = last
	all["eth0"] = p
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	extra[extraKey] = b
}

// TestTariffBookedWhenFlowedExact: without watch mode, IFSTAT_EXACT's
// predicted refreshes give change spans too, and the delta is booked over
// them. A driver refreshing every 0.9765 s carries 1 MB/s until its first
// refresh after 12:05:00, the boundary; the reads, every second and up to
// 10 ms late, straddle it. The truth is the traffic after 12:05:00; booked
// over the read span, the whole last refresh would count after it.
func TestTariffBookedWhenFlowedExact(t *testing.T) {
	t.Parallel()
	const (
		period = 976_500_000
		bps    = 1_000_000
		j      = 300 * int64(time.Second) // 12:05:00
	)
	stopAt := (j/period + 1) * period // the first refresh after J: traffic ends there
	rxAt := func(x int64) uint64 {    // true bytes by x
		return uint64(min(x, stopAt)) * bps / uint64(time.Second)
	}
	sched, err := tariff.Parse("late=12:05-13:00;early=*", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		exact bool
	}{{"predicted spans", true}, {"read spans", false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewSampler(SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Hour, Exact: tt.exact,
				Rate: rate.Config{MaxGapNS: 10e9}, Tariffs: &Tariffs{Schedule: sched, BillingDay: 1}})
			s.Status("n", true)
			rng := rand.New(rand.NewPCG(3, 4))
			var last *IfaceSample
			for i := range 330 {
				read := int64(i)*1e9 + 1e6 + rng.Int64N(10e6)
				rx := rxAt(read / period * period)
				tick := bookingNoon.Add(time.Duration(i) * time.Second)
				s.Tick(tick, 0)
				// mono_ns counts from an hour before noon; time_ns is the
				// same instant on the wall clock.
				ns, why := s.Reply("n", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "n", MonoNS: read + int64(time.Hour),
					TimeNS: bookingNoon.UnixNano() + read, BootID: "b",
					Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, RxPackets: rx / 1000, Ifindex: 2}}}, tick)
				if ns == nil {
					t.Fatal(why)
				}
				last = &ns.Ifaces[0]
			}
			got := map[string]uint64{}
			for _, tu := range last.Tariff.Tariffs {
				got[tu.Name] = tu.Lifetime.Rx
			}
			truthLate := rxAt(stopAt) - rxAt(j)
			t.Logf("late %d early %d; truth late %d early %d", got["late"], got["early"], truthLate, rxAt(j))
			if got["late"]+got["early"] != rxAt(stopAt) {
				t.Fatalf("booked %d in all, the driver counted %d", got["late"]+got["early"], rxAt(stopAt))
			}
			// The lock predicts refreshes from reads up to 10 ms late:
			// it places them to within that, and so the split at J.
			const readJitter = 10 * time.Millisecond
			tol := uint64(bps * readJitter.Seconds())
			if off := diff(got["late"], truthLate); tt.exact && off > tol {
				t.Errorf("late %d, truth %d (±%d)", got["late"], truthLate, tol)
			} else if !tt.exact && off <= tol {
				t.Errorf("over read spans late %d is within %d of the truth %d: the run does not tell the spans apart", got["late"], tol, truthLate)
			}
		})
	}
}
