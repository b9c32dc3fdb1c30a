package store_test

import (
	"strings"
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

func TestProcessingBacklog(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_b"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.ProcessingBacklog(ctx)
		if err != nil || b.Events != 0 || b.Oldest != nil {
			t.Fatalf("empty store: %+v %v", b, err)
		}
		t0 := time.Date(2026, 4, 1, 2, 3, 4, 5000, time.UTC)
		ev := func(id string, received time.Time) model.Event {
			return model.Event{WriteKeyID: kid, MessageID: id, Type: model.EventTrack, Name: "Signed Up", AnonymousID: "a1",
				Timestamp: received, ReceivedAt: received, Payload: []byte(`{}`)}
		}
		// Stored out of order: the oldest is found by receipt time, not by id.
		if _, err := s.AppendEvents(ctx, []model.Event{ev("m1", t0.Add(time.Minute)), ev("m2", t0), ev("m3", t0.Add(2*time.Minute))}); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			process string // message ids marked processed before the check
			events  int64
			oldest  time.Time
		}{
			{"", 3, t0},
			{"'m2'", 2, t0.Add(time.Minute)},
			{"'m1', 'm3'", 0, time.Time{}},
		}
		for _, st := range steps {
			if st.process != "" {
				if err := s.ExecForTest(ctx, "UPDATE events SET processed_at = ? WHERE message_id IN ("+st.process+")", t0); err != nil {
					t.Fatal(err)
				}
			}
			b, err := s.ProcessingBacklog(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if b.Events != st.events || (b.Oldest == nil) != st.oldest.IsZero() || (b.Oldest != nil && !b.Oldest.Equal(st.oldest)) {
				t.Errorf("after processing %s: %d events, oldest %v; want %d, %v", st.process, b.Events, b.Oldest, st.events, st.oldest)
			}
		}
		// One index serves the query: the table itself is never read.
		plan, err := s.PlanForTest(ctx, "SELECT COUNT(*), MIN(received_at) FROM events WHERE processed_at IS NULL")
		if err != nil {
			t.Fatal(err)
		}
		want := "COVERING INDEX events_unprocessed"
		if s.Dialect() == store.Postgres {
			want = "events_unprocessed"
		}
		if !strings.Contains(plan, want) {
			t.Errorf("plan does not use %s:\n%s", want, plan)
		}
		// The processor's next batch still comes from it, in id order.
		plan, err = s.PlanForTest(ctx, "SELECT id, payload FROM events WHERE processed_at IS NULL ORDER BY id LIMIT 100")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "events_unprocessed") || strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort") {
			t.Errorf("next unprocessed events not read in index order:\n%s", plan)
		}
	})
}
