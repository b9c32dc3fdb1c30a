package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// jobRoutes mounts the record of long operations (imports, erasures,
// rescores, recomputations...):
// every role may follow them.
func (s *Server) jobRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/jobs", s.requireAPI(s.apiJobs))
	m.Handle("GET /api/v1/jobs/{id}", s.requireAPI(s.apiJob))
	return nil
}

// jobJSON is a job as the API shows it.
type jobJSON struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	State      model.JobState  `json:"state"`
	Progress   progressJSON    `json:"progress"`
	Result     json.RawMessage `json:"result"`
	Error      string          `json:"error,omitempty"`
	CreatedBy  string          `json:"created_by"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

type progressJSON struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"` // 0: not known yet
	Unit  string `json:"unit"`
}

func jobView(j model.Job) jobJSON {
	res := j.Result
	if len(res) == 0 {
		res = json.RawMessage("null")
	}
	return jobJSON{ID: j.ID, Kind: j.Kind, State: j.State, Progress: progressJSON{Done: j.ProgressDone, Total: j.ProgressTotal, Unit: j.ProgressUnit},
		Result: res, Error: j.Error, CreatedBy: j.CreatedBy, CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, UpdatedAt: j.UpdatedAt}
}

// maxJobList bounds GET /api/v1/jobs.
const maxJobList = 200

func (s *Server) apiJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind != "" && !store.JobKindOK(kind) {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("kind %q: want lower-case words joined by dots, e.g. import or import.costs", clip(kind, 40)))
		return
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxJobList {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want a number from 1 to %d", clip(v, 20), maxJobList))
			return
		}
		limit = n
	}
	var list []model.Job
	var err error
	if q.Get("from") != "" || q.Get("to") != "" {
		// A date range (team days, both included), as the settings page's
		// list of recent jobs shows it.
		cal, cerr := s.store.Calendar(r.Context())
		if cerr != nil {
			s.apiInternal(w, r, cerr)
			return
		}
		f, ferr := s.parseFilter(r, cal, nil, "")
		var fe *filterError
		if errors.As(ferr, &fe) {
			writeJSONError(w, http.StatusBadRequest, fe.Msg)
			return
		}
		win := f.Period.Window()
		list, err = s.store.JobsCreated(r.Context(), kind, win.From, win.To, limit)
	} else {
		list, err = s.store.ListJobs(r.Context(), kind, limit)
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := make([]jobJSON, len(list))
	for i, j := range list {
		out[i] = jobView(j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

func (s *Server) apiJob(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("job id %q: want a positive number", clip(r.PathValue("id"), 20)))
		return
	}
	j, err := s.store.GetJob(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no job %d", id))
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jobView(j))
}

// startOperation queues an operation for the caller and answers 202 with
// its job (Location: the job's URL, which reports state, progress and
// result). While the same operation is queued or running the answer is
// 409 naming that job.
func (s *Server) startOperation(w http.ResponseWriter, r *http.Request, op app.Operation) {
	j, err := s.app.Enqueue(r.Context(), op, s.actor(r))
	var busy *store.JobBusyError
	if errors.As(err, &busy) {
		writeJobBusy(w, busy, "")
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJobAccepted(w, j)
}

// writeJobAccepted answers 202 with a job to follow (and its URL in
// Location).
func writeJobAccepted(w http.ResponseWriter, j model.Job) {
	url := fmt.Sprintf("/api/v1/jobs/%d", j.ID)
	w.Header().Set("Location", url)
	writeJSON(w, http.StatusAccepted, map[string]any{"job_id": j.ID, "job": jobView(j), "status_url": url})
}

// writeJobBusy answers 409 naming the job that holds the lock; what, when
// not empty, says what runs ("another import is running").
func writeJobBusy(w http.ResponseWriter, busy *store.JobBusyError, what string) {
	msg := busy.Error()
	if what != "" {
		msg = what + ": " + msg
	}
	writeJSON(w, http.StatusConflict, map[string]any{"error": msg, "job_id": busy.Holder.ID, "job": jobView(busy.Holder),
		"status_url": fmt.Sprintf("/api/v1/jobs/%d", busy.Holder.ID)})
}
