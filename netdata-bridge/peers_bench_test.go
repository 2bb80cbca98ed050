package bridge_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdatatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/truthtest"
)

// BenchmarkPeers runs the peers a user would otherwise chart their
// router with on one emulated driver (a 0.9765 s refresh clock, four
// interfaces a quarter period apart, as TestE2EDriverNetdata) at once, and
// judges every 1 s point of each against the driver's true traffic:
//
//   - ours: the agent as installed, the bridge as ifstat.plugin, the
//     points Netdata stores (chart ifstat_<node>.ethN_net);
//   - Netdata: Netdata 1.37's own network collector, proc.plugin, on a
//     mirror of the same counters (chart net.ethN);
//   - node_exporter: Debian's prometheus-node-exporter (netdev collector)
//     on another mirror of the same counters, scraped every second and rated as Prometheus's
//     rate() and irate() do over consecutive scrapes: the counter delta
//     over the scrapes' start times;
//   - naive: the agent's own replies, the counter delta over the read
//     span (mono_ns), without the bridge's rules.
//
// One op is the whole run; run it once:
//
//	go test -run '^$' -bench Peers -benchtime 1x ./netdata-bridge
//
// IFSTAT_PEERS_SECONDS sets the judged length (default 120 s, after a
// 30 s warm-up; the two-refresh intervals recur every 41.6 s per
// interface), IFSTAT_PEERS_PERIOD the driver's refresh period (default
// 976.5ms), IFSTAT_PEERS_JITTER how late its timer may be at each refresh
// (default 0; the driver was up to 3ms late). The metrics are each peer's max error and its points 10 %
// or more off; the table is logged.
func BenchmarkPeers(b *testing.B) {
	proctest.SkipShort(b, "starts Netdata, Mosquitto, node_exporter and an agent")
	judged := 120 * time.Second
	if v := os.Getenv("IFSTAT_PEERS_SECONDS"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 10 {
			b.Fatalf("IFSTAT_PEERS_SECONDS=%q: want whole seconds, at least 10", v)
		}
		judged = time.Duration(s) * time.Second
	}
	period := 976_500 * time.Microsecond
	if v := os.Getenv("IFSTAT_PEERS_PERIOD"); v != "" {
		p, err := time.ParseDuration(v)
		if err != nil || p < 10*time.Millisecond {
			b.Fatalf("IFSTAT_PEERS_PERIOD=%q: want a duration of at least 10ms", v)
		}
		period = p
	}
	var jitter time.Duration
	if v := os.Getenv("IFSTAT_PEERS_JITTER"); v != "" {
		j, err := time.ParseDuration(v)
		if err != nil || j < 0 || j >= period {
			b.Fatalf("IFSTAT_PEERS_JITTER=%q: want a duration from 0 to below the period", v)
		}
		jitter = j
	}
	const warm = 30 * time.Second
	ne := ""
	for _, c := range []string{"prometheus-node-exporter", "node_exporter"} {
		if p, err := exec.LookPath(c); err == nil {
			ne = p
			break
		}
	}
	if ne == "" {
		b.Skip("prometheus-node-exporter not installed")
	}
	for range b.N {
		runPeers(b, ne, period, jitter, warm, judged)
	}
}

