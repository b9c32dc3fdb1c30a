package report_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/report/reviewtest"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func march(s *store.Store) model.Period {
	return model.Period{From: reviewtest.March[0], To: reviewtest.March[1], Cal: model.DefaultCalendar()}
}

// setTargets gives the webinar a target for every metric, in hundredths.
func setTargets(t *testing.T, s *store.Store, id int64, ts map[string]int64) {
	t.Helper()
	var list []model.CampaignTarget
	for k, v := range ts {
		list = append(list, model.CampaignTarget{Metric: k, Value: v})
	}
	if _, _, err := s.SetCampaignTargets(ctx, id, list, nil, reviewtest.Now); err != nil {
		t.Fatal(err)
	}
}

// Every metric of a review against values computed by hand on the
// reviewtest world (see reviewtest.Load), with its target, gap and
// result: ¥318,272 against ¥5,000,000 is −93.63456 %, and the
// lower-is-better metrics are good below their target.
func TestReviewHandComputed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		reviewtest.Load(t, s)
		setTargets(t, s, reviewtest.Webinar, map[string]int64{
			model.MetricLeads: 500, model.MetricMQLs: 300, model.MetricSQLs: 100, model.MetricOpportunities: 200,
			model.MetricInfluencedPipeline: 40000000, model.MetricSourcedPipeline: 50000000, model.MetricWonRevenue: 500000000,
			model.MetricOrders: 200, model.MetricCostPerLead: 60000, model.MetricCostPerMQL: 120000, model.MetricCost: 300000,
			model.MetricROI: 10000, model.MetricFirstFollowUpHours: 150, model.MetricRegistrations: 1000,
			model.MetricAttendance: 300, model.MetricDownloads: 0,
		})
		r := report.Reporter{Store: s}
		rv, err := r.Review(ctx, report.ReviewQuery{Campaign: reviewtest.Webinar, Model: "linear", Period: march(s), Now: reviewtest.Now})
		if err != nil {
			t.Fatal(err)
		}
		roi := (318272.0 - 3000) / 3000
		want := []struct {
			metric         string
			target, actual float64 // in the unit (yuan for CNY)
			gap            *float64
			good           bool
		}{
			{model.MetricLeads, 5, 4, p(-0.2), false},
			{model.MetricMQLs, 3, 3, p(0), true},
			{model.MetricSQLs, 1, 2, p(1), true},
			{model.MetricOpportunities, 2, 1, p(-0.5), false},
			{model.MetricInfluencedPipeline, 400000, 418272, p(18272.0 / 400000), true},
			{model.MetricSourcedPipeline, 500000, 418272, p(-81728.0 / 500000), false},
			{model.MetricWonRevenue, 5000000, 318272, p(-0.9363456), false},
			{model.MetricOrders, 2, 1, p(-0.5), false},
			{model.MetricCostPerLead, 600, 750, p(0.25), false},
			{model.MetricCostPerMQL, 1200, 1000, p(-200.0 / 1200), true},
			{model.MetricCost, 3000, 3000, p(0), true},
			{model.MetricROI, 100, roi, p((roi - 100) / 100), true},
			{model.MetricFirstFollowUpHours, 1.5, 2, p(0.5 / 1.5), false},
			{model.MetricRegistrations, 10, 4, p(-0.6), false},
			{model.MetricAttendance, 3, 3, p(0), true},
			{model.MetricDownloads, 0, 2, nil, true}, // a target of 0: no gap, and 2 ≥ 0
		}
		if len(rv.Metrics) != len(model.ReviewMetrics) {
			t.Fatalf("%d metrics, want the catalogue's %d", len(rv.Metrics), len(model.ReviewMetrics))
		}
		for _, w := range want {
			var got *report.ReviewMetricRow
			for i := range rv.Metrics {
				if rv.Metrics[i].Metric == w.metric {
					got = &rv.Metrics[i]
				}
			}
			if got == nil || got.Target == nil || got.Actual == nil {
				t.Errorf("%s: missing target or actual: %+v", w.metric, got)
				continue
			}
			if math.Abs(got.Target.Value()-w.target) > 1e-9 || math.Abs(got.Actual.Value()-w.actual) > 1e-6 {
				t.Errorf("%s: target %v actual %v, want %v and %v", w.metric, got.Target.Value(), got.Actual.Value(), w.target, w.actual)
			}
			switch {
			case (got.Gap == nil) != (w.gap == nil):
				t.Errorf("%s: gap %v, want %v", w.metric, show(got.Gap), show(w.gap))
			case got.Gap != nil && math.Abs(*got.Gap-*w.gap) > 1e-12:
				t.Errorf("%s: gap %.10f, want %.10f", w.metric, *got.Gap, *w.gap)
			}
			if got.Good == nil || *got.Good != w.good {
				t.Errorf("%s: good %v, want %v", w.metric, got.Good, w.good)
			}
			if got.Explanation == nil {
				t.Errorf("%s: no explanation", w.metric)
			}
		}
		// The headline case exactly as a spreadsheet should have had it.
		for _, m := range rv.Metrics {
			if m.Metric == model.MetricWonRevenue && *m.Gap != (318272.0-5000000)/5000000 {
				t.Errorf("won revenue gap %v, want exactly −0.9363456", *m.Gap)
			}
		}

		// The same figures as the campaigns list shows for the webinar.
		d, err := r.Campaign(ctx, reviewtest.Webinar, "linear", reviewtest.March[0], reviewtest.March[1], "")
		if err != nil {
			t.Fatal(err)
		}
		row := d.Row
		if row.Leads != 4 || row.MQLs != 3 || row.SQLs != 2 || row.Opportunities != 1 || row.Cost != 300000 ||
			row.CreditedRevenue != 31827200 || *row.CPL != 75000 || *row.InfluencedPipeline != 41827200 {
			t.Errorf("campaign figures %+v", row.CampaignFigures)
		}

		// Process.
		pr := rv.Process
		wantSources := []report.ReviewLeadSource{{"webinar", "polyv", 2, 1}, {"employee_sharing", "wecom", 1, 1}, {"paid_social", "tencent", 1, 1}}
		if len(pr.LeadSources) != 3 {
			t.Fatalf("lead sources %+v", pr.LeadSources)
		}
		for i, w := range wantSources {
			if pr.LeadSources[i] != w {
				t.Errorf("lead source %d: %+v, want %+v", i, pr.LeadSources[i], w)
			}
		}
		if len(pr.Customers) != 2 || pr.Customers[0] != (report.ReviewSegment{"existing_customer", 1, 0}) || pr.Customers[1] != (report.ReviewSegment{"new", 5, 4}) {
			t.Errorf("customers %+v, want existing 1 member (P5), new 5 members and 4 leads", pr.Customers)
		}
		if len(pr.Promoters) != 1 || pr.Promoters[0] != (report.ReviewPromoter{UserID: reviewtest.Promoter, Name: "推广员", Email: "p@x.cn", Links: 1, Visits: 2, Visitors: 2, Leads: 1, MQLs: 1}) {
			t.Errorf("promoters %+v", pr.Promoters)
		}
		wantInter := map[[2]string]int64{{"webinar", "webinar_register"}: 4, {"webinar", "webinar_attend"}: 3, {"employee_sharing", "link_click"}: 2,
			{"paid_social", "ad_click"}: 1, {"content", "content_download"}: 1}
		if len(pr.Interactions) != len(wantInter) {
			t.Errorf("interactions %+v", pr.Interactions)
		}
		for _, x := range pr.Interactions {
			if wantInter[[2]string{x.Channel, x.Type}] != x.Touches {
				t.Errorf("interaction %+v, want %d", x, wantInter[[2]string{x.Channel, x.Type}])
			}
		}

		// Results.
		res := rv.Results
		wantFunnel := []int64{4, 3, 2, 1, 1}
		for i, st := range res.Funnel {
			if st.Count != wantFunnel[i] {
				t.Errorf("funnel %s %d, want %d", st.Stage, st.Count, wantFunnel[i])
			}
		}
		if r := res.Funnel[1].Rate; r == nil || *r != 0.75 {
			t.Errorf("lead → MQL rate %v, want 0.75", show(r))
		}
		wantStatus := map[model.Stage]int64{model.StageCustomer: 1, model.StageMQL: 1, model.StageSQL: 1, model.StageLead: 1}
		if len(res.LeadStatus) != 4 {
			t.Errorf("lead status %+v", res.LeadStatus)
		}
		for _, st := range res.LeadStatus {
			if wantStatus[st.Stage] != st.Leads {
				t.Errorf("lead status %s %d", st.Stage, st.Leads)
			}
		}
		if len(res.Opportunities) != 2 || res.Opportunities[0].ID != 1 || res.Opportunities[0].Amount != 31827200 || res.Opportunities[1].ID != 2 ||
			res.Pipeline != 41827200 || res.Opportunities[0].Account != "甲公司" || res.Opportunities[0].Stage != "closed_won" {
			t.Errorf("influenced opportunities %+v, total %v", res.Opportunities, res.Pipeline)
		}
		if len(res.Orders) != 1 || res.Orders[0].ID != 1 || res.Orders[0].OpportunityID != 1 || res.OrderAmount != 31827200 {
			t.Errorf("influenced orders %+v", res.Orders)
		}

		// Follow-up by owner.
		fu := rv.FollowUp
		if fu.SLAHours != 2 || fu.Total.Due != 4 || fu.Total.Breached != 2 || fu.Total.MedianBusinessHours == nil || *fu.Total.MedianBusinessHours != 2 {
			t.Errorf("follow-up %+v", fu.Total)
		}
		if len(fu.Owners) != 2 || *fu.Owners[0].MedianBusinessHours != 2 || *fu.Owners[1].MedianBusinessHours != 3.25 {
			t.Errorf("owners %+v", fu.Owners)
		}

		// Compared with the two earlier webinars, the latest first.
		if len(rv.ComparedWith) != 2 || rv.ComparedWith[0].ID != reviewtest.OldFeb || rv.ComparedWith[1].ID != reviewtest.OldJan ||
			rv.ComparedWith[0].From != "2026-02-01" || rv.ComparedWith[0].To != "2026-03-03" {
			t.Errorf("compared with %+v", rv.ComparedWith)
		}
	})
}

