package hatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Rule names one HA rule; every error Validate returns is a *Error with one.
type Rule string

// The rules, one per kind of mistake HA punishes (or silently swallows).
const (
	RuleTopic          Rule = "topic"             // <prefix>/<component>/[<node_id>/]<object_id>/config, ids [a-zA-Z0-9_-]+
	RuleJSON           Rule = "json"              // payload is a JSON object
	RuleAbbreviation   Rule = "abbreviation"      // a key given both abbreviated and in full: the abbreviation silently wins
	RuleUnknownKey     Rule = "unknown_key"       // HA drops unknown keys silently
	RuleType           Rule = "type"              // wrong JSON type for a key
	RuleRequired       Rule = "required"          // state_topic
	RuleTopicValue     Rule = "topic_value"       // a subscribe topic that is empty or misuses wildcards
	RuleDevice         Rule = "device"            // identifiers/connections and name
	RuleOrigin         Rule = "origin"            // origin with name
	RuleUniqueID       Rule = "unique_id"         // present, non-empty
	RuleDeviceClass    Rule = "device_class"      // known for the component
	RuleUnit           Rule = "unit"              // exact unit for the device class
	RuleStateClass     Rule = "state_class"       // allowed state class for the device class
	RuleAvailability   Rule = "availability"      // one form only; entries have topics; valid mode
	RuleEntityCategory Rule = "entity_category"   // only diagnostic for read-only entities
	RuleExpireAfter    Rule = "expire_after"      // integer ≥ 0
	RuleDefaultEntity  Rule = "default_entity_id" // <component>.<object id> in HA's entity id syntax
	RuleObjectID       Rule = "object_id"         // deprecated since 2025.10, ignored from 2026.4
	RuleName           Rule = "name"              // string or null, not repeating the device name
	RuleLastReset      Rule = "last_reset"        // last_reset_value_template only with state_class total
	RulePrecision      Rule = "suggested_display_precision"
	RuleOptions        Rule = "options" // non-empty list of strings, only with device_class enum, no state_class or unit
)

// Error is one broken rule.
type Error struct {
	Rule Rule
	Msg  string
}

func (e *Error) Error() string { return string(e.Rule) + ": " + e.Msg }

// Rules returns the rules an error list breaks, in order, for tests.
func Rules(errs []error) []Rule {
	var rules []Rule
	for _, err := range errs {
		var e *Error
		if errors.As(err, &e) {
			rules = append(rules, e.Rule)
		}
	}
	return rules
}

var (
	idRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
)

// abbreviations maps HA's abbreviations to full keys for the keys this
// validator knows (abbreviations.py).
var abbreviations = map[string]string{
	"avty": "availability", "avty_mode": "availability_mode", "avty_t": "availability_topic",
	"avty_tpl": "availability_template", "cmps": "components", "def_ent_id": "default_entity_id",
	"dev": "device", "dev_cla": "device_class", "e": "encoding", "en": "enabled_by_default",
	"ent_cat": "entity_category", "ent_pic": "entity_picture", "exp_aft": "expire_after",
	"frc_upd": "force_update", "ic": "icon", "json_attr_t": "json_attributes_topic",
	"json_attr_tpl": "json_attributes_template", "lrst_val_tpl": "last_reset_value_template",
	"o": "origin", "obj_id": "object_id", "off_dly": "off_delay", "ops": "options", "p": "platform",
	"pl_avail": "payload_available", "pl_not_avail": "payload_not_available", "pl_off": "payload_off",
	"pl_on": "payload_on", "stat_cla": "state_class", "stat_t": "state_topic",
	"sug_dsp_prc": "suggested_display_precision", "t": "topic", "uniq_id": "unique_id",
	"unit_of_meas": "unit_of_measurement", "val_tpl": "value_template",
}

var deviceAbbreviations = map[string]string{
	"cns": "connections", "cu": "configuration_url", "ids": "identifiers", "mf": "manufacturer",
	"mdl": "model", "mdl_id": "model_id", "hw": "hw_version", "sw": "sw_version",
	"sn": "serial_number", "sa": "suggested_area",
}

