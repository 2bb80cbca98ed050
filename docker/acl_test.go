package docker

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Access is what a client does with a topic: read (subscribe and receive)
// or write (publish, including its will).
type Access int

const (
	Read  Access = 1
	Write Access = 2
	// deny is Mosquitto 2's explicit "deny" access: it beats any grant.
	deny Access = 4
)

// aclRule is one "topic" or "pattern" line of a Mosquitto ACL file.
type aclRule struct {
	access  Access
	topic   string
	pattern bool // %u and %c are substituted
}

// ACL is a parsed Mosquitto acl_file, evaluated as mosquitto 2.0's
// default ACL check does: "topic" lines before the first "user" line are
// for anonymous clients, after it for that user; "pattern" lines apply to
// every client wherever they appear; an explicit deny that matches wins;
// otherwise access is granted when any applicable rule grants it.
type ACL struct {
	anonymous []aclRule
	users     map[string][]aclRule
	patterns  []aclRule
}

// ParseACL reads an ACL file. Unknown keywords and malformed lines are
// errors, as Mosquitto refuses to start on them.
func ParseACL(r io.Reader) (*ACL, error) {
	a := &ACL{users: make(map[string][]aclRule)}
	var user *string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		kw, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch kw {
		case "user":
			if rest == "" {
				return nil, fmt.Errorf("line %d: user without a name", n)
			}
			u := rest
			user = &u
			if _, ok := a.users[u]; !ok {
				a.users[u] = nil
			}
		case "topic", "pattern":
			rule := aclRule{access: Read | Write, pattern: kw == "pattern"}
			if first, topic, ok := strings.Cut(rest, " "); ok {
				switch first {
				case "read":
					rule.access, rest = Read, topic
				case "write":
					rule.access, rest = Write, topic
				case "readwrite":
					rule.access, rest = Read|Write, topic
				case "deny":
					rule.access, rest = deny, topic
				}
			}
			rule.topic = strings.TrimSpace(rest)
			if rule.topic == "" {
				return nil, fmt.Errorf("line %d: %s without a topic", n, kw)
			}
			switch {
			case rule.pattern:
				a.patterns = append(a.patterns, rule)
			case user == nil:
				a.anonymous = append(a.anonymous, rule)
			default:
				a.users[*user] = append(a.users[*user], rule)
			}
		default:
			return nil, fmt.Errorf("line %d: unknown keyword %q", n, kw)
		}
	}
	return a, sc.Err()
}

// Allowed reports whether the client with username (empty: anonymous) and
// clientID may perform access on the concrete topic.
func (a *ACL) Allowed(username, clientID, topic string, access Access) bool {
	var rules []aclRule
	if username == "" {
		rules = a.anonymous
	} else {
		rules = a.users[username]
	}
	granted := false
	check := func(filter string, r aclRule) bool {
		if !topicMatches(filter, topic) {
			return true
		}
		if r.access == deny {
			return false
		}
		if r.access&access != 0 {
			granted = true
		}
		return true
	}
	for _, r := range rules {
		if !check(r.topic, r) {
			return false
		}
	}
	for _, r := range a.patterns {
		filter, ok := substitute(r.topic, username, clientID)
		if !ok {
			continue
		}
		if !check(filter, r) {
			return false
		}
	}
	return granted
}

// substitute replaces %u and %c in a pattern. Like Mosquitto 2, it refuses
// (ok=false) when the pattern needs a value that is empty or contains a
// wildcard or a '/', which would widen the pattern.
func substitute(pattern, username, clientID string) (string, bool) {
	for _, s := range []struct{ token, value string }{{"%u", username}, {"%c", clientID}} {
		if !strings.Contains(pattern, s.token) {
			continue
		}
		if s.value == "" || strings.ContainsAny(s.value, "+#/") {
			return "", false
		}
		pattern = strings.ReplaceAll(pattern, s.token, s.value)
	}
	return pattern, true
}

