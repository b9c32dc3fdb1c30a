package rollup_test

import (
	"os"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
)

// benchStore opens REVLOOP_BENCH_DB: a database with data, e.g. a copy of
// the demo's (the benchmarks rewrite its roll-ups):
//
//	go build -o /tmp/rl ./cmd/revloop && /tmp/rl demo --no-serve --end 2026-11-25 --db /tmp/ru/demo.db
//	REVLOOP_BENCH_DB=/tmp/ru/demo.db go test ./internal/rollup -run '^$' -bench . -benchtime 5x
func benchStore(b *testing.B) *store.Store {
	dsn := os.Getenv("REVLOOP_BENCH_DB")
	if dsn == "" {
		b.Skip("set REVLOOP_BENCH_DB to a database with data (the demo's)")
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

func refreshB(b *testing.B, s *store.Store) rollup.Result {
	res, err := rollup.Refresh(ctx, s, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkRefresh: "full" rebuilds every roll-up (as after a time zone
// change); "nothing" finds nothing to do; "merge" follows one merge of
// two persons by hand (their touches, stage history and leads);
// "credits" follows an incremental credit run that rewrote 20
// opportunities.
func BenchmarkRefresh(b *testing.B) {
	s := benchStore(b)
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if _, err := s.WriterDB().ExecContext(ctx, `DELETE FROM rollup_state`); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res := refreshB(b, s)
			b.ReportMetric(float64(res.Rows), "rows")
		}
	})
	b.Run("nothing", func(b *testing.B) {
		refreshB(b, s)
		for b.Loop() {
			if res := refreshB(b, s); res.Changed() {
				b.Fatalf("nothing changed, yet %+v", res)
			}
		}
	})
	b.Run("merge", func(b *testing.B) {
		refreshB(b, s)
		var pairs [][2]int64
		err := eachRow(s, `SELECT a.id, b.id FROM persons a JOIN persons b ON b.account_id = a.account_id AND b.id > a.id
			WHERE a.merged_into_id IS NULL AND b.merged_into_id IS NULL AND a.lead_at IS NOT NULL AND b.lead_at IS NOT NULL ORDER BY a.id, b.id LIMIT 2000`,
			func(scan func(...any) error) error {
				var p [2]int64
				if err := scan(&p[0], &p[1]); err != nil {
					return err
				}
				pairs = append(pairs, p)
				return nil
			})
		if err != nil {
			b.Fatal(err)
		}
		used := map[int64]bool{}
		for b.Loop() {
			b.StopTimer()
			for len(pairs) > 0 && (used[pairs[0][0]] || used[pairs[0][1]]) {
				pairs = pairs[1:]
			}
			if len(pairs) == 0 {
				b.Fatal("no persons left to merge")
			}
			p := pairs[0]
			used[p[0]], used[p[1]] = true, true
			if _, err := s.MergePersons(ctx, p[0], p[1], "benchmark", "bench"); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res := refreshB(b, s)
			b.ReportMetric(float64(res.Rows), "rows")
		}
	})
	b.Run("credits", func(b *testing.B) {
		refreshB(b, s)
		for b.Loop() {
			b.StopTimer()
			convs, rows, err := s.StoredCreditsOf(ctx, model.ConvOpportunity)
			if err != nil {
				b.Fatal(err)
			}
			batch := store.CreditBatch{Kind: model.ConvOpportunity, At: time.Now()}
			keep := map[int64]bool{}
			for _, c := range convs[:min(20, len(convs))] {
				keep[c.ID] = true
				batch.Conversions = append(batch.Conversions, c)
			}
			for _, r := range rows {
				if keep[r.ConversionID] {
					batch.Credits = append(batch.Credits, r)
				}
			}
			if err := s.WriteCredits(ctx, batch); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res := refreshB(b, s)
			b.ReportMetric(float64(res.Rows), "rows")
		}
	})
}

// eachRow runs a query on the writer with the store's placeholders
// already in it (none here).
func eachRow(s *store.Store, q string, fn func(scan func(...any) error) error) error {
	rows, err := s.WriterDB().QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
