package bridge

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// loadConfig loads a Config the way the binary does, from IFSTAT_*
// variables over the defaults, and validates it.
func loadConfig(t *testing.T, env map[string]string) (Config, error) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.Prefix+"_") {
			t.Setenv(k, "") // t.Setenv restores it afterwards
			os.Unsetenv(k)
		}
	}
	t.Setenv("IFSTAT_BRIDGE_ID", "nas")
	for k, v := range env {
		t.Setenv(k, v)
	}
	var c Config
	if err := config.Load(&c, ""); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestConfigLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
		// wantMsg, if set, is the whole line the binary prints.
		wantMsg string
	}{
		{"defaults", nil, "", ""},
		{"shard", map[string]string{"IFSTAT_SHARD": "1/2"}, "", ""},
		{"shard auto", map[string]string{"IFSTAT_SHARD": "Auto"}, "", ""},
		{"tariffs", map[string]string{"IFSTAT_TARIFFS": "happy=00:00-07:00;normal=*", "IFSTAT_TARIFF_TZ": "Europe/Berlin", "IFSTAT_TARIFF_CAPS": "normal=500GB"}, "", ""},
		{"interval too short", map[string]string{"IFSTAT_INTERVAL": "50ms"}, "IFSTAT_INTERVAL", ""},
		{"netdata", map[string]string{"IFSTAT_NETDATA": "yes"}, "IFSTAT_NETDATA", `IFSTAT_NETDATA: "yes": must be auto, on or off`},
		{"exact", map[string]string{"IFSTAT_EXACT": "maybe"}, "IFSTAT_EXACT", `IFSTAT_EXACT: "maybe": must be on or off`},
		{"max gap below interval", map[string]string{"IFSTAT_MAX_GAP": "1ms"}, "IFSTAT_MAX_GAP", ""},
		{"bad node", map[string]string{"IFSTAT_NODES": "ER-X"}, "IFSTAT_NODES", ""},
		{"bad bridge id", map[string]string{"IFSTAT_BRIDGE_ID": "a/b"}, "IFSTAT_BRIDGE_ID", ""},
		{"ha", map[string]string{"IFSTAT_HA": "maybe"}, "IFSTAT_HA", `IFSTAT_HA: "maybe": must be on or off`},
		{"ha prefix", map[string]string{"IFSTAT_HA_PREFIX": "a/b"}, "IFSTAT_HA_PREFIX", ""},
		{"ha interval", map[string]string{"IFSTAT_HA_INTERVAL": "0s"}, "IFSTAT_HA_INTERVAL", ""},
		{"state dir", map[string]string{"IFSTAT_STATE_DIR": "/nonexistent/x"}, "IFSTAT_STATE_DIR", ""},
		{"shard syntax", map[string]string{"IFSTAT_SHARD": "2"}, "IFSTAT_SHARD", `IFSTAT_SHARD: "2": want auto, or k/n with 0 <= k < n <= 1024, e.g. 0/2`},
		{"shard range", map[string]string{"IFSTAT_SHARD": "2/2"}, "IFSTAT_SHARD", ""},
		{"tariff overlap", map[string]string{"IFSTAT_TARIFFS": "a=00:00-08:00;b=07:00-09:00;c=*"}, "IFSTAT_TARIFFS",
			`IFSTAT_TARIFFS: "a=00:00-08:00;b=07:00-09:00;c=*": tariff "b": overlaps tariff "a" on Mon 07:00`},
		{"tariff zone", map[string]string{"IFSTAT_TARIFFS": "a=*", "IFSTAT_TARIFF_TZ": "Mars/Olympus"}, "IFSTAT_TARIFF_TZ",
			`IFSTAT_TARIFF_TZ: "Mars/Olympus": unknown time zone (want an IANA name such as Europe/Berlin, or an offset such as +05:30)`},
		{"tariff offset", map[string]string{"IFSTAT_TARIFFS": "a=*", "IFSTAT_TARIFF_TZ": "+05:30"}, "", ""},
		{"tariff negative offset", map[string]string{"IFSTAT_TARIFFS": "a=*", "IFSTAT_TARIFF_TZ": "-03:00"}, "", ""},
		{"tariff offset with seconds", map[string]string{"IFSTAT_TARIFFS": "a=*", "IFSTAT_TARIFF_TZ": "+05:30:10"}, "IFSTAT_TARIFF_TZ", ""},
		{"tariff offset out of range", map[string]string{"IFSTAT_TARIFFS": "a=*", "IFSTAT_TARIFF_TZ": "+24:00"}, "IFSTAT_TARIFF_TZ", ""},
		{"tariff offset one digit", map[string]string{"IFSTAT_TARIFFS": "a=*", "IFSTAT_TARIFF_TZ": "+5:30"}, "IFSTAT_TARIFF_TZ", ""},
		{"tariff offset after UTC", map[string]string{"IFSTAT_TARIFFS": "a=*", "IFSTAT_TARIFF_TZ": "UTC+1"}, "IFSTAT_TARIFF_TZ", ""},
		{"billing day", map[string]string{"IFSTAT_TARIFFS": "a=*", "IFSTAT_BILLING_DAY": "32"}, "IFSTAT_BILLING_DAY",
			`IFSTAT_BILLING_DAY: "32": must be a day of the month, 1 to 31`},
		{"caps", map[string]string{"IFSTAT_TARIFFS": "a=*", "IFSTAT_TARIFF_CAPS": "b=1GB"}, "IFSTAT_TARIFF_CAPS",
			`IFSTAT_TARIFF_CAPS: "b=1GB": unknown tariff "b" (the schedule has a)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(t, tt.env)
			if tt.wantVar == "" {
				if err != nil {
					t.Fatalf("Load and Validate = %v", err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != tt.wantVar {
				t.Fatalf("Load and Validate = %v, want an error naming %s", err, tt.wantVar)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message has several lines: %q", err)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("message = %q, want %q", err, tt.wantMsg)
			}
		})
	}
}

// TestConfigTyped: what Validate parsed is what the bridge uses; nothing is
// parsed again later.
func TestConfigTyped(t *testing.T) {
	c, err := loadConfig(t, map[string]string{"IFSTAT_SHARD": "1/3", "IFSTAT_HA": "off", "IFSTAT_NETDATA": "on",
		"IFSTAT_TARIFFS": "happy=00:00-07:00;normal=*", "IFSTAT_TARIFF_TZ": "+05:30", "IFSTAT_BILLING_DAY": "15", "IFSTAT_TARIFF_CAPS": "normal=1kB"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Shard != (Shard{K: 1, N: 3}) || bool(c.HA) || !c.Netdata.On(false) {
		t.Errorf("typed values = shard %v, ha %v, netdata %v", c.Shard, c.HA, c.Netdata)
	}
	tc := c.TariffConfig()
	if tc == nil || tc.BillingDay != 15 || tc.Caps["normal"] != 1000 || tc.Schedule.Location().String() != "+05:30" {
		t.Fatalf("TariffConfig() = %+v", tc)
	}
	b, err := New(c, quietLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if b.sampler.cfg.Tariffs != tc || b.sampler.cfg.Shard != 1 || b.sampler.cfg.Shards != 3 {
		t.Errorf("the sampler got tariffs %p (want %p), shard %d/%d", b.sampler.cfg.Tariffs, tc, b.sampler.cfg.Shard, b.sampler.cfg.Shards)
	}
	if c.Interval != time.Second {
		t.Errorf("Interval = %v, want the default 1s", c.Interval)
	}
}

// TestShardAuto: IFSTAT_SHARD=auto makes the sampler share by members, as
// this bridge's id, except in a viewer (watch, demo), which looks at every
// agent and must not take any from the fleet.
func TestShardAuto(t *testing.T) {
	c, err := loadConfig(t, map[string]string{"IFSTAT_SHARD": "auto", "IFSTAT_BRIDGE_ID": "b7"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Shard != (Shard{Auto: true}) || c.Shard.String() != "auto" {
		t.Fatalf("Shard = %+v (%q), want auto", c.Shard, c.Shard)
	}
	for _, viewer := range []bool{false, true} {
		c.Viewer = viewer
		b, err := New(c, quietLog(t))
		if err != nil {
			t.Fatal(err)
		}
		if got := b.sampler.cfg; got.Auto == viewer || got.Self != "b7" {
			t.Errorf("viewer %v: sampler Auto %v, Self %q", viewer, got.Auto, got.Self)
		}
		if b.perNode() == viewer || (b.stateTopics() == wire.FleetStates(c.TopicPrefix)) == viewer {
			t.Errorf("viewer %v: per-node replies %v, fleet copies %v", viewer, b.perNode(), b.stateTopics())
		}
	}
}
