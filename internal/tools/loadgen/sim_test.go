package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// counters is the wire form of eight values on interface 2 at 1000 Mbit/s.
func counters(v ...uint64) wire.Counters {
	return wire.Counters{
		RxBytes: v[0], TxBytes: v[1], RxPackets: v[2], TxPackets: v[3],
		RxErrors: v[4], TxErrors: v[5], RxDropped: v[6], TxDropped: v[7],
		Ifindex: 2, SpeedMbps: 1000,
	}
}

func TestCounters(t *testing.T) {
	t.Parallel()
	r := Rates{1000, 500, 3, 1, 0, 0, 7, 1}
	base := Rates{10, 20, 30, 40, 50, 60, 70, 80}
	tests := []struct {
		name      string
		elapsedNS int64
		want      wire.Counters
	}{
		{"start", 0, counters(10, 20, 30, 40, 50, 60, 70, 80)},
		{"half a second floors", 500_000_000, counters(510, 270, 31, 40, 50, 60, 73, 80)},
		{"one second", 1_000_000_000, counters(1010, 520, 33, 41, 50, 60, 77, 81)},
		{"a day and 1 ns", 86_400_000_000_001, counters(86_400_010, 43_200_020, 259_230, 86_440, 50, 60, 604_870, 86_480)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Counters(base, r, tt.elapsedNS, 2)); diff != "" {
				t.Errorf("Counters(%d) mismatch (-want +got):\n%s", tt.elapsedNS, diff)
			}
		})
	}
}

// TestReplyRoundTrip checks that a simulated reply is one the bridge
// accepts, and that its counters grow by exactly rate × interval.
func TestReplyRoundTrip(t *testing.T) {
	t.Parallel()
	a := NewAgent("ifstat", "sim", 42, 8, "abc")
	var enc wire.Encoder
	var r1, r2 wire.Reply
	a.Reply(&r1, "run-1", "5f1a9c0d2e3b4a59", 3_000_000_000, 1_795_300_000_000_000_000)
	got1, err := wire.DecodeReply(enc.AppendReply(nil, &r1))
	if err != nil {
		t.Fatalf("DecodeReply(first) = %v", err)
	}
	if diff := cmp.Diff(r1, got1); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
	a.Reply(&r2, "run-2", "5f1a9c0d2e3b4a59", 5_000_000_000, 1_795_300_002_000_000_000)
	if r2.Seq != 2 || r2.MonoNS-got1.MonoNS != 2_000_000_000 || r2.Node != "sim42" || len(r2.Ifaces) != 8 {
		t.Fatalf("second reply = seq %d, Δmono %d, node %q, %d ifaces; want 2, 2e9, sim42, 8",
			r2.Seq, r2.MonoNS-got1.MonoNS, r2.Node, len(r2.Ifaces))
	}
	for j, name := range []string{"eth0", "eth7"} {
		j := []int{0, 7}[j]
		rates := RatesFor(42, j)
		c1, c2 := got1.Ifaces[name], r2.Ifaces[name]
		gotDelta := [2]uint64{c2.RxBytes - c1.RxBytes, c2.TxPackets - c1.TxPackets}
		wantDelta := [2]uint64{2 * rates[0], 2 * rates[3]}
		if gotDelta != wantDelta {
			t.Errorf("%s: Δ(rx_bytes, tx_packets) over 2 s = %v, want %v", name, gotDelta, wantDelta)
		}
	}
}

func TestRatesFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		i, j int
		want Rates
	}{
		{0, 0, Rates{125_000, 62_500, 250, 125, 0, 0, 0, 1}},
		{4999, 7, Rates{1_099_000, 549_500, 2198, 1099, 1, 1, 7, 1}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, RatesFor(tt.i, tt.j)); diff != "" {
			t.Errorf("RatesFor(%d, %d) mismatch (-want +got):\n%s", tt.i, tt.j, diff)
		}
	}
}
