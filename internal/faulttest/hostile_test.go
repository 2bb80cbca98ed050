package faulttest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
)

// hostileReply is one reply a hostile agent sends, built around the id of
// the request it answers (so it passes the bridge's id check and reaches
// the decoder and the rate code).
type hostileReply struct {
	name string
	body func(id string) []byte
}

func hostileReplies() []hostileReply {
	obj := func(id, ifaces string) []byte {
		return fmt.Appendf(nil, `{"id":%q,"node":"victim","mono_ns":%d,"time_ns":%d,"ifaces":%s}`,
			id, time.Now().UnixNano(), time.Now().UnixNano(), ifaces)
	}
	many := func(id string) []byte {
		var b strings.Builder
		b.WriteString("{")
		for i := range 10_000 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"if%d":{"rx_bytes":%d,"tx_bytes":1}`, i, i)
		}
		b.WriteString("}")
		return obj(id, b.String())
	}
	return []hostileReply{
		{"empty", func(string) []byte { return nil }},
		{"null", func(string) []byte { return []byte("null") }},
		{"array", func(string) []byte { return []byte("[]") }},
		{"wrong_types", func(id string) []byte {
			return fmt.Appendf(nil, `{"id":%q,"node":"victim","mono_ns":"soon","ifaces":{"eth0":{"rx_bytes":"1"}}}`, id)
		}},
		{"ifaces_not_object", func(id string) []byte { return obj(id, `[1,2,3]`) }},
		{"huge_counter", func(id string) []byte { return obj(id, `{"eth0":{"rx_bytes":100000000000000000000000000000}}`) }},
		{"negative_counter", func(id string) []byte { return obj(id, `{"eth0":{"rx_bytes":-5,"tx_bytes":-1}}`) }},
		{"fractional_counter", func(id string) []byte { return obj(id, `{"eth0":{"rx_bytes":1.5}}`) }},
		{"10000_ifaces", many},
		{"deep_nesting", func(id string) []byte {
			return []byte(fmt.Sprintf(`{"id":%q,"ifaces":`, id) + strings.Repeat("[", 200_000))
		}},
		{"invalid_utf8", func(id string) []byte { return obj(id, "{\"\xff\xfe\":{\"rx_bytes\":1}}") }},
		{"1MB", func(id string) []byte {
			return fmt.Appendf(nil, `{"id":%q,"node":"victim","pad":"%s"}`, id, strings.Repeat("a", 1<<20))
		}},
		{"forged_node", func(id string) []byte {
			return fmt.Appendf(nil, `{"id":%q,"node":"good","mono_ns":1,"ifaces":{"eth0":{"rx_bytes":99}}}`, id)
		}},
		{"bad_iface_name", func(id string) []byte { return obj(id, `{"a'b\n\"c":{"rx_bytes":1},"":{"rx_bytes":2}}`) }},
	}
}

// hostileStates are retained state copies a client allowed to write the
// bridge's state topics could leave behind.
func hostileStates() map[string][]byte {
	return map[string][]byte{
		"garbage":      []byte("not json"),
		"truncated":    []byte(`{"version":1,"bridge":"br-hostile","nodes":{"good":{"ifaces":{"eth0":`),
		"deep":         []byte(strings.Repeat(`{"a":`, 100_000)),
		"1MB":          []byte(`{"version":1,"pad":"` + strings.Repeat("x", 1<<20) + `"}`),
		"invalid_utf8": []byte("{\"version\":1,\"bridge\":\"\xff\"}"),
		"version_99":   []byte(`{"version":99,"bridge":"br-hostile","nodes":{}}`),
		"wrong_types":  []byte(`{"version":1,"bridge":"br-hostile","saved":"yesterday","nodes":{"good":{"ifaces":{"eth0":{"totals":[-1,"x"]}}}}}`),
	}
}

// badNodes cannot be node ids; topics with + or # cannot be published.
var badNodes = []string{"..", "a b", strings.Repeat("n", 200), "ER-X", ""}

// TestHostileInput: hostile replies, statuses and retained state copies,
// through a real mosquitto, to a real bridge that also samples a good
// agent. The bridge must keep running, keep the good agent's values
// exact, stay within a memory bound and log a bounded number of lines.
func TestHostileInput(t *testing.T) {
	proctest.SkipShort(t, "real mosquitto, agent and bridge processes")
	t.Parallel()
	bins := buildBinaries(t)
	b := brokertest.Start(t)
	evil := b.Client(t, "evil")
	pub := func(topic string, retain bool, payload []byte) {
		t.Helper()
		tok := evil.Publish(topic, 1, retain, payload)
		if !tok.WaitTimeout(guard) || tok.Error() != nil {
			t.Fatalf("publishing %d bytes on %q: %v", len(payload), topic, tok.Error())
		}
	}

	// Before the bridge starts: malformed retained copies of its state.
	// A topic keeps one retained message, so each case has its own
	// node; the good node gets one too, and invalid ids get garbage.
	var nStates int
	for name, p := range hostileStates() {
		node := "st-" + strings.ReplaceAll(name, "_", "-")
		switch name {
		case "wrong_types":
			node = "good"
		case "truncated":
			node = "victim"
		}
		pub("ifstat/bridge/br-hostile/state/"+node, true, p)
		nStates++
	}
	for _, node := range badNodes {
		pub("ifstat/bridge/br-hostile/state/"+node, true, []byte("not json"))
		nStates++
	}
	for _, node := range badNodes {
		pub("ifstat/"+node+"/status", true, []byte("online"))
		pub("ifstat/"+node+"/info", true, []byte(`{"node":"`+node+`"}`))
	}

	// The hostile agent answers every request of node victim with the
	// next hostile reply, carrying the request's id; the bridge asks it
	// four times a second.
	cases := hostileReplies()
	var answered atomic.Int64
	victim := b.Client(t, "victim", func(o *mqtt.ClientOptions) {
		o.SetWill("ifstat/victim/status", "offline", 1, true)
	})
	victim.Subscribe("ifstat/victim/request", 0, func(c mqtt.Client, m mqtt.Message) {
		var req struct{ ID string }
		json.Unmarshal(m.Payload(), &req)
		n := answered.Add(1)
		c.Publish("ifstat/victim/reply", 0, false, cases[int(n)%len(cases)].body(req.ID))
	}).WaitTimeout(guard)
	pub("ifstat/victim/status", true, []byte("online"))

	src := newSource(t, rxRate, "b00710ad-0000-4000-8000-0000000000aa")
	pd := &plugind{}
	startProc(t, "agent good", bins.agent, []string{
		"IFSTAT_BROKER=" + b.URL(), "IFSTAT_NODE=good",
		"IFSTAT_PROC_ROOT=" + src.tree.ProcRoot(), "IFSTAT_SYS_ROOT=" + src.tree.SysRoot(),
	}, nil)
	started := time.Now()
	br := startProc(t, "bridge br-hostile", bins.bridge, []string{
		"IFSTAT_BROKER=" + b.URL(), "IFSTAT_BRIDGE_ID=br-hostile",
		"IFSTAT_NETDATA=on", "IFSTAT_INTERVAL=250ms", "IFSTAT_HA=on", "IFSTAT_HA_INTERVAL=2s",
		"IFSTAT_STATE_DIR=" + t.TempDir(), "IFSTAT_STATE_INTERVAL=2s", "IFSTAT_LOG_LEVEL=info",
	}, pd.writer(t))
	const chart = "ifstat_good.eth0_net"
	t.Logf("first rate of the good agent %v after the bridge's start", pd.firstValueAfter(t, chart, started).Round(time.Millisecond))
	rssBefore, err := br.statusKiB("VmRSS")
	if err != nil {
		t.Fatal(err)
	}

	// Hostile replies for 4 s, and on until the victim has answered
	// every case (each answer carries a request's id, so it gets past the
	// id check): the victim's answers and, every 500 ms, every case on
	// both reply topics without a valid id. Unpaced (~700
	// messages/s, a 1 MB one among every 30), mosquitto dropped the
	// bridge's QoS 0 messages ("Outgoing messages are being dropped",
	// max_queued_messages 1000) and the good agent had 1 rate in 15 s: a
	// flood of the broker is a denial of service the bridge cannot
	// prevent (ACLs can).
	const floodFor = 4 * time.Second
	flood := time.Now()
	var flooded int
	for tick := time.NewTicker(500 * time.Millisecond); time.Since(flood) < floodFor || answered.Load() < int64(len(cases)); <-tick.C {
		if time.Since(flood) > guard {
			t.Fatalf("the victim answered %d requests in %v, want %d: the bridge stopped asking it", answered.Load(), guard, len(cases))
		}
		for _, c := range cases {
			pub("ifstat/good/reply", false, c.body("x"))
			pub("ifstat/victim/reply", false, c.body(""))
			flooded += 2
		}
		for _, node := range badNodes[:len(badNodes)-1] {
			pub("ifstat/"+node+"/reply", false, []byte(`{"id":"","node":"`+node+`"}`))
			flooded++
		}
	}
	floodEnd := time.Now()
	// The bridge has worked through the flood once it rates replies the
	// good agent sent after it: one connection delivers in order.
	goodRates := func(from, to time.Time) int {
		n := 0
		for _, v := range pd.snapshot() {
			if v.chart == chart && !v.gap && v.at.After(from) && !v.at.After(to) {
				n++
			}
		}
		return n
	}
	for far := time.Now().Add(guard); goodRates(floodEnd, far) < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(far) {
			t.Fatalf("no 2 rates of the good agent within %v after the flood", guard)
		}
	}

	select {
	case <-br.done:
		t.Fatalf("the bridge exited: %v", br.cmd.ProcessState)
	default:
	}
	rssAfter, err1 := br.statusKiB("VmRSS")
	hwm, err2 := br.statusKiB("VmHWM")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	t.Logf("bridge VmRSS %d KiB before, %d KiB after %d flooded and %d answered hostile replies, %d hostile state copies; VmHWM %d KiB",
		rssBefore, rssAfter, flooded, answered.Load(), nStates, hwm)
	const bound = 200 << 10 // KiB
	if rssAfter > bound || hwm > bound {
		t.Errorf("bridge memory: VmRSS %d KiB, VmHWM %d KiB, want < %d KiB", rssAfter, hwm, bound)
	}

	rates, gaps := pd.judge(t, chart)
	var other int
	for _, v := range pd.snapshot() {
		switch {
		case v.chart != chart:
			other++
			if !v.gap && v.bps < 0 {
				t.Errorf("%s: negative value %q", v.chart, v.raw)
			}
			if !strings.HasPrefix(v.chart, "ifstat_victim.") {
				t.Errorf("a chart of no announced valid node: %q", v.chart)
			}
		}
	}
	during := goodRates(flood, floodEnd)
	t.Logf("good agent: %d exact rates (%d during the %v flood, %d after it), %d gaps; %d values of the victim's charts; %d hostile replies answered",
		rates, during, floodEnd.Sub(flood).Round(100*time.Millisecond), goodRates(floodEnd, time.Now()), gaps, other, answered.Load())
	// About one a second; one in three is plenty for a bridge that is not
	// starved by the hostile messages and leaves room for a slow machine.
	if want := max(1, int(floodEnd.Sub(flood)/(3*time.Second))); during < want {
		t.Errorf("%d rates of the good agent during the %v flood, want at least %d", during, floodEnd.Sub(flood).Round(100*time.Millisecond), want)
	}
	if got := retained(t, b, "check-bridge", "ifstat/bridge/br-hostile/status"); got != "online" {
		t.Errorf("retained bridge status %q, want online", got)
	}

	stderr := br.stderr.String()
	lines := strings.Count(stderr, "\n")
	warns := strings.Count(stderr, "level=warning")
	t.Logf("bridge stderr: %d lines, %d warnings, over %v", lines, warns, time.Since(started).Round(time.Second))
	if lines > 1000 {
		t.Errorf("bridge stderr has %d lines: the warnings are not rate-limited", lines)
	}
	br.signal(t, syscall.SIGTERM)
	if code := br.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("bridge exit code %d after SIGTERM, want 0", code)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("bridge stderr (first 4 kB):\n%.4096s", stderr)
	}
}
