package rate

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/satmath"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// N is the number of counters per interface, in wire order.
const N = 8

// Counter indexes Values in wire order. Even indices are the receive side,
// odd ones the transmit side of the same kind.
type Counter int

// The counters, named after /sys/class/net/<if>/statistics/<name>.
const (
	RxBytes Counter = iota
	TxBytes
	RxPackets
	TxPackets
	RxErrors
	TxErrors
	RxDropped
	TxDropped
)

var counterNames = [N]string{"rx_bytes", "tx_bytes", "rx_packets", "tx_packets",
	"rx_errors", "tx_errors", "rx_dropped", "tx_dropped"}

// String returns the kernel's file name of the counter, e.g. "rx_bytes".
func (c Counter) String() string {
	if c >= 0 && int(c) < len(counterNames) {
		return counterNames[c]
	}
	return fmt.Sprintf("counter(%d)", int(c))
}

// Values holds one value per Counter, indexed by Counter.
type Values [N]uint64

// FromWire returns the eight counters of c in wire order.
func FromWire(c wire.Counters) Values {
	return Values{c.RxBytes, c.TxBytes, c.RxPackets, c.TxPackets,
		c.RxErrors, c.TxErrors, c.RxDropped, c.TxDropped}
}

// Sample is one read of one interface, as the agent reported it.
type Sample struct {
	// BootID is the agent's kernel boot id; a change means a reboot. Empty
	// means unknown (see Config.ReorderWindowNS).
	BootID string
	// MonoNS is the agent's CLOCK_BOOTTIME in ns at the read.
	MonoNS int64
	// Ifindex is /sys/class/net/<if>/ifindex; 0 means unknown. A change
	// between two non-zero values means the interface was re-created.
	Ifindex int64
	// SpeedMbps is the link speed in Mbit/s; 0 or negative means unknown.
	SpeedMbps int64
	// Values are the counters at the read.
	Values Values
	// ChangedNS is the agent's MonoNS of the first read that saw Values
	// (watch mode: wire.Counters.ChangedNS); 0 means unknown. When it and
	// the baseline's are known, a rate spans the time between the two
	// counter changes instead of the time between the reads.
	ChangedNS int64
	// UnchangedNS is the MonoNS of the last read that still saw the
	// previous values (wire.Counters.UnchangedNS); 0 means unknown. The
	// refresh that produced Values lies in (UnchangedNS, ChangedNS]; its
	// midpoint is taken as the instant of the change. A caller that knows
	// the driver's refresh period (package refresh) may pass a narrower
	// window.
	UnchangedNS int64
	// Predicted says that (UnchangedNS, ChangedNS] brackets the fitted
	// driver refresh that the values are current as of (package refresh,
	// Lock), not the first read that saw them: it holds for unchanged
	// values too, so a change span is used even after an idle interval
	// when the baseline was predicted as well (rule 9).
	Predicted bool
	// Unsure says that the read lies so close to a predicted refresh that
	// which side it fell on is not known: like a stale read it closes no
	// interval (Stale, nothing booked, the baseline kept), so the next
	// read spans both intervals. Once the baseline is StaleLimitNS old
	// the read closes the interval as a Gap (booked, no rate): where
	// the interval ends is not known.
	Unsure bool
	// Live says that at least two driver refreshes fell since the last
	// change: unchanged counters are then a true zero, not stale.
	Live bool
	// HoldNS, for a Predicted sample whose baseline was predicted too,
	// is how long counters that have not moved since the baseline are
	// held as stale instead of StaleLimitNS: the agent claims the idle
	// refreshes itself (Live), so a driver that skipped a refresh is
	// not a zero. For an Unsure sample it is how long it is held before
	// it closes the interval as a Gap. 0 means StaleLimitNS; it never
	// shortens it.
	HoldNS int64
	// Rebase says that the predicted refresh clock was fitted anew and
	// does not continue the one the baseline was predicted by (if any):
	// the interval, which spans two clocks or began on none, is a Gap.
	Rebase bool
}

