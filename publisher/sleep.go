package publisher

import "time"

// preciseBelow: the adaptive watch sleeps the waits between its probes
// around a predicted refresh (probeStep apart, so about a millisecond,
// or two over the CPU budget: see probing) on the kernel's
// high-resolution timer, not on a Go timer. The runtime
// waits for its timers in epoll_pwait, whose timeout is in whole
// milliseconds (runtime/netpoll_epoll.go): a probe planned 0.7 ms ahead
// woke after a millisecond, one planned 1.5 ms ahead after two, so
// probes planned a millisecond apart landed 1.4-2.5 ms apart, and so
// wide were the windows that pinned each refresh.
//
// Only these short waits: every longer one (to the next band, up to
// idleSleep) stays on a Go timer, which a cancelled context interrupts.
// A first version (c7b8338) slept every wait under 20 ms this way and
// was reverted when the agent on the emulated busy driver took 59-69
// ms/s of CPU in three of five runs of scripts/bench-watch.sh;
// alternated with the agent of eb03057 on 2026-12-06 it took 9.9-10.7
// ms/s against 10.3-10.6, so those runs were noise, not its cost. On Go
// timers the agent takes more (see preciseSleeper.sleep).
const preciseBelow = 3 * time.Millisecond
