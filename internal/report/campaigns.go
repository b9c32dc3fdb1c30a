package report

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Campaign figures (docs/metrics.md, "Campaigns"): per campaign over a
// range of team days, its spend, its leads (lead source = the campaign)
// and their cohort, the pipeline and won revenue the chosen model credits
// to its touches, the pipeline it influenced, and the ratios of those.

// CampaignFigures are one campaign's figures over a range (or a
// programme's subtotal, or the table's total).
type CampaignFigures struct {
	Cost          model.Money `json:"cost"`
	Impressions   int64       `json:"impressions"`
	Clicks        int64       `json:"clicks"`
	Touches       int64       `json:"touches,omitempty"` // on a campaign's page only
	Leads         int64       `json:"leads"`
	MQLs          int64       `json:"mqls"`
	SQLs          int64       `json:"sqls"`
	Opportunities int64       `json:"opportunities"` // leads of the range that reached opportunity

	CreditedOpportunities float64     `json:"credited_opportunities"`
	CreditedPipeline      model.Money `json:"credited_pipeline"`
	CreditedWon           float64     `json:"credited_won_deals"`
	CreditedRevenue       model.Money `json:"credited_won_revenue"`

	// Influence does not add up: nil on subtotals and totals.
	InfluencedOpportunities *int64       `json:"influenced_opportunities"`
	InfluencedPipeline      *model.Money `json:"influenced_pipeline"`

	ROAS *float64     `json:"roas"` // credited won revenue ÷ spend
	ROI  *float64     `json:"roi"`  // (credited won revenue − spend) ÷ spend
	CPL  *model.Money `json:"cpl"`  // spend ÷ leads
}

// add sums the figures that add up (everything but influence).
func (f *CampaignFigures) add(o CampaignFigures) {
	f.Cost += o.Cost
	f.Impressions += o.Impressions
	f.Clicks += o.Clicks
	f.Touches += o.Touches
	f.Leads += o.Leads
	f.MQLs += o.MQLs
	f.SQLs += o.SQLs
	f.Opportunities += o.Opportunities
	f.CreditedOpportunities += o.CreditedOpportunities
	f.CreditedPipeline += o.CreditedPipeline
	f.CreditedWon += o.CreditedWon
	f.CreditedRevenue += o.CreditedRevenue
}

// finishRatios computes ROAS, ROI and CPL from the sums.
func (f *CampaignFigures) finishRatios() {
	f.ROAS, f.ROI, f.CPL = nil, nil, nil
	if f.Cost > 0 {
		roas := float64(f.CreditedRevenue) / float64(f.Cost)
		roi := float64(f.CreditedRevenue-f.Cost) / float64(f.Cost)
		f.ROAS, f.ROI = &roas, &roi
	}
	if f.Leads > 0 {
		cpl := model.Money(math.Round(float64(f.Cost) / float64(f.Leads)))
		f.CPL = &cpl
	}
}

// figureKey is a campaign (0: touches of none) and, by day, a day.
type figureKey struct {
	id  int64
	day time.Time
}

// rawFigures are a campaign's sums as the roll-ups give them: credit in
// fractional fen, rounded once per row shown.
type rawFigures struct {
	CampaignFigures
	pipelineFen, revenueFen float64
}

func (x *rawFigures) figures() CampaignFigures {
	f := x.CampaignFigures
	f.CreditedPipeline = model.Money(math.Round(x.pipelineFen))
	f.CreditedRevenue = model.Money(math.Round(x.revenueFen))
	if f.InfluencedOpportunities == nil {
		var n int64
		var v model.Money
		f.InfluencedOpportunities, f.InfluencedPipeline = &n, &v
	}
	return f
}

