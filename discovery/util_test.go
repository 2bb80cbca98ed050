package discovery_test

import "regexp"

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
