package report

import (
	"os"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

// BenchmarkLift measures the cohort lift of campaigns of the demo — the
// brand event (a month's window), the largest conference and an always-on
// campaign (a year's window, every active person in the baseline) — over
// a real database, e.g. the scale-10 demo's:
//
//	go build -o /tmp/rl ./cmd/revloop && /tmp/rl demo --no-serve --scale 10 --end 2026-11-30 --db /tmp/s10.db
//	REVLOOP_BENCH_DB=/tmp/s10.db go test ./internal/report/ -run '^$' -bench Lift -benchtime 5x
func BenchmarkLift(b *testing.B) {
	s := storetest.BenchDB(b)
	cal, err := s.Calendar(ctx)
	if err != nil {
		b.Fatal(err)
	}
	r := Reporter{Store: s}
	codes := []string{"evt-retail-expo", "evt-user-conf", "bd-brand"}
	if v := os.Getenv("REVLOOP_BENCH_LIFT"); v != "" {
		codes = []string{v}
	}
	for _, code := range codes {
		c, err := s.CampaignByCode(ctx, code)
		if err != nil {
			b.Fatalf("campaign %s: %v", code, err)
		}
		b.Run(code, func(b *testing.B) {
			cpu0 := cpuTime()
			var l *Lift
			for b.Loop() {
				if l, err = r.Lift(ctx, c.ID, LiftQuery{FollowDays: DefaultLiftFollowDays, Period: model.Period{Cal: cal}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(l.Cohort.Persons), "cohort")
			b.ReportMetric(float64(l.Baseline.Persons), "baseline")
			b.ReportMetric(float64(len(l.Strata)), "strata")
		})
	}
}
