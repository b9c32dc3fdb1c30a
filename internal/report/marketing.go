package report

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The marketing dashboard: what the head of marketing reads first —
// pipeline and revenue against target with marketing's share of them,
// what they cost, the funnel, the months, and the channels under the
// chosen attribution model. Every figure is a word of docs/metrics.md,
// read from the roll-ups (costs, leads, stage entries, credits,
// influence) and from the small tables (opportunities, campaigns, the
// stored conversions' sourced and influenced flags).

// DashQuery is the range and model of a dashboard.
type DashQuery struct {
	// Period is the team days shown, both ends included. A zero To is
	// today (Today); a zero From is open.
	Period model.Period
	Today  time.Time // the team's today
	Model  attribution.Model
}

// days returns the range's first and last team day, To defaulting to
// today.
func (q DashQuery) days() (time.Time, time.Time) {
	to := q.Period.To
	if to.IsZero() {
		to = q.Today
	}
	return q.Period.From, to
}

// window is the range as instants.
func (q DashQuery) window() model.Window {
	from, to := q.days()
	return model.Period{From: from, To: to, Cal: q.Period.Cal}.Window()
}

// ModelColumn is the stored credit column of a model ("linear",
// "w_shaped", ...), or an error for a model that is not stored.
func ModelColumn(m attribution.Model) (string, error) {
	i, ok := credits.Column(m)
	if !ok {
		return "", fmt.Errorf("model %q is not stored", m)
	}
	return store.CreditColumns[i], nil
}

// Marketing is the marketing dashboard, page and API alike.
type Marketing struct {
	From     string            `json:"from"` // YYYY-MM-DD, team days; "" when open
	To       string            `json:"to"`
	TimeZone string            `json:"time_zone"`
	Model    attribution.Model `json:"model"`
	Mode     FunnelMode        `json:"mode"`
	Currency string            `json:"currency"`

	Headline MarketingHeadline `json:"headline"`
	Funnel   DashFunnel        `json:"funnel"`
	Trend    []MonthFigures    `json:"trend"`
	Channels []ChannelMix      `json:"channels"`
	// ChannelTotal sums the rows' credited figures, leads and spend;
	// influence does not add up and is left out of it.
	ChannelTotal ChannelMix `json:"channel_total"`
}

// MarketingHeadline is the headline figures of the range.
type MarketingHeadline struct {
	OpportunitiesCreated int64       `json:"opportunities_created"`
	PipelineCreated      model.Money `json:"pipeline_created"`
	// Marketing's share of the pipeline created and of the won revenue,
	// from the stored conversions (as of the last credit run).
	PipelineSourced    model.Money `json:"pipeline_sourced"`
	PipelineInfluenced model.Money `json:"pipeline_influenced"`
	TargetPipeline     model.Money `json:"target_pipeline"`

	WonDeals        int64       `json:"won_deals"`
	WonRevenue      model.Money `json:"won_revenue"`
	WonSourced      model.Money `json:"won_sourced"`
	WonInfluenced   model.Money `json:"won_influenced"`
	TargetRevenue   model.Money `json:"target_revenue"`
	TargetCampaigns int64       `json:"target_campaigns"` // campaigns active in the range

	OpenOpportunities int64       `json:"open_opportunities"`
	OpenPipeline      model.Money `json:"open_pipeline"`
	LostDeals         int64       `json:"lost_deals"`
	ClosedLost        model.Money `json:"closed_lost"`
	WinRate           *float64    `json:"win_rate"`

	Leads        int64        `json:"leads"`
	Spend        model.Money  `json:"spend"`
	ROAS         *float64     `json:"roas"`
	ROI          *float64     `json:"roi"`
	NewCustomers int64        `json:"new_customers"`
	CAC          *model.Money `json:"cac"`
	// Unavailable names the money figures beyond store.MaxTotal, which
	// take no part in ratios.
	Unavailable []string `json:"unavailable,omitempty"`
}

