package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/clock"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

// Output receives every node's samples in tick order. All methods are
// called from the bridge's one loop goroutine.
type Output interface {
	Emit(ns *NodeSample, now time.Time) error
	// Keepalive is called every few seconds, with or without samples.
	Keepalive(now time.Time) error
}

// Flusher is implemented by outputs that hold what Emit wrote until Flush:
// the bridge flushes them whenever no message is waiting, after each tick,
// and when it stops.
type Flusher interface {
	Flush(now time.Time) error
}

// Ticker is implemented by outputs that work on the clock: Tick runs once
// per tick, after the previous tick's replies and gaps were emitted and
// after the new requests went out.
type Ticker interface {
	Tick(t, now time.Time) error
}

// FleetListener is implemented by outputs that share a rate with the
// other bridges of an auto fleet: Fleet gets how many bridges are members
// whenever that changes.
type FleetListener interface {
	Fleet(members int)
}

// CopyKeeper is implemented by outputs that keep a value per node in the
// node's persisted state copy (NodeState.Extra under CopyKey), so that the
// bridge that samples the node next, after a takeover or a restart,
// continues it: it gets the value back in NodeSample.Copy. Values read
// from the state file are not passed back: they describe what the broker
// held, which a broker restarted without persistence no longer does.
type CopyKeeper interface {
	CopyKey() string
	// CopyOut is node's value; nil for none.
	CopyOut(node string) json.RawMessage
}

// BirthListener is implemented by outputs that republish when Home
// Assistant announces itself; the bridge has already waited a short random
// delay, so that many bridges do not answer at once.
type BirthListener interface {
	Birth(now time.Time)
}

// ConnectListener is implemented by outputs that publish after every
// (re)connect of the bridge's MQTT client.
type ConnectListener interface {
	Connected(now time.Time)
}

// Publisher publishes on the bridge's MQTT connection. It must not block:
// outputs call it from the bridge's loop.
type Publisher interface {
	Publish(topic string, qos byte, retained bool, payload []byte)
}

// inboxSize bounds the messages waiting for the loop; beyond it they are
// dropped and counted, so a flood cannot grow memory or block paho.
const inboxSize = 1 << 14

// statsEvery is the period of the sampler's stats line (debug level) and
// of the check for late replies.
const statsEvery = time.Minute

// Readiness: sampling starts once the retained state copies are in: at
// least stateSettle after the subscription, and not before the bridge's
// own marker on P/bridge/<id>/sync came back behind the copies
// (wire.BridgeTopics.Sync); or after stateWait if the broker is away or
// the marker does not come (an ACL that refuses it), but while copies
// are still coming in, until none came for stateSettle, up to
// stateWaitMax. Ending the wait stateSettle after the subscription alone
// lost totals: 3,000 copies of 8.7 kB took longer than that to arrive on
// a loaded machine, and the nodes whose copy came late started from
// zero; so did ending it at stateWait while the loop was still taking
// them on a slow host (see restore.due).
const (
	stateSettle  = 1500 * time.Millisecond
	stateWait    = 10 * time.Second
	stateWaitMax = 2 * time.Minute
)

type message struct {
	topic   string
	payload []byte
	at      time.Time
	// peer is the bridge id of a P/bridge/<id>/<kind> message (kind).
	peer string
	// sync: the message is on this bridge's P/bridge/<id>/sync.
	sync bool
	// Replies are decoded on paho's goroutines, in parallel, so the
	// loop (which owns all state) only matches them.
	node  string
	kind  string
	valid bool
	reply *wire.Reply
	err   error
}

// peer is another bridge as its retained topics describe it, and when its
// last beat came (zero: none yet, or a bridge that does not beat): at
// beat on the clock, and after ownBeat of this bridge's own beats had come
// back from the broker.
type peer struct {
	online, auto bool
	beat         time.Time
	ownBeat      uint64
}

// silentBeats is how many of its own beats a bridge must have heard back
// since a peer's last one before it counts the peer out. The clock alone
// misled: a bridge whose loop was held up (decoding a burst of state
// copies) found the beats still in its inbox late, counted every peer
// out, and took all their nodes, which held the others up in turn; in a
// 3-bridge bench on a loaded 2-core machine the live bridges counted each
// other out for 25 s after one froze. Its own beats travel the same way
// (broker, inbox, loop), so a bridge that is behind is behind on both.
const silentBeats = 2

