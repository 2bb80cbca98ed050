package brokertest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// embedded runs a mochi-mqtt server in the test process; Restart creates a
// fresh one, so nothing (retained messages, sessions) survives it.
type embedded struct {
	srv *mochi.Server
	buf lockedBuffer
}

func (e *embedded) start(b *Broker) error {
	logger := slog.New(slog.NewTextHandler(&e.buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := mochi.New(&mochi.Options{Logger: logger})
	if err := srv.AddHook(new(allowAll), nil); err != nil {
		return fmt.Errorf("adding allow-all hook: %w", err)
	}
	cfgs := []listeners.Config{{Type: "tcp", ID: defaultListener, Address: b.addr()}}
	for _, l := range b.listeners {
		tc, err := serverTLS(l.tls)
		if err != nil {
			return fmt.Errorf("listener %s: %w", l.name, err)
		}
		cfgs = append(cfgs, listeners.Config{
			Type:      "tcp",
			ID:        l.name,
			Address:   net.JoinHostPort("127.0.0.1", strconv.Itoa(l.port)),
			TLSConfig: tc,
		})
	}
	for _, c := range cfgs {
		if err := srv.AddListener(listeners.NewTCP(c)); err != nil {
			_ = srv.Close()
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("listener %s on %s: %w", c.ID, c.Address, errAddrInUse)
			}
			return fmt.Errorf("listener %s on %s: %w", c.ID, c.Address, err)
		}
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return fmt.Errorf("serving: %w", err)
	}
	// AddListener has bound the sockets, so connections queue in the
	// backlog already; a probing dial here would also race with an early
	// Close inside mochi (Server.Close against EstablishConnection, seen
	// with -race in v2.7.9).
	e.srv = srv
	return nil
}

// serverTLS builds the embedded listener's TLS configuration from the same
// PEM files mosquitto would read; nil for a plain listener.
func serverTLS(f *TLS) (*tls.Config, error) {
	if f == nil {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("loading key pair: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", f.CAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	if f.RequireCertificate {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

func (e *embedded) stop(bool) {
	if e.srv != nil {
		_ = e.srv.Close()
		e.srv = nil
	}
}

func (e *embedded) pause() error   { return errors.New("embedded broker cannot be paused") }
func (e *embedded) resume() error  { return nil }
func (e *embedded) log() string    { return e.buf.String() }
func (e *embedded) pid() int       { return 0 }
func (e *embedded) embedded() bool { return true }

// allowAll lets every client connect and use every topic. It stands in for
// mochi's hooks/auth.AllowHook, whose package imports gopkg.in/yaml.v3, a
// module outside our go.sum.
type allowAll struct {
	mochi.HookBase
}

func (*allowAll) ID() string { return "brokertest-allow-all" }

func (*allowAll) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

func (*allowAll) OnConnectAuthenticate(*mochi.Client, packets.Packet) bool { return true }
func (*allowAll) OnACLCheck(*mochi.Client, string, bool) bool              { return true }

// lockedBuffer collects the embedded broker's log from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
