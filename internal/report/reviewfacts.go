package report

import (
	"context"
	"fmt"
	"slices"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// scopeFacts are a set of campaigns' figures over a period, by channel
// where the figure has one, read from the roll-ups (and the conversions
// the campaigns influenced): what a review's actuals are made of and what
// its explanations compare.
type scopeFacts struct {
	// Leads whose lead source is one of the campaigns, by the channel of
	// that touch, and how many of them reached each stage.
	leads, mqls, sqls, opps map[string]int64
	customers               int64
	// Touches of the campaigns by channel: registrations, attendances, and
	// downloads (of the campaigns or naming one of their assets).
	registrations, attendance, downloads map[string]int64
	interactions                         map[[2]string]int64 // channel, type → touches
	// Credit by the channel of the credited touch, in fen: won revenue
	// under the chosen model; pipeline of first touches of marketing
	// channels (sourced).
	won, sourced map[string]float64
	cost         model.Money
	clicks       int64
	// Influenced conversions, each once.
	opportunities, orders []store.InfluencedDeal
	influencedPipeline    model.Money
	orderAmount           model.Money
}

func (r Reporter) scopeFacts(ctx context.Context, ids []int64, p model.Period, col, firstCol string) (*scopeFacts, error) {
	return r.scopeFactsOf(ctx, ids, p, col, firstCol, false)
}

// scopeFactsOf is scopeFacts, the influenced deals kept (facts.go) when
// keptDeals and r.KeepFacts: a period's campaigns influence most deals.
func (r Reporter) scopeFactsOf(ctx context.Context, ids []int64, p model.Period, col, firstCol string, keptDeals bool) (*scopeFacts, error) {
	f := &scopeFacts{leads: map[string]int64{}, mqls: map[string]int64{}, sqls: map[string]int64{}, opps: map[string]int64{},
		registrations: map[string]int64{}, attendance: map[string]int64{}, downloads: map[string]int64{},
		interactions: map[[2]string]int64{}, won: map[string]float64{}, sourced: map[string]float64{}}
	base := store.RollupQuery{From: p.From, To: p.To, Campaigns: ids}

	q := base
	q.By = []store.RollupDim{store.DimChannel}
	leads, err := r.Store.SumLeads(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("review: leads by channel: %w", err)
	}
	for _, l := range leads {
		f.leads[l.Channel] += l.Leads
		f.mqls[l.Channel] += l.MQLs
		f.sqls[l.Channel] += l.SQLs
		f.opps[l.Channel] += l.Opportunities
		f.customers += l.Customers
	}

	q.By = []store.RollupDim{store.DimChannel, store.DimType}
	touches, err := r.Store.SumTouches(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("review: touches: %w", err)
	}
	for _, t := range touches {
		f.interactions[[2]string{t.Channel, t.Type}] += t.Touches
		switch {
		case slices.Contains(RegistrationTypes, t.Type):
			f.registrations[t.Channel] += t.Touches
		case slices.Contains(AttendanceTypes, t.Type):
			f.attendance[t.Channel] += t.Touches
		}
	}

	// Downloads: of the campaigns, or of their assets whatever campaign
	// the touch carries.
	var assets []int64
	for _, id := range ids {
		as, err := r.Store.CampaignAssets(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			assets = append(assets, a.ID)
		}
	}
	dq := store.RollupQuery{From: p.From, To: p.To, Types: DownloadTypes, By: []store.RollupDim{store.DimChannel, store.DimCampaign, store.DimContent}}
	if len(assets) == 0 {
		dq.Campaigns = ids
	}
	downloads, err := r.Store.SumTouches(ctx, dq)
	if err != nil {
		return nil, fmt.Errorf("review: downloads: %w", err)
	}
	for _, t := range downloads {
		if slices.Contains(ids, t.CampaignID) || slices.Contains(assets, t.ContentID) {
			f.downloads[t.Channel] += t.Touches
		}
	}

	for _, k := range []struct {
		kind model.ConversionKind
		col  string
		into map[string]float64
	}{{model.ConvWon, col, f.won}, {model.ConvOpportunity, firstCol, f.sourced}} {
		cq := base
		cq.By, cq.Kinds = []store.RollupDim{store.DimChannel}, []model.ConversionKind{k.kind}
		cs, err := r.Store.SumCredits(ctx, cq, k.col)
		if err != nil {
			return nil, fmt.Errorf("review: credits: %w", err)
		}
		for _, c := range cs {
			if k.kind == model.ConvOpportunity && !credits.IsMarketing(c.Channel) {
				continue // sourced: the first touch was marketing
			}
			k.into[c.Channel] += c.Fen
		}
	}

	costs, err := r.Store.SumCosts(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("review: spend: %w", err)
	}
	for _, c := range costs {
		f.cost = store.AddTotal(f.cost, c.Cost)
		f.clicks += c.Clicks
	}

	deals := r.influencedDeals
	if keptDeals {
		deals = func(ctx context.Context, k dealsKey) (influenced, error) {
			return kept(ctx, r, factsDeals, k, r.influencedDeals)
		}
	}
	d, err := deals(ctx, dealsKey{Window: p.Window(), IDs: ids})
	if err != nil {
		return nil, err
	}
	f.opportunities, f.orders = d.Opportunities, d.Orders
	for _, d := range f.opportunities {
		f.influencedPipeline = store.AddTotal(f.influencedPipeline, d.Amount)
	}
	for _, d := range f.orders {
		f.orderAmount = store.AddTotal(f.orderAmount, d.Amount)
	}
	return f, nil
}

// historyFacts are an earlier campaign's figures over as many days from
// its start as the review covers.
type historyFacts struct {
	campaign ReviewCampaign
	facts    *scopeFacts
}

// sameKind says whether p is a campaign of the same kind as c: the same
// kind, and for a programme (programmes group campaigns of one channel)
// or a campaign without a kind the same channel.
func sameKind(c, p model.Campaign, programme bool) bool {
	if c.Kind != p.Kind {
		return false
	}
	return (c.Kind != "" && !programme) || c.Channel == p.Channel
}

// history reads the earlier campaigns a review compares with: at most
// HistoryCampaigns campaigns of the same kind (sameKind) — programmes when
// the campaign is one, single campaigns otherwise — that started before it, the latest first, each
// over as many days from its start as the review's range has (to today at
// most).
func (r Reporter) history(ctx context.Context, c model.Campaign, tree campaignTree, q ReviewQuery, col, firstCol string) ([]historyFacts, error) {
	days := q.Period.Days()
	if c.StartDate.IsZero() || days == 0 {
		return nil, nil
	}
	programme := len(tree.children[c.ID]) > 0
	var prev []model.Campaign
	for _, p := range tree.byID {
		switch {
		case p.ID == c.ID, p.StartDate.IsZero(), !p.StartDate.Before(c.StartDate):
			continue
		case (len(tree.children[p.ID]) > 0) != programme:
			continue
		case !sameKind(c, p, programme):
			continue
		}
		prev = append(prev, p)
	}
	slices.SortFunc(prev, func(a, b model.Campaign) int {
		if d := b.StartDate.Compare(a.StartDate); d != 0 {
			return d
		}
		return int(b.ID - a.ID)
	})
	if len(prev) > HistoryCampaigns {
		prev = prev[:HistoryCampaigns]
	}
	today := q.Period.Cal.Day(q.Now)
	var out []historyFacts
	for _, p := range prev {
		from := p.StartDate
		to := from.AddDate(0, 0, days-1)
		if !q.Now.IsZero() && to.After(today) {
			to = today
		}
		per := model.Period{From: from, To: to, Cal: q.Period.Cal}
		f, err := r.scopeFacts(ctx, tree.subtree(p.ID), per, col, firstCol)
		if err != nil {
			return nil, err
		}
		rc := reviewCampaign(p)
		rc.From, rc.To = calendarDay(from), calendarDay(to)
		out = append(out, historyFacts{campaign: rc, facts: f})
	}
	return out, nil
}

// The kept facts of a period's influenced deals (facts.go).
const factsDeals = "influenced_deals"

func init() {
	registerFacts(factsDeals, func(r Reporter) func(context.Context, dealsKey) (influenced, error) { return r.influencedDeals })
}

// dealsKey is a window and the campaigns whose influence is read.
type dealsKey struct {
	Window model.Window `json:"window"`
	IDs    []int64      `json:"ids"`
}

// influenced are the opportunities and orders of a window with a
// credited touch of the campaigns.
type influenced struct {
	Opportunities []store.InfluencedDeal `json:"opportunities"`
	Orders        []store.InfluencedDeal `json:"orders"`
}

func (r Reporter) influencedDeals(ctx context.Context, k dealsKey) (influenced, error) {
	var out influenced
	var err error
	if out.Opportunities, err = r.Store.InfluencedDeals(ctx, model.ConvOpportunity, k.IDs, k.Window); err != nil {
		return out, fmt.Errorf("review: influenced opportunities: %w", err)
	}
	if out.Orders, err = r.Store.InfluencedDeals(ctx, model.ConvOrder, k.IDs, k.Window); err != nil {
		return out, fmt.Errorf("review: influenced orders: %w", err)
	}
	return out, nil
}
