package netdata

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// scenario is a short life of one router: first sample, a rated second, a
// missed reply, a ppp0 reconnect (new ifindex: reset) and the return of
// rates, pppoe-wan going away for good.
func scenario(t *testing.T) []*bridge.NodeSample {
	s := bridge.NewSampler(bridge.SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: 2 * time.Second})
	s.Status("er-x", true)
	ifaces := func(rx uint64, pppIndex int64, ppp bool) map[string]wire.Counters {
		m := map[string]wire.Counters{
			"eth0":       {RxBytes: rx, TxBytes: rx / 4, RxPackets: rx / 1000, TxPackets: rx / 4000, RxErrors: rx / 1e6, Ifindex: 2, SpeedMbps: 1000},
			"switch0.10": {RxBytes: rx / 2, TxBytes: rx / 8, RxPackets: rx / 2000, TxPackets: rx / 8000, Ifindex: 9},
		}
		if ppp {
			m["pppoe-wan"] = wire.Counters{RxBytes: rx / 3, TxBytes: rx / 9, RxPackets: rx / 3000, TxPackets: rx / 9000, Ifindex: pppIndex}
		}
		return m
	}
	steps := []map[string]wire.Counters{
		ifaces(1_000_000, 17, true),
		ifaces(13_500_000, 17, true),
		nil,
		ifaces(38_500_000, 18, true), // ppp0 redialled: reset
		ifaces(51_000_000, 18, true),
		ifaces(63_500_000, 18, false),
		ifaces(76_000_000, 18, false),
		ifaces(88_500_000, 18, false),
	}
	var out []*bridge.NodeSample
	for i, m := range steps {
		tick := t0.Add(time.Duration(i) * time.Second)
		_, gaps := s.Tick(tick, 0)
		out = append(out, gaps...)
		if m == nil {
			continue
		}
		// Reads land 3 ms after the tick, with 1 ms of jitter: BEGIN must
		// carry the agent's own intervals.
		mono := int64(i)*1e9 + 5e9 + int64(i%2)*1e6
		ns, why := s.Reply("er-x", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "er-x", MonoNS: mono, BootID: "b", Ifaces: m}, tick.Add(3*time.Millisecond))
		if ns == nil {
			t.Fatalf("step %d dropped: %s", i, why)
		}
		out = append(out, ns)
	}
	return out
}

func TestNetdataOutputGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version string
	}{
		{"netdata-1.37", "v1.37.1"},
		{"netdata-virtual-nodes", "v1.44.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := NewOutput(&buf, plugind.ParseFeatures(tt.version), time.Second, "6f0ee4e8-0b2a-11f0-9a7a-0242ac120002")
			for _, ns := range scenario(t) {
				if err := o.Emit(ns, ns.Tick); err != nil {
					t.Fatal(err)
				}
			}
			out := buf.String()
			if tt.version == "v1.37.1" && strings.Contains(out, "HOST") {
				t.Error("1.37 output contains a HOST keyword, which makes Netdata 1.37 kill the plugin")
			}
			golden.Check(t, t.Name()+".golden", buf.Bytes())
		})
	}
}

type countingWriter struct {
	writes int
	err    error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

func TestNetdataOutputOneWritePerSample(t *testing.T) {
	t.Parallel()
	w := &countingWriter{}
	o := NewOutput(w, plugind.Features{}, time.Second, "")
	samples := scenario(t)
	for _, ns := range samples {
		if err := o.Emit(ns, ns.Tick); err != nil {
			t.Fatal(err)
		}
	}
	if w.writes != len(samples) {
		t.Errorf("%d writes for %d samples, want one each", w.writes, len(samples))
	}
}

func TestNetdataOutputReportsClosedStdout(t *testing.T) {
	t.Parallel()
	o := NewOutput(&countingWriter{err: syscall.EPIPE}, plugind.Features{}, time.Second, "")
	err := o.Emit(scenario(t)[0], t0)
	if !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Emit() = %v, want EPIPE", err)
	}
}

