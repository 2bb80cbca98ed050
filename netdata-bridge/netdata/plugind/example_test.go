package plugind_test

import (
	"fmt"
	"os"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"
)

// A bandwidth chart for interface eth0 of router er-x on a Netdata without
// virtual nodes, its first round and one a second later. The bridge sends
// rates in bits/s; the divisor 1000 shows kilobits/s with three decimals and
// the multiplier -1 draws sent below the axis. The stale sent counter of the
// second round is a gap, not a zero.
func Example() {
	w := plugind.NewWriter(plugind.ParseFeatures("v1.37.1"))
	if err := w.Host(""); err != nil {
		fmt.Fprintln(os.Stderr, "no virtual nodes:", err)
	}
	chart := plugind.ChartOpts{
		Type: "ifstat_er-x", ID: "eth0_net", Title: "Bandwidth er-x eth0", Units: "kilobits/s",
		Family: "eth0", Context: "ifstat.net", ChartType: plugind.ChartArea, Priority: 7000, UpdateEvery: 1,
		Plugin: "ifstat", Module: "mqtt",
	}
	w.Chart(chart)
	w.Dimension(plugind.DimensionOpts{ID: "received", Name: "received", Multiplier: 1, Divisor: 1000})
	w.Dimension(plugind.DimensionOpts{ID: "sent", Name: "sent", Multiplier: -1, Divisor: 1000})

	w.Begin(chart.TypeID(), 0)
	w.Set("received", 81234567)
	w.Set("sent", 2345678)
	w.End()
	if err := w.Flush(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}

	w.Begin(chart.TypeID(), 1000250*time.Microsecond)
	w.Set("received", 80999001)
	w.SetEmpty("sent")
	w.End()
	if err := w.Flush(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	// Output:
	// CHART 'ifstat_er-x.eth0_net' '' 'Bandwidth er-x eth0' 'kilobits/s' 'eth0' 'ifstat.net' 'area' 7000 1 '' 'ifstat' 'mqtt'
	// DIMENSION 'received' 'received' 'absolute' 1 1000 ''
	// DIMENSION 'sent' 'sent' 'absolute' -1 1000 ''
	// BEGIN 'ifstat_er-x.eth0_net'
	// SET 'received' = 81234567
	// SET 'sent' = 2345678
	// END
	// BEGIN 'ifstat_er-x.eth0_net' 1000250
	// SET 'received' = 80999001
	// SET 'sent' = ''
	// END
}

// On Netdata 1.39 and later each router is a node of its own: defined once,
// made current with HOST before its rounds, and left with an empty HOST.
func ExampleWriter_HostDefine() {
	w := plugind.NewWriter(plugind.ParseFeatures("v2.7.0"))
	guid := plugind.HostGUID("8a795b0c-2311-11ee-a3e4-0242ac120002", "er-x")
	if err := w.HostDefine(guid, "er-x"); err != nil {
		fmt.Println(err)
		return
	}
	_ = w.HostLabel("ifstat_node", "er-x")
	_ = w.HostDefineEnd()
	w.Chart(plugind.ChartOpts{Type: "ifstat", ID: "eth0_net", Units: "kilobits/s", Family: "eth0", Context: "ifstat.net"})
	w.Dimension(plugind.DimensionOpts{ID: "received", Divisor: 1000})
	_ = w.Host("")
	fmt.Print(string(w.Bytes()))

	old := plugind.NewWriter(plugind.ParseFeatures("v1.37.1"))
	fmt.Println(old.HostDefine(guid, "er-x"), old.Len())
	// Output:
	// HOST_DEFINE '8ad8305d-18a0-5b9a-9656-7aa3dd383d85' 'er-x'
	// HOST_LABEL 'ifstat_node' 'er-x'
	// HOST_DEFINE_END
	// CHART 'ifstat.eth0_net' '' '' 'kilobits/s' 'eth0' 'ifstat.net' 'line' 1000 0 '' '' ''
	// DIMENSION 'received' '' 'absolute' 1 1000 ''
	// HOST ''
	// HOST_DEFINE: keyword not supported by this netdata version 0
}
