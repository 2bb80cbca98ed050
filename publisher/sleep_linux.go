package publisher

import (
	"time"

	"golang.org/x/sys/unix"
)

// preciseSleeper sleeps the watch's probe waits on CLOCK_MONOTONIC, to
// absolute instants it derives from Go's monotonic clock (the vDSO's
// CLOCK_MONOTONIC, read without a system call) and one reading of the
// kernel's, taken when it is made; x/sys's ClockGettime is a real system
// call, which netdev's clock avoids per read for the same reason.
type preciseSleeper struct {
	base  int64     // CLOCK_MONOTONIC at start, in ns; 0 if unreadable
	start time.Time // Go's reading paired with base
}

func newPreciseSleeper() preciseSleeper {
	var ts unix.Timespec
	before := time.Now()
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return preciseSleeper{}
	}
	return preciseSleeper{base: ts.Nano(), start: before.Add(time.Since(before) / 2)}
}

// sleep sleeps for d (at most preciseBelow) and wakes within about
// 0.1 ms, at an absolute instant, so that a signal (the runtime
// preempts with SIGURG) only interrupts it, and it sleeps on.
//
// An ordinary system call, not a raw one (which the runtime does not
// see, and during which the goroutine would hold its processor). Per
// 0.7 ms wait, BenchmarkWatchSleep puts the raw call at 28-41 µs of CPU
// and this one at 53-67 on amd64, but under qemu-mipsel this one at
// 107-120 µs and the raw one at 240-262. The whole agent on the busy
// emulated driver (scripts/bench-watch.sh's busy auto run, alternated
// builds, 2026-12-06): under qemu-mipsel 30.6 and 33.1 ms/s with this
// one, 42.1 and 38.1 with the raw one, 36.9 and 37.8 on Go timers; on
// amd64 10.6, 9.7 and 10.4 ms/s with this one, 12.2, 11.9 and 11.2 on
// Go timers, which skip more probes (1,211-1,231 watch reads against
// 1,396-1,487).
func (p preciseSleeper) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	if p.base == 0 {
		time.Sleep(d)
		return
	}
	ts := unix.NsecToTimespec(p.base + int64(time.Since(p.start)) + int64(min(d, preciseBelow)))
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
	}
}
