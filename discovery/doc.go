// Package discovery builds Home Assistant MQTT discovery payloads for the
// routers the bridge watches, the readable JSON state message those entities
// read, and the messages that remove entities of interfaces that are gone.
//
// It is pure: no MQTT client, no clock, no network. The bridge
// (netdata-bridge/) publishes what it returns, decides when (HA birth on
// homeassistant/status, interface gone for long enough, every
// IFSTAT_HA_INTERVAL), and computes the rates. Package discovery/hatest holds
// a validator of Home Assistant's rules that tests on both sides use.
//
// # Single-component discovery
//
// Every entity has its own retained config topic
// <ha>/<component>/<ns>_<node>/<object>/config (ns is "ifstat" for the
// default topic prefix). Chosen over device-based discovery (HA ≥ 2024.11)
// because:
//   - removing one interface is stateless: an empty retained payload per
//     entity topic (Removals). Device-based discovery needs a two-step
//     republish ({"p":"sensor"} then omission) that the bridge would have to
//     remember across its own restarts;
//   - a payload HA rejects costs one entity, not the whole router;
//   - it works on every HA release the reference covers.
//
// The cost is more retained messages (10 per interface + 2 per router).
//
// # Ids
//
// IfaceID turns an interface name into [a-zA-Z0-9_-]: names that are already
// legal stay as they are; any other name has each illegal character replaced
// by '_' and "_" plus 6 hex digits of the SHA-256 of the raw name appended,
// so eth0.100 and eth0_100 stay distinct and the id never changes.
// unique_id is "<ns>:<node>:<iface-id>:<metric>" (router-level
// "<ns>:<node>:<metric>"): ':' occurs in none of the parts, so two
// (node, interface) pairs can never produce the same id, which a '_'
// separator could not guarantee (node ids contain '_'). Device identifiers
// are "<ns>:<node>" and, for the bridge, "<ns>-bridge:<bridge-id>".
// default_entity_id pins the entity id to sensor.<node>_<iface>_<metric>
// (slugified) so a later device rename does not change it.
//
// # Entities
//
// Per interface: receive/send rate (data_rate, bit/s, measurement), total
// received/sent (data_size, B, total_increasing, the bridge's monotonic
// 64-bit totals), and disabled-by-default diagnostics for packets, errors
// and drops per second. HA's MQTT sensor schema has no
// suggested_unit_of_measurement, so rates stay in bit/s and the user picks a
// display unit (Mbit/s) in the entity settings; HA converts.
// Per router: a binary_sensor "Agent" (device_class connectivity) reading
// the agent's retained P/N/status directly (no availability: it must show
// "disconnected", not "unavailable", when the agent is down), and "Last
// sample age" (duration, s). The bridge gets a device with a connectivity
// binary_sensor on its own LWT; routers point at it with via_device.
//
// Every state-fed entity is available only while both P/N/status and
// P/bridge/<bridge-id>/status are "online" (availability list, mode all) and
// expires after 3 × the HA interval without a state message.
//
// # State message (extension of the contract)
//
// Once per IFSTAT_HA_INTERVAL the bridge publishes, QoS 0, NOT retained (a
// replayed retained state would look fresh to expire_after), on P/N/state:
//
//	{"time":"2026-11-22T10:00:10Z","window_s":10,"age_s":0.012,
//	 "ifaces":{"eth0_100_1a2b3c":{"name":"eth0.100","rx_bps":12345.6,"tx_bps":789,
//	   "rx_bytes":123456789,"tx_bytes":98765,"rx_pps":12.3,"tx_pps":4,
//	   "rx_errors_ps":0,"tx_errors_ps":0,"rx_drops_ps":0,"tx_drops_ps":0}}}
//
// time is the end of the window (UTC), window_s its length, age_s how old the
// newest sample was when published. ifaces is keyed by IfaceID; name is the
// raw interface name. Rates are averages over the window (bits/s, packets/s,
// errors/s, drops/s), null when the window held no valid interval; totals
// are bytes. Templates read value_json.ifaces['<id>'] (the id never needs
// escaping) and render JSON null and a missing interface as None, which HA
// shows as unknown.
package discovery
