package report

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// BenchmarkDashboards measures the marketing and advertising dashboards,
// and each read they make, over a real database, e.g. the demo's:
//
//	go build -o /tmp/rl ./cmd/revloop && /tmp/rl demo --no-serve --scale 5 --end 2026-11-30 --db /tmp/dash.db
//	REVLOOP_BENCH_DB=/tmp/dash.db go test ./internal/report/ -run '^$' -bench Dashboards -benchtime 20x
func BenchmarkDashboards(b *testing.B) {
	s := storetest.BenchDB(b)
	cal, err := s.Calendar(ctx)
	if err != nil {
		b.Fatal(err)
	}
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if v := os.Getenv("REVLOOP_BENCH_END"); v != "" {
		if end, err = time.Parse(time.DateOnly, v); err != nil {
			b.Fatal(err)
		}
	}
	year := DashQuery{Period: model.Period{From: end.AddDate(-1, 0, 1), To: end, Cal: cal}, Today: end, Model: attribution.Linear}
	month := year
	month.Period.From = end.AddDate(0, -1, 1)
	rq := store.RollupQuery{From: year.Period.From, To: end}
	win := year.window()
	for name, fn := range map[string]func() error{
		"marketing/year":     func() error { _, err := LoadMarketing(ctx, s, year, Cohort); return err },
		"marketing/month":    func() error { _, err := LoadMarketing(ctx, s, month, Period); return err },
		"ads/year":           func() error { _, err := LoadAds(ctx, s, AdsQuery{DashQuery: year}); return err },
		"ads/baidu-month":    func() error { _, err := LoadAds(ctx, s, AdsQuery{DashQuery: month, Platform: "baidu"}); return err },
		"read/opportunities": func() error { _, err := s.OpportunityBuckets(ctx, monthBounds(cal, year.Period.From, end)); return err },
		"read/new-customers": func() error { _, err := s.NewCustomers(ctx, win); return err },
		"read/splits":        func() error { _, err := s.ConversionSplits(ctx, win, model.ConvOpportunity, model.ConvWon); return err },
		"read/costs":         func() error { _, err := s.SumCosts(ctx, withBy(rq, store.DimMonth, store.DimChannel)); return err },
		"read/leads":         func() error { _, err := s.SumLeads(ctx, withBy(rq, store.DimMonth, store.DimChannel)); return err },
		"read/stages":        func() error { _, err := s.SumStages(ctx, withBy(rq, store.DimStage)); return err },
		"read/credits": func() error {
			q := withBy(rq, store.DimKind, store.DimChannel)
			q.Kinds = []model.ConversionKind{model.ConvOpportunity, model.ConvWon}
			_, err := s.SumCredits(ctx, q, "linear")
			return err
		},
		"read/influence": func() error {
			q := withBy(rq, store.DimKind)
			q.Kinds = []model.ConversionKind{model.ConvOpportunity, model.ConvWon}
			_, err := s.SumInfluence(ctx, q, store.DimChannel)
			return err
		},
	} {
		b.Run(name, func(b *testing.B) {
			// CPU time per call beside the wall time: on a busy machine the
			// wall time includes waiting for a core.
			cpu0 := cpuTime()
			for b.Loop() {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
