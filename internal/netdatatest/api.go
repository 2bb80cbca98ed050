package netdatatest

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// pollInterval is how often the Wait methods ask the API again.
const pollInterval = 200 * time.Millisecond

// Chart is one entry of /api/v1/charts, with the fields tests look at.
type Chart struct {
	ID          string `json:"id"`   // type.id as the plugin sent it
	Name        string `json:"name"` // type.name, or the id without a name
	Type        string `json:"type"`
	Family      string `json:"family"`
	Context     string `json:"context"`
	Title       string `json:"title"`
	Units       string `json:"units"`
	ChartType   string `json:"chart_type"` // line, area or stacked
	Priority    int    `json:"priority"`
	Plugin      string `json:"plugin"`
	Module      string `json:"module"`
	UpdateEvery int    `json:"update_every"` // seconds
	// Dimensions are keyed by dimension id.
	Dimensions map[string]Dimension `json:"dimensions"`
}

// Dimension is one dimension of a Chart.
type Dimension struct {
	Name string `json:"name"`
}

// Charts returns every chart of the local host, keyed by type.id.
func (n *Netdata) Charts(ctx context.Context) (map[string]Chart, error) {
	return n.charts(ctx, "")
}

// HostCharts returns every chart of host, a child whose Netdata streams to
// this one, as /host/<host>/api/v1/charts lists them. An unknown host is
// an error (Netdata answers 404).
func (n *Netdata) HostCharts(ctx context.Context, host string) (map[string]Chart, error) {
	return n.charts(ctx, hostPrefix(host))
}

// hostPrefix is the path prefix that makes a parent answer for host.
func hostPrefix(host string) string { return "/host/" + url.PathEscape(host) }

func (n *Netdata) charts(ctx context.Context, prefix string) (map[string]Chart, error) {
	var resp struct {
		Charts map[string]Chart `json:"charts"`
	}
	if err := n.getJSON(ctx, prefix+"/api/v1/charts", &resp); err != nil {
		return nil, err
	}
	return resp.Charts, nil
}

// WaitChart polls /api/v1/charts until chart id (type.id) is listed. When
// ctx ends first the error carries the tail of the error log, which says why
// a plugin was disabled.
func (n *Netdata) WaitChart(ctx context.Context, id string) (Chart, error) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		charts, err := n.Charts(ctx)
		if c, ok := charts[id]; ok && err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return Chart{}, fmt.Errorf("waiting for chart %s: %w (last error: %v); error log (its errors and the plugins' stderr, last 30 lines):\n%s",
				id, ctx.Err(), err, problems(n.ErrorLog(), 30))
		case <-tick.C:
		}
	}
}

// Data is the answer of /api/v1/data in format=json, rows oldest first.
// Labels are as Netdata sends them: "time" first, then dimension names (not
// ids); Rows[i][0] is the point's time in Unix seconds and Rows[i][j] the
// value of Labels[j], nil where Netdata has null (a gap).
type Data struct {
	Labels []string
	Rows   [][]*float64
}

// Column returns the values of the dimension named label, oldest first, and
// false if there is no such label.
func (d *Data) Column(label string) ([]*float64, bool) {
	j := slices.Index(d.Labels, label)
	if j < 0 {
		return nil, false
	}
	col := make([]*float64, len(d.Rows))
	for i, row := range d.Rows {
		if j < len(row) {
			col[i] = row[j]
		}
	}
	return col, true
}

// Data returns the points of chart (type.id) stored in the last after
// seconds: /api/v1/data?chart=..&after=-after&format=json&options=seconds.
func (n *Netdata) Data(ctx context.Context, chart string, after int) (*Data, error) {
	return n.data(ctx, "", chart, after)
}

// HostData is Data for chart of host, a child streaming to this Netdata.
func (n *Netdata) HostData(ctx context.Context, host, chart string, after int) (*Data, error) {
	return n.data(ctx, hostPrefix(host), chart, after)
}

func (n *Netdata) data(ctx context.Context, prefix, chart string, after int) (*Data, error) {
	if after <= 0 {
		return nil, fmt.Errorf("data of %s: after = %d, want seconds > 0", chart, after)
	}
	q := url.Values{
		"chart":   {chart},
		"after":   {strconv.Itoa(-after)},
		"format":  {"json"},
		"options": {"seconds"},
	}
	var raw struct {
		Labels []string     `json:"labels"`
		Data   [][]*float64 `json:"data"`
	}
	if err := n.getJSON(ctx, prefix+"/api/v1/data?"+q.Encode(), &raw); err != nil {
		return nil, err
	}
	for i, row := range raw.Data {
		if len(row) != len(raw.Labels) || row[0] == nil {
			return nil, fmt.Errorf("data of %s: row %d has %d values for %d labels or no time", chart, i, len(row), len(raw.Labels))
		}
	}
	// Netdata sends newest first.
	slices.SortStableFunc(raw.Data, func(a, b []*float64) int { return cmp.Compare(*a[0], *b[0]) })
	return &Data{Labels: raw.Labels, Rows: raw.Data}, nil
}