// campaignFigures sums the roll-ups of the team days [from, to] by
// campaign (and by day with byDay), for campaign id or, with 0, every
// campaign and the touches of none.
func (r Reporter) campaignFigures(ctx context.Context, col int, from, to time.Time, id int64, byDay bool) (map[figureKey]*rawFigures, error) {
	q := store.RollupQuery{From: from, To: to, By: []store.RollupDim{store.DimCampaign}}
	if byDay {
		q.By = append(q.By, store.DimDay)
	}
	if id != 0 {
		q.Campaigns = []int64{id}
	}
	out := map[figureKey]*rawFigures{}
	get := func(k store.RollupKey) *rawFigures {
		key := figureKey{id: k.CampaignID}
		if byDay {
			key.day = k.Day
		}
		x := out[key]
		if x == nil {
			x = &rawFigures{}
			out[key] = x
		}
		return x
	}
	costs, err := r.Store.SumCosts(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("campaign spend: %w", err)
	}
	for _, c := range costs {
		x := get(c.RollupKey)
		x.Cost, x.Impressions, x.Clicks = c.Cost, c.Impressions, c.Clicks
	}
	// Touches are shown on a campaign's page only: summing the touch
	// roll-up of every campaign is its largest read.
	if id != 0 {
		touches, err := r.Store.SumTouches(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("campaign touches: %w", err)
		}
		for _, t := range touches {
			get(t.RollupKey).Touches = t.Touches
		}
	}
	leads, err := r.Store.SumLeads(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("campaign leads: %w", err)
	}
	for _, l := range leads {
		x := get(l.RollupKey)
		x.Leads, x.MQLs, x.SQLs, x.Opportunities = l.Leads, l.MQLs, l.SQLs, l.Opportunities
	}
	for _, kind := range []model.ConversionKind{model.ConvOpportunity, model.ConvWon} {
		cq := q
		cq.Kinds = []model.ConversionKind{kind}
		cs, err := r.Store.SumCredits(ctx, cq, store.CreditColumns[col])
		if err != nil {
			return nil, fmt.Errorf("campaign credit: %w", err)
		}
		for _, c := range cs {
			x := get(c.RollupKey)
			if kind == model.ConvOpportunity {
				x.CreditedOpportunities, x.pipelineFen = c.Conversions, c.Fen
			} else {
				x.CreditedWon, x.revenueFen = c.Conversions, c.Fen
			}
		}
	}
	iq := q
	iq.Kinds = []model.ConversionKind{model.ConvOpportunity}
	infl, err := r.Store.SumInfluence(ctx, iq, store.DimCampaign)
	if err != nil {
		return nil, fmt.Errorf("campaign influence: %w", err)
	}
	for _, in := range infl {
		if in.CampaignID == 0 {
			continue
		}
		x := get(in.RollupKey)
		n, v := in.Conversions, in.Value
		x.InfluencedOpportunities, x.InfluencedPipeline = &n, &v
	}
	return out, nil
}

// CampaignRow is one campaign of the table with its figures.
type CampaignRow struct {
	ID         int64         `json:"id"` // 0: touches of no campaign
	Code       string        `json:"code"`
	Name       string        `json:"name"`
	NameEN     string        `json:"name_en"`
	Channel    model.Channel `json:"channel"`
	Platform   string        `json:"platform"`
	Kind       string        `json:"kind"`
	StartDate  *string       `json:"start_date"`
	EndDate    *string       `json:"end_date"`
	OwnerID    int64         `json:"owner_id,omitempty"`
	Owner      string        `json:"owner"`
	ParentID   int64         `json:"parent_id,omitempty"`
	Parent     string        `json:"parent"`
	Depth      int           `json:"depth"` // 0 for a top-level campaign
	Children   int           `json:"children"`
	Budget     model.Money   `json:"budget"`
	Archived   bool          `json:"archived"`
	LandingURL string        `json:"landing_url"`
	CampaignFigures
}

// CampaignFilter narrows the campaigns table.
type CampaignFilter struct {
	Channel  model.Channel
	Q        string // in code, name or English name, any case
	Archived bool   // include archived campaigns
}

// Active says whether the filter leaves some campaigns out.
func (f CampaignFilter) Active() bool { return f.Channel != "" || f.Q != "" }

// CampaignTable is every campaign of the filter over a range, in tree
// order (a programme, then its campaigns), with the touches of no
// campaign as a row of their own when nothing is filtered, so that the
// rows add up to the range's totals.
type CampaignTable struct {
	Model      attribution.Model `json:"model"`
	From       string            `json:"from"`
	To         string            `json:"to"`
	Rows       []CampaignRow     `json:"campaigns"`
	Total      CampaignFigures   `json:"total"`
	Programmes []CampaignRow     `json:"programmes"` // campaigns with children: their own figures plus every descendant's
}

