package site

import (
	"sync"
	"time"
)

// windowLimiter counts events per key (a client address, with a page) in
// a sliding window, in memory: each replica counts its own, which only
// loosens the limit. It serves the sign-up, page password and sign-in
// link limits.
type windowLimiter struct {
	max    int
	window time.Duration

	mu     sync.Mutex
	events map[string][]time.Time
	swept  time.Time
}

func newWindowLimiter(max int, window time.Duration) *windowLimiter {
	return &windowLimiter{max: max, window: window, events: map[string][]time.Time{}}
}

// blocked says how long key must wait, 0 when it may go on.
func (l *windowLimiter) blocked(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.prune(key, now)
	if len(ts) < l.max {
		return 0
	}
	return ts[0].Add(l.window).Sub(now)
}

// record counts an event of key at now.
func (l *windowLimiter) record(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	l.events[key] = append(l.prune(key, now), now)
}

// allow counts an event of key at now unless key is at its limit; then
// it says how long to wait.
func (l *windowLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	ts := l.prune(key, now)
	if len(ts) >= l.max {
		return false, ts[0].Add(l.window).Sub(now)
	}
	l.events[key] = append(ts, now)
	return true, 0
}

// sweep forgets the keys that went quiet, once a window; the caller
// holds l.mu.
func (l *windowLimiter) sweep(now time.Time) {
	if now.Sub(l.swept) <= l.window {
		return
	}
	for k, ts := range l.events {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= l.window {
			delete(l.events, k)
		}
	}
	l.swept = now
}

// prune drops key's events older than the window and returns the rest;
// the caller holds l.mu.
func (l *windowLimiter) prune(key string, now time.Time) []time.Time {
	ts := l.events[key]
	for len(ts) > 0 && now.Sub(ts[0]) >= l.window {
		ts = ts[1:]
	}
	if len(ts) == 0 {
		delete(l.events, key)
		return nil
	}
	l.events[key] = ts
	return ts
}
