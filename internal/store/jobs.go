package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// JobStaleAfter is how long a queued or running job may go without a sign
// of life (a start, progress, an end) before it counts as abandoned: its
// node died or lost the database. An abandoned job's lock is taken over by
// the next job that asks for it, and the abandoned job is marked failed.
const JobStaleAfter = 5 * time.Minute

// ErrJobBusy is what CreateJob's *JobBusyError matches: another job holds
// the lock name.
var ErrJobBusy = errors.New("another job of this kind is running")

// JobBusyError says which job holds the lock a new job asked for.
type JobBusyError struct{ Holder model.Job }

func (e *JobBusyError) Error() string {
	return fmt.Sprintf("job %d (%s) is %s since %s: wait until it ends", e.Holder.ID, e.Holder.Kind, e.Holder.State,
		e.Holder.CreatedAt.Format(time.RFC3339))
}

func (e *JobBusyError) Is(target error) bool { return target == ErrJobBusy }

const jobCols = "id, kind, state, COALESCE(lock_name, ''), subject, progress_done, progress_total, progress_unit, checkpoint, result, error, created_by, created_at, started_at, finished_at, updated_at"

func scanJob(row interface{ Scan(...any) error }) (model.Job, error) {
	var j model.Job
	var state string
	var result sql.NullString
	var started, finished sql.NullTime
	err := row.Scan(&j.ID, &j.Kind, &state, &j.LockName, &j.Subject, &j.ProgressDone, &j.ProgressTotal, &j.ProgressUnit, &j.Checkpoint,
		&result, &j.Error, &j.CreatedBy, &j.CreatedAt, &started, &finished, &j.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return j, ErrNotFound
	}
	j.State = model.JobState(state)
	j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	if result.Valid && result.String != "" {
		j.Result = json.RawMessage(result.String)
	}
	if started.Valid {
		t := started.Time.UTC()
		j.StartedAt = &t
	}
	if finished.Valid {
		t := finished.Time.UTC()
		j.FinishedAt = &t
	}
	return j, err
}

// CreateJob records a new job, queued (or running, when j.State says so).
// A job with a LockName is refused with a *JobBusyError while another
// queued or running job holds that name, on every node, unless the holder
// is abandoned (quiet for JobStaleAfter): then the holder is marked failed
// and the new job takes the lock.
func (s *Store) CreateJob(ctx context.Context, j model.Job) (model.Job, error) {
	return s.CreateJobWith(ctx, j, nil)
}

