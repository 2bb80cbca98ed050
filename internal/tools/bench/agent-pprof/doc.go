// Command agent-pprof runs the agent (package publisher, configured from
// IFSTAT_* like cmd/ifstat-agent, with its memory defaults) under a Go CPU
// profile written to -cpuprofile when it gets SIGINT or SIGTERM. Go's
// profiler follows goroutine stacks through stack growth, which perf does
// not, so it attributes the agent's per-request cost to functions.
//
// A profiling aid for scripts/bench-agent.sh findings, not a shipped binary.
package main
