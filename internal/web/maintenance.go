package web

import (
	"context"
	"net/http"
	"time"

	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/store"
)

// checkpointEvery is how often SQLite's write-ahead log is folded into the
// database and truncated: an import can grow it by hundreds of MB, which
// journal_size_limit cuts back only once a checkpoint completes.
const checkpointEvery = 5 * time.Minute

// maintenanceRoutes hands the job runner the store's housekeeping: the
// periodic WAL checkpoint on SQLite. It mounts no endpoints.
func (s *Server) maintenanceRoutes(*http.ServeMux) error {
	if s.oneID.runner == nil || s.store.Dialect() != store.SQLite {
		return nil
	}
	s.oneID.runner.AddTask(jobs.Task{Name: "sqlite_checkpoint", Every: checkpointEvery, Run: func(ctx context.Context) error {
		return s.store.Checkpoint(ctx)
	}})
	return nil
}
