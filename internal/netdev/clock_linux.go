package netdev

import (
	"time"

	"golang.org/x/sys/unix"
)

// kernelClock returns the default Options.Clock. The monotonic stamp is
// CLOCK_BOOTTIME (which restarts only with a reboot, paired with the boot
// id; CLOCK_MONOTONIC on kernels before 2.6.39), read once by a system call
// and then advanced with Go's own monotonic clock, which the vDSO serves
// without a system call: golang.org/x/sys's ClockGettime is a real syscall,
// two per request were measurable on the agent's profile. The two clocks
// differ only by time spent in suspend after the agent started, which
// routers do not do. The wall stamp is time.Now, also from the vDSO.
//
// The kernel's clock is paired with the midpoint of two Go readings around
// the system call, so a run's stamps are off the kernel's by at most half
// that call, whichever side the scheduler delayed: spans across an agent
// restart on the same boot (which the bridge rates) stay exact.
func kernelClock() func() (int64, int64) {
	id := int32(unix.CLOCK_BOOTTIME)
	var ts unix.Timespec
	before := time.Now()
	if unix.ClockGettime(id, &ts) != nil {
		id = unix.CLOCK_MONOTONIC
		before = time.Now()
		_ = unix.ClockGettime(id, &ts)
	}
	start := before.Add(time.Since(before) / 2)
	base := ts.Nano()
	return func() (int64, int64) {
		now := time.Now()
		return base + int64(now.Sub(start)), now.UnixNano()
	}
}
