// Package publisher is the router agent: it subscribes to P/N/request and
// answers each request with one fresh read of the interface counters on
// P/N/reply, keeps P/N/status ("online"/"offline") and the retained
// description on P/N/info up to date, and stays cheap under hostile request
// floods (a token bucket on replies, fair queueing across requesters).
//
// It leaves reading counters to internal/netdev, the payload format to
// internal/wire, the MQTT client set-up to internal/mqttx, and rates, wraps
// and resets to the bridge. It keeps no sampling clock of its own: the
// watch (IFSTAT_WATCH; autowatch.go for the default, auto) reads the
// counters between requests, but only to note per interface which driver
// refresh the values are current as of (changed_ns, unchanged_ns in
// replies); it never publishes on its own.
package publisher
