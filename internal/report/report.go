// Package report turns stored facts into the figures marketers read: the
// headline totals, the lifecycle funnel with its conversion rates, and the
// by-channel table. Rates and ratios are computed here, once, for the API and
// the pages alike.
package report

import (
	"context"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Reporter answers report questions from a store. With KeepFacts it
// keeps the reviews' facts between requests (facts.go).
type Reporter struct {
	Store     *store.Store
	KeepFacts bool
}

// Stats are the headline figures.
type Stats struct {
	Events        int64 `json:"events"` // raw events stored
	Persons       int64 `json:"persons"`
	KnownPersons  int64 `json:"known_persons"`
	Accounts      int64 `json:"accounts"`
	Touchpoints   int64 `json:"touchpoints"`
	Campaigns     int64 `json:"campaigns"`
	Opportunities int64 `json:"opportunities"`
	Orders        int64 `json:"orders"`
	// WonRevenue, Pipeline and Cost are nil when unavailable: a total
	// beyond store.MaxTotal, which only data written around the input
	// limits reaches. Unavailable names them.
	WonRevenue *model.Money `json:"won_revenue"`
	Pipeline   *model.Money `json:"pipeline"`
	Cost       *model.Money `json:"cost"`
	Currency   string       `json:"currency"`
	// ROI is won revenue per yuan of cost; nil when there is no cost or
	// either is unavailable.
	ROI         *float64 `json:"roi"`
	Unavailable []string `json:"unavailable"`
}

// Stats returns the headline figures of the whole database.
func (r Reporter) Stats(ctx context.Context) (Stats, error) {
	t, err := r.Store.Totals(ctx)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{
		Events: t.Events, Persons: t.Persons, KnownPersons: t.KnownPersons, Accounts: t.Accounts, Touchpoints: t.Touchpoints,
		Campaigns: t.Campaigns, Opportunities: t.Opportunities, Orders: t.Orders, Currency: "CNY", Unavailable: []string{},
	}
	figure := func(name string, m model.Money) *model.Money {
		if store.Saturated(m) {
			st.Unavailable = append(st.Unavailable, name)
			return nil
		}
		return &m
	}
	st.WonRevenue, st.Pipeline, st.Cost = figure("won_revenue", t.WonRevenue), figure("pipeline", t.Pipeline), figure("cost", t.Cost)
	if st.WonRevenue != nil && st.Cost != nil {
		st.ROI = ratio(int64(t.WonRevenue), int64(t.Cost))
	}
	return st, nil
}

// FunnelMode says how the funnel counts.
type FunnelMode string

const (
	// Cohort follows the persons who became leads in the window and counts
	// how many of them reached each later stage (at any time). Rates are
	// true conversion rates between 0 and 1.
	Cohort FunnelMode = "cohort"
	// Period counts the persons who entered each stage inside the window,
	// whenever they started. Rates compare volumes and can exceed 1.
	Period FunnelMode = "period"
)

// FunnelStage is one step of a StageFunnel.
type FunnelStage struct {
	Stage model.Stage `json:"stage"`
	Count int64       `json:"count"`
	// Rate is Count divided by the previous stage's count (nil for the first
	// stage, or when the previous count is zero).
	Rate *float64 `json:"rate"`
}

// StageFunnel is the lifecycle funnel of a window in one line: lead, MQL,
// SQL, opportunity, customer, counted as the mode says.
type StageFunnel struct {
	Mode   FunnelMode    `json:"mode"`
	From   *time.Time    `json:"from"`
	To     *time.Time    `json:"to"`
	Stages []FunnelStage `json:"stages"`
	// Overall is customers divided by leads.
	Overall *float64 `json:"overall_rate"`
}

// StageFunnel counts the lifecycle stages over the team days of p, from
// the roll-ups: in cohort mode the leads of those days (rollup_leads) and
// how many of them reached each later stage by now; in period mode the
// first entries into each stage on those days (rollup_stages). The
// figures are those SummarizeStages computes from the stage history.
func (r Reporter) StageFunnel(ctx context.Context, p model.Period, mode FunnelMode) (StageFunnel, error) {
	if mode == "" {
		mode = Cohort
	}
	if mode != Cohort && mode != Period {
		return StageFunnel{}, fmt.Errorf("unknown funnel mode %q (want cohort or period)", mode)
	}
	q := store.RollupQuery{From: p.From, To: p.To}
	counts := map[model.Stage]int64{}
	switch mode {
	case Cohort:
		sums, err := r.Store.SumLeads(ctx, q)
		if err != nil {
			return StageFunnel{}, fmt.Errorf("funnel leads: %w", err)
		}
		l := sums[0]
		counts[model.StageLead], counts[model.StageMQL], counts[model.StageSQL] = l.Leads, l.MQLs, l.SQLs
		counts[model.StageOpportunity], counts[model.StageCustomer] = l.Opportunities, l.Customers
	case Period:
		q.By = []store.RollupDim{store.DimStage}
		for _, st := range model.FunnelStages {
			q.Stages = append(q.Stages, string(st))
		}
		sums, err := r.Store.SumStages(ctx, q)
		if err != nil {
			return StageFunnel{}, fmt.Errorf("funnel stage entries: %w", err)
		}
		for _, x := range sums {
			counts[model.Stage(x.Stage)] = x.Entered
		}
	}
	return stageFunnel(mode, p.Window(), counts), nil
}

// SummarizeStages counts a StageFunnel from the stage history: in cohort
// mode the persons who became leads in w (their first move to lead or a
// later stage) and, of them, how many reached each stage or a later one
// (at any time); in period mode the persons whose first entry into each
// stage lies in w (a person who left MQL and came back is counted once,
// when they first entered it).
func SummarizeStages(changes []store.FunnelChange, w model.Window, mode FunnelMode) StageFunnel {
	if mode == "" {
		mode = Cohort
	}
	in := func(t time.Time) bool {
		return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
	}
	counts := map[model.Stage]int64{}
	switch mode {
	case Cohort:
		became := map[int64]time.Time{} // when each person first reached lead or later
		reach := map[int64]int{}
		for _, c := range changes {
			if c.To.Rank() < model.StageLead.Rank() {
				continue
			}
			if t, ok := became[c.PersonID]; !ok || c.At.Before(t) {
				became[c.PersonID] = c.At
			}
			if c.To.Rank() > reach[c.PersonID] {
				reach[c.PersonID] = c.To.Rank()
			}
		}
		for p, t := range became {
			if !in(t) {
				continue
			}
			for _, st := range model.FunnelStages {
				if reach[p] >= st.Rank() {
					counts[st]++
				}
			}
		}
	case Period:
		first := map[model.Stage]map[int64]time.Time{}
		for _, c := range changes {
			if first[c.To] == nil {
				first[c.To] = map[int64]time.Time{}
			}
			if t, ok := first[c.To][c.PersonID]; !ok || c.At.Before(t) {
				first[c.To][c.PersonID] = c.At
			}
		}
		for st, persons := range first {
			for _, t := range persons {
				if in(t) {
					counts[st]++
				}
			}
		}
	}
	return stageFunnel(mode, w, counts)
}

// stageFunnel is the funnel of the counts per stage, with its rates.
func stageFunnel(mode FunnelMode, w model.Window, counts map[model.Stage]int64) StageFunnel {
	f := StageFunnel{Mode: mode, From: timePtr(w.From), To: timePtr(w.To)}
	for i, st := range model.FunnelStages {
		s := FunnelStage{Stage: st, Count: counts[st]}
		if i > 0 {
			s.Rate = ratio(s.Count, f.Stages[i-1].Count)
		}
		f.Stages = append(f.Stages, s)
	}
	f.Overall = ratio(f.Stages[len(f.Stages)-1].Count, f.Stages[0].Count)
	return f
}

// ChannelRow is one line of the by-channel table, first-touch credited.
type ChannelRow struct {
	Channel       model.Channel `json:"channel"`
	Touchpoints   int64         `json:"touchpoints"`
	Leads         int64         `json:"leads"`
	Cost          model.Money   `json:"cost"`
	CostPerLead   *model.Money  `json:"cost_per_lead"`
	Opportunities int64         `json:"opportunities"`
	Pipeline      model.Money   `json:"pipeline"`
	Won           int64         `json:"won"`
	WonRevenue    model.Money   `json:"won_revenue"`
	ROI           *float64      `json:"roi"`
	// Unavailable names the money figures beyond store.MaxTotal (about ¥90
	// trillion), which only data written around the input limits reaches:
	// they show the saturated figure and take no part in ROI or cost per
	// lead.
	Unavailable []string `json:"unavailable,omitempty"`
}

// Channels returns the by-channel table for the team days of p, plus a
// total row.
func (r Reporter) Channels(ctx context.Context, p model.Period) ([]ChannelRow, ChannelRow, error) {
	rows, err := r.Store.ChannelSummary(ctx, p)
	if err != nil {
		return nil, ChannelRow{}, err
	}
	out := make([]ChannelRow, 0, len(rows))
	var total ChannelRow
	total.Channel = "total"
	for _, c := range rows {
		row := ChannelRow{Channel: c.Channel, Touchpoints: c.Touchpoints, Leads: c.Leads, Cost: c.Cost,
			Opportunities: c.Opportunities, Pipeline: c.Pipeline, Won: c.Won, WonRevenue: c.WonRevenue}
		finish(&row)
		out = append(out, row)
		total.Touchpoints += c.Touchpoints
		total.Leads += c.Leads
		total.Cost = store.AddTotal(total.Cost, c.Cost)
		total.Opportunities += c.Opportunities
		total.Pipeline = store.AddTotal(total.Pipeline, c.Pipeline)
		total.Won += c.Won
		total.WonRevenue = store.AddTotal(total.WonRevenue, c.WonRevenue)
	}
	finish(&total)
	return out, total, nil
}

func finish(r *ChannelRow) {
	for _, f := range []struct {
		name string
		v    model.Money
	}{{"cost", r.Cost}, {"pipeline", r.Pipeline}, {"won_revenue", r.WonRevenue}} {
		if store.Saturated(f.v) {
			r.Unavailable = append(r.Unavailable, f.name)
		}
	}
	if store.Saturated(r.Cost) {
		return
	}
	if !store.Saturated(r.WonRevenue) {
		r.ROI = ratio(int64(r.WonRevenue), int64(r.Cost))
	}
	if r.Leads > 0 && r.Cost > 0 {
		// Round half away from zero to the fen, in integers.
		cpl := model.Money((int64(r.Cost)*2 + r.Leads) / (2 * r.Leads))
		r.CostPerLead = &cpl
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
