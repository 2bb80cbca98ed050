package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Defaults for zero Options fields.
const (
	DefaultHAPrefix = wire.DefaultHAPrefix
	DefaultInterval = 10 * time.Second
	// ExpireFactor times the HA interval is every state-fed entity's
	// expire_after: two lost state messages are tolerated, the third makes
	// the entity unavailable instead of frozen.
	ExpireFactor = 3
	// SupportURL goes into every payload's origin block.
	SupportURL = "https://github.com/ifstat-mqtt/ifstat-mqtt"
	// OriginName goes into every payload's origin block.
	OriginName = "ifstat-mqtt"
)

// ErrInvalid marks options or router descriptions that cannot produce legal
// discovery payloads.
var ErrInvalid = errors.New("invalid discovery input")

// Options are the bridge-wide settings every payload depends on.
type Options struct {
	// HAPrefix is Home Assistant's discovery prefix (IFSTAT_HA_PREFIX). If
	// empty, DefaultHAPrefix.
	HAPrefix string
	// TopicPrefix is IFSTAT_TOPIC_PREFIX. If empty, wire.DefaultPrefix.
	TopicPrefix string
	// BridgeID names the bridge's own status topic P/bridge/<BridgeID>/status
	// and device; 1–64 bytes of [a-z0-9_-], stable across restarts. Required.
	BridgeID string
	// BridgeVersion is the bridge's version, shown as origin sw_version.
	BridgeVersion string
	// Interval is IFSTAT_HA_INTERVAL, the time between state messages. If
	// zero, DefaultInterval.
	Interval time.Duration
	// Fleet is set for a bridge that shares its routers with others
	// (IFSTAT_SHARD=auto): a router's configs must not depend on which
	// bridge publishes them, so they name no bridge. Availability follows
	// the agent alone (expire_after covers a fleet with no bridge left)
	// and the router device has no via_device: a handover then republishes
	// the same bytes, and Home Assistant sees no change and no flap.
	Fleet bool
	// SampleInterval is the bridge's IFSTAT_INTERVAL; 0 when unknown.
	// Below PeakEnabledBelow the peak rate entities are enabled by
	// default (see the package doc).
	SampleInterval time.Duration
}

// PeakEnabledBelow is the sampling interval below which the peak rate
// entities are created enabled: sub-second sampling exists to see
// microbursts, while at 1 s and above they would double every
// interface's rate history in HA's recorder for a figure few want.
const PeakEnabledBelow = time.Second

func (o Options) haPrefix() string {
	if o.HAPrefix == "" {
		return DefaultHAPrefix
	}
	return o.HAPrefix
}

func (o Options) topicPrefix() string {
	if o.TopicPrefix == "" {
		return wire.DefaultPrefix
	}
	return o.TopicPrefix
}

func (o Options) interval() time.Duration {
	if o.Interval == 0 {
		return DefaultInterval
	}
	return o.Interval
}

// peakEnabled reports whether the peak rate entities are created enabled.
func (o Options) peakEnabled() bool {
	return o.SampleInterval > 0 && o.SampleInterval < PeakEnabledBelow
}

// ExpireAfter is the expire_after, in whole seconds, of every state-fed
// entity: ExpireFactor × Interval, rounded up.
func (o Options) ExpireAfter() int {
	return max(1, int(math.Ceil(ExpireFactor*o.interval().Seconds())))
}

// namespace is the first part of every id: "ifstat" for the default topic
// prefix, so two installations with different prefixes on one HA never share
// an id.
func (o Options) namespace() string { return IfaceID(o.topicPrefix()) }

