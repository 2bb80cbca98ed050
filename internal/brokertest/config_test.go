package brokertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	const head = `# written by internal/brokertest
user root
persistence false
log_dest file /tmp/x/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
log_type unsubscribe
connection_messages true
log_timestamp true
log_timestamp_format %Y-%m-%dT%H:%M:%S
`
	tests := []struct {
		name      string
		opts      []Option
		listeners []int // ports for the extra listeners, in order
		want      string
	}{
		{
			name: "default",
			want: head + "allow_anonymous true\nlistener 1883 127.0.0.1\n",
		},
		{
			name: "password_file turns anonymous off",
			opts: []Option{WithConfig("password_file /tmp/x/passwd\nacl_file /tmp/x/acl")},
			want: head + "password_file /tmp/x/passwd\nacl_file /tmp/x/acl\nlistener 1883 127.0.0.1\n",
		},
		{
			name: "explicit allow_anonymous kept alone",
			opts: []Option{WithConfig("  allow_anonymous false\n")},
			want: head + "  allow_anonymous false\nlistener 1883 127.0.0.1\n",
		},
		{
			name: "auth plugin",
			opts: []Option{WithConfig("plugin /usr/lib/x.so")},
			want: head + "plugin /usr/lib/x.so\nlistener 1883 127.0.0.1\n",
		},
		{
			name: "a comment is no directive",
			opts: []Option{WithConfig("# password_file later\nmax_keepalive 60")},
			want: head + "allow_anonymous true\n# password_file later\nmax_keepalive 60\nlistener 1883 127.0.0.1\n",
		},
		{
			name: "listeners",
			opts: []Option{
				WithListener("ws", "protocol websockets\n"),
				WithTLSListener("tls", TLS{CAFile: "/c/ca.pem", CertFile: "/c/srv.pem", KeyFile: "/c/srv.key", RequireCertificate: true}),
				WithTLSListener("tls-nocafile", TLS{CertFile: "/c/srv.pem", KeyFile: "/c/srv.key"}),
			},
			listeners: []int{9001, 8883, 8884},
			want: head + "allow_anonymous true\nlistener 1883 127.0.0.1\n" +
				"# ws\nlistener 9001 127.0.0.1\nprotocol websockets\n" +
				"# tls\nlistener 8883 127.0.0.1\ncertfile /c/srv.pem\nkeyfile /c/srv.key\ncafile /c/ca.pem\nrequire_certificate true\n" +
				"# tls-nocafile\nlistener 8884 127.0.0.1\ncertfile /c/srv.pem\nkeyfile /c/srv.key\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &Broker{port: 1883}
			for _, o := range tt.opts {
				o(b)
			}
			for i, l := range b.listeners {
				l.port = tt.listeners[i]
			}
			got := newProcess("mosquitto", "/tmp/x").config(b)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunsAsCaller checks what "user root" is for: started by root,
// mosquitto keeps uid 0 and can write its log into the 0700 t.TempDir().
func TestRunsAsCaller(t *testing.T) {
	mosquittoOnly(t)
	b := Start(t)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.PID()))
	if err != nil {
		t.Fatal(err)
	}
	uid := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s+(\d+)`).FindStringSubmatch(string(status))
	want := fmt.Sprint(os.Geteuid())
	if uid == nil || uid[1] != want || uid[2] != want {
		t.Errorf("mosquitto Uid line %q, want real and effective uid %s", uid, want)
	}
	// The log file exists and has timestamps: it was writable.
	line := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d: mosquitto version \S+ running$`)
	if !line.MatchString(b.Log()) {
		t.Errorf("log has no timestamped running line:\n%s", b.Log())
	}
}

func TestLogAcrossRestart(t *testing.T) {
	forEachMode(t, func(t *testing.T) {
		b := Start(t)
		b.Restart()
		b.Stop()
		started := regexp.MustCompile(`(?m): mosquitto version \S+ running$`)
		if b.Embedded() {
			started = regexp.MustCompile(`(?m)msg="mochi mqtt server started"$`)
		}
		if n := len(started.FindAllString(b.Log(), -1)); n != 2 {
			t.Errorf("log has %d lines matching %q, want 2 (one per start):\n%s", n, started, b.Log())
		}
	})
}

// TestRestartWaitsForPort holds the broker's port while Restart runs:
// Restart must keep trying and succeed once the port is free again.
func TestRestartWaitsForPort(t *testing.T) {
	mosquittoOnly(t)
	b := Start(t)
	b.Stop()
	l, err := net.Listen("tcp", b.Addr())
	if err != nil {
		t.Fatalf("taking the stopped broker's port: %v", err)
	}
	released := make(chan struct{})
	go func() {
		defer close(released)
		defer l.Close()
		deadline := time.Now().Add(guard)
		for !strings.Contains(b.Log(), "Address already in use") && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}()
	b.Restart()
	<-released
	if !strings.Contains(b.Log(), "Address already in use") {
		t.Fatalf("Restart never met the taken port:\n%s", b.Log())
	}
	c := b.Client(t, "after")
	if !c.IsConnected() {
		t.Error("client not connected after Restart")
	}
}

