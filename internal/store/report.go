package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Totals are the headline counts of the whole database.
type Totals struct {
	Persons       int64
	KnownPersons  int64 // persons with at least a lead stage
	Accounts      int64
	Touchpoints   int64
	Campaigns     int64
	Opportunities int64
	Orders        int64
	WonRevenue    model.Money
	Pipeline      model.Money
	Cost          model.Money
	Events        int64 // raw events stored
}

// Totals counts everything in one round trip per table. Persons merged
// into another (OneID tombstones kept for undo) are not counted.
func (s *Store) Totals(ctx context.Context) (Totals, error) {
	var t Totals
	var won, pipe, cost int64
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM events),
		(SELECT COUNT(*) FROM persons WHERE merged_into_id IS NULL),
		(SELECT COUNT(*) FROM persons WHERE stage <> 'visitor' AND merged_into_id IS NULL),
		(SELECT COUNT(*) FROM accounts),
		(SELECT COUNT(*) FROM touchpoints),
		(SELECT COUNT(*) FROM campaigns),
		(SELECT COUNT(*) FROM opportunities),
		(SELECT COUNT(*) FROM orders),
		(SELECT `+s.sumFen("amount_fen")+` FROM orders),
		(SELECT `+s.sumFen("amount_fen")+` FROM opportunities),
		(SELECT `+s.sumFen("cost_fen")+` FROM daily_costs)`).Scan(
		&t.Events, &t.Persons, &t.KnownPersons, &t.Accounts, &t.Touchpoints, &t.Campaigns,
		&t.Opportunities, &t.Orders, &won, &pipe, &cost)
	t.WonRevenue, t.Pipeline, t.Cost = model.Money(won), model.Money(pipe), model.Money(cost)
	return t, err
}

// windowClause returns a condition that col lies inside w, and its arguments.
func windowClause(w model.Window, col string) (string, []any) {
	cond, args := "1=1", []any{}
	if !w.From.IsZero() {
		cond += " AND " + col + " >= ?"
		args = append(args, utc(w.From))
	}
	if !w.To.IsZero() {
		cond += " AND " + col + " < ?"
		args = append(args, utc(w.To))
	}
	return cond, args
}

// ChannelRow is one line of the by-channel table. Touchpoints count by
// their channel, leads by the channel of their lead source (rollup_leads),
// cost by the channel of the campaign; opportunities and revenue are
// credited to the first touch of the opportunity's primary contact.
type ChannelRow struct {
	Channel       model.Channel
	Touchpoints   int64
	Leads         int64
	Cost          model.Money
	Opportunities int64
	Pipeline      model.Money
	Won           int64
	WonRevenue    model.Money
}

// ChannelSummary builds the by-channel table for the team days of p:
// touchpoints and leads from the roll-ups, cost from daily costs, and
// opportunities and orders (a few thousand rows) from their tables over
// the period's instants.
func (s *Store) ChannelSummary(ctx context.Context, p model.Period) ([]ChannelRow, error) {
	rows := map[model.Channel]*ChannelRow{}
	get := func(ch string) *ChannelRow {
		c := model.Channel(ch)
		if c == "" {
			c = model.ChannelUnknown
		}
		r := rows[c]
		if r == nil {
			r = &ChannelRow{Channel: c}
			rows[c] = r
		}
		return r
	}
	q := RollupQuery{From: p.From, To: p.To, By: []RollupDim{DimChannel}}
	touches, err := s.SumTouches(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, t := range touches {
		get(t.Channel).Touchpoints += t.Touches
	}
	leads, err := s.SumLeads(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, l := range leads {
		get(l.Channel).Leads += l.Leads
	}
	costs, err := s.SumCosts(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, c := range costs {
		r := get(c.Channel)
		r.Cost = AddTotal(r.Cost, c.Cost)
	}
	w := p.Window()
	type query struct {
		sql  string
		col  string
		scan func(ch string, a, b int64)
	}
	queries := []query{
		{`SELECT p.first_touch_channel, COUNT(*), ` + s.sumFen("o.amount_fen") + ` FROM opportunities o
			JOIN opportunity_contacts oc ON oc.opportunity_id = o.id AND oc.is_primary
			JOIN persons p ON p.id = oc.person_id WHERE %s GROUP BY p.first_touch_channel`, "o.created_at",
			func(ch string, a, b int64) {
				r := get(ch)
				r.Opportunities, r.Pipeline = r.Opportunities+a, AddTotal(r.Pipeline, model.Money(b))
			}},
		// Orders first, then their primary contacts: without statistics
		// SQLite would walk every person and look for their orders.
		{`SELECT p.first_touch_channel, COUNT(*), ` + s.sumFen("r.amount_fen") + ` FROM orders r
			` + s.joinInOrder() + ` opportunity_contacts oc ON oc.opportunity_id = r.opportunity_id AND oc.is_primary
			` + s.joinInOrder() + ` persons p ON p.id = oc.person_id WHERE %s GROUP BY p.first_touch_channel`, "r.ordered_at",
			func(ch string, a, b int64) {
				r := get(ch)
				r.Won, r.WonRevenue = r.Won+a, AddTotal(r.WonRevenue, model.Money(b))
			}},
	}
	for _, qu := range queries {
		cond, args := windowClause(w, qu.col)
		if err := s.each(ctx, fmt.Sprintf(qu.sql, cond), args, func(r *sql.Rows) error {
			var ch string
			var a, b int64
			if err := r.Scan(&ch, &a, &b); err != nil {
				return err
			}
			qu.scan(ch, a, b)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	out := make([]ChannelRow, 0, len(rows))
	for _, ch := range model.Channels {
		if r, ok := rows[ch]; ok {
			out = append(out, *r)
			delete(rows, ch)
		}
	}
	rest := make([]model.Channel, 0, len(rows))
	for ch := range rows { // channels outside the known list, if rules added any
		rest = append(rest, ch)
	}
	slices.Sort(rest)
	for _, ch := range rest {
		out = append(out, *rows[ch])
	}
	return out, nil
}

// windowDayClause is windowClause for DATE columns: days are compared as dates.
func windowDayClause(w model.Window, col string) (string, []any) {
	day := func(t time.Time) time.Time {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	cond, args := "1=1", []any{}
	if !w.From.IsZero() {
		cond += " AND " + col + " >= ?"
		args = append(args, day(w.From))
	}
	if !w.To.IsZero() {
		cond += " AND " + col + " < ?"
		args = append(args, day(w.To.Add(24*time.Hour-time.Nanosecond)))
	}
	return cond, args
}

// joinInOrder is an inner join that SQLite's planner must take in the
// order written (its CROSS JOIN); PostgreSQL plans a JOIN from statistics.
func (s *Store) joinInOrder() string {
	if s.dialect == SQLite {
		return "CROSS JOIN"
	}
	return "JOIN"
}
