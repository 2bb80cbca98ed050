package bridge

import (
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Config is the bridge's configuration, read from IFSTAT_* variables.
type Config struct {
	config.Common
	Interval      time.Duration `split_words:"true" default:"1s" desc:"request interval, aligned to wall-clock multiples; 100ms or more (as a Netdata plugin: Netdata's update every)"`
	Nodes         []string      `split_words:"true" desc:"comma-separated node ids to sample; empty: every agent that announces itself"`
	Netdata       string        `split_words:"true" default:"auto" desc:"plugins.d output on stdout: auto (on when run by Netdata), on or off"`
	ObsoleteAfter time.Duration `split_words:"true" default:"5m" desc:"how long an interface may be missing before its charts are removed"`
	MaxGap        time.Duration `split_words:"true" default:"10s" desc:"longest span between two replies that still gives a rate"`
	MaxBitsPerSec uint64        `split_words:"true" default:"10000000000" desc:"fastest plausible link in bits/s where the agent reports no speed; bounds wrap detection"`
}

// MinInterval is the shortest request interval the bridge accepts.
const MinInterval = 100 * time.Millisecond

// Validate checks cfg; errors are *config.Error.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	switch {
	case c.Interval < MinInterval:
		return config.Errorf("INTERVAL", c.Interval.String(), "must be at least %v", MinInterval)
	case c.Interval > time.Hour:
		return config.Errorf("INTERVAL", c.Interval.String(), "must be at most 1h")
	case c.Netdata != "auto" && c.Netdata != "on" && c.Netdata != "off":
		return config.Errorf("NETDATA", c.Netdata, "must be auto, on or off")
	case c.ObsoleteAfter <= 0:
		return config.Errorf("OBSOLETE_AFTER", c.ObsoleteAfter.String(), "must be positive")
	case c.MaxGap < c.Interval:
		return config.Errorf("MAX_GAP", c.MaxGap.String(), "must be at least IFSTAT_INTERVAL")
	case c.MaxBitsPerSec == 0:
		return config.Errorf("MAX_BITS_PER_SEC", "0", "must be positive")
	}
	for _, n := range c.Nodes {
		if !wire.ValidNode(n) {
			return config.Errorf("NODES", n, "not a node id ([a-z0-9_-], at most %d bytes)", wire.MaxNodeLen)
		}
	}
	return nil
}