// ChangeNS is the best estimate of the instant at which s.Values
// appeared: the midpoint of (UnchangedNS, ChangedNS], or ChangedNS alone;
// 0 when unknown or inconsistent with the read. When Update's Result has
// ChangeSpan set, its span ends here: the delta flowed between
// ChangeNS()-DtNS and ChangeNS() (the bridge books tariffs over it).
func (s Sample) ChangeNS() int64 {
	c := s.ChangedNS
	if c <= 0 || c > s.MonoNS {
		return 0
	}
	if u := s.UnchangedNS; u > 0 && u < c {
		return u + (c-u)/2
	}
	return c
}

// Status classifies one Update.
type Status int

// The statuses. Only OK carries a rate.
const (
	// First is the first sample of a tracker: nothing to compare with.
	First Status = iota
	// OK: Delta over DtNS is an exact rate.
	OK
	// Stale: the driver has not refreshed its counters since the last
	// change; no rate, nothing booked, the baseline is kept.
	Stale
	// Gap: DtNS exceeds Config.MaxGapNS; Delta is booked, no rate.
	Gap
	// Reset: the counters restarted (reboot, re-created interface, a
	// decrease that cannot be a wrap); Delta is what the counters prove.
	Reset
	// Implausible: a counter rose faster than Config.MaxBitsPerSec allows;
	// nothing booked, the baseline moves to this sample.
	Implausible
	// OutOfOrder: a duplicate or reordered reply; dropped, state untouched.
	OutOfOrder
)

var statusNames = [...]string{First: "first", OK: "ok", Stale: "stale", Gap: "gap", Reset: "reset",
	Implausible: "implausible", OutOfOrder: "out-of-order"}

// String returns the lower-case name of s.
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Result is what one Update concluded.
type Result struct {
	Status Status
	// Reason says why for Reset, Implausible, OutOfOrder, an ambiguous
	// Gap (see Ambiguous) and a Stale result of an unsure read
	// (Sample.Unsure); empty otherwise.
	Reason string
	// DtNS is the span in ns the delta covers: since the last read at which
	// the counters changed (see Stale), or, when both samples carry change
	// times (watch mode), between the two counter changes (see ChangeSpan).
	// 0 when the clocks cannot be compared (new boot) or on First and
	// OutOfOrder.
	DtNS int64
	// ChangeSpan is true when DtNS is the span between two counter
	// changes rather than between two reads; the span then ends at the
	// sample's ChangeNS.
	ChangeSpan bool
	// Delta is the increment of each counter over DtNS, wrap-corrected; on
	// Reset the traffic the counters prove (see the package doc).
	Delta Values
	// Wrapped marks the counters that wrapped at 2^32 in this interval.
	Wrapped [N]bool
	// Ambiguous marks the counters whose Delta is only a lower bound: a
	// 32-bit counter that may have wrapped more than once in an interval
	// spanning a Restore (see Tracker.Restore). Status is then Gap.
	Ambiguous [N]bool
	// Total holds the running 64-bit totals after this sample; they never
	// decrease and saturate at 2^64-1.
	Total Values
	// Rate is true when Delta/DtNS is a valid rate to publish (Status OK).
	Rate bool
}

// PerSecond returns the rate of counter c over DtNS, times mult (8 turns
// bytes into bits/s); see the function PerSecond.
func (r Result) PerSecond(c Counter, mult uint64) uint64 {
	return PerSecond(r.Delta[c], r.DtNS, mult)
}

// Defaults for the zero fields of Config.
const (
	DefaultStaleLimitNS    = 3_000_000_000
	DefaultMaxBitsPerSec   = 10_000_000_000
	DefaultRefreshNS       = 1_000_000_000
	DefaultReorderWindowNS = 5_000_000_000
)

// Bounds of the per-packet byte count used to check a wrap of a byte or
// packet counter against its partner of the same direction.
const (
	// MinPacketBytes is the fewest bytes a counted packet carries (an IPv4
	// header; link-layer frames are larger).
	MinPacketBytes = 20
	// MaxPacketBytes is 65536 x 1.1: a GSO/GRO super-packet plus headers.
	MaxPacketBytes = 72090
)

