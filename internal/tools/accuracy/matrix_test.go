package main

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"
)

// TestMxRows checks that every scenario of the matrix makes a driver (the
// options validate), that names are unique (they are the table's rows)
// and that the traffic patterns have an edge after the warm-up of a short
// run too.
func TestMxRows(t *testing.T) {
	t.Parallel()
	for _, dur := range []time.Duration{75 * time.Second, 300 * time.Second} {
		rows := mxRows(dur)
		if len(rows) != 37 {
			t.Errorf("%v: %d rows, want 37", dur, len(rows))
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if seen[r.name] {
				t.Errorf("%v: row %q twice", dur, r.name)
			}
			seen[r.name] = true
			if _, err := netdevtest.NewDriver(netdevtest.DriverOptions{Dir: t.TempDir(), Ifaces: r.ifaces}); err != nil {
				t.Errorf("%v: %s: %v", dur, r.name, err)
			}
		}
	}
}

func TestMxTraffic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    netdevtest.Rate
		want string // the steps as "at:rate"
	}{
		{"burst, 2 min", burst(100, 2*time.Minute), "0s:100 50s:0 1m20.333s:100 1m35.333s:0"},
		{"burst, 3 min", burst(100, 3*time.Minute), "0s:100 50s:0 1m20.333s:100 1m35.333s:0 2m20.333s:200 2m35.333s:0"},
		{"steps, 2 min", steps(100, 2*time.Minute), "0s:100 1m10.437s:200 1m51.048s:25"},
		{"quiet, 1 s", quiet(100, time.Second), "400ms:100 700ms:0 4.1s:100 4.4s:0 7.8s:100 8.1s:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, s := range tt.r {
				got = append(got, s.At.String()+":"+strconv.FormatUint(s.BytesPerSec, 10))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("got %s, want %s", g, tt.want)
			}
		})
	}
}

// TestOnlyRows: -only keeps the rows named and their seeds as in the
// whole matrix.
func TestOnlyRows(t *testing.T) {
	t.Parallel()
	all := mxRows(240 * time.Second)
	tests := []struct {
		name    string
		only    string
		want    int
		wantErr bool
	}{
		{"empty keeps all", "", 37, false},
		{"live counters", "live counters", 2, false},
		{"period changes", "-> ", 3, false},
		{"changes and missed at 2 s", "-> |P 2 s, S 1 s, 1 % missed", 4, false},
		{"no match", "P 7 s", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := onlyRows(all, tt.only)
			if (err != nil) != tt.wantErr {
				t.Fatalf("onlyRows(%q) error %v, want error %v", tt.only, err, tt.wantErr)
			}
			if len(got) != tt.want {
				t.Fatalf("onlyRows(%q) = %d rows, want %d", tt.only, len(got), tt.want)
			}
			for _, r := range got {
				i := slices.IndexFunc(all, func(a mxRow) bool { return a.name == r.name })
				if r.ifaces[0].Seed != all[i].ifaces[0].Seed {
					t.Errorf("%s: seed %d, want %d as in the whole matrix", r.name, r.ifaces[0].Seed, all[i].ifaces[0].Seed)
				}
			}
		})
	}
}