// silent reports whether p beat before, but not within timeout of now and
// not since this bridge heard silentBeats of its own (own counts them).
func (p peer) silent(now time.Time, timeout time.Duration, own uint64) bool {
	return !p.beat.IsZero() && now.Sub(p.beat) > timeout && own-p.ownBeat >= silentBeats
}

// maxPeers bounds the bridges remembered: anyone allowed to write
// P/bridge/# could invent them.
const maxPeers = 1024

// fleetKeepAlive is the MQTT keepalive of an auto bridge: the broker
// publishes a dead bridge's will after 1.5 times it, in principle.
// Mosquitto 2.0.11 took 5.0-5.8 s with a keepalive of 1 s (measured: a
// paho client stopped with SIGSTOP, eight times), so beats decide sooner.
const fleetKeepAlive = 2 * time.Second

// beatTimeout is the silence after which an auto bridge's peers count it
// out until it beats again: a host that died, whose will the broker has
// not published yet. Ticks are aligned across bridges, so 2.5 intervals
// after a peer's last beat is the third tick after it: the peer missed two
// beats in a row, each by more than half an interval. With
// IFSTAT_INTERVAL=1s its agents are asked by the others about 3 s after
// its last beat, and rated a tick later.
func (b *Bridge) beatTimeout() time.Duration { return 5 * b.cfg.Interval / 2 }

// saveAfterMove is how many intervals after a change of the fleet an auto
// bridge saves its copies: the nodes it took over have answered by then.
const saveAfterMove = 3

type event int

const (
	evConnected event = iota
	evStateSubscribed
	evBirth
)

// Bridge samples agents over MQTT and feeds its outputs.
type Bridge struct {
	cfg     Config
	log     *logrus.Entry
	outputs []Output
	sampler *Sampler
	limiter *logx.Limiter
	runID   string
	// syncTopic is P/bridge/<id>/sync, compared with every message's
	// topic (see handle).
	syncTopic string

	inbox   chan message
	events  chan event
	dropped atomic.Uint64
	// foreignSeen is set once a reply to another bridge's request was
	// seen (logged once at info; counted in Stats.Unknown).
	foreignSeen bool
	// lastStats is the sampler's Stats at the last stats line.
	lastStats Stats
	ready     atomic.Bool // sampling started; state copies are no longer read

	// The fleet (IFSTAT_SHARD=auto): the other bridges seen on the
	// broker, and the auto ones online, this one included once it samples.
	peers   map[string]peer
	members []string
	// ownBeats counts this bridge's own beats come back from the broker.
	ownBeats uint64
	// saveAt, when set, is when to start saving early the copies of the
	// nodes in saveDue, which this auto bridge took over: so that the next
	// owner finds one even if this bridge dies before their periodic turn.
	// At most saveBurst a tick: written all at once after a takeover,
	// thousands of copies held up this bridge's loop and every peer's that
	// reads them.
	saveAt  time.Time
	saveDue []string
	// replySubs are the nodes whose reply topic is subscribed one by one
	// (perNode); nil while a reconnect wiped them.
	replySubs map[string]bool

	mu     sync.Mutex
	client mqtt.Client

	newClient func(mqttx.Options) (mqtt.Client, error)
	now       func() time.Time
}

