package netdata

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// benchIfaces are the interfaces of a typical OpenWrt router.
var benchIfaces = [...]string{"br-lan", "eth0", "eth0.10", "eth1", "lo", "pppoe-wan", "wg0", "wlan0"}

// fleetSamples returns one rated sample per router of a fleet of n routers
// with the interfaces of benchIfaces, as the sampler hands them on: sorted
// names, a watch-mode refresh bound (so the refresh chart is defined) and
// a link speed.
func fleetSamples(n int) []*bridge.NodeSample {
	out := make([]*bridge.NodeSample, n)
	for i := range out {
		node := fmt.Sprintf("router-%04d", i)
		ns := &bridge.NodeSample{Node: node, Tick: t0, Reply: &wire.Reply{Node: node, MonoNS: 1e9}}
		for j, name := range benchIfaces {
			ns.Ifaces = append(ns.Ifaces, bridge.IfaceSample{
				Name: name, SpeedMbps: 1000,
				Refresh: refresh.Estimate{AtMostNS: 50_000_000, Windows: 12},
				Result: rate.Result{Status: rate.OK, DtNS: 1e9, Rate: true,
					Delta: rate.Values{rate.RxBytes: uint64(125_000 * (i + j)), rate.TxBytes: 31_250, rate.RxPackets: 100, rate.TxPackets: 25}},
			})
		}
		out[i] = ns
	}
	return out
}

// advance moves every sample one second on, as the next tick's replies.
func advance(samples []*bridge.NodeSample) {
	for _, ns := range samples {
		ns.Tick = ns.Tick.Add(time.Second)
		ns.Reply.MonoNS += 1e9
	}
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkOutputRetained reports the heap the outputs keep per interface
// once a fleet of 1,000 routers × 8 interfaces is defined and charted (what
// decides the bridge's RSS at 40,000 interfaces), and the time of one round
// of emits for the whole fleet.
func BenchmarkOutputRetained(b *testing.B) {
	const routers = 1000
	for _, tt := range []struct {
		name    string
		version string
	}{
		{"netdata-1.37", "v1.37.1"},
		{"virtual-nodes", "v1.44.0"},
	} {
		b.Run("Output/"+tt.name, func(b *testing.B) {
			measureRetained(b, routers, func() bridge.Output {
				return NewOutput(io.Discard, plugind.ParseFeatures(tt.version), time.Second, "6f0ee4e8-0b2a-11f0-9a7a-0242ac120002")
			})
		})
	}
	b.Run("FunctionOutput", func(b *testing.B) {
		log := logrus.New()
		log.SetOutput(io.Discard)
		measureRetained(b, routers, func() bridge.Output {
			return NewFunctionOutput(io.Discard, "v1.44.0", time.Second, logrus.NewEntry(log))
		})
	})
}

// measureRetained emits two rounds of a fleet of routers to the output mk
// makes (definitions, then a steady round), reports the heap it then keeps
// per interface, and times one round per iteration.
func measureRetained(b *testing.B, routers int, mk func() bridge.Output) {
	samples := fleetSamples(routers)
	round := func(o bridge.Output) {
		for _, ns := range samples {
			if err := o.Emit(ns, ns.Tick); err != nil {
				b.Fatal(err)
			}
		}
		advance(samples)
	}
	before := heapInUse()
	o := mk()
	round(o)
	round(o)
	retained := heapInUse() - before
	b.ReportAllocs()
	for b.Loop() {
		round(o)
	}
	runtime.KeepAlive(o)
	b.ReportMetric(float64(retained)/float64(routers*len(benchIfaces)), "B/iface")
}
