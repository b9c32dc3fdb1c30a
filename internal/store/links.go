package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
)

const linkSelect = `SELECT l.id, l.code, l.campaign_id, c.code, l.target_url, l.utm_source, l.utm_medium, l.utm_campaign,
	l.utm_term, l.utm_content, COALESCE(l.promoter_id, 0), COALESCE(u.email, ''), l.card_id, l.created_at, l.revoked_at
	FROM tracked_links l JOIN campaigns c ON c.id = l.campaign_id LEFT JOIN users u ON u.id = l.promoter_id`

func scanLink(row interface{ Scan(...any) error }) (model.TrackedLink, error) {
	var l model.TrackedLink
	var revoked sql.NullTime
	err := row.Scan(&l.ID, &l.Code, &l.CampaignID, &l.CampaignCode, &l.TargetURL, &l.UTMSource, &l.UTMMedium, &l.UTMCampaign,
		&l.UTMTerm, &l.UTMContent, &l.PromoterID, &l.PromoterEmail, &l.CardID, &l.CreatedAt, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	l.CreatedAt = l.CreatedAt.UTC()
	if revoked.Valid {
		t := revoked.Time.UTC()
		l.RevokedAt = &t
	}
	return l, err
}

// CreateTrackedLink stores a link and returns its id; a taken code is
// ErrDuplicate, so that the caller can draw another.
func (s *Store) CreateTrackedLink(ctx context.Context, l model.TrackedLink) (int64, error) {
	if l.CreatedAt.IsZero() {
		l.CreatedAt = time.Now()
	}
	id, err := s.insertID(ctx, s.w, `INSERT INTO tracked_links (code, campaign_id, target_url, utm_source, utm_medium, utm_campaign,
		utm_term, utm_content, promoter_id, card_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.Code, l.CampaignID, l.TargetURL, l.UTMSource, l.UTMMedium, l.UTMCampaign, l.UTMTerm, l.UTMContent,
		nullID(l.PromoterID), l.CardID, utc(l.CreatedAt))
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("tracked link %s: %w", l.Code, ErrDuplicate)
	}
	return id, err
}

// TrackedLinkByCode finds a link, revoked or not.
func (s *Store) TrackedLinkByCode(ctx context.Context, code string) (model.TrackedLink, error) {
	return scanLink(s.r.QueryRowContext(ctx, s.q(linkSelect+" WHERE l.code = ?"), code))
}

// TrackedLinkByID finds a link, revoked or not.
func (s *Store) TrackedLinkByID(ctx context.Context, id int64) (model.TrackedLink, error) {
	return scanLink(s.r.QueryRowContext(ctx, s.q(linkSelect+" WHERE l.id = ?"), id))
}

// TrackedLinks lists links, newest first, at most limit of them; a
// campaignID above 0 keeps that campaign's only.
func (s *Store) TrackedLinks(ctx context.Context, campaignID int64, limit int) ([]model.TrackedLink, error) {
	q, args := linkSelect, []any{}
	if campaignID > 0 {
		q += " WHERE l.campaign_id = ?"
		args = append(args, campaignID)
	}
	q += " ORDER BY l.id DESC LIMIT ?"
	args = append(args, limit)
	var out []model.TrackedLink
	err := s.each(ctx, q, args, func(rows *sql.Rows) error {
		l, err := scanLink(rows)
		out = append(out, l)
		return err
	})
	return out, err
}

// RevokeTrackedLink stops a link: its code then answers 404. Revoking twice
// keeps the first time.
func (s *Store) RevokeTrackedLink(ctx context.Context, id int64, at time.Time) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE tracked_links SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"), utc(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// LinkCampaignByCode finds a campaign by its code.
func (s *Store) LinkCampaignByCode(ctx context.Context, code string) (model.LinkCampaign, error) {
	var c model.LinkCampaign
	err := s.r.QueryRowContext(ctx, s.q("SELECT id, code, name, channel, platform, landing_url FROM campaigns WHERE code = ?"), code).
		Scan(&c.ID, &c.Code, &c.Name, &c.Channel, &c.Platform, &c.LandingURL)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// builtinKeyName prefixes the names of write keys revloop makes for its own
// sources (tracked links, pixels, imports), so that they are told apart from
// keys people create.
const builtinKeyName = "revloop:"

// BuiltinWriteKey returns the write key of one of revloop's own event
// sources ("links", "imports"), creating it with newKey() the first time.
// Events from that source are stored under it, so that their message ids
// never collide with a client's.
func (s *Store) BuiltinWriteKey(ctx context.Context, source string, newKey func() string) (model.WriteKey, error) {
	name := builtinKeyName + source
	find := func() (model.WriteKey, error) {
		return scanWriteKey(s.w.QueryRowContext(ctx, s.q("SELECT "+writeKeyCols+" FROM write_keys WHERE name = ? AND revoked_at IS NULL ORDER BY id LIMIT 1"), name))
	}
	k, err := find()
	if !errors.Is(err, ErrNotFound) {
		return k, err
	}
	// Imports are an administrator's: trusted like a server's key. Link
	// clicks and pixels come from browsers.
	if _, err := s.CreateWriteKey(ctx, model.WriteKey{Name: name, Key: newKey(), Server: source == "imports"}); err != nil && !errors.Is(err, ErrDuplicate) {
		return k, fmt.Errorf("create write key %s: %w", name, err)
	}
	return find()
}

// LinkFigures are a tracked link's touches in a window.
type LinkFigures struct {
	// Clicks are the touches of the link's clicks (crawlers make none).
	Clicks int64
	// Leads are the persons who became leads in the window after a click
	// of the link (at or before becoming one). A lead who clicked two
	// links counts for both.
	Leads int64
}

// LinkFigures counts every link's clicks and leads in [from, to) (a zero
// end is open), and
// all links' together (a lead counted once however many links they
// clicked). It reads the link touches alone (an index holds them, with
// the columns both queries need) and the persons they lead to, so that
// it costs the links' clicks and not the touch table.
func (s *Store) LinkFigures(ctx context.Context, from, to time.Time) (map[int64]LinkFigures, LinkFigures, error) {
	if to.IsZero() {
		to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) // open
	}
	out := map[int64]LinkFigures{}
	var total LinkFigures
	err := s.each(ctx, `SELECT link_id, COUNT(*) FROM touchpoints WHERE link_id IS NOT NULL AND occurred_at >= ? AND occurred_at < ? GROUP BY link_id`,
		[]any{utc(from), utc(to)}, func(rows *sql.Rows) error {
			var id, n int64
			err := rows.Scan(&id, &n)
			f := out[id]
			f.Clicks = n
			out[id] = f
			total.Clicks += n
			return err
		})
	if err != nil {
		return nil, total, err
	}
	// The link touches drive, from their index (touchpoints_link_time),
	// and each finds its person by primary key. Joined the other way
	// round, as SQLite chose without statistics, the query walked every
	// lead of the window and all their touches before becoming one;
	// CROSS JOIN keeps SQLite's loops in this order (PostgreSQL plans it
	// as any inner join). A touch at or before a lead time in the window
	// is before the window's end, which bounds the index range. One pass
	// gives each link's leads and, counted here, all links' together:
	// the person lookups are most of its cost.
	leads := map[int64]struct{}{}
	err = s.each(ctx, `SELECT DISTINCT t.link_id, p.id FROM touchpoints t CROSS JOIN persons p
		WHERE p.id = t.person_id AND t.link_id IS NOT NULL AND t.occurred_at < ?
		AND p.lead_at >= ? AND p.lead_at < ? AND t.occurred_at <= p.lead_at`, []any{utc(to), utc(from), utc(to)}, func(rows *sql.Rows) error {
		var id, person int64
		err := rows.Scan(&id, &person)
		f := out[id]
		f.Leads++
		out[id] = f
		leads[person] = struct{}{}
		return err
	})
	total.Leads = int64(len(leads))
	return out, total, err
}

// CampaignChoice is a campaign as a form offers it.
type CampaignChoice struct {
	ID      int64  `json:"id"`
	Code    string `json:"code"`
	Name    string `json:"name"`
	Channel string `json:"channel"`
}

// CampaignChoices lists every campaign, by code, for a form to pick from
// (at most limit).
func (s *Store) CampaignChoices(ctx context.Context, limit int) ([]CampaignChoice, error) {
	var out []CampaignChoice
	err := s.each(ctx, "SELECT id, code, name, channel FROM campaigns ORDER BY code LIMIT ?", []any{limit}, func(rows *sql.Rows) error {
		var c CampaignChoice
		err := rows.Scan(&c.ID, &c.Code, &c.Name, &c.Channel)
		out = append(out, c)
		return err
	})
	return out, err
}
