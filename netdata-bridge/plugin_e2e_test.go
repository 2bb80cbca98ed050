package bridge_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdatatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/netdata"
)

// startPluginNetdata starts a broker and a real Netdata running
// ifstat.plugin (plugins: the plugins.d files, as netdatatest.Options.Plugins
// or, without plugins, the bridge itself), and one agent for node with one busy interface.
func startPluginNetdata(t *testing.T, node string, plugins map[string][]byte, logLevel string) *e2e {
	t.Helper()
	e, _ := startPluginNetdataWith(t, node, netdatatest.Options{Plugins: plugins}, logLevel)
	return e
}

// startPluginNetdataWith is startPluginNetdata for a Netdata with more
// options (o.Plugins as the plugins above; o.UserConfig is added to
// ifstat.conf), e.g. a child that streams to a parent. It also returns the
// agent's source, to judge the points against.
func startPluginNetdataWith(t *testing.T, node string, o netdatatest.Options, logLevel string) (*e2e, *source) {
	t.Helper()
	plugins := o.Plugins
	bin := buildBinaries(t)
	broker := brokertest.Start(t)
	if broker.Embedded() && os.Getenv("CI") == "true" {
		t.Fatal("CI=true: the end-to-end test needs a real mosquitto")
	}
	files, helpers := map[string]string{}, map[string]string{}
	if len(plugins) == 0 {
		files["ifstat.plugin"] = bin.bridge
	} else {
		helpers["ifstat-bridge"] = bin.bridge // no .plugin: Netdata does not run it itself
	}
	o.PluginFiles, o.Helpers = files, helpers
	userConfig := map[string][]byte{
		"ifstat.conf": []byte("IFSTAT_BROKER=tcp://" + broker.Addr() + "\nIFSTAT_LOG_LEVEL=" + logLevel + "\n"),
	}
	for k, v := range o.UserConfig {
		if _, ok := userConfig[k]; ok {
			t.Fatalf("user config %s is written by startPluginNetdataWith", k)
		}
		userConfig[k] = v
	}
	o.UserConfig = userConfig
	nd := netdatatest.Start(t, o)
	e := &e2e{nd: nd, agentBin: bin.agent, broker: broker, born: map[string]time.Time{}}
	t.Logf("netdata %s on %s, broker %s", nd.Version(), nd.URL(), broker.URL())
	src := e.newSource(t, node, map[string]ramp{
		"eth0": {rx: 1_250_000, tx: 250_000, rxStart: 1e9, txStart: 5e8, ifindex: 2, speed: 1000},
	})
	e.startAgent(t, node, src)
	return e, src
}

// checkOneRun fails the test unless Netdata started ifstat.plugin exactly
// once and never reported it disconnected, killed or disabled.
func checkOneRun(t *testing.T, nd *netdatatest.Netdata) {
	t.Helper()
	log := nd.ErrorLog()
	if n := strings.Count(log, "plugins.d/ifstat.plugin' running on pid"); n != 1 {
		t.Errorf("netdata started ifstat.plugin %d times, want 1", n)
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "PLUGINSD[ifstat]") && (strings.Contains(line, "disconnected") || strings.Contains(line, "killed") || strings.Contains(line, "disabl")) {
			t.Errorf("netdata error log: %s", line)
		}
	}
	if t.Failed() {
		t.Logf("bridge stderr (from netdata's error log):\n%s", bridgeLines(log))
	}
}

// routerRow returns the row of node in a function table (JSON), as column
// key → value, or nil.
func routerRow(t *testing.T, body []byte, node string) map[string]any {
	t.Helper()
	var tbl struct {
		Status  int     `json:"status"`
		Type    string  `json:"type"`
		Data    [][]any `json:"data"`
		Columns map[string]struct {
			Index int `json:"index"`
		} `json:"columns"`
	}
	if err := json.Unmarshal(body, &tbl); err != nil {
		t.Fatalf("the answer is not JSON: %v\n%s", err, body)
	}
	if tbl.Status != 200 || tbl.Type != "table" {
		t.Fatalf("status %d, type %q, want 200 and table:\n%s", tbl.Status, tbl.Type, body)
	}
	for _, d := range tbl.Data {
		if len(d) > 0 && d[0] == node {
			row := map[string]any{}
			for k, c := range tbl.Columns {
				if c.Index < len(d) {
					row[k] = d[c.Index]
				}
			}
			return row
		}
	}
	return nil
}

