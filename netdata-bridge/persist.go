package bridge

import (
	"errors"
	"io/fs"
	"slices"
	"time"

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
	if s != nil {
		for _, o := range b.outputs {
			if k, ok := o.(CopyKeeper); ok {
				for _, ns := range s.Nodes {
					delete(ns.Extra, k.CopyKey())
				}
			}
		}
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
	b.saveFile(snap)
	last := b.publishStates(c, snap)
	if wait && last != nil {
		mqttx.Wait(last, 2e9)
	}
}

// saveFile writes snap to the state file, if there is one.
func (b *Bridge) saveFile(snap *state.Snapshot) {
	if b.cfg.StateDir == "" {
		return
	}
	if err := state.Save(b.cfg.StateDir, snap); err != nil {
		b.log.WithError(err).Error("saving state file")
	}
}

// saveSlots is how many ticks the periodic retained copies are spread
// over: every node is saved once per StateInterval, a slice of them at
// each tick. Saved all at once, 5,000 routers' copies (8.7 kB each, their
// refresh windows included) took the loop over a second to build and hand
// to paho, one round of every chart was a gap, and the 44 MB of payloads
// queued at once raised the bridge's peak RSS by 70 MiB.
func (b *Bridge) saveSlots() int {
	return max(1, int(b.cfg.StateInterval/b.cfg.Interval))
}

// saveSlice publishes the retained copies of the nodes whose turn it is
// at the tick at (saveTurn).
func (b *Bridge) saveSlice(c mqtt.Client, at time.Time) {
	b.publishStates(c, b.sampler.SnapshotOf(b.cfg.BridgeID, b.now(), b.saveTurn(at)))
}

// saveTurn reports the nodes whose slot (SaveSlot) is the tick's: ticks
// are Interval apart, so each node's turn comes once in saveSlots ticks.
func (b *Bridge) saveTurn(at time.Time) func(node string) bool {
	slots := b.saveSlots()
	k := int(at.UnixNano() / int64(b.cfg.Interval) % int64(slots))
	return func(node string) bool { return SaveSlot(node, slots) == k }
}

// saveBurst is how many copies of taken-over nodes a tick writes at most
// (saveDue): 870 kB of payloads at 8.7 kB a copy.
const saveBurst = 100

// saveTaken publishes the copies of the first saveBurst nodes of due that
// this bridge still samples and returns the rest.
func (b *Bridge) saveTaken(c mqtt.Client, due []string) []string {
	batch := due[:min(saveBurst, len(due))]
	in := make(map[string]bool, len(batch))
	for _, n := range batch {
		in[n] = true
	}
	b.publishStates(c, b.sampler.SnapshotOf(b.cfg.BridgeID, b.now(), func(node string) bool { return in[node] }))
	return slices.Delete(due, 0, len(batch))
}

// gainedNodes returns the nodes of after (sorted) that are not in before
// (sorted).
func gainedNodes(before, after []string) []string {
	var gained []string
	for _, n := range after {
		if _, found := slices.BinarySearch(before, n); !found {
			gained = append(gained, n)
		}
	}
	return gained
}

// publishStates publishes one retained copy per node of snap and returns
// the last token (nil if none).
func (b *Bridge) publishStates(c mqtt.Client, snap *state.Snapshot) mqtt.Token {
	var last mqtt.Token
	for node, ns := range snap.Nodes {
		for _, o := range b.outputs {
			if k, ok := o.(CopyKeeper); ok {
				ns.Extra = withExtra(ns.Extra, k.CopyKey(), k.CopyOut(node))
				snap.Nodes[node] = ns
			}
		}
		p, err := state.EncodeNode(snap, node)
		if err != nil {
			b.log.WithError(err).WithField("node", node).Error("encoding state")
			continue
		}
		last = c.Publish(b.stateTopics().Node(node), 1, true, p)
	}
	return last
}
