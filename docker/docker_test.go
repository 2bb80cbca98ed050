package docker

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// compose is the subset of compose.yaml the tests read: per service, each
// key's scalar or list items ("build:" sub-keys as "build.context"), and
// the top-level named volumes.
type compose struct {
	Services map[string]map[string][]string
	Volumes  []string
}

// parseCompose reads the YAML subset compose.yaml is written in: two-space
// indents, block lists, no flow collections, anchors or multi-line scalars.
// Anything else is an error, so the file cannot drift out of what this
// reader understands.
func parseCompose(r io.Reader) (*compose, error) {
	c := &compose{Services: make(map[string]map[string][]string)}
	var top, svc, key string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		text := strings.TrimSpace(raw)
		if text == "" || text[0] == '#' {
			continue
		}
		if strings.ContainsAny(raw, "\t{}&*|>") || strings.Contains(raw, "<<") {
			return nil, fmt.Errorf("line %d: outside the YAML subset: %q", n, raw)
		}
		indent := len(raw) - len(strings.TrimLeft(raw, " "))
		k, v, isMap := strings.Cut(text, ":")
		if strings.HasPrefix(text, "- ") {
			isMap = false
		}
		v = unquote(strings.TrimSpace(v))
		switch {
		case indent == 0 && isMap && v == "":
			top, svc, key = k, "", ""
		case indent == 2 && isMap && v == "" && top == "services":
			svc, key = k, ""
			c.Services[svc] = make(map[string][]string)
		case indent == 2 && isMap && v == "" && top == "volumes":
			c.Volumes = append(c.Volumes, k)
		case indent == 4 && isMap && svc != "":
			key = k
			if v != "" {
				c.Services[svc][k] = []string{v}
			}
		case indent == 6 && strings.HasPrefix(text, "- ") && key != "":
			c.Services[svc][key] = append(c.Services[svc][key], unquote(strings.TrimSpace(text[2:])))
		case indent == 6 && isMap && v != "" && key != "":
			c.Services[svc][key+"."+k] = []string{v}
		default:
			return nil, fmt.Errorf("line %d: unexpected %q", n, raw)
		}
	}
	return c, sc.Err()
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

