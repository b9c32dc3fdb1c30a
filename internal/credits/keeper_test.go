package credits

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestKeeperOneAtATime: TryRun refuses while a run holds the keeper and
// runs once it is free; Run waits for it.
func TestKeeperOneAtATime(t *testing.T) {
	k := NewKeeper(nil)
	ctx := context.Background()
	k.mu.Lock() // a run in progress
	if _, err := k.TryRun(ctx, Full, time.Now()); !errors.Is(err, ErrBusy) {
		t.Fatalf("TryRun during a run: %v, want ErrBusy", err)
	}
	done := make(chan error)
	go func() {
		_, err := k.Run(ctx, "sometimes", time.Now()) // fails on the mode, after the wait
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Run did not wait for the running one: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	k.mu.Unlock()
	if err := <-done; err == nil || errors.Is(err, ErrBusy) {
		t.Fatalf("Run after the wait: %v, want the unknown mode's error", err)
	}
	if _, err := k.TryRun(ctx, "sometimes", time.Now()); err == nil || errors.Is(err, ErrBusy) {
		t.Fatalf("TryRun when free: %v, want the unknown mode's error", err)
	}
}
