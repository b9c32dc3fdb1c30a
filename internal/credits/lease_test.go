package credits

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestOneRecomputationAtATime: while a recomputation holds the lease (on
// this node or another), another does nothing and says so.
func TestOneRecomputationAtATime(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		err := s.WithLease(ctx, LeaseName, func(ctx context.Context) error {
			_, err := Recompute(ctx, s, Full, time.Now())
			if !errors.Is(err, store.ErrLeaseHeld) {
				t.Errorf("a recomputation during another: %v, want ErrLeaseHeld", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Recompute(ctx, s, Full, time.Now()); err != nil {
			t.Fatalf("once free: %v", err)
		}
		if _, err := Recompute(ctx, s, "sometimes", time.Now()); err == nil {
			t.Fatal("an unknown mode was accepted")
		}
	})
}
