// Package tariff splits traffic among named tariffs by time of day and day
// of week, and adds it up per billing cycle. It is pure: every instant comes
// in as an argument, it never calls time.Now, logs, or touches files or the
// network. Reading IFSTAT_* variables, keeping the state on disk and in
// retained MQTT messages, and publishing sensors are the bridge's job; the
// byte deltas it feeds in come from netdata-bridge/rate, which already left
// out what the counters cannot prove (a reset interval contributes only
// what the counters show after the reset).
//
// # Schedule syntax (IFSTAT_TARIFFS)
//
//	schedule = tariff { ";" tariff }
//	tariff   = name "=" ( "*" | window { "," window } )
//	window   = days | [ days " " ] HH:MM "-" HH:MM
//	days     = Day | Day "-" Day          Day: Mon Tue Wed Thu Fri Sat Sun
//
// Examples:
//
//	happy=00:00-07:00;normal=*
//	peak=Mon-Fri 08:00-20:00;offpeak=*
//	night=22:00-06:00;weekend=Sat-Sun;day=*
//	peak=Mon-Fri 07:00-22:00;offpeak=Mon-Fri 22:00-07:00,Sat-Sun
//
// Names are 1 to 32 characters of a-z, 0-9, _ and -; they become Netdata
// dimension ids and Home Assistant object ids. A window without days
// applies every day; days without times mean whole days. Times are HH:MM
// with two digits each, from 00:00 to 24:00 (24:00 only as an end; 7:5,
// 24:01 and 25:00 are errors). A window whose end is before its start
// crosses midnight: Mon-Fri 22:00-06:00 runs from each of those days at
// 22:00 to 06:00 the next morning (Friday's night ends Saturday 06:00). A
// day range may wrap: Fri-Mon is Fri, Sat, Sun, Mon. A start equal to its
// end is an error (00:00-24:00 is a whole day). Spaces around ; , and = are
// allowed, a trailing ; is ignored, day names ignore case.
//
// At most one tariff is the default "*": it covers every minute no other
// tariff does. Without a default the windows must cover the whole week. Two
// tariffs may not share a minute (one tariff's windows may overlap each
// other); a default that never applies, duplicate and empty names are
// errors. Every error is a *config.Error for IFSTAT_TARIFFS with a one-line
// reason naming the tariff and, for overlaps and gaps, the first minute
// concerned, e.g.
//
//	IFSTAT_TARIFFS: "happy=00:00-07:00": no tariff covers Mon 07:00 (add a default such as normal=*)
//
// # Time zone (IFSTAT_TARIFF_TZ) and daylight saving time
//
// Times are on the wall clock of one zone, by default the system's
// (time.Local); LoadZone reads an IANA name, or a fixed offset from UTC
// written ±HH:MM (+05:30, -03:00) for a meter whose clock never changes.
// An offset has whole minutes: RFC 3339, in which the totals' times are
// stored and shown, has no seconds in offsets. The wall clock decides, so a
// day of 23 or 25 hours gets its tariffs by the clock on the wall, and a
// rule's hours stay the same local hours across the change. Two cases need
// a rule, and both follow from one: a tariff starting at wall time W starts
// at the first instant the clock shows W or later, and the tariff never
// goes back.
//
//   - Spring forward (Berlin 02:00 -> 03:00): a change at 02:30, which
//     does not exist that day, happens at the end of the gap, 03:00 CEST,
//     together with the change at 03:00 if there is one.
//   - Fall back (Berlin 03:00 CEST -> 02:00 CET): a change at 02:30 happens
//     at the first 02:30 (CEST). During the repeated hour the tariff in force
//     just before the clock was set back stays in force; changes inside the
//     hour do not repeat. A tariff 00:00-03:00 thus lasts 4 real hours that
//     night, one 00:00-02:30 lasts 2.5.
//
// At and Boundaries apply the same rule: At(t) is the tariff of the latest
// wall-clock time shown at or before t. Minutes are the resolution of a
// schedule; seconds are not.
//
// Go finds zones in the system's zoneinfo, or in the copy that importing
// time/tzdata embeds (about 450 kB). Routers, minimal containers and
// distroless images often have no /usr/share/zoneinfo, so the bridge binary
// should import _ "time/tzdata"; a system copy, when present, still wins.
//
// # Pro-rata split
//
// An interval [t0, t1] with delta bytes is shared by time, as if the
// traffic flowed at a constant rate (rrdtool's rule). With
// F(x) = floor(delta*(x-t0)/(t1-t0)) in 128-bit integers (math/bits), the
// stretch [a, b) of constant tariff gets F(b) - F(a). The shares telescope
// to F(t1) - F(t0) = delta: no byte is lost or counted twice, none is
// negative, and each differs from the exact time-weighted share by less
// than one byte. Subdividing an interval changes only the rounding: the
// parts of [t0, t1] and those of [t0, tm] plus [tm, t1] differ per tariff
// by less than one byte per stretch, and have the same sum. An empty or
// backwards interval (t1 <= t0) gives the whole delta to the tariff at t1.
//
// # Billing cycles (IFSTAT_BILLING_DAY, IFSTAT_TARIFF_CAPS)
//
// A cycle starts at local midnight of the billing day, 1 to 31, clamped to
// the month's last day (a plan renewed on the 31st renews on 28 or 29
// February and 30 April), and ends where the next one starts. An
// Accumulator adds each interval per tariff and direction to the current
// cycle; an interval straddling a cycle's end is split by time with the same
// telescoping shares, so both cycles together get exactly its delta. Caps
// (ParseCaps) are optional per tariff, e.g. normal=500GB;happy= with decimal
// (kB MB GB TB) or binary (KiB MiB GiB TiB) units, and count both
// directions together.
package tariff
