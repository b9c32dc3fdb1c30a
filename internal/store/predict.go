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

// LeadHistory is what predictive scoring may learn from about one person
// who became a lead: traits, the first times the person reached mql and
// sql-or-later, and the touches from the lead time on.
type LeadHistory struct {
	PersonID          int64
	LeadAt            time.Time
	MQLAt             *time.Time // first move to mql
	OutcomeAt         *time.Time // first move to sql, opportunity or customer
	Title, Email      string
	FirstTouchChannel string
	Industry          string
	SizeBand          string
	Employees         int
	Tier              string
	Region            string
	Touches           []LeadTouch
}

// LeadTouch is a touchpoint as predictive scoring reads it. URL is kept
// only for page views and form fills, the touches whose page matters.
type LeadTouch struct {
	At      time.Time
	Type    string
	Channel string
	URL     string
}

// LeadHistories reads every person who became a lead and was not merged
// into another, oldest id first, with touches at or after the lead time
// and before lead time + within.
func (s *Store) LeadHistories(ctx context.Context, within time.Duration) ([]LeadHistory, error) {
	return s.leadHistories(ctx, 0, within)
}

// LeadHistoryOf is LeadHistories for one person; ErrNotFound when the
// person is not a lead (or was merged away).
func (s *Store) LeadHistoryOf(ctx context.Context, personID int64, within time.Duration) (LeadHistory, error) {
	hs, err := s.leadHistories(ctx, personID, within)
	if err != nil {
		return LeadHistory{}, err
	}
	if len(hs) == 0 {
		return LeadHistory{}, ErrNotFound
	}
	return hs[0], nil
}

