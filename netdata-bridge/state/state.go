package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// Version is the format version written and the only one accepted.
const Version = 1

// Limits on what Decode and DecodeNode accept.
const (
	// MaxSize bounds a whole snapshot (the file): 2,000 nodes of 8
	// interfaces need about 6 MB.
	MaxSize = 64 << 20
	// MaxNodeSize bounds one node's message (wire.MaxIfaces interfaces fit).
	MaxNodeSize = 1 << 20
	// MaxBootIDLen bounds a boot id (the kernel's is a 36-byte UUID).
	MaxBootIDLen = 128
	// MaxExtraKeyLen bounds the names in NodeState.Extra.
	MaxExtraKeyLen = 64
)

// ErrMalformed is the category of every decoding error.
var ErrMalformed = errors.New("malformed state")

// Snapshot is the persisted state of one bridge.
type Snapshot struct {
	// Bridge is the bridge id (wire.ValidNode rules).
	Bridge string
	// Saved is the wall clock when the snapshot was taken.
	Saved time.Time
	// Seq increases with every snapshot a bridge takes; it orders
	// snapshots with equal Saved.
	Seq uint64
	// Nodes maps node ids to their state.
	Nodes map[string]NodeState
}

// NodeState is the state of one agent's interfaces.
type NodeState struct {
	// Saved and Seq are those of the snapshot the node was last captured
	// in; Merge compares nodes by them.
	Saved time.Time
	Seq   uint64
	// Ifaces maps interface names to their tracker's checkpoint.
	Ifaces map[string]rate.Checkpoint
	// Extra holds per-node state of later features (tariff totals), by
	// feature name; each value is JSON kept as it is.
	Extra map[string]json.RawMessage
}

// The JSON forms. Counters are arrays in wire order (rate.Counter), which
// keeps a node's message at a few hundred bytes per interface.
type (
	snapshotJSON struct {
		Version int                 `json:"version"`
		Bridge  string              `json:"bridge"`
		Saved   time.Time           `json:"saved"`
		Seq     uint64              `json:"seq"`
		Nodes   map[string]nodeJSON `json:"nodes"`
	}
	nodeJSON struct {
		Saved  time.Time                  `json:"saved"`
		Seq    uint64                     `json:"seq"`
		Ifaces map[string]ifaceJSON       `json:"ifaces"`
		Extra  map[string]json.RawMessage `json:"extra,omitempty"`
	}
	ifaceJSON struct {
		Started    bool   `json:"started"`
		BootID     string `json:"boot_id,omitempty"`
		OldBootID  string `json:"old_boot_id,omitempty"`
		Ifindex    int64  `json:"ifindex,omitempty"`
		SpeedMbps  int64  `json:"speed_mbps,omitempty"`
		LastMonoNS int64  `json:"last_mono_ns,omitempty"`
		BaseMonoNS int64  `json:"base_mono_ns,omitempty"`
		// BaseChangeNS: when the base values appeared (watch mode).
		BaseChangeNS int64    `json:"base_change_ns,omitempty"`
		Base         []uint64 `json:"base"`
		Idle         bool     `json:"idle,omitempty"`
		Seen64       []string `json:"seen64,omitempty"`
		Totals       []uint64 `json:"totals"`
	}
)

// Encode returns the JSON form of s. It fails on an invalid bridge id,
// node id or interface name, or an Extra value that is not JSON, so that
// nothing is written that Decode would refuse.
func Encode(s *Snapshot) ([]byte, error) {
	if s == nil {
		return nil, errors.New("encoding state: nil snapshot")
	}
	j := snapshotJSON{Version: Version, Bridge: s.Bridge, Saved: s.Saved, Seq: s.Seq,
		Nodes: make(map[string]nodeJSON, len(s.Nodes))}
	for name, n := range s.Nodes {
		nj := nodeJSON{Saved: n.Saved, Seq: n.Seq, Ifaces: make(map[string]ifaceJSON, len(n.Ifaces)), Extra: n.Extra}
		for iface, c := range n.Ifaces {
			nj.Ifaces[iface] = toJSON(c)
		}
		j.Nodes[name] = nj
	}
	if err := j.validate(); err != nil {
		return nil, fmt.Errorf("encoding state: %w", err)
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("encoding state: %w", err)
	}
	return b, nil
}

