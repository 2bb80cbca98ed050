package hatest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/hatest"
)

const goodTopic = "homeassistant/sensor/ifstat_gw/eth0_rx_rate/config"

// good is a payload that passes every rule; each case breaks one.
func good() map[string]any {
	return map[string]any{
		"name":                        "eth0 receive rate",
		"unique_id":                   "ifstat:gw:eth0:rx_rate",
		"default_entity_id":           "sensor.gw_eth0_rx_rate",
		"state_topic":                 "ifstat/gw/state",
		"value_template":              "{{ value_json.x }}",
		"device_class":                "data_rate",
		"unit_of_measurement":         "bit/s",
		"state_class":                 "measurement",
		"suggested_display_precision": 0,
		"expire_after":                30,
		"availability": []any{
			map[string]any{"topic": "ifstat/gw/status"},
			map[string]any{"topic": "ifstat/bridge/b/status", "payload_available": "online"},
		},
		"availability_mode": "all",
		"device":            map[string]any{"identifiers": []any{"ifstat:gw"}, "name": "gw"},
		"origin":            map[string]any{"name": "ifstat-mqtt", "support_url": "https://example.org"},
	}
}

// cycle turns good into a per-cycle byte count: state_class total with a
// last_reset read from the state.
func cycle(m map[string]any) {
	m["device_class"], m["unit_of_measurement"], m["state_class"] = "data_size", "B", "total"
	m["last_reset_value_template"] = "{{ value_json.cycle_start | default('', true) }}"
}

// duration turns good into the refresh period diagnostic: seconds,
// measurement, enabled.
func duration(m map[string]any) {
	m["device_class"], m["unit_of_measurement"], m["entity_category"] = "duration", "s", "diagnostic"
	m["suggested_display_precision"] = 4
}

