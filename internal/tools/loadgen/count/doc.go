// Command count reads the bridge's plugins.d stream on stdin and counts what
// the benchmark needs: bytes, lines, CHART definitions and, per round of
// every interface's ifstat.net chart, whether 'received' got a number (a
// rate) or an empty value (a gap). It writes nothing to stdout.
//
// On SIGUSR1 and at end of input it appends one JSON line of cumulative
// counters to the file named by -stats, so a driver can difference two
// snapshots around a measurement window. It leaves the meaning of a gap
// (missed reply, first sample, stale read) to the bridge's own tests.
package main
