// Package netdev reads a consistent snapshot of interface counters: one read
// of /proc/net/dev stamped with the monotonic and wall clocks right beside
// it, filtered by name patterns, plus each interface's ifindex and link
// speed from /sys/class/net, re-read only when the interface set changes or
// a counter goes backwards.
//
// The file is read with raw syscalls into a reused, size-capped buffer and
// parsed by our own parser, not by procfs's NetDev: procfs v0.23.0
// panics on a truncated line, fails the whole file for one bad number, reads
// without a size limit and allocates per interface on every read. Here a
// bad line drops only its interface (reported in Snapshot.Skipped), a
// missing header or an oversized file fails the read, and a steady-state
// read allocates once.
//
// What the counters mean is the kernel's: rx_dropped in /proc/net/dev is
// rx_dropped + rx_missed_errors (net/core/net-procfs.c), which can exceed
// /sys/class/net/<if>/statistics/rx_dropped. Link speed is cached like the
// ifindex, so a renegotiated link shows its new speed only after the next
// set change or counter decrease.
//
// It knows nothing about MQTT; the publisher package turns snapshots into
// replies. Package netdevtest writes fake trees for tests.
package netdev
