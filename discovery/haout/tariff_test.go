package haout

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
)

var cet = time.FixedZone("CET", 3600)

// usage is the bridge's tariff usage of interface i at tick k: happy
// (uncapped) grows by 1000 B/s received and 10 B/s sent, normal (capped at
// 1 MB) by twice that; the cycle began on Nov 1 with 100 B of each.
func usage(i, k int, active string) *bridge.TariffUsage {
	n := uint64(i+1) * uint64(k)
	return &bridge.TariffUsage{
		Active:     active,
		CycleStart: time.Date(2026, 11, 1, 0, 0, 0, 0, cet),
		CycleEnd:   time.Date(2026, 12, 1, 0, 0, 0, 0, cet),
		Tariffs: []bridge.TariffTotals{
			{Name: "happy", Lifetime: tariff.Usage{Rx: 5000 + 1000*n, Tx: 50 + 10*n}, Current: tariff.Usage{Rx: 100 + 1000*n, Tx: 100 + 10*n}, Previous: tariff.Usage{Rx: 4900, Tx: 7}},
			{Name: "normal", Lifetime: tariff.Usage{Rx: 2000 * n, Tx: 20 * n}, Current: tariff.Usage{Rx: 2000 * n, Tx: 20 * n}, Cap: 1_000_000, Share: float64(2020*n) / 1e4},
		},
	}
}

// withTariffs adds usage(i, k) to every present interface of ns.
func withTariffs(ns *bridge.NodeSample, k int, active string, names []string) *bridge.NodeSample {
	for j := range ns.Ifaces {
		is := &ns.Ifaces[j]
		for i, name := range names {
			if is.Name == name && !is.Absent {
				is.Tariff = usage(i, k, active)
			}
		}
	}
	return ns
}

func runTariffs(t *testing.T, out *Output, a *agent, names []string, from, to int, active func(k int) string) {
	t.Helper()
	for k := from; k <= to; k++ {
		out.Tick(tick(k), tick(k).Add(time.Millisecond))
		ns := withTariffs(a.reply(k, int64(k)*1e9+12345, allAt(names, k)), k, active(k), names)
		out.Emit(ns, tick(k).Add(5*time.Millisecond))
	}
}

var tariffSet = []discovery.Tariff{{Name: "happy"}, {Name: "normal", Capped: true}}

// TestTariffState: the state of window :10 carries the usage of its last
// sample (tick 10) exactly, and every config published passes hatest.
func TestTariffState(t *testing.T) {
	t.Parallel()
	out, rec := newOutput(t, 0)
	a := newAgent("er-x", erxInfo)
	names := []string{"eth0", "eth0.100"}
	runTariffs(t, out, a, names, 0, 10, func(k int) string {
		if k < 7 {
			return "happy"
		}
		return "normal"
	})
	out.Tick(tick(11), tick(11))
	msgs := rec.take()
	checkAll(t, msgs)
	want, err := discovery.Configs(testOptions(), discovery.Router{Node: "er-x", Info: erxInfo, Ifaces: names, Tariffs: tariffSet})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(asMsgs(want, ConfigQoS), msgs[:len(want)]); diff != "" {
		t.Errorf("configs (-want +got):\n%s", diff)
	}
	st := states(msgs)
	if len(st) != 2 {
		t.Fatalf("published %d states, want 2", len(st))
	}
	var got struct {
		Ifaces map[string]struct {
			Tariff json.RawMessage `json:"tariff"`
		} `json:"ifaces"`
	}
	if err := json.Unmarshal([]byte(st[1].Payload), &got); err != nil {
		t.Fatal(err)
	}
	// eth0 is interface 0 at tick 10 (n = 10), eth0.100 interface 1 (n = 20).
	wantTariff := map[string]string{
		"eth0": `{"active":"normal","cycle_start":"2026-11-01T00:00:00+01:00","cycle_end":"2026-12-01T00:00:00+01:00","usage":{` +
			`"happy":{"rx_bytes":15000,"tx_bytes":150,"rx_cycle":10100,"tx_cycle":200,"rx_prev":4900,"tx_prev":7,"share":null},` +
			`"normal":{"rx_bytes":20000,"tx_bytes":200,"rx_cycle":20000,"tx_cycle":200,"rx_prev":0,"tx_prev":0,"share":2.02}}}`,
		discovery.IfaceID("eth0.100"): `{"active":"normal","cycle_start":"2026-11-01T00:00:00+01:00","cycle_end":"2026-12-01T00:00:00+01:00","usage":{` +
			`"happy":{"rx_bytes":25000,"tx_bytes":250,"rx_cycle":20100,"tx_cycle":300,"rx_prev":4900,"tx_prev":7,"share":null},` +
			`"normal":{"rx_bytes":40000,"tx_bytes":400,"rx_cycle":40000,"tx_cycle":400,"rx_prev":0,"tx_prev":0,"share":4.04}}}`,
	}
	gotTariff := map[string]string{}
	for id, f := range got.Ifaces {
		gotTariff[id] = string(f.Tariff)
	}
	if diff := cmp.Diff(wantTariff, gotTariff); diff != "" {
		t.Errorf("tariff objects (-want +got):\n%s", diff)
	}
}

