package bridge

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
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
	Exact         string        `split_words:"true" default:"off" desc:"experimental: on divides each delta by the span between the driver refreshes fitted from the reads alone (docs/accuracy.md), off by the read span"`
	BridgeID      string        `split_words:"true" desc:"stable id of this bridge in topics and Home Assistant, [a-z0-9_-] (default: the host name)"`
	HA            string        `split_words:"true" default:"on" desc:"Home Assistant discovery and states: on or off"`
	HAPrefix      string        `split_words:"true" default:"homeassistant" desc:"Home Assistant discovery prefix"`
	HAInterval    time.Duration `split_words:"true" default:"10s" desc:"time between Home Assistant state updates; each is the exact average over that window"`
	StateDir      string        `split_words:"true" desc:"directory for state.json, the persisted totals (default: none; as a Netdata plugin: NETDATA_LIB_DIR); a retained copy is kept on the broker either way"`
	StateInterval time.Duration `split_words:"true" default:"1m" desc:"how often the totals are saved"`

	Shard string `split_words:"true" desc:"k/n: this bridge samples the agents whose node id hashes to k of n (0 <= k < n), so n bridges share one broker; empty: all"`

	Tariffs    string `split_words:"true" desc:"tariff schedule, e.g. happy=00:00-07:00;normal=* (see netdata-bridge/tariff); empty: no tariff accounting"`
	TariffTZ   string `split_words:"true" desc:"time zone of the tariff schedule and billing cycles: an IANA name such as Europe/Berlin, or a fixed UTC offset ±HH:MM such as +05:30 (default: the system's)"`
	BillingDay string `split_words:"true" default:"1" desc:"day of the month a billing cycle starts, 1-31 (clamped to the month's end)"`
	TariffCaps string `split_words:"true" desc:"allowance per tariff and cycle, both directions, e.g. normal=500GB;happy="`

	// Viewer marks a bridge that only looks (watch, demo): it neither
	// reads nor writes persisted state, so it never overwrites the totals
	// of the bridge that owns BridgeID.
	Viewer bool `ignored:"true"`
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
	case c.Exact != "" && c.Exact != "on" && c.Exact != "off":
		return config.Errorf("EXACT", c.Exact, "must be on or off")
	case c.ObsoleteAfter <= 0:
		return config.Errorf("OBSOLETE_AFTER", c.ObsoleteAfter.String(), "must be positive")
	case c.MaxGap < c.Interval:
		return config.Errorf("MAX_GAP", c.MaxGap.String(), "must be at least IFSTAT_INTERVAL")
	case c.MaxBitsPerSec == 0:
		return config.Errorf("MAX_BITS_PER_SEC", "0", "must be positive")
	}
	switch {
	case c.BridgeID == "" || !wire.ValidNode(c.BridgeID):
		return config.Errorf("BRIDGE_ID", c.BridgeID, "not an id ([a-z0-9_-], at most %d bytes)", wire.MaxNodeLen)
	case c.HA != "on" && c.HA != "off":
		return config.Errorf("HA", c.HA, "must be on or off")
	case !wire.ValidPrefix(c.HAPrefix) || strings.Contains(c.HAPrefix, "/"):
		return config.Errorf("HA_PREFIX", c.HAPrefix, "must be one topic level without + or #")
	case c.HAInterval < time.Second || c.HAInterval < c.Interval:
		return config.Errorf("HA_INTERVAL", c.HAInterval.String(), "must be at least 1s and at least IFSTAT_INTERVAL")
	case c.StateInterval < time.Second:
		return config.Errorf("STATE_INTERVAL", c.StateInterval.String(), "must be at least 1s")
	}
	if c.StateDir != "" {
		if st, err := os.Stat(c.StateDir); err != nil || !st.IsDir() {
			return config.Errorf("STATE_DIR", c.StateDir, "not an existing directory")
		}
	}
	if _, _, err := c.ShardSpec(); err != nil {
		return err
	}
	if _, err := c.TariffConfig(); err != nil {
		return err
	}
	for _, n := range c.Nodes {
		if !wire.ValidNode(n) {
			return config.Errorf("NODES", n, "not a node id ([a-z0-9_-], at most %d bytes)", wire.MaxNodeLen)
		}
	}
	return nil
}

// TariffConfig builds the tariff accounting from the IFSTAT_TARIFF*
// variables; nil when IFSTAT_TARIFFS is empty. Errors are *config.Error.
func (c *Config) TariffConfig() (*Tariffs, error) {
	if c.Tariffs == "" {
		return nil, nil
	}
	loc, err := tariff.LoadZone(c.TariffTZ)
	if err != nil {
		return nil, err
	}
	s, err := tariff.Parse(c.Tariffs, loc)
	if err != nil {
		return nil, err
	}
	day, err := tariff.ParseBillingDay(c.BillingDay)
	if err != nil {
		return nil, err
	}
	caps, err := tariff.ParseCaps(c.TariffCaps, s)
	if err != nil {
		return nil, err
	}
	return &Tariffs{Schedule: s, BillingDay: day, Caps: caps}, nil
}

// ShardSpec parses IFSTAT_SHARD ("k/n"); 0, 0 when unset.
func (c *Config) ShardSpec() (k, n int, err error) {
	if c.Shard == "" {
		return 0, 0, nil
	}
	ks, ns, ok := strings.Cut(c.Shard, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || n > 1024 || k < 0 || k >= n {
		return 0, 0, config.Errorf("SHARD", c.Shard, "want k/n with 0 <= k < n <= 1024, e.g. 0/2")
	}
	return k, n, nil
}
