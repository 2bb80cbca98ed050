package proctest

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pipeGap is a short pause after each read; a second copy can no longer
// reach a slow reader (every read gets a fresh pipe), so it only keeps the
// loop from spinning.
const pipeGap = 5 * time.Millisecond

// Instant is when a fixture served a value: the wall clock and
// CLOCK_BOOTTIME, the clock the agent stamps its reads with (mono_ns), so
// a test can judge a rate against what was served and when.
type Instant struct {
	Wall   time.Time
	BootNS int64
}

// Now is the current Instant.
func Now() Instant { return Instant{Wall: time.Now(), BootNS: BootNS()} }

// BootNS is CLOCK_BOOTTIME in ns, as the agent reads it (CLOCK_MONOTONIC
// where the kernel lacks it).
func BootNS() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	}
	return ts.Nano()
}

// ServePipe replaces the file at path with a named pipe and answers every
// reader that opens it with render(at), at taken at the open, until the
// test ends. Like a kernel file such as /proc/net/dev, the value a reader
// sees and the time it stamps right after its read agree to within the
// scheduling delay of one process; a file rewritten every few ms would be
// up to that period stale. One reader at a time, at most one read per
// pipeGap (5 ms); see netdevtest.Driver.Serve for a server without that
// gap.
func ServePipe(t testing.TB, path string, render func(at Instant) []byte) {
	t.Helper()
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- servePipe(ctx, path, render) }()
	t.Cleanup(func() {
		cancel()
		// Be the reader the server waits for, so it sees ctx is done.
		if fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK, 0); err == nil {
			defer unix.Close(fd)
		}
		if err := <-done; err != nil {
			t.Errorf("serving %s: %v", path, err)
		}
	})
}

func servePipe(ctx context.Context, path string, render func(Instant) []byte) error {
	next := path + ".next"
	for {
		// The next pipe is made before the reader comes, so that between
		// the render and the reader's EOF there is only the write and the
		// close: the value is as fresh as a kernel file's when the agent
		// stamps its read.
		if err := unix.Mkfifo(next, 0o644); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		// Blocks until a reader opens the pipe.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return f.Close()
		}
		// Put the fresh pipe in place before this one closes: a reader
		// that has not yet seen EOF keeps the old, unlinked pipe, and the
		// next open of the path pairs with the new one. Reopening the same
		// pipe could hand a slow reader a second copy (a "duplicate
		// interface" read on a loaded machine).
		if err := os.Rename(next, path); err != nil {
			f.Close()
			return err
		}
		_, werr := f.Write(render(Now()))
		f.Close()
		// A reader that went away (a process killed mid-read) is no
		// failure of the server.
		if werr != nil && !errors.Is(werr, syscall.EPIPE) {
			return werr
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pipeGap):
		}
	}
}