// DashFunnel is the lifecycle funnel of a range: cohort (the leads of the
// range and how far they got) or period (entries into each stage).
type DashFunnel struct {
	Mode  FunnelMode `json:"mode"`
	Steps []DashStep `json:"steps"`
	// Overall is customers ÷ leads of the funnel.
	Overall *float64 `json:"overall_rate"`
}

// DashStep is one stage of the funnel.
type DashStep struct {
	Stage model.Stage `json:"stage"`
	Count int64       `json:"count"`
	// Rate is Count ÷ the previous step's count (nil for the first).
	Rate *float64 `json:"rate"`
	// VelocityDays is the mean days from entering the previous stage for
	// the persons who entered this one in the range (nil for the first,
	// or when none did).
	VelocityDays *float64 `json:"velocity_days"`
}

// MonthFigures is one month of the trend (the range's part of it).
type MonthFigures struct {
	Month           string      `json:"month"` // YYYY-MM
	Spend           model.Money `json:"spend"`
	Leads           int64       `json:"leads"`
	PipelineCreated model.Money `json:"pipeline_created"`
	WonRevenue      model.Money `json:"won_revenue"`
}

// ChannelMix is one channel's line of the channel mix.
type ChannelMix struct {
	Channel                 string       `json:"channel"`
	Leads                   int64        `json:"leads"`
	Spend                   model.Money  `json:"spend"`
	CreditedOpportunities   float64      `json:"credited_opportunities"`
	CreditedPipeline        model.Money  `json:"credited_pipeline"`
	CreditedWonDeals        float64      `json:"credited_won_deals"`
	CreditedWonRevenue      model.Money  `json:"credited_won_revenue"`
	ROAS                    *float64     `json:"roas"` // credited won revenue ÷ spend
	InfluencedOpportunities *int64       `json:"influenced_opportunities"`
	InfluencedPipeline      *model.Money `json:"influenced_pipeline"`
	InfluencedWonRevenue    *model.Money `json:"influenced_won_revenue"`

	pipelineFen, wonFen float64
}

// marketingReads is what the marketing dashboard reads, each once.
type marketingReads struct {
	costs     []store.CostSum // by month and channel
	leads     []store.LeadSum // by month and lead-source channel
	stages    []store.StageSum
	credited  []store.CreditedSum
	influence []store.InfluenceSum
	splits    map[model.ConversionKind]store.ConversionSplit
	campaigns []store.CampaignFact
	customers int64
	opps      store.OpportunityBuckets
}

// LoadMarketing computes the marketing dashboard. Its reads are
// independent and run side by side.
func LoadMarketing(ctx context.Context, s *store.Store, q DashQuery, mode FunnelMode) (Marketing, error) {
	if mode == "" {
		mode = Cohort
	}
	col, err := ModelColumn(q.Model)
	if err != nil {
		return Marketing{}, err
	}
	from, to := q.days()
	win := q.window()
	m := Marketing{Model: q.Model, Mode: mode, Currency: "CNY", TimeZone: q.Period.Cal.Loc.String(), To: to.Format(time.DateOnly)}
	if !from.IsZero() {
		m.From = from.Format(time.DateOnly)
	}
	rq := store.RollupQuery{From: from, To: to}
	kinds := []model.ConversionKind{model.ConvOpportunity, model.ConvWon}
	var rd marketingReads
	var first time.Time // of an open range: the first opportunity
	g, gctx := errgroup.WithContext(ctx)
	read := func(what string, fn func() error) {
		g.Go(func() error {
			if err := fn(); err != nil {
				return fmt.Errorf("marketing dashboard: %s: %w", what, err)
			}
			return nil
		})
	}
	read("costs", func() (err error) {
		rd.costs, err = s.SumCosts(gctx, withBy(rq, store.DimMonth, store.DimChannel))
		return
	})
	read("leads", func() (err error) {
		rd.leads, err = s.SumLeads(gctx, withBy(rq, store.DimMonth, store.DimChannel))
		return
	})
	read("stage entries", func() (err error) { rd.stages, err = s.SumStages(gctx, withBy(rq, store.DimStage)); return })
	read("credits", func() (err error) {
		cq := withBy(rq, store.DimKind, store.DimChannel)
		cq.Kinds = kinds
		rd.credited, err = s.SumCredits(gctx, cq, col)
		return
	})
	read("influence", func() (err error) {
		iq := withBy(rq, store.DimKind)
		iq.Kinds = kinds
		rd.influence, err = s.SumInfluence(gctx, iq, store.DimChannel)
		return
	})
	read("conversions", func() (err error) { rd.splits, err = s.ConversionSplits(gctx, win, kinds...); return })
	read("campaigns", func() (err error) { rd.campaigns, err = s.CampaignFacts(gctx); return })
	read("new customers", func() (err error) { rd.customers, err = s.NewCustomers(gctx, win); return })
	if from.IsZero() {
		read("first opportunity", func() (err error) {
			first, _, err = s.FirstOpportunity(gctx)
			return
		})
	} else {
		read("opportunities", func() (err error) {
			rd.opps, err = s.OpportunityBuckets(gctx, monthBounds(q.Period.Cal, from, to))
			return
		})
	}
	if err := g.Wait(); err != nil {
		return m, err
	}
	if from.IsZero() {
		// An open range starts with the first month that has anything.
		from = firstMonth(q.Period.Cal, to, first, rd.costs, rd.leads)
		if rd.opps, err = s.OpportunityBuckets(ctx, monthBounds(q.Period.Cal, from, to)); err != nil {
			return m, fmt.Errorf("marketing dashboard: opportunities: %w", err)
		}
	}
	m.Headline = headline(rd, from, to)
	m.Funnel = dashFunnel(rd, mode)
	m.Trend = monthTrend(rd, from, to)
	m.Channels, m.ChannelTotal = channelMix(rd)
	return m, nil
}

