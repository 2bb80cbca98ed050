package mqttx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Unix(1<<33, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, der
}

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caFile, _, caDER := writeCert(t, dir, "ca")
	certFile, keyFile, clientDER := writeCert(t, dir, "client")
	_, otherKey, _ := writeCert(t, dir, "other")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name       string
		c          config.Common
		wantErr    bool
		wantRoots  bool
		wantClient []byte
	}{
		{name: "system roots", c: config.Common{}},
		{name: "ca only", c: config.Common{CAFile: caFile}, wantRoots: true},
		{name: "ca and client cert", c: config.Common{CAFile: caFile, CertFile: certFile, KeyFile: keyFile}, wantRoots: true, wantClient: clientDER},
		{name: "missing ca", c: config.Common{CAFile: missing}, wantErr: true},
		{name: "ca without pem", c: config.Common{CAFile: garbage}, wantErr: true},
		{name: "cert without key", c: config.Common{CertFile: certFile}, wantErr: true},
		{name: "mismatched key", c: config.Common{CertFile: certFile, KeyFile: otherKey}, wantErr: true},
		{name: "missing cert", c: config.Common{CertFile: missing, KeyFile: keyFile}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tc, err := TLSConfig(tt.c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("TLSConfig() error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := tc.RootCAs != nil; got != tt.wantRoots {
				t.Errorf("RootCAs set = %v, want %v", got, tt.wantRoots)
			}
			if tt.wantRoots {
				ca, _ := x509.ParseCertificate(caDER)
				if _, err := ca.Verify(x509.VerifyOptions{Roots: tc.RootCAs, CurrentTime: time.Unix(1000, 0)}); err != nil {
					t.Errorf("CA does not verify against RootCAs: %v", err)
				}
			}
			var gotClient []byte
			if len(tc.Certificates) == 1 {
				gotClient = tc.Certificates[0].Certificate[0]
			}
			if diff := cmp.Diff(tt.wantClient, gotClient); diff != "" {
				t.Errorf("client certificate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewClientTLSErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name    string
		c       config.Common
		id      string
		wantErr bool
	}{
		{name: "tcp ignores tls files", c: config.Common{Broker: "tcp://127.0.0.1:1", CAFile: missing}, id: "x"},
		{name: "ssl with missing ca", c: config.Common{Broker: "ssl://127.0.0.1:1", CAFile: missing}, id: "x", wantErr: true},
		{name: "mqtts with missing ca", c: config.Common{Broker: "mqtts://127.0.0.1:1", CAFile: missing}, id: "x", wantErr: true},
		{name: "empty client id", c: config.Common{Broker: "tcp://127.0.0.1:1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewClient(Options{Config: tt.c, ClientID: tt.id})
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewClient() error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// fakeToken completes (or not) as told.
type fakeToken struct {
	done bool
	err  error
}

func (f fakeToken) Wait() bool                     { return f.done }
func (f fakeToken) WaitTimeout(time.Duration) bool { return f.done }
func (f fakeToken) Done() <-chan struct{} {
	c := make(chan struct{})
	if f.done {
		close(c)
	}
	return c
}
func (f fakeToken) Error() error { return f.err }

func TestWait(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name    string
		tok     fakeToken
		wantErr error
	}{
		{name: "completed", tok: fakeToken{done: true}},
		{name: "completed with error", tok: fakeToken{done: true, err: boom}, wantErr: boom},
		// paho leaves Error nil on a timeout: Wait must still fail.
		{name: "timed out", tok: fakeToken{}, wantErr: ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Wait(tt.tok, time.Millisecond)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Wait() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestClientID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		role, node, machine string
		want                string
	}{
		{name: "agent", role: "agent", node: "er-x", machine: "0123456789abcdef", want: "agent-897a3ec6c5f516f24"},
		{name: "long role cut", role: "netdata-bridge", node: "er-x", machine: "m"},
		{name: "long node", role: "agent", node: string(make([]byte, 64)), machine: "m"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := clientID(tt.role, tt.node, tt.machine)
		if len(got) != MaxClientIDLen {
			t.Errorf("clientID(%q, %q) = %q: %d chars, want %d", tt.role, tt.node, got, len(got), MaxClientIDLen)
		}
		if again := clientID(tt.role, tt.node, tt.machine); again != got {
			t.Errorf("clientID not stable: %q then %q", got, again)
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("clientID = %q, want %q", got, tt.want)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("clientID %q for %s and %s", got, prev, tt.name)
		}
		seen[got] = tt.name
	}
	// Each input changes the id.
	base := clientID("agent", "er-x", "m1")
	for _, other := range []string{clientID("bridge", "er-x", "m1"), clientID("agent", "er-4", "m1"), clientID("agent", "er-x", "m2")} {
		if other == base {
			t.Errorf("clientID collision: %q", base)
		}
	}
	if got := ClientID("agent", "er-x"); got != ClientID("agent", "er-x") || len(got) > MaxClientIDLen {
		t.Errorf("ClientID = %q: not stable or too long", got)
	}
}

func TestRoutePahoLogs(t *testing.T) {
	// Not parallel: paho's loggers are package variables.
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true, DisableColors: true})
	saved := []mqtt.Logger{mqtt.ERROR, mqtt.CRITICAL, mqtt.WARN}
	t.Cleanup(func() { mqtt.ERROR, mqtt.CRITICAL, mqtt.WARN = saved[0], saved[1], saved[2] })
	l.SetLevel(logrus.DebugLevel)
	RoutePahoLogs(l)
	for range 3 {
		mqtt.ERROR.Println("[client]", "dial tcp: connection refused")
	}
	mqtt.WARN.Printf("[%s] %s", "net", "ping timeout")
	mqtt.CRITICAL.Println("[client]", "bug")
	// paho's warnings are debug detail, its errors warnings (a refused
	// certificate must be visible at info), CRITICAL an error. Repeats
	// are rate-limited.
	want := "level=warning msg=\"[client] dial tcp: connection refused\" component=paho\n" +
		"level=debug msg=\"[net] ping timeout\" component=paho\n" +
		"level=error msg=\"[client] bug\" component=paho\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("paho log lines (-want +got):\n%s", diff)
	}
}
