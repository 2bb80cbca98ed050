package tariff

import (
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

var errBillingDay = errors.New("must be a day of the month, 1 to 31")

// ParseBillingDay reads IFSTAT_BILLING_DAY: empty means 1, otherwise a day
// of the month from 1 to 31 (clamped to the month's length by Cycle).
func ParseBillingDay(v string) (int, error) {
	if v == "" {
		return 1, nil
	}
	d, err := strconv.Atoi(v)
	if err != nil || d < 1 || d > 31 {
		return 0, errBillingDay
	}
	return d, nil
}

// Cycle returns the billing cycle [start, end) that contains t: from local
// midnight of billingDay (clamped to 1..31, then to the month's last day)
// to the same point of the next month. A midnight that a daylight saving
// change skips starts the cycle at the end of the gap.
func Cycle(t time.Time, billingDay int, loc *time.Location) (start, end time.Time) {
	billingDay = min(max(billingDay, 1), 31)
	tl := t.In(loc)
	y, m := tl.Year(), tl.Month()
	if t.Before(cycleStart(y, m, billingDay, loc)) {
		y, m = addMonth(y, m, -1)
	}
	for {
		ny, nm := addMonth(y, m, 1)
		start, end = cycleStart(y, m, billingDay, loc), cycleStart(ny, nm, billingDay, loc)
		if t.Before(end) {
			return start, end
		}
		// Only when a fall-back change repeats the hour before midnight.
		y, m = ny, nm
	}
}

func addMonth(y int, m time.Month, n int) (int, time.Month) {
	t := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return t.Year(), t.Month()
}

func cycleStart(y int, m time.Month, day int, loc *time.Location) time.Time {
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	naive := time.Date(y, m, min(day, last), 0, 0, 0, 0, time.UTC).Unix()
	return firstAtOrAfter(naive, loc)
}

// Caps are the optional allowances per tariff in bytes per cycle, both
// directions together.
type Caps map[string]uint64

// sizeUnits are the byte multipliers ParseCaps accepts (any case).
var sizeUnits = map[string]uint64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50,
}

// ParseCaps reads IFSTAT_TARIFF_CAPS, e.g. "normal=500GB;happy=" (an empty
// value: no cap): tariff=size pairs separated by ;, sizes a decimal number
// with an optional unit B, kB, MB, GB, TB, PB (powers of 1000) or KiB, MiB,
// GiB, TiB, PiB (powers of 1024), rounded down to a byte. Every tariff must
// exist in s. Errors are one-line reasons; the caller names the variable.
func ParseCaps(spec string, s *Schedule) (Caps, error) {
	caps := Caps{}
	for _, item := range strings.Split(spec, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, size, ok := strings.Cut(item, "=")
		name, size = strings.TrimSpace(name), strings.TrimSpace(size)
		switch {
		case !ok:
			return nil, fmt.Errorf("%q: want tariff=size, e.g. normal=500GB", item)
		case s.Index(name) < 0:
			return nil, fmt.Errorf("unknown tariff %q (the schedule has %s)", name, strings.Join(s.names, ", "))
		case size == "":
			delete(caps, name)
			continue
		}
		if _, dup := caps[name]; dup {
			return nil, fmt.Errorf("tariff %q capped twice", name)
		}
		n, err := parseSize(size)
		if err != nil {
			return nil, fmt.Errorf("tariff %q: %w", name, err)
		}
		caps[name] = n
	}
	return caps, nil
}

