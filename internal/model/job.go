package model

import (
	"encoding/json"
	"time"
)

// JobState is where a long operation stands.
type JobState string

const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
)

// Done says whether the job has ended, well or not.
func (s JobState) Done() bool { return s == JobSucceeded || s == JobFailed }

// Job is the record of a long operation (an import, an erasure): what it
// is, how far it got and how it ended, so that a client can follow it
// after the request that started it has returned.
type Job struct {
	ID    int64
	Kind  string // e.g. "import.costs", "import.events", "person.erase"
	State JobState
	// LockName, when set, is held while the job is queued or running: a
	// second job with the same name is refused (one import at a time).
	LockName string
	// Subject is what the job works on, e.g. a file's hash, so that a job
	// can find an earlier one on the same thing (to resume it).
	Subject       string
	ProgressDone  int64
	ProgressTotal int64  // 0 when not known (yet)
	ProgressUnit  string // "rows", "bytes", ...
	// Checkpoint is how far the work is durably done, in the kind's own
	// terms (an import's last committed line), for resuming it.
	Checkpoint string
	Result     json.RawMessage // the outcome of a succeeded job, JSON; nil otherwise
	Error      string          // why a failed job failed
	CreatedBy  string          // "user:ID" or "apikey:NAME"
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	UpdatedAt  time.Time // the last sign of life: creation, start, progress, end
}
