package netdev

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// MaxFileSize bounds how much of /proc/net/dev is read: a kernel line is
// about 130 bytes, so 1 MiB holds several thousand interfaces, while a
// ProcRoot pointed at something endless still cannot exhaust memory.
const MaxFileSize = 1 << 20

// maxLineErrors bounds the line errors kept per read; the rest are counted.
const maxLineErrors = 8

// Error categories. A hard error (the whole read failed) wraps ErrFormat or
// ErrTooLarge; a skipped line is a *LineError wrapping ErrBadLine.
var (
	ErrFormat   = errors.New("not in /proc/net/dev format")
	ErrTooLarge = errors.New("file too large")
	ErrBadLine  = errors.New("bad /proc/net/dev line")
)

// fields is the number of counter columns the kernel prints per interface
// (net/core/net-procfs.c, dev_seq_printf_stats).
const fields = 16

// LineError describes one line of /proc/net/dev that was skipped. The
// other lines of the same read are still reported.
type LineError struct {
	Line int    // 1-based line number in the file
	Name string // interface name if one could be read, else ""
	Err  error  // why; wraps ErrBadLine
}

func (e *LineError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d (%q): %v", e.Line, e.Name, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

func badLine(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadLine}, args...)...)
}

// lineParser walks the bytes of one read. It keeps the line errors of the
// last parse; in steady state (no bad lines) it allocates nothing.
//
// It also keeps the last read's lines and what they parsed to: a line
// whose bytes are the same as the one at the same place in the last read
// parsed to the same name and counters, and is not parsed again. Most
// of the adaptive watch's reads see no interface change (it reads until
// a refresh shows), and parsing was the agent's largest cost per read
// (BenchmarkRead/er-x: 96,938 instructions under qemu-mipsel for 8
// interfaces, where the kernel's pread takes about 105,000 for 11).
type lineParser struct {
	errs    []error
	dropped int // line errors beyond maxLineErrors
	// prev holds the last read's lines after the header, and lines what
	// each parsed to (ok false: a bad or blank line, parsed again).
	prev, next   []byte
	lines, nextL []parsedLine
}

// parsedLine is one line of lineParser.prev: its bytes prev[off:end], its
// name prev[off+nameOff:off+nameEnd] and counters c when ok.
type parsedLine struct {
	off, end         int
	nameOff, nameEnd int
	c                wire.Counters
	ok               bool
}

func (p *lineParser) addErr(e *LineError) {
	if len(p.errs) < maxLineErrors {
		p.errs = append(p.errs, e)
		return
	}
	p.dropped++
}

// skipped returns the line errors of the last parse as one error, or nil.
func (p *lineParser) skipped() error {
	if len(p.errs) == 0 {
		return nil
	}
	errs := p.errs
	if p.dropped > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("%w: %d more lines skipped", ErrBadLine, p.dropped))
	}
	return errors.Join(errs...)
}

// parse checks the header of b and calls visit for every well-formed
// interface line, in file order. name aliases b and is valid only during
// the call. Duplicates are the caller's to detect.
func (p *lineParser) parse(b []byte, visit func(name []byte, c wire.Counters, line int)) error {
	p.errs = p.errs[:0]
	p.dropped = 0

	h1, rest, ok1 := bytes.Cut(b, []byte{'\n'})
	h2, rest, ok2 := bytes.Cut(rest, []byte{'\n'})
	// The kernel has printed this two-line header since 2.x; anything else
	// is not the file we expect, and column positions cannot be trusted.
	if !ok1 || !ok2 ||
		!bytes.HasPrefix(bytes.TrimLeft(h1, " "), []byte("Inter-|")) ||
		!bytes.HasPrefix(bytes.TrimLeft(h2, " "), []byte("face |")) {
		return fmt.Errorf("reading /proc/net/dev: %w: missing header", ErrFormat)
	}

	var c wire.Counters
	p.next, p.nextL = p.next[:0], p.nextL[:0]
	for line, i := 3, 0; len(rest) > 0; line, i = line+1, i+1 {
		var l []byte
		pl := parsedLine{off: len(p.next)}
		if i < len(p.lines) && p.lines[i].ok {
			// The same bytes as the line here last time, followed by
			// the end of a line: compared without looking for the
			// newline first (IndexByte, like the comparison, goes byte
			// by byte on 32-bit MIPS: 12 % of a read's instructions).
			old := p.lines[i]
			ol := p.prev[old.off:old.end]
			if n := len(ol); len(rest) >= n && (len(rest) == n || rest[n] == '\n') && bytes.Equal(rest[:n], ol) {
				l, rest = rest[:n], rest[min(n+1, len(rest)):]
				p.next = append(p.next, l...)
				pl.end = len(p.next)
				pl.nameOff, pl.nameEnd, pl.c, pl.ok = old.nameOff, old.nameEnd, old.c, true
				p.nextL = append(p.nextL, pl)
				visit(l[pl.nameOff:pl.nameEnd], pl.c, line)
				continue
			}
		}
		l, rest, _ = bytes.Cut(rest, []byte{'\n'})
		p.next = append(p.next, l...)
		pl.end = len(p.next)
		p.nextL = append(p.nextL, pl)
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		name, err := parseLine(l, &c)
		if err != nil {
			p.addErr(&LineError{Line: line, Name: printableName(name), Err: err})
			continue
		}
		p.nextL[i].nameOff = nameOffset(l, name)
		p.nextL[i].nameEnd = p.nextL[i].nameOff + len(name)
		p.nextL[i].c, p.nextL[i].ok = c, true
		visit(name, c, line)
	}
	p.prev, p.next = p.next, p.prev
	p.lines, p.nextL = p.nextL, p.lines
	return nil
}

