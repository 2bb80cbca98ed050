package bridge

import (
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

func TestRestore(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	snap := func(node string, saved time.Duration) *state.Snapshot {
		return &state.Snapshot{Bridge: "nas", Saved: at.Add(saved), Nodes: map[string]state.NodeState{node: {Saved: at.Add(saved)}}}
	}
	tests := []struct {
		name      string
		file      *state.Snapshot
		retained  []*state.Snapshot
		wantNodes map[string]time.Time // node → the Saved that wins
	}{
		{"nothing persisted", nil, nil, nil},
		{"file only", snap("er-x", 0), nil, map[string]time.Time{"er-x": at}},
		{"retained only", nil, []*state.Snapshot{snap("er-x", 0), snap("rpi", time.Second)},
			map[string]time.Time{"er-x": at, "rpi": at.Add(time.Second)}},
		{"the newer copy of a node wins", snap("er-x", time.Minute), []*state.Snapshot{snap("er-x", 0), snap("rpi", 0)},
			map[string]time.Time{"er-x": at.Add(time.Minute), "rpi": at}},
		{"a newer retained copy beats the file", snap("er-x", 0), []*state.Snapshot{snap("er-x", time.Hour)},
			map[string]time.Time{"er-x": at.Add(time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRestore(tt.file, time.Hour, time.Hour, time.Hour)
			defer r.stop()
			for _, s := range tt.retained {
				r.add(s, time.Now())
			}
			merged, first := r.finish()
			if !first {
				t.Fatal("first finish reported first=false")
			}
			if tt.wantNodes == nil {
				if merged != nil {
					t.Fatalf("merged = %+v, want nil", merged)
				}
			} else if len(merged.Nodes) != len(tt.wantNodes) {
				t.Fatalf("merged %d nodes, want %d", len(merged.Nodes), len(tt.wantNodes))
			}
			for node, saved := range tt.wantNodes {
				if got := merged.Nodes[node].Saved; !got.Equal(saved) {
					t.Errorf("node %s: Saved %v, want %v", node, got, saved)
				}
			}
			// Done is done: late copies and a second finish change nothing.
			r.add(snap("late", 0), time.Now())
			if again, first := r.finish(); first || again != nil {
				t.Errorf("second finish = %v, %v; want nil, false", again, first)
			}
		})
	}
}

// TestRestoreWaitsForMarker: the wait ends when both the settle time and
// the marker are past, or at the deadline without the marker.
func TestRestoreWaitsForMarker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps string // s: settle fired; m: marker; d: the deadline fired
		want  []bool // what each step reports
	}{
		{"marker after settle", "sm", []bool{false, true}},
		{"marker before settle", "ms", []bool{false, true}},
		{"no marker: the deadline", "sd", []bool{false, true}},
		{"the deadline before the subscription", "d", []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRestore(nil, time.Hour, time.Hour, time.Hour)
			defer r.stop()
			start := time.Now()
			for i, step := range tt.steps {
				var got bool
				switch step {
				case 's':
					got = r.due(start)
				case 'm':
					got = r.mark()
				case 'd':
					got = r.due(start.Add(2 * time.Hour))
				}
				if got != tt.want[i] {
					t.Errorf("step %d (%c) reported %v, want %v", i, step, got, tt.want[i])
				}
			}
		})
	}
}

// TestRestoreWaitsWhileCopiesCome: past the deadline without the marker,
// the wait goes on while the loop is still taking copies (a slow host:
// under the race detector the loop took 10 s for 1,903 of 3,000), until
// none came for settle, or the limit.
func TestRestoreWaitsWhileCopiesCome(t *testing.T) {
	t.Parallel()
	const wait, limit, settle = 10 * time.Second, 2 * time.Minute, 1500 * time.Millisecond
	type step struct {
		at   time.Duration // after the start
		what byte          // c: a copy taken; m: the marker; d: C fired (due)
		want bool          // what m or d reports
	}
	tests := []struct {
		name       string
		steps      []step
		wantComing bool // at the last step
	}{
		{"copies ended before the deadline", []step{{time.Second, 'c', false}, {11 * time.Second, 'd', true}}, false},
		{"no copy at all", []step{{11 * time.Second, 'd', true}}, false},
		{"still coming at the deadline", []step{
			{9900 * time.Millisecond, 'c', false}, {10500 * time.Millisecond, 'd', false},
			{11 * time.Second, 'c', false}, {12 * time.Second, 'd', false},
			{13 * time.Second, 'd', true},
		}, false},
		{"the marker behind them ends it", []step{
			{10 * time.Second, 'c', false}, {10200 * time.Millisecond, 'd', false},
			{10300 * time.Millisecond, 'm', true},
		}, true},
		{"the limit ends it while they come", []step{
			{119 * time.Second, 'c', false}, {119500 * time.Millisecond, 'd', false},
			{120500 * time.Millisecond, 'c', false}, {121 * time.Second, 'd', true},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRestore(nil, wait, limit, settle)
			defer r.stop()
			start := time.Now()
			var last time.Time
			for i, st := range tt.steps {
				last = start.Add(st.at)
				switch st.what {
				case 'c':
					r.add(&state.Snapshot{Nodes: map[string]state.NodeState{"er-x": {}}}, last)
				case 'm':
					if got := r.mark(); got != st.want {
						t.Errorf("step %d: mark() = %v, want %v", i, got, st.want)
					}
				case 'd':
					if got := r.due(last); got != st.want {
						t.Errorf("step %d: due(+%v) = %v, want %v", i, st.at, got, st.want)
					}
				}
			}
			if got := r.coming(last); got != tt.wantComing {
				t.Errorf("coming(+%v) = %v, want %v", last.Sub(start), got, tt.wantComing)
			}
		})
	}
}
