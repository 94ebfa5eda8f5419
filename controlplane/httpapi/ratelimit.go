package httpapi

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimiter is a token bucket per key (an agent id, a user token id),
// kept in memory by each replica: behind a load balancer spreading calls
// over n replicas a caller gets up to n times the rate, which is fine for
// what it is for (a looping script, a buggy or hostile agent), and needs
// no etcd write per request.
type RateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

// NewRateLimiter allows perSecond requests per key with bursts of burst;
// nil (no limit) when perSecond is 0.
func NewRateLimiter(perSecond float64, burst int, now func() time.Time) *RateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &RateLimiter{limit: rate.Limit(perSecond), burst: burst, now: now, buckets: make(map[string]*rate.Limiter), lastSweep: now()}
}

// sweepEvery is how often idle buckets are dropped, so the map holds only
// callers active lately.
const sweepEvery = time.Minute

// Allow takes a token from key's bucket; when there is none, it says how
// long until there is one (for Retry-After). A nil limiter allows all.
func (l *RateLimiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops buckets that have refilled: a new one is the same.
func (l *RateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one, as
// the Retry-After header counts them.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
