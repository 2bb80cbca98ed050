package bridge_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdatatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
)

// shippedHealth is the alert file install-plugin.sh installs.
const shippedHealth = "../packaging/netdata/health.d/ifstat.conf"

// healthOnWrapper is a netdata "binary" for netdatatest.Options.Binary:
// netdatatest writes a netdata.conf with [health] enabled = no and has no
// option to turn it on, so this script edits that file before it execs
// the real daemon with the same arguments (-D -c FILE -P FILE). It turns
// health on and points the notification script at /bin/true (the private
// plugins directory has no alarm-notify.sh).
const healthOnWrapper = `#!/bin/sh
set -eu
conf=
prev=
for a in "$@"; do
	[ "$prev" = "-c" ] && conf=$a
	prev=$a
done
[ -n "$conf" ] || { echo "health wrapper: no -c FILE in $*" >&2; exit 2; }
sed -i '/^\[health\]/,/^\[/ s|^\tenabled = no$|\tenabled = yes\n\tscript to execute on alarm = /bin/true|' "$conf"
grep -q '^	enabled = yes$' "$conf" || { echo "health wrapper: could not enable health in $conf" >&2; exit 2; }
exec %s "$@"
`

// alarm is one entry of /api/v1/alarms.
type alarm struct {
	Name   string   `json:"name"`
	Chart  string   `json:"chart"`
	Family string   `json:"family"`
	Status string   `json:"status"`
	Value  *float64 `json:"value"`
	Units  string   `json:"units"`
	Info   string   `json:"info"`
}