func runPeers(b *testing.B, nodeExporter string, period, jitter, warm, judged time.Duration) {
	bin := buildBinaries(b)
	broker := brokertest.Start(b)
	if broker.Embedded() {
		b.Fatal("the peers need a real mosquitto")
	}
	sc := driverScenario{node: "peers", period: period, phases: quarterPhases(period), jitter: jitter}
	d := startDriver(b, sc)
	nd := netdatatest.Start(b, netdatatest.Options{
		PluginFiles: map[string]string{"ifstat.plugin": bin.bridge},
		UserConfig: map[string][]byte{
			"ifstat.conf": []byte("IFSTAT_BROKER=tcp://" + broker.Addr() + "\n"),
		},
		ProcNetDev: d.Render(d.Now()),
	})
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	// node_exporter gets a mirror of its own: a second reader of the
	// driver's pipe could take part of a copy the agent was reading.
	neProc := filepath.Join(b.TempDir(), "proc")
	if err := os.MkdirAll(filepath.Join(neProc, "net"), 0o755); err != nil {
		b.Fatal(err)
	}
	mirrored := make(chan error, 2)
	go func() { mirrored <- d.Mirror(ctx, nd.ProcNetDev()) }()
	go func() { mirrored <- d.Mirror(ctx, filepath.Join(neProc, "net", "dev")) }()
	defer func() {
		cancel()
		for range 2 {
			if err := <-mirrored; err != nil {
				b.Error(err)
			}
		}
	}()
	replies := truthtest.RecordReplies(b, broker, "ifstat", sc.node)
	run := warm + judged + 20*time.Second
	agent := proctest.Start(b, "agent", bin.agent, []string{
		"IFSTAT_BROKER=" + broker.URL(), "IFSTAT_NODE=" + sc.node,
		"IFSTAT_PROC_ROOT=" + d.ProcRoot(), "IFSTAT_SYS_ROOT=" + d.SysRoot(), "IFSTAT_LOG_LEVEL=info",
	}, proctest.Guard(run+time.Minute))
	port := brokertest.FreePort(b)
	proctest.Start(b, "node_exporter", nodeExporter, nil, proctest.Guard(run+time.Minute),
		proctest.Args("--path.procfs="+neProc, "--path.sysfs="+d.SysRoot(),
			"--collector.disable-defaults", "--collector.netdev",
			// 1.5 reads the host's links over netlink by default, not procfs.
			"--no-collector.netdev.netlink",
			fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port)))

	start := time.Now()
	scrapes := make(chan []scrape, 1)
	go func() { scrapes <- scrapeEvery(ctx, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), start.Add(run)) }()
	from := start.Add(warm).Unix()
	to := start.Add(warm + judged).Unix()
	select {
	case <-time.After(time.Until(start.Add(run))):
	case <-b.Context().Done():
		return
	}
	b.StopTimer()
	scr := <-scrapes
	// The agent's stop line (watch reads, late probes, withheld windows,
	// its CPU budget's steps) and its budget's log lines, for the log.
	agent.Signal(b, syscall.SIGTERM)
	if err := agent.Wait(b); err != nil {
		b.Errorf("agent: %v", err)
	}
	var agentLog []string
	for line := range strings.Lines(agent.Stderr().String()) {
		if strings.Contains(line, "stopped") || strings.Contains(line, "CPU budget") {
			agentLog = append(agentLog, strings.TrimSpace(line))
		}
	}

	names := d.Names()
	peers := []*peerStats{{name: "ifstat-mqtt (agent, bridge, Netdata)"}, {name: "Netdata 1.37 proc.plugin"}, {name: "node_exporter 1s scrapes, rate()"}, {name: "naive reader (Δ counter / Δ read time)"}}
	after := int(time.Since(start)/time.Second) + 1
	for i, name := range names {
		truth := float64(driverRates[i%len(driverRates)].rx) * 8 / 1000 // kbit/s, constant
		for j, chart := range []string{"ifstat_" + sc.node + "." + name + "_net", "net." + name} {
			dt, err := nd.Data(ctx, chart, after)
			if err != nil {
				b.Fatalf("%s: %v", chart, err)
			}
			rx, ok := dt.Column("received")
			if !ok {
				b.Fatalf("%s: no received column in %q", chart, dt.Labels)
			}
			for k, row := range dt.Rows {
				if t := int64(*row[0]); t > from && t <= to {
					peers[j].add(rx[k], truth)
					if rx[k] == nil {
						peers[j].gapAt = append(peers[j].gapAt, fmt.Sprintf("%s@%d", name, t))
					}
				}
			}
		}
		for k := 1; k < len(scr); k++ {
			a, c := scr[k-1], scr[k]
			if c.at.Unix() <= from || c.at.Unix() > to {
				continue
			}
			ra, ok1 := a.rx[name]
			rc, ok2 := c.rx[name]
			if !ok1 || !ok2 || c.err != nil || a.err != nil {
				peers[2].add(nil, truth)
				continue
			}
			v := (rc - ra) * 8 / 1000 / c.at.Sub(a.at).Seconds()
			peers[2].add(&v, truth)
		}
		all := replies.All()
		for k := 1; k < len(all); k++ {
			a, c := all[k-1], all[k]
			if t := c.TimeNS / 1e9; t <= from || t > to || c.MonoNS <= a.MonoNS {
				continue
			}
			v := float64(c.Ifaces[name].RxBytes-a.Ifaces[name].RxBytes) * 8 / 1000 / (float64(c.MonoNS-a.MonoNS) / 1e9)
			peers[3].add(&v, truth)
		}
	}
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "\n%d s judged after %d s, driver %v (late by up to %v), %d interfaces a quarter period apart\n\n", int(judged.Seconds()), int(warm.Seconds()), sc.period, sc.jitter, len(names))
	fmt.Fprintln(&tbl, "| peer | points | gaps | mean error | max error | ≥ 10 % off | ≥ 1.9× | max error / ours |")
	fmt.Fprintln(&tbl, "|---|---|---|---|---|---|---|---|")
	for _, p := range peers {
		ratio := "–"
		if ours := peers[0].max; ours > 0 && p != peers[0] {
			ratio = fmt.Sprintf("%.0f×", p.max/ours)
		}
		fmt.Fprintf(&tbl, "| %s | %d | %d | %.3f %% | %.3f %% | %d | %d | %s |\n", p.name, p.n, p.gaps, 100*p.sum/float64(max(p.n, 1)), 100*p.max, p.off10, p.double, ratio)
	}
	b.Log(tbl.String())
	b.Logf("the agent's log:\n%s", strings.Join(agentLog, "\n"))
	if len(peers[0].gapAt) > 0 {
		// What the bridge said about them (Netdata keeps its stderr).
		b.Logf("ours: gaps at %v (Unix s); the bridge's log:\n%s", peers[0].gapAt, tailLines(bridgeLines(nd.ErrorLog()), 30))
	}
	for i, key := range []string{"ours", "netdata", "node_exporter", "naive"} {
		b.ReportMetric(100*peers[i].max, key+"-max-%")
		b.ReportMetric(float64(peers[i].off10), key+"-off10%")
	}
	if peers[0].n == 0 || peers[1].n == 0 || peers[2].n == 0 {
		b.Errorf("a peer judged no point: %d, %d, %d, %d", peers[0].n, peers[1].n, peers[2].n, peers[3].n)
	}
}