func dayText(d time.Time) *string {
	if d.IsZero() {
		return nil
	}
	s := d.Format("2006-01-02")
	return &s
}

// Campaigns builds the campaigns table over the team days [from, to].
func (r Reporter) Campaigns(ctx context.Context, m attribution.Model, from, to time.Time, filter CampaignFilter) (*CampaignTable, error) {
	col, ok := credits.Column(m)
	if !ok {
		return nil, fmt.Errorf("model %s has no stored credits", m)
	}
	all, err := r.Store.AllCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	users, err := r.Store.UserNames(ctx)
	if err != nil {
		return nil, err
	}
	figs, err := r.campaignFigures(ctx, col, from, to, 0, false)
	if err != nil {
		return nil, err
	}
	byID := map[int64]CampaignFigures{}
	for k, f := range figs {
		byID[k.id] = f.figures()
	}
	t := &CampaignTable{Model: m, From: from.Format("2006-01-02"), To: to.Format("2006-01-02")}

	camps := map[int64]model.Campaign{}
	children := map[int64][]int64{}
	for _, c := range all {
		camps[c.ID] = c
	}
	for _, c := range all {
		p := c.ParentID
		if _, ok := camps[p]; !ok {
			p = 0 // a missing parent: show it at the top
		}
		children[p] = append(children[p], c.ID)
	}
	row := func(c model.Campaign, depth int) CampaignRow {
		f := byID[c.ID]
		if f.InfluencedOpportunities == nil {
			var n int64
			var v model.Money
			f.InfluencedOpportunities, f.InfluencedPipeline = &n, &v
		}
		f.finishRatios()
		return CampaignRow{ID: c.ID, Code: c.Code, Name: c.Name, NameEN: c.NameEN, Channel: c.Channel, Platform: c.Platform, Kind: c.Kind,
			StartDate: dayText(c.StartDate), EndDate: dayText(c.EndDate), OwnerID: c.OwnerID, Owner: users[c.OwnerID],
			ParentID: c.ParentID, Parent: camps[c.ParentID].Name, Depth: depth, Children: len(children[c.ID]),
			Budget: c.Budget, Archived: c.ArchivedAt != nil, LandingURL: c.LandingURL, CampaignFigures: f}
	}
	match := func(c model.Campaign) bool {
		if c.ArchivedAt != nil && !filter.Archived {
			return false
		}
		if filter.Channel != "" && c.Channel != filter.Channel {
			return false
		}
		if q := strings.ToLower(strings.TrimSpace(filter.Q)); q != "" {
			return strings.Contains(strings.ToLower(c.Code), q) || strings.Contains(strings.ToLower(c.Name), q) ||
				strings.Contains(strings.ToLower(c.NameEN), q)
		}
		return true
	}
	// Subtotals: a campaign's own figures plus its descendants', whatever
	// the filter (a programme's sum does not depend on what is shown).
	var subtotal func(id int64, seen map[int64]bool) CampaignFigures
	subtotal = func(id int64, seen map[int64]bool) CampaignFigures {
		seen[id] = true
		f := byID[id]
		f.InfluencedOpportunities, f.InfluencedPipeline = nil, nil
		for _, ch := range children[id] {
			if !seen[ch] {
				f.add(subtotal(ch, seen))
			}
		}
		return f
	}
	seen := map[int64]bool{}
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		ids := children[parent]
		slices.SortFunc(ids, func(a, b int64) int {
			ca, cb := camps[a], camps[b]
			return cmp.Or(cmp.Compare(cb.StartDate.Unix(), ca.StartDate.Unix()), cmp.Compare(a, b))
		})
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			c := camps[id]
			if match(c) {
				t.Rows = append(t.Rows, row(c, depth))
			}
			if len(children[id]) > 0 && (c.ArchivedAt == nil || filter.Archived) {
				p := row(c, depth)
				p.CampaignFigures = subtotal(id, map[int64]bool{})
				p.finishRatios()
				t.Programmes = append(t.Programmes, p)
			}
			walk(id, depth+1)
		}
	}
	walk(0, 0)
	// A cycle stored before the checks existed: show its campaigns too.
	for _, c := range all {
		if !seen[c.ID] && match(c) {
			t.Rows = append(t.Rows, row(c, 0))
		}
	}
	if !filter.Active() {
		none := CampaignRow{ID: 0, CampaignFigures: byID[0]}
		none.InfluencedOpportunities, none.InfluencedPipeline = nil, nil
		// Archived campaigns' figures stay in the range's totals: they are
		// added to this row when they are hidden.
		if !filter.Archived {
			for _, c := range all {
				if c.ArchivedAt != nil {
					none.add(byID[c.ID])
				}
			}
		}
		if none.Leads != 0 || none.CreditedOpportunities != 0 || none.CreditedWon != 0 || none.Cost != 0 {
			none.finishRatios()
			t.Rows = append(t.Rows, none)
		}
	}
	for _, rw := range t.Rows {
		t.Total.add(rw.CampaignFigures)
	}
	t.Total.finishRatios()
	return t, nil
}

