package haout

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// TestAdoptCopy: a fleet bridge that takes a router over with a state
// copy whose key matches the configs it would send leaves the retained
// configs in place; anything else sends them, and nothing in a copy can
// stop a router from being configured on a key of different configs.
func TestAdoptCopy(t *testing.T) {
	t.Parallel()
	names := []string{"eth0", "wan"}
	// The first bridge configures the router and records the key.
	first, firstRec := fleetOutput(t, "nas")
	a := newAgent("er-x", erxInfo)
	feed(first, a, 0, allAt(names, 0), nil)
	if n := configCount(firstRec.take(), "er-x"); n == 0 {
		t.Fatal("the first bridge sent no configs")
	}
	key := first.CopyOut("er-x")
	if key == nil {
		t.Fatal("CopyOut: nil after the configs were sent")
	}
	if first.CopyOut("nobody") != nil {
		t.Error("CopyOut of an unknown router is not nil")
	}

	tests := []struct {
		name  string
		self  string
		fleet bool
		copy  map[string]json.RawMessage
		ifs   []string
		sends bool
	}{
		{"same configs: adopted", "nas2", true, map[string]json.RawMessage{copyKey: key}, names, false},
		{"an interface more: sent", "nas2", true, map[string]json.RawMessage{copyKey: key}, append([]string{"wg0"}, names...), true},
		{"no key in the copy: sent", "nas2", true, map[string]json.RawMessage{"fits": json.RawMessage(`{}`)}, names, true},
		{"malformed key: sent", "nas2", true, map[string]json.RawMessage{copyKey: json.RawMessage(`{"x":1}`)}, names, true},
		{"key too long: sent", "nas2", true, map[string]json.RawMessage{copyKey: json.RawMessage(`"1` + strings.Repeat("0", 16) + `"`)}, names, true},
		{"a single bridge names itself: sent", "nas2", false, map[string]json.RawMessage{copyKey: key}, names, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, rec := fleetOutput(t, tt.self)
			if !tt.fleet {
				o := testOptions()
				o.BridgeID = tt.self
				var err error
				if out, err = New(o, rec, 0, nil); err != nil {
					t.Fatal(err)
				}
			}
			b := newAgent("er-x", erxInfo)
			feed(out, b, 0, allAt(tt.ifs, 0), tt.copy)
			got := rec.take()
			if n := configCount(got, "er-x"); (n > 0) != tt.sends {
				t.Fatalf("%d configs sent, want sent %v", n, tt.sends)
			}
			if tt.fleet && stateCount(got, "er-x") == 0 {
				t.Error("no state published for the router")
			}
			if !tt.sends && string(out.CopyOut("er-x")) != string(key) {
				t.Errorf("CopyOut after adopting: %s, want %s", out.CopyOut("er-x"), key)
			}
			// Configured now: a later sample sends nothing more.
			feed(out, b, 1, allAt(tt.ifs, 1), nil)
			if n := configCount(rec.take(), "er-x"); n != 0 {
				t.Errorf("%d configs sent on the next tick", n)
			}
		})
	}

	// A reconnect forgets an adoption not yet used: the broker may be
	// another that lost its retained configs.
	out, rec := fleetOutput(t, "nas2")
	b := newAgent("er-x", erxInfo)
	ns := b.reply(0, 1, allAt(names, 0))
	ns.Copy = map[string]json.RawMessage{copyKey: key}
	out.Emit(ns, tick(0))
	out.Connected(tick(0))
	out.Tick(tick(1), tick(1))
	if n := configCount(rec.take(), "er-x"); n == 0 {
		t.Error("adopted across a reconnect: no configs sent")
	}
}

func fleetOutput(t *testing.T, self string) (*Output, *recorder) {
	t.Helper()
	o := testOptions()
	o.BridgeID, o.Fleet, o.Interval = self, true, time.Second
	rec := &recorder{}
	out, err := New(o, rec, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out, rec
}

// feed emits tick k's sample, with the copy cp, and ticks once after it.
func feed(out *Output, a *agent, k int, vals map[string]rate.Values, cp map[string]json.RawMessage) {
	ns := a.reply(k, int64(k)*1e9+1, vals)
	ns.Copy = cp
	out.Emit(ns, tick(k))
	out.Tick(tick(k+1), tick(k+1))
}

// configCount and stateCount count node's retained configs and states in msgs.
func configCount(msgs []msg, node string) int {
	n := 0
	for _, m := range msgs {
		if m.Retained && nodeOf(m) == node && len(m.Payload) > 0 {
			n++
		}
	}
	return n
}

func stateCount(msgs []msg, node string) int {
	n := 0
	for _, m := range msgs {
		if !m.Retained && strings.HasSuffix(m.Topic, "/state") && nodeOf(m) == node {
			n++
		}
	}
	return n
}

// TestAcceptAllMatchesOneByOne: a router whose interfaces come all in one
// sample (checked together, acceptAll) ends with the same interfaces as
// one whose interfaces come one sample at a time (accept alone), good
// names, invalid ones and pairs whose ids or slugs meet alike.
func TestAcceptAllMatchesOneByOne(t *testing.T) {
	t.Parallel()
	sets := [][]string{
		awkward,
		{"eth0", "eth0.100", "eth0_100", "Eth0", "ETH0"},
		{"wan", "wan-peak", "wan_peak", "lan"},
		{"eth0", "a/b", strings.Repeat("x", 300), "eth1"},
	}
	for _, names := range sets {
		together, _ := fleetOutput(t, "nas")
		a := newAgent("r1", erxInfo)
		feed(together, a, 0, allAt(names, 0), nil)

		alone, _ := fleetOutput(t, "nas")
		b := newAgent("r1", erxInfo)
		for k := range names {
			feed(alone, b, k, allAt(names[:k+1], k), nil)
		}
		got, want := together.names(together.nodes["r1"]), alone.names(alone.nodes["r1"])
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("%q: together %q, one by one %q", names, got, want)
		}
	}
}
