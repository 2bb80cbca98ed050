package wire

import (
	"strings"
)

// requestCase is one row of the shared hostile-input table for requests; it
// feeds TestDecodeRequest and seeds FuzzDecodeRequest.
type requestCase struct {
	name    string
	payload string
	wantID  string
	wantErr bool
}

var requestCases = []requestCase{
	{"empty", "", "", false},
	{"whitespace", " \n\t", "", false},
	{"empty object", "{}", "", false},
	{"id", `{"id":"b1-42"}`, "b1-42", false},
	{"unknown fields", `{"id":"x","extra":[1,2,{"a":null}]}`, "x", false},
	{"id null", `{"id":null}`, "", false},
	{"unicode id", `{"id":"grüße-1"}`, "grüße-1", false},
	{"id at limit", `{"id":"` + strings.Repeat("a", MaxIDLen) + `"}`, strings.Repeat("a", MaxIDLen), false},
	{"id over limit", `{"id":"` + strings.Repeat("a", MaxIDLen+1) + `"}`, "", true},
	{"id number", `{"id":42}`, "", true},
	{"id object", `{"id":{"a":1}}`, "", true},
	{"array", `[1,2,3]`, "", true},
	{"string", `"hello"`, "", true},
	{"null", `null`, "", true},
	{"not json", `hello`, "", true},
	{"truncated", `{"id":"abc`, "", true},
	{"trailing garbage", `{"id":"a"}x`, "", true},
	{"invalid utf8 id", "{\"id\":\"\xff\xfe\"}", "", true},
	{"binary", "\x00\x01\x02\x03", "", true},
	{"deeply nested", strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000), "", true},
	{"over 1 KiB", `{"id":"x","pad":"` + strings.Repeat(" ", MaxRequestSize) + `"}`, "", true},
	{"1 MB", strings.Repeat("{", 1<<20), "", true},
}

// replyCase is one row of the shared hostile-input table for replies.
type replyCase struct {
	name    string
	payload string
	wantErr bool
}

const goodReply = `{"id":"b-1","node":"er-x","mono_ns":123456789000,"time_ns":1795300000123456789,"boot_id":"0b0c","run_id":"r1","seq":7,` +
	`"ifaces":{"eth0":{"rx_bytes":1,"tx_bytes":2,"rx_packets":3,"tx_packets":4,"rx_errors":0,"tx_errors":0,"rx_dropped":0,"tx_dropped":0,"ifindex":2,"speed":1000}}}`

var replyCases = []replyCase{
	{"good", goodReply, false},
	{"contract minimum", `{"id":"","node":"n","mono_ns":1,"time_ns":1,"ifaces":{}}`, false},
	{"counters above 2^63", `{"node":"n","mono_ns":1,"ifaces":{"eth0":{"rx_bytes":18446744073709551615}}}`, false},
	{"empty", ``, true},
	{"not an object", `[]`, true},
	{"null", `null`, true},
	{"no ifaces", `{"node":"n","mono_ns":1}`, true},
	{"negative counter", `{"node":"n","mono_ns":1,"ifaces":{"eth0":{"rx_bytes":-1}}}`, true},
	{"counter over 2^64", `{"node":"n","mono_ns":1,"ifaces":{"eth0":{"rx_bytes":18446744073709551616}}}`, true},
	{"fractional counter", `{"node":"n","mono_ns":1,"ifaces":{"eth0":{"rx_bytes":1.5}}}`, true},
	{"exponent counter", `{"node":"n","mono_ns":1,"ifaces":{"eth0":{"rx_bytes":1e3}}}`, true},
	{"string counter", `{"node":"n","mono_ns":1,"ifaces":{"eth0":{"rx_bytes":"1"}}}`, true},
	{"ifaces array", `{"node":"n","mono_ns":1,"ifaces":[1]}`, true},
	{"wrong type mono", `{"node":"n","mono_ns":"1","ifaces":{}}`, true},
	{"zero mono", `{"node":"n","mono_ns":0,"ifaces":{}}`, true},
	{"negative mono", `{"node":"n","mono_ns":-5,"ifaces":{}}`, true},
	{"node plus", `{"node":"+","mono_ns":1,"ifaces":{}}`, true},
	{"node hash", `{"node":"#","mono_ns":1,"ifaces":{}}`, true},
	{"node path", `{"node":"../x","mono_ns":1,"ifaces":{}}`, true},
	{"node empty", `{"node":"","mono_ns":1,"ifaces":{}}`, true},
	{"iface name slash", `{"node":"n","mono_ns":1,"ifaces":{"a/b":{}}}`, true},
	{"iface name space", `{"node":"n","mono_ns":1,"ifaces":{"a b":{}}}`, true},
	{"iface name empty", `{"node":"n","mono_ns":1,"ifaces":{"":{}}}`, true},
	{"iface name invalid utf8", "{\"node\":\"n\",\"mono_ns\":1,\"ifaces\":{\"\xff\":{}}}", true},
	{"watch times", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"changed_ns":90,"unchanged_ns":40}}}`, false},
	{"watch changed only", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"changed_ns":100}}}`, false},
	{"watch changed after mono", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"changed_ns":101}}}`, true},
	{"watch negative changed", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"changed_ns":-1}}}`, true},
	{"watch negative unchanged", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"changed_ns":90,"unchanged_ns":-1}}}`, true},
	{"watch unchanged alone", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"unchanged_ns":40}}}`, true},
	{"watch unchanged after changed", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"changed_ns":90,"unchanged_ns":90}}}`, true},
	{"refresh period", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"changed_ns":90,"unchanged_ns":40,"refresh_ns":976500000}}}`, false},
	{"refresh period negative", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"refresh_ns":-1}}}`, true},
	{"refresh period of days", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"refresh_ns":86400000000000}}}`, true},
	{"watch string", `{"node":"n","mono_ns":100,"ifaces":{"eth0":{"changed_ns":"90"}}}`, true},
	{"negative ifindex", `{"node":"n","mono_ns":1,"ifaces":{"eth0":{"ifindex":-1}}}`, true},
	{"deeply nested", `{"node":"n","mono_ns":1,"ifaces":{},"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, true},
	{"too many ifaces", manyIfaces(MaxIfaces + 1), true},
	{"at most ifaces", manyIfaces(MaxIfaces), false},
	{"1 MB", `{"node":"n","mono_ns":1,"ifaces":{},"pad":"` + strings.Repeat("x", 1<<20) + `"}`, true},
	{"invalid utf8 id", "{\"id\":\"\xff\",\"node\":\"n\",\"mono_ns\":1,\"ifaces\":{}}", true},
}

func manyIfaces(n int) string {
	var b strings.Builder
	b.WriteString(`{"node":"n","mono_ns":1,"ifaces":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"e`)
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(itoa(i))
		b.WriteString(`":{}`)
	}
	b.WriteString(`}}`)
	return b.String()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}