// enum turns good into a text sensor with a fixed set of states.
func enum(m map[string]any) {
	for _, k := range []string{"unit_of_measurement", "state_class", "suggested_display_precision"} {
		delete(m, k)
	}
	m["device_class"], m["options"] = "enum", []any{"happy", "normal"}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		topic  string
		mutate func(m map[string]any)
		raw    string // payload instead of the mutated good one
		want   []hatest.Rule
	}{
		{name: "good"},
		{name: "good abbreviated", mutate: func(m map[string]any) {
			m["stat_t"], m["uniq_id"], m["dev_cla"] = m["state_topic"], m["unique_id"], m["device_class"]
			delete(m, "state_topic")
			delete(m, "unique_id")
			delete(m, "device_class")
			m["dev"] = map[string]any{"ids": "ifstat:gw", "name": "gw", "sw": "1"}
			m["o"] = map[string]any{"name": "x", "url": "https://x"}
			delete(m, "device")
			delete(m, "origin")
		}},
		{name: "good without node id", topic: "homeassistant/sensor/eth0_rx_rate/config"},
		{name: "removal", raw: "-"},
		{name: "binary sensor", topic: "homeassistant/binary_sensor/ifstat_gw/agent/config", mutate: func(m map[string]any) {
			for _, k := range []string{"unit_of_measurement", "state_class", "suggested_display_precision", "value_template"} {
				delete(m, k)
			}
			m["device_class"], m["payload_on"], m["payload_off"] = "connectivity", "online", "offline"
			m["default_entity_id"] = "binary_sensor.gw_agent"
		}},
		{name: "topic dot in object id", topic: "homeassistant/sensor/ifstat_gw/eth0.100_rx_rate/config", want: []hatest.Rule{hatest.RuleTopic}},
		{name: "topic at in node id", topic: "homeassistant/sensor/veth1@if3/x/config", want: []hatest.Rule{hatest.RuleTopic}},
		{name: "topic too deep", topic: "homeassistant/sensor/a/b/c/config", want: []hatest.Rule{hatest.RuleTopic}},
		{name: "topic not config", topic: "homeassistant/sensor/a/b/state", want: []hatest.Rule{hatest.RuleTopic}},
		{name: "topic unsupported component", topic: "homeassistant/light/a/config", want: []hatest.Rule{hatest.RuleTopic}},
		{name: "not json", raw: "{", want: []hatest.Rule{hatest.RuleJSON}},
		{name: "json array", raw: "[]", want: []hatest.Rule{hatest.RuleJSON}},
		{name: "trailing garbage", raw: "{} {}", want: []hatest.Rule{hatest.RuleJSON}},
		{name: "abbreviation and full key", mutate: func(m map[string]any) { m["stat_t"] = "other/topic" }, want: []hatest.Rule{hatest.RuleAbbreviation}},
		{name: "typo key", mutate: func(m map[string]any) { m["unit_of_measurment"] = "bit/s" }, want: []hatest.Rule{hatest.RuleUnknownKey}},
		{name: "suggested unit (not in MQTT schema)", mutate: func(m map[string]any) { m["suggested_unit_of_measurement"] = "Mbit/s" }, want: []hatest.Rule{hatest.RuleUnknownKey}},
		{name: "unknown device key", mutate: func(m map[string]any) { m["device"].(map[string]any)["firmware"] = "1" }, want: []hatest.Rule{hatest.RuleUnknownKey}},
		{name: "unknown origin key", mutate: func(m map[string]any) { m["origin"].(map[string]any)["version"] = "1" }, want: []hatest.Rule{hatest.RuleUnknownKey}},
		{name: "unknown availability key", mutate: func(m map[string]any) { m["availability"].([]any)[0].(map[string]any)["qos"] = 1 }, want: []hatest.Rule{hatest.RuleUnknownKey}},
		{name: "template not string", mutate: func(m map[string]any) { m["value_template"] = 1 }, want: []hatest.Rule{hatest.RuleType}},
		{name: "enabled_by_default string", mutate: func(m map[string]any) { m["enabled_by_default"] = "false" }, want: []hatest.Rule{hatest.RuleType}},
		{name: "missing state_topic", mutate: func(m map[string]any) { delete(m, "state_topic") }, want: []hatest.Rule{hatest.RuleRequired}},
		{name: "state_topic wildcard inside level", mutate: func(m map[string]any) { m["state_topic"] = "ifstat/gw+/state" }, want: []hatest.Rule{hatest.RuleTopicValue}},
		{name: "state_topic hash not last", mutate: func(m map[string]any) { m["state_topic"] = "ifstat/#/state" }, want: []hatest.Rule{hatest.RuleTopicValue}},
		{name: "state_topic empty", mutate: func(m map[string]any) { m["state_topic"] = "" }, want: []hatest.Rule{hatest.RuleTopicValue}},
		{name: "device missing", mutate: func(m map[string]any) { delete(m, "device") }, want: []hatest.Rule{hatest.RuleDevice}},
		{name: "device without identifiers", mutate: func(m map[string]any) { delete(m["device"].(map[string]any), "identifiers") }, want: []hatest.Rule{hatest.RuleDevice}},
		{name: "device empty identifiers", mutate: func(m map[string]any) { m["device"].(map[string]any)["identifiers"] = []any{} }, want: []hatest.Rule{hatest.RuleDevice}},
		{name: "device without name", mutate: func(m map[string]any) { delete(m["device"].(map[string]any), "name") }, want: []hatest.Rule{hatest.RuleDevice}},
		{name: "device connections only", mutate: func(m map[string]any) {
			m["device"] = map[string]any{"connections": []any{[]any{"mac", "02:00:00:00:00:01"}}, "name": "gw"}
		}},
		{name: "origin missing", mutate: func(m map[string]any) { delete(m, "origin") }, want: []hatest.Rule{hatest.RuleOrigin}},
		{name: "origin without name", mutate: func(m map[string]any) { m["origin"] = map[string]any{"sw": "1"} }, want: []hatest.Rule{hatest.RuleOrigin}},
		{name: "origin bad url", mutate: func(m map[string]any) { m["origin"].(map[string]any)["support_url"] = "example.org" }, want: []hatest.Rule{hatest.RuleOrigin}},
		{name: "unique_id missing", mutate: func(m map[string]any) { delete(m, "unique_id") }, want: []hatest.Rule{hatest.RuleUniqueID}},
		{name: "unique_id empty", mutate: func(m map[string]any) { m["unique_id"] = "" }, want: []hatest.Rule{hatest.RuleUniqueID}},
		{name: "unknown device class", mutate: func(m map[string]any) { m["device_class"] = "bandwidth" }, want: []hatest.Rule{hatest.RuleDeviceClass}},
		{name: "unit Mbps", mutate: func(m map[string]any) { m["unit_of_measurement"] = "Mbps" }, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "unit bps", mutate: func(m map[string]any) { m["unit_of_measurement"] = "bps" }, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "unit KB/s", mutate: func(m map[string]any) { m["unit_of_measurement"] = "KB/s" }, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "unit of data_size on rate", mutate: func(m map[string]any) { m["unit_of_measurement"] = "B" }, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "unit empty string", mutate: func(m map[string]any) { m["unit_of_measurement"] = "" }, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "unit missing with class", mutate: func(m map[string]any) { delete(m, "unit_of_measurement") }, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "state class total_increasing on rate", mutate: func(m map[string]any) { m["state_class"] = "total_increasing" }, want: []hatest.Rule{hatest.RuleStateClass}},
		{name: "state class unknown", mutate: func(m map[string]any) { m["state_class"] = "counter" }, want: []hatest.Rule{hatest.RuleStateClass}},
		{name: "data_size total_increasing", mutate: func(m map[string]any) {
			m["device_class"], m["unit_of_measurement"], m["state_class"] = "data_size", "B", "total_increasing"
		}},
		{name: "availability both forms", mutate: func(m map[string]any) { m["availability_topic"] = "ifstat/gw/status" }, want: []hatest.Rule{hatest.RuleAvailability}},
		{name: "availability entry without topic", mutate: func(m map[string]any) { m["availability"].([]any)[0] = map[string]any{"payload_available": "up"} }, want: []hatest.Rule{hatest.RuleAvailability}},
		{name: "availability mode both", mutate: func(m map[string]any) { m["availability_mode"] = "both" }, want: []hatest.Rule{hatest.RuleAvailability}},
		{name: "availability not a list", mutate: func(m map[string]any) { m["availability"] = "ifstat/gw/status" }, want: []hatest.Rule{hatest.RuleAvailability}},
		{name: "entity category config", mutate: func(m map[string]any) { m["entity_category"] = "config" }, want: []hatest.Rule{hatest.RuleEntityCategory}},
		{name: "expire_after negative", mutate: func(m map[string]any) { m["expire_after"] = -1 }, want: []hatest.Rule{hatest.RuleExpireAfter}},
		{name: "expire_after fraction", mutate: func(m map[string]any) { m["expire_after"] = 2.5 }, want: []hatest.Rule{hatest.RuleExpireAfter}},
		{name: "expire_after string", mutate: func(m map[string]any) { m["expire_after"] = "30" }, want: []hatest.Rule{hatest.RuleExpireAfter}},
		{name: "precision negative", mutate: func(m map[string]any) { m["suggested_display_precision"] = -1 }, want: []hatest.Rule{hatest.RulePrecision}},
		{name: "default_entity_id without domain", mutate: func(m map[string]any) { m["default_entity_id"] = "gw_eth0" }, want: []hatest.Rule{hatest.RuleDefaultEntity}},
		{name: "default_entity_id wrong domain", mutate: func(m map[string]any) { m["default_entity_id"] = "binary_sensor.gw_eth0" }, want: []hatest.Rule{hatest.RuleDefaultEntity}},
		{name: "default_entity_id double underscore", mutate: func(m map[string]any) { m["default_entity_id"] = "sensor.gw__eth0" }, want: []hatest.Rule{hatest.RuleDefaultEntity}},
		{name: "default_entity_id upper case", mutate: func(m map[string]any) { m["default_entity_id"] = "sensor.GW" }, want: []hatest.Rule{hatest.RuleDefaultEntity}},
		{name: "object_id", mutate: func(m map[string]any) { m["object_id"] = "gw_eth0" }, want: []hatest.Rule{hatest.RuleObjectID}},
		{name: "name repeats device", mutate: func(m map[string]any) { m["name"] = "gw eth0 receive rate" }, want: []hatest.Rule{hatest.RuleName}},
		{name: "name equals device", mutate: func(m map[string]any) { m["name"] = "GW" }, want: []hatest.Rule{hatest.RuleName}},
		{name: "name starts with device name as a word part", mutate: func(m map[string]any) { m["name"] = "gw0 receive rate" }},
		{name: "name number", mutate: func(m map[string]any) { m["name"] = 1 }, want: []hatest.Rule{hatest.RuleName}},
		{name: "name null", mutate: func(m map[string]any) { m["name"] = nil }},
		{name: "last reset without total", mutate: func(m map[string]any) {
			m["device_class"], m["unit_of_measurement"], m["state_class"] = "data_size", "B", "total_increasing"
			m["last_reset_value_template"] = "{{ value_json.reset }}"
		}, want: []hatest.Rule{hatest.RuleLastReset}},
		{name: "good total with last reset", mutate: func(m map[string]any) { cycle(m) }},
		{name: "last reset with measurement", mutate: func(m map[string]any) {
			cycle(m)
			m["state_class"] = "measurement"
		}, want: []hatest.Rule{hatest.RuleLastReset}},
		{name: "last reset without state class", mutate: func(m map[string]any) {
			cycle(m)
			delete(m, "state_class")
		}, want: []hatest.Rule{hatest.RuleLastReset}},
		{name: "last reset empty", mutate: func(m map[string]any) {
			cycle(m)
			m["last_reset_value_template"] = " "
		}, want: []hatest.Rule{hatest.RuleLastReset}},
		{name: "last reset not a string", mutate: func(m map[string]any) {
			cycle(m)
			m["last_reset_value_template"] = 1
		}, want: []hatest.Rule{hatest.RuleType}},
		{name: "last reset abbreviated", mutate: func(m map[string]any) {
			cycle(m)
			m["lrst_val_tpl"] = m["last_reset_value_template"]
			delete(m, "last_reset_value_template")
		}},
		{name: "good duration diagnostic", mutate: func(m map[string]any) { duration(m) }},
		{name: "good peak rate disabled by default", mutate: func(m map[string]any) { m["enabled_by_default"] = false }},
		{name: "duration unit sec", mutate: func(m map[string]any) {
			duration(m)
			m["unit_of_measurement"] = "sec"
		}, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "duration without unit", mutate: func(m map[string]any) {
			duration(m)
			delete(m, "unit_of_measurement")
		}, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "duration unit of a rate", mutate: func(m map[string]any) {
			duration(m)
			m["unit_of_measurement"] = "bit/s"
		}, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "seconds without device class", mutate: func(m map[string]any) {
			duration(m)
			delete(m, "device_class")
		}, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "duration diagnostic as config", mutate: func(m map[string]any) {
			duration(m)
			m["entity_category"] = "config"
		}, want: []hatest.Rule{hatest.RuleEntityCategory}},
		{name: "good enum", mutate: func(m map[string]any) { enum(m) }},
		{name: "good enum abbreviated options", mutate: func(m map[string]any) {
			enum(m)
			m["ops"] = m["options"]
			delete(m, "options")
		}},
		{name: "enum without options", mutate: func(m map[string]any) {
			enum(m)
			delete(m, "options")
		}},
		{name: "enum with unit", mutate: func(m map[string]any) {
			enum(m)
			delete(m, "options")
			m["unit_of_measurement"] = "B"
		}, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "enum with state class", mutate: func(m map[string]any) {
			enum(m)
			delete(m, "options")
			m["state_class"] = "measurement"
		}, want: []hatest.Rule{hatest.RuleStateClass}},
		{name: "enum with precision", mutate: func(m map[string]any) {
			enum(m)
			m["suggested_display_precision"] = 0
		}, want: []hatest.Rule{hatest.RulePrecision}},
		{name: "options with state class", mutate: func(m map[string]any) {
			enum(m)
			m["state_class"] = "measurement"
		}, want: []hatest.Rule{hatest.RuleStateClass, hatest.RuleOptions}},
		{name: "options empty", mutate: func(m map[string]any) {
			enum(m)
			m["options"] = []any{}
		}, want: []hatest.Rule{hatest.RuleOptions}},
		{name: "options not a list", mutate: func(m map[string]any) {
			enum(m)
			m["options"] = "happy"
		}, want: []hatest.Rule{hatest.RuleOptions}},
		{name: "options not strings", mutate: func(m map[string]any) {
			enum(m)
			m["options"] = []any{"happy", 1}
		}, want: []hatest.Rule{hatest.RuleOptions}},
		{name: "options twice", mutate: func(m map[string]any) {
			enum(m)
			m["options"] = []any{"happy", "happy"}
		}, want: []hatest.Rule{hatest.RuleOptions}},
		{name: "options without enum", mutate: func(m map[string]any) {
			enum(m)
			delete(m, "device_class")
		}, want: []hatest.Rule{hatest.RuleOptions}},
		{name: "options on data_rate", mutate: func(m map[string]any) { m["options"] = []any{"a"} }, want: []hatest.Rule{hatest.RuleOptions}},
		{name: "good percent without device class", mutate: func(m map[string]any) {
			delete(m, "device_class")
			m["unit_of_measurement"] = "%"
		}},
		{name: "percent on data_rate", mutate: func(m map[string]any) { m["unit_of_measurement"] = "%" }, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "percent on data_size", mutate: func(m map[string]any) {
			cycle(m)
			m["unit_of_measurement"] = "%"
		}, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "bytes without device class", mutate: func(m map[string]any) {
			delete(m, "device_class")
			m["unit_of_measurement"] = "B"
		}, want: []hatest.Rule{hatest.RuleUnit}},
		{name: "bit/s without device class", mutate: func(m map[string]any) { delete(m, "device_class") }, want: []hatest.Rule{hatest.RuleUnit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			topic := tt.topic
			if topic == "" {
				topic = goodTopic
			}
			var payload []byte
			switch tt.raw {
			case "":
				m := good()
				if tt.mutate != nil {
					tt.mutate(m)
				}
				var err error
				if payload, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			case "-":
				payload = nil
			default:
				payload = []byte(tt.raw)
			}
			errs := hatest.Validate(topic, payload)
			if diff := cmp.Diff(tt.want, hatest.Rules(errs)); diff != "" {
				t.Errorf("Validate rules (-want +got):\n%s\nerrors: %v", diff, errs)
			}
			for _, err := range errs {
				if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\n") {
					t.Errorf("error message %q is not one line", msg)
				}
			}
		})
	}
}

// FuzzValidate: no input panics.
func FuzzValidate(f *testing.F) {
	f.Add(goodTopic, []byte(`{"state_topic":"a","device":{"identifiers":[1]},"availability":[1,{"t":2}],"origin":[]}`))
	f.Add("a/sensor/b/config", []byte(`{"dev":{"cns":[[1]]},"avty":{}}`))
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		_ = hatest.Validate(topic, payload)
	})
}

func TestSlugify(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ER-X eth0.100 receive rate": "er_x_eth0_100_receive_rate",
		"ER-X eth0_100 receive rate": "er_x_eth0_100_receive_rate",
		"gw  br-lan:1 sent":          "gw_br_lan_1_sent",
		"1,000 x,1":                  "1000_x_1",
		"--":                         "unknown",
	} {
		if got := hatest.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
	taken := map[string]bool{}
	for _, want := range []string{"sensor.a", "sensor.a_2", "sensor.a_3"} {
		if got := hatest.Register(taken, "sensor.a"); got != want {
			t.Errorf("Register = %q, want %q", got, want)
		}
	}
}
