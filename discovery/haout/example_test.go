package haout_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/haout"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// The optional interfaces the bridge finds by type assertion.
var (
	_ bridge.Output          = (*haout.Output)(nil)
	_ bridge.Ticker          = (*haout.Output)(nil)
	_ bridge.BirthListener   = (*haout.Output)(nil)
	_ bridge.ConnectListener = (*haout.Output)(nil)
	_ bridge.Publisher       = haout.PahoPublisher{}
)

type printer struct{}

func (printer) Publish(topic string, qos byte, retained bool, payload []byte) {
	if strings.HasSuffix(topic, "/state") {
		fmt.Printf("%s %s\n", topic, payload)
	}
}

// Two one-second intervals of 1 MB and 3 MB make a window average of
// 16 Mbit/s, not a sample of either second; the peak is the second of
// 3 MB, 24 Mbit/s over 1 s.
func Example() {
	out, err := haout.New(discovery.Options{BridgeID: "nas", Interval: 10 * time.Second}, printer{}, time.Minute, nil)
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var total rate.Values
	for k, mb := range []uint64{1, 3} {
		tick := t0.Add(time.Duration(k+1) * time.Second)
		total[rate.RxBytes] += mb * 1_000_000
		out.Emit(&bridge.NodeSample{
			Node: "er-x", Tick: tick, Reply: &wire.Reply{Node: "er-x"},
			Ifaces: []bridge.IfaceSample{{Name: "eth0", Result: rate.Result{
				Status: rate.OK, Rate: true, DtNS: 1e9,
				Delta: rate.Values{rate.RxBytes: mb * 1_000_000}, Total: total,
			}}},
		}, tick)
	}
	out.Tick(t0.Add(11*time.Second), t0.Add(11*time.Second))
	// Output:
	// ifstat/er-x/state {"time":"2026-11-22T10:00:10Z","window_s":10,"age_s":9,"ifaces":{"eth0":{"name":"eth0","rx_bps":16000000,"tx_bps":0,"rx_bytes":4000000,"tx_bytes":0,"rx_pps":0,"tx_pps":0,"rx_errors_ps":0,"tx_errors_ps":0,"rx_drops_ps":0,"tx_drops_ps":0,"rx_peak_bps":24000000,"tx_peak_bps":0,"peak_span_s":1,"refresh_s":null,"refresh_at_most_s":null,"too_coarse":false}}}
}
