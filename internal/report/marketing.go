package report

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

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

// LoadMarketing computes the marketing dashboard.
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
	m := Marketing{Model: q.Model, Mode: mode, Currency: "CNY", TimeZone: q.Period.Cal.Loc.String()}
	if !from.IsZero() {
		m.From = from.Format(time.DateOnly)
	}
	m.To = to.Format(time.DateOnly)
	rq := store.RollupQuery{From: from, To: to}

	// Headline: opportunities and their marketing split.
	opps, err := s.OpportunityFacts(ctx, win)
	if err != nil {
		return m, fmt.Errorf("marketing dashboard: opportunities: %w", err)
	}
	h := &m.Headline
	in := func(t time.Time) bool { return inWindow(win, t) }
	for _, o := range opps {
		if in(o.CreatedAt) {
			h.OpportunitiesCreated++
			h.PipelineCreated = store.AddTotal(h.PipelineCreated, o.Amount)
		}
		switch {
		case o.Won() && in(*o.ClosedAt):
			h.WonDeals++
			h.WonRevenue = store.AddTotal(h.WonRevenue, o.Amount)
		case o.Lost() && in(*o.ClosedAt):
			h.LostDeals++
			h.ClosedLost = store.AddTotal(h.ClosedLost, o.Amount)
		}
		if o.OpenAt(win.To) {
			h.OpenOpportunities++
			h.OpenPipeline = store.AddTotal(h.OpenPipeline, o.Amount)
		}
	}
	h.WinRate = ratio(h.WonDeals, h.WonDeals+h.LostDeals)
	for _, k := range []model.ConversionKind{model.ConvOpportunity, model.ConvWon} {
		sp, err := s.ConversionSplits(ctx, k, win)
		if err != nil {
			return m, fmt.Errorf("marketing dashboard: %s conversions: %w", k, err)
		}
		if k == model.ConvOpportunity {
			h.PipelineSourced, h.PipelineInfluenced = sp.SourcedValue, sp.InfluencedValue
		} else {
			h.WonSourced, h.WonInfluenced = sp.SourcedValue, sp.InfluencedValue
		}
	}
	camps, err := s.CampaignFacts(ctx)
	if err != nil {
		return m, fmt.Errorf("marketing dashboard: campaigns: %w", err)
	}
	for _, c := range camps {
		if c.ActiveIn(from, to) {
			h.TargetCampaigns++
			h.TargetPipeline = store.AddTotal(h.TargetPipeline, c.TargetPipeline)
			h.TargetRevenue = store.AddTotal(h.TargetRevenue, c.TargetRevenue)
		}
	}
	if h.NewCustomers, err = s.NewCustomers(ctx, win); err != nil {
		return m, fmt.Errorf("marketing dashboard: new customers: %w", err)
	}

	// Spend and leads, in total, by month and by channel.
	costMonths, err := s.SumCosts(ctx, withBy(rq, store.DimMonth))
	if err != nil {
		return m, fmt.Errorf("marketing dashboard: costs: %w", err)
	}
	for _, c := range costMonths {
		h.Spend = store.AddTotal(h.Spend, c.Cost)
	}
	leadMonths, err := s.SumLeads(ctx, withBy(rq, store.DimMonth))
	if err != nil {
		return m, fmt.Errorf("marketing dashboard: leads: %w", err)
	}
	for _, l := range leadMonths {
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

	// The funnel.
	if m.Funnel, err = loadFunnel(ctx, s, rq, mode); err != nil {
		return m, err
	}

	// The months.
	m.Trend = monthTrend(q, from, to, costMonths, leadMonths, opps)

	// The channels.
	if m.Channels, m.ChannelTotal, err = channelMix(ctx, s, rq, col); err != nil {
		return m, err
	}
	return m, nil
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

// loadFunnel reads the funnel of a range: the cohort from the lead
// roll-up, entries from the stage roll-up, velocity from the stage
// roll-up in both modes.
func loadFunnel(ctx context.Context, s *store.Store, rq store.RollupQuery, mode FunnelMode) (DashFunnel, error) {
	f := DashFunnel{Mode: mode}
	stages, err := s.SumStages(ctx, withBy(rq, store.DimStage))
	if err != nil {
		return f, fmt.Errorf("marketing dashboard: stage entries: %w", err)
	}
	entered := map[model.Stage]store.StageSum{}
	for _, st := range stages {
		entered[model.Stage(st.Stage)] = st
	}
	counts := map[model.Stage]int64{}
	if mode == Period {
		for _, st := range model.FunnelStages {
			counts[st] = entered[st].Entered
		}
	} else {
		l, err := s.SumLeads(ctx, rq)
		if err != nil {
			return f, fmt.Errorf("marketing dashboard: lead cohort: %w", err)
		}
		c := l[0]
		counts = map[model.Stage]int64{model.StageLead: c.Leads, model.StageMQL: c.MQLs, model.StageSQL: c.SQLs,
			model.StageOpportunity: c.Opportunities, model.StageCustomer: c.Customers}
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
	return f, nil
}

func round1(v float64) *float64 {
	r := math.Round(v*10) / 10
	return &r
}

// monthTrend lays the months of the range out, each with its spend,
// leads, pipeline created and won revenue. An open start begins at the
// first month with any of them.
func monthTrend(q DashQuery, from, to time.Time, costs []store.CostSum, leads []store.LeadSum, opps []store.OpportunityFact) []MonthFigures {
	cal := q.Period.Cal
	win := q.window()
	byMonth := map[time.Time]*MonthFigures{}
	get := func(month time.Time) *MonthFigures {
		f, ok := byMonth[month]
		if !ok {
			f = &MonthFigures{Month: month.Format("2006-01")}
			byMonth[month] = f
		}
		return f
	}
	for _, c := range costs {
		f := get(model.MonthOf(c.Day))
		f.Spend = store.AddTotal(f.Spend, c.Cost)
	}
	for _, l := range leads {
		get(model.MonthOf(l.Day)).Leads += l.Leads
	}
	for _, o := range opps {
		if inWindow(win, o.CreatedAt) {
			f := get(model.MonthOf(cal.Day(o.CreatedAt)))
			f.PipelineCreated = store.AddTotal(f.PipelineCreated, o.Amount)
		}
		if o.Won() && inWindow(win, *o.ClosedAt) {
			f := get(model.MonthOf(cal.Day(*o.ClosedAt)))
			f.WonRevenue = store.AddTotal(f.WonRevenue, o.Amount)
		}
	}
	first := from
	if first.IsZero() {
		for month := range byMonth {
			if first.IsZero() || month.Before(first) {
				first = month
			}
		}
		if first.IsZero() {
			first = to
		}
	}
	out := []MonthFigures{}
	for month := model.MonthOf(first); !month.After(to); month = month.AddDate(0, 1, 0) {
		out = append(out, *get(month))
	}
	return out
}

// channelMix is the channel mix of a range under one model's column:
// credited pipeline and won revenue with spend and leads, and influence.
func channelMix(ctx context.Context, s *store.Store, rq store.RollupQuery, col string) ([]ChannelMix, ChannelMix, error) {
	rows := map[string]*ChannelMix{}
	get := func(ch string) *ChannelMix {
		r, ok := rows[ch]
		if !ok {
			r = &ChannelMix{Channel: ch}
			rows[ch] = r
		}
		return r
	}
	kinds := []model.ConversionKind{model.ConvOpportunity, model.ConvWon}
	cq := withBy(rq, store.DimKind, store.DimChannel)
	cq.Kinds = kinds
	credited, err := s.SumCredits(ctx, cq, col)
	if err != nil {
		return nil, ChannelMix{}, fmt.Errorf("marketing dashboard: credits: %w", err)
	}
	for _, c := range credited {
		r := get(c.Channel)
		if c.Kind == model.ConvOpportunity {
			r.pipelineFen += c.Fen
			r.CreditedOpportunities += c.Conversions
		} else {
			r.wonFen += c.Fen
			r.CreditedWonDeals += c.Conversions
		}
	}
	iq := withBy(rq, store.DimKind)
	iq.Kinds = kinds
	influence, err := s.SumInfluence(ctx, iq, store.DimChannel)
	if err != nil {
		return nil, ChannelMix{}, fmt.Errorf("marketing dashboard: influence: %w", err)
	}
	for _, i := range influence {
		r := get(i.Channel)
		v := i.Value
		if i.Kind == model.ConvOpportunity {
			n := i.Conversions
			r.InfluencedOpportunities, r.InfluencedPipeline = &n, &v
		} else {
			r.InfluencedWonRevenue = &v
		}
	}
	costs, err := s.SumCosts(ctx, withBy(rq, store.DimChannel))
	if err != nil {
		return nil, ChannelMix{}, fmt.Errorf("marketing dashboard: costs by channel: %w", err)
	}
	for _, c := range costs {
		r := get(c.Channel)
		r.Spend = store.AddTotal(r.Spend, c.Cost)
	}
	leads, err := s.SumLeads(ctx, withBy(rq, store.DimChannel))
	if err != nil {
		return nil, ChannelMix{}, fmt.Errorf("marketing dashboard: leads by channel: %w", err)
	}
	for _, l := range leads {
		get(l.Channel).Leads += l.Leads
	}
	total := ChannelMix{Channel: "total"}
	out := make([]ChannelMix, 0, len(rows))
	for _, r := range rows {
		if r.Channel == "" {
			r.Channel = string(model.ChannelUnknown)
		}
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
	return out, total, nil
}

func finishMix(r *ChannelMix) {
	r.CreditedPipeline, r.CreditedWonRevenue = fenMoney(r.pipelineFen), fenMoney(r.wonFen)
	r.CreditedOpportunities, r.CreditedWonDeals = round2(r.CreditedOpportunities), round2(r.CreditedWonDeals)
	r.ROAS = roasOf(r.CreditedWonRevenue, r.Spend)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// inWindow says whether t lies in w (From included, To excluded; zero
// ends open).
func inWindow(w model.Window, t time.Time) bool {
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}