func parseSize(v string) (uint64, error) {
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.') {
		i++
	}
	num, unit := v[:i], strings.ToLower(strings.TrimSpace(v[i:]))
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (use B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB or PiB)", v, v[i:])
	}
	whole, frac, _ := strings.Cut(num, ".")
	digits := whole + frac
	if digits == "" || strings.Contains(frac, ".") || len(frac) > 18 {
		return 0, fmt.Errorf("%q is not a size (e.g. 500GB, 1.5TiB)", v)
	}
	mant, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", v)
	}
	scale := uint64(1)
	for range len(frac) {
		scale *= 10
	}
	hi, lo := bits.Mul64(mant, mult)
	if hi >= scale {
		return 0, fmt.Errorf("%q is too large", v)
	}
	n, _ := bits.Div64(hi, lo, scale)
	if n == 0 {
		return 0, fmt.Errorf("%q: a cap must be at least one byte (leave the value empty for no cap)", v)
	}
	return n, nil
}

// Usage is a byte count per direction.
type Usage struct {
	Rx uint64 `json:"rx_bytes"` // received
	Tx uint64 `json:"tx_bytes"` // sent
}

// Accumulator adds up one interface's traffic per tariff and direction:
// in the current billing cycle, the previous one, and for its lifetime. It
// is not safe for concurrent use.
type Accumulator struct {
	s     *Schedule
	day   int
	caps  []uint64 // per tariff index; 0: none
	start time.Time
	end   time.Time // zero until the first Add or Roll

	cur, prev, life []Usage
	orphans         map[string]orphan
}

// orphan keeps the totals of a tariff that a restored State has and the
// schedule no longer does, so that saving the state does not lose them.
type orphan struct{ cur, prev, life Usage }

// NewAccumulator returns an empty Accumulator for schedule s, cycles
// starting on billingDay (1..31) in s's zone, and caps (nil: none).
func NewAccumulator(s *Schedule, billingDay int, caps Caps) (*Accumulator, error) {
	if billingDay < 1 || billingDay > 31 {
		return nil, errBillingDay
	}
	n := len(s.names)
	a := &Accumulator{s: s, day: billingDay, caps: make([]uint64, n),
		cur: make([]Usage, n), prev: make([]Usage, n), life: make([]Usage, n)}
	for name, c := range caps {
		i := s.Index(name)
		if i < 0 {
			return nil, fmt.Errorf("cap of unknown tariff %q", name)
		}
		a.caps[i] = c
	}
	return a, nil
}

// Cycle returns the current cycle, zero before the first Add or Roll.
func (a *Accumulator) Cycle() (start, end time.Time) { return a.start, a.end }

// Roll makes the cycle that contains t current, if it is later than the
// current one: the current usage becomes the previous (zero when whole
// cycles passed without an Add).
func (a *Accumulator) Roll(t time.Time) {
	if a.end.IsZero() {
		a.start, a.end = Cycle(t, a.day, a.s.loc)
		return
	}
	for !t.Before(a.end) {
		copy(a.prev, a.cur)
		clear(a.cur)
		for k, o := range a.orphans {
			a.orphans[k] = orphan{prev: o.cur, life: o.life}
		}
		a.start, a.end = Cycle(a.end, a.day, a.s.loc)
	}
}

// Add books rx and tx, the bytes received and sent between t0 and t1, to
// the tariffs in force, pro rata by time (see Split). Stretches in later
// cycles roll the cycle over first; a stretch before the current cycle (an
// interval that arrives late) counts in the previous one. Lifetime totals
// get everything. When t1 <= t0, all goes to the tariff and cycle at t1.
func (a *Accumulator) Add(t0, t1 time.Time, rx, tx uint64) {
	if !t1.After(t0) {
		a.Roll(t1)
		target := a.cur
		if t1.Before(a.start) {
			target = a.prev
		}
		a.book(target, a.s.at(t1), Usage{rx, tx})
		return
	}
	a.Roll(t0)
	prx, ptx := newProrate(rx, t0, t1), newProrate(tx, t0, t1)
	for from := t0; from.Before(t1); {
		target, to := a.cur, t1
		if from.Before(a.start) {
			target = a.prev
			if a.start.Before(to) {
				to = a.start
			}
		} else {
			a.Roll(from)
			if a.end.Before(to) {
				to = a.end
			}
		}
		a.s.splitRange(prx, from, to, func(i uint8, b uint64) { a.book(target, i, Usage{Rx: b}) })
		a.s.splitRange(ptx, from, to, func(i uint8, b uint64) { a.book(target, i, Usage{Tx: b}) })
		from = to
	}
}

