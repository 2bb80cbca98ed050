package discovery

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Rates are per-second averages over one HA window, computed by the bridge
// from counters (Δcounter / Δmono over the window's valid intervals).
type Rates struct {
	RxBits, TxBits       float64 // bits/s
	RxPackets, TxPackets float64 // packets/s
	RxErrors, TxErrors   float64 // errors/s
	RxDrops, TxDrops     float64 // drops/s
}

// IfaceState is one interface in a state message.
type IfaceState struct {
	// Rates is nil when the window held no valid interval (reset, stale,
	// missing replies): every rate is published as null, HA shows unknown.
	Rates *Rates
	// RxBytes and TxBytes are the bridge's 64-bit totals, never lower than
	// before (HA's total_increasing).
	RxBytes, TxBytes uint64
	// Tariff is the interface's traffic by tariff; nil without tariff
	// accounting (no "tariff" object is published).
	Tariff *TariffState
	// Peak is the fastest rated interval of the window; nil when Rates
	// is (published as nulls).
	Peak *Peak
	// Refresh is the driver's counter refresh period when the bridge has
	// a confident estimate, else 0 (null). RefreshAtMost is, when only
	// that is known (counters that changed at every read), how often they
	// refresh at least, else 0 (null).
	Refresh, RefreshAtMost time.Duration
	// TooCoarse is set when the bridge samples faster than the counters
	// refresh: rates then cover whole refresh periods.
	TooCoarse bool
}

// Peak is the highest rate of a single rated interval in a window, per
// direction (rate.Summarize's Peak): a microburst the window's average
// hides.
type Peak struct {
	RxBits, TxBits float64 // bits/s
	// Span is the longest interval either peak is measured over: the
	// sampling interval, or a whole refresh period (or more, across stale
	// reads) when the counters refresh more slowly.
	Span time.Duration
}

// TariffState is one interface's traffic by tariff, published as the
// interface's "tariff" object.
type TariffState struct {
	// Active is the tariff in force.
	Active string
	// CycleStart and CycleEnd bound the current billing cycle; published
	// in their own zone (ISO-8601 with offset), null when zero. The cycle
	// entities read CycleStart as their last_reset.
	CycleStart, CycleEnd time.Time
	// Usage lists every tariff, in schedule order.
	Usage []TariffUsage
}

// Bytes is a byte count per direction.
type Bytes struct{ Rx, Tx uint64 }

// TariffUsage is one tariff's traffic on one interface.
type TariffUsage struct {
	Name string
	// Lifetime never decreases (total_increasing); Cycle is the current
	// billing cycle, Previous the one before.
	Lifetime, Cycle, Previous Bytes
	// Capped is set when the tariff has an allowance; Share is then the
	// percentage of it used this cycle (both directions, may exceed 100).
	// Without one, share is published as null.
	Capped bool
	Share  float64
}

// State is the payload of P/N/state for one router.
type State struct {
	// Time is the end of the window.
	Time time.Time
	// Window is the window's length, normally IFSTAT_HA_INTERVAL.
	Window time.Duration
	// Age is how old the newest sample was at publication; negative when
	// there was none (published as null).
	Age time.Duration
	// Ifaces is keyed by raw interface name; Marshal keys them by IfaceID.
	Ifaces map[string]IfaceState
}

