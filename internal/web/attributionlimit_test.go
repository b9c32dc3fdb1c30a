package web

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// Identical requests share one computation and its answer.
func TestLiveAttributionCoalesces(t *testing.T) {
	var l liveLimiter
	var calls atomic.Int32
	release := make(chan struct{})
	want := &attributionResponse{Source: "computed"}
	var wg sync.WaitGroup
	got := make([]*attributionResponse, 8)
	for i := range got {
		wg.Go(func() {
			res, err := l.do(ctx, "same", func(context.Context) (*attributionResponse, error) {
				calls.Add(1)
				<-release
				return want, nil
			})
			if err != nil {
				t.Error(err)
			}
			got[i] = res
		})
	}
	time.Sleep(200 * time.Millisecond) // all eight are waiting on the first
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d computations for 8 identical requests, want 1", n)
	}
	for i, r := range got {
		if r != want {
			t.Fatalf("request %d got %v", i, r)
		}
	}
}

// Distinct computations beyond Running wait in a bounded queue; beyond
// the queue they are refused at once.
func TestLiveAttributionBounded(t *testing.T) {
	l := liveLimiter{Running: 1, Queued: 1}
	var running, peak atomic.Int32
	release := make(chan struct{})
	compute := func(context.Context) (*attributionResponse, error) {
		n := running.Add(1)
		defer running.Add(-1)
		if n > peak.Load() {
			peak.Store(n)
		}
		<-release
		return &attributionResponse{}, nil
	}
	errs := make(chan error, 2)
	for _, key := range []string{"a", "b"} {
		go func() {
			_, err := l.do(ctx, key, compute)
			errs <- err
		}()
		time.Sleep(100 * time.Millisecond)
	}
	start := time.Now()
	if _, err := l.do(ctx, "c", compute); !errors.Is(err, errLiveBusy) {
		t.Fatalf("third distinct computation: %v, want errLiveBusy", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("the refusal waited")
	}
	// A caller that gives up stops waiting.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := l.do(cctx, "a", compute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("impatient caller: %v", err)
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p != 1 {
		t.Fatalf("%d computations ran at once, want at most 1", p)
	}
}

// Each key may start a few computations a minute; the next one is a 429
// with Retry-After, and other keys are not affected.
func TestLiveAttributionRateLimitPerKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		e.srv.attrLimit = liveLimiter{Burst: 2, PerMinute: 1}
		for _, lb := range []string{"10", "11"} {
			decodeJSON(t, e.api(t, "/api/v1/attribution?model=linear&lookback="+lb), http.StatusOK, &map[string]any{})
		}
		// The same request again is answered from the cache: free.
		decodeJSON(t, e.api(t, "/api/v1/attribution?model=linear&lookback=10"), http.StatusOK, &map[string]any{})
		res := e.api(t, "/api/v1/attribution?model=linear&lookback=12")
		var ae apiError
		decodeJSON(t, res, http.StatusTooManyRequests, &ae)
		if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" || ae.Error == "" {
			t.Fatalf("429 without Retry-After (%q) or message %q", ra, ae.Error)
		}
		other := e.marketerKey(t)
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/attribution?model=linear&lookback=12", other, "", ""), http.StatusOK, &map[string]any{})
	})
}