func TestParseCompose(t *testing.T) {
	t.Parallel()
	const in = `# c
services:
  a:
    image: "x:1"
    build:
      context: ..
    ports:
      - "1:1"
      - 2:2
volumes:
  v:
`
	got, err := parseCompose(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &compose{
		Services: map[string]map[string][]string{"a": {"image": {"x:1"}, "build.context": {".."}, "ports": {"1:1", "2:2"}}},
		Volumes:  []string{"v"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseCompose (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"services:\n  a: {image: x}\n", "services:\n  a:\n    env: &e\n", "services:\n\ta:\n", "services:\n  a:\n     odd: 1\n"} {
		if _, err := parseCompose(strings.NewReader(bad)); err == nil {
			t.Errorf("parseCompose(%q) = nil error, want one", bad)
		}
	}
}

func loadCompose(t *testing.T) *compose {
	t.Helper()
	f, err := os.Open("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := parseCompose(f)
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

func loadACL(t *testing.T) *ACL {
	t.Helper()
	f, err := os.Open("mosquitto/acl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := ParseACL(f)
	if err != nil {
		t.Fatalf("mosquitto/acl: %v", err)
	}
	return a
}

// env returns a service's environment list as a map.
func env(svc map[string][]string) map[string]string {
	m := make(map[string]string)
	for _, e := range svc["environment"] {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}

// mounts returns a service's volume lines as target → source.
func mounts(svc map[string][]string) map[string]string {
	m := make(map[string]string)
	for _, v := range svc["volumes"] {
		f := strings.Split(v, ":")
		if len(f) >= 2 {
			m[f[1]] = f[0]
		}
	}
	return m
}

// TestCompose checks the compose file against the files it mounts, the
// Dockerfile stages it builds and the broker configuration.
func TestCompose(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	var names []string
	for s := range c.Services {
		names = append(names, s)
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"bridge", "homeassistant", "mosquitto", "netdata"}, names); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}

	mq := c.Services["mosquitto"]
	if got := mq["image"]; !slices.Equal(got, []string{"eclipse-mosquitto:2"}) {
		t.Errorf("mosquitto image = %q, want eclipse-mosquitto:2", got)
	}
	conf, err := os.ReadFile("mosquitto/mosquitto.conf")
	if err != nil {
		t.Fatal(err)
	}
	m := mounts(mq)
	for _, directive := range []string{"password_file", "acl_file"} {
		var path string
		for line := range strings.Lines(string(conf)) {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && k == directive {
				path = v
			}
		}
		if path == "" {
			t.Errorf("mosquitto.conf has no %s", directive)
			continue
		}
		if m[path] == "" {
			t.Errorf("mosquitto.conf's %s %s is not mounted into the mosquitto service", directive, path)
		}
	}
	if !strings.Contains(string(conf), "\nallow_anonymous false\n") {
		t.Error("mosquitto.conf must say allow_anonymous false")
	}

	// Every bind mount's source exists, except build output the README
	// tells users to create.
	for name, svc := range c.Services {
		for target, src := range mounts(svc) {
			if !strings.HasPrefix(src, "./") || strings.HasPrefix(src, "./build/") {
				if !strings.HasPrefix(src, ".") && !slices.Contains(c.Volumes, src) {
					t.Errorf("%s: volume %q is not declared under volumes:", name, src)
				}
				continue
			}
			if _, err := os.Stat(src); err != nil {
				t.Errorf("%s: %s mounted at %s: %v", name, src, target, err)
			}
		}
	}

	acl := loadACL(t)
	br := c.Services["bridge"]
	df := filepath.Join(br["build.context"][0], br["build.dockerfile"][0])
	stages := dockerStages(t, df)
	if !slices.Contains(stages, br["build.target"][0]) {
		t.Errorf("bridge builds target %q; %s has stages %q", br["build.target"][0], df, stages)
	}
	be := env(br)
	if be["IFSTAT_BROKER"] != "tcp://mosquitto:1883" {
		t.Errorf("bridge IFSTAT_BROKER = %q, want tcp://mosquitto:1883", be["IFSTAT_BROKER"])
	}
	if _, ok := acl.users[be["IFSTAT_USERNAME"]]; !ok {
		t.Errorf("bridge user %q has no section in mosquitto/acl", be["IFSTAT_USERNAME"])
	}

	nd := c.Services["netdata"]
	nm := mounts(nd)
	if !strings.HasSuffix(nm["/usr/libexec/netdata/plugins.d/ifstat.plugin"], "/ifstat.plugin") {
		t.Errorf("netdata does not mount ifstat.plugin into its plugins.d: %q", nd["volumes"])
	}
	src := nm["/etc/netdata/ifstat.conf"]
	if src == "" {
		t.Fatalf("netdata does not mount ifstat.conf into /etc/netdata")
	}
	ne, err := config.ReadFile(src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if _, ok := acl.users[ne["IFSTAT_USERNAME"]]; !ok {
		t.Errorf("netdata plugin user %q has no section in mosquitto/acl", ne["IFSTAT_USERNAME"])
	}
}

// dockerStages lists the "FROM … AS name" stages of a Dockerfile and checks
// what the images must be: a static build and non-root final images.
func dockerStages(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	user := map[string]string{}
	from := map[string]string{}
	cur := ""
	for line := range strings.Lines(string(raw)) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			cur = f[len(f)-1]
			stages = append(stages, cur)
			from[cur] = f[len(f)-3]
		case "USER":
			user[cur] = f[1]
		}
	}
	if !strings.HasPrefix(from["build"], "golang:1.26") {
		t.Errorf("%s: build stage from %q, want golang:1.26", path, from["build"])
	}
	if !strings.Contains(string(raw), "CGO_ENABLED=0") {
		t.Errorf("%s: binaries are not built with CGO_ENABLED=0", path)
	}
	for _, s := range []string{"agent", "bridge"} {
		if !strings.Contains(from[s], "nonroot") || user[s] == "" || strings.HasPrefix(user[s], "root") || strings.HasPrefix(user[s], "0") {
			t.Errorf("%s: stage %s from %q as user %q, want a nonroot base and a non-root USER", path, s, from[s], user[s])
		}
	}
	if len(stages) == 0 || stages[len(stages)-1] != "bridge" {
		t.Errorf("%s: last stage (the default build) is %q, want bridge", path, stages)
	}
	for _, pkg := range []string{"./cmd/ifstat-bridge", "./cmd/ifstat-agent"} {
		if !strings.Contains(string(raw), pkg) {
			t.Errorf("%s does not build %s", path, pkg)
		}
		if _, err := os.Stat(filepath.Join("..", pkg)); err != nil {
			t.Errorf("%s builds %s: %v", path, pkg, err)
		}
	}
	return stages
}

// Topics of the bridge and Home Assistant, built as the code builds them,
// with bridge id "b1".
var (
	bridgeStatus    = wire.BridgeTopics{Prefix: wire.DefaultPrefix, BridgeID: "b1"}.Status()
	bridgeNodeState = wire.BridgeTopics{Prefix: wire.DefaultPrefix, BridgeID: "b1"}.States().Node("er-x")
	haConfig        = wire.HAConfigTopic("", "sensor", "ifstat_er-x", "eth0_rx")
	haBirth         = wire.HABirthTopic("")
)

// TestACLTopics evaluates the ACL for the topics the code uses: each agent
// may use exactly its own topics, the bridge, the Netdata plugin and Home
// Assistant what they need and nothing of the agents' side.
func TestACLTopics(t *testing.T) {
	t.Parallel()
	acl := loadACL(t)
	erx := wire.Topics{Prefix: wire.DefaultPrefix, Node: "er-x"}
	ow := wire.Topics{Prefix: wire.DefaultPrefix, Node: "openwrt"}
	state := erx.State()
	type check struct {
		topic  string
		access Access
		want   bool
	}
	tests := []struct {
		user   string
		checks []check
	}{
		{"er-x", []check{
			{erx.Reply(), Write, true}, {erx.Status(), Write, true}, {erx.Info(), Write, true},
			{erx.Request(), Read, true},
			{erx.Request(), Write, false}, {erx.Reply(), Read, false},
			{ow.Reply(), Write, false}, {ow.Status(), Write, false}, {ow.Info(), Write, false},
			{ow.Request(), Read, false}, {ow.Reply(), Read, false},
			{state, Write, false}, {bridgeStatus, Write, false}, {bridgeNodeState, Write, false},
			{haConfig, Write, false}, {haBirth, Write, false},
		}},
		{"openwrt", []check{
			{ow.Reply(), Write, true}, {ow.Status(), Write, true}, {ow.Info(), Write, true}, {ow.Request(), Read, true},
			{erx.Reply(), Write, false}, {erx.Status(), Write, false}, {erx.Request(), Read, false},
		}},
		{"bridge", []check{
			{erx.Request(), Write, true}, {erx.Reply(), Read, true}, {erx.Status(), Read, true}, {erx.Info(), Read, true},
			{state, Write, true},
			{bridgeStatus, Write, true}, {bridgeStatus, Read, true},
			{bridgeNodeState, Write, true}, {bridgeNodeState, Read, true},
			{haConfig, Write, true}, {haConfig, Read, true}, {haBirth, Read, true},
			{erx.Reply(), Write, false}, {erx.Status(), Write, false}, {erx.Info(), Write, false},
			{erx.Request(), Read, false},
		}},
		{"netdata", []check{
			{erx.Request(), Write, true}, {erx.Reply(), Read, true}, {erx.Status(), Read, true}, {erx.Info(), Read, true},
			{erx.Reply(), Write, false}, {erx.Status(), Write, false},
			{haConfig, Write, false}, {state, Write, false},
		}},
		{"homeassistant", []check{
			{haConfig, Read, true}, {haBirth, Write, true},
			{state, Read, true}, {erx.Status(), Read, true}, {bridgeStatus, Read, true},
			{haConfig, Write, false}, {state, Write, false}, {erx.Request(), Write, false},
			{erx.Reply(), Read, false}, {erx.Status(), Write, false}, {bridgeStatus, Write, false},
		}},
		{"", []check{ // anonymous (refused by allow_anonymous false anyway)
			{erx.Reply(), Write, false}, {erx.Request(), Read, false}, {haConfig, Read, false},
		}},
	}
	for _, tt := range tests {
		t.Run("user="+tt.user, func(t *testing.T) {
			t.Parallel()
			for _, c := range tt.checks {
				// The client id does not matter: the ACL uses only %u.
				if got := acl.Allowed(tt.user, "any-client", c.topic, c.access); got != c.want {
					t.Errorf("user %q %s %s: allowed = %v, want %v", tt.user, map[Access]string{Read: "read", Write: "write"}[c.access], c.topic, got, c.want)
				}
			}
		})
	}
}

// TestACLMosquitto starts the local Mosquitto with the shipped ACL and
// password file (so the ACL is valid Mosquitto syntax), and checks that it
// enforces what TestACLTopics evaluates: an agent's publication on another
// node's topic is dropped, its own passes, the bridge's request reaches it.
// The passwords are the demo ones compose.yaml uses.
func TestACLMosquitto(t *testing.T) {
	proctest.SkipShort(t, "starts mosquitto")
	t.Parallel()
	acl, err := filepath.Abs("mosquitto/acl")
	if err != nil {
		t.Fatal(err)
	}
	// Mosquitto 2 wants the password file private; copy it.
	raw, err := os.ReadFile("mosquitto/passwd")
	if err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(passwd, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	b := brokertest.Start(t, brokertest.WithConfig("password_file "+passwd+"\nacl_file "+acl+"\nallow_anonymous false\n"))

	user := func(name string, ordered bool) func(*mqtt.ClientOptions) {
		return func(o *mqtt.ClientOptions) {
			o.SetUsername(name).SetPassword(name + "-demo").SetOrderMatters(ordered)
		}
	}
	bridge := b.Client(t, "bridge-1", user("bridge", true))
	agent := b.Client(t, "er-x-1", user("er-x", true))
	replies := brokertest.Subscribe(t, bridge, wire.Wildcard(wire.DefaultPrefix, wire.KindReply), 16)
	requests := brokertest.Subscribe(t, agent, wire.Topics{Prefix: wire.DefaultPrefix, Node: "er-x"}.Request(), 16)

	publish := func(c mqtt.Client, topic, payload string) {
		t.Helper()
		tok := c.Publish(topic, 1, false, payload)
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
	// In order on one connection: the spoof first, then the real reply.
	publish(agent, wire.Topics{Prefix: wire.DefaultPrefix, Node: "openwrt"}.Reply(), "spoof")
	publish(agent, wire.Topics{Prefix: wire.DefaultPrefix, Node: "er-x"}.Reply(), "real")
	select {
	case m := <-replies:
		if got := m.Topic() + " " + string(m.Payload()); got != "ifstat/er-x/reply real" {
			t.Errorf("bridge received %q first, want the agent's own reply (the spoof must be dropped)", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bridge received no reply: the ACL drops the agent's own reply")
	}

	publish(bridge, wire.Topics{Prefix: wire.DefaultPrefix, Node: "er-x"}.Request(), "")
	select {
	case m := <-requests:
		if m.Topic() != "ifstat/er-x/request" {
			t.Errorf("agent received %q", m.Topic())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("agent received no request from the bridge")
	}
}

// TestMosquittoPasswd checks that the demo password file holds hashed
// entries for exactly the users compose.yaml and the ACL name (that the
// passwords are right, TestACLMosquitto shows by logging in).
func TestMosquittoPasswd(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("mosquitto/passwd")
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for line := range strings.Lines(string(raw)) {
		u, hash, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(hash, "$7$") {
			t.Errorf("passwd line for %q is not a mosquitto_passwd hash", u)
		}
		users = append(users, u)
	}
	slices.Sort(users)
	if diff := cmp.Diff([]string{"bridge", "er-x", "homeassistant", "netdata"}, users); diff != "" {
		t.Errorf("passwd users (-want +got):\n%s", diff)
	}
}
