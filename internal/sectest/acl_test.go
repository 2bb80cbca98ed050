package sectest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// aclBroker starts mosquitto with docker/'s ACL and password file, as
// compose.yaml runs it: no anonymous access. The demo password of every
// user there is "<user>-demo" (docker/README.md).
func aclBroker(t *testing.T) *brokertest.Broker {
	t.Helper()
	acl, err := filepath.Abs("../../docker/mosquitto/acl")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../docker/mosquitto/passwd")
	if err != nil {
		t.Fatal(err)
	}
	// Mosquitto 2 warns about a password file others can read; copy it
	// private.
	passwd := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(passwd, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return startBroker(t, brokertest.WithConfig("password_file "+passwd+"\nacl_file "+acl+"\nallow_anonymous false\n"))
}

// as logs a paho client in as user with its demo password. Ordered
// delivery lets a test put a marker behind a message it expects to be
// dropped: the marker arriving first proves the drop without a timeout.
func as(user string) func(*mqtt.ClientOptions) {
	return func(o *mqtt.ClientOptions) {
		o.SetUsername(user).SetPassword(user + "-demo").SetOrderMatters(true)
	}
}

// collect subscribes c to each filter (QoS 1) into one channel and returns
// it with the broker's granted QoS per filter (0x80: refused).
func collect(t *testing.T, c mqtt.Client, filters ...string) (<-chan mqtt.Message, map[string]byte) {
	t.Helper()
	ch := make(chan mqtt.Message, 64)
	subs := map[string]byte{}
	for _, f := range filters {
		subs[f] = 1
	}
	tok := c.SubscribeMultiple(subs, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case ch <- m:
		default: // the tests read the first few messages only
		}
	})
	if !tok.WaitTimeout(guard) || tok.Error() != nil {
		t.Fatalf("subscribe %q: %v", filters, tok.Error())
	}
	return ch, tok.(*mqtt.SubscribeToken).Result()
}

func pub(t *testing.T, c mqtt.Client, topic string, retained bool, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, retained, payload)
	if !tok.WaitTimeout(guard) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func first(t *testing.T, ch <-chan mqtt.Message, what string) mqtt.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(guard):
		t.Fatalf("no %s within %v", what, guard)
		return nil
	}
}

// TestACLAgentConfined proves with paho clients that the agent user er-x
// cannot publish for another node nor read another node's requests, while
// its own topics work, on the shipped ACL.
func TestACLAgentConfined(t *testing.T) {
	proctest.SkipShort(t, "starts mosquitto")
	t.Parallel()
	b := aclBroker(t)
	erx := wire.Topics{Prefix: wire.DefaultPrefix, Node: "er-x"}
	other := wire.Topics{Prefix: wire.DefaultPrefix, Node: "other"}

	t.Run("publish_other_node", func(t *testing.T) {
		bridge := b.Client(t, "acl-bridge-sub", as("bridge"))
		got, _ := collect(t, bridge, wire.Wildcard(wire.DefaultPrefix, wire.KindReply),
			wire.Wildcard(wire.DefaultPrefix, wire.KindStatus), wire.Wildcard(wire.DefaultPrefix, wire.KindInfo))
		agent := b.Client(t, "acl-erx-pub", as("er-x"))
		for _, spoof := range []string{other.Reply(), other.Status(), other.Info()} {
			pub(t, agent, spoof, spoof == other.Status(), "spoof")
		}
		pub(t, agent, erx.Reply(), false, "own")
		if m := first(t, got, "reply at the bridge"); m.Topic() != erx.Reply() || string(m.Payload()) != "own" {
			t.Errorf("bridge received %s %q first, want %s \"own\": the spoofs must be dropped", m.Topic(), m.Payload(), erx.Reply())
		}
		// A spoofed retained status would be delivered to every later
		// subscriber; a fresh one must get only the marker.
		late := b.Client(t, "acl-bridge-late", as("bridge"))
		st, _ := collect(t, late, other.Status(), erx.Info())
		pub(t, agent, erx.Info(), false, "marker")
		if m := first(t, st, "message at the late subscriber"); m.Topic() != erx.Info() {
			t.Errorf("late subscriber received %s %q first: a spoofed retained status was stored", m.Topic(), m.Payload())
		}
	})

	t.Run("read_other_node", func(t *testing.T) {
		agent := b.Client(t, "acl-erx-sub", as("er-x"))
		got, granted := collect(t, agent, other.Request(), wire.Wildcard(wire.DefaultPrefix, wire.KindRequest), erx.Request())
		t.Logf("mosquitto's SUBACK for er-x: %v", granted)
		if granted[erx.Request()] == 0x80 {
			t.Fatalf("broker refused er-x its own request topic")
		}
		bridge := b.Client(t, "acl-bridge-pub", as("bridge"))
		pub(t, bridge, other.Request(), false, `{"id":"for-other"}`)
		pub(t, bridge, erx.Request(), false, `{"id":"for-er-x"}`)
		// Delivery is in order: other's request, had it passed, would
		// arrive before er-x's.
		if m := first(t, got, "request at er-x"); m.Topic() != erx.Request() || string(m.Payload()) != `{"id":"for-er-x"}` {
			t.Errorf("er-x received %s %q first: it must read only its own requests", m.Topic(), m.Payload())
		}
	})

	t.Run("no_other_topics", func(t *testing.T) {
		// Home Assistant's topics: a compromised router must not feed
		// Home Assistant states or discovery.
		ha := b.Client(t, "acl-ha", as("homeassistant"))
		got, _ := collect(t, ha, "homeassistant/#", wire.Topics{Prefix: wire.DefaultPrefix, Node: "er-x"}.State(), wire.BridgeTopics{Prefix: wire.DefaultPrefix, BridgeID: "b1"}.Status())
		agent := b.Client(t, "acl-erx-ha", as("er-x"))
		pub(t, agent, "homeassistant/sensor/ifstat_er-x/eth0_rx/config", true, "{}")
		pub(t, agent, wire.Topics{Prefix: wire.DefaultPrefix, Node: "er-x"}.State(), false, "{}")
		pub(t, agent, wire.BridgeTopics{Prefix: wire.DefaultPrefix, BridgeID: "b1"}.Status(), true, "online")
		pub(t, b.Client(t, "acl-ha-marker", as("homeassistant")), "homeassistant/status", false, "online")
		if m := first(t, got, "message at Home Assistant"); m.Topic() != "homeassistant/status" {
			t.Errorf("homeassistant received %s %q from er-x first, want only its own marker", m.Topic(), m.Payload())
		}
	})

	t.Run("wrong_password", func(t *testing.T) {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("acl-bad").
			SetUsername("er-x").SetPassword("bridge-demo").SetConnectTimeout(guard))
		tok := c.Connect()
		if !tok.WaitTimeout(guard) {
			t.Fatal("connect did not complete")
		}
		if err := tok.Error(); err == nil || !strings.Contains(err.Error(), "not Authorized") {
			c.Disconnect(0)
			t.Errorf("connect as er-x with another user's password: err = %v, want not Authorized", err)
		}
	})
}

