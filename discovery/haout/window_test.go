package haout

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// traffic is a known counter history: per-counter rates in units/s that
// change from before to after at mono switchNS. Every mono used is a
// multiple of 100 µs and every rate a multiple of 10^4/s, so the counters
// are exact integers and the true averages are known in closed form.
type traffic struct {
	switchNS      int64
	before, after [rate.N]int64 // units per second
}

func (tr traffic) at(monoNS int64) rate.Values {
	// (ns / 10^5) × (rate / 10^4) = ns × rate / 10^9 without overflow.
	count := func(ns, perSec int64) int64 { return ns / 1e5 * (perSec / 1e4) }
	var v rate.Values
	for c := range v {
		if monoNS <= tr.switchNS {
			v[c] = uint64(count(monoNS, tr.before[c]))
			continue
		}
		v[c] = uint64(count(tr.switchNS, tr.before[c]) + count(monoNS-tr.switchNS, tr.after[c]))
	}
	return v
}

// mean is the true average of counter c over (from, to], per second.
func (tr traffic) mean(c rate.Counter, from, to int64) float64 {
	a := float64(max(0, min(to, tr.switchNS)-from)) * float64(tr.before[c])
	b := float64(max(0, to-max(from, tr.switchNS))) * float64(tr.after[c])
	return (a + b) / float64(to-from)
}

