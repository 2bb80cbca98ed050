package haout

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/hatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// guard bounds every wait on the broker; a failure guard only, local round
// trips take milliseconds.
const guard = 10 * time.Second

const syncTopic = "haout-test/sync"

// flush waits until the broker has processed everything c published
// before: one connection is processed in order, and a QoS 1 PUBACK comes
// after the broker handled the PUBLISH.
func flush(t *testing.T, c mqtt.Client, marker string) {
	t.Helper()
	tok := c.Publish(syncTopic, 1, false, marker)
	if !tok.WaitTimeout(guard) || tok.Error() != nil {
		t.Fatalf("sync publish: %v", tok.Error())
	}
}

// checkRetained flushes the bridge client's publications, then compares
// what a new subscriber (client id) receives with want and returns it.
func checkRetained(t *testing.T, b *brokertest.Broker, pc mqtt.Client, id string, want map[string]string, when string) map[string]string {
	t.Helper()
	flush(t, pc, "bridge")
	got := retained(t, b, id)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("retained configs%s (-want +got):\n%s", when, diff)
	}
	return got
}

// retained returns what a new subscriber to homeassistant/# receives: the
// broker's retained configs, by topic.
func retained(t *testing.T, b *brokertest.Broker, id string) map[string]string {
	t.Helper()
	// In order, so the sync message comes after every retained one.
	c := b.Client(t, id, func(o *mqtt.ClientOptions) { o.SetOrderMatters(true) })
	ha := brokertest.Subscribe(t, c, "homeassistant/#", 4096)
	done := brokertest.Subscribe(t, c, syncTopic, 16)
	flush(t, c, id)
	for waiting := true; waiting; {
		select {
		case m := <-done:
			waiting = string(m.Payload()) != id
		case <-time.After(guard):
			t.Fatal("sync message never arrived")
		}
	}
	got := make(map[string]string)
	for {
		select {
		case m := <-ha:
			if !m.Retained() {
				t.Errorf("%s arrived not retained", m.Topic())
			}
			got[m.Topic()] = string(m.Payload())
		default:
			return got
		}
	}
}

func byTopic(msgs []msg) map[string]string {
	m := make(map[string]string, len(msgs))
	for _, x := range msgs {
		m[x.Topic] = x.Payload
	}
	return m
}

