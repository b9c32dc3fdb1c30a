package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Period groups (migration 00047): the campaigns of a range of team days
// (a quarter, any range), all of them or those of a channel or a kind,
// with targets of their own for a period review. A group is known by its
// range and narrowing; it is stored when its targets are first set.

// PeriodGroupKey names a period group.
type PeriodGroupKey struct {
	From, To time.Time // team days, both included (dates at UTC midnight)
	Channel  model.Channel
	Kind     string
}

func (k PeriodGroupKey) args() []any {
	return []any{utcDate(k.From), utcDate(k.To), string(k.Channel), k.Kind}
}

// PeriodTargets reads a period group's targets (in hundredths of the
// metric's unit), in the catalogue's order; none for a group never
// stored.
func (s *Store) PeriodTargets(ctx context.Context, k PeriodGroupKey) ([]model.CampaignTarget, error) {
	ts, err := scanAll(ctx, s, s.r, `SELECT t.metric, t.value FROM period_group_targets t JOIN period_groups g ON g.id = t.group_id
		WHERE g.from_date = ? AND g.to_date = ? AND g.channel = ? AND g.kind = ?`, k.args(), func(r rowScanner) (model.CampaignTarget, error) {
		var t model.CampaignTarget
		err := r.Scan(&t.Metric, &t.Value)
		return t, err
	})
	return catalogueOrder(ts), err
}

// catalogueOrder sorts targets as model.ReviewMetrics lists the metrics;
// never nil.
func catalogueOrder(ts []model.CampaignTarget) []model.CampaignTarget {
	out := []model.CampaignTarget{}
	for _, m := range model.ReviewMetrics {
		for _, t := range ts {
			if t.Metric == m.Key {
				out = append(out, t)
			}
		}
	}
	return out
}

// SetPeriodTargets replaces a period group's targets, storing the group
// when new.
func (s *Store) SetPeriodTargets(ctx context.Context, k PeriodGroupKey, ts []model.CampaignTarget, now time.Time) ([]model.CampaignTarget, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		q := s.q(`SELECT id FROM period_groups WHERE from_date = ? AND to_date = ? AND channel = ? AND kind = ?`)
		err := tx.QueryRowContext(ctx, q, k.args()...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO period_groups (from_date, to_date, channel, kind, created_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (from_date, to_date, channel, kind) DO NOTHING`), append(k.args(), utc(now))...); err != nil {
				return err
			}
			err = tx.QueryRowContext(ctx, q, k.args()...).Scan(&id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM period_group_targets WHERE group_id = ?`), id); err != nil {
			return err
		}
		for _, t := range ts {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO period_group_targets (group_id, metric, value) VALUES (?, ?, ?)`), id, t.Metric, t.Value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.PeriodTargets(ctx, k)
}