// Config bounds what a Tracker accepts. The zero value is usable: every
// zero field means its default.
type Config struct {
	// MaxGapNS is the longest DtNS that still gives a rate; longer is Gap.
	// 0 means no limit; the bridge sets about 3 x its interval. A change
	// after stale reads spans up to StaleLimitNS plus one interval, so a
	// MaxGapNS below that turns such changes into Gaps.
	MaxGapNS int64
	// StaleLimitNS is how long counters may stand still after traffic
	// before the stillness is believed (a genuine zero). If zero,
	// DefaultStaleLimitNS (3 s); negative turns the stale rule off.
	StaleLimitNS int64
	// MaxBitsPerSec bounds the rate of any counter rising (in bits/s for
	// bytes; packet counters get MaxBitsPerSec/8/MinPacketBytes) and of a
	// wrap on a link of unknown speed. If zero, DefaultMaxBitsPerSec
	// (10 Gbit/s).
	MaxBitsPerSec uint64
	// RefreshNS is the longest time a driver leaves its counters
	// unrefreshed: a delta between two reads dt apart may hold up to
	// dt+RefreshNS of traffic, so every rate bound is applied over that
	// span. If zero, DefaultRefreshNS (1 s); negative means no slack.
	RefreshNS int64
	// ReorderWindowNS applies only when a boot id is unknown: a MonoNS
	// going back by more than this is taken as a reboot (Reset), by less as
	// a reordered reply. If zero, DefaultReorderWindowNS (5 s).
	ReorderWindowNS int64
}

func (c Config) staleLimit() int64 {
	if c.StaleLimitNS == 0 {
		return DefaultStaleLimitNS
	}
	return c.StaleLimitNS
}

func (c Config) maxBits() uint64 {
	if c.MaxBitsPerSec == 0 {
		return DefaultMaxBitsPerSec
	}
	return c.MaxBitsPerSec
}

func (c Config) refresh() uint64 {
	switch {
	case c.RefreshNS == 0:
		return DefaultRefreshNS
	case c.RefreshNS < 0:
		return 0
	}
	return uint64(c.RefreshNS)
}

func (c Config) reorderWindow() uint64 {
	if c.ReorderWindowNS <= 0 {
		return DefaultReorderWindowNS
	}
	return uint64(c.ReorderWindowNS)
}

// Tracker follows one interface of one agent. The zero value is ready with
// the default Config. A Tracker is not safe for concurrent use.
type Tracker struct {
	cfg Config

	bootID    string // last non-empty boot id
	oldBootID string // the boot id before the last boot change
	ifindex   int64  // last non-zero ifindex
	speedMbps int64  // last known link speed
	lastMono  int64  // MonoNS of the last accepted sample

	base     Values // counters at the last change
	baseMono int64  // MonoNS of the last change
	// baseChange estimates when base appeared (Sample.ChangeNS); 0 when
	// unknown.
	baseChange int64
	// basePredicted: baseChange is a predicted refresh (Sample.Predicted).
	basePredicted bool
	// idle: the last OK or Gap interval moved no main counter. False after
	// First, Reset and Implausible: whether the driver is refreshing is
	// unknown, so stillness is not believed at once.
	idle   bool
	seen64 [N]bool
	// restored: the baseline comes from Restore, so the next booked
	// interval spans the bridge's downtime (see Restore).
	restored bool
	// started is next to the other bools: a bridge keeps a Tracker per
	// interface of every router, and 256 bytes is a size class, 264 not.
	started bool

	totals Values
}

// New returns a Tracker using cfg.
func New(cfg Config) *Tracker {
	return &Tracker{cfg: cfg}
}

// Totals returns the running totals.
func (t *Tracker) Totals() Values { return t.totals }

// SetTotals replaces the running totals, e.g. with persisted ones.
func (t *Tracker) SetTotals(v Values) { t.totals = v }

