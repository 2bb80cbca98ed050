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
// The cost is more retained messages (13 per interface + 2 per router, and
// with tariffs per interface 1 + 4 per tariff + 1 per capped tariff).
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
// (slugified) so a later device rename does not change it; HA reads it
// from 2025.10 on. Older HA slugifies "<device name> <entity name>"
// instead, first come first served, so entity names must slug distinctly
// within a device: an interface name that is not lower-case letters and
// digits joined by single '-' (or that ends in "-peak", which would meet
// the peak entities' names) carries 6 hex digits of its SHA-256 in its
// entity names ("eth0.100 (959ba6) receive rate"), a function of the name
// alone, so the ids are the same in any discovery order; tariff names that
// slug alike are refused, and Configs refuses any remaining pair of names
// that slug alike. unique_ids do not change.
//
// # Entities
//
// Per interface: receive/send rate (data_rate, bit/s, measurement), total
// received/sent (data_size, B, total_increasing, the bridge's monotonic
// 64-bit totals), and disabled-by-default diagnostics for packets, errors
// and drops per second. HA's MQTT sensor schema has no
// suggested_unit_of_measurement, so rates stay in bit/s and the user picks a
// display unit (Mbit/s) in the entity settings; HA converts.
//
// Also per interface (issue 5):
//   - "<if> peak receive rate", "<if> peak send rate" (data_rate, bit/s,
//     measurement): the fastest single rated interval of the window, a
//     microburst the average hides. Created enabled only when
//     Options.SampleInterval (IFSTAT_INTERVAL) is known and below
//     PeakEnabledBelow (1 s): sub-second sampling exists to see bursts; at
//     1 s and slower the peak is one second's rate among ten, often the
//     same as the average at a 1 s driver refresh, and two more recorded
//     entities per interface are a cost the user should opt into (the
//     entity settings enable them). Not diagnostic: they are traffic
//     figures. enabled_by_default only matters when HA first creates the
//     entity; changing the interval later does not flip it;
//   - "<if> refresh period" (duration, s, measurement, diagnostic,
//     enabled): the driver's counter refresh period the bridge detected,
//     unknown until it is confident. Enabled because it is what explains
//     a coarse or spiky chart, and it changes rarely (cheap to record).
//
// Per router: a binary_sensor "Agent" (device_class connectivity) reading
// the agent's retained P/N/status directly (no availability: it must show
// "disconnected", not "unavailable", when the agent is down), and "Last
// sample age" (duration, s). The bridge gets a device with a connectivity
// binary_sensor on its own LWT; routers point at it with via_device.
//
// With tariff accounting (Router.Tariffs, from IFSTAT_TARIFFS) every
// interface also gets, all enabled by default because they are the point
// of the feature:
//   - "<if> received (<t>)", "<if> sent (<t>)": lifetime bytes in tariff t
//     (data_size, B, total_increasing): never decrease, so HA's long-term
//     statistics, the Energy-style dashboards and utility_meter can use
//     them;
//   - "<if> received this cycle (<t>)", "<if> sent this cycle (<t>)": bytes
//     in the current billing cycle (data_size, B, state_class total) with
//     last_reset_value_template reading the cycle start. HA allows
//     last_reset only with total (schema error otherwise); the value drops
//     to 0 at a new cycle in the same message that moves last_reset, so the
//     statistics start a new period instead of counting a decrease. The
//     template renders an empty string while the cycle is unknown: HA
//     ignores that silently, where "None" would log a warning;
//   - "<if> allowance used (<t>)" for a tariff with a cap: percent of the
//     allowance used this cycle, both directions (unit %, measurement, no
//     device class: HA has none for a share of a quota; may exceed 100);
//   - "<if> tariff": the tariff in force, device_class enum with options =
//     the tariff names (HA's MQTT sensor accepts options only with enum
//     and without unit or state class).
//
// Their unique_ids follow the same scheme with the metric
// "<kind>-<tariff>" (ifstat:er-x:eth0:rx_total-happy, …:rx_cycle-happy,
// …:share-normal) and "tariff" for the current one. Joining with '-' keeps
// '_'-suffixes of these keys from being other keys; Configs still checks
// every description for two entities on one topic (an interface named
// like another plus a key) and refuses it with ErrInvalid. Removals
// takes the tariffs so that a vanished interface loses its tariff
// entities too; ConfigTopics lets the bridge clear the configs a changed
// tariff set no longer has.
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
//	   "rx_errors_ps":0,"tx_errors_ps":0,"rx_drops_ps":0,"tx_drops_ps":0,
//	   "rx_peak_bps":40000000,"tx_peak_bps":1200,"peak_span_s":0.25,
//	   "refresh_s":0.25,"refresh_at_most_s":null,"too_coarse":false}}}
//
// time is the end of the window (UTC), window_s its length, age_s how old the
// newest sample was when published. ifaces is keyed by IfaceID; name is the
// raw interface name. Rates are averages over the window (bits/s, packets/s,
// errors/s, drops/s), null when the window held no valid interval; totals
// are bytes.
//
// rx_peak_bps and tx_peak_bps are the highest rate of one rated interval
// in the window (rate.Summarize's Peak), null when the window held none;
// stale reads are never an interval of their own (the next change is
// divided by the whole span since the last one). peak_span_s is the
// longest span either peak is measured over: the sampling interval when
// the counters keep up, a whole refresh period (or more) when they do not,
// so a consumer knows at what time scale the peak holds. refresh_s is the
// detected driver refresh period to the microsecond (null until the
// bridge's estimate is confident); refresh_at_most_s, when the counters
// changed at every read so that no period can be fitted, says they refresh
// at least this often (else null); too_coarse is true when the bridge
// samples faster than the counters refresh: then rates, peaks included,
// cover whole refreshes and say nothing about shorter bursts.
//
// Templates read value_json.ifaces['<id>'] (the id never needs
// escaping) and render JSON null and a missing interface as None, which HA
// shows as unknown.
//
// With tariffs each interface also has a "tariff" object:
//
//	"tariff":{"active":"happy","cycle_start":"2026-11-01T00:00:00+01:00",
//	  "cycle_end":"2026-12-01T00:00:00+01:00","usage":{
//	  "happy":{"rx_bytes":9000,"tx_bytes":900,"rx_cycle":3000,"tx_cycle":300,
//	    "rx_prev":6000,"tx_prev":600,"share":null},
//	  "normal":{…,"share":12.5}}}
//
// active is the tariff in force; cycle_start and cycle_end bound the billing
// cycle, RFC 3339 in the schedule's zone (null before the first sample).
// usage is keyed by tariff name in schedule order, nested so that no tariff
// name can clash with active or cycle_start: rx_bytes/tx_bytes the lifetime
// totals, rx_cycle/tx_cycle the current cycle, rx_prev/tx_prev the previous
// one (no entity; for automations and mosquitto_sub), share the percentage
// of the cap used, null without a cap. Templates read
// value_json.ifaces['<id>'].tariff.usage['<tariff>'].<field>, each level
// defaulted to {} (tariff names may hold '-').
package discovery
