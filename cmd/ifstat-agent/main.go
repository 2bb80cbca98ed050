package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/publisher"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const name = "ifstat-agent"

// Memory defaults for a 256 MB router, applied only when the user did not
// set GOGC or GOMEMLIMIT. The soft limit of 8 MiB keeps the RSS near 10 MiB
// at 100 requests/s (measured with scripts/bench-agent.sh: 11.0 MiB with
// 24 MiB, 10.2 MiB with 8 MiB, no CPU cost); the live heap is about 1 MiB.
const (
	defaultGCPercent   = 50
	defaultMemoryLimit = 8 << 20
)

// shutdownGrace bounds a clean stop.
const shutdownGrace = 10 * time.Second

func main() {
	setMemoryDefaults(os.LookupEnv)
	// A clean stop publishes "offline" with bounded waits; shutdownGrace
	// bounds the rest.
	cli.Main(shutdownGrace, func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

// setMemoryDefaults keeps the heap small: Go's default GOGC=100 lets a
// small heap double before collecting, which a 256 MB box shares with
// everything else it runs.
func setMemoryDefaults(lookup func(string) (string, bool)) (gc, limit bool) {
	if _, set := lookup("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
		gc = true
	}
	if _, set := lookup("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
		limit = true
	}
	return gc, limit
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "KEY=VALUE file of IFSTAT_* variables; the environment overrides it")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { usage(stdout, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return config.ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return config.ExitUsage
	}
	if *showVersion {
		fmt.Fprintf(stdout, "%s %s %s/%s %s\n", name, version, runtime.GOOS, runtime.GOARCH, runtime.Version())
		return 0
	}
	cfg, err := publisher.LoadConfig(*configFile, os.Hostname)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return config.ExitUsage
	}
	logger := logx.New(stderr, cfg.LogLevel, cfg.LogFormat)
	mqttx.RoutePahoLogs(logger)
	log := logger.WithFields(map[string]any{"component": "agent", "node": cfg.Node})
	a, err := publisher.New(cfg, log, publisher.Deps{Version: version})
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return config.ExitUsage
		}
		log.WithError(err).Error("starting")
		return 1
	}
	log.WithFields(map[string]any{"version": version, "broker": cfg.BrokerRedacted(), "run_id": a.RunID()}).Info("started")
	if err := a.Run(ctx); err != nil {
		log.WithError(err).Error("stopped")
		return 1
	}
	return 0
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s [-config FILE] [-version]\n\n", name)
	fmt.Fprintf(w, "Answers ifstat requests on MQTT with fresh interface counters.\n\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nEnvironment (GOGC and GOMEMLIMIT default to %d and %d MiB):\n", defaultGCPercent, defaultMemoryLimit>>20)
	if err := config.Usage(w, &publisher.Config{}); err != nil {
		fmt.Fprintf(w, "%v\n", err)
	}
}
