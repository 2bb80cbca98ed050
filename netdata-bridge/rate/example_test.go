package rate_test

import (
	"fmt"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// A 32-bit rx_bytes counter wraps at 2^32 on a 100 Mbit/s link, the driver
// then misses a refresh, and finally the router reboots.
func Example() {
	tr := rate.New(rate.Config{MaxGapNS: 3_000_000_000})
	replies := []struct {
		boot string
		sec  int64
		c    wire.Counters
	}{
		{"b1", 10, wire.Counters{RxBytes: 1<<32 - 6_000_000, RxPackets: 1000, SpeedMbps: 100}},
		{"b1", 11, wire.Counters{RxBytes: 6_500_000, RxPackets: 11_000, SpeedMbps: 100}},
		{"b1", 12, wire.Counters{RxBytes: 6_500_000, RxPackets: 11_000, SpeedMbps: 100}},
		{"b1", 13, wire.Counters{RxBytes: 31_500_000, RxPackets: 31_000, SpeedMbps: 100}},
		{"b2", 25, wire.Counters{RxBytes: 2_000, RxPackets: 2, SpeedMbps: 100}},
	}
	for _, r := range replies {
		res := tr.Update(rate.Sample{
			BootID:    r.boot,
			MonoNS:    r.sec * 1_000_000_000,
			SpeedMbps: r.c.SpeedMbps,
			Values:    rate.FromWire(r.c),
		})
		line := fmt.Sprintf("%-6v total %d bytes", res.Status, res.Total[rate.RxBytes])
		if res.Rate {
			line += fmt.Sprintf(", %d bit/s over %d ms", res.PerSecond(rate.RxBytes, 8), res.DtNS/1_000_000)
		}
		if res.Wrapped[rate.RxBytes] {
			line += ", wrapped"
		}
		if res.Reason != "" {
			line += ", " + res.Reason
		}
		fmt.Println(line)
	}
	// Output:
	// first  total 0 bytes
	// ok     total 12500000 bytes, 100000000 bit/s over 1000 ms, wrapped
	// stale  total 12500000 bytes
	// ok     total 37500000 bytes, 100000000 bit/s over 2000 ms
	// reset  total 37502000 bytes, boot id changed
}

// ExampleSummarize folds one second of 0.25 s samples into the average
// rate and the peak of one interval, as a bridge sampling faster than its
// output does once per second.
func ExampleSummarize() {
	tr := rate.New(rate.Config{})
	var second []rate.Result
	// A software device (counters always current), bytes at 0, .25, .5,
	// .75 and 1 s: 31250 bytes, then 31250, 125000 and 62500.
	for i, rx := range []uint64{0, 31250, 62500, 187500, 250000} {
		r := tr.Update(rate.Sample{BootID: "b", MonoNS: int64(i) * 250_000_000, Values: rate.Values{rx, 0, uint64(i) * 100}})
		if r.Status != rate.First {
			second = append(second, r)
		}
	}
	s := rate.Summarize(second, rate.RxBytes, 8, 250_000_000, 0)
	fmt.Printf("average %d bit/s, peak %d bit/s over %d ms, too coarse: %v\n", s.Average, s.Peak, s.PeakSpanNS/1e6, s.TooCoarse)
	// Output: average 2000000 bit/s, peak 4000000 bit/s over 250 ms, too coarse: false
}
