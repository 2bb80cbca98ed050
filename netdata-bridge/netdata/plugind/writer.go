package plugind

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ErrUnsupported is returned by methods whose keyword the Netdata described
// by the Writer's [Features] does not know; nothing is written.
var ErrUnsupported = errors.New("keyword not supported by this netdata version")

// ErrInvalidGUID is returned for a host GUID that is not a UUID.
var ErrInvalidGUID = errors.New("invalid host guid")

// Writer buffers plugins.d lines for one tick; [Writer.Flush] writes them out.
// The zero value is not usable; see [NewWriter]. A Writer is not safe for
// concurrent use.
type Writer struct {
	f   Features
	buf []byte
}

// NewWriter returns an empty Writer that emits only keywords known to a
// Netdata with features f.
func NewWriter(f Features) *Writer {
	return &Writer{f: f, buf: make([]byte, 0, 4096)}
}

// Features returns the features the Writer was made for.
func (w *Writer) Features() Features { return w.f }

// Len returns the number of buffered bytes.
func (w *Writer) Len() int { return len(w.buf) }

// Bytes returns the buffered bytes, valid until the next call on w. Tests and
// callers that write elsewhere than Flush use it.
func (w *Writer) Bytes() []byte { return w.buf }

// Reset drops the buffered bytes.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Flush writes the buffered tick to out in a single Write, so that a tick is
// never interleaved with other output sharing out, and empties the buffer.
// The buffer is emptied on error too: part of it may have been written, and
// writing it again would repeat lines. A Write that reports fewer bytes than
// given without an error yields [io.ErrShortWrite]. An empty buffer is not
// written.
func (w *Writer) Flush(out io.Writer) error {
	if len(w.buf) == 0 {
		return nil
	}
	size := len(w.buf)
	n, err := out.Write(w.buf)
	w.buf = w.buf[:0]
	if err == nil && n < size {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("writing plugins.d output (%d of %d bytes): %w", n, size, err)
	}
	return nil
}

// Chart writes CHART 'type.id' 'name' 'title' 'units' 'family' 'context'
// 'charttype' priority update_every 'options' 'plugin' 'module'. It defines a
// chart or updates its metadata; DIMENSION lines and CLABELs that follow
// belong to it.
func (w *Writer) Chart(o ChartOpts) {
	b := append(w.buf, "CHART '"...)
	b = appendTypeID(b, o.Type, o.ID)
	b = append(b, '\'')
	ct := o.ChartType
	if ct == "" {
		ct = ChartLine
	}
	b = appendTexts(b, o.Name, o.Title, o.Units, o.Family, o.Context, string(ct))
	prio := o.Priority
	if prio <= 0 {
		prio = 1000
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(prio), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(max(o.UpdateEvery, 0)), 10)
	b = appendTexts(b, o.Options, o.Plugin, o.Module)
	w.buf = append(b, '\n')
}

// Dimension writes DIMENSION 'id' 'name' algorithm multiplier divisor
// 'options' for the chart of the last CHART line.
func (w *Writer) Dimension(o DimensionOpts) {
	b := append(w.buf, "DIMENSION '"...)
	b = appendID(b, o.ID, MaxIDLen, true)
	b = append(b, '\'')
	alg := o.Algorithm
	if alg == "" {
		alg = AlgAbsolute
	}
	b = appendTexts(b, o.Name, string(alg))
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(orOne(o.Multiplier)), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(orOne(o.Divisor)), 10)
	b = appendTexts(b, o.Options)
	w.buf = append(b, '\n')
}

// appendTexts appends each text as a space and the cleaned text in single
// quotes: the fields of a keyword, none of which can break or extend the
// line.
func appendTexts(b []byte, texts ...string) []byte {
	for _, t := range texts {
		b = append(b, " '"...)
		b = appendText(b, t, MaxTextLen)
		b = append(b, '\'')
	}
	return b
}