// New returns a bridge for cfg (validated by the caller) writing to outputs.
func New(cfg Config, log *logrus.Entry, outputs ...Output) (*Bridge, error) {
	run := make([]byte, 4)
	if _, err := rand.Read(run); err != nil {
		return nil, fmt.Errorf("run id: %w", err)
	}
	runID := hex.EncodeToString(run)
	if cfg.Viewer && cfg.Shard.Auto {
		// A viewer (watch, demo) joining the fleet would take agents from
		// the bridges that chart them; it looks at every agent instead.
		cfg.Shard = Shard{}
	}
	s := NewSampler(SamplerConfig{
		Interval: cfg.Interval, RunID: runID, Nodes: cfg.Nodes, Shard: cfg.Shard.K, Shards: cfg.Shard.N, ObsoleteAfter: cfg.ObsoleteAfter,
		Rate: rate.Config{MaxGapNS: int64(cfg.MaxGap), MaxBitsPerSec: cfg.MaxBitsPerSec}, Tariffs: cfg.TariffConfig(),
		Exact: bool(cfg.Exact), Auto: cfg.Shard.Auto, Self: cfg.BridgeID,
	})
	return &Bridge{
		cfg: cfg, log: log, outputs: outputs, sampler: s, runID: runID,
		syncTopic: wire.BridgeTopics{Prefix: cfg.TopicPrefix, BridgeID: cfg.BridgeID}.Sync(),
		limiter:   logx.NewLimiter(5, time.Minute, nil),
		peers:     make(map[string]peer),
		inbox:     make(chan message, inboxSize),
		events:    make(chan event, 16),
		newClient: mqttx.NewClient,
		now:       time.Now,
	}, nil
}

// AddOutput adds an output; call it before Run.
func (b *Bridge) AddOutput(o Output) { b.outputs = append(b.outputs, o) }

// Sampler returns the bridge's bookkeeping (read it only after Run returned).
func (b *Bridge) Sampler() *Sampler { return b.sampler }

// Publisher returns a Publisher on the bridge's connection, usable once Run
// has started; before, and while disconnected, messages are dropped (the
// outputs republish on Connected).
func (b *Bridge) Publisher() Publisher { return clientPublisher{b} }

type clientPublisher struct{ b *Bridge }

func (p clientPublisher) Publish(topic string, qos byte, retained bool, payload []byte) {
	p.PublishToken(topic, qos, retained, payload)
}

// PublishToken is Publish with paho's token, so a caller can wait until a
// message is out (haout: the states after a birth follow the configs);
// without a client yet, the token is complete at once.
func (p clientPublisher) PublishToken(topic string, qos byte, retained bool, payload []byte) mqtt.Token {
	p.b.mu.Lock()
	c := p.b.client
	p.b.mu.Unlock()
	if c == nil {
		return doneToken{}
	}
	return c.Publish(topic, qos, retained, payload)
}

// doneToken is a token that is already complete, without error.
type doneToken struct{}

func (doneToken) Wait() bool                     { return true }
func (doneToken) WaitTimeout(time.Duration) bool { return true }
func (doneToken) Done() <-chan struct{}          { return closedChan }
func (doneToken) Error() error                   { return nil }

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// topics are the bridge's own: its LWT and the nodes' persisted state.
func (b *Bridge) topics() wire.BridgeTopics {
	return wire.BridgeTopics{Prefix: b.cfg.TopicPrefix, BridgeID: b.cfg.BridgeID}
}

func (b *Bridge) statusTopic() string { return b.topics().Status() }

// stateTopics hold the persisted per-node copies: the fleet's shared ones
// for an auto bridge, so they follow the node to its next bridge.
func (b *Bridge) stateTopics() wire.StateTopics {
	if b.cfg.Shard.Auto {
		return wire.FleetStates(b.cfg.TopicPrefix)
	}
	return b.topics().States()
}

// perNode reports whether replies are subscribed node by node: a bridge
// that samples a part of the agents receives only their replies, not the
// whole fleet's.
func (b *Bridge) perNode() bool {
	return b.cfg.Shard.Auto || b.cfg.Shard.N > 1 || len(b.cfg.Nodes) > 0
}

func (b *Bridge) birthTopic() string { return wire.HABirthTopic(b.cfg.HAPrefix) }

