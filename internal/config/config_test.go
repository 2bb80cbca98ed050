package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCommonValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := Common{Broker: "tcp://127.0.0.1:1883", TopicPrefix: "ifstat", LogLevel: "info", LogFormat: "text"}
	tests := []struct {
		name    string
		mutate  func(*Common)
		wantVar string
	}{
		{"defaults", func(*Common) {}, ""},
		{"ssl", func(c *Common) { c.Broker = "ssl://mqtt.example:8883" }, ""},
		{"ws", func(c *Common) { c.Broker = "ws://127.0.0.1:9001/mqtt" }, ""},
		{"empty broker", func(c *Common) { c.Broker = "" }, "IFSTAT_BROKER"},
		{"bad scheme", func(c *Common) { c.Broker = "http://x:1" }, "IFSTAT_BROKER"},
		{"no host", func(c *Common) { c.Broker = "tcp://" }, "IFSTAT_BROKER"},
		{"not a url", func(c *Common) { c.Broker = "tcp://[::1" }, "IFSTAT_BROKER"},
		{"prefix wildcard", func(c *Common) { c.TopicPrefix = "a/#" }, "IFSTAT_TOPIC_PREFIX"},
		{"prefix empty", func(c *Common) { c.TopicPrefix = "" }, "IFSTAT_TOPIC_PREFIX"},
		{"password without user", func(c *Common) { c.Password = "x" }, "IFSTAT_USERNAME"},
		{"bad level", func(c *Common) { c.LogLevel = "loud" }, "IFSTAT_LOG_LEVEL"},
		{"bad format", func(c *Common) { c.LogFormat = "xml" }, "IFSTAT_LOG_FORMAT"},
		{"missing ca", func(c *Common) { c.CAFile = filepath.Join(dir, "nope.pem") }, "IFSTAT_CA_FILE"},
		{"cert without key", func(c *Common) { c.CertFile = garbage }, "IFSTAT_CERT_FILE"},
		{"bad key pair", func(c *Common) { c.CertFile, c.KeyFile = garbage, garbage }, "IFSTAT_CERT_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantVar == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Validate() = %v, want *Error", err)
			}
			if ce.Var != tt.wantVar {
				t.Errorf("Validate() names %s, want %s", ce.Var, tt.wantVar)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tt.wantVar+": ") || strings.Contains(msg, "\n") {
				t.Errorf("message %q is not one line starting with the variable", msg)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	c := Common{Password: "hunter2"}
	for _, s := range []string{c.Password.String(), strings.ReplaceAll(fmtV(c), " ", "")} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

func fmtV(c Common) string { return strings.Join([]string{c.Username, c.Password.String()}, ",") }

type spec struct {
	Common
	Interval time.Duration `split_words:"true" default:"1s" desc:"interval"`
	Nodes    []string      `split_words:"true"`
}

func TestLoadFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ifstat.conf")
	content := "# comment\n\nIFSTAT_BROKER=tcp://10.0.0.1:1883\nexport IFSTAT_INTERVAL='2s'\nIFSTAT_NODES=\"a,b\"\nIFSTAT_TOPIC_PREFIX=fromfile\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IFSTAT_TOPIC_PREFIX", "fromenv")
	var s spec
	if err := Load(&s, file); err != nil {
		t.Fatal(err)
	}
	got := []string{s.Broker, s.Interval.String(), strings.Join(s.Nodes, "|"), s.TopicPrefix, s.LogLevel}
	want := []string{"tcp://10.0.0.1:1883", "2s", "a|b", "fromenv", "info"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Load() mismatch (-want +got):\n%s", d)
	}
}

func TestLoadParseError(t *testing.T) {
	t.Setenv("IFSTAT_INTERVAL", "fast")
	var s spec
	err := Load(&s, "")
	var ce *Error
	if !errors.As(err, &ce) || ce.Var != "IFSTAT_INTERVAL" || ce.Value != "fast" {
		t.Fatalf("Load() = %#v, want *Error for IFSTAT_INTERVAL", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("message has several lines: %q", err)
	}
}

func TestParseFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     map[string]string
		wantErr  bool
	}{
		{"empty", "", map[string]string{}, false},
		{"spaces", "  IFSTAT_A = b  \n", map[string]string{"IFSTAT_A": "b"}, false},
		{"equals in value", "IFSTAT_A=x=y", map[string]string{"IFSTAT_A": "x=y"}, false},
		{"no equals", "IFSTAT_A\n", nil, true},
		{"foreign key", "PATH=/bin\n", nil, true},
		{"empty key", "=x\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse() error = %v, wantErr %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, got); !tt.wantErr && d != "" {
				t.Errorf("Parse() mismatch:\n%s", d)
			}
		})
	}
}

func TestUsageListsEveryVariable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Usage(&buf, &spec{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"IFSTAT_BROKER", "IFSTAT_USERNAME", "IFSTAT_PASSWORD", "IFSTAT_CA_FILE", "IFSTAT_CERT_FILE", "IFSTAT_KEY_FILE", "IFSTAT_TOPIC_PREFIX", "IFSTAT_LOG_LEVEL", "IFSTAT_LOG_FORMAT", "IFSTAT_INTERVAL", "IFSTAT_NODES"} {
		if !strings.Contains(buf.String(), v+" ") {
			t.Errorf("Usage() lacks %s:\n%s", v, buf.String())
		}
	}
}

func TestBrokerRedacted(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"tcp://127.0.0.1:1883":          "tcp://127.0.0.1:1883",
		"tcp://user:hunter2@host:1883":  "tcp://user:xxxxx@host:1883",
		"ssl://u:p%40ss@mqtt.lan:8883/": "ssl://u:xxxxx@mqtt.lan:8883/",
		"tcp://[::1:hunter2@x":          "(unparsable URL with credentials)",
	} {
		c := Common{Broker: in}
		if got := c.BrokerRedacted(); got != want {
			t.Errorf("BrokerRedacted(%q) = %q, want %q", in, got, want)
		}
	}
	c := Common{Broker: "http://u:hunter2@h", TopicPrefix: "ifstat", LogLevel: "info", LogFormat: "text"}
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Validate() = %v: want an error without the password", err)
	}
}
