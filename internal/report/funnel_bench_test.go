package report

import (
	"os"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
)

// BenchmarkFunnel measures the funnel figures over a real database, e.g.
// the demo's:
//
//	go build -o /tmp/lc ./cmd/revloop && /tmp/lc demo --no-serve --db /tmp/life-demo/demo.db
//	REVLOOP_BENCH_DB=/tmp/life-demo/demo.db go test ./internal/lifecycle/ -run '^$' -bench Funnel -benchtime 5x
func BenchmarkFunnel(b *testing.B) {
	dsn := os.Getenv("REVLOOP_BENCH_DB")
	if dsn == "" {
		b.Skip("set REVLOOP_BENCH_DB to a migrated database (the demo's)")
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for _, by := range []string{ByNone, ByChannel, ByCampaign} {
		b.Run("read/"+by, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.FunnelChanges(ctx, by == ByChannel, by == ByCampaign); err != nil {
					b.Fatal(err)
				}
				if _, err := s.FunnelOpportunities(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("month/"+by, func(b *testing.B) {
			for b.Loop() {
				if _, err := LoadFunnel(ctx, s, FunnelQuery{Period: PeriodMonth, By: by, Now: now}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