// Update classifies s against the previous samples and books its delta.
func (t *Tracker) Update(s Sample) Result {
	if !t.started {
		t.started = true
		t.idle = false
		t.rebase(s)
		return Result{Status: First, Total: t.totals}
	}

	if s.BootID != "" && t.bootID != "" && s.BootID != t.bootID {
		if s.BootID == t.oldBootID {
			return Result{Status: OutOfOrder, Reason: "reply from the previous boot", Total: t.totals}
		}
		return t.restart(s, "boot id changed")
	}
	if s.MonoNS <= t.lastMono {
		back := uint64(t.lastMono) - uint64(s.MonoNS)
		if (s.BootID == "" || t.bootID == "") && back > t.cfg.reorderWindow() {
			return t.restart(s, "clock went back without a boot id: reboot assumed")
		}
		if back == 0 {
			return Result{Status: OutOfOrder, Reason: "duplicate reply", Total: t.totals}
		}
		return Result{Status: OutOfOrder, Reason: "reply older than the last one", Total: t.totals}
	}
	if s.Ifindex != 0 && t.ifindex != 0 && s.Ifindex != t.ifindex {
		return t.restart(s, fmt.Sprintf("ifindex %d -> %d", t.ifindex, s.Ifindex))
	}

	span := uint64(s.MonoNS) - uint64(t.baseMono) // > 0: MonoNS > lastMono >= baseMono
	res := Result{DtNS: satmath.Int64(span)}
	b := t.bounds(s, span)

	// Classify every counter before judging any: a wrap is only believed
	// when the rest of the interface shows no reset.
	bad := Counter(-1)
	for i := range N {
		p, n := t.base[i], s.Values[i]
		switch {
		case n >= p:
			res.Delta[i] = n - p
		case p < 1<<32 && !t.seen64[i]:
			res.Delta[i] = 1<<32 - p + n
			res.Wrapped[i] = true
		case bad < 0:
			bad = Counter(i)
		}
	}
	if bad >= 0 {
		return t.resetByDecrease(s, res, b, t.decreaseReason(bad, s))
	}
	for i := range N {
		if res.Wrapped[i] {
			if why := b.wrapProblem(Counter(i), &res.Delta); why != "" {
				return t.resetByDecrease(s, res, b, fmt.Sprintf("%v decreased from %d to %d and cannot have wrapped: %s",
					Counter(i), t.base[i], s.Values[i], why))
			}
		}
	}
	for i := range N {
		if !res.Wrapped[i] && res.Delta[i] > b.max(Counter(i)) {
			reason := fmt.Sprintf("%v rose by %d in %d ns, over the bound %d", Counter(i), res.Delta[i], span, b.max(Counter(i)))
			t.rebase(s)
			t.idle = false
			return Result{Status: Implausible, Reason: reason, DtNS: res.DtNS, Total: t.totals}
		}
	}

	moved := res.Delta[RxBytes]|res.Delta[TxBytes]|res.Delta[RxPackets]|res.Delta[TxPackets] != 0
	if s.Unsure {
		if limit := t.cfg.staleLimit(); span < uint64(max(limit, DefaultStaleLimitNS, s.HoldNS)) {
			t.lastMono = s.MonoNS
			t.note(s)
			return Result{Status: Stale, Reason: "read too close to a predicted driver refresh", DtNS: res.DtNS, Total: t.totals}
		}
	}
	// A still read under the very refresh the baseline was claimed as of
	// says nothing new: the agent has not yet seen a newer refresh pass.
	// Rated, it was a zero over the read span that overlapped the
	// interval the agent's next claim closes (at 0.2 s sampling an idle
	// second's spans summed to 1.6 s, and the second after a burst's end
	// was judged over a span reaching back into the burst). It is held,
	// for as long as the agent may take to claim the next refresh.
	if !moved && t.idle && s.Predicted && t.basePredicted && !s.Unsure && !s.Rebase && s.HoldNS > 0 && span < uint64(s.HoldNS) {
		if c := s.ChangeNS(); c > 0 && c <= t.baseChange {
			t.lastMono = s.MonoNS
			t.note(s)
			return Result{Status: Stale, Reason: "no refresh claimed since the baseline's", DtNS: res.DtNS, Total: t.totals}
		}
	}
	if !moved && !t.idle && !s.Live {
		limit := t.cfg.staleLimit()
		if s.Predicted && t.basePredicted && limit > 0 && s.HoldNS > limit {
			limit = s.HoldNS
		}
		if limit > 0 && span < uint64(limit) {
			// Keep base and baseMono: the next change is divided by the
			// whole span since the last one.
			t.lastMono = s.MonoNS
			t.note(s)
			return Result{Status: Stale, DtNS: res.DtNS, Total: t.totals}
		}
	}

	// With change times on both ends the delta is the traffic between the
	// two refreshes that produced the values, whatever the reads saw in
	// between. Not after a measured idle interval: refreshes that changed
	// nothing are invisible, so the previous change may be long before
	// the refresh that began this traffic.
	// Predicted refreshes on both ends hold whatever the traffic did.
	if c := s.ChangeNS(); (moved && !t.idle || s.Predicted && t.basePredicted) && !s.Unsure && t.baseChange > 0 && c > t.baseChange {
		res.DtNS = c - t.baseChange
		res.ChangeSpan = true
	}

	res.Status = OK
	if t.cfg.MaxGapNS > 0 && span > uint64(t.cfg.MaxGapNS) || s.Unsure {
		// An unsure read held past the stale limit closes the
		// interval without a rate: its end is not known.
		res.Status = Gap
	}
	if s.Rebase && s.Predicted {
		res.Status = Gap
		res.Reason = "refresh clock fitted anew: the interval spans two clocks"
		res.ChangeSpan = false
		res.DtNS = satmath.Int64(span)
	}
	if t.restored {
		if c := t.ambiguous(s, &res, b); c >= 0 {
			res.Status = Gap
			res.Reason = fmt.Sprintf("%v may have wrapped more than once in %d ns since the restored baseline: only the delta modulo 2^32 is booked", c, span)
		}
	}
	res.Rate = res.Status == OK
	t.book(&res.Delta)
	res.Total = t.totals
	t.rebase(s)
	t.idle = !moved
	return res
}

