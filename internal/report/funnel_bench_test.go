package report

import (
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store/storetest"
)

// BenchmarkFunnel measures the funnel figures over a real database, e.g.
// the demo's:
//
//	go build -o /tmp/lc ./cmd/revloop && /tmp/lc demo --no-serve --db /tmp/life-demo/demo.db
//	REVLOOP_BENCH_DB=/tmp/life-demo/demo.db go test ./internal/report/ -run '^$' -bench Funnel -benchtime 5x
func BenchmarkFunnel(b *testing.B) {
	s := storetest.BenchDB(b)
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
