package sectest

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// unprivileged returns how to run a command as the user nobody when the
// test runs as root, and the uid it will have. As any other user the test
// is unprivileged already and runs the agent as itself.
func unprivileged(t *testing.T) (func(*exec.Cmd), int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Logf("not root: the agent runs as uid %d, unprivileged already", os.Geteuid())
		return nil, os.Geteuid()
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("looking up nobody: %v", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		t.Fatalf("nobody has uid %q gid %q", u.Uid, u.Gid)
	}
	return func(c *exec.Cmd) {
		// No supplementary groups: root's would otherwise be kept.
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	}, uid
}

// openUp makes dir and its parents up to the system temp directory
// traversable by everyone: t.TempDir() creates them 0700.
func openUp(t *testing.T, dir string) {
	t.Helper()
	top := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); d != top && d != "/" && d != "."; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// processStatus returns the Uid and CapEff lines of /proc/PID/status.
func processStatus(t *testing.T, pid int) (uid, capEff string) {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch k {
		case "Uid":
			uid = strings.Join(strings.Fields(v), " ")
		case "CapEff":
			capEff = strings.TrimSpace(v)
		}
	}
	return uid, capEff
}

// request asks node for its counters until a reply with the request's id
// arrives, and returns it: the agent subscribes a moment after it logs
// "connected", and requests before that are lost (QoS 0).
func request(t *testing.T, b *brokertest.Broker, node string) wire.Reply {
	t.Helper()
	topics := wire.Topics{Prefix: wire.DefaultPrefix, Node: node}
	c := b.Client(t, "req-"+node)
	replies := brokertest.Subscribe(t, c, topics.Reply(), 16)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(guard)
	for i := 0; ; i++ {
		id := "unpriv-" + strconv.Itoa(i)
		if tok := c.Publish(topics.Request(), 0, false, `{"id":"`+id+`"}`); !tok.WaitTimeout(guard) || tok.Error() != nil {
			t.Fatalf("publishing request: %v", tok.Error())
		}
		for wait := true; wait; {
			select {
			case m := <-replies:
				r, err := wire.DecodeReply(m.Payload())
				if err != nil {
					t.Fatalf("reply from %s: %v: %q", node, err, m.Payload())
				}
				return r
			case <-tick.C:
				wait = false
			case <-deadline:
				t.Fatalf("no reply from %s within %v", node, guard)
			}
		}
	}
}

// TestAgentUnprivileged runs the agent binary as nobody (when the test is
// root) with no capabilities, against a fake counter tree readable by all
// and against the real /proc and /sys: both answer requests.
func TestAgentUnprivileged(t *testing.T) {
	proctest.SkipShort(t, "starts mosquitto and agents")
	t.Parallel()
	prep, uid := unprivileged(t)
	b := startBroker(t)

	check := func(t *testing.T, ag *proc) {
		t.Helper()
		ag.waitLog(t, "msg=connected", 1)
		gotUID, capEff := processStatus(t, ag.cmd.Process.Pid)
		if want := strings.Repeat(strconv.Itoa(uid)+" ", 4); gotUID+" " != want {
			t.Errorf("agent's real, effective, saved and fs uid = %q, want %q", gotUID, strings.TrimSpace(want))
		}
		if capEff != "0000000000000000" {
			t.Errorf("agent's effective capabilities = %s, want none", capEff)
		}
	}

	t.Run("fake_tree", func(t *testing.T) {
		t.Parallel()
		tree := newRampTree(t, 125_000, 25_000)
		openUp(t, tree.ProcRoot())
		openUp(t, tree.SysRoot())
		ag := start(t, "agent as nobody", bins(t).agent, agentEnv(b.URL(), "unpriv-fake", tree), prep)
		check(t, ag)
		r := request(t, b, "unpriv-fake")
		eth0, ok := r.Ifaces["eth0"]
		if len(r.Ifaces) != 1 || !ok || eth0.RxBytes < 1e9 || eth0.TxBytes < 2e9 || eth0.Ifindex != 2 || eth0.SpeedMbps != 1000 {
			t.Errorf("reply ifaces = %+v, want eth0 from the tree (rx ≥ 1e9, tx ≥ 2e9, ifindex 2, speed 1000)", r.Ifaces)
		}
		if r.BootID != "5ec0000-0000-4000-8000-000000000001" {
			t.Errorf("reply boot_id = %q, want the tree's", r.BootID)
		}
	})

	t.Run("real_proc_sys", func(t *testing.T) {
		t.Parallel()
		// Read as root with the agent's default selection (all but lo).
		rd, err := netdev.NewReader(netdev.Options{})
		if err != nil {
			t.Fatal(err)
		}
		snap, err := rd.Read()
		rd.Close()
		if err != nil {
			t.Fatalf("/proc/net/dev: %v", err)
		}
		want := snap.Ifaces
		ag := start(t, "agent as nobody", bins(t).agent, agentEnv(b.URL(), "unpriv-real", nil), prep)
		check(t, ag)
		r := request(t, b, "unpriv-real")
		got := slices.Sorted(maps.Keys(r.Ifaces))
		if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), got); diff != "" {
			t.Errorf("interfaces read as nobody (-read as root +agent):\n%s", diff)
		}
		if r.BootID == "" {
			t.Error("reply has no boot_id: /proc/sys/kernel/random/boot_id unreadable as nobody?")
		}
		if strings.Contains(ag.stderr.String(), "level=warn") || strings.Contains(ag.stderr.String(), "level=error") {
			t.Errorf("agent as nobody warned:\n%s", ag.stderr.String())
		}
	})
}
