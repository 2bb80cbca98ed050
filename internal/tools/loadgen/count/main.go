package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"
)

func main() {
	cli.Main(0, func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdin, os.Stderr) })
}

// snapshot is one line of the stats file.
type snapshot struct {
	TimeNS int64 `json:"time_ns"`
	Stats
	EOF bool `json:"eof,omitempty"`
}

func run(ctx context.Context, args []string, in io.Reader, stderr io.Writer) int {
	fs := flag.NewFlagSet("count", flag.ContinueOnError)
	fs.SetOutput(stderr)
	statsPath := fs.String("stats", "", "append a JSON line of counts to this file on SIGUSR1 and at end of input (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *statsPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	f, err := os.OpenFile(*statsPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "count: %v\n", err)
		return 1
	}
	defer f.Close()

	var c Counter
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	done := make(chan error, 1)
	go func() { done <- Read(in, &c) }()
	write := func(eof bool) error {
		line, _ := json.Marshal(snapshot{TimeNS: time.Now().UnixNano(), Stats: c.Snapshot(), EOF: eof})
		_, err := f.Write(append(line, '\n'))
		return err
	}
	for {
		select {
		case <-usr1:
			if err := write(false); err != nil {
				fmt.Fprintf(stderr, "count: writing stats: %v\n", err)
				return 1
			}
		case err := <-done:
			if err2 := write(true); err == nil {
				err = err2
			}
			if err != nil {
				fmt.Fprintf(stderr, "count: %v\n", err)
				return 1
			}
			return 0
		case <-ctx.Done():
			// Keep reading until the writer closes the pipe: a killed
			// counter would make the bridge's next write fail.
			ctx = context.Background()
		}
	}
}

// Read counts every line of r until EOF.
func Read(r io.Reader, c *Counter) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			c.Line(line)
		}
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			// A line over 1 MiB: counted in pieces; the bridge writes none.
		case errors.Is(err, io.EOF):
			return nil
		default:
			return fmt.Errorf("reading: %w", err)
		}
	}
}