// Validate reports options that cannot produce legal payloads.
func (o Options) Validate() error {
	switch {
	case !wire.ValidNode(o.BridgeID):
		return fmt.Errorf("%w: bridge id %q is not 1-%d bytes of [a-z0-9_-]", ErrInvalid, o.BridgeID, wire.MaxNodeLen)
	case !wire.ValidPrefix(o.topicPrefix()):
		return fmt.Errorf("%w: topic prefix %q", ErrInvalid, o.TopicPrefix)
	case !validHAPrefix(o.haPrefix()):
		return fmt.Errorf("%w: home assistant prefix %q", ErrInvalid, o.HAPrefix)
	case o.Interval < 0:
		return fmt.Errorf("%w: interval %v is negative", ErrInvalid, o.Interval)
	case o.SampleInterval < 0:
		return fmt.Errorf("%w: sample interval %v is negative", ErrInvalid, o.SampleInterval)
	}
	return nil
}

// validHAPrefix: one or more topic levels, no wildcards, no empty level.
func validHAPrefix(p string) bool {
	return wire.ValidPrefix(p)
}

// Router is what the bridge knows about one agent.
type Router struct {
	// Node is the agent's node id.
	Node string
	// Info is the agent's retained description, or nil before it arrived.
	Info *wire.Info
	// Ifaces are the raw interface names to create entities for.
	Ifaces []string
	// Tariffs are the bridge's tariffs in schedule order, empty without
	// tariff accounting. Every interface gets the tariff entities of every
	// tariff.
	Tariffs []Tariff
}

// MaxTariffLen is the longest tariff name accepted, as IFSTAT_TARIFFS.
const MaxTariffLen = 32

// Tariff is one tariff as Home Assistant entities see it.
type Tariff struct {
	// Name is 1–MaxTariffLen bytes of [a-z0-9_-].
	Name string
	// Capped is set when the tariff has an allowance per billing cycle:
	// its interfaces then get an "allowance used" entity.
	Capped bool
}

// Message is one MQTT publication. Configs are retained at QoS 1 by the
// caller's choice; Retained says whether the broker must keep it.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// IfaceID returns the stable id of an interface name, of [a-zA-Z0-9_-] only.
// A name that is already legal is its own id; otherwise every other
// character (rune) becomes '_' and "_" plus 6 hex digits of the SHA-256 of
// the raw name is appended, so distinct names keep distinct ids.
func IfaceID(name string) string {
	var b strings.Builder
	changed := name == ""
	for _, r := range name {
		if r < 0x80 && idByte(byte(r)) {
			b.WriteRune(r)
			continue
		}
		b.WriteByte('_')
		changed = true
	}
	if !changed {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(sum[:3]))
	return b.String()
}

func idByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// slug makes an entity-id part: lower-case [a-z0-9], runs of anything else
// become one '_', none at either end.
func slug(s string) string {
	var b strings.Builder
	pending := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if pending && b.Len() > 0 {
				b.WriteByte('_')
			}
			pending = false
			b.WriteRune(r)
			continue
		}
		pending = true
	}
	return b.String()
}

