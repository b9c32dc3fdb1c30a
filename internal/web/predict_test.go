package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict/predicttest"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

var predictNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// newPredictEnv serves n synthetic leads (see predicttest) with one API
// key per role and the clock stopped at predictNow.
func newPredictEnv(t *testing.T, s *store.Store, n int) (*env, map[model.Role]string) {
	t.Helper()
	predicttest.Load(t, s, n, predictNow)
	a := auth.New(s)
	a.Now = func() time.Time { return predictNow }
	keys := map[model.Role]string{}
	for _, r := range model.Roles {
		k, _, err := a.CreateAPIKey(ctx, string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		keys[r] = k
	}
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	startApp(t, srv)
	return &env{store: s, auth: a, srv: srv, h: srv.Handler(), key: keys[model.RoleViewer]}, keys
}

func (e *env) call(t *testing.T, method, target, key string) *http.Response {
	t.Helper()
	h := map[string]string{}
	if key != "" {
		h["Authorization"] = "Bearer " + key
	}
	return e.do(t, req{method: method, target: target, header: h})
}

type modelAnswer struct {
	Status       string   `json:"status"`
	Error        string   `json:"error"`
	Message      string   `json:"message"`
	TrainedAt    string   `json:"trained_at"`
	Examples     int      `json:"examples"`
	Positives    int      `json:"positives"`
	TestExamples int      `json:"test_examples"`
	AUC          *float64 `json:"auc"`
	Brier        *float64 `json:"brier"`
	Calibration  []struct {
		Lower float64 `json:"lower"`
		Upper float64 `json:"upper"`
		Count int     `json:"count"`
	} `json:"calibration"`
	TopFeatures []struct {
		Feature     string  `json:"feature"`
		Coefficient float64 `json:"coefficient"`
		Effect      string  `json:"effect"`
	} `json:"top_features"`
	WindowDays  *float64 `json:"window_days"`
	Scored      int      `json:"scored_persons"`
	ActiveModel *string  `json:"active_model_trained_at"`
}

func TestPredictionModelAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e, keys := newPredictEnv(t, s, 300)

		if res := e.call(t, "GET", "/api/v1/scoring/model", ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("no key: %d", res.StatusCode)
		}
		var never modelAnswer
		decodeJSON(t, e.call(t, "GET", "/api/v1/scoring/model", keys[model.RoleViewer]), http.StatusNotFound, &never)
		if never.Status != "never_trained" || !strings.Contains(never.Error, "POST /api/v1/scoring/model/train") {
			t.Fatalf("never trained: %+v", never)
		}
		// The person has no probability and no factors yet.
		var p map[string]json.RawMessage
		decodeJSON(t, e.call(t, "GET", "/api/v1/persons/1", keys[model.RoleViewer]), http.StatusOK, &p)
		if string(p["predicted_probability"]) != "null" || p["prediction_factors"] != nil {
			t.Fatalf("untrained person: %s %s", p["predicted_probability"], p["prediction_factors"])
		}

		for _, r := range []model.Role{model.RoleViewer, model.RoleSales} {
			var ans apiError
			decodeJSON(t, e.call(t, "POST", "/api/v1/scoring/model/train", keys[r]), http.StatusForbidden, &ans)
			if !strings.Contains(ans.Error, "marketer") {
				t.Fatalf("%s may not train: %+v", r, ans)
			}
		}

		// Training is an operation: 202, then the job's result.
		job := operate(t, e.h, "POST", "/api/v1/scoring/model/train", keys[model.RoleMarketer], "")
		var result struct {
			Status string `json:"status"`
			Scored int    `json:"scored_persons"`
		}
		if job.State != model.JobSucceeded || job.Kind != "scoring.train" || json.Unmarshal(job.Result, &result) != nil ||
			result.Status != "ready" || result.Scored != 300 {
			t.Fatalf("training job: %+v", job)
		}
		var trained modelAnswer
		decodeJSON(t, e.call(t, "GET", "/api/v1/scoring/model", keys[model.RoleViewer]), http.StatusOK, &trained)
		if trained.Status != "ready" || trained.Examples != 300 || trained.TestExamples != 75 || trained.Scored != 300 ||
			trained.TrainedAt != "2026-06-01T12:00:00Z" || trained.AUC == nil || *trained.AUC <= 0.5 || *trained.AUC > 1 ||
			trained.Brier == nil || len(trained.Calibration) != 10 || trained.Calibration[9].Upper != 1 ||
			len(trained.TopFeatures) == 0 || trained.WindowDays == nil || *trained.WindowDays != 14 ||
			trained.ActiveModel == nil || *trained.ActiveModel != trained.TrainedAt {
			t.Fatalf("trained: %+v", trained)
		}
		n := 0
		for _, b := range trained.Calibration {
			n += b.Count
		}
		if n != trained.TestExamples {
			t.Fatalf("calibration counts %d of %d held-out leads", n, trained.TestExamples)
		}

		var got modelAnswer
		decodeJSON(t, e.call(t, "GET", "/api/v1/scoring/model", keys[model.RoleViewer]), http.StatusOK, &got)
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(trained)
		if string(a) != string(b) {
			t.Fatalf("GET after training\n%s\nwant\n%s", a, b)
		}

		// The person now carries a probability and its reasons in words.
		p = nil
		decodeJSON(t, e.call(t, "GET", "/api/v1/persons/1", keys[model.RoleViewer]), http.StatusOK, &p)
		var prob float64
		var factors []struct {
			Factor string  `json:"factor"`
			Effect string  `json:"effect"`
			Weight float64 `json:"weight"`
		}
		if err := json.Unmarshal(p["predicted_probability"], &prob); err != nil || prob <= 0 || prob >= 1 {
			t.Fatalf("probability %s", p["predicted_probability"])
		}
		if err := json.Unmarshal(p["prediction_factors"], &factors); err != nil || len(factors) == 0 || len(factors) > 6 {
			t.Fatalf("factors %s", p["prediction_factors"])
		}
		for _, f := range factors {
			if f.Factor == "" || (f.Effect != "raises" && f.Effect != "lowers") || f.Weight <= 0 {
				t.Fatalf("factor %+v", f)
			}
		}

		// One training request at a time: while one is queued or running
		// (here, on another node), the next is 409 naming it.
		other, err := s.CreateJob(ctx, model.Job{Kind: "scoring.train", LockName: "scoring.train", State: model.JobRunning})
		if err != nil {
			t.Fatal(err)
		}
		var busy struct {
			Error string `json:"error"`
			JobID int64  `json:"job_id"`
		}
		decodeJSON(t, e.call(t, "POST", "/api/v1/scoring/model/train", keys[model.RoleAdmin]), http.StatusConflict, &busy)
		if busy.JobID != other.ID || !strings.Contains(busy.Error, "wait until it ends") {
			t.Fatalf("busy: %+v", busy)
		}
		if err := s.FinishJob(ctx, other.ID, nil, nil); err != nil {
			t.Fatal(err)
		}

		// A later run without enough data is the latest; persons keep the
		// probabilities of the model before it, which the answer names.
		if _, err := s.SavePredictionModel(ctx, model.PredictionModel{TrainedAt: predictNow.Add(time.Hour),
			Status: model.PredictionInsufficientData, Message: "only 3 leads"}, nil); err != nil {
			t.Fatal(err)
		}
		var later modelAnswer
		decodeJSON(t, e.call(t, "GET", "/api/v1/scoring/model", keys[model.RoleViewer]), http.StatusOK, &later)
		if later.Status != "insufficient_data" || later.Message != "only 3 leads" || later.TrainedAt != "2026-06-01T13:00:00Z" ||
			later.AUC != nil || len(later.TopFeatures) != 0 || later.WindowDays != nil ||
			later.ActiveModel == nil || *later.ActiveModel != trained.TrainedAt {
			t.Fatalf("after an insufficient run: %+v", later)
		}
	})
}

