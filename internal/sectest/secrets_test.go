package sectest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
)

// newToken returns a password no log line could contain by accident.
func newToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "sekret-" + hex.EncodeToString(b)
}

// passwordBroker starts mosquitto with one user whose password is token,
// hashed by mosquitto_passwd (installed with mosquitto).
func passwordBroker(t *testing.T, user, token string) *brokertest.Broker {
	t.Helper()
	mp, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mosquitto_passwd not found; CI=true requires it")
		}
		t.Skip("mosquitto_passwd not installed")
	}
	passwd := filepath.Join(t.TempDir(), "passwd")
	if out, err := exec.Command(mp, "-c", "-b", passwd, user, token).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	return startBroker(t, brokertest.WithConfig("password_file "+passwd+"\nallow_anonymous false\n"))
}

// TestSecretsNotLogged runs both binaries with IFSTAT_PASSWORD set to a
// fresh token, at debug level, through what makes programs talk: a broker
// that is not there, a broker that refuses the login, a broker restart
// (reconnect), configuration errors and -h. The token must appear nowhere
// in their stdout or stderr.
func TestSecretsNotLogged(t *testing.T) {
	proctest.SkipShort(t, "starts mosquitto and the binaries")
	t.Parallel()
	token := newToken(t)
	const user = "sec"
	b := passwordBroker(t, user, token)
	down := "tcp://127.0.0.1:" + strconv.Itoa(brokertest.FreePort(t)) // nothing listens there
	creds := []string{"IFSTAT_USERNAME=" + user, "IFSTAT_PASSWORD=" + token}

	type binary struct {
		name string
		env  func(broker string, extra ...string) []string
		bin  string
	}
	binaries := []binary{
		{"agent", func(broker string, extra ...string) []string {
			return agentEnv(broker, "sec-agent", nil, extra...)
		}, bins(t).agent},
		{"bridge", func(broker string, extra ...string) []string {
			return bridgeEnv(broker, "sec-bridge", extra...)
		}, bins(t).bridge},
	}
	noToken := func(t *testing.T, what, out string) {
		t.Helper()
		if strings.Contains(out, token) {
			t.Errorf("%s: the password appears in the output:\n%s", what, out)
		}
		if out == "" {
			t.Errorf("%s: no output at all; the check would prove nothing", what)
		}
	}

	for _, bn := range binaries {
		t.Run(bn.name, func(t *testing.T) {
			t.Parallel()
			t.Run("broker_down", func(t *testing.T) {
				t.Parallel()
				p := start(t, bn.name, bn.bin, bn.env(down, creds...), nil)
				p.waitLog(t, "msg=connecting", 2)
				p.signal(t, syscall.SIGTERM)
				noToken(t, "broker down", p.stdout.String()+p.stderr.String())
			})
			t.Run("login_refused", func(t *testing.T) {
				t.Parallel()
				// The right password for another user: refused.
				p := start(t, bn.name, bn.bin, bn.env(b.URL(), "IFSTAT_USERNAME=nobody-here", "IFSTAT_PASSWORD="+token), nil)
				// Two attempts (paho tries MQTT 3.1.1, then 3.1, each
				// logged as connecting). The refusal itself is logged at
				// no level at all (docs/security.md).
				p.waitLog(t, "msg=connecting", 4)
				p.signal(t, syscall.SIGTERM)
				if strings.Contains(p.stderr.String(), "msg=connected") {
					t.Errorf("connected with the wrong user name")
				}
				noToken(t, "login refused", p.stdout.String()+p.stderr.String())
			})
			for _, format := range []string{"text", "json"} {
				t.Run("reconnect_"+format, func(t *testing.T) {
					t.Parallel()
					// A broker of its own: it restarts it.
					b := passwordBroker(t, user, token)
					p := start(t, bn.name, bn.bin, bn.env(b.URL(), append(creds, "IFSTAT_LOG_FORMAT="+format)...), nil)
					connected := `msg=connected`
					if format == "json" {
						connected = `"msg":"connected"`
					}
					p.waitLog(t, connected, 1)
					b.Restart()
					p.waitLog(t, connected, 2)
					p.signal(t, syscall.SIGTERM)
					noToken(t, "reconnect", p.stdout.String()+p.stderr.String())
				})
			}
			t.Run("config_errors", func(t *testing.T) {
				t.Parallel()
				file := filepath.Join(t.TempDir(), "ifstat.conf")
				bad := []struct {
					name string
					env  []string
					args []string
					file string // content of the -config file
				}{
					{name: "bad log level", env: []string{"IFSTAT_LOG_LEVEL=loud"}},
					{name: "bad broker", env: []string{"IFSTAT_BROKER=gopher://x"}},
					{name: "bad duration", env: []string{"IFSTAT_INTERVAL=soon", "IFSTAT_WATCH=soon"}},
					{name: "password without user", env: []string{"IFSTAT_USERNAME="}},
					{name: "file with a bad line", file: "IFSTAT_PASSWORD " + token + "\n"},
					// The environment overrides the file, so the bad value is one
					// the environment leaves unset.
					{name: "file with a bad value", file: "IFSTAT_PASSWORD=" + token + "\nIFSTAT_TOPIC_PREFIX=a/#\n"},
				}
				for _, c := range bad {
					env := append(bn.env(b.URL(), creds...), c.env...)
					var args []string
					if c.file != "" {
						if err := os.WriteFile(file, []byte(c.file), 0o600); err != nil {
							t.Fatal(err)
						}
						env = bn.env(b.URL(), "IFSTAT_USERNAME="+user)
						args = []string{"-config", file}
					}
					code, out := run(t, bn.bin, env, args...)
					if code != 2 {
						t.Errorf("%s: exit code %d, want 2; output:\n%s", c.name, code, out)
					}
					noToken(t, c.name, out)
				}
			})
			t.Run("usage", func(t *testing.T) {
				t.Parallel()
				code, out := run(t, bn.bin, bn.env(b.URL(), creds...), "-h")
				if code != 0 || !strings.Contains(out, "IFSTAT_PASSWORD") {
					t.Errorf("-h: exit code %d, want 0 and the variable table; output:\n%s", code, out)
				}
				noToken(t, "-h", out)
			})
		})
	}
}
