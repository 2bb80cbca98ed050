package mqttx

import (
	"cmp"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
)

// Timing of every client. Reconnects back off from 1 s to MaxReconnectInterval
// (paho's own default is 10 min, far too long for a router that reboots).
// paho counts losses close together as one outage and keeps doubling, so
// after a broker restarted ten times in a row a 30 s cap meant 31 s to come
// back (measured by the fault suite); 5 s keeps every client back within a
// few seconds of the broker, and a refused connect to a down broker costs
// it next to nothing.
const (
	MaxReconnectInterval = 5 * time.Second
	ConnectRetryInterval = 2 * time.Second
	ConnectTimeout       = 10 * time.Second
	KeepAlive            = 30 * time.Second
	// WriteTimeout bounds how long Publish waits for the writer; with paho's
	// default of 0 it still waits 30 s.
	WriteTimeout = 5 * time.Second
)

// ErrTimeout is returned by Wait when a token did not complete in time.
var ErrTimeout = errors.New("mqtt: timed out")

// Message is one MQTT publication, used for the last will.
type Message struct {
	Topic    string
	Payload  []byte
	QoS      byte
	Retained bool
}

// Options configure NewClient.
type Options struct {
	// Config supplies the broker URL, credentials and TLS files.
	Config config.Common
	// ClientID must be unique per broker; see ClientID.
	ClientID string
	// Will is the retained last will, e.g. P/N/status "offline"; nil for none.
	Will *Message
	// OnConnect runs on every (re)connect in its own goroutine, so it may
	// wait on tokens: subscribe and publish retained birth messages here,
	// because a clean session forgets subscriptions on disconnect.
	OnConnect func(mqtt.Client)
	// OnLost runs when the connection drops; paho reconnects by itself.
	OnLost func(error)
	// Log receives connection events; nil discards them.
	Log *logrus.Entry
	// OnMessage receives the messages of subscriptions made with a nil
	// callback. paho matches every message against every callback's topic
	// filter in turn (splitting both each time), so a client with
	// thousands of per-topic subscriptions (a bridge's per-node replies)
	// must not give each a callback. nil: such messages are logged,
	// rate-limited, and dropped.
	OnMessage mqtt.MessageHandler
	// KeepAlive replaces the package's KeepAlive when positive. The broker
	// publishes the will after 1.5 times it without a packet, so a client
	// whose will others act on (a fleet bridge) needs a short one.
	KeepAlive time.Duration
	// Ordered hands messages to the handlers one at a time, in the order
	// the broker sent them, on paho's router goroutine; handlers must then
	// never block. Without it paho starts a goroutine per message, and a
	// message can overtake the ones sent before it: a bridge's end-of-copies
	// marker overtook the last retained state copy (2,999 of 3,000 restored
	// in one CI run), and a peer's "offline" could be handled after the
	// "online" that followed it.
	Ordered bool
}

// NewClient returns a client configured from o. It does not connect: call
// Connect and do not wait for its token, since with ConnectRetry it completes
// only once the broker answers.
func NewClient(o Options) (mqtt.Client, error) {
	log := o.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	if o.ClientID == "" {
		return nil, errors.New("mqttx: empty client id")
	}
	c := o.Config
	opts := mqtt.NewClientOptions().
		AddBroker(c.Broker).
		SetClientID(o.ClientID).
		SetCleanSession(true).
		SetOrderMatters(o.Ordered).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(ConnectRetryInterval).
		SetMaxReconnectInterval(MaxReconnectInterval).
		SetConnectTimeout(ConnectTimeout).
		SetKeepAlive(cmp.Or(o.KeepAlive, KeepAlive)).
		SetWriteTimeout(WriteTimeout)
	if c.Username != "" {
		opts.SetUsername(c.Username)
		opts.SetPassword(string(c.Password))
	}
	if c.TLS() {
		tc, err := TLSConfig(c)
		if err != nil {
			return nil, err
		}
		opts.SetTLSConfig(tc)
	}
	if open := openBuffered(c.Broker); open != nil {
		opts.SetCustomOpenConnectionFn(open)
	}
	if o.Will != nil {
		opts.SetBinaryWill(o.Will.Topic, o.Will.Payload, o.Will.QoS, o.Will.Retained)
	}
	// Messages that match no subscription are never acked without a
	// default handler; a peer can cause them, so the warning is rate-limited.
	lim := logx.NewLimiter(1, time.Minute, nil)
	unrouted := o.OnMessage
	if unrouted == nil {
		unrouted = func(_ mqtt.Client, m mqtt.Message) {
			lim.Warn(log.WithField("topic", m.Topic()), "unrouted", "dropping message on unexpected topic")
		}
	}
	opts.SetDefaultPublishHandler(unrouted)
	opts.SetOnConnectHandler(func(cl mqtt.Client) {
		log.WithField("broker", c.BrokerRedacted()).Info("connected")
		if o.OnConnect != nil {
			o.OnConnect(cl)
		}
	})
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		log.WithError(err).Warn("connection lost, reconnecting")
		if o.OnLost != nil {
			o.OnLost(err)
		}
	})
	opts.SetReconnectingHandler(func(mqtt.Client, *mqtt.ClientOptions) {
		log.Debug("reconnecting")
	})
	opts.SetConnectionAttemptHandler(func(b *url.URL, tc *tls.Config) *tls.Config {
		log.WithField("broker", b.Redacted()).Debug("connecting")
		return tc
	})
	return mqtt.NewClient(opts), nil
}