var originAbbreviations = map[string]string{"sw": "sw_version", "url": "support_url"}

// commonKeys are MQTT_ENTITY_COMMON_SCHEMA + MQTT_RO_SCHEMA + discovery keys.
var commonKeys = []string{
	"availability", "availability_mode", "availability_template", "availability_topic",
	"payload_available", "payload_not_available", "device", "entity_picture", "origin",
	"enabled_by_default", "entity_category", "icon", "json_attributes_topic",
	"json_attributes_template", "default_entity_id", "object_id", "unique_id", "platform",
	"qos", "encoding", "state_topic", "value_template", "name", "device_class",
	"expire_after", "force_update",
}

var componentKeys = map[string][]string{
	"sensor":        {"last_reset_value_template", "options", "suggested_display_precision", "state_class", "unit_of_measurement"},
	"binary_sensor": {"payload_on", "payload_off", "off_delay"},
}

var deviceKeys = []string{"identifiers", "connections", "name", "manufacturer", "model", "model_id",
	"hw_version", "sw_version", "serial_number", "suggested_area", "via_device", "configuration_url"}

var originKeys = []string{"name", "sw_version", "support_url"}

var availabilityKeys = []string{"topic", "payload_available", "payload_not_available", "value_template"}

// classRule is one device class: its exact units (nil: unit-less) and the
// state classes HA accepts for it (nil: none).
type classRule struct {
	units       []string
	stateClases []string
}

var allStateClasses = []string{"measurement", "measurement_angle", "total", "total_increasing"}

// sensorClasses is the part of components/sensor/const.py
// DEVICE_CLASS_UNITS / DEVICE_CLASS_STATE_CLASSES this project uses.
var sensorClasses = map[string]classRule{
	"data_rate": {
		units:       []string{"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "GB/s", "KiB/s", "MiB/s", "GiB/s"},
		stateClases: []string{"measurement"},
	},
	"data_size": {
		units: []string{"bit", "kbit", "Mbit", "Gbit", "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB",
			"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"},
		stateClases: []string{"measurement", "total", "total_increasing"},
	},
	"duration": {
		units:       []string{"d", "h", "min", "s", "ms", "µs"},
		stateClases: []string{"measurement", "total", "total_increasing"},
	},
	// enum: a text state out of options; HA's schema refuses a unit or a
	// state class next to options, and its sensor refuses them without
	// (they declare a numeric value).
	"enum": {},
}

var binarySensorClasses = []string{"connectivity", "problem", "running", "update"}

// Validate checks one discovery message. An empty payload is a valid
// removal. The result is nil when the message passes every rule.
func Validate(topic string, payload []byte) []error {
	var v validator
	component := v.topic(topic)
	if len(payload) == 0 {
		return v.errs
	}
	var raw any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if !utf8.Valid(payload) || dec.Decode(&raw) != nil || dec.More() {
		v.add(RuleJSON, "payload is not valid JSON")
		return v.errs
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		v.add(RuleJSON, "payload is not a JSON object")
		return v.errs
	}
	if component == "" {
		return v.errs
	}
	cfg := v.expand("", obj, abbreviations)
	v.entity(component, cfg)
	return v.errs
}

type validator struct{ errs []error }

func (v *validator) add(r Rule, format string, args ...any) {
	v.errs = append(v.errs, &Error{Rule: r, Msg: fmt.Sprintf(format, args...)})
}

// topic checks the discovery topic and returns its component, or "" when it
// is not one this validator can judge.
func (v *validator) topic(topic string) string {
	levels := strings.Split(topic, "/")
	if len(levels) != 4 && len(levels) != 5 || levels[len(levels)-1] != "config" || levels[0] == "" {
		v.add(RuleTopic, "%q is not <prefix>/<component>/[<node_id>/]<object_id>/config", topic)
		return ""
	}
	for _, id := range levels[2 : len(levels)-1] {
		if !idRe.MatchString(id) {
			v.add(RuleTopic, "%q: id %q is not [a-zA-Z0-9_-]+ (HA drops it as an illegal discovery topic)", topic, id)
		}
	}
	c := levels[1]
	if _, ok := componentKeys[c]; !ok {
		v.add(RuleTopic, "%q: component %q is not supported by this validator", topic, c)
		return ""
	}
	return c
}

// expand replaces abbreviations; a key given both ways is an error because
// HA silently keeps the abbreviated value.
func (v *validator) expand(where string, obj map[string]any, abbr map[string]string) map[string]any {
	out := make(map[string]any, len(obj))
	for k, val := range obj {
		full, isAbbr := abbr[k]
		if !isAbbr {
			full = k
		} else if _, both := obj[full]; both && full != k {
			v.add(RuleAbbreviation, "%s%q and %q both given; HA uses the abbreviation", where, k, full)
		}
		if _, dup := out[full]; dup && !isAbbr {
			continue
		}
		out[full] = val
	}
	return out
}

func (v *validator) known(where string, obj map[string]any, keys ...[]string) {
	var names []string
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		found := false
		for _, ks := range keys {
			if slices.Contains(ks, k) {
				found = true
				break
			}
		}
		if !found {
			v.add(RuleUnknownKey, "%s%q is not a key HA knows; it would be dropped silently", where, k)
		}
	}
}

