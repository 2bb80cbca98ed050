package netdevtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// Header is the two header lines the kernel prints at the top of
// /proc/net/dev (net/core/net-procfs.c, dev_seq_show).
const Header = "Inter-|   Receive                                                |  Transmit\n" +
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"

// Tree is a proc and sys tree under t.TempDir(). Set and Remove change
// sysfs at once and /proc/net/dev on the next Write, so a test decides
// exactly what a reader sees. Failures stop the test. A Tree is not safe
// for concurrent use.
type Tree struct {
	tb     testing.TB
	root   string
	ifaces map[string]wire.Counters
}

// NewTree creates an empty tree: a /proc/net/dev with only the header and
// an empty /sys/class/net.
func NewTree(tb testing.TB) *Tree {
	tb.Helper()
	t := &Tree{tb: tb, root: tb.TempDir(), ifaces: map[string]wire.Counters{}}
	t.mkdir(t.ProcRoot(), "net")
	t.mkdir(t.ProcRoot(), "sys", "kernel", "random")
	t.mkdir(t.SysRoot(), "class", "net")
	t.Write()
	return t
}

// ProcRoot is the directory to use as a reader's ProcRoot.
func (t *Tree) ProcRoot() string { return filepath.Join(t.root, "proc") }

// SysRoot is the directory to use as a reader's SysRoot.
func (t *Tree) SysRoot() string { return filepath.Join(t.root, "sys") }

// Set sets the counters of name for the next Write and writes
// sys/class/net/<name>/ifindex and speed from c.Ifindex and c.SpeedMbps
// now; a zero value leaves that file out, as a virtual interface whose
// speed cannot be read.
func (t *Tree) Set(name string, c wire.Counters) {
	t.tb.Helper()
	t.ifaces[name] = c
	dir := t.mkdir(t.SysRoot(), "class", "net", name)
	for attr, v := range map[string]int64{"ifindex": c.Ifindex, "speed": c.SpeedMbps} {
		p := filepath.Join(dir, attr)
		if v == 0 {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				t.tb.Fatal(err)
			}
			continue
		}
		t.write(p, strconv.FormatInt(v, 10)+"\n")
	}
}

// SetAttr writes sys/class/net/<name>/<attr> verbatim, for hostile
// attribute files ("-1", garbage, empty).
func (t *Tree) SetAttr(name, attr, content string) {
	t.tb.Helper()
	t.write(filepath.Join(t.mkdir(t.SysRoot(), "class", "net", name), attr), content)
}

// Remove drops name from the next Write and removes its sysfs directory
// now.
func (t *Tree) Remove(name string) {
	t.tb.Helper()
	delete(t.ifaces, name)
	if err := os.RemoveAll(filepath.Join(t.SysRoot(), "class", "net", name)); err != nil {
		t.tb.Fatal(err)
	}
}

// SetBootID writes proc/sys/kernel/random/boot_id as the kernel does, with
// a trailing newline.
func (t *Tree) SetBootID(id string) {
	t.tb.Helper()
	t.write(filepath.Join(t.ProcRoot(), "sys", "kernel", "random", "boot_id"), id+"\n")
}

// Write replaces proc/net/dev atomically with the interfaces set so far,
// in the kernel's format and order (by ifindex, then name).
func (t *Tree) Write() {
	t.tb.Helper()
	t.WriteRaw(string(Format(t.ifaces)))
}

// WriteRaw replaces proc/net/dev atomically with content, for hostile
// cases.
func (t *Tree) WriteRaw(content string) {
	t.tb.Helper()
	t.write(filepath.Join(t.ProcRoot(), "net", "dev"), content)
}

// Format renders ifaces as the kernel prints /proc/net/dev: Header, then
// one line per interface ordered by Ifindex and name, with the kernel's
// column widths and zeros in the columns wire.Counters does not carry
// (fifo, frame, compressed, multicast, colls, carrier).
func Format(ifaces map[string]wire.Counters) []byte {
	names := make([]string, 0, len(ifaces))
	for name := range ifaces {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if d := ifaces[a].Ifindex - ifaces[b].Ifindex; d != 0 {
			return int(min(max(d, -1), 1))
		}
		return strings.Compare(a, b)
	})
	var b bytes.Buffer
	b.WriteString(Header)
	for _, name := range names {
		c := ifaces[name]
		// The kernel's "%6s" pads by bytes; Go's %6s would pad by runes
		// and misalign non-ASCII names.
		if pad := 6 - len(name); pad > 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
		fmt.Fprintf(&b, "%s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
			name, c.RxBytes, c.RxPackets, c.RxErrors, c.RxDropped, 0, 0, 0, 0,
			c.TxBytes, c.TxPackets, c.TxErrors, c.TxDropped, 0, 0, 0, 0)
	}
	return b.Bytes()
}

func (t *Tree) mkdir(elem ...string) string {
	t.tb.Helper()
	dir := filepath.Join(elem...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.tb.Fatal(err)
	}
	return dir
}

// write replaces path by renaming a finished temporary file over it, so a
// concurrent reader sees the old or the new content, never a mix.
func (t *Tree) write(path, content string) {
	t.tb.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.tb.Fatal(err)
	}
}
