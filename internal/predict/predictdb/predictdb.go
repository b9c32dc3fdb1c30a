// Package predictdb runs predictive scoring over the store: it reads the
// lead history, trains a model (package predict), records the run and
// writes every lead's probability, and explains one person's probability.
package predictdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict"
	"github.com/revloop/revloop/internal/store"
)

// Train trains the model on everything the store knows as of now, records
// the run and, when a model could be trained, writes predicted_probability
// and predicted_at (= now) for every person who is a lead or later and was
// not merged. With too little data the run is recorded with status
// insufficient_data and no probability is written (persons keep those of
// the last model, if any).
func Train(ctx context.Context, s *store.Store, now time.Time) (model.PredictionModel, error) {
	return TrainWith(ctx, s, now, predict.Config{})
}

// LeaseName is the lease a training run holds: one at a time on every
// node that shares the database (a run reads every lead and rewrites
// every probability; a second one at once only burns CPU).
const LeaseName = "predict"

// TrainWith is Train with a configuration. While another run holds the
// lease it does nothing and the error is store.ErrLeaseHeld.
func TrainWith(ctx context.Context, s *store.Store, now time.Time, cfg predict.Config) (model.PredictionModel, error) {
	var m model.PredictionModel
	err := s.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		m, err = train(ctx, s, now, cfg)
		return err
	})
	return m, err
}

func train(ctx context.Context, s *store.Store, now time.Time, cfg predict.Config) (model.PredictionModel, error) {
	start := time.Now()
	now = now.UTC().Truncate(time.Microsecond)
	cfg = cfg.WithDefaults()
	hs, err := s.LeadHistories(ctx, cfg.Window)
	if err != nil {
		return model.PredictionModel{}, fmt.Errorf("predictive scoring: %w", err)
	}
	leads := make([]predict.Lead, len(hs))
	for i, h := range hs {
		leads[i] = Lead(h)
	}
	res, err := predict.Train(leads, now, cfg)
	if err != nil {
		return model.PredictionModel{}, fmt.Errorf("predictive scoring: %w", err)
	}
	calib, err := json.Marshal(res.Calibration)
	if err != nil {
		return model.PredictionModel{}, err
	}
	m := model.PredictionModel{TrainedAt: now, Status: res.Status, Message: res.Message, Examples: res.Examples,
		Positives: res.Positives, TestExamples: res.TestExamples, TestPositives: res.TestPositives, Calibration: string(calib)}
	var probs []store.PersonProbability
	if res.Status == predict.StatusReady {
		auc, brier := res.AUC, res.Brier
		m.AUC, m.Brier = &auc, &brier
		b, err := json.Marshal(res.Model)
		if err != nil {
			return model.PredictionModel{}, err
		}
		m.Model = string(b)
		probs = make([]store.PersonProbability, len(leads))
		for i, l := range leads {
			probs[i] = store.PersonProbability{PersonID: l.PersonID, Probability: res.Model.Predict(l, now)}
		}
	}
	m.Duration = time.Since(start)
	if m.ID, err = s.SavePredictionModel(ctx, m, probs); err != nil {
		return model.PredictionModel{}, err
	}
	m.Scored = len(probs)
	return m, nil
}

// Lead converts the store's view of a lead into the model's.
func Lead(h store.LeadHistory) predict.Lead {
	l := predict.Lead{PersonID: h.PersonID, LeadAt: h.LeadAt, Title: h.Title, Email: h.Email,
		FirstTouchChannel: h.FirstTouchChannel, Industry: h.Industry, SizeBand: h.SizeBand, Employees: h.Employees,
		Tier: h.Tier, Region: h.Region, Touches: make([]predict.Touch, len(h.Touches))}
	if h.MQLAt != nil {
		l.MQLAt = *h.MQLAt
	}
	if h.OutcomeAt != nil {
		l.OutcomeAt = *h.OutcomeAt
	}
	for i, t := range h.Touches {
		l.Touches[i] = predict.Touch(t)
	}
	return l
}

// DecodeModel reads a recorded run's model; an error when the run has none.
func DecodeModel(m model.PredictionModel) (*predict.Model, error) {
	if m.Status != model.PredictionReady {
		return nil, fmt.Errorf("training run %d has no model (%s)", m.ID, m.Status)
	}
	var pm predict.Model
	if err := json.Unmarshal([]byte(m.Model), &pm); err != nil {
		return nil, fmt.Errorf("training run %d: stored model: %w", m.ID, err)
	}
	return &pm, nil
}

// Factors explains the probability a person carries: the top three
// factors that raise it and the top three that lower it, as of the time it
// was predicted, by the latest trained model. nil when no model has
// scored the person.
func Factors(ctx context.Context, s *store.Store, personID int64, predictedAt *time.Time) ([]predict.Factor, error) {
	if predictedAt == nil {
		return nil, nil
	}
	rec, err := s.LatestReadyPredictionModel(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := DecodeModel(rec)
	if err != nil {
		return nil, err
	}
	h, err := s.LeadHistoryOf(ctx, personID, m.Window())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return m.Factors(Lead(h), *predictedAt, 3), nil
}
