package bridge

import (
	"errors"
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
	Netdata       config.Auto   `split_words:"true" default:"auto" desc:"plugins.d output on stdout: auto (on when run by Netdata), on or off"`
	ObsoleteAfter time.Duration `split_words:"true" default:"5m" desc:"how long an interface may be missing before its charts are removed"`
	MaxGap        time.Duration `split_words:"true" default:"10s" desc:"longest span between two replies that still gives a rate"`
	MaxBitsPerSec uint64        `split_words:"true" default:"10000000000" desc:"fastest plausible link in bits/s where the agent reports no speed; bounds wrap detection"`
	Exact         config.Switch `split_words:"true" default:"off" desc:"experimental: on divides each delta by the span between the driver refreshes fitted from the reads alone (docs/accuracy.md), off by the read span"`
	BridgeID      string        `split_words:"true" desc:"stable id of this bridge in topics and Home Assistant, [a-z0-9_-] (default: the host name)"`
	HA            config.Switch `split_words:"true" default:"on" desc:"Home Assistant discovery and states: on or off"`
	HAPrefix      string        `split_words:"true" default:"homeassistant" desc:"Home Assistant discovery prefix"`
	HAInterval    time.Duration `split_words:"true" default:"10s" desc:"time between Home Assistant state updates; each is the exact average over that window"`
	StateDir      string        `split_words:"true" desc:"directory for state.json, the persisted totals (default: none; as a Netdata plugin: NETDATA_LIB_DIR); a retained copy is kept on the broker either way"`
	StateInterval time.Duration `split_words:"true" default:"1m" desc:"how often the totals are saved"`

	Shard Shard `split_words:"true" desc:"auto: share the agents with the other auto bridges online on this broker, and take over theirs when they go (docs/scale-out.md); k/n: sample the agents whose node id hashes to k of n (0 <= k < n); empty: all"`

	Tariffs    string     `split_words:"true" desc:"tariff schedule, e.g. happy=00:00-07:00;normal=* (see docs/tariffs.md); empty: no tariff accounting"`
	TariffTZ   TariffZone `split_words:"true" desc:"time zone of the tariff schedule and billing cycles: an IANA name such as Europe/Berlin, or a fixed UTC offset ±HH:MM such as +05:30 (default: the system's)"`
	BillingDay BillingDay `split_words:"true" default:"1" desc:"day of the month a billing cycle starts, 1-31 (clamped to the month's end)"`
	TariffCaps string     `split_words:"true" desc:"allowance per tariff and cycle, both directions, e.g. normal=500GB;happy="`

	// Viewer marks a bridge that only looks (watch, demo): it neither
	// reads nor writes persisted state, so it never overwrites the totals
	// of the bridge that owns BridgeID.
	Viewer bool `ignored:"true"`

	// tariffs is IFSTAT_TARIFFS and IFSTAT_TARIFF_CAPS parsed by Validate
	// (they depend on the zone and on each other, so no Decoder can).
	tariffs *Tariffs
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
	tariffs, err := c.parseTariffs()
	if err != nil {
		return err
	}
	c.tariffs = tariffs
	for _, n := range c.Nodes {
		if !wire.ValidNode(n) {
			return config.Errorf("NODES", n, "not a node id ([a-z0-9_-], at most %d bytes)", wire.MaxNodeLen)
		}
	}
	return nil
}

// TariffConfig is the tariff accounting that Validate parsed from the
// IFSTAT_TARIFF* variables; nil when IFSTAT_TARIFFS is empty.
func (c *Config) TariffConfig() *Tariffs { return c.tariffs }

func (c *Config) parseTariffs() (*Tariffs, error) {
	if c.Tariffs == "" {
		return nil, nil
	}
	s, err := tariff.Parse(c.Tariffs, c.TariffTZ.Location())
	if err != nil {
		return nil, config.Errorf("TARIFFS", c.Tariffs, "%w", err)
	}
	caps, err := tariff.ParseCaps(c.TariffCaps, s)
	if err != nil {
		return nil, config.Errorf("TARIFF_CAPS", c.TariffCaps, "%w", err)
	}
	return &Tariffs{Schedule: s, BillingDay: int(c.BillingDay), Caps: caps}, nil
}

// Shard is IFSTAT_SHARD. Auto: the agents are shared among the auto
// bridges online, by rendezvous hashing (Owner). Otherwise k/n: this
// bridge samples the agents whose node id hashes to K of N. The zero value
// (unset) samples all.
type Shard struct {
	K, N int
	Auto bool
}

// ShardAuto is the IFSTAT_SHARD value of a fleet bridge.
const ShardAuto = "auto"

// Decode parses auto, or k/n with 0 <= k < n <= 1024; empty is the zero
// Shard.
func (s *Shard) Decode(v string) error {
	switch strings.ToLower(v) {
	case "":
		*s = Shard{}
		return nil
	case ShardAuto:
		*s = Shard{Auto: true}
		return nil
	}
	ks, ns, ok := strings.Cut(v, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || n > 1024 || k < 0 || k >= n {
		return errors.New("want auto, or k/n with 0 <= k < n <= 1024, e.g. 0/2")
	}
	*s = Shard{K: k, N: n}
	return nil
}

func (s Shard) String() string {
	if s.Auto {
		return ShardAuto
	}
	if s.N == 0 {
		return ""
	}
	return strconv.Itoa(s.K) + "/" + strconv.Itoa(s.N)
}

// TariffZone is IFSTAT_TARIFF_TZ (see tariff.LoadZone); the zero value is
// the system's zone.
type TariffZone struct{ loc *time.Location }

// Decode resolves an IANA name or a ±HH:MM offset; empty is the system's.
func (z *TariffZone) Decode(v string) error {
	loc, err := tariff.LoadZone(v)
	if err != nil {
		return err
	}
	*z = TariffZone{loc: loc}
	return nil
}

// Location returns the zone, time.Local when unset.
func (z TariffZone) Location() *time.Location {
	if z.loc == nil {
		return time.Local
	}
	return z.loc
}

func (z TariffZone) String() string {
	if z.loc == nil {
		return ""
	}
	return z.loc.String()
}

// BillingDay is IFSTAT_BILLING_DAY, the day of the month a billing cycle
// starts (1 to 31; the zero value means 1).
type BillingDay int

// Decode parses a day of the month; empty is 1.
func (d *BillingDay) Decode(v string) error {
	n, err := tariff.ParseBillingDay(v)
	if err != nil {
		return err
	}
	*d = BillingDay(n)
	return nil
}