func (v *validator) str(r Rule, cfg map[string]any, key string) (string, bool) {
	val, ok := cfg[key]
	if !ok {
		return "", false
	}
	s, isStr := val.(string)
	if !isStr {
		v.add(r, "%q must be a string, got %s", key, jsonType(val))
		return "", false
	}
	return s, true
}

func (v *validator) boolean(cfg map[string]any, key string) {
	if val, ok := cfg[key]; ok {
		if _, isBool := val.(bool); !isBool {
			v.add(RuleType, "%q must be a boolean, got %s", key, jsonType(val))
		}
	}
}

func jsonType(val any) string {
	switch val.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", val)
}

// validSubscribeTopic follows HA's valid_subscribe_topic: non-empty, no
// NUL, '+' and '#' only as whole levels, '#' only last.
func validSubscribeTopic(t string) bool {
	if t == "" || len(t) > 65535 || strings.ContainsRune(t, 0) || !utf8.ValidString(t) {
		return false
	}
	levels := strings.Split(t, "/")
	for i, l := range levels {
		if strings.ContainsAny(l, "+#") && len(l) != 1 {
			return false
		}
		if l == "#" && i != len(levels)-1 {
			return false
		}
	}
	return true
}

func (v *validator) topicKey(cfg map[string]any, key string) {
	if t, ok := v.str(RuleType, cfg, key); ok && !validSubscribeTopic(t) {
		v.add(RuleTopicValue, "%q %q is not a valid subscribe topic", key, t)
	}
}