// checkRouterRow checks the row of a router whose agent runs at interval
// 1 s with one interface, eth0.
func checkRouterRow(t *testing.T, row map[string]any) {
	t.Helper()
	if age, ok := row["LastReply"].(float64); !ok || age < 0 || age > 10 {
		t.Errorf("last reply age %v, want a few seconds at most", row["LastReply"])
	}
	if row["Interfaces"] != "eth0" || row["Interval"] != 1000.0 {
		t.Errorf("row %v: want interfaces eth0 and interval 1000 ms", row)
	}
}

// TestPluginFunction: a real Netdata 1.37 accepts the plugin's FUNCTION
// line (/api/v1/info lists ifstat-routers on the host) and keeps the plugin
// running. Netdata 1.37.1 release builds serve /api/v1/function only to
// Netdata Cloud (ACLK): locally it answers 403, which the test logs; where it
// answers (a build with ACL_DEV_OPEN_ACCESS, a later version) the table
// must list the router online. The call itself, with the very line 1.37
// writes, is TestPluginFunctionPipe.
func TestPluginFunction(t *testing.T) {
	t.Parallel()
	proctest.SkipShort(t, "starts Netdata, Mosquitto and an agent")
	const node = "e2e-fn"
	e := startPluginNetdata(t, node, nil, "info")
	ctx, cancel := context.WithTimeout(t.Context(), guard)
	defer cancel()
	if _, err := e.nd.WaitChart(ctx, "ifstat_"+node+".eth0_net"); err != nil {
		t.Fatal(err)
	}
	for {
		fns, err := e.nd.Functions(ctx)
		if f, ok := fns[netdata.FunctionName]; ok && err == nil {
			t.Logf("/api/v1/info functions: %s: %+v", netdata.FunctionName, f)
			if f.Timeout != 10 || !strings.Contains(f.Help, "ifstat routers") {
				t.Errorf("function %+v: want timeout 10 and our help", f)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/api/v1/info never listed %s (last: %v, %v)", netdata.FunctionName, fns, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	for {
		r, err := e.nd.Function(ctx, netdata.FunctionName, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Code == 403 {
			t.Logf("GET /api/v1/function?function=%s: %d %s (Netdata %s serves functions to Netdata Cloud only)", netdata.FunctionName, r.Code, r.Body, e.nd.Version())
			break
		}
		if r.Code == 200 {
			if row := routerRow(t, r.Body, node); row != nil && row["Status"] == netdata.StatusOnline {
				t.Logf("GET /api/v1/function?function=%s: %d %s\n%s", netdata.FunctionName, r.Code, r.ContentType, r.Body)
				checkRouterRow(t, row)
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET /api/v1/function?function=%s: %d %s", netdata.FunctionName, r.Code, r.Body)
		case <-time.After(500 * time.Millisecond):
		}
	}
	checkOneRun(t, e.nd)
}

// TestPluginFunctionPipe: the real plugin, run as Netdata 1.37.1 runs it
// (NETDATA_VERSION, update-every argument, pipes on stdin and stdout) with
// a real agent and broker, offers ifstat-routers with FUNCTION GLOBAL and
// answers the line Netdata 1.37.1 writes for a call (pluginsd_parser.c:
// FUNCTION <uuid> <timeout> "<name>") with a table listing the router
// online, never inside a chart's BEGIN…END round; malformed lines on stdin
// are logged and ignored.
func TestPluginFunctionPipe(t *testing.T) {
	t.Parallel()
	proctest.SkipShort(t, "starts Mosquitto, an agent and the plugin")
	const node = "e2e-fnpipe"
	bin := buildBinaries(t)
	broker := brokertest.Start(t)
	if broker.Embedded() && os.Getenv("CI") == "true" {
		t.Fatal("CI=true: the end-to-end test needs a real mosquitto")
	}
	e := &e2e{agentBin: bin.agent, broker: broker, born: map[string]time.Time{}}
	src := e.newSource(t, node, map[string]ramp{
		"eth0": {rx: 1_250_000, tx: 250_000, rxStart: 1e9, txStart: 5e8, ifindex: 2, speed: 1000},
	})
	e.startAgent(t, node, src)

	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	defer stdinW.Close()
	p := proctest.Start(t, "ifstat.plugin", bin.bridge, []string{
		"NETDATA_VERSION=v1.37.1", "NETDATA_USER_CONFIG_DIR=" + t.TempDir(),
		"IFSTAT_BROKER=" + broker.URL(), "IFSTAT_LOG_LEVEL=info",
	}, proctest.Args("1"), proctest.Stdout(stdoutW), proctest.Prep(func(c *exec.Cmd) { c.Stdin = stdinR }))
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stdoutR)
		sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(guard)
	inRound, advertised := false, false
	var result []string
	const tx = "3f1c7a52-93d4-11f1-8f1e-0242ac120002"
	sent := 0
	resultCode := ""
	for resultCode == "" {
		var l string
		select {
		case <-deadline:
			t.Fatalf("no function result in %v (advertised %v)", guard, advertised)
		case <-p.Done():
			t.Fatalf("the plugin exited: %v", p.Err())
		case l = <-lines:
		}
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "BEGIN":
			inRound = true
		case f[0] == "END":
			inRound = false
		case f[0] == "FUNCTION" && len(f) >= 2 && f[1] == "GLOBAL":
			advertised = true
			t.Logf("advertised: %s", l)
		case f[0] == "FUNCTION_RESULT_BEGIN":
			if inRound {
				t.Errorf("a function result inside a chart round")
			}
			if len(f) != 5 || f[1] != tx {
				t.Fatalf("result header %q", l)
			}
			code := f[2]
			var body []string
			for l = range lines {
				if l == "FUNCTION_RESULT_END" {
					break
				}
				body = append(body, l)
			}
			row := routerRow(t, []byte(strings.Join(body, "\n")), node)
			if code == "200" && row != nil && row["Status"] == netdata.StatusOnline && row["LastReply"] != nil {
				resultCode, result = code, body
				checkRouterRow(t, row)
			} else {
				sent = 0 // the router is not online yet: ask again
			}
		}
		// Once a chart round was written (the agent answered), call.
		if advertised && f[0] == "END" && sent == 0 {
			sent++
			if _, err := io.WriteString(stdinW, "garbage \x01 line\nFUNCTION "+tx+" 10 \""+netdata.FunctionName+"\"\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Keep reading, so the plugin never blocks on a full pipe.
	go func() {
		for range lines {
		}
	}()
	t.Logf("FUNCTION_RESULT_BEGIN %s %s 'application/json' …\n%s\nFUNCTION_RESULT_END", tx, resultCode, strings.Join(result, "\n"))
	if !strings.Contains(p.Stderr().String(), "ignoring a line on stdin") {
		t.Errorf("the garbage line was not logged:\n%s", p.Stderr())
	}
}

// stdinDevNullWrapper is ifstat.plugin for TestPluginStdinDevNull: it runs
// the bridge (next to it in plugins.d) with stdin on /dev/null, as Netdata
// before 1.37 starts plugins, so stdin ends at once.
const stdinDevNullWrapper = `#!/bin/sh
exec "$(dirname "$0")/ifstat-bridge" "$@" </dev/null
`

// chartingFor is how long TestPluginStdinDevNull watches the charts: 20 s
// in the suite (stdin ends at the plugin's start, so any span shows it
// charting on), 60 s with IFSTAT_TEST_CHARTING=60s.
func chartingFor(t *testing.T) time.Duration {
	v := os.Getenv("IFSTAT_TEST_CHARTING")
	if v == "" {
		return 20 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 5*time.Second {
		t.Fatalf("IFSTAT_TEST_CHARTING=%q: want a duration of at least 5s", v)
	}
	return d
}

// TestPluginStdinDevNull: under a real Netdata,
// with stdin on /dev/null, the plugin keeps charting (chartingFor): every
// second of that span has a point, and Netdata started it once. That it
// exits within seconds of its stdout closing, with a log line, is
// TestPluginStopsWhenStdoutCloses in cmd/ifstat-bridge (lifecycle_test.go).
func TestPluginStdinDevNull(t *testing.T) {
	t.Parallel()
	proctest.SkipShort(t, "starts Netdata, Mosquitto and an agent and watches them for a minute")
	chartingFor := chartingFor(t)
	const node = "e2e-devnull"
	e := startPluginNetdata(t, node, map[string][]byte{"ifstat.plugin": []byte(stdinDevNullWrapper)}, "debug")
	chart := "ifstat_" + node + ".eth0_net"
	ctx, cancel := context.WithTimeout(t.Context(), guard)
	defer cancel()
	if _, err := e.nd.WaitChart(ctx, chart); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if !strings.Contains(e.nd.ErrorLog(), "stdin closed; charting on until stdout breaks") {
		// Logged at once: the wrapper gave the bridge /dev/null.
		t.Errorf("no log line saying stdin ended; bridge stderr:\n%s", bridgeLines(e.nd.ErrorLog()))
	}
	select {
	case <-t.Context().Done():
		t.Fatal("test ended early")
	case <-time.After(chartingFor):
	}
	d, err := e.nd.Data(t.Context(), chart, int(chartingFor/time.Second))
	if err != nil {
		t.Fatal(err)
	}
	col, ok := d.Column("received")
	if !ok {
		t.Fatalf("no received column in %v", d.Labels)
	}
	nonNull, lastT := 0, 0.0
	for i, v := range col {
		if v != nil {
			nonNull++
			lastT = *d.Rows[i][0]
		}
	}
	lag := time.Since(time.Unix(int64(lastT), 0))
	t.Logf("stdin on /dev/null: %d of %d points of the last %v after %v of charting; newest point %v old", nonNull, len(col), chartingFor, time.Since(start).Round(time.Second), lag.Round(time.Second))
	// A point per second; a few may be missing at a busy moment of a
	// shared machine, but a plugin that stopped has none at the end.
	if want := int(chartingFor/time.Second) * 8 / 10; nonNull < want {
		t.Errorf("%d points in the last %v, want at least %d", nonNull, chartingFor, want)
	}
	if lag > 10*time.Second {
		t.Errorf("the newest point is %v old: the plugin stopped charting", lag)
	}
	checkOneRun(t, e.nd)

	// Netdata dies without stopping its plugins: the plugin's stdout has
	// no reader any more, and it must notice that by itself, exit and say
	// why (TestPluginLifecycle in cmd/ifstat-bridge shows the same with a
	// bare pipe).
	m := regexp.MustCompile(`plugins.d/ifstat.plugin' running on pid ([0-9]+)`).FindStringSubmatch(e.nd.ErrorLog())
	if m == nil {
		t.Fatal("no pid of ifstat.plugin in netdata's error log")
	}
	pid, _ := strconv.Atoi(m[1])
	killed := time.Now()
	e.nd.KillDaemon()
	for processRuns(pid) {
		if time.Since(killed) > guard {
			t.Fatalf("the plugin (pid %d) still runs %v after Netdata was killed", pid, guard)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(killed)
	t.Logf("plugin (pid %d) exited %v after Netdata was killed (want at most 5 s)", pid, took.Round(time.Millisecond))
	const why = "stdout closed: Netdata stopped reading"
	var line string
	for _, l := range strings.Split(e.nd.ErrorLog(), "\n") {
		if strings.Contains(l, why) {
			line = l
		}
	}
	if line == "" {
		t.Errorf("no log line saying %q; bridge stderr:\n%s", why, bridgeLines(e.nd.ErrorLog()))
	} else {
		t.Logf("its last words: %s", line)
	}
}

// processRuns reports whether pid is a live process (not gone, not a zombie
// nobody reaped yet).
func processRuns(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