// EncodeNode returns the message for NodeTopic: s with only the node.
func EncodeNode(s *Snapshot, node string) ([]byte, error) {
	if s == nil {
		return nil, errors.New("encoding state: nil snapshot")
	}
	n, ok := s.Nodes[node]
	if !ok {
		return nil, fmt.Errorf("encoding state: no node %q", node)
	}
	return Encode(&Snapshot{Bridge: s.Bridge, Saved: s.Saved, Seq: s.Seq, Nodes: map[string]NodeState{node: n}})
}

// Decode parses and validates a whole snapshot of at most MaxSize bytes.
func Decode(b []byte) (*Snapshot, error) {
	return decode(b, MaxSize)
}

// DecodeNode parses and validates a node's message (at most MaxNodeSize
// bytes, exactly one node). An empty payload, the deletion of a retained
// message, is an error too: the caller checks for it first.
func DecodeNode(b []byte) (*Snapshot, error) {
	s, err := decode(b, MaxNodeSize)
	if err != nil {
		return nil, err
	}
	if len(s.Nodes) != 1 {
		return nil, fmt.Errorf("%w: a node message holds %d nodes, want 1", ErrMalformed, len(s.Nodes))
	}
	return s, nil
}

func decode(b []byte, limit int) (*Snapshot, error) {
	if len(b) > limit {
		return nil, fmt.Errorf("%w: %d bytes, over the limit of %d", ErrMalformed, len(b), limit)
	}
	var j snapshotJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := j.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	s := &Snapshot{Bridge: j.Bridge, Saved: j.Saved, Seq: j.Seq, Nodes: make(map[string]NodeState, len(j.Nodes))}
	for name, nj := range j.Nodes {
		n := NodeState{Saved: nj.Saved, Seq: nj.Seq, Extra: nj.Extra}
		if nj.Ifaces != nil {
			n.Ifaces = make(map[string]rate.Checkpoint, len(nj.Ifaces))
		}
		for iface, ij := range nj.Ifaces {
			n.Ifaces[iface] = ij.checkpoint()
		}
		s.Nodes[name] = n
	}
	return s, nil
}

func (j *snapshotJSON) validate() error {
	if j.Version != Version {
		return fmt.Errorf("version %d, want %d", j.Version, Version)
	}
	if !wire.ValidNode(j.Bridge) {
		return fmt.Errorf("bridge id %q is not valid", j.Bridge)
	}
	for name, n := range j.Nodes {
		if !wire.ValidNode(name) {
			return fmt.Errorf("node id %q is not valid", name)
		}
		if len(n.Ifaces) > wire.MaxIfaces {
			return fmt.Errorf("node %s: %d interfaces, over the limit of %d", name, len(n.Ifaces), wire.MaxIfaces)
		}
		for iface, ij := range n.Ifaces {
			if !wire.ValidIface(iface) {
				return fmt.Errorf("node %s: interface name %q is not valid", name, iface)
			}
			if err := ij.validate(); err != nil {
				return fmt.Errorf("node %s, interface %s: %w", name, iface, err)
			}
		}
		for k := range n.Extra {
			if k == "" || len(k) > MaxExtraKeyLen || !utf8.ValidString(k) {
				return fmt.Errorf("node %s: extra key %q is not valid", name, k)
			}
		}
	}
	return nil
}

