package brokertest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// guard bounds waits for things that must happen; only a broken broker or
// client ever reaches it. Generous: a reconnect to a restarted embedded
// broker takes 5.2 s now and then on a loaded machine (one attempt gets no
// CONNACK and waits out Client's 5 s connect timeout, the next succeeds).
const guard = 30 * time.Second

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
	return Receive(t, ch, guard)
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

// mosquittoOnly skips a test that needs a mosquitto process, unless CI=true,
// where Start will fail it for the missing binary.
func mosquittoOnly(t *testing.T) {
	t.Helper()
	if findMosquitto() == "" && os.Getenv("CI") != "true" {
		t.Skip("mosquitto not installed")
	}
	t.Setenv("IFSTAT_TEST_BROKER", "mosquitto")
}

// receiveFirst subscribes a fresh, in-order client to prefix/# and publishes
// a marker behind it: any retained message is delivered before the marker,
// so the first message says whether one was there, without waiting.
func receiveFirst(t *testing.T, b *Broker, id, prefix string) mqtt.Message {
	t.Helper()
	c := b.Client(t, id, func(o *mqtt.ClientOptions) { o.SetOrderMatters(true) })
	ch := Subscribe(t, c, prefix+"/#", 4)
	publish(t, c, prefix+"/marker", 1, false, "marker")
	return receive(t, ch)
}

func TestRestartDropsRetained(t *testing.T) {
	forEachMode(t, func(t *testing.T) {
		b := Start(t)
		port, pid := b.Port(), b.PID()
		pub := b.Client(t, "pub")
		publish(t, pub, "ifstat/er-x/status", 1, true, "online")

		before := receiveFirst(t, b, "before", "ifstat/er-x")
		if before.Topic() != "ifstat/er-x/status" || string(before.Payload()) != "online" || !before.Retained() {
			t.Fatalf("before restart: first message %q %q retained %v, want the retained status", before.Topic(), before.Payload(), before.Retained())
		}

		b.Restart()
		if b.Port() != port {
			t.Errorf("Port() after Restart = %d, want %d", b.Port(), port)
		}
		if !b.Embedded() && b.PID() == pid {
			t.Errorf("PID() after Restart = %d, the same process", pid)
		}
		after := receiveFirst(t, b, "after", "ifstat/er-x")
		if after.Topic() != "ifstat/er-x/marker" {
			t.Errorf("after restart: first message on %q (%q), want the marker: the retained message survived", after.Topic(), after.Payload())
		}
	})
}

func TestReconnectAfterRestart(t *testing.T) {
	stops := []struct {
		name string
		stop func(*Broker)
	}{
		{"stop", (*Broker).Stop},
		{"kill", (*Broker).Kill},
	}
	forEachMode(t, func(t *testing.T) {
		for _, st := range stops {
			t.Run(st.name, func(t *testing.T) {
				b := Start(t)
				connected := make(chan struct{}, 4)
				lost := make(chan error, 4)
				c := b.Client(t, "auto", func(o *mqtt.ClientOptions) {
					o.SetOnConnectHandler(func(mqtt.Client) { connected <- struct{}{} })
					o.SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost <- err })
				})
				wait := func(what string, ch <-chan struct{}) {
					t.Helper()
					select {
					case <-ch:
					case <-time.After(guard):
						t.Fatalf("no %s within %v", what, guard)
					}
				}
				wait("first connect", connected)

				st.stop(b)
				select {
				case <-lost:
				case <-time.After(guard):
					t.Fatalf("client did not notice the broker going away within %v", guard)
				}
				b.Stop() // idempotent: a second stop must not block or fail
				b.Restart()
				wait("reconnect", connected)

				ch := Subscribe(t, c, "ifstat/er-x/request", 1)
				publish(t, b.Client(t, "pub"), "ifstat/er-x/request", 0, false, "")
				if m := receive(t, ch); m.Topic() != "ifstat/er-x/request" {
					t.Errorf("got %q after reconnect, want ifstat/er-x/request", m.Topic())
				}
			})
		}
	})
}

// procState is the one-letter state of pid from /proc/PID/stat.
func procState(t *testing.T, pid int) string {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("reading state of %d: %v", pid, err)
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 > len(s) {
		t.Fatalf("unexpected /proc/%d/stat: %q", pid, s)
	}
	return s[i+2 : i+3]
}

func waitState(t *testing.T, pid int, want string) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for procState(t, pid) != want {
		if time.Now().After(deadline) {
			t.Fatalf("process %d state %s, want %s", pid, procState(t, pid), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPauseResume(t *testing.T) {
	t.Run("mosquitto", func(t *testing.T) {
		mosquittoOnly(t)
		b := Start(t)
		sub := b.Client(t, "sub")
		pub := b.Client(t, "pub")
		ch := Subscribe(t, sub, "ifstat/er-x/reply", 1)

		b.Pause()
		waitState(t, b.PID(), "T")
		tok := pub.Publish("ifstat/er-x/reply", 1, false, "while paused")
		// A frozen broker never acknowledges; this wait cannot end early.
		if tok.WaitTimeout(100 * time.Millisecond) {
			t.Fatalf("publish to a paused broker completed (err %v)", tok.Error())
		}
		b.Resume()
		if !tok.WaitTimeout(guard) || tok.Error() != nil {
			t.Fatalf("publish after Resume: not acknowledged within %v (err %v)", guard, tok.Error())
		}
		if m := receive(t, ch); string(m.Payload()) != "while paused" {
			t.Errorf("got %q, want the message published while paused", m.Payload())
		}
		if s := procState(t, b.PID()); s == "T" {
			t.Errorf("state after Resume = %s", s)
		}
	})
	t.Run("embedded skips", func(t *testing.T) {
		t.Setenv("IFSTAT_TEST_BROKER", "embedded")
		var skipped bool
		t.Run("inner", func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			Start(t).Pause()
		})
		if !skipped {
			t.Error("Pause on the embedded broker did not skip the test")
		}
	})
}

// BenchmarkStartStop measures what a test pays for its own broker.
func BenchmarkStartStop(b *testing.B) {
	for _, mode := range []string{"mosquitto", "embedded"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "mosquitto" && findMosquitto() == "" {
				b.Skip("mosquitto not installed")
			}
			b.Setenv("IFSTAT_TEST_BROKER", mode)
			for b.Loop() {
				Start(b).Stop()
			}
		})
	}
}
