package importrules

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/ifstat-mqtt/ifstat-mqtt"

// deps lists what pkg links (go list -deps, test files excluded), so a rule
// covers indirect imports too.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr)
	}
	return strings.Fields(string(out))
}

// under reports whether path is prefix or a package below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	var (
		paho      = "github.com/eclipse/paho.mqtt.golang"
		logrus    = "github.com/sirupsen/logrus"
		envconfig = "github.com/kelseyhightower/envconfig"
		config    = module + "/internal/config"
	)
	// pure are the packages of pure logic: time is an argument, and
	// nothing of the network, logging or configuration is linked.
	pure := []string{"netdata-bridge/rate", "internal/refresh", "netdata-bridge/tariff",
		"netdata-bridge/clock", "netdata-bridge/netdata/plugind", "internal/satmath",
		"discovery", "internal/wire", "netdata-bridge/state"}
	tests := []struct {
		pkg    string
		banned []string
		why    string
	}{
		{"cmd/ifstat-agent", []string{module + "/netdata-bridge", module + "/discovery"},
			"the agent runs on routers: it links neither the bridge nor Home Assistant code"},
		{"netdata-bridge", []string{module + "/netdata-bridge/netdata", module + "/netdata-bridge/watch",
			module + "/discovery"},
			"the bridge core knows its outputs only through its Output interface"},
	}
	for _, p := range pure {
		tests = append(tests, struct {
			pkg    string
			banned []string
			why    string
		}{p, []string{paho, logrus, envconfig, config}, "a pure package links no network, logging or configuration"})
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			t.Parallel()
			all := deps(t, module+"/"+tt.pkg)
			if len(all) == 0 {
				t.Fatalf("go list -deps %s listed nothing", tt.pkg)
			}
			for _, d := range all {
				if d == module+"/"+tt.pkg {
					continue
				}
				for _, b := range tt.banned {
					if under(d, b) {
						t.Errorf("%s links %s: %s", tt.pkg, d, tt.why)
					}
				}
			}
		})
	}
}
