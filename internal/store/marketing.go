package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// The facts of the marketing and advertising dashboards that are not
// summed in roll-ups: opportunities (a few per thousand persons) summed
// by range conditions on their indexed times, the sourced and influenced
// split of their conversions, and the campaigns with their ad groups and
// keywords.

// OpportunitySum is a number of opportunities and their amount.
type OpportunitySum struct {
	Count  int64
	Amount model.Money
}

func (o *OpportunitySum) add(n int64, m model.Money) {
	o.Count += n
	o.Amount = AddTotal(o.Amount, m)
}

// OpportunityBuckets are the opportunity figures of a range cut into
// buckets (the months of a trend): bounds[i] to bounds[i+1], each start
// included and each end excluded.
type OpportunityBuckets struct {
	Created []OpportunitySum // by creation
	Won     []OpportunitySum // closed as won, by closing
	Lost    OpportunitySum   // closed as lost in the whole range
	Open    OpportunitySum   // open at the range's end: created before it, not closed by then
}

// OpportunityBuckets sums the opportunities over the buckets between
// bounds (at least two instants, in order).
func (s *Store) OpportunityBuckets(ctx context.Context, bounds []time.Time) (OpportunityBuckets, error) {
	n := len(bounds) - 1
	out := OpportunityBuckets{Created: make([]OpportunitySum, max(n, 0)), Won: make([]OpportunitySum, max(n, 0))}
	if n < 1 {
		return out, fmt.Errorf("opportunity buckets: %d bounds, want at least 2", len(bounds))
	}
	first, end := bounds[0], bounds[n]
	bucket := func(col string) (string, []any) {
		if n == 1 {
			return "0", nil
		}
		var b strings.Builder
		var args []any
		if s.dialect == SQLite {
			// The column's NUMERIC affinity would convert each bound
			// time for each row and bucket; +col has none: text compares
			// with text.
			col = "+" + col
		}
		b.WriteString("CASE")
		for i, t := range bounds[1:n] {
			fmt.Fprintf(&b, " WHEN %s < ? THEN %d", col, i)
			args = append(args, t)
		}
		fmt.Fprintf(&b, " ELSE %d END", n-1)
		return b.String(), args
	}
	created, args := bucket("created_at")
	err := s.each(ctx, `SELECT `+created+` AS b, COUNT(*), `+s.sumFen("amount_fen")+` FROM opportunities
		WHERE created_at >= ? AND created_at < ? GROUP BY b`, append(args, first, end), func(r *sql.Rows) error {
		var i, c int64
		var m model.Money
		if err := r.Scan(&i, &c, &m); err != nil {
			return err
		}
		out.Created[i].add(c, m)
		return nil
	})
	if err != nil {
		return out, err
	}
	closed, args := bucket("closed_at")
	err = s.each(ctx, `SELECT stage, `+closed+` AS b, COUNT(*), `+s.sumFen("amount_fen")+` FROM opportunities
		WHERE closed_at >= ? AND closed_at < ? AND stage IN (?, ?) GROUP BY stage, b`,
		append(args, first, end, model.OppStageClosedWon, model.OppStageClosedLost), func(r *sql.Rows) error {
			var stage string
			var i, c int64
			var m model.Money
			if err := r.Scan(&stage, &i, &c, &m); err != nil {
				return err
			}
			if stage == model.OppStageClosedWon {
				out.Won[i].add(c, m)
			} else {
				out.Lost.add(c, m)
			}
			return nil
		})
	if err != nil {
		return out, err
	}
	// Open at the end: closed after it, or not closed (two index ranges).
	err = s.each(ctx, `SELECT COUNT(*), `+s.sumFen("amount_fen")+` FROM opportunities WHERE closed_at >= ? AND created_at < ?
		UNION ALL SELECT COUNT(*), `+s.sumFen("amount_fen")+` FROM opportunities WHERE closed_at IS NULL AND created_at < ? AND stage NOT IN (?, ?)`,
		[]any{end, end, end, model.OppStageClosedWon, model.OppStageClosedLost}, func(r *sql.Rows) error {
			var c int64
			var m model.Money
			if err := r.Scan(&c, &m); err != nil {
				return err
			}
			out.Open.add(c, m)
			return nil
		})
	return out, err
}

// FirstOpportunity is when the first opportunity was created (false when
// there is none).
func (s *Store) FirstOpportunity(ctx context.Context) (time.Time, bool, error) {
	// The first row by the index, not MIN(): SQLite gives an aggregate no
	// column type, so its driver would hand back the text of the time.
	var t time.Time
	err := s.r.QueryRowContext(ctx, `SELECT created_at FROM opportunities ORDER BY created_at LIMIT 1`).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return t.UTC(), err == nil, err
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

// ConversionSplits sums the stored conversions of the kinds given that
// converted in w, by kind (a kind without any has a zero split).
func (s *Store) ConversionSplits(ctx context.Context, w model.Window, kinds ...model.ConversionKind) (map[model.ConversionKind]ConversionSplit, error) {
	out := map[model.ConversionKind]ConversionSplit{}
	if len(kinds) == 0 {
		return out, nil
	}
	in := make([]any, len(kinds))
	for i, k := range kinds {
		out[k] = ConversionSplit{Kind: k}
		in[i] = string(k)
	}
	q := `SELECT kind, COUNT(*), COALESCE(SUM(CASE WHEN sourced <> 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN influenced <> 0 THEN 1 ELSE 0 END), 0),
		` + s.sumFen("value_fen") + `, ` + s.sumFen("CASE WHEN sourced <> 0 THEN value_fen ELSE 0 END") + `, ` +
		s.sumFen("CASE WHEN influenced <> 0 THEN value_fen ELSE 0 END") + `
		FROM attribution_conversions WHERE kind IN (` + strings.TrimSuffix(strings.Repeat("?,", len(kinds)), ",") + `)`
	args := in
	if !w.From.IsZero() {
		q += " AND converted_at >= ?"
		args = append(args, w.From)
	}
	if !w.To.IsZero() {
		q += " AND converted_at < ?"
		args = append(args, w.To)
	}
	err := s.each(ctx, q+" GROUP BY kind", args, func(r *sql.Rows) error {
		var sp ConversionSplit
		var kind string
		if err := r.Scan(&kind, &sp.Conversions, &sp.Sourced, &sp.Influenced, &sp.Value, &sp.SourcedValue, &sp.InfluencedValue); err != nil {
			return err
		}
		sp.Kind = model.ConversionKind(kind)
		out[sp.Kind] = sp
		return nil
	})
	return out, err
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
