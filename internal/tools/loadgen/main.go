package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/cli"

	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/logx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/mqttx"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Config is the loadgen's configuration, read from IFSTAT_* variables.
type Config struct {
	config.Common
	LoadgenAgents  int    `split_words:"true" default:"100" desc:"simulated agents"`
	LoadgenPerConn int    `split_words:"true" default:"250" desc:"agents sharing one MQTT connection (1: one connection per agent)"`
	LoadgenIfaces  int    `split_words:"true" default:"8" desc:"interfaces per agent"`
	LoadgenNode    string `split_words:"true" default:"sim" desc:"node id prefix; agent i is <prefix><i>"`
	LoadgenStats   string `split_words:"true" desc:"file to append a JSON line of counters to on SIGUSR1 and at exit; empty: stderr"`
}

// Validate checks cfg; errors are *config.Error.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	switch {
	case c.LoadgenAgents < 1 || c.LoadgenAgents > 100_000:
		return config.Errorf("LOADGEN_AGENTS", strconv.Itoa(c.LoadgenAgents), "must be 1–100000")
	case c.LoadgenPerConn < 1:
		return config.Errorf("LOADGEN_PER_CONN", strconv.Itoa(c.LoadgenPerConn), "must be positive")
	case c.LoadgenIfaces < 1 || c.LoadgenIfaces > wire.MaxIfaces:
		return config.Errorf("LOADGEN_IFACES", strconv.Itoa(c.LoadgenIfaces), "must be 1–%d", wire.MaxIfaces)
	case !wire.ValidNode(c.LoadgenNode + strconv.Itoa(c.LoadgenAgents)):
		return config.Errorf("LOADGEN_NODE", c.LoadgenNode, "with an index appended must be a node id ([a-z0-9_-])")
	}
	return nil
}

func main() {
	cli.Main(0, func(ctx context.Context) int { return run(ctx, os.Args, os.Stderr) })
}

// snapshot is one line of the stats output.
type snapshot struct {
	TimeNS    int64      `json:"time_ns"`
	Agents    int        `json:"agents"`
	Conns     int        `json:"conns"`
	Requests  uint64     `json:"requests"`
	Replies   uint64     `json:"replies"`
	Dropped   uint64     `json:"dropped"`
	Malformed uint64     `json:"malformed"`
	PubErrors uint64     `json:"pub_errors"`
	Connects  uint64     `json:"connects"`
	SubFailed uint64     `json:"sub_failed"`
	Offset    [20]uint64 `json:"offset_50ms"`
	Final     bool       `json:"final,omitempty"`
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: loadgen\n\nSimulates ifstat agents for load tests.\n\nenvironment:\n")
		config.Usage(stderr, &cfg)
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return config.ExitUsage
	}
	if err := config.Load(&cfg, ""); err == nil {
		err = cfg.Validate()
		if err != nil {
			fmt.Fprintf(stderr, "loadgen: %v\n", err)
			return config.ExitUsage
		}
	} else {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return config.ExitUsage
	}
	logger := logx.New(stderr, cfg.LogLevel, cfg.LogFormat)
	mqttx.RoutePahoLogs(logger)
	log := logrus.NewEntry(logger).WithField("component", "loadgen")

	statsOut := stderr
	if cfg.LoadgenStats != "" {
		f, err := os.OpenFile(cfg.LoadgenStats, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			log.WithError(err).Error("opening stats file")
			return 1
		}
		defer f.Close()
		statsOut = f
	}

	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		log.WithError(err).Error("run id")
		return 1
	}
	runID := hex.EncodeToString(idb)
	start := time.Now()
	var counts Counts
	groups := Partition(cfg, runID, start, &counts, log)

	wctx, stopWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, g := range groups {
		if err := g.connect(mqttx.Options{Config: cfg.Common}); err != nil {
			log.WithError(err).Error("client")
			stopWork()
			return 1
		}
		wg.Go(func() { g.serve(wctx) })
	}
	log.WithField("agents", cfg.LoadgenAgents).WithField("conns", len(groups)).WithField("run_id", runID).Info("started")

	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	write := func(final bool) {
		s := snapshot{
			TimeNS: time.Now().UnixNano(), Agents: cfg.LoadgenAgents, Conns: len(groups),
			Requests: counts.Requests.Load(), Replies: counts.Replies.Load(), Dropped: counts.Dropped.Load(),
			Malformed: counts.Malformed.Load(), PubErrors: counts.PubErrors.Load(),
			Connects: counts.Connects.Load(), SubFailed: counts.SubFailed.Load(), Final: final,
		}
		for i := range s.Offset {
			s.Offset[i] = counts.Offset[i].Load()
		}
		line, _ := json.Marshal(s)
		if _, err := statsOut.Write(append(line, '\n')); err != nil {
			log.WithError(err).Warn("writing stats")
		}
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-usr1:
			write(false)
		}
	}
	stopWork()
	wg.Wait()
	var offWG sync.WaitGroup
	for _, g := range groups {
		offWG.Go(func() {
			if err := g.offline(10 * time.Second); err != nil {
				log.WithError(err).WithField("group", g.name).Warn("status offline not confirmed")
			}
		})
	}
	offWG.Wait()
	write(true)
	log.Info("stopped")
	return 0
}

// Partition builds the agents of cfg and splits them into groups of at most
// cfg.LoadgenPerConn, each to share one connection.
func Partition(cfg Config, runID string, start time.Time, counts *Counts, log *logrus.Entry) []*Group {
	var groups []*Group
	for lo := 0; lo < cfg.LoadgenAgents; lo += cfg.LoadgenPerConn {
		hi := min(lo+cfg.LoadgenPerConn, cfg.LoadgenAgents)
		agents := make([]*Agent, 0, hi-lo)
		for i := lo; i < hi; i++ {
			agents = append(agents, NewAgent(cfg.TopicPrefix, cfg.LoadgenNode, i, cfg.LoadgenIfaces, runID[:8]))
		}
		// Client ids must be unique on the broker and at most 23 bytes.
		name := fmt.Sprintf("lg-%s-%d", runID[:8], len(groups))
		groups = append(groups, newGroup(name, cfg.TopicPrefix, runID, start, agents, counts, log))
	}
	return groups
}
