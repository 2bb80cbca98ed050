package wire

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// Encoder appends replies as JSON without reflection: the agent encodes one
// reply per request on a router CPU, so this path avoids encoding/json's
// per-call allocations. Interfaces are written in name order, so the output
// is deterministic. An Encoder is not safe for concurrent use; its zero value
// is ready.
type Encoder struct {
	names []string
}

// AppendReply appends r as a JSON object to dst. The result decodes with
// DecodeReply to a value equal to r.
func (e *Encoder) AppendReply(dst []byte, r *Reply) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, r.ID)
	dst = append(dst, `,"node":`...)
	dst = appendString(dst, r.Node)
	dst = append(dst, `,"mono_ns":`...)
	dst = strconv.AppendInt(dst, r.MonoNS, 10)
	dst = append(dst, `,"time_ns":`...)
	dst = strconv.AppendInt(dst, r.TimeNS, 10)
	if r.BootID != "" {
		dst = append(dst, `,"boot_id":`...)
		dst = appendString(dst, r.BootID)
	}
	if r.RunID != "" {
		dst = append(dst, `,"run_id":`...)
		dst = appendString(dst, r.RunID)
	}
	if r.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, r.Seq, 10)
	}
	dst = append(dst, `,"ifaces":{`...)
	e.names = e.names[:0]
	for name := range r.Ifaces {
		e.names = append(e.names, name)
	}
	slices.Sort(e.names)
	for i, name := range e.names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, name)
		dst = append(dst, ':')
		dst = AppendCounters(dst, r.Ifaces[name])
	}
	return append(dst, "}}"...)
}

// AppendCounters appends c as a JSON object to dst.
func AppendCounters(dst []byte, c Counters) []byte {
	dst = append(dst, `{"rx_bytes":`...)
	dst = strconv.AppendUint(dst, c.RxBytes, 10)
	dst = append(dst, `,"tx_bytes":`...)
	dst = strconv.AppendUint(dst, c.TxBytes, 10)
	dst = append(dst, `,"rx_packets":`...)
	dst = strconv.AppendUint(dst, c.RxPackets, 10)
	dst = append(dst, `,"tx_packets":`...)
	dst = strconv.AppendUint(dst, c.TxPackets, 10)
	dst = append(dst, `,"rx_errors":`...)
	dst = strconv.AppendUint(dst, c.RxErrors, 10)
	dst = append(dst, `,"tx_errors":`...)
	dst = strconv.AppendUint(dst, c.TxErrors, 10)
	dst = append(dst, `,"rx_dropped":`...)
	dst = strconv.AppendUint(dst, c.RxDropped, 10)
	dst = append(dst, `,"tx_dropped":`...)
	dst = strconv.AppendUint(dst, c.TxDropped, 10)
	if c.Ifindex != 0 {
		dst = append(dst, `,"ifindex":`...)
		dst = strconv.AppendInt(dst, c.Ifindex, 10)
	}
	if c.SpeedMbps != 0 {
		dst = append(dst, `,"speed":`...)
		dst = strconv.AppendInt(dst, c.SpeedMbps, 10)
	}
	if c.ChangedNS != 0 {
		dst = append(dst, `,"changed_ns":`...)
		dst = strconv.AppendInt(dst, c.ChangedNS, 10)
	}
	if c.UnchangedNS != 0 {
		dst = append(dst, `,"unchanged_ns":`...)
		dst = strconv.AppendInt(dst, c.UnchangedNS, 10)
	}
	if c.RefreshNS != 0 {
		dst = append(dst, `,"refresh_ns":`...)
		dst = strconv.AppendInt(dst, c.RefreshNS, 10)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does, so every output is valid JSON.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
