package haout

import (
	"testing"
	"time"

	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
)

type discard struct{}

func (discard) Publish(string, byte, bool, []byte) {}

// BenchmarkEmit is the per-tick cost for one router with 8 interfaces,
// including one state message every 10 ticks.
func BenchmarkEmit(b *testing.B) {
	out, err := New(testOptions(), discard{}, time.Minute, nil)
	if err != nil {
		b.Fatal(err)
	}
	a := newAgent("er-x", erxInfo)
	samples := make([]*bridge.NodeSample, 20)
	for k := range samples {
		samples[k] = a.reply(k, int64(k)*1e9+1, allAt(awkward, k))
	}
	b.ReportAllocs()
	k := 0
	for b.Loop() {
		ns := *samples[k%len(samples)]
		ns.Tick = tick(k)
		out.Tick(ns.Tick, ns.Tick)
		out.Emit(&ns, ns.Tick)
		k++
	}
}
