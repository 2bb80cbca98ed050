package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"
)

func main() {
	cli.Main(0, func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wake-late", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dur := fs.Duration("duration", 20*time.Second, "how long to measure")
	sleep := fs.Duration("sleep", time.Millisecond, "each sleep, to an absolute instant")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dur <= 0 || *sleep <= 0 || *sleep > time.Second {
		fmt.Fprintln(stderr, "wake-late: -duration must be positive, -sleep from 1ns to 1s")
		return 2
	}
	before, errBefore := cpuTimes("/proc/stat")
	var late []time.Duration
	for end := time.Now().Add(*dur); time.Now().Before(end) && ctx.Err() == nil; {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			fmt.Fprintf(stderr, "wake-late: clock_gettime: %v\n", err)
			return 1
		}
		want := ts.Nano() + int64(*sleep)
		at := unix.NsecToTimespec(want)
		for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &at, nil) == unix.EINTR {
		}
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		late = append(late, time.Duration(ts.Nano()-want))
	}
	fmt.Fprintln(stdout, summary(late, *sleep))
	if after, err := cpuTimes("/proc/stat"); errBefore == nil && err == nil {
		fmt.Fprintln(stdout, stealLine(before, after))
	}
	return 0
}

// summary describes the lateness of the wakes: median, tail, and how
// many came more than one sleep late.
func summary(late []time.Duration, sleep time.Duration) string {
	n := len(late)
	if n == 0 {
		return "no sleeps"
	}
	s := slices.Clone(late)
	slices.Sort(s)
	over := n - sortedCountAtMost(s, sleep)
	return fmt.Sprintf("%d sleeps of %v: late by median %v, p99 %v, p99.9 %v, max %v; more than %v late: %d (%.2f %%)",
		n, sleep, s[n/2], s[n*99/100], s[n*999/1000], s[n-1], sleep, over, 100*float64(over)/float64(n))
}

// sortedCountAtMost counts the values of sorted s that are at most d.
func sortedCountAtMost(s []time.Duration, d time.Duration) int {
	i, _ := slices.BinarySearch(s, d+1)
	return i
}

// cpuTimes returns the first line of /proc/stat's fields: user, nice,
// system, idle, iowait, irq, softirq, steal (clock ticks).
func cpuTimes(path string) ([]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return nil, fmt.Errorf("%s: no cpu line", path)
	}
	v := make([]int64, 8)
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return v, nil
}

// stealLine gives the shares of the CPU time between two readings of
// cpuTimes: what ran, what was idle, and what the hypervisor took.
func stealLine(a, b []int64) string {
	var d [8]int64
	var total int64
	for i := range d {
		d[i] = b[i] - a[i]
		total += d[i]
	}
	if total <= 0 {
		return "cpu: no ticks"
	}
	pct := func(v int64) float64 { return 100 * float64(v) / float64(total) }
	return fmt.Sprintf("cpu meanwhile: busy %.1f %%, idle %.1f %%, stolen by the hypervisor %.1f %%",
		pct(d[0]+d[1]+d[2]+d[5]+d[6]), pct(d[3]+d[4]), pct(d[7]))
}
