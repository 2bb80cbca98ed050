package netdev

import "golang.org/x/sys/unix"

// kernelClock returns the default Options.Clock: CLOCK_BOOTTIME, which keeps
// counting through suspend and restarts only with a reboot (paired with the
// boot id), falling back to CLOCK_MONOTONIC on kernels before 2.6.39.
func kernelClock() func() (int64, int64) {
	mono := int32(unix.CLOCK_BOOTTIME)
	var ts unix.Timespec
	if unix.ClockGettime(mono, &ts) != nil {
		mono = unix.CLOCK_MONOTONIC
	}
	return func() (int64, int64) {
		var m, w unix.Timespec
		// Both clocks exist on every kernel Go supports; an error would
		// leave zeros, which the wire rejects as mono_ns <= 0.
		_ = unix.ClockGettime(mono, &m)
		_ = unix.ClockGettime(unix.CLOCK_REALTIME, &w)
		return m.Nano(), w.Nano()
	}
}
