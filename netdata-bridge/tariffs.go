package bridge

import (
	"encoding/json"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
)

// Tariffs configures traffic accounting by tariff; nil means none.
type Tariffs struct {
	Schedule   *tariff.Schedule
	BillingDay int
	Caps       tariff.Caps
}

// extraKey names the tariff part of a node's persisted state.
const extraKey = "tariff"

// TariffUsage is one interface's traffic by tariff, after a sample.
type TariffUsage struct {
	// Active is the tariff in force at the sample's time.
	Active string
	// CycleStart and CycleEnd bound the current billing cycle.
	CycleStart, CycleEnd time.Time
	// Tariffs lists every tariff in schedule order.
	Tariffs []TariffTotals
}

// TariffTotals is one tariff's usage of one interface, in bytes.
type TariffTotals struct {
	Name string
	// Lifetime never decreases; Current and Previous are the billing
	// cycles.
	Lifetime, Current, Previous tariff.Usage
	// Cap is the cycle's allowance (both directions), 0 when none;
	// Share is the percentage of it used.
	Cap   uint64
	Share float64
}

// ifaceTariff books one interface's deltas to an accumulator.
type ifaceTariff struct {
	acc *tariff.Accumulator
	// last is the wall-clock time up to which deltas were booked: the
	// read of the tracker's baseline, or the end of the last change span
	// (the instant the baseline's values appeared). The next delta is
	// booked from there, never before.
	last time.Time
}

// persistedTariff is the JSON kept per interface in NodeState.Extra.
// Last is ifaceTariff.last: a change span after a restart that starts
// before it is clamped to it, so nothing is booked twice.
type persistedTariff struct {
	Last  time.Time    `json:"last"`
	State tariff.State `json:"state"`
}

func (s *Sampler) newTariff(node, iface string) *ifaceTariff {
	tc := s.cfg.Tariffs
	if tc == nil {
		return nil
	}
	acc, err := tariff.NewAccumulator(tc.Schedule, tc.BillingDay, tc.Caps)
	if err != nil {
		return nil // validated at start-up; cannot happen
	}
	t := &ifaceTariff{acc: acc}
	if raw, ok := s.restored[node].Extra[extraKey]; ok {
		var all map[string]persistedTariff
		if json.Unmarshal(raw, &all) == nil {
			if p, ok := all[iface]; ok {
				acc.Restore(p.State)
				t.last = p.Last
			}
		}
	}
	return t
}

// sampleTime is where a sample lies on the wall clock: the agent's own
// clock, unless it disagrees with the bridge's tick by more than
// clockTolerance (a router without RTC before NTP), then the tick.
func sampleTime(timeNS int64, tick time.Time) time.Time {
	const clockTolerance = 5 * time.Second
	t := time.Unix(0, timeNS)
	if d := t.Sub(tick); d > clockTolerance || d < -clockTolerance {
		return tick
	}
	return t
}

// book adds what the tracker booked to its totals to the tariffs. Only
// intervals whose delta went into the totals count (OK, Gap, Reset), so
// tariff totals always add up to the bridge's byte totals. at is the
// sample's read on the wall clock; changed is, when res.ChangeSpan, the
// instant its values appeared (Sample.ChangeNS) on the same wall clock,
// and zero otherwise.
//
// A driver refreshes its counters on its own clock, so the bytes a read
// reveals flowed between the two refreshes its values and the baseline's
// come from, not between the reads. A change span is exactly that span,
// so its delta is split over it: (changed-DtNS, changed]. Any other
// interval is split over the read span since the baseline, as the reads
// are all that is known (from last, or at the read when the wall clock
// went back past it, as before). A change span never starts before what
// was already booked (last): it may start before the previous read, which
// a read span already covered, or before the booked end a restored state
// carries.
func (t *ifaceTariff) book(res *rate.Result, at, changed time.Time) {
	switch res.Status {
	case rate.OK, rate.Gap, rate.Reset:
		if res.ChangeSpan && !changed.IsZero() {
			t.bookChange(res, changed)
			t.acc.Roll(at)
			return
		}
		from := t.last
		if from.IsZero() || from.After(at) {
			from = at
		}
		t.acc.Add(from, at, res.Delta[rate.RxBytes], res.Delta[rate.TxBytes])
	}
	switch res.Status {
	case rate.Stale, rate.OutOfOrder:
		// The baseline did not move.
	default:
		t.last = at
	}
	t.acc.Roll(at)
}

// bookChange splits the delta of a change span ending at end, clamped so
// that it starts no earlier than the last booked end, and makes its end
// the last booked one. A span wholly before it is booked at that instant.
func (t *ifaceTariff) bookChange(res *rate.Result, end time.Time) {
	from := end.Add(-time.Duration(res.DtNS))
	if !t.last.IsZero() && from.Before(t.last) {
		from = t.last
	}
	to := end
	if to.Before(from) {
		to = from
	}
	t.acc.Add(from, to, res.Delta[rate.RxBytes], res.Delta[rate.TxBytes])
	t.last = to
}

func (t *ifaceTariff) usage(s *tariff.Schedule, caps tariff.Caps, at time.Time) *TariffUsage {
	u := &TariffUsage{Active: s.At(at)}
	u.CycleStart, u.CycleEnd = t.acc.Cycle()
	for _, name := range s.Tariffs() {
		tt := TariffTotals{Name: name, Lifetime: t.acc.Lifetime(name), Current: t.acc.Current(name), Previous: t.acc.Previous(name), Cap: caps[name]}
		tt.Share, _ = t.acc.Share(name)
		u.Tariffs = append(u.Tariffs, tt)
	}
	return u
}

// snapshotTariffs returns the Extra entry of a node's state: the restored
// entries of interfaces not seen again, overwritten by the live ones.
func snapshotTariffs(a *agent, restored json.RawMessage) json.RawMessage {
	all := map[string]persistedTariff{}
	if restored != nil {
		json.Unmarshal(restored, &all)
	}
	for name, f := range a.ifaces {
		if f.tariff != nil {
			all[name] = persistedTariff{Last: f.tariff.last, State: f.tariff.acc.State()}
		}
	}
	if len(all) == 0 {
		return nil
	}
	b, err := json.Marshal(all)
	if err != nil {
		return nil
	}
	return b
}

// withExtra returns extra with key set to v (a copy; nil v deletes).
func withExtra(extra map[string]json.RawMessage, key string, v json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(extra)+1)
	for k, x := range extra {
		out[k] = x
	}
	if v == nil {
		delete(out, key)
	} else {
		out[key] = v
	}
	return out
}
