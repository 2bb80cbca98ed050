package publisher

import (
	"fmt"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// benchClock is an interface of a driver refreshing at phase + k·period,
// each refresh late by up to jitter (a hash of k), carrying a constant
// rate: cheap to ask, so that a benchmark of the watch measures the watch.
type benchClock struct {
	period, phase, jitter int64
	perNS                 uint64 // bytes per µs
	seed                  uint64
	k                     *int64 // the refresh index last asked for
}

func (c benchClock) late(k int64) int64 {
	if c.jitter == 0 {
		return 0
	}
	h := (uint64(k) ^ c.seed) * 0x9e3779b97f4a7c15
	return int64((h >> 33) % uint64(c.jitter+1))
}

func (c benchClock) visible(t int64) wire.Counters {
	// From the index asked for last: a division here (64-bit, in
	// software on mipsle) would count as the watch's.
	k := *c.k
	for c.phase+(k+1)*c.period <= t {
		k++
	}
	for k > 0 && c.phase+k*c.period > t {
		k--
	}
	*c.k = k
	r := c.phase + k*c.period + c.late(k)
	if r > t {
		k--
		r = c.phase + k*c.period + c.late(k)
	}
	b := uint64(r/1000) * c.perNS
	return wire.Counters{RxBytes: b, RxPackets: b / 1000, TxBytes: b / 20, TxPackets: b / 20000}
}

// BenchmarkWatchClocks is the adaptive watch's own work (observe, the
// fits, nextRead, and annotate for a request every second) on a router of
// 11 interfaces: n of them carry 100 Mbit/s from drivers on n refresh
// clocks (0.5 s, phases spread over the period, every other one up to
// 4 ms late), the rest idle. Reads cost nothing here; one op is one
// second of the router's clock, after a 60 s warm-up, so ns/op over 1e9
// is the share of a core the watch's logic takes on this machine (under
// qemu-mipsel, count instructions per op: scripts/bench-insn.sh's plugin).
func BenchmarkWatchClocks(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("clocks=%d", n), func(b *testing.B) { benchWatchClocks(b, n) })
	}
}

func benchWatchClocks(b *testing.B, clocks int) {
	const ifaces, p = 11, int64(500 * time.Millisecond)
	names := make([]string, ifaces)
	cs := make([]benchClock, ifaces)
	for i := range ifaces {
		names[i] = fmt.Sprintf("eth%d", i)
		if i < 8 {
			k := int64(i % clocks)
			cs[i] = benchClock{period: p, phase: p*k/int64(clocks) + 3e6, perNS: 12, seed: uint64(k + 1), k: new(int64)}
			if k%2 == 1 {
				cs[i].jitter = 4e6
			}
		}
	}
	// One map for every read, as netdev.Reader keeps.
	m := make(map[string]wire.Counters, ifaces)
	visible := func(t int64) map[string]wire.Counters {
		for i, c := range cs {
			var v wire.Counters
			if c.period > 0 {
				v = c.visible(t)
			}
			v.Ifindex = int64(i + 2)
			m[names[i]] = v
		}
		return m
	}
	w := newWatcher(true)
	reads := 0
	// A request every second, the watch's reads between them.
	l := simLoop{w: w, nextWatch: simStart, nextReq: simStart + int64(time.Second)/2 + 7e6, reqEvery: int64(time.Second),
		read: simReader(w, nil, visible), reply: func(int64, map[string]wire.Counters) {}, watched: func(int64, int64) { reads++ }}
	run := l.runTo
	end := simStart + int64(60*time.Second)
	run(end)
	for name, st := range w.ifaces {
		if cs[st.c.Ifindex-2].period > 0 && st.auto.class != classPeriodic {
			b.Fatalf("%s not fitted after the warm-up (class %d)", name, st.auto.class)
		}
	}
	reads = 0
	b.ResetTimer()
	for range b.N {
		end += int64(time.Second)
		run(end)
	}
	b.ReportMetric(float64(reads)/float64(b.N), "reads/op")
}
