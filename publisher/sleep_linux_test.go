package publisher

import (
	"runtime"
	"sync/atomic"
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
			cpu0, _ := processCPU()
			for b.Loop() {
				t0 := time.Now()
				bc.sleep(d)
				late += time.Since(t0) - d
			}
			b.ReportMetric(float64(late.Microseconds())/float64(b.N), "late-µs/op")
			cpu1, _ := processCPU()
			b.ReportMetric(float64(cpu1-cpu0)/1e3/float64(b.N), "cpu-µs/op")
		})
	}
}

// TestSleepPrecise: a sleep lasts at least what was asked, also when
// signals interrupt it: clock_nanosleep is never restarted after a
// signal handler (signal(7)), and the runtime's preemption signal
// (SIGURG) is sent here to the sleeping thread itself, every 50 µs, so
// that each sleep is interrupted and has to sleep on to its instant.
func TestSleepPrecise(t *testing.T) {
	p := newPreciseSleeper()
	if p.base == 0 {
		t.Fatal("CLOCK_MONOTONIC unreadable")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, tid := unix.Getpid(), unix.Gettid()
	done := make(chan struct{})
	var sent atomic.Int64
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
					sent.Add(1)
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	defer close(done)
	for _, d := range []time.Duration{-time.Millisecond, 0, 100 * time.Microsecond, 700 * time.Microsecond, preciseBelow} {
		for range 20 {
			t0 := time.Now()
			p.sleep(d)
			if got := time.Since(t0); got < d {
				t.Fatalf("sleep(%v) returned after %v (%d signals sent)", d, got, sent.Load())
			}
		}
	}
	if sent.Load() == 0 {
		t.Fatal("no signal reached the sleeping thread: the test proves nothing")
	}
}
