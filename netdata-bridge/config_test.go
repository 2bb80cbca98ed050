package bridge

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
)

func validConfig() Config {
	return Config{
		Common:   config.Common{Broker: "tcp://127.0.0.1:1883", TopicPrefix: "ifstat", LogLevel: "info", LogFormat: "text"},
		Interval: time.Second, Netdata: "auto", ObsoleteAfter: 5 * time.Minute, MaxGap: 10 * time.Second, MaxBitsPerSec: 1e10,
		BridgeID: "nas", HA: "on", HAPrefix: "homeassistant", HAInterval: 10 * time.Second, StateInterval: time.Minute, BillingDay: "1",
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantVar string
	}{
		{"defaults", func(*Config) {}, ""},
		{"shard", func(c *Config) { c.Shard = "1/2" }, ""},
		{"tariffs", func(c *Config) {
			c.Tariffs, c.TariffTZ, c.TariffCaps = "happy=00:00-07:00;normal=*", "Europe/Berlin", "normal=500GB"
		}, ""},
		{"interval too short", func(c *Config) { c.Interval = 50 * time.Millisecond }, "IFSTAT_INTERVAL"},
		{"netdata", func(c *Config) { c.Netdata = "yes" }, "IFSTAT_NETDATA"},
		{"max gap below interval", func(c *Config) { c.MaxGap = time.Millisecond }, "IFSTAT_MAX_GAP"},
		{"bad node", func(c *Config) { c.Nodes = []string{"ER-X"} }, "IFSTAT_NODES"},
		{"bad bridge id", func(c *Config) { c.BridgeID = "a/b" }, "IFSTAT_BRIDGE_ID"},
		{"ha", func(c *Config) { c.HA = "maybe" }, "IFSTAT_HA"},
		{"ha prefix", func(c *Config) { c.HAPrefix = "a/b" }, "IFSTAT_HA_PREFIX"},
		{"ha interval", func(c *Config) { c.HAInterval = 0 }, "IFSTAT_HA_INTERVAL"},
		{"state dir", func(c *Config) { c.StateDir = "/nonexistent/x" }, "IFSTAT_STATE_DIR"},
		{"shard syntax", func(c *Config) { c.Shard = "2" }, "IFSTAT_SHARD"},
		{"shard range", func(c *Config) { c.Shard = "2/2" }, "IFSTAT_SHARD"},
		{"tariff overlap", func(c *Config) { c.Tariffs = "a=00:00-08:00;b=07:00-09:00;c=*" }, "IFSTAT_TARIFFS"},
		{"tariff zone", func(c *Config) { c.Tariffs, c.TariffTZ = "a=*", "Mars/Olympus" }, "IFSTAT_TARIFF_TZ"},
		{"tariff offset", func(c *Config) { c.Tariffs, c.TariffTZ = "a=*", "+05:30" }, ""},
		{"tariff negative offset", func(c *Config) { c.Tariffs, c.TariffTZ = "a=*", "-03:00" }, ""},
		{"tariff offset with seconds", func(c *Config) { c.Tariffs, c.TariffTZ = "a=*", "+05:30:10" }, "IFSTAT_TARIFF_TZ"},
		{"tariff offset out of range", func(c *Config) { c.Tariffs, c.TariffTZ = "a=*", "+24:00" }, "IFSTAT_TARIFF_TZ"},
		{"tariff offset one digit", func(c *Config) { c.Tariffs, c.TariffTZ = "a=*", "+5:30" }, "IFSTAT_TARIFF_TZ"},
		{"tariff offset after UTC", func(c *Config) { c.Tariffs, c.TariffTZ = "a=*", "UTC+1" }, "IFSTAT_TARIFF_TZ"},
		{"billing day", func(c *Config) { c.Tariffs, c.BillingDay = "a=*", "32" }, "IFSTAT_BILLING_DAY"},
		{"caps", func(c *Config) { c.Tariffs, c.TariffCaps = "a=*", "b=1GB" }, "IFSTAT_TARIFF_CAPS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantVar == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != tt.wantVar {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantVar)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message has several lines: %q", err)
			}
		})
	}
}
