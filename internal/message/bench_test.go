package message_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// BenchmarkGate: Allow and Record of one capped message (consent read,
// cap check and reservation, confirmation), over 1,000 persons.
func BenchmarkGate(b *testing.B) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(engine.name, func(b *testing.B) {
			s := engine.open(b)
			ctx := context.Background()
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			const persons = 1000
			for id := 1; id <= persons; id++ {
				if _, err := s.WriterDB().ExecContext(ctx, rebindB(s, `INSERT INTO persons (id, stage, first_seen_at, created_at) VALUES (?, 'lead', ?, ?)`), id, now, now); err != nil {
					b.Fatal(err)
				}
				if _, err := s.SetConsents(ctx, int64(id), []model.ConsentSet{{Channel: "email", Status: model.ConsentGranted}}, "bench", now); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.SetSetting(ctx, message.SettingCaps, json.RawMessage(`{"email":{"per_day":100,"per_week":700}}`)); err != nil {
				b.Fatal(err)
			}
			g := message.NewGate(s)
			b.ResetTimer()
			for i := range b.N {
				r := message.Request{Key: fmt.Sprintf("b%d", i), Channel: "email", PersonID: int64(i%persons + 1), Now: now.Add(time.Duration(i) * time.Millisecond)}
				ok, _, err := g.Allow(ctx, r)
				if err != nil || !ok {
					b.Fatalf("%d: %v %v", i, ok, err)
				}
				if err := g.Record(ctx, r, message.Result{Status: message.Sent}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func rebindB(s *store.Store, q string) string {
	if s.Dialect() != store.Postgres {
		return q
	}
	out, n := []byte{}, 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, fmt.Sprintf("$%d", n)...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
