package report

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
)

var ctx = context.Background()

// Identical requests share one computation and its answer.
func TestLiveAttributionCoalesces(t *testing.T) {
	var l Limiter
	var calls atomic.Int32
	release := make(chan struct{})
	want := &Attribution{Source: "computed"}
	var wg sync.WaitGroup
	got := make([]*Attribution, 8)
	for i := range got {
		wg.Go(func() {
			res, err := l.do(ctx, "same", func(context.Context) (*Attribution, error) {
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
	l := Limiter{Running: 1, Queued: 1}
	var running, peak atomic.Int32
	release := make(chan struct{})
	compute := func(context.Context) (*Attribution, error) {
		n := running.Add(1)
		defer running.Add(-1)
		if n > peak.Load() {
			peak.Store(n)
		}
		<-release
		return &Attribution{}, nil
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
	if _, err := l.do(ctx, "c", compute); !errors.Is(err, ErrBusy) {
		t.Fatalf("third distinct computation: %v, want ErrBusy", err)
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

func TestRoundFen(t *testing.T) {
	rows := []*AttributionRow{{fen: 10000.0 / 3}, {fen: 10000.0 / 3}, {fen: 10000.0 / 3}, {fen: 0}}
	roundFen(rows, 10000)
	var sum model.Money
	for _, r := range rows {
		sum += r.Value
	}
	if sum != 10000 || rows[0].Value+rows[1].Value+rows[2].Value != 10000 || rows[3].Value != 0 {
		t.Errorf("rounded: %v %v %v %v", rows[0].Value, rows[1].Value, rows[2].Value, rows[3].Value)
	}
	rows = []*AttributionRow{{fen: 0.5}, {fen: 0.5}, {fen: 0.5}, {fen: 0.5}}
	roundFen(rows, 2)
	if rows[0].Value+rows[1].Value+rows[2].Value+rows[3].Value != 2 {
		t.Errorf("halves: %v", rows)
	}
}
