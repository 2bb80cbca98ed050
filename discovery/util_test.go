package discovery_test

import "regexp"

var templateRe = regexp.MustCompile(`^\{\{ \(value_json\.ifaces\['([a-zA-Z0-9_-]+)'\] \| default\(\{\}\)\)\.([a-z_]+) \| default\(none\) \}\}$`)

// fmtSscanf extracts the interface id and field an interface template reads.
func fmtSscanf(tpl string, id, field *string) (int, error) {
	m := templateRe.FindStringSubmatch(tpl)
	if m == nil {
		return 0, nil
	}
	*id, *field = m[1], m[2]
	return 2, nil
}