// Run connects and samples until ctx ends or an output fails (stdout
// closed: Netdata went away). Broker trouble never ends it: paho retries.
func (b *Bridge) Run(ctx context.Context) error {
	var file *state.Snapshot
	if !b.cfg.Viewer {
		file = b.loadFile()
	}
	rs := newRestore(file, stateWait, stateWaitMax, stateSettle)
	defer rs.stop()
	client, err := b.newClient(mqttx.Options{
		Config:    b.cfg.Common,
		ClientID:  mqttx.ClientID("bridge", b.cfg.BridgeID+"-"+b.runID),
		Log:       b.log,
		Will:      &mqttx.Message{Topic: b.statusTopic(), Payload: []byte(wire.StatusOffline), QoS: 1, Retained: true},
		OnConnect: b.onConnect,
		OnMessage: b.handle,
		KeepAlive: keepAlive(b.cfg.Shard),
		// The restore's end-of-copies marker and the fleet's statuses
		// rely on arriving in order; handle never blocks.
		Ordered: true,
	})
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.client = client
	b.mu.Unlock()
	client.Connect() // completes only once connected; never awaited
	defer b.disconnect(client)

	if b.cfg.Viewer {
		b.startSampling(client, rs) // nothing persisted to wait for
	}
	tk := clock.Start(ctx, b.cfg.Interval, 0)
	keep := time.NewTicker(5 * time.Second)
	defer keep.Stop()
	save := time.NewTicker(b.cfg.StateInterval)
	defer save.Stop()
	statsTk := time.NewTicker(statsEvery)
	defer statsTk.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return b.flush()
		case <-rs.C():
			if now := time.Now(); rs.due(now) {
				if rs.coming(now) {
					b.log.WithField("waited", stateWaitMax).Warn("state copies were still coming in when the wait for them ended: nodes whose copy came later start their totals from zero")
				}
				b.startSampling(client, rs)
			}
		case ev := <-b.events:
			b.event(client, ev, rs)
		case tick := <-tk.C:
			err = b.tick(client, tick)
		case m := <-b.inbox:
			err = b.message(client, m, rs)
			if err == nil && len(b.inbox) == 0 {
				err = b.flush()
			}
		case <-statsTk.C:
			b.logStats()
		case <-save.C:
			// The retained copies are saved a slice per tick (saveSlice).
			if b.ready.Load() && !b.cfg.Viewer && b.cfg.StateDir != "" {
				b.saveFile(b.sampler.Snapshot(b.cfg.BridgeID, b.now()))
			}
		case now := <-keep.C:
			err = b.keepalive(now)
		}
		if err != nil {
			return err
		}
	}
}

// onConnect runs on paho's goroutine after every (re)connect: it
// subscribes, and reads the persisted state copies only until sampling
// has started.
func (b *Bridge) onConnect(c mqtt.Client) {
	prefix := b.cfg.TopicPrefix
	// QoS 0 throughout: at QoS 1 a stock Mosquitto (max_queued_messages
	// 1000) drops the retained statuses beyond its queue when thousands of
	// agents exist, and those agents would never be sampled (measured:
	// 1,020 of 3,000 at QoS 1, all 3,000 at QoS 0).
	subs := map[string]byte{
		wire.Wildcard(prefix, wire.KindStatus): 0,
		wire.Wildcard(prefix, wire.KindInfo):   0,
	}
	if !b.perNode() {
		subs[wire.Wildcard(prefix, wire.KindReply)] = 0
	}
	if b.cfg.HA {
		subs[b.birthTopic()] = 0
	}
	if b.cfg.Shard.Auto {
		subs[wire.BridgeFilter(prefix, "status")] = 0
		subs[wire.BridgeFilter(prefix, "shard")] = 0
		subs[wire.BridgeFilter(prefix, "beat")] = 0
	}
	readState := !b.ready.Load() && !b.cfg.Viewer
	if readState || b.cfg.Shard.Auto {
		subs[b.stateTopics().Filter()] = 0
	}
	if readState {
		subs[b.syncTopic] = 0
	}
	if err := mqttx.Wait(c.SubscribeMultiple(subs, b.handle), 10*time.Second); err != nil {
		b.log.WithError(err).Error("subscribe failed")
	} else if readState {
		c.Publish(b.syncTopic, 0, false, b.runID)
		b.signal(evStateSubscribed)
	}
	c.Publish(b.statusTopic(), 1, true, wire.StatusOnline)
	b.signal(evConnected)
}

// disconnect saves the state, says offline and leaves.
func (b *Bridge) disconnect(client mqtt.Client) {
	if !b.cfg.Viewer {
		b.saveState(client, true)
	}
	if err := mqttx.Wait(client.Publish(b.statusTopic(), 1, true, wire.StatusOffline), 2*time.Second); err != nil {
		b.log.WithError(err).Debug("publishing offline status")
	}
	client.Disconnect(250)
}