// ifaceLabel is the interface's part of its entity names. Home Assistant
// before 2025.10 ignores default_entity_id and derives the entity id from
// the friendly name ("<device> <name>", slugified: lower case, every run of
// other characters one '_'), first come first served: eth0.100 and
// eth0_100 would both slug to eth0_100 and the one discovered second would
// get the _2 suffix. So only a plain name (lower-case letters and digits
// joined by single '-', the one spelling per slug: br-lan, wlan0-1) is its
// own label; any other name (eth0.100, eth0_100, ETH0, veth1@if3) gets the
// first 6 hex digits of its SHA-256 appended, as IfaceID does. The label
// depends on the name alone, so entity names, and entity ids derived from
// them, are the same in any discovery order. unique_ids do not use it.
// A plain name ending in "-peak" is hashed too: "wan-peak receive rate"
// would slug like wan's "peak receive rate".
func ifaceLabel(name string) string {
	if name == strings.ReplaceAll(slug(name), "_", "-") && !strings.HasSuffix(name, "-peak") {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name + " (" + hex.EncodeToString(sum[:3]) + ")"
}

// metric describes one per-interface entity.
type metric struct {
	key      string // unique_id / object id suffix
	name     string // entity name after the interface name
	field    string // State JSON field
	class    string // device_class
	unit     string
	stateCls string
	prec     *int
	optional bool // diagnostic, disabled by default
	diag     bool // diagnostic, enabled
	peak     bool // enabled by default only with sub-second sampling
}

func intp(i int) *int    { return &i }
func boolp(b bool) *bool { return &b }

// ifaceMetrics is the fixed entity set per interface, in publication order.
// Their keys are never a '_'-suffix of one another, so object ids
// "<iface-id>_<key>" cannot collide between interfaces.
var ifaceMetrics = [...]metric{
	{key: "rx_rate", name: "receive rate", field: "rx_bps", class: "data_rate", unit: "bit/s", stateCls: "measurement", prec: intp(0)},
	{key: "tx_rate", name: "send rate", field: "tx_bps", class: "data_rate", unit: "bit/s", stateCls: "measurement", prec: intp(0)},
	{key: "rx_total", name: "received", field: "rx_bytes", class: "data_size", unit: "B", stateCls: "total_increasing"},
	{key: "tx_total", name: "sent", field: "tx_bytes", class: "data_size", unit: "B", stateCls: "total_increasing"},
	{key: "rx_packets", name: "receive packets", field: "rx_pps", unit: "packets/s", stateCls: "measurement", prec: intp(1), optional: true},
	{key: "tx_packets", name: "send packets", field: "tx_pps", unit: "packets/s", stateCls: "measurement", prec: intp(1), optional: true},
	{key: "rx_errors", name: "receive errors", field: "rx_errors_ps", unit: "errors/s", stateCls: "measurement", prec: intp(2), optional: true},
	{key: "tx_errors", name: "send errors", field: "tx_errors_ps", unit: "errors/s", stateCls: "measurement", prec: intp(2), optional: true},
	{key: "rx_drops", name: "receive drops", field: "rx_drops_ps", unit: "drops/s", stateCls: "measurement", prec: intp(2), optional: true},
	{key: "tx_drops", name: "send drops", field: "tx_drops_ps", unit: "drops/s", stateCls: "measurement", prec: intp(2), optional: true},
	{key: "rx_peak", name: "peak receive rate", field: "rx_peak_bps", class: "data_rate", unit: "bit/s", stateCls: "measurement", prec: intp(0), peak: true},
	{key: "tx_peak", name: "peak send rate", field: "tx_peak_bps", class: "data_rate", unit: "bit/s", stateCls: "measurement", prec: intp(0), peak: true},
	{key: "refresh", name: "refresh period", field: "refresh_s", class: "duration", unit: "s", stateCls: "measurement", prec: intp(4), diag: true},
}

// tariffMetric describes one per-interface, per-tariff entity. Its key is
// joined to the tariff name with '-' ("rx_total-happy"): no '_'-suffix of
// such a key is a key of the fixed set, so an interface named like another
// interface plus a tariff cannot take its topic (entities checks the rest).
type tariffMetric struct {
	key, name, field string
	class, unit      string
	stateCls         string
	prec             *int
	capped           bool // only for a tariff with an allowance
}

// tariffMetrics is the entity set per interface and tariff, in publication
// order: lifetime totals (total_increasing, for statistics and
// utility_meter), the current cycle (total, last_reset = cycle start), and
// the share of the allowance used.
var tariffMetrics = [...]tariffMetric{
	{key: "rx_total", name: "received", field: "rx_bytes", class: "data_size", unit: "B", stateCls: "total_increasing"},
	{key: "tx_total", name: "sent", field: "tx_bytes", class: "data_size", unit: "B", stateCls: "total_increasing"},
	{key: "rx_cycle", name: "received this cycle", field: "rx_cycle", class: "data_size", unit: "B", stateCls: "total"},
	{key: "tx_cycle", name: "sent this cycle", field: "tx_cycle", class: "data_size", unit: "B", stateCls: "total"},
	{key: "share", name: "allowance used", field: "share", unit: "%", stateCls: "measurement", prec: intp(1), capped: true},
}

// Router-level and per-interface entity keys outside ifaceMetrics.
const (
	keyAgent  = "agent"
	keyAge    = "sample_age"
	keyTariff = "tariff" // the tariff in force, per interface
)

// config is one discovery payload. Field order is the JSON order; full key
// names (not abbreviations) keep `mosquitto_sub -v` output readable.
type config struct {
	Name              *string        `json:"name"`
	UniqueID          string         `json:"unique_id"`
	DefaultEntityID   string         `json:"default_entity_id"`
	StateTopic        string         `json:"state_topic"`
	ValueTemplate     string         `json:"value_template,omitempty"`
	LastResetTemplate string         `json:"last_reset_value_template,omitempty"`
	PayloadOn         string         `json:"payload_on,omitempty"`
	PayloadOff        string         `json:"payload_off,omitempty"`
	DeviceClass       string         `json:"device_class,omitempty"`
	Unit              string         `json:"unit_of_measurement,omitempty"`
	StateClass        string         `json:"state_class,omitempty"`
	Options           []string       `json:"options,omitempty"`
	Precision         *int           `json:"suggested_display_precision,omitempty"`
	ExpireAfter       int            `json:"expire_after,omitempty"`
	EntityCategory    string         `json:"entity_category,omitempty"`
	EnabledByDefault  *bool          `json:"enabled_by_default,omitempty"`
	Availability      []availability `json:"availability,omitempty"`
	AvailabilityMode  string         `json:"availability_mode,omitempty"`
	Device            device         `json:"device"`
	Origin            origin         `json:"origin"`
	componentForTopic string
	routerLevel       bool // not removed with an interface
}

type availability struct {
	Topic               string `json:"topic"`
	PayloadAvailable    string `json:"payload_available"`
	PayloadNotAvailable string `json:"payload_not_available"`
}

type device struct {
	Identifiers []string `json:"identifiers"`
	Name        string   `json:"name"`
	Model       string   `json:"model,omitempty"`
	SWVersion   string   `json:"sw_version,omitempty"`
	ViaDevice   string   `json:"via_device,omitempty"`
}

type origin struct {
	Name       string `json:"name"`
	SWVersion  string `json:"sw_version,omitempty"`
	SupportURL string `json:"support_url"`
}

func (o Options) origin() origin {
	return origin{Name: OriginName, SWVersion: o.BridgeVersion, SupportURL: SupportURL}
}

func (o Options) bridgeDeviceID() string { return o.namespace() + "-bridge:" + o.BridgeID }

func (o Options) routerDevice(r Router) device {
	d := device{
		Identifiers: []string{o.namespace() + ":" + r.Node},
		Name:        r.Node,
	}
	if !o.Fleet {
		d.ViaDevice = o.bridgeDeviceID()
	}
	if in := r.Info; in != nil {
		if in.Hostname != "" {
			d.Name = in.Hostname
		}
		d.SWVersion = in.Version
		var model []string
		if in.OS != "" || in.Arch != "" {
			model = append(model, strings.Trim(in.OS+"/"+in.Arch, "/"))
		}
		if in.Kernel != "" {
			model = append(model, "kernel "+in.Kernel)
		}
		d.Model = strings.Join(model, ", ")
	}
	return d
}

func (o Options) availability(node string) []availability {
	p := o.topicPrefix()
	a := []availability{
		{Topic: wire.Topics{Prefix: p, Node: node}.Status(), PayloadAvailable: wire.StatusOnline, PayloadNotAvailable: wire.StatusOffline},
	}
	if !o.Fleet {
		a = append(a, availability{Topic: wire.BridgeTopics{Prefix: p, BridgeID: o.BridgeID}.Status(), PayloadAvailable: wire.StatusOnline, PayloadNotAvailable: wire.StatusOffline})
	}
	return a
}

func (o Options) configTopic(component, node, object string) string {
	return wire.HAConfigTopic(o.haPrefix(), component, o.namespace()+"_"+node, object)
}

func (o Options) check(node string) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if !wire.ValidNode(node) {
		return fmt.Errorf("%w: node %q", ErrInvalid, node)
	}
	return nil
}