func (v *validator) entity(component string, cfg map[string]any) {
	v.known("", cfg, commonKeys, componentKeys[component])

	if _, ok := cfg["state_topic"]; !ok {
		v.add(RuleRequired, "state_topic is required for %s", component)
	}
	v.topicKey(cfg, "state_topic")
	v.topicKey(cfg, "json_attributes_topic")
	for _, k := range []string{"value_template", "json_attributes_template", "icon", "encoding", "payload_on", "payload_off", "last_reset_value_template"} {
		v.str(RuleType, cfg, k)
	}
	for _, k := range []string{"enabled_by_default", "force_update"} {
		v.boolean(cfg, k)
	}

	if id, ok := v.str(RuleUniqueID, cfg, "unique_id"); !ok || id == "" {
		v.add(RuleUniqueID, "unique_id is required (registry, UI edits, device link)")
	}

	v.name(cfg)
	v.device(cfg)
	v.origin(cfg)
	v.availability(cfg)
	v.deviceClass(component, cfg)

	if c, ok := v.str(RuleEntityCategory, cfg, "entity_category"); ok && c != "diagnostic" {
		v.add(RuleEntityCategory, "entity_category %q: a read-only %s can only be diagnostic", c, component)
	}
	if val, ok := cfg["expire_after"]; ok && !nonNegInt(val) {
		v.add(RuleExpireAfter, "expire_after %v must be an integer ≥ 0 (seconds)", val)
	}
	if val, ok := cfg["suggested_display_precision"]; ok && !nonNegInt(val) {
		v.add(RulePrecision, "suggested_display_precision %v must be an integer ≥ 0", val)
	}
	if val, ok := cfg["qos"]; ok {
		if n, isNum := val.(json.Number); !isNum || (n.String() != "0" && n.String() != "1" && n.String() != "2") {
			v.add(RuleType, "qos %v must be 0, 1 or 2", val)
		}
	}
	if id, ok := v.str(RuleDefaultEntity, cfg, "default_entity_id"); ok {
		if !validEntityID(id) || !strings.HasPrefix(id, component+".") {
			v.add(RuleDefaultEntity, "default_entity_id %q is not %s.<lower-case [a-z0-9_] id>", id, component)
		}
	}
	if _, ok := cfg["object_id"]; ok {
		v.add(RuleObjectID, "object_id is deprecated (2025.10) and ignored from 2026.4; use default_entity_id")
	}
	if tpl, ok := cfg["last_reset_value_template"]; ok {
		if cfg["state_class"] != "total" {
			v.add(RuleLastReset, "The option `last_reset_value_template` cannot be used together with state class `%v`", cfg["state_class"])
		} else if s, isStr := tpl.(string); isStr && strings.TrimSpace(s) == "" {
			v.add(RuleLastReset, "last_reset_value_template is empty: it must render the ISO-8601 time of the last reset")
		}
	}
	v.options(cfg)
}

// options follows validate_sensor_state_and_device_class_config: options
// must be a non-empty list, only with device_class enum, and neither
// state_class nor unit_of_measurement may accompany it. Duplicates and
// non-strings are errors here because HA compares the state as a string.
func (v *validator) options(cfg map[string]any) {
	val, ok := cfg["options"]
	if !ok || val == nil {
		return
	}
	list, isList := val.([]any)
	if !isList || len(list) == 0 {
		v.add(RuleOptions, "options must be a non-empty list (An empty options list is not allowed)")
		return
	}
	seen := make(map[string]bool, len(list))
	for _, o := range list {
		s, isStr := o.(string)
		if !isStr || s == "" {
			v.add(RuleOptions, "options must be non-empty strings, got %v", o)
			continue
		}
		if seen[s] {
			v.add(RuleOptions, "option %q given twice", s)
		}
		seen[s] = true
	}
	if sc, unit := cfg["state_class"], cfg["unit_of_measurement"]; sc != nil || unit != nil {
		// HA stops at the first of these; so does this check.
		v.add(RuleOptions, "Specifying `options` is not allowed together with the `state_class` or `unit_of_measurement` option")
		return
	}
	if dc := cfg["device_class"]; dc != "enum" {
		v.add(RuleOptions, "The option `options` must be used together with device class `enum`, got `device_class` '%v'", dc)
	}
}

func nonNegInt(val any) bool {
	n, ok := val.(json.Number)
	if !ok {
		return false
	}
	i, err := n.Int64()
	return err == nil && i >= 0
}

func (v *validator) name(cfg map[string]any) {
	val, ok := cfg["name"]
	if !ok || val == nil {
		return
	}
	name, isStr := val.(string)
	if !isStr {
		v.add(RuleName, "name must be a string or null, got %s", jsonType(val))
		return
	}
	dev, _ := cfg["device"].(map[string]any)
	if devName, _ := dev["name"].(string); devName != "" && (strings.EqualFold(name, devName) || strings.HasPrefix(strings.ToLower(name), strings.ToLower(devName)+" ")) {
		v.add(RuleName, "name %q repeats the device name %q (HA shows %q)", name, devName, devName+" "+name)
	}
}

