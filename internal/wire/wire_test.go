package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeRequest(t *testing.T) {
	t.Parallel()
	for _, tt := range requestCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest([]byte(tt.payload))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("DecodeRequest() = %+v, want an error", got)
				}
				if !errors.Is(err, ErrMalformedRequest) {
					t.Errorf("DecodeRequest() error %v is not ErrMalformedRequest", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeRequest() error: %v", err)
			}
			if got.ID != tt.wantID {
				t.Errorf("DecodeRequest().ID = %q, want %q", got.ID, tt.wantID)
			}
		})
	}
}

func TestDecodeReply(t *testing.T) {
	t.Parallel()
	for _, tt := range replyCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeReply([]byte(tt.payload))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("DecodeReply() = %+v, want an error", got)
				}
				if !errors.Is(err, ErrMalformedReply) {
					t.Errorf("DecodeReply() error %v is not ErrMalformedReply", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeReply() error: %v", err)
			}
		})
	}
}

func TestDecodeReplyValues(t *testing.T) {
	t.Parallel()
	got, err := DecodeReply([]byte(goodReply))
	if err != nil {
		t.Fatal(err)
	}
	want := Reply{ID: "b-1", Node: "er-x", MonoNS: 123456789000, TimeNS: 1795300000123456789, BootID: "0b0c", RunID: "r1", Seq: 7,
		Ifaces: map[string]Counters{"eth0": {RxBytes: 1, TxBytes: 2, RxPackets: 3, TxPackets: 4, Ifindex: 2, SpeedMbps: 1000}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("DecodeReply() mismatch (-want +got):\n%s", d)
	}
}

func sampleReply() *Reply {
	return &Reply{
		ID: "bridge1-42", Node: "er-x", MonoNS: 123456789000, TimeNS: 1795300000123456789,
		BootID: "3c2f8a0e-5d1b-4b8e-9f6a-2b7c1d0e9f11", RunID: "5f1a9c", Seq: 42,
		Ifaces: map[string]Counters{
			"eth0":       {RxBytes: 1, TxBytes: 2, RxPackets: 3, TxPackets: 4, Ifindex: 2, SpeedMbps: 1000, ChangedNS: 123400000000, UnchangedNS: 123350000000, RefreshNS: 976500000},
			"pppoe-wan":  {RxBytes: 1<<64 - 1, TxBytes: 1 << 63, RxPackets: 1<<32 - 1, TxPackets: 1 << 32, RxErrors: 5, TxErrors: 6, RxDropped: 7, TxDropped: 8, Ifindex: 17},
			"switch0.10": {RxBytes: 10, TxBytes: 20},
			"wlan0-1":    {},
			"über\"0":    {RxBytes: 99},
		},
	}
}

func TestAppendReplyGolden(t *testing.T) {
	t.Parallel()
	var e Encoder
	got := e.AppendReply(nil, sampleReply())
	golden.Check(t, t.Name()+".golden", append(got, '\n'))
}

func TestAppendReplyRoundTrip(t *testing.T) {
	t.Parallel()
	var e Encoder
	in := sampleReply()
	out := e.AppendReply(nil, in)
	if !json.Valid(out) {
		t.Fatalf("AppendReply() produced invalid JSON: %s", out)
	}
	got, err := DecodeReply(out)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(*in, got); d != "" {
		t.Errorf("round trip mismatch (-in +out):\n%s", d)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "quote\"back\\slash", "ctl\x00\x01\x1f\n\t", "<html>&", "grüße", "\xff\xfeinvalid", "a\u2028b", "\U0001F600"} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("appendString(%q) = %s: invalid JSON: %v", s, got, err)
			continue
		}
		var want string
		std, _ := json.Marshal(s)
		json.Unmarshal(std, &want)
		if back != want {
			t.Errorf("appendString(%q) decodes to %q, encoding/json round trip gives %q", s, back, want)
		}
	}
}