func checkIfaces(ifaces []string) error {
	seen := make(map[string]string, len(ifaces))
	for _, name := range ifaces {
		if !wire.ValidIface(name) {
			return fmt.Errorf("%w: interface name %q", ErrInvalid, name)
		}
		id := IfaceID(name)
		if prev, ok := seen[id]; ok && prev != name {
			return fmt.Errorf("%w: interfaces %q and %q share id %q", ErrInvalid, prev, name, id)
		}
		seen[id] = name
	}
	return nil
}

// checkTariffs refuses tariff names that cannot be ids or template keys,
// and duplicates.
func checkTariffs(tariffs []Tariff) error {
	seen := make(map[string]bool, len(tariffs))
	for _, t := range tariffs {
		if !validTariff(t.Name) {
			return fmt.Errorf("%w: tariff name %q is not 1-%d bytes of [a-z0-9_-]", ErrInvalid, t.Name, MaxTariffLen)
		}
		// Entity names carry the tariff name: two that slug alike
		// (peak_hours, peak-hours) would give alike entity ids on HA
		// before 2025.10.
		if seen[slug(t.Name)] {
			return fmt.Errorf("%w: tariff %q given twice or spelt like another", ErrInvalid, t.Name)
		}
		seen[slug(t.Name)] = true
	}
	return nil
}

