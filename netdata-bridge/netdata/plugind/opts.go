package plugind

// ChartType is how Netdata draws a chart; anything else means ChartLine.
type ChartType string

// Chart types that every supported Netdata knows.
const (
	ChartLine    ChartType = "line"
	ChartArea    ChartType = "area"
	ChartStacked ChartType = "stacked"
)

// Algorithm is how Netdata turns collected values into stored ones. Netdata
// reads an unknown algorithm as AlgAbsolute without a word, hence the
// constants.
type Algorithm string

// Algorithms that every supported Netdata knows.
const (
	AlgAbsolute             Algorithm = "absolute"
	AlgIncremental          Algorithm = "incremental"
	AlgPercentOfAbsolute    Algorithm = "percentage-of-absolute-row"
	AlgPercentOfIncremental Algorithm = "percentage-of-incremental-row"
)

// Label sources for [Writer.CLabel], as Netdata numbers them.
const (
	LabelSourceAuto   = 1
	LabelSourceManual = 2
	LabelSourceK8s    = 4
	LabelSourceACLK   = 8
)

// VariableScope is where [Writer.Variable] puts a variable.
type VariableScope string

// Variable scopes. ScopeDefault omits the scope: the current chart inside a
// CHART or BEGIN, else the host.
const (
	ScopeDefault VariableScope = ""
	ScopeGlobal  VariableScope = "GLOBAL"
	ScopeHost    VariableScope = "HOST"
	ScopeLocal   VariableScope = "LOCAL"
	ScopeChart   VariableScope = "CHART"
)

// ChartOpts are the fields of a CHART line. Text fields are cleaned and cut to
// [MaxTextLen] bytes; Type and ID are sanitised as by [TypeID].
type ChartOpts struct {
	// Type is the part of the chart id before the dot, e.g. "ifstat_er-x" (one
	// chart per router and interface on localhost) or "ifstat" (per virtual
	// node). Its dots become '_'.
	Type string
	// ID is the part after the dot, e.g. "eth0_net".
	ID string
	// Name is the chart's display name; empty means none (the id is used).
	Name string
	// Title is shown above the chart.
	Title string
	// Units, e.g. "kilobits/s".
	Units string
	// Family groups charts in the dashboard menu; empty means the id. For
	// ifstat it is the interface name.
	Family string
	// Context groups charts of the same kind across hosts and routers and is
	// what health templates match, e.g. "ifstat.net". Empty means "type.id".
	Context string
	// ChartType: if empty, ChartLine.
	ChartType ChartType
	// Priority orders charts, lower first. If zero or negative, 1000.
	Priority int
	// UpdateEvery in seconds. If zero or negative, the plugin's.
	UpdateEvery int
	// Options: space-separated "obsolete", "hidden", "store_first". Empty
	// clears them.
	Options string
	// Plugin and Module name the collector in Netdata's UI, e.g. "ifstat"
	// and "mqtt".
	Plugin, Module string
}

// TypeID returns the sanitised "type.id" of the chart, the argument that
// [Writer.Begin] expects.
func (o ChartOpts) TypeID() string { return TypeID(o.Type, o.ID) }

// DimensionOpts are the fields of a DIMENSION line. A stored value is the
// collected one times Multiplier divided by Divisor, which is how fractions
// and signs are expressed without decimals.
type DimensionOpts struct {
	// ID is what SET names; sanitised as by [SanitizeID].
	ID string
	// Name is shown in the dashboard and the API; empty means the id.
	Name string
	// Algorithm: if empty, AlgAbsolute.
	Algorithm Algorithm
	// Multiplier: if zero, 1. Negative draws the dimension below the axis.
	Multiplier int
	// Divisor: if zero, 1.
	Divisor int
	// Options: space-separated "obsolete", "hidden", "noreset", "nooverflow".
	Options string
}