// monthBounds are the instants that cut the days from..to into the
// months of the team's calendar: the range's start, each month's start
// inside it, and the range's end.
func monthBounds(cal model.Calendar, from, to time.Time) []time.Time {
	out := []time.Time{cal.Start(from)}
	for month := model.MonthOf(from).AddDate(0, 1, 0); !month.After(to); month = month.AddDate(0, 1, 0) {
		out = append(out, cal.Start(month))
	}
	return append(out, cal.Start(to.AddDate(0, 0, 1)))
}

// firstMonth is the first month with costs, leads or an opportunity (to's
// month when there are none).
func firstMonth(cal model.Calendar, to, firstOpp time.Time, costs []store.CostSum, leads []store.LeadSum) time.Time {
	first := model.MonthOf(to)
	if !firstOpp.IsZero() && cal.Day(firstOpp).Before(first) {
		first = model.MonthOf(cal.Day(firstOpp))
	}
	for _, c := range costs {
		if c.Day.Before(first) {
			first = c.Day
		}
	}
	for _, l := range leads {
		if l.Day.Before(first) {
			first = l.Day
		}
	}
	return first
}

// headline computes the headline figures from the reads.
func headline(rd marketingReads, from, to time.Time) MarketingHeadline {
	var h MarketingHeadline
	for i := range rd.opps.Created {
		h.OpportunitiesCreated += rd.opps.Created[i].Count
		h.PipelineCreated = store.AddTotal(h.PipelineCreated, rd.opps.Created[i].Amount)
		h.WonDeals += rd.opps.Won[i].Count
		h.WonRevenue = store.AddTotal(h.WonRevenue, rd.opps.Won[i].Amount)
	}
	h.LostDeals, h.ClosedLost = rd.opps.Lost.Count, rd.opps.Lost.Amount
	h.OpenOpportunities, h.OpenPipeline = rd.opps.Open.Count, rd.opps.Open.Amount
	h.WinRate = ratio(h.WonDeals, h.WonDeals+h.LostDeals)
	op, won := rd.splits[model.ConvOpportunity], rd.splits[model.ConvWon]
	h.PipelineSourced, h.PipelineInfluenced = op.SourcedValue, op.InfluencedValue
	h.WonSourced, h.WonInfluenced = won.SourcedValue, won.InfluencedValue
	for _, c := range rd.campaigns {
		if c.ActiveIn(from, to) {
			h.TargetCampaigns++
			h.TargetPipeline = store.AddTotal(h.TargetPipeline, c.TargetPipeline)
			h.TargetRevenue = store.AddTotal(h.TargetRevenue, c.TargetRevenue)
		}
	}
	h.NewCustomers = rd.customers
	for _, c := range rd.costs {
		h.Spend = store.AddTotal(h.Spend, c.Cost)
	}
	for _, l := range rd.leads {
		h.Leads += l.Leads
	}
	for _, f := range []struct {
		name string
		v    model.Money
	}{{"pipeline_created", h.PipelineCreated}, {"won_revenue", h.WonRevenue}, {"spend", h.Spend}, {"open_pipeline", h.OpenPipeline}, {"closed_lost", h.ClosedLost}} {
		if store.Saturated(f.v) {
			h.Unavailable = append(h.Unavailable, f.name)
		}
	}
	if !store.Saturated(h.Spend) && !store.Saturated(h.WonRevenue) {
		h.ROAS = ratio(int64(h.WonRevenue), int64(h.Spend))
		h.ROI = ratio(int64(h.WonRevenue)-int64(h.Spend), int64(h.Spend))
		h.CAC = perUnit(h.Spend, h.NewCustomers)
	}
	return h
}

