package plugind

import (
	"io"
	"strconv"
	"testing"
	"time"
)

// BenchmarkTick writes and flushes one tick of 8 interfaces x 4 charts with
// two dimensions each, the steady state of a router on 1.37.
func BenchmarkTick(b *testing.B) {
	var typeIDs []string
	for i := range 8 {
		for _, k := range chartKinds {
			typeIDs = append(typeIDs, TypeID("ifstat_er-x", "eth"+strconv.Itoa(i)+"_"+k.suffix))
		}
	}
	w := NewWriter(Features{})
	since := time.Second + 123*time.Microsecond
	var size int
	b.ReportAllocs()
	for b.Loop() {
		for i, id := range typeIDs {
			w.Begin(id, since)
			w.Set("received", 987654321+int64(i))
			w.Set("sent", 12345678+int64(i))
			w.End()
		}
		size = w.Len()
		if err := w.Flush(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(size))
}
