package bridge

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// exactRun drives a sampler at 1 s against a driver that refreshes every
// 0.9765 s (no watch mode), the read instants late by up to 10 ms, and
// returns, per read after the warm-up, the error of each published rate
// and the number of reads without one.
func exactRun(t testing.TB, exact bool, reads int) (errs []float64, gaps int) {
	const (
		period = 976_500_000
		bps    = 12_500_000
	)
	s := NewSampler(SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Minute, Exact: exact,
		Rate: rate.Config{MaxGapNS: 10e9}})
	s.Status("n", true)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range reads {
		read := int64(i+1)*1e9 + rng.Int64N(10e6)
		refreshAt := read / period * period
		rx := uint64(refreshAt) * bps / 1e9
		tick := t0.Add(time.Duration(i) * time.Second)
		s.Tick(tick, 0)
		ns, why := s.Reply("n", &wire.Reply{ID: "run-" + strconv.Itoa(i+1), Node: "n", MonoNS: read, TimeNS: tick.UnixNano(), BootID: "b",
			Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, RxPackets: rx / 1000, Ifindex: 2}}}, tick)
		if ns == nil {
			t.Fatal(why)
		}
		if i < 100 {
			continue
		}
		res := ns.Ifaces[0].Result
		if !res.Rate {
			gaps++
			continue
		}
		errs = append(errs, float64(res.PerSecond(rate.RxBytes, 1))/bps-1)
	}
	return errs, gaps
}

func TestSamplerExact(t *testing.T) {
	t.Parallel()
	worst := func(errs []float64) (w float64) {
		for _, e := range errs {
			w = max(w, e, -e)
		}
		return w
	}
	off, _ := exactRun(t, false, 400)
	on, gaps := exactRun(t, true, 400)
	t.Logf("read span: worst %.2f %%; IFSTAT_EXACT=on: worst %.3f %%, %d gaps in 300 reads", 100*worst(off), 100*worst(on), gaps)
	if worst(off) < 0.9 {
		t.Errorf("without the lock the worst error is %.2f %%, want the ≈ +95 %% of a doubled interval (is the simulation right?)", 100*worst(off))
	}
	if worst(on) > 0.005 || gaps > 6 {
		t.Errorf("with the lock: worst error %.3f %%, %d gaps; want under 0.5 %% and at most 2 %% gaps", 100*worst(on), gaps)
	}
}

// BenchmarkSamplerReply is the per-reply cost of the sampler for one
// interface at 1 s against a 0.9765 s driver: b.N replies.
func BenchmarkSamplerReply(b *testing.B) {
	for _, exact := range []bool{false, true} {
		b.Run("exact="+strconv.FormatBool(exact), func(b *testing.B) {
			s := NewSampler(SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Minute, Exact: exact})
			s.Status("n", true)
			const period, bps = 976_500_000, 12_500_000
			ifaces := map[string]wire.Counters{}
			a := s.agents["n"]
			b.ReportAllocs()
			b.ResetTimer()
			locked := 0
			for i := range b.N {
				read := int64(i+1)*1e9 + int64(i*7919%10)*1e6
				rx := uint64(read/period*period) * bps / 1e9
				ifaces["eth0"] = wire.Counters{RxBytes: rx, RxPackets: rx / 1000, Ifindex: 2}
				s.seq++
				r := wire.Reply{ID: "run-" + strconv.FormatUint(s.seq, 10), Node: "n", MonoNS: read, BootID: "b", Ifaces: ifaces}
				a.pendingID, a.answered, a.pendingTick = r.ID, false, t0
				if ns, why := s.Reply("n", &r, t0); ns == nil {
					b.Fatal(why)
				}
				if l := a.ifaces["eth0"].lock; l != nil && l.Locked() {
					locked++
				}
			}
			b.ReportMetric(float64(locked)/float64(b.N), "locked/op")
		})
	}
}

// BenchmarkSamplerRetained is the heap a Sampler keeps per interface once
// its histories are full: 500 agents × 8 interfaces, 80 replies each
// (the refresh history holds 64). One op is one round of replies.
func BenchmarkSamplerRetained(b *testing.B) {
	const agents, ifaces, warm = 500, 8, 80
	s := NewSampler(SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Minute})
	nodes := make([]string, agents)
	for i := range nodes {
		nodes[i] = "router-" + strconv.Itoa(i)
		s.Status(nodes[i], true)
	}
	names := make([]string, ifaces)
	for i := range names {
		names[i] = "eth" + strconv.Itoa(i)
	}
	round := 0
	do := func() {
		round++
		read := int64(round) * 1e9
		for _, node := range nodes {
			m := make(map[string]wire.Counters, ifaces)
			for k, name := range names {
				v := uint64(round) * uint64(1000+k)
				m[name] = wire.Counters{RxBytes: v, TxBytes: v / 2, RxPackets: v / 1000, TxPackets: v / 2000, Ifindex: int64(k + 2), SpeedMbps: 1000}
			}
			a := s.agents[node]
			s.seq++
			r := wire.Reply{ID: "run-" + strconv.FormatUint(s.seq, 10), Node: node, MonoNS: read, TimeNS: read, BootID: "b", Ifaces: m}
			a.pendingID, a.answered, a.pendingTick = r.ID, false, t0.Add(time.Duration(read))
			if ns, why := s.Reply(node, &r, a.pendingTick); ns == nil {
				b.Fatal(why)
			}
		}
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range warm {
		do()
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		do()
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(agents*ifaces), "B/iface")
}
