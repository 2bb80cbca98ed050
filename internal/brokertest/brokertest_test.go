package brokertest

import (
	"os"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// guard bounds waits for things that must happen; only a broken broker or
// client ever reaches it.
const guard = 10 * time.Second

// forEachMode runs f once against mosquitto and once against the embedded
// broker, selected through IFSTAT_TEST_BROKER. Without mosquitto the
// mosquitto run is skipped, unless CI=true, where Start fails it.
func forEachMode(t *testing.T, f func(t *testing.T)) {
	for _, mode := range []string{"mosquitto", "embedded"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "mosquitto" && findMosquitto() == "" && os.Getenv("CI") != "true" {
				t.Skip("mosquitto not installed")
			}
			t.Setenv("IFSTAT_TEST_BROKER", mode)
			f(t)
		})
	}
}

func receive(t *testing.T, ch <-chan mqtt.Message) mqtt.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(guard):
		t.Fatalf("no message within %v", guard)
		return nil
	}
}

func publish(t *testing.T, c mqtt.Client, topic string, qos byte, retained bool, payload string) {
	t.Helper()
	tok := c.Publish(topic, qos, retained, payload)
	if !tok.WaitTimeout(guard) {
		t.Fatalf("publish %q timed out", topic)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("publish %q: %v", topic, err)
	}
}

func TestRoundTrip(t *testing.T) {
	forEachMode(t, func(t *testing.T) {
		b := Start(t)
		sub := b.Client(t, "sub")
		pub := b.Client(t, "pub")
		ch := Subscribe(t, sub, "ifstat/er-x/reply", 4)
		publish(t, pub, "ifstat/er-x/reply", 0, false, `{"id":"1"}`)
		m := receive(t, ch)
		if m.Topic() != "ifstat/er-x/reply" || string(m.Payload()) != `{"id":"1"}` || m.Retained() {
			t.Errorf("got topic %q payload %q retained %v, want ifstat/er-x/reply {\"id\":\"1\"} false", m.Topic(), m.Payload(), m.Retained())
		}
	})
}
