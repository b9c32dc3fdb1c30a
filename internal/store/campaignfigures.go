package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// The figures of campaigns over a range of team days, read from the
// roll-ups (leads, credits, influence, touches) and from daily_costs
// (already daily): a few thousand rows at any scale.

// CampaignFigureQuery asks for campaign figures between two team days
// (both included). Campaign 0 asks for every campaign, with the touches
// of none under id 0; ByDay splits each campaign's figures by day. Model
// is the index of the attribution model's credit column (CreditColumns).
type CampaignFigureQuery struct {
	From, To time.Time
	Campaign int64
	ByDay    bool
	Model    int
}

// CampaignFigureRow is one campaign's (and, ByDay, one day's) figures.
type CampaignFigureRow struct {
	CampaignID int64
	Day        time.Time // zero unless ByDay

	Cost        model.Money
	Impressions int64
	Clicks      int64

	Touches       int64
	Leads         int64 // persons who became leads with this campaign as lead source
	MQLs          int64 // of them, reached MQL or later by now
	SQLs          int64
	Opportunities int64 // of them, reached opportunity or later by now

	CreditedOpportunities float64 // shares of opportunities created
	CreditedPipeline      float64 // fen
	CreditedWon           float64 // shares of deals won
	CreditedRevenue       float64 // fen, won revenue

	InfluencedOpportunities int64
	InfluencedPipeline      model.Money
}

type figureKey struct {
	id  int64
	day time.Time
}