// TestTariffLifecycle: configs follow the tariff set; Birth and Connected
// repeat them; a vanished interface takes its tariff entities along.
func TestTariffLifecycle(t *testing.T) {
	out, rec := newOutput(t, 0)
	a := newAgent("er-x", erxInfo)
	names := []string{"eth0", "wg0"}
	happy := func(int) string { return "happy" }
	cfgs := func(tariffs []discovery.Tariff, ifaces ...string) []msg {
		ms, err := discovery.Configs(testOptions(), discovery.Router{Node: "er-x", Info: erxInfo, Ifaces: ifaces, Tariffs: tariffs})
		if err != nil {
			t.Fatal(err)
		}
		return asMsgs(ms, ConfigQoS)
	}

	// Without tariff data first: the plain set.
	run(t, out, a, 0, 0, func(k int) map[string]rate.Values { return allAt(names, k) })
	drain(out)
	if diff := cmp.Diff(cfgs(nil, names...), configsOf(rec.take())); diff != "" {
		t.Errorf("tick 0, no tariffs (-want +got):\n%s", diff)
	}
	// Tariff data arrives: everything again, with tariff entities.
	runTariffs(t, out, a, names, 1, 1, happy)
	drain(out)
	if diff := cmp.Diff(cfgs(tariffSet, names...), configsOf(rec.take())); diff != "" {
		t.Errorf("tick 1, tariffs arrive (-want +got):\n%s", diff)
	}
	// Same set: nothing.
	runTariffs(t, out, a, names, 2, 2, happy)
	drain(out)
	if got := configsOf(rec.take()); len(got) != 0 {
		t.Errorf("tick 2, same tariffs: published %d messages", len(got))
	}
	// A sample without tariff data keeps the set.
	run(t, out, a, 3, 3, func(k int) map[string]rate.Values { return allAt(names, k) })
	drain(out)
	if got := configsOf(rec.take()); len(got) != 0 {
		t.Errorf("tick 3, no tariff data: published %d messages", len(got))
	}
	// The cap goes and "normal" becomes "day": the old share and normal
	// entities are removed, then the new set is published.
	next := []discovery.Tariff{{Name: "happy"}, {Name: "day"}}
	ns := a.reply(4, 4e9+12345, allAt(names, 4))
	for j := range ns.Ifaces {
		u := usage(j, 4, "day")
		u.Tariffs[1].Name, u.Tariffs[1].Cap = "day", 0
		ns.Ifaces[j].Tariff = u
	}
	out.Emit(ns, tick(4))
	drain(out)
	var want []msg
	for _, iface := range names {
		for _, key := range []string{"rx_total-normal", "tx_total-normal", "rx_cycle-normal", "tx_cycle-normal", "share-normal"} {
			want = append(want, msg{"homeassistant/sensor/ifstat_er-x/" + iface + "_" + key + "/config", ConfigQoS, true, ""})
		}
	}
	want = append(want, cfgs(next, names...)...)
	if diff := cmp.Diff(want, configsOf(rec.take())); diff != "" {
		t.Errorf("tick 4, tariff set changed (-want +got):\n%s", diff)
	}
	// Birth and Connected repeat the configs with tariffs.
	out.Connected(tick(5))
	drain(out)
	if diff := cmp.Diff(append(bridgeConfigs(t), cfgs(next, names...)...), configsOf(rec.take())); diff != "" {
		t.Errorf("Connected (-want +got):\n%s", diff)
	}
	// wg0 goes obsolete: all its entities, tariff ones included.
	ns = a.reply(6, 6e9+12345, allAt([]string{"eth0"}, 6))
	for j := range ns.Ifaces {
		if ns.Ifaces[j].Name == "wg0" {
			ns.Ifaces[j].Obsolete = true
		}
	}
	out.Emit(ns, tick(6))
	gone, err := discovery.Removals(testOptions(), "er-x", []string{"wg0"}, next)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 13+1+4*2 {
		t.Errorf("wg0 removal has %d messages, want 19", len(gone))
	}
	if diff := cmp.Diff(asMsgs(gone, ConfigQoS), configsOf(rec.take())); diff != "" {
		t.Errorf("wg0 obsolete (-want +got):\n%s", diff)
	}
}

// configsOf drops state messages.
func configsOf(msgs []msg) []msg {
	var out []msg
	for _, m := range msgs {
		if !strings.HasSuffix(m.Topic, "/state") {
			out = append(out, m)
		}
	}
	return out
}

// TestTariffBadNames: a tariff set discovery refuses leaves the router's
// entities as they were instead of breaking them.
func TestTariffBadNames(t *testing.T) {
	t.Parallel()
	out, rec := newOutput(t, 0)
	a := newAgent("er-x", erxInfo)
	ns := a.reply(0, 12345, allAt([]string{"eth0"}, 0))
	ns.Ifaces[0].Tariff = &bridge.TariffUsage{Active: "Bad Name", Tariffs: []bridge.TariffTotals{{Name: "Bad Name"}}}
	out.Emit(ns, tick(0))
	drain(out)
	if diff := cmp.Diff(routerConfigs(t, erxInfo, "eth0"), configsOf(rec.take())); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}
