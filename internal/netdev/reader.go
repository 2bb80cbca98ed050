package netdev

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Options configure a Reader. Zero values mean the defaults stated per
// field.
type Options struct {
	// ProcRoot is where procfs is mounted; default "/proc". The Reader
	// reads ProcRoot/net/dev and ProcRoot/sys/kernel/random/boot_id.
	ProcRoot string
	// SysRoot is where sysfs is mounted; default "/sys". The Reader reads
	// SysRoot/class/net/<if>/{ifindex,speed}.
	SysRoot string
	// Select picks the interfaces to report; nil selects all but "lo".
	Select *Selector
	// Clock returns the monotonic and wall clocks in ns. Nil means
	// CLOCK_BOOTTIME (CLOCK_MONOTONIC where the kernel lacks it) and
	// CLOCK_REALTIME.
	Clock func() (monoNS, wallNS int64)
}

// Snapshot is one read of /proc/net/dev.
type Snapshot struct {
	// MonoNS is the monotonic clock in ns taken right after the read.
	MonoNS int64
	// StartNS is the monotonic clock taken right before the read: the
	// kernel made the values somewhere in [StartNS, MonoNS]. A change
	// seen by the next read happened after StartNS, not necessarily
	// after MonoNS.
	StartNS int64
	// TimeNS is the wall clock in ns taken right after the read.
	TimeNS int64
	// Ifaces holds the selected interfaces present in this read. The map
	// belongs to the Reader and is valid until its next Read.
	Ifaces map[string]wire.Counters
	// Skipped is nil when every line of the file parsed; otherwise it joins
	// one *LineError per skipped line (the interfaces on those lines are
	// absent from Ifaces; every other interface is still reported).
	Skipped error
}

// iface is what a Reader remembers about one interface name.
type iface struct {
	name     string
	selected bool
	gen      uint64 // read in which the name was last seen
	attrGen  uint64 // read in which ifindex and speed were last read
	dup      bool   // seen twice in the current read
	last     wire.Counters
	ifindex  int64
	speed    int64
}

// Reader reads counter snapshots. It reuses its buffers and its snapshot
// map between reads, so it is not safe for concurrent use.
type Reader struct {
	devPath  string // ProcRoot/net/dev
	classNet string // SysRoot/class/net
	sel      *Selector
	clock    func() (int64, int64)
	bootID   string

	// readAttrs reads ifindex and speed of the interface in dir; a seam
	// for tests that count sysfs reads.
	readAttrs func(dir string) (ifindex, speedMbps int64)

	fd    int // the kept-open procfs file, or -1
	buf   []byte
	p     lineParser
	state map[string]*iface
	snap  map[string]wire.Counters
	names []string
	dups  []*iface

	gen                    uint64
	selSeen, allSeen, prev int
	changed                bool
}

// NewReader checks that both roots are directories and reads the boot id
// once.
func NewReader(o Options) (*Reader, error) {
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.SysRoot == "" {
		o.SysRoot = "/sys"
	}
	for _, dir := range []string{o.ProcRoot, o.SysRoot} {
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("netdev: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("netdev: %s is not a directory", dir)
		}
	}
	if o.Clock == nil {
		o.Clock = kernelClock()
	}
	r := &Reader{
		devPath:   filepath.Join(o.ProcRoot, "net", "dev"),
		classNet:  filepath.Join(o.SysRoot, "class", "net"),
		sel:       o.Select,
		clock:     o.Clock,
		readAttrs: readAttrs,
		fd:        -1,
		buf:       make([]byte, 0, 16<<10),
		state:     map[string]*iface{},
		snap:      map[string]wire.Counters{},
		// gen 1 is "before the first read": a new iface has gen 0, which
		// must never look like "seen in the previous read".
		gen: 1,
	}
	r.bootID = readBootID(filepath.Join(o.ProcRoot, "sys", "kernel", "random", "boot_id"))
	return r, nil
}

// BootID returns ProcRoot/sys/kernel/random/boot_id as read by NewReader,
// trimmed, or "" if it was unreadable or implausible.
func (r *Reader) BootID() string { return r.bootID }

// Names returns the sorted names of the interfaces in the last successful
// Read.
func (r *Reader) Names() []string { return slices.Clone(r.names) }

// Read reads ProcRoot/net/dev once, stamps it with both clocks right after
// the read and returns the selected interfaces. It fails only when the
// file cannot be read, is larger than MaxFileSize or lacks the kernel's
// header; bad lines are skipped and reported in Snapshot.Skipped.
// ifindex and speed are read from sysfs only when the set of selected
// names changed or a counter of that interface went down (a re-created
// ppp0), not on every Read.
func (r *Reader) Read() (Snapshot, error) {
	start, mono, wall, err := r.readFile()
	if err != nil {
		return Snapshot{}, err
	}
	r.gen++
	r.selSeen, r.allSeen, r.changed = 0, 0, false
	if err := r.p.parse(r.buf, r.visit); err != nil {
		r.gen-- // the header is checked before any line is visited
		return Snapshot{}, fmt.Errorf("%s: %w", r.devPath, err)
	}
	r.finish()
	return Snapshot{StartNS: start, MonoNS: mono, TimeNS: wall, Ifaces: r.snap, Skipped: r.p.skipped()}, nil
}

