package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/golden"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

var t0 = time.Date(2026, 3, 29, 1, 30, 0, 123456789, time.UTC)

// checkpoint is what a tracker of a busy interface looks like: 64-bit byte
// counters, 32-bit-looking error counters, a stale read pending.
func checkpoint(i int) rate.Checkpoint {
	u := uint64(i)
	return rate.Checkpoint{
		Started: true, BootID: "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c9a01", Ifindex: int64(2 + i), SpeedMbps: 1000,
		LastMonoNS: 86_400_000_000_000 + int64(i), BaseMonoNS: 86_399_000_000_000,
		Base:   rate.Values{123_456_789_012 + u, 98_765_432_109, 3_456_789_012, 2_345_678_901, 12, 0, 345, 0},
		Seen64: [rate.N]bool{true, true},
		Totals: rate.Values{1_234_567_890_123 + u, 987_654_321_098, 34_567_890_123, 23_456_789_012, 120, 0, 3450, 0},
	}
}

func testSnapshot(nodes, ifaces int) *Snapshot {
	s := &Snapshot{Bridge: "bridge-1", Saved: t0, Seq: 42, Nodes: map[string]NodeState{}}
	names := []string{"eth0", "eth1", "eth2", "eth0.100", "pppoe-wan", "switch0", "wg0", "br-lan"}
	for n := range nodes {
		ns := NodeState{Saved: t0, Seq: 42, Ifaces: map[string]rate.Checkpoint{}}
		for i := range ifaces {
			name := fmt.Sprintf("veth%d", i)
			if i < len(names) {
				name = names[i]
			}
			ns.Ifaces[name] = checkpoint(i)
		}
		s.Nodes[fmt.Sprintf("router-%04d", n)] = ns
	}
	return s
}

var equateEmpty = cmpopts.EquateEmpty()

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	full := testSnapshot(3, 8)
	n := full.Nodes["router-0001"]
	n.Extra = map[string]json.RawMessage{"tariff": json.RawMessage(`{"happy":{"rx_bytes":12345}}`)}
	n.Saved, n.Seq = t0.Add(-time.Minute), 41
	full.Nodes["router-0001"] = n
	tests := []struct {
		name string
		in   *Snapshot
	}{
		{"full", full},
		{"no nodes", &Snapshot{Bridge: "b", Saved: t0}},
		{"node without interfaces", &Snapshot{Bridge: "b", Nodes: map[string]NodeState{"er-x": {}}}},
		{"tracker that saw no sample", &Snapshot{Bridge: "b", Nodes: map[string]NodeState{"er-x": {
			Ifaces: map[string]rate.Checkpoint{"eth0": {Totals: rate.Values{1, 2, 3, 4, 5, 6, 7, 8}}}}}}},
		{"extreme values", &Snapshot{Bridge: "b", Seq: 1<<64 - 1, Nodes: map[string]NodeState{"er-x": {
			Ifaces: map[string]rate.Checkpoint{"wlan0-1": {Started: true, OldBootID: "ä", LastMonoNS: 1<<63 - 1, BaseMonoNS: -1 << 63,
				Base: rate.Values{1<<32 - 1}, Seen64: [rate.N]bool{false, true, false, false, false, false, false, true},
				Totals: rate.Values{1<<64 - 1, 1<<64 - 1}}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := Encode(tt.in)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(Encode(s)): %v\n%s", err, b)
			}
			if diff := cmp.Diff(tt.in, got, equateEmpty); diff != "" {
				t.Errorf("Decode(Encode(s)) mismatch (-want +got):\n%s", diff)
			}
			for node := range tt.in.Nodes {
				m, err := EncodeNode(tt.in, node)
				if err != nil {
					t.Fatalf("EncodeNode(%s): %v", node, err)
				}
				got, err := DecodeNode(m)
				if err != nil {
					t.Fatalf("DecodeNode(EncodeNode(%s)): %v", node, err)
				}
				want := &Snapshot{Bridge: tt.in.Bridge, Saved: tt.in.Saved, Seq: tt.in.Seq, Nodes: map[string]NodeState{node: tt.in.Nodes[node]}}
				if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
					t.Errorf("DecodeNode(EncodeNode(%s)) mismatch (-want +got):\n%s", node, diff)
				}
			}
		})
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	s := testSnapshot(1, 2)
	n := s.Nodes["router-0000"]
	n.Extra = map[string]json.RawMessage{"tariff": json.RawMessage(`{"happy":[1,2]}`),
		// The bridge's refresh fits: the first window, then width and
		// gap before each next one (refresh.Pack).
		"refresh": json.RawMessage(`{"eth0":{"boot_id":"3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c9a01","windows":[86398012345678,50000000,926500000,50000000]}}`)}
	s.Nodes["router-0000"] = n
	got, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, t.Name()+".golden", got)
}

func TestEncodeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   *Snapshot
		want string
	}{
		{"nil", nil, "encoding state: nil snapshot"},
		{"bad bridge id", &Snapshot{Bridge: "Bridge 1"}, `encoding state: bridge id "Bridge 1" is not valid`},
		{"bad node id", &Snapshot{Bridge: "b", Nodes: map[string]NodeState{"a/b": {}}}, `encoding state: node id "a/b" is not valid`},
		{"bad interface", &Snapshot{Bridge: "b", Nodes: map[string]NodeState{"n": {Ifaces: map[string]rate.Checkpoint{"a b": {}}}}},
			`encoding state: node n: interface name "a b" is not valid`},
		{"inconsistent checkpoint", &Snapshot{Bridge: "b", Nodes: map[string]NodeState{"n": {Ifaces: map[string]rate.Checkpoint{"e": {Started: true, BaseMonoNS: 2}}}}},
			"encoding state: node n, interface e: invalid checkpoint: base_mono_ns 2 after last_mono_ns 0"},
		{"extra not JSON", &Snapshot{Bridge: "b", Nodes: map[string]NodeState{"n": {Extra: map[string]json.RawMessage{"t": json.RawMessage("{")}}}},
			"encoding state: json: error calling MarshalJSON for type json.RawMessage: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Encode(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Encode() error = %v, want %q", err, tt.want)
			}
		})
	}
}

