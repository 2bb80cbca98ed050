package mqttx

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"os"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/net/proxy"
)

// readBuffer is the size of a connection's read buffer: a few dozen
// replies of an 8-interface router.
const readBuffer = 32 << 10

// bufferedConn reads the connection through a buffer. paho reads each
// packet straight from the socket: one read for the packet type, one per
// byte of the remaining length and one for the rest, so three or four
// system calls per message. A bridge receiving 5,000 replies a second
// spent 12 % of its CPU in those reads (perf, scripts/bench-bridge.sh
// 5000). Only paho's reader goroutine reads, so the buffer needs no lock;
// deadlines still apply, since a read that finds the buffer empty reads
// the socket.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func newBufferedConn(c net.Conn) net.Conn {
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, readBuffer)}
}

// openBuffered returns the connection opener for broker that reads
// through a buffer, or nil where paho's own opener must stay: websockets,
// and TLS through a proxy from the environment, which paho dials in ways
// not worth repeating here. For the schemes it takes it dials as paho does
// (tcp through any proxy of the environment, as paho does).
func openBuffered(broker string) mqtt.OpenConnectionFunc {
	u, err := url.Parse(broker)
	if err != nil {
		return nil // paho reports it
	}
	switch u.Scheme {
	case "mqtt", "tcp", "unix":
	case "ssl", "tls", "mqtts", "mqtt+ssl", "tcps":
		if os.Getenv("all_proxy") != "" {
			return nil
		}
	default:
		return nil
	}
	return func(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
		d := o.Dialer
		if d == nil {
			d = &net.Dialer{Timeout: o.ConnectTimeout}
		}
		var c net.Conn
		var err error
		switch uri.Scheme {
		case "mqtt", "tcp":
			c, err = proxy.FromEnvironmentUsing(d).Dial("tcp", uri.Host)
		case "unix":
			path := uri.Host
			if path == "" {
				path = uri.Path
			}
			c, err = d.Dial("unix", path)
		case "ssl", "tls", "mqtts", "mqtt+ssl", "tcps":
			c, err = tls.DialWithDialer(d, "tcp", uri.Host, o.TLSConfig)
		default:
			err = errors.New("unknown protocol " + uri.Scheme)
		}
		if err != nil {
			return nil, err
		}
		return newBufferedConn(c), nil
	}
}
