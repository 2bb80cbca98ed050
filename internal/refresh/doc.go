// Package refresh estimates, per interface, how often and when a driver
// refreshes the counters the kernel shows. Many drivers copy their
// hardware statistics only once per period (1 s, 0.9765 s, a few seconds
// on switch chips); a read between two refreshes sees old values.
//
// Its input is change windows: each says that a refresh happened in
// (lo, hi], lo being the last read that saw the old values and hi the first
// that saw the new ones. The agent's watch mode (wire.Counters.UnchangedNS
// and ChangedNS) gives windows as narrow as its watch period; without it
// consecutive bridge reads give them (Estimator.ObserveRead: a read whose
// counters moved closes a window that the previous read opened), as
// narrow as the sampling interval.
//
// From the windows an Estimator fits the refresh instants to k·P + φ: a
// first period from the median spacing of the window midpoints (robust to
// missed refreshes and jitter), each window's index k from it (across a
// long gap from the mean period of the shorter spacings), then the
// least-squares fit, tightened where the driver is strictly periodic to
// the (P, φ) that every window admits. Estimate reports the period, the
// phase, how precisely a refresh instant is predicted, the jitter, and
// whether the estimate is to be trusted; Estimate.TooCoarse says whether a
// sampling interval is shorter than the counter can support. Refine
// narrows a new window to the predicted refresh instant, so a rate spanning
// two changes (package rate, rule 9) is exact to far better than the watch
// period.
//
// Counters that change at every read (software devices, drivers tuned
// with ethtool -C <if> stats-block-usecs) have no period to find: the
// estimate then says only that they refresh at least as often as the reads
// (Estimate.AtMostNS).
//
// # Without watch mode: the Lock
//
// A Lock finds the refresh clock from the bridge's reads alone and predicts
// for each read the refresh its values are current as of. Each read saw
// some refresh c and not c+1, which bounds φ + c·P on both sides; the
// counts come from the deltas while acquiring (each delta against the
// median of its neighbours is a whole number of refreshes, 0 for a stale
// read: reads slower than the refreshes see one or two, the doubles
// recurring with the beat of the two clocks) and from the lock itself
// afterwards. The feasible (P, φ) are a convex region bounded by two hulls
// of the reads; the period that needs the least jitter is found by
// ternary search, and the region, widened by the jitter the reads prove,
// bounds every prediction. A lock is taken where the reads pin the period
// to 0.1 % (in practice two beats: 83 s for 0.9765 s read every second),
// or, where they keep a steady offset from the refreshes (a period that is
// a simple ratio of the interval, 0.5, 1, 2 or 3 s at 1 s), from their
// average spacing per refresh once 48 reads agree.
//
// A read within the region's reach of a predicted refresh (3 ms plus half
// the jitter, widened by the period's uncertainty) is unsure unless its
// delta settles the count: moved means at least one refresh, still means
// none (or idle, where the earlier refresh is claimed), and under steady
// traffic the multiple of the traffic per refresh. A read whose delta
// contradicts a clear count drops the lock, as do 3 of 16 reads that look
// like another count, 4 unsure reads in a row, or a refit that needs more
// than 6 ms of jitter; reads then are on their own (the read span) until a
// new lock. Reported refresh instants stay continuous across refits
// (moved toward the fit by at most 0.2 ms per read), and a new lock that
// cannot continue the old clock says so (Window.Rebase).
//
// An Estimator's windows (Estimator.Changes, Pack) restore its fit in
// another process (Estimator.Restore, Unpack): the bridge keeps them with
// its checkpoints, for the same boot of the agent and within Reach.
//
// It is pure: times are the agent's MonoNS passed in; no clock, no
// logging. Keeping one Estimator per interface, feeding it, logging and
// publishing the period, and warning about sampling too fast are the
// bridge's job.
package refresh
