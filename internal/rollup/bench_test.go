package rollup_test

import (
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// benchStore opens REVLOOP_BENCH_DB: a database with data, e.g. a copy of
// the demo's (the benchmarks rewrite its roll-ups):
//
//	go build -o /tmp/rl ./cmd/revloop && /tmp/rl demo --no-serve --end 2026-11-25 --db /tmp/ru/demo.db
//	REVLOOP_BENCH_DB=/tmp/ru/demo.db go test ./internal/rollup -run '^$' -bench . -benchtime 5x
func benchStore(b *testing.B) *store.Store { return storetest.BenchDB(b) }

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

// BenchmarkReaders measures what dashboards ask of the roll-ups, over the
// last 12 months of the data (REVLOOP_BENCH_DB as for BenchmarkRefresh;
// the roll-ups are refreshed first).
func BenchmarkReaders(b *testing.B) {
	s := benchStore(b)
	refreshB(b, s)
	cal, err := s.Calendar(ctx)
	if err != nil {
		b.Fatal(err)
	}
	days, err := s.SumTouches(ctx, store.RollupQuery{By: []store.RollupDim{store.DimDay}})
	if err != nil || len(days) == 0 {
		b.Fatalf("no touches rolled up: %v", err)
	}
	last := days[len(days)-1].Day
	year := model.Period{From: last.AddDate(-1, 0, 1), To: last, Cal: cal}
	q := func(by ...store.RollupDim) store.RollupQuery {
		return store.RollupQuery{From: year.From, To: year.To, By: by}
	}
	r := report.Reporter{Store: s}
	cases := []struct {
		name string
		run  func() error
	}{
		{"touches/by-channel", func() error { _, err := s.SumTouches(ctx, q(store.DimChannel)); return err }},
		{"touches/by-day-and-channel", func() error { _, err := s.SumTouches(ctx, q(store.DimDay, store.DimChannel)); return err }},
		{"touches/by-campaign-and-month", func() error { _, err := s.SumTouches(ctx, q(store.DimCampaign, store.DimMonth)); return err }},
		{"touches/of-one-campaign-by-keyword", func() error {
			qq := q(store.DimKeyword)
			qq.Campaigns = []int64{1}
			_, err := s.SumTouches(ctx, qq)
			return err
		}},
		{"leads/by-channel", func() error { _, err := s.SumLeads(ctx, q(store.DimChannel)); return err }},
		{"leads/by-campaign-and-month", func() error { _, err := s.SumLeads(ctx, q(store.DimCampaign, store.DimMonth)); return err }},
		{"stages/by-stage-and-month", func() error { _, err := s.SumStages(ctx, q(store.DimStage, store.DimMonth)); return err }},
		{"credits/linear-by-channel", func() error {
			qq := q(store.DimChannel)
			qq.Kinds = []model.ConversionKind{model.ConvOpportunity}
			_, err := s.SumCredits(ctx, qq, "linear")
			return err
		}},
		{"credits/w-shaped-by-campaign-and-kind", func() error {
			_, err := s.SumCredits(ctx, q(store.DimCampaign, store.DimKind), "w_shaped")
			return err
		}},
		{"influence/by-campaign", func() error {
			qq := q()
			qq.Kinds = []model.ConversionKind{model.ConvOpportunity}
			_, err := s.SumInfluence(ctx, qq, store.DimCampaign)
			return err
		}},
		{"costs/by-campaign-and-month", func() error { _, err := s.SumCosts(ctx, q(store.DimCampaign, store.DimMonth)); return err }},
		{"report/funnel-cohort", func() error { _, err := r.StageFunnel(ctx, year, report.Cohort); return err }},
		{"report/funnel-period", func() error { _, err := r.StageFunnel(ctx, year, report.Period); return err }},
		{"report/channels", func() error { _, _, err := r.Channels(ctx, year); return err }},
		{"report/channels-all-time", func() error { _, _, err := r.Channels(ctx, model.Period{Cal: cal}); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
