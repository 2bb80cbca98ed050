// Command floor-read is the work floor of scripts/bench-agent.sh: it reads
// <proc>/net/dev at a fixed rate with raw open/read/close system calls and a
// reused buffer, and does nothing else — no parsing, no MQTT, no encoding.
// Its CPU per read is what any agent must spend on the counters themselves.
//
// It runs until SIGINT or SIGTERM and prints how many reads it made on
// stderr.
package main
