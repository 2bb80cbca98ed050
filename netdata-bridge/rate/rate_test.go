package rate

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sec = int64(1_000_000_000)

// at returns a sample of boot "b1", ifindex 2, at second s with the four
// main counters and zero errors and drops.
func at(s float64, rxB, txB, rxP, txP uint64) Sample {
	return Sample{BootID: "b1", MonoNS: int64(s * float64(sec)), Ifindex: 2,
		Values: Values{rxB, txB, rxP, txP}}
}

func with(s Sample, f func(*Sample)) Sample { f(&s); return s }

func speed(mbps int64) func(*Sample) { return func(s *Sample) { s.SpeedMbps = mbps } }

type step struct {
	in   Sample
	want Result
}

// runSteps feeds each step's sample to tr and wants its Result.
func runSteps(t *testing.T, tr *Tracker, steps []step) {
	t.Helper()
	for i, st := range steps {
		got := tr.Update(st.in)
		if d := cmp.Diff(st.want, got); d != "" {
			t.Fatalf("step %d: Update(%+v) mismatch (-want +got):\n%s", i, st.in, d)
		}
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	const w32 = uint64(1) << 32
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{
			name: "first sample is the baseline",
			steps: []step{
				{at(1, 100, 200, 1, 2), Result{Status: First}},
			},
		},
		{
			name: "wrap at exactly 2^32",
			steps: []step{
				{at(1, w32-1000, 0, 1000, 0), Result{Status: First}},
				{at(2, 500, 0, 1002, 0), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{1500, 0, 2}, Wrapped: [N]bool{true}, Total: Values{1500, 0, 2}}},
			},
		},
		{
			name: "wrap across a missed reply at 100 Mbit/s",
			steps: []step{
				{with(at(1, w32-10_000_000, 0, 5000, 0), speed(100)), Result{Status: First}},
				{with(at(3, 15_000_000, 0, 25000, 0), speed(100)), Result{Status: OK, DtNS: 2 * sec, Rate: true,
					Delta: Values{25_000_000, 0, 20000}, Wrapped: [N]bool{true}, Total: Values{25_000_000, 0, 20000}}},
			},
		},
		{
			name: "wrap across a stale read",
			steps: []step{
				{at(0, 4_284_000_000, 0, 1000, 0), Result{Status: First}},
				{at(1, 4_290_000_000, 0, 6000, 0), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{6_000_000, 0, 5000}, Total: Values{6_000_000, 0, 5000}}},
				{at(2, 4_290_000_000, 0, 6000, 0), Result{Status: Stale, DtNS: sec,
					Total: Values{6_000_000, 0, 5000}}},
				{at(3, 6_032_704, 0, 15000, 0), Result{Status: OK, DtNS: 2 * sec, Rate: true,
					Delta: Values{11_000_000, 0, 9000}, Wrapped: [N]bool{true}, Total: Values{17_000_000, 0, 14000}}},
			},
		},
		{
			name: "reset near 4e9: all counters drop",
			steps: []step{
				{at(1, 4_000_000_000, 3_900_000_000, 3_000_000, 2_900_000), Result{Status: First}},
				{at(2, 1000, 2000, 10, 20), Result{Status: Reset, DtNS: sec,
					Reason: "rx_bytes decreased from 4000000000 to 1000 and cannot have wrapped: a wrap would be 294968296 bytes in 4291967306 rx_packets",
					Delta:  Values{1000, 2000, 10, 20}, Total: Values{1000, 2000, 10, 20}}},
				{at(3, 1500, 2100, 11, 21), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{500, 100, 1, 1}, Total: Values{1500, 2100, 11, 21}}},
			},
		},
		{
			name: "reset near 4e9 of bytes only, packets rising, over the link bound",
			steps: []step{
				{with(at(1, 4_000_000_000, 0, 3_000_000, 0), speed(100)), Result{Status: First}},
				{with(at(2, 5000, 0, 3_001_000, 0), speed(100)), Result{Status: Reset, DtNS: sec,
					Reason: "rx_bytes decreased from 4000000000 to 5000 and cannot have wrapped: a wrap would be 294972296 bytes, over the bound 27500000",
					Delta:  Values{5000, 0, 1000}, Total: Values{5000, 0, 1000}}},
			},
		},
		{
			name: "reset near 4e9 of bytes only, speed unknown, bytes per packet absurd",
			steps: []step{
				{at(1, 4_000_000_000, 0, 3_000_000, 0), Result{Status: First}},
				{at(2, 5000, 0, 3_001_000, 0), Result{Status: Reset, DtNS: sec,
					Reason: "rx_bytes decreased from 4000000000 to 5000 and cannot have wrapped: a wrap would be 294972296 bytes in 1000 rx_packets",
					Delta:  Values{5000, 0, 1000}, Total: Values{5000, 0, 1000}}},
			},
		},
		{
			name: "packet counter wrap must agree with bytes",
			steps: []step{
				{at(1, 1_000_000, 0, w32-10, 0), Result{Status: First}},
				{at(2, 1_015_000, 0, 0, 0), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{15_000, 0, 10}, Wrapped: [N]bool{2: true}, Total: Values{15_000, 0, 10}}},
				{at(3, 1_015_100, 0, 5, 0), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{100, 0, 5}, Total: Values{15_100, 0, 15}}},
			},
		},
		{
			name: "error counter wraps alone",
			steps: []step{
				{with(at(1, 0, 0, 0, 0), func(s *Sample) { s.Values[RxErrors] = w32 - 5 }), Result{Status: First}},
				{with(at(2, 600, 0, 10, 0), func(s *Sample) { s.Values[RxErrors] = 3 }), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{600, 0, 10, 0, 8}, Wrapped: [N]bool{4: true}, Total: Values{600, 0, 10, 0, 8}}},
			},
		},
		{
			name: "ppp0 re-created with a new ifindex",
			steps: []step{
				{with(at(1, 5_000_000, 6_000_000, 5000, 6000), func(s *Sample) { s.Ifindex = 7 }), Result{Status: First}},
				{with(at(2, 300, 400, 3, 4), func(s *Sample) { s.Ifindex = 9 }), Result{Status: Reset, DtNS: sec,
					Reason: "ifindex 7 -> 9", Delta: Values{300, 400, 3, 4}, Total: Values{300, 400, 3, 4}}},
				{with(at(3, 400, 500, 4, 5), func(s *Sample) { s.Ifindex = 9 }), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{100, 100, 1, 1}, Total: Values{400, 500, 4, 5}}},
			},
		},
		{
			name: "unknown ifindex is no re-creation",
			steps: []step{
				{with(at(1, 100, 0, 1, 0), func(s *Sample) { s.Ifindex = 7 }), Result{Status: First}},
				{with(at(2, 200, 0, 2, 0), func(s *Sample) { s.Ifindex = 0 }), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{100, 0, 1}, Total: Values{100, 0, 1}}},
			},
		},
		{
			name: "reboot, then a late reply of the old boot",
			steps: []step{
				{at(100, 5_000_000, 0, 5000, 0), Result{Status: First}},
				{with(at(20, 700, 0, 7, 0), func(s *Sample) { s.BootID = "b2" }), Result{Status: Reset,
					Reason: "boot id changed", Delta: Values{700, 0, 7}, Total: Values{700, 0, 7}}},
				{at(101, 6_000_000, 0, 6000, 0), Result{Status: OutOfOrder,
					Reason: "reply from the previous boot", Total: Values{700, 0, 7}}},
				{with(at(21, 900, 0, 9, 0), func(s *Sample) { s.BootID = "b2" }), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{200, 0, 2}, Total: Values{900, 0, 9}}},
			},
		},
		{
			name: "agent restart without reboot: counters continue",
			steps: []step{
				{at(100, 5_000_000, 0, 5000, 0), Result{Status: First}},
				// the agent was down for 9 s; same boot, same ifindex
				{at(110, 6_000_000, 0, 6000, 0), Result{Status: OK, DtNS: 10 * sec, Rate: true,
					Delta: Values{1_000_000, 0, 1000}, Total: Values{1_000_000, 0, 1000}}},
			},
		},
		{
			name: "duplicate and reordered replies are dropped",
			steps: []step{
				{at(1, 1000, 0, 1, 0), Result{Status: First}},
				{at(3, 3000, 0, 3, 0), Result{Status: OK, DtNS: 2 * sec, Rate: true,
					Delta: Values{2000, 0, 2}, Total: Values{2000, 0, 2}}},
				{at(3, 3000, 0, 3, 0), Result{Status: OutOfOrder, Reason: "duplicate reply", Total: Values{2000, 0, 2}}},
				{at(2, 2000, 0, 2, 0), Result{Status: OutOfOrder, Reason: "reply older than the last one", Total: Values{2000, 0, 2}}},
				{at(4, 4000, 0, 4, 0), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{1000, 0, 1}, Total: Values{3000, 0, 3}}},
			},
		},
		{
			name: "no boot id: a small step back is a reorder, a big one a reboot",
			steps: []step{
				{with(at(100, 5000, 0, 5, 0), func(s *Sample) { s.BootID = "" }), Result{Status: First}},
				{with(at(98, 4000, 0, 4, 0), func(s *Sample) { s.BootID = "" }), Result{Status: OutOfOrder,
					Reason: "reply older than the last one"}},
				{with(at(30, 300, 0, 3, 0), func(s *Sample) { s.BootID = "" }), Result{Status: Reset,
					Reason: "clock went back without a boot id: reboot assumed", Delta: Values{300, 0, 3}, Total: Values{300, 0, 3}}},
			},
		},
		{
			name: "64-bit values above 2^63",
			steps: []step{
				{at(1, math.MaxUint64-25_000_000, 1<<63, 1<<62, 1<<62), Result{Status: First}},
				{at(2, math.MaxUint64-12_500_000, 1<<63+1_000_000, 1<<62+10_000, 1<<62+1000), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{12_500_000, 1_000_000, 10_000, 1000}, Total: Values{12_500_000, 1_000_000, 10_000, 1000}}},
				{at(3, math.MaxUint64, 1<<63+2_000_000, 1<<62+20_000, 1<<62+2000), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{12_500_000, 1_000_000, 10_000, 1000}, Total: Values{25_000_000, 2_000_000, 20_000, 2000}}},
			},
		},
		{
			name: "64-bit counter decreasing is a reset",
			steps: []step{
				{at(1, 5_000_000_000, 0, 4_000_000, 0), Result{Status: First}},
				{at(2, 100, 0, 1, 0), Result{Status: Reset, DtNS: sec,
					Reason: "rx_bytes decreased from 5000000000 to 100 and cannot have wrapped: old value is not 32-bit",
					Delta:  Values{100, 0, 1}, Total: Values{100, 0, 1}}},
			},
		},
		{
			name: "stale read then change: rate over the full span",
			steps: []step{
				{at(0, 0, 0, 0, 0), Result{Status: First}},
				{at(1, 12_500_000, 0, 10_000, 0), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{12_500_000, 0, 10_000}, Total: Values{12_500_000, 0, 10_000}}},
				{at(2, 12_500_000, 0, 10_000, 0), Result{Status: Stale, DtNS: sec, Total: Values{12_500_000, 0, 10_000}}},
				{at(3, 37_500_000, 0, 30_000, 0), Result{Status: OK, DtNS: 2 * sec, Rate: true,
					Delta: Values{25_000_000, 0, 20_000}, Total: Values{37_500_000, 0, 30_000}}},
			},
		},
		{
			name: "stale beyond the limit is a genuine zero",
			steps: []step{
				{at(0, 0, 0, 0, 0), Result{Status: First}},
				{at(1, 1000, 0, 1, 0), Result{Status: OK, DtNS: sec, Rate: true, Delta: Values{1000, 0, 1}, Total: Values{1000, 0, 1}}},
				{at(2, 1000, 0, 1, 0), Result{Status: Stale, DtNS: sec, Total: Values{1000, 0, 1}}},
				{at(3, 1000, 0, 1, 0), Result{Status: Stale, DtNS: 2 * sec, Total: Values{1000, 0, 1}}},
				{at(4, 1000, 0, 1, 0), Result{Status: OK, DtNS: 3 * sec, Rate: true, Total: Values{1000, 0, 1}}},
				{at(5, 1000, 0, 1, 0), Result{Status: OK, DtNS: sec, Rate: true, Total: Values{1000, 0, 1}}},
			},
		},
		{
			name: "stale rule off",
			cfg:  Config{StaleLimitNS: -1},
			steps: []step{
				{at(0, 0, 0, 0, 0), Result{Status: First}},
				{at(1, 1000, 0, 1, 0), Result{Status: OK, DtNS: sec, Rate: true, Delta: Values{1000, 0, 1}, Total: Values{1000, 0, 1}}},
				{at(2, 1000, 0, 1, 0), Result{Status: OK, DtNS: sec, Rate: true, Total: Values{1000, 0, 1}}},
			},
		},
		{
			name: "genuine idle is zero once known",
			steps: []step{
				{at(0, 500, 0, 5, 0), Result{Status: First}},
				{at(1, 500, 0, 5, 0), Result{Status: Stale, DtNS: sec}},
				{at(3, 500, 0, 5, 0), Result{Status: OK, DtNS: 3 * sec, Rate: true}},
				{at(4, 500, 0, 5, 0), Result{Status: OK, DtNS: sec, Rate: true}},
				{at(5, 500, 0, 5, 0), Result{Status: OK, DtNS: sec, Rate: true}},
			},
		},
		{
			name: "idle measured after traffic is zero at once",
			steps: []step{
				{at(0, 500, 0, 5, 0), Result{Status: First}},
				{at(1, 600, 0, 6, 0), Result{Status: OK, DtNS: sec, Rate: true, Delta: Values{100, 0, 1}, Total: Values{100, 0, 1}}},
				{at(2, 600, 0, 6, 0), Result{Status: Stale, DtNS: sec, Total: Values{100, 0, 1}}},
				{at(4, 600, 0, 6, 0), Result{Status: OK, DtNS: 3 * sec, Rate: true, Total: Values{100, 0, 1}}},
				{at(5, 600, 0, 6, 0), Result{Status: OK, DtNS: sec, Rate: true, Total: Values{100, 0, 1}}},
			},
		},
		{
			name: "gap: booked, no rate",
			cfg:  Config{MaxGapNS: 3 * sec},
			steps: []step{
				{at(0, 0, 0, 0, 0), Result{Status: First}},
				{at(3, 3000, 0, 3, 0), Result{Status: OK, DtNS: 3 * sec, Rate: true, Delta: Values{3000, 0, 3}, Total: Values{3000, 0, 3}}},
				{at(8, 8000, 0, 8, 0), Result{Status: Gap, DtNS: 5 * sec, Delta: Values{5000, 0, 5}, Total: Values{8000, 0, 8}}},
			},
		},
		{
			name: "rise faster than MaxBitsPerSec is implausible",
			steps: []step{
				{at(0, 0, 0, 0, 0), Result{Status: First}},
				{at(1, 3_000_000_000, 0, 2_000_000, 0), Result{Status: Implausible, DtNS: sec,
					Reason: "rx_bytes rose by 3000000000 in 1000000000 ns, over the bound 2750000000"}},
				{at(2, 3_000_001_000, 0, 2_000_001, 0), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{1000, 0, 1}, Total: Values{1000, 0, 1}}},
			},
		},
		{
			name: "tun reports 10 Mbit/s and carries 50: rises are not held to the link speed",
			steps: []step{
				{with(at(0, 0, 0, 0, 0), speed(10)), Result{Status: First}},
				{with(at(1, 6_250_000, 0, 5000, 0), speed(10)), Result{Status: OK, DtNS: sec, Rate: true,
					Delta: Values{6_250_000, 0, 5000}, Total: Values{6_250_000, 0, 5000}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := New(tt.cfg)
			for i, st := range tt.steps {
				got := tr.Update(st.in)
				if diff := cmp.Diff(st.want, got); diff != "" {
					t.Fatalf("step %d: Update(%+v) mismatch (-want +got):\n%s", i, st.in, diff)
				}
				if got.Total != tr.Totals() {
					t.Fatalf("step %d: Totals() = %v, want %v", i, tr.Totals(), got.Total)
				}
			}
		})
	}
}