// withBy is a copy of q grouped by dims.
func withBy(q store.RollupQuery, dims ...store.RollupDim) store.RollupQuery {
	q.By = dims
	return q
}

// perUnit is money ÷ a count, rounded half away from zero to the fen;
// nil when the count is zero.
func perUnit(m model.Money, n int64) *model.Money {
	if n <= 0 {
		return nil
	}
	v := model.Money((int64(m)*2 + n) / (2 * n))
	return &v
}

// fenMoney turns a credited value (share × fen) into money.
func fenMoney(f float64) model.Money {
	if f >= float64(store.MaxTotal) {
		return store.MaxTotal
	}
	return model.Money(math.Round(f))
}

// roasOf is a ÷ b for money (ROAS), nil without b or when either is
// beyond the reportable range.
func roasOf(a, b model.Money) *float64 {
	if store.Saturated(a) || store.Saturated(b) {
		return nil
	}
	return ratio(int64(a), int64(b))
}

// moneyROI is (revenue − spend) ÷ spend.
func moneyROI(revenue, spend model.Money) *float64 {
	if store.Saturated(revenue) || store.Saturated(spend) {
		return nil
	}
	return ratio(int64(revenue)-int64(spend), int64(spend))
}

// dashFunnel is the funnel of the range: the cohort from the lead
// roll-up, or entries from the stage roll-up; velocity from the stage
// roll-up in both views.
func dashFunnel(rd marketingReads, mode FunnelMode) DashFunnel {
	f := DashFunnel{Mode: mode}
	entered := map[model.Stage]store.StageSum{}
	for _, st := range rd.stages {
		entered[model.Stage(st.Stage)] = st
	}
	counts := map[model.Stage]int64{}
	if mode == Period {
		for _, st := range model.FunnelStages {
			counts[st] = entered[st].Entered
		}
	} else {
		for _, l := range rd.leads {
			counts[model.StageLead] += l.Leads
			counts[model.StageMQL] += l.MQLs
			counts[model.StageSQL] += l.SQLs
			counts[model.StageOpportunity] += l.Opportunities
			counts[model.StageCustomer] += l.Customers
		}
	}
	for i, st := range model.FunnelStages {
		step := DashStep{Stage: st, Count: counts[st]}
		if i > 0 {
			step.Rate = ratio(step.Count, f.Steps[i-1].Count)
			if e := entered[st]; e.Timed > 0 {
				step.VelocityDays = round1(e.DaysInBefore / float64(e.Timed))
			}
		}
		f.Steps = append(f.Steps, step)
	}
	f.Overall = ratio(f.Steps[len(f.Steps)-1].Count, f.Steps[0].Count)
	return f
}

func round1(v float64) *float64 {
	r := math.Round(v*10) / 10
	return &r
}

