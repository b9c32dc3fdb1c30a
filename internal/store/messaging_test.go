package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// A cap of 2 a day and 3 a week: the third send within a day is refused
// with the time the first leaves the day; a retried key passes without
// counting twice; an unconfirmed reservation stops counting when it
// expires; a released one at once.
func TestReserveSend(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		limits := []store.SendLimit{{Window: 24 * time.Hour, Max: 2}, {Window: 7 * 24 * time.Hour, Max: 3}}
		hold := 3 * time.Hour
		reserve := func(key string, at time.Time) (bool, time.Time) {
			t.Helper()
			ok, retry, err := s.ReserveSend(ctx, "email", "7", key, limits, at, hold)
			if err != nil {
				t.Fatal(err)
			}
			return ok, retry
		}
		if ok, _ := reserve("a", t0); !ok {
			t.Fatal("first send refused")
		}
		if err := s.ConfirmSend(ctx, "email", "7", "a", "", t0); err != nil {
			t.Fatal(err)
		}
		if ok, _ := reserve("b", t0.Add(time.Hour)); !ok {
			t.Fatal("second send refused")
		}
		if id, sent, err := s.SentBefore(ctx, "email", "a"); err != nil || !sent || id != "" {
			t.Fatalf("a sent before: %q %v %v", id, sent, err)
		}
		if _, sent, err := s.SentBefore(ctx, "email", "b"); err != nil || sent {
			t.Fatalf("b (reserved only) sent before: %v %v", sent, err)
		}
		// b is not confirmed but its reservation holds the slot.
		ok, retry := reserve("c", t0.Add(2*time.Hour))
		if ok || !retry.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("third send in a day: ok %v, retry %v, want refused until %v", ok, retry, t0.Add(24*time.Hour))
		}
		// The same key again (a retry of b) passes.
		if ok, _ := reserve("b", t0.Add(2*time.Hour)); !ok {
			t.Fatal("retry of a reserved key refused")
		}
		// Another person is not capped by person 7's sends.
		if ok, _, err := s.ReserveSend(ctx, "email", "8", "c8", limits, t0.Add(2*time.Hour), hold); err != nil || !ok {
			t.Fatalf("person 8: %v %v", ok, err)
		}
		// b's reservation expires unconfirmed: c fits.
		if ok, _ := reserve("c", t0.Add(time.Hour+hold+time.Second)); !ok {
			t.Fatal("expired reservation still counted")
		}
		if err := s.ConfirmSend(ctx, "email", "7", "c", "", t0.Add(time.Hour+hold+time.Second)); err != nil {
			t.Fatal(err)
		}
		// Next day: a and c are in the week (2), a left the day; d fits
		// the day and fills the week.
		d1 := t0.Add(25 * time.Hour)
		if ok, _ := reserve("d", d1); !ok {
			t.Fatal("next day refused")
		}
		if err := s.ReleaseSend(ctx, "email", "d"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := reserve("e", d1); !ok {
			t.Fatal("released reservation still counted")
		}
		if err := s.ConfirmSend(ctx, "email", "7", "e", "", d1); err != nil {
			t.Fatal(err)
		}
		ok, retry = reserve("f", d1.Add(time.Hour))
		if ok || !retry.Equal(t0.Add(7*24*time.Hour)) {
			t.Fatalf("week full: ok %v retry %v, want %v", ok, retry, t0.Add(7*24*time.Hour))
		}
		if n, err := s.PruneSends(ctx, t0.Add(30*24*time.Hour)); err != nil || n != 5 {
			t.Fatalf("pruned %d, %v; want 5 (a, b, c, e of person 7, c8 of person 8)", n, err)
		}
	})
}

// Concurrent reservers of one person with a cap of 1: exactly one passes.
func TestReserveSendConcurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var passed atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := s.ReserveSend(ctx, "wecom", "42", "k"+string(rune('a'+i)), []store.SendLimit{{Window: 24 * time.Hour, Max: 1}}, now, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					passed.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := passed.Load(); n != 1 {
			t.Fatalf("%d of 16 concurrent reservers passed a cap of 1", n)
		}
	})
}

