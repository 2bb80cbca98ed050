package brokertest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// readyTimeout bounds how long Start and Restart wait for the broker to
// accept connections. It is a failure guard only: a healthy broker is ready
// in milliseconds.
const readyTimeout = 15 * time.Second

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// startAttempts is how often Start picks fresh ports when another process
// took one between FreePort and the broker's bind.
const startAttempts = 5

// errAddrInUse reports that the broker could not bind one of its ports.
var errAddrInUse = errors.New("address already in use")

// Broker is a running (or stopped) test broker. Its methods are safe for
// concurrent use; Pause must be called from the goroutine of the test that
// started the broker, because on the embedded broker it skips that test.
type Broker struct {
	t         testing.TB
	dir       string
	extra     string
	listeners []*listener

	mu      sync.Mutex
	port    int
	backend backend
	running bool
}

// backend is one broker implementation: a mosquitto process or an embedded
// mochi server.
type backend interface {
	// start binds the broker's ports and returns once it accepts TCP;
	// errAddrInUse (wrapped) when a port is taken.
	start(b *Broker) error
	// stop shuts the broker down and waits for it; kill skips the
	// graceful part where the backend has one.
	stop(kill bool)
	pause() error
	resume() error
	log() string
	pid() int
	embedded() bool
}

// listener is an extra listener added by WithListener or WithTLSListener.
type listener struct {
	name  string
	lines string
	tls   *TLS
	port  int
}

// TLS names the PEM files of a TLS listener.
type TLS struct {
	CAFile   string // CA that signs client certificates; needed with RequireCertificate
	CertFile string // server certificate; its SAN must cover 127.0.0.1
	KeyFile  string // server private key
	// RequireCertificate makes the listener reject clients without a
	// certificate signed by CAFile.
	RequireCertificate bool
}

// Option configures Start.
type Option func(*Broker)

// WithConfig adds lines to mosquitto.conf, before any listener, so they are
// global options: password_file, acl_file, max_packet_size, …. If lines
// mention allow_anonymous, password_file or an auth plugin, the default
// "allow_anonymous true" is left out. Listener options belong in
// WithListener. The embedded broker cannot honour them: Start skips the test.
func WithConfig(lines string) Option {
	return func(b *Broker) {
		b.extra += strings.TrimRight(lines, "\n") + "\n"
	}
}

// WithListener adds a listener called name on its own free 127.0.0.1 port;
// lines are the mosquitto.conf options written after its "listener" line
// (e.g. "protocol websockets"). Find the port with ListenerPort. The
// embedded broker cannot honour them: Start skips the test.
func WithListener(name, lines string) Option {
	return func(b *Broker) {
		b.listeners = append(b.listeners, &listener{name: name, lines: lines})
	}
}

// WithTLSListener adds a TLS listener called name on its own free 127.0.0.1
// port, on Mosquitto and on the embedded broker. Its URL is ListenerURL(name)
// ("ssl://127.0.0.1:PORT").
func WithTLSListener(name string, files TLS) Option {
	return func(b *Broker) {
		f := files
		b.listeners = append(b.listeners, &listener{name: name, tls: &f})
	}
}

// Start starts a broker on a free 127.0.0.1 port and registers t.Cleanup to
// stop it (and to print its log if the test failed).
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	b := &Broker{t: t, dir: t.TempDir()}
	for _, o := range opts {
		o(b)
	}
	seen := map[string]bool{}
	for _, l := range b.listeners {
		if l.name == "" || l.name == defaultListener || seen[l.name] {
			t.Fatalf("brokertest: listener name %q is empty, reserved or used twice", l.name)
		}
		seen[l.name] = true
	}

	be, err := b.pickBackend()
	if err != nil {
		t.Fatalf("brokertest: %v", err)
	}
	if be.embedded() {
		if b.extra != "" {
			t.Skip("brokertest: embedded broker cannot apply WithConfig; install mosquitto to run this test")
		}
		for _, l := range b.listeners {
			if l.tls == nil {
				t.Skip("brokertest: embedded broker cannot apply WithListener; install mosquitto to run this test")
			}
		}
	}
	b.backend = be

	// Cleanups run last-in first-out: stop first, then print the full log.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("brokertest: broker log (%s):\n%s", b.kind(), b.Log())
		}
	})
	t.Cleanup(b.Stop)

	for attempt := 1; ; attempt++ {
		ports := freePorts(t, 1+len(b.listeners))
		b.port = ports[0]
		for i, l := range b.listeners {
			l.port = ports[i+1]
		}
		err = be.start(b)
		if err == nil {
			break
		}
		if !errors.Is(err, errAddrInUse) || attempt == startAttempts {
			t.Fatalf("brokertest: starting %s: %v\n%s", b.kind(), err, be.log())
		}
	}
	b.running = true
	return b
}

// pickBackend chooses mosquitto or the embedded broker from the environment.
func (b *Broker) pickBackend() (backend, error) {
	return chooseBackend(os.Getenv, findMosquitto, b.dir)
}