func (j *ifaceJSON) validate() error {
	if len(j.Base) != rate.N || len(j.Totals) != rate.N {
		return fmt.Errorf("base and totals need %d counters, have %d and %d", rate.N, len(j.Base), len(j.Totals))
	}
	for _, id := range []string{j.BootID, j.OldBootID} {
		if len(id) > MaxBootIDLen || !utf8.ValidString(id) {
			return fmt.Errorf("boot id %q is not valid", id)
		}
	}
	if _, err := seen64(j.Seen64); err != nil {
		return err
	}
	return j.checkpoint().Check()
}

func (j *ifaceJSON) checkpoint() rate.Checkpoint {
	c := rate.Checkpoint{
		Started: j.Started, BootID: j.BootID, OldBootID: j.OldBootID, Ifindex: j.Ifindex,
		SpeedMbps: j.SpeedMbps, LastMonoNS: j.LastMonoNS, BaseMonoNS: j.BaseMonoNS, BaseChangeNS: j.BaseChangeNS, Idle: j.Idle,
	}
	copy(c.Base[:], j.Base)
	copy(c.Totals[:], j.Totals)
	c.Seen64, _ = seen64(j.Seen64)
	return c
}

func toJSON(c rate.Checkpoint) ifaceJSON {
	j := ifaceJSON{
		Started: c.Started, BootID: c.BootID, OldBootID: c.OldBootID, Ifindex: c.Ifindex,
		SpeedMbps: c.SpeedMbps, LastMonoNS: c.LastMonoNS, BaseMonoNS: c.BaseMonoNS, BaseChangeNS: c.BaseChangeNS, Idle: c.Idle,
		Base: c.Base[:], Totals: c.Totals[:],
	}
	for i, seen := range c.Seen64 {
		if seen {
			j.Seen64 = append(j.Seen64, rate.Counter(i).String())
		}
	}
	return j
}

// seen64 turns counter names into flags; the names are those of
// rate.Counter.String, which are also the kernel's file names.
func seen64(names []string) ([rate.N]bool, error) {
	var f [rate.N]bool
	if len(names) > rate.N {
		return f, fmt.Errorf("seen64 lists %d counters, more than %d", len(names), rate.N)
	}
next:
	for _, name := range names {
		for i := range rate.N {
			if rate.Counter(i).String() == name {
				f[i] = true
				continue next
			}
		}
		return f, fmt.Errorf("seen64: unknown counter %q", name)
	}
	return f, nil
}

// newer reports whether (ta, sa) is strictly later than (tb, sb).
// Newer reports whether n was saved after old (by Saved, then Seq).
func (n NodeState) Newer(old NodeState) bool { return newer(n.Saved, n.Seq, old.Saved, old.Seq) }

func newer(ta time.Time, sa uint64, tb time.Time, sb uint64) bool {
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	return sa > sb
}

// Newest returns the newer of a and b by Saved, then Seq; a on a tie, the
// other one when either is nil. Wall clocks of two hosts may disagree: a
// replacement bridge whose clock is behind loses to the old bridge's copy
// until it has saved once more.
func Newest(a, b *Snapshot) *Snapshot {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case newer(b.Saved, b.Seq, a.Saved, a.Seq):
		return b
	}
	return a
}

// Merge returns a new Snapshot holding, for every node in a or b, the newer
// NodeState by its Saved, then Seq (a's on a tie); Bridge, Saved and Seq
// are those of Newest(a, b). It is how the file and the per-node retained
// messages combine on start. Merge(nil, nil) is nil. The NodeStates' maps
// are shared with a and b, not copied.
func Merge(a, b *Snapshot) *Snapshot {
	top := Newest(a, b)
	if top == nil {
		return nil
	}
	m := &Snapshot{Bridge: top.Bridge, Saved: top.Saved, Seq: top.Seq, Nodes: map[string]NodeState{}}
	for _, s := range []*Snapshot{a, b} {
		if s == nil {
			continue
		}
		for name, n := range s.Nodes {
			if old, ok := m.Nodes[name]; !ok || newer(n.Saved, n.Seq, old.Saved, old.Seq) {
				m.Nodes[name] = n
			}
		}
	}
	return m
}