// The WeCom token: one claim at a time, a claim only on the token seen,
// expiry only of the token still stored.
func TestWeComTokenClaims(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		if tok, err := s.WeComToken(ctx, "corp/1"); err != nil || tok.Sealed != "" || !tok.ExpiresAt.IsZero() {
			t.Fatalf("empty: %+v %v", tok, err)
		}
		if ok, err := s.ClaimWeComRefresh(ctx, "corp/1", "", now, now.Add(30*time.Second)); err != nil || !ok {
			t.Fatalf("first claim: %v %v", ok, err)
		}
		if ok, err := s.ClaimWeComRefresh(ctx, "corp/1", "", now.Add(time.Second), now.Add(31*time.Second)); err != nil || ok {
			t.Fatalf("second claim while the first is alive: %v %v", ok, err)
		}
		if err := s.SaveWeComToken(ctx, "corp/1", "v1:AAA", now.Add(2*time.Hour), now); err != nil {
			t.Fatal(err)
		}
		tok, err := s.WeComToken(ctx, "corp/1")
		if err != nil || tok.Sealed != "v1:AAA" || !tok.ExpiresAt.Equal(now.Add(2*time.Hour)) || !tok.RefreshingUntil.IsZero() {
			t.Fatalf("saved: %+v %v", tok, err)
		}
		// A claim made on an older view (no token) fails: the token changed.
		if ok, _ := s.ClaimWeComRefresh(ctx, "corp/1", "", now, now.Add(time.Minute)); ok {
			t.Fatal("claim on a stale view taken")
		}
		// Expiring another token keeps this one.
		if err := s.ExpireWeComToken(ctx, "corp/1", "v1:OLD"); err != nil {
			t.Fatal(err)
		}
		if tok, _ := s.WeComToken(ctx, "corp/1"); tok.ExpiresAt.IsZero() {
			t.Fatal("expired a token that was not the stored one")
		}
		if err := s.ExpireWeComToken(ctx, "corp/1", "v1:AAA"); err != nil {
			t.Fatal(err)
		}
		if tok, _ := s.WeComToken(ctx, "corp/1"); !tok.ExpiresAt.IsZero() {
			t.Fatal("stored token not expired")
		}
		// An expired claim is taken over.
		if ok, _ := s.ClaimWeComRefresh(ctx, "corp/1", "v1:AAA", now, now.Add(time.Second)); !ok {
			t.Fatal("claim refused")
		}
		if ok, _ := s.ClaimWeComRefresh(ctx, "corp/1", "v1:AAA", now.Add(2*time.Second), now.Add(time.Minute)); !ok {
			t.Fatal("dead claim not taken over")
		}
	})
}

func TestMessagePersonAndMembers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		uid, err := s.CreateUser(ctx, model.User{Email: "li@example.cn", Name: "Li", Role: model.RoleSales})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetWeComMember(ctx, 999, "x", now); err != store.ErrNotFound {
			t.Fatalf("unknown user: %v", err)
		}
		if err := s.SetWeComMember(ctx, uid, "LiLei", now); err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO accounts (id, name, created_at) VALUES (3, 'Acme', ?)`, []any{now}},
			{`INSERT INTO persons (id, account_id, name, email, stage, owner_id, traits, first_seen_at, created_at) VALUES (5, 3, 'Wang', 'wang@acme.cn', 'mql', ?, '{"plan":"pro"}', ?, ?)`, []any{uid, now, now}},
			{`INSERT INTO identities (type, value, person_id, created_at) VALUES ('wecom_external_userid', 'wmEXT1', 5, ?)`, []any{now}},
		} {
			if err := s.ExecForTest(ctx, q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		p, err := s.MessagePerson(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != 5 || p.Email != "wang@acme.cn" || p.AccountName != "Acme" || p.OwnerMember != "LiLei" || p.ExternalUserID != "wmEXT1" || string(p.Traits) != `{"plan":"pro"}` {
			t.Fatalf("person: %+v", p)
		}
		if _, err := s.MessagePerson(ctx, 6); err != store.ErrNotFound {
			t.Fatalf("unknown person: %v", err)
		}
		ms, err := s.WeComMembers(ctx)
		if err != nil || len(ms) != 1 || ms[0].MemberID != "LiLei" || ms[0].Email != "li@example.cn" {
			t.Fatalf("members: %+v %v", ms, err)
		}
		if err := s.SetWeComMember(ctx, uid, "", now); err != nil {
			t.Fatal(err)
		}
		if ms, _ := s.WeComMembers(ctx); len(ms) != 0 {
			t.Fatalf("removed member listed: %+v", ms)
		}
	})
}
