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

// ServePipe replaces the file at path with a named pipe and answers every
// reader that opens it with render(now), now taken at the open, until the
// test ends. Like a kernel file such as /proc/net/dev, the value a reader
// sees and the time it stamps right after its read agree to within the
// scheduling delay of one process; a file rewritten every few ms would be
// up to that period stale. One reader at a time, at most one read per
// 100 ms; see netdevtest.Driver.Serve for a server without that gap.
func ServePipe(t testing.TB, path string, render func(now time.Time) []byte) {
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

func servePipe(ctx context.Context, path string, render func(time.Time) []byte) error {
	for {
		// Blocks until a reader opens the pipe.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return f.Close()
		}
		_, werr := f.Write(render(time.Now()))
		// Put a fresh pipe in place before closing this one: a reader
		// that has not yet seen EOF keeps the old, unlinked pipe, and the
		// next open of the path pairs with the new one. Reopening the same
		// pipe could hand a slow reader a second copy (a "duplicate
		// interface" read on a loaded machine).
		next := path + ".next"
		if err := unix.Mkfifo(next, 0o644); err != nil {
			f.Close()
			return err
		}
		if err := os.Rename(next, path); err != nil {
			f.Close()
			return err
		}
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
