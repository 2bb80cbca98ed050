package publisher

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The adaptive watch's CPU budget (IFSTAT_WATCH_CPU). Each watch read
// costs a router a /proc/net/dev rendered by the kernel and parsed by the
// agent, a few hundred thousand instructions on an ER-X. Where the
// ports share one refresh clock the watch reads about four times per
// refresh for all of them; where each port has its own clock it reads
// four times per refresh per port, eight times as much on an 8-port
// switch: 1.5-3 % of an ER-X core by docs/accuracy.md's estimate, over
// the 1 % the agent may cost. Rather than guess a router's speed, the
// agent measures its own CPU time and, over budget, probes only half, a
// quarter or an eighth of the refreshes of each clock (two in a row of
// every four, eight or sixteen; see probeAt). The refreshes in between
// are claimed in the fit's band, as idle refreshes always are (a window
// of the fit's error plus a millisecond each side instead of one
// millisecond), and the fit stays honest on the probed ones. A driver
// whose refreshes come late by a few ms has them anywhere in that band,
// so its probes are first spaced 2 ms apart instead, and thinned only
// from the next step on (see probing).
const (
	// budgetSpan is how long the agent's CPU time is measured before the
	// watch is thinned or thickened: the budget is a router's sustained
	// load, and a refit burst (a few seconds at 400 reads a second, 3-4 %
	// of a core on this project's test fixtures for 10 s) should not
	// flip it. With 10 s spans, the 22 agents of the accuracy matrix
	// thinned for 10-70 s each, after their start and after a period
	// change.
	budgetSpan = time.Minute
	// budgetWarmup is how long after its first watch read the agent
	// begins to measure: its start-up burst and the first fits cost a
	// minute's worth of reads once, not for good.
	budgetWarmup = time.Minute
	// maxThin is the sparsest probing: two refreshes in a row of every
	// sixteen, a pair every 16 s at 1 s (TestAutoWatchThin: 1.4-1.7
	// reads per refresh, most of them the single reads before the
	// unprobed refreshes' bands; 4-4.9 probing every refresh).
	maxThin = 8
	// minSaving is the least share of its CPU that a step over the
	// budget must save; a step that saved less is undone, and the
	// probes are held as they are for budgetHold (see note).
	minSaving  = 0.1
	budgetHold = 10 * time.Minute
	// DefaultWatchCPU is IFSTAT_WATCH_CPU's default, in percent of one
	// core.
	DefaultWatchCPU = 1
)

// CPUShare is the value of IFSTAT_WATCH_CPU: the most CPU the agent may
// spend before the adaptive watch probes fewer refreshes, as a percent
// of one core. Zero is no limit.
type CPUShare float64

// Decode parses a percent of one core, with or without the % sign (1,
// 0.5%), or off (also 0) for no limit; it implements envconfig.Decoder.
func (c *CPUShare) Decode(s string) error {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		*c = 0
		return nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil || v < 0 || v > 100 || v != v {
		return fmt.Errorf("want a percent of one core from 0 to 100, such as 1%%, or off")
	}
	*c = CPUShare(v)
	return nil
}

// String is the value as IFSTAT_WATCH_CPU accepts it.
func (c CPUShare) String() string {
	if c == 0 {
		return "off"
	}
	return strconv.FormatFloat(float64(c), 'g', -1, 64) + "%"
}

