package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestIngestEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_ingest"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 4, 1, 2, 3, 4, 5000, time.UTC)
		sent := now.Add(-time.Second)
		ev := func(id string, n int) model.Event {
			e := model.Event{WriteKeyID: kid, MessageID: id, Type: model.EventPage, Name: fmt.Sprint("p", n), AnonymousID: "a1",
				Timestamp: now, ReceivedAt: now, IP: "1.2.3.0", Bot: n%2 == 0, Source: "baidu", ClickIDType: "bd_vid", ClickID: "9",
				Payload: []byte(fmt.Sprintf(`{"n":%d}`, n))}
			if n == 1 {
				e.SentAt = &sent
			}
			return e
		}
		// More rows than one multi-row statement holds, with a duplicate
		// inside the group: the first copy wins.
		var batch []model.Event
		for i := range 450 {
			batch = append(batch, ev(fmt.Sprint("m", i), i))
		}
		batch = append(batch, ev("m1", 999))
		n, err := s.IngestEvents(ctx, batch)
		if err != nil || n != 450 {
			t.Fatalf("ingest: %d %v", n, err)
		}
		n, err = s.IngestEvents(ctx, []model.Event{ev("m3", 3), ev("m450", 450)})
		if err != nil || n != 1 {
			t.Fatalf("retry: %d %v", n, err)
		}
		if c, _ := s.CountEvents(ctx); c != 451 {
			t.Fatalf("stored %d events", c)
		}
		got, err := s.EventByMessageID(ctx, kid, "m1")
		if err != nil {
			t.Fatal(err)
		}
		want := ev("m1", 1)
		want.ID = got.ID
		want.Timestamp, want.ReceivedAt = now.Truncate(time.Microsecond), now.Truncate(time.Microsecond)
		if got.Name != "p1" || string(got.Payload) != `{"n":1}` || got.SentAt == nil || !got.SentAt.Equal(sent) ||
			!got.Timestamp.Equal(want.Timestamp) || got.Bot || got.Source != "baidu" || got.ClickID != "9" || got.IP != "1.2.3.0" {
			t.Fatalf("read back %+v", got)
		}
		list, err := s.CollectedEvents(ctx, kid, 0, 1000)
		if err != nil || len(list) != 451 || list[0].MessageID != "m0" || list[450].MessageID != "m450" || !list[0].Bot {
			t.Fatalf("list: %d %v", len(list), err)
		}
		if _, err := s.EventByMessageID(ctx, kid, "nope"); err != store.ErrNotFound {
			t.Fatalf("missing event: %v", err)
		}
	})
}