// WaitPoints polls Data until dimension label of chart has, after its first
// non-null point, skip warm-up points and then count more, and returns those
// (nil for a gap). Netdata 1.37 stores absolute values exactly from the first
// point and incremental rates exactly from the third, so skip 2 suits both
// (README.md). It waits while the chart does not exist yet; when ctx
// ends first the error says what was seen and carries the error log's
// problems (see problems).
func (n *Netdata) WaitPoints(ctx context.Context, chart, label string, skip, count int) ([]*float64, error) {
	if skip < 0 || count <= 0 {
		return nil, fmt.Errorf("points of %s: skip %d, count %d", chart, skip, count)
	}
	// Enough history for the start-up nulls, the warm-up and the points,
	// but no more than the daemon's age: 1.37 logs an INTERNAL ERROR for
	// every query reaching before its first slot.
	maxAfter := skip + count + 60
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last []*float64
	for {
		after := min(maxAfter, max(1, int(time.Since(n.started)/time.Second)))
		d, err := n.Data(ctx, chart, after)
		if err == nil {
			col, ok := d.Column(label)
			if !ok {
				return nil, fmt.Errorf("points of %s: no dimension named %q in %q", chart, label, d.Labels)
			}
			last = col
			if pts, ok := pickPoints(col, skip, count); ok {
				return pts, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %d points of %s/%s after %d warm-up: %w (last error: %v, last column: %s); error log (its errors and the plugins' stderr, last 30 lines):\n%s",
				count, chart, label, skip, ctx.Err(), err, formatPoints(last), problems(n.ErrorLog(), 30))
		case <-tick.C:
		}
	}
}

// pickPoints returns the count points after the first non-null point of
// col and skip more, and whether col is long enough for them.
func pickPoints(col []*float64, skip, count int) ([]*float64, bool) {
	first := slices.IndexFunc(col, func(v *float64) bool { return v != nil })
	// After a chart's first END, 1.37 reports 0 for the slot being
	// collected and turns it into null a second later, so a first non-null
	// point counts only once a row follows it.
	if first < 0 || first == len(col)-1 || len(col) < first+skip+count {
		return nil, false
	}
	return col[first+skip : first+skip+count], true
}

// formatPoints prints values with null for gaps.
func formatPoints(vs []*float64) string {
	b := []byte{'['}
	for i, v := range vs {
		if i > 0 {
			b = append(b, ' ')
		}
		if v == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendFloat(b, *v, 'g', -1, 64)
		}
	}
	return string(append(b, ']'))
}

// FunctionResult is the answer of /api/v1/function: the HTTP status, the
// content type Netdata gave (the plugin's FUNCTION_RESULT_BEGIN format)
// and the body as the plugin wrote it.
type FunctionResult struct {
	Code        int
	ContentType string
	Body        []byte
}

// Function calls a function a collector offers (Netdata 1.37 and later):
// GET /api/v1/function?function=<function>[&timeout=<seconds>]. function is
// the name and its arguments, separated by spaces. A status other than 200
// (404 while no collector offers the function yet) is no error: it is in
// the result.
func (n *Netdata) Function(ctx context.Context, function string, timeout time.Duration) (FunctionResult, error) {
	q := url.Values{"function": {function}}
	if timeout > 0 {
		q.Set("timeout", strconv.Itoa(int(timeout.Seconds())))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL()+"/api/v1/function?"+q.Encode(), nil)
	if err != nil {
		return FunctionResult{}, err
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return FunctionResult{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return FunctionResult{}, fmt.Errorf("reading /api/v1/function: %w", err)
	}
	return FunctionResult{Code: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}, nil
}

// WaitFunction calls function until Netdata answers it with 200 (a plugin
// offers its functions only once it runs). When ctx ends first the error
// carries the last answer and the tail of the error log.
func (n *Netdata) WaitFunction(ctx context.Context, function string) (FunctionResult, error) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		r, err := n.Function(ctx, function, 0)
		if err == nil && r.Code == http.StatusOK {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("waiting for function %q: %w (last error: %v, last answer %d %q); error log (its errors and the plugins' stderr, last 30 lines):\n%s",
				function, ctx.Err(), err, r.Code, r.Body[:min(len(r.Body), 300)], problems(n.ErrorLog(), 30))
		case <-tick.C:
		}
	}
}

// FunctionInfo is one function a host offers, as /api/v1/info lists it.
type FunctionInfo struct {
	Help    string `json:"help"`
	Timeout int    `json:"timeout"`
	Options string `json:"options"`
}

// Functions returns the functions the local host offers, keyed by name,
// from /api/v1/info: a collector's FUNCTION lines that Netdata accepted.
// Netdata 1.37 lists them here even though release builds serve
// /api/v1/function only to Netdata Cloud (ACLK) and answer 403 locally.
func (n *Netdata) Functions(ctx context.Context) (map[string]FunctionInfo, error) {
	var info struct {
		Functions map[string]FunctionInfo `json:"functions"`
	}
	if err := n.getJSON(ctx, "/api/v1/info", &info); err != nil {
		return nil, err
	}
	return info.Functions, nil
}

// MirroredHosts returns the host names /api/v1/info lists as
// "mirrored_hosts": this Netdata's own and those of the children streaming
// to it.
func (n *Netdata) MirroredHosts(ctx context.Context) ([]string, error) {
	var info struct {
		Mirrored []string `json:"mirrored_hosts"`
	}
	if err := n.getJSON(ctx, "/api/v1/info", &info); err != nil {
		return nil, err
	}
	return info.Mirrored, nil
}
