package main

import (
	"io"
	"slices"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// guard bounds every wait on the broker; a failure guard only.
const guard = 10 * time.Second

func next(t *testing.T, ch <-chan mqtt.Message) mqtt.Message {
	t.Helper()
	return brokertest.Receive(t, ch, guard)
}

// TestGroupsThroughBroker runs 5 agents over 3 shared connections against a
// real broker: each announces itself, answers a request addressed to it
// (and only it) with a valid reply, and says offline at the end.
func TestGroupsThroughBroker(t *testing.T) {
	b := brokertest.Start(t)
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	log := logrus.NewEntry(logger)

	cfg := Config{
		Common:        config.Common{Broker: b.URL(), TopicPrefix: "ifstat"},
		LoadgenAgents: 5, LoadgenPerConn: 2, LoadgenIfaces: 3, LoadgenNode: "sim",
	}
	var counts Counts
	start := time.Now()
	groups := Partition(cfg, "0123456789abcdef", start, &counts, log)
	if len(groups) != 3 {
		t.Fatalf("Partition(5 agents, 2 per conn) = %d groups, want 3", len(groups))
	}

	obs := b.Client(t, "observer")
	status := brokertest.Subscribe(t, obs, "ifstat/+/status", 32)
	replies := brokertest.Subscribe(t, obs, "ifstat/+/reply", 32)

	for _, g := range groups {
		if err := g.connect(mqttx.Options{Config: cfg.Common}); err != nil {
			t.Fatalf("connect: %v", err)
		}
		go g.serve(t.Context())
	}
	var online []string
	for range 5 {
		m := next(t, status)
		if string(m.Payload()) != wire.StatusOnline {
			t.Fatalf("status %s = %q, want online", m.Topic(), m.Payload())
		}
		online = append(online, m.Topic())
	}
	slices.Sort(online)
	want := []string{"ifstat/sim0/status", "ifstat/sim1/status", "ifstat/sim2/status", "ifstat/sim3/status", "ifstat/sim4/status"}
	if diff := cmp.Diff(want, online); diff != "" {
		t.Fatalf("online statuses mismatch (-want +got):\n%s", diff)
	}

	for i, id := range []string{"t-1", "t-2"} {
		if err := mqttx.Wait(obs.Publish("ifstat/sim3/request", 0, false, `{"id":"`+id+`"}`), guard); err != nil {
			t.Fatalf("publish request: %v", err)
		}
		m := next(t, replies)
		if m.Topic() != "ifstat/sim3/reply" {
			t.Fatalf("reply on %q, want ifstat/sim3/reply", m.Topic())
		}
		r, err := wire.DecodeReply(m.Payload())
		if err != nil {
			t.Fatalf("DecodeReply: %v", err)
		}
		got := []any{r.ID, r.Node, r.Seq, r.RunID, r.BootID, len(r.Ifaces), r.Ifaces["eth2"].Ifindex}
		wantR := []any{id, "sim3", uint64(i + 1), "0123456789abcdef", "01234567-0000-4000-8000-000000000003", 3, int64(4)}
		if diff := cmp.Diff(wantR, got); diff != "" {
			t.Errorf("reply %d (id, node, seq, run, boot, ifaces, ifindex) mismatch (-want +got):\n%s", i, diff)
		}
		if el := r.MonoNS - BaseMonoNS; el <= 0 || el > int64(time.Since(start)) {
			t.Errorf("mono_ns - BaseMonoNS = %d, want within (0, %d]", el, int64(time.Since(start)))
		}
	}
	if got := counts.Requests.Load(); got != 2 {
		t.Errorf("requests received = %d, want 2 (one connection per request)", got)
	}

	for _, g := range groups {
		if err := g.offline(guard); err != nil {
			t.Fatalf("offline: %v", err)
		}
	}
	var offline []string
	for range 5 {
		m := next(t, status)
		if string(m.Payload()) != wire.StatusOffline {
			t.Fatalf("status %s = %q, want offline", m.Topic(), m.Payload())
		}
		offline = append(offline, m.Topic())
	}
	slices.Sort(offline)
	if diff := cmp.Diff(want, offline); diff != "" {
		t.Fatalf("offline statuses mismatch (-want +got):\n%s", diff)
	}
}
