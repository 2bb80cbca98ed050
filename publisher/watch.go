package publisher

import (
	"context"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// MinWatch is the shortest IFSTAT_WATCH: finer reads cost a router CPU
// more than the precision they buy (a driver's refresh instant is pinned
// tighter by fitting many windows on the bridge; see
// internal/refresh).
const MinWatch = 10 * time.Millisecond

// watchState is what the watch remembers about one interface.
type watchState struct {
	c wire.Counters // the values seen last (watch fields zero)
	// first is the first read that saw c; 0 until a change was seen.
	first int64
	// prev is the last read that saw the values before c; 0 if unknown.
	prev int64
	// last is the latest read that saw c.
	last int64
	gen  uint64
}

// watcher records, per interface, when its counters changed, from every
// read the agent makes (watch ticks and requests). It is not safe for
// concurrent use; the agent guards it with the reader.
type watcher struct {
	ifaces map[string]*watchState
	gen    uint64
}

func newWatcher() *watcher { return &watcher{ifaces: map[string]*watchState{}} }

// observe notes a read taken at mono. An interface seen for the first
// time (or again after vanishing) has no known change yet.
func (w *watcher) observe(mono int64, ifaces map[string]wire.Counters) {
	w.gen++
	for name, c := range ifaces {
		c.ChangedNS, c.UnchangedNS = 0, 0
		st := w.ifaces[name]
		switch {
		case st == nil:
			w.ifaces[name] = &watchState{c: c, last: mono, gen: w.gen}
			continue
		case mono <= st.last:
			// A read stamped no later than the last one cannot order the
			// change; keep what we have.
		case c == st.c:
			st.last = mono
		default:
			st.prev, st.first, st.last, st.c = st.last, mono, mono, c
		}
		st.gen = w.gen
	}
	if len(w.ifaces) != len(ifaces) {
		for name, st := range w.ifaces {
			if st.gen != w.gen {
				delete(w.ifaces, name)
			}
		}
	}
}

// annotate sets ChangedNS and UnchangedNS of each interface in ifaces
// (the read just observed) from what the watch knows.
func (w *watcher) annotate(ifaces map[string]wire.Counters) {
	for name, c := range ifaces {
		st := w.ifaces[name]
		if st == nil || st.first == 0 {
			continue
		}
		c.ChangedNS, c.UnchangedNS = st.first, st.prev
		ifaces[name] = c
	}
}

// watchLoop reads the counters every cfg.Watch until ctx is done, so that
// replies can say when each interface's counters last changed.
func (a *Agent) watchLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.Watch)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.watchOnce()
		}
	}
}

// watchOnce is one tick of the watch: a read that only updates the
// change times.
func (a *Agent) watchOnce() {
	a.readMu.Lock()
	defer a.readMu.Unlock()
	snap, err := a.reader.Read()
	if err != nil {
		a.readErrors.Add(1)
		a.lim.Warn(a.log.WithError(err), "read", "reading counters for the watch")
		return
	}
	a.watch.observe(snap.MonoNS, snap.Ifaces)
}
