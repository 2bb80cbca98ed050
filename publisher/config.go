package publisher

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// MaxRateLimit caps IFSTAT_MAX_RATE: more replies per second than this are
// no longer a router-friendly agent.
const MaxRateLimit = 10_000

// Config is the agent's configuration: IFSTAT_* variables per the design
// contract.
type Config struct {
	config.Common
	// Node is the node id in every topic; LoadConfig fills it from the
	// hostname when IFSTAT_NODE is unset.
	Node string `split_words:"true" desc:"node id in topics, [a-z0-9_-] (default: the hostname, lower-cased, other bytes as _)"`
	// Interfaces are names or path.Match globs; empty selects all but lo.
	Interfaces []string `split_words:"true" desc:"comma-separated interface names or globs, e.g. eth*,ppp0,wg0 (default: all but lo)"`
	ProcRoot   string   `split_words:"true" default:"/proc" desc:"where /proc is mounted (tests: a copy of a router's counter files)"`
	SysRoot    string   `split_words:"true" default:"/sys" desc:"where /sys is mounted"`
	// MaxRate is the most replies per second; requests beyond it wait in
	// a small fair queue or are dropped.
	MaxRate int `split_words:"true" default:"200" desc:"most replies per second, shared fairly among requesters"`
	// Watch says when the agent reads the counters between requests to
	// note when they change (replies then carry changed_ns and
	// unchanged_ns): around each predicted driver refresh (auto, the
	// default), on a fixed timer, or never.
	Watch WatchMode `split_words:"true" default:"auto" desc:"when to read the counters between requests to note the driver's refresh instants: auto (a short burst to find each driver's refresh clock, then a few reads around each predicted refresh), a fixed period such as 20ms (at least 10ms), or off"`
	// WatchCPU bounds the adaptive watch's cost: over it, measured as
	// the agent's own CPU time, the watch probes fewer refreshes.
	WatchCPU CPUShare `envconfig:"WATCH_CPU" default:"1%" desc:"with IFSTAT_WATCH=auto: the most CPU the agent may use, in percent of one core, before the watch probes only a half, a quarter or an eighth of the refreshes (the others placed by the fit; a driver late by a few ms first gets probes 2 ms apart); off for no limit"`
}

// LoadConfig reads the configuration from the environment over the
// KEY=VALUE file at path (may be empty), defaults the node id from
// hostname when IFSTAT_NODE is unset, and validates it. Errors are
// *config.Error values.
func LoadConfig(path string, hostname func() (string, error)) (Config, error) {
	var c Config
	if err := config.Load(&c, path); err != nil {
		return c, err
	}
	if _, set := os.LookupEnv(config.Prefix + "_NODE"); !set {
		h, err := hostname()
		if err != nil {
			return c, config.Errorf("NODE", "", "unset, and no hostname: %w", err)
		}
		c.Node = wire.NodeFromHostname(h)
	}
	// "eth0, wg0" is how people write lists.
	for i, p := range c.Interfaces {
		c.Interfaces[i] = strings.TrimSpace(p)
	}
	return c, c.Validate()
}

// Validate checks every variable and returns a *config.Error naming the
// first bad one.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if !wire.ValidNode(c.Node) {
		return config.Errorf("NODE", c.Node, "must be 1–%d characters of a-z, 0-9, _ and -", wire.MaxNodeLen)
	}
	if _, err := netdev.NewSelector(c.Interfaces); err != nil {
		return config.Errorf("INTERFACES", "", "%w", err)
	}
	if c.ProcRoot == "" {
		return config.Errorf("PROC_ROOT", "", "must not be empty")
	}
	if c.SysRoot == "" {
		return config.Errorf("SYS_ROOT", "", "must not be empty")
	}
	if c.MaxRate < 1 || c.MaxRate > MaxRateLimit {
		return config.Errorf("MAX_RATE", "", "%d: must be 1–%d", c.MaxRate, MaxRateLimit)
	}
	if c.Watch.Every != 0 && c.Watch.Every < MinWatch {
		return config.Errorf("WATCH", c.Watch.String(), "must be auto, off or at least %v", MinWatch)
	}
	if c.WatchCPU < 0 || c.WatchCPU > 100 || c.WatchCPU != c.WatchCPU {
		return config.Errorf("WATCH_CPU", c.WatchCPU.String(), "must be a percent of one core from 0 to 100, or off")
	}
	return nil
}

// WatchMode is the value of IFSTAT_WATCH. The zero value is off.
type WatchMode struct {
	// Auto reads around the predicted refresh instants of each driver.
	Auto bool
	// Every is the fixed watch period; 0 unless a duration was given.
	Every time.Duration
}

// Decode parses auto, off (also 0 or empty, as before auto existed) or a
// Go duration; it implements envconfig.Decoder.
func (w *WatchMode) Decode(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto":
		*w = WatchMode{Auto: true}
		return nil
	case "", "0", "off":
		*w = WatchMode{}
		return nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return fmt.Errorf("want auto, off or a duration such as 20ms")
	}
	*w = WatchMode{Every: d}
	return nil
}

// String is the value as IFSTAT_WATCH accepts it.
func (w WatchMode) String() string {
	switch {
	case w.Auto:
		return "auto"
	case w.Every > 0:
		return w.Every.String()
	}
	return "off"
}

// On reports whether the agent watches at all.
func (w WatchMode) On() bool { return w.Auto || w.Every > 0 }