func TestWithConfigPasswordFile(t *testing.T) {
	mosquittoOnly(t)
	tool, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mosquitto_passwd not found; CI requires it")
		}
		t.Skip("mosquitto_passwd not installed")
	}
	passwd := filepath.Join(t.TempDir(), "passwd")
	if out, err := exec.Command(tool, "-c", "-b", passwd, "bridge", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	b := Start(t, WithConfig("password_file "+passwd))

	tests := []struct {
		name, user, password string
		wantErr              bool
	}{
		{"anonymous", "", "", true},
		{"wrong password", "bridge", "nope", true},
		{"right password", "bridge", "s3cret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("pw-" + tt.user + tt.password).
				SetUsername(tt.user).SetPassword(tt.password).SetConnectTimeout(guard)
			c := mqtt.NewClient(o)
			tok := c.Connect()
			if !tok.WaitTimeout(guard) {
				t.Fatalf("connect timed out")
			}
			defer c.Disconnect(0)
			if gotErr := tok.Error() != nil; gotErr != tt.wantErr {
				t.Errorf("connect as %q/%q: error %v, want error %v", tt.user, tt.password, tok.Error(), tt.wantErr)
			}
		})
	}
}

func TestWithConfigSkipsEmbedded(t *testing.T) {
	t.Setenv("IFSTAT_TEST_BROKER", "embedded")
	for _, opt := range []Option{WithConfig("max_keepalive 60"), WithListener("ws", "protocol websockets")} {
		var skipped bool
		t.Run("inner", func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			Start(t, opt)
		})
		if !skipped {
			t.Error("Start with mosquitto-only options on the embedded broker did not skip")
		}
	}
}

// recorder is a testing.TB that keeps what Subscribe logs.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	logs []string
}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func TestSubscribeDropsWhenFull(t *testing.T) {
	forEachMode(t, func(t *testing.T) {
		b := Start(t)
		// In order: the handler for "sync" runs after those for "full".
		c := b.Client(t, "c", func(o *mqtt.ClientOptions) { o.SetOrderMatters(true) })
		rec := &recorder{TB: t}
		full := Subscribe(rec, c, "full", 1)
		done := Subscribe(t, c, "sync", 1)
		for _, p := range []string{"1", "2", "3"} {
			publish(t, c, "full", 1, false, p)
		}
		publish(t, c, "sync", 1, false, "")
		receive(t, done)

		if got := string(receive(t, full).Payload()); got != "1" {
			t.Errorf("kept message %q, want the first, %q", got, "1")
		}
		if len(full) != 0 {
			t.Errorf("channel holds %d more messages, want 0", len(full))
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		want := []string{
			`brokertest: subscription "full" full (1): dropped message on "full" (1 dropped so far)`,
			`brokertest: subscription "full" full (1): dropped message on "full" (2 dropped so far)`,
		}
		if diff := cmp.Diff(want, rec.logs); diff != "" {
			t.Errorf("drop log (-want +got):\n%s", diff)
		}
	})
}

func TestChooseBackend(t *testing.T) {
	t.Parallel()
	found := func() string { return "/usr/sbin/mosquitto" }
	missing := func() string { return "" }
	tests := []struct {
		name string
		env  map[string]string
		find func() string
		want string // "mosquitto:<bin>", "embedded" or "error: <message>"
	}{
		{"default finds mosquitto", nil, found, "mosquitto:/usr/sbin/mosquitto"},
		{"default falls back", nil, missing, "embedded"},
		{"CI requires mosquitto", map[string]string{"CI": "true"}, missing, "error: mosquitto not found; CI requires it"},
		{"CI with mosquitto", map[string]string{"CI": "true"}, found, "mosquitto:/usr/sbin/mosquitto"},
		{"CI=false falls back", map[string]string{"CI": "false"}, missing, "embedded"},
		{"forced embedded", map[string]string{"IFSTAT_TEST_BROKER": "embedded", "CI": "true"}, found, "embedded"},
		{"forced mosquitto missing", map[string]string{"IFSTAT_TEST_BROKER": "mosquitto"}, missing, "error: mosquitto not found; IFSTAT_TEST_BROKER=mosquitto requires it"},
		{"explicit path", map[string]string{"IFSTAT_TEST_BROKER": "/bin/sh"}, missing, "mosquitto:/bin/sh"},
		{"explicit path missing", map[string]string{"IFSTAT_TEST_BROKER": "/nonexistent/mosquitto"}, found,
			"error: IFSTAT_TEST_BROKER: stat /nonexistent/mosquitto: no such file or directory"},
		{"unknown value", map[string]string{"IFSTAT_TEST_BROKER": "mochi"}, found,
			`error: IFSTAT_TEST_BROKER="mochi": want embedded, mosquitto or a path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			be, err := chooseBackend(func(k string) string { return tt.env[k] }, tt.find, "/tmp/x")
			var got string
			switch be := be.(type) {
			case nil:
				got = "error: " + err.Error()
			case *process:
				got = "mosquitto:" + be.bin
			case *embedded:
				got = "embedded"
			}
			if got != tt.want {
				t.Errorf("chooseBackend(%v) = %s, want %s", tt.env, got, tt.want)
			}
		})
	}
}
