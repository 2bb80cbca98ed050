package bridge

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

// TestOwnerRendezvous: every node has exactly one owner among the members,
// the shares are even, and a member that leaves or joins moves only its
// own share: the other nodes keep their bridge (and their trackers).
func TestOwnerRendezvous(t *testing.T) {
	t.Parallel()
	const n = 3000
	three := []string{"b0", "b1", "b2"}
	before := make(map[string]string, n)
	counts := map[string]int{}
	for i := range n {
		node := "router-" + strconv.Itoa(i)
		o := Owner(node, three)
		before[node] = o
		counts[o]++
		// The order the members were seen in must not matter.
		if o2 := Owner(node, []string{"b2", "b0", "b1"}); o2 != o {
			t.Fatalf("Owner(%s) depends on the members' order: %s, %s", node, o, o2)
		}
	}
	for _, m := range three {
		if c := counts[m]; c < 900 || c > 1100 {
			t.Errorf("%s owns %d of %d nodes: the weights spread badly", m, c, n)
		}
	}
	tests := []struct {
		name    string
		members []string
		// may reports whether a node's owner may change from old to now.
		may func(old, now string) bool
	}{
		{"b1 leaves", []string{"b0", "b2"}, func(old, now string) bool { return old == "b1" }},
		{"b3 joins", []string{"b0", "b1", "b2", "b3"}, func(old, now string) bool { return now == "b3" }},
	}
	for _, tc := range tests {
		moved := 0
		for node, old := range before {
			now := Owner(node, tc.members)
			if now == old {
				continue
			}
			moved++
			if !tc.may(old, now) {
				t.Errorf("%s: %s moved from %s to %s", tc.name, node, old, now)
			}
		}
		if tc.name == "b3 joins" && (moved < 600 || moved > 900) {
			t.Errorf("b3 joins: %d nodes moved to it, want about %d", moved, n/4)
		}
		if tc.name == "b1 leaves" && moved != counts["b1"] {
			t.Errorf("b1 leaves: %d nodes moved, want b1's %d", moved, counts["b1"])
		}
	}
	if o := Owner("x", nil); o != "" {
		t.Errorf("Owner with no members = %q, want none", o)
	}
}

// fleetNode is a node that members a and b give to a.
func fleetNode(t *testing.T) string {
	for i := range 100 {
		if node := fmt.Sprintf("n%d", i); Owner(node, []string{"a", "b"}) == "a" {
			return node
		}
	}
	t.Fatal("no node owned by a")
	return ""
}

func newFleetSampler(self string) *Sampler {
	return NewSampler(SamplerConfig{Interval: time.Second, RunID: "run-" + self, ObsoleteAfter: time.Minute,
		Rate: rate.Config{MaxGapNS: int64(10 * time.Second), MaxBitsPerSec: 1e10}, Auto: true, Self: self})
}

// ask runs one tick of s and answers its request to node with rx bytes; it
// returns the node's rx total after the reply, or -1 if s did not ask.
func ask(t *testing.T, s *Sampler, node string, at time.Time, rx uint64) int64 {
	t.Helper()
	reqs, _ := s.Tick(at, 0)
	for _, r := range reqs {
		if r.Node != node {
			continue
		}
		id := string(r.Payload[len(`{"id":"`) : len(r.Payload)-2])
		mono := at.Sub(t0).Nanoseconds() + 1e9
		ns, why := s.Reply(node, reply(node, id, mono, eth0(rx, rx)), at)
		if ns == nil {
			t.Fatalf("%s's reply dropped: %s", s.cfg.Self, why)
		}
		return int64(ns.Ifaces[0].Result.Total[rate.RxBytes])
	}
	return -1
}