func TestPredictionModelAPIWithTooLittleData(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e, keys := newPredictEnv(t, s, 60)
		if job := operate(t, e.h, "POST", "/api/v1/scoring/model/train", keys[model.RoleAdmin], ""); job.State != model.JobSucceeded {
			t.Fatalf("training job: %+v", job)
		}
		var ans modelAnswer
		decodeJSON(t, e.call(t, "GET", "/api/v1/scoring/model", keys[model.RoleViewer]), http.StatusOK, &ans)
		if ans.Status != "insufficient_data" || ans.AUC != nil || ans.Brier != nil || ans.Examples != 60 || ans.Scored != 0 ||
			!strings.Contains(ans.Message, "only 60 leads have a known outcome") || len(ans.TopFeatures) != 0 ||
			ans.Calibration == nil || len(ans.Calibration) != 0 || ans.ActiveModel != nil {
			t.Fatalf("insufficient: %+v", ans)
		}
		var got modelAnswer
		decodeJSON(t, e.call(t, "GET", "/api/v1/scoring/model", keys[model.RoleViewer]), http.StatusOK, &got)
		if got.Status != "insufficient_data" || got.Message != ans.Message {
			t.Fatalf("GET: %+v", got)
		}
		var p map[string]json.RawMessage
		decodeJSON(t, e.call(t, "GET", "/api/v1/persons/1", keys[model.RoleViewer]), http.StatusOK, &p)
		if string(p["predicted_probability"]) != "null" || p["prediction_factors"] != nil {
			t.Fatalf("person without a model: %s %s", p["predicted_probability"], p["prediction_factors"])
		}
	})
}
