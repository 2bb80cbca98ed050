package publisher

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev/netdevtest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// BenchmarkFlood runs the real ifstat-agent binary against a real broker
// while one client floods it with 10,000 requests/s for 10 s and another
// asks once a second. It reports the agent process's CPU (utime+stime from
// /proc/<pid>/stat) as a percentage of one core, its RSS before and at the
// end of the flood, the peak RSS, and how many 1 Hz requests were answered.
// Run it alone: go test -run '^$' -bench Flood -benchtime 1x ./publisher
func BenchmarkFlood(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "ifstat-agent")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/ifstat-agent").CombinedOutput(); err != nil {
		b.Fatalf("building the agent: %v\n%s", err, out)
	}
	for b.Loop() {
		floodOnce(b, bin)
	}
}

func floodOnce(b *testing.B, bin string) {
	const (
		rate     = 10_000 // requests/s
		duration = 10 * time.Second
	)
	br := brokertest.Start(b)
	tree := netdevtest.NewTree(b)
	for i, name := range []string{"eth0", "eth1", "eth2", "eth3", "eth4", "switch0", "switch0.10", "pppoe0"} {
		tree.Set(name, wire.Counters{RxBytes: 1 << 40, TxBytes: 1 << 33, Ifindex: int64(i + 2)})
	}
	tree.Write()
	var stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"IFSTAT_BROKER="+br.URL(), "IFSTAT_NODE=flood", "IFSTAT_PROC_ROOT="+tree.ProcRoot(),
		"IFSTAT_SYS_ROOT="+tree.SysRoot(), "IFSTAT_LOG_LEVEL=error")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	pid := cmd.Process.Pid
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if b.Failed() {
			b.Logf("agent stderr:\n%s", stderr.String())
		}
	})
	watch := br.Client(b, "flood-watch")
	online := brokertest.Subscribe(b, watch, "ifstat/flood/status", 10)
	select {
	case <-online:
	case <-time.After(guard):
		b.Fatal("agent not online")
	}

	good := br.Client(b, "flood-good")
	replies := brokertest.Subscribe(b, good, "ifstat/flood/reply", 20_000)
	flooder := br.Client(b, "flood-flooder")

	rssStart := rssKiB(b, pid)
	cpuStart := cpuTicks(b, pid)
	start := time.Now()
	var wg sync.WaitGroup
	var sent int
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for time.Since(start) < duration {
			<-tick.C
			// Catch up to the schedule: the ticker drops ticks on a busy box.
			due := int(time.Since(start) * rate / time.Second)
			for ; sent < due; sent++ {
				flooder.Publish("ifstat/flood/request", 0, false, `{"id":"flood-`+strconv.Itoa(sent)+`"}`)
			}
		}
	})
	var asked, answered int
	rssPeak := rssStart
	for i := 0; time.Since(start) < duration; i++ {
		id := "bridge-" + strconv.Itoa(i)
		good.Publish("ifstat/flood/request", 0, false, `{"id":"`+id+`"}`)
		asked++
		next := time.After(time.Second)
	wait:
		for {
			select {
			case m := <-replies:
				if bytes.Contains(m.Payload(), []byte(`"id":"`+id+`"`)) {
					answered++
				}
			case <-next:
				break wait
			}
		}
		rssPeak = max(rssPeak, rssKiB(b, pid))
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTicks(b, pid) - cpuStart
	rssEnd := rssKiB(b, pid)
	cpuPct := float64(cpu) / 100 / elapsed.Seconds() * 100 // USER_HZ is 100 on Linux
	b.ReportMetric(cpuPct, "cpu%")
	b.ReportMetric(float64(rssStart)/1024, "rss-start-MiB")
	b.ReportMetric(float64(rssEnd)/1024, "rss-end-MiB")
	b.ReportMetric(float64(rssPeak)/1024, "rss-peak-MiB")
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "flood-req/s")
	b.ReportMetric(float64(answered), "good-answered")
	b.ReportMetric(float64(asked), "good-asked")
	if answered != asked {
		b.Errorf("1 Hz requester: %d of %d answered", answered, asked)
	}
}

// cpuTicks returns utime+stime of pid in clock ticks (fields 14 and 15 of
// /proc/<pid>/stat, counted after the parenthesised command name).
func cpuTicks(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st
}

// rssKiB returns VmRSS of pid in KiB.
func rssKiB(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