// TestMosquitto publishes through PahoPublisher to a real broker: a new
// subscriber gets every config retained and valid, and the empty retained
// payloads of a removed interface delete exactly its configs.
func TestMosquitto(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	t.Logf("broker: embedded=%t pid=%d", b.Embedded(), b.PID())
	pc := b.Client(t, "haout-bridge")
	out, err := New(testOptions(), PahoPublisher{Client: pc}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Connected(tick(0))
	a := newAgent("er-x", erxInfo)
	names := []string{"eth0", "eth0.100", "veth1@if3", "wg0"}
	run(t, out, a, 0, 1, func(k int) map[string]rate.Values { return allAt(names, k) })
	want := byTopic(append(bridgeConfigs(t), routerConfigs(t, erxInfo, names...)...))
	got := checkRetained(t, b, pc, "ha-1", want, "")
	for topic, payload := range got {
		for _, err := range hatest.Validate(topic, []byte(payload)) {
			t.Errorf("%s: %v", topic, err)
		}
	}

	ns := a.reply(2, 2e9+12345, allAt(names[:3], 2))
	for i := range ns.Ifaces {
		ns.Ifaces[i].Obsolete = ns.Ifaces[i].Name == "wg0"
	}
	out.Emit(ns, tick(2))
	want = byTopic(append(bridgeConfigs(t), routerConfigs(t, erxInfo, names[:3]...)...))
	checkRetained(t, b, pc, "ha-2", want, " after wg0 was removed")
	if t.Failed() {
		t.Log(b.Log())
	}
}

// TestMosquittoTariffs: with tariff data, the broker ends up holding
// exactly the configs of the current tariff set: a renamed tariff and a
// vanished interface leave no retained ghost.
func TestMosquittoTariffs(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	pc := b.Client(t, "haout-bridge-tariffs")
	out, err := New(testOptions(), PahoPublisher{Client: pc}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Connected(tick(0))
	a := newAgent("er-x", erxInfo)
	names := []string{"eth0", "wg0"}
	runTariffs(t, out, a, names, 0, 1, func(int) string { return "happy" })
	configs := func(tariffs []discovery.Tariff, ifaces ...string) map[string]string {
		ms, err := discovery.Configs(testOptions(), discovery.Router{Node: "er-x", Info: erxInfo, Ifaces: ifaces, Tariffs: tariffs})
		if err != nil {
			t.Fatal(err)
		}
		return byTopic(append(bridgeConfigs(t), asMsgs(ms, ConfigQoS)...))
	}
	got := checkRetained(t, b, pc, "ha-t1", configs(tariffSet, names...), "")
	for topic, payload := range got {
		for _, err := range hatest.Validate(topic, []byte(payload)) {
			t.Errorf("%s: %v", topic, err)
		}
	}

	// "normal" becomes "day" without a cap, and wg0 goes.
	ns := a.reply(2, 2e9+12345, allAt(names[:1], 2))
	for i := range ns.Ifaces {
		ns.Ifaces[i].Obsolete = ns.Ifaces[i].Name == "wg0"
		if !ns.Ifaces[i].Obsolete {
			u := usage(i, 2, "day")
			u.Tariffs[1].Name, u.Tariffs[1].Cap = "day", 0
			ns.Ifaces[i].Tariff = u
		}
	}
	out.Emit(ns, tick(2))
	drain(out)
	checkRetained(t, b, pc, "ha-t2", configs([]discovery.Tariff{{Name: "happy"}, {Name: "day"}}, "eth0"), " after the rename and wg0's removal")
	if t.Failed() {
		t.Log(b.Log())
	}
}

// TestMosquittoBirthOrder: after HA's birth, a subscriber on a real broker
// (HA's view) receives every config before the first state, and the state
// follows the last config by about BirthStateDelay. Only the order is
// asserted; the measured delay is logged (a slow machine may stretch it).
func TestMosquittoBirthOrder(t *testing.T) {
	t.Parallel()
	b := brokertest.Start(t)
	t.Logf("broker: embedded=%t pid=%d", b.Embedded(), b.PID())
	pc := b.Client(t, "haout-birth-bridge")
	pub := &tokenCheck{PahoPublisher: PahoPublisher{Client: pc}}
	out, err := New(testOptions(), pub, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Connected(tick(0))
	a := newAgent("er-x", erxInfo)
	names := []string{"eth0", "eth0.100", "eth0_100", "wg0"}
	run(t, out, a, 0, 10, func(k int) map[string]rate.Values { return allAt(names, k) })
	out.Tick(tick(11), tick(11).Add(time.Millisecond))
	flush(t, pc, "bridge")

	type arrival struct {
		topic string
		at    time.Time
	}
	var (
		mu  sync.Mutex
		got []arrival
	)
	stateTopic := wire.Topics{Prefix: "ifstat", Node: "er-x"}.State()
	c := b.Client(t, "ha-birth-view", func(o *mqtt.ClientOptions) { o.SetOrderMatters(true) })
	// One subscription for all, handled in order: arrivals keep the
	// broker's order.
	tok := c.SubscribeMultiple(map[string]byte{"homeassistant/#": 1, stateTopic: 1, syncTopic: 1}, func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, arrival{m.Topic(), time.Now()})
	})
	if !tok.WaitTimeout(guard) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	// The retained configs arrive before this marker; what follows it is
	// the answer to the birth.
	flush(t, c, "view")
	snapshot := func() []arrival {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
	deadline := time.Now().Add(guard)
	for !slices.ContainsFunc(snapshot(), func(a arrival) bool { return a.topic == syncTopic }) {
		if time.Now().After(deadline) {
			t.Fatal("sync marker never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	birthAt := time.Now()
	pub.reset()
	out.Birth(tick(12))
	out.Tick(tick(12), tick(12).Add(time.Millisecond))
	for !slices.ContainsFunc(snapshot(), func(a arrival) bool { return a.topic == stateTopic }) {
		if time.Now().After(deadline.Add(guard)) {
			t.Fatal("no state after the birth")
		}
		time.Sleep(5 * time.Millisecond)
	}
	out.waitBirths()
	all := snapshot()
	i := slices.IndexFunc(all, func(a arrival) bool { return a.topic == syncTopic })
	after := all[i+1:]

	want := map[string]bool{}
	for _, m := range append(bridgeConfigs(t), routerConfigs(t, erxInfo, names...)...) {
		want[m.Topic] = true
	}
	var lastConfig, firstState time.Time
	configs := 0
	for _, a := range after {
		switch {
		case a.topic == stateTopic:
			if firstState.IsZero() {
				firstState = a.at
				if configs != len(want) {
					t.Errorf("first state after %d of %d configs", configs, len(want))
				}
			}
		case want[a.topic]:
			if !firstState.IsZero() {
				t.Errorf("config %s after the first state", a.topic)
			}
			configs++
			lastConfig = a.at
		}
	}
	if configs != len(want) {
		t.Errorf("%d configs after the birth, want %d", configs, len(want))
	}
	// At the bridge: when the state was handed to paho, every config's
	// token had completed (the broker had acknowledged it).
	if n, pending := pub.result(); n == 0 || pending != 0 {
		t.Errorf("state published with %d of %d config tokens pending", pending, n)
	}
	t.Logf("birth: %d configs within %v of Birth, first state %v after the last config (BirthStateDelay %v)",
		configs, lastConfig.Sub(birthAt).Round(time.Microsecond), firstState.Sub(lastConfig).Round(time.Microsecond), BirthStateDelay)
}

// tokenCheck records the config tokens since reset, and at the first state
// publish how many of them were still pending.
type tokenCheck struct {
	PahoPublisher
	mu      sync.Mutex
	toks    []mqtt.Token
	pending int
	checked bool
}

func (p *tokenCheck) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.toks, p.pending, p.checked = nil, 0, false
}

func (p *tokenCheck) PublishToken(topic string, qos byte, retained bool, payload []byte) mqtt.Token {
	tok := p.PahoPublisher.PublishToken(topic, qos, retained, payload)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.toks = append(p.toks, tok)
	return tok
}

func (p *tokenCheck) Publish(topic string, qos byte, retained bool, payload []byte) {
	p.mu.Lock()
	if !p.checked && strings.HasSuffix(topic, "/state") {
		p.checked = true
		for _, tok := range p.toks {
			select {
			case <-tok.Done():
			default:
				p.pending++
			}
		}
	}
	p.mu.Unlock()
	p.PahoPublisher.Publish(topic, qos, retained, payload)
}

func (p *tokenCheck) result() (n, pending int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.toks), p.pending
}
