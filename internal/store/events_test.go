package store_test

import (
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestAppendEventsIsIdempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_1"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 4, 1, 2, 3, 4, 5000, time.UTC)
		ev := func(id string) model.Event {
			return model.Event{WriteKeyID: kid, MessageID: id, Type: model.EventTrack, Name: "Signed Up", AnonymousID: "a1",
				Timestamp: now, ReceivedAt: now, Payload: []byte(`{"event":"Signed Up"}`)}
		}
		n, err := s.AppendEvents(ctx, []model.Event{ev("m1"), ev("m2"), ev("m1")})
		if err != nil || n != 2 {
			t.Fatalf("first append: %d %v", n, err)
		}
		n, err = s.AppendEvents(ctx, []model.Event{ev("m2"), ev("m3")})
		if err != nil || n != 1 {
			t.Fatalf("retry: %d %v", n, err)
		}
		if c, _ := s.CountEvents(ctx); c != 3 {
			t.Fatalf("stored %d events", c)
		}
		if _, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "dup", Key: "wk_1"}); err != store.ErrDuplicate {
			t.Fatalf("duplicate key: %v", err)
		}
		if err := s.RevokeWriteKey(ctx, kid, now); err != nil {
			t.Fatal(err)
		}
		k, err := s.WriteKeyByKey(ctx, "wk_1")
		if err != nil || k.RevokedAt == nil || !k.RevokedAt.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("revoked key: %+v %v", k, err)
		}
	})
}

func TestSettings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		var v struct{ AnonymiseIP bool }
		if ok, err := s.Setting(ctx, "collector", &v); ok || err != nil {
			t.Fatalf("missing setting: %v %v", ok, err)
		}
		for _, want := range []bool{true, false} {
			if err := s.SetSetting(ctx, "collector", struct{ AnonymiseIP bool }{want}); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.Setting(ctx, "collector", &v); !ok || err != nil || v.AnonymiseIP != want {
				t.Fatalf("setting: %v %v %+v", ok, err, v)
			}
		}
	})
}
