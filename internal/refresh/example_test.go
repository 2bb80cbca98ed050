package refresh_test

import (
	"fmt"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
)

// A driver refreshes every 0.9765 s; the agent watches every 50 ms, so
// each reply says the change happened in a 50 ms window. After a minute
// the fit knows the period, and narrows the next window to a few ms.
func Example() {
	const period, watch = 976_500_000, 50_000_000
	e := refresh.New(refresh.Config{})
	window := func(r int64) (int64, int64) { // the watch reads around r
		hi := (r + watch - 1) / watch * watch
		return hi - watch, hi
	}
	for k := range int64(60) {
		e.Observe(window(300_000_000 + k*period))
	}
	est := e.Estimate()
	fmt.Printf("period %.4f s, confident %v, too coarse for 1 s: %v, for 250 ms: %v\n",
		float64(est.PeriodNS)/1e9, est.Confident, est.TooCoarse(1e9), est.TooCoarse(250e6))
	next := int64(300_000_000 + 60*period)
	lo, hi := e.Refine(window(next))
	fmt.Printf("next refresh at %d: window (%d, %d], %.1f ms wide\n", next, lo, hi, float64(hi-lo)/1e6)
	// Output:
	// period 0.9765 s, confident true, too coarse for 1 s: false, for 250 ms: true
	// next refresh at 58890000000: window (58888281249, 58892141545], 3.9 ms wide
}