func TestNetdataKeepalive(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	o := NewOutput(&buf, plugind.Features{}, time.Second, "")
	o.Keepalive(t0)
	if buf.String() != "\n" {
		t.Fatalf("first Keepalive wrote %q, want an empty line", buf.String())
	}
	o.Keepalive(t0.Add(29 * time.Second))
	o.Keepalive(t0.Add(30 * time.Second))
	if buf.String() != "\n\n" {
		t.Errorf("Keepalive wrote %q, want one line per 30 s of silence", buf.String())
	}
}

func TestNetdataTariffChart(t *testing.T) {
	t.Parallel()
	sched, err := tariff.Parse("happy=00:00-07:00;normal=*", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	s := bridge.NewSampler(bridge.SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Hour,
		Tariffs: &bridge.Tariffs{Schedule: sched, BillingDay: 1}})
	s.Status("er-x", true)
	var buf bytes.Buffer
	o := NewOutput(&buf, plugind.Features{}, time.Second, "")
	t0 := time.Date(2026, 11, 22, 6, 59, 59, 0, time.UTC)
	for i, rx := range []uint64{0, 3_000_000, 6_000_000} {
		at := t0.Add(time.Duration(i) * time.Second)
		s.Tick(at, 0)
		ns, why := s.Reply("er-x", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "er-x", MonoNS: at.UnixNano(), TimeNS: at.UnixNano(), BootID: "b",
			Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, Ifindex: 2}}}, at)
		if ns == nil {
			t.Fatal(why)
		}
		if err := o.Emit(ns, at); err != nil {
			t.Fatal(err)
		}
	}
	golden.Check(t, t.Name()+".golden", buf.Bytes())
}

// TestNetdataSubSecond: at a 250 ms interval each second is one round with
// the exact average over the second and the fastest quarter as the peak.
func TestNetdataSubSecond(t *testing.T) {
	t.Parallel()
	s := bridge.NewSampler(bridge.SamplerConfig{Interval: 250 * time.Millisecond, RunID: "run", ObsoleteAfter: time.Hour})
	s.Status("pi", true)
	var buf bytes.Buffer
	o := NewOutput(&buf, plugind.Features{}, 250*time.Millisecond, "")
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	// Bytes received in each quarter second: a microburst in the 4th.
	quarters := []uint64{0, 1000, 1000, 1000, 5000, 2000, 2000, 2000, 2000, 0}
	var rx uint64
	for i, q := range quarters {
		rx += q
		at := t0.Add(time.Duration(i) * 250 * time.Millisecond)
		s.Tick(at, 0)
		ns, why := s.Reply("pi", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "pi", MonoNS: int64(i+1) * 250e6, TimeNS: at.UnixNano(), BootID: "b",
			Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, RxPackets: rx / 100, Ifindex: 2}}}, at)
		if ns == nil {
			t.Fatal(why)
		}
		if err := o.Emit(ns, at); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	// The tick at 12:00:00 only starts the tracker (its second is a gap).
	// Second (12:00:00, 12:00:01]: 1000+1000+1000+5000 B in 1 s =
	// 64,000 bit/s on average, the last quarter 5000 B in 0.25 s =
	// 160,000 bit/s as the peak. Next second: 4 × 2000 B, average and
	// peak 64,000 bit/s.
	for _, want := range []string{
		"BEGIN 'ifstat_pi.eth0_net'\nSET 'received' = ''\n",
		"BEGIN 'ifstat_pi.eth0_net' 1000000\nSET 'received' = 64000\n",
		"BEGIN 'ifstat_pi.eth0_net_peak' 1000000\nSET 'received' = 160000\n",
		"BEGIN 'ifstat_pi.eth0_net_peak' 1000000\nSET 'received' = 64000\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stream lacks %q", want)
		}
	}
	golden.Check(t, t.Name()+".golden", buf.Bytes())
}

