package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/importer"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// maxImportBody bounds an uploaded CSV file.
const maxImportBody = importer.MaxFileBytes

// importWait is how long an import request waits for its import to end
// before it answers 202 with the job to follow.
const importWait = 30 * time.Second

// importAnswer is an import's outcome with the job that ran it.
type importAnswer struct {
	importer.Result
	JobID int64 `json:"job_id,omitempty"`
}

// apiImport takes a CSV file as the request body (?name= names it in the
// import log; ?create_campaigns=true creates the campaigns it names that
// match none). The file is kept in the database, not in memory, and
// imported as a job that does not depend on the client or on this node:
// the request waits for it up to importWait (none with ?async=true) and
// answers its outcome, a file with bad rows being 422 with every bad row
// listed; else 202 with the job's id, to follow at GET /api/v1/jobs/{id}.
// While another import is queued or runs, 409.
func (s *Server) apiImport(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		name := clip(strings.TrimSpace(q.Get("name")), 200)
		if name == "" {
			name = "upload.csv"
		}
		var create, async bool
		for _, p := range []struct {
			key string
			dst *bool
		}{{"create_campaigns", &create}, {"async", &async}} {
			if v := q.Get(p.key); v != "" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("%s %q: want true or false", p.key, clip(v, 40)))
					return
				}
				*p.dst = b
			}
		}
		// The body goes to a temporary file first: it is read twice (to
		// recognise the file, then to keep it), and a slow client must not
		// hold a database transaction open.
		f, err := os.CreateTemp("", "revloop-import-*.csv")
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		defer func() {
			f.Close()
			os.Remove(f.Name())
		}()
		_, err = io.Copy(f, http.MaxBytesReader(w, r.Body, maxImportBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is over %d MiB", maxImportBody>>20))
			return
		}
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "cannot read the request body: "+err.Error())
			return
		}
		// Once the file is in, the import no longer depends on the client:
		// one who leaves now finds its outcome in the job.
		ictx := context.WithoutCancel(r.Context())
		j, res, err := s.app.StartImport(ictx, kind, name, f, create, s.importActor(r))
		var busy *store.JobBusyError
		switch {
		case errors.As(err, &busy):
			writeJobBusy(w, busy, "another import is running")
			return
		case err != nil && isInputError(err):
			writeJSONError(w, http.StatusBadRequest, err.Error())
			return
		case err != nil:
			s.apiInternal(w, r, err)
			return
		case j.ID == 0:
			writeJSON(w, http.StatusOK, importAnswer{Result: res})
			return
		}
		if async {
			writeJobAccepted(w, j)
			return
		}
		done, err := s.awaitJob(r.Context(), j.ID, importWait)
		switch {
		case errors.Is(err, context.Canceled):
			return // the client left; the job goes on
		case err != nil:
			s.apiInternal(w, r, err)
			return
		case !done.State.Done():
			writeJobAccepted(w, done)
			return
		}
		s.importOutcome(w, done)
	}
}

// awaitJob polls a job's record until it ends or wait passes, and answers
// the record as it then is.
func (s *Server) awaitJob(ctx context.Context, id int64, wait time.Duration) (model.Job, error) {
	deadline := time.Now().Add(wait)
	for {
		j, err := s.store.GetJob(ctx, id)
		if err != nil || j.State.Done() || time.Now().After(deadline) {
			return j, err
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// importOutcome answers an import whose job ended: 200 with the import, 422
// with the bad rows, 400 for a refused file, 500 when it failed after its
// attempts (a database that cannot be written refuses the upload itself
// with 503, before any job).
func (s *Server) importOutcome(w http.ResponseWriter, j model.Job) {
	if j.State == model.JobSucceeded {
		var res importer.Result
		if err := json.Unmarshal(j.Result, &res); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "the import ended, but its result cannot be read", "job_id": j.ID})
			return
		}
		writeJSON(w, http.StatusOK, importAnswer{Result: res, JobID: j.ID})
		return
	}
	var failed importer.FailedResult
	_ = json.Unmarshal(j.Result, &failed)
	switch {
	case failed.BadRowCount > 0:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": j.Error, "bad_rows": failed.BadRows, "bad_row_count": failed.BadRowCount, "job_id": j.ID})
	case failed.Input:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": j.Error, "job_id": j.ID})
	default:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": fmt.Sprintf("the import failed part way; import the same file again to finish it (job %d)", j.ID), "job_id": j.ID})
	}
}

// importActor names who imports, for the job record.
func (s *Server) importActor(r *http.Request) string {
	key, ok := bearer(r.Header.Get("Authorization"))
	if !ok || key == "" {
		return ""
	}
	k, err := s.auth.CheckAPIKey(r.Context(), key)
	if err != nil {
		return ""
	}
	name := strings.TrimSpace(k.Name)
	if name == "" {
		name = k.Prefix
	}
	return lifecycle.ActorAPIKey + clip(name, 100)
}

// isInputError tells a file the importer refused (its message is for the
// user) from a failure of the database.
func isInputError(err error) bool {
	var ie importer.InputError
	return errors.As(err, &ie)
}
