package brokertest

import (
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// clientTimeout bounds every wait on a paho token in this package; a failure
// guard only, local round trips take microseconds.
const clientTimeout = 10 * time.Second

// Client returns a paho client connected to the broker's default listener
// and registers t.Cleanup to disconnect it. Defaults suited to tests are set
// before opts run, so opts may override any of them: client id id, clean
// session, OrderMatters false (handlers run concurrently and must not
// block), auto-reconnect with at most 200 ms between attempts, 5 s connect
// and write timeouts, a default handler that drops unrouted messages.
func (b *Broker) Client(t testing.TB, id string, opts ...func(*mqtt.ClientOptions)) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().
		AddBroker(b.URL()).
		SetClientID(id).
		SetCleanSession(true).
		SetOrderMatters(false).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(200 * time.Millisecond).
		SetConnectTimeout(5 * time.Second).
		SetWriteTimeout(5 * time.Second).
		SetDefaultPublishHandler(func(mqtt.Client, mqtt.Message) {})
	for _, f := range opts {
		f(o)
	}
	c := mqtt.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(clientTimeout) {
		c.Disconnect(0)
		t.Fatalf("brokertest: client %q: connect to %v timed out after %v", id, o.Servers, clientTimeout)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("brokertest: client %q: connect to %v: %v", id, o.Servers, err)
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

// Subscribe subscribes c to topic at QoS 1 and returns a channel that
// buffers up to buf messages. The handler never blocks: when the channel is
// full it drops the message and says so with t.Log. The test fails if the
// broker refuses the subscription. Subscriptions of a clean session do not
// survive a reconnect; subscribe again after Restart.
func Subscribe(t testing.TB, c mqtt.Client, topic string, buf int) <-chan mqtt.Message {
	t.Helper()
	ch := make(chan mqtt.Message, buf)
	// t.Log after the test has ended panics, and paho may still deliver a
	// message during cleanup; done, under mu, stops the logging.
	var (
		mu      sync.Mutex
		done    bool
		dropped int
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		done = true
	})
	handler := func(_ mqtt.Client, m mqtt.Message) {
		select {
		case ch <- m:
			return
		default:
		}
		mu.Lock()
		defer mu.Unlock()
		dropped++
		if !done {
			t.Logf("brokertest: subscription %q full (%d): dropped message on %q (%d dropped so far)", topic, buf, m.Topic(), dropped)
		}
	}
	tok := c.Subscribe(topic, 1, handler)
	if !tok.WaitTimeout(clientTimeout) {
		t.Fatalf("brokertest: subscribe %q timed out after %v", topic, clientTimeout)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("brokertest: subscribe %q: %v", topic, err)
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		if code, ok := st.Result()[topic]; ok && code == 0x80 {
			t.Fatalf("brokertest: subscribe %q: refused by the broker (SUBACK 0x80)", topic)
		}
	}
	return ch
}

// Receive returns the next message on ch. If none comes within guard (a
// bound on a failure, never a measurement), the test fails.
func Receive(t testing.TB, ch <-chan mqtt.Message, guard time.Duration) mqtt.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(guard):
		t.Fatalf("no message within %v", guard)
		return nil
	}
}
