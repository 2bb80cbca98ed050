package netdev

import (
	"errors"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSelector(t *testing.T) {
	t.Parallel()
	names := []string{"lo", "eth0", "eth0.10", "eth1", "pppoe-wan", "ppp0", "wg0", "br-lan", "wlan0-1", "switch0.10", "eth0:1", "💩0"}
	tests := []struct {
		name     string
		patterns []string
		want     []string
	}{
		{"nil is all but lo", nil, names[1:]},
		{"empty is all but lo", []string{}, names[1:]},
		{"plain names", []string{"ppp0", "wg0"}, []string{"ppp0", "wg0"}},
		{"glob", []string{"eth*"}, []string{"eth0", "eth0.10", "eth1", "eth0:1"}},
		{"dot is literal", []string{"eth0.*"}, []string{"eth0.10"}},
		{"question mark", []string{"eth?"}, []string{"eth0", "eth1"}},
		{"class", []string{"eth[01]", "wlan0-[0-9]"}, []string{"eth0", "eth1", "wlan0-1"}},
		{"star includes lo", []string{"*"}, names},
		{"lo on request", []string{"lo"}, []string{"lo"}},
		{"non-ASCII", []string{"💩*"}, []string{"💩0"}},
		{"whole name only", []string{"eth"}, nil},
		{"escaped", []string{`eth0\:1`}, []string{"eth0:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSelector(tt.patterns)
			if err != nil {
				t.Fatalf("NewSelector(%q) error %v", tt.patterns, err)
			}
			var got []string
			for _, n := range names {
				if s.Match(n) {
					got = append(got, n)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NewSelector(%q) matches (-want +got):\n%s", tt.patterns, diff)
			}
		})
	}
}

func TestSelectorNil(t *testing.T) {
	t.Parallel()
	var s *Selector
	if s.Match("lo") || !s.Match("eth0") {
		t.Errorf("nil Selector: Match(lo) = %v, Match(eth0) = %v, want false, true", s.Match("lo"), s.Match("eth0"))
	}
}

func TestSelectorBadPattern(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"[", "eth[", `eth\`, "eth[a-", ""} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			_, err := NewSelector([]string{"eth0", p})
			if err == nil {
				t.Fatalf("NewSelector(%q) = nil error, want one", p)
			}
			if !strings.Contains(err.Error(), strconv.Quote(p)) {
				t.Errorf("NewSelector(%q) error %q does not name the pattern", p, err)
			}
			if p != "" && !errors.Is(err, path.ErrBadPattern) {
				t.Errorf("NewSelector(%q) error %v, want path.ErrBadPattern", p, err)
			}
		})
	}
}
