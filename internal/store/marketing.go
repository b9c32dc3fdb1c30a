package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// The facts of the marketing and advertising dashboards that are not
// summed in roll-ups: opportunities (a few per thousand persons), the
// sourced and influenced split of their conversions, and the campaigns
// with their ad groups and keywords.

// OpportunityFact is one opportunity as the dashboards count it.
type OpportunityFact struct {
	ID        int64
	AccountID int64
	Stage     string
	Amount    model.Money
	CreatedAt time.Time
	ClosedAt  *time.Time
}

// Won reports whether the opportunity closed as won.
func (o OpportunityFact) Won() bool { return o.Stage == model.OppStageClosedWon && o.ClosedAt != nil }

// Lost reports whether the opportunity closed as lost.
func (o OpportunityFact) Lost() bool { return o.Stage == model.OppStageClosedLost && o.ClosedAt != nil }

// OpenAt reports whether the opportunity was open at instant t: created
// before it and not closed by then.
func (o OpportunityFact) OpenAt(t time.Time) bool {
	if !o.CreatedAt.Before(t) {
		return false
	}
	if o.ClosedAt != nil {
		return !o.ClosedAt.Before(t)
	}
	return o.Stage != model.OppStageClosedWon && o.Stage != model.OppStageClosedLost
}

// OpportunityFacts reads the opportunities a window's figures need: those
// created or closed in w, and those open at its end (a zero end: now,
// every opportunity not closed).
func (s *Store) OpportunityFacts(ctx context.Context, w model.Window) ([]OpportunityFact, error) {
	var conds []string
	var args []any
	in := func(col string) string {
		c := col + " IS NOT NULL"
		if !w.From.IsZero() {
			c += " AND " + col + " >= ?"
			args = append(args, w.From)
		}
		if !w.To.IsZero() {
			c += " AND " + col + " < ?"
			args = append(args, w.To)
		}
		return "(" + c + ")"
	}
	conds = append(conds, in("created_at"), in("closed_at"))
	if w.To.IsZero() {
		conds = append(conds, "closed_at IS NULL")
	} else {
		conds = append(conds, "(created_at < ? AND (closed_at IS NULL OR closed_at >= ?))")
		args = append(args, w.To, w.To)
	}
	q := `SELECT id, account_id, stage, amount_fen, created_at, closed_at FROM opportunities WHERE ` +
		conds[0] + " OR " + conds[1] + " OR " + conds[2] + " ORDER BY id"
	return scanAll(ctx, s, s.r, q, args, func(r rowScanner) (OpportunityFact, error) {
		var o OpportunityFact
		var closed sql.NullTime
		err := r.Scan(&o.ID, &o.AccountID, &o.Stage, &o.Amount, &o.CreatedAt, &closed)
		o.CreatedAt = o.CreatedAt.UTC()
		if closed.Valid {
			c := closed.Time.UTC()
			o.ClosedAt = &c
		}
		return o, err
	})
}

// NewCustomers counts the accounts whose first won opportunity closed in
// w.
func (s *Store) NewCustomers(ctx context.Context, w model.Window) (int64, error) {
	q := `SELECT COUNT(*) FROM (SELECT account_id, MIN(closed_at) AS first_won FROM opportunities
		WHERE stage = 'closed_won' AND closed_at IS NOT NULL GROUP BY account_id) f WHERE 1=1`
	var args []any
	if !w.From.IsZero() {
		q += " AND f.first_won >= ?"
		args = append(args, w.From)
	}
	if !w.To.IsZero() {
		q += " AND f.first_won < ?"
		args = append(args, w.To)
	}
	var n int64
	err := s.r.QueryRowContext(ctx, s.q(q), args...).Scan(&n)
	return n, err
}

// ConversionSplit is the conversions of one kind in a window as the
// stored credits saw them: all of them, those marketing sourced (the
// journey's first touch was marketing) and those it influenced (a
// marketing touch by the opportunity's creation), each with its value.
type ConversionSplit struct {
	Kind                                 model.ConversionKind
	Conversions, Sourced, Influenced     int64
	Value, SourcedValue, InfluencedValue model.Money
}