// refreshSample is one rated second of eth0 on er-x with the refresh
// estimate est.
func refreshSample(i int, est refresh.Estimate) *bridge.NodeSample {
	return &bridge.NodeSample{
		Node: "er-x", Tick: t0.Add(time.Duration(i) * time.Second),
		Reply: &wire.Reply{Node: "er-x", MonoNS: int64(i+1) * 1e9},
		Ifaces: []bridge.IfaceSample{{Name: "eth0", Refresh: est,
			Result: rate.Result{Status: rate.OK, DtNS: 1e9, Delta: rate.Values{rate.RxBytes: 125_000}, Rate: true}}},
	}
}

// TestNetdataRefreshChartDefinedOnceKnown: the refresh chart is not
// defined while the estimate says nothing beyond the request interval
// (nothing yet, or "at most" the interval itself, which is what reads
// without watch mode give), and is defined, exactly once, with the first
// confident period or an at-most bound clearly below the interval (watch
// mode). It stays defined, as a gap, when the estimate is lost again, and
// is made obsolete with its interface only if it was defined.
func TestNetdataRefreshChartDefinedOnceKnown(t *testing.T) {
	t.Parallel()
	const chart = "CHART 'ifstat_er-x.eth0_refresh' "
	const begin = "BEGIN 'ifstat_er-x.eth0_refresh'"
	unknown := refresh.Estimate{}
	readSpacing := refresh.Estimate{AtMostNS: 1_000_100_000, Windows: 12} // ≈ the 1 s interval
	justBelow := refresh.Estimate{AtMostNS: 950_000_000, Windows: 12}     // jitter, not a finding
	watch := refresh.Estimate{AtMostNS: 50_000_000, Windows: 12}
	period := refresh.Estimate{PeriodNS: 976_563_000, Windows: 12, Confident: true}
	unsure := refresh.Estimate{PeriodNS: 976_563_000, Windows: 3}

	for _, tt := range []struct {
		name     string
		ests     []refresh.Estimate
		firstDef int // index of the sample that defines the chart, -1 none
	}{
		{"nothing known", []refresh.Estimate{unknown, unknown, unknown}, -1},
		{"at most the interval", []refresh.Estimate{unknown, readSpacing, readSpacing, justBelow}, -1},
		{"period not yet confident", []refresh.Estimate{unknown, unsure, unsure}, -1},
		{"confident period", []refresh.Estimate{readSpacing, unsure, period, period, unknown, period}, 2},
		{"watch mode bound", []refresh.Estimate{unknown, watch, watch}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := NewOutput(&buf, plugind.Features{}, time.Second, "")
			defs, begins := 0, 0
			for i, est := range tt.ests {
				buf.Reset()
				if err := o.Emit(refreshSample(i, est), t0); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				d, b := strings.Count(out, chart), strings.Count(out, begin)
				defs, begins = defs+d, begins+b
				switch {
				case tt.firstDef < 0 || i < tt.firstDef:
					if d+b != 0 {
						t.Fatalf("sample %d (%+v) wrote the refresh chart before there is a period to show:\n%s", i, est, out)
					}
				case i == tt.firstDef:
					if d != 1 || b != 1 {
						t.Fatalf("sample %d (%+v): %d definitions and %d rounds of the refresh chart, want 1 and 1:\n%s", i, est, d, b, out)
					}
					// Defined before its first round, after the interface's
					// other charts' rounds of this write.
					if strings.Index(out, chart) > strings.Index(out, begin) {
						t.Errorf("refresh round before its CHART:\n%s", out)
					}
				default:
					if d != 0 || b != 1 {
						t.Fatalf("sample %d (%+v): %d definitions and %d rounds of the refresh chart, want 0 and 1:\n%s", i, est, d, b, out)
					}
				}
			}
			// The interface goes away: the refresh chart is made obsolete
			// only if Netdata has it.
			buf.Reset()
			gone := &bridge.NodeSample{Node: "er-x", Tick: t0.Add(time.Minute), Reply: &wire.Reply{Node: "er-x", MonoNS: 61e9},
				Ifaces: []bridge.IfaceSample{{Name: "eth0", Absent: true, Obsolete: true}}}
			if err := o.Emit(gone, t0); err != nil {
				t.Fatal(err)
			}
			obsolete := strings.Count(buf.String(), chart)
			if want := min(defs, 1); obsolete != want {
				t.Errorf("%d obsolete CHART lines for the refresh chart, want %d:\n%s", obsolete, want, buf.String())
			}
		})
	}
}

