package publisher

import (
	"time"

	"golang.org/x/sys/unix"
)

// preciseSleeper sleeps the watch's probe waits on CLOCK_MONOTONIC, to
// absolute instants it derives from Go's monotonic clock (the vDSO's
// CLOCK_MONOTONIC, read without a system call) and one reading of the
// kernel's, taken when it is made: a ClockGettime per sleep cost 100 µs
// of emulated CPU per wait under qemu-mipsel (BenchmarkWatchSleep).
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
// see, and during which the goroutine would hold its processor): per
// 0.7 ms wait, BenchmarkWatchSleep puts the raw call at 40 µs of CPU and
// this one at 59-67 on amd64, but under qemu-mipsel this one at 107-120
// µs and the raw one at 240-262, and the whole agent on the busy
// emulated driver took as much CPU with either on amd64 (9.9-10.7 ms/s
// this one, 10.3-10.6 the raw one, alternated runs of
// scripts/bench-watch.sh) and under qemu-mipsel 30.9 and 31.4 ms/s this
// one, 42.1 and 38.1 the raw one, 34.5 and 37.1 on Go timers (with
// 1,303-1,361 watch reads against 965-1,084).
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