// TestFleetHandover follows one node through a fleet: a samples it, dies
// (no handover message, only its last periodic copy), b takes over from
// that copy, a comes back as a new process and gets the node back from
// b's handover copy. The total is the counters' growth since the first
// read, to the byte, at every step.
func TestFleetHandover(t *testing.T) {
	t.Parallel()
	node := fleetNode(t)
	a, b := newFleetSampler("a"), newFleetSampler("b")
	for _, s := range []*Sampler{a, b} {
		s.Status(node, true)
		s.SetMembers([]string{"a", "b"}, t0)
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	const first = 1000
	steps := []struct {
		s  *Sampler
		rx uint64
	}{{a, first}, {a, 3000}}
	for i, st := range steps {
		if got := ask(t, b, node, at(i), 0); got != -1 {
			t.Fatalf("b asked %s, which a owns", node)
		}
		if got, want := ask(t, st.s, node, at(i), st.rx), int64(st.rx-first); got != want {
			t.Errorf("a: total %d, want %d", got, want)
		}
	}
	// a's periodic copy reaches b, then a samples once more and dies.
	snap := a.Snapshot("a", at(2))
	b.Offer(node, snap.Nodes[node])
	ask(t, a, node, at(3), 6000)
	if moved, handover := b.SetMembers([]string{"b"}, at(4)); moved != 1 || handover != nil {
		t.Fatalf("b.SetMembers(b) = %d moved, handover %v; want 1, none", moved, handover)
	}
	if got, want := ask(t, b, node, at(5), 10_000), int64(10_000-first); got != want {
		t.Errorf("b after the takeover: total %d, want %d (a's last copy plus the gap's traffic)", got, want)
	}
	// a restarts: it restores the fleet's copies, b hands the node back.
	moved, handover := b.SetMembers([]string{"a", "b"}, at(6))
	if moved != 1 || handover == nil {
		t.Fatalf("b.SetMembers(a, b) = %d moved, handover %v; want 1 and b's state", moved, handover)
	}
	if got := ask(t, b, node, at(7), 0); got != -1 {
		t.Errorf("b still asks %s after handing it over", node)
	}
	if _, why := b.Reply(node, reply(node, "run-b-1", 1, eth0(1, 1)), at(7)); why != DropUnexpected {
		t.Errorf("b took a reply of a node it handed over: %q", why)
	}
	a2 := newFleetSampler("a")
	a2.Restore(&state.Snapshot{Bridge: "x", Saved: at(6), Nodes: map[string]state.NodeState{node: snap.Nodes[node]}})
	a2.Offer("ghost", handover.Nodes[node]) // never announced: not kept
	a2.Status(node, true)
	a2.Offer(node, handover.Nodes[node]) // newer than the restored copy
	if _, ok := a2.restored["ghost"]; ok {
		t.Error("a copy of a node that never announced itself was kept")
	}
	if got, want := a2.restored[node].Ifaces["eth0"].Totals, handover.Nodes[node].Ifaces["eth0"].Totals; got != want {
		t.Errorf("a kept totals %v, want the newer handover copy's %v", got, want)
	}
	a2.SetMembers([]string{"a", "b"}, at(7))
	if got, want := ask(t, a2, node, at(8), 15_000), int64(15_000-first); got != want {
		t.Errorf("a after the restart: total %d, want %d", got, want)
	}
	// b's stale copy of the node no longer counts, and b writes no copy of it.
	b.Offer(node, snap.Nodes[node])
	if _, ok := b.Snapshot("b", at(9)).Nodes[node]; ok {
		t.Errorf("b's snapshot holds %s, which a samples", node)
	}
	if _, ok := a2.Snapshot("a", at(9)).Nodes[node]; !ok {
		t.Errorf("a's snapshot lacks %s", node)
	}
}

// TestOfferKeepsNewest: an older copy never replaces a newer one, and the
// owner's own trackers are never replaced by a copy.
func TestOfferKeepsNewest(t *testing.T) {
	t.Parallel()
	node := fleetNode(t)
	a := newFleetSampler("a")
	a.Status(node, true)
	cp := func(saved time.Time, rx uint64) state.NodeState {
		return state.NodeState{Saved: saved, Seq: 1, Ifaces: map[string]rate.Checkpoint{"eth0": {Totals: rate.Values{rx}}}}
	}
	a.Offer(node, cp(t0.Add(2*time.Second), 200))
	a.Offer(node, cp(t0.Add(time.Second), 100))
	if got := a.restored[node].Ifaces["eth0"].Totals[rate.RxBytes]; got != 200 {
		t.Errorf("kept total %d, want the newer copy's 200", got)
	}
	a.SetMembers([]string{"a"}, t0)
	before := ask(t, a, node, t0.Add(3*time.Second), 5000)
	a.Offer(node, cp(t0.Add(time.Hour), 999))
	if got := ask(t, a, node, t0.Add(4*time.Second), 6000); got != before+1000 {
		t.Errorf("a copy replaced the owner's tracker: total %d, want %d", got, before+1000)
	}
}

// TestPeerCountedOut drives an auto bridge's beat handling on a fake
// clock: a peer is counted out only when its silence is long on the clock
// and this bridge has heard silentBeats of its own beats since; a bridge
// whose own beats are held up with the peer's (a busy loop, a slow broker)
// counts nobody out.
func TestPeerCountedOut(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	type step struct {
		at   time.Duration // after t0
		from string        // whose beat arrives; "" for a tick
	}
	tests := []struct {
		name  string
		steps []step
		want  []string // members after the last step
	}{
		{"peer beats every tick", []step{
			{0, "peer"}, {0, "self"}, {time.Second, "peer"}, {time.Second, "self"}, {2 * time.Second, "peer"}, {2 * time.Second, "self"}, {3 * time.Second, ""},
		}, []string{"peer", "self"}},
		{"peer silent, own beats come back", []step{
			{0, "peer"}, {0, "self"}, {time.Second, "self"}, {2 * time.Second, "self"}, {3 * time.Second, ""},
		}, []string{"self"}},
		{"one own beat since: not yet", []step{
			{0, "self"}, {0, "peer"}, {time.Second, "self"}, {3 * time.Second, ""},
		}, []string{"peer", "self"}},
		{"own beats held up too: a stalled loop", []step{
			{0, "peer"}, {0, "self"}, {6 * time.Second, ""},
		}, []string{"peer", "self"}},
		{"own beats back in a burst, the peer's right behind", []step{
			{0, "peer"}, {0, "self"}, {5 * time.Second, "self"}, {5 * time.Second, "peer"}, {5 * time.Second, "self"}, {5 * time.Second, "peer"}, {5 * time.Second, ""},
		}, []string{"peer", "self"}},
		{"counted out, then back", []step{
			{0, "peer"}, {0, "self"}, {time.Second, "self"}, {2 * time.Second, "self"}, {3 * time.Second, ""}, {3 * time.Second, "peer"},
		}, []string{"peer", "self"}},
		{"own beats only, quickly: not silent on the clock", []step{
			{0, "peer"}, {0, "self"}, {100 * time.Millisecond, "self"}, {200 * time.Millisecond, "self"}, {300 * time.Millisecond, "self"}, {time.Second, ""},
		}, []string{"peer", "self"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var now time.Time
			l, _ := logtest.NewNullLogger()
			b := &Bridge{
				cfg:     Config{Interval: time.Second, BridgeID: "self", Shard: Shard{Auto: true}},
				log:     logrus.NewEntry(l),
				sampler: newFleetSampler("self"),
				peers:   map[string]peer{},
				now:     func() time.Time { return now },
			}
			b.ready.Store(true)
			b.peerMessage(nil, message{peer: "peer", kind: "status", payload: []byte("online"), at: t0})
			b.peerMessage(nil, message{peer: "peer", kind: "shard", payload: []byte(ShardAuto), at: t0})
			for _, s := range tt.steps {
				now = t0.Add(s.at)
				if s.from == "" {
					b.updateMembers(nil)
					continue
				}
				b.peerMessage(nil, message{peer: s.from, kind: "beat", at: now})
			}
			if !slices.Equal(b.members, tt.want) {
				t.Errorf("members %v, want %v", b.members, tt.want)
			}
		})
	}
}

// TestGainedNodes: the nodes a change of the fleet gave this bridge, whose
// copies it writes early.
func TestGainedNodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		before, after, want []string
	}{
		{nil, []string{"a", "b"}, []string{"a", "b"}},
		{[]string{"a", "b"}, []string{"a", "b"}, nil},
		{[]string{"a", "c"}, []string{"a", "b", "c", "d"}, []string{"b", "d"}},
		{[]string{"a", "b", "c"}, []string{"b"}, nil},
	}
	for _, tt := range tests {
		if got := gainedNodes(tt.before, tt.after); !slices.Equal(got, tt.want) {
			t.Errorf("gainedNodes(%v, %v) = %v, want %v", tt.before, tt.after, got, tt.want)
		}
	}
}

