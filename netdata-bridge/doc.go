// Package bridge is the core of ifstat-bridge: it follows the agents that
// announce themselves on P/+/status, sends each one request per tick of an
// aligned clock, matches replies to requests, turns counters into exact
// rates with package rate, and hands the samples to its outputs through the
// Output interface. The outputs live beside it: the Netdata output in
// netdata-bridge/netdata, Home Assistant's in discovery/haout, the terminal
// view in netdata-bridge/watch; cmd/ifstat-bridge chooses which run.
//
// The matching and bookkeeping live in Sampler, which takes time as an
// argument and never touches the network; Bridge is the thin MQTT loop
// around it. Start with Sampler, then Bridge.Run.
package bridge
