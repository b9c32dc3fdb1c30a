package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// costFile is a generic cost report of n rows.
func costFile(n int, campaign string) string {
	var b strings.Builder
	b.WriteString("date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "2026-01-%02d,baidu,acc,%s,g,k%d,100,5,1.00\n", 1+i%28, campaign, i)
	}
	return b.String()
}

// waitJob polls GET /api/v1/jobs/{id} with a viewer's key until the job ends.
func (e *env) waitJob(t *testing.T, id int64) jobJSON {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var j jobJSON
		decodeJSON(t, e.api(t, fmt.Sprintf("/api/v1/jobs/%d", id)), http.StatusOK, &j)
		if j.State.Done() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s: %+v", id, j.State, j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestImportRunsAsAJob(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		startApp(t, e.srv) // imports run as jobs
		key := e.marketerKey(t)

		// An import running elsewhere (another server) holds the lock.
		other, err := s.CreateJob(ctx, model.Job{Kind: "import.events", LockName: "import", State: model.JobRunning})
		if err != nil {
			t.Fatal(err)
		}
		var busy struct {
			Error string
			JobID int64 `json:"job_id"`
		}
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/costs?create_campaigns=true", key, "text/csv", costFile(3, "c")), http.StatusConflict, &busy)
		if busy.JobID != other.ID || !strings.Contains(busy.Error, "another import is running") {
			t.Fatalf("409: %+v", busy)
		}
		if err := s.FinishJob(ctx, other.ID, nil, nil); err != nil {
			t.Fatal(err)
		}

		// In the background: 202 at once, progress and outcome in the job.
		var accepted struct {
			JobID int64  `json:"job_id"`
			URL   string `json:"status_url"`
		}
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/costs?create_campaigns=true&async=true&name=big.csv", key, "text/csv", costFile(4500, "c")),
			http.StatusAccepted, &accepted)
		if accepted.JobID == 0 || accepted.URL != fmt.Sprintf("/api/v1/jobs/%d", accepted.JobID) {
			t.Fatalf("202: %+v", accepted)
		}
		j := e.waitJob(t, accepted.JobID)
		if j.State != model.JobSucceeded || j.Kind != "import.costs" || j.Progress != (progressJSON{Done: 4500, Total: 4500, Unit: "rows"}) ||
			!strings.Contains(string(j.Result), `"rows_new":4500`) || j.CreatedBy != "apikey:marketing" {
			t.Fatalf("job %+v result %s", j, j.Result)
		}

		// Bad rows: the job failed and keeps them.
		var bad struct {
			JobID int64 `json:"job_id"`
		}
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/costs", key, "text/csv", costFile(2, "c")+"x,baidu,acc,c,g,k,1,1,1\n"), http.StatusUnprocessableEntity, &bad)
		j = e.waitJob(t, bad.JobID)
		if j.State != model.JobFailed || !strings.Contains(j.Error, "line 4") || !strings.Contains(string(j.Result), `"bad_row_count":1`) {
			t.Fatalf("failed job %+v %s", j, j.Result)
		}
	})
}

// cutOff is a request body whose client goes away once it is sent.
type cutOff struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cutOff) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
	}
	return n, err
}

func TestImportGoesOnWhenTheClientIsCutOff(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		startApp(t, e.srv) // imports run as jobs
		key := e.marketerKey(t)
		rctx, cancel := context.WithCancel(context.Background())
		hr := httptest.NewRequest(http.MethodPost, "/api/v1/imports/costs?create_campaigns=true", &cutOff{r: strings.NewReader(costFile(3000, "cut")), cancel: cancel}).WithContext(rctx)
		hr.Header.Set("Authorization", "Bearer "+key)
		e.h.ServeHTTP(httptest.NewRecorder(), hr)
		jobs, err := s.ListJobs(ctx, "import", 1)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("jobs %+v, %v", jobs, err)
		}
		j := e.waitJob(t, jobs[0].ID)
		if j.State != model.JobSucceeded || j.Progress.Done != 3000 {
			t.Fatalf("job of a client cut off: %+v", j)
		}
		list, _ := s.Imports(ctx, 10)
		if len(list) != 1 || list[0].RowsNew != 3000 {
			t.Fatalf("imports %+v", list)
		}
	})
}
