package demo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
)

// Campaign reviews (复盘) in the demo: the webinars, the exhibitions and
// the webinar series get targets for the review metrics that have no
// column of their own — set the way a team plans them, around what
// happened, some too ambitious and some too cautious, so that a review
// finds targets both met and missed — and two past webinar reviews left
// action items: done on time, done late, dropped, and one still open past
// its due day. Everything is read back from the loaded data, so it is as
// deterministic as the data.

// reviewFactors are how far from what happened a target was set: below 1
// the target is met (a higher-is-better target set lower, a lower-is-better
// one higher), above 1 it is missed.
var reviewFactors = []float64{0.8, 1.25, 0.95, 1.5, 1.1, 0.7}

// reviewTargetMetrics are the metrics the demo sets targets for beside
// the campaign's own target columns.
var reviewTargetMetrics = []string{model.MetricSQLs, model.MetricInfluencedPipeline, model.MetricSourcedPipeline, model.MetricOrders,
	model.MetricCostPerLead, model.MetricCost, model.MetricROI, model.MetricFirstFollowUpHours, model.MetricRegistrations,
	model.MetricAttendance, model.MetricDownloads}

func seedReviews(ctx context.Context, s *store.Store, asOf time.Time) error {
	all, err := s.AllCampaigns(ctx)
	if err != nil {
		return err
	}
	cal := model.DefaultCalendar()
	today := cal.Day(asOf)
	var picks []model.Campaign
	for _, c := range all {
		started := !c.StartDate.IsZero() && !c.StartDate.After(today)
		if started && (c.Kind == "webinar" || c.Kind == "exhibition" || c.Code == "prog-webinar") {
			picks = append(picks, c)
		}
	}
	r := report.Reporter{Store: s}
	for i, c := range picks {
		rv, err := r.Review(ctx, report.ReviewQuery{Campaign: c.ID, Model: string(attribution.Linear),
			Period: model.Period{From: c.StartDate, To: today, Cal: cal}, Now: asOf})
		if err != nil {
			return fmt.Errorf("review of %s: %w", c.Code, err)
		}
		targets, _, err := s.CampaignTargets(ctx, c.ID)
		if err != nil {
			return err
		}
		for j, key := range reviewTargetMetrics {
			m, _ := model.ReviewMetricByKey(key)
			var actual *report.MetricValue
			for _, row := range rv.Metrics {
				if row.Metric == key {
					actual = row.Actual
				}
			}
			if actual == nil || actual.Hundredths <= 0 {
				continue
			}
			f := reviewFactors[(i+j)%len(reviewFactors)]
			v := actual.Hundredths * f
			if m.Direction == model.LowerBetter {
				v = actual.Hundredths / f
			}
			if key == model.MetricFirstFollowUpHours {
				v = 200 // the SLA the team promised: two business hours
			}
			// Whole counts and yuan; hours and ratios to two decimals.
			step := 100.0
			if m.Unit == model.UnitHours || m.Unit == model.UnitRatio {
				step = 1
			}
			targets = append(targets, model.CampaignTarget{Metric: key, Value: int64(math.Max(step, math.Round(v/step)*step))})
		}
		if _, _, err := s.SetCampaignTargets(ctx, c.ID, targets, nil, asOf); err != nil {
			return fmt.Errorf("targets of %s: %w", c.Code, err)
		}
	}
	return seedActions(ctx, s, all, cal, asOf)
}

// demoAction is an action item of a past review, in days after it.
type demoAction struct {
	action, success, finding, owner string
	due                             int // days after the review
	status                          model.ActionStatus
	closed                          int // days after the review it was closed
}

// pastReviews are the action items two webinar reviews decided on: that of
// the second webinar of the year and that of the fourth.
var pastReviews = [][]demoAction{
	{
		{"邀约名单提前两周锁定零售、制造重点行业客户", "重点行业报名占比 ≥ 40%", model.MetricRegistrations, eventOps, 14, model.ActionDone, 11},
		{"直播结束后 24 小时内把 MQL 分配给 SDR 并电话跟进", "首次跟进中位数 ≤ 2 小时", model.MetricFirstFollowUpHours, sdrStaff[0].email, 7, model.ActionDone, 12},
		{"在朋友圈广告中测试新的报名落地页", "报名转化率提升 20%", model.MetricCostPerLead, adOps, 21, model.ActionDropped, 10},
	},
	{
		{"为高意向观众（观看 30 分钟以上）安排一对一产品演示", "至少 10 场演示", model.MetricOpportunities, "zhou.xiaoming", 10, model.ActionDone, 9},
		{"把直播回放拆成 3 篇公众号文章持续获客", "文章带来 ≥ 50 条线索", model.MetricLeads, contentOps, 20, model.ActionOpen, 0},
		{"复盘未到场报名者，补发回放并邀约下一场", "下一场到场率 ≥ 45%", model.MetricAttendance, eventOps, 12, model.ActionDone, 15},
	},
}

// seedActions records the past reviews' action items on the second and
// fourth webinars of the year, reviewed three days after each ended.
func seedActions(ctx context.Context, s *store.Store, all []model.Campaign, cal model.Calendar, asOf time.Time) error {
	users, err := s.Users(ctx, "")
	if err != nil {
		return err
	}
	byLocal := map[string]int64{}
	for _, u := range users {
		byLocal[u.Email[:max(0, len(u.Email)-len(userDomain)-1)]] = u.ID
	}
	var webinars []model.Campaign
	for _, c := range all {
		if c.Kind == "webinar" && !c.StartDate.IsZero() {
			webinars = append(webinars, c)
		}
	}
	slices.SortFunc(webinars, func(a, b model.Campaign) int { return a.StartDate.Compare(b.StartDate) })
	for k, which := range []int{1, 3} {
		if which >= len(webinars) {
			continue
		}
		c := webinars[which]
		review := lastDay(c).AddDate(0, 0, 3)
		reviewAt := cal.Start(review).Add(15 * time.Hour) // 15:00, the afternoon after
		for _, a := range pastReviews[k] {
			owner := byLocal[a.owner]
			due := review.AddDate(0, 0, a.due)
			if owner == 0 || !cal.EndOfDay(due).Before(asOf) {
				continue // not in this dataset, or due after its last day
			}
			act := model.CampaignAction{CampaignID: c.ID, Action: a.action, OwnerID: owner, Due: due, DueAt: cal.EndOfDay(due).UTC(),
				Success: a.success, Finding: a.finding, Status: a.status, CreatedBy: marketingHead + "@" + userDomain, CreatedAt: reviewAt}
			if a.status != model.ActionOpen {
				closed := cal.Start(review.AddDate(0, 0, a.closed)).Add(18 * time.Hour).UTC()
				if !closed.Before(asOf) {
					act.Status = model.ActionOpen
				} else {
					act.ClosedAt = &closed
				}
			}
			if _, err := s.CreateCampaignAction(ctx, act, 200); err != nil {
				return fmt.Errorf("action item of %s: %w", c.Code, err)
			}
		}
	}
	return nil
}

// lastDay is a campaign's last day: its end, or its start without one.
func lastDay(c model.Campaign) time.Time {
	if c.EndDate.IsZero() || c.EndDate.Before(c.StartDate) {
		return c.StartDate
	}
	return c.EndDate
}
