package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// What a campaign is made of and who it reached: its ad groups and
// keywords with their spend, its content assets, its members.

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