// CreateJobWith is CreateJob with enqueue, when not nil, run in the same
// transaction with the recorded job: the job queue's own row for it is
// written with the record or not at all, so that no record waits for
// work that was never queued.
func (s *Store) CreateJobWith(ctx context.Context, j model.Job, enqueue func(tx *sql.Tx, j model.Job) error) (model.Job, error) {
	if j.Kind == "" {
		return j, errors.New("a job needs a kind")
	}
	if j.State == "" {
		j.State = model.JobQueued
	}
	if j.State != model.JobQueued && j.State != model.JobRunning {
		return j, fmt.Errorf("a new job is queued or running, not %s", j.State)
	}
	for attempt := 0; ; attempt++ {
		now := utc(time.Now())
		j.CreatedAt, j.UpdatedAt = now, now
		var started any
		if j.State == model.JobRunning {
			j.StartedAt = &now
			started = now
		}
		var lock any
		if j.LockName != "" {
			lock = j.LockName
		}
		var inserted bool
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			id, err := s.insertID(ctx, tx, `INSERT INTO jobs (kind, state, lock_name, subject, progress_total, progress_unit, created_by, created_at, started_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, j.Kind, string(j.State), lock, j.Subject, j.ProgressTotal, j.ProgressUnit, j.CreatedBy, now, started, now)
			if err != nil {
				return err
			}
			inserted, j.ID = true, id
			if enqueue != nil {
				return enqueue(tx, j)
			}
			return nil
		})
		if err == nil {
			return j, nil
		}
		if inserted || !isUniqueViolation(err) || j.LockName == "" {
			j.ID = 0
			return j, fmt.Errorf("create job: %w", err)
		}
		holder, herr := scanJob(s.w.QueryRowContext(ctx, s.q("SELECT "+jobCols+" FROM jobs WHERE lock_name = ? AND state IN ('queued','running')"), j.LockName))
		if errors.Is(herr, ErrNotFound) && attempt < 3 {
			continue // the holder ended meanwhile
		}
		if herr != nil {
			return j, fmt.Errorf("create job: %w", herr)
		}
		if time.Since(holder.UpdatedAt) < JobStaleAfter || attempt >= 3 {
			return j, &JobBusyError{Holder: holder}
		}
		msg := fmt.Sprintf("abandoned: no progress since %s (the server running it stopped)", holder.UpdatedAt.Format(time.RFC3339))
		if _, err := s.w.ExecContext(ctx, s.q(`UPDATE jobs SET state = 'failed', error = ?, finished_at = ?, updated_at = ?
			WHERE id = ? AND state IN ('queued','running') AND updated_at = ?`), msg, now, now, holder.ID, utc(holder.UpdatedAt)); err != nil {
			return j, fmt.Errorf("create job: %w", err)
		}
	}
}

// StartJob marks a queued job running.
func (s *Store) StartJob(ctx context.Context, id int64) error {
	now := utc(time.Now())
	return s.jobUpdate(ctx, id, "UPDATE jobs SET state = 'running', started_at = ?, updated_at = ? WHERE id = ? AND state IN ('queued','running')", now, now, id)
}

// SetJobProgress records how far a running job got (done of total; a
// total of 0 means not known). It is also the job's heartbeat.
func (s *Store) SetJobProgress(ctx context.Context, id, done, total int64) error {
	return s.jobUpdate(ctx, id, "UPDATE jobs SET progress_done = ?, progress_total = ?, updated_at = ? WHERE id = ? AND state IN ('queued','running')",
		done, total, utc(time.Now()), id)
}

// FinishJob ends a job: failed with jobErr's message when jobErr is not
// nil, else succeeded with result (encoded as JSON; nil for none). Ending
// releases the job's lock. A job that already ended is ErrNotFound.
func (s *Store) FinishJob(ctx context.Context, id int64, result any, jobErr error) error {
	now := utc(time.Now())
	var res any
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			return fmt.Errorf("finish job %d: encode result: %w", id, err)
		}
		res = string(b)
	}
	state, msg := model.JobSucceeded, ""
	if jobErr != nil {
		state, msg = model.JobFailed, jobErr.Error()
	}
	return s.jobUpdate(ctx, id, "UPDATE jobs SET state = ?, result = ?, error = ?, finished_at = ?, updated_at = ? WHERE id = ? AND state IN ('queued','running')",
		string(state), res, msg, now, now, id)
}

func (s *Store) jobUpdate(ctx context.Context, id int64, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("job %d is not queued or running: %w", id, ErrNotFound)
	}
	return nil
}

// GetJob reads one job.
func (s *Store) GetJob(ctx context.Context, id int64) (model.Job, error) {
	return scanJob(s.r.QueryRowContext(ctx, s.q("SELECT "+jobCols+" FROM jobs WHERE id = ?"), id))
}

// ListJobs lists jobs, newest first: all of them when kind is empty, else
// those of that kind or of its sub-kinds ("import" lists "import.costs").
func (s *Store) ListJobs(ctx context.Context, kind string, limit int) ([]model.Job, error) {
	if limit <= 0 {
		limit = 50
	}
	query, args := "SELECT "+jobCols+" FROM jobs ORDER BY id DESC LIMIT ?", []any{limit}
	if kind != "" {
		query = "SELECT " + jobCols + " FROM jobs WHERE kind = ? OR (kind >= ? AND kind < ?) ORDER BY id DESC LIMIT ?"
		// kind+"." up to kind+"/" ('/' follows '.') is every "kind.sub".
		args = []any{kind, kind + ".", kind + "/", limit}
	}
	out := []model.Job{}
	err := s.each(ctx, query, args, func(rows *sql.Rows) error {
		j, err := scanJob(rows)
		out = append(out, j)
		return err
	})
	return out, err
}

// JobsCreated lists the jobs created in [from, to) (a zero end is open),
// newest first, at most limit: all of them when kind is empty, else those of that kind or of
// its sub-kinds, as ListJobs.
func (s *Store) JobsCreated(ctx context.Context, kind string, from, to time.Time, limit int) ([]model.Job, error) {
	if limit <= 0 {
		limit = 50
	}
	query, args := "SELECT "+jobCols+" FROM jobs WHERE created_at >= ?", []any{utc(from)}
	if !to.IsZero() {
		query += " AND created_at < ?"
		args = append(args, utc(to))
	}
	if kind != "" {
		query += " AND (kind = ? OR (kind >= ? AND kind < ?))"
		args = append(args, kind, kind+".", kind+"/")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	out := []model.Job{}
	err := s.each(ctx, query, args, func(rows *sql.Rows) error {
		j, err := scanJob(rows)
		out = append(out, j)
		return err
	})
	return out, err
}

// JobKindOK says whether a kind is well formed (lower-case words joined by
// dots), for ListJobs filters that come from a request.
func JobKindOK(kind string) bool {
	if kind == "" || len(kind) > 64 {
		return false
	}
	return strings.Trim(kind, "abcdefghijklmnopqrstuvwxyz0123456789._") == ""
}

// FailedCheckpoint is the checkpoint of the newest failed job of kind on
// subject that got somewhere ("" when there is none), from which a new job
// on the same subject can resume. A job that resumed from a checkpoint
// carries it forward, so the newest one is the furthest.
func (s *Store) FailedCheckpoint(ctx context.Context, kind, subject string) (string, error) {
	var cp string
	err := s.r.QueryRowContext(ctx, s.q("SELECT checkpoint FROM jobs WHERE kind = ? AND subject = ? AND state = 'failed' AND checkpoint <> '' ORDER BY id DESC LIMIT 1"),
		kind, subject).Scan(&cp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return cp, err
}

// RetryJob puts a running job back in the queue after an attempt failed
// (it runs again), with why it failed.
func (s *Store) RetryJob(ctx context.Context, id int64, why string) error {
	return s.jobUpdate(ctx, id, "UPDATE jobs SET state = 'queued', error = ?, updated_at = ? WHERE id = ? AND state IN ('queued','running')",
		why, utc(time.Now()), id)
}

// TouchJob is a running job's sign of life when it has no progress to
// report: without one for JobStaleAfter, the job counts as abandoned.
// ErrNotFound when the job is no longer running (it ended, or was taken
// over as abandoned).
func (s *Store) TouchJob(ctx context.Context, id int64) error {
	return s.jobUpdate(ctx, id, "UPDATE jobs SET updated_at = ? WHERE id = ? AND state = 'running'", utc(time.Now()), id)
}
