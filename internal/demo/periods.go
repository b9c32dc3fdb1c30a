package demo

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
)

// Period reviews in the demo: the last quarter ended before the demo's
// day gets targets of its own — for all campaigns and for the webinars —
// set around what happened, some met and some missed, as seedReviews sets
// the campaigns'. Read back from the loaded data, so as deterministic.

// periodTargetMetrics and periodFactors: which metrics the demo's
// quarters have targets for, and how far from what happened (below 1
// met, above 1 missed, as reviewFactors).
var (
	periodTargetMetrics = []string{model.MetricLeads, model.MetricMQLs, model.MetricWonRevenue, model.MetricCostPerLead,
		model.MetricRegistrations, model.MetricInfluencedPipeline}
	periodFactors = []float64{1.2, 0.9, 1.6, 0.85, 1.05, 0.75}
)

func seedPeriods(ctx context.Context, s *store.Store, asOf time.Time) error {
	cal := model.DefaultCalendar()
	today := cal.Day(asOf)
	first := time.Date(today.Year(), time.Month((int(today.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0)
	last := first.AddDate(0, 3, -1)
	r := report.Reporter{Store: s}
	for i, kind := range []string{"", "webinar"} {
		q := report.PeriodQuery{Period: model.Period{From: first, To: last, Cal: cal}, Model: string(attribution.Linear), Kind: kind, Now: asOf}
		pr, err := r.PeriodReview(ctx, q)
		if err != nil {
			return fmt.Errorf("period review %s: %w", kind, err)
		}
		var ts []model.CampaignTarget
		for j, key := range periodTargetMetrics {
			m, _ := model.ReviewMetricByKey(key)
			for _, row := range pr.Metrics {
				if row.Metric != key || row.Actual == nil || row.Actual.Hundredths <= 0 {
					continue
				}
				f := periodFactors[(i+j)%len(periodFactors)]
				v := row.Actual.Hundredths * f
				if m.Direction == model.LowerBetter {
					v = row.Actual.Hundredths / f
				}
				ts = append(ts, model.CampaignTarget{Metric: key, Value: int64(math.Max(100, math.Round(v/100)*100))})
			}
		}
		if _, err := s.SetPeriodTargets(ctx, q.Key(), ts, asOf); err != nil {
			return fmt.Errorf("period targets %s: %w", kind, err)
		}
	}
	return nil
}
