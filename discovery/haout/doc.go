// Package haout is the bridge's Home Assistant output: it turns the
// NodeSamples the bridge's sampler produces into discovery configs and
// state messages (built by package discovery) and hands them to a
// Publisher.
//
// What it decides:
//   - HA windows. States go out every discovery.Options.Interval
//     (IFSTAT_HA_INTERVAL), windows aligned to wall-clock multiples of it.
//     A sample at tick T covers (T−bridge interval, T] and belongs to the
//     window ending at E = ceil(T / HA interval) × HA interval. Window E is
//     published at the first Tick(t) with t > E: by then the sampler has
//     emitted E's replies and gaps. Each rate is Σ Delta / Σ DtNS over the
//     window's rated intervals (rate.Result.Rate), exact from the counters
//     rather than a sample of one second; null when the window holds none.
//     A rated interval that spans stale reads before it is booked whole in
//     the window of its tick, so nothing is counted twice or lost.
//   - Peaks: per window and direction, the fastest single rated interval
//     (rate.Summarize's Peak over the window's results, 8 bits per byte)
//     and the longer of the two peaks' spans. Each result is folded in as
//     it arrives through rate.Summarize of that one result, which gives
//     exactly Summarize's Peak over the whole window (ties keep the
//     earlier interval) while a window's memory stays constant however
//     short the sampling interval. Stale reads are not intervals: the
//     rated interval after them spans the whole time since the last
//     change, so a refresh that lands after a stale read is not a spike.
//   - Refresh clock: each interface's latest bridge.IfaceSample.Refresh
//     and TooCoarse in the window (or the interface's latest at all): the
//     period is published only when the estimate is Confident, the
//     AtMostNS bound only when no period was fitted.
//     discovery.Options.SampleInterval, which the bridge sets to its
//     interval, decides whether the peak entities are created enabled.
//   - Totals are the latest rate.Result.Total: the bridge's 64-bit totals,
//     never lower than before.
//   - When configs go out: a router first seen, its interface set grown, or
//     its device description (hostname, version, OS, arch, kernel) changed;
//     all configs again on HA's birth and after every (re)connect of the
//     bridge's client (a retained config published while disconnected is
//     lost, and a broker without persistence forgets them). They are not
//     sent there and then but queued, each router once, and Tick sends
//     ConfigsPerSecond of them, so that a fleet first seen at start-up
//     does not delay the request rounds; a router gets no state before its
//     first configs. On HA's birth the last states follow once the
//     router's configs are out (with a
//     TokenPublisher such as PahoPublisher: every config token completed)
//     and BirthStateDelay later, so HA has subscribed to the new entities'
//     state topics before their values arrive.
//   - Tariffs: when samples carry bridge.TariffUsage, the router's tariff
//     set (names in schedule order, capped or not) is taken from the first
//     interface that has one; a set that differs from the last one
//     republishes every config and first clears the configs the new set
//     lacks (a renamed tariff, a dropped cap). A sample without tariff data
//     keeps the set; a set discovery refuses is logged and ignored. The
//     state carries each interface's latest usage in the window (or the
//     interface's latest at all), converted to discovery.TariffState.
//   - Removal: an interface absent from the agent's replies for longer than
//     removeAfter, or flagged Obsolete by the sampler, gets empty retained
//     configs (its tariff entities included) and is forgotten; it is configured again if it comes back.
//     Gaps (no reply at all) never count as absence: a silent agent is
//     shown unavailable through its LWT, not stripped of its entities.
//
// What it leaves to others: payload shapes, ids and HA's rules (package
// discovery); matching replies and computing per-interval rates
// (netdata-bridge, netdata-bridge/rate); the random delay before Birth,
// subscribing to homeassistant/status and the bridge's own LWT (the bridge);
// the MQTT client itself (PahoPublisher only forwards).
package haout