// TLSConfig builds the TLS settings from c: the CA file (default: the
// system roots) and an optional client certificate and key.
func TLSConfig(c config.Common) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Wait waits at most d for t. paho's WaitTimeout reports a timeout as false
// with a nil Error, so checking only Error misses it.
func Wait(t mqtt.Token, d time.Duration) error {
	if !t.WaitTimeout(d) {
		return fmt.Errorf("%w after %s", ErrTimeout, d)
	}
	return t.Error()
}

// MaxClientIDLen is the longest client id MQTT 3.1 brokers must accept.
const MaxClientIDLen = 23

// ClientID returns an id for role ("agent", "bridge") and node that is the
// same on every start on this machine and differs between machines, nodes
// and roles: two clients with one id kick each other off the broker forever.
// It hashes /etc/machine-id, or the hostname where there is none.
func ClientID(role, node string) string {
	machine, err := os.ReadFile("/etc/machine-id")
	if err != nil || len(strings.TrimSpace(string(machine))) == 0 {
		h, _ := os.Hostname()
		machine = []byte(h)
	}
	return clientID(role, node, strings.TrimSpace(string(machine)))
}

func clientID(role, node, machine string) string {
	sum := sha256.Sum256([]byte(machine + "\x00" + node + "\x00" + role))
	prefix := role
	if len(prefix) > 6 {
		prefix = prefix[:6]
	}
	id := prefix + "-" + hex.EncodeToString(sum[:])
	return id[:MaxClientIDLen]
}

// RoutePahoLogs points paho's package-level ERROR, CRITICAL and WARN loggers
// at l. paho keeps them in package variables, so main calls this once. While
// the broker is down paho repeats the same lines every retry for as long as
// the outage lasts, so each distinct line is logged at most once a minute.
func RoutePahoLogs(l *logrus.Logger) {
	e := l.WithField("component", "paho")
	lim := logx.NewLimiter(1, time.Minute, nil)
	// paho reports routine events as warnings ("memorystore wiped" at
	// every connect): debug detail. Its errors include what a user must
	// see (a refused certificate, a failed dial), so they are warnings,
	// each distinct line at most once a minute.
	mqtt.ERROR = pahoLogger{e, logrus.WarnLevel, lim}
	mqtt.CRITICAL = pahoLogger{e, logrus.ErrorLevel, lim}
	mqtt.WARN = pahoLogger{e, logrus.DebugLevel, lim}
}

type pahoLogger struct {
	e     *logrus.Entry
	level logrus.Level
	lim   *logx.Limiter
}

func (p pahoLogger) Println(v ...any) {
	p.log(strings.TrimSpace(fmt.Sprintln(v...)))
}

func (p pahoLogger) Printf(format string, v ...any) {
	p.log(fmt.Sprintf(format, v...))
}

func (p pahoLogger) log(msg string) {
	ok, suppressed := p.lim.Allow(msg)
	if !ok {
		return
	}
	e := p.e
	if suppressed > 0 {
		e = e.WithField("suppressed", suppressed)
	}
	e.Log(p.level, msg)
}