// nameOffset returns where name, which parseLine cut from l, begins in
// l: both end at the same capacity.
func nameOffset(l, name []byte) int {
	return cap(l) - cap(name)
}

// printableName keeps a name for an error message only if it is one.
func printableName(name []byte) string {
	if wire.ValidIface(string(name)) {
		return string(name)
	}
	return ""
}

// parseLine parses "  name: c0 c1 … c15" into c. The name ends at the
// last colon: names cannot contain one on current kernels, but old alias
// devices ("eth0:1") did, and old kernels printed no space after it.
func parseLine(l []byte, c *wire.Counters) (name []byte, err error) {
	i := bytes.LastIndexByte(l, ':')
	if i < 0 {
		return nil, badLine("missing colon")
	}
	name = trimSep(l[:i])
	if err := checkName(name); err != nil {
		return name, err
	}
	// A hand-written scan: bytes.Fields/TrimLeft/IndexAny cost three
	// quarters of a read in profiles, and this runs on every request.
	var v [fields]uint64
	n := 0
	for j := i + 1; ; {
		for j < len(l) && isSep(l[j]) {
			j++
		}
		if j == len(l) {
			break
		}
		k := j
		for k < len(l) && !isSep(l[k]) {
			k++
		}
		if n == fields {
			return name, badLine("more than %d columns", fields)
		}
		x, ok := parseUint(l[j:k])
		if !ok {
			return name, badLine("column %d: %q is not a uint64", n+1, truncate(l[j:k]))
		}
		v[n] = x
		n++
		j = k
	}
	if n < fields {
		return name, badLine("%d columns, want %d", n, fields)
	}
	// Column order of dev_seq_printf_stats: rx bytes packets errs drop fifo
	// frame compressed multicast, tx bytes packets errs drop fifo colls
	// carrier compressed. rx drop there is rx_dropped + rx_missed_errors.
	*c = wire.Counters{
		RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
		TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11],
	}
	return name, nil
}

func isSep(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// trimSep trims the separators isSep accepts from both ends of b.
func trimSep(b []byte) []byte {
	for len(b) > 0 && isSep(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSep(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// checkName applies the kernel's rules (dev_valid_name) as far as they
// matter to us, plus what the wire accepts: the name becomes a path under
// /sys/class/net and a JSON key.
func checkName(name []byte) error {
	switch {
	case len(name) == 0:
		return badLine("empty interface name")
	case string(name) == "." || string(name) == "..":
		return badLine("invalid interface name")
	case !wire.ValidIface(string(name)):
		return badLine("invalid interface name %q", truncate(name))
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "…"
	}
	return string(b)
}

// maxDigits is len("18446744073709551615"); the kernel never pads with zeros.
const maxDigits = 20

// overflows10 is the smallest uint64 that overflows when multiplied by 10.
const overflows10 = (1<<64-1)/10 + 1

// parseUint is strconv.ParseUint(s, 10, 64) on bytes without allocating:
// decimal digits only, no sign, overflow rejected. The overflow test
// divides only constants: a uint64 division per digit is a runtime call
// on 32-bit MIPS, and made this loop a third of the agent's instructions
// under qemu-mipsel.
func parseUint(s []byte) (uint64, bool) {
	if len(s) == 0 || len(s) > maxDigits {
		return 0, false
	}
	// Nine digits fit in 32 bits, where a multiplication is one
	// instruction on a 32-bit router and a 64-bit one several; most
	// counters are shorter than that.
	n := min(len(s), 9)
	var lo uint32
	for _, ch := range s[:n] {
		d := uint32(ch) - '0'
		if d > 9 {
			return 0, false
		}
		lo = lo*10 + d
	}
	v := uint64(lo)
	for _, ch := range s[n:] {
		d := uint64(ch) - '0'
		if d > 9 || v >= overflows10 {
			return 0, false
		}
		v *= 10
		if v+d < v {
			return 0, false
		}
		v += d
	}
	return v, true
}
