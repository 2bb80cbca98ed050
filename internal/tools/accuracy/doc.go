// Command accuracy measures, end to end, how exact the bridge's Netdata
// rates are against a driver whose counters refresh on their own clock.
// Per scenario it runs a private mosquitto on a free 127.0.0.1
// port, the real ifstat-agent on a netdevtest.Driver tree (8 interfaces,
// each receiving exactly 100 Mbit/s and sending 50 Mbit/s, refresh phases
// spread over the period) and the real ifstat-bridge with IFSTAT_NETDATA=on,
// parses the bridge's plugins.d stdout and judges every sample against the
// driver's true traffic. It is a benchmark, not a test: scripts/accuracy.sh
// builds the binaries and runs it.
//
// Alignment. The bridge's BEGIN carries the microseconds since the chart's
// last round, which are differences of the agent's mono_ns (the read
// times). The program also subscribes to the agent's replies, so it knows
// every mono_ns; a round is anchored to the reply whose mono_ns is the
// previous round's plus BEGIN's microseconds (within 2 ms; replies are
// 200 ms or more apart), which names the exact read (prev, end] the round
// closes. The driver's clock is CLOCK_BOOTTIME like the agent's, so
// True(end) − True(prev) over end − prev is the true average of that span,
// and Visible(end) − Visible(prev) must equal the round's raw deltas (the
// _raw_bytes chart): a check that the agent read what the driver showed. With a
// constant rate the true average over any span is the rate itself, so the
// error of a sample does not depend on which span (read span or the
// bridge's change span, the _raw_span chart) it is taken to cover.
//
// With -serve DIR it only creates a Driver tree in DIR (8 interfaces,
// -period) and serves it until killed, for scripts/bench-agent.sh.
//
// With -matrix MODES it runs the scenario matrix instead (see
// matrix.go and docs/accuracy.md): one mosquitto, per mode one agent per
// scenario on its own driver tree and one bridge per sampling interval,
// modes separated by ';' in batches one after the other; it prints one
// markdown table per mode and one for a naive reader.
//
// It leaves the agent and the bridge alone: it only starts them (and kills
// them by PID).
package main
