package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// agree fails t unless plainReply, where it accepts p, decodes exactly what
// encoding/json decodes from it.
func agree(t *testing.T, p []byte) (accepted bool) {
	t.Helper()
	if !utf8.Valid(p) {
		return false // DecodeReply never passes it on
	}
	fast, ok := plainReply(p)
	if !ok {
		return false
	}
	var slow Reply
	if err := json.Unmarshal(p, &slow); err != nil {
		t.Fatalf("plainReply accepted what encoding/json rejects (%v): %q", err, p)
	}
	if d := cmp.Diff(slow, fast); d != "" {
		t.Fatalf("plainReply and encoding/json disagree on %q (-json +plain):\n%s", p, d)
	}
	return true
}

// TestPlainReplyAgreesWithJSON: the encoder's own output always takes the
// fast path; every shared hostile case and every near miss either goes the
// general way or decodes as encoding/json decodes it.
func TestPlainReplyAgreesWithJSON(t *testing.T) {
	t.Parallel()
	var e Encoder
	canonical := [][]byte{e.AppendReply(nil, plainSample())}
	full := plainSample()
	for name, c := range full.Ifaces {
		c.ChangedNS, c.UnchangedNS, c.RefreshNS = full.MonoNS-5, full.MonoNS-9, 500_000_000
		full.Ifaces[name] = c
	}
	full.BootID, full.RunID, full.Seq = "b", "r", 7
	canonical = append(canonical, e.AppendReply(nil, full), e.AppendReply(nil, &Reply{ID: "x", Node: "n", MonoNS: 1, Ifaces: map[string]Counters{}}))
	for _, p := range canonical {
		if !agree(t, p) {
			t.Errorf("the encoder's output goes the slow way: %s", p)
		}
	}
	base := string(canonical[0])
	nearMisses := []string{
		strings.Replace(base, `"mono_ns":`, `"mono_ns":0`, 1),   // leading zero
		strings.Replace(base, `"mono_ns":`, `"mono_ns":-`, 1),   // negative
		strings.Replace(base, `"rx_bytes":`, `"rx_bytes":-`, 1), // negative unsigned
		strings.Replace(base, `"rx_bytes":`, `"rx_bytes":1.`, 1),
		strings.Replace(base, `"rx_bytes":`, `"rx_bytes":99999999999999999999`, 1), // overflow
		strings.Replace(base, `"node":"`, `"node":"\u0065`, 1),                     // escape
		strings.Replace(base, `{"id"`, `{ "id"`, 1),                                // whitespace
		strings.Replace(base, `"id"`, `"ID"`, 1),                                   // json matches keys case-insensitively
		strings.Replace(base, `,"node"`, `,"extra":1,"node"`, 1),
		base + " ",
		base[:len(base)-1],
		strings.Replace(base, `"ifaces":{`, `"ifaces":{"eth0":{"rx_bytes":1,"tx_bytes":2,"rx_packets":3,"tx_packets":4,"rx_errors":0,"tx_errors":0,"rx_dropped":0,"tx_dropped":0},`, 1), // duplicate name
	}
	nearMisses = append(nearMisses, string(e.AppendReply(nil, sampleReply()))) // an escaped name
	for _, tt := range replyCases {
		nearMisses = append(nearMisses, tt.payload)
	}
	for _, p := range nearMisses {
		agree(t, []byte(p))
	}
}

// plainSample is sampleReply without the name that needs an escape.
func plainSample() *Reply {
	r := sampleReply()
	for name, c := range r.Ifaces {
		if strings.ContainsAny(name, `"\\`) {
			delete(r.Ifaces, name)
			r.Ifaces["über0"] = c
		}
	}
	return r
}

// FuzzPlainReply: whatever plainReply accepts, encoding/json decodes the
// same.
func FuzzPlainReply(f *testing.F) {
	var e Encoder
	f.Add(e.AppendReply(nil, plainSample()))
	for _, tt := range replyCases {
		if len(tt.payload) < 4096 {
			f.Add([]byte(tt.payload))
		}
	}
	f.Fuzz(func(t *testing.T, p []byte) { agree(t, p) })
}

func BenchmarkDecodeReply(b *testing.B) {
	var e Encoder
	r := plainSample()
	for i := len(r.Ifaces); i < 8; i++ {
		r.Ifaces["eth"+string(rune('a'+i))] = Counters{RxBytes: 123456789, TxBytes: 987654321, RxPackets: 12345, TxPackets: 54321, Ifindex: int64(i + 2), SpeedMbps: 1000}
	}
	p := e.AppendReply(nil, r)
	for _, bc := range []struct {
		name   string
		decode func([]byte) error
	}{
		{"DecodeReply", func(p []byte) error { _, err := DecodeReply(p); return err }},
		{"encoding-json", func(p []byte) error { var r Reply; return json.Unmarshal(p, &r) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				if err := bc.decode(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