func getAlarms(nd *netdatatest.Netdata, all bool) (map[string]alarm, error) {
	u := nd.URL() + "/api/v1/alarms"
	if all {
		u += "?all"
	}
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var v struct {
		Alarms map[string]alarm `json:"alarms"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", u, err)
	}
	return v.Alarms, nil
}

func fmtAlarm(a alarm) string {
	v := "null"
	if a.Value != nil {
		v = fmt.Sprintf("%g", *a.Value)
	}
	return fmt.Sprintf("%s on %s (family %s): %s, value %s %s", a.Name, a.Chart, a.Family, a.Status, v, a.Units)
}

// TestAlertsE2E loads the shipped health.d/ifstat.conf into a real Netdata
// running the bridge as ifstat.plugin, with a real agent and Mosquitto:
// every template is instantiated on its chart (the link-utilisation ones
// with a value computed from the chart variable link_speed_mbps), and
// killing the agent raises "router not answering".
func TestAlertsE2E(t *testing.T) {
	t.Parallel()
	proctest.SkipShort(t, "starts Netdata, Mosquitto and an agent")
	proctest.SkipRace(t, "waits a minute for the alarms' values")
	ndBin, err := exec.LookPath("netdata")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/netdata"); serr != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("netdata not found (CI=true: a missing netdata is a failure): %v", err)
			}
			t.Skipf("netdata not found: %v", err)
		}
		ndBin = "/usr/sbin/netdata"
	}
	shipped, err := os.ReadFile(shippedHealth)
	if err != nil {
		t.Fatal(err)
	}
	// Netdata 1.37 runs a lookup alarm only once its chart holds as much
	// history as the lookup spans; the shipped minute would make this
	// test wait over a minute before any utilisation is computed. Only
	// the spans are shortened; everything else is loaded as shipped.
	health := shipped
	for _, span := range []string{"average -1m unaligned", "max -1m unaligned"} {
		if !bytes.Contains(health, []byte("lookup: "+span)) {
			t.Fatalf("%s has no \"lookup: %s\" any more: update this test", shippedHealth, span)
		}
		health = bytes.ReplaceAll(health, []byte("lookup: "+span), []byte("lookup: "+strings.Replace(span, "-1m", "-5s", 1)))
	}
	wrapper := filepath.Join(t.TempDir(), "netdata-health-on")
	if err := os.WriteFile(wrapper, fmt.Appendf(nil, healthOnWrapper, ndBin), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildBinaries(t)
	broker := brokertest.Start(t)
	if broker.Embedded() && os.Getenv("CI") == "true" {
		t.Fatal("CI=true: the alerts test needs a real mosquitto")
	}
	nd := netdatatest.Start(t, netdatatest.Options{
		Binary:      wrapper,
		PluginFiles: map[string]string{"ifstat.plugin": bin.bridge},
		UserConfig: map[string][]byte{
			"ifstat.conf":          []byte("IFSTAT_BROKER=tcp://" + broker.Addr() + "\n"),
			"health.d/ifstat.conf": health,
		},
	})
	t.Logf("netdata %s on %s, broker %s", nd.Version(), nd.URL(), broker.URL())
	defer func() {
		if t.Failed() {
			t.Logf("bridge stderr (from netdata's error log):\n%s", bridgeLines(nd.ErrorLog()))
		}
	}()

	const node = "alerts"
	e := &e2e{nd: nd, agentBin: bin.agent, broker: broker, born: map[string]time.Time{}}
	// 50 Mbit/s received on a 100 Mbit/s link: 50 %.
	src := e.newSource(t, node, map[string]ramp{
		"eth0": {rx: 6_250_000, tx: 1_250_000, rxStart: 1e9, txStart: 1e9, ifindex: 2, speed: 100},
	})
	// Watch mode, so the bridge knows how fresh the counters are and
	// defines the refresh chart the third template is on.
	agent := proctest.Start(t, "agent "+node, bin.agent, []string{
		"IFSTAT_BROKER=" + broker.URL(),
		"IFSTAT_NODE=" + node,
		"IFSTAT_PROC_ROOT=" + src.tree.ProcRoot(),
		"IFSTAT_SYS_ROOT=" + src.tree.SysRoot(),
		"IFSTAT_WATCH=100ms",
		"IFSTAT_LOG_LEVEL=info",
	}, proctest.Guard(guard))

	typ := "ifstat_" + node
	want := map[string]string{ // alarm key (chart.name) -> template
		typ + ".agent.ifstat_router_not_answering":                        "ifstat_router_not_answering",
		typ + ".eth0_net.ifstat_1m_received_traffic_overflow":             "ifstat_1m_received_traffic_overflow",
		typ + ".eth0_net.ifstat_1m_sent_traffic_overflow":                 "ifstat_1m_sent_traffic_overflow",
		typ + ".eth0_refresh.ifstat_counter_refresh_slower_than_interval": "ifstat_counter_refresh_slower_than_interval",
	}
	for key := range want {
		if !bytes.Contains(shipped, []byte("template: "+want[key])) {
			t.Fatalf("%s has no template %s", shippedHealth, want[key])
		}
	}
	// Every template instantiated, and the received utilisation computed
	// (its lookup needs data, its calc the chart variable).
	start := time.Now()
	deadline := start.Add(guard)
	var all map[string]alarm
	for {
		all, err = getAlarms(nd, true)
		ok := err == nil
		for key := range want {
			if _, found := all[key]; !found {
				ok = false
			}
		}
		util := all[typ+".eth0_net.ifstat_1m_received_traffic_overflow"]
		refresh := all[typ+".eth0_refresh.ifstat_counter_refresh_slower_than_interval"]
		if ok && util.Value != nil && refresh.Value != nil {
			if v := *util.Value; v < 40 || v > 60 {
				t.Errorf("received utilisation %g %%, want about 50 (50 Mbit/s on a 100 Mbit/s link)", v)
			}
			break
		}
		if time.Now().After(deadline) {
			var keys []string
			for k, a := range all {
				keys = append(keys, k+": "+fmtAlarm(a))
			}
			slices.Sort(keys)
			t.Fatalf("after %v /api/v1/alarms?all (err %v) lists:\n%s\nwant every one of %v with the utilisation and refresh period computed; error log tail:\n%s",
				guard, err, strings.Join(keys, "\n"), want, tailLines(nd.ErrorLog(), 40))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("all alarms listed, utilisation and refresh period computed %v after the agent started", time.Since(start).Round(time.Millisecond))
	var keys []string
	for k := range all {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("  %s", fmtAlarm(all[k]))
	}
	key := typ + ".agent.ifstat_router_not_answering"
	for _, k := range []string{key, typ + ".eth0_net.ifstat_1m_received_traffic_overflow", typ + ".eth0_net.ifstat_1m_sent_traffic_overflow"} {
		if s := all[k].Status; s != "CLEAR" {
			t.Errorf("%s is %s while the agent answers at 50 %% of the link, want CLEAR", k, s)
		}
	}

	agent.Kill(t)
	killed := time.Now()
	deadline = killed.Add(guard)
	for {
		active, err := getAlarms(nd, false)
		if a, ok := active[key]; err == nil && ok && (a.Status == "WARNING" || a.Status == "CRITICAL") {
			t.Logf("%s %v after the agent was killed: %s", a.Status, time.Since(killed).Round(time.Millisecond), fmtAlarm(a))
			break
		}
		if time.Now().After(deadline) {
			all, _ := getAlarms(nd, true)
			t.Fatalf("%s not raised within %v of killing the agent (err %v); now: %s", key, guard, err, fmtAlarm(all[key]))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
