package netdev

import (
	"fmt"
	"path"
)

// Selector decides which interfaces a Reader reports. The zero value and a
// nil *Selector select every interface but "lo".
type Selector struct {
	patterns []string // path.Match globs or plain names; empty = all but lo
}

// NewSelector returns a Selector for names or path.Match globs ("eth*",
// "ppp0", "wg0", "switch0.*"). An interface is selected if any pattern
// matches its whole name. No patterns selects every interface but "lo";
// given patterns mean what they say, so "*" includes "lo". An empty or
// malformed pattern is an error naming it.
func NewSelector(patterns []string) (*Selector, error) {
	s := &Selector{patterns: make([]string, 0, len(patterns))}
	for _, p := range patterns {
		if p == "" {
			return nil, fmt.Errorf("interface pattern %q: empty", p)
		}
		// Matching against "" still scans the whole pattern, so a bad one
		// fails here, at start-up, rather than never matching later.
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("interface pattern %q: %w", p, err)
		}
		s.patterns = append(s.patterns, p)
	}
	return s, nil
}

// Match reports whether name is selected.
func (s *Selector) Match(name string) bool {
	if s == nil || len(s.patterns) == 0 {
		return name != "lo"
	}
	for _, p := range s.patterns {
		// Patterns were checked in NewSelector, so the error is always nil.
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
