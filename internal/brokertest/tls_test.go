package brokertest

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

func TestTLSListener(t *testing.T) {
	forEachMode(t, func(t *testing.T) {
		certs := NewCerts(t)
		b := Start(t, WithTLSListener("tls", certs.Server(true)))
		url := b.ListenerURL("tls")
		if !strings.HasPrefix(url, "ssl://127.0.0.1:") || url == "ssl://"+b.Addr() {
			t.Fatalf("ListenerURL(tls) = %q, want ssl://127.0.0.1:<another port>", url)
		}

		pem, err := os.ReadFile(certs.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		clientCert, err := tls.LoadX509KeyPair(certs.ClientCert, certs.ClientKey)
		if err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name    string
			tls     *tls.Config
			wantErr bool
			// errHas is a substring of the connect error, where it is
			// deterministic: with TLS 1.3 the server rejects a missing
			// client certificate after the client's handshake ends, so the
			// client sees the alert or a reset, whichever comes first.
			errHas string
		}{
			{"client certificate", &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{clientCert}}, false, ""},
			{"no client certificate", &tls.Config{RootCAs: roots}, true, ""},
			{"unknown server CA", &tls.Config{Certificates: []tls.Certificate{clientCert}}, true, "unknown authority"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				o := mqtt.NewClientOptions().AddBroker(url).SetClientID("tls-client").
					SetTLSConfig(tt.tls).SetConnectTimeout(guard).SetAutoReconnect(false)
				c := mqtt.NewClient(o)
				tok := c.Connect()
				if !tok.WaitTimeout(guard) {
					t.Fatal("connect timed out")
				}
				defer c.Disconnect(0)
				if tt.wantErr {
					if err := tok.Error(); err == nil || !strings.Contains(err.Error(), tt.errHas) {
						t.Fatalf("connect over TLS: error %v, want one saying %q", err, tt.errHas)
					}
					return
				}
				if err := tok.Error(); err != nil {
					t.Fatalf("connect over TLS: %v", err)
				}
				// Both listeners reach the same broker.
				ch := Subscribe(t, c, "ifstat/er-x/status", 1)
				publish(t, b.Client(t, "plain"), "ifstat/er-x/status", 1, false, "online")
				if m := receive(t, ch); string(m.Payload()) != "online" {
					t.Errorf("got %q over TLS, want online", m.Payload())
				}
			})
		}
	})
}
