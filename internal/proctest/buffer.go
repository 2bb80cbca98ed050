package proctest

import (
	"bytes"
	"sync"
)

// LockedBuffer is a bytes.Buffer safe for the writes of a child's output
// copiers and a test's reads at the same time. The zero value is empty and
// ready.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
