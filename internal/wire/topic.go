package wire

import (
	"strings"
)

// DefaultPrefix is the topic prefix used when IFSTAT_TOPIC_PREFIX is unset.
const DefaultPrefix = "ifstat"

// MaxNodeLen bounds a node id so topics and Netdata chart ids stay short.
const MaxNodeLen = 64

// Topic kinds: the last level of every per-node topic.
const (
	KindRequest = "request"
	KindReply   = "reply"
	KindStatus  = "status"
	KindInfo    = "info"
	// KindState is the bridge's Home Assistant state of a node (P/N/state).
	KindState = "state"
)

// DefaultHAPrefix is Home Assistant's discovery prefix when
// IFSTAT_HA_PREFIX is unset.
const DefaultHAPrefix = "homeassistant"

// Status payloads on P/N/status (retained).
const (
	StatusOnline  = "online"
	StatusOffline = "offline"
)

// Topics builds the per-node topics under one prefix.
type Topics struct {
	Prefix string
	Node   string
}

func (t Topics) topic(kind string) string { return t.Prefix + "/" + t.Node + "/" + kind }

// Request is P/N/request: bridge → agent, QoS 0, never retained.
func (t Topics) Request() string { return t.topic(KindRequest) }

// Reply is P/N/reply: agent → bridge, QoS 0, never retained.
func (t Topics) Reply() string { return t.topic(KindReply) }

// Status is P/N/status: "online"/"offline", retained, the agent's LWT.
func (t Topics) Status() string { return t.topic(KindStatus) }

// Info is P/N/info: the agent's retained description (an extension of the
// design contract, documented in docs/protocol.md).
func (t Topics) Info() string { return t.topic(KindInfo) }

// State is P/N/state: the bridge's Home Assistant state of the node.
func (t Topics) State() string { return t.topic(KindState) }

// BridgeTopics builds the topics of one bridge, under P/bridge/<id>/. The
// extra level keeps them apart from the agents' P/<node>/<kind> topics,
// even for a node named "bridge".
type BridgeTopics struct {
	Prefix   string
	BridgeID string
}

func (b BridgeTopics) base() string { return b.Prefix + "/bridge/" + b.BridgeID }

// Status is P/bridge/<id>/status: "online"/"offline", retained, the
// bridge's LWT and Home Assistant's availability topic.
func (b BridgeTopics) Status() string { return b.base() + "/status" }

// Shard is P/bridge/<id>/shard: the bridge's IFSTAT_SHARD ("auto", "k/n"
// or "all"), retained. The auto bridges whose Status is online share the
// agents (see netdata-bridge's Owner).
func (b BridgeTopics) Shard() string { return b.base() + "/shard" }

// Beat is P/bridge/<id>/beat: an empty message an auto bridge publishes
// every interval, not retained; its peers count it out when the beats
// stop, sooner than the broker publishes its will.
func (b BridgeTopics) Beat() string { return b.base() + "/beat" }

// Sync is P/bridge/<id>/sync: a starting bridge publishes its run id
// there (QoS 0, not retained) right after subscribing to the state
// copies, and receives it back after every retained copy, because the
// broker queues a subscription's retained messages before it handles the
// client's next packet: the end of the copies, however many there are.
func (b BridgeTopics) Sync() string { return b.base() + "/sync" }

// States are the bridge's own retained state copies, P/bridge/<id>/state/<node>.
func (b BridgeTopics) States() StateTopics { return StateTopics{base: b.base() + "/state/"} }

// BridgeFilter is the subscription P/bridge/+/<kind>, every bridge's topic
// of that kind.
func BridgeFilter(prefix, kind string) string { return prefix + "/bridge/+/" + kind }

// ParseBridgeTopic splits P/bridge/<id>/<kind>; ok=false for any other
// topic or an invalid id.
func ParseBridgeTopic(prefix, topic string) (id, kind string, ok bool) {
	return ParseTopic(prefix+"/bridge", topic)
}

// FleetStates are the state copies shared by the auto bridges,
// P/fleet/state/<node>, so that whichever bridge samples a node next
// continues its totals. The extra level keeps them apart from a node
// named "fleet", as for BridgeTopics.
func FleetStates(prefix string) StateTopics { return StateTopics{base: prefix + "/fleet/state/"} }

// StateTopics are retained per-node state copies (the persisted rate
// checkpoints and totals) under one base.
type StateTopics struct{ base string }

// Node is the topic of node's copy.
func (s StateTopics) Node(node string) string { return s.base + node }

// Filter is the subscription that receives every node's copy.
func (s StateTopics) Filter() string { return s.base + "+" }

// Parse returns the node of a copy's topic, ok=false for any other topic or
// an invalid node id.
func (s StateTopics) Parse(topic string) (node string, ok bool) {
	node, ok = strings.CutPrefix(topic, s.base)
	if !ok || !ValidNode(node) {
		return "", false
	}
	return node, true
}

// HABirthTopic is where Home Assistant announces itself ("online") after
// a start; haPrefix "" means DefaultHAPrefix.
func HABirthTopic(haPrefix string) string {
	if haPrefix == "" {
		haPrefix = DefaultHAPrefix
	}
	return haPrefix + "/status"
}

// HAConfigTopic is a retained discovery config:
// <haPrefix>/<component>/<nodeID>/<objectID>/config.
func HAConfigTopic(haPrefix, component, nodeID, objectID string) string {
	if haPrefix == "" {
		haPrefix = DefaultHAPrefix
	}
	return haPrefix + "/" + component + "/" + nodeID + "/" + objectID + "/config"
}

// Wildcard returns the subscription filter P/+/kind.
func Wildcard(prefix, kind string) string { return prefix + "/+/" + kind }

// ParseTopic splits P/N/kind. It reports ok=false for topics outside prefix,
// with a different depth, or whose node id is not valid, so a hostile agent
// named "+", "#" or "../x" never reaches the bridge's registry.
func ParseTopic(prefix, topic string) (node, kind string, ok bool) {
	rest, found := strings.CutPrefix(topic, prefix+"/")
	if !found {
		return "", "", false
	}
	node, kind, found = strings.Cut(rest, "/")
	if !found || strings.Contains(kind, "/") || !ValidNode(node) {
		return "", "", false
	}
	return node, kind, true
}

// ValidNode reports whether s is a legal node id: 1–MaxNodeLen bytes of
// [a-z0-9_-].
func ValidNode(s string) bool {
	if len(s) == 0 || len(s) > MaxNodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nodeByte(s[i]) {
			return false
		}
	}
	return true
}

func nodeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// NodeFromHostname derives the default node id: lower-cased, every byte
// outside [a-z0-9_-] replaced by '_', cut to MaxNodeLen.
func NodeFromHostname(h string) string {
	h = strings.ToLower(h)
	b := make([]byte, 0, len(h))
	for i := 0; i < len(h) && len(b) < MaxNodeLen; i++ {
		c := h[i]
		if !nodeByte(c) {
			c = '_'
		}
		b = append(b, c)
	}
	return string(b)
}

// ValidPrefix reports whether p can be used as a topic prefix: non-empty,
// no wildcards, no NUL, no leading or trailing slash.
func ValidPrefix(p string) bool {
	if p == "" || strings.ContainsAny(p, "+#\x00") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return false
	}
	return !strings.Contains(p, "//")
}