// TestNetdataRefreshChartGolden pins the refresh chart's definition and
// rounds: a confident period, then the estimate lost (after a reset: a
// gap), then a watch-mode bound.
func TestNetdataRefreshChartGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	o := NewOutput(&buf, plugind.Features{}, time.Second, "")
	for i, est := range []refresh.Estimate{
		{AtMostNS: 1_000_100_000, Windows: 12},
		{PeriodNS: 976_563_000, Windows: 12, Confident: true},
		{},
		{AtMostNS: 50_000_000, Windows: 12},
	} {
		if err := o.Emit(refreshSample(i, est), t0); err != nil {
			t.Fatal(err)
		}
	}
	golden.Check(t, t.Name()+".golden", buf.Bytes())
}

// TestNetdataRawOutage: after an outage longer than IFSTAT_MAX_GAP the
// interval is a Gap: its delta is booked to the totals, but neither the
// rate charts nor the per-round raw charts show it (a gap, not a spike
// of the whole outage's traffic); the next round is an ordinary one.
func TestNetdataRawOutage(t *testing.T) {
	t.Parallel()
	s := bridge.NewSampler(bridge.SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Hour,
		Rate: rate.Config{MaxGapNS: int64(10 * time.Second)}})
	s.Status("er-x", true)
	var buf bytes.Buffer
	o := NewOutput(&buf, plugind.Features{}, time.Second, "")
	const bps = 1_250_000 // bytes per second, steady
	var last *bridge.NodeSample
	for i, sec := range []int{0, 1, 2, 603, 604} { // ten minutes without replies
		at := t0.Add(time.Duration(sec) * time.Second)
		s.Tick(at, 0) // request run-<i+1>
		rx := uint64(sec) * bps
		ns, why := s.Reply("er-x", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "er-x", MonoNS: int64(sec+1) * 1e9, BootID: "b",
			Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, RxPackets: rx / 1000, Ifindex: 2}}}, at)
		if ns == nil {
			t.Fatalf("second %d dropped: %s", sec, why)
		}
		buf.Reset()
		if err := o.Emit(ns, at); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		switch sec {
		case 603:
			res := ns.Ifaces[0].Result
			if res.Status != rate.Gap || res.Delta[rate.RxBytes] != 601*bps || res.Total[rate.RxBytes] != 603*bps {
				t.Errorf("after the outage: %v, delta %d, total %d; want a Gap booking %d to a total of %d",
					res.Status, res.Delta[rate.RxBytes], res.Total[rate.RxBytes], 601*bps, 603*bps)
			}
			for _, want := range []string{
				"BEGIN 'ifstat_er-x.eth0_net' 601000000\nSET 'received' = ''\n",
				"BEGIN 'ifstat_er-x.eth0_raw_bytes' 601000000\nSET 'rx_bytes' = ''\nSET 'tx_bytes' = ''\nEND\n",
				"BEGIN 'ifstat_er-x.eth0_raw_packets' 601000000\nSET 'rx_packets' = ''\nSET 'tx_packets' = ''\nEND\n",
				"BEGIN 'ifstat_er-x.eth0_raw_span' 601000000\nSET 'span' = ''\nEND\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("the round after the outage lacks %q:\n%s", want, out)
				}
			}
		case 604, 2:
			for _, want := range []string{
				"BEGIN 'ifstat_er-x.eth0_net' 1000000\nSET 'received' = 10000000\n",
				"BEGIN 'ifstat_er-x.eth0_raw_bytes' 1000000\nSET 'rx_bytes' = 1250000\n",
				"BEGIN 'ifstat_er-x.eth0_raw_packets' 1000000\nSET 'rx_packets' = 1250\n",
				"BEGIN 'ifstat_er-x.eth0_raw_span' 1000000\nSET 'span' = 1000000\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("second %d lacks %q:\n%s", sec, want, out)
				}
			}
		}
		last = ns
	}
	if got := last.Ifaces[0].Result.Total[rate.RxBytes]; got != 604*bps {
		t.Errorf("total %d, want every byte of the outage booked: %d", got, 604*bps)
	}
}