func (r *Reader) visit(name []byte, c wire.Counters, line int) {
	st := r.state[string(name)]
	if st == nil {
		st = &iface{name: string(name)}
		st.selected = r.sel.Match(st.name)
		r.state[st.name] = st
	}
	if st.gen == r.gen {
		if !st.dup {
			st.dup = true
			r.dups = append(r.dups, st)
		}
		r.p.addErr(&LineError{Line: line, Name: st.name, Err: badLine("duplicate interface")})
		return
	}
	present := st.gen == r.gen-1
	st.gen = r.gen
	r.allSeen++
	if !st.selected {
		return
	}
	r.selSeen++
	if !present {
		r.changed = true
		r.refresh(st)
	} else if decreased(&st.last, &c) {
		r.refresh(st)
	}
	st.last = c
	c.Ifindex, c.SpeedMbps = st.ifindex, st.speed
	r.snap[st.name] = c
}

// finish drops duplicates and vanished interfaces and, when the set of
// selected names changed, re-reads every selected interface's attributes.
func (r *Reader) finish() {
	for _, st := range r.dups {
		// Neither copy can be trusted; forgetting the name makes its next
		// clean appearance a set change that re-reads its attributes.
		st.dup, st.gen = false, 0
		r.allSeen--
		if st.selected {
			r.selSeen--
			delete(r.snap, st.name)
			r.changed = true
		}
	}
	r.dups = r.dups[:0]
	if r.selSeen != r.prev {
		r.changed = true
	}
	r.prev = r.selSeen
	if r.changed {
		r.names = r.names[:0]
		for name, c := range r.snap {
			st := r.state[name]
			if st == nil || st.gen != r.gen {
				delete(r.snap, name)
				continue
			}
			if st.attrGen != r.gen {
				r.refresh(st)
				c.Ifindex, c.SpeedMbps = st.ifindex, st.speed
				r.snap[name] = c
			}
			r.names = append(r.names, name)
		}
		slices.Sort(r.names)
	}
	if r.allSeen != len(r.state) {
		for name, st := range r.state {
			if st.gen != r.gen {
				delete(r.state, name)
			}
		}
	}
}

func (r *Reader) refresh(st *iface) {
	st.ifindex, st.speed = r.readAttrs(filepath.Join(r.classNet, st.name))
	st.attrGen = r.gen
}

func decreased(old, c *wire.Counters) bool {
	return c.RxBytes < old.RxBytes || c.TxBytes < old.TxBytes ||
		c.RxPackets < old.RxPackets || c.TxPackets < old.TxPackets ||
		c.RxErrors < old.RxErrors || c.TxErrors < old.TxErrors ||
		c.RxDropped < old.RxDropped || c.TxDropped < old.TxDropped
}

// readFile reads devPath into r.buf with raw syscalls (no *os.File, no
// poller registration, no allocation once the buffer has grown) and takes
// both clocks as soon as the last read returns.
//
// The kernel's /proc/net/dev is kept open and re-read with pread at offset
// 0, which makes seq_file regenerate it: that saves an open and a close per
// request (9 % of the agent's CPU, profiled). A regular file (a test tree,
// or a copy of a router's counters) is reopened every time, so a file
// replaced by rename is seen.
func (r *Reader) readFile() (start, mono, wall int64, err error) {
	start, _ = r.clock()
	fd := r.fd
	if fd < 0 {
		fd, err = unix.Open(r.devPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, 0, 0, &fs.PathError{Op: "open", Path: r.devPath, Err: err}
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0 {
			r.fd = fd // a procfs file: its size is always reported as 0
		} else {
			defer unix.Close(fd)
		}
	}
	b := r.buf[:0]
	for {
		if len(b) == cap(b) {
			if len(b) > MaxFileSize {
				return 0, 0, 0, fmt.Errorf("reading %s: %w: more than %d bytes", r.devPath, ErrTooLarge, MaxFileSize)
			}
			b = slices.Grow(b, min(cap(b), MaxFileSize+1-len(b)))
		}
		var n int
		if fd == r.fd {
			n, err = unix.Pread(fd, b[len(b):cap(b)], int64(len(b)))
		} else {
			// Plain read: a pipe or FIFO (a generated counter file)
			// cannot seek.
			n, err = unix.Read(fd, b[len(b):cap(b)])
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			if fd == r.fd {
				unix.Close(fd)
				r.fd = -1 // reopen on the next read
			}
			return 0, 0, 0, &fs.PathError{Op: "read", Path: r.devPath, Err: err}
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
	}
	mono, wall = r.clock()
	if len(b) > MaxFileSize {
		return 0, 0, 0, fmt.Errorf("reading %s: %w: more than %d bytes", r.devPath, ErrTooLarge, MaxFileSize)
	}
	r.buf = b
	return start, mono, wall, nil
}

// Close releases the file the Reader keeps open. A closed Reader may still
// Read: it reopens the file.
func (r *Reader) Close() error {
	if r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

// readAttrs reads dir/ifindex and dir/speed. Anything unreadable, and the
// kernel's SPEED_UNKNOWN (-1), is 0.
func readAttrs(dir string) (ifindex, speedMbps int64) {
	ifindex, _ = readInt(filepath.Join(dir, "ifindex"))
	speedMbps, _ = readInt(filepath.Join(dir, "speed"))
	return max(ifindex, 0), max(speedMbps, 0)
}

// readSmall reads at most len(buf) bytes of a small pseudo-file.
func readSmall(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

func readInt(path string) (int64, error) {
	var buf [32]byte
	b, err := readSmall(path, buf[:])
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return 0, err // ParseInt returns the clamped value on overflow
	}
	return v, nil
}

// readBootID returns the trimmed boot id, or "" when it is unreadable or
// does not look like one (the wire allows 64 printable bytes).
func readBootID(path string) string {
	var buf [128]byte
	b, err := readSmall(path, buf[:])
	if err != nil {
		return ""
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 64 {
		return ""
	}
	for _, ch := range b {
		if ch <= ' ' || ch >= 0x7f {
			return ""
		}
	}
	return string(b)
}