// orOne maps Netdata's "0 means 1" explicitly, so the line says what Netdata
// will do.
func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// CLabel writes CLABEL 'name' 'value' source, a label of the current chart;
// source is one of the LabelSource constants. The name is sanitised as an id.
// Labels take effect at [Writer.CLabelCommit].
func (w *Writer) CLabel(name, value string, source int) {
	b := append(w.buf, "CLABEL '"...)
	b = appendID(b, name, MaxIDLen, true)
	b = append(b, "' '"...)
	b = appendText(b, value, MaxTextLen)
	b = append(b, "' "...)
	b = strconv.AppendInt(b, int64(source), 10)
	w.buf = append(b, '\n')
}

// CLabelCommit writes CLABEL_COMMIT: the labels sent since the chart's CHART
// replace its previous ones.
func (w *Writer) CLabelCommit() {
	w.buf = append(w.buf, "CLABEL_COMMIT\n"...)
}

// Begin writes BEGIN 'type.id' [µs], opening a collection round of a chart
// already defined with CHART; typeID is [ChartOpts.TypeID] or [TypeID] (it
// is sanitised the same way again, so both spellings match). since is the
// time between the reads of this round and of the chart's previous round,
// written in whole microseconds; zero or less (a chart's first round) omits
// it, and Netdata then uses its own clock.
func (w *Writer) Begin(typeID string, since time.Duration) {
	typ, id, _ := cutDot(typeID)
	b := append(w.buf, "BEGIN '"...)
	b = appendTypeID(b, typ, id)
	b = append(b, '\'')
	if us := since.Microseconds(); us > 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, us, 10)
	}
	w.buf = append(b, '\n')
}

// BeginSuffix writes BEGIN 'type.id' [µs] as [Writer.Begin] does, for the
// chart whose "type.id" is p.TypeID(suffix), without building that string:
// p is already sanitised, so only the suffix (a constant, in practice) is
// looked at.
func (w *Writer) BeginSuffix(p TypeIDPrefix, suffix string, since time.Duration) {
	b := append(w.buf, "BEGIN '"...)
	b = p.appendTypeID(b, suffix)
	b = append(b, '\'')
	if us := since.Microseconds(); us > 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, us, 10)
	}
	w.buf = append(b, '\n')
}