func p(x float64) *float64 { return &x }

// The first explanation of each gap, computed from the hand-built data:
// registrations fell most through the webinar platform against the
// average of the two earlier webinars (6 → 4) and in all 7 → 4; leads
// came through channels the earlier webinars had none of; the cost per
// lead is the same spend over four times the leads; the follow-up median
// is 2 h against a 2 h SLA with both owners breaching it once.
func TestReviewExplanations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		reviewtest.Load(t, s)
		setTargets(t, s, reviewtest.Webinar, map[string]int64{model.MetricRegistrations: 1000, model.MetricLeads: 500,
			model.MetricCostPerLead: 60000, model.MetricFirstFollowUpHours: 150, model.MetricWonRevenue: 500000000})
		r := report.Reporter{Store: s}
		rv, err := r.Review(ctx, report.ReviewQuery{Campaign: reviewtest.Webinar, Model: "linear", Period: march(s), Now: reviewtest.Now})
		if err != nil {
			t.Fatal(err)
		}
		ex := map[string]*report.Explanation{}
		for _, m := range rv.Metrics {
			if m.Target == nil && m.Explanation != nil {
				t.Errorf("%s: explained without a target", m.Metric)
			}
			ex[m.Metric] = m.Explanation
		}
		near := func(a *float64, b float64) bool { return a != nil && math.Abs(*a-b) < 1e-9 }

		e := ex[model.MetricRegistrations]
		if e.Kind != report.ExplainChannelChange || e.Channel != "webinar" || e.Current != 4 || !near(e.Baseline, 6) || !near(e.Change, -1.0/3) ||
			e.TotalCurrent != 4 || !near(e.TotalBaseline, 7) || !near(e.TotalChange, -3.0/7) || e.Channels != 2 || e.Compared != 2 ||
			!near(e.TargetChange, 3.0/7) {
			t.Errorf("registrations: %+v", e)
		}
		e = ex[model.MetricLeads]
		if e.Kind != report.ExplainChannelChange || e.Channel != "employee_sharing" || e.Current != 1 || !near(e.Baseline, 0) || e.Change != nil ||
			e.TotalCurrent != 4 || !near(e.TotalBaseline, 1) || !near(e.TotalChange, 3) {
			t.Errorf("leads: %+v", e)
		}
		e = ex[model.MetricWonRevenue]
		if e.Kind != report.ExplainChannelChange || e.Channel != "webinar" || e.Current != 318272 || e.Change != nil {
			t.Errorf("won revenue: %+v", e)
		}
		e = ex[model.MetricCostPerLead]
		if e.Kind != report.ExplainParts || len(e.Parts) != 2 || e.Parts[0].Figure != "cost" || e.Parts[0].Current != 3000 || !near(e.Parts[0].Baseline, 3000) ||
			!near(e.Parts[0].Change, 0) || e.Parts[1].Figure != "leads" || e.Parts[1].Current != 4 || !near(e.Parts[1].Baseline, 1) || !near(e.Parts[1].Change, 3) {
			t.Errorf("cost per lead: %+v", e)
		}
		e = ex[model.MetricFirstFollowUpHours]
		if e.Kind != report.ExplainFollowUp || e.FollowUp == nil {
			t.Fatalf("follow-up: %+v", e)
		}
		f := e.FollowUp
		if !near(f.MedianHours, 2) || f.SLAHours != 2 || f.Owners != 2 || f.Breaching != 2 || f.Due != 4 || f.Breached != 2 ||
			f.Slowest == nil || f.Slowest.UserID != reviewtest.SalesYi || *f.Slowest.MedianBusinessHours != 3.25 {
			t.Errorf("follow-up: %+v, slowest %+v", f, f.Slowest)
		}

		// The same data, the same words.
		again, err := r.Review(ctx, report.ReviewQuery{Campaign: reviewtest.Webinar, Model: "linear", Period: march(s), Now: reviewtest.Now})
		if err != nil {
			t.Fatal(err)
		}
		for i := range again.Metrics {
			a, b := again.Metrics[i].Explanation, rv.Metrics[i].Explanation
			if (a == nil) != (b == nil) || (a != nil && (a.Kind != b.Kind || a.Channel != b.Channel)) {
				t.Errorf("%s: explanation changed between two reads", rv.Metrics[i].Metric)
			}
		}
	})
}

