// Package netdev reads a consistent snapshot of interface counters: one read
// of /proc/net/dev (through github.com/prometheus/procfs) stamped with the
// monotonic and wall clocks right beside it, filtered by name patterns, plus
// each interface's ifindex and link speed from /sys/class/net, re-read only
// when the interface set changes or a counter goes backwards.
//
// It knows nothing about MQTT; the publisher package turns snapshots into
// replies.
package netdev
