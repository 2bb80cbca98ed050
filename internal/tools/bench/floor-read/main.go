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
	file := fs.String("file", "", "read this file instead of -proc's net/dev, e.g. /sys/class/net/eth0/statistics/rx_packets")
	keep := fs.Bool("keep", false, "keep the file open and re-read it with pread from offset 0, as the agent reads /proc/net/dev (default: open, read and close each time)")
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
	if *file != "" {
		path = *file
	}
	r := &reader{path: path, keep: *keep, fd: -1, buf: make([]byte, 64<<10)}
	defer r.close()
	// One read up front, so a wrong path fails at once rather than being
	// measured as a cheap no-op.
	if _, err := r.read(); err != nil {
		fmt.Fprintf(stderr, "floor-read: %v\n", err)
		return 1
	}
	if *count >= 0 {
		// scripts/bench-insn-kernel.sh counts what these cost a MIPS
		// kernel: each boot's instructions, with and without them.
		bytes := 0
		for range *count {
			n, err := r.read()
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
		n, err := r.read()
		if err != nil {
			fmt.Fprintf(stderr, "floor-read: %v\n", err)
			return 1
		}
		reads++
		bytes += n
	}
}

// reader reads path into buf with raw system calls: os.Open would add
// the runtime poller's registration, which is not part of the floor.
// With keep, the file stays open and each read is preads from offset 0
// to the end, which makes the kernel's seq_file render it again (as the
// agent reads /proc/net/dev, netdev.Reader).
type reader struct {
	path string
	keep bool
	fd   int
	buf  []byte
}

func (r *reader) read() (int, error) {
	fd := r.fd
	if fd < 0 {
		var err error
		fd, err = unix.Open(r.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, fmt.Errorf("opening %s: %w", r.path, err)
		}
		if r.keep {
			r.fd = fd
		} else {
			defer unix.Close(fd)
		}
	}
	total := 0
	for total < len(r.buf) {
		var n int
		var err error
		if r.keep {
			n, err = unix.Pread(fd, r.buf[total:], int64(total))
		} else {
			n, err = unix.Read(fd, r.buf[total:])
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return total, fmt.Errorf("reading %s: %w", r.path, err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, nil
}

func (r *reader) close() {
	if r.fd >= 0 {
		unix.Close(r.fd)
	}
}