func validTariff(name string) bool {
	if name == "" || len(name) > MaxTariffLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Configs returns every discovery config of router r, retained, in a
// deterministic order: router-level entities, then per interface (in the
// order of r.Ifaces) the metrics of the fixed set followed by its tariff
// entities. Publishing them again is harmless: HA ignores an unchanged
// config.
func Configs(o Options, r Router) ([]Message, error) {
	cfgs, err := o.entities(r)
	if err != nil {
		return nil, err
	}
	dev, org := o.routerDevice(r), o.origin()
	msgs := make([]Message, 0, len(cfgs))
	for _, c := range cfgs {
		c.Device, c.Origin = dev, org
		b, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("encoding config %s: %w", c.UniqueID, err)
		}
		msgs = append(msgs, Message{Topic: o.topicOf(r.Node, c), Payload: b, Retained: true})
	}
	return msgs, nil
}

// ConfigTopics returns the topics Configs(o, r) publishes, in the same
// order; the bridge compares two router descriptions with it to clear the
// configs one of them no longer has.
func ConfigTopics(o Options, r Router) ([]string, error) {
	cfgs, err := o.entities(r)
	if err != nil {
		return nil, err
	}
	topics := make([]string, len(cfgs))
	for i, c := range cfgs {
		topics[i] = o.topicOf(r.Node, c)
	}
	return topics, nil
}

func (o Options) topicOf(node string, c config) string {
	return o.configTopic(c.componentForTopic, node, objectID(c.UniqueID))
}

