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

// Campaigns as people create and edit them (the campaigns page and API);
// imports and tracked links still find them by code (imports.go,
// process.go).

// ErrStale is an edit made on a copy older than the stored campaign: its
// version is not the stored one.
var ErrStale = errors.New("changed by someone else since it was read")

// ErrCycle is a parent that would make a campaign its own ancestor.
var ErrCycle = errors.New("a campaign cannot be inside itself")

const campaignCols = `id, code, name, name_en, channel, platform, kind, start_date, end_date, budget_fen,
	target_leads, target_mqls, target_opportunities, target_pipeline_fen, target_revenue_fen, landing_url, created_at,
	COALESCE(owner_id, 0), COALESCE(parent_id, 0), updated_at, version, archived_at`

func scanCampaign(r rowScanner) (model.Campaign, error) {
	var c model.Campaign
	var start, end, updated, archived sql.NullTime
	err := r.Scan(&c.ID, &c.Code, &c.Name, &c.NameEN, &c.Channel, &c.Platform, &c.Kind, &start, &end, &c.Budget,
		&c.TargetLeads, &c.TargetMQLs, &c.TargetOpportunities, &c.TargetPipeline, &c.TargetRevenue, &c.LandingURL, &c.CreatedAt,
		&c.OwnerID, &c.ParentID, &updated, &c.Version, &archived)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if start.Valid {
		c.StartDate = dateOf(start.Time)
	}
	if end.Valid {
		c.EndDate = dateOf(end.Time)
	}
	c.CreatedAt = c.CreatedAt.UTC()
	if updated.Valid {
		t := updated.Time.UTC()
		c.UpdatedAt = &t
	}
	if archived.Valid {
		t := archived.Time.UTC()
		c.ArchivedAt = &t
	}
	return c, err
}

// dateOf is a DATE column's value as a day: midnight UTC of its date.
func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// nullDay stores a zero day as NULL.
func nullDay(d time.Time) any {
	if d.IsZero() {
		return nil
	}
	return dateOf(d)
}

// AllCampaigns lists every campaign by id, archived ones too.
func (s *Store) AllCampaigns(ctx context.Context) ([]model.Campaign, error) {
	return orEmpty(scanAll(ctx, s, s.r, "SELECT "+campaignCols+" FROM campaigns ORDER BY id", nil, scanCampaign))
}

// CampaignByID finds a campaign.
func (s *Store) CampaignByID(ctx context.Context, id int64) (model.Campaign, error) {
	return scanCampaign(s.r.QueryRowContext(ctx, s.q("SELECT "+campaignCols+" FROM campaigns WHERE id = ?"), id))
}

// CampaignByCode finds a campaign by its code in any case, as touches
// find theirs (utm_campaign).
func (s *Store) CampaignByCode(ctx context.Context, code string) (model.Campaign, error) {
	return scanCampaign(s.r.QueryRowContext(ctx, s.q("SELECT "+campaignCols+" FROM campaigns WHERE LOWER(code) = ? ORDER BY id LIMIT 1"), strings.ToLower(code)))
}

