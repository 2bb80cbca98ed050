package plugind

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxIDLen is the longest id the writer emits, in bytes: Netdata 1.37
	// rejects a chart whose "type.id" is longer (and then disables the plugin
	// at its first BEGIN). Dimension ids get the same cap.
	MaxIDLen = 200
	// maxTypeLen caps the type part of "type.id" so the id part always keeps
	// at least MaxIDLen-maxTypeLen-1 bytes.
	maxTypeLen = 100
	// MaxTextLen is the longest text field (title, label value, …) the writer
	// emits, in bytes. With at most nine text fields on a CHART line, every
	// line stays well below Netdata 1.37's 15360-byte limit.
	MaxTextLen = 1000
)

// SanitizeID returns s as a chart or dimension id: ASCII letters, digits,
// '_', '.' and '-' are kept, every other character (space, quote, '/', ':',
// control byte, non-ASCII rune, invalid UTF-8 byte) becomes '_', and the
// result is cut to [MaxIDLen] bytes. It is never empty: "" becomes "_".
// Different inputs can give the same id ("eth0:1" and "eth0_1"); callers that
// build ids from interface names must detect such collisions themselves.
func SanitizeID(s string) string {
	return string(appendID(nil, s, MaxIDLen, true))
}

// TypeID returns the chart id "type.id" that [Writer.Chart] emits for the
// given type and id, and that [Writer.Begin] must be given. The type part
// loses its dots too (Netdata splits "type.id" at the first dot) and is cut to
// 100 bytes; the whole is cut to [MaxIDLen] bytes.
func TypeID(typ, id string) string {
	return string(appendTypeID(nil, typ, id))
}

// TypeIDPrefix is the sanitised start of the "type.id" of charts whose ids
// share a prefix and differ in a constant suffix (an interface's charts:
// "ifstat.eth0_" + "net", "packets", …). It lets a caller keep one string
// per family instead of one per chart, and [Writer.BeginSuffix] writes it
// without sanitising it again. The zero value is the prefix of type "" and
// id "".
type TypeIDPrefix struct {
	// s is the sanitised "type." followed by the sanitised id prefix, cut
	// to MaxIDLen; an empty id prefix stays empty (TypeID's "_" for an
	// empty id is decided with the suffix).
	s string
}

// NewTypeIDPrefix returns the prefix of the chart ids "type.id" whose id
// begins with idPrefix.
func NewTypeIDPrefix(typ, idPrefix string) TypeIDPrefix {
	b := appendID(make([]byte, 0, len(typ)+1+len(idPrefix)), typ, maxTypeLen, false)
	b = append(b, '.')
	if idPrefix != "" {
		b = appendID(b, idPrefix, MaxIDLen-len(b), true)
	}
	return TypeIDPrefix{s: string(b)}
}

// TypeID returns [TypeID](typ, idPrefix+suffix) for the typ and idPrefix p
// was made from, unless suffix begins with a UTF-8 continuation byte
// (0x80-0xBF), which could complete a rune cut short at the end of the id
// prefix: such a suffix is sanitised on its own, so the result is still a
// valid id, only perhaps not TypeID's.
func (p TypeIDPrefix) TypeID(suffix string) string {
	return string(p.appendTypeID(nil, suffix))
}

// appendTypeID appends p and suffix as TypeID returns them. Sanitising
// maps every rune (or invalid byte) to one byte, and a rune at the end of
// the id prefix cannot run into a suffix that does not begin with a
// continuation byte, so sanitising the whole id is sanitising its two
// parts, and cutting it is cutting their concatenation.
func (p TypeIDPrefix) appendTypeID(dst []byte, suffix string) []byte {
	if p.s == "" { // the zero value
		p.s = "_."
	}
	dst = append(dst, p.s...)
	if suffix == "" {
		if strings.IndexByte(p.s, '.') == len(p.s)-1 {
			// The id is empty, which TypeID makes "_": the type part has
			// no dots, so the first dot is the separator, and a
			// non-empty id prefix keeps at least 99 bytes after it.
			dst = append(dst, '_')
		}
		return dst
	}
	return appendID(dst, suffix, MaxIDLen-len(p.s), true)
}

// appendTypeID appends the sanitised "type.id" to dst.
func appendTypeID(dst []byte, typ, id string) []byte {
	start := len(dst)
	dst = appendID(dst, typ, maxTypeLen, false)
	dst = append(dst, '.')
	return appendID(dst, id, MaxIDLen-(len(dst)-start), true)
}

// appendID appends s to dst with every byte outside [a-zA-Z0-9_.-] (dots only
// when keepDot) replaced by '_', one '_' per rune, at most max bytes, and "_"
// for an empty s.
func appendID(dst []byte, s string, max int, keepDot bool) []byte {
	if s == "" {
		return append(dst, '_')
	}
	n := 0
	for i := 0; i < len(s) && n < max; n++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
			dst = append(dst, c)
			i++
		case c == '.' && keepDot:
			dst = append(dst, c)
			i++
		case c < utf8.RuneSelf:
			dst = append(dst, '_')
			i++
		default:
			// One '_' per rune keeps "💩0" readable as "_0"; an invalid byte
			// decodes with size 1.
			_, size := utf8.DecodeRuneInString(s[i:])
			dst = append(dst, '_')
			i += size
		}
	}
	return dst
}

// appendText appends s to dst as the inside of a single-quoted protocol word:
// quotes and backslashes (which would end the word or escape its closing
// quote) and invalid UTF-8 are dropped, control characters (newline, tab, …)
// become spaces, and the result is cut at a rune boundary to at most max
// bytes.
func appendText(dst []byte, s string, max int) []byte {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1, r == '\'', r == '"', r == '\\':
			continue
		case unicode.IsControl(r):
			r = ' '
		}
		if n+utf8.RuneLen(r) > max {
			break
		}
		n += utf8.RuneLen(r)
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// guidNamespace is the UUID namespace of ifstat-mqtt's virtual-node GUIDs
// (0ee0b079-dc3a-42ee-b91c-dfd2bb8a26e7, drawn at random once). A string
// constant, so it cannot be modified.
const guidNamespace = "\x0e\xe0\xb0\x79\xdc\x3a\x42\xee\xb9\x1c\xdf\xd2\xbb\x8a\x26\xe7"

// HostGUID returns the GUID of the virtual node for router node on the
// Netdata agent whose machine GUID is machineGUID (NETDATA_REGISTRY_UNIQUE_ID
// in a plugin's environment): an RFC 4122 version-5 UUID (SHA-1) in the
// canonical lower-case form, stable across restarts and distinct per agent, so
// two agents streaming to one parent never share a node. machineGUID is
// compared case-insensitively and without surrounding space. An empty
// machineGUID still gives a stable GUID, but one shared by every agent.
func HostGUID(machineGUID, node string) string {
	h := sha1.New()
	h.Write([]byte(guidNamespace))
	h.Write([]byte(strings.ToLower(strings.TrimSpace(machineGUID))))
	// The separator keeps ("ab", "c") and ("a", "bc") apart.
	h.Write([]byte{0})
	h.Write([]byte(node))
	var sum [sha1.Size]byte
	u := h.Sum(sum[:0])[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant

	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], u[10:16])
	return string(out[:])
}

// ValidGUID reports whether s is a UUID in the 8-4-4-4-12 hex form that
// Netdata's HOST_DEFINE and HOST accept; anything else disables the plugin.
func ValidGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