// TestWindowAverageExact feeds one window of jittered reads with a stale
// read, a missed reply and a rate change mid-interval, then a window of
// nothing but gaps, and checks the published averages against the true
// ones.
func TestWindowAverageExact(t *testing.T) {
	t.Parallel()
	const boot = int64(1000e9)
	mono := func(k int) int64 {
		jitter := int64((k*37)%7-3) * 90_000_000 // ±270 ms, multiple of 100 µs
		return boot + int64(k)*1e9 + jitter
	}
	tr := traffic{
		switchNS: mono(5) + 300_000_000,
		before:   [rate.N]int64{125_000_000, 3_000_000, 100_000, 20_000, 0, 0, 10_000, 0},
		after:    [rate.N]int64{25_000_000, 3_000_000, 20_000, 20_000, 0, 0, 0, 0},
	}
	const (
		staleTick = 3
		gapTick   = 7
	)
	out, rec := newOutput(t, time.Minute)
	a := newAgent("er-x", erxInfo)
	var naive []float64 // per-interval rx bits/s, what a one-second sampler would average
	for k := 0; k <= 20; k++ {
		if err := out.Tick(tick(k), tick(k).Add(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		switch {
		case k > 10 || k == gapTick:
			out.Emit(a.gap(k), tick(k).Add(5*time.Millisecond))
			continue
		case k == staleTick:
			// The driver has not refreshed: the read repeats the last values.
			ns := a.reply(k, mono(k), map[string]rate.Values{"eth0": tr.at(mono(k - 1))})
			if got := ns.Ifaces[0].Result.Status; got != rate.Stale {
				t.Fatalf("tick %d: status %v, want stale", k, got)
			}
			out.Emit(ns, tick(k).Add(5*time.Millisecond))
			continue
		}
		ns := a.reply(k, mono(k), map[string]rate.Values{"eth0": tr.at(mono(k))})
		if res := ns.Ifaces[0].Result; res.Rate {
			naive = append(naive, float64(res.Delta[rate.RxBytes])*8e9/float64(res.DtNS))
		}
		out.Emit(ns, tick(k).Add(5*time.Millisecond))
	}
	out.Tick(tick(21), tick(21).Add(time.Millisecond))

	got := states(rec.take())
	if len(got) != 3 {
		t.Fatalf("published %d states, want 3 (windows ending :00, :10, :20)", len(got))
	}
	first, full, gaps := decodeState(t, got[0]), decodeState(t, got[1]), decodeState(t, got[2])

	// Window ending at t0 holds only the baseline read: no interval.
	if r := first.Ifaces["eth0"].RxBps; first.Time != "2026-11-22T10:00:00Z" || r != nil {
		t.Errorf("first window: time %s rx_bps %v, want 2026-11-22T10:00:00Z and null", first.Time, r)
	}

	// Window ending at t0+10 s: the rated intervals span (mono(0), mono(10)].
	from, to := mono(0), mono(10)
	e := full.Ifaces["eth0"]
	checks := []struct {
		name string
		got  *float64
		want float64
	}{
		{"rx_bps", e.RxBps, 8 * tr.mean(rate.RxBytes, from, to)},
		{"tx_bps", e.TxBps, 8 * tr.mean(rate.TxBytes, from, to)},
		{"rx_pps", e.RxPps, tr.mean(rate.RxPackets, from, to)},
		{"tx_pps", e.TxPps, tr.mean(rate.TxPackets, from, to)},
	}
	for _, c := range checks {
		if c.got == nil {
			t.Errorf("%s = null, want %.3f", c.name, c.want)
			continue
		}
		// The payload rounds to 3 decimals; everything else is exact.
		if d := math.Abs(*c.got - c.want); d > 0.0005+c.want*1e-12 {
			t.Errorf("%s = %.6f, want %.6f (off by %.3g %%)", c.name, *c.got, c.want, 100*d/c.want)
		}
	}
	t.Logf("rx_bps published %.3f, true average %.3f", *e.RxBps, 8*tr.mean(rate.RxBytes, from, to))
	// Evidence that the check discriminates: the unweighted mean of the
	// per-interval rates misses the true average by far more than 0.1 %.
	var sum float64
	for _, r := range naive {
		sum += r
	}
	if m, want := sum/float64(len(naive)), 8*tr.mean(rate.RxBytes, from, to); math.Abs(m-want) < want*0.001 {
		t.Errorf("unweighted mean %.0f is within 0.1 %% of %.0f: the scenario does not test weighting", m, want)
	} else {
		t.Logf("unweighted mean of per-interval rates %.3f (off by %.2f %%)", m, 100*math.Abs(m-want)/want)
	}
	// The tracker's totals start at the baseline read of tick 0.
	end, start := tr.at(mono(10)), tr.at(mono(0))
	wantTotals := [2]uint64{end[rate.RxBytes] - start[rate.RxBytes], end[rate.TxBytes] - start[rate.TxBytes]}
	if diff := cmp.Diff(wantTotals, [2]uint64{e.RxBytes, e.TxBytes}); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	if full.Time != "2026-11-22T10:00:10Z" || full.WindowS != 10 || full.AgeS == nil || *full.AgeS != 0.996 {
		t.Errorf("window header: time %s window_s %v age_s %v, want 2026-11-22T10:00:10Z, 10, 0.996", full.Time, full.WindowS, full.AgeS)
	}

	// Window ending at t0+20 s: only gaps. Rates null, totals kept, age grows.
	g := gaps.Ifaces["eth0"]
	if g.RxBps != nil || g.TxBps != nil || g.RxPps != nil || g.TxPps != nil {
		t.Errorf("gap-only window has rates: %+v", g)
	}
	if g.RxBytes != e.RxBytes || g.TxBytes != e.TxBytes || g.Name != "eth0" {
		t.Errorf("gap-only window: name %q totals %d/%d, want eth0 %d/%d", g.Name, g.RxBytes, g.TxBytes, e.RxBytes, e.TxBytes)
	}
	if gaps.AgeS == nil || *gaps.AgeS != 10.996 {
		t.Errorf("gap-only window age_s %v, want 10.996", gaps.AgeS)
	}
}

// TestWindowEnd checks the assignment of ticks to windows at and around
// the boundaries, including before 1970.
func TestWindowEnd(t *testing.T) {
	t.Parallel()
	out, _ := newOutput(t, 0)
	tests := []struct {
		name string
		tick time.Time
		want time.Time
	}{
		{"on the boundary", t0, t0},
		{"just after", t0.Add(time.Nanosecond), t0.Add(10 * time.Second)},
		{"mid window", t0.Add(3 * time.Second), t0.Add(10 * time.Second)},
		{"end of window", t0.Add(10 * time.Second), t0.Add(10 * time.Second)},
		{"before 1970", time.Unix(-15, 0), time.Unix(-10, 0)},
		{"epoch", time.Unix(0, 0), time.Unix(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := time.Unix(0, out.windowEnd(tt.tick)); !got.Equal(tt.want) {
				t.Errorf("windowEnd(%v) = %v, want %v", tt.tick, got.UTC(), tt.want.UTC())
			}
		})
	}
}
