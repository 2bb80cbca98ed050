// Command ifstat-bridge asks ifstat agents for their counters on one aligned
// clock and forwards exact rates to Netdata (as the external plugin
// ifstat.plugin, speaking plugins.d on stdout).
//
// Run by Netdata (as ifstat.plugin, or with NETDATA_* variables set) it reads
// ifstat.conf from NETDATA_USER_CONFIG_DIR, the environment overriding it,
// and takes Netdata's update-every (its first argument) as the interval
// unless IFSTAT_INTERVAL is set.
package main

import (
	"context"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"

	// The bridge places samples in tariff periods of a time zone: embed the
	// zone database, which distroless images and many hosts lack.
	_ "time/tzdata"

	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/haout"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata/plugind"
)

var version = "dev"

// ndBatch is how many bytes of chart rounds the Netdata output holds
// while replies keep coming: about 50 routers of 8 interfaces, one write
// instead of 50, and less than a Linux pipe's 64 KiB buffer.
const ndBatch = 48 << 10

// shutdownGrace bounds a clean stop.
const shutdownGrace = 10 * time.Second

func main() {
	// A write to a closed stdout must be an error we handle (Netdata went
	// away: exit 0), not death by SIGPIPE, which Netdata 1.37 reads as a
	// crash and answers by disabling the plugin.
	signal.Ignore(syscall.SIGPIPE)
	// A clean stop publishes "offline" with bounded waits; shutdownGrace
	// bounds the rest.
	cli.Main(shutdownGrace, func(ctx context.Context) int { return run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr) })
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := filepath.Base(args[0])
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "KEY=VALUE file of IFSTAT_* variables (the environment overrides it)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	var cfg bridge.Config
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s [-config FILE] [update-every | demo | watch]\n\n", name)
		fmt.Fprintf(stderr, "Samples ifstat agents over MQTT and writes Netdata charts.\n\n")
		fmt.Fprintf(stderr, "  demo   this machine's interfaces live in the terminal: starts a broker on 127.0.0.1\n")
		fmt.Fprintf(stderr, "         (unless IFSTAT_BROKER is set) and an agent in this process\n")
		fmt.Fprintf(stderr, "  watch  the same view for every agent on IFSTAT_BROKER\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nenvironment:\n")
		config.Usage(stderr, &cfg)
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return config.ExitUsage
	}
	if *showVersion {
		fmt.Fprintln(stdout, name, version)
		return 0
	}

	args = fs.Args()
	mode := ""
	if len(args) > 0 && (args[0] == "demo" || args[0] == "watch") {
		mode, args = args[0], args[1:]
	}
	plugin := mode == "" && (name == "ifstat.plugin" || os.Getenv("NETDATA_VERSION") != "" || os.Getenv("NETDATA_USER_CONFIG_DIR") != "")
	file := *configFile
	if plugin && file == "" {
		if dir := os.Getenv("NETDATA_USER_CONFIG_DIR"); dir != "" {
			if p := filepath.Join(dir, "ifstat.conf"); fileExists(p) {
				file = p
			}
		}
	}
	if err := loadConfig(&cfg, file, plugin, args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return config.ExitUsage
	}

	if _, set := os.LookupEnv("IFSTAT_LOG_LEVEL"); mode != "" && !set {
		cfg.LogLevel = "warn" // info lines would scroll the table away
	}
	logger := logx.New(stderr, cfg.LogLevel, cfg.LogFormat)
	mqttx.RoutePahoLogs(logger)
	log := logrus.NewEntry(logger).WithField("component", "bridge")
	if mode != "" {
		cfg.Netdata = config.AutoOff
		return runWatch(ctx, cfg, log, mode == "demo", stdout)
	}

	var outputs []bridge.Output
	var functions *netdata.FunctionOutput
	if cfg.Netdata.On(plugin) {
		ndVersion := os.Getenv("NETDATA_VERSION")
		f := plugind.ParseFeatures(ndVersion)
		nd := netdata.NewOutput(stdout, f, cfg.Interval, os.Getenv("NETDATA_REGISTRY_UNIQUE_ID"))
		nd.Batch(ndBatch)
		outputs = append(outputs, nd)
		// The function's answers go to the same stdout, written by the
		// bridge's loop like the charts (it is one of its outputs), so
		// they never interleave with a chart round.
		functions = netdata.NewFunctionOutput(stdout, ndVersion, cfg.Interval, log.WithField("component", "functions"))
		outputs = append(outputs, functions)
		log.WithField("netdata", ndVersion).WithField("virtual_nodes", f.VirtualNodes).
			WithField("functions", functions.Enabled()).Info("netdata output on stdout")
		if plugin {
			var cancel context.CancelCauseFunc
			ctx, cancel = context.WithCancelCause(ctx)
			defer cancel(nil)
			// Netdata 1.37+ writes FUNCTION calls (2.x also QUIT) on
			// stdin. Netdata before 1.37 starts plugins with stdin on
			// /dev/null, so an end of stdin says nothing about Netdata:
			// keep charting. Netdata going away shows on stdout instead.
			go func() {
				functions.Serve(stdin, func() { cancel(errQuit) })
				log.Debug("stdin closed; charting on until stdout breaks")
			}()
			watchStdout(ctx, stdout, func() { cancel(errStdoutClosed) })
		}
	}
	b, err := bridge.New(cfg, log, outputs...)
	if err != nil {
		log.WithError(err).Error("start failed")
		return 1
	}
	if functions != nil {
		functions.SetSampler(b.Sampler())
	}
	if cfg.HA {
		ha, err := haout.New(discovery.Options{
			HAPrefix: cfg.HAPrefix, TopicPrefix: cfg.TopicPrefix, BridgeID: cfg.BridgeID,
			BridgeVersion: version, Interval: cfg.HAInterval, SampleInterval: cfg.Interval, Fleet: cfg.Shard.Auto,
		}, b.Publisher(), cfg.ObsoleteAfter, log.WithField("component", "ha"))
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return config.ExitUsage
		}
		b.AddOutput(ha)
	}
	log.WithField("version", version).WithField("interval", cfg.Interval).WithField("broker", cfg.BrokerRedacted()).Info("starting")
	if err := b.Run(ctx); err != nil {
		// The only error Run returns is a failed output: stdout closed
		// because Netdata stopped reading. Exit 0, so a Netdata that is
		// still there restarts us at once instead of disabling us.
		log.WithError(err).Warn("stopping: the Netdata output failed")
		return 0
	}
	// Always say why: a plugin that ends without a word is the hardest
	// thing to troubleshoot under Netdata.
	why := "stopped"
	if err := context.Cause(ctx); err != nil {
		why = err.Error()
	}
	log.WithField("reason", why).Info("stopping")
	return 0
}