func (a *Accumulator) book(target []Usage, i uint8, u Usage) {
	target[i].Rx += u.Rx
	target[i].Tx += u.Tx
	a.life[i].Rx += u.Rx
	a.life[i].Tx += u.Tx
}

// Current returns the usage of tariff in the current cycle.
func (a *Accumulator) Current(tariff string) Usage { return get(a.cur, a.s.Index(tariff)) }

// Previous returns the usage of tariff in the previous cycle.
func (a *Accumulator) Previous(tariff string) Usage { return get(a.prev, a.s.Index(tariff)) }

// Lifetime returns everything ever booked to tariff.
func (a *Accumulator) Lifetime(tariff string) Usage { return get(a.life, a.s.Index(tariff)) }

func get(u []Usage, i int) Usage {
	if i < 0 {
		return Usage{}
	}
	return u[i]
}

// Share returns the percentage of tariff's cap used in the current cycle
// (both directions; it may exceed 100), and false when tariff has no cap.
func (a *Accumulator) Share(tariff string) (percent float64, ok bool) {
	i := a.s.Index(tariff)
	if i < 0 || a.caps[i] == 0 {
		return 0, false
	}
	used, carry := bits.Add64(a.cur[i].Rx, a.cur[i].Tx, 0)
	f := float64(used)
	if carry != 0 {
		f += 1 << 64
	}
	return f / float64(a.caps[i]) * 100, true
}

// State is what an Accumulator needs to continue after a restart: the
// bridge stores it (file, retained message) and hands it to Restore.
type State struct {
	CycleStart time.Time        `json:"cycle_start"` // zero: nothing booked yet
	Current    map[string]Usage `json:"current"`
	Previous   map[string]Usage `json:"previous"`
	Lifetime   map[string]Usage `json:"lifetime"`
}

// State returns a copy of a's totals, including those of tariffs that a
// restored State had and the schedule no longer has.
func (a *Accumulator) State() State {
	st := State{CycleStart: a.start, Current: map[string]Usage{}, Previous: map[string]Usage{}, Lifetime: map[string]Usage{}}
	for i, n := range a.s.names {
		st.Current[n], st.Previous[n], st.Lifetime[n] = a.cur[i], a.prev[i], a.life[i]
	}
	for n, o := range a.orphans {
		st.Current[n], st.Previous[n], st.Lifetime[n] = o.cur, o.prev, o.life
	}
	return st
}

// Restore replaces a's totals with st. The cycle is the one that contains
// st.CycleStart under a's billing day and zone, so changing
// IFSTAT_BILLING_DAY keeps the totals and moves the cycle's end. It returns
// the names of tariffs in st that the schedule does not have; their totals
// are kept, not counted further, and appear again in State.
func (a *Accumulator) Restore(st State) (unknown []string) {
	clear(a.cur)
	clear(a.prev)
	clear(a.life)
	a.orphans = nil
	a.start, a.end = time.Time{}, time.Time{}
	if !st.CycleStart.IsZero() {
		a.start, a.end = Cycle(st.CycleStart, a.day, a.s.loc)
	}
	names := map[string]bool{}
	for _, m := range []map[string]Usage{st.Current, st.Previous, st.Lifetime} {
		for n := range m {
			names[n] = true
		}
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if i := a.s.Index(n); i >= 0 {
			a.cur[i], a.prev[i], a.life[i] = st.Current[n], st.Previous[n], st.Lifetime[n]
			continue
		}
		if a.orphans == nil {
			a.orphans = map[string]orphan{}
		}
		a.orphans[n] = orphan{cur: st.Current[n], prev: st.Previous[n], life: st.Lifetime[n]}
		unknown = append(unknown, n)
	}
	return unknown
}
