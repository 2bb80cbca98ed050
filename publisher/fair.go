package publisher

import (
	"strings"
	"time"
)

// RequesterKey returns the fairness key of a request id: the part before its
// last '-'. The bridge sends ids "<bridge-run>-<seq>", so all requests of one
// bridge run share a key while each id stays unique. An id without '-' (or an
// empty id) belongs to the shared key "".
func RequesterKey(id string) string {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return ""
	}
	return id[:i]
}

// fairQueue holds pending request ids per requester key and hands them out
// round-robin across keys, so a flood under one key waits behind, but never
// ahead of, another key's single request. Memory is bounded: at most maxKeys
// keys with at most perKey ids each; what does not fit is dropped. It is not
// safe for concurrent use.
type fairQueue struct {
	maxKeys int
	perKey  int
	keys    map[string]*keyQueue
	// ring lists the keys with pending ids in service order.
	ring []*keyQueue
	head int
}

type keyQueue struct {
	key string
	ids []string // len <= perKey
}

func newFairQueue(maxKeys, perKey int) *fairQueue {
	return &fairQueue{
		maxKeys: maxKeys,
		perKey:  perKey,
		keys:    make(map[string]*keyQueue, maxKeys),
		ring:    make([]*keyQueue, 0, maxKeys),
	}
}

// Push queues id under its requester key and reports false when it was
// dropped: the key's queue is full, or maxKeys other keys are pending.
func (q *fairQueue) Push(id string) bool {
	key := RequesterKey(id)
	kq := q.keys[key]
	if kq == nil {
		if len(q.ring) >= q.maxKeys {
			return false
		}
		kq = &keyQueue{key: key, ids: make([]string, 0, q.perKey)}
		q.keys[key] = kq
		// Insert just before head: a new key is served after every key
		// already waiting, once each.
		q.ring = append(q.ring, nil)
		copy(q.ring[q.head+1:], q.ring[q.head:])
		q.ring[q.head] = kq
		q.head++
		if q.head == len(q.ring) {
			q.head = 0
		}
	}
	if len(kq.ids) >= q.perKey {
		return false
	}
	kq.ids = append(kq.ids, id)
	return true
}

// Pop returns the next id in round-robin order across keys.
func (q *fairQueue) Pop() (string, bool) {
	if len(q.ring) == 0 {
		return "", false
	}
	kq := q.ring[q.head]
	id := kq.ids[0]
	copy(kq.ids, kq.ids[1:])
	kq.ids = kq.ids[:len(kq.ids)-1]
	if len(kq.ids) == 0 {
		delete(q.keys, kq.key)
		q.ring = append(q.ring[:q.head], q.ring[q.head+1:]...)
	} else {
		q.head++
	}
	if q.head >= len(q.ring) {
		q.head = 0
	}
	return id, true
}

// Peek returns the id Pop would return, without removing it.
func (q *fairQueue) Peek() (string, bool) {
	if len(q.ring) == 0 {
		return "", false
	}
	return q.ring[q.head].ids[0], true
}

// Len returns the number of pending ids.
func (q *fairQueue) Len() int {
	n := 0
	for _, kq := range q.ring {
		n += len(kq.ids)
	}
	return n
}

// tokenBucket limits replies to rate per second with bursts of up to burst.
// Time is passed in, so tests drive it with a fake clock. It is not safe for
// concurrent use.
type tokenBucket struct {
	interval time.Duration // time to earn one token
	burst    float64
	tokens   float64
	last     time.Time
}

func newTokenBucket(rate, burst int, now time.Time) *tokenBucket {
	return &tokenBucket{
		interval: time.Second / time.Duration(rate),
		burst:    float64(burst),
		tokens:   float64(burst),
		last:     now,
	}
}

func (b *tokenBucket) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens += float64(d) / float64(b.interval)
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
}

// Take spends one token if there is one and reports whether it did; else it
// returns how long until the next token.
func (b *tokenBucket) Take(now time.Time) (bool, time.Duration) {
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(b.interval))
}
