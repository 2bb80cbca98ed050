// Package tariff splits traffic among named tariffs by time of day and day
// of week, and adds it up per billing cycle. It is pure: every instant comes
// in as an argument, it never calls time.Now, logs, or touches files or the
// network. Reading IFSTAT_* variables, keeping the state on disk and in
// retained MQTT messages, and publishing sensors are the bridge's job; the
// byte deltas it feeds in come from netdata-bridge/rate, which already left
// out what the counters cannot prove (a reset interval contributes only
// what the counters show after the reset).
//
// The schedule syntax, time zones, the pro-rata split and billing cycles
// are specified in docs/tariffs.md. Start with Parse, then Accumulator.
package tariff
