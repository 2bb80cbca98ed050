package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/embedbroker"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/watch"
	"github.com/ifstat-mqtt/ifstat-mqtt/publisher"
)

// runWatch runs the bridge with the terminal view. With demo set it first
// starts what a fresh machine lacks: a broker on 127.0.0.1 when
// IFSTAT_BROKER is not set, and an agent for this machine's interfaces in
// this process.
func runWatch(ctx context.Context, cfg bridge.Config, log *logrus.Entry, demo bool, stdout io.Writer) int {
	// Every line fits 80 columns (the view cuts what does not).
	header := []string{"ifstat-mqtt watch (Ctrl-C stops)", "broker " + cfg.BrokerRedacted()}
	// A viewer: no Home Assistant output, no persisted state, and an id of
	// its own, so it never competes with the bridge that owns the id.
	cfg.Viewer, cfg.HA = true, false
	cfg.BridgeID = cfg.BridgeID + "-watch"
	var wg sync.WaitGroup
	var broker *embedbroker.Broker
	agentCtx, stopAgent := context.WithCancel(context.Background())
	// The agent stops after the bridge and before the broker, so its
	// retained "offline" still reaches the broker.
	defer func() {
		stopAgent()
		wg.Wait()
		if broker != nil {
			broker.Close()
		}
	}()
	if demo {
		if _, set := os.LookupEnv("IFSTAT_BROKER"); !set {
			b, err := embedbroker.StartDefault(nil)
			if err != nil {
				log.WithError(err).Error("starting the embedded broker")
				return 1
			}
			broker = b
			cfg.Broker = b.URL()
			header[1] = "broker " + b.URL() + " (embedded, loopback only)"
		}
		host, _ := os.Hostname()
		node := wire.NodeFromHostname(host)
		if node == "" {
			node = "demo"
		}
		acfg := publisher.Config{Common: cfg.Common, Node: node, ProcRoot: "/proc", SysRoot: "/sys", MaxRate: 200}
		a, err := publisher.New(acfg, log.WithField("component", "agent"), publisher.Deps{Version: version})
		if err != nil {
			log.WithError(err).Error("starting the demo agent")
			return 1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Run(agentCtx)
		}()
		header[0] = "ifstat-mqtt demo (Ctrl-C stops)"
		header = append(header, fmt.Sprintf("agent %q in this process, reading /proc/net/dev on request", node))
	}
	header = append(header, "raw messages: "+subscribeHint(cfg))
	term := isTerminal(stdout)
	opt := watch.Options{Header: header, Clear: term, Every: 500 * time.Millisecond}
	if term {
		opt.Size = func() (int, int) { return terminalSize(stdout) }
	}
	view := watch.New(stdout, opt)
	b, err := bridge.New(cfg, log, view)
	if err != nil {
		log.WithError(err).Error("start failed")
		return 1
	}
	// The view reads which agents are online from the sampler in its
	// Tick, on the bridge's loop goroutine that owns the sampler: an agent
	// whose retained status says offline is shown offline at the next
	// round, not with its last rate.
	view.SetAgents(b.Sampler())
	if err := b.Run(ctx); err != nil {
		log.WithError(err).Warn("stopping")
	}
	return 0
}

func subscribeHint(cfg bridge.Config) string {
	h := "mosquitto_sub -v -t '" + cfg.TopicPrefix + "/#'"
	if u, err := parseHostPort(cfg.Broker); err == nil {
		h = fmt.Sprintf("mosquitto_sub -h %s -p %s -v -t '%s/#'", u[0], u[1], cfg.TopicPrefix)
	}
	return h
}

// terminalSize returns the columns and rows of the terminal w is, or 0, 0.
func terminalSize(w io.Writer) (cols, rows int) {
	f, ok := w.(*os.File)
	if !ok {
		return 0, 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0
	}
	return int(ws.Col), int(ws.Row)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
