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

// Downloader is a person who downloaded a content asset in a window: when
// first, how often, who they are (their title, their account's industry
// and size band as stored), and the furthest lifecycle stage they entered
// at or after that first download.
type Downloader struct {
	ContentID, PersonID int64
	First               time.Time
	Downloads           int64
	Title               string
	Industry, SizeBand  string // "" without an account or a value
	// ReachedAfter is the furthest forward stage of the person's stage
	// changes at or after First (side states do not count; "" for none).
	ReachedAfter model.Stage
}

// MaxDownloaders bounds the (asset, person) pairs a content review reads.
const MaxDownloaders = 500_000

// ContentDownloaders lists, for the touches in w of one of types that name
// a content asset and a person, each (asset, person) pair with its first
// download, at most MaxDownloaders pairs (truncated says there were
// more). It reads the content touches alone (touchpoints_content_time).
func (s *Store) ContentDownloaders(ctx context.Context, w model.Window, types []string) (out []Downloader, truncated bool, err error) {
	if len(types) == 0 {
		return nil, false, nil
	}
	cond, args := windowClause(w, "t.occurred_at")
	cond += " AND t.type IN (?" + strings.Repeat(", ?", len(types)-1) + ")"
	for _, typ := range types {
		args = append(args, typ)
	}
	pairs := `SELECT t.content_id AS content_id, t.person_id AS person_id, MIN(t.occurred_at) AS first_at, COUNT(*) AS n
		FROM touchpoints t WHERE t.content_id IS NOT NULL AND t.person_id IS NOT NULL AND ` + cond + `
		GROUP BY t.content_id, t.person_id`
	// The furthest stage each downloader entered at or after their first
	// download, as its position in model.LifecycleStages (side states and
	// none: -1), read with the pair in one pass.
	rank := "CASE sc.to_stage"
	for i, st := range model.LifecycleStages {
		rank += fmt.Sprintf(" WHEN '%s' THEN %d", st, i)
	}
	rank += " ELSE -1 END"
	err = s.each(ctx, `SELECT d.content_id, d.person_id, d.first_at, d.n, p.title, COALESCE(a.industry, ''), COALESCE(a.size_band, ''),
			COALESCE((SELECT MAX(`+rank+`) FROM stage_changes sc WHERE sc.person_id = d.person_id AND sc.changed_at >= d.first_at), -1)
		FROM (`+pairs+`) d JOIN persons p ON p.id = d.person_id LEFT JOIN accounts a ON a.id = p.account_id
		ORDER BY d.content_id, d.person_id LIMIT ?`, append(args, MaxDownloaders+1), func(r *sql.Rows) error {
		var d Downloader
		var first storedTime // an aggregate: SQLite gives it as text
		var reached int
		if err := r.Scan(&d.ContentID, &d.PersonID, &first, &d.Downloads, &d.Title, &d.Industry, &d.SizeBand, &reached); err != nil {
			return err
		}
		if len(out) == MaxDownloaders {
			truncated = true
			return nil
		}
		d.First = first.t
		if reached >= 0 && reached < len(model.LifecycleStages) {
			d.ReachedAfter = model.LifecycleStages[reached]
		}
		out = append(out, d)
		return nil
	})
	return out, truncated, err
}

// ContentAssetByID finds a content asset.
func (s *Store) ContentAssetByID(ctx context.Context, id int64) (model.ContentAsset, error) {
	var a model.ContentAsset
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, COALESCE(campaign_id, 0), kind, title, title_en, url, created_at FROM content_assets WHERE id = ?`), id).
		Scan(&a.ID, &a.CampaignID, &a.Kind, &a.Title, &a.TitleEN, &a.URL, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	a.CreatedAt = utc(a.CreatedAt)
	return a, err
}
