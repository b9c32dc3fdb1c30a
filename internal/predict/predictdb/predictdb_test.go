package predictdb_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/predict/predicttest"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestTrainWritesProbabilitiesAndExplainsThem(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		w := predicttest.Load(t, s, 400, now)
		m, err := predictdb.Train(ctx, s, now)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != model.PredictionReady || m.Examples != 400 || m.Positives != w.Positives || m.TestExamples != 100 || m.Scored != 400 {
			t.Fatalf("run %+v (positives want %d)", m, w.Positives)
		}
		if m.AUC == nil || *m.AUC < 0.65 || m.Brier == nil || !m.TrainedAt.Equal(now) {
			t.Fatalf("AUC %v Brier %v at %v", m.AUC, m.Brier, m.TrainedAt)
		}
		var bins []predict.CalibrationBin
		if err := json.Unmarshal([]byte(m.Calibration), &bins); err != nil || len(bins) != 10 {
			t.Fatalf("calibration %s: %v", m.Calibration, err)
		}
		rec, err := s.LatestReadyPredictionModel(ctx)
		if err != nil || rec.ID != m.ID {
			t.Fatalf("recorded %+v, %v", rec, err)
		}
		pm, err := predictdb.DecodeModel(rec)
		if err != nil || pm.WindowDays != 14 || pm.HorizonDays != 90 || len(pm.Columns) == 0 {
			t.Fatalf("model %+v, %v", pm, err)
		}
		for _, id := range w.PersonIDs {
			d, err := s.PersonDetail(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if d.PredictedProbability == nil || *d.PredictedProbability <= 0 || *d.PredictedProbability >= 1 || !d.PredictedAt.Equal(now) {
				t.Fatalf("person %d: %v at %v", id, d.PredictedProbability, d.PredictedAt)
			}
			fs, err := predictdb.Factors(ctx, s, id, d.PredictedAt)
			if err != nil || len(fs) == 0 {
				t.Fatalf("factors of %d: %v, %v", id, fs, err)
			}
			for _, f := range fs {
				if f.Weight <= 0 || (f.Effect != predict.Raises && f.Effect != predict.Lowers) || f.Factor == "" {
					t.Fatalf("factor %+v", f)
				}
			}
		}
		// Person 1's factors name its webinar attendance (or its absence).
		d, _ := s.PersonDetail(ctx, 1)
		fs, _ := predictdb.Factors(ctx, s, 1, d.PredictedAt)
		found := false
		for _, f := range fs {
			found = found || strings.Contains(f.Factor, "webinar")
		}
		if !found {
			t.Errorf("factors of person 1 do not mention webinars: %+v", fs)
		}
		// A person without a probability has no factors.
		if fs, err := predictdb.Factors(ctx, s, 1, nil); fs != nil || err != nil {
			t.Fatalf("factors without a probability: %v, %v", fs, err)
		}
	})
}

func TestTrainWithTooLittleData(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		predicttest.Load(t, s, 120, now)
		m, err := predictdb.Train(ctx, s, now)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != model.PredictionInsufficientData || m.AUC != nil || m.Brier != nil || m.Scored != 0 || m.Examples != 120 ||
			!strings.Contains(m.Message, "only 120 leads have a known outcome") {
			t.Fatalf("run %+v", m)
		}
		got, err := s.LatestPredictionModel(ctx)
		if err != nil || got.ID != m.ID || got.Status != model.PredictionInsufficientData || got.Model != "{}" {
			t.Fatalf("recorded %+v, %v", got, err)
		}
		d, _ := s.PersonDetail(ctx, 1)
		if d.PredictedProbability != nil {
			t.Fatal("a probability was written without a model")
		}
		if fs, err := predictdb.Factors(ctx, s, 1, &now); fs != nil || err != nil {
			t.Fatalf("factors without a model: %v, %v", fs, err)
		}
	})
}
