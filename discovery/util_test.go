package discovery_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery"
)

var templateRe = regexp.MustCompile(`^\{\{ \(value_json\.ifaces\['([a-zA-Z0-9_-]+)'\] \| default\(\{\}\)\)\.([a-z_]+) \| default\(none\) \}\}$`)

// templateRef returns the interface id and field an interface template
// reads, ok=false for other templates.
func templateRef(tpl string) (id, field string, ok bool) {
	m := templateRe.FindStringSubmatch(tpl)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

var (
	tplRe  = regexp.MustCompile(`^\{\{ (\(*value_json[^ ]*(?: \| default\(\{\}\)\)[^ ]*)*) \| default\((none|'', true)\) \}\}$`)
	stepRe = regexp.MustCompile(`^(?:\.([a-z_]+)|\['([a-zA-Z0-9_-]+)'\])`)
)

// templatePath returns the keys a template reads below value_json, for
// every template discovery writes; ok=false for anything else.
func templatePath(tpl string) (path []string, ok bool) {
	m := tplRe.FindStringSubmatch(tpl)
	if m == nil {
		return nil, false
	}
	e := strings.ReplaceAll(strings.ReplaceAll(m[1], " | default({}))", ""), "(", "")
	e, ok = strings.CutPrefix(e, "value_json")
	for ok && e != "" {
		s := stepRe.FindStringSubmatch(e)
		if s == nil {
			return nil, false
		}
		path = append(path, s[1]+s[2])
		e = e[len(s[0]):]
	}
	return path, ok && len(path) > 0
}

// lookup follows path through decoded JSON.
func lookup(v any, path []string) (any, bool) {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// mustConfigs returns the discovery configs of r, failing the test on an
// error.
func mustConfigs(t testing.TB, o discovery.Options, r discovery.Router) []discovery.Message {
	t.Helper()
	msgs, err := discovery.Configs(o, r)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}
