package bridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newTestSampler(nodes ...string) *Sampler {
	return NewSampler(SamplerConfig{Interval: time.Second, RunID: "run", Nodes: nodes, ObsoleteAfter: 3 * time.Second})
}

func reply(node, id string, mono int64, ifaces map[string]wire.Counters) *wire.Reply {
	return &wire.Reply{ID: id, Node: node, MonoNS: mono, TimeNS: mono, BootID: "boot1", Ifaces: ifaces}
}

func eth0(rx, tx uint64) map[string]wire.Counters {
	return map[string]wire.Counters{"eth0": {RxBytes: rx, TxBytes: tx, RxPackets: rx / 1000, TxPackets: tx / 1000, Ifindex: 2}}
}

func TestSamplerTickRequestsOnlineAgents(t *testing.T) {
	t.Parallel()
	s := newTestSampler()
	s.Status("b", true)
	s.Status("a", true)
	s.Status("c", true)
	s.Status("c", false)
	reqs, gaps := s.Tick(t0, 0)
	want := []Request{{"a", []byte(`{"id":"run-1"}`)}, {"b", []byte(`{"id":"run-1"}`)}}
	if d := cmp.Diff(want, reqs); d != "" {
		t.Errorf("Tick() requests (-want +got):\n%s", d)
	}
	if len(gaps) != 0 {
		t.Errorf("first Tick() returned gaps %v", gaps)
	}
}

func TestSamplerNodesFilter(t *testing.T) {
	t.Parallel()
	s := newTestSampler("er-x")
	if s.Status("other", true) {
		t.Error("Status() accepted a node outside IFSTAT_NODES")
	}
	s.Status("er-x", true)
	reqs, _ := s.Tick(t0, 0)
	if len(reqs) != 1 || reqs[0].Node != "er-x" {
		t.Errorf("Tick() = %v, want one request to er-x", reqs)
	}
}

func TestSamplerMatching(t *testing.T) {
	t.Parallel()
	type step struct {
		tick  bool // run a Tick first
		at    time.Duration
		node  string
		r     *wire.Reply
		drop  DropReason
		match bool
	}
	tests := []struct {
		name  string
		steps []step
		stats Stats
	}{
		{"matched", []step{
			{tick: true, at: 10 * time.Millisecond, node: "n", r: reply("n", "run-1", 1e9, eth0(0, 0)), match: true},
		}, Stats{Requests: 1, Matched: 1}},
		{"duplicate", []step{
			{tick: true, at: 10 * time.Millisecond, node: "n", r: reply("n", "run-1", 1e9, eth0(0, 0)), match: true},
			{at: 20 * time.Millisecond, node: "n", r: reply("n", "run-1", 1e9, eth0(0, 0)), drop: DropDuplicate},
		}, Stats{Requests: 1, Matched: 1, Duplicate: 1}},
		{"after deadline", []step{
			{tick: true, at: 1000 * time.Millisecond, node: "n", r: reply("n", "run-1", 1e9, eth0(0, 0)), drop: DropLate},
		}, Stats{Requests: 1, Late: 1}},
		{"earlier tick", []step{
			{tick: true},
			{tick: true, at: 1010 * time.Millisecond, node: "n", r: reply("n", "run-1", 1e9, eth0(0, 0)), drop: DropLate},
		}, Stats{Requests: 2, Late: 1, Gaps: 1}},
		{"never sent", []step{
			{tick: true, at: 10 * time.Millisecond, node: "n", r: reply("n", "other-7", 1e9, eth0(0, 0)), drop: DropUnknown},
		}, Stats{Requests: 1, Unknown: 1}},
		{"forged for another node", []step{
			{tick: true, at: 10 * time.Millisecond, node: "n", r: reply("m", "run-1", 1e9, eth0(0, 0)), drop: DropForged},
		}, Stats{Requests: 1, Forged: 1}},
		{"agent not online", []step{
			{tick: true, at: 10 * time.Millisecond, node: "x", r: reply("x", "run-1", 1e9, eth0(0, 0)), drop: DropUnexpected},
		}, Stats{Requests: 1, Unexpected: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSampler()
			s.Status("n", true)
			tick := t0.Add(-time.Second)
			for i, st := range tt.steps {
				if st.tick {
					tick = tick.Add(time.Second)
					s.Tick(tick, 0)
				}
				if st.r == nil {
					continue
				}
				ns, why := s.Reply(st.node, st.r, t0.Add(st.at))
				if (ns != nil) != st.match || why != st.drop {
					t.Errorf("step %d: Reply() = %v, %q; want match %v, %q", i, ns != nil, why, st.match, st.drop)
				}
			}
			if d := cmp.Diff(tt.stats, s.Stats()); d != "" {
				t.Errorf("Stats() (-want +got):\n%s", d)
			}
		})
	}
}

