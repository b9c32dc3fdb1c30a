package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Attribution computed on request reads every touch of the window's
// journeys: seconds of CPU and reads on a large database, competing with
// event intake. liveLimiter keeps it from crowding the server out:
//
//   - identical requests (same parameters, same data stamp) share one
//     computation and its answer;
//   - at most Running distinct computations run at once, at most Queued
//     more wait for a turn; beyond that a request is refused with 503 and
//     Retry-After;
//   - each caller (API key or session) may start PerMinute computations a
//     minute (a token bucket holding Burst); beyond that 429 and
//     Retry-After. Answers from the cache or the stored credits are free.
type liveLimiter struct {
	Running   int
	Queued    int
	PerMinute float64
	Burst     float64
	Timeout   time.Duration // one computation's bound, whoever waits for it

	once    sync.Once
	slots   chan struct{} // running computations
	waiting chan struct{} // running and queued ones
	group   singleflight.Group

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// Defaults of the limiter; docs/attribution.md lists them.
const (
	liveRunning   = 2
	liveQueued    = 4
	livePerMinute = 10
	liveBurst     = 10
	liveTimeout   = 2 * time.Minute
	maxBuckets    = 10000
)

// errLiveBusy and liveRateError refuse a computation: the server is busy
// with others (503), or the caller started too many (429).
var errLiveBusy = errors.New("attribution: too many computations on request are running or waiting; retry in a few seconds")

type liveRateError struct{ retry time.Duration }

func (e *liveRateError) Error() string {
	return "attribution: too many computations on request from this key; retry in " + retryAfter(e.retry) + " s or use the default lookback, which the stored credits answer"
}

func (l *liveLimiter) init() {
	l.once.Do(func() {
		if l.Running <= 0 {
			l.Running = liveRunning
		}
		if l.Queued < 0 {
			l.Queued = 0
		}
		if l.PerMinute <= 0 {
			l.PerMinute = livePerMinute
		}
		if l.Burst <= 0 {
			l.Burst = liveBurst
		}
		if l.Timeout <= 0 {
			l.Timeout = liveTimeout
		}
		l.slots = make(chan struct{}, l.Running)
		l.waiting = make(chan struct{}, l.Running+l.Queued)
		l.buckets = map[string]*bucket{}
	})
}

// allow takes one token from who's bucket, or says how long until one is there.
func (l *liveLimiter) allow(who string, now time.Time) (time.Duration, bool) {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[who]
	if b == nil {
		if len(l.buckets) >= maxBuckets { // bounded: start over rather than grow
			l.buckets = map[string]*bucket{}
		}
		b = &bucket{tokens: l.Burst, at: now}
		l.buckets[who] = b
	}
	rate := l.PerMinute / 60 // tokens a second
	b.tokens = min(l.Burst, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
}

// do runs compute once per key at a time, within the bounds. The
// computation runs on its own context (bounded by Timeout), so that one
// caller giving up does not fail the others sharing it; a caller whose
// own context ends stops waiting.
func (l *liveLimiter) do(ctx context.Context, key string, compute func(context.Context) (*attributionResponse, error)) (*attributionResponse, error) {
	l.init()
	ch := l.group.DoChan(key, func() (any, error) {
		select {
		case l.waiting <- struct{}{}:
		default:
			return nil, errLiveBusy
		}
		defer func() { <-l.waiting }()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.Timeout)
		defer cancel()
		select {
		case l.slots <- struct{}{}:
		case <-cctx.Done():
			return nil, errLiveBusy
		}
		defer func() { <-l.slots }()
		return compute(cctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*attributionResponse), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// callerKey names who sent a request, for the per-caller limit: the API
// key or the session, hashed so that no secret is kept.
func callerKey(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if v == "" {
		if c, err := r.Cookie(sessionCookie); err == nil {
			v = "session " + c.Value
		}
	}
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:12])
}
