package web

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestAPIJobs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s) // e.key is a viewer's: viewers may follow jobs
		j, err := s.CreateJob(ctx, model.Job{Kind: "import.costs", State: model.JobRunning, CreatedBy: "user:1", ProgressUnit: "rows"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetJobProgress(ctx, j.ID, 3, 10); err != nil {
			t.Fatal(err)
		}
		var got jobJSON
		decodeJSON(t, e.api(t, fmt.Sprintf("/api/v1/jobs/%d", j.ID)), http.StatusOK, &got)
		if got.State != model.JobRunning || got.Progress != (progressJSON{Done: 3, Total: 10, Unit: "rows"}) || string(got.Result) != "null" {
			t.Fatalf("job %+v", got)
		}
		if err := s.FinishJob(ctx, j.ID, nil, errors.New("line 4: bad day")); err != nil {
			t.Fatal(err)
		}
		decodeJSON(t, e.api(t, fmt.Sprintf("/api/v1/jobs/%d", j.ID)), http.StatusOK, &got)
		if got.State != model.JobFailed || got.Error != "line 4: bad day" || got.FinishedAt == nil {
			t.Fatalf("failed job %+v", got)
		}
		var list struct{ Jobs []jobJSON }
		decodeJSON(t, e.api(t, "/api/v1/jobs?kind=import&limit=5"), http.StatusOK, &list)
		if len(list.Jobs) != 1 || list.Jobs[0].ID != j.ID {
			t.Fatalf("jobs %+v", list)
		}
		var apiErr apiError
		for target, code := range map[string]int{
			"/api/v1/jobs/999":          http.StatusNotFound,
			"/api/v1/jobs/x":            http.StatusBadRequest,
			"/api/v1/jobs?limit=0":      http.StatusBadRequest,
			"/api/v1/jobs?kind=DROP%20": http.StatusBadRequest,
		} {
			decodeJSON(t, e.api(t, target), code, &apiErr)
		}
		if res := e.do(t, req{target: "/api/v1/jobs"}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("no key: %d", res.StatusCode)
		}
	})
}