// run drives one agent through ticks: replies[i] answers tick i (nil: no
// answer) and the samples of every tick are returned in order.
func run(t *testing.T, s *Sampler, replies []map[string]wire.Counters, monoStep int64) []*NodeSample {
	t.Helper()
	var out []*NodeSample
	for i, ifaces := range replies {
		tick := t0.Add(time.Duration(i) * time.Second)
		_, gaps := s.Tick(tick, 0)
		out = append(out, gaps...)
		if ifaces == nil {
			continue
		}
		r := reply("n", "run-"+strconv.Itoa(i+1), int64(i+1)*monoStep, ifaces)
		ns, why := s.Reply("n", r, tick.Add(5*time.Millisecond))
		if ns == nil {
			t.Fatalf("tick %d: reply dropped: %s", i, why)
		}
		out = append(out, ns)
	}
	return out
}

func TestSamplerRatesGapsAndAbsentInterfaces(t *testing.T) {
	t.Parallel()
	s := newTestSampler()
	s.Status("n", true)
	both := func(rx uint64) map[string]wire.Counters {
		m := eth0(rx, rx/2)
		m["wg0"] = wire.Counters{RxBytes: rx / 10, RxPackets: rx / 10000, Ifindex: 5}
		return m
	}
	onlyEth := eth0
	samples := run(t, s, []map[string]wire.Counters{
		both(1000000),             // first
		both(2000000),             // 1 MB/s
		nil,                       // no reply: gap
		both(4000000),             // 2 MB over 2 s: still 1 MB/s
		onlyEth(5000000, 2500000), // wg0 absent
		onlyEth(6000000, 3000000),
		onlyEth(7000000, 3500000),
		onlyEth(8000000, 4000000), // wg0 absent 4 ticks > 3 s: obsolete
		onlyEth(9000000, 4500000),
	}, 1e9)
	type row struct {
		Tick   int
		Gap    bool
		Iface  string
		Status string
		Absent bool
		Obs    bool
		RxBps  uint64
	}
	var got []row
	for _, ns := range samples {
		for _, is := range ns.Ifaces {
			r := row{Tick: int(ns.Tick.Sub(t0) / time.Second), Gap: ns.Gap, Iface: is.Name, Absent: is.Absent, Obs: is.Obsolete}
			if !is.Absent {
				r.Status = is.Result.Status.String()
				if is.Result.Rate {
					r.RxBps = is.Result.PerSecond(rate.RxBytes, 8)
				}
			}
			got = append(got, r)
		}
	}
	want := []row{
		{0, false, "eth0", "first", false, false, 0},
		{0, false, "wg0", "first", false, false, 0},
		{1, false, "eth0", "ok", false, false, 8000000},
		{1, false, "wg0", "ok", false, false, 800000},
		{2, true, "eth0", "", true, false, 0},
		{2, true, "wg0", "", true, false, 0},
		{3, false, "eth0", "ok", false, false, 8000000},
		{3, false, "wg0", "ok", false, false, 800000},
		{4, false, "eth0", "ok", false, false, 8000000},
		{4, false, "wg0", "", true, false, 0},
		{5, false, "eth0", "ok", false, false, 8000000},
		{5, false, "wg0", "", true, false, 0},
		{6, false, "eth0", "ok", false, false, 8000000},
		{6, false, "wg0", "", true, false, 0},
		{7, false, "eth0", "ok", false, false, 8000000},
		{7, false, "wg0", "", true, true, 0},
		{8, false, "eth0", "ok", false, false, 8000000},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("samples (-want +got):\n%s", d)
	}
	if st := s.Stats(); st.Gaps != 1 || st.Matched != 8 {
		t.Errorf("Stats() = %+v, want 1 gap and 8 matched", st)
	}
}

func TestShardsPartitionNodes(t *testing.T) {
	t.Parallel()
	const shards = 3
	samplers := make([]*Sampler, shards)
	for k := range samplers {
		samplers[k] = NewSampler(SamplerConfig{Interval: time.Second, RunID: "r", Shard: k, Shards: shards})
	}
	counts := make([]int, shards)
	for i := range 3000 {
		node := "router-" + strconv.Itoa(i)
		owners := 0
		for k, s := range samplers {
			if s.Wanted(node) {
				owners++
				counts[k]++
			}
		}
		if owners != 1 {
			t.Fatalf("%s is sampled by %d bridges, want exactly 1", node, owners)
		}
	}
	for k, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("shard %d got %d of 3000 nodes: the hash spreads badly", k, c)
		}
	}
}

