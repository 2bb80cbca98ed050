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
// is done when the bridge's marker comes back behind the copies (see
// stateWait), or stateWait after the start, whichever comes first. It
// belongs to the bridge's loop goroutine.
type restore struct {
	file, retained *state.Snapshot
	timer          *time.Timer
	done           bool
}

func newRestore(file *state.Snapshot, wait time.Duration) *restore {
	return &restore{file: file, timer: time.NewTimer(wait)}
}

// C fires when waiting longer is pointless.
func (r *restore) C() <-chan time.Time { return r.timer.C }

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