// restart handles a new boot or a re-created interface: the counters
// started from zero after the previous read, so the new values are traffic.
func (t *Tracker) restart(s Sample, reason string) Result {
	res := Result{Status: Reset, Reason: reason, Delta: s.Values}
	if s.BootID != "" && t.bootID != "" && s.BootID != t.bootID {
		t.oldBootID = t.bootID
	} else if s.MonoNS > t.baseMono {
		res.DtNS = satmath.Int64(uint64(s.MonoNS) - uint64(t.baseMono))
	}
	return t.restartFrom(s, res)
}

// resetByDecrease handles a decrease that is no wrap within one boot and
// one interface instance. What is proven per counter: a counter that went
// down restarted from zero, so its new value; one that rose either did not
// restart (new-old) or restarted and climbed to new, so at least new-old.
// Either amount is booked only when it is within the rate bound.
func (t *Tracker) resetByDecrease(s Sample, res Result, b bounds, reason string) Result {
	res.Status = Reset
	res.Reason = reason
	res.Wrapped = [N]bool{}
	for i := range N {
		p, n := t.base[i], s.Values[i]
		d := n
		if n >= p {
			d = n - p
		}
		if d > b.max(Counter(i)) {
			d = 0
		}
		res.Delta[i] = d
	}
	return t.restartFrom(s, res)
}

// restartFrom books a reset's Delta and makes s the new baseline, with
// nothing known of the restarted counters' widths.
func (t *Tracker) restartFrom(s Sample, res Result) Result {
	t.book(&res.Delta)
	res.Total = t.totals
	t.seen64 = [N]bool{}
	t.rebase(s)
	t.idle = false
	return res
}

func (t *Tracker) decreaseReason(c Counter, s Sample) string {
	p, n := t.base[c], s.Values[c]
	if p >= 1<<32 {
		return fmt.Sprintf("%v decreased from %d to %d and cannot have wrapped: old value is not 32-bit", c, p, n)
	}
	return fmt.Sprintf("%v decreased from %d to %d and cannot have wrapped: a 64-bit counter (value >= 2^32 seen)", c, p, n)
}

// rebase makes s the baseline and the last accepted sample.
func (t *Tracker) rebase(s Sample) {
	t.base = s.Values
	t.baseMono = s.MonoNS
	t.baseChange = s.ChangeNS()
	t.basePredicted = s.Predicted && !s.Unsure && t.baseChange > 0
	if s.Unsure {
		t.baseChange = 0
	}
	t.lastMono = s.MonoNS
	t.restored = false
	t.note(s)
}

// note records what s says about the interface's identity and width.
func (t *Tracker) note(s Sample) {
	if s.BootID != "" {
		t.bootID = s.BootID
	}
	if s.Ifindex != 0 {
		t.ifindex = s.Ifindex
	}
	if s.SpeedMbps > 0 {
		t.speedMbps = s.SpeedMbps
	}
	for i, v := range s.Values {
		if v >= 1<<32 {
			t.seen64[i] = true
		}
	}
}

