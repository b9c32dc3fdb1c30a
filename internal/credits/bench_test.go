package credits_test

import (
	"testing"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/store/storetest"
)

// BenchmarkRecompute measures credit runs over a real database, e.g. a copy
// of the demo's (the runs rewrite its stored credits):
//
//	go build -o /tmp/rl ./cmd/revloop && /tmp/rl demo --no-serve --end 2026-11-25 --db /tmp/cr/demo.db
//	REVLOOP_BENCH_DB=/tmp/cr/demo.db go test ./internal/credits -run '^$' -bench Recompute -benchtime 3x
//
// "full" recomputes every kind; "incremental/nothing" finds nothing to do;
// "incremental/20" recomputes after the amounts of 20 opportunities changed.
func BenchmarkRecompute(b *testing.B) {
	s := storetest.BenchDB(b)
	now := time.Now()
	run := func(b *testing.B, mode credits.Mode) credits.Stats {
		st, err := credits.Recompute(ctx, s, mode, now)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			st := run(b, credits.Full)
			b.ReportMetric(float64(st.Credits), "credits")
		}
	})
	b.Run("incremental/nothing", func(b *testing.B) {
		run(b, credits.Incremental)
		for b.Loop() {
			run(b, credits.Incremental)
		}
	})
	b.Run("incremental/20", func(b *testing.B) {
		run(b, credits.Incremental)
		for b.Loop() {
			b.StopTimer()
			if _, err := s.WriterDB().ExecContext(ctx, `UPDATE opportunities SET amount_fen = amount_fen + 1
				WHERE id IN (SELECT id FROM opportunities ORDER BY id LIMIT 20)`); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if st := run(b, credits.Incremental); st.Conversions < 20 {
				b.Fatalf("%d conversions recomputed, want at least 20", st.Conversions)
			}
		}
	})
}