// TestSnapRefresh: a claimed refresh instant is judged at the driver's
// nearest real refresh within snapSlack, and left alone otherwise.
func TestSnapRefresh(t *testing.T) {
	t.Parallel()
	const origin = int64(1000 * time.Second)
	d, err := netdevtest.NewDriver(netdevtest.DriverOptions{
		Dir:   t.TempDir(),
		Clock: func() int64 { return origin },
		Ifaces: []netdevtest.DriverIface{
			{Name: "eth0", Period: time.Second, Phase: 300 * ms},
			{Name: "lo"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := origin + int64(5*time.Second+300*ms) // a refresh of eth0
	tests := []struct {
		name  string
		iface string
		t     int64
		want  int64
	}{
		{"on the refresh", "eth0", r, r},
		{"3 ms after", "eth0", r + int64(3*ms), r},
		{"5 ms before", "eth0", r - int64(5*ms), r},
		{"just inside the slack", "eth0", r + int64(snapSlack), r},
		{"just outside the slack", "eth0", r + int64(snapSlack) + 1, r + int64(snapSlack) + 1},
		{"mid-period", "eth0", r + int64(500*ms), r + int64(500*ms)},
		{"4 ms before the next", "eth0", r + int64(996*ms), r + int64(time.Second)},
		{"no period", "lo", r + int64(3*ms), r + int64(3*ms)},
	}
	for _, tt := range tests {
		if got := snapRefresh(d, tt.iface, tt.t); got != tt.want {
			t.Errorf("%s: snapRefresh(%d) = %d, want %d", tt.name, tt.t-origin, got-origin, tt.want-origin)
		}
	}
}

// judgeOrigin is the driver's origin in the judge's tests, whose clock
// stands still: the tests ask the driver about given instants.
const judgeOrigin = int64(1000 * time.Second)

// judgeSec is the instant s seconds after judgeOrigin.
func judgeSec(s float64) int64 {
	return judgeOrigin + int64(math.Round(s*float64(time.Second)))
}

// judgeAgent makes a driver of the one interface in and an agent of the
// default mode over it, for replies and rounds built by hand.
func judgeAgent(t *testing.T, in netdevtest.DriverIface) (*netdevtest.Driver, *mxAgent) {
	t.Helper()
	d, err := netdevtest.NewDriver(netdevtest.DriverOptions{
		Dir:    t.TempDir(),
		Clock:  func() int64 { return judgeOrigin },
		Ifaces: []netdevtest.DriverIface{in},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, &mxAgent{node: "r1", driver: d, mode: mxModes[0]}
}

// judgeBits is eth0's true rates, received and sent, in bit/s over
// (from, to] s, from driver d's ledger: what an exact bridge charts.
func judgeBits(d *netdevtest.Driver, from, to float64) (rx, tx int64) {
	c0, _ := d.True("eth0", judgeSec(from))
	c1, _ := d.True("eth0", judgeSec(to))
	span := judgeSec(to) - judgeSec(from)
	return int64(c1.RxBytes-c0.RxBytes) * 8 * int64(time.Second) / span,
		int64(c1.TxBytes-c0.TxBytes) * 8 * int64(time.Second) / span
}

// judgeCharts is a bridge of agent "r1" whose eth0 charts had the rounds
// net (bandwidth) and spans (the raw view's span).
func judgeCharts(net, spans []round) *mxBridge {
	return &mxBridge{charts: map[string][]round{
		plugind.TypeID("ifstat_r1", "eth0_net"):      net,
		plugind.TypeID("ifstat_r1", "eth0_raw_span"): spans,
	}}
}

// wantExact fails t unless the judge rated and held as many dimensions of
// rounds as given, aligned every round, and found every rated one exact.
func wantExact(t *testing.T, st mxStats, rated, held int) {
	t.Helper()
	if st.rated != rated || st.stale != held || st.unaligned != 0 {
		t.Fatalf("rated %d, held %d, unaligned %d; want %d, %d, 0", st.rated, st.stale, st.unaligned, rated, held)
	}
	if st.maxErr > 1e-9 {
		t.Errorf("max error %.3f %%, want 0: %s", 100*st.maxErr, st.worst)
	}
}

// TestJudgeIdleDoubt: an agent in doubt on an interface that went idle
// keeps claiming the window of the burst's last refresh. The bridge holds
// those still replies, then rates a zero over the read span; the judge
// must set that zero against the idle seconds it spans, not against the
// three seconds up to the repeated claim, which held the burst (traced at
// b6abc7e: 2 samples at 100 % in P 2 s, S 1 s, idle/burst).
func TestJudgeIdleDoubt(t *testing.T) {
	t.Parallel()
	const burst = 3_750_000 // B/s: 30 Mbit/s
	sec := judgeSec
	d, a := judgeAgent(t, netdevtest.DriverIface{
		Name: "eth0", Period: time.Second, Phase: 500 * ms,
		Tx: netdevtest.Rate{{At: 65 * time.Second, BytesPerSec: burst}, {At: 70200 * ms, BytesPerSec: 0}},
	})
	// Reads at .8 s; the driver refreshes at .5 s. The refresh at 70.5 s
	// is the burst's last change; the agent's fit is in doubt after it,
	// so it claims that window again for the still reads.
	for _, at := range []float64{69.8, 70.8, 71.8, 72.8, 73.8} {
		lr, _ := d.LastRefresh("eth0", sec(at))
		c, _ := d.Visible("eth0", sec(at))
		c.UnchangedNS, c.ChangedNS = lr-int64(5*ms), lr+int64(5*ms)
		if at > 71 {
			c.UnchangedNS, c.ChangedNS = sec(70.5)-int64(5*ms), sec(70.5)+int64(5*ms)
		}
		a.replies = append(a.replies, mxReply{mono: sec(at), ifaces: map[string]wire.Counters{"eth0": c}})
	}
	edge := int64(burst * 8 * 7 / 10) // 0.7 s of the burst in the 1 s up to 70.5 s
	set := func(sent int64, spanUS int64) (round, round) {
		return round{sinceUS: 1_000_000, vals: map[string]int64{"received": 0, "sent": sent}},
			round{sinceUS: 1_000_000, vals: map[string]int64{"span": spanUS}}
	}
	held := round{sinceUS: 1_000_000, vals: map[string]int64{}}
	n0, s0 := set(burst*8, 1_000_000)
	n1, s1 := set(edge, 1_000_000)
	n4, s4 := set(0, 3_000_000) // the zero over (70.8, 73.8] s
	st := judgeBridge(a, judgeCharts([]round{n0, n1, held, held, n4}, []round{s0, s1, held, held, s4}), 0)
	wantExact(t, st, 4, 4)
}

// TestJudgePlacedReply rebuilds a sample of P 0.5 s, S 0.2 s, rate steps
// judged 41.8 % off: the agent withheld the window of the refresh at
// 72.96 s (its probes came late), the bridge placed that refresh by the
// period the agent claimed and rated the bytes since 72.46 s over 0.5 s,
// exactly. The judge had ended the sample at the read (73.05 s), over
// (72.55, 73.05] s, across the step of the traffic at 72.6 s.
func TestJudgePlacedReply(t *testing.T) {
	t.Parallel()
	sec := judgeSec
	d, a := judgeAgent(t, netdevtest.DriverIface{
		Name: "eth0", Period: 500 * ms, Phase: 460 * ms,
		Tx: netdevtest.Rate{{At: 0, BytesPerSec: 12_500_000}, {At: 72600 * ms, BytesPerSec: 3_125_000}},
	})
	for _, at := range []float64{72.45, 72.65, 72.85, 73.05} {
		lr, _ := d.LastRefresh("eth0", sec(at))
		c, _ := d.Visible("eth0", sec(at))
		c.RefreshNS = int64(500 * ms)
		if at < 73 {
			c.UnchangedNS, c.ChangedNS = lr-int64(2*ms), lr+int64(2*ms)
		}
		a.replies = append(a.replies, mxReply{mono: sec(at), ifaces: map[string]wire.Counters{"eth0": c}})
	}
	exact := func(from, to float64) int64 { _, tx := judgeBits(d, from, to); return tx }
	set := func(sent int64) (round, round) {
		return round{sinceUS: 200_000, vals: map[string]int64{"received": 0, "sent": sent}},
			round{sinceUS: 200_000, vals: map[string]int64{"span": 500_000}}
	}
	held := round{sinceUS: 200_000, vals: map[string]int64{}}
	n0, s0 := set(exact(71.46, 71.96))
	n1, s1 := set(exact(71.96, 72.46))
	n3, s3 := set(exact(72.46, 72.96)) // placed by the bridge
	st := judgeBridge(a, judgeCharts([]round{n0, n1, held, n3}, []round{s0, s1, held, s3}), 0)
	wantExact(t, st, 4, 2)
}

// TestJudgeRoundBeforeWithheld rebuilds a sample of P 0.5 s, S 0.2 s,
// idle/burst judged 28 % off: replies every 0.2 s, a round a second. In
// the round up to 81.40 s the agent claimed the burst's first refresh
// (80.69 s) and then withheld the next (81.19 s); the bridge rated the
// interval up to 80.69 s exactly and held the other. The judge had ended
// the sample at the withheld change, over (80.69, 81.19] s.
func TestJudgeRoundBeforeWithheld(t *testing.T) {
	t.Parallel()
	sec := judgeSec
	d, a := judgeAgent(t, netdevtest.DriverIface{
		Name: "eth0", Period: 500 * ms, Phase: 192500 * time.Microsecond,
		Rx: netdevtest.Rate{{At: 80333 * ms, BytesPerSec: 12_500_000}},
	})
	for i := range 11 {
		at := 79.4 + 0.2*float64(i) + 0.004
		c, _ := d.Visible("eth0", sec(at))
		c.RefreshNS = int64(500 * ms)
		switch lr, _ := d.LastRefresh("eth0", sec(at)); {
		case at > 81.1:
			// The burst's second change, withheld.
		case at > 80.7 || sec(at)-lr > int64(100*ms):
			// The change, or the latest idle refresh, claimed.
			c.UnchangedNS, c.ChangedNS = lr-int64(8*ms), lr+int64(10*ms)
		default:
			// An idle refresh too recent to claim: the one before.
			c.UnchangedNS, c.ChangedNS = lr-int64(508*ms), lr-int64(490*ms)
		}
		a.replies = append(a.replies, mxReply{mono: sec(at), ifaces: map[string]wire.Counters{"eth0": c}})
	}
	exact := func(from, to float64) int64 { rx, _ := judgeBits(d, from, to); return rx }
	set := func(rx int64) (round, round) {
		return round{sinceUS: 1_000_000, vals: map[string]int64{"received": rx, "sent": 0}},
			round{sinceUS: 1_000_000, vals: map[string]int64{"span": 500_000}}
	}
	n0, s0 := set(0)
	n1, s1 := set(0)                       // the idle refresh at 80.19 s
	n2, s2 := set(exact(80.1925, 80.6925)) // up to the burst's first change
	st := judgeBridge(a, judgeCharts([]round{n0, n1, n2}, []round{s0, s1, s2}), 0)
	wantExact(t, st, 4, 0)
}

// TestJudgeLiveServed: live counters are judged between the instants the
// fixture served the copies the replies carried, not the replies' stamps
// 2 ms later. A trickle that stopped in between was set against the next
// sample, which never had it: +Inf % where that sample was otherwise
// still.
func TestJudgeLiveServed(t *testing.T) {
	t.Parallel()
	sec := judgeSec
	d, a := judgeAgent(t, netdevtest.DriverIface{
		Name: "eth0",
		Rx:   netdevtest.Rate{{At: 99500 * ms, BytesPerSec: 125_000}, {At: 100001 * time.Millisecond, BytesPerSec: 0}},
	})
	a.served = []int64{sec(98), sec(99), sec(100), sec(101)}
	for _, at := range []float64{98, 99, 100, 101} {
		c, _ := d.Visible("eth0", sec(at)) // served at .000
		a.replies = append(a.replies, mxReply{mono: sec(at + 0.002), ifaces: map[string]wire.Counters{"eth0": c}})
	}
	exact := func(from, to float64) int64 { rx, _ := judgeBits(d, from, to); return rx }
	set := func(rx int64) (round, round) {
		return round{sinceUS: 1_000_000, vals: map[string]int64{"received": rx, "sent": 0}},
			round{sinceUS: 1_000_000, vals: map[string]int64{"span": 1_000_000}}
	}
	n0, s0 := set(0)
	n1, s1 := set(0)
	n2, s2 := set(exact(99, 100))  // the trickle's 0.5 s
	n3, s3 := set(exact(100, 101)) // its last millisecond
	st := judgeBridge(a, judgeCharts([]round{n0, n1, n2, n3}, []round{s0, s1, s2, s3}), 0)
	wantExact(t, st, 6, 0)
	if naive := judgeNaive(a); naive.maxErr > 1e-9 {
		t.Errorf("naive reader: max error %.3f %%, want 0 (its spans are the served ones): %s", 100*naive.maxErr, naive.worst)
	}
}

// TestClaimWidth: the trace attributes a sample's error to the windows the
// agent claimed for the refreshes it spans; the first reply whose window
// holds the refresh is the claim, and a refresh no window holds is -1.
func TestClaimWidth(t *testing.T) {
	t.Parallel()
	sec := judgeSec
	_, a := judgeAgent(t, netdevtest.DriverIface{Name: "eth0", Period: time.Second, Phase: 500 * ms})
	win := func(at, lo, hi float64) mxReply {
		return mxReply{mono: sec(at), ifaces: map[string]wire.Counters{"eth0": {UnchangedNS: sec(lo), ChangedNS: sec(hi)}}}
	}
	a.replies = []mxReply{
		win(70.8, 70.4995, 70.5005), // a probe's millisecond
		win(71.8, 71.497, 71.505),   // a late probe's 8 ms
		win(72.8, 71.497, 71.505),   // the same claim again: not 72.5's
		win(73.8, 73.499, 73.502),
	}
	monos := make([]int64, len(a.replies))
	for i, r := range a.replies {
		monos[i] = r.mono
	}
	tests := []struct {
		at   float64
		want int64
	}{
		{70.5, int64(ms)},
		{71.5, int64(8 * ms)},
		{72.5, -1},
		{73.5, int64(3 * ms)},
		{74.5, -1}, // after the last reply
	}
	for _, tt := range tests {
		if got := claimWidth(a, "eth0", monos, sec(tt.at)); abs(got-tt.want) > 1000 {
			t.Errorf("claimWidth at %.1f s = %d ns, want %d", tt.at, got, tt.want)
		}
	}
	st := mxStats{ends: []int64{int64(ms), int64(2 * ms), int64(3 * ms), int64(8 * ms), -1}}
	if got, want := st.endsByWidth(), "the wider claim at their ends: ≤ 2 ms 2, 2–4 ms 1, > 4 ms 1, not found 1"; got != want {
		t.Errorf("endsByWidth() = %q, want %q", got, want)
	}
}
