package bridge

import "testing"

func TestAgentFitPlace(t *testing.T) {
	t.Parallel()
	const s = int64(1e9)
	// A 0.5 s clock claimed with a 1 ms window around 10.3 s, as the
	// e2e driver at phase 0.3 gives it; 12.5 MB/s before.
	fit := agentFit{}
	fit.claim(10300*ms-ms/2, 10300*ms+ms/2, 500*ms)
	steady := lastRate{bytes: 12_500_000, spanNS: s}
	tests := []struct {
		name   string
		fit    agentFit
		mono   int64
		base   int64
		delta  uint64
		last   lastRate
		wantOK bool
		wantAt int64 // the window's midpoint when placed
	}{
		{"one second on: two refreshes", fit, 11500 * ms, 10300 * ms, 12_500_000, steady, true, 11300 * ms},
		{"read 200 ms past a refresh", fit, 11500 * ms, 10800 * ms, 6_250_000, steady, true, 11300 * ms},
		{"delta 0.4 % over", fit, 11500 * ms, 10300 * ms, 12_550_000, steady, true, 11300 * ms},
		{"delta 0.6 % over: a moved clock or new traffic", fit, 11500 * ms, 10300 * ms, 12_575_000, steady, false, 0},
		{"delta 0.6 % under", fit, 11500 * ms, 10300 * ms, 12_425_000, steady, false, 0},
		{"one refresh more than the clock says", fit, 11500 * ms, 10300 * ms, 18_750_000, steady, false, 0},
		{"read 40 ms after a refresh: within the read lag", fit, 11340 * ms, 10300 * ms, 12_500_000, steady, false, 0},
		{"read 60 ms after a refresh", fit, 11360 * ms, 10300 * ms, 12_500_000, steady, true, 11300 * ms},
		{"read 2 ms before a refresh: within the margin", fit, 11798 * ms, 10300 * ms, 12_500_000, steady, false, 0},
		{"read 10 ms before a refresh", fit, 11790 * ms, 10800 * ms, 6_250_000, steady, true, 11300 * ms},
		{"base off the clock", fit, 11500 * ms, 10550 * ms, 9_375_000, steady, false, 0},
		{"no refresh since the base", fit, 10500 * ms, 10300 * ms, 0, steady, false, 0},
		{"base unknown", fit, 11500 * ms, 0, 12_500_000, steady, false, 0},
		{"no rate before", fit, 11500 * ms, 10300 * ms, 12_500_000, lastRate{}, false, 0},
		{"no clock claimed", agentFit{}, 11500 * ms, 10300 * ms, 12_500_000, steady, false, 0},
		{"read before the anchor", fit, 10200 * ms, 9300 * ms, 12_500_000, steady, false, 0},
		{"clock claimed 29 s ago", fit, 39500 * ms, 38300 * ms, 12_500_000, steady, true, 39300 * ms},
		{"clock claimed 31 s ago", fit, 41500 * ms, 40300 * ms, 12_500_000, steady, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lo, hi, ok := tt.fit.place(tt.mono, tt.base, tt.delta, tt.last)
			if ok != tt.wantOK {
				t.Fatalf("place(%d, %d, %d) ok %v, want %v", tt.mono, tt.base, tt.delta, ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if mid := lo + (hi-lo)/2; mid != tt.wantAt {
				t.Errorf("placed at %d, want %d", mid, tt.wantAt)
			}
			if hi >= tt.mono || lo >= hi {
				t.Errorf("window (%d, %d] not before the read at %d", lo, hi, tt.mono)
			}
		})
	}
}

func TestAgentFitAgrees(t *testing.T) {
	t.Parallel()
	fit := agentFit{}
	fit.claim(1300*ms-ms/2, 1300*ms+ms/2, 1000*ms)
	tests := []struct {
		name   string
		lo, hi int64
		want   bool
	}{
		{"holds a predicted refresh", 5298 * ms, 5302 * ms, true},
		{"ends 1 ms before one: within the margin", 5295 * ms, 5299 * ms, true},
		{"starts 2 ms after one: within the margin", 5302 * ms, 5306 * ms, true},
		{"120 ms after one", 5418 * ms, 5422 * ms, false},
		{"between two", 5700 * ms, 5710 * ms, false},
	}
	for _, tt := range tests {
		if got := fit.agrees(tt.lo, tt.hi); got != tt.want {
			t.Errorf("%s: agrees(%d, %d) = %v, want %v", tt.name, tt.lo, tt.hi, got, tt.want)
		}
	}
}