// startSampling ends the wait for persisted state: it restores what came
// and lets the ticks through.
func (b *Bridge) startSampling(client mqtt.Client, rs *restore) {
	merged, first := rs.finish()
	if !first || b.ready.Swap(true) {
		return
	}
	if b.cfg.Viewer {
		return
	}
	b.sampler.Restore(merged)
	if merged != nil {
		b.log.WithField("nodes", len(merged.Nodes)).Info("restored totals")
	}
	if b.cfg.Shard.Auto {
		// From now on this bridge samples its share: say so, and keep
		// reading the fleet's copies for the nodes it may take over.
		b.publishShard(client)
		b.updateMembers(client)
		return
	}
	client.Unsubscribe(b.topics().States().Filter())
}

func keepAlive(s Shard) time.Duration {
	if s.Auto {
		return fleetKeepAlive
	}
	return 0 // mqttx's default
}

// publishShard publishes this bridge's IFSTAT_SHARD on P/bridge/<id>/shard.
// An auto bridge says "auto" only once it samples: until then the others
// keep its share, and a restart does not leave the agents unasked while it
// restores. A viewer says nothing: it shares no agents.
func (b *Bridge) publishShard(client mqtt.Client) {
	if b.cfg.Viewer {
		return
	}
	v := b.cfg.Shard.String()
	switch {
	case b.cfg.Shard.Auto && !b.ready.Load():
		v = "" // clears a retained "auto" from an earlier run
	case v == "":
		v = "all"
	}
	client.Publish(b.topics().Shard(), 1, true, v)
}

// peerMessage notes another bridge's status or shard and recomputes the
// fleet.
func (b *Bridge) peerMessage(client mqtt.Client, m message) {
	if !b.cfg.Shard.Auto {
		return
	}
	if m.peer == b.cfg.BridgeID {
		if m.kind == "beat" {
			b.ownBeats++
		}
		return // this bridge is a member from the moment it samples
	}
	p, known := b.peers[m.peer]
	switch m.kind {
	case "status":
		p.online = string(m.payload) == wire.StatusOnline
	case "shard":
		p.auto = string(m.payload) == ShardAuto
	case "beat":
		if !known {
			return // a bridge becomes a peer by its retained topics
		}
		silent := p.silent(m.at, b.beatTimeout(), b.ownBeats)
		p.beat, p.ownBeat = m.at, b.ownBeats
		b.peers[m.peer] = p
		if silent {
			b.updateMembers(client) // back
		}
		return
	default:
		return
	}
	switch {
	case !p.online && !p.auto:
		delete(b.peers, m.peer)
	case known || len(b.peers) < maxPeers:
		b.peers[m.peer] = p
	default:
		b.limiter.Warn(b.log.WithField("bridge", m.peer), "peers", "too many bridges on the broker; ignoring this one")
		return
	}
	b.updateMembers(client)
}

// updateMembers recomputes the fleet's members, and on a change hands the
// nodes this bridge lost to the others (their last state, on the shared
// copies) and subscribes to the replies of the nodes it gained.
func (b *Bridge) updateMembers(client mqtt.Client) {
	var members []string
	now := b.now()
	for id, p := range b.peers {
		if p.online && p.auto && !p.silent(now, b.beatTimeout(), b.ownBeats) {
			members = append(members, id)
		}
	}
	if b.ready.Load() {
		members = append(members, b.cfg.BridgeID)
	}
	slices.Sort(members)
	if slices.Equal(members, b.members) {
		return
	}
	b.members = members
	for _, o := range b.outputs {
		if l, ok := o.(FleetListener); ok {
			l.Fleet(len(members))
		}
	}
	before := b.sampler.Online()
	moved, handover := b.sampler.SetMembers(members, now)
	if handover != nil {
		b.publishStates(client, handover)
	}
	b.syncReplies(client)
	if gained := gainedNodes(before, b.sampler.Online()); len(gained) > 0 {
		b.saveDue = append(b.saveDue, gained...)
		b.saveAt = now.Add(saveAfterMove * b.cfg.Interval)
	}
	b.log.WithField("members", members).WithField("moved", moved).WithField("sampling", len(b.sampler.Online())).
		Info("fleet changed; agents shared anew")
}