// A programme's review covers it and every campaign below it: the
// webinar's and the whitepaper's leads (P6), its downloads, its spend;
// and the previous campaign's action items of the same programme show.
func TestReviewProgrammeAndPreviousActions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		reviewtest.Load(t, s)
		r := report.Reporter{Store: s}
		rv, err := r.Review(ctx, report.ReviewQuery{Campaign: reviewtest.Programme, Model: "linear", Period: march(s), Now: reviewtest.Now})
		if err != nil {
			t.Fatal(err)
		}
		if !rv.Programme || len(rv.Scope) != 4 {
			t.Fatalf("programme %v scope %v", rv.Programme, rv.Scope)
		}
		actual := map[string]float64{}
		for _, m := range rv.Metrics {
			if m.Actual != nil {
				actual[m.Metric] = m.Actual.Value()
			}
		}
		if actual[model.MetricLeads] != 5 || actual[model.MetricMQLs] != 3 || actual[model.MetricDownloads] != 3 || actual[model.MetricCost] != 3000 ||
			actual[model.MetricRegistrations] != 4 || actual[model.MetricInfluencedPipeline] != 418272 {
			t.Errorf("programme actuals %v", actual)
		}
		if len(rv.ComparedWith) != 0 {
			t.Errorf("a programme compares with earlier programmes only: %+v", rv.ComparedWith)
		}

		// Last review's action items: of OldFeb, the webinar's predecessor
		// in the programme.
		due := model.DefaultCalendar().EndOfDay(reviewtest.March[0].AddDate(0, 0, 5))
		for i, st := range []model.ActionStatus{model.ActionDone, model.ActionOpen} {
			a := model.CampaignAction{CampaignID: reviewtest.OldFeb, Action: "邀约", OwnerID: reviewtest.SalesJia, Due: reviewtest.March[0].AddDate(0, 0, 5),
				DueAt: due, Status: st, CreatedAt: reviewtest.March[0]}
			if st == model.ActionDone {
				closed := due.Add(-24 * time.Hour)
				a.ClosedAt = &closed
			}
			if _, err := s.CreateCampaignAction(ctx, a, 200); err != nil {
				t.Fatal(i, err)
			}
		}
		rv, err = r.Review(ctx, report.ReviewQuery{Campaign: reviewtest.Webinar, Model: "linear", Period: march(s), Now: reviewtest.Now})
		if err != nil {
			t.Fatal(err)
		}
		if rv.Previous == nil || rv.Previous.ID != reviewtest.OldFeb || len(rv.PreviousActions) != 2 || len(rv.Actions) != 0 {
			t.Fatalf("previous %+v actions %+v", rv.Previous, rv.PreviousActions)
		}
		if !rv.PreviousActions[1].Overdue(reviewtest.Now) || rv.PreviousActions[0].OnTime() == nil || !*rv.PreviousActions[0].OnTime() {
			t.Errorf("previous actions' state: %+v", rv.PreviousActions)
		}
	})
}

