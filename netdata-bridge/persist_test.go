package bridge

import (
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestSaveTurns: over StateInterval's worth of ticks every node's copy is
// saved exactly once, and no tick saves much more than its share, for
// intervals that do and do not divide StateInterval, and for the nodes of
// one static shard alone.
func TestSaveTurns(t *testing.T) {
	t.Parallel()
	nodes := make([]string, 5000)
	for i := range nodes {
		nodes[i] = "router-" + strconv.Itoa(i)
	}
	var shard0 []string
	for _, n := range nodes {
		if ShardOf(n, 3) == 0 {
			shard0 = append(shard0, n)
		}
	}
	tests := []struct {
		name          string
		interval, per time.Duration
		nodes         []string
		wantSlots     int
	}{
		{"1 s, 1 min", time.Second, time.Minute, nodes, 60},
		{"200 ms, 1 min", 200 * time.Millisecond, time.Minute, nodes, 300},
		{"7 s, 1 min", 7 * time.Second, time.Minute, nodes, 8},
		{"1 s, 1 s", time.Second, time.Second, nodes, 1},
		{"2 s, 1 s", 2 * time.Second, time.Second, nodes, 1},
		{"shard 0/3, 1 s, 1 min", time.Second, time.Minute, shard0, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &Bridge{cfg: Config{Interval: tt.interval, StateInterval: tt.per}}
			if got := b.saveSlots(); got != tt.wantSlots {
				t.Fatalf("saveSlots() = %d, want %d", got, tt.wantSlots)
			}
			saved := map[string]int{}
			most := 0
			at := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC).Add(3 * tt.interval)
			for i := range tt.wantSlots {
				in := b.saveTurn(at.Add(time.Duration(i) * tt.interval))
				n := 0
				for _, node := range tt.nodes {
					if in(node) {
						saved[node]++
						n++
					}
				}
				most = max(most, n)
			}
			for _, node := range tt.nodes {
				if saved[node] != 1 {
					t.Fatalf("%s saved %d times in %d ticks, want once", node, saved[node], tt.wantSlots)
				}
			}
			if share := len(tt.nodes) / tt.wantSlots; most > 2*share+10 {
				t.Errorf("a tick saves up to %d nodes, want about %d", most, share)
			}
		})
	}
}

// TestSnapshotOf: the snapshots of a partition of the nodes together are
// the whole snapshot.
func TestSnapshotOf(t *testing.T) {
	t.Parallel()
	s := newTestSampler()
	for i := range 20 {
		node := "n" + strconv.Itoa(i)
		s.Status(node, true)
		reqs, _ := s.Tick(t0, 0)
		for _, r := range reqs {
			if r.Node == node {
				if ns, why := s.Reply(node, reply(node, "run-"+strconv.FormatUint(s.seq, 10), 1e9, eth0(100, 50)), t0); ns == nil {
					t.Fatalf("reply of %s: %s", node, why)
				}
			}
		}
	}
	whole := s.Snapshot("b", t0)
	if len(whole.Nodes) != 20 {
		t.Fatalf("Snapshot has %d nodes, want 20", len(whole.Nodes))
	}
	var got []string
	for k := range 4 {
		part := s.SnapshotOf("b", t0, func(node string) bool { return SaveSlot(node, 4) == k })
		got = append(got, slices.Collect(maps.Keys(part.Nodes))...)
	}
	slices.Sort(got)
	if want := slices.Sorted(maps.Keys(whole.Nodes)); !slices.Equal(got, want) {
		t.Errorf("the parts hold %v, want each of %v once", got, want)
	}
}
