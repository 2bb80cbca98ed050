package state_test

import (
	"fmt"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

// On start a bridge merges its file with the retained per-node messages:
// each node comes from whichever copy saved it last.
func ExampleMerge() {
	t := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	node := func(saved time.Time, seq, rx uint64) state.NodeState {
		return state.NodeState{Saved: saved, Seq: seq,
			Ifaces: map[string]rate.Checkpoint{"eth0": {Totals: rate.Values{rx}}}}
	}
	file := &state.Snapshot{Bridge: "nas", Saved: t, Seq: 10, Nodes: map[string]state.NodeState{
		"er-x": node(t, 10, 1000), "rpi": node(t, 10, 500)}}
	// The replacement bridge on another host saved er-x a minute later.
	msg, _ := state.EncodeNode(&state.Snapshot{Bridge: "nas", Saved: t.Add(time.Minute), Seq: 1,
		Nodes: map[string]state.NodeState{"er-x": node(t.Add(time.Minute), 1, 1500)}}, "er-x")
	retained, err := state.DecodeNode(msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := state.Merge(file, retained)
	for _, n := range []string{"er-x", "rpi"} {
		fmt.Println(n, m.Nodes[n].Ifaces["eth0"].Totals[rate.RxBytes])
	}
	fmt.Println(wire.BridgeTopics{Prefix: "ifstat", BridgeID: "nas"}.States().Node("er-x"))
	// Output:
	// er-x 1500
	// rpi 500
	// ifstat/bridge/nas/state/er-x
}
