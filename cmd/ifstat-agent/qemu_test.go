package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// erxKernel is the kernel release of EdgeOS 2.x on an EdgeRouter X. A
// 32-bit Go binary picks its futex and clock syscalls from the release
// (time64 only from 5.1), so the agent must run with exactly this uname.
const erxKernel = "4.14.54-UBNT"

// qemuGuard bounds every wait of the qemu test; a failure guard, never a
// measurement: an emulated round trip takes milliseconds.
const qemuGuard = 30 * time.Second

// TestQemuMipsle cross-builds the agent for the ER-X (linux/mipsle,
// softfloat), runs it under qemu-user with the ER-X kernel string against a
// real broker and a counter tree the test writes, and checks every reply to
// 50 requests against what the tree held when it was sent.
func TestQemuMipsle(t *testing.T) {
	proctest.SkipShort(t, "cross-builds and emulates the agent")
	qemu, err := exec.LookPath("qemu-mipsel")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("qemu-mipsel not found (CI requires it; apt-get install qemu-user): %v", err)
		}
		t.Skipf("qemu-mipsel not found (apt-get install qemu-user): %v", err)
	}
	t.Parallel()
	bin := buildMipsle(t)

	t.Run("version", func(t *testing.T) {
		out, err := exec.Command(qemu, "-r", erxKernel, bin, "-version").CombinedOutput()
		if err != nil {
			t.Fatalf("ifstat-agent -version under qemu: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), " linux/mipsle ") {
			t.Errorf("ifstat-agent -version = %q, want linux/mipsle in it", out)
		}
	})

	b := brokertest.Start(t)
	tree := netdevtest.NewTree(t)
	const bootID = "0c0f6f4e-6f2a-4a53-9b52-3f6b9e1d2a77"
	tree.SetBootID(bootID)
	// The ER-X's own names: switch0 bridges eth1–eth4, VLANs carry a dot.
	tree.Set("lo", wire.Counters{RxBytes: 99, Ifindex: 1})
	tree.Set("eth0", wire.Counters{Ifindex: 2, SpeedMbps: 1000})
	tree.Set("eth1", wire.Counters{Ifindex: 3, SpeedMbps: 100})
	tree.Set("switch0", wire.Counters{Ifindex: 7})
	tree.Set("switch0.10", wire.Counters{Ifindex: 8})
	tree.Write()

	const node = "er-x"
	agent := startQemuAgent(t, qemu, bin, []string{
		"IFSTAT_BROKER=" + b.URL(),
		"IFSTAT_NODE=" + node,
		"IFSTAT_PROC_ROOT=" + tree.ProcRoot(),
		"IFSTAT_SYS_ROOT=" + tree.SysRoot(),
		"IFSTAT_LOG_LEVEL=info",
	})

	topics := wire.Topics{Prefix: "ifstat", Node: node}
	c := b.Client(t, "qemu-requester")
	status := brokertest.Subscribe(t, c, topics.Status(), 10)
	info := brokertest.Subscribe(t, c, topics.Info(), 10)
	replies := brokertest.Subscribe(t, c, topics.Reply(), 100)
	awaitPayload(t, status, agent, "status online", func(p []byte) bool { return string(p) == wire.StatusOnline })

	// The agent describes itself from inside the emulator: this proves
	// the binary is the mipsle one and saw the ER-X kernel string.
	var got wire.Info
	awaitPayload(t, info, agent, "info", func(p []byte) bool {
		i, err := wire.DecodeInfo(p)
		got = i
		return err == nil
	})
	// Hostname is the host's and RunID random; the rest is the agent's.
	got.Hostname, got.RunID, got.Capabilities, got.MaxRate = "", "", nil, 0
	wantInfo := wire.Info{
		Node: node, Protocol: wire.ProtocolVersion, Version: "qemu-test", OS: "linux", Arch: "mipsle",
		Kernel: erxKernel, BootID: bootID, Interfaces: []string{"eth0", "eth1", "switch0", "switch0.10"},
	}
	if diff := cmp.Diff(wantInfo, got); diff != "" {
		t.Errorf("info under qemu (-want +got):\n%s", diff)
	}

	const n = 50
	var firstMono, lastMono int64
	for i := range n {
		u := uint64(i)
		want := map[string]wire.Counters{
			// Past 2^32 and up to 2^64-1: a 32-bit build must not
			// truncate or round (softfloat) any of them.
			"eth0": {RxBytes: 1<<40 + u*1514, TxBytes: math.MaxUint64 - u, RxPackets: u * 3, TxPackets: 1<<32 + u,
				RxErrors: u / 7, TxErrors: u % 2, RxDropped: u / 10, TxDropped: 1, Ifindex: 2, SpeedMbps: 1000},
			"eth1":       {RxBytes: 1<<32 - 1 + u, TxBytes: u * u * 1000, RxPackets: u, TxPackets: u, Ifindex: 3, SpeedMbps: 100},
			"switch0":    {RxBytes: u * 123456789, TxBytes: 9_007_199_254_740_993 + u, Ifindex: 7},
			"switch0.10": {RxPackets: u, TxDropped: u * 2, Ifindex: 8},
		}
		for name, c := range want {
			tree.Set(name, c)
		}
		tree.Write()

		id := "qemu-" + strconv.Itoa(i)
		sent := time.Now()
		if tok := c.Publish(topics.Request(), 0, false, `{"id":"`+id+`"}`); !tok.WaitTimeout(qemuGuard) || tok.Error() != nil {
			t.Fatalf("publishing request %s: %v", id, tok.Error())
		}
		var rep wire.Reply
		awaitPayload(t, replies, agent, "reply "+id, func(p []byte) bool {
			r, err := wire.DecodeReply(p)
			if err != nil {
				t.Fatalf("reply to %s does not decode: %v\n%s", id, err, p)
			}
			rep = r
			return r.ID == id
		})
		// The watch's fields say when the values changed (the test
		// rewrites the tree between requests, which the agent's
		// start-up burst sees); the decoder has checked them.
		for name, c := range rep.Ifaces {
			c.ChangedNS, c.UnchangedNS, c.RefreshNS = 0, 0, 0
			rep.Ifaces[name] = c
		}
		if diff := cmp.Diff(want, rep.Ifaces); diff != "" {
			t.Fatalf("reply %s counters (-want +got):\n%s", id, diff)
		}
		if rep.Node != node || rep.BootID != bootID || rep.RunID == "" || rep.Seq != u+1 {
			t.Fatalf("reply %s: node %q boot_id %q run_id %q seq %d, want %q %q non-empty %d",
				id, rep.Node, rep.BootID, rep.RunID, rep.Seq, node, bootID, i+1)
		}
		if rep.MonoNS <= lastMono {
			t.Fatalf("reply %s: mono_ns %d not after %d", id, rep.MonoNS, lastMono)
		}
		if i == 0 {
			firstMono = rep.MonoNS
		}
		lastMono = rep.MonoNS
		// The emulated wall clock is the host's: the read happened
		// between sending the request and now.
		if wall := time.Unix(0, rep.TimeNS); wall.Before(sent.Add(-time.Second)) || wall.After(time.Now().Add(time.Second)) {
			t.Fatalf("reply %s: time_ns %v outside [%v, now]", id, wall, sent)
		}
	}

	t.Logf("%d replies from the emulated ER-X agent over %v of its mono_ns", n, time.Duration(lastMono-firstMono))
	agent.stop(t)
}

