package admin

import (
	"sync"
	"time"
)

// Login limits: failed attempts allowed per window, per client address and
// per account. The account limit stops slow password guessing from many
// addresses; the address limit stops one client trying many accounts.
const (
	loginWindow      = 15 * time.Minute
	maxFailsPerIP    = 20
	maxFailsPerEmail = 5
	maxTrackedKeys   = 10000
)

// loginLimiter counts failed sign-ins in memory. Each replica counts on its
// own, which only makes the limit looser, never wrong.
type loginLimiter struct {
	mu    sync.Mutex
	fails map[string][]time.Time
	now   func() time.Time
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{fails: map[string][]time.Time{}, now: now}
}

// blocked reports whether ip or email is over its limit, and until when.
func (l *loginLimiter) blocked(ip, email string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if wait, over := l.over("ip:"+ip, maxFailsPerIP, now); over {
		return true, wait
	}
	if wait, over := l.over("email:"+email, maxFailsPerEmail, now); over {
		return true, wait
	}
	return false, 0
}

func (l *loginLimiter) over(key string, limit int, now time.Time) (time.Duration, bool) {
	ts := l.prune(key, now)
	if len(ts) < limit {
		return 0, false
	}
	return ts[0].Add(loginWindow).Sub(now), true
}

func (l *loginLimiter) prune(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= loginWindow {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

// fail records a failed attempt.
func (l *loginLimiter) fail(ip, email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.fails) > maxTrackedKeys {
		for k := range l.fails {
			l.prune(k, now)
		}
	}
	l.fails["ip:"+ip] = append(l.fails["ip:"+ip], now)
	l.fails["email:"+email] = append(l.fails["email:"+email], now)
}

// succeed forgets an account's failures after a good sign-in.
func (l *loginLimiter) succeed(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, "email:"+email)
}
