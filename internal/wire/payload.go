package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits on what crosses the wire. They bound memory on both sides: a
// payload over its limit is rejected before it is decoded.
const (
	MaxRequestSize  = 1024      // bytes of a request payload
	MaxIDLen        = 128       // bytes of a request id
	MaxReplySize    = 512 << 10 // bytes of a reply payload
	MaxInfoSize     = 16 << 10  // bytes of an info payload
	MaxIfaces       = 1024      // interfaces in one reply
	MaxIfaceLen     = 64        // bytes of an interface name (the kernel allows 15)
	ProtocolVersion = 1         // bumped only on incompatible changes
)

// Sentinel categories; the cause is joined with a second %w.
var (
	ErrMalformedRequest = errors.New("malformed request")
	ErrMalformedReply   = errors.New("malformed reply")
	ErrMalformedInfo    = errors.New("malformed info")
	ErrTooLarge         = errors.New("payload too large")
)

// Request is the payload of P/N/request. An empty payload is a valid request
// with an empty id.
type Request struct {
	ID string `json:"id"`
}

// Counters holds one interface's counters, named after the files in
// /sys/class/net/<if>/statistics/, as read from /proc/net/dev, plus the
// identity the bridge needs to tell a reset from a wrap.
type Counters struct {
	RxBytes   uint64 `json:"rx_bytes"`
	TxBytes   uint64 `json:"tx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	TxPackets uint64 `json:"tx_packets"`
	RxErrors  uint64 `json:"rx_errors"`
	TxErrors  uint64 `json:"tx_errors"`
	RxDropped uint64 `json:"rx_dropped"`
	TxDropped uint64 `json:"tx_dropped"`
	// Ifindex is /sys/class/net/<if>/ifindex; 0 when unknown. A new value
	// for the same name means the interface was re-created (ppp0 redialled).
	Ifindex int64 `json:"ifindex,omitempty"`
	// SpeedMbps is /sys/class/net/<if>/speed in Mbit/s; 0 when unknown or
	// not reported (virtual interfaces, link down).
	SpeedMbps int64 `json:"speed,omitempty"`
	// ChangedNS is the agent's MonoNS of the first read that saw the
	// current counter values (watch mode, IFSTAT_WATCH); 0 when unknown:
	// watch mode off, or no change seen since the agent started. The
	// driver's refresh that produced these values lies in
	// (UnchangedNS, ChangedNS].
	ChangedNS int64 `json:"changed_ns,omitempty"`
	// UnchangedNS is the MonoNS of the last read that still saw the
	// previous values; 0 when unknown. Present only with ChangedNS.
	UnchangedNS int64 `json:"unchanged_ns,omitempty"`
	// RefreshNS is the driver's refresh period as the agent fitted it
	// (IFSTAT_WATCH=auto); 0 when unknown, or for counters that are
	// current at every read.
	RefreshNS int64 `json:"refresh_ns,omitempty"`
}

// Reply is the payload of P/N/reply: one read of the counters.
type Reply struct {
	// ID echoes the request id, or is empty.
	ID   string `json:"id"`
	Node string `json:"node"`
	// MonoNS is the agent's CLOCK_BOOTTIME in ns taken right beside the read;
	// rates are computed over consecutive MonoNS of one boot.
	MonoNS int64 `json:"mono_ns"`
	// TimeNS is the agent's wall clock (CLOCK_REALTIME) in ns at the read; it
	// places samples in tariff periods and is never used for intervals.
	TimeNS int64 `json:"time_ns"`
	// BootID is /proc/sys/kernel/random/boot_id: a new value is a reboot.
	BootID string `json:"boot_id,omitempty"`
	// RunID identifies one run of the agent process.
	RunID string `json:"run_id,omitempty"`
	// Seq counts replies of this run, starting at 1.
	Seq    uint64              `json:"seq,omitempty"`
	Ifaces map[string]Counters `json:"ifaces"`
}

// MaxRefreshNS is the longest refresh_ns a reply may carry: no driver
// keeps its counters for longer.
const MaxRefreshNS = 3600e9

// CapabilityRefresh in Info.Capabilities says that a reply's changed_ns
// and unchanged_ns bracket the driver refresh its values are current as
// of, even one that changed nothing (IFSTAT_WATCH=auto), rather than the
// reads around the last change: unchanged values with a newer window are
// a true zero.
const CapabilityRefresh = "refresh"

// Info is the retained payload of P/N/info: what the agent is and can do.
type Info struct {
	Node         string   `json:"node"`
	Protocol     int      `json:"protocol"`
	Version      string   `json:"version"`
	OS           string   `json:"os"`
	Arch         string   `json:"arch"`
	Kernel       string   `json:"kernel,omitempty"`
	Hostname     string   `json:"hostname,omitempty"`
	BootID       string   `json:"boot_id,omitempty"`
	RunID        string   `json:"run_id,omitempty"`
	Interfaces   []string `json:"interfaces"`
	Capabilities []string `json:"capabilities"`
	// MaxRate is the most replies per second the agent gives.
	MaxRate int `json:"max_rate,omitempty"`
}

// DecodeRequest parses a request payload. Empty is valid; anything else must
// be a JSON object of at most MaxRequestSize bytes whose id, if present, is
// a string of at most MaxIDLen bytes of valid UTF-8.
func DecodeRequest(p []byte) (Request, error) {
	var r Request
	if len(bytes.TrimSpace(p)) == 0 {
		return r, nil
	}
	if len(p) > MaxRequestSize {
		return r, fmt.Errorf("%w: %w: %d bytes", ErrMalformedRequest, ErrTooLarge, len(p))
	}
	if p = bytes.TrimSpace(p); p[0] != '{' {
		return r, fmt.Errorf("%w: not a JSON object", ErrMalformedRequest)
	}
	if !utf8.Valid(p) {
		return r, fmt.Errorf("%w: not valid UTF-8", ErrMalformedRequest)
	}
	if id, ok := plainRequest(p); ok {
		r.ID = id
	} else if err := json.Unmarshal(p, &r); err != nil {
		return Request{}, fmt.Errorf("%w: %w", ErrMalformedRequest, err)
	}
	if len(r.ID) > MaxIDLen {
		return Request{}, fmt.Errorf("%w: id longer than %d bytes", ErrMalformedRequest, MaxIDLen)
	}
	if !utf8.ValidString(r.ID) {
		return Request{}, fmt.Errorf("%w: id is not valid UTF-8", ErrMalformedRequest)
	}
	return r, nil
}

// plainRequest recognises the two requests every well-behaved requester
// sends, {} and {"id":"<text without escapes>"} (with optional spaces),
// without encoding/json: on the agent, json.Unmarshal on paho's fresh
// per-message goroutine cost 13 % of the CPU, most of it growing the stack.
// Anything else reports ok=false and goes the general way. p is trimmed,
// valid UTF-8 and starts with '{'.
func plainRequest(p []byte) (id string, ok bool) {
	i := skipSpace(p, 1)
	if i < len(p) && p[i] == '}' {
		return "", skipSpace(p, i+1) == len(p)
	}
	const key = `"id"`
	if !bytes.HasPrefix(p[i:], []byte(key)) {
		return "", false
	}
	i = skipSpace(p, i+len(key))
	if i >= len(p) || p[i] != ':' {
		return "", false
	}
	i = skipSpace(p, i+1)
	if i >= len(p) || p[i] != '"' {
		return "", false
	}
	start := i + 1
	end := start
	for end < len(p) && p[end] != '"' {
		if c := p[end]; c == '\\' || c < 0x20 {
			return "", false
		}
		end++
	}
	if end >= len(p) {
		return "", false
	}
	i = skipSpace(p, end+1)
	if i >= len(p) || p[i] != '}' || skipSpace(p, i+1) != len(p) {
		return "", false
	}
	return string(p[start:end]), true
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// DecodeReply parses and validates a reply payload.
func DecodeReply(p []byte) (Reply, error) {
	var r Reply
	if len(p) > MaxReplySize {
		return r, fmt.Errorf("%w: %w: %d bytes", ErrMalformedReply, ErrTooLarge, len(p))
	}
	if !utf8.Valid(p) {
		return r, fmt.Errorf("%w: not valid UTF-8", ErrMalformedReply)
	}
	if pr, ok := plainReply(p); ok {
		r = pr
	} else if err := json.Unmarshal(p, &r); err != nil {
		return Reply{}, fmt.Errorf("%w: %w", ErrMalformedReply, err)
	}
	if err := r.validate(); err != nil {
		return Reply{}, fmt.Errorf("%w: %w", ErrMalformedReply, err)
	}
	return r, nil
}

func (r *Reply) validate() error {
	switch {
	case !ValidNode(r.Node):
		return fmt.Errorf("invalid node %q", r.Node)
	case r.MonoNS <= 0:
		return fmt.Errorf("mono_ns %d is not positive", r.MonoNS)
	case len(r.ID) > MaxIDLen || !utf8.ValidString(r.ID):
		return errors.New("invalid id")
	case len(r.BootID) > 64 || len(r.RunID) > 64:
		return errors.New("boot_id or run_id too long")
	case r.Ifaces == nil:
		return errors.New("no ifaces object")
	case len(r.Ifaces) > MaxIfaces:
		return fmt.Errorf("%d interfaces, at most %d", len(r.Ifaces), MaxIfaces)
	}
	for name, c := range r.Ifaces {
		if !ValidIface(name) {
			return fmt.Errorf("invalid interface name %q", name)
		}
		if c.Ifindex < 0 || c.SpeedMbps < 0 {
			return fmt.Errorf("interface %q: negative ifindex or speed", name)
		}
		if err := c.validateWatch(r.MonoNS); err != nil {
			return fmt.Errorf("interface %q: %w", name, err)
		}
	}
	return nil
}

// validateWatch checks the watch-mode times against the reply's mono_ns:
// both lie at or before the read, and the last read with the old values
// precedes the first with the new ones.
func (c Counters) validateWatch(monoNS int64) error {
	switch {
	case c.ChangedNS < 0 || c.UnchangedNS < 0:
		return errors.New("negative changed_ns or unchanged_ns")
	case c.RefreshNS < 0 || c.RefreshNS > MaxRefreshNS:
		return fmt.Errorf("refresh_ns %d: must be 0–%d", c.RefreshNS, int64(MaxRefreshNS))
	case c.ChangedNS > monoNS:
		return fmt.Errorf("changed_ns %d after mono_ns %d", c.ChangedNS, monoNS)
	case c.UnchangedNS != 0 && c.ChangedNS == 0:
		return errors.New("unchanged_ns without changed_ns")
	case c.UnchangedNS != 0 && c.UnchangedNS >= c.ChangedNS:
		return fmt.Errorf("unchanged_ns %d not before changed_ns %d", c.UnchangedNS, c.ChangedNS)
	}
	return nil
}

// ValidIface reports whether name can be an interface name on the wire:
// 1–MaxIfaceLen bytes of valid UTF-8 without control characters, '/' or
// whitespace (the kernel's own rules, loosened in length).
func ValidIface(name string) bool {
	if len(name) == 0 || len(name) > MaxIfaceLen || !utf8.ValidString(name) {
		return false
	}
	for _, c := range name {
		if c <= ' ' || c == '/' || c == 0x7f {
			return false
		}
	}
	return true
}

// DecodeInfo parses and validates an info payload.
func DecodeInfo(p []byte) (Info, error) {
	var in Info
	if len(p) > MaxInfoSize {
		return in, fmt.Errorf("%w: %w: %d bytes", ErrMalformedInfo, ErrTooLarge, len(p))
	}
	if !utf8.Valid(p) {
		return in, fmt.Errorf("%w: not valid UTF-8", ErrMalformedInfo)
	}
	if err := json.Unmarshal(p, &in); err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrMalformedInfo, err)
	}
	if !ValidNode(in.Node) {
		return Info{}, fmt.Errorf("%w: invalid node %q", ErrMalformedInfo, in.Node)
	}
	if len(in.Interfaces) > MaxIfaces {
		return Info{}, fmt.Errorf("%w: too many interfaces", ErrMalformedInfo)
	}
	return in, nil
}
