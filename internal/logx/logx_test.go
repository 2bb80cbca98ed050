package logx

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestLimiter(t *testing.T) {
	t.Parallel()
	c := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(2, time.Minute, c.now)
	type step struct {
		advance time.Duration
		key     string
		ok      bool
		supp    int
	}
	steps := []step{
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", false, 0},
		{0, "a", false, 0},
		{0, "b", true, 0}, // keys are independent
		{59 * time.Second, "a", false, 0},
		{time.Second, "a", true, 3}, // new window reports what was suppressed
		{0, "a", true, 0},
	}
	for i, s := range steps {
		c.t = c.t.Add(s.advance)
		ok, supp := l.Allow(s.key)
		if ok != s.ok || supp != s.supp {
			t.Errorf("step %d: Allow(%q) = %v, %d; want %v, %d", i, s.key, ok, supp, s.ok, s.supp)
		}
	}
}

func TestLimiterBoundedKeys(t *testing.T) {
	t.Parallel()
	c := &fakeClock{t: time.Unix(0, 0)}
	l := NewLimiter(1, time.Minute, c.now)
	for i := range 10 * maxKeys {
		l.Allow("k" + strconv.Itoa(i))
	}
	if n := len(l.keys); n > maxKeys+1 {
		t.Errorf("limiter holds %d keys, want at most %d", n, maxKeys+1)
	}
}

func TestWarnAddsSuppressed(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, "info", "text")
	c := &fakeClock{t: time.Unix(0, 0)}
	l := NewLimiter(1, time.Second, c.now)
	e := logrus.NewEntry(log)
	for range 5 {
		l.Warn(e, "k", "bad payload")
	}
	c.t = c.t.Add(time.Second)
	l.Warn(e, "k", "bad payload")
	out := buf.String()
	if n := strings.Count(out, "bad payload"); n != 2 {
		t.Errorf("logged %d lines, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "suppressed=4") {
		t.Errorf("second line lacks suppressed=4:\n%s", out)
	}
}

func TestNewJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	New(&buf, "debug", "json").Debug("x")
	if !strings.HasPrefix(buf.String(), "{") {
		t.Errorf("json format wrote %q", buf.String())
	}
}
