package publisher

import (
	"time"

	"golang.org/x/sys/unix"
)

// sleepPrecise blocks the calling goroutine, and its thread, for d (at
// most preciseBelow, so that a cancelled context is seen soon after).
func sleepPrecise(d time.Duration) {
	if d <= 0 {
		return
	}
	ts := unix.NsecToTimespec(int64(d))
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, 0, &ts, &ts) == unix.EINTR {
		// A signal (the runtime preempts with SIGURG): sleep the rest.
	}
}