// CampaignFigures sums the figures of q.
func (s *Store) CampaignFigures(ctx context.Context, q CampaignFigureQuery) ([]CampaignFigureRow, error) {
	if q.Model < 0 || q.Model >= NumCreditModels {
		return nil, fmt.Errorf("campaign figures: model column %d out of range", q.Model)
	}
	rows := map[figureKey]*CampaignFigureRow{}
	var order []figureKey
	get := func(id int64, day time.Time) *CampaignFigureRow {
		k := figureKey{id: id}
		if q.ByDay {
			k.day = dateOf(day)
		}
		r := rows[k]
		if r == nil {
			r = &CampaignFigureRow{CampaignID: id, Day: k.day}
			rows[k] = r
			order = append(order, k)
		}
		return r
	}
	from, to := dateOf(q.From), dateOf(q.To)
	where := func(col, dayCol string) (string, []any) {
		w := dayCol + " >= ? AND " + dayCol + " <= ?"
		args := []any{from, to}
		if q.Campaign != 0 {
			w = col + " = ? AND " + w
			args = append([]any{q.Campaign}, args...)
		}
		return w, args
	}
	group := func(col, dayCol string) (sel, grp string) {
		if q.ByDay {
			return col + ", " + dayCol, " GROUP BY " + col + ", " + dayCol
		}
		return col + ", NULL", " GROUP BY " + col
	}
	scanDay := func(v sql.NullTime) time.Time {
		if v.Valid {
			return v.Time
		}
		return time.Time{}
	}

	w, args := where("campaign_id", "day")
	sel, grp := group("campaign_id", "day")
	err := s.each(ctx, "SELECT "+sel+", SUM(cost_fen), SUM(impressions), SUM(clicks) FROM daily_costs WHERE "+w+grp, args, func(r *sql.Rows) error {
		var id, cost, impr, clicks int64
		var day sql.NullTime
		if err := r.Scan(&id, &day, &cost, &impr, &clicks); err != nil {
			return err
		}
		x := get(id, scanDay(day))
		x.Cost, x.Impressions, x.Clicks = model.Money(cost), impr, clicks
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("campaign costs: %w", err)
	}

	err = s.each(ctx, "SELECT "+sel+", SUM(touches) FROM rollup_touches WHERE "+w+grp, args, func(r *sql.Rows) error {
		var id, n int64
		var day sql.NullTime
		if err := r.Scan(&id, &day, &n); err != nil {
			return err
		}
		get(id, scanDay(day)).Touches = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("campaign touches: %w", err)
	}

	err = s.each(ctx, "SELECT "+sel+", SUM(leads), SUM(mqls), SUM(sqls), SUM(opportunities) FROM rollup_leads WHERE "+w+grp, args, func(r *sql.Rows) error {
		var id, leads, mqls, sqls, opps int64
		var day sql.NullTime
		if err := r.Scan(&id, &day, &leads, &mqls, &sqls, &opps); err != nil {
			return err
		}
		x := get(id, scanDay(day))
		x.Leads, x.MQLs, x.SQLs, x.Opportunities = leads, mqls, sqls, opps
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("campaign leads: %w", err)
	}

	col := CreditColumns[q.Model]
	for _, kind := range []model.ConversionKind{model.ConvOpportunity, model.ConvWon} {
		cw, cargs := where("campaign_id", "day")
		cargs = append([]any{string(kind)}, cargs...)
		err = s.each(ctx, "SELECT "+sel+", SUM("+col+"_n), SUM("+col+"_fen) FROM rollup_credits WHERE kind = ? AND "+cw+grp, cargs, func(r *sql.Rows) error {
			var id int64
			var day sql.NullTime
			var n, fen float64
			if err := r.Scan(&id, &day, &n, &fen); err != nil {
				return err
			}
			x := get(id, scanDay(day))
			if kind == model.ConvOpportunity {
				x.CreditedOpportunities, x.CreditedPipeline = n, fen
			} else {
				x.CreditedWon, x.CreditedRevenue = n, fen
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("campaign credits: %w", err)
		}
	}

	// Influence is keyed by ref, the campaign id in decimal.
	iw := "kind = ? AND dim = 'campaign' AND day >= ? AND day <= ?"
	iargs := []any{string(model.ConvOpportunity), from, to}
	if q.Campaign != 0 {
		iw += " AND ref = ?"
		iargs = append(iargs, fmt.Sprint(q.Campaign))
	}
	isel, igrp := "ref, NULL", " GROUP BY ref"
	if q.ByDay {
		isel, igrp = "ref, day", " GROUP BY ref, day"
	}
	err = s.each(ctx, "SELECT "+isel+", SUM(conversions), SUM(value_fen) FROM rollup_influence WHERE "+iw+igrp, iargs, func(r *sql.Rows) error {
		var ref string
		var day sql.NullTime
		var n, v int64
		if err := r.Scan(&ref, &day, &n, &v); err != nil {
			return err
		}
		var id int64
		if _, err := fmt.Sscan(strings.TrimSpace(ref), &id); err != nil || id == 0 {
			return nil
		}
		x := get(id, scanDay(day))
		x.InfluencedOpportunities, x.InfluencedPipeline = n, model.Money(v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("campaign influence: %w", err)
	}

	out := make([]CampaignFigureRow, 0, len(order))
	for _, k := range order {
		out = append(out, *rows[k])
	}
	return out, nil
}

// CampaignSpendLines are a campaign's costs by ad group and keyword over
// a range, with the touches that carried each keyword.
type CampaignSpendLine struct {
	AdGroupID   int64
	AdGroup     string
	KeywordID   int64
	Keyword     string
	MatchType   string
	Cost        model.Money
	Impressions int64
	Clicks      int64
}

// CampaignSpendLines lists a campaign's ad groups and keywords with their
// cost between two team days, those without cost in it too.
func (s *Store) CampaignSpendLines(ctx context.Context, id int64, from, to time.Time) ([]CampaignSpendLine, error) {
	type key struct{ g, k int64 }
	lines := map[key]*CampaignSpendLine{}
	var order []key
	add := func(k key) *CampaignSpendLine {
		if l := lines[k]; l != nil {
			return l
		}
		l := &CampaignSpendLine{AdGroupID: k.g, KeywordID: k.k}
		lines[k] = l
		order = append(order, k)
		return l
	}
	err := s.each(ctx, `SELECT g.id, g.name FROM ad_groups g WHERE g.campaign_id = ? ORDER BY g.id`, []any{id}, func(r *sql.Rows) error {
		var gid int64
		var name string
		if err := r.Scan(&gid, &name); err != nil {
			return err
		}
		add(key{gid, 0}).AdGroup = name
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT COALESCE(k.ad_group_id, 0), COALESCE(g.name, ''), k.id, k.text, k.match_type FROM keywords k
		LEFT JOIN ad_groups g ON g.id = k.ad_group_id WHERE k.campaign_id = ? ORDER BY k.id`, []any{id}, func(r *sql.Rows) error {
		var gid, kid int64
		var g, text, match string
		if err := r.Scan(&gid, &g, &kid, &text, &match); err != nil {
			return err
		}
		l := add(key{gid, kid})
		l.AdGroup, l.Keyword, l.MatchType = g, text, match
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT COALESCE(ad_group_id, 0), COALESCE(keyword_id, 0), SUM(cost_fen), SUM(impressions), SUM(clicks)
		FROM daily_costs WHERE campaign_id = ? AND day >= ? AND day <= ? GROUP BY COALESCE(ad_group_id, 0), COALESCE(keyword_id, 0)`,
		[]any{id, dateOf(from), dateOf(to)}, func(r *sql.Rows) error {
			var gid, kid, cost, impr, clicks int64
			if err := r.Scan(&gid, &kid, &cost, &impr, &clicks); err != nil {
				return err
			}
			if gid == 0 && kid == 0 {
				return nil // the campaign's own line: its total is elsewhere
			}
			l := add(key{gid, kid})
			l.Cost, l.Impressions, l.Clicks = model.Money(cost), impr, clicks
			return nil
		})
	if err != nil {
		return nil, err
	}
	out := make([]CampaignSpendLine, 0, len(order))
	for _, k := range order {
		out = append(out, *lines[k])
	}
	return out, nil
}

// CampaignAssets lists the content assets of a campaign.
func (s *Store) CampaignAssets(ctx context.Context, id int64) ([]model.ContentAsset, error) {
	return orEmpty(scanAll(ctx, s, s.r, `SELECT id, COALESCE(campaign_id, 0), kind, title, title_en, url, created_at FROM content_assets
		WHERE campaign_id = ? ORDER BY id`, []any{id}, func(r rowScanner) (model.ContentAsset, error) {
		var a model.ContentAsset
		err := r.Scan(&a.ID, &a.CampaignID, &a.Kind, &a.Title, &a.TitleEN, &a.URL, &a.CreatedAt)
		return a, err
	}))
}

// CampaignMember is a person whose touches carry a campaign, with how
// they touched it.
type CampaignMember struct {
	PersonID    int64
	Name, Email string
	Account     string
	Stage       model.Stage
	Grade       string
	Touches     int64
	Types       map[string]int64 // touch type → count
	First, Last time.Time
}

// CampaignMemberPage is one page of a campaign's members.
type CampaignMemberPage struct {
	Total   int64 // every member in the range
	Members []CampaignMember
	Next    int64 // the person id to continue after; 0 on the last page
}

// CampaignMembers lists, by person id after `after`, at most limit
// persons with a touch of the campaign between two instants [from, to),
// and counts them all; both read the (campaign, person, time, type)
// index alone.
func (s *Store) CampaignMembers(ctx context.Context, id int64, from, to time.Time, after int64, limit int) (CampaignMemberPage, error) {
	var p CampaignMemberPage
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(DISTINCT person_id) FROM touchpoints
		WHERE campaign_id = ? AND person_id IS NOT NULL AND occurred_at >= ? AND occurred_at < ?`), id, utc(from), utc(to)).Scan(&p.Total); err != nil {
		return p, err
	}
	ids, err := scanAll(ctx, s, s.r, `SELECT DISTINCT person_id FROM touchpoints
		WHERE campaign_id = ? AND person_id > ? AND occurred_at >= ? AND occurred_at < ? ORDER BY person_id LIMIT ?`,
		[]any{id, after, utc(from), utc(to), limit + 1}, scanValue[int64])
	if err != nil {
		return p, err
	}
	if len(ids) > limit {
		ids = ids[:limit]
		p.Next = ids[limit-1]
	}
	if len(ids) == 0 {
		return p, nil
	}
	inP, args := inList("p.id", ids)
	inT, _ := inList("person_id", ids)
	byID := map[int64]*CampaignMember{}
	err = s.each(ctx, `SELECT p.id, p.name, p.email, COALESCE(a.name, ''), p.stage, p.grade FROM persons p
		LEFT JOIN accounts a ON a.id = p.account_id WHERE `+inP, args, func(r *sql.Rows) error {
		var m CampaignMember
		if err := r.Scan(&m.PersonID, &m.Name, &m.Email, &m.Account, &m.Stage, &m.Grade); err != nil {
			return err
		}
		m.Types = map[string]int64{}
		byID[m.PersonID] = &m
		return nil
	})
	if err != nil {
		return p, err
	}
	targs := append([]any{id}, args...)
	targs = append(targs, utc(from), utc(to))
	err = s.each(ctx, `SELECT person_id, type, COUNT(*), MIN(occurred_at), MAX(occurred_at) FROM touchpoints
		WHERE campaign_id = ? AND `+inT+` AND occurred_at >= ? AND occurred_at < ? GROUP BY person_id, type`, targs, func(r *sql.Rows) error {
		var pid, n int64
		var typ string
		var first, last storedTime // aggregates: SQLite gives them as text
		if err := r.Scan(&pid, &typ, &n, &first, &last); err != nil {
			return err
		}
		m := byID[pid]
		if m == nil {
			return nil
		}
		m.Types[typ] += n
		m.Touches += n
		if m.First.IsZero() || first.t.Before(m.First) {
			m.First = first.t.UTC()
		}
		if last.t.After(m.Last) {
			m.Last = last.t.UTC()
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	for _, pid := range ids {
		if m := byID[pid]; m != nil {
			p.Members = append(p.Members, *m)
		}
	}
	return p, nil
}
