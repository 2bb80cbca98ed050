package mqttx

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
)

// TestReconnectResubscribes starts a client while the broker is down, then
// restarts the broker under it: each time OnConnect resubscribes and
// messages flow again, without touching the client.
func TestReconnectResubscribes(t *testing.T) {
	proctest.SkipShort(t, "restarts a real broker under paho's reconnect backoff")
	t.Parallel()
	const guard = 30 * time.Second // failure guard only
	b := brokertest.Start(t)
	b.Stop()

	got := make(chan string, 10)
	connects := make(chan struct{}, 10)
	l := logrus.New()
	l.SetOutput(io.Discard) // paho may log after the test ends
	c, err := NewClient(Options{
		Config:   config.Common{Broker: b.URL()},
		ClientID: "mqttx-reconnect",
		Will:     &Message{Topic: "t/status", Payload: []byte("offline"), QoS: 1, Retained: true},
		OnConnect: func(c mqtt.Client) {
			if err := Wait(c.Subscribe("t/request", 0, func(_ mqtt.Client, m mqtt.Message) {
				got <- string(m.Payload())
			}), guard); err != nil {
				t.Errorf("subscribe: %v", err)
			}
			connects <- struct{}{}
		},
		Log: logrus.NewEntry(l),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Connect() // retries in the background while the broker is down
	t.Cleanup(func() { c.Disconnect(0) })

	for round := range 3 {
		if round > 0 {
			b.Stop()
		}
		b.Restart()
		select {
		case <-connects:
		case <-time.After(guard):
			t.Fatalf("round %d: no (re)connect within %v", round, guard)
		}
		pub := b.Client(t, "mqttx-pub")
		want := "hello " + string(rune('0'+round))
		if err := Wait(pub.Publish("t/request", 0, false, want), guard); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m != want {
				t.Errorf("round %d: got %q, want %q", round, m, want)
			}
		case <-time.After(guard):
			t.Fatalf("round %d: message not delivered after reconnect", round)
		}
		pub.Disconnect(0)
	}
}

// TestOrderedKeepsBrokerOrder sends a run of numbered messages through a
// real broker: with Ordered the handler sees them in the order they were
// published, which a bridge's end-of-copies marker relies on.
func TestOrderedKeepsBrokerOrder(t *testing.T) {
	proctest.SkipShort(t, "runs a real broker")
	t.Parallel()
	const n = 5000
	const guard = 30 * time.Second // failure guard only
	b := brokertest.Start(t)
	var seen []int // only the router goroutine appends while the test waits
	last := make(chan struct{})
	subscribed := make(chan struct{}, 1)
	c, err := NewClient(Options{
		Config:   config.Common{Broker: b.URL()},
		ClientID: "mqttx-ordered",
		Ordered:  true,
		OnConnect: func(c mqtt.Client) {
			if err := Wait(c.Subscribe("t/seq", 0, func(_ mqtt.Client, m mqtt.Message) {
				i, _ := strconv.Atoi(string(m.Payload()))
				seen = append(seen, i)
				if i == n-1 {
					close(last)
				}
			}), guard); err != nil {
				t.Errorf("subscribe: %v", err)
			}
			subscribed <- struct{}{}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Connect()
	t.Cleanup(func() { c.Disconnect(0) })
	select {
	case <-subscribed:
	case <-time.After(guard):
		t.Fatal("never subscribed")
	}
	pub := b.Client(t, "mqttx-seq")
	var tok mqtt.Token
	for i := range n {
		tok = pub.Publish("t/seq", 0, false, strconv.Itoa(i))
	}
	if err := Wait(tok, guard); err != nil {
		t.Fatal(err)
	}
	select {
	case <-last:
	case <-time.After(guard):
		t.Fatalf("message %d never came (%d did)", n-1, len(seen))
	}
	for i, v := range seen {
		if v != i {
			t.Fatalf("message %d was number %d: out of order or lost", i, v)
		}
	}
}