func (t *Tracker) book(d *Values) {
	for i, v := range d {
		s, carry := bits.Add64(t.totals[i], v, 0)
		if carry != 0 {
			s = math.MaxUint64
		}
		t.totals[i] = s
	}
}

// bounds are the largest plausible deltas of one interval.
type bounds struct {
	linkBytes, linkPackets uint64 // for wraps: 1.1 x link speed, or MaxBitsPerSec
	maxBytes, maxPackets   uint64 // for rises: MaxBitsPerSec
}

// bounds computes the bounds for an interval of span ns. Rises are held to
// MaxBitsPerSec only, never to the link speed: virtual interfaces report
// speeds they exceed (tun says 10 Mbit/s), and a false bound there would
// drop real traffic. Wraps use the link speed, as a false wrap is worse.
func (t *Tracker) bounds(s Sample, span uint64) bounds {
	window := satmath.Add(span, t.cfg.refresh())
	maxBits := t.cfg.maxBits()
	linkBits := maxBits
	speed := max(s.SpeedMbps, t.speedMbps)
	if speed > 0 {
		linkBits = satmath.Mul(uint64(speed), 1_000_000)
	}
	// bytes = bits/s x 1.1 / 8 x window/1e9
	linkBytes := MulDiv(MulDiv(linkBits, 11, 80), window, 1e9)
	maxBytes := MulDiv(MulDiv(maxBits, 11, 80), window, 1e9)
	return bounds{
		linkBytes: linkBytes, linkPackets: linkBytes / MinPacketBytes,
		maxBytes: maxBytes, maxPackets: maxBytes / MinPacketBytes,
	}
}

func (b bounds) max(c Counter) uint64 {
	if c <= TxBytes {
		return b.maxBytes
	}
	return b.maxPackets
}

// wrapProblem says why the wrapped delta of c is not plausible, or "".
func (b bounds) wrapProblem(c Counter, d *Values) string {
	switch {
	case c <= TxBytes:
		if d[c] > b.linkBytes {
			return fmt.Sprintf("a wrap would be %d bytes, over the bound %d", d[c], b.linkBytes)
		}
		if !perPacketOK(d[c], d[c+2]) {
			return fmt.Sprintf("a wrap would be %d bytes in %d %v", d[c], d[c+2], c+2)
		}
	case c <= TxPackets:
		if d[c] > b.linkPackets {
			return fmt.Sprintf("a wrap would be %d packets, over the bound %d", d[c], b.linkPackets)
		}
		if !perPacketOK(d[c-2], d[c]) {
			return fmt.Sprintf("a wrap would be %d packets for %d %v", d[c], d[c-2], c-2)
		}
	default:
		if d[c] > b.linkPackets {
			return fmt.Sprintf("a wrap would be %d, over the packet bound %d", d[c], b.linkPackets)
		}
	}
	return ""
}

// perPacketOK reports whether db bytes in dp packets is between
// MinPacketBytes and MaxPacketBytes per packet.
func perPacketOK(db, dp uint64) bool {
	hi, lo := bits.Mul64(dp, MinPacketBytes)
	if hi != 0 || lo > db {
		return false
	}
	hi, lo = bits.Mul64(dp, MaxPacketBytes)
	return hi != 0 || db <= lo
}

// PerSecond returns floor(delta x mult x 1e9 / dtNS), saturating at
// 2^64-1; with a byte delta, mult 8 gives bits/s. dtNS <= 0 gives 0.
func PerSecond(delta uint64, dtNS int64, mult uint64) uint64 {
	if dtNS <= 0 {
		return 0
	}
	h1, l1 := bits.Mul64(delta, mult)
	ah, al := bits.Mul64(l1, 1e9)
	bh, bl := bits.Mul64(h1, 1e9)
	w1, c := bits.Add64(ah, bl, 0)
	w2 := bh + c
	d := uint64(dtNS)
	if w2 != 0 || w1 >= d {
		return math.MaxUint64
	}
	q, _ := bits.Div64(w1, al, d)
	return q
}

// MulDiv returns floor(a x b / c), saturating at 2^64-1; c == 0 gives
// 2^64-1.
func MulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if c == 0 || hi >= c {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}
