package bridge

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
)

func tariffSampler(t *testing.T) *Sampler {
	t.Helper()
	s, err := tariff.Parse("happy=00:00-07:00;normal=*", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return NewSampler(SamplerConfig{Interval: time.Second, RunID: "run", ObsoleteAfter: time.Hour,
		Tariffs: &Tariffs{Schedule: s, BillingDay: 1}})
}

// TestTariffsAddUpToTotals drives a sampler through random traffic, wraps,
// reboots, missed replies and a bridge restart (Snapshot → new sampler →
// Restore) across the 07:00 boundary and a month end: at every step the
// per-tariff lifetime totals add up exactly to the bridge's byte totals.
func TestTariffsAddUpToTotals(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			s := tariffSampler(t)
			s.Status("n", true)
			start := time.Date(2026, 11, 30, 6, 59, 0, 0, time.UTC) // 07:00 and Dec 1 ahead
			boot, mono, rx, tx := "b0", int64(1e9), uint64(4_000_000_000), uint64(0)
			var tick time.Time
			for i := range 400 {
				tick = start.Add(time.Duration(i) * time.Second)
				s.Tick(tick, 0)
				mono += 1e9
				switch r := rng.IntN(100); {
				case r < 5:
					continue // missed reply
				case r < 7:
					boot, rx, tx = "b"+strconv.Itoa(i), 0, 0 // reboot: counters from zero
				case r < 9 && i > 10:
					// Bridge restart: persist and restore into a new sampler.
					snap := s.Snapshot("br", tick)
					s = tariffSampler(t)
					s.Restore(snap)
					s.Status("n", true)
					s.Tick(tick, 0)
				}
				rx = (rx + uint64(rng.IntN(2_000_000))) % (1 << 32) // a 32-bit counter
				tx += uint64(rng.IntN(500_000))
				r := &wire.Reply{ID: "run-" + strconv.FormatUint(s.seq, 10), Node: "n", MonoNS: mono, TimeNS: tick.UnixNano(), BootID: boot,
					Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, TxBytes: tx, RxPackets: rx / 1000, TxPackets: tx / 1000, Ifindex: 2, SpeedMbps: 1000}}}
				ns, why := s.Reply("n", r, tick.Add(time.Millisecond))
				if ns == nil {
					t.Fatalf("step %d: dropped: %s", i, why)
				}
				is := ns.Ifaces[0]
				if is.Tariff == nil {
					t.Fatalf("step %d: no tariff usage", i)
				}
				var sumRx, sumTx uint64
				for _, tt := range is.Tariff.Tariffs {
					sumRx += tt.Lifetime.Rx
					sumTx += tt.Lifetime.Tx
				}
				if sumRx != is.Result.Total[rate.RxBytes] || sumTx != is.Result.Total[rate.TxBytes] {
					t.Fatalf("step %d (%s): tariffs rx %d tx %d, totals rx %d tx %d", i, is.Result.Status, sumRx, sumTx,
						is.Result.Total[rate.RxBytes], is.Result.Total[rate.TxBytes])
				}
			}
			if tick.Hour() < 7 {
				t.Fatal("the run never crossed 07:00")
			}
		})
	}
}

func TestTariffSplitAtBoundary(t *testing.T) {
	t.Parallel()
	s := tariffSampler(t)
	s.Status("n", true)
	t0 := time.Date(2026, 11, 22, 6, 59, 59, 500_000_000, time.UTC)
	send := func(seq int, at time.Time, rx uint64) *IfaceSample {
		s.Tick(at, 0)
		r := &wire.Reply{ID: "run-" + strconv.Itoa(seq), Node: "n", MonoNS: at.UnixNano(), TimeNS: at.UnixNano(), BootID: "b",
			Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, Ifindex: 2}}}
		ns, why := s.Reply("n", r, at)
		if ns == nil {
			t.Fatal(why)
		}
		return &ns.Ifaces[0]
	}
	send(1, t0, 1000)
	is := send(2, t0.Add(time.Second), 1000+1_000_001) // half before 07:00, half after
	got := map[string]uint64{}
	for _, tt := range is.Tariff.Tariffs {
		got[tt.Name] = tt.Current.Rx
	}
	if got["happy"] != 500_000 || got["normal"] != 500_001 {
		t.Errorf("split of 1,000,001 bytes across 07:00 = %v, want happy 500000, normal 500001", got)
	}
	if is.Tariff.Active != "normal" {
		t.Errorf("active tariff %q at 07:00:00.5, want normal", is.Tariff.Active)
	}
}

// TestRebootWhileDownIsReported: a router that rebooted while no bridge
// ran makes the first sample after the restart a reset, flagged as lost
// traffic; a continuing router is not flagged.
func TestRebootWhileDownIsReported(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		bootAfter string
		want      bool
	}{{"rebooted", "b2", true}, {"continued", "b1", false}} {
		t.Run(tt.name, func(t *testing.T) {
			s := tariffSampler(t)
			s.Status("n", true)
			t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
			reply := func(s *Sampler, i int, boot string, rx uint64) *IfaceSample {
				at := t0.Add(time.Duration(i) * time.Second)
				s.Tick(at, 0)
				ns, why := s.Reply("n", &wire.Reply{ID: "run-" + strconv.FormatUint(s.seq, 10), Node: "n", MonoNS: int64(i+1) * 1e9, TimeNS: at.UnixNano(), BootID: boot,
					Ifaces: map[string]wire.Counters{"eth0": {RxBytes: rx, Ifindex: 2}}}, at)
				if ns == nil {
					t.Fatal(why)
				}
				return &ns.Ifaces[0]
			}
			reply(s, 0, "b1", 1000)
			reply(s, 1, "b1", 2000)
			snap := s.Snapshot("br", t0.Add(time.Second))
			s2 := tariffSampler(t)
			s2.Restore(snap)
			s2.Status("n", true)
			rx := uint64(500)
			if tt.bootAfter == "b1" {
				rx = 5000
			}
			is := reply(s2, 60, tt.bootAfter, rx)
			if is.LostWhileDown != tt.want {
				t.Errorf("LostWhileDown = %v (status %s), want %v", is.LostWhileDown, is.Result.Status, tt.want)
			}
			if next := reply(s2, 61, tt.bootAfter, rx+100); next.LostWhileDown {
				t.Error("LostWhileDown repeated on the next sample")
			}
		})
	}
}
