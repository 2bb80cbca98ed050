package wire

import (
	"bytes"
	"strconv"
)

// plainReply parses a reply in exactly the form Encoder.AppendReply writes
// (its keys, in its order, no whitespace, strings without escapes, integers
// without leading zeros), without encoding/json: a bridge decodes thousands
// of replies a second, and json.Unmarshal's reflection was a fifth of its
// CPU at 5,000 agents. Anything else reports ok=false and goes the general
// way, so what this accepts is exactly what encoding/json would decode
// (TestPlainReplyAgreesWithJSON, FuzzPlainReply). p is valid UTF-8.
func plainReply(p []byte) (r Reply, ok bool) {
	d := plainDec{p: p, ok: true}
	d.lit(`{"id":`)
	r.ID = d.str()
	d.lit(`,"node":`)
	r.Node = d.str()
	d.lit(`,"mono_ns":`)
	r.MonoNS = d.int()
	d.lit(`,"time_ns":`)
	r.TimeNS = d.int()
	if d.opt(`,"boot_id":`) {
		r.BootID = d.str()
	}
	if d.opt(`,"run_id":`) {
		r.RunID = d.str()
	}
	if d.opt(`,"seq":`) {
		r.Seq = d.uint()
	}
	d.lit(`,"ifaces":{`)
	r.Ifaces = make(map[string]Counters, bytes.Count(p, []byte(`{"rx_bytes":`)))
	for first := true; d.ok && !d.opt("}"); first = false {
		if !first {
			d.lit(",")
		}
		name := d.str()
		d.lit(":")
		c := d.counters()
		if _, dup := r.Ifaces[name]; dup {
			return Reply{}, false // encoding/json keeps the last; rare enough to leave to it
		}
		r.Ifaces[name] = c
	}
	d.lit("}")
	if !d.ok || d.i != len(p) {
		return Reply{}, false
	}
	return r, true
}

func (d *plainDec) counters() (c Counters) {
	d.lit(`{"rx_bytes":`)
	c.RxBytes = d.uint()
	d.lit(`,"tx_bytes":`)
	c.TxBytes = d.uint()
	d.lit(`,"rx_packets":`)
	c.RxPackets = d.uint()
	d.lit(`,"tx_packets":`)
	c.TxPackets = d.uint()
	d.lit(`,"rx_errors":`)
	c.RxErrors = d.uint()
	d.lit(`,"tx_errors":`)
	c.TxErrors = d.uint()
	d.lit(`,"rx_dropped":`)
	c.RxDropped = d.uint()
	d.lit(`,"tx_dropped":`)
	c.TxDropped = d.uint()
	if d.opt(`,"ifindex":`) {
		c.Ifindex = d.int()
	}
	if d.opt(`,"speed":`) {
		c.SpeedMbps = d.int()
	}
	if d.opt(`,"changed_ns":`) {
		c.ChangedNS = d.int()
	}
	if d.opt(`,"unchanged_ns":`) {
		c.UnchangedNS = d.int()
	}
	if d.opt(`,"refresh_ns":`) {
		c.RefreshNS = d.int()
	}
	d.lit("}")
	return c
}

// plainDec reads p from i; the first mismatch clears ok, and every later
// call then does nothing.
type plainDec struct {
	p  []byte
	i  int
	ok bool
}

func (d *plainDec) lit(s string) {
	if !d.ok || !bytes.HasPrefix(d.p[d.i:], []byte(s)) {
		d.ok = false
		return
	}
	d.i += len(s)
}

// opt consumes s if it comes next.
func (d *plainDec) opt(s string) bool {
	if d.ok && bytes.HasPrefix(d.p[d.i:], []byte(s)) {
		d.i += len(s)
		return true
	}
	return false
}

func (d *plainDec) str() string {
	if !d.ok || d.i >= len(d.p) || d.p[d.i] != '"' {
		d.ok = false
		return ""
	}
	start := d.i + 1
	for end := start; end < len(d.p); end++ {
		switch c := d.p[end]; {
		case c == '"':
			d.i = end + 1
			return string(d.p[start:end])
		case c == '\\' || c < 0x20:
			d.ok = false // escapes are encoding/json's to undo
			return ""
		}
	}
	d.ok = false
	return ""
}

// digits returns the JSON integer at i: an optional '-' (if signed), then
// 0 or a digit 1-9 and more digits.
func (d *plainDec) digits(signed bool) []byte {
	if !d.ok {
		return nil
	}
	start, j := d.i, d.i
	if signed && j < len(d.p) && d.p[j] == '-' {
		j++
	}
	first := j
	for j < len(d.p) && d.p[j] >= '0' && d.p[j] <= '9' {
		j++
	}
	if j == first || d.p[first] == '0' && j-first > 1 {
		d.ok = false
		return nil
	}
	d.i = j
	return d.p[start:j]
}

func (d *plainDec) int() int64 {
	s := d.digits(true)
	if !d.ok {
		return 0
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		d.ok = false
	}
	return v
}

func (d *plainDec) uint() uint64 {
	s := d.digits(false)
	if !d.ok {
		return 0
	}
	v, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil {
		d.ok = false
	}
	return v
}