func (v *validator) device(cfg map[string]any) {
	val, ok := cfg["device"]
	if !ok {
		v.add(RuleDevice, "device is missing: the entity belongs to no device")
		return
	}
	raw, isObj := val.(map[string]any)
	if !isObj {
		v.add(RuleDevice, "device must be an object, got %s", jsonType(val))
		return
	}
	dev := v.expand("device ", raw, deviceAbbreviations)
	cfg["device"] = dev
	v.known("device ", dev, deviceKeys)
	ids := 0
	switch l := dev["identifiers"].(type) {
	case nil:
	case string:
		if l != "" {
			ids++
		}
	case []any:
		for _, id := range l {
			if s, isStr := id.(string); !isStr || s == "" {
				v.add(RuleDevice, "device identifiers must be non-empty strings")
			}
		}
		ids += len(l)
	default:
		v.add(RuleDevice, "device identifiers must be a list of strings")
	}
	if l, isList := dev["connections"].([]any); isList {
		for _, c := range l {
			pair, isPair := c.([]any)
			if !isPair || len(pair) != 2 {
				v.add(RuleDevice, "device connections must be [type, value] pairs")
			}
		}
		ids += len(l)
	}
	if ids == 0 {
		v.add(RuleDevice, "Device must have at least one identifying value in 'identifiers' and/or 'connections'")
	}
	if name, _ := dev["name"].(string); name == "" {
		v.add(RuleDevice, "device name is missing: MQTT device information always needs to include a name")
	}
	for _, k := range []string{"manufacturer", "model", "model_id", "hw_version", "sw_version", "serial_number", "suggested_area", "via_device", "configuration_url"} {
		v.str(RuleDevice, dev, k)
	}
}

func (v *validator) origin(cfg map[string]any) {
	val, ok := cfg["origin"]
	if !ok {
		v.add(RuleOrigin, "origin is missing")
		return
	}
	raw, isObj := val.(map[string]any)
	if !isObj {
		v.add(RuleOrigin, "origin must be an object, got %s", jsonType(val))
		return
	}
	o := v.expand("origin ", raw, originAbbreviations)
	v.known("origin ", o, originKeys)
	if name, _ := o["name"].(string); name == "" {
		v.add(RuleOrigin, "origin name is required")
	}
	if u, ok := v.str(RuleOrigin, o, "support_url"); ok && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		v.add(RuleOrigin, "origin support_url %q is not a URL", u)
	}
	v.str(RuleOrigin, o, "sw_version")
}

func (v *validator) availability(cfg map[string]any) {
	_, single := cfg["availability_topic"]
	list, hasList := cfg["availability"]
	if single && hasList {
		v.add(RuleAvailability, "availability and availability_topic are exclusive")
	}
	if single {
		v.topicKey(cfg, "availability_topic")
	}
	if m, ok := v.str(RuleAvailability, cfg, "availability_mode"); ok && m != "latest" && m != "any" && m != "all" {
		v.add(RuleAvailability, "availability_mode %q is not latest, any or all", m)
	}
	if !hasList {
		return
	}
	entries, ok := list.([]any)
	if !ok || len(entries) == 0 {
		v.add(RuleAvailability, "availability must be a non-empty list")
		return
	}
	for i, e := range entries {
		raw, isObj := e.(map[string]any)
		if !isObj {
			v.add(RuleAvailability, "availability[%d] must be an object", i)
			continue
		}
		entry := v.expand(fmt.Sprintf("availability[%d] ", i), raw, abbreviations)
		v.known(fmt.Sprintf("availability[%d] ", i), entry, availabilityKeys)
		t, _ := entry["topic"].(string)
		if !validSubscribeTopic(t) {
			v.add(RuleAvailability, "availability[%d] topic %q is missing or invalid", i, t)
		}
		for _, k := range []string{"payload_available", "payload_not_available", "value_template"} {
			v.str(RuleAvailability, entry, k)
		}
	}
}

