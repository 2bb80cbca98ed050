package rate

import (
	"errors"
	"fmt"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/satmath"
)

// Checkpoint is everything a Tracker needs to continue exactly where it
// stopped: a bridge saves one per interface and restores it after a
// restart. It holds no Config: the restarted bridge supplies its own.
type Checkpoint struct {
	// Started is false for a Tracker that has seen no sample; its next
	// sample is then First, and only Totals matter.
	Started bool
	// BootID is the last non-empty boot id seen; OldBootID the one before
	// the last boot change (its late replies are dropped).
	BootID, OldBootID string
	// Ifindex is the last non-zero ifindex seen.
	Ifindex int64
	// SpeedMbps is the last known link speed in Mbit/s.
	SpeedMbps int64
	// LastMonoNS is the agent's MonoNS of the last accepted sample.
	LastMonoNS int64
	// Base holds the counters at the last change, BaseMonoNS its MonoNS
	// (<= LastMonoNS; smaller after stale reads).
	Base       Values
	BaseMonoNS int64
	// BaseChangeNS estimates when Base appeared (watch mode); 0 when
	// unknown. A checkpoint without it costs one interval its change span.
	BaseChangeNS int64
	// Idle: the last OK or Gap interval moved no main counter.
	Idle bool
	// Seen64 marks the counters that held a value >= 2^32 since the last
	// reset: they are 64-bit and never wrap.
	Seen64 [N]bool
	// Totals are the running 64-bit totals.
	Totals Values
}

// ErrBadCheckpoint is the category of the errors Check returns.
var ErrBadCheckpoint = errors.New("invalid checkpoint")

// Check reports whether c is self-consistent, so that a checkpoint read
// from a file or a message another client wrote cannot make Update compute
// spans across a baseline that lies in the future.
func (c Checkpoint) Check() error {
	if !c.Started {
		return nil
	}
	if c.BaseMonoNS > c.LastMonoNS {
		return fmt.Errorf("%w: base_mono_ns %d after last_mono_ns %d", ErrBadCheckpoint, c.BaseMonoNS, c.LastMonoNS)
	}
	if c.BaseChangeNS < 0 || (c.BaseChangeNS > 0 && c.BaseChangeNS > c.BaseMonoNS) {
		return fmt.Errorf("%w: base_change_ns %d outside 0..base_mono_ns %d", ErrBadCheckpoint, c.BaseChangeNS, c.BaseMonoNS)
	}
	if c.Ifindex < 0 {
		return fmt.Errorf("%w: negative ifindex %d", ErrBadCheckpoint, c.Ifindex)
	}
	for i, v := range c.Base {
		if v >= 1<<32 && !c.Seen64[i] {
			return fmt.Errorf("%w: %v base %d >= 2^32 without seen64", ErrBadCheckpoint, Counter(i), v)
		}
	}
	return nil
}

// Snapshot returns the state of t for Restore.
func (t *Tracker) Snapshot() Checkpoint {
	return Checkpoint{
		Started:      t.started,
		BootID:       t.bootID,
		OldBootID:    t.oldBootID,
		Ifindex:      t.ifindex,
		SpeedMbps:    t.speedMbps,
		LastMonoNS:   t.lastMono,
		Base:         t.base,
		BaseMonoNS:   t.baseMono,
		BaseChangeNS: t.baseChange,
		Idle:         t.idle,
		Seen64:       t.seen64,
		Totals:       t.totals,
	}
}

// Restore makes t continue from c, as if the samples since c had never
// been missed. The next Update of the same boot id and ifindex books the
// traffic the counters gathered while the bridge was down, under every
// wrap and reset rule; a new boot id is a Reset that books the new values.
//
// That interval spans the downtime. A counter that may be 32 bits wide (no
// value >= 2^32 seen, the new one included) may have wrapped more than once
// in it: when its delta plus 2^32 still fits the bound a wrap is judged by
// (1.1 x link speed, or MaxBitsPerSec, over the span plus RefreshNS), the
// readings cannot tell k wraps from k+1. Then only the delta modulo 2^32 is
// booked, the least traffic the counters prove, Result.Ambiguous marks the
// counter, and the interval is a Gap with a Reason, never a rate. A link
// that carries more than its reported speed (tun says 10 Mbit/s) can hide
// a wrap from this rule as it can from rule 4.
//
// Restore never lowers t's totals: each becomes the larger of t's and c's,
// so restoring an older checkpoint into a running Tracker loses nothing. Of
// a c that is not Started or fails Check only the totals are taken; the
// rest of t stays as it was (for a new Tracker: the next sample is First).
func (t *Tracker) Restore(c Checkpoint) {
	for i, v := range c.Totals {
		t.totals[i] = max(t.totals[i], v)
	}
	if !c.Started || c.Check() != nil {
		return
	}
	t.started = true
	t.bootID = c.BootID
	t.oldBootID = c.OldBootID
	t.ifindex = c.Ifindex
	t.speedMbps = c.SpeedMbps
	t.lastMono = c.LastMonoNS
	t.base = c.Base
	t.baseMono = c.BaseMonoNS
	t.baseChange = c.BaseChangeNS
	t.basePredicted = false
	t.idle = c.Idle
	t.seen64 = c.Seen64
	t.restored = true
}

// ambiguous marks in res the counters that may have wrapped more than once
// in an interval that spans a restore, and returns the first such counter,
// or -1.
func (t *Tracker) ambiguous(s Sample, res *Result, b bounds) Counter {
	first := Counter(-1)
	for i := range N {
		if t.seen64[i] || t.base[i] >= 1<<32 || s.Values[i] >= 1<<32 {
			continue
		}
		bound := b.linkPackets
		if Counter(i) <= TxBytes {
			bound = b.linkBytes
		}
		if satmath.Add(res.Delta[i], 1<<32) <= bound {
			res.Ambiguous[i] = true
			if first < 0 {
				first = Counter(i)
			}
		}
	}
	return first
}