// CreateCampaign stores a new campaign and returns it with its id. A code
// taken by another campaign in any case is ErrDuplicate; an unknown owner
// or parent is ErrNotFound.
func (s *Store) CreateCampaign(ctx context.Context, c model.Campaign, now time.Time) (model.Campaign, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkCampaignRefs(ctx, tx, c); err != nil {
			return err
		}
		c.CreatedAt, c.Version = utc(now), 1
		t := c.CreatedAt
		c.UpdatedAt = &t
		id, err := s.insertID(ctx, tx, `INSERT INTO campaigns (code, name, name_en, channel, platform, kind, start_date, end_date, budget_fen,
			target_leads, target_mqls, target_opportunities, target_pipeline_fen, target_revenue_fen, landing_url, created_at,
			owner_id, parent_id, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Code, c.Name, c.NameEN, string(c.Channel), c.Platform, c.Kind, nullDay(c.StartDate), nullDay(c.EndDate), int64(c.Budget),
			c.TargetLeads, c.TargetMQLs, c.TargetOpportunities, int64(c.TargetPipeline), int64(c.TargetRevenue), c.LandingURL, c.CreatedAt,
			nullID(c.OwnerID), nullID(c.ParentID), c.CreatedAt, c.Version)
		if isUniqueViolation(err) {
			return fmt.Errorf("campaign code %s: %w", c.Code, ErrDuplicate)
		}
		c.ID = id
		return err
	})
	return c, err
}

// UpdateCampaign replaces a campaign's editable fields. With a version
// the stored version must equal it (else ErrStale); without one (nil) the
// last write wins. It returns the campaign as stored, its version bumped.
func (s *Store) UpdateCampaign(ctx context.Context, c model.Campaign, version *int64, now time.Time) (model.Campaign, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanCampaign(tx.QueryRowContext(ctx, s.q("SELECT "+campaignCols+" FROM campaigns WHERE id = ?"), c.ID))
		if err != nil {
			return err
		}
		if version != nil && cur.Version != *version {
			return ErrStale
		}
		if err := s.checkCampaignRefs(ctx, tx, c); err != nil {
			return err
		}
		t := utc(now)
		res, err := tx.ExecContext(ctx, s.q(`UPDATE campaigns SET code = ?, name = ?, name_en = ?, channel = ?, platform = ?, kind = ?,
			start_date = ?, end_date = ?, budget_fen = ?, target_leads = ?, target_mqls = ?, target_opportunities = ?,
			target_pipeline_fen = ?, target_revenue_fen = ?, landing_url = ?, owner_id = ?, parent_id = ?, updated_at = ?, version = version + 1
			WHERE id = ? AND version = ?`),
			c.Code, c.Name, c.NameEN, string(c.Channel), c.Platform, c.Kind, nullDay(c.StartDate), nullDay(c.EndDate), int64(c.Budget),
			c.TargetLeads, c.TargetMQLs, c.TargetOpportunities, int64(c.TargetPipeline), int64(c.TargetRevenue), c.LandingURL,
			nullID(c.OwnerID), nullID(c.ParentID), t, c.ID, cur.Version)
		if isUniqueViolation(err) {
			return fmt.Errorf("campaign code %s: %w", c.Code, ErrDuplicate)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrStale
		}
		c, err = scanCampaign(tx.QueryRowContext(ctx, s.q("SELECT "+campaignCols+" FROM campaigns WHERE id = ?"), c.ID))
		return err
	})
	return c, err
}

// checkCampaignRefs checks, inside a write, what a campaign refers to: a
// code no other campaign has in any case, an owner and a parent that
// exist, and a parent chain that does not come back to the campaign.
func (s *Store) checkCampaignRefs(ctx context.Context, tx *sql.Tx, c model.Campaign) error {
	var other int64
	err := tx.QueryRowContext(ctx, s.q("SELECT id FROM campaigns WHERE LOWER(code) = ? AND id <> ? LIMIT 1"), strings.ToLower(c.Code), c.ID).Scan(&other)
	switch {
	case err == nil:
		return fmt.Errorf("campaign code %s (campaign %d): %w", c.Code, other, ErrDuplicate)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if c.OwnerID != 0 {
		var n int
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM users WHERE id = ?"), c.OwnerID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("owner %d: %w", c.OwnerID, ErrNotFound)
		}
	}
	// Walk up from the parent: reaching the campaign is a cycle; a chain
	// longer than the table is one too (a cycle already stored).
	seen := map[int64]bool{}
	for p := c.ParentID; p != 0; {
		if p == c.ID && c.ID != 0 {
			return ErrCycle
		}
		if seen[p] {
			return ErrCycle
		}
		seen[p] = true
		var next sql.NullInt64
		err := tx.QueryRowContext(ctx, s.q("SELECT parent_id FROM campaigns WHERE id = ?"), p).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("parent %d: %w", p, ErrNotFound)
		}
		if err != nil {
			return err
		}
		p = next.Int64
	}
	return nil
}

// ArchiveCampaign archives (or, with archived false, restores) a
// campaign. Its touches, costs and links stay; it leaves the lists.
func (s *Store) ArchiveCampaign(ctx context.Context, id int64, archived bool, now time.Time) error {
	var at any
	if archived {
		at = utc(now)
	}
	res, err := s.w.ExecContext(ctx, s.q("UPDATE campaigns SET archived_at = ?, updated_at = ?, version = version + 1 WHERE id = ?"), at, utc(now), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// CampaignUsage is what refers to a campaign: touches (whose links and
// forms carry its code), costs and tracked links.
type CampaignUsage struct {
	Touches, Costs, Links int64
}

// CampaignUsage counts what refers to a campaign.
func (s *Store) CampaignUsage(ctx context.Context, id int64) (CampaignUsage, error) {
	var u CampaignUsage
	err := s.r.QueryRowContext(ctx, s.q(`SELECT
		(SELECT COUNT(*) FROM touchpoints WHERE campaign_id = ?),
		(SELECT COUNT(*) FROM daily_costs WHERE campaign_id = ?),
		(SELECT COUNT(*) FROM tracked_links WHERE campaign_id = ?)`), id, id, id).Scan(&u.Touches, &u.Costs, &u.Links)
	return u, err
}

// CampaignCodeTaken reports whether a campaign other than except has the
// code in any case.
func (s *Store) CampaignCodeTaken(ctx context.Context, code string, except int64) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM campaigns WHERE LOWER(code) = ? AND id <> ?"), strings.ToLower(code), except).Scan(&n)
	return n > 0, err
}

// UserNames maps every user's id to their name, else email.
func (s *Store) UserNames(ctx context.Context) (map[int64]string, error) {
	return idMap[string](ctx, s, "SELECT id, CASE WHEN name <> '' THEN name ELSE email END FROM users")
}