func (v *validator) deviceClass(component string, cfg map[string]any) {
	class, hasClass := v.str(RuleDeviceClass, cfg, "device_class")
	unitVal, hasUnit := cfg["unit_of_measurement"]
	unit, unitIsStr := unitVal.(string)
	if hasUnit && unitVal != nil && (!unitIsStr || unit == "") {
		v.add(RuleUnit, "unit_of_measurement must be a non-empty string or null (older HA takes \"\" as a unit)")
	}
	stateClass, hasState := v.str(RuleStateClass, cfg, "state_class")
	if hasState && !slices.Contains(allStateClasses, stateClass) {
		v.add(RuleStateClass, "state_class %q is not one of %v", stateClass, allStateClasses)
		hasState = false
	}
	if component == "binary_sensor" {
		if hasClass && !slices.Contains(binarySensorClasses, class) {
			v.add(RuleDeviceClass, "binary_sensor device_class %q is not one this validator knows %v", class, binarySensorClasses)
		}
		return
	}
	if !hasClass {
		// Any unit goes without a device class ("%", "packets/s"), but
		// one of a device class this validator knows means a forgotten
		// device_class: HA would neither convert nor check it.
		if unitIsStr {
			for _, c := range slices.Sorted(maps.Keys(sensorClasses)) {
				if slices.Contains(sensorClasses[c].units, unit) {
					v.add(RuleUnit, "unit %q without device_class: set device_class %s so HA validates and converts it", unit, c)
					break
				}
			}
		}
		return
	}
	rule, ok := sensorClasses[class]
	if !ok {
		v.add(RuleDeviceClass, "sensor device_class %q is not one this validator knows", class)
		return
	}
	if rule.units == nil {
		if hasUnit && unitVal != nil {
			v.add(RuleUnit, "device_class %s takes no unit of measurement, got %v", class, unitVal)
		}
		if hasState {
			v.add(RuleStateClass, "device_class %s takes no state class, got %s", class, stateClass)
		}
		if _, ok := cfg["suggested_display_precision"]; ok {
			v.add(RulePrecision, "device_class %s is not numeric: suggested_display_precision makes HA expect a number", class)
		}
		return
	}
	if !hasUnit || unitVal == nil {
		v.add(RuleUnit, "device_class %s needs a unit of measurement, one of %v", class, rule.units)
	} else if unitIsStr && unit != "" && !slices.Contains(rule.units, unit) {
		v.add(RuleUnit, "The unit of measurement `%s` is not valid together with device class `%s`", unit, class)
	}
	if hasState && !slices.Contains(rule.stateClases, stateClass) {
		v.add(RuleStateClass, "state class '%s' is impossible considering device class ('%s'); expected None or one of %v", stateClass, class, rule.stateClases)
	}
}

// validEntityID follows HA's valid_entity_id: <domain>.<object> of
// [a-z0-9_], no part starting or ending with '_', no "__".
func validEntityID(id string) bool {
	domain, object, ok := strings.Cut(id, ".")
	return ok && slugPart(domain) && slugPart(object)
}

func slugPart(s string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Slugify follows homeassistant.util.slugify (python-slugify with
// separator "_"): lower case, a ',' between two digits dropped, every run
// of other characters than [a-z0-9] one '_', none at either end, "" gives
// "unknown". python-slugify transliterates non-ASCII letters first
// (unidecode: "ä" → "a"); here every non-ASCII rune is a separator, which
// only matters for names that discovery already tells apart by a hash.
func Slugify(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	pending := false
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if pending && b.Len() > 0 {
				b.WriteByte('_')
			}
			pending = false
			b.WriteRune(r)
		case r == ',' && i > 0 && isDigit(s[i-1]) && i+1 < len(s) && isDigit(s[i+1]):
			// NUMBERS_PATTERN: "1,000" is "1000"
		default:
			pending = true
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// NameEntityID is the entity id HA before 2025.10 gives an MQTT entity
// that has a device name and an entity name (has_entity_name is always
// true for MQTT): <component>.<slug of "<device> <name>">, on first
// registration; taken ids get _2, _3, … in registration order
// (EntityRegistry.async_generate_entity_id).
func NameEntityID(component, deviceName, name string) string {
	return component + "." + Slugify(deviceName+" "+name)
}

// Register assigns id in taken the way HA's registry does: id itself if
// free, else the first free id_2, id_3, …; it records and returns it.
func Register(taken map[string]bool, id string) string {
	got := id
	for n := 2; taken[got]; n++ {
		got = fmt.Sprintf("%s_%d", id, n)
	}
	taken[got] = true
	return got
}
