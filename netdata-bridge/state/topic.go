package state

import (
	"strings"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Topic returns P/bridge/<bridgeID>/state, under which each node's state
// is a retained message (NodeTopic). The extra level keeps it apart from
// the agents' P/<node>/<kind> topics even for a node named "bridge".
func Topic(prefix, bridgeID string) string {
	return prefix + "/bridge/" + bridgeID + "/state"
}

// NodeTopic returns P/bridge/<bridgeID>/state/<node>.
func NodeTopic(prefix, bridgeID, node string) string {
	return Topic(prefix, bridgeID) + "/" + node
}

// Filter returns the subscription that receives every node's state.
func Filter(prefix, bridgeID string) string {
	return Topic(prefix, bridgeID) + "/+"
}

// ParseNodeTopic returns the node of a NodeTopic of bridgeID, ok=false for
// any other topic or an invalid node id.
func ParseNodeTopic(prefix, bridgeID, topic string) (node string, ok bool) {
	node, ok = strings.CutPrefix(topic, Topic(prefix, bridgeID)+"/")
	if !ok || !wire.ValidNode(node) {
		return "", false
	}
	return node, true
}