// entities builds every config of r without device and origin. It refuses
// a description whose configs would share a topic: object ids join the
// interface id and the metric key with '_', which both may contain, so
// only a check proves that no two (interface, metric) pairs meet.
func (o Options) entities(r Router) ([]config, error) {
	if err := o.check(r.Node); err != nil {
		return nil, err
	}
	if err := checkIfaces(r.Ifaces); err != nil {
		return nil, err
	}
	if err := checkTariffs(r.Tariffs); err != nil {
		return nil, err
	}
	ns, p := o.namespace(), o.topicPrefix()
	state := wire.Topics{Prefix: p, Node: r.Node}.State()
	avty := o.availability(r.Node)
	nodeSlug := slug(r.Node)

	var cfgs []config
	agentName, ageName := "Agent", "Last sample age"
	cfgs = append(cfgs,
		config{
			componentForTopic: "binary_sensor",
			routerLevel:       true,
			Name:              &agentName,
			UniqueID:          ns + ":" + r.Node + ":" + keyAgent,
			DefaultEntityID:   "binary_sensor." + nodeSlug + "_" + keyAgent,
			StateTopic:        wire.Topics{Prefix: p, Node: r.Node}.Status(),
			PayloadOn:         wire.StatusOnline,
			PayloadOff:        wire.StatusOffline,
			DeviceClass:       "connectivity",
			EntityCategory:    "diagnostic",
		},
		config{
			componentForTopic: "sensor",
			routerLevel:       true,
			Name:              &ageName,
			UniqueID:          ns + ":" + r.Node + ":" + keyAge,
			DefaultEntityID:   "sensor." + nodeSlug + "_" + keyAge,
			StateTopic:        state,
			ValueTemplate:     "{{ value_json.age_s | default(none) }}",
			DeviceClass:       "duration",
			Unit:              "s",
			StateClass:        "measurement",
			Precision:         intp(2),
			ExpireAfter:       o.ExpireAfter(),
			EntityCategory:    "diagnostic",
			Availability:      avty,
			AvailabilityMode:  "all",
		})
	for _, name := range r.Ifaces {
		id, label := IfaceID(name), ifaceLabel(name)
		ifaceEntity := func(key, entityName string) config {
			return config{
				componentForTopic: "sensor",
				Name:              &entityName,
				UniqueID:          ns + ":" + r.Node + ":" + id + ":" + key,
				DefaultEntityID:   "sensor." + nodeSlug + "_" + slug(id) + "_" + slug(key),
				StateTopic:        state,
				ExpireAfter:       o.ExpireAfter(),
				Availability:      avty,
				AvailabilityMode:  "all",
			}
		}
		for _, m := range ifaceMetrics {
			c := ifaceEntity(m.key, label+" "+m.name)
			c.ValueTemplate = ifaceTemplate(id, field(m.field))
			c.DeviceClass, c.Unit, c.StateClass, c.Precision = m.class, m.unit, m.stateCls, m.prec
			switch {
			case m.optional:
				c.EntityCategory = "diagnostic"
				c.EnabledByDefault = boolp(false)
			case m.diag:
				c.EntityCategory = "diagnostic"
			case m.peak && !o.peakEnabled():
				c.EnabledByDefault = boolp(false)
			}
			cfgs = append(cfgs, c)
		}
		if len(r.Tariffs) == 0 {
			continue
		}
		c := ifaceEntity(keyTariff, label+" tariff")
		c.ValueTemplate = ifaceTemplate(id, field("tariff"), field("active"))
		c.DeviceClass = "enum"
		for _, t := range r.Tariffs {
			c.Options = append(c.Options, t.Name)
		}
		cfgs = append(cfgs, c)
		for _, t := range r.Tariffs {
			for _, m := range tariffMetrics {
				if m.capped && !t.Capped {
					continue
				}
				c := ifaceEntity(m.key+"-"+t.Name, label+" "+m.name+" ("+t.Name+")")
				c.ValueTemplate = ifaceTemplate(id, field("tariff"), field("usage"), item(t.Name), field(m.field))
				c.DeviceClass, c.Unit, c.StateClass, c.Precision = m.class, m.unit, m.stateCls, m.prec
				if m.stateCls == "total" {
					c.LastResetTemplate = lastResetTemplate(id)
				}
				cfgs = append(cfgs, c)
			}
		}
	}
	seen := make(map[string]string, len(cfgs))
	names := make(map[string]string, len(cfgs))
	for _, c := range cfgs {
		topic := o.topicOf(r.Node, c)
		if prev, ok := seen[topic]; ok {
			return nil, fmt.Errorf("%w: entities %s and %s share the config topic %s", ErrInvalid, prev, c.UniqueID, topic)
		}
		seen[topic] = c.UniqueID
		// Names that slug alike get alike entity ids on HA before
		// 2025.10. ifaceLabel leaves only contrived cases (an interface
		// named like another's label with its hash, a tariff named
		// "this-cycle-x" next to "x").
		n := c.componentForTopic + "." + slug(*c.Name)
		if prev, ok := names[n]; ok {
			return nil, fmt.Errorf("%w: entities %s and %s have names that slug alike (%s)", ErrInvalid, prev, c.UniqueID, n)
		}
		names[n] = c.UniqueID
	}
	return cfgs, nil
}