func TestTopics(t *testing.T) {
	t.Parallel()
	tp := Topics{Prefix: "ifstat", Node: "er-x"}
	got := []string{tp.Request(), tp.Reply(), tp.Status(), tp.Info(), Wildcard("ifstat", KindStatus)}
	want := []string{"ifstat/er-x/request", "ifstat/er-x/reply", "ifstat/er-x/status", "ifstat/er-x/info", "ifstat/+/status"}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

func TestParseTopic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		topic      string
		node, kind string
		ok         bool
	}{
		{"ifstat/er-x/status", "er-x", "status", true},
		{"ifstat/er_4/reply", "er_4", "reply", true},
		{"ifstat/+/status", "", "", false},
		{"ifstat/#/status", "", "", false},
		{"ifstat/../x/status", "", "", false},
		{"ifstat/ER-X/status", "", "", false},
		{"ifstat//status", "", "", false},
		{"ifstat/a/b/status", "", "", false},
		{"other/er-x/status", "", "", false},
		{"ifstatx/er-x/status", "", "", false},
		{"ifstat/er-x", "", "", false},
	}
	for _, tt := range tests {
		node, kind, ok := ParseTopic("ifstat", tt.topic)
		if node != tt.node || kind != tt.kind || ok != tt.ok {
			t.Errorf("ParseTopic(%q) = %q, %q, %v; want %q, %q, %v", tt.topic, node, kind, ok, tt.node, tt.kind, tt.ok)
		}
	}
}

