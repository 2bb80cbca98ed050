package bridge

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"

	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/brokertest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdev"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
	"github.com/ifstat-mqtt/ifstat-mqtt/publisher"
)

// rampReader is a counter source whose k-th read happens, by its own
// clock, exactly k seconds after boot with bytesPerRead more bytes, however
// late the real read is: the rates the bridge computes are then exact.
type rampReader struct {
	mu           sync.Mutex
	k            int64
	bytesPerRead uint64
	boot         string
	snap         map[string]wire.Counters
}

func (r *rampReader) Read() (netdev.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.k++
	b := uint64(r.k) * r.bytesPerRead
	r.snap = map[string]wire.Counters{
		"eth0": {RxBytes: b, TxBytes: b / 2, RxPackets: b / 1000, TxPackets: b / 2000, Ifindex: 2, SpeedMbps: 1000},
	}
	return netdev.Snapshot{MonoNS: r.k * 1e9, TimeNS: r.k * 1e9, Ifaces: r.snap}, nil
}

func (r *rampReader) BootID() string { return r.boot }

type collect struct {
	ch chan *NodeSample
}

func (c *collect) Emit(ns *NodeSample, _ time.Time) error {
	select {
	case c.ch <- ns:
	default:
	}
	return nil
}
func (c *collect) Keepalive(time.Time) error { return nil }

func quietLog(t *testing.T) *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	if testing.Verbose() {
		l.SetOutput(tWriter{t})
		l.SetLevel(logrus.DebugLevel)
	}
	return logrus.NewEntry(l)
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func startAgent(t *testing.T, ctx context.Context, broker string, node string, r publisher.CounterReader) {
	t.Helper()
	cfg := publisher.Config{
		Common: config.Common{Broker: broker, TopicPrefix: "ifstat", LogLevel: "info", LogFormat: "text"},
		Node:   node, ProcRoot: "/proc", SysRoot: "/sys", MaxRate: 200,
	}
	a, err := publisher.New(cfg, quietLog(t), publisher.Deps{Version: "test", Reader: r})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() { <-done })
}

func TestBridgeAgainstRealBroker(t *testing.T) {
	t.Parallel()
	proctest.SkipShort(t, "runs a broker (mosquitto where installed) and the bridge's wall-clock ticks")
	b := brokertest.Start(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	// The agent runs twice: a restart without reboot (same boot id,
	// counters continuing) must not be taken for a reset.
	reader := &rampReader{bytesPerRead: 1_250_000, boot: "boot-1"}
	agentCtx, stopAgent := context.WithCancel(ctx)
	startAgent(t, agentCtx, b.URL(), "er-x", reader)

	cfg := Config{
		Common:   config.Common{Broker: b.URL(), TopicPrefix: "ifstat", LogLevel: "info", LogFormat: "text"},
		Interval: 100 * time.Millisecond, Netdata: config.AutoOff, ObsoleteAfter: time.Minute, MaxGap: 10 * time.Second, MaxBitsPerSec: 1e10,
		BridgeID: "test", HA: false, HAPrefix: "homeassistant", HAInterval: 10 * time.Second, StateInterval: time.Minute,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	out := &collect{ch: make(chan *NodeSample, 1000)}
	br, err := New(cfg, quietLog(t), out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()

	wantBps := uint64(10_000_000) // 1.25 MB per agent second
	check := func(phase string, n int) {
		t.Helper()
		ok := 0
		guard := time.After(30 * time.Second)
		for ok < n {
			select {
			case ns := <-out.ch:
				if ns.Gap {
					continue
				}
				for _, is := range ns.Ifaces {
					res := is.Result
					switch {
					case res.Status == rate.Reset:
						t.Errorf("%s: reset %q on a continuing counter", phase, res.Reason)
					case res.Rate:
						if got := res.PerSecond(rate.RxBytes, 8); got != wantBps {
							t.Errorf("%s: rx rate %d bit/s, want %d", phase, got, wantBps)
						}
						if got := res.PerSecond(rate.TxBytes, 8); got != wantBps/2 {
							t.Errorf("%s: tx rate %d bit/s, want %d", phase, got, wantBps/2)
						}
						ok++
					}
				}
			case <-guard:
				t.Fatalf("%s: only %d rated samples before the guard timeout; stats %+v", phase, ok, br.Sampler().Stats())
			}
		}
	}
	check("first run", 10)

	stopAgent()
	// A new agent process: new run id, same boot, counters go on.
	startAgent(t, ctx, b.URL(), "er-x", reader)
	check("after agent restart", 10)

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
}
