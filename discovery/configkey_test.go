package discovery

import (
	"bytes"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// TestConfigsKey: the key of two inputs is equal exactly when Configs
// publishes the same bytes for them, over a variation of every input
// Configs reads. A key equal for different configs would leave a taken
// router with configs it does not have; a key that differs for the same
// configs only costs a resend, but shows a field the key need not hold.
func TestConfigsKey(t *testing.T) {
	t.Parallel()
	info := &wire.Info{Node: "r1", Protocol: wire.ProtocolVersion, Version: "v1.2.0", OS: "linux", Arch: "mipsle", Kernel: "4.14.54-UBNT", Hostname: "erx",
		BootID: "b1", RunID: "run1", Interfaces: []string{"eth0"}, Capabilities: []string{"reply"}}
	base := Options{BridgeID: "nas", BridgeVersion: "v0.3.0", Interval: 10 * time.Second, SampleInterval: time.Second}
	router := Router{Node: "r1", Info: info, Ifaces: []string{"eth0", "pppoe0"}, Tariffs: []Tariff{{Name: "peak", Capped: true}}}
	with := func(f func(*Options, *Router)) (Options, Router) {
		o, r := base, router
		r.Ifaces = append([]string(nil), router.Ifaces...)
		r.Tariffs = append([]Tariff(nil), router.Tariffs...)
		in := *info
		r.Info = &in
		f(&o, &r)
		return o, r
	}
	tests := []struct {
		name string
		f    func(*Options, *Router)
	}{
		{"ha prefix", func(o *Options, _ *Router) { o.HAPrefix = "ha" }},
		{"default ha prefix spelled out", func(o *Options, _ *Router) { o.HAPrefix = DefaultHAPrefix }},
		{"topic prefix", func(o *Options, _ *Router) { o.TopicPrefix = "lab" }},
		{"bridge id", func(o *Options, _ *Router) { o.BridgeID = "nas2" }},
		{"bridge version", func(o *Options, _ *Router) { o.BridgeVersion = "v0.3.1" }},
		{"ha interval", func(o *Options, _ *Router) { o.Interval = 30 * time.Second }},
		{"sample interval below a second (peaks)", func(o *Options, _ *Router) { o.SampleInterval = 500 * time.Millisecond }},
		{"fleet", func(o *Options, _ *Router) { o.Fleet = true }},
		{"node", func(_ *Options, r *Router) { r.Node = "r2" }},
		{"no info", func(_ *Options, r *Router) { r.Info = nil }},
		{"hostname", func(_ *Options, r *Router) { r.Info.Hostname = "erx2" }},
		{"agent version", func(_ *Options, r *Router) { r.Info.Version = "v1.2.1" }},
		{"os", func(_ *Options, r *Router) { r.Info.OS = "openwrt" }},
		{"arch", func(_ *Options, r *Router) { r.Info.Arch = "arm" }},
		{"kernel", func(_ *Options, r *Router) { r.Info.Kernel = "5.10" }},
		{"a run of the agent", func(_ *Options, r *Router) { r.Info.RunID, r.Info.BootID = "run2", "b2" }},
		{"an interface more", func(_ *Options, r *Router) { r.Ifaces = append(r.Ifaces, "wg0") }},
		{"an interface renamed", func(_ *Options, r *Router) { r.Ifaces[1] = "ppp0" }},
		{"no tariffs", func(_ *Options, r *Router) { r.Tariffs = nil }},
		{"a tariff uncapped", func(_ *Options, r *Router) { r.Tariffs[0].Capped = false }},
		{"a tariff renamed", func(_ *Options, r *Router) { r.Tariffs[0].Name = "offpeak" }},
	}
	for _, fleet := range []bool{false, true} {
		for _, tt := range tests {
			o0, r0 := with(func(o *Options, _ *Router) { o.Fleet = fleet })
			o1, r1 := with(func(o *Options, r *Router) { o.Fleet = fleet; tt.f(o, r) })
			same := bytes.Equal(rendered(t, o0, r0), rendered(t, o1, r1))
			if keys := ConfigsKey(o0, r0) == ConfigsKey(o1, r1); keys != same {
				t.Errorf("fleet %v, %s: keys equal %v, configs equal %v", fleet, tt.name, keys, same)
			}
		}
	}
}

// rendered is every message of Configs(o, r), one after another.
func rendered(t *testing.T, o Options, r Router) []byte {
	t.Helper()
	msgs, err := Configs(o, r)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, m := range msgs {
		b.WriteString(m.Topic)
		b.WriteByte(0)
		b.Write(m.Payload)
		if m.Retained {
			b.WriteByte(1)
		}
		b.WriteByte(0)
	}
	return b.Bytes()
}
