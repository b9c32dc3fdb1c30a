package collect

import (
	"math"
	"sync"
	"time"
)

// limiter is a token bucket per write key: a key may send rate events a
// second on average and burst events at once. A request costs its number of
// events (at most the burst, so that a large batch can always pass).
type limiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[int64]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), buckets: map[int64]*bucket{}}
}

// set changes the limits. A changed limit starts every bucket afresh, full
// at the new burst: a bucket emptied under the old limit would otherwise
// keep refusing a sender for as long as it takes to refill at the new rate,
// so that raising the limit would seem not to work.
func (l *limiter) set(rate float64, burst int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rate == l.rate && float64(burst) == l.burst {
		return
	}
	l.rate, l.burst = rate, float64(burst)
	clear(l.buckets)
}

// take spends n tokens of key's bucket at now, or says how long to wait.
func (l *limiter) take(key int64, n int, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate <= 0 || l.burst <= 0 {
		return true, 0
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.at = now
	}
	b.tokens = math.Min(b.tokens, l.burst)
	cost := math.Min(float64(n), l.burst)
	if b.tokens >= cost {
		b.tokens -= cost
		return true, 0
	}
	wait := time.Duration((cost - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}