// Marshal renders s as one line of JSON with interfaces in id order, so the
// output is deterministic. A rate that is NaN, infinite or negative is
// published as null: HA must never record a spike or a negative rate.
func (s State) Marshal() []byte {
	b := make([]byte, 0, 64+len(s.Ifaces)*256)
	b = append(b, `{"time":"`...)
	b = s.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","window_s":`...)
	b = appendNum(b, s.Window.Seconds())
	b = append(b, `,"age_s":`...)
	if s.Age < 0 {
		b = append(b, "null"...)
	} else {
		b = appendNum(b, s.Age.Seconds())
	}
	b = append(b, `,"ifaces":{`...)
	ids := make([]string, 0, len(s.Ifaces))
	names := make(map[string]string, len(s.Ifaces))
	for name := range s.Ifaces {
		id := IfaceID(name)
		ids = append(ids, id)
		names[id] = name
	}
	slices.Sort(ids)
	for i, id := range ids {
		name := names[id]
		st := s.Ifaces[name]
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, id)
		b = append(b, `:{"name":`...)
		b = appendJSONString(b, name)
		nan := math.NaN()
		r := st.Rates
		if r == nil {
			r = &Rates{nan, nan, nan, nan, nan, nan, nan, nan}
		}
		pk := st.Peak
		if pk == nil {
			pk = &Peak{RxBits: nan, TxBits: nan}
		}
		b = appendField(b, "rx_bps", r.RxBits)
		b = appendField(b, "tx_bps", r.TxBits)
		b = append(b, `,"rx_bytes":`...)
		b = strconv.AppendUint(b, st.RxBytes, 10)
		b = append(b, `,"tx_bytes":`...)
		b = strconv.AppendUint(b, st.TxBytes, 10)
		b = appendField(b, "rx_pps", r.RxPackets)
		b = appendField(b, "tx_pps", r.TxPackets)
		b = appendField(b, "rx_errors_ps", r.RxErrors)
		b = appendField(b, "tx_errors_ps", r.TxErrors)
		b = appendField(b, "rx_drops_ps", r.RxDrops)
		b = appendField(b, "tx_drops_ps", r.TxDrops)
		b = appendField(b, "rx_peak_bps", pk.RxBits)
		b = appendField(b, "tx_peak_bps", pk.TxBits)
		b = appendDuration(append(b, `,"peak_span_s":`...), pk.Span)
		b = appendDuration(append(b, `,"refresh_s":`...), st.Refresh)
		b = appendDuration(append(b, `,"refresh_at_most_s":`...), st.RefreshAtMost)
		b = append(b, `,"too_coarse":`...)
		b = strconv.AppendBool(b, st.TooCoarse)
		if st.Tariff != nil {
			b = st.Tariff.append(b)
		}
		b = append(b, '}')
	}
	return append(b, "}}"...)
}

// append writes `,"tariff":{…}`. Tariffs sit in their own "usage" object
// so that no tariff name can clash with active or cycle_start.
func (t *TariffState) append(b []byte) []byte {
	b = append(b, `,"tariff":{"active":`...)
	if t.Active == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, t.Active)
	}
	b = appendTime(append(b, `,"cycle_start":`...), t.CycleStart)
	b = appendTime(append(b, `,"cycle_end":`...), t.CycleEnd)
	b = append(b, `,"usage":{`...)
	for i, u := range t.Usage {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, u.Name)
		b = append(b, ':', '{')
		for j, f := range [...]struct {
			key string
			v   uint64
		}{
			{"rx_bytes", u.Lifetime.Rx}, {"tx_bytes", u.Lifetime.Tx},
			{"rx_cycle", u.Cycle.Rx}, {"tx_cycle", u.Cycle.Tx},
			{"rx_prev", u.Previous.Rx}, {"tx_prev", u.Previous.Tx},
		} {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, f.key...)
			b = append(b, `":`...)
			b = strconv.AppendUint(b, f.v, 10)
		}
		share := math.NaN()
		if u.Capped {
			share = u.Share
		}
		b = appendField(b, "share", share)
		b = append(b, '}')
	}
	return append(b, "}}"...)
}

// appendTime writes t as a quoted RFC 3339 time in its own zone, which HA
// parses as an aware datetime; null when zero.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendDuration writes d in seconds to the microsecond, null when not
// positive: a refresh period of 0.9765 s must not be rounded to 0.977, and
// the bridge knows it far better than to 1 µs.
func appendDuration(b []byte, d time.Duration) []byte {
	if d <= 0 {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(d.Round(time.Microsecond).Microseconds())/1e6, 'f', -1, 64)
}

func appendField(b []byte, key string, v float64) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return append(b, "null"...)
	}
	return appendNum(b, v)
}

// appendNum writes v rounded to 3 decimals in the shortest form: readable
// in mosquitto_sub, and far finer than 0.1 % of any rate HA will graph.
func appendNum(b []byte, v float64) []byte {
	r := math.Round(v*1000) / 1000
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return append(b, "null"...)
	}
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.AppendFloat(b, r, 'f', -1, 64)
}

// appendJSONString quotes s as JSON; interface names are valid UTF-8
// without control characters (wire.ValidIface), and strconv's Go quoting
// differs from JSON only for those and for \x escapes of invalid bytes,
// which this escaper handles itself.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[r>>4], "0123456789abcdef"[r&0xf])
		case r == 0xfffd:
			b = append(b, `\ufffd`...)
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}