// cutDot splits s at its first dot, as Netdata splits "type.id".
func cutDot(s string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Set writes SET 'id' = v inside a BEGIN/END round, v in plain base 10 (no
// leading zeros, which Netdata 1.37 would read as octal).
func (w *Writer) Set(id string, v int64) {
	b := append(w.buf, "SET '"...)
	b = appendID(b, id, MaxIDLen, true)
	b = append(b, "' = "...)
	b = strconv.AppendInt(b, v, 10)
	w.buf = append(b, '\n')
}

// SetEmpty writes SET 'id' with an empty quoted value: no value for the
// dimension this round, a gap in the chart. Stale, reset and missing intervals are gaps, never zeros.
func (w *Writer) SetEmpty(id string) {
	b := append(w.buf, "SET '"...)
	b = appendID(b, id, MaxIDLen, true)
	w.buf = append(b, "' = ''\n"...)
}

// End writes END, committing the round opened by Begin.
func (w *Writer) End() {
	w.buf = append(w.buf, "END\n"...)
}

// Variable writes VARIABLE [scope] 'name' = v. The name is sanitised as an id.
func (w *Writer) Variable(scope VariableScope, name string, v int64) {
	b := append(w.buf, "VARIABLE "...)
	switch scope {
	case ScopeGlobal, ScopeHost, ScopeLocal, ScopeChart:
		b = append(b, scope...)
		b = append(b, ' ')
	}
	b = append(b, '\'')
	b = appendID(b, name, MaxIDLen, true)
	b = append(b, "' = "...)
	b = strconv.AppendInt(b, v, 10)
	w.buf = append(b, '\n')
}

// EmptyLine writes an empty line, the keepalive every Netdata version ignores.
// Netdata 1.41 and later drop a plugin that is silent for two minutes.
func (w *Writer) EmptyLine() {
	w.buf = append(w.buf, '\n')
}

// Disable writes DISABLE: Netdata stops the plugin and never restarts it
// until Netdata itself restarts. Only for permanent misconfiguration.
func (w *Writer) Disable() {
	w.buf = append(w.buf, "DISABLE\n"...)
}

// HostDefine writes HOST_DEFINE 'guid' 'hostname', starting the definition of
// a virtual node (a router of its own in Netdata's node list). HOST_LABEL
// lines may follow; [Writer.HostDefineEnd] creates or updates the node and
// makes it current. guid must pass [ValidGUID]; use [HostGUID]. Without
// Features.VirtualNodes it writes nothing and returns [ErrUnsupported]: the
// caller must fall back to charts on localhost.
func (w *Writer) HostDefine(guid, hostname string) error {
	if !w.f.VirtualNodes {
		return fmt.Errorf("HOST_DEFINE: %w", ErrUnsupported)
	}
	if !ValidGUID(guid) {
		return fmt.Errorf("HOST_DEFINE %q: %w", guid, ErrInvalidGUID)
	}
	b := append(w.buf, "HOST_DEFINE '"...)
	b = append(b, guid...)
	b = append(b, "' '"...)
	b = appendText(b, hostname, MaxTextLen)
	w.buf = append(b, "'\n"...)
	return nil
}

// HostLabel writes HOST_LABEL 'name' 'value' inside a host definition, e.g.
// "_os_name", "_architecture". The name is sanitised as an id. Without
// Features.VirtualNodes it writes nothing and returns [ErrUnsupported].
func (w *Writer) HostLabel(name, value string) error {
	if !w.f.VirtualNodes {
		return fmt.Errorf("HOST_LABEL: %w", ErrUnsupported)
	}
	b := append(w.buf, "HOST_LABEL '"...)
	b = appendID(b, name, MaxIDLen, true)
	b = append(b, "' '"...)
	b = appendText(b, value, MaxTextLen)
	w.buf = append(b, "'\n"...)
	return nil
}

// HostDefineEnd writes HOST_DEFINE_END: the node defined since HostDefine is
// created or updated and becomes current. Without Features.VirtualNodes it
// writes nothing and returns [ErrUnsupported].
func (w *Writer) HostDefineEnd() error {
	if !w.f.VirtualNodes {
		return fmt.Errorf("HOST_DEFINE_END: %w", ErrUnsupported)
	}
	w.buf = append(w.buf, "HOST_DEFINE_END\n"...)
	return nil
}

// Host writes HOST 'guid': the following CHART and BEGIN lines go to that
// virtual node; guid "" writes HOST with an empty quoted word and switches
// back to the Netdata agent's own host. A non-empty guid must pass [ValidGUID]. Without
// Features.VirtualNodes it writes nothing and returns [ErrUnsupported], for ""
// too: a Netdata without virtual nodes has only its own host.
func (w *Writer) Host(guid string) error {
	if !w.f.VirtualNodes {
		return fmt.Errorf("HOST: %w", ErrUnsupported)
	}
	if guid != "" && !ValidGUID(guid) {
		return fmt.Errorf("HOST %q: %w", guid, ErrInvalidGUID)
	}
	b := append(w.buf, "HOST '"...)
	b = append(b, guid...)
	w.buf = append(b, "'\n"...)
	return nil
}

// TrustDurations writes TRUST_DURATIONS 1 (or 0): Netdata then takes BEGIN's
// microseconds without its sanity guards. Without Features.TrustDurations it
// writes nothing and returns [ErrUnsupported].
func (w *Writer) TrustDurations(on bool) error {
	if !w.f.TrustDurations {
		return fmt.Errorf("TRUST_DURATIONS: %w", ErrUnsupported)
	}
	if on {
		w.buf = append(w.buf, "TRUST_DURATIONS 1\n"...)
	} else {
		w.buf = append(w.buf, "TRUST_DURATIONS 0\n"...)
	}
	return nil
}