// TestACLEndToEnd runs the real binaries with their own credentials on the
// shipped ACL: the agent er-x answers the bridge, whose plugins.d output
// rates it and whose Home Assistant output reaches the homeassistant user;
// an agent that claims another node id with er-x's credentials hears no
// request and is never seen by the bridge.
func TestACLEndToEnd(t *testing.T) {
	proctest.SkipShort(t, "starts mosquitto, agents and a bridge")
	t.Parallel()
	b := aclBroker(t)
	ha := b.Client(t, "e2e-ha", as("homeassistant"))
	haMsgs, _ := collect(t, ha, "homeassistant/sensor/ifstat_er-x/+/config", wire.Topics{Prefix: wire.DefaultPrefix, Node: "er-x"}.State(),
		wire.BridgeTopics{Prefix: wire.DefaultPrefix, BridgeID: "acl-bridge"}.Status())

	tree := newRampTree(t, 125_000, 25_000)
	start(t, "agent er-x", bins(t).agent, agentEnv(b.URL(), "er-x", tree, "IFSTAT_USERNAME=er-x", "IFSTAT_PASSWORD=er-x-demo"), nil)
	impostor := start(t, "agent impostor", bins(t).agent, agentEnv(b.URL(), "openwrt", newRampTree(t, 1000, 1000),
		"IFSTAT_USERNAME=er-x", "IFSTAT_PASSWORD=er-x-demo"), nil)
	br := start(t, "bridge", bins(t).bridge, bridgeEnv(b.URL(), "acl-bridge",
		"IFSTAT_USERNAME=bridge", "IFSTAT_PASSWORD=bridge-demo", "IFSTAT_HA=on", "IFSTAT_HA_INTERVAL=1s"), nil)

	waitRated(t, br, "er-x", 4)
	checkRates(t, br, "er-x", tree)

	seen := map[string]bool{}
	for len(seen) < 3 {
		m := first(t, haMsgs, "Home Assistant discovery, state and bridge status")
		switch {
		case strings.HasPrefix(m.Topic(), "homeassistant/"):
			seen["config"] = true
		case m.Topic() == wire.Topics{Prefix: wire.DefaultPrefix, Node: "er-x"}.State():
			seen["state"] = true
		default:
			seen["bridge status"] = true
		}
	}

	// Mosquitto 2.0 grants the impostor's subscription and filters at
	// delivery, so the agent cannot tell; it simply never hears a
	// request. Requests for openwrt are acknowledged by the broker (which
	// routes them as it receives them) before the bridge rates one more
	// er-x interval, a second later: long after delivery.
	asBridge := b.Client(t, "e2e-requester", as("bridge"))
	for range 5 {
		pub(t, asBridge, wire.Topics{Prefix: wire.DefaultPrefix, Node: "openwrt"}.Request(), false, "")
	}
	now, _ := waitRated(t, br, "er-x", 1)
	waitRated(t, br, "er-x", len(now)+1)
	impostor.signal(t, syscall.SIGTERM)
	if !strings.Contains(impostor.stderr.String(), "msg=stopped component=agent node=openwrt replies=0 requests=0") {
		t.Errorf("impostor agent heard requests for openwrt with er-x's credentials:\n%s", tail(impostor.stderr.String(), 5))
	}
	// The impostor's own announcements were dropped, so the bridge never
	// learnt of a node "openwrt" while it charted er-x.
	if nodes := parsePlugind(br.stdout.String()).nodes(); len(nodes) != 1 || nodes[0] != "er-x" {
		t.Errorf("bridge charts nodes %q, want only [er-x]", nodes)
	}
	if strings.Contains(br.stderr.String(), "node=openwrt") {
		t.Errorf("bridge heard of node openwrt, which er-x's credentials may not announce:\n%s", tail(br.stderr.String(), 20))
	}
}
