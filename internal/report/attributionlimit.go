package report

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Attribution computed on request reads every touch of the window's
// journeys: seconds of CPU and reads on a large database, competing with
// event intake. Limiter keeps it from crowding the server out:
//
//   - identical requests (same parameters, same data stamp) share one
//     computation and its answer;
//   - at most Running distinct computations run at once, at most Queued
//     more wait for a turn; beyond that a request is refused with 503 and
//     Retry-After;
//   - each caller (API key or session) may start PerMinute computations a
//     minute (a token bucket holding Burst); beyond that 429 and
//     Retry-After. Answers from the cache or the stored credits are free.
type Limiter struct {
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

// ErrBusy and RateError refuse a computation: the server is busy
// with others (503), or the caller started too many (429).
var ErrBusy = errors.New("attribution: too many computations on request are running or waiting; retry in a few seconds")

type RateError struct{ Retry time.Duration }

func (e *RateError) Error() string {
	return "attribution: too many computations on request from this key; retry in " + strconv.Itoa(RetrySeconds(e.Retry)) + " s or use the default lookback, which the stored credits answer"
}

// RetrySeconds is a wait in whole seconds, at least one: what a
// Retry-After header says.
func RetrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

func (l *Limiter) init() {
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
func (l *Limiter) allow(who string, now time.Time) (time.Duration, bool) {
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
func (l *Limiter) do(ctx context.Context, key string, compute func(context.Context) (*Attribution, error)) (*Attribution, error) {
	l.init()
	ch := l.group.DoChan(key, func() (any, error) {
		select {
		case l.waiting <- struct{}{}:
		default:
			return nil, ErrBusy
		}
		defer func() { <-l.waiting }()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.Timeout)
		defer cancel()
		select {
		case l.slots <- struct{}{}:
		case <-cctx.Done():
			return nil, ErrBusy
		}
		defer func() { <-l.slots }()
		return compute(cctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Attribution), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