// CampaignTarget is one target of a campaign and where it stands.
type CampaignTarget struct {
	Key    string   `json:"key"` // leads, mqls, opportunities, pipeline, revenue, budget
	Target float64  `json:"target"`
	Actual float64  `json:"actual"`
	Ratio  *float64 `json:"progress"` // actual ÷ target
	Money  bool     `json:"money"`
}

// CampaignTrendPoint is one week or month of a campaign.
type CampaignTrendPoint struct {
	Period string `json:"period"` // the first team day of the week or month
	CampaignFigures
}

// CampaignDay is a day of spend.
type CampaignDay struct {
	Day         string      `json:"day"`
	Cost        model.Money `json:"cost"`
	Impressions int64       `json:"impressions"`
	Clicks      int64       `json:"clicks"`
}

// CampaignDetail is one campaign over a range: its figures against its
// targets, by week or month and by day, what it is made of and who it
// reached.
type CampaignDetail struct {
	Row      CampaignRow          `json:"campaign"`
	Version  int64                `json:"version"`
	Targets  []CampaignTarget     `json:"targets"`
	Grain    string               `json:"grain"` // week or month
	Trend    []CampaignTrendPoint `json:"trend"`
	CostDays []CampaignDay        `json:"cost_by_day"`
	Children []CampaignRow        `json:"children"`
	Spend    []SpendLine          `json:"ad_groups_keywords"`
	Assets   []CampaignAsset      `json:"content_assets"`
}

// SpendLine is an ad group or keyword of the campaign with its spend.
type SpendLine struct {
	AdGroup     string       `json:"ad_group"`
	Keyword     string       `json:"keyword"`
	MatchType   string       `json:"match_type"`
	Cost        model.Money  `json:"cost"`
	Impressions int64        `json:"impressions"`
	Clicks      int64        `json:"clicks"`
	CTR         *float64     `json:"ctr"`
	CPC         *model.Money `json:"cpc"`
}

// CampaignAsset is a content asset of the campaign.
type CampaignAsset struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Title   string `json:"title"`
	TitleEN string `json:"title_en"`
	URL     string `json:"url"`
}

