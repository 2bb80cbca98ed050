package mqttx

import (
	"bytes"
	"fmt"
	"net"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// readCounter is a net.Conn serving a fixed stream and counting the
// reads that reach it.
type readCounter struct {
	net.Conn
	r     *bytes.Reader
	reads int
}

func (c *readCounter) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

func TestBufferedConnReadsPacketsInFewCalls(t *testing.T) {
	t.Parallel()
	const n = 200
	var stream bytes.Buffer
	for i := range n {
		p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
		p.TopicName = fmt.Sprintf("ifstat/r%d/reply", i)
		p.Payload = bytes.Repeat([]byte{'x'}, 300+i)
		if err := p.Write(&stream); err != nil {
			t.Fatal(err)
		}
	}
	raw := &readCounter{r: bytes.NewReader(stream.Bytes())}
	c := newBufferedConn(raw)
	for i := range n {
		cp, err := packets.ReadPacket(c)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		p, ok := cp.(*packets.PublishPacket)
		if !ok || p.TopicName != fmt.Sprintf("ifstat/r%d/reply", i) || len(p.Payload) != 300+i {
			t.Fatalf("packet %d: got %v", i, cp)
		}
	}
	// Unbuffered, paho reads type, two length bytes and body: 4 reads a
	// packet. Buffered, one read per readBuffer of stream, plus the last.
	if want := stream.Len()/readBuffer + 2; raw.reads > want {
		t.Errorf("%d reads of the connection for %d packets (%d B), want at most %d", raw.reads, n, stream.Len(), want)
	}
}

func TestOpenBufferedSchemes(t *testing.T) {
	tests := []struct {
		broker   string
		proxy    string
		buffered bool
	}{
		{"tcp://127.0.0.1:1883", "", true},
		{"mqtt://127.0.0.1:1883", "", true},
		{"unix:///run/mosquitto.sock", "", true},
		{"tls://broker:8883", "", true},
		{"mqtts://broker:8883", "", true},
		// paho's own opener: websockets, TLS through a proxy.
		{"tls://broker:8883", "socks5://127.0.0.1:1080", false},
		{"ws://broker:9001/mqtt", "", false},
		{"wss://broker:443/mqtt", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.broker+"/"+tt.proxy, func(t *testing.T) {
			t.Setenv("all_proxy", tt.proxy)
			if got := openBuffered(tt.broker) != nil; got != tt.buffered {
				t.Errorf("buffered = %v, want %v", got, tt.buffered)
			}
		})
	}
}