// hostile is the one table of payloads that Decode must refuse (want an
// error containing the text) or accept (want ""); it also seeds FuzzDecode.
var hostile = []struct {
	name string
	in   string
	want string
}{
	{"empty", ``, "unexpected end of JSON input"},
	{"null", `null`, "version 0, want 1"},
	{"empty object", `{}`, "version 0, want 1"},
	{"minimal", `{"version":1,"bridge":"b"}`, ""},
	{"unknown version", `{"version":2,"bridge":"b"}`, "version 2, want 1"},
	{"version as string", `{"version":"1","bridge":"b"}`, "cannot unmarshal string"},
	{"unknown fields ignored", `{"version":1,"bridge":"b","future":[1,{"x":2}]}`, ""},
	{"trailing data", `{"version":1,"bridge":"b"}{}`, "invalid character '{' after top-level value"},
	{"array", `[1,2]`, "cannot unmarshal array"},
	{"bad bridge", `{"version":1,"bridge":"+"}`, `bridge id "+" is not valid`},
	{"bad time", `{"version":1,"bridge":"b","saved":"yesterday"}`, "cannot parse"},
	{"negative seq", `{"version":1,"bridge":"b","seq":-1}`, "cannot unmarshal number -1"},
	{"bad node id", `{"version":1,"bridge":"b","nodes":{"#":{}}}`, `node id "#" is not valid`},
	{"nodes wrong type", `{"version":1,"bridge":"b","nodes":[]}`, "cannot unmarshal array"},
	{"null node", `{"version":1,"bridge":"b","nodes":{"n":null}}`, ""},
	{"null iface", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":null}}}}`, "base and totals need 8 counters, have 0 and 0"},
	{"short base", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"base":[1],"totals":[0,0,0,0,0,0,0,0]}}}}}`, "have 1 and 8"},
	{"long totals", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"base":[0,0,0,0,0,0,0,0],"totals":[0,0,0,0,0,0,0,0,0]}}}}}`, "have 8 and 9"},
	{"negative total", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"base":[0,0,0,0,0,0,0,0],"totals":[-1,0,0,0,0,0,0,0]}}}}}`, "cannot unmarshal number -1"},
	{"fractional total", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"base":[0,0,0,0,0,0,0,0],"totals":[1.5,0,0,0,0,0,0,0]}}}}}`, "cannot unmarshal number 1.5"},
	{"total over 2^64", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"base":[0,0,0,0,0,0,0,0],"totals":[18446744073709551616,0,0,0,0,0,0,0]}}}}}`, "cannot unmarshal number 18446744073709551616"},
	{"total as string", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"base":[0,0,0,0,0,0,0,0],"totals":["1",0,0,0,0,0,0,0]}}}}}`, "cannot unmarshal string"},
	{"bad iface name", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"a/b":{"base":[0,0,0,0,0,0,0,0],"totals":[0,0,0,0,0,0,0,0]}}}}}`, `interface name "a/b" is not valid`},
	{"unknown seen64", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"base":[0,0,0,0,0,0,0,0],"totals":[0,0,0,0,0,0,0,0],"seen64":["rx_bits"]}}}}}`, `seen64: unknown counter "rx_bits"`},
	{"base in the future", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"started":true,"base_mono_ns":5,"last_mono_ns":4,"base":[0,0,0,0,0,0,0,0],"totals":[0,0,0,0,0,0,0,0]}}}}}`, "base_mono_ns 5 after last_mono_ns 4"},
	{"wide base without seen64", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"started":true,"base":[4294967296,0,0,0,0,0,0,0],"totals":[0,0,0,0,0,0,0,0]}}}}}`, "rx_bytes base 4294967296 >= 2^32 without seen64"},
	{"long boot id", `{"version":1,"bridge":"b","nodes":{"n":{"ifaces":{"e":{"boot_id":"` + strings.Repeat("a", MaxBootIDLen+1) + `","base":[0,0,0,0,0,0,0,0],"totals":[0,0,0,0,0,0,0,0]}}}}}`, "boot id"},
	{"invalid UTF-8 in a boot id becomes U+FFFD", "{\"version\":1,\"bridge\":\"b\",\"nodes\":{\"n\":{\"ifaces\":{\"e\":{\"boot_id\":\"\xff\",\"base\":[0,0,0,0,0,0,0,0],\"totals\":[0,0,0,0,0,0,0,0]}}}}}", ""},
	{"empty extra key", `{"version":1,"bridge":"b","nodes":{"n":{"extra":{"":1}}}}`, `extra key "" is not valid`},
	{"deeply nested extra", `{"version":1,"bridge":"b","nodes":{"n":{"extra":{"t":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}}}`, "exceeded max depth"},
}

func TestDecodeHostile(t *testing.T) {
	t.Parallel()
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Decode([]byte(tt.in))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Decode() error = %v, want none", err)
			case tt.want == "":
				if _, err := Encode(s); err != nil {
					t.Fatalf("Encode(Decode()) error = %v", err)
				}
			case err == nil:
				t.Fatalf("Decode() = %+v, want an error containing %q", s, tt.want)
			case !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Decode() error = %v, want ErrMalformed containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeNode(t *testing.T) {
	t.Parallel()
	one, err := EncodeNode(testSnapshot(2, 2), "router-0001")
	if err != nil {
		t.Fatal(err)
	}
	two, err := Encode(testSnapshot(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"one node", one, ""},
		{"two nodes", two, "malformed state: a node message holds 2 nodes, want 1"},
		{"no node", []byte(`{"version":1,"bridge":"b"}`), "malformed state: a node message holds 0 nodes, want 1"},
		{"deleted retained message", nil, "malformed state: unexpected end of JSON input"},
		{"over MaxNodeSize", []byte(`{"version":1,"bridge":"b","pad":"` + strings.Repeat("x", MaxNodeSize) + `"}`),
			fmt.Sprintf("malformed state: %d bytes, over the limit of %d", MaxNodeSize+35, MaxNodeSize)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeNode(tt.in)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("DecodeNode() error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeSizeCap(t *testing.T) {
	t.Parallel()
	in := []byte(`{"version":1,"bridge":"b"}`)
	if _, err := decode(in, len(in)); err != nil {
		t.Fatalf("decode(%d bytes, limit %d) error = %v", len(in), len(in), err)
	}
	_, err := decode(in, len(in)-1)
	if want := "malformed state: 26 bytes, over the limit of 25"; err == nil || err.Error() != want {
		t.Fatalf("decode(%d bytes, limit %d) error = %v, want %q", len(in), len(in)-1, err, want)
	}
}

func FuzzDecode(f *testing.F) {
	for _, tt := range hostile {
		if len(tt.in) < 4096 {
			f.Add([]byte(tt.in))
		}
	}
	if b, err := Encode(testSnapshot(2, 3)); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || s != nil {
				t.Fatalf("Decode() = %v, %v: want nil and ErrMalformed", s, err)
			}
			return
		}
		// Whatever is accepted can be written back and reads the same.
		again, err := Encode(s)
		if err != nil {
			t.Fatalf("Encode(Decode()) error = %v", err)
		}
		s2, err := Decode(again)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode())) error = %v", err)
		}
		if diff := cmp.Diff(s, s2, equateEmpty); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
		}
	})
}