// leadHistories reads all leads, or one when personID is not 0. Times are
// compared in Go: SQLite keeps them as text, whose order is not exactly
// the order of time within a second.
func (s *Store) leadHistories(ctx context.Context, personID int64, within time.Duration) ([]LeadHistory, error) {
	one, args := "", []any{}
	if personID != 0 {
		one, args = " AND p.id = ?", []any{personID}
	}
	var out []LeadHistory
	index := map[int64]int{}
	err := s.each(ctx, `SELECT p.id, p.lead_at, p.title, p.email, p.first_touch_channel,
		COALESCE(a.industry, ''), COALESCE(a.size_band, ''), COALESCE(a.employees, 0), COALESCE(a.tier, ''), COALESCE(a.region, '')
		FROM persons p LEFT JOIN accounts a ON a.id = p.account_id
		WHERE p.lead_at IS NOT NULL AND p.merged_into_id IS NULL`+one+` ORDER BY p.id`, args, func(r *sql.Rows) error {
		var h LeadHistory
		if err := r.Scan(&h.PersonID, &h.LeadAt, &h.Title, &h.Email, &h.FirstTouchChannel,
			&h.Industry, &h.SizeBand, &h.Employees, &h.Tier, &h.Region); err != nil {
			return err
		}
		h.LeadAt = h.LeadAt.UTC()
		index[h.PersonID] = len(out)
		out = append(out, h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read leads: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}

	one = ""
	if personID != 0 {
		one = " AND person_id = ?"
	}
	// Entries into mql and every stage after it in the lifecycle order.
	in, stageArgs := stageList(model.LifecycleStages[model.StageMQL.Rank():])
	err = s.each(ctx, `SELECT person_id, to_stage, changed_at FROM stage_changes
		WHERE to_stage IN (`+in+`)`+one, append(stageArgs, args...), func(r *sql.Rows) error {
		var id int64
		var to string
		var at time.Time
		if err := r.Scan(&id, &to, &at); err != nil {
			return err
		}
		i, ok := index[id]
		if !ok {
			return nil
		}
		at = at.UTC()
		h := &out[i]
		slot := &h.OutcomeAt
		if model.Stage(to) == model.StageMQL {
			slot = &h.MQLAt
		}
		if *slot == nil || at.Before(**slot) {
			t := at
			*slot = &t
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read stage changes: %w", err)
	}

	one = ""
	if personID != 0 {
		one = " AND t.person_id = ?"
	}
	err = s.each(ctx, `SELECT t.person_id, t.occurred_at, t.type, t.channel, t.url
		FROM touchpoints t JOIN persons p ON p.id = t.person_id
		WHERE p.lead_at IS NOT NULL AND p.merged_into_id IS NULL`+one, args, func(r *sql.Rows) error {
		var id int64
		var t LeadTouch
		if err := r.Scan(&id, &t.At, &t.Type, &t.Channel, &t.URL); err != nil {
			return err
		}
		i, ok := index[id]
		if !ok {
			return nil
		}
		h := &out[i]
		t.At = t.At.UTC()
		if t.At.Before(h.LeadAt) || !t.At.Before(h.LeadAt.Add(within)) {
			return nil
		}
		switch t.Type {
		case "page_view", "screen_view", "form_submit":
			t.URL = clip(t.URL, 300)
		default:
			t.URL = ""
		}
		h.Touches = append(h.Touches, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read touches: %w", err)
	}
	return out, nil
}

// PersonProbability is one person's predicted probability.
type PersonProbability struct {
	PersonID    int64
	Probability float64
}

// probabilityBatch is how many persons one UPDATE sets (SQLite allows at
// most 500 terms in a compound SELECT).
const probabilityBatch = 400

// SavePredictionModel records a training run and, in the same
// transaction, sets predicted_probability and predicted_at (the run's
// trained_at) for the given persons, so that readers never see
// probabilities of a model that is not recorded. Merged persons are left
// alone. It returns the run's id; the run's scored count is len(probs),
// whatever m.Scored says.
func (s *Store) SavePredictionModel(ctx context.Context, m model.PredictionModel, probs []PersonProbability) (int64, error) {
	if m.Status != model.PredictionReady && m.Status != model.PredictionInsufficientData {
		return 0, fmt.Errorf("prediction model status %q: want %s or %s", m.Status, model.PredictionReady, model.PredictionInsufficientData)
	}
	if m.Status != model.PredictionReady && len(probs) > 0 {
		return 0, errors.New("a prediction model without data cannot score persons")
	}
	for _, p := range probs {
		if !(p.Probability >= 0 && p.Probability <= 1) {
			return 0, fmt.Errorf("probability of person %d is %v, want a number from 0 to 1", p.PersonID, p.Probability)
		}
	}
	if m.Calibration == "" {
		m.Calibration = "[]"
	}
	if m.Model == "" {
		m.Model = "{}"
	}
	at := utc(m.TrainedAt)
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.insertID(ctx, tx, `INSERT INTO prediction_models (trained_at, status, message, examples, positives,
			test_examples, test_positives, auc, brier, calibration, model, scored, duration_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			at, m.Status, clip(m.Message, 1000), m.Examples, m.Positives, m.TestExamples, m.TestPositives,
			m.AUC, m.Brier, m.Calibration, m.Model, len(probs), m.Duration.Milliseconds())
		if err != nil {
			return fmt.Errorf("record prediction model: %w", err)
		}
		for start := 0; start < len(probs); start += probabilityBatch {
			batch := probs[start:min(start+probabilityBatch, len(probs))]
			var b strings.Builder
			args := make([]any, 0, 2*len(batch)+1)
			args = append(args, at)
			// A derived table of (id, p) rows: the same SQL on both engines
			// (SQLite knows no column list on a VALUES alias).
			b.WriteString(`UPDATE persons SET predicted_probability = v.p, predicted_at = ? FROM (`)
			for i, p := range batch {
				if i > 0 {
					b.WriteString(" UNION ALL ")
				}
				b.WriteString("SELECT CAST(? AS BIGINT) AS id, CAST(? AS DOUBLE PRECISION) AS p")
				args = append(args, p.PersonID, p.Probability)
			}
			b.WriteString(`) AS v WHERE persons.id = v.id AND persons.merged_into_id IS NULL`)
			if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
				return fmt.Errorf("write predicted probabilities: %w", err)
			}
		}
		return nil
	})
	return id, err
}

const predictionModelCols = `id, trained_at, status, message, examples, positives, test_examples, test_positives,
	auc, brier, calibration, model, scored, duration_ms`

func scanPredictionModel(row *sql.Row) (model.PredictionModel, error) {
	var m model.PredictionModel
	var auc, brier sql.NullFloat64
	var ms int64
	err := row.Scan(&m.ID, &m.TrainedAt, &m.Status, &m.Message, &m.Examples, &m.Positives, &m.TestExamples, &m.TestPositives,
		&auc, &brier, &m.Calibration, &m.Model, &m.Scored, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	if err != nil {
		return m, err
	}
	m.TrainedAt = m.TrainedAt.UTC()
	if auc.Valid {
		m.AUC = &auc.Float64
	}
	if brier.Valid {
		m.Brier = &brier.Float64
	}
	m.Duration = time.Duration(ms) * time.Millisecond
	return m, nil
}

// LatestPredictionModel is the newest training run, whatever its status;
// ErrNotFound when none ever ran.
func (s *Store) LatestPredictionModel(ctx context.Context) (model.PredictionModel, error) {
	return scanPredictionModel(s.r.QueryRowContext(ctx, s.q(`SELECT `+predictionModelCols+` FROM prediction_models ORDER BY id DESC LIMIT 1`)))
}

// LatestReadyPredictionModel is the newest run that produced a model: the
// one whose probabilities persons carry. ErrNotFound when there is none.
func (s *Store) LatestReadyPredictionModel(ctx context.Context) (model.PredictionModel, error) {
	return scanPredictionModel(s.r.QueryRowContext(ctx, s.q(`SELECT `+predictionModelCols+` FROM prediction_models
		WHERE status = ? ORDER BY id DESC LIMIT 1`), model.PredictionReady))
}
