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
// missed refreshes and jitter), each window's index k from it, then the
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
// It is pure: times are the agent's MonoNS passed in; no clock, no
// logging. Keeping one Estimator per interface, feeding it, logging and
// publishing the period, and warning about sampling too fast are the
// bridge's job.
package refresh
