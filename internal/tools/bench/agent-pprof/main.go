package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/publisher"
)

func main() {
	cli.Main(0, func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stderr) })
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent-pprof", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("cpuprofile", "cpu.pprof", "where to write the CPU profile")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// The shipped defaults of cmd/ifstat-agent (GOGC=50, 24 MiB limit).
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(50)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(24 << 20)
	}
	cfg, err := publisher.LoadConfig("", os.Hostname)
	if err != nil {
		fmt.Fprintf(stderr, "agent-pprof: %v\n", err)
		return 2
	}
	log := logx.New(stderr, cfg.LogLevel, cfg.LogFormat).WithField("component", "agent")
	a, err := publisher.New(cfg, log, publisher.Deps{Version: "pprof"})
	if err != nil {
		fmt.Fprintf(stderr, "agent-pprof: %v\n", err)
		return 1
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(stderr, "agent-pprof: %v\n", err)
		return 1
	}
	defer f.Close()
	// 100 Hz gives too few samples at a few hundred µs per request.
	runtime.SetCPUProfileRate(2000)
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "agent-pprof: %v\n", err)
		return 1
	}
	defer pprof.StopCPUProfile()
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "agent-pprof: %v\n", err)
		return 1
	}
	return 0
}
