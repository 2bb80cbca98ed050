package publisher

import "time"

// preciseBelow: the adaptive watch sleeps the waits between its probes
// around a predicted refresh (probeStep apart, so about a millisecond)
// on the kernel's high-resolution timer, not on a Go timer. The runtime
// waits for its timers in epoll_pwait, whose timeout is in whole
// milliseconds (runtime/netpoll_epoll.go): a probe planned 0.7 ms ahead
// woke after a millisecond, one planned 1.5 ms ahead after two, so
// probes planned a millisecond apart landed 1.4-2.5 ms apart, and so
// wide were the windows that pinned each refresh.
//
// Only these short waits: every longer one (to the next band, up to
// idleSleep) stays on a Go timer, which a cancelled context interrupts.
// A first version (c7b8338) slept every wait under 20 ms in an ordinary
// system call and was reverted when the agent on the emulated busy
// driver took 59-69 ms/s of CPU in three of five runs of
// scripts/bench-watch.sh; alternated with this one on 2026-12-06 it
// took 9.9-10.7 ms/s against 10.3-10.6, so those runs were noise, not
// its cost. This one is the cheaper of the two per wait
// (BenchmarkWatchSleep), and on a Go timer the agent took 13.4-15.0
// ms/s in runs alternated with this one's 11.9-13.7.
const preciseBelow = 2 * time.Millisecond
