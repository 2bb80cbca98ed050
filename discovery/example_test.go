package discovery_test

import (
	"fmt"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
)

func Example() {
	o := discovery.Options{BridgeID: "nas", BridgeVersion: "v0.2.0", Interval: 10 * time.Second}
	msgs, err := discovery.Configs(o, discovery.Router{Node: "er-x", Ifaces: []string{"eth0.100"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(msgs), "configs, first interface entity:")
	fmt.Println(msgs[2].Topic)

	state := discovery.State{
		Time:   time.Date(2026, 11, 22, 10, 0, 10, 0, time.UTC),
		Window: 10 * time.Second,
		Age:    12 * time.Millisecond,
		Ifaces: map[string]discovery.IfaceState{"eth0.100": {
			Rates:   &discovery.Rates{RxBits: 8e6, TxBits: 1.5e5, RxPackets: 700},
			RxBytes: 123456789, TxBytes: 98765,
			Peak:    &discovery.Peak{RxBits: 3.2e7, TxBits: 4e5, Span: 250 * time.Millisecond},
			Refresh: 250 * time.Millisecond,
		}},
	}
	fmt.Println(wire.Topics{Prefix: "ifstat", Node: "er-x"}.State())
	fmt.Printf("%s\n", state.Marshal())

	gone, _ := discovery.Removals(o, "er-x", []string{"eth0.100"}, nil)
	fmt.Printf("%s %q retained=%v\n", gone[0].Topic, gone[0].Payload, gone[0].Retained)
	// Output:
	// 15 configs, first interface entity:
	// homeassistant/sensor/ifstat_er-x/eth0_100_959ba6_rx_rate/config
	// ifstat/er-x/state
	// {"time":"2026-11-22T10:00:10Z","window_s":10,"age_s":0.012,"ifaces":{"eth0_100_959ba6":{"name":"eth0.100","rx_bps":8000000,"tx_bps":150000,"rx_bytes":123456789,"tx_bytes":98765,"rx_pps":700,"tx_pps":0,"rx_errors_ps":0,"tx_errors_ps":0,"rx_drops_ps":0,"tx_drops_ps":0,"rx_peak_bps":32000000,"tx_peak_bps":400000,"peak_span_s":0.25,"refresh_s":0.25,"refresh_at_most_s":null,"too_coarse":false}}}
	// homeassistant/sensor/ifstat_er-x/eth0_100_959ba6_rx_rate/config "" retained=true
}