// chooseBackend is pickBackend with its environment and binary lookup
// passed in, so every combination can be tested on one machine.
func chooseBackend(getenv func(string) string, find func() string, dir string) (backend, error) {
	switch want := getenv("IFSTAT_TEST_BROKER"); {
	case want == "embedded":
		return &embedded{}, nil
	case strings.ContainsRune(want, '/'):
		if _, err := os.Stat(want); err != nil {
			return nil, fmt.Errorf("IFSTAT_TEST_BROKER: %w", err)
		}
		return newProcess(want, dir), nil
	case want == "" || want == "mosquitto":
		if bin := find(); bin != "" {
			return newProcess(bin, dir), nil
		}
		if want == "mosquitto" {
			return nil, errors.New("mosquitto not found; IFSTAT_TEST_BROKER=mosquitto requires it")
		}
		if getenv("CI") == "true" {
			return nil, errors.New("mosquitto not found; CI requires it")
		}
		return &embedded{}, nil
	default:
		return nil, fmt.Errorf("IFSTAT_TEST_BROKER=%q: want embedded, mosquitto or a path", want)
	}
}

func findMosquitto() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func (b *Broker) kind() string {
	if b.backend != nil && b.backend.embedded() {
		return "embedded mochi-mqtt"
	}
	return "mosquitto"
}

// URL is the broker's default listener as a paho broker URL,
// "tcp://127.0.0.1:PORT".
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// Addr is the broker's default listener, "127.0.0.1:PORT".
func (b *Broker) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port())) }

// addr is Addr for backends, which run with b.mu held (or before Start
// returns, when nothing else can see b).
func (b *Broker) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

// Port is the broker's default listener port. It stays the same across
// Restart.
func (b *Broker) Port() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.port
}

// Embedded reports whether the broker is the embedded mochi-mqtt fallback
// rather than a mosquitto process.
func (b *Broker) Embedded() bool { return b.backend.embedded() }

// PID is the mosquitto process id while it runs, 0 otherwise and for the
// embedded broker.
func (b *Broker) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		return 0
	}
	return b.backend.pid()
}

// ListenerPort is the port of the extra listener called name; the test
// fails if there is none.
func (b *Broker) ListenerPort(name string) int {
	b.t.Helper()
	for _, l := range b.listeners {
		if l.name == name {
			return l.port
		}
	}
	b.t.Fatalf("brokertest: no listener %q", name)
	return 0
}

// ListenerURL is the paho broker URL of the extra listener called name:
// "ssl://127.0.0.1:PORT" for TLS listeners, "tcp://…" otherwise.
func (b *Broker) ListenerURL(name string) string {
	b.t.Helper()
	port := b.ListenerPort(name)
	scheme := "tcp"
	for _, l := range b.listeners {
		if l.name == name && l.tls != nil {
			scheme = "ssl"
		}
	}
	return scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// Stop shuts the broker down (SIGTERM, SIGKILL after 5 s) and waits until
// it has exited. Calling it on a stopped broker does nothing.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running {
		b.backend.stop(false)
		b.running = false
	}
}

// Kill stops the broker with SIGKILL, without a graceful shutdown, and waits
// until it has exited. The embedded broker has no such thing and closes as
// in Stop.
func (b *Broker) Kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running {
		b.backend.stop(true)
		b.running = false
	}
}

// Restart stops the broker if it runs and starts it again on the same ports
// with the same configuration, returning once it accepts TCP. Nothing
// survives: persistence is off, so retained messages and sessions are gone.
func (b *Broker) Restart() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running {
		b.backend.stop(false)
		b.running = false
	}
	// The port is ours only by convention now; another process may hold it
	// for a moment (or for good, which fails the test after the guard).
	deadline := time.Now().Add(readyTimeout)
	for {
		err := b.backend.start(b)
		if err == nil {
			break
		}
		if !errors.Is(err, errAddrInUse) || time.Now().After(deadline) {
			b.t.Fatalf("brokertest: restarting %s on port %d: %v", b.kind(), b.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.running = true
}

// Pause freezes mosquitto with SIGSTOP: connections stay open but nothing is
// read or answered, as with a hung broker or a dead link. On the embedded
// broker it skips the test.
func (b *Broker) Pause() {
	b.t.Helper()
	if b.Embedded() {
		b.t.Skip("brokertest: Pause needs a mosquitto process; the embedded broker cannot be frozen")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		b.t.Fatalf("brokertest: Pause on a stopped broker")
	}
	if err := b.backend.pause(); err != nil {
		b.t.Fatalf("brokertest: pause: %v", err)
	}
}

// Resume lets a paused mosquitto run again (SIGCONT).
func (b *Broker) Resume() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		return
	}
	if err := b.backend.resume(); err != nil {
		b.t.Fatalf("brokertest: resume: %v", err)
	}
}

// Log is the broker's log so far, across restarts: mosquitto's log file
// (with timestamps) followed by anything it printed on stderr, or the
// embedded broker's slog output.
func (b *Broker) Log() string { return b.backend.log() }

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Start
// retries with new ports when one was taken in between.
func FreePort(t testing.TB) int {
	t.Helper()
	return freePorts(t, 1)[0]
}

// freePorts returns n distinct free ports, holding each open until all are
// picked so the kernel cannot hand out one twice.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("brokertest: finding a free port: %v", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// waitTCP dials addr until it accepts a connection, alive reports false, or
// the deadline passes.
func waitTCP(addr string, deadline time.Time, alive func() error) error {
	for {
		if err := alive(); err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not accept connections: %w", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