// topicMatches reports whether the concrete topic matches the filter,
// with MQTT's + (one level) and # (this level and all below, last only).
// Topics starting with $ are not matched by a leading wildcard.
func topicMatches(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	f := strings.Split(filter, "/")
	t := strings.Split(topic, "/")
	for i, level := range f {
		if level == "#" {
			return i == len(f)-1
		}
		if i >= len(t) {
			return false
		}
		if level != "+" && level != t[i] {
			return false
		}
	}
	return len(f) == len(t)
}

func TestTopicMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+", "a", false},
		{"a/+/c", "a//c", true},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"#", "a/b", true},
		{"#", "$SYS/broker", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/broker", true},
		{"a/#/c", "a/b/c", false},
		{"ifstat/+/reply", "ifstat/er-x/reply", true},
		{"ifstat/bridge/#", "ifstat/bridge/b1/state/er-x", true},
	}
	for _, tt := range tests {
		t.Run(tt.filter+" "+tt.topic, func(t *testing.T) {
			t.Parallel()
			if got := topicMatches(tt.filter, tt.topic); got != tt.want {
				t.Errorf("topicMatches(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
			}
		})
	}
}

// TestACLSemantics checks the evaluator on a small ACL covering each rule
// kind.
func TestACLSemantics(t *testing.T) {
	t.Parallel()
	const file = `# comment
topic read public/#
pattern write dev/%u/out
pattern read dev/%c/in
pattern readwrite both/%u/%c

user alice
topic private/alice
topic read shared/+
topic deny shared/secret
user bob
topic write shared/bob
`
	a, err := ParseACL(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, client, topic string
		access              Access
		want                bool
	}{
		{"", "anon", "public/x", Read, true},
		{"", "anon", "public/x", Write, false},
		{"alice", "c1", "public/x", Read, false}, // anonymous lines are not for users
		{"alice", "c1", "private/alice", Read, true},
		{"alice", "c1", "private/alice", Write, true}, // no access word: readwrite
		{"alice", "c1", "shared/any", Read, true},
		{"alice", "c1", "shared/any", Write, false},
		{"alice", "c1", "shared/secret", Read, false}, // deny beats the grant
		{"bob", "c2", "shared/bob", Write, true},
		{"bob", "c2", "shared/any", Read, false},
		{"bob", "c2", "private/alice", Read, false},
		{"alice", "c1", "dev/alice/out", Write, true},
		{"alice", "c1", "dev/alice/out", Read, false},
		{"alice", "c1", "dev/bob/out", Write, false},
		{"bob", "c1", "dev/c1/in", Read, true}, // %c is the client id
		{"bob", "bob", "dev/c1/in", Read, false},
		{"bob", "c9", "both/bob/c9", Write, true},
		{"bob", "c9", "both/bob/c8", Write, false},
		{"a+b", "c", "dev/a+b/out", Write, false}, // wildcard in a name: no substitution
		{"a/b", "c", "dev/a/b/out", Write, false}, // slash in a name: no substitution
		{"", "c", "dev//out", Write, false},       // anonymous: %u never matches
		{"bob", "c2", "read", Read, false},
		{"carol", "c", "public/x", Read, false}, // unknown user: patterns only
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %s %d", tt.user, tt.client, tt.topic, tt.access), func(t *testing.T) {
			t.Parallel()
			if got := a.Allowed(tt.user, tt.client, tt.topic, tt.access); got != tt.want {
				t.Errorf("Allowed(%q, %q, %q, %d) = %v, want %v", tt.user, tt.client, tt.topic, tt.access, got, tt.want)
			}
		})
	}
}

func TestParseACLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"unknown keyword", "topix read a\n"},
		{"user without name", "user\n"},
		{"topic without topic", "topic\n"},
		{"pattern without topic", "pattern \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseACL(strings.NewReader(tt.in)); err == nil {
				t.Errorf("ParseACL(%q) = nil error, want an error", tt.in)
			}
		})
	}
	// The empty file is valid and grants nothing.
	a, err := ParseACL(strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(false, a.Allowed("x", "x", "a", Read)); diff != "" {
		t.Errorf("empty ACL (-want +got):\n%s", diff)
	}
}
