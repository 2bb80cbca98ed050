package bridge

import (
	"errors"
	"io/fs"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

// loadFile reads the state file, if a directory is configured. A damaged
// file is logged and skipped: the retained copies on the broker remain.
func (b *Bridge) loadFile() *state.Snapshot {
	if b.cfg.StateDir == "" {
		return nil
	}
	s, err := state.Load(b.cfg.StateDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.log.WithError(err).Error("state file unreadable; using the broker's copy")
		return nil
	}
	return s
}

// readState decodes one retained per-node state copy; nil for an empty or
// malformed one (logged, rate-limited).
func (b *Bridge) readState(m message) *state.Snapshot {
	if len(m.payload) == 0 {
		return nil
	}
	s, err := state.DecodeNode(m.payload)
	if err != nil {
		b.limiter.Warn(b.log.WithError(err).WithField("topic", m.topic), "state", "dropping malformed state copy")
		return nil
	}
	return s
}

// saveState writes the totals to the file and, one retained message per
// node, to the broker, so a replacement bridge on another host can take
// over. With wait set (shutdown) it waits for the broker's acknowledgements.
func (b *Bridge) saveState(c mqtt.Client, wait bool) {
	if !b.ready.Load() {
		return // nothing restored yet: saving now could overwrite good totals
	}
	snap := b.sampler.Snapshot(b.cfg.BridgeID, b.now())
	if b.cfg.StateDir != "" {
		if err := state.Save(b.cfg.StateDir, snap); err != nil {
			b.log.WithError(err).Error("saving state file")
		}
	}
	last := b.publishStates(c, snap)
	if wait && last != nil {
		mqttx.Wait(last, 2e9)
	}
}

// publishStates publishes one retained copy per node of snap and returns
// the last token (nil if none).
func (b *Bridge) publishStates(c mqtt.Client, snap *state.Snapshot) mqtt.Token {
	var last mqtt.Token
	for node := range snap.Nodes {
		p, err := state.EncodeNode(snap, node)
		if err != nil {
			b.log.WithError(err).WithField("node", node).Error("encoding state")
			continue
		}
		last = c.Publish(b.stateTopics().Node(node), 1, true, p)
	}
	return last
}
