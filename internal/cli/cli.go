// Package cli is what every command of ours does around its run function:
// a context that ends on SIGINT or SIGTERM (Ctrl-C, systemd, Netdata), a
// bound on how long the clean stop may take, and the exit code.
package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main calls run with a context that ends on SIGINT or SIGTERM and exits
// with the code run returns. With grace > 0, a clean stop that takes
// longer than grace after the signal (a broker that accepts but never
// answers) ends the process anyway with code 0: a stop must always work.
func Main(grace time.Duration, run func(ctx context.Context) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if grace > 0 {
		go func() {
			<-ctx.Done()
			time.Sleep(grace)
			fmt.Fprintln(os.Stderr, "shutdown took longer than", grace, "- exiting")
			os.Exit(0)
		}()
	}
	code := run(ctx)
	stop()
	os.Exit(code)
}
