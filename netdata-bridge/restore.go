package bridge

import (
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/state"
)

// restore collects the persisted state a bridge starts from: its own file,
// then the retained copies on the broker, which arrive one message per
// node after the subscription. Sampling must not start before they are in
// (a sample would start totals from zero, and the next save would
// overwrite good totals), nor wait for a broker that is away. So restore
// is done settle after the subscription once the bridge's marker came
// back behind the copies, or wait after the start, whichever comes first
// (see stateSettle). It belongs to the bridge's loop goroutine.
type restore struct {
	file, retained  *state.Snapshot
	timer           *time.Timer
	settle          time.Duration
	deadline        time.Time
	settled, marked bool
	done            bool
}

func newRestore(file *state.Snapshot, wait, settle time.Duration) *restore {
	return &restore{file: file, timer: time.NewTimer(wait), settle: settle, deadline: time.Now().Add(wait)}
}

// C fires when the wait may be over: call due.
func (r *restore) C() <-chan time.Time { return r.timer.C }

// subscribed notes that the retained copies are on their way: from now,
// waiting settle and for the marker is enough.
func (r *restore) subscribed() {
	if !r.done {
		r.timer.Reset(r.settle)
	}
}

// due reports, when C fired at now, whether the wait is over: the marker
// came, or the deadline passed. Otherwise C fires again at the deadline.
func (r *restore) due(now time.Time) bool {
	r.settled = true
	if r.marked || !now.Before(r.deadline) {
		return true
	}
	r.timer.Reset(r.deadline.Sub(now))
	return false
}

// mark notes the marker, and reports whether the wait is over: settle
// had passed.
func (r *restore) mark() bool {
	r.marked = true
	return r.settled
}

// add merges one node's retained copy; ignored once done.
func (r *restore) add(s *state.Snapshot) {
	if !r.done {
		r.retained = state.Merge(r.retained, s)
	}
}

// finish ends the wait. It returns the merged state (nil if none) and
// first=true only the first time.
func (r *restore) finish() (merged *state.Snapshot, first bool) {
	if r.done {
		return nil, false
	}
	r.done = true
	r.timer.Stop()
	merged = state.Merge(r.file, r.retained)
	r.file, r.retained = nil, nil
	return merged, true
}

func (r *restore) stop() { r.timer.Stop() }