// errStdoutClosed is why the plugin stops when Netdata stops reading.
var errStdoutClosed = errors.New("stdout closed: Netdata stopped reading")

// errQuit is why the plugin stops when Netdata 2.x writes QUIT on stdin.
var errQuit = errors.New("got QUIT on stdin: Netdata stops its plugins")

// watchStdout calls gone once the reading end of stdout, when it is a
// pipe, has been closed, without waiting for the next write to fail: with
// no agent to chart the next write may be a keepalive half a minute away,
// while Netdata expects its plugins to go within seconds. It returns at
// once; the watch ends with ctx.
func watchStdout(ctx context.Context, stdout io.Writer, gone func()) {
	f, ok := stdout.(*os.File)
	if !ok {
		return
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	fd := int(f.Fd())
	go func() {
		for ctx.Err() == nil {
			// With no events asked for, poll still reports POLLERR,
			// which a pipe's writing end gets once no reader is left.
			fds := []unix.PollFd{{Fd: int32(fd)}}
			n, err := unix.Poll(fds, 1000)
			if err != nil && !errors.Is(err, unix.EINTR) {
				return
			}
			if n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
				gone()
				return
			}
		}
	}()
}

// loadConfig reads the variables; under Netdata, its update-every (the
// first argument) is the default interval.
func loadConfig(cfg *bridge.Config, file string, plugin bool, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("unexpected arguments %q", args[1:])
	}
	if err := config.Load(cfg, file); err != nil {
		return err
	}
	if len(args) == 1 {
		sec, err := strconv.Atoi(args[0])
		if err != nil || sec < 1 {
			return fmt.Errorf("update-every %q: not a positive number of seconds", args[0])
		}
		if _, set := os.LookupEnv("IFSTAT_INTERVAL"); !set {
			cfg.Interval = time.Duration(sec) * time.Second
		}
	}
	if cfg.BridgeID == "" {
		host, err := os.Hostname()
		if err != nil {
			return config.Errorf("BRIDGE_ID", "", "unset, and no hostname: %w", err)
		}
		cfg.BridgeID = wire.NodeFromHostname(host)
	}
	if _, set := os.LookupEnv("IFSTAT_STATE_DIR"); !set && cfg.StateDir == "" && plugin {
		// Netdata's own state directory is writable by the plugin.
		cfg.StateDir = os.Getenv("NETDATA_LIB_DIR")
	}
	if plugin && cfg.Netdata == config.AutoOff {
		return config.Errorf("NETDATA", "off", "cannot be off when run by Netdata")
	}
	return cfg.Validate()
}

func parseHostPort(broker string) ([2]string, error) {
	u, err := url.Parse(broker)
	if err != nil {
		return [2]string{}, err
	}
	return [2]string{u.Hostname(), u.Port()}, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