func TestZeroTrackerUsesDefaults(t *testing.T) {
	t.Parallel()
	var tr Tracker
	tr.Update(at(0, 0, 0, 0, 0))
	got := tr.Update(at(1, 2_750_000_001, 0, 1_000_000, 0))
	if got.Status != Implausible {
		t.Fatalf("zero Tracker: Update(2.75e9+1 bytes in 1 s).Status = %v, want %v", got.Status, Implausible)
	}
}

func TestSetTotalsSaturates(t *testing.T) {
	t.Parallel()
	tr := New(Config{})
	tr.SetTotals(Values{math.MaxUint64 - 5, 7})
	tr.Update(at(0, 0, 0, 0, 0))
	got := tr.Update(at(1, 10, 10, 1, 1))
	want := Values{math.MaxUint64, 17, 1, 1}
	if diff := cmp.Diff(want, got.Total); diff != "" {
		t.Errorf("Total mismatch (-want +got):\n%s", diff)
	}
}

func TestPerSecond(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		delta uint64
		dt    int64
		mult  uint64
		want  uint64
	}{
		{"bytes to bits", 12_500_000, sec, 8, 100_000_000},
		{"floor", 1, 3 * sec, 1, 0},
		{"fraction of a second", 1000, sec / 4, 8, 32_000},
		{"over two seconds", 25_000_000, 2 * sec, 8, 100_000_000},
		{"huge delta, exact", 1 << 63, sec, 1, 1 << 63},
		{"huge delta, 128-bit intermediate", math.MaxUint64, 8 * sec, 8, math.MaxUint64},
		{"saturates", math.MaxUint64, sec, 8, math.MaxUint64},
		{"zero span", 5, 0, 8, 0},
		{"negative span", 5, -1, 8, 0},
		{"one ns", 3, 1, 1, 3_000_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := PerSecond(tt.delta, tt.dt, tt.mult); got != tt.want {
				t.Errorf("PerSecond(%d, %d, %d) = %d, want %d", tt.delta, tt.dt, tt.mult, got, tt.want)
			}
		})
	}
}