// peerStats judges one peer's points against the truth.
type peerStats struct {
	name                   string
	n, gaps, off10, double int
	sum, max               float64
	gapAt                  []string // chart point times of the gaps, for the log
}

func (p *peerStats) add(v *float64, truth float64) {
	if v == nil {
		p.gaps++
		return
	}
	e := math.Abs(*v-truth) / truth
	p.n++
	p.sum += e
	p.max = max(p.max, e)
	if e >= 0.1 {
		p.off10++
	}
	if *v >= 1.9*truth {
		p.double++
	}
}

// scrape is one scrape of node_exporter: when it began (Prometheus stamps
// a scrape's samples with its start) and the received bytes per device.
type scrape struct {
	at  time.Time
	rx  map[string]float64
	err error
}

// scrapeOffset is where in each second scrapeEvery scrapes. Prometheus
// takes a target's offset from a hash; this one lies 50 ms from the
// nearest refresh of the 0.5 s driver's interfaces (phases 0, 125, 250
// and 375 ms). At 250 ms, on one interface's refreshes, the scrapes
// fell before or after that refresh at random: 1 or 3 refreshes in a
// second, 50 % off (8 of 480 points, 2026-12-07). The 0.9765 s driver's
// refreshes drift through every offset.
const scrapeOffset = 300 * time.Millisecond

// scrapeEvery scrapes url at every whole second plus scrapeOffset until
// end, as a Prometheus with scrape_interval 1s.
func scrapeEvery(ctx context.Context, url string, end time.Time) []scrape {
	var out []scrape
	c := &http.Client{Timeout: 900 * time.Millisecond}
	for next := time.Now().Truncate(time.Second).Add(time.Second + scrapeOffset); next.Before(end); next = next.Add(time.Second) {
		select {
		case <-ctx.Done():
			return out
		case <-time.After(time.Until(next)):
		}
		s := scrape{at: time.Now(), rx: map[string]float64{}}
		s.err = func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				line := sc.Text()
				rest, ok := strings.CutPrefix(line, `node_network_receive_bytes_total{device="`)
				if !ok {
					continue
				}
				dev, val, ok := strings.Cut(rest, `"} `)
				if !ok {
					continue
				}
				v, err := strconv.ParseFloat(val, 64)
				if err != nil {
					return fmt.Errorf("%q: %w", line, err)
				}
				s.rx[dev] = v
			}
			return sc.Err()
		}()
		out = append(out, s)
	}
	return out
}
