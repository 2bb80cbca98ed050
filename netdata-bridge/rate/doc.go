// Package rate turns consecutive counter readings of one interface of one
// agent into deltas, exact rates, a status per interval and 64-bit totals
// that never decrease. It is pure: time comes in as the agent's MonoNS, and
// it neither logs nor touches the network. Matching replies to agents,
// choosing what to publish and storing checkpoints are the bridge's job; a
// Tracker only remembers what it needs for the next Update, and hands that
// over as a Checkpoint (Tracker.Snapshot) so that a restarted bridge
// continues exactly (Tracker.Restore), booking the traffic of its downtime.
//
// # Rules, in the order Update applies them
//
//  1. First: the first sample of a Tracker is the baseline. No rate, totals
//     unchanged.
//  2. Identity: a different non-empty boot id is a reboot (Reset); a sample
//     carrying the boot id the Tracker just left is a late reply of the old
//     boot (OutOfOrder, dropped). Within one boot, MonoNS <= the last
//     accepted MonoNS is a duplicate or reordered reply (OutOfOrder, state
//     untouched). When either boot id is empty, a MonoNS going back by more
//     than Config.ReorderWindowNS (default 5 s) is taken as a reboot.
//     A different non-zero ifindex means the interface was re-created
//     (Reset). An agent restart alone changes neither: counters continue and
//     the interval is an ordinary one.
//  3. Each counter against the baseline (the last read at which the
//     counters changed): new >= old is a plain delta. new < old is a 32-bit
//     wrap candidate, delta 2^32-old+new, only if old < 2^32 and no value
//     >= 2^32 was seen on this counter since the last reset (otherwise it is
//     a 64-bit counter, and the decrease a Reset).
//  4. Wrap plausibility, with dt+RefreshNS as the window (the delta between
//     two reads dt apart can hold up to one driver refresh period more than
//     dt of traffic; default RefreshNS 1 s):
//     bytes <= 1.1 x link speed x window, or MaxBitsPerSec x 1.1 x window
//     when the speed is unknown (the faster of this and the previous known
//     speed is used); packets and errors/drops <= that byte bound /
//     MinPacketBytes (20). A wrap of a byte or packet counter also needs its
//     partner of the same direction to agree: between MinPacketBytes (20)
//     and MaxPacketBytes (72090 = 65536 x 1.1, GSO) bytes per packet. Every
//     counter is judged before any wrap is believed: if any counter fails,
//     the whole interface is a Reset. A real reset drops all counters at
//     once, a real wrap leaves the rest rising; so a byte counter near 4e9
//     that falls to a small value while packets keep rising is a Reset
//     (bytes per packet absurd), where a tool that only looks at the one
//     counter (Netdata's 10 %-of-2^32 rule) books a wrap.
//  5. Rises: any plain delta above MaxBitsPerSec x 1.1 x window (bytes) or
//     that / MinPacketBytes (other counters) is Implausible: no rate,
//     nothing booked, the baseline moves to the sample. Rises are never held
//     to the link speed: virtual interfaces report speeds they exceed (tun
//     says 10 Mbit/s). Default MaxBitsPerSec: 10 Gbit/s; raise it for
//     faster links.
//  6. Stale: rx/tx bytes and packets all unchanged, unless the last OK or
//     Gap interval showed the interface idle, and less than StaleLimitNS
//     (default 3 s) since the last change: the driver has not refreshed its
//     statistics yet. No rate, nothing booked, and the baseline (values and
//     MonoNS of the last change) is kept, so the next change is divided by
//     the true span since the last one. Unchanged for StaleLimitNS or
//     longer, or unchanged after an interval that measured no traffic, is a
//     genuine zero: OK with a zero delta. After First, Reset and
//     Implausible nothing is known yet, so stillness counts as stale: an
//     idle interface reports its first zero StaleLimitNS after start,
//     rather than a sampler faster than the driver reporting a false zero
//     and then a spike. A negative StaleLimitNS turns the rule off.
//     Sample.Live (at least two predicted driver refreshes since the last
//     change, see below) makes stillness a genuine zero at once. An unsure
//     read (Sample.Unsure: it lies too close to a predicted refresh to
//     tell which side it fell on) is held like a stale one whatever the
//     counters did, for up to StaleLimitNS (at least 3 s), with the Reason
//     set: the next read spans both intervals.
//  7. Gap: DtNS > MaxGapNS (when set) gives no rate, but the delta is booked.
//  8. Otherwise OK: Delta over DtNS is the rate (PerSecond).
//  9. Change times (watch mode): when the sample and the baseline both
//     carry the instant their values appeared (Sample.ChangedNS, the
//     midpoint of (UnchangedNS, ChangedNS]), the counters moved, and the
//     last interval was not a measured idle one, DtNS of an OK or Gap
//     interval is the span between the two changes and Result.ChangeSpan
//     is set: the delta is exactly the traffic between those two driver
//     refreshes, however many the reads straddled. Every other rule still
//     judges by the read span. After an idle interval the read span is
//     used: a refresh that changes nothing is invisible, so the previous
//     change may lie long before the refresh that began the traffic.
//     Predicted windows (Sample.Predicted: the bridge's refresh.Lock,
//     IFSTAT_EXACT) bracket the fitted driver refresh the values are
//     current as of, moved or not, so when the sample and the baseline
//     are both predicted the change span holds after an idle interval
//     too. A predicted window from a lock fitted anew (Sample.Rebase)
//     gives a Gap: the interval began on another clock, or on none.
//
// # What a Reset books
//
// A Reset has no rate, but its Delta is booked, because part of the traffic
// is proven. After a reboot or a re-created interface the counters started
// from zero after the previous read, so the new values are traffic since
// then: Delta is the new values. After a decrease within one boot and
// interface, a counter that went down restarted from zero (its new value is
// proven) and one that rose either did not restart (new-old) or did and
// reached new (so at least new-old is proven); each is booked only when it
// is within the rise bound of rule 5, else 0. Traffic between the previous
// read and the reset is unknown and not booked, so totals may under-count a
// reset interval but never over-count or spike. The Status flags it.
//
// All counter arithmetic is in uint64 (values above 2^63 work); totals
// saturate at 2^64-1; PerSecond and MulDiv use math/bits and saturate.
//
// What this package leaves to others: rates are exact only as far as the
// driver refreshes are. A driver that refreshes every 0.9765 s read every
// 1 s puts two refreshes into about one interval in 42, which then reads
// 1.95 x the true rate; no rule over read times can see that. With change
// times (rule 9, the agent's IFSTAT_WATCH) it cannot happen: simulated at
// 0.9765 s and 100 Mbit/s, sampled every 1 s or 0.25 s, the error per
// interval stays within about ±g/P (g the watch period): measured -2.35 %
// .. +3.17 % at 50 ms and -0.51 % .. +0.83 % at 10 ms (TestSimulatedWatch),
// and -0.42 % .. +0.20 % at 50 ms (-0.03 % .. +0.05 % at 10 ms) once
// package refresh narrows each window to the fitted refresh instant
// (TestSimulatedWatchRefined). Fitting the
// refresh period, narrowing windows and warning about sampling faster than
// the driver refreshes belong to package refresh and the bridge.
//
// Without watch mode the bridge can fit the driver's refresh clock from the
// reads alone (refresh.Lock, IFSTAT_EXACT=on, experimental) and pass each
// read the predicted refresh as a window (Sample.Predicted), an unsure read
// as Sample.Unsure, and Sample.Live, Sample.Rebase; the rules above then
// divide each delta by the span between the predicted refreshes. The
// scenario matrix (matrix_test.go: periods 0.5 to 3 s, phases, jitter,
// missed refreshes, period changes, idle and bursts, rate steps, a reboot,
// sampling at 1 s and 0.2 s) prints the read span and the lock side by
// side with go test -v -run Matrix; docs/accuracy.md has the tables.
//
// # Sub-second sampling
//
// Summarize folds the results of one output period (a second of 0.25 s
// samples, say) into the average rate over the span they cover and the
// peak rate of a single interval (a microburst), and says when the refresh
// period is too coarse for the sampling interval: the peak then covers a
// whole refresh period, not one interval.
package rate
