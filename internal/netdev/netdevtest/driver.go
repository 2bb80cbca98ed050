package netdevtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Step is one piece of a piecewise-constant rate: from At (since the
// driver's origin) on, BytesPerSec bytes per second until the next Step.
type Step struct {
	At          time.Duration
	BytesPerSec uint64
}

// Rate is a script of true traffic: Steps sorted by At, all At >= 0.
// Before the first Step, and for a nil Rate, nothing flows.
type Rate []Step

// Constant is a Rate of bytesPerSec from the origin on (100 Mbit/s is
// 12_500_000).
func Constant(bytesPerSec uint64) Rate { return Rate{{At: 0, BytesPerSec: bytesPerSec}} }

// DriverIface is one emulated interface.
type DriverIface struct {
	Name string
	// Ifindex and SpeedMbps go to sys/class/net/<Name>/{ifindex,speed}
	// (0 leaves the file out) and order the lines of net/dev.
	Ifindex, SpeedMbps int64
	// Base is the counters at the origin (only the eight counters are
	// used).
	Base wire.Counters
	// Rx and Tx are the true traffic received and sent.
	Rx, Tx Rate
	// PacketBytes is the size of every packet: packets move by one each
	// time PacketBytes bytes have moved. 0 means 1000.
	PacketBytes uint64
	// Period and Phase place this interface's refresh instants at
	// Phase + k·Period (k any integer) on the driver's clock. Period 0
	// means the driver's DriverOptions.Period and Phase.
	Period, Phase time.Duration
	// Jitter makes each refresh late by a pseudo-random amount in
	// [0, Jitter] (a driver's timer is late, never early), the same
	// for the same Seed, so that True, Visible and LastRefresh still
	// answer for any instant. It must be below every period of the
	// interface, so that refreshes stay in order. 0 means the driver's
	// DriverOptions.Jitter.
	Jitter time.Duration
	// Miss is the fraction of refresh instants that are skipped (a
	// refresh that does not happen: the counters stay as they were until
	// the next one), chosen pseudo-randomly from Seed. At most 0.5. 0
	// means the driver's DriverOptions.Miss.
	Miss float64
	// Seed chooses the late amounts and the skipped refreshes; mixed with
	// Name, so that interfaces with the same Seed differ. 0 means the
	// driver's DriverOptions.Seed.
	Seed uint64
	// Changes switch the refresh clock at run time: from each At on
	// (since the origin, in increasing order, all > 0) the refresh
	// instants are Phase + k·Period of that change (Period 0: always
	// current). Period and Phase above hold before the first.
	Changes []PeriodChange
}

// PeriodChange is a new refresh clock from At (since the driver's origin)
// on: refreshes at Phase + k·Period on the driver's clock, counting only
// the instants at or after At.
type PeriodChange struct {
	At            time.Duration
	Period, Phase time.Duration
}

// DriverOptions configure a Driver.
type DriverOptions struct {
	// Dir is where the tree is made: Dir/proc and Dir/sys. It must exist.
	Dir string
	// Period is the default refresh period of the interfaces: their
	// visible counters change only at Phase + k·Period. 0 means the
	// counters are always current, as a software device's.
	Period, Phase time.Duration
	// Jitter, Miss and Seed are the interfaces' defaults (see
	// DriverIface).
	Jitter time.Duration
	Miss   float64
	Seed   uint64
	Ifaces []DriverIface
	// BootID goes to proc/sys/kernel/random/boot_id; "" means a fixed
	// made-up id.
	BootID string
	// Clock returns the time in ns. Nil means CLOCK_BOOTTIME, the clock of
	// the agent's mono_ns, so that a test can ask True and Visible at the
	// instants an agent reports.
	Clock func() int64
	// Log keeps the instant of every copy Serve hands out (ServedAt), so
	// that a test can judge a reading against what was served and when.
	// Off, a long benchmark keeps no per-read memory.
	Log bool
}

// Driver emulates NIC drivers that refresh the kernel's counters on their
// own clock: the true traffic of each interface follows its Rate exactly,
// but the counters a reader sees change only at the interface's refresh
// instants, jumping to the true values of that instant. The refresh clock
// may be irregular as real drivers' are (late timers, skipped refreshes, a
// period that changes), always from a seed, never from the wall clock.
// Serve makes ProcRoot/net/dev a named pipe that renders the visible
// counters at the moment each reader opens it, as the kernel does. True,
// Visible and LastRefresh answer for any instant, so a benchmark can judge
// every number an agent and a bridge report. A Driver is safe for
// concurrent use.
type Driver struct {
	dir    string
	clock  func() int64
	origin int64
	ifaces []driverIface
	byName map[string]int
	served atomic.Int64
	missed atomic.Int64

	log   bool
	logMu sync.Mutex
	at    []int64 // the clock at each copy served, with Log
	ready []int64 // the clock when Serve began to wait for its reader

	// serving is closed once Serve's pipe is in place, ended when Serve
	// has returned (see WaitServing).
	serving, ended         chan struct{}
	servingOnce, endedOnce sync.Once
}

type driverIface struct {
	DriverIface
	// segs are the refresh clocks in order: segs[0] from the beginning of
	// time, then one per Changes entry (from is on the driver's clock).
	segs   []segment
	jitter int64  // ns
	miss   uint64 // a refresh is skipped when its hash is below this
	seed   uint64
}

// segment is one refresh clock: nominal instants phase + k·period in
// [from, the next segment's from).
type segment struct {
	from, period, phase int64
}

// DefaultBootID is the boot id of a Driver's tree when DriverOptions.BootID
// is empty.
const DefaultBootID = "0d1e5e7a-5eed-4c0d-a7e5-000000000001"

// NewDriver validates o, takes the origin (the instant every Rate starts
// from) from the clock and writes the tree: sys/class/net/<if>/{ifindex,
// speed}, proc/sys/kernel/random/boot_id and proc/net/dev as a regular
// file holding the counters visible at the origin (Serve turns it into a
// named pipe).
func NewDriver(o DriverOptions) (*Driver, error) {
	if o.Period < 0 {
		return nil, fmt.Errorf("driver period %v: must not be negative", o.Period)
	}
	fi, err := os.Stat(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("driver tree: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("driver tree: %s is not a directory", o.Dir)
	}
	d := &Driver{dir: o.Dir, clock: o.Clock, byName: map[string]int{}, log: o.Log, serving: make(chan struct{}), ended: make(chan struct{})}
	if d.clock == nil {
		d.clock = bootClock()
	}
	for _, in := range o.Ifaces {
		if err := checkIface(&in); err != nil {
			return nil, err
		}
		if _, dup := d.byName[in.Name]; dup {
			return nil, fmt.Errorf("interface %q: listed twice", in.Name)
		}
		if in.PacketBytes == 0 {
			in.PacketBytes = 1000
		}
		if in.Period == 0 {
			in.Period, in.Phase = o.Period, o.Phase
		}
		if in.Jitter == 0 {
			in.Jitter = o.Jitter
		}
		if in.Miss == 0 {
			in.Miss = o.Miss
		}
		if in.Seed == 0 {
			in.Seed = o.Seed
		}
		if err := checkClock(&in); err != nil {
			return nil, err
		}
		d.byName[in.Name] = len(d.ifaces)
		d.ifaces = append(d.ifaces, driverIface{DriverIface: in, jitter: int64(in.Jitter), miss: missThreshold(in.Miss), seed: in.Seed ^ fnv64(in.Name)})
	}
	bootID := o.BootID
	if bootID == "" {
		bootID = DefaultBootID
	}
	for _, dir := range []string{filepath.Join(d.ProcRoot(), "net"), filepath.Join(d.ProcRoot(), "sys", "kernel", "random")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("driver tree: %w", err)
		}
	}
	if err := writeFile(filepath.Join(d.ProcRoot(), "sys", "kernel", "random", "boot_id"), bootID+"\n"); err != nil {
		return nil, err
	}
	for _, in := range d.ifaces {
		dir := filepath.Join(d.SysRoot(), "class", "net", in.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("driver tree: %w", err)
		}
		for attr, v := range map[string]int64{"ifindex": in.Ifindex, "speed": in.SpeedMbps} {
			if v == 0 {
				continue
			}
			if err := writeFile(filepath.Join(dir, attr), strconv.FormatInt(v, 10)+"\n"); err != nil {
				return nil, err
			}
		}
	}
	d.origin = d.clock()
	for i := range d.ifaces {
		in := &d.ifaces[i]
		in.segs = []segment{{from: math.MinInt64, period: int64(in.Period), phase: int64(in.Phase)}}
		for _, c := range in.Changes {
			in.segs = append(in.segs, segment{from: d.origin + int64(c.At), period: int64(c.Period), phase: int64(c.Phase)})
		}
	}
	if err := writeFile(d.devPath(), string(d.Render(d.origin))); err != nil {
		return nil, err
	}
	return d, nil
}

// checkClock validates the refresh clock of in once the driver's defaults
// are in.
func checkClock(in *DriverIface) error {
	if in.Jitter < 0 {
		return fmt.Errorf("interface %q: jitter %v must not be negative", in.Name, in.Jitter)
	}
	if !(in.Miss >= 0 && in.Miss <= 0.5) {
		return fmt.Errorf("interface %q: missed fraction %v must be within 0 and 0.5", in.Name, in.Miss)
	}
	periods := []time.Duration{in.Period}
	for i, c := range in.Changes {
		if c.At <= 0 || (i > 0 && c.At <= in.Changes[i-1].At) {
			return fmt.Errorf("interface %q: period changes must be after the origin and in increasing order", in.Name)
		}
		if c.Period < 0 {
			return fmt.Errorf("interface %q: period %v must not be negative", in.Name, c.Period)
		}
		periods = append(periods, c.Period)
	}
	// A refresh later than the next one's nominal instant would make the
	// counters go back in time.
	for _, p := range periods {
		if p > 0 && in.Jitter >= p {
			return fmt.Errorf("interface %q: jitter %v must be below the period %v", in.Name, in.Jitter, p)
		}
	}
	return nil
}

func checkIface(in *DriverIface) error {
	if in.Name == "" || len(in.Name) > 15 || strings.ContainsAny(in.Name, ":/ \t\n") || in.Name == "." || in.Name == ".." {
		return fmt.Errorf("interface %q: not a name the kernel would give", in.Name)
	}
	if in.Period < 0 {
		return fmt.Errorf("interface %q: period %v must not be negative", in.Name, in.Period)
	}
	for _, r := range []Rate{in.Rx, in.Tx} {
		for i, s := range r {
			if s.At < 0 || (i > 0 && s.At <= r[i-1].At) {
				return fmt.Errorf("interface %q: rate steps must start at 0 or later and be in increasing order", in.Name)
			}
		}
	}
	return nil
}

// ProcRoot is the directory to give an agent as IFSTAT_PROC_ROOT.
func (d *Driver) ProcRoot() string { return filepath.Join(d.dir, "proc") }

// SysRoot is the directory to give an agent as IFSTAT_SYS_ROOT.
func (d *Driver) SysRoot() string { return filepath.Join(d.dir, "sys") }

func (d *Driver) devPath() string { return filepath.Join(d.ProcRoot(), "net", "dev") }

// WaitServing returns once Serve has put its pipe in place of the regular
// file NewDriver wrote, so that a reader started after it reads what
// Serve serves and logs (ServedAt), not that file; or with an error once
// ctx is done or Serve returned without serving.
func (d *Driver) WaitServing(ctx context.Context) error {
	select {
	case <-d.serving:
		return nil
	case <-d.ended:
	case <-ctx.Done():
		return fmt.Errorf("waiting for %s: %w", d.devPath(), ctx.Err())
	}
	select {
	case <-d.serving: // served, then ended
		return nil
	default:
		return fmt.Errorf("%s: the driver ended before serving", d.devPath())
	}
}

// Origin is the clock reading in ns at which every Rate started.
func (d *Driver) Origin() int64 { return d.origin }

// Now reads the driver's clock (ns).
func (d *Driver) Now() int64 { return d.clock() }

// Names returns the interfaces in the order they were given.
func (d *Driver) Names() []string {
	names := make([]string, len(d.ifaces))
	for i, in := range d.ifaces {
		names[i] = in.Name
	}
	return names
}

// True returns the counters of name that the hardware has counted by the
// instant t (ns on the driver's clock): Base plus the traffic of the
// Rates, bytes rounded down per Step, packets the bytes over PacketBytes
// rounded down. Errors and drops stay at Base. ok is false for an unknown
// name.
func (d *Driver) True(name string, t int64) (c wire.Counters, ok bool) {
	i, ok := d.byName[name]
	if !ok {
		return wire.Counters{}, false
	}
	return d.ifaces[i].counters(t - d.origin), true
}

// LastRefresh returns the latest refresh instant of name at or before t:
// the instant whose true counters a read at t sees. For an interface
// without a period it is t itself.
func (d *Driver) LastRefresh(name string, t int64) (int64, bool) {
	i, ok := d.byName[name]
	if !ok {
		return 0, false
	}
	return d.ifaces[i].lastRefresh(t), true
}

// Visible returns the counters of name that a read at t sees: the true
// counters as of LastRefresh(name, t).
func (d *Driver) Visible(name string, t int64) (wire.Counters, bool) {
	i, ok := d.byName[name]
	if !ok {
		return wire.Counters{}, false
	}
	in := &d.ifaces[i]
	return in.counters(in.lastRefresh(t) - d.origin), true
}

// Render returns proc/net/dev as a read at t sees it, in the kernel's
// format (see Format).
func (d *Driver) Render(t int64) []byte {
	m := make(map[string]wire.Counters, len(d.ifaces))
	for i := range d.ifaces {
		in := &d.ifaces[i]
		c := in.counters(in.lastRefresh(t) - d.origin)
		c.Ifindex = in.Ifindex
		m[in.Name] = c
	}
	return Format(m)
}

// lastRefresh is the latest refresh instant at or before t: the latest
// nominal instant of any segment, plus its lateness, that is not skipped
// and not after t.
func (in *driverIface) lastRefresh(t int64) int64 {
	if len(in.segs) == 1 && in.jitter == 0 && in.miss == 0 {
		// Today's driver, without the search below.
		s := in.segs[0]
		if s.period <= 0 {
			return t
		}
		return s.phase + floorDiv(t-s.phase, s.period)*s.period
	}
	s := len(in.segs) - 1
	for s > 0 && in.segs[s].from > t {
		s--
	}
	best, found := int64(0), false
	for i := s; i >= 0; i-- {
		hi := int64(math.MaxInt64)
		if i+1 < len(in.segs) {
			hi = in.segs[i+1].from
		}
		if r, ok := in.search(i, in.segs[i].from, hi, t); ok && (!found || r > best) {
			best, found = r, true
		}
		// The refreshes of earlier segments are nominally before this
		// one's from, so late by less than the jitter after it: once a
		// refresh that late is found, none of theirs can be later.
		if found && best >= in.segs[i].from+in.jitter {
			break
		}
	}
	if !found {
		// Only a driver that skips every refresh of a whole segment
		// and of all before it gets here; its counters never moved.
		return math.MinInt64
	}
	return best
}

// maxSkips bounds the walk back over skipped refreshes: with at most half
// of them skipped, 64 in a row are as likely as 64 heads in a row.
const maxSkips = 64

// search returns the latest refresh of segment i whose nominal instant is
// in [lo, hi) and whose actual (late) instant is at or before t.
func (in *driverIface) search(i int, lo, hi, t int64) (int64, bool) {
	s := in.segs[i]
	top := min(t, hi-1)
	if top < lo {
		return 0, false
	}
	if s.period <= 0 {
		return top, true
	}
	k := floorDiv(top-s.phase, s.period)
	for n := 0; n <= maxSkips+1; n++ {
		nominal := s.phase + k*s.period
		if nominal < lo {
			return 0, false
		}
		r := nominal + in.late(i, k)
		if r <= t && !in.skipped(i, k) {
			return r, true
		}
		k--
	}
	return 0, false
}

// late is how late refresh k of segment i is: a hash of the seed, i and
// k, so that any instant can be answered without replaying the past.
func (in *driverIface) late(i int, k int64) int64 {
	if in.jitter == 0 {
		return 0
	}
	return int64(mix(in.seed, uint64(i), uint64(k), 1) % uint64(in.jitter+1))
}

// skipped reports whether refresh k of segment i does not happen.
func (in *driverIface) skipped(i int, k int64) bool {
	return in.miss > 0 && mix(in.seed, uint64(i), uint64(k), 2) < in.miss
}

func missThreshold(f float64) uint64 {
	if f <= 0 {
		return 0
	}
	return uint64(f * (1 << 63) * 2)
}

// mix hashes its arguments with SplitMix64's finaliser: a fixed,
// documented function, so that the instants are the same on every
// platform and Go version.
func mix(seed, i, k, salt uint64) uint64 {
	z := seed ^ i*0x9e3779b97f4a7c15 ^ k*0xbf58476d1ce4e5b9 ^ salt*0x94d049bb133111eb
	for range 2 {
		z += 0x9e3779b97f4a7c15
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
	}
	return z
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// floorDiv is a/b rounded towards minus infinity (b > 0); Go's division
// truncates towards zero.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// counters is the true counters at offset ns after the origin.
func (in *driverIface) counters(offset int64) wire.Counters {
	c := wire.Counters{
		RxErrors: in.Base.RxErrors, TxErrors: in.Base.TxErrors,
		RxDropped: in.Base.RxDropped, TxDropped: in.Base.TxDropped,
	}
	rx, tx := in.Rx.bytes(offset), in.Tx.bytes(offset)
	c.RxBytes, c.TxBytes = in.Base.RxBytes+rx, in.Base.TxBytes+tx
	c.RxPackets, c.TxPackets = in.Base.RxPackets+rx/in.PacketBytes, in.Base.TxPackets+tx/in.PacketBytes
	return c
}

// bytes is the traffic from the origin to offset ns after it.
func (r Rate) bytes(offset int64) uint64 {
	var sum uint64
	for i, s := range r {
		from := int64(s.At)
		if offset <= from {
			break
		}
		to := offset
		if i+1 < len(r) && int64(r[i+1].At) < to {
			to = int64(r[i+1].At)
		}
		sum += mulDiv(s.BytesPerSec, uint64(to-from), uint64(time.Second))
	}
	return sum
}

// mulDiv is a·b/c rounded down without overflowing (saturating when the
// quotient does not fit).
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return 1<<64 - 1
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// Served is how many reads Serve has answered.
func (d *Driver) Served() int64 { return d.served.Load() }

// ServedAt returns the clock's instant of every copy served so far, in
// order; Render of an instant is the copy. Empty unless DriverOptions.Log.
func (d *Driver) ServedAt() []int64 {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	return append([]int64(nil), d.at...)
}

// ReadyAt returns, for every copy of ServedAt, the instant Serve began to
// wait for its reader: a copy served long after it was ready waited for a
// reader that came late; one served at once kept a reader waiting.
func (d *Driver) ReadyAt() []int64 {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	return append([]int64(nil), d.ready...)
}

// Missed is how many copies Serve rendered that no reader took (a reader
// that opened the pipe and closed it without reading).
func (d *Driver) Missed() int64 { return d.missed.Load() }

// Serve replaces proc/net/dev with a named pipe and answers every reader
// that opens it with Render at the moment of the open, until ctx is done.
// Like the kernel's seq_file, each open gets one freshly rendered copy;
// the value a reader sees and the time it stamps right after its read
// differ only by the scheduling delay of one process (a refresh instant
// falling inside that delay is seen one read late).
//
// Each copy has a pipe of its own: a new pipe is renamed over the path
// before the copy's write end is closed, so a reader that opens the path
// again, even at once, meets the next copy's pipe, never this one's end.
// (Reopening one pipe for the next copy while the last reader had not
// yet closed it would append a second copy to that read. Serve used to
// wait for the reader's close instead, and so was ready for the next
// reader only about 2 ms after each copy: an agent probing a
// millisecond apart was served every 2 ms or more, and its windows were
// that wide.) One reader at a time, as an agent reads; concurrent
// readers may share or split a copy.
func (d *Driver) Serve(ctx context.Context) error {
	defer d.endedOnce.Do(func() { close(d.ended) })
	path := d.devPath()
	next := path + ".next"
	if err := os.Remove(next); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("serving %s: %w", path, err)
	}
	// The pipe replaces the regular file NewDriver wrote in one rename: a
	// reader that opens the path meanwhile meets one or the other, never
	// nothing (an agent started beside Serve once met neither and exited:
	// "no such file or directory").
	if err := unix.Mkfifo(next, 0o644); err != nil {
		return fmt.Errorf("serving %s: mkfifo: %w", path, err)
	}
	if err := os.Rename(next, path); err != nil {
		return fmt.Errorf("serving %s: %w", path, err)
	}
	d.servingOnce.Do(func() { close(d.serving) })
	done := make(chan struct{})
	defer close(done)
	// The blocking open below waits for a reader; once ctx is done, be
	// that reader until Serve has returned.
	stop := context.AfterFunc(ctx, func() {
		for {
			if fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(fd)
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	defer stop()
	for ctx.Err() == nil {
		// The next copy's pipe is made while no reader waits.
		if err := unix.Mkfifo(next, 0o644); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("serving %s: mkfifo: %w", path, err)
		}
		ready := d.clock()
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("serving %s: %w", path, err)
		}
		if ctx.Err() != nil {
			unix.Close(fd)
			break
		}
		if err := os.Rename(next, path); err != nil {
			unix.Close(fd)
			return fmt.Errorf("serving %s: %w", path, err)
		}
		// Rendered last, so that the reader has its end of file right
		// after the values were made, as from the kernel.
		t := d.clock()
		werr := writeAll(fd, d.Render(t))
		unix.Close(fd)
		if errors.Is(werr, unix.EPIPE) {
			// The reader gave up before reading: nobody got this copy.
			d.missed.Add(1)
			continue
		}
		if werr != nil {
			return fmt.Errorf("serving %s: %w", path, werr)
		}
		d.served.Add(1)
		if d.log {
			d.logMu.Lock()
			d.at = append(d.at, t)
			d.ready = append(d.ready, ready)
			d.logMu.Unlock()
		}
	}
	return nil
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// writeFile replaces path by renaming a finished temporary file over it.
func writeFile(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return fmt.Errorf("driver tree: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("driver tree: %w", err)
	}
	return nil
}

// bootClock is CLOCK_BOOTTIME as the agent reads it (package netdev): one
// system call, then Go's monotonic clock, so both sides tick alike.
func bootClock() func() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	}
	start, base := time.Now(), ts.Nano()
	return func() int64 { return base + int64(time.Since(start)) }
}

// mirrorPoll is how often Mirror looks for a refresh. A reader of the
// mirror sees a refresh up to this much after its instant.
const mirrorPoll = time.Millisecond

// Mirror keeps path, a regular file, equal to what a read of proc/net/dev
// sees, until ctx is done: it rewrites the file in place within
// mirrorPoll of every refresh. It is for readers that cannot read Serve's
// pipe: Netdata's proc.plugin keeps proc/net/dev open and rewinds it
// with lseek before every read, which a pipe refuses (its collector then
// drops the file and never charts it). The file is written over its old
// bytes rather than replaced, because such a reader keeps reading the
// file it opened. A read that overlaps a write (a few µs, a few times a
// second) can see both copies in part: the kernel serialises neither.
func (d *Driver) Mirror(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	defer f.Close()
	last := make([]int64, len(d.ifaces))
	tick := time.NewTicker(mirrorPoll)
	defer tick.Stop()
	for first := true; ; first = false {
		t := d.clock()
		changed := first
		for i := range d.ifaces {
			if r := d.ifaces[i].lastRefresh(t); r != last[i] {
				last[i], changed = r, true
			}
		}
		if changed {
			b := d.Render(t)
			if _, err := f.WriteAt(b, 0); err != nil {
				return fmt.Errorf("mirror: %w", err)
			}
			if err := f.Truncate(int64(len(b))); err != nil {
				return fmt.Errorf("mirror: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