// syncReplies subscribes to the reply topic of every node this bridge
// samples and unsubscribes the others' (perNode only). Subscribing goes
// out on the connection before the next request, so the first reply finds
// it in place.
func (b *Bridge) syncReplies(client mqtt.Client) {
	if !b.perNode() {
		return
	}
	if b.replySubs == nil {
		b.replySubs = make(map[string]bool)
	}
	want := b.sampler.Online()
	add := make(map[string]byte)
	keep := make(map[string]bool, len(want))
	for _, n := range want {
		keep[n] = true
		if !b.replySubs[n] {
			add[b.replyTopic(n)] = 0
			b.replySubs[n] = true
		}
	}
	var drop []string
	for n := range b.replySubs {
		if !keep[n] {
			drop = append(drop, b.replyTopic(n))
			delete(b.replySubs, n)
		}
	}
	if len(add) > 0 {
		// No callback: the messages reach b.handle as the client's
		// default handler (see mqttx.Options.OnMessage).
		client.SubscribeMultiple(add, nil)
	}
	if len(drop) > 0 {
		client.Unsubscribe(drop...)
	}
}

// syncReply is syncReplies for one node whose status changed: thousands of
// retained statuses arrive at the start, each must not walk every node.
func (b *Bridge) syncReply(client mqtt.Client, node string) {
	if !b.perNode() || b.replySubs == nil {
		return // not per node, or a reconnect's full sync is due
	}
	switch want := b.sampler.Sampled(node); {
	case want && !b.replySubs[node]:
		b.replySubs[node] = true
		client.Subscribe(b.replyTopic(node), 0, nil) // see syncReplies
	case !want && b.replySubs[node]:
		delete(b.replySubs, node)
		client.Unsubscribe(b.replyTopic(node))
	}
}

func (b *Bridge) replyTopic(node string) string {
	return wire.Topics{Prefix: b.cfg.TopicPrefix, Node: node}.Reply()
}

// event hands a connection event to the outputs that listen for it.
func (b *Bridge) event(client mqtt.Client, ev event, rs *restore) {
	switch ev {
	case evStateSubscribed:
		rs.subscribed()
	case evConnected:
		// A clean session lost the per-node subscriptions.
		b.replySubs = nil
		b.syncReplies(client)
		b.publishShard(client)
		now := b.now()
		for _, o := range b.outputs {
			if l, ok := o.(ConnectListener); ok {
				l.Connected(now)
			}
		}
	case evBirth:
		now := b.now()
		for _, o := range b.outputs {
			if l, ok := o.(BirthListener); ok {
				l.Birth(now)
			}
		}
	}
}

// tick runs one round: gaps of the agents that did not answer the last
// request, the outputs' tick, and the next requests.
func (b *Bridge) tick(client mqtt.Client, tick clock.Tick) error {
	if !b.ready.Load() {
		return nil
	}
	if b.cfg.Shard.Auto {
		// Beat, and count out the peers that stopped beating, before
		// this tick's requests: their agents are asked now.
		client.Publish(b.topics().Beat(), 0, false, []byte{})
		b.updateMembers(client)
	}
	reqs, gaps := b.sampler.Tick(tick.At, tick.Skipped)
	for _, r := range reqs {
		// QoS 0 and not awaited: the loop must never wait on the broker,
		// and a request lost in a reconnect is a gap. Before anything
		// else the tick publishes: the connection sends in order, and
		// behind a second's worth of discovery configs (1,333 a bridge in
		// a fleet of three) the requests, and so the replies, came late.
		client.Publish(wire.Topics{Prefix: b.cfg.TopicPrefix, Node: r.Node}.Request(), 0, false, r.Payload)
	}
	if err := b.emit(gaps); err != nil {
		return err
	}
	now := b.now()
	for _, o := range b.outputs {
		if t, ok := o.(Ticker); ok {
			if err := t.Tick(tick.At, now); err != nil {
				return fmt.Errorf("output: %w", err)
			}
		}
	}
	if !b.cfg.Viewer {
		b.saveSlice(client, tick.At)
	}
	if len(b.saveDue) > 0 && !now.Before(b.saveAt) {
		b.saveDue = b.saveTaken(client, b.saveDue)
	}
	return nil
}

