package publisher

import "time"

// preciseBelow: the adaptive watch sleeps waits shorter than this on the
// kernel's high-resolution timer, not on a Go timer. The runtime waits for
// its timers in epoll_pwait, whose timeout is in whole milliseconds
// (runtime/netpoll_epoll.go): a probe planned 0.7 ms ahead wakes after a
// millisecond, one planned 1.5 ms ahead after two, so reads planned a
// millisecond apart around a refresh landed 1.5-2.5 ms apart, and so wide
// were the windows that pinned the refresh. The longer waits (between
// refreshes, 3 s when idle) keep the timer, which a cancelled context
// interrupts.
const preciseBelow = 20 * time.Millisecond
