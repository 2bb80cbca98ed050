package publisher

import (
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
	// Watch is the period of the fine timer that reads the counters
	// between requests to note when they change (replies then carry
	// changed_ns and unchanged_ns); 0 is off, the default.
	Watch time.Duration `split_words:"true" desc:"watch mode: read the counters this often between requests to note when they change, e.g. 50ms (at least 10ms; empty or 0: off)"`
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
	if c.Watch != 0 && c.Watch < MinWatch {
		return config.Errorf("WATCH", c.Watch.String(), "must be 0 (off) or at least %v", MinWatch)
	}
	return nil
}
