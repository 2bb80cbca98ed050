package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/clock"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// Output receives every node's samples in tick order.
type Output interface {
	Emit(ns *NodeSample, now time.Time) error
	// Keepalive is called every few seconds, with or without samples.
	Keepalive(now time.Time) error
}

// inboxSize bounds the messages waiting for the loop; beyond it they are
// dropped and counted, so a flood cannot grow memory or block paho.
const inboxSize = 1 << 14

type message struct {
	topic   string
	payload []byte
	at      time.Time
	// Replies are decoded on paho's goroutines, in parallel, so the
	// loop (which owns all state) only matches them.
	node  string
	kind  string
	valid bool
	reply *wire.Reply
	err   error
}

// Bridge samples agents over MQTT and feeds its outputs.
type Bridge struct {
	cfg     Config
	log     *logrus.Entry
	outputs []Output
	sampler *Sampler
	limiter *logx.Limiter

	inbox   chan message
	dropped atomic.Uint64

	newClient func(mqttx.Options) (mqtt.Client, error)
}

// New returns a bridge for cfg (validated by the caller) writing to outputs.
func New(cfg Config, log *logrus.Entry, outputs ...Output) (*Bridge, error) {
	run := make([]byte, 4)
	if _, err := rand.Read(run); err != nil {
		return nil, fmt.Errorf("run id: %w", err)
	}
	maxGap := cfg.MaxGap
	s := NewSampler(SamplerConfig{
		Interval: cfg.Interval, RunID: hex.EncodeToString(run), Nodes: cfg.Nodes, ObsoleteAfter: cfg.ObsoleteAfter,
		Rate: rate.Config{MaxGapNS: int64(maxGap), MaxBitsPerSec: cfg.MaxBitsPerSec},
	})
	return &Bridge{
		cfg: cfg, log: log, outputs: outputs, sampler: s,
		limiter:   logx.NewLimiter(5, time.Minute, nil),
		inbox:     make(chan message, inboxSize),
		newClient: mqttx.NewClient,
	}, nil
}

// Sampler returns the bridge's bookkeeping (read it only after Run returned).
func (b *Bridge) Sampler() *Sampler { return b.sampler }

// Run connects and samples until ctx ends or an output fails (stdout
// closed: Netdata went away). Broker trouble never ends it: paho retries.
func (b *Bridge) Run(ctx context.Context) error {
	prefix := b.cfg.TopicPrefix
	host, _ := os.Hostname()
	client, err := b.newClient(mqttx.Options{
		Config:   b.cfg.Common,
		ClientID: mqttx.ClientID("bridge", wire.NodeFromHostname(host)+"-"+b.sampler.cfg.RunID),
		Log:      b.log,
		OnConnect: func(c mqtt.Client) {
			// QoS 0 throughout: at QoS 1 a stock Mosquitto
			// (max_queued_messages 1000) drops the retained statuses
			// beyond its queue when thousands of agents exist, and
			// those agents would never be sampled (measured: 1,020 of
			// 3,000 at QoS 1, all 3,000 at QoS 0).
			subs := map[string]byte{
				wire.Wildcard(prefix, wire.KindStatus): 0,
				wire.Wildcard(prefix, wire.KindInfo):   0,
				wire.Wildcard(prefix, wire.KindReply):  0,
			}
			if err := mqttx.Wait(c.SubscribeMultiple(subs, b.handle), 10*time.Second); err != nil {
				b.log.WithError(err).Error("subscribe failed")
			}
		},
	})
	if err != nil {
		return err
	}
	client.Connect() // completes only once connected; never awaited
	defer client.Disconnect(250)

	tk := clock.Start(ctx, b.cfg.Interval, 0)
	keep := time.NewTicker(5 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case tick := <-tk.C:
			reqs, gaps := b.sampler.Tick(tick.At, tick.Skipped)
			if err := b.emit(gaps); err != nil {
				return err
			}
			for _, r := range reqs {
				// QoS 0 and not awaited: the loop must never wait on the
				// broker, and a request lost in a reconnect is a gap.
				client.Publish(wire.Topics{Prefix: prefix, Node: r.Node}.Request(), 0, false, r.Payload)
			}
		case m := <-b.inbox:
			if err := b.process(m); err != nil {
				return err
			}
		case now := <-keep.C:
			for _, o := range b.outputs {
				if err := o.Keepalive(now); err != nil {
					return fmt.Errorf("output: %w", err)
				}
			}
			if n := b.dropped.Swap(0); n > 0 {
				b.log.WithField("dropped", n).Warn("inbox full, messages dropped")
			}
		}
	}
}

// handle runs on paho's goroutines: it parses the topic, decodes replies
// and hands the result over without ever blocking.
func (b *Bridge) handle(_ mqtt.Client, m mqtt.Message) {
	msg := message{topic: m.Topic(), payload: m.Payload(), at: time.Now()}
	msg.node, msg.kind, msg.valid = wire.ParseTopic(b.cfg.TopicPrefix, msg.topic)
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
	if !m.valid {
		b.limiter.Warn(b.log.WithField("topic", m.topic), "topic", "ignoring message on an invalid topic")
		return nil
	}
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
		r := m.reply
		ns, why := b.sampler.Reply(node, r, m.at)
		if ns == nil {
			if why != DropUnexpected {
				b.limiter.Warn(log.WithField("reason", string(why)).WithField("id", r.ID), "drop:"+node, "dropping reply")
			}
			return nil
		}
		return b.emit([]*NodeSample{ns})
	}
	return nil
}

func (b *Bridge) emit(samples []*NodeSample) error {
	now := time.Now()
	for _, ns := range samples {
		for _, o := range b.outputs {
			if err := o.Emit(ns, now); err != nil {
				return fmt.Errorf("output: %w", err)
			}
		}
	}
	return nil
}
