// Command wake-late measures how late this machine wakes a thread that
// sleeps to an absolute CLOCK_MONOTONIC instant, as the agent's probes
// do (publisher.preciseSleeper), and how much of its CPU time the
// hypervisor took (steal, from /proc/stat) meanwhile.
//
// The accuracy matrix (scripts/accuracy.sh) judges windows a millisecond
// wide; an agent whose probe wakes 2-13 ms late gets a window that wide.
// On 2026-12-07 this machine woke 1 ms sleeps more than 1 ms late 1.83 %
// of the time with 5.8 % of its CPU stolen, and the matrix's agents
// counted 1.1-3 % of their probes late (watch_late_probes) where the
// runs of the day before had 0.06-0.3 %. Run it before a matrix run to
// know which of the two machines you have.
package main
