package config

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/kelseyhightower/envconfig"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Prefix is the environment prefix of every variable.
const Prefix = "IFSTAT"

// ExitUsage is the exit code for bad configuration.
const ExitUsage = 2

// Error is a configuration error about one variable, shaped like
// fs.PathError. Its message is the one line a binary prints.
type Error struct {
	Var   string // e.g. IFSTAT_BROKER
	Value string // the offending value, empty for secrets
	Err   error
}

func (e *Error) Error() string {
	if e.Value == "" {
		return e.Var + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s: %q: %v", e.Var, e.Value, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error for variable name (without the prefix).
func Errorf(name, value, format string, args ...any) *Error {
	return &Error{Var: Prefix + "_" + name, Value: value, Err: fmt.Errorf(format, args...)}
}

// Secret is a string that never prints itself.
type Secret string

// String returns "***" for a non-empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// Common holds the variables every binary honours.
type Common struct {
	Broker      string `split_words:"true" default:"tcp://127.0.0.1:1883" desc:"MQTT broker URL: tcp://host:1883, ssl://host:8883, ws://host:port/path, wss://…"`
	Username    string `split_words:"true" desc:"broker user name"`
	Password    Secret `split_words:"true" desc:"broker password (never logged)"`
	CAFile      string `split_words:"true" desc:"PEM file of CAs that sign the broker's certificate (default: system roots)"`
	CertFile    string `split_words:"true" desc:"PEM client certificate for TLS client authentication"`
	KeyFile     string `split_words:"true" desc:"PEM private key of CERT_FILE"`
	TopicPrefix string `split_words:"true" default:"ifstat" desc:"first level of every ifstat topic"`
	LogLevel    string `split_words:"true" default:"info" desc:"panic, fatal, error, warn, info, debug or trace"`
	LogFormat   string `split_words:"true" default:"text" desc:"text or json"`
}

// brokerSchemes are the URL schemes paho dials.
var brokerSchemes = map[string]bool{
	"tcp": true, "mqtt": true, "ssl": true, "tls": true, "mqtts": true, "mqtt+ssl": true,
	"tcps": true, "ws": true, "wss": true, "unix": true,
}

// BrokerRedacted is the broker URL for logs and messages: a password in
// it (tcp://user:secret@host) is replaced by "xxxxx".
func (c *Common) BrokerRedacted() string {
	u, err := url.Parse(c.Broker)
	if err != nil {
		if strings.Contains(c.Broker, "@") {
			return "(unparsable URL with credentials)"
		}
		return c.Broker
	}
	return u.Redacted()
}

// TLS reports whether the broker URL asks for TLS.
func (c *Common) TLS() bool {
	u, err := url.Parse(c.Broker)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "ssl", "tls", "mqtts", "mqtt+ssl", "tcps", "wss":
		return true
	}
	return false
}

// Validate checks the shared variables.
func (c *Common) Validate() error {
	u, err := url.Parse(c.Broker)
	switch {
	case c.Broker == "":
		return Errorf("BROKER", "", "must not be empty")
	case err != nil:
		return Errorf("BROKER", c.BrokerRedacted(), "not a URL: %w", errors.Unwrap(err))
	case !brokerSchemes[u.Scheme]:
		return Errorf("BROKER", c.BrokerRedacted(), "scheme must be tcp, ssl, ws, wss or unix")
	case u.Scheme != "unix" && u.Host == "":
		return Errorf("BROKER", c.BrokerRedacted(), "no host")
	}
	if !wire.ValidPrefix(c.TopicPrefix) {
		return Errorf("TOPIC_PREFIX", c.TopicPrefix, "must be non-empty, without +, # or leading/trailing /")
	}
	if c.Password != "" && c.Username == "" {
		return Errorf("USERNAME", "", "must be set when IFSTAT_PASSWORD is")
	}
	if _, err := logrus.ParseLevel(c.LogLevel); err != nil {
		return Errorf("LOG_LEVEL", c.LogLevel, "not a log level")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return Errorf("LOG_FORMAT", c.LogFormat, "must be text or json")
	}
	for _, f := range []struct{ name, path string }{{"CA_FILE", c.CAFile}, {"CERT_FILE", c.CertFile}, {"KEY_FILE", c.KeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.ReadFile(f.path); err != nil {
			return Errorf(f.name, f.path, "unreadable: %w", errors.Unwrap(err))
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return Errorf("CERT_FILE", c.CertFile, "IFSTAT_CERT_FILE and IFSTAT_KEY_FILE go together")
	}
	if c.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile); err != nil {
			return Errorf("CERT_FILE", c.CertFile, "%w", err)
		}
	}
	return nil
}

// Load fills spec (a pointer to a struct) from the environment, after
// applying the KEY=VALUE file at path (if non-empty) for every variable the
// environment does not set: the environment overrides the file. Errors are
// *Error values.
func Load(spec any, path string) error {
	if path != "" {
		vars, err := ReadFile(path)
		if err != nil {
			return &Error{Var: "config file", Value: path, Err: err}
		}
		for k, v := range vars {
			if _, set := os.LookupEnv(k); !set {
				// The process environment is the one input envconfig reads;
				// this runs once in main, before anything else looks at it.
				os.Setenv(k, v)
			}
		}
	}
	if err := envconfig.Process(Prefix, spec); err != nil {
		var pe *envconfig.ParseError
		if errors.As(err, &pe) {
			// strconv's errors wrap the reason; a Decoder's error is it.
			inner := errors.Unwrap(pe.Err)
			if inner == nil {
				inner = pe.Err
			}
			return &Error{Var: pe.KeyName, Value: pe.Value, Err: inner}
		}
		return &Error{Var: Prefix, Err: err}
	}
	return nil
}

// ReadFile reads a KEY=VALUE file: blank lines and lines starting with '#'
// are skipped, an optional "export " is allowed, values may be wrapped in
// single or double quotes. Keys must start with IFSTAT_: the NETDATA_*
// variables come from Netdata itself, never from this file.
func ReadFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// Parse reads KEY=VALUE lines from r; see ReadFile.
func Parse(r io.Reader) (map[string]string, error) {
	vars := make(map[string]string)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		if !strings.HasPrefix(k, Prefix+"_") {
			return nil, fmt.Errorf("line %d: %s is not an %s_ variable", n, k, Prefix)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return vars, nil
}

// usageFormat is envconfig's table layout without the Required column.
const usageFormat = `{{range .}}{{usage_key .}}	{{usage_type .}}	{{usage_default .}}	{{usage_description .}}
{{end}}`

// Usage writes the variables of spec, with type, default and description.
func Usage(w io.Writer, spec any) error {
	tw := tabwriter.NewWriter(w, 1, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "VARIABLE\tTYPE\tDEFAULT\tDESCRIPTION\n")
	if err := envconfig.Usagef(Prefix, spec, tw, usageFormat); err != nil {
		return err
	}
	return tw.Flush()
}