// ConversionSplits sums the stored conversions of a kind converted in w.
func (s *Store) ConversionSplits(ctx context.Context, kind model.ConversionKind, w model.Window) (ConversionSplit, error) {
	q := `SELECT COUNT(*), COALESCE(SUM(CASE WHEN sourced <> 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN influenced <> 0 THEN 1 ELSE 0 END), 0),
		` + s.sumFen("value_fen") + `, ` + s.sumFen("CASE WHEN sourced <> 0 THEN value_fen ELSE 0 END") + `, ` +
		s.sumFen("CASE WHEN influenced <> 0 THEN value_fen ELSE 0 END") + `
		FROM attribution_conversions WHERE kind = ?`
	args := []any{string(kind)}
	if !w.From.IsZero() {
		q += " AND converted_at >= ?"
		args = append(args, w.From)
	}
	if !w.To.IsZero() {
		q += " AND converted_at < ?"
		args = append(args, w.To)
	}
	sp := ConversionSplit{Kind: kind}
	err := s.r.QueryRowContext(ctx, s.q(q), args...).Scan(&sp.Conversions, &sp.Sourced, &sp.Influenced, &sp.Value, &sp.SourcedValue, &sp.InfluencedValue)
	return sp, err
}

// CampaignFact is a campaign with what the dashboards show of it.
type CampaignFact struct {
	ID                            int64
	Code, Name, NameEN            string
	Channel, Platform             string
	Start, End                    *time.Time // days; nil: open
	TargetPipeline, TargetRevenue model.Money
}

// ActiveIn reports whether the campaign's dates overlap the days from..to
// (both included; a zero end is open).
func (c CampaignFact) ActiveIn(from, to time.Time) bool {
	if c.Start != nil && !to.IsZero() && c.Start.After(to) {
		return false
	}
	if c.End != nil && !from.IsZero() && c.End.Before(from) {
		return false
	}
	return true
}

// CampaignFacts reads every campaign.
func (s *Store) CampaignFacts(ctx context.Context) ([]CampaignFact, error) {
	return scanAll(ctx, s, s.r, `SELECT id, code, name, name_en, channel, platform, start_date, end_date, target_pipeline_fen, target_revenue_fen
		FROM campaigns ORDER BY id`, nil, func(r rowScanner) (CampaignFact, error) {
		var c CampaignFact
		var start, end sql.NullTime
		err := r.Scan(&c.ID, &c.Code, &c.Name, &c.NameEN, &c.Channel, &c.Platform, &start, &end, &c.TargetPipeline, &c.TargetRevenue)
		if start.Valid {
			d := utcDay(start.Time)
			c.Start = &d
		}
		if end.Valid {
			d := utcDay(end.Time)
			c.End = &d
		}
		return c, err
	})
}

// utcDay is the date a DATE column holds, as midnight UTC.
func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// AdGroupFact is an ad group of a campaign.
type AdGroupFact struct {
	ID, CampaignID int64
	Name           string
}

// KeywordFact is a keyword of a campaign, in an ad group or not (0).
type KeywordFact struct {
	ID, CampaignID, AdGroupID int64
	Text, MatchType           string
}

// AdStructure reads the ad groups and keywords of the campaigns given.
func (s *Store) AdStructure(ctx context.Context, campaigns []int64) ([]AdGroupFact, []KeywordFact, error) {
	var groups []AdGroupFact
	var keywords []KeywordFact
	for start := 0; start < len(campaigns); start += idChunk {
		ids := campaigns[start:min(len(campaigns), start+idChunk)]
		cond, args := inList("campaign_id", ids)
		g, err := scanAll(ctx, s, s.r, `SELECT id, campaign_id, name FROM ad_groups WHERE `+cond+` ORDER BY id`, args,
			func(r rowScanner) (AdGroupFact, error) {
				var a AdGroupFact
				return a, r.Scan(&a.ID, &a.CampaignID, &a.Name)
			})
		if err != nil {
			return nil, nil, err
		}
		k, err := scanAll(ctx, s, s.r, `SELECT id, campaign_id, COALESCE(ad_group_id, 0), text, match_type FROM keywords WHERE `+cond+` ORDER BY id`, args,
			func(r rowScanner) (KeywordFact, error) {
				var k KeywordFact
				return k, r.Scan(&k.ID, &k.CampaignID, &k.AdGroupID, &k.Text, &k.MatchType)
			})
		if err != nil {
			return nil, nil, err
		}
		groups, keywords = append(groups, g...), append(keywords, k...)
	}
	return groups, keywords, nil
}
