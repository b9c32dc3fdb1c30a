package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/store"
)

// predictState lets one training run go at a time: a run reads every lead
// and rewrites every probability, so a second one at once only burns CPU.
type predictState struct {
	training sync.Mutex
}

// predictRetrainTask names the daily retraining job.
const predictRetrainTask = "predict_retrain"

// errTrainingBusy means a training run is already going.
var errTrainingBusy = errors.New("a training run is already in progress; try again when it ends")

// predictRoutes mounts the predictive scoring API and retrains the model
// daily.
func (s *Server) predictRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/scoring/model", s.requireAPI(s.apiPredictionModel))
	m.Handle("POST /api/v1/scoring/model/train", s.requireRole(model.RoleMarketer, s.apiTrainPredictionModel))
	if s.oneID.runner != nil {
		s.oneID.runner.AddTask(jobs.Task{Name: predictRetrainTask, Every: 24 * time.Hour, Run: func(ctx context.Context) error {
			_, err := s.trainPredictionModel(ctx)
			if errors.Is(err, errTrainingBusy) {
				return nil // the run in progress does the work
			}
			return err
		}})
	}
	return nil
}

// trainPredictionModel retrains now, unless a run is in progress.
func (s *Server) trainPredictionModel(ctx context.Context) (store.PredictionModel, error) {
	if !s.predict.training.TryLock() {
		return store.PredictionModel{}, errTrainingBusy
	}
	defer s.predict.training.Unlock()
	m, err := predictdb.Train(ctx, s.store, s.auth.Now())
	if err != nil {
		return m, err
	}
	s.log.Info("predictive model trained", "status", m.Status, "examples", m.Examples, "positives", m.Positives,
		"auc", m.AUC, "scored", m.Scored, "took", m.Duration)
	return m, nil
}

// predictionModelJSON is the answer of GET /api/v1/scoring/model.
type predictionModelJSON struct {
	Status        string            `json:"status"`
	Message       string            `json:"message"`
	TrainedAt     time.Time         `json:"trained_at"`
	Examples      int               `json:"examples"`
	Positives     int               `json:"positives"`
	TestExamples  int               `json:"test_examples"`
	TestPositives int               `json:"test_positives"`
	AUC           *float64          `json:"auc"`
	Brier         *float64          `json:"brier"`
	Calibration   json.RawMessage   `json:"calibration"`
	TopFeatures   []predict.Feature `json:"top_features"`
	WindowDays    *float64          `json:"window_days"`
	HorizonDays   *float64          `json:"horizon_days"`
	Scored        int               `json:"scored_persons"`
	TrainingMS    int64             `json:"training_ms"`
	// ActiveModelTrainedAt is when the model whose probabilities persons
	// carry was trained: the latest run that produced a model.
	ActiveModelTrainedAt *time.Time `json:"active_model_trained_at"`
}

// topFeatureCount is how many features the model overview lists.
const topFeatureCount = 10

func (s *Server) predictionModelJSON(ctx context.Context, m store.PredictionModel) (predictionModelJSON, error) {
	out := predictionModelJSON{Status: m.Status, Message: m.Message, TrainedAt: m.TrainedAt, Examples: m.Examples,
		Positives: m.Positives, TestExamples: m.TestExamples, TestPositives: m.TestPositives, AUC: m.AUC, Brier: m.Brier,
		Calibration: json.RawMessage(m.Calibration), TopFeatures: []predict.Feature{}, Scored: m.Scored, TrainingMS: m.Duration.Milliseconds()}
	if !json.Valid(out.Calibration) {
		out.Calibration = json.RawMessage("[]")
	}
	active := m
	if m.Status != store.PredictionReady {
		var err error
		active, err = s.store.LatestReadyPredictionModel(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
	at := active.TrainedAt
	out.ActiveModelTrainedAt = &at
	if m.Status == store.PredictionReady {
		pm, err := predictdb.DecodeModel(m)
		if err != nil {
			return out, err
		}
		out.TopFeatures = pm.TopFeatures(topFeatureCount)
		out.WindowDays, out.HorizonDays = &pm.WindowDays, &pm.HorizonDays
	}
	return out, nil
}

// neverTrainedJSON is the answer when no model was ever trained.
type neverTrainedJSON struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

func (s *Server) apiPredictionModel(w http.ResponseWriter, r *http.Request) {
	m, err := s.store.LatestPredictionModel(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, neverTrainedJSON{Status: "never_trained",
			Error: "no predictive model has been trained yet: POST /api/v1/scoring/model/train (marketer or admin) trains one now; it also retrains daily"})
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	s.writePredictionModel(w, r, m)
}

func (s *Server) apiTrainPredictionModel(w http.ResponseWriter, r *http.Request) {
	m, err := s.trainPredictionModel(r.Context())
	if errors.Is(err, errTrainingBusy) {
		writeJSONError(w, http.StatusConflict, err.Error())
		return
	}
	if err != nil {
		s.apiInternal(w, r, fmt.Errorf("train predictive model: %w", err))
		return
	}
	s.writePredictionModel(w, r, m)
}

// writePredictionModel answers 200 with a training run as
// predictionModelJSON.
func (s *Server) writePredictionModel(w http.ResponseWriter, r *http.Request, m store.PredictionModel) {
	out, err := s.predictionModelJSON(r.Context(), m)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// predictionFactors gives the top factors of a person's predicted
// probability in words; nil when no model has scored the person.
func (s *Server) predictionFactors(ctx context.Context, d store.PersonDetail) (any, error) {
	if d.PredictedProbability == nil || d.PredictedAt == nil {
		return nil, nil
	}
	f, err := predictdb.Factors(ctx, s.store, d.ID, d.PredictedAt)
	if err != nil || f == nil {
		return nil, err
	}
	return f, nil
}
