package web

import (
	"context"
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
// match none). The file is kept on disk, not in memory, and imported as a
// job that does not depend on the client: the request waits for it up to
// importWait (none with ?async=true) and answers its outcome, a file with
// bad rows being 422 with every bad row listed; else 202 with the job's
// id, to follow at GET /api/v1/jobs/{id}. While another import runs, 409.
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
		f, err := os.CreateTemp("", "revloop-import-*.csv")
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		keep := false
		defer func() {
			if !keep {
				f.Close()
				os.Remove(f.Name())
			}
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
		im := &importer.Importer{Store: s.store, CreateCampaigns: create, Actor: s.importActor(r)}
		run, res, err := im.Start(ictx, kind, name, f)
		var busy *store.JobBusyError
		switch {
		case errors.As(err, &busy):
			writeJSON(w, http.StatusConflict, map[string]any{"error": "another import is running: " + busy.Error(), "job_id": busy.Holder.ID})
			return
		case err != nil && isInputError(err):
			writeJSONError(w, http.StatusBadRequest, err.Error())
			return
		case err != nil:
			s.apiInternal(w, r, err)
			return
		case run == nil:
			writeJSON(w, http.StatusOK, importAnswer{Result: res})
			return
		}
		// From here the import is the job's: it runs to its end (or fails
		// and says so in the job) whether or not the client stays.
		keep = true
		type outcome struct {
			res importer.Result
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			defer func() {
				f.Close()
				os.Remove(f.Name())
			}()
			res, err := run.Do(ictx)
			if err == nil && kind == "events" && res.RowsNew > 0 {
				s.app.Jobs.Notify()
			}
			if err != nil && !isInputError(err) && !isBadRows(err) {
				s.log.Error("import failed", "job", run.JobID, "kind", kind, "err", err)
			}
			done <- outcome{res, err}
		}()
		if async {
			writeJSON(w, http.StatusAccepted, map[string]any{"job_id": run.JobID, "state": "running", "job_url": fmt.Sprintf("/api/v1/jobs/%d", run.JobID)})
			return
		}
		wait := time.NewTimer(importWait)
		defer wait.Stop()
		select {
		case o := <-done:
			var bad *importer.BadRowsError
			switch {
			case errors.As(o.err, &bad):
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": bad.Error(), "bad_rows": bad.Rows, "bad_row_count": bad.Total, "job_id": run.JobID})
			case o.err != nil && isInputError(o.err):
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": o.err.Error(), "job_id": run.JobID})
			case o.err != nil && store.Unwritable(o.err):
				w.Header().Set("Retry-After", "30")
				writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": fmt.Sprintf("the database cannot be written at the moment (read-only or out of space); import the same file again later to finish it (job %d)", run.JobID), "job_id": run.JobID})
			case o.err != nil:
				writeJSON(w, http.StatusInternalServerError, map[string]any{"error": fmt.Sprintf("the import failed part way; import the same file again to finish it (job %d)", run.JobID), "job_id": run.JobID})
			default:
				writeJSON(w, http.StatusOK, importAnswer{Result: o.res, JobID: run.JobID})
			}
		case <-wait.C:
			writeJSON(w, http.StatusAccepted, map[string]any{"job_id": run.JobID, "state": "running", "job_url": fmt.Sprintf("/api/v1/jobs/%d", run.JobID)})
		case <-r.Context().Done():
			// The client left; the job goes on.
		}
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

func isBadRows(err error) bool {
	var bad *importer.BadRowsError
	return errors.As(err, &bad)
}
