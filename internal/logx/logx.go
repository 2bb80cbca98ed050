// Package logx sets up logrus the way every ifstat binary logs: to stderr
// (stdout is the plugins.d protocol in the bridge), with a level and a format
// from configuration, and with a keyed rate limiter for warnings caused by
// peers, so a hostile or broken peer cannot flood the log.
package logx

import (
	"io"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// New returns a logger writing to w at level ("info", …) in format ("text"
// or "json"). Both were validated by config.
func New(w io.Writer, level, format string) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(w)
	if lv, err := logrus.ParseLevel(level); err == nil {
		l.SetLevel(lv)
	}
	if format == "json" {
		l.SetFormatter(&logrus.JSONFormatter{})
	} else {
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, DisableColors: true})
	}
	return l
}

// Limiter allows at most N events per key per Window and counts the rest.
// Its zero value is not usable; use NewLimiter.
type Limiter struct {
	N      int
	Window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	keys map[string]*bucket
}

type bucket struct {
	start      time.Time
	n          int
	suppressed int
}

// maxKeys bounds the limiter's memory when keys come from the network.
const maxKeys = 1024

// NewLimiter returns a limiter of n events per key per window. now may be
// nil for time.Now.
func NewLimiter(n int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{N: n, Window: window, now: now, keys: make(map[string]*bucket)}
}

// Allow reports whether an event for key may be logged now, and how many
// events of that key were suppressed since the last allowed one.
func (l *Limiter) Allow(key string) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	b := l.keys[key]
	if b == nil {
		if len(l.keys) >= maxKeys {
			l.gc(t)
			if len(l.keys) >= maxKeys {
				key = "\x00overflow"
				b = l.keys[key]
			}
		}
		if b == nil {
			b = &bucket{start: t}
			l.keys[key] = b
		}
	}
	if t.Sub(b.start) >= l.Window {
		b.start, b.n = t, 0
	}
	if b.n >= l.N {
		b.suppressed++
		return false, 0
	}
	b.n++
	s := b.suppressed
	b.suppressed = 0
	return true, s
}

func (l *Limiter) gc(t time.Time) {
	for k, b := range l.keys {
		if t.Sub(b.start) >= l.Window && b.suppressed == 0 {
			delete(l.keys, k)
		}
	}
}

// Warn logs msg at warning level through e when key's limit allows, adding
// the count of suppressed messages.
func (l *Limiter) Warn(e *logrus.Entry, key, msg string) {
	ok, s := l.Allow(key)
	if !ok {
		return
	}
	if s > 0 {
		e = e.WithField("suppressed", s)
	}
	e.Warn(msg)
}
