package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestLeases(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		inner := errors.New("unset")
		err := s.WithLease(ctx, "credits", func(ctx context.Context) error {
			// Held: a second run of the same name does not start; another
			// name does.
			inner = s.WithLease(ctx, "credits", func(context.Context) error {
				t.Error("a second holder ran")
				return nil
			})
			return s.WithLease(ctx, "scoring", func(context.Context) error { return nil })
		})
		if err != nil || !errors.Is(inner, store.ErrLeaseHeld) {
			t.Fatalf("outer %v, inner %v", err, inner)
		}
		// Released: the next run takes it; fn's error comes back.
		boom := errors.New("boom")
		if err := s.WithLease(ctx, "credits", func(context.Context) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("second run: %v", err)
		}
		// A lease whose holder died (it expired) is taken over.
		if _, err := s.WriterDB().ExecContext(ctx, rebind(s, "INSERT INTO leases (name, holder, expires_at) VALUES ('routing', 'dead', ?)"),
			time.Now().Add(-time.Second).UTC()); err != nil {
			t.Fatal(err)
		}
		ran := false
		if err := s.WithLease(ctx, "routing", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
			t.Fatalf("expired lease: ran %v, %v", ran, err)
		}
		// One that has not expired is not.
		if _, err := s.WriterDB().ExecContext(ctx, rebind(s, "INSERT INTO leases (name, holder, expires_at) VALUES ('predict', 'alive', ?)"),
			time.Now().Add(time.Minute).UTC()); err != nil {
			t.Fatal(err)
		}
		if err := s.WithLease(ctx, "predict", func(context.Context) error { return nil }); !errors.Is(err, store.ErrLeaseHeld) {
			t.Fatalf("live lease of another holder: %v", err)
		}
	})
}

// rebind writes a query's ? placeholders as $1, $2, ... for PostgreSQL.
func rebind(s *store.Store, q string) string {
	if s.Dialect() != store.Postgres {
		return q
	}
	var b []byte
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b = append(b, '$')
			b = append(b, []byte(strconv.Itoa(n))...)
			continue
		}
		b = append(b, q[i])
	}
	return string(b)
}
