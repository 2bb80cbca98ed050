package bridge_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/netdatatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
)

// streamAPIKey is the key the child sends and the parent accepts. Any UUID
// will do; each test's daemons have private config directories, so a fixed
// one cannot reach another test's parent.
const streamAPIKey = "6f0c1a4e-5b7d-4e43-9a52-0c9d3f1b2e77"

// TestPluginStreamsToParent: the fleet layout of docs/scale-out.md. A child
// Netdata runs ifstat.plugin (broker and agent as in TestPluginFunction)
// and streams to a parent Netdata; both on 127.0.0.1. The parent lists the
// child among its mirrored hosts, serves the node's chart under
// /host/<child>/, and has points for it that match the child's own.
// Only seconds past the child's warm-up are compared: on the parent, 1.37
// shows 0 for the slots before the child's first point and a gap for that
// point.
func TestPluginStreamsToParent(t *testing.T) {
	t.Parallel()
	proctest.SkipShort(t, "starts two Netdata daemons, Mosquitto and an agent")
	const (
		node   = "e2e-stream"
		parent = "nd-parent"
		child  = "nd-child"
	)
	// The parent first: the child's stream.conf needs its port. No
	// "allow from": the parent listens on 127.0.0.1 only, and 1.37 matched
	// the pattern against the peer's resolved name ("localhost"), not its
	// address, refusing "allow from = 127.0.0.1".
	p := netdatatest.Start(t, netdatatest.Options{
		Hostname: parent,
		UserConfig: map[string][]byte{
			"stream.conf": []byte("[" + streamAPIKey + "]\n\tenabled = yes\n"),
		},
	})
	dest := strings.TrimPrefix(p.URL(), "http://")
	e, src := startPluginNetdataWith(t, node, netdatatest.Options{
		Hostname: child,
		UserConfig: map[string][]byte{
			"stream.conf": []byte("[stream]\n\tenabled = yes\n\tdestination = " + dest + "\n\tapi key = " + streamAPIKey + "\n"),
		},
	}, "info")
	t.Logf("parent %s on %s, child %s on %s", parent, p.URL(), child, e.nd.URL())

	// The child's own chart first, judged as every e2e chart is: the
	// parent is compared with it below.
	chart := "ifstat_" + node + ".eth0_net"
	own := e.waitSeries(t, chart, time.Time{}, goodPoints)
	src.judge(t, chart, "eth0", own.afterWarmup(time.Time{}), false)
	listed := e.bornAt(chart)

	ctx, cancel := context.WithTimeout(t.Context(), guard)
	defer cancel()
	var (
		hosts   []string
		c       netdatatest.Chart
		got     series
		both    []int64 // seconds with a point past the child's warm-up on both
		lastErr error
	)
	for {
		got, lastErr = parentSeries(ctx, p, child, chart, listed, &hosts, &c)
		if lastErr == nil {
			if own, lastErr = e.fetch(ctx, chart); lastErr == nil {
				both = pointsOnBoth(own.afterWarmup(time.Time{}), got)
				if len(both) >= goodPoints {
					break
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("parent: mirrored hosts %q, chart %s of %s: %d seconds with points on parent and child, want %d (last error: %v); parent:%s\nchild:%s\nparent log tail:\n%s",
				hosts, chart, child, len(both), goodPoints, lastErr, got, own, tailLines(p.ErrorLog(), 30))
		case <-time.After(500 * time.Millisecond):
		}
	}
	t.Logf("the parent's %s of %s %v after the child listed it; mirrored hosts %q:%s\nthe child's:%s", chart, child, time.Since(listed).Round(100*time.Millisecond), hosts, got, own)
	if !slices.Contains(hosts, parent) {
		t.Errorf("mirrored hosts %q: want the parent's own %q too", hosts, parent)
	}
	if c.Context != "ifstat.net" || c.Units != "kilobits/s" || c.Dimensions["received"].Name != "received" || c.Dimensions["sent"].Name != "sent" {
		t.Errorf("chart on the parent: %+v, want context ifstat.net, kilobits/s, received and sent", c)
	}

	// The parent holds what the child collected, not values of its own
	// making: for every second the child has a judged point, the parent's
	// is the same, and so within the agent's true rates too.
	childAt, parentAt := bySecond(own), bySecond(got)
	var judged series
	for _, sec := range both {
		o, pt := childAt[sec], parentAt[sec]
		if !close6(ptr0(pt.received), ptr0(o.received)) || !close6(ptr0(pt.sentNeg), ptr0(o.sentNeg)) {
			t.Errorf("second %d: parent received %s sent %s, child %s %s", sec,
				fmtPoint(pt.received), fmtPoint(pt.sentNeg), fmtPoint(o.received), fmtPoint(o.sentNeg))
		}
		judged = append(judged, pt)
	}
	src.judge(t, "parent: "+chart, "eth0", judged, false)
	checkOneRun(t, e.nd)
}

// pointsOnBoth returns the seconds where child and parent both have a
// non-null received point, in child's order.
func pointsOnBoth(child, parent series) []int64 {
	at := bySecond(parent)
	var out []int64
	for _, o := range child {
		if pt, ok := at[o.t]; ok && o.received != nil && pt.received != nil {
			out = append(out, o.t)
		}
	}
	return out
}

func bySecond(s series) map[int64]point {
	m := make(map[int64]point, len(s))
	for _, p := range s {
		m[p.t] = p
	}
	return m
}

// parentSeries reads chart of host child from the parent p, once the
// parent lists child among its mirrored hosts (*hosts) and the chart (*c).
// Like fetch, it asks only for seconds since the chart was listed.
func parentSeries(ctx context.Context, p *netdatatest.Netdata, child, chart string, listed time.Time, hosts *[]string, c *netdatatest.Chart) (series, error) {
	var err error
	if *hosts, err = p.MirroredHosts(ctx); err != nil {
		return nil, err
	}
	if !slices.Contains(*hosts, child) {
		return nil, fmt.Errorf("%s is not among the mirrored hosts", child)
	}
	charts, err := p.HostCharts(ctx, child)
	if err != nil {
		return nil, err
	}
	ch, ok := charts[chart]
	if !ok {
		return nil, fmt.Errorf("the parent does not list %s of %s", chart, child)
	}
	*c = ch
	d, err := p.HostData(ctx, child, chart, min(maxHistory, max(1, int(time.Since(listed)/time.Second))))
	if err != nil {
		return nil, err
	}
	return toSeries(chart, d)
}

func ptr0(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// close6 reports whether a and b agree to 6 significant digits (both NaN
// counts as agreeing: a gap on both).
func close6(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b))
}
