package main

import (
	"fmt"
	"strconv"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// BaseMonoNS is the simulated boot time at the loadgen's start: agents look
// as if their router had been up for a while.
const BaseMonoNS = 1_000_000_000_000

// Rates are one interface's counter increments per second, in wire order
// (rx/tx bytes, packets, errors, drops).
type Rates [8]uint64

// RatesFor returns the constant rates of interface j of agent i: distinct
// per agent and interface, all moving (the bridge takes a still byte or
// packet counter for a stale driver), far below a 1 Gbit/s link and with
// 500 bytes per packet, so every interval gives a plausible, exact rate.
func RatesFor(i, j int) Rates {
	rx := uint64(125_000*(j+1) + 1000*(i%100)) // 1–8.8 Mbit/s
	tx := rx / 2
	return Rates{rx, tx, rx / 500, tx / 500, uint64(j % 3), uint64(j % 2), uint64(j), 1}
}

// Counters returns the counters of an interface with rates r after
// elapsedNS of simulated time, starting from base. The result is exact:
// floor(base + rate × elapsed / 1 s) for every counter.
func Counters(base, r Rates, elapsedNS int64, ifindex int64) wire.Counters {
	var v [8]uint64
	sec, frac := uint64(elapsedNS/1e9), uint64(elapsedNS%1e9)
	for k := range v {
		// rate × frac stays below 2^64 for rates below 1.8e10 per second.
		v[k] = base[k] + r[k]*sec + r[k]*frac/1e9
	}
	return wire.Counters{
		RxBytes: v[0], TxBytes: v[1], RxPackets: v[2], TxPackets: v[3],
		RxErrors: v[4], TxErrors: v[5], RxDropped: v[6], TxDropped: v[7],
		Ifindex: ifindex, SpeedMbps: 1000,
	}
}

// Agent is one simulated router. Its fields are fixed at start; only seq
// changes, and only on its group's worker goroutine.
type Agent struct {
	Node   string
	Topics wire.Topics
	BootID string
	names  []string
	base   []Rates
	rates  []Rates
	seq    uint64
}

// NewAgent returns agent i of a run: node "<nodePrefix><i>", nIfaces
// interfaces named eth0…, each with RatesFor(i, j) and a base that keeps
// the counters apart from zero.
func NewAgent(prefix, nodePrefix string, i, nIfaces int, runTag string) *Agent {
	node := nodePrefix + strconv.Itoa(i)
	a := &Agent{
		Node:   node,
		Topics: wire.Topics{Prefix: prefix, Node: node},
		BootID: fmt.Sprintf("%08s-0000-4000-8000-%012x", runTag, i),
	}
	for j := range nIfaces {
		a.names = append(a.names, "eth"+strconv.Itoa(j))
		a.rates = append(a.rates, RatesFor(i, j))
		var b Rates
		for k := range b {
			b[k] = uint64(i+1) * uint64(j+1) * 1000 * uint64(k+1)
		}
		a.base = append(a.base, b)
	}
	return a
}

// Reply fills r (reusing its map) with the answer to request id read at
// elapsedNS of the loadgen's monotonic clock and wall time timeNS, and
// advances the agent's sequence.
func (a *Agent) Reply(r *wire.Reply, id, runID string, elapsedNS, timeNS int64) {
	a.seq++
	if r.Ifaces == nil {
		r.Ifaces = make(map[string]wire.Counters, len(a.names))
	}
	clear(r.Ifaces)
	*r = wire.Reply{
		ID: id, Node: a.Node, MonoNS: BaseMonoNS + elapsedNS, TimeNS: timeNS,
		BootID: a.BootID, RunID: runID, Seq: a.seq, Ifaces: r.Ifaces,
	}
	for j, name := range a.names {
		r.Ifaces[name] = Counters(a.base[j], a.rates[j], elapsedNS, int64(j+2))
	}
}
