// Command fleet drives scripts/bench-fleet.sh: it runs k real bridges
// (ifstat-bridge with IFSTAT_NETDATA=on) against a broker on which
// internal/tools/loadgen simulates the agents, and measures what a fleet
// user asks of IFSTAT_SHARD=auto:
//
//   - settle: from the bridges' start until every agent is rated by exactly
//     one bridge (read from their plugins.d streams);
//   - steady: each bridge's CPU and memory (RssAnon) over a window, with
//     the CPU of the broker and the load generator given by -pids, and the
//     samples each bridge rated or left as gaps;
//   - takeover: one bridge is frozen (SIGSTOP: its connection stays open,
//     as with a dead host), and the time until the broker published its
//     will and until every one of its agents was rated by another bridge;
//   - return: the frozen bridge is killed and started again, and the time
//     until the agents are shared as before;
//   - totals: the retained copies (P/fleet/state/<node>) are read before
//     the freeze and after the bridges stopped; for every interface the
//     total bytes booked in between must equal the counters' growth in
//     between, to the byte.
//
// With -shard k/n it runs the static split instead (no takeover), the
// "before" of the per-bridge replies measurement. It measures; the script
// prints. It is a benchmark tool, not part of any shipped binary.
package main