// buildMipsle cross-compiles this package as scripts/build-agents.sh builds
// the ER-X binary and returns the binary's path.
func buildMipsle(t *testing.T) string {
	t.Helper()
	// go test puts its own toolchain's bin first on PATH.
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to cross-build with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "ifstat-agent-linux-mipsle")
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags", "-s -w -X main.version=qemu-test", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=mipsle", "GOMIPS=softfloat")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cross-building for linux/mipsle: %v\n%s", err, out)
	}
	return bin
}

// qemuAgent is the emulated agent process.
type qemuAgent struct{ *proctest.Proc }

// startQemuAgent starts bin under qemu with the ER-X kernel string and env
// as its whole environment; a cleanup kills it by PID if the test did not
// stop it. If the test binary dies, the emulator does not outlive it.
func startQemuAgent(t *testing.T, qemu, bin string, env []string) *qemuAgent {
	t.Helper()
	return &qemuAgent{proctest.Start(t, "agent under qemu", qemu, env, proctest.Args("-r", erxKernel, bin), proctest.Guard(qemuGuard))}
}

// stop sends SIGTERM, as init does on a router, and expects a clean exit.
func (a *qemuAgent) stop(t *testing.T) {
	t.Helper()
	a.Signal(t, syscall.SIGTERM)
	if a.Exited() && a.Err() != nil {
		t.Errorf("agent under qemu after SIGTERM: %v, want exit status 0", a.Err())
	}
}

// awaitPayload waits for a message on ch that ok accepts, failing the test
// if the agent exits or the guard passes first.
func awaitPayload(t *testing.T, ch <-chan mqtt.Message, a *qemuAgent, what string, ok func([]byte) bool) {
	t.Helper()
	deadline := time.After(qemuGuard)
	for {
		select {
		case m := <-ch:
			if ok(m.Payload()) {
				return
			}
		case <-a.Done():
			t.Fatalf("waiting for %s: agent under qemu exited: %v", what, a.Err())
		case <-deadline:
			t.Fatalf("no %s within %v", what, qemuGuard)
		}
	}
}
