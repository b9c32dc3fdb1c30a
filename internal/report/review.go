package report

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/routing"
	"github.com/revloop/revloop/internal/store"
)

// Campaign reviews (复盘, docs/reviews.md): a campaign's — or a
// programme's, with every campaign below it — targets against what
// happened in a range under a model, the gap of each and whether it is
// good, a first explanation of each gap computed from the data, and the
// process and result figures a team goes through. Every actual is one of
// the words of docs/metrics.md: the campaign figures of the campaigns
// list, the sales follow-up figures, the events' registrations and
// attendances, the content's downloads.

// HistoryCampaigns is how many earlier campaigns of the same kind a gap
// is compared with.
const HistoryCampaigns = 3

// ReviewQuery selects a review.
type ReviewQuery struct {
	Campaign int64
	Model    string       // a stored attribution model (credits.Models)
	Period   model.Period // team days, both included
	Now      time.Time
	Router   *routing.Router // the SLA of first follow-up; nil: the stored rules
}

// ReviewCampaign names a campaign of a review.
type ReviewCampaign struct {
	ID        int64         `json:"id"`
	Code      string        `json:"code"`
	Name      string        `json:"name"`
	NameEN    string        `json:"name_en"`
	Kind      string        `json:"kind"`
	Channel   model.Channel `json:"channel"`
	StartDate *string       `json:"start_date"`
	EndDate   *string       `json:"end_date"`
	// From and To are the days its figures cover: the review's range, or
	// for an earlier campaign compared with, as many days from its start.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

func reviewCampaign(c model.Campaign) ReviewCampaign {
	return ReviewCampaign{ID: c.ID, Code: c.Code, Name: c.Name, NameEN: c.NameEN, Kind: c.Kind, Channel: c.Channel,
		StartDate: calendarDayPtr(c.StartDate), EndDate: calendarDayPtr(c.EndDate)}
}

// MetricValue is a value of a review metric, held in hundredths of its
// unit (fen for CNY) so that targets are exact; JSON gives it in the unit
// (yuan with two decimals, a whole count, hours, a ratio).
type MetricValue struct {
	Unit       model.MetricUnit
	Hundredths float64
}

// Value is the value in its unit (yuan for CNY).
func (v MetricValue) Value() float64 { return v.Hundredths / 100 }

// MarshalJSON writes the value as a number in its unit.
func (v MetricValue) MarshalJSON() ([]byte, error) {
	if math.IsNaN(v.Hundredths) || math.IsInf(v.Hundredths, 0) {
		return []byte("null"), nil
	}
	switch v.Unit {
	case model.UnitCNY:
		return []byte(model.Money(math.Round(v.Hundredths)).String()), nil
	case model.UnitRatio:
		return json.Marshal(math.Round(v.Hundredths*100) / 1e4)
	}
	return json.Marshal(math.Round(v.Hundredths) / 100)
}

// ReviewMetricRow is one metric of a review: its target (nil: none), its
// actual (nil: unknown, e.g. a cost per lead without leads), the gap
// (actual − target) ÷ target, whether that is good in the metric's
// direction, and the first explanation of a metric with a target.
type ReviewMetricRow struct {
	Metric      string                `json:"metric"`
	Direction   model.MetricDirection `json:"direction"`
	Unit        model.MetricUnit      `json:"unit"`
	Target      *MetricValue          `json:"target"`
	Actual      *MetricValue          `json:"actual"`
	Gap         *float64              `json:"gap"`
	Good        *bool                 `json:"good"`
	Explanation *Explanation          `json:"explanation"`
}

// ReviewLeadSource is the campaign's leads of one channel and source.
type ReviewLeadSource struct {
	Channel string `json:"channel"`
	Source  string `json:"source"`
	Leads   int64  `json:"leads"`
	MQLs    int64  `json:"mqls"`
}

// ReviewSegment is the members (and leads) of existing customers or of
// everyone else.
type ReviewSegment struct {
	Segment string `json:"segment"` // existing_customer or new
	Members int64  `json:"members"`
	Leads   int64  `json:"leads"`
}

// ReviewPromoter is one employee's sharing of the campaign (全员营销).
type ReviewPromoter struct {
	UserID   int64  `json:"user_id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Links    int64  `json:"links"`
	Visits   int64  `json:"visits"`
	Visitors int64  `json:"visitors"`
	Leads    int64  `json:"leads"`
	MQLs     int64  `json:"mqls"`
}

// ReviewInteraction is the touches of the campaign of one channel and type.
type ReviewInteraction struct {
	Channel string `json:"channel"`
	Type    string `json:"type"`
	Touches int64  `json:"touches"`
}

// ReviewProcess is how the campaign ran.
type ReviewProcess struct {
	LeadSources  []ReviewLeadSource  `json:"lead_sources"`
	Customers    []ReviewSegment     `json:"customers"`
	Promoters    []ReviewPromoter    `json:"promoters"`
	Interactions []ReviewInteraction `json:"interactions"`
}

// ReviewStageCount is how many of the campaign's leads are in a stage now.
type ReviewStageCount struct {
	Stage model.Stage `json:"stage"`
	Leads int64       `json:"leads"`
}

// ReviewDeal is an influenced opportunity or order.
type ReviewDeal struct {
	ID            int64       `json:"id"`
	Name          string      `json:"name,omitempty"`
	Account       string      `json:"account"`
	Stage         string      `json:"stage,omitempty"`
	Amount        model.Money `json:"amount"`
	At            time.Time   `json:"at"`
	OpportunityID int64       `json:"opportunity_id,omitempty"`
}

// ReviewResults is what the campaign brought. The lists of deals hold
// the MaxReviewDeals largest; the counts and amounts are of them all.
type ReviewResults struct {
	LeadStatus       []ReviewStageCount `json:"lead_status"`
	Funnel           []FunnelStage      `json:"funnel"`
	Opportunities    []ReviewDeal       `json:"influenced_opportunities"`
	OpportunityCount int                `json:"influenced_opportunity_count"`
	Pipeline         model.Money        `json:"influenced_pipeline"`
	Orders           []ReviewDeal       `json:"influenced_orders"`
	OrderCount       int                `json:"influenced_order_count"`
	OrderAmount      model.Money        `json:"influenced_order_amount"`
	DealsTruncated   bool               `json:"deals_truncated"`
}

// MaxReviewDeals bounds the influenced opportunities (and orders) a review
// lists.
const MaxReviewDeals = 500

// Review is a campaign review.
type Review struct {
	Campaign ReviewCampaign `json:"campaign"`
	// Programme says the figures are the campaign's own plus those of
	// every campaign below it (Scope).
	Programme bool              `json:"programme"`
	Scope     []int64           `json:"scope"`
	Model     string            `json:"model"`
	From      string            `json:"from"`
	To        string            `json:"to"`
	Currency  string            `json:"currency"`
	Version   int64             `json:"version"` // the campaign's, for a targets edit
	Metrics   []ReviewMetricRow `json:"metrics"`
	// ComparedWith are the earlier campaigns of the same kind the
	// explanations compare with, the latest first.
	ComparedWith []ReviewCampaign `json:"compared_with"`
	SLA          string           `json:"sla_first_follow_up"`
	Process      ReviewProcess    `json:"process"`
	Results      ReviewResults    `json:"results"`
	// Actions are this campaign's action items; PreviousActions those of
	// Previous, the latest earlier campaign of the same programme (or,
	// outside one, of the same kind) that has any.
	Actions         []model.CampaignAction `json:"-"`
	Previous        *ReviewCampaign        `json:"previous_campaign"`
	PreviousActions []model.CampaignAction `json:"-"`
	// FollowUp are the first-follow-up figures of the campaign's leads,
	// by owner.
	FollowUp CampaignFollowUp `json:"follow_up"`
}

// CampaignFollowUp is the sales follow-up of a campaign's leads: the
// assignments of the leads (of the range) that count as due by now
// (CountsAsDue), against the SLA, in all and by owner.
type CampaignFollowUp struct {
	SLAHours float64         `json:"sla_hours"`
	Total    SLAFigures      `json:"total"`
	Owners   []FollowUpOwner `json:"owners"`
}

// FollowUpOwner is one owner's share of a campaign's follow-up.
type FollowUpOwner struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	SLAFigures
}

// ErrNotReviewable is a review asked of a model without stored credits.
var ErrNotReviewable = errors.New("model has no stored credits")

// Review builds a campaign's review.
func (r Reporter) Review(ctx context.Context, q ReviewQuery) (*Review, error) {
	col, ok := credits.Column(attribution.Model(q.Model))
	if !ok {
		return nil, fmt.Errorf("attribution model %q: %w", q.Model, ErrNotReviewable)
	}
	firstCol, _ := credits.Column(attribution.First)
	c, err := r.Store.CampaignByID(ctx, q.Campaign)
	if err != nil {
		return nil, err
	}
	all, err := r.Store.AllCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	tree := newCampaignTree(all)
	scope := tree.subtree(c.ID)
	targets, version, err := r.Store.CampaignTargets(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	rv := &Review{Campaign: reviewCampaign(c), Programme: len(scope) > 1, Scope: scope, Model: q.Model,
		From: calendarDay(q.Period.From), To: calendarDay(q.Period.To), Currency: "CNY", Version: version,
		ComparedWith: []ReviewCampaign{}}
	rv.Campaign.From, rv.Campaign.To = rv.From, rv.To

	// The campaign's figures as the campaigns list has them: its own row,
	// or its programme subtotal.
	table, err := r.Campaigns(ctx, attribution.Model(q.Model), q.Period.From, q.Period.To, CampaignFilter{Archived: true})
	if err != nil {
		return nil, err
	}
	var fig CampaignFigures
	rows := table.Rows
	if rv.Programme {
		rows = table.Programmes
	}
	for _, row := range rows {
		if row.ID == c.ID {
			fig = row.CampaignFigures
		}
	}

	cur, err := r.scopeFacts(ctx, scope, q.Period, store.CreditColumns[col], store.CreditColumns[firstCol])
	if err != nil {
		return nil, err
	}
	win := q.Period.Window()
	leads, err := r.Store.CampaignLeads(ctx, scope, win)
	if err != nil {
		return nil, fmt.Errorf("review: leads: %w", err)
	}
	rv.FollowUp, rv.SLA, err = r.campaignFollowUp(ctx, q, leads)
	if err != nil {
		return nil, err
	}

	actual := reviewActuals(fig, cur, rv.FollowUp)

	// What the gaps are compared with.
	hist, err := r.history(ctx, c, tree, q, store.CreditColumns[col], store.CreditColumns[firstCol])
	if err != nil {
		return nil, err
	}
	for _, h := range hist {
		rv.ComparedWith = append(rv.ComparedWith, h.campaign)
	}

	rv.Metrics = reviewMetricRows(actual, targets, cur, hist, rv.FollowUp)

	rv.Process, err = r.reviewProcess(ctx, scope, win, leads, cur)
	if err != nil {
		return nil, err
	}
	rv.Results = reviewResults(leads, fig, cur)

	if rv.Actions, err = r.Store.CampaignActions(ctx, []int64{c.ID}); err != nil {
		return nil, err
	}
	if prev := previousCampaigns(c, all, tree); len(prev) > 0 {
		ids := make([]int64, len(prev))
		for i, p := range prev {
			ids[i] = p.ID
		}
		acts, err := r.Store.CampaignActions(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, p := range prev { // the latest first: the first with actions
			var mine []model.CampaignAction
			for _, a := range acts {
				if a.CampaignID == p.ID {
					mine = append(mine, a)
				}
			}
			if len(mine) > 0 {
				pc := reviewCampaign(p)
				rv.Previous, rv.PreviousActions = &pc, mine
				break
			}
		}
	}
	return rv, nil
}

// reviewActuals are a review's actuals, in hundredths of each metric's
// unit: from the campaigns' figures as the campaigns list has them, the
// scope's facts and the follow-up. A metric without a value is absent.
func reviewActuals(fig CampaignFigures, cur *scopeFacts, fu CampaignFollowUp) map[string]*float64 {
	actual := map[string]*float64{}
	set := func(key string, v float64) { actual[key] = &v }
	count := func(key string, n int64) { set(key, float64(n)*100) }
	count(model.MetricLeads, fig.Leads)
	count(model.MetricMQLs, fig.MQLs)
	count(model.MetricSQLs, fig.SQLs)
	count(model.MetricOpportunities, fig.Opportunities)
	set(model.MetricInfluencedPipeline, float64(cur.influencedPipeline))
	set(model.MetricSourcedPipeline, float64(roundedFen(sum(cur.sourced))))
	set(model.MetricWonRevenue, float64(fig.CreditedRevenue))
	count(model.MetricOrders, int64(len(cur.orders)))
	if fig.CPL != nil {
		set(model.MetricCostPerLead, float64(*fig.CPL))
	}
	if cpm := perMQL(fig.Cost, fig.MQLs); cpm != nil {
		set(model.MetricCostPerMQL, float64(*cpm))
	}
	set(model.MetricCost, float64(fig.Cost))
	if fig.ROI != nil {
		set(model.MetricROI, *fig.ROI*100)
	}
	if m := fu.Total.MedianBusinessHours; m != nil {
		set(model.MetricFirstFollowUpHours, *m*100)
	}
	count(model.MetricRegistrations, isum(cur.registrations))
	count(model.MetricAttendance, isum(cur.attendance))
	count(model.MetricDownloads, isum(cur.downloads))
	return actual
}

// reviewMetricRows is the target/actual/gap table of the catalogue's
// metrics, each gap with its first explanation.
func reviewMetricRows(actual map[string]*float64, targets []model.CampaignTarget, cur *scopeFacts, hist []historyFacts, fu CampaignFollowUp) []ReviewMetricRow {
	target := map[string]int64{}
	for _, t := range targets {
		target[t.Metric] = t.Value
	}
	var out []ReviewMetricRow
	for _, m := range model.ReviewMetrics {
		row := ReviewMetricRow{Metric: m.Key, Direction: m.Direction, Unit: m.Unit}
		if a := actual[m.Key]; a != nil {
			row.Actual = &MetricValue{Unit: m.Unit, Hundredths: *a}
		}
		if t, ok := target[m.Key]; ok {
			row.Target = &MetricValue{Unit: m.Unit, Hundredths: float64(t)}
			row.Gap = model.Gap(float64(t), actual[m.Key])
			row.Good = model.Good(m.Direction, float64(t), actual[m.Key])
			row.Explanation = explain(m, float64(t)/100, row.Good, cur, hist, fu)
		}
		out = append(out, row)
	}
	return out
}

// perMQL is spend ÷ MQLs rounded to the fen, as CPL is; nil without MQLs.
func perMQL(cost model.Money, mqls int64) *model.Money {
	if mqls <= 0 {
		return nil
	}
	v := model.Money(math.Round(float64(cost) / float64(mqls)))
	return &v
}

func sum(m map[string]float64) float64 {
	var t float64
	for _, k := range sortedKeys(m) {
		t += m[k]
	}
	return t
}

func isum(m map[string]int64) int64 {
	var t int64
	for _, v := range m {
		t += v
	}
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// campaignTree is the campaigns by parent.
type campaignTree struct {
	byID     map[int64]model.Campaign
	children map[int64][]int64
}

func newCampaignTree(all []model.Campaign) campaignTree {
	t := campaignTree{byID: map[int64]model.Campaign{}, children: map[int64][]int64{}}
	for _, c := range all {
		t.byID[c.ID] = c
	}
	for _, c := range all {
		if _, ok := t.byID[c.ParentID]; ok && c.ParentID != c.ID {
			t.children[c.ParentID] = append(t.children[c.ParentID], c.ID)
		}
	}
	return t
}

// subtree is a campaign and every campaign below it, by id.
func (t campaignTree) subtree(id int64) []int64 {
	seen := map[int64]bool{}
	var walk func(id int64)
	walk = func(id int64) {
		if seen[id] {
			return
		}
		seen[id] = true
		for _, ch := range t.children[id] {
			walk(ch)
		}
	}
	walk(id)
	out := make([]int64, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// previousCampaigns are the campaigns a review looks back at for last
// review's actions: of the same programme (parent) when the campaign has
// one, else of the same kind (sameKind); started before it; the latest
// first.
func previousCampaigns(c model.Campaign, all []model.Campaign, tree campaignTree) []model.Campaign {
	if c.StartDate.IsZero() {
		return nil
	}
	var out []model.Campaign
	for _, p := range all {
		if p.ID == c.ID || p.StartDate.IsZero() || !p.StartDate.Before(c.StartDate) {
			continue
		}
		if c.ParentID != 0 {
			if p.ParentID != c.ParentID {
				continue
			}
		} else if programme := len(tree.children[c.ID]) > 0; len(tree.children[p.ID]) > 0 != programme || !sameKind(c, p, programme) {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b model.Campaign) int {
		return cmp.Or(b.StartDate.Compare(a.StartDate), cmp.Compare(b.ID, a.ID))
	})
	return out
}

// campaignFollowUp is the first follow-up of the campaign's leads: their
// assignments that count as due by now, against the SLA, in all and by
// owner (docs/metrics.md, "Sales follow-up").
func (r Reporter) campaignFollowUp(ctx context.Context, q ReviewQuery, leads []store.CampaignLead) (CampaignFollowUp, string, error) {
	rt := q.Router
	if rt == nil {
		rt = &routing.Router{Store: r.Store}
	}
	rs, err := rt.Rules(ctx)
	if err != nil {
		return CampaignFollowUp{}, "", err
	}
	out := CampaignFollowUp{Owners: []FollowUpOwner{}}
	if d, err := time.ParseDuration(rs.SLA.FirstFollowUp); err == nil {
		out.SLAHours = d.Hours()
	}
	ids := make([]int64, len(leads))
	for i, l := range leads {
		ids[i] = l.PersonID
	}
	as, err := r.Store.AssignmentsOfPersons(ctx, ids)
	if err != nil {
		return out, "", fmt.Errorf("review: assignments: %w", err)
	}
	clock := rs.Clock()
	owners := map[int64]*FollowUpOwner{}
	for _, a := range as {
		due := DueOf(a)
		if !CountsAsDue(due, q.Now) {
			continue
		}
		within, hours := FirstFollowUp(due, clock)
		o := owners[a.UserID]
		if o == nil {
			o = &FollowUpOwner{UserID: a.UserID, Name: a.UserName, Email: a.UserEmail}
			owners[a.UserID] = o
		}
		out.Total.add(within, hours)
		o.add(within, hours)
	}
	out.Total.finish()
	for _, o := range owners {
		o.finish()
		out.Owners = append(out.Owners, *o)
	}
	slices.SortFunc(out.Owners, func(a, b FollowUpOwner) int { return cmp.Compare(a.UserID, b.UserID) })
	return out, rs.SLA.FirstFollowUp, nil
}

// reviewProcess builds the process tables.
func (r Reporter) reviewProcess(ctx context.Context, scope []int64, win model.Window, leads []store.CampaignLead, cur *scopeFacts) (ReviewProcess, error) {
	p := ReviewProcess{LeadSources: []ReviewLeadSource{}, Customers: []ReviewSegment{}, Promoters: []ReviewPromoter{}, Interactions: []ReviewInteraction{}}
	type srcKey struct{ ch, src string }
	src := map[srcKey]*ReviewLeadSource{}
	mql := model.StageMQL.Rank()
	for _, l := range leads {
		k := srcKey{l.Channel, l.Source}
		if src[k] == nil {
			src[k] = &ReviewLeadSource{Channel: l.Channel, Source: l.Source}
		}
		src[k].Leads++
		if l.Reached.Rank() >= mql {
			src[k].MQLs++
		}
	}
	for _, s := range src {
		p.LeadSources = append(p.LeadSources, *s)
	}
	slices.SortFunc(p.LeadSources, func(a, b ReviewLeadSource) int {
		return cmp.Or(cmp.Compare(b.Leads, a.Leads), cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Source, b.Source))
	})

	// New and existing customers: members whose account had a deal won or
	// an order placed by their first touch of the campaign in the range;
	// leads whose account had one by the time they became leads.
	members, err := r.Store.CampaignMemberFacts(ctx, scope, win)
	if err != nil {
		return p, fmt.Errorf("review: members: %w", err)
	}
	var accounts []int64
	for _, m := range members {
		accounts = append(accounts, m.AccountID)
	}
	for _, l := range leads {
		accounts = append(accounts, l.AccountID)
	}
	since, err := r.Store.AccountsCustomerSince(ctx, accounts)
	if err != nil {
		return p, fmt.Errorf("review: customers: %w", err)
	}
	existing := func(account int64, at time.Time) bool {
		t, ok := since[account]
		return account != 0 && ok && !t.After(at)
	}
	seg := [2]ReviewSegment{{Segment: "existing_customer"}, {Segment: "new"}}
	for _, m := range members {
		if existing(m.AccountID, m.FirstTouch) {
			seg[0].Members++
		} else {
			seg[1].Members++
		}
	}
	for _, l := range leads {
		if existing(l.AccountID, l.LeadAt) {
			seg[0].Leads++
		} else {
			seg[1].Leads++
		}
	}
	p.Customers = seg[:]

	prom, err := r.Store.CampaignPromoters(ctx, scope, win)
	if err != nil {
		return p, fmt.Errorf("review: promoters: %w", err)
	}
	byPromoter := map[int64]*ReviewPromoter{}
	for _, f := range prom {
		byPromoter[f.UserID] = &ReviewPromoter{UserID: f.UserID, Name: f.Name, Email: f.Email, Links: f.Links, Visits: f.Visits, Visitors: f.Visitors}
	}
	for _, l := range leads {
		if pr := byPromoter[l.PromoterID]; pr != nil {
			pr.Leads++
			if l.Reached.Rank() >= mql {
				pr.MQLs++
			}
		}
	}
	for _, f := range prom {
		p.Promoters = append(p.Promoters, *byPromoter[f.UserID])
	}
	slices.SortFunc(p.Promoters, func(a, b ReviewPromoter) int {
		return cmp.Or(cmp.Compare(b.Leads, a.Leads), cmp.Compare(b.Visits, a.Visits), cmp.Compare(a.UserID, b.UserID))
	})

	for k, n := range cur.interactions {
		p.Interactions = append(p.Interactions, ReviewInteraction{Channel: k[0], Type: k[1], Touches: n})
	}
	slices.SortFunc(p.Interactions, func(a, b ReviewInteraction) int {
		return cmp.Or(cmp.Compare(b.Touches, a.Touches), cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Type, b.Type))
	})
	return p, nil
}

// reviewResults builds the result tables.
func reviewResults(leads []store.CampaignLead, fig CampaignFigures, cur *scopeFacts) ReviewResults {
	res := ReviewResults{LeadStatus: []ReviewStageCount{}, Opportunities: []ReviewDeal{}, Orders: []ReviewDeal{}}
	now := map[model.Stage]int64{}
	for _, l := range leads {
		now[l.Stage]++
	}
	stages := append(slices.Clone(model.LifecycleStages), model.StageNurture, model.StageDisqualified)
	for _, st := range stages {
		if now[st] > 0 {
			res.LeadStatus = append(res.LeadStatus, ReviewStageCount{Stage: st, Leads: now[st]})
		}
	}
	var others []string
	for st := range now {
		if !slices.Contains(stages, st) {
			others = append(others, string(st))
		}
	}
	slices.Sort(others)
	for _, st := range others {
		res.LeadStatus = append(res.LeadStatus, ReviewStageCount{Stage: model.Stage(st), Leads: now[model.Stage(st)]})
	}

	counts := []int64{fig.Leads, fig.MQLs, fig.SQLs, fig.Opportunities, cur.customers}
	for i, st := range model.FunnelStages {
		s := FunnelStage{Stage: st, Count: counts[i]}
		if i > 0 {
			s.Rate = ratio(counts[i], counts[i-1])
		}
		res.Funnel = append(res.Funnel, s)
	}
	// The deals come largest first.
	for i, d := range cur.opportunities {
		if i < MaxReviewDeals {
			res.Opportunities = append(res.Opportunities, ReviewDeal(d))
		}
	}
	for i, d := range cur.orders {
		if i < MaxReviewDeals {
			res.Orders = append(res.Orders, ReviewDeal(d))
		}
	}
	res.Pipeline, res.OpportunityCount = cur.influencedPipeline, len(cur.opportunities)
	res.OrderAmount, res.OrderCount = cur.orderAmount, len(cur.orders)
	res.DealsTruncated = len(cur.opportunities) > MaxReviewDeals || len(cur.orders) > MaxReviewDeals
	return res
}

// HundredthsText prints a value in hundredths with the decimals it needs
// (at most two), for messages.
func HundredthsText(v int64) string {
	if v%100 == 0 {
		return strconv.FormatInt(v/100, 10)
	}
	return strconv.FormatFloat(float64(v)/100, 'f', -1, 64)
}
