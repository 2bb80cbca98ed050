package main

import (
	"bufio"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

func TestMain(m *testing.M) { proctest.Main(m) }

// lifecycleGuard only turns a hang into a failure; the times are logged.
const lifecycleGuard = 60 * time.Second

// TestPluginLifecycle runs the bridge as Netdata runs it: as a plugin,
// with stdin on /dev/null (what Netdata before 1.37 gives its plugins)
// and stdout a pipe. It must keep charting although stdin ended at once,
// stop when the pipe's reader goes away (how every Netdata says it is
// gone), exit 0 so that Netdata does not disable it, and say why it
// stopped.
func TestPluginLifecycle(t *testing.T) {
	proctest.SkipShort(t, "runs mosquitto, an agent and the bridge")
	t.Parallel()
	bins := proctest.BuildCommands(t)
	b := brokertest.Start(t)
	if b.Embedded() && os.Getenv("CI") == "true" {
		t.Fatal("CI=true: this test needs a real mosquitto")
	}
	tree := netdevtest.NewTree(t)
	tree.Set("eth0", wire.Counters{RxBytes: 1000, TxBytes: 500, Ifindex: 2})
	tree.Write()
	const node = "lifecycle"
	proctest.Start(t, "agent", bins.Agent, []string{
		"IFSTAT_BROKER=" + b.URL(), "IFSTAT_NODE=" + node,
		"IFSTAT_PROC_ROOT=" + tree.ProcRoot(), "IFSTAT_SYS_ROOT=" + tree.SysRoot(),
	})

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	br := proctest.Start(t, "bridge", bins.Bridge, []string{
		"NETDATA_VERSION=v1.29.3", "IFSTAT_BROKER=" + b.URL(), "IFSTAT_NODES=" + node,
		"IFSTAT_HA=off", "IFSTAT_LOG_LEVEL=info",
	}, proctest.Args("1"), proctest.Stdout(pw), proctest.Guard(lifecycleGuard))
	pw.Close() // the bridge holds the only writing end

	// Rounds of the net chart, counted as they come.
	var mu sync.Mutex
	rounds := 0
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "BEGIN 'ifstat_"+node+".eth0_net'") {
				mu.Lock()
				rounds++
				mu.Unlock()
			}
		}
	}()
	const want = 3
	deadline := time.Now().Add(lifecycleGuard)
	for {
		mu.Lock()
		n := rounds
		mu.Unlock()
		if n >= want {
			break
		}
		if br.Exited() {
			t.Fatalf("the plugin exited (%v) after %d rounds: an ended stdin must not stop it\n%s", br.Err(), n, br.Stderr())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rounds of the net chart within %v, want %d\n%s", n, lifecycleGuard, want, br.Stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Netdata goes away: its end of the pipe closes.
	closed := time.Now()
	pr.Close()
	if err := br.Wait(t); err != nil {
		t.Errorf("the plugin's exit after stdout closed: %v, want status 0", err)
	}
	t.Logf("%d rounds charted with stdin at EOF; exited %v after its stdout's reader closed",
		want, time.Since(closed).Round(time.Millisecond))
	log := br.Stderr().String()
	if !strings.Contains(log, "msg=stopping") || !strings.Contains(log, "stdout closed") {
		t.Errorf("the plugin did not log why it stopped:\n%s", log)
	}
}
