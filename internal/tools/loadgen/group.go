package main

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Counts are the loadgen's cumulative counters, shared by all groups.
type Counts struct {
	Requests  atomic.Uint64 // requests received
	Malformed atomic.Uint64 // requests that did not decode
	Dropped   atomic.Uint64 // requests dropped because a worker was behind
	Replies   atomic.Uint64 // replies handed to paho
	PubErrors atomic.Uint64 // publishes paho refused at once
	Connects  atomic.Uint64 // (re)connects of all groups
	SubFailed atomic.Uint64 // subscribe calls that failed
	// Offset counts requests by the 50 ms slot of the second they arrived
	// in; the bridge sends on whole seconds, so slot k means a delivery
	// delay of about k × 50 ms (late slots near 20 mean nearly a second).
	Offset [20]atomic.Uint64
}

// subscribeChunk bounds the topics of one SUBSCRIBE packet.
const subscribeChunk = 100

type request struct {
	agent *Agent
	id    string
}

// Group is the agents sharing one MQTT connection.
type Group struct {
	name    string
	agents  map[string]*Agent // fixed after NewGroup; read by paho's goroutines
	prefix  string
	runID   string
	start   time.Time
	counts  *Counts
	log     *logrus.Entry
	limiter *logx.Limiter
	work    chan request
	client  mqtt.Client
}

func newGroup(name, prefix, runID string, start time.Time, agents []*Agent, counts *Counts, log *logrus.Entry) *Group {
	g := &Group{
		name: name, agents: make(map[string]*Agent, len(agents)), prefix: prefix, runID: runID,
		start: start, counts: counts, log: log.WithField("group", name),
		limiter: logx.NewLimiter(3, time.Minute, nil),
		// Two ticks' worth of requests: a worker further behind than
		// that would answer too late for the bridge anyway.
		work: make(chan request, 2*len(agents)+16),
	}
	for _, a := range agents {
		g.agents[a.Node] = a
	}
	return g
}

// connect builds the client; subscriptions and birth messages follow every
// connect, because a clean session forgets them.
func (g *Group) connect(common mqttx.Options) error {
	o := common
	o.ClientID = g.name
	o.Log = g.log
	o.OnConnect = g.onConnect
	c, err := mqttx.NewClient(o)
	if err != nil {
		return err
	}
	g.client = c
	c.Connect()
	return nil
}

func (g *Group) onConnect(c mqtt.Client) {
	g.counts.Connects.Add(1)
	nodes := make([]string, 0, len(g.agents))
	for n := range g.agents {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for chunk := range slices.Chunk(nodes, subscribeChunk) {
		subs := make(map[string]byte, len(chunk))
		for _, n := range chunk {
			subs[g.agents[n].Topics.Request()] = 0
		}
		if err := mqttx.Wait(c.SubscribeMultiple(subs, g.handle), 30*time.Second); err != nil {
			g.counts.SubFailed.Add(1)
			g.log.WithError(err).Error("subscribe failed")
		}
	}
	// Online only once subscribed: the bridge's first request must find us.
	for _, n := range nodes {
		c.Publish(g.agents[n].Topics.Status(), 1, true, wire.StatusOnline)
	}
}

// handle runs on paho's goroutines: decode and hand over, never block.
func (g *Group) handle(_ mqtt.Client, m mqtt.Message) {
	at := time.Now()
	g.counts.Requests.Add(1)
	g.counts.Offset[at.Nanosecond()/50_000_000].Add(1)
	node, kind, ok := wire.ParseTopic(g.prefix, m.Topic())
	a := g.agents[node]
	if !ok || kind != wire.KindRequest || a == nil {
		g.counts.Malformed.Add(1)
		return
	}
	req, err := wire.DecodeRequest(m.Payload())
	if err != nil {
		g.counts.Malformed.Add(1)
		g.limiter.Warn(g.log.WithError(err), "request", "dropping malformed request")
		return
	}
	select {
	case g.work <- request{agent: a, id: req.ID}:
	default:
		g.counts.Dropped.Add(1)
	}
}

// work answers requests in arrival order until ctx ends. Reading the
// counters is a computation from the monotonic clock, stamped right here
// as an agent stamps mono_ns right beside its read.
func (g *Group) serve(ctx context.Context) {
	var enc wire.Encoder
	var r wire.Reply
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-g.work:
			now := time.Now()
			req.agent.Reply(&r, req.id, g.runID, int64(now.Sub(g.start)), now.UnixNano())
			// A fresh buffer per reply: paho writes the payload later,
			// from its own goroutine.
			payload := enc.AppendReply(make([]byte, 0, 2048), &r)
			t := g.client.Publish(req.agent.Topics.Reply(), 0, false, payload)
			g.counts.Replies.Add(1)
			select {
			case <-t.Done():
				if t.Error() != nil {
					g.counts.PubErrors.Add(1)
				}
			default:
			}
		}
	}
}

// offline publishes every agent's retained "offline" and disconnects.
func (g *Group) offline(timeout time.Duration) error {
	var last mqtt.Token
	for _, a := range g.agents {
		last = g.client.Publish(a.Topics.Status(), 1, true, wire.StatusOffline)
	}
	var err error
	if last != nil {
		err = mqttx.Wait(last, timeout)
	}
	g.client.Disconnect(250)
	return err
}