// message handles one message from the inbox: an agent's, or a persisted
// state copy while the restore waits.
func (b *Bridge) message(client mqtt.Client, m message, rs *restore) error {
	if m.valid {
		err := b.process(m)
		if m.kind == wire.KindStatus {
			b.syncReply(client, m.node)
		}
		return err
	}
	if m.sync {
		if string(m.payload) == b.runID && rs.mark() {
			b.startSampling(client, rs) // every retained copy is in
		}
		return nil
	}
	if m.peer != "" {
		b.peerMessage(client, m)
		return nil
	}
	if node, ok := b.stateTopics().Parse(m.topic); ok {
		s := b.readState(m)
		switch {
		case s == nil:
		case !b.ready.Load():
			rs.add(s, time.Now())
		case b.cfg.Shard.Auto:
			if ns, ok := s.Nodes[node]; ok {
				b.sampler.Offer(node, ns)
			}
		}
		return nil
	}
	b.limiter.Warn(b.log.WithField("topic", m.topic), "topic", "ignoring message on an invalid topic")
	return nil
}

func (b *Bridge) flush() error {
	now := b.now()
	for _, o := range b.outputs {
		if f, ok := o.(Flusher); ok {
			if err := f.Flush(now); err != nil {
				return fmt.Errorf("output: %w", err)
			}
		}
	}
	return nil
}

func (b *Bridge) keepalive(now time.Time) error {
	for _, o := range b.outputs {
		if err := o.Keepalive(now); err != nil {
			return fmt.Errorf("output: %w", err)
		}
	}
	if n := b.dropped.Swap(0); n > 0 {
		b.log.WithField("dropped", n).Warn("inbox full, messages dropped")
	}
	return nil
}

func (b *Bridge) signal(ev event) {
	select {
	case b.events <- ev:
	default:
	}
}

// handle runs on paho's goroutines: it parses the topic, decodes replies
// and hands the result over without ever blocking.
func (b *Bridge) handle(_ mqtt.Client, m mqtt.Message) {
	msg := message{topic: m.Topic(), payload: m.Payload(), at: b.now()}
	switch msg.topic {
	case b.syncTopic:
		// Through the inbox, behind the copies it marks the end of.
		msg.sync = true
	case b.birthTopic():
		if string(msg.payload) == "online" {
			// A short random delay, so that HA (and many bridges) are
			// not hit by everything at the same instant.
			time.AfterFunc(time.Duration(500+mrand.IntN(2500))*time.Millisecond, func() { b.signal(evBirth) })
		}
		return
	}
	if !msg.sync {
		if id, kind, ok := wire.ParseBridgeTopic(b.cfg.TopicPrefix, msg.topic); ok {
			msg.peer, msg.kind = id, kind
		} else {
			msg.node, msg.kind, msg.valid = wire.ParseTopic(b.cfg.TopicPrefix, msg.topic)
		}
	}
	if msg.valid && msg.kind == wire.KindReply {
		r, err := wire.DecodeReply(msg.payload)
		msg.reply, msg.err, msg.payload = &r, err, nil
	}
	select {
	case b.inbox <- msg:
	default:
		b.dropped.Add(1)
	}
}

func (b *Bridge) process(m message) error {
	node, kind := m.node, m.kind
	log := b.log.WithField("node", node)
	switch kind {
	case wire.KindStatus:
		online := string(m.payload) == wire.StatusOnline
		if b.sampler.Status(node, online) {
			log.WithField("status", string(m.payload)).Info("agent status")
		}
	case wire.KindInfo:
		if len(m.payload) == 0 {
			return nil // a cleared retained description
		}
		in, err := wire.DecodeInfo(m.payload)
		if err != nil || in.Node != node {
			b.limiter.Warn(log.WithError(err), "info:"+node, "dropping malformed agent description")
			return nil
		}
		b.sampler.Info(in)
	case wire.KindReply:
		if m.err != nil {
			b.limiter.Warn(log.WithError(m.err), "reply:"+node, "dropping malformed reply")
			return nil
		}
		ns, why := b.sampler.Reply(node, m.reply, m.at)
		if ns == nil {
			b.logDrop(log.WithField("reason", string(why)).WithField("id", m.reply.ID), node, why)
			return nil
		}
		for _, is := range ns.Ifaces {
			if is.RefreshNews {
				e := is.Refresh
				l := log.WithField("iface", is.Name).WithField("period_ms", float64(e.PeriodNS)/1e6).WithField("at_most_ms", float64(e.AtMostNS)/1e6)
				if is.TooCoarse {
					l.WithField("interval", b.cfg.Interval).Warn("the interval is shorter than this counter's refresh period: you cannot monitor at a rate below that at which the counter is changing; rates cover whole refreshes")
				} else {
					l.Info("counter refresh period")
				}
			}
			if is.LostWhileDown {
				// Info, not a warning: nothing is left to act on (the
				// router rebooted or re-created the interface while the
				// bridge was down), but the totals lack that traffic.
				log.WithField("iface", is.Name).WithField("reason", is.Result.Reason).
					Info("counters reset while no bridge watched: the traffic before the reset is unknown and not counted")
			}
		}
		return b.emit([]*NodeSample{ns})
	}
	return nil
}