// TestSampleCarriesCopy: the first reply after a copy was taken in
// (Offer, Restore) carries the copy's Extra to the outputs, once.
func TestSampleCarriesCopy(t *testing.T) {
	t.Parallel()
	node := fleetNode(t)
	extra := map[string]json.RawMessage{"ha_configs": json.RawMessage(`"1f"`)}
	cp := state.NodeState{Saved: t0, Seq: 1, Ifaces: map[string]rate.Checkpoint{}, Extra: extra}
	for _, how := range []string{"offer", "restore"} {
		s := newFleetSampler("a")
		s.Status(node, true)
		if how == "offer" {
			s.Offer(node, cp)
		} else {
			s.Restore(&state.Snapshot{Bridge: "x", Saved: t0, Nodes: map[string]state.NodeState{node: cp}})
		}
		s.SetMembers([]string{"a"}, t0)
		for i, want := range []string{`"1f"`, ""} {
			at := t0.Add(time.Duration(i+1) * time.Second)
			reqs, _ := s.Tick(at, 0)
			if len(reqs) != 1 {
				t.Fatalf("%s: %d requests, want 1", how, len(reqs))
			}
			id := string(reqs[0].Payload[len(`{"id":"`) : len(reqs[0].Payload)-2])
			ns, why := s.Reply(node, reply(node, id, int64(i+1)*1e9, eth0(100, 100)), at)
			if ns == nil {
				t.Fatalf("%s: reply dropped: %s", how, why)
			}
			if got := string(ns.Copy["ha_configs"]); got != want {
				t.Errorf("%s, reply %d: Copy %q, want %q", how, i+1, got, want)
			}
		}
	}
}