// TestSamplerWatchMode drives the sampler with replies of an agent in watch
// mode over a driver that refreshes its counters every 0.9765 s at a
// constant 100 Mbit/s: every rate stays within 3 % of the truth (without
// change times, one interval in ~40 would read double), and the refresh
// period is found and reported once.
func TestSamplerWatchMode(t *testing.T) {
	t.Parallel()
	const (
		period = 976_500_000 // ns
		watch  = 50_000_000  // ns
		bps    = 12_500_000  // bytes/s
	)
	s := newTestSampler()
	s.Status("n", true)
	var news int
	for i := range 120 {
		read := int64(i+1) * 1e9
		// The driver's last refresh at or before the read, and the watch
		// read grid that first saw it.
		k := read / period
		refreshAt := k * period
		changed := (refreshAt/watch + 1) * watch
		if changed > read {
			changed = read
		}
		unchanged := changed - watch
		rx := uint64(refreshAt) * bps / 1e9
		tick := t0.Add(time.Duration(i) * time.Second)
		s.Tick(tick, 0)
		ns, why := s.Reply("n", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "n", MonoNS: read, TimeNS: tick.UnixNano(), BootID: "b",
			Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, RxPackets: rx / 1000, Ifindex: 2, ChangedNS: changed, UnchangedNS: unchanged}}}, tick)
		if ns == nil {
			t.Fatal(why)
		}
		is := ns.Ifaces[0]
		if is.RefreshNews {
			news++
		}
		if is.Result.Rate && i > 2 {
			got := float64(is.Result.PerSecond(rate.RxBytes, 1))
			if d := got/bps - 1; d > 0.03 || d < -0.03 {
				t.Errorf("read %d: %.0f B/s, %.2f %% off the true rate", i, got, d*100)
			}
		}
		if i == 119 {
			e := is.Refresh
			if !e.Confident || e.PeriodNS < period*99/100 || e.PeriodNS > period*101/100 {
				t.Errorf("refresh estimate %+v, want a confident period near %d ns", e, period)
			}
		}
	}
	if news == 0 || news > 3 {
		t.Errorf("refresh period reported %d times, want once (or a few as it settles)", news)
	}
}

// TestSamplerRefreshCapability: from an agent whose windows bracket the
// refresh its values are current as of (wire.CapabilityRefresh),
// unchanged counters under a newer window are a true zero, and the
// agent's refresh_ns is the period reported; from any other agent the
// same reply is a stale read.
func TestSamplerRefreshCapability(t *testing.T) {
	t.Parallel()
	const period = 500_000_000
	win := func(rx uint64, refreshAt int64) map[string]wire.Counters {
		return map[string]wire.Counters{"eth0": {RxBytes: rx, RxPackets: rx / 1000, Ifindex: 2,
			UnchangedNS: refreshAt - 500_000, ChangedNS: refreshAt + 500_000, RefreshNS: period}}
	}
	tests := []struct {
		name       string
		caps       []string
		third      map[string]wire.Counters // read at 3 s
		want       rate.Status
		wantRate   bool
		wantPeriod int64
	}{
		{"refresh agent, idle refresh: a true zero", []string{"reply", "watch", wire.CapabilityRefresh}, win(2_000_000, 2_700_000_000), rate.OK, true, period},
		{"refresh agent, same window: stale", []string{"reply", "watch", wire.CapabilityRefresh}, win(2_000_000, 1_700_000_000), rate.Stale, false, period},
		{"fixed watch agent, newer window: stale", []string{"reply", "watch"}, win(2_000_000, 2_700_000_000), rate.Stale, false, period},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestSampler()
			s.Status("n", true)
			s.Info(wire.Info{Node: "n", Protocol: wire.ProtocolVersion, Capabilities: tt.caps})
			var last *NodeSample
			for i, ifaces := range []map[string]wire.Counters{win(1_000_000, 700_000_000), win(2_000_000, 1_700_000_000), tt.third} {
				tick := t0.Add(time.Duration(i) * time.Second)
				s.Tick(tick, 0)
				ns, why := s.Reply("n", reply("n", "run-"+strconv.Itoa(i+1), int64(i+1)*1e9, ifaces), tick)
				if ns == nil {
					t.Fatalf("reply %d dropped: %s", i+1, why)
				}
				last = ns
			}
			is := last.Ifaces[0]
			if is.Result.Status != tt.want || is.Result.Rate != tt.wantRate {
				t.Fatalf("third read: status %v rate %v (%s), want %v rate %v", is.Result.Status, is.Result.Rate, is.Result.Reason, tt.want, tt.wantRate)
			}
			if tt.wantRate {
				if got := is.Result.PerSecond(rate.RxBytes, 1); got != 0 {
					t.Errorf("idle refresh rated %d B/s, want 0", got)
				}
				if is.Result.DtNS != 1e9 || !is.Result.ChangeSpan {
					t.Errorf("span %d ns (change span %v), want the 1 s between the refreshes", is.Result.DtNS, is.Result.ChangeSpan)
				}
			}
			if is.Refresh.PeriodNS != tt.wantPeriod {
				t.Errorf("period %d, want the agent's %d", is.Refresh.PeriodNS, tt.wantPeriod)
			}
		})
	}
}
