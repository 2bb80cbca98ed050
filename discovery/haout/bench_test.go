package haout

import (
	"fmt"
	"runtime"
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

// BenchmarkOutputRetained measures what Output keeps per interface for a
// fleet of 1,000 routers with 8 interfaces each, in the middle of a window
// (as a running bridge almost always is), and the cost of one tick for the
// whole fleet: Tick, then every router's Emit.
func BenchmarkOutputRetained(b *testing.B) {
	const routers = 1000
	// An ER-X's interfaces: plain names, one (switch0.10) whose id is
	// hashed, as in a real fleet.
	names := []string{"eth0", "eth1", "eth2", "eth3", "eth4", "pppoe0", "switch0", "switch0.10"}
	a := newAgent("er-x", erxInfo)
	samples := make([]*bridge.NodeSample, 20)
	for k := range samples {
		samples[k] = a.reply(k, int64(k)*1e9+1, allAt(names, k))
	}
	nodes := make([]string, routers)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("r%04d", i)
	}
	out, err := New(testOptions(), discard{}, time.Minute, nil)
	if err != nil {
		b.Fatal(err)
	}
	// The samples are shared by every router: Emit only reads them, and
	// they stay out of what is counted.
	round := func(k int) {
		t := tick(k)
		out.Tick(t, t)
		for _, node := range nodes {
			ns := *samples[k%len(samples)]
			ns.Node, ns.Tick = node, t
			out.Emit(&ns, t)
		}
	}
	before := heapInUse()
	round(0)
	drain(out) // every router configured, as after start-up
	// Two full windows, then 4 ticks into the third.
	k := 1
	for ; k <= 24; k++ {
		round(k)
	}
	retained := heapInUse() - before
	runtime.KeepAlive(samples)

	b.ReportAllocs()
	for b.Loop() {
		round(k)
		k++
	}
	// After the loop: b.Loop resets the timer, and with it the metrics.
	b.ReportMetric(float64(retained)/(routers*float64(len(names))), "B/iface")
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// BenchmarkEmitNewRouter is the first sample of a router with an ER-X's
// 8 interfaces: the interfaces are checked for discovery together
// (acceptAll), once. Checked one by one over a growing list it cost
// 3.9 ms and 993 kB a router, seconds of the bridge's loop when a fleet
// of thousands appeared at start-up or moved at a takeover.
func BenchmarkEmitNewRouter(b *testing.B) {
	names := []string{"eth0", "eth1", "eth2", "eth3", "eth4", "pppoe0", "switch0", "switch0.10"}
	s := newAgent("er-x", erxInfo).reply(0, 1, allAt(names, 0))
	o := testOptions()
	o.Fleet = true
	out, err := New(o, discard{}, time.Minute, nil)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		ns := *s
		ns.Node = fmt.Sprintf("r%06d", i)
		i++
		out.Emit(&ns, tick(0))
	}
}
