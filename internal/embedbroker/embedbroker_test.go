package embedbroker

import (
	"net"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

func TestRoundTripOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	b, err := Start(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	host, _, _ := net.SplitHostPort(b.addr)
	if host != "127.0.0.1" {
		t.Fatalf("listening on %s, want 127.0.0.1 only", b.addr)
	}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("t"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(0)
	got := make(chan string, 1)
	if tok := c.Subscribe("a/b", 0, func(_ mqtt.Client, m mqtt.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	c.Publish("a/b", 0, false, "hello")
	select {
	case p := <-got:
		if p != "hello" {
			t.Errorf("got %q, want hello", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message through the embedded broker")
	}
}

func TestStartReportsPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if b, err := Start(l.Addr().(*net.TCPAddr).Port, nil); err == nil {
		b.Close()
		t.Fatal("Start on a used port succeeded")
	}
}
