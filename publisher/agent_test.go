package publisher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

func testLog(t testing.TB) *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	if testing.Verbose() {
		l.SetOutput(os.Stderr)
	}
	return logrus.NewEntry(l).WithField("test", t.Name())
}

func validConfig() Config {
	return Config{
		Common: config.Common{
			Broker: "tcp://127.0.0.1:1883", TopicPrefix: "ifstat", LogLevel: "info", LogFormat: "text",
		},
		Node: "er-x", ProcRoot: "/proc", SysRoot: "/sys", MaxRate: 200,
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "ca.pem")
	tests := []struct {
		name    string
		edit    func(*Config)
		wantVar string // "" = valid
	}{
		{name: "valid", edit: func(*Config) {}},
		{name: "globs", edit: func(c *Config) { c.Interfaces = []string{"eth*", "ppp0", "wg[0-9]"} }},
		{name: "bad glob", edit: func(c *Config) { c.Interfaces = []string{"eth["} }, wantVar: "IFSTAT_INTERFACES"},
		{name: "empty pattern", edit: func(c *Config) { c.Interfaces = []string{"eth0", ""} }, wantVar: "IFSTAT_INTERFACES"},
		{name: "missing ca", edit: func(c *Config) { c.CAFile = missing }, wantVar: "IFSTAT_CA_FILE"},
		{name: "bad broker", edit: func(c *Config) { c.Broker = "http://x" }, wantVar: "IFSTAT_BROKER"},
		{name: "empty node", edit: func(c *Config) { c.Node = "" }, wantVar: "IFSTAT_NODE"},
		{name: "node with slash", edit: func(c *Config) { c.Node = "a/b" }, wantVar: "IFSTAT_NODE"},
		{name: "node wildcard", edit: func(c *Config) { c.Node = "#" }, wantVar: "IFSTAT_NODE"},
		{name: "empty proc root", edit: func(c *Config) { c.ProcRoot = "" }, wantVar: "IFSTAT_PROC_ROOT"},
		{name: "empty sys root", edit: func(c *Config) { c.SysRoot = "" }, wantVar: "IFSTAT_SYS_ROOT"},
		{name: "rate zero", edit: func(c *Config) { c.MaxRate = 0 }, wantVar: "IFSTAT_MAX_RATE"},
		{name: "watch 50ms", edit: func(c *Config) { c.Watch = WatchMode{Every: 50 * time.Millisecond} }},
		{name: "watch at minimum", edit: func(c *Config) { c.Watch = WatchMode{Every: MinWatch} }},
		{name: "watch too fine", edit: func(c *Config) { c.Watch = WatchMode{Every: 9 * time.Millisecond} }, wantVar: "IFSTAT_WATCH"},
		{name: "watch negative", edit: func(c *Config) { c.Watch = WatchMode{Every: -time.Second} }, wantVar: "IFSTAT_WATCH"},
		{name: "rate huge", edit: func(c *Config) { c.MaxRate = MaxRateLimit + 1 }, wantVar: "IFSTAT_MAX_RATE"},
		{name: "watch cpu negative", edit: func(c *Config) { c.WatchCPU = -1 }, wantVar: "IFSTAT_WATCH_CPU"},
		{name: "watch cpu whole core", edit: func(c *Config) { c.WatchCPU = 100 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.edit(&c)
			err := c.Validate()
			var ce *config.Error
			switch {
			case tt.wantVar == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantVar != "" && !errors.As(err, &ce):
				t.Fatalf("Validate() = %v, want *config.Error for %s", err, tt.wantVar)
			case tt.wantVar != "" && ce.Var != tt.wantVar:
				t.Fatalf("Validate() names %s (%v), want %s", ce.Var, err, tt.wantVar)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	host := func() (string, error) { return "EdgeRouter X.lan", nil }
	tests := []struct {
		name    string
		env     map[string]string
		want    func(*Config)
		wantVar string
	}{
		{name: "defaults", want: func(c *Config) { c.Node = "edgerouter_x_lan" }},
		{name: "node set", env: map[string]string{"IFSTAT_NODE": "gw"}, want: func(c *Config) { c.Node = "gw" }},
		{name: "node set empty", env: map[string]string{"IFSTAT_NODE": ""}, wantVar: "IFSTAT_NODE"},
		{name: "interfaces trimmed", env: map[string]string{"IFSTAT_INTERFACES": "eth0, wg*"}, want: func(c *Config) {
			c.Node = "edgerouter_x_lan"
			c.Interfaces = []string{"eth0", "wg*"}
		}},
		{name: "rate not a number", env: map[string]string{"IFSTAT_MAX_RATE": "abc"}, wantVar: "IFSTAT_MAX_RATE"},
		{name: "watch off", env: map[string]string{"IFSTAT_WATCH": "off"}, want: func(c *Config) {
			c.Node = "edgerouter_x_lan"
			c.Watch = WatchMode{}
		}},
		{name: "watch 0 is off", env: map[string]string{"IFSTAT_WATCH": "0"}, want: func(c *Config) {
			c.Node = "edgerouter_x_lan"
			c.Watch = WatchMode{}
		}},
		{name: "watch empty is off", env: map[string]string{"IFSTAT_WATCH": ""}, want: func(c *Config) {
			c.Node = "edgerouter_x_lan"
			c.Watch = WatchMode{}
		}},
		{name: "watch AUTO", env: map[string]string{"IFSTAT_WATCH": "AUTO"}, want: func(c *Config) { c.Node = "edgerouter_x_lan" }},
		{name: "watch fixed", env: map[string]string{"IFSTAT_WATCH": "20ms"}, want: func(c *Config) {
			c.Node = "edgerouter_x_lan"
			c.Watch = WatchMode{Every: 20 * time.Millisecond}
		}},
		{name: "watch garbage", env: map[string]string{"IFSTAT_WATCH": "sometimes"}, wantVar: "IFSTAT_WATCH"},
		{name: "watch negative", env: map[string]string{"IFSTAT_WATCH": "-1s"}, wantVar: "IFSTAT_WATCH"},
		{name: "watch too fine", env: map[string]string{"IFSTAT_WATCH": "1ms"}, wantVar: "IFSTAT_WATCH"},
		{name: "watch cpu", env: map[string]string{"IFSTAT_WATCH_CPU": "2.5%"}, want: func(c *Config) {
			c.Node = "edgerouter_x_lan"
			c.WatchCPU = 2.5
		}},
		{name: "watch cpu off", env: map[string]string{"IFSTAT_WATCH_CPU": "off"}, want: func(c *Config) {
			c.Node = "edgerouter_x_lan"
			c.WatchCPU = 0
		}},
		{name: "watch cpu over 100", env: map[string]string{"IFSTAT_WATCH_CPU": "101"}, wantVar: "IFSTAT_WATCH_CPU"},
		{name: "watch cpu garbage", env: map[string]string{"IFSTAT_WATCH_CPU": "lots"}, wantVar: "IFSTAT_WATCH_CPU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"IFSTAT_NODE", "IFSTAT_INTERFACES", "IFSTAT_MAX_RATE", "IFSTAT_BROKER", "IFSTAT_CA_FILE", "IFSTAT_WATCH", "IFSTAT_WATCH_CPU"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := LoadConfig("", host)
			var ce *config.Error
			if tt.wantVar != "" {
				if !errors.As(err, &ce) || ce.Var != tt.wantVar {
					t.Fatalf("LoadConfig() = %v, want error naming %s", err, tt.wantVar)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := validConfig()
			want.Watch = WatchMode{Auto: true} // the defaults
			want.WatchCPU = DefaultWatchCPU
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("LoadConfig() (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeReader serves snapshots the test sets.
type fakeReader struct {
	mu     sync.Mutex
	mono   int64
	ifaces map[string]wire.Counters
	err    error
	reads  int
}

func (f *fakeReader) set(ifaces map[string]wire.Counters) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ifaces = ifaces
}

func (f *fakeReader) Read() (netdev.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return netdev.Snapshot{}, f.err
	}
	f.mono += 1e9
	return netdev.Snapshot{MonoNS: f.mono, TimeNS: 1795300000e9 + f.mono, Ifaces: f.ifaces}, nil
}

func (f *fakeReader) BootID() string { return "c0ffee00-0000-4000-8000-000000000001" }

type pub struct {
	Topic    string
	QoS      byte
	Retained bool
	Payload  string
}

type doneToken struct{ err error }

func (doneToken) Wait() bool                     { return true }
func (doneToken) WaitTimeout(time.Duration) bool { return true }
func (doneToken) Done() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
func (d doneToken) Error() error { return d.err }

// fakeClient records publications; Connect runs OnConnect like paho does.
type fakeClient struct {
	mqtt.Client // methods the agent must not call panic on the nil interface
	opts        mqttx.Options
	pubs        chan pub
	mu          sync.Mutex
	subs        map[string]mqtt.MessageHandler
}

func newFakeClient() (*fakeClient, func(mqttx.Options) (mqtt.Client, error)) {
	f := &fakeClient{pubs: make(chan pub, 1000), subs: map[string]mqtt.MessageHandler{}}
	return f, func(o mqttx.Options) (mqtt.Client, error) {
		f.opts = o
		return f, nil
	}
}

func (f *fakeClient) Connect() mqtt.Token {
	go f.opts.OnConnect(f)
	return doneToken{}
}
func (f *fakeClient) Disconnect(uint)        {}
func (f *fakeClient) IsConnectionOpen() bool { return true }
func (f *fakeClient) Subscribe(topic string, _ byte, h mqtt.MessageHandler) mqtt.Token {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[topic] = h
	return doneToken{}
}
func (f *fakeClient) Publish(topic string, qos byte, retained bool, payload any) mqtt.Token {
	var s string
	switch p := payload.(type) {
	case string:
		s = p
	case []byte:
		s = string(p)
	}
	f.pubs <- pub{topic, qos, retained, s}
	return doneToken{}
}

func (f *fakeClient) next(t *testing.T) pub {
	t.Helper()
	select {
	case p := <-f.pubs:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no publication within 10 s")
		return pub{}
	}
}

// fakeMessage is a received MQTT message.
type fakeMessage struct {
	mqtt.Message
	payload []byte
}

func (m fakeMessage) Payload() []byte { return m.payload }

func (f *fakeClient) request(t *testing.T, topic string, payload string) {
	t.Helper()
	f.mu.Lock()
	h := f.subs[topic]
	f.mu.Unlock()
	if h == nil {
		t.Fatalf("no subscription to %s", topic)
	}
	h(f, fakeMessage{payload: []byte(payload)})
}

func newTestAgent(t *testing.T, r CounterReader, cfg Config) (*Agent, *fakeClient) {
	t.Helper()
	fc, newClient := newFakeClient()
	a, err := New(cfg, testLog(t), Deps{Version: "v9.9.9-test", Reader: r, NewClient: newClient})
	if err != nil {
		t.Fatal(err)
	}
	return a, fc
}

// goldenInfo replaces the fields that vary by machine and run.
func stableInfo(t *testing.T, p string) string {
	t.Helper()
	in, err := wire.DecodeInfo([]byte(p))
	if err != nil {
		t.Fatalf("info %s: %v", p, err)
	}
	if in.RunID == "" || in.OS == "" || in.Arch == "" {
		t.Errorf("info lacks run id, os or arch: %s", p)
	}
	in.RunID, in.Kernel, in.Hostname, in.OS, in.Arch = "RUN", "KERNEL", "HOST", "OS", "ARCH"
	return fmt.Sprintf("%+v", in)
}

func TestAgentLifecycle(t *testing.T) {
	t.Parallel()
	fr := &fakeReader{ifaces: map[string]wire.Counters{
		"eth0":    {RxBytes: 1, TxBytes: 2, RxPackets: 3, TxPackets: 4, Ifindex: 2, SpeedMbps: 1000},
		"wg0":     {RxBytes: 1 << 40, TxBytes: 7, Ifindex: 9},
		"eth0.10": {RxErrors: 5, TxErrors: 6, RxDropped: 7, TxDropped: 8, Ifindex: 11},
	}}
	a, fc := newTestAgent(t, fr, validConfig())
	a.runID = "0123456789abcdef"
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	// Birth: info then online, both retained, after the subscription.
	info := fc.next(t)
	if info.Topic != "ifstat/er-x/info" || !info.Retained || info.QoS != 1 {
		t.Fatalf("first publication %+v, want retained info", info)
	}
	if diff := cmp.Diff("{Node:er-x Protocol:1 Version:v9.9.9-test OS:OS Arch:ARCH Kernel:KERNEL Hostname:HOST BootID:c0ffee00-0000-4000-8000-000000000001 RunID:RUN Interfaces:[eth0 eth0.10 wg0] Capabilities:[reply ifindex speed] MaxRate:200}", stableInfo(t, info.Payload)); diff != "" {
		t.Errorf("info (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(pub{"ifstat/er-x/status", 1, true, "online"}, fc.next(t)); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if w := fc.opts.Will; w == nil || w.Topic != "ifstat/er-x/status" || string(w.Payload) != "offline" || !w.Retained {
		t.Errorf("will = %+v, want retained offline on status", w)
	}

	// A reply: golden wire format.
	fc.request(t, "ifstat/er-x/request", `{"id":"bridge1-1"}`)
	reply := fc.next(t)
	if reply.Topic != "ifstat/er-x/reply" || reply.Retained || reply.QoS != 0 {
		t.Fatalf("reply publication %+v, want QoS 0 not retained on reply", reply)
	}
	golden.Check(t, "TestAgentLifecycle.golden", []byte(reply.Payload))

	// An empty request is valid; seq counts up; wg0 gone → left out, info republished.
	fr.set(map[string]wire.Counters{"eth0": {RxBytes: 10}, "eth0.10": {}})
	fc.request(t, "ifstat/er-x/request", "")
	r2, err := wire.DecodeReply([]byte(fc.next(t).Payload))
	if err != nil {
		t.Fatal(err)
	}
	if r2.ID != "" || r2.Seq != 2 || len(r2.Ifaces) != 2 || r2.Ifaces["eth0"].RxBytes != 10 {
		t.Errorf("second reply = %+v, want id \"\", seq 2, eth0 and eth0.10", r2)
	}
	info2 := fc.next(t)
	if info2.Topic != "ifstat/er-x/info" || !strings.Contains(info2.Payload, `"interfaces":["eth0","eth0.10"]`) {
		t.Errorf("after wg0 left: %+v, want info without wg0", info2)
	}

	// A read error: no reply, counted.
	fr.mu.Lock()
	fr.err = errors.New("disk on fire")
	fr.mu.Unlock()
	fc.request(t, "ifstat/er-x/request", "")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if diff := cmp.Diff(pub{"ifstat/er-x/status", 1, true, "offline"}, fc.next(t)); diff != "" {
		t.Errorf("after cancel (-want +got):\n%s", diff)
	}
	st := a.Stats()
	if st.Requests != 3 || st.Replies != 2 || st.Bad != 0 {
		t.Errorf("Stats() = %+v, want 3 requests, 2 replies", st)
	}
}

// hostileRequests is the request table: the agent's decoder tests, the
// integration test and FuzzHandle's seeds. wantID is the queued id, or bad.
var hostileRequests = []struct {
	name    string
	payload []byte
	bad     bool
	wantID  string
}{
	{name: "empty", payload: nil, wantID: ""},
	{name: "whitespace", payload: []byte(" \r\n\t "), wantID: ""},
	{name: "empty object", payload: []byte("{}"), wantID: ""},
	{name: "good id", payload: []byte(`{"id":"b-1"}`), wantID: "b-1"},
	{name: "unknown fields", payload: []byte(`{"id":"b-2","x":[1,2,{"y":null}],"z":true}`), wantID: "b-2"},
	{name: "id null", payload: []byte(`{"id":null}`), wantID: ""},
	{name: "2 KiB payload", payload: []byte(`{"id":"` + strings.Repeat("a", 2048) + `"}`), bad: true},
	{name: "2 KiB of spaces", payload: bytes.Repeat([]byte(" "), 2048), wantID: ""},
	{name: "not json", payload: []byte("hello"), bad: true},
	{name: "json array", payload: []byte(`[{"id":"x"}]`), bad: true},
	{name: "json null", payload: []byte("null"), bad: true},
	{name: "json string", payload: []byte(`"id"`), bad: true},
	{name: "id number", payload: []byte(`{"id":42}`), bad: true},
	{name: "id object", payload: []byte(`{"id":{"a":1}}`), bad: true},
	{name: "id 200 bytes", payload: []byte(`{"id":"` + strings.Repeat("x", 200) + `"}`), bad: true},
	{name: "invalid utf-8 in id", payload: []byte("{\"id\":\"a\xff\xfe\"}"), bad: true},
	{name: "escaped invalid surrogate", payload: []byte(`{"id":"\ud800"}`), wantID: "\ufffd"},
	{name: "deeply nested", payload: []byte(`{"x":` + strings.Repeat("[", 400) + strings.Repeat("]", 400) + `}`), wantID: ""},
	{name: "truncated", payload: []byte(`{"id":"b-3"`), bad: true},
	{name: "trailing garbage", payload: []byte(`{"id":"b-4"}{}`), bad: true},
	{name: "nul bytes", payload: []byte("\x00\x00\x00"), bad: true},
	{name: "duplicate id keeps last", payload: []byte(`{"id":"a-1","id":"a-2"}`), wantID: "a-2"},
}

func TestHandleHostile(t *testing.T) {
	t.Parallel()
	for _, tt := range hostileRequests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newTestAgent(t, &fakeReader{}, validConfig())
			a.handle(tt.payload)
			st := a.Stats()
			id, queued := a.queue.Pop()
			if tt.bad {
				if queued || st.Bad != 1 {
					t.Errorf("handle(%q): queued %v (id %q), bad %d; want dropped as bad", tt.payload, queued, id, st.Bad)
				}
				return
			}
			if !queued || id != tt.wantID || st.Bad != 0 {
				t.Errorf("handle(%q): queued %v id %q bad %d; want id %q queued", tt.payload, queued, id, st.Bad, tt.wantID)
			}
		})
	}
}

// FuzzHandle: no payload panics the request path, and every payload is
// either counted bad or queued with an id that fits the contract.
func FuzzHandle(f *testing.F) {
	for _, tt := range hostileRequests {
		f.Add(tt.payload)
	}
	a, err := New(validConfig(), testLog(f), Deps{Reader: &fakeReader{}, NewClient: func(mqttx.Options) (mqtt.Client, error) { return &fakeClient{}, nil }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		before := a.Stats()
		a.handle(p)
		after := a.Stats()
		id, queued := a.queue.Pop()
		switch {
		case after.Bad == before.Bad+1:
			if queued {
				t.Fatalf("bad payload %q queued %q", p, id)
			}
		case queued:
			if len(id) > wire.MaxIDLen {
				t.Fatalf("queued id of %d bytes", len(id))
			}
		default:
			t.Fatalf("payload %q neither queued nor counted bad: %+v", p, after)
		}
	})
}

// stallReader numbers its reads from 1: read n begins at n s, and its
// RxBytes is n; the reads in stall (counted after base, the reads New
// made) take 20 ms from start to stamp (preempted), the others 0.1 ms.
// noStart leaves StartNS unset.
type stallReader struct {
	mu      sync.Mutex
	n, base int
	stall   map[int]bool
	noStart bool
}

// start counts the reads from now on.
func (r *stallReader) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.base = r.n
}

func (r *stallReader) Read() (netdev.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	start := int64(r.n) * 1e9
	mono := start + 100_000
	if r.stall[r.n-r.base] {
		mono = start + 20e6
	}
	if r.noStart {
		start = 0
	}
	return netdev.Snapshot{StartNS: start, MonoNS: mono, TimeNS: 1795300000e9 + mono,
		Ifaces: map[string]wire.Counters{"eth0": {RxBytes: uint64(r.n), Ifindex: 2}}}, nil
}

func (r *stallReader) BootID() string { return "c0ffee00-0000-4000-8000-000000000001" }

// TestReadFresh: a reply's read that took longer than stalledRead from
// its start to its stamp is read once more, and the reply carries the
// second read, where the stamp is what the bridge rates by (no adaptive
// watch, or live counters); the stalled read is shown to the watch
// first.
func TestReadFresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		stall     map[int]bool
		noStart   bool
		watch     bool
		live      bool // the watch takes eth0 as live
		wantReads int
		wantRx    uint64
		stalled   uint64
	}{
		{name: "a read on time is used", wantReads: 1, wantRx: 1},
		{name: "a stalled read is read again", stall: map[int]bool{1: true}, wantReads: 2, wantRx: 2, stalled: 1},
		{name: "once: a second stall is used", stall: map[int]bool{1: true, 2: true}, wantReads: 2, wantRx: 2, stalled: 1},
		{name: "no start stamp: no judgement", stall: map[int]bool{1: true}, noStart: true, wantReads: 1, wantRx: 1},
		// The adaptive watch's windows come from its probes: not read
		// again unless an interface is live.
		{name: "adaptive watch: not read again", stall: map[int]bool{1: true}, watch: true, wantReads: 1, wantRx: 1, stalled: 1},
		{name: "adaptive watch, live counters: the watch sees the stalled read", stall: map[int]bool{1: true}, watch: true, live: true, wantReads: 2, wantRx: 2, stalled: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &stallReader{stall: tt.stall, noStart: tt.noStart}
			cfg := validConfig()
			cfg.Watch.Auto = tt.watch
			a, _ := newTestAgent(t, r, cfg)
			if tt.live {
				a.watch.observe(1, 2, map[string]wire.Counters{"eth0": {Ifindex: 2}})
				a.watch.ifaces["eth0"].auto.class = classLive
			}
			r.start()
			a.readMu.Lock()
			snap, err := a.readFresh()
			a.readMu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			reads, rx := r.n-r.base, int(snap.Ifaces["eth0"].RxBytes)-r.base
			if reads != tt.wantReads || rx != int(tt.wantRx) || a.Stats().StalledReads != tt.stalled {
				t.Errorf("%d reads, the reply's is read %d, %d stalled; want %d, %d, %d", reads, rx, a.Stats().StalledReads, tt.wantReads, tt.wantRx, tt.stalled)
			}
			if tt.live {
				st := a.watch.ifaces["eth0"]
				if st == nil || int(st.c.RxBytes)-r.base != 1 {
					t.Errorf("the watch did not see the stalled read: %+v", st)
				}
			}
		})
	}

	// Through a request: the published reply is the second read's,
	// values and stamp.
	r := &stallReader{stall: map[int]bool{1: true}}
	a, fc := newTestAgent(t, r, validConfig())
	r.start()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	fc.next(t) // info
	fc.next(t) // online
	fc.request(t, "ifstat/er-x/request", `{"id":"b-1"}`)
	rep, err := wire.DecodeReply([]byte(fc.next(t).Payload))
	if err != nil {
		t.Fatal(err)
	}
	if n := int64(r.base + 2); rep.MonoNS != n*1e9+100_000 || rep.Ifaces["eth0"].RxBytes != uint64(n) {
		t.Errorf("reply mono %d, rx %d; want the second read's: %d, %d", rep.MonoNS, rep.Ifaces["eth0"].RxBytes, n*1e9+100_000, n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
