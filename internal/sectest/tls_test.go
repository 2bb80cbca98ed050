package sectest

import (
	"strings"
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
)

// TestTLS runs the real agent and bridge against Mosquitto TLS listeners
// with certificates made for the test: one that verifies only the server,
// one that also requires a client certificate.
func TestTLS(t *testing.T) {
	proctest.SkipShort(t, "starts mosquitto, agents and bridges")
	t.Parallel()
	certs := brokertest.NewCerts(t)
	// A second PKI: its CA did not sign the broker's certificate.
	stranger := brokertest.NewCerts(t)
	b := startBroker(t,
		brokertest.WithTLSListener("tls", certs.Server(false)),
		brokertest.WithTLSListener("mtls", certs.Server(true)),
	)
	tlsURL, mtlsURL := b.ListenerURL("tls"), b.ListenerURL("mtls")
	ca := "IFSTAT_CA_FILE=" + certs.CAFile
	clientCert := []string{"IFSTAT_CERT_FILE=" + certs.ClientCert, "IFSTAT_KEY_FILE=" + certs.ClientKey}

	// exchange runs an agent and a bridge for node with the same
	// settings and checks the bridge's plugins.d output for the agent's
	// rates.
	exchange := func(t *testing.T, url, node string, tlsEnv ...string) {
		tree := newRampTree(t, 250_000, 50_000)
		ag := start(t, "agent "+node, bins(t).agent, agentEnv(url, node, tree, tlsEnv...), nil)
		br := start(t, "bridge "+node, bins(t).bridge, bridgeEnv(url, "b-"+node, append([]string{"IFSTAT_NODES=" + node}, tlsEnv...)...), nil)
		waitRated(t, br, node, 4)
		checkRates(t, br, node, tree)
		for _, p := range []*proc{ag, br} {
			if !strings.Contains(p.stderr.String(), `msg=connected broker="`+url+`"`) {
				t.Errorf("%s did not log its connection to %s", p.name, url)
			}
		}
	}

	// refused runs an agent that must not get in: it logs why at debug
	// level, keeps retrying (three connection attempts, the first plus
	// two after mqttx.ConnectRetryInterval), never connects and does not
	// exit.
	refused := func(t *testing.T, url, node, why string, tlsEnv ...string) {
		ag := start(t, "agent "+node, bins(t).agent, agentEnv(url, node, nil, tlsEnv...), nil)
		ag.waitLog(t, why, 1)
		ag.waitLog(t, "msg=connecting", 3)
		if ag.exited() {
			t.Fatalf("agent exited (%v) on a refused connection; it must keep retrying", ag.state)
		}
		if strings.Contains(ag.stderr.String(), "msg=connected") {
			t.Errorf("agent logged a connection through %s", url)
		}
	}

	t.Run("server_verified", func(t *testing.T) {
		t.Parallel()
		exchange(t, tlsURL, "tls-ca", ca)
	})
	t.Run("wrong_ca", func(t *testing.T) {
		t.Parallel()
		refused(t, tlsURL, "tls-wrong-ca", "x509: certificate signed by unknown authority", "IFSTAT_CA_FILE="+stranger.CAFile)
	})
	t.Run("system_roots", func(t *testing.T) {
		t.Parallel()
		// No IFSTAT_CA_FILE: the system roots do not know the test CA.
		refused(t, tlsURL, "tls-no-ca", "x509: certificate signed by unknown authority")
	})
	t.Run("client_certificate", func(t *testing.T) {
		t.Parallel()
		exchange(t, mtlsURL, "tls-cert", append([]string{ca}, clientCert...)...)
	})
	t.Run("no_client_certificate", func(t *testing.T) {
		t.Parallel()
		refused(t, mtlsURL, "tls-no-cert", "certificate required", ca)
	})
	t.Run("foreign_client_certificate", func(t *testing.T) {
		t.Parallel()
		// A client certificate from a CA the broker does not trust.
		refused(t, mtlsURL, "tls-bad-cert", "unknown certificate authority", ca,
			"IFSTAT_CERT_FILE="+stranger.ClientCert, "IFSTAT_KEY_FILE="+stranger.ClientKey)
	})
}
