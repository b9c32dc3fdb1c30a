package report

import (
	"context"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The period review (docs/reviews.md, "Period reviews"): the campaigns of
// a range of team days — a quarter, any range — all of them or those of
// one channel or kind, reviewed together against the period's own
// targets, with the same target/actual/gap/good table as a campaign's
// review. A campaign belongs to the period when its dates meet the range
// (one without dates always does); its figures count over the range
// only, as the campaigns list gives them, summed.

// MaxPeriodDays bounds a period review's range.
const MaxPeriodDays = 731

// PeriodQuery selects a period review.
type PeriodQuery struct {
	Period  model.Period // team days, both included
	Model   string       // a stored attribution model
	Channel model.Channel
	Kind    string
	Now     time.Time // the follow-up counts the assignments due by the start of its hour
}

// PeriodReview is the answer.
type PeriodReview struct {
	From      string            `json:"from"`
	To        string            `json:"to"`
	Channel   model.Channel     `json:"channel"`
	Kind      string            `json:"kind"`
	Model     string            `json:"model"`
	Currency  string            `json:"currency"`
	Campaigns []PeriodCampaign  `json:"campaigns"`
	Metrics   []ReviewMetricRow `json:"metrics"`
	SLA       string            `json:"sla_first_follow_up"`
	FollowUp  CampaignFollowUp  `json:"follow_up"`
	// Figures are the campaigns' figures summed (influence counts each
	// conversion once: see Metrics).
	Figures CampaignFigures `json:"figures"`
}

// PeriodCampaign is a campaign of the period with its figures over it.
type PeriodCampaign struct {
	ReviewCampaign
	CampaignFigures
}

// Key is the period group the review's targets are stored under.
func (q PeriodQuery) Key() store.PeriodGroupKey {
	return store.PeriodGroupKey{From: q.Period.From, To: q.Period.To, Channel: q.Channel, Kind: q.Kind}
}

// inPeriod says whether a campaign's dates meet [from, to] (team days);
// a campaign without a start date always does.
func inPeriod(c CampaignRow, from, to string) bool {
	if c.StartDate == nil {
		return true
	}
	if *c.StartDate > to {
		return false
	}
	return c.EndDate == nil || *c.EndDate >= from
}

// PeriodReview builds the review of a period's campaigns.
func (r Reporter) PeriodReview(ctx context.Context, q PeriodQuery) (*PeriodReview, error) {
	col, ok := credits.Column(attribution.Model(q.Model))
	if !ok {
		return nil, fmt.Errorf("attribution model %q: %w", q.Model, ErrNotReviewable)
	}
	firstCol, _ := credits.Column(attribution.First)
	out := &PeriodReview{From: calendarDay(q.Period.From), To: calendarDay(q.Period.To), Channel: q.Channel, Kind: q.Kind,
		Model: q.Model, Currency: "CNY", Campaigns: []PeriodCampaign{}}
	table, err := r.Campaigns(ctx, attribution.Model(q.Model), q.Period.From, q.Period.To, CampaignFilter{Channel: q.Channel, Archived: true})
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, row := range table.Rows {
		if row.ID == 0 || (q.Kind != "" && row.Kind != q.Kind) || !inPeriod(row, out.From, out.To) {
			continue
		}
		ids = append(ids, row.ID)
		out.Figures.add(row.CampaignFigures)
		pc := PeriodCampaign{ReviewCampaign: ReviewCampaign{ID: row.ID, Code: row.Code, Name: row.Name, NameEN: row.NameEN, Kind: row.Kind,
			Channel: row.Channel, StartDate: row.StartDate, EndDate: row.EndDate}, CampaignFigures: row.CampaignFigures}
		out.Campaigns = append(out.Campaigns, pc)
	}
	out.Figures.finishRatios()
	targets, err := r.Store.PeriodTargets(ctx, q.Key())
	if err != nil {
		return nil, err
	}
	cur := &scopeFacts{leads: map[string]int64{}, mqls: map[string]int64{}, sqls: map[string]int64{}, opps: map[string]int64{},
		registrations: map[string]int64{}, attendance: map[string]int64{}, downloads: map[string]int64{},
		interactions: map[[2]string]int64{}, won: map[string]float64{}, sourced: map[string]float64{}}
	if len(ids) > 0 {
		if cur, err = r.scopeFactsOf(ctx, ids, q.Period, store.CreditColumns[col], store.CreditColumns[firstCol], true); err != nil {
			return nil, err
		}
	}
	fu, err := kept(ctx, r, factsPeriodFollowUp, followUpKey{Window: q.Period.Window(), IDs: ids, Now: q.Now.UTC().Truncate(time.Hour)}, r.periodFollowUp)
	if err != nil {
		return nil, err
	}
	out.FollowUp, out.SLA = fu.FollowUp, fu.SLA
	inf, pipe := int64(len(cur.opportunities)), cur.influencedPipeline
	out.Figures.InfluencedOpportunities, out.Figures.InfluencedPipeline = &inf, &pipe
	out.Metrics = reviewMetricRows(reviewActuals(out.Figures, cur, out.FollowUp), targets, cur, nil, out.FollowUp)
	return out, nil
}

// The kept facts of a period review (facts.go): the first follow-up of
// its campaigns' leads, which reads every lead of the period and their
// assignments. It counts the assignments due by the start of the hour
// asked in.
const factsPeriodFollowUp = "period_follow_up"

func init() {
	registerFacts(factsPeriodFollowUp, func(r Reporter) func(context.Context, followUpKey) (periodFollowUpFacts, error) {
		return r.periodFollowUp
	})
}

// followUpKey is a period's window, its campaigns and the hour.
type followUpKey struct {
	Window model.Window `json:"window"`
	IDs    []int64      `json:"ids"`
	Now    time.Time    `json:"now"`
}

// periodFollowUpFacts are a period's follow-up figures and the SLA.
type periodFollowUpFacts struct {
	FollowUp CampaignFollowUp `json:"follow_up"`
	SLA      string           `json:"sla"`
}

func (r Reporter) periodFollowUp(ctx context.Context, k followUpKey) (periodFollowUpFacts, error) {
	var out periodFollowUpFacts
	var leads []store.CampaignLead
	if len(k.IDs) > 0 {
		var err error
		if leads, err = r.Store.CampaignLeads(ctx, k.IDs, k.Window); err != nil {
			return out, fmt.Errorf("period review: leads: %w", err)
		}
	}
	var err error
	out.FollowUp, out.SLA, err = r.campaignFollowUp(ctx, ReviewQuery{Now: k.Now}, leads)
	return out, err
}
