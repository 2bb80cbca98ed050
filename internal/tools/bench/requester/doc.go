// Command requester drives one measurement of scripts/bench-agent.sh. It
// asks at a fixed rate — MQTT requests to an agent or to the transport
// floor, HTTP scrapes of node_exporter, or nothing at all for the read
// floor, which paces itself — counts the answers, and samples the CPU time
// (/proc/<pid>/stat utime+stime, and the nanosecond sum of
// /proc/<pid>/task/*/schedstat) and memory (/proc/<pid>/status VmRSS,
// VmHWM, RssAnon) of the measured processes right before the first and after the
// last request. It prints one tab-separated row per process.
//
// It measures; it judges nothing: the script prints the table and the
// ratios. It is a benchmark tool, not part of any shipped binary.
package main
