package model

import "time"

// Prediction model statuses (the CHECK of prediction_models.status).
const (
	PredictionReady            = "ready"
	PredictionInsufficientData = "insufficient_data"
)

// PredictionModel is one training run of the predictive model.
type PredictionModel struct {
	ID            int64
	TrainedAt     time.Time
	Status        string
	Message       string
	Examples      int
	Positives     int
	TestExamples  int
	TestPositives int
	AUC           *float64 // nil unless ready
	Brier         *float64
	Calibration   string // JSON array
	Model         string // JSON object; "{}" without a model
	Scored        int    // persons given a probability
	Duration      time.Duration
}
