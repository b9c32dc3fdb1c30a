package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ErrLeaseHeld is returned by WithLease when another holder has the lease.
var ErrLeaseHeld = errors.New("held by another run")

// LeaseTTL is how long a lease lasts without renewal. A holder renews it
// every third of that; a node that died frees its leases after at most
// this long.
const LeaseTTL = time.Minute

// WithLease runs fn while holding the lease name, on every node that
// shares the database: one run of a kind at a time (two credit runs at
// once would write the same credits twice). When another holder has it,
// fn does not run and the error is ErrLeaseHeld. The lease is renewed
// while fn runs; if a renewal finds it lost (the database was unreachable
// for longer than LeaseTTL and another node took it), fn's context is
// cancelled. The lease is released when fn returns.
func (s *Store) WithLease(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	holder := newHolder()
	ok, err := s.acquireLease(ctx, name, holder)
	if err != nil {
		return fmt.Errorf("lease %s: %w", name, err)
	}
	if !ok {
		return fmt.Errorf("lease %s: %w", name, ErrLeaseHeld)
	}
	work, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				kept, err := s.renewLease(work, name, holder)
				if err == nil && !kept {
					cancel(fmt.Errorf("lease %s: lost to another run", name))
					return
				}
			}
		}
	}()
	err = fn(work)
	close(done)
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	// A failed release is not an error: the lease expires by itself.
	_, _ = s.w.ExecContext(rctx, s.q("DELETE FROM leases WHERE name = ? AND holder = ?"), name, holder)
	if cause := context.Cause(work); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return errors.Join(err, cause)
	}
	return err
}

func newHolder() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// acquireLease takes the lease when it is free or expired.
func (s *Store) acquireLease(ctx context.Context, name, holder string) (bool, error) {
	now := utc(time.Now())
	res, err := s.w.ExecContext(ctx, s.q(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.expires_at < ?`), name, holder, now.Add(LeaseTTL), now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// renewLease extends a lease its holder still has; false when it lost it.
func (s *Store) renewLease(ctx context.Context, name, holder string) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?"),
		utc(time.Now()).Add(LeaseTTL), name, holder)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// WithLeaseWait is WithLease that waits up to patience for the lease
// when another run holds it, looking again every quarter second.
func (s *Store) WithLeaseWait(ctx context.Context, name string, patience time.Duration, fn func(ctx context.Context) error) error {
	deadline := time.Now().Add(patience)
	for {
		err := s.WithLease(ctx, name, fn)
		if !errors.Is(err, ErrLeaseHeld) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