// logDrop logs a reply the sampler did not use, by what a user can do
// about it. Every drop is counted in the sampler's Stats (the stats line).
func (b *Bridge) logDrop(log *logrus.Entry, node string, why DropReason) {
	switch why {
	case DropUnexpected:
		// An agent this bridge does not sample (IFSTAT_NODES, shards):
		// another bridge's.
	case DropUnknown:
		// A reply to a request this bridge never sent: another bridge on
		// the same broker (ifstat-bridge watch, a shard, a second
		// Netdata), an earlier run of this one, or someone debugging
		// with mosquitto_pub. Expected on a shared broker: said once.
		if !b.foreignSeen {
			b.foreignSeen = true
			log.Info("ignoring replies to requests this bridge did not send (another bridge or client asks the same agents); they are counted as unknown in the debug stats line")
		}
	case DropLate:
		// One late reply is a gap in the charts and nothing to act on;
		// logStats warns when they are a good part of the requests.
		// Limited like the warnings: a client that copies this bridge's
		// request ids can send any number.
		if ok, suppressed := b.limiter.Allow("late:" + node); ok {
			if suppressed > 0 {
				log = log.WithField("suppressed", suppressed)
			}
			log.Debug("dropping reply")
		}
	default:
		// Forged (a reply on another node's topic) and duplicate (two
		// agents with the same IFSTAT_NODE) replies need the user.
		b.limiter.Warn(log, "drop:"+node, "dropping reply")
	}
}

// lateShare is the share of a stats period's requests answered too late
// from which logStats warns: a few late replies are the broker's or the
// network's hiccups; this many mean the interval is too short for them.
const lateShare = 0.1

// logStats writes the sampler's counters of the last period at debug
// level, and warns when replies were often late.
func (b *Bridge) logStats() {
	st := b.sampler.Stats()
	prev := b.lastStats
	b.lastStats = st
	d := func(now, then uint64) uint64 { return now - then }
	b.log.WithFields(logrus.Fields{
		"requests": d(st.Requests, prev.Requests), "matched": d(st.Matched, prev.Matched),
		"late": d(st.Late, prev.Late), "gaps": d(st.Gaps, prev.Gaps), "skipped": d(st.Skipped, prev.Skipped),
		"unknown": d(st.Unknown, prev.Unknown), "unexpected": d(st.Unexpected, prev.Unexpected),
		"duplicate": d(st.Duplicate, prev.Duplicate), "forged": d(st.Forged, prev.Forged),
		"unknown_total": st.Unknown,
	}).Debug("sampler stats since the last line")
	if req, late := d(st.Requests, prev.Requests), d(st.Late, prev.Late); req > 0 && float64(late) >= lateShare*float64(req) {
		b.log.WithField("late", late).WithField("requests", req).WithField("interval", b.cfg.Interval).
			Warn("many replies arrived after the next request was due and were dropped (gaps in the charts): the broker, network or agents are too slow for IFSTAT_INTERVAL; raise it")
	}
}

func (b *Bridge) emit(samples []*NodeSample) error {
	now := b.now()
	for _, ns := range samples {
		for _, o := range b.outputs {
			if err := o.Emit(ns, now); err != nil {
				return fmt.Errorf("output: %w", err)
			}
		}
	}
	return nil
}
