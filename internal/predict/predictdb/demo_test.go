package predictdb_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/store"
)

// TestDemoModel trains on a demo database and checks the held-out AUC the
// product promises. It runs only when REVLOOP_PREDICT_DEMO_DB names one:
//
//	go build -o /tmp/pd ./cmd/revloop && /tmp/pd demo --no-serve --db /tmp/predict-demo/demo.db
//	REVLOOP_PREDICT_DEMO_DB=/tmp/predict-demo/demo.db go test ./internal/predict/predictdb/ -run TestDemoModel -v
//
// The training time is that of the demo's own generation time unless
// REVLOOP_PREDICT_DEMO_NOW (RFC 3339) says otherwise.
func TestDemoModel(t *testing.T) {
	path := os.Getenv("REVLOOP_PREDICT_DEMO_DB")
	if path == "" {
		t.Skip("set REVLOOP_PREDICT_DEMO_DB to a demo database to run")
	}
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if v := os.Getenv("REVLOOP_PREDICT_DEMO_NOW"); v != "" {
		if now, err = time.Parse(time.RFC3339, v); err != nil {
			t.Fatal(err)
		}
	}
	m, err := predictdb.Train(ctx, s, now)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != model.PredictionReady {
		t.Fatalf("status %s: %s", m.Status, m.Message)
	}
	t.Logf("trained at %s in %v: %d examples, %d positives; held out %d (%d positives); AUC %.4f, Brier %.4f; %d persons scored",
		m.TrainedAt.Format(time.RFC3339), m.Duration.Round(time.Millisecond), m.Examples, m.Positives, m.TestExamples, m.TestPositives, *m.AUC, *m.Brier, m.Scored)
	var bins []predict.CalibrationBin
	if err := json.Unmarshal([]byte(m.Calibration), &bins); err != nil {
		t.Fatal(err)
	}
	t.Log("bin        count  mean predicted  observed")
	for _, b := range bins {
		if b.Count > 0 {
			t.Logf("%.1f–%.1f  %6d  %14.3f  %8.3f", b.Lower, b.Upper, b.Count, *b.MeanPredicted, *b.ObservedRate)
		}
	}
	pm, err := predictdb.DecodeModel(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range pm.TopFeatures(12) {
		t.Logf("%+.3f  %s", f.Coefficient, f.Feature)
	}
	shown := 0
	for id := int64(1); id < 200 && shown < 3; id++ {
		d, err := s.PersonDetail(ctx, id)
		if err != nil || d.PredictedProbability == nil {
			continue
		}
		shown++
		fs, err := predictdb.Factors(ctx, s, id, d.PredictedAt)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("person %d (%s, %s): probability %.3f", id, d.Title, d.Stage, *d.PredictedProbability)
		for _, f := range fs {
			t.Logf("    %s %s (%.2f)", f.Effect, f.Factor, f.Weight)
		}
	}
	if *m.AUC < 0.75 {
		t.Errorf("held-out AUC %.4f, want at least 0.75", *m.AUC)
	}
}
