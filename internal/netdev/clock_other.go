//go:build !linux

package netdev

import "golang.org/x/sys/unix"

// kernelClock returns the default Options.Clock where CLOCK_BOOTTIME does
// not exist: CLOCK_MONOTONIC and CLOCK_REALTIME. It lets the package build
// for development on other systems; the agent runs on Linux.
func kernelClock() func() (int64, int64) {
	return func() (int64, int64) {
		var m, w unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &m)
		_ = unix.ClockGettime(unix.CLOCK_REALTIME, &w)
		return m.Nano(), w.Nano()
	}
}
