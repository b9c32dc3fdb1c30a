package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Small reads the events and content dashboards make beside the roll-ups:
// the campaigns and assets their rows are, and the watch-time counts the
// roll-ups do not keep.

// CampaignsOfChannels reads the campaigns of the given channels, by id.
func (s *Store) CampaignsOfChannels(ctx context.Context, channels []model.Channel) ([]model.Campaign, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	args := make([]any, len(channels))
	for i, ch := range channels {
		args[i] = string(ch)
	}
	return scanAll(ctx, s, s.r, `SELECT id, code, name, name_en, channel, platform, kind, start_date, end_date, budget_fen,
		target_leads, target_mqls, target_opportunities, target_pipeline_fen, target_revenue_fen, landing_url, created_at
		FROM campaigns WHERE channel IN (`+strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+`) ORDER BY id`, args, func(r rowScanner) (model.Campaign, error) {
		var c model.Campaign
		var start, end sql.NullTime
		err := r.Scan(&c.ID, &c.Code, &c.Name, &c.NameEN, &c.Channel, &c.Platform, &c.Kind, &start, &end, &c.Budget,
			&c.TargetLeads, &c.TargetMQLs, &c.TargetOpportunities, &c.TargetPipeline, &c.TargetRevenue, &c.LandingURL, &c.CreatedAt)
		c.StartDate, c.EndDate = dayOf(start), dayOf(end)
		c.CreatedAt = utc(c.CreatedAt)
		return c, err
	})
}

// ProgrammeCampaigns are the campaigns other campaigns belong to
// (parent_id): programmes that group events, ad campaigns, assets.
func (s *Store) ProgrammeCampaigns(ctx context.Context) (map[int64]bool, error) {
	out := map[int64]bool{}
	err := s.each(ctx, `SELECT DISTINCT parent_id FROM campaigns WHERE parent_id IS NOT NULL`, nil, func(r *sql.Rows) error {
		var id int64
		if err := r.Scan(&id); err != nil {
			return err
		}
		out[id] = true
		return nil
	})
	return out, err
}

// ContentAssets reads every content asset, by id.
func (s *Store) ContentAssets(ctx context.Context) ([]model.ContentAsset, error) {
	return scanAll(ctx, s, s.r, `SELECT id, COALESCE(campaign_id, 0), kind, title, title_en, url, created_at FROM content_assets ORDER BY id`, nil,
		func(r rowScanner) (model.ContentAsset, error) {
			var a model.ContentAsset
			err := r.Scan(&a.ID, &a.CampaignID, &a.Kind, &a.Title, &a.TitleEN, &a.URL, &a.CreatedAt)
			a.CreatedAt = utc(a.CreatedAt)
			return a, err
		})
}

// WatchCount is how many touches of a campaign carry a watch time
// (Viewers) and how many of them reached a length (Long).
type WatchCount struct {
	Viewers, Long int64
}

// WatchCounts counts, per campaign of the list, the touches in w that
// carry a watch time and those watched for long or longer. It reads the
// partial index of watched touches (touchpoints_watched), not every touch.
func (s *Store) WatchCounts(ctx context.Context, w model.Window, campaigns []int64, long time.Duration) (map[int64]WatchCount, error) {
	out := map[int64]WatchCount{}
	if len(campaigns) == 0 {
		return out, nil
	}
	args := []any{int64(long / time.Second)}
	for _, id := range campaigns {
		args = append(args, id)
	}
	conds := []string{"watch_seconds > 0", "campaign_id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(campaigns)), ",") + ")"}
	if !w.From.IsZero() {
		conds = append(conds, "occurred_at >= ?")
		args = append(args, utc(w.From))
	}
	if !w.To.IsZero() {
		conds = append(conds, "occurred_at < ?")
		args = append(args, utc(w.To))
	}
	err := s.each(ctx, `SELECT campaign_id, COUNT(*), COALESCE(SUM(CASE WHEN watch_seconds >= ? THEN 1 ELSE 0 END), 0)
		FROM touchpoints WHERE `+strings.Join(conds, " AND ")+` GROUP BY campaign_id`, args, func(r *sql.Rows) error {
		var id int64
		var c WatchCount
		if err := r.Scan(&id, &c.Viewers, &c.Long); err != nil {
			return err
		}
		out[id] = c
		return nil
	})
	return out, err
}

// dayOf is a DATE column's day (midnight UTC of the date); zero for NULL.
func dayOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	u := t.Time.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}