// monthTrend lays the months of the range out, each with its spend,
// leads, pipeline created and won revenue.
func monthTrend(rd marketingReads, from, to time.Time) []MonthFigures {
	byMonth := map[time.Time]*MonthFigures{}
	var months []time.Time
	for month := model.MonthOf(from); !month.After(to); month = month.AddDate(0, 1, 0) {
		byMonth[month] = &MonthFigures{Month: month.Format("2006-01")}
		months = append(months, month)
	}
	for _, c := range rd.costs {
		if f := byMonth[c.Day]; f != nil {
			f.Spend = store.AddTotal(f.Spend, c.Cost)
		}
	}
	for _, l := range rd.leads {
		if f := byMonth[l.Day]; f != nil {
			f.Leads += l.Leads
		}
	}
	out := make([]MonthFigures, 0, len(months))
	for i, month := range months {
		f := byMonth[month]
		if i < len(rd.opps.Created) {
			f.PipelineCreated, f.WonRevenue = rd.opps.Created[i].Amount, rd.opps.Won[i].Amount
		}
		out = append(out, *f)
	}
	return out
}

// channelMix is the channel mix: the credited pipeline and won revenue
// under the model read, with spend, leads and influence.
func channelMix(rd marketingReads) ([]ChannelMix, ChannelMix) {
	rows := map[string]*ChannelMix{}
	get := func(ch string) *ChannelMix {
		if ch == "" {
			ch = string(model.ChannelUnknown)
		}
		r, ok := rows[ch]
		if !ok {
			r = &ChannelMix{Channel: ch}
			rows[ch] = r
		}
		return r
	}
	for _, c := range rd.credited {
		r := get(c.Channel)
		if c.Kind == model.ConvOpportunity {
			r.pipelineFen += c.Fen
			r.CreditedOpportunities += c.Conversions
		} else {
			r.wonFen += c.Fen
			r.CreditedWonDeals += c.Conversions
		}
	}
	for _, i := range rd.influence {
		r := get(i.Channel)
		v := i.Value
		if i.Kind == model.ConvOpportunity {
			n := i.Conversions
			r.InfluencedOpportunities, r.InfluencedPipeline = &n, &v
		} else {
			r.InfluencedWonRevenue = &v
		}
	}
	for _, c := range rd.costs {
		r := get(c.Channel)
		r.Spend = store.AddTotal(r.Spend, c.Cost)
	}
	for _, l := range rd.leads {
		get(l.Channel).Leads += l.Leads
	}
	total := ChannelMix{Channel: "total"}
	out := make([]ChannelMix, 0, len(rows))
	for _, r := range rows {
		finishMix(r)
		out = append(out, *r)
		// The total adds the rounded rows, so that the rows add up to it.
		total.Leads += r.Leads
		total.Spend = store.AddTotal(total.Spend, r.Spend)
		total.CreditedOpportunities += r.CreditedOpportunities
		total.CreditedWonDeals += r.CreditedWonDeals
		total.CreditedPipeline = store.AddTotal(total.CreditedPipeline, r.CreditedPipeline)
		total.CreditedWonRevenue = store.AddTotal(total.CreditedWonRevenue, r.CreditedWonRevenue)
	}
	total.CreditedOpportunities, total.CreditedWonDeals = round2(total.CreditedOpportunities), round2(total.CreditedWonDeals)
	total.ROAS = roasOf(total.CreditedWonRevenue, total.Spend)
	slices.SortFunc(out, func(a, b ChannelMix) int {
		return cmp.Or(cmp.Compare(b.CreditedPipeline, a.CreditedPipeline), cmp.Compare(b.Spend, a.Spend), cmp.Compare(a.Channel, b.Channel))
	})
	return out, total
}

func finishMix(r *ChannelMix) {
	r.CreditedPipeline, r.CreditedWonRevenue = fenMoney(r.pipelineFen), fenMoney(r.wonFen)
	r.CreditedOpportunities, r.CreditedWonDeals = round2(r.CreditedOpportunities), round2(r.CreditedWonDeals)
	r.ROAS = roasOf(r.CreditedWonRevenue, r.Spend)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