func TestMulDiv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b, c, want uint64
	}{
		{10, 11, 80, 1},
		{math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64},
		{math.MaxUint64, 2, 4, math.MaxUint64 / 2},
		{math.MaxUint64, 2, 1, math.MaxUint64},
		{1, 1, 0, math.MaxUint64},
	}
	for _, tt := range tests {
		if got := MulDiv(tt.a, tt.b, tt.c); got != tt.want {
			t.Errorf("MulDiv(%d, %d, %d) = %d, want %d", tt.a, tt.b, tt.c, got, tt.want)
		}
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	var got []string
	for s := First; s <= OutOfOrder+1; s++ {
		got = append(got, s.String())
	}
	for c := RxBytes; c <= TxDropped+1; c++ {
		got = append(got, c.String())
	}
	want := []string{"first", "ok", "stale", "gap", "reset", "implausible", "out-of-order", "status(7)",
		"rx_bytes", "tx_bytes", "rx_packets", "tx_packets", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped", "counter(8)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("String() mismatch (-want +got):\n%s", diff)
	}
}

func BenchmarkUpdate(b *testing.B) {
	tr := New(Config{MaxGapNS: 3 * sec})
	s := at(0, 1<<32-1_000_000, 0, 1000, 0)
	tr.Update(s)
	b.ReportAllocs()
	for b.Loop() {
		s.MonoNS += sec
		s.Values[RxBytes] += 1_000_000 // wraps every few thousand ops
		s.Values[RxBytes] &= 1<<32 - 1
		s.Values[RxPackets] += 1000
		s.Values[TxBytes] += 500_000
		s.Values[TxPackets] += 500
		if r := tr.Update(s); !r.Rate {
			b.Fatalf("Update = %+v, want a rate", r)
		}
	}
}
