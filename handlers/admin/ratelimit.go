package admin

import (
	"sync"
	"time"
)

// Login limits, within any loginWindow:
//   - an (account, address) pair is locked after maxFailsPerPair failures,
//     so a guesser is stopped without locking the admin out elsewhere;
//   - an address is locked after maxFailsPerIP failures, whatever the
//     accounts, so one client cannot try many accounts;
//   - an account with maxFailsPerPair failures or more, from any
//     addresses, is slowed down rather than locked: every attempt on it
//     waits slowDelay first, so guessing from many addresses is slow while
//     the right password still gets in.
const (
	loginWindow     = 15 * time.Minute
	maxFailsPerIP   = 20
	maxFailsPerPair = 5
	slowBase        = time.Second
	slowMax         = 5 * time.Second
	maxTrackedKeys  = 10000
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

func ipKey(ip string) string          { return "ip:" + ip }
func accountKey(email string) string  { return "email:" + email }
func pairKey(ip, email string) string { return "pair:" + ip + "\x00" + email }
func slowDelay(accountFails int) (d time.Duration) {
	if accountFails < maxFailsPerPair {
		return 0
	}
	// One second at the first lock's worth of failures, doubling with
	// every further lock's worth, up to slowMax.
	d = slowBase << ((accountFails - maxFailsPerPair) / maxFailsPerPair)
	if d > slowMax || d <= 0 {
		d = slowMax
	}
	return d
}

// check reports whether this address may try this account now: blocked
// with the wait until the lock ends, or allowed after the delay the
// account's failures call for.
func (l *loginLimiter) check(ip, email string) (blocked bool, wait, delay time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if wait, over := l.over(ipKey(ip), maxFailsPerIP, now); over {
		return true, wait, 0
	}
	if wait, over := l.over(pairKey(ip, email), maxFailsPerPair, now); over {
		return true, wait, 0
	}
	return false, 0, slowDelay(len(l.prune(accountKey(email), now)))
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
	for _, k := range []string{ipKey(ip), pairKey(ip, email), accountKey(email)} {
		l.fails[k] = append(l.fails[k], now)
	}
}

// succeed forgets the account's slow-down and this address's failures on
// it after a good sign-in. Other addresses' locks on the account stay.
func (l *loginLimiter) succeed(ip, email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, accountKey(email))
	delete(l.fails, pairKey(ip, email))
}
