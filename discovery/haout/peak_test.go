package haout

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// peakJSON is the part of an interface's state this file checks.
type peakJSON struct {
	RxBps     *float64 `json:"rx_bps"`
	RxPeak    *float64 `json:"rx_peak_bps"`
	TxPeak    *float64 `json:"tx_peak_bps"`
	PeakSpan  *float64 `json:"peak_span_s"`
	Refresh   *float64 `json:"refresh_s"`
	AtMost    *float64 `json:"refresh_at_most_s"`
	TooCoarse bool     `json:"too_coarse"`
}

func fp(v float64) *float64 { return &v }

func newSubSecondOutput(t *testing.T, sample time.Duration) (*Output, *recorder) {
	t.Helper()
	o := testOptions()
	o.SampleInterval = sample
	rec := &recorder{}
	out, err := New(o, rec, time.Minute, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return out, rec
}

// decodePeaks returns eth0's peak fields of every state recorded.
func decodePeaks(t *testing.T, msgs []msg) []peakJSON {
	t.Helper()
	var out []peakJSON
	for _, m := range states(msgs) {
		var s struct {
			Ifaces map[string]peakJSON `json:"ifaces"`
		}
		if err := json.Unmarshal([]byte(m.Payload), &s); err != nil {
			t.Fatalf("state is not JSON: %v\n%s", err, m.Payload)
		}
		out = append(out, s.Ifaces["eth0"])
	}
	return out
}

// TestWindowPeakExact samples every 250 ms through a real rate.Tracker:
// 10 Mbit/s received and 1 Mbit/s sent throughout; in the first window a
// microburst of 1 MB in one interval, in the second a stale read (the
// driver did not refresh) followed by a burst of 2.5 MB. The first
// window's peak is the microburst over 250 ms; in the second the stale
// read is no interval of its own, so the burst is divided by the 500 ms
// since the last change: 50 Mbit/s, where a reader dividing by its own
// 250 ms would report 100 Mbit/s.
func TestWindowPeakExact(t *testing.T) {
	t.Parallel()
	const (
		step      = 250 * time.Millisecond
		boot      = int64(1000e9)
		rxPerStep = 312_500 // 10 Mbit/s
		txPerStep = 31_250  // 1 Mbit/s
		burst1At  = 9       // in (8, 9]
		burst1    = 1_000_000
		staleAt   = 50
		burst2At  = 51 // in (49, 51]
		burst2    = 2_500_000
	)
	counters := func(k int) rate.Values {
		v := rate.Values{rate.RxBytes: rxPerStep * uint64(k), rate.TxBytes: txPerStep * uint64(k)}
		if k >= burst1At {
			v[rate.RxBytes] += burst1
		}
		if k >= burst2At {
			v[rate.RxBytes] += burst2
		}
		return v
	}
	out, rec := newSubSecondOutput(t, step)
	tr := rate.New(rate.Config{})
	tickAt := func(k int) time.Time { return t0.Add(time.Duration(k) * step) }
	var statuses []rate.Status
	for k := 0; k <= 80; k++ {
		at := tickAt(k)
		out.Tick(at, at)
		read := k
		if k == staleAt {
			read = k - 1 // the driver has not refreshed: the read repeats the values
		}
		res := tr.Update(rate.Sample{BootID: "b", MonoNS: boot + int64(k)*int64(step), Values: counters(read)})
		if k == staleAt || k == burst2At {
			statuses = append(statuses, res.Status)
		}
		out.Emit(&bridge.NodeSample{
			Node: "er-x", Tick: at, Reply: &wire.Reply{Node: "er-x"},
			Ifaces: []bridge.IfaceSample{{Name: "eth0", Result: res}},
		}, at)
	}
	out.Tick(tickAt(81), tickAt(81))
	if diff := cmp.Diff([]rate.Status{rate.Stale, rate.OK}, statuses); diff != "" {
		t.Fatalf("statuses of the stale read and the one after (-want +got):\n%s", diff)
	}

	want := []peakJSON{
		{}, // window ending at t0: the baseline read only
		{
			RxBps:  fp(8 * (40*rxPerStep + burst1) / 10),      // 10.8 Mbit/s
			RxPeak: fp(8 * (rxPerStep + burst1) * 4),          // 42 Mbit/s over 250 ms
			TxPeak: fp(8 * txPerStep * 4), PeakSpan: fp(0.25), // 1 Mbit/s
		},
		{
			RxBps:  fp(8 * (40*rxPerStep + burst2) / 10), // 12 Mbit/s
			RxPeak: fp(8 * (2*rxPerStep + burst2) * 2),   // 50 Mbit/s over 500 ms
			// The tx peak ties at 1 Mbit/s; the first interval (250 ms)
			// keeps it; the span published is the longer of the two.
			TxPeak: fp(8 * txPerStep * 4), PeakSpan: fp(0.5),
		},
	}
	if diff := cmp.Diff(want, decodePeaks(t, rec.take())); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
}

// TestRefreshFields: what the state says of the refresh clock for the
// estimates the sampler can hand over, and that a window without a sample
// of the interface keeps the latest.
func TestRefreshFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		est       refresh.Estimate
		tooCoarse bool
		want      peakJSON
	}{
		{"unknown", refresh.Estimate{}, false, peakJSON{}},
		{"confident 0.9765625 s, sampled every 250 ms",
			refresh.Estimate{PeriodNS: 976_562_500, Windows: 64, PrecisionNS: 400_000, Confident: true}, true,
			peakJSON{Refresh: fp(0.976563), TooCoarse: true}},
		{"period not yet trusted", refresh.Estimate{PeriodNS: 1_000_000_000, Windows: 5}, false, peakJSON{}},
		{"changes at every read", refresh.Estimate{Windows: 64, AtMostNS: 250_000_000}, false, peakJSON{AtMost: fp(0.25)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, rec := newSubSecondOutput(t, 250*time.Millisecond)
			for k := 1; k <= 25; k++ {
				at := tick(k)
				out.Tick(at, at)
				ns := &bridge.NodeSample{Node: "er-x", Tick: at, Gap: k > 10}
				if k <= 10 {
					ns.Reply = &wire.Reply{Node: "er-x"}
					ns.Ifaces = []bridge.IfaceSample{{Name: "eth0", Refresh: tt.est, TooCoarse: tt.tooCoarse,
						Result: rate.Result{Status: rate.First}}}
				} else {
					ns.Ifaces = []bridge.IfaceSample{{Name: "eth0", Absent: true}}
				}
				out.Emit(ns, at)
			}
			got := decodePeaks(t, rec.take())
			// Window ending at t0+10 s has the samples, the one ending
			// at t0+20 s only gaps.
			if diff := cmp.Diff([]peakJSON{tt.want, tt.want}, got); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPeakFoldMatchesSummarize: folding a window's results one at a time
// gives exactly rate.Summarize's Peak and PeakSpanNS over all of them,
// on random mixes of rated, stale, reset and zero-span results.
func TestPeakFoldMatchesSummarize(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 1))
	statuses := []rate.Status{rate.OK, rate.OK, rate.OK, rate.Stale, rate.Reset, rate.Gap, rate.First}
	for i := range 2000 {
		n := rng.IntN(12)
		results := make([]rate.Result, n)
		for j := range results {
			st := statuses[rng.IntN(len(statuses))]
			r := rate.Result{Status: st, Rate: st == rate.OK, DtNS: int64(rng.IntN(4)) * 125_000_000}
			r.Delta[rate.RxBytes] = uint64(rng.IntN(4)) * 100_000 // ties are common
			r.Delta[rate.TxBytes] = uint64(rng.IntN(1 << 20))
			results[j] = r
		}
		var a acc
		for j := range results {
			a.add(&results[j], nil, refreshState{}, 250e6)
		}
		for _, c := range []struct {
			c   rate.Counter
			got func(*acc) peak
		}{{rate.RxBytes, func(a *acc) peak { return a.rx }}, {rate.TxBytes, func(a *acc) peak { return a.tx }}} {
			s := rate.Summarize(results, c.c, 8, 250e6, 0)
			want := peak{bps: s.Peak, spanNS: s.PeakSpanNS}
			got := c.got(&a)
			if got.set() != (s.Rated > 0) {
				t.Fatalf("case %d counter %v: peak set %t, Summarize rated %d\nresults: %+v", i, c.c, got.set(), s.Rated, results)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(peak{})); diff != "" {
				t.Fatalf("case %d counter %v: fold differs from Summarize (-want +got):\n%s\nresults: %+v", i, c.c, diff, results)
			}
		}
	}
}

// TestPeakEntitiesFollowSampleInterval: the configs Output publishes
// carry the peak entities enabled only with sub-second sampling.
func TestPeakEntitiesFollowSampleInterval(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		sample  time.Duration
		enabled bool
	}{{0, false}, {time.Second, false}, {250 * time.Millisecond, true}} {
		t.Run(tt.sample.String(), func(t *testing.T) {
			t.Parallel()
			out, rec := newSubSecondOutput(t, tt.sample)
			out.Emit(&bridge.NodeSample{Node: "er-x", Tick: tick(1), Reply: &wire.Reply{Node: "er-x"},
				Ifaces: []bridge.IfaceSample{{Name: "eth0"}}}, tick(1))
			drain(out)
			o := testOptions()
			o.SampleInterval = tt.sample
			want, err := discovery.Configs(o, discovery.Router{Node: "er-x", Ifaces: []string{"eth0"}})
			if err != nil {
				t.Fatal(err)
			}
			got := rec.take()
			if diff := cmp.Diff(asMsgs(want, ConfigQoS), got); diff != "" {
				t.Fatalf("configs (-want +got):\n%s", diff)
			}
			found := 0
			for _, m := range got {
				if m.Topic == "homeassistant/sensor/ifstat_er-x/eth0_rx_peak/config" || m.Topic == "homeassistant/sensor/ifstat_er-x/eth0_tx_peak/config" {
					found++
					if disabled := strings.Contains(m.Payload, `"enabled_by_default":false`); disabled == tt.enabled {
						t.Errorf("%s: enabled_by_default false is %t, want %t", m.Topic, disabled, !tt.enabled)
					}
				}
			}
			if found != 2 {
				t.Errorf("found %d peak configs, want 2", found)
			}
		})
	}
}
