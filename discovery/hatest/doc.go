// Package hatest checks MQTT discovery messages against Home Assistant's
// rules for sensor and binary_sensor entities, as HA core implements them
// (components/mqtt/{discovery,abbreviations,schemas,sensor,binary_sensor}.py,
// components/sensor/const.py) for HA 2024.11 – 2026.x.
//
// It is stricter than HA where HA is silent: unknown keys (HA drops them
// without a word, so a typo just vanishes), a missing device name or origin,
// a name that repeats the device name, a unit of a known device class given
// without that class (HA neither checks nor converts it; "%" without a class
// is fine), an empty last_reset_value_template, and duplicate or
// non-string enum options are errors here. Where HA is strict it follows
// validate_sensor_state_and_device_class_config: last_reset_value_template
// only with state_class total; options non-empty, only with device_class
// enum and without state_class or unit. It covers only
// the components and device classes ifstat-mqtt uses; anything else is
// reported as unsupported rather than passed. It leaves publishing to
// others and never panics on any input.
package hatest
