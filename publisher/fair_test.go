package publisher

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRequesterKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ id, want string }{
		{"", ""},
		{"abc", ""},
		{"run1-17", "run1"},
		{"a-b-c-9", "a-b-c"},
		{"-5", ""},
		{"x-", "x"},
	}
	for _, tt := range tests {
		if got := RequesterKey(tt.id); got != tt.want {
			t.Errorf("RequesterKey(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestFairQueue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxKeys     int
		perKey      int
		push        []string
		wantDropped []string
		wantOrder   []string
	}{
		{
			name: "one key fifo", maxKeys: 4, perKey: 2,
			push:        []string{"a-1", "a-2", "a-3"},
			wantDropped: []string{"a-3"},
			wantOrder:   []string{"a-1", "a-2"},
		},
		{
			name: "flood key cannot go ahead of second key", maxKeys: 4, perKey: 2,
			push:        []string{"f-1", "f-2", "f-3", "f-4", "good-1", "f-5"},
			wantDropped: []string{"f-3", "f-4", "f-5"},
			wantOrder:   []string{"f-1", "good-1", "f-2"},
		},
		{
			name: "round robin over three keys", maxKeys: 4, perKey: 2,
			push:      []string{"a-1", "a-2", "b-1", "b-2", "c-1"},
			wantOrder: []string{"a-1", "b-1", "c-1", "a-2", "b-2"},
		},
		{
			name: "bounded keys", maxKeys: 2, perKey: 1,
			push:        []string{"a-1", "b-1", "c-1", "a-2"},
			wantDropped: []string{"c-1", "a-2"},
			wantOrder:   []string{"a-1", "b-1"},
		},
		{
			name: "ids without dash share a key", maxKeys: 4, perKey: 2,
			push:        []string{"", "x", "y", "k-1"},
			wantDropped: []string{"y"},
			wantOrder:   []string{"", "k-1", "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newFairQueue(tt.maxKeys, tt.perKey)
			var dropped, order []string
			for _, id := range tt.push {
				if !q.Push(id) {
					dropped = append(dropped, id)
				}
			}
			if got, want := q.Len(), len(tt.wantOrder); got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
			for {
				id, ok := q.Pop()
				if !ok {
					break
				}
				order = append(order, id)
			}
			if diff := cmp.Diff(tt.wantDropped, dropped); diff != "" {
				t.Errorf("dropped (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOrder, order); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
			// Drained: the key table is empty again, and reusable.
			if len(q.keys) != 0 || len(q.ring) != 0 {
				t.Errorf("after drain: %d keys, ring %d", len(q.keys), len(q.ring))
			}
		})
	}
}

func TestTokenBucket(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	type take struct {
		at       time.Duration // since t0
		wantOK   bool
		wantWait time.Duration
	}
	tests := []struct {
		name        string
		rate, burst int
		takes       []take
	}{
		{
			name: "burst then empty", rate: 10, burst: 2,
			takes: []take{{0, true, 0}, {0, true, 0}, {0, false, 100 * time.Millisecond}},
		},
		{
			name: "refills at rate", rate: 10, burst: 2,
			takes: []take{
				{0, true, 0}, {0, true, 0},
				{50 * time.Millisecond, false, 50 * time.Millisecond},
				{100 * time.Millisecond, true, 0},
				{100 * time.Millisecond, false, 100 * time.Millisecond},
			},
		},
		{
			name: "refill capped at burst", rate: 100, burst: 3,
			takes: []take{
				{time.Hour, true, 0}, {time.Hour, true, 0}, {time.Hour, true, 0},
				{time.Hour, false, 10 * time.Millisecond},
			},
		},
		{
			name: "clock going back earns nothing", rate: 1, burst: 1,
			takes: []take{{time.Second, true, 0}, {0, false, time.Second}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newTokenBucket(tt.rate, tt.burst, t0)
			for i, tk := range tt.takes {
				ok, wait := b.Take(t0.Add(tk.at))
				if ok != tk.wantOK || wait != tk.wantWait {
					t.Errorf("take %d at %v = %v, %v; want %v, %v", i, tk.at, ok, wait, tk.wantOK, tk.wantWait)
				}
			}
		})
	}
}

// TestFloodCannotStarve simulates 10 s on a fake clock: one requester pushes
// 10,000 requests/s, another one per second; the worker serves as the bucket
// allows. Every 1 Hz request must be served, each within two token intervals.
func TestFloodCannotStarve(t *testing.T) {
	t.Parallel()
	const rate, burst = 200, 10
	t0 := time.Unix(0, 0)
	q := newFairQueue(64, 2)
	b := newTokenBucket(rate, burst, t0)
	pushedAt := map[string]time.Time{}
	var served, floodServed int
	for step := range 100_000 { // 100 µs steps
		now := t0.Add(time.Duration(step) * 100 * time.Microsecond)
		q.Push(fmt.Sprintf("flood-%d", step))
		if step%10_000 == 0 {
			id := fmt.Sprintf("bridge-%d", step/10_000)
			if !q.Push(id) {
				t.Fatalf("%s dropped", id)
			}
			pushedAt[id] = now
		}
		if q.Len() == 0 {
			continue
		}
		if ok, _ := b.Take(now); !ok {
			continue
		}
		id, _ := q.Pop()
		if at, good := pushedAt[id]; good {
			if d := now.Sub(at); d > 2*time.Second/rate {
				t.Errorf("%s served after %v", id, d)
			}
			delete(pushedAt, id)
			served++
		} else {
			floodServed++
		}
	}
	if served != 10 || len(pushedAt) != 0 {
		t.Errorf("served %d of 10 good requests; unserved %v", served, pushedAt)
	}
	// The flood gets the rest of the budget and no more: the burst plus the
	// 1999 tokens earned by the last step at 9.9999 s, less the 10 good ones.
	if want := burst + 1999 - 10; floodServed != want {
		t.Errorf("flood served %d, want %d", floodServed, want)
	}
}
