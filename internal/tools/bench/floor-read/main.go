package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"

	"golang.org/x/sys/unix"
)

func main() {
	cli.Main(0, func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stderr) })
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("floor-read", flag.ContinueOnError)
	fs.SetOutput(stderr)
	proc := fs.String("proc", "/proc", "where /proc is mounted")
	rate := fs.Int("rate", 10, "reads per second")
	count := fs.Int("count", -1, "read this many times back to back, then -sleeps, and exit (-1: read at -rate until stopped)")
	sleeps := fs.Int("sleeps", 0, "with -count: then sleep this many times for 1 ms to an absolute CLOCK_MONOTONIC instant, as the agent's probe steps do")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *rate < 1 {
		fmt.Fprintln(stderr, "floor-read: -rate must be at least 1")
		return 2
	}
	if *count < -1 || *sleeps < 0 || *sleeps > 0 && *count < 0 {
		fmt.Fprintln(stderr, "floor-read: -count must be at least 0 (or -1, the default), -sleeps at least 0 and only with -count")
		return 2
	}
	path := filepath.Join(*proc, "net", "dev")
	buf := make([]byte, 64<<10)
	// One read up front, so a wrong path fails at once rather than being
	// measured as a cheap no-op.
	if _, err := readFile(path, buf); err != nil {
		fmt.Fprintf(stderr, "floor-read: %v\n", err)
		return 1
	}
	if *count >= 0 {
		// scripts/bench-insn-kernel.sh counts what these cost a MIPS
		// kernel: each boot's instructions, with and without them.
		bytes := 0
		for range *count {
			n, err := readFile(path, buf)
			if err != nil {
				fmt.Fprintf(stderr, "floor-read: %v\n", err)
				return 1
			}
			bytes += n
		}
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			fmt.Fprintf(stderr, "floor-read: %v\n", err)
			return 1
		}
		at := ts.Nano()
		for range *sleeps {
			at += int64(time.Millisecond)
			t := unix.NsecToTimespec(at)
			for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &t, nil) == unix.EINTR {
			}
		}
		fmt.Fprintf(stderr, "floor-read: %d reads, %d bytes, %d sleeps\n", *count, bytes, *sleeps)
		return 0
	}
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	var reads, bytes int
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "floor-read: %d reads, %d bytes\n", reads, bytes)
			return 0
		case <-tick.C:
		}
		n, err := readFile(path, buf)
		if err != nil {
			fmt.Fprintf(stderr, "floor-read: %v\n", err)
			return 1
		}
		reads++
		bytes += n
	}
}

// readFile reads path into buf with raw system calls: os.Open would add
// the runtime poller's registration, which is not part of the floor.
func readFile(path string, buf []byte) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("opening %s: %w", path, err)
	}
	defer unix.Close(fd)
	total := 0
	for total < len(buf) {
		n, err := unix.Read(fd, buf[total:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return total, fmt.Errorf("reading %s: %w", path, err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, nil
}