// TestNetdataAgentChart: the agent chart goes on with every tick, 0 while
// the agent answers, counting up through a missed reply (a gap sample)
// and on after the agent's will, when the bridge no longer asks it and no
// sample comes at all.
func TestNetdataAgentChart(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		version string
	}{
		{"netdata-1.37", "v1.37.1"},
		{"netdata-virtual-nodes", "v1.44.0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := bridge.NewSampler(bridge.SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Hour})
			s.Status("er-x", true)
			var buf bytes.Buffer
			o := NewOutput(&buf, plugind.ParseFeatures(tt.version), time.Second, "6f0ee4e8-0b2a-11f0-9a7a-0242ac120002")
			// Seconds 0, 1 and 3 answered, 2 missed; offline after 4.
			answer := map[int]bool{0: true, 1: true, 3: true}
			for i := range 8 {
				at := t0.Add(time.Duration(i) * time.Second)
				if i == 5 {
					s.Status("er-x", false)
				}
				_, gaps := s.Tick(at, 0)
				for _, g := range gaps {
					if err := o.Emit(g, at); err != nil {
						t.Fatal(err)
					}
				}
				if err := o.Tick(at, at); err != nil {
					t.Fatal(err)
				}
				if !answer[i] {
					continue
				}
				ns, why := s.Reply("er-x", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "er-x", MonoNS: int64(i+1) * 1e9, BootID: "b",
					Ifaces: map[string]wire.Counters{"eth0": {RxBytes: uint64(i) * 125_000, Ifindex: 2, SpeedMbps: 100}}}, at.Add(3*time.Millisecond))
				if ns == nil {
					t.Fatal(why)
				}
				if err := o.Emit(ns, at); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, l := range strings.Split(buf.String(), "\n") {
				if v, ok := strings.CutPrefix(l, "SET 'no_reply' = "); ok {
					got = append(got, v)
				}
			}
			// Rounds at ticks 1..7: reply to 0 seen; to 1; 2 missed; 3
			// answered; 4 missed (asked, then offline); none asked after.
			if want := "0 0 1000 0 1000 2000 3000"; strings.Join(got, " ") != want {
				t.Errorf("no_reply rounds = %q, want %q", strings.Join(got, " "), want)
			}
			if n := strings.Count(buf.String(), "VARIABLE CHART 'link_speed_mbps' = 100"); n != 1 {
				t.Errorf("link_speed_mbps sent %d times, want once (it did not change)", n)
			}
			golden.Check(t, t.Name()+".golden", buf.Bytes())
		})
	}
}