// On the demo data a review's actuals are the events dashboard's figures
// for every event (one word, one meaning), its influenced orders are those
// plain SQL finds, and the demo's targets are met on some metrics and
// missed on others.
func TestReviewAgreesWithDashboardsOnDemo(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadDemo(t, s)
		r := report.Reporter{Store: s}
		per := model.Period{From: demoEnd.AddDate(-1, 0, 1), To: demoEnd, Cal: model.DefaultCalendar()}
		ev, err := r.Events(ctx, report.EventsQuery{Period: per, Model: "linear"})
		if err != nil {
			t.Fatal(err)
		}
		met, missed, checked := 0, 0, 0
		for _, e := range ev.Events {
			rv, err := r.Review(ctx, report.ReviewQuery{Campaign: e.ID, Model: "linear", Period: per, Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if rv.Programme {
				continue
			}
			checked++
			a := map[string]float64{}
			for _, m := range rv.Metrics {
				if m.Actual != nil {
					a[m.Metric] = m.Actual.Hundredths
				}
				if m.Good != nil && m.Target != nil {
					if *m.Good {
						met++
					} else {
						missed++
					}
				}
			}
			f := e.EventFigures
			if a[model.MetricLeads] != float64(f.Leads*100) || a[model.MetricMQLs] != float64(f.MQLs*100) || a[model.MetricSQLs] != float64(f.SQLs*100) ||
				a[model.MetricRegistrations] != float64(f.Registrations*100) || a[model.MetricAttendance] != float64(f.Attendances*100) ||
				a[model.MetricInfluencedPipeline] != float64(*f.InfluencedPipeline) || a[model.MetricCost] != float64(f.Cost) ||
				a[model.MetricWonRevenue] != float64(f.WonRevenue) {
				t.Errorf("event %d (%s): review %v, events dashboard %+v", e.ID, e.Code, a, f)
			}
			var orders int64
			w := per.Window()
			if err := s.WriterDB().QueryRowContext(ctx, rebind(s, `SELECT COUNT(*) FROM attribution_conversions v WHERE v.kind = 'order'
				AND v.converted_at >= ? AND v.converted_at < ? AND EXISTS (SELECT 1 FROM attribution_credits c JOIN touchpoints t ON t.id = c.touch_id
				WHERE c.kind = 'order' AND c.conversion_id = v.conversion_id AND t.campaign_id = ?)`), w.From, w.To, e.ID).Scan(&orders); err != nil {
				t.Fatal(err)
			}
			if a[model.MetricOrders] != float64(orders*100) {
				t.Errorf("event %d: %v influenced orders, SQL finds %d", e.ID, a[model.MetricOrders]/100, orders)
			}
		}
		if checked == 0 {
			t.Fatal("no events in the demo: the test checks nothing")
		}
		if met == 0 || missed == 0 {
			t.Errorf("demo targets: %d met, %d missed; want both", met, missed)
		}
	})
}

// rebind numbers the placeholders for PostgreSQL.
func rebind(s *store.Store, q string) string {
	if s.Dialect() != store.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