func TestNewestAndMerge(t *testing.T) {
	t.Parallel()
	snap := func(name string, saved time.Time, seq uint64, nodes map[string]NodeState) *Snapshot {
		return &Snapshot{Bridge: name, Saved: saved, Seq: seq, Nodes: nodes}
	}
	node := func(saved time.Time, seq uint64, total uint64) NodeState {
		return NodeState{Saved: saved, Seq: seq, Ifaces: map[string]rate.Checkpoint{"eth0": {Totals: rate.Values{total}}}}
	}
	later := t0.Add(time.Second)
	inZone := t0.In(time.FixedZone("CET", 3600))
	file := snap("file", t0, 7, map[string]NodeState{"a": node(t0, 7, 100), "b": node(t0, 7, 200)})
	tieA := snap("x", t0, 2, map[string]NodeState{"a": node(t0, 2, 1)})
	mqtt := snap("mqtt", later, 3, map[string]NodeState{"a": node(later, 3, 150), "c": node(t0, 1, 300)})
	tests := []struct {
		name       string
		a, b       *Snapshot
		wantNewest *Snapshot
		wantMerge  *Snapshot
	}{
		{"both nil", nil, nil, nil, nil},
		{"a nil", nil, file, file, snap("file", t0, 7, file.Nodes)},
		{"b nil", file, nil, file, snap("file", t0, 7, file.Nodes)},
		{"later Saved wins over higher Seq", file, mqtt, mqtt,
			snap("mqtt", later, 3, map[string]NodeState{"a": node(later, 3, 150), "b": node(t0, 7, 200), "c": node(t0, 1, 300)})},
		{"order does not matter", mqtt, file, mqtt,
			snap("mqtt", later, 3, map[string]NodeState{"a": node(later, 3, 150), "b": node(t0, 7, 200), "c": node(t0, 1, 300)})},
		{"equal Saved: higher Seq", snap("x", t0, 1, nil), snap("y", inZone, 2, nil), snap("y", inZone, 2, nil), snap("y", inZone, 2, nil)},
		{"equal Saved and Seq: a", tieA, snap("y", inZone, 2, map[string]NodeState{"a": node(inZone, 2, 9)}),
			tieA, snap("x", t0, 2, map[string]NodeState{"a": node(t0, 2, 1)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.wantNewest, Newest(tt.a, tt.b), equateEmpty); diff != "" {
				t.Errorf("Newest mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMerge, Merge(tt.a, tt.b), equateEmpty); diff != "" {
				t.Errorf("Merge mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncodedSize measures the encodings the design rests on: the whole
// snapshot of 2,000 nodes of 8 interfaces (the file) and one node's
// message (the retained MQTT copy).
func TestEncodedSize(t *testing.T) {
	t.Parallel()
	s := testSnapshot(2000, 8)
	whole, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	one, err := EncodeNode(s, "router-0000")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2000 nodes x 8 interfaces: %d bytes; one node: %d bytes", len(whole), len(one))
	if len(whole) > MaxSize/4 {
		t.Errorf("whole snapshot %d bytes, want headroom under MaxSize %d", len(whole), MaxSize)
	}
	big, err := EncodeNode(testSnapshot(1, 1024), "router-0000")
	if err != nil {
		t.Fatal(err)
	}
	if len(big) > MaxNodeSize {
		t.Errorf("a node with %d interfaces encodes to %d bytes, over MaxNodeSize %d", 1024, len(big), MaxNodeSize)
	}
}
