// Package bridge is ifstat-bridge: it follows the agents that announce
// themselves on P/+/status, sends each one request per tick of an aligned
// clock, matches replies to requests, turns counters into exact rates with
// package rate, and hands the results to its outputs (Netdata's plugins.d
// protocol on stdout; Home Assistant in a later step).
//
// The matching and bookkeeping live in Sampler, which takes time as an
// argument and never touches the network; Bridge is the thin MQTT loop
// around it.
package bridge