func TestNodeFromHostname(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"ER-X", "er-x"},
		{"router.lan", "router_lan"},
		{"Büro Pi", "b__ro_pi"},
		{"a+b#c/d", "a_b_c_d"},
		{string(make([]byte, 100)), string(bytes.Repeat([]byte("_"), MaxNodeLen))},
	}
	for _, tt := range tests {
		got := NodeFromHostname(tt.in)
		if got != tt.want {
			t.Errorf("NodeFromHostname(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !ValidNode(got) {
			t.Errorf("NodeFromHostname(%q) = %q is not a valid node", tt.in, got)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{"ifstat": true, "home/ifstat": true, "": false, "a/+": false, "#": false, "/a": false, "a/": false, "a//b": false} {
		if got := ValidPrefix(p); got != want {
			t.Errorf("ValidPrefix(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, tt := range requestCases {
		if len(tt.payload) < 4096 {
			f.Add([]byte(tt.payload))
		}
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := DecodeRequest(p)
		if err != nil {
			return
		}
		if len(r.ID) > MaxIDLen {
			t.Errorf("accepted id of %d bytes", len(r.ID))
		}
	})
}

func FuzzDecodeReply(f *testing.F) {
	for _, tt := range replyCases {
		if len(tt.payload) < 4096 {
			f.Add([]byte(tt.payload))
		}
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := DecodeReply(p)
		if err != nil {
			return
		}
		// Whatever is accepted must survive our own encoder unchanged.
		var e Encoder
		back, err := DecodeReply(e.AppendReply(nil, &r))
		if err != nil {
			t.Fatalf("re-encoded accepted reply fails to decode: %v", err)
		}
		if d := cmp.Diff(r, back); d != "" {
			t.Errorf("re-encode mismatch: %s", d)
		}
	})
}

func BenchmarkAppendReply(b *testing.B) {
	var e Encoder
	r := sampleReply()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendReply(buf[:0], r)
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	p := []byte(`{"id":"bridge1-42"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlainRequestAgreesWithJSON checks the fast path against
// encoding/json on every request the shared table and a few near misses
// hold: same id, same acceptance.
func TestPlainRequestAgreesWithJSON(t *testing.T) {
	t.Parallel()
	payloads := []string{`{}`, `{ }`, `{"id":"a-1"}`, `{ "id" : "a-1" }`, "{\n\"id\":\"x\"\n}", `{"id":""}`,
		`{"id":"a\"b"}`, `{"id":"a\\nb"}`, `{"id":"a\u0041"}`, `{"id":"a"`, `{"id":"a"}}`, `{"id":"a",}`, `{"idx":"a"}`,
		`{"id":1}`, `{"id":"a","b":1}`, `{"id":"ü"}`, `{"id" "a"}`, `{"id":"a" x}`}
	for _, tt := range requestCases {
		payloads = append(payloads, tt.payload)
	}
	for _, p := range payloads {
		b := bytes.TrimSpace([]byte(p))
		if len(b) == 0 || b[0] != '{' || !utf8.Valid(b) {
			continue // DecodeRequest rejects these before the fast path
		}
		id, ok := plainRequest(b)
		if !ok {
			continue
		}
		var r Request
		if err := json.Unmarshal(b, &r); err != nil {
			t.Errorf("plainRequest(%q) accepted what encoding/json rejects: %v", p, err)
			continue
		}
		if r.ID != id {
			t.Errorf("plainRequest(%q) = %q, encoding/json says %q", p, id, r.ID)
		}
	}
	for _, p := range []string{`{}`, `{"id":"a-1"}`, `{ "id" : "bridge-7" }`} {
		if _, ok := plainRequest([]byte(p)); !ok {
			t.Errorf("plainRequest(%q) not taken: the common case must be fast", p)
		}
	}
}

func FuzzPlainRequest(f *testing.F) {
	for _, tt := range requestCases {
		f.Add([]byte(tt.payload))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		b := bytes.TrimSpace(p)
		if len(b) == 0 || b[0] != '{' || !utf8.Valid(b) {
			return // DecodeRequest rejects these before the fast path
		}
		id, ok := plainRequest(b)
		if !ok {
			return
		}
		var r Request
		if err := json.Unmarshal(b, &r); err != nil || r.ID != id {
			t.Fatalf("plainRequest(%q) = %q; encoding/json: %q, %v", b, id, r.ID, err)
		}
	})
}

func TestBridgeAndHATopics(t *testing.T) {
	t.Parallel()
	b := BridgeTopics{Prefix: "home/ifstat", BridgeID: "nas"}
	for _, tt := range []struct{ got, want string }{
		{Topics{Prefix: "ifstat", Node: "er-x"}.State(), "ifstat/er-x/state"},
		{b.Status(), "home/ifstat/bridge/nas/status"},
		{b.States().Node("er-x"), "home/ifstat/bridge/nas/state/er-x"},
		{b.States().Filter(), "home/ifstat/bridge/nas/state/+"},
		{b.Shard(), "home/ifstat/bridge/nas/shard"},
		{b.Beat(), "home/ifstat/bridge/nas/beat"},
		{BridgeFilter("home/ifstat", "shard"), "home/ifstat/bridge/+/shard"},
		{FleetStates("home/ifstat").Node("er-x"), "home/ifstat/fleet/state/er-x"},
		{FleetStates("home/ifstat").Filter(), "home/ifstat/fleet/state/+"},
		{HABirthTopic(""), "homeassistant/status"},
		{HABirthTopic("ha"), "ha/status"},
		{HAConfigTopic("", "sensor", "ifstat_er-x", "eth0_rx"), "homeassistant/sensor/ifstat_er-x/eth0_rx/config"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	b = BridgeTopics{Prefix: "ifstat", BridgeID: "nas"}
	for _, tt := range []struct {
		topic string
		node  string
		ok    bool
	}{
		{"ifstat/bridge/nas/state/er-x", "er-x", true},
		{"ifstat/bridge/other/state/er-x", "", false},
		{"ifstat/bridge/nas/state", "", false},
		{"ifstat/bridge/nas/state/", "", false},
		{"ifstat/bridge/nas/state/a/b", "", false},
		{"ifstat/bridge/nas/state/ER-X", "", false},
		{"ifstat/er-x/reply", "", false},
	} {
		node, ok := b.States().Parse(tt.topic)
		if node != tt.node || ok != tt.ok {
			t.Errorf("ParseNodeState(%q) = %q, %v, want %q, %v", tt.topic, node, ok, tt.node, tt.ok)
		}
	}
	if node, ok := FleetStates("ifstat").Parse("ifstat/fleet/state/er-x"); node != "er-x" || !ok {
		t.Errorf("FleetStates.Parse = %q, %v", node, ok)
	}
	if _, ok := FleetStates("ifstat").Parse("ifstat/bridge/nas/state/er-x"); ok {
		t.Error("FleetStates.Parse took a bridge's own copy")
	}
	for _, tt := range []struct {
		topic, id, kind string
		ok              bool
	}{
		{"ifstat/bridge/nas/status", "nas", "status", true},
		{"ifstat/bridge/nas/shard", "nas", "shard", true},
		{"ifstat/bridge/nas/state/er-x", "", "", false}, // a copy, not a bridge's own topic
		{"ifstat/bridge/+/shard", "", "", false},
		{"ifstat/nas/status", "", "", false},
		{"other/bridge/nas/status", "", "", false},
	} {
		id, kind, ok := ParseBridgeTopic("ifstat", tt.topic)
		if id != tt.id || kind != tt.kind || ok != tt.ok {
			t.Errorf("ParseBridgeTopic(%q) = %q, %q, %v; want %q, %q, %v", tt.topic, id, kind, ok, tt.id, tt.kind, tt.ok)
		}
	}
}
