package report_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/report/reviewtest"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The period review of March 2026 by hand: of the webinars, only the
// March webinar ran in March (the January and February ones did not), so
// its figures are that review's (reviewtest.Load's comment) against the
// period's own targets — ¥5,000,000 of won revenue against ¥318,272 is
// −93.6 %; of the content channel, the whitepaper alone (one lead, P6);
// of a channel without campaigns, nothing. The targets belong to the
// period and its narrowing, not to any campaign.
func TestPeriodReviewByHand(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		reviewtest.Load(t, s)
		r := report.Reporter{Store: s}
		q := report.PeriodQuery{Period: march(s), Model: "linear", Kind: "webinar", Now: reviewtest.Now}
		ts := []model.CampaignTarget{{Metric: model.MetricWonRevenue, Value: 500_000_000}, {Metric: model.MetricLeads, Value: 800},
			{Metric: model.MetricCostPerLead, Value: 100_000}, {Metric: model.MetricFirstFollowUpHours, Value: 150}}
		got, err := s.SetPeriodTargets(ctx, q.Key(), ts, reviewtest.Now)
		if err != nil || len(got) != 4 || got[0].Metric != model.MetricLeads {
			t.Fatalf("targets %+v %v", got, err)
		}
		pr, err := r.PeriodReview(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if pr.From != "2026-03-01" || pr.To != "2026-03-31" || len(pr.Campaigns) != 1 || pr.Campaigns[0].ID != reviewtest.Webinar {
			t.Fatalf("period %s – %s, campaigns %+v", pr.From, pr.To, pr.Campaigns)
		}
		roi := (318272.0 - 3000) / 3000
		want := map[string]struct {
			target, actual *float64
			gap            *float64
			good           *bool
		}{
			model.MetricLeads:              {p(8), p(4), p(-0.5), b(false)},
			model.MetricMQLs:               {nil, p(3), nil, nil},
			model.MetricSQLs:               {nil, p(2), nil, nil},
			model.MetricOpportunities:      {nil, p(1), nil, nil},
			model.MetricInfluencedPipeline: {nil, p(418272), nil, nil},
			model.MetricSourcedPipeline:    {nil, p(418272), nil, nil},
			model.MetricWonRevenue:         {p(5_000_000), p(318272), p(318272.0/5_000_000 - 1), b(false)},
			model.MetricOrders:             {nil, p(1), nil, nil},
			model.MetricCostPerLead:        {p(1000), p(750), p(-0.25), b(true)},
			model.MetricCostPerMQL:         {nil, p(1000), nil, nil},
			model.MetricCost:               {nil, p(3000), nil, nil},
			model.MetricROI:                {nil, p(roi), nil, nil},
			model.MetricFirstFollowUpHours: {p(1.5), p(2), p(2.0/1.5 - 1), b(false)},
			model.MetricRegistrations:      {nil, p(4), nil, nil},
			model.MetricAttendance:         {nil, p(3), nil, nil},
			model.MetricDownloads:          {nil, p(2), nil, nil},
		}
		if len(pr.Metrics) != len(model.ReviewMetrics) {
			t.Fatalf("%d metrics", len(pr.Metrics))
		}
		for _, m := range pr.Metrics {
			w := want[m.Metric]
			val := func(v *report.MetricValue) *float64 {
				if v == nil {
					return nil
				}
				x := v.Value()
				return &x
			}
			if !closePtr(val(m.Target), w.target, 1e-9) || !closePtr(val(m.Actual), w.actual, 1e-6) || !closePtr(m.Gap, w.gap, 1e-9) ||
				!reflect.DeepEqual(m.Good, w.good) {
				t.Errorf("%s: target %v actual %v gap %v good %v; want %v %v %v %v", m.Metric, pderef(val(m.Target)), pderef(val(m.Actual)),
					pderef(m.Gap), m.Good, pderef(w.target), pderef(w.actual), pderef(w.gap), w.good)
			}
		}
		if g := pr.Metrics[6]; g.Metric != model.MetricWonRevenue || math.Round(*g.Gap*1000)/1000 != -0.936 {
			t.Errorf("won revenue gap %v, want −93.6 %%", pderef(g.Gap))
		}
		// The same period as the campaign's own review: the same actuals.
		rv, err := r.Review(ctx, report.ReviewQuery{Campaign: reviewtest.Webinar, Model: "linear", Period: march(s), Now: reviewtest.Now})
		if err != nil {
			t.Fatal(err)
		}
		for i := range rv.Metrics {
			if !reflect.DeepEqual(rv.Metrics[i].Actual, pr.Metrics[i].Actual) {
				t.Errorf("%s: period %v, campaign review %v", rv.Metrics[i].Metric, pr.Metrics[i].Actual, rv.Metrics[i].Actual)
			}
		}

		// With its facts kept, the same answer, computed and read back.
		keep := report.Reporter{Store: s, KeepFacts: true}
		for i := 0; i < 2; i++ {
			kr, err := keep.PeriodReview(ctx, q)
			if err != nil || !reflect.DeepEqual(kr, pr) {
				t.Errorf("kept, request %d: %+v %v\nwant %+v", i+1, kr, err, pr)
			}
		}

		// The content channel: the whitepaper; no targets of its own.
		pc, err := r.PeriodReview(ctx, report.PeriodQuery{Period: march(s), Model: "linear", Channel: model.ChannelContent, Now: reviewtest.Now})
		if err != nil {
			t.Fatal(err)
		}
		if len(pc.Campaigns) != 1 || pc.Campaigns[0].ID != reviewtest.Paper || pc.Figures.Leads != 1 || pc.Metrics[0].Target != nil {
			t.Errorf("content period: campaigns %+v leads %d targets %v", pc.Campaigns, pc.Figures.Leads, pc.Metrics[0].Target)
		}
		// Email: nothing ran.
		pe, err := r.PeriodReview(ctx, report.PeriodQuery{Period: march(s), Model: "linear", Channel: model.ChannelEmail, Now: reviewtest.Now})
		if err != nil {
			t.Fatal(err)
		}
		if len(pe.Campaigns) != 0 || pe.Figures.Leads != 0 || pe.Metrics[0].Actual == nil || pe.Metrics[0].Actual.Hundredths != 0 {
			t.Errorf("email period %+v", pe)
		}
		// Every campaign of March: the programme, the webinar and the
		// whitepaper (January and February are out).
		pa, err := r.PeriodReview(ctx, report.PeriodQuery{Period: march(s), Model: "linear", Now: reviewtest.Now})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range pa.Campaigns {
			ids = append(ids, c.ID)
		}
		if !sameIDs(ids, []int64{reviewtest.Programme, reviewtest.Webinar, reviewtest.Paper}) || pa.Figures.Leads != 5 {
			t.Errorf("every campaign: %v, leads %d", ids, pa.Figures.Leads)
		}
		// Targets are the period's: another range has none; clearing works.
		other := q
		other.Period.To = time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
		if ts, _ := s.PeriodTargets(ctx, other.Key()); len(ts) != 0 {
			t.Errorf("another period's targets %+v", ts)
		}
		if ts, err := s.SetPeriodTargets(ctx, q.Key(), nil, reviewtest.Now); err != nil || len(ts) != 0 {
			t.Errorf("cleared: %+v %v", ts, err)
		}
		_ = store.PeriodGroupKey{}
	})
}

func b(v bool) *bool { return &v }

func pderef(x *float64) any {
	if x == nil {
		return nil
	}
	return *x
}

func closePtr(a, b *float64, tol float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= tol*math.Max(1, math.Abs(*b))
}

func sameIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[int64]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
