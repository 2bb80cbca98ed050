// Package embedbroker runs an MQTT broker (mochi-mqtt/server v2) inside the
// process, bound to loopback only, for the demo on a machine without a
// broker. It allows every client: it must never listen beyond 127.0.0.1.
package embedbroker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is a running embedded broker.
type Broker struct {
	srv  *mochi.Server
	addr string
}

// Start serves MQTT on 127.0.0.1:port; port 0 picks a free one. Errors
// (address in use, …) are returned, never swallowed.
func Start(port int, log *slog.Logger) (*Broker, error) {
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := mochi.New(&mochi.Options{Logger: log, InlineClient: false})
	if err := srv.AddHook(new(allowAll), nil); err != nil {
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	if err := srv.AddListener(listeners.NewTCP(listeners.Config{Type: "tcp", ID: "loopback", Address: addr})); err != nil {
		return nil, fmt.Errorf("embedded broker on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	return &Broker{srv: srv, addr: addr}, nil
}

// StartDefault tries the standard port 1883 first, so the usual
// mosquitto_sub command works unchanged, and falls back to a free port.
func StartDefault(log *slog.Logger) (*Broker, error) {
	b, err := Start(1883, log)
	if err == nil {
		return b, nil
	}
	b, err2 := Start(0, log)
	if err2 != nil {
		return nil, errors.Join(err, err2)
	}
	return b, nil
}

// URL is the broker URL for IFSTAT_BROKER.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Close stops the broker.
func (b *Broker) Close() error { return b.srv.Close() }

// allowAll lets every client connect and use every topic: acceptable only
// because the listener is on loopback.
type allowAll struct{ mochi.HookBase }

func (*allowAll) ID() string { return "ifstat-allow-loopback" }

func (*allowAll) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

func (*allowAll) OnConnectAuthenticate(*mochi.Client, packets.Packet) bool { return true }
func (*allowAll) OnACLCheck(*mochi.Client, string, bool) bool              { return true }
