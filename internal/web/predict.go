package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/store"
)

// predictRoutes mounts the predictive scoring API.
func (s *Server) predictRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/scoring/model", s.requireAPI(s.apiPredictionModel))
	m.Handle("POST /api/v1/scoring/model/train", s.requireRole(model.RoleMarketer, s.apiTrainPredictionModel))
	return nil
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

func (s *Server) predictionModelJSON(ctx context.Context, m model.PredictionModel) (predictionModelJSON, error) {
	out := predictionModelJSON{Status: m.Status, Message: m.Message, TrainedAt: m.TrainedAt, Examples: m.Examples,
		Positives: m.Positives, TestExamples: m.TestExamples, TestPositives: m.TestPositives, AUC: m.AUC, Brier: m.Brier,
		Calibration: json.RawMessage(m.Calibration), TopFeatures: []predict.Feature{}, Scored: m.Scored, TrainingMS: m.Duration.Milliseconds()}
	if !json.Valid(out.Calibration) {
		out.Calibration = json.RawMessage("[]")
	}
	active := m
	if m.Status != model.PredictionReady {
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
	if m.Status == model.PredictionReady {
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

// apiTrainPredictionModel starts a training run (an operation: 202 and
// its job; GET /api/v1/scoring/model shows the model once it is done).
func (s *Server) apiTrainPredictionModel(w http.ResponseWriter, r *http.Request) {
	s.startOperation(w, r, app.TrainModel())
}

// writePredictionModel answers 200 with a training run as
// predictionModelJSON.
func (s *Server) writePredictionModel(w http.ResponseWriter, r *http.Request, m model.PredictionModel) {
	out, err := s.predictionModelJSON(r.Context(), m)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// predictionFactors gives the top factors of a person's predicted
// probability in words; nil when no model has scored the person.
func (s *Server) predictionFactors(ctx context.Context, d model.PersonDetail) (any, error) {
	if d.PredictedProbability == nil || d.PredictedAt == nil {
		return nil, nil
	}
	f, err := predictdb.Factors(ctx, s.store, d.ID, d.PredictedAt)
	if err != nil || f == nil {
		return nil, err
	}
	return f, nil
}