// cpuBudget decides, from the agent's CPU time, how sparsely the adaptive
// watch probes (watcher.thin).
type cpuBudget struct {
	share float64 // the budget, as a fraction of one core; 0: no limit
	thin  int64   // probe 1 in thin of the refreshes: 1, 2, 4 or maxThin (probeAt)
	// start is the first watch read (mono ns); since is when the span
	// being measured began (0: not yet), sinceCPU the agent's CPU time
	// then.
	start, since, sinceCPU int64
	// used is the share of a core the last full span used.
	used float64
	// bursts is the watch's burst reads when the span began
	// (watcher.bursts); excused is set when the last span, over the
	// budget, held a burst and thinned nothing (see note).
	bursts  uint64
	excused bool
	// thinned is set after a step over the budget until a span without
	// a burst has shown what it saved; before is the share the span
	// before that step used. holdUntil (mono ns) is when the probes,
	// held after a step that saved nothing, may be thinned again, and
	// held says so for the log.
	thinned   bool
	before    float64
	holdUntil int64
	held      bool
	// thinnedNS is how long the watch probed sparsely, for the stop line.
	thinnedNS int64
}

func newCPUBudget(c CPUShare) *cpuBudget { return &cpuBudget{share: float64(c) / 100, thin: 1} }

// due reports whether a span ends (or the first begins) at mono: the
// caller then reads its CPU time and calls note.
func (b *cpuBudget) due(mono int64) bool {
	switch {
	case b.share <= 0:
		return false
	case b.since != 0:
		return mono-b.since >= int64(budgetSpan)
	case b.start == 0:
		b.start = mono
	}
	return mono-b.start >= int64(budgetWarmup)
}

// note ends the span at mono with the agent's CPU time cpu (ns) and the
// watch's burst reads so far, and reports whether thin changed. Over
// budget, the probes halve; well under it (under 45 %, so that twice the
// probes, if probes were all the agent spent, would still fit with
// room), they double again.
//
// A span over the budget that held a burst (a fit found again after a
// driver changed its clock or a refresh came late, a newly busy
// interface's first fit: 400 reads a second for a second or two) thins
// nothing, once: like the start-up burst, it is a one-off, not the
// router's sustained load (the three period-change agents of the
// accuracy matrix thinned for a minute after the change's burst, in
// three of four runs of the 1 s group on 2026-12-07: 1.02-1.30 % of a
// core in the span with the burst, 0.29-0.32 % in the next). The span
// after it counts whatever it holds, so a driver that makes the watch
// burst all the time is budgeted all the same.
//
// A step over the budget must save at least minSaving of the CPU it
// found, or it is undone and the probes are held for budgetHold: where
// the agent's CPU is not its probes (requests several times a second,
// reads that cost more than the probes save), thinning costs accuracy
// and buys nothing. On the accuracy matrix's busiest fixture the agent
// measured 1.18 %, then 1.28 % probing a half, then 1.09 % a quarter,
// and its samples were 0.613 % off probing an eighth, past the
// default's 0.5 % (2026-12-07).
func (b *cpuBudget) note(mono, cpu int64, bursts uint64) bool {
	if b.since == 0 || mono <= b.since || cpu < b.sinceCPU {
		b.since, b.sinceCPU, b.bursts = mono, cpu, bursts
		return false
	}
	b.used = float64(cpu-b.sinceCPU) / float64(mono-b.since)
	if b.thin > 1 {
		b.thinnedNS += mono - b.since
	}
	burst := bursts != b.bursts
	b.since, b.sinceCPU, b.bursts = mono, cpu, bursts
	b.held = false
	if b.thinned && !burst {
		b.thinned = false
		if b.used > b.share && b.used > (1-minSaving)*b.before {
			b.thin /= 2
			b.holdUntil, b.held = mono+int64(budgetHold), true
			return true
		}
	}
	over := b.used > b.share && b.thin < maxThin && mono >= b.holdUntil
	if over && burst && !b.excused {
		b.excused = true
		return false
	}
	b.excused = false
	switch {
	case over:
		b.thin *= 2
		b.thinned, b.before = true, b.used
		return true
	case b.thin > 1 && 2*b.used < 0.9*b.share:
		b.thin /= 2
		return true
	}
	return false
}

// processCPU returns the CPU time the agent has used, user and system (the
// kernel's work rendering /proc/net/dev is most of a watch read's cost).
func processCPU() (int64, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), nil
}
