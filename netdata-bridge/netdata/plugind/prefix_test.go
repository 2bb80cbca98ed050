package plugind

import (
	"strings"
	"testing"
	"time"
)

// TestTypeIDPrefix: a prefix and a suffix name the chart TypeID names
// for the whole id, and BeginSuffix writes what Begin writes for it.
func TestTypeIDPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, typ, id, suffix, want string
	}{
		{"plain", "ifstat_er-x", "eth0_", "net", "ifstat_er-x.eth0_net"},
		{"vlan", "ifstat", "eth0.10_", "raw_packets", "ifstat.eth0.10_raw_packets"},
		{"dot in type", "ifstat.er-x", "eth0_", "net", "ifstat_er-x.eth0_net"},
		{"hostile id", "ifstat", "a' b\n_", "net", "ifstat.a__b__net"},
		{"non-ASCII id", "ifstat", "💩0_", "net", "ifstat._0_net"},
		{"id cut inside a rune", "ifstat", "\xe2\x82", "_net", "ifstat.___net"},
		{"empty id", "ifstat", "", "net", "ifstat.net"},
		{"empty suffix", "ifstat", "eth0", "", "ifstat.eth0"},
		{"empty both", "ifstat", "", "", "ifstat._"},
		{"zero value", "", "", "net", "_.net"},
		{"id cut by the suffix", "t", strings.Repeat("i", MaxIDLen-4), "_net", "t." + strings.Repeat("i", MaxIDLen-4) + "_n"},
		{"id cut before the suffix", "t", strings.Repeat("i", 300), "_net", "t." + strings.Repeat("i", MaxIDLen-2)},
		{"long type", strings.Repeat("t", 300), strings.Repeat("i", 98) + "_", "net", strings.Repeat("t", 100) + "." + strings.Repeat("i", 98) + "_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := NewTypeIDPrefix(tt.typ, tt.id)
			if tt.name == "zero value" {
				p = TypeIDPrefix{}
			}
			got := p.TypeID(tt.suffix)
			if got != tt.want {
				t.Errorf("NewTypeIDPrefix(%q, %q).TypeID(%q) = %q, want %q", tt.typ, tt.id, tt.suffix, got, tt.want)
			}
			if whole := TypeID(tt.typ, tt.id+tt.suffix); got != whole {
				t.Errorf("NewTypeIDPrefix(%q, %q).TypeID(%q) = %q, want TypeID's %q", tt.typ, tt.id, tt.suffix, got, whole)
			}
			checkBeginSuffix(t, p, tt.typ, tt.id, tt.suffix)
		})
	}
}

// checkBeginSuffix compares BeginSuffix with Begin of the whole TypeID.
func checkBeginSuffix(t *testing.T, p TypeIDPrefix, typ, id, suffix string) {
	t.Helper()
	for _, since := range []time.Duration{0, time.Second + 3*time.Microsecond} {
		w, want := NewWriter(Features{}), NewWriter(Features{})
		w.BeginSuffix(p, suffix, since)
		want.Begin(TypeID(typ, id+suffix), since)
		if string(w.Bytes()) != string(want.Bytes()) {
			t.Errorf("BeginSuffix(NewTypeIDPrefix(%q, %q), %q, %v) wrote %q, Begin wrote %q", typ, id, suffix, since, w.Bytes(), want.Bytes())
		}
	}
}

// FuzzTypeIDPrefix: for any type and id prefix and any suffix that does
// not begin with a UTF-8 continuation byte (the chart suffixes are ASCII),
// the prefix names TypeID's chart.
func FuzzTypeIDPrefix(f *testing.F) {
	for _, s := range hostile {
		f.Add("ifstat", s, "_net")
		f.Add(s, "eth0", "_"+s)
	}
	f.Add("ifstat", "\xe2\x82", "_net")
	f.Add(strings.Repeat("t", 99), strings.Repeat("i", 99), "_raw_packets")
	f.Fuzz(func(t *testing.T, typ, id, suffix string) {
		if suffix != "" && 0x80 <= suffix[0] && suffix[0] < 0xc0 {
			t.Skip("suffix begins with a continuation byte")
		}
		p := NewTypeIDPrefix(typ, id)
		if got, want := p.TypeID(suffix), TypeID(typ, id+suffix); got != want {
			t.Fatalf("NewTypeIDPrefix(%q, %q).TypeID(%q) = %q, want TypeID's %q", typ, id, suffix, got, want)
		}
		checkBeginSuffix(t, p, typ, id, suffix)
	})
}