// Campaign builds a campaign's detail over the team days [from, to];
// grain is "week" or "month" ("" picks week up to 120 days, else month).
func (r Reporter) Campaign(ctx context.Context, id int64, m attribution.Model, from, to time.Time, grain string) (*CampaignDetail, error) {
	t, err := r.Campaigns(ctx, m, from, to, CampaignFilter{Archived: true})
	if err != nil {
		return nil, err
	}
	c, err := r.Store.CampaignByID(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &CampaignDetail{Version: c.Version}
	found := false
	for _, rw := range t.Rows {
		switch {
		case rw.ID == id:
			d.Row, found = rw, true
		case rw.ParentID == id && rw.ID != 0:
			d.Children = append(d.Children, rw)
		}
	}
	if !found {
		return nil, store.ErrNotFound
	}
	f := d.Row.CampaignFigures
	add := func(key string, target, actual float64, money bool) {
		if target <= 0 {
			return
		}
		ratio := actual / target
		d.Targets = append(d.Targets, CampaignTarget{Key: key, Target: target, Actual: actual, Ratio: &ratio, Money: money})
	}
	add("leads", float64(c.TargetLeads), float64(f.Leads), false)
	add("mqls", float64(c.TargetMQLs), float64(f.MQLs), false)
	add("opportunities", float64(c.TargetOpportunities), float64(f.Opportunities), false)
	add("pipeline", float64(c.TargetPipeline), float64(f.CreditedPipeline), true)
	add("revenue", float64(c.TargetRevenue), float64(f.CreditedRevenue), true)
	add("budget", float64(c.Budget), float64(f.Cost), true)

	col, _ := credits.Column(m)
	days, err := r.campaignFigures(ctx, col, from, to, id, true)
	if err != nil {
		return nil, err
	}
	if grain != "week" && grain != "month" {
		grain = "month"
		if to.Sub(from) <= 120*24*time.Hour {
			grain = "week"
		}
	}
	d.Grain = grain
	bucket := func(day time.Time) time.Time {
		if grain == "week" {
			return model.WeekOf(day)
		}
		return model.MonthOf(day)
	}
	points := map[time.Time]*CampaignFigures{}
	for p := bucket(from); !p.After(to); {
		points[p] = &CampaignFigures{}
		if grain == "week" {
			p = p.AddDate(0, 0, 7)
		} else {
			p = p.AddDate(0, 1, 0)
		}
	}
	costs := map[time.Time]*CampaignDay{}
	// Credit is rounded once per period, not once per day.
	type periodFen struct{ pipeline, revenue float64 }
	fen := map[time.Time]*periodFen{}
	for k, x := range days {
		d.Row.Touches += x.Touches
		if p := points[bucket(k.day)]; p != nil {
			p.add(x.CampaignFigures)
			pf := fen[bucket(k.day)]
			if pf == nil {
				pf = &periodFen{}
				fen[bucket(k.day)] = pf
			}
			pf.pipeline += x.pipelineFen
			pf.revenue += x.revenueFen
		}
		if x.Cost != 0 || x.Impressions != 0 || x.Clicks != 0 {
			costs[k.day] = &CampaignDay{Day: k.day.Format("2006-01-02"), Cost: x.Cost, Impressions: x.Impressions, Clicks: x.Clicks}
		}
	}
	for p, pf := range fen {
		points[p].CreditedPipeline = model.Money(math.Round(pf.pipeline))
		points[p].CreditedRevenue = model.Money(math.Round(pf.revenue))
	}
	for _, p := range slices.SortedFunc(maps.Keys(points), func(a, b time.Time) int { return a.Compare(b) }) {
		f := *points[p]
		f.finishRatios()
		d.Trend = append(d.Trend, CampaignTrendPoint{Period: p.Format("2006-01-02"), CampaignFigures: f})
	}
	for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
		if c := costs[day]; c != nil {
			d.CostDays = append(d.CostDays, *c)
		} else if len(costs) > 0 {
			d.CostDays = append(d.CostDays, CampaignDay{Day: day.Format("2006-01-02")})
		}
	}
	lines, err := r.Store.CampaignSpendLines(ctx, id, from, to)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		s := SpendLine{AdGroup: l.AdGroup, Keyword: l.Keyword, MatchType: l.MatchType, Cost: l.Cost, Impressions: l.Impressions, Clicks: l.Clicks}
		s.CTR = ratio(l.Clicks, l.Impressions)
		if l.Clicks > 0 {
			cpc := model.Money(math.Round(float64(l.Cost) / float64(l.Clicks)))
			s.CPC = &cpc
		}
		d.Spend = append(d.Spend, s)
	}
	assets, err := r.Store.CampaignAssets(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, a := range assets {
		d.Assets = append(d.Assets, CampaignAsset{ID: a.ID, Kind: a.Kind, Title: a.Title, TitleEN: a.TitleEN, URL: a.URL})
	}
	return d, nil
}
