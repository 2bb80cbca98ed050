package brokertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certs are the PEM files of a throwaway PKI in t.TempDir(): one CA that
// signs a server certificate for 127.0.0.1/localhost and a client
// certificate with common name "ifstat-test-client".
type Certs struct {
	CAFile     string
	ServerCert string
	ServerKey  string
	ClientCert string
	ClientKey  string
}

// NewCerts writes a fresh CA, server and client key pair (ECDSA P-256,
// valid from an hour ago for a day) and fails the test if it cannot.
func NewCerts(t testing.TB) Certs {
	t.Helper()
	dir := t.TempDir()
	c := Certs{
		CAFile:     filepath.Join(dir, "ca.pem"),
		ServerCert: filepath.Join(dir, "server.pem"),
		ServerKey:  filepath.Join(dir, "server.key"),
		ClientCert: filepath.Join(dir, "client.pem"),
		ClientKey:  filepath.Join(dir, "client.key"),
	}
	now := time.Now()
	tmpl := func(serial int64, cn string) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
		}
	}

	caKey := newKey(t)
	ca := tmpl(1, "ifstat-test-ca")
	ca.IsCA, ca.BasicConstraintsValid = true, true
	ca.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	caDER := sign(t, ca, ca, caKey, caKey)
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("brokertest: parsing CA: %v", err)
	}
	writePEM(t, c.CAFile, "CERTIFICATE", caDER)

	srv := tmpl(2, "127.0.0.1")
	srv.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	srv.DNSNames = []string{"localhost"}
	srv.KeyUsage = x509.KeyUsageDigitalSignature
	srv.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	srvKey := newKey(t)
	writePEM(t, c.ServerCert, "CERTIFICATE", sign(t, srv, caCert, srvKey, caKey))
	writeKey(t, c.ServerKey, srvKey)

	cli := tmpl(3, "ifstat-test-client")
	cli.KeyUsage = x509.KeyUsageDigitalSignature
	cli.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	cliKey := newKey(t)
	writePEM(t, c.ClientCert, "CERTIFICATE", sign(t, cli, caCert, cliKey, caKey))
	writeKey(t, c.ClientKey, cliKey)
	return c
}

// Server is the TLS listener configuration that serves c's server
// certificate; requireClient makes it demand a client certificate from c's CA.
func (c Certs) Server(requireClient bool) TLS {
	return TLS{CAFile: c.CAFile, CertFile: c.ServerCert, KeyFile: c.ServerKey, RequireCertificate: requireClient}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("brokertest: generating key: %v", err)
	}
	return k
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatalf("brokertest: signing %s: %v", tmpl.Subject.CommonName, err)
	}
	return der
}

func writeKey(t testing.TB, path string, k *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatalf("brokertest: encoding key: %v", err)
	}
	writePEM(t, path, "PRIVATE KEY", der)
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatalf("brokertest: writing %s: %v", path, err)
	}
}
