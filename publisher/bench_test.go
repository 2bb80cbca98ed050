package publisher

import (
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// BenchmarkReadEncode is the agent's work per request without MQTT: one
// read of /proc/net/dev (8 interfaces) and the reply encoded into a reused
// buffer.
func BenchmarkReadEncode(b *testing.B) {
	tree := netdevtest.NewTree(b)
	for i, name := range []string{"eth0", "eth1", "eth2", "eth3", "eth4", "switch0", "switch0.10", "pppoe0"} {
		tree.Set(name, wire.Counters{
			RxBytes: 1 << 40, TxBytes: 1<<33 + uint64(i), RxPackets: 123456789, TxPackets: 98765432,
			RxErrors: 1, TxErrors: 2, RxDropped: 300, TxDropped: 4, Ifindex: int64(i + 2), SpeedMbps: 1000,
		})
	}
	tree.SetBootID("6f1f4c52-3a3e-4d0e-9d1c-2b7a4f0e9a11")
	tree.Write()
	r, err := netdev.NewReader(netdev.Options{ProcRoot: tree.ProcRoot(), SysRoot: tree.SysRoot()})
	if err != nil {
		b.Fatal(err)
	}
	var enc wire.Encoder
	buf := make([]byte, 0, 4096)
	var seq uint64
	b.ReportAllocs()
	for b.Loop() {
		snap, err := r.Read()
		if err != nil {
			b.Fatal(err)
		}
		seq++
		rep := wire.Reply{ID: "bridge-1234", Node: "er-x", MonoNS: snap.MonoNS, TimeNS: snap.TimeNS,
			BootID: r.BootID(), RunID: "0123456789abcdef", Seq: seq, Ifaces: snap.Ifaces}
		buf = enc.AppendReply(buf[:0], &rep)
	}
	if len(buf) < 8*100 {
		b.Fatalf("reply of %d bytes is too short for 8 interfaces", len(buf))
	}
}