// TestNetdataAgentChartSubSecond: at 250 ms the agent chart has one round
// per second, as every Netdata chart, with 1 s between rounds.
func TestNetdataAgentChartSubSecond(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	o := NewOutput(&buf, plugind.Features{}, 250*time.Millisecond, "")
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for i := range 9 {
		at := t0.Add(time.Duration(i) * 250 * time.Millisecond)
		if i > 0 {
			if err := o.Tick(at, at); err != nil {
				t.Fatal(err)
			}
		}
		if i < 6 { // answers up to 12:00:01.25, then silence
			ns := &bridge.NodeSample{Node: "pi", Tick: at, Reply: &wire.Reply{Node: "pi", MonoNS: int64(i+1) * 250e6},
				Ifaces: []bridge.IfaceSample{{Name: "eth0", Result: rate.Result{Status: rate.OK, DtNS: 250e6, Rate: true}}}}
			if err := o.Emit(ns, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	var rounds []string
	lines := strings.Split(buf.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "BEGIN 'ifstat_pi.agent'") && i+1 < len(lines) {
			rounds = append(rounds, l+" / "+lines[i+1])
		}
	}
	// Rounds at 00.25 (the first), 01.00 and 02.00, whole seconds apart
	// after the first. The last reply was to the tick at 01.25; at 02.00
	// the requests of 01.50 and 01.75 are unanswered: 0.5 s.
	want := []string{
		"BEGIN 'ifstat_pi.agent' / SET 'no_reply' = 0",
		"BEGIN 'ifstat_pi.agent' 1000000 / SET 'no_reply' = 0",
		"BEGIN 'ifstat_pi.agent' 1000000 / SET 'no_reply' = 500",
	}
	if diff := cmp.Diff(want, rounds); diff != "" {
		t.Errorf("agent chart rounds (-want +got):\n%s", diff)
	}
}

// TestNetdataInterfacesAdded: an interface that appears later, before or
// between those known, gets its first round while the others go on with
// theirs.
func TestNetdataInterfacesAdded(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	o := NewOutput(&buf, plugind.Features{}, time.Second, "")
	sample := func(i int, names ...string) *bridge.NodeSample {
		ns := &bridge.NodeSample{Node: "er-x", Tick: t0.Add(time.Duration(i) * time.Second), Reply: &wire.Reply{Node: "er-x", MonoNS: int64(i+1) * 1e9}}
		for _, name := range names {
			ns.Ifaces = append(ns.Ifaces, bridge.IfaceSample{Name: name, Result: rate.Result{Status: rate.OK, DtNS: 1e9, Rate: true}})
		}
		return ns
	}
	for i, names := range [][]string{{"wg0"}, {"eth0", "wg0"}, {"eth0", "lo", "wg0"}} {
		buf.Reset()
		if err := o.Emit(sample(i, names...), t0); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.HasPrefix(l, "BEGIN 'ifstat_er-x.") && strings.Contains(l, "_net'") {
				got = append(got, l)
			}
		}
		var want []string
		for _, name := range names {
			l := "BEGIN 'ifstat_er-x." + name + "_net'"
			if name == "wg0" && i > 0 || name == "eth0" && i > 1 {
				l += " 1000000"
			}
			want = append(want, l)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sample %d: net rounds (-want +got):\n%s", i, diff)
		}
	}
}

// A batching output writes the same bytes as one that writes per sample,
// in fewer writes, and holds nothing back once flushed.
func TestNetdataOutputBatch(t *testing.T) {
	t.Parallel()
	samples := scenario(t)
	var want bytes.Buffer
	plain := NewOutput(&want, plugind.ParseFeatures("v1.44.0"), time.Second, "g")
	for _, ns := range samples {
		if err := plain.Emit(ns, ns.Tick); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		batch      int
		wantWrites int // before the final Flush
	}{
		{"under a sample", 1, len(samples)},
		{"holds all", 1 << 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			w := &countingWriter{}
			o := NewOutput(io.MultiWriter(&got, w), plugind.ParseFeatures("v1.44.0"), time.Second, "g")
			o.Batch(tt.batch)
			for _, ns := range samples {
				if err := o.Emit(ns, ns.Tick); err != nil {
					t.Fatal(err)
				}
			}
			if w.writes != tt.wantWrites {
				t.Errorf("%d writes before Flush, want %d", w.writes, tt.wantWrites)
			}
			if err := o.Flush(samples[len(samples)-1].Tick); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("batched output differs from per-sample output:\n%s\nwant:\n%s", got.Bytes(), want.Bytes())
			}
			if err := o.Flush(samples[len(samples)-1].Tick); err != nil || w.writes > max(tt.wantWrites, 1) {
				t.Errorf("second Flush: err %v, %d writes", err, w.writes)
			}
		})
	}
}
