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
// (see stateSettle); past wait, only while copies are still coming in,
// up to limit. It belongs to the bridge's loop goroutine.
type restore struct {
	file, retained  *state.Snapshot
	timer           *time.Timer
	settle          time.Duration
	deadline, limit time.Time
	// lastCopy is when the loop last took a copy: while it takes them,
	// the broker is there and the marker is behind them.
	lastCopy        time.Time
	settled, marked bool
	done            bool
}

func newRestore(file *state.Snapshot, wait, limit, settle time.Duration) *restore {
	now := time.Now()
	return &restore{file: file, timer: time.NewTimer(wait), settle: settle, deadline: now.Add(wait), limit: now.Add(max(limit, wait))}
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
// came, or the deadline passed and no copy came within settle (or the
// limit passed). Otherwise C fires again when that may be so.
//
// A bridge that ended the wait at the deadline while copies were still
// coming lost the totals of the nodes whose copies came after: 1,097 of
// 3,000 under the race detector, whose loop took 10 s for 1,903
// (TestRestoreWaitsForEveryCopy, 2026-12-07). A slow host is the same.
func (r *restore) due(now time.Time) bool {
	r.settled = true
	switch {
	case r.marked:
		return true
	case now.Before(r.deadline):
		r.timer.Reset(r.deadline.Sub(now))
		return false
	case r.coming(now) && now.Before(r.limit):
		r.timer.Reset(min(r.lastCopy.Add(r.settle).Sub(now), r.limit.Sub(now)))
		return false
	}
	return true
}

// coming reports whether copies were still coming in at now: one came
// within settle.
func (r *restore) coming(now time.Time) bool {
	return !r.lastCopy.IsZero() && now.Sub(r.lastCopy) < r.settle
}

// mark notes the marker, and reports whether the wait is over: settle
// had passed.
func (r *restore) mark() bool {
	r.marked = true
	return r.settled
}

// add merges one node's retained copy, taken at now; ignored once done.
func (r *restore) add(s *state.Snapshot, now time.Time) {
	if !r.done {
		r.retained = state.Merge(r.retained, s)
		r.lastCopy = now
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
