// Command loadgen simulates many ifstat agents over a few MQTT connections,
// to measure the bridge under load (scripts/bench-bridge.sh drives it).
//
// Each simulated agent is a node "<prefix><index>" with IFSTAT_LOADGEN_IFACES
// interfaces whose counters grow at a constant rate per second of the
// loadgen's own monotonic clock, so every reply carries exact, known
// counters and mono_ns. It announces a retained "online" on P/N/status at
// start and a retained "offline" at exit, and answers every request on
// P/N/request with one reply on P/N/reply that follows docs/protocol.md.
//
// Agents share connections (IFSTAT_LOADGEN_PER_CONN per connection, each
// connection subscribing to the request topics of its own agents only, so the
// broker delivers every request exactly once). A shared connection cannot
// carry one last will per agent: an agent whose loadgen is killed stays
// "online" in the retained status until the next loadgen run replaces it.
//
// On SIGUSR1 and at exit it appends one JSON line of cumulative counters
// (requests received, replies published, drops, request arrival offsets in
// the second) to IFSTAT_LOADGEN_STATS, so a driver can difference two
// snapshots around a measurement window.
//
// It leaves the bridge, the broker and every measurement of CPU and memory
// to its driver, and it is not an agent: it reads no counters.
package main