// objectID is the topic's object level: the unique_id without its
// namespace and node (those are the node level), ':' turned into '_'.
func objectID(uniqueID string) string {
	parts := strings.SplitN(uniqueID, ":", 3)
	return strings.ReplaceAll(parts[len(parts)-1], ":", "_")
}

// step is one access in a template path: .name for our fixed keys,
// ['name'] for tariff names, which may hold '-'.
type step string

func field(name string) step { return step("." + name) }
func item(name string) step  { return step("['" + name + "']") }

// ifacePath is the Jinja expression reading steps below one interface of
// the state. Every level but the last is defaulted to {}, so a missing
// interface, tariff object or tariff renders as None without a template
// error; JSON null already renders as None.
func ifacePath(id string, steps ...step) string {
	e := "value_json.ifaces['" + id + "']"
	for _, s := range steps {
		e = "(" + e + " | default({}))" + string(s)
	}
	return e
}

// ifaceTemplate reads one value below one interface; missing renders None
// (HA: unknown).
func ifaceTemplate(id string, steps ...step) string {
	return "{{ " + ifacePath(id, steps...) + " | default(none) }}"
}

// lastResetTemplate reads the interface's cycle start. HA ignores an empty
// last_reset rendering but warns about "None", hence an empty string for
// missing and null alike.
func lastResetTemplate(id string) string {
	return "{{ " + ifacePath(id, field("tariff"), field("cycle_start")) + " | default('', true) }}"
}

// Removals returns empty retained payloads for every config of the
// interfaces gone from node, tariff entities included (tariffs as given
// to Configs): HA deletes those entities and the broker drops the
// retained configs. The router's other entities are untouched.
func Removals(o Options, node string, gone []string, tariffs []Tariff) ([]Message, error) {
	cfgs, err := o.entities(Router{Node: node, Ifaces: gone, Tariffs: tariffs})
	if err != nil {
		return nil, err
	}
	var msgs []Message
	for _, c := range cfgs {
		if !c.routerLevel {
			msgs = append(msgs, Message{Topic: o.topicOf(node, c), Payload: []byte{}, Retained: true})
		}
	}
	return msgs, nil
}

// BridgeConfigs returns the config of the bridge's own device: one
// connectivity binary_sensor on its LWT. Routers name this device as their
// via_device.
func BridgeConfigs(o Options) ([]Message, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	name := "Connection"
	c := config{
		Name:            &name,
		UniqueID:        o.bridgeDeviceID() + ":status",
		DefaultEntityID: "binary_sensor.ifstat_bridge_" + slug(o.BridgeID),
		StateTopic:      wire.BridgeTopics{Prefix: o.topicPrefix(), BridgeID: o.BridgeID}.Status(),
		PayloadOn:       wire.StatusOnline,
		PayloadOff:      wire.StatusOffline,
		DeviceClass:     "connectivity",
		EntityCategory:  "diagnostic",
		Device: device{
			Identifiers: []string{o.bridgeDeviceID()},
			Name:        "ifstat-bridge " + o.BridgeID,
			Model:       "ifstat-bridge",
			SWVersion:   o.BridgeVersion,
		},
		Origin: o.origin(),
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding bridge config: %w", err)
	}
	topic := o.haPrefix() + "/binary_sensor/" + o.namespace() + "-bridge_" + o.BridgeID + "/status/config"
	return []Message{{Topic: topic, Payload: b, Retained: true}}, nil
}
