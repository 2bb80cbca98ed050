package publisher

import (
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkWatchSleep measures a probe's wait of 0.7 ms: how late it
// ends (late-µs/op) and the process's CPU time per wait (cpu-µs/op, the
// runtime's own threads included), on a Go timer, in the ordinary system
// call preciseSleeper makes, and in a raw one (tried, and not taken: see
// preciseSleeper.sleep).
func BenchmarkWatchSleep(b *testing.B) {
	const d = 700 * time.Microsecond
	for _, bc := range []struct {
		name  string
		sleep func(time.Duration)
	}{
		{"go-timer", func(d time.Duration) { <-time.After(d) }},
		{"syscall", newPreciseSleeper().sleep},
		{"raw", func(d time.Duration) {
			ts := unix.NsecToTimespec(int64(d))
			for {
				_, _, errno := syscall.RawSyscall6(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, 0,
					uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&ts)), 0, 0)
				if errno != unix.EINTR {
					return
				}
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var late time.Duration
			cpu0 := processCPU()
			for b.Loop() {
				t0 := time.Now()
				bc.sleep(d)
				late += time.Since(t0) - d
			}
			b.ReportMetric(float64(late.Microseconds())/float64(b.N), "late-µs/op")
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestSleepPrecise: a sleep lasts at least what was asked, also when the
// runtime's signals interrupt it (the GC preempts goroutines with
// SIGURG, and the raw call then sleeps the rest).
func TestSleepPrecise(t *testing.T) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				runtime.GC()
			}
		}
	}()
	defer close(done)
	p := newPreciseSleeper()
	if p.base == 0 {
		t.Fatal("CLOCK_MONOTONIC unreadable")
	}
	for _, d := range []time.Duration{-time.Millisecond, 0, 100 * time.Microsecond, 700 * time.Microsecond, preciseBelow} {
		for range 20 {
			t0 := time.Now()
			p.sleep(d)
			if got := time.Since(t0); got < d {
				t.Fatalf("sleep(%v) returned after %v", d, got)
			}
		}
	}
}
