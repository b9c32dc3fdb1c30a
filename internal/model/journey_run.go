package model

import "time"

// What a journey's run looks like from outside: its record, versions,
// figures and a person's timeline (docs/journeys.md, docs/metrics.md).

// Journey statuses.
const (
	JourneyDraft    = "draft"
	JourneyLive     = "live"
	JourneyPaused   = "paused"
	JourneyArchived = "archived"
)

// Entry states.
const (
	EntryActive    = "active"
	EntryCompleted = "completed"
	EntryExited    = "exited"
)

// Ledger row statuses.
const (
	LedgerDue     = "due"
	LedgerRunning = "running"
	LedgerDone    = "done"
	LedgerSkipped = "skipped"
	LedgerFailed  = "failed"
)

// Journey is a journey's record.
type Journey struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	Status        string    `json:"status"`
	LiveVersion   int       `json:"live_version"`   // 0 while none was activated
	LatestVersion int       `json:"latest_version"` // the version PUT wrote last
	CreatedBy     string    `json:"created_by,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// JourneyVersion is one version of a journey's definition.
type JourneyVersion struct {
	Version     int        `json:"version"`
	Definition  JourneyDef `json:"definition"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
}

// JourneySummary is a journey in the list, with its headline figures.
type JourneySummary struct {
	Journey
	Trigger JourneyTrigger `json:"trigger"`
	Entered int64          `json:"entered"`
	Active  int64          `json:"active"`
}

// JourneyDetail is GET /api/v1/journeys/{id}: the record, the latest
// definition, every version and the figures.
type JourneyDetail struct {
	Journey
	Definition JourneyDef       `json:"definition"`
	Versions   []JourneyVersion `json:"versions"`
	Stats      JourneyStats     `json:"stats"`
}

// JourneyStats are a journey's figures over all its versions
// (docs/metrics.md defines each).
type JourneyStats struct {
	JourneyID int64 `json:"journey_id"`
	// Entered counts entries (a person who re-entered counts again);
	// Persons the distinct persons who entered.
	Entered   int64 `json:"entered"`
	Persons   int64 `json:"persons"`
	Active    int64 `json:"active"`
	Completed int64 `json:"completed"`
	Exited    int64 `json:"exited"`
	// Steps are the ledger's rows per version and step.
	Steps []JourneyStepStats `json:"steps"`
	// Conversions of the persons who entered, after their first entry.
	GoalStage     Stage     `json:"goal_stage"`
	Converted     int64     `json:"converted"`
	Opportunities int64     `json:"opportunities"`
	RevenueFen    int64     `json:"revenue_fen"`
	At            time.Time `json:"at"`
}

// JourneyStepStats counts one step's ledger rows by what they are.
type JourneyStepStats struct {
	Version int    `json:"version"`
	StepID  string `json:"step_id"`
	Type    string `json:"type"`
	Waiting int64  `json:"waiting"` // due later (a wait, a retry)
	Due     int64  `json:"due"`     // due now or being run
	Done    int64  `json:"done"`
	Skipped int64  `json:"skipped"`
	Failed  int64  `json:"failed"`
}

// JourneyEntry is one entry of a person into a journey.
type JourneyEntry struct {
	ID          int64      `json:"id"`
	JourneyID   int64      `json:"journey_id"`
	Version     int        `json:"version"`
	PersonID    int64      `json:"person_id"`
	EntryNo     int        `json:"entry_no"`
	EnteredAt   time.Time  `json:"entered_at"`
	State       string     `json:"state"`
	CurrentStep string     `json:"current_step,omitempty"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// JourneyLedgerRow is one step of one entry as the ledger holds it.
type JourneyLedgerRow struct {
	ID         int64      `json:"id"`
	EntryID    int64      `json:"entry_id"`
	Version    int        `json:"version"`
	StepID     string     `json:"step_id"`
	Type       string     `json:"type"`
	Status     string     `json:"status"`
	DueAt      time.Time  `json:"due_at"`
	Attempts   int        `json:"attempts"`
	WaitUntil  *time.Time `json:"wait_until,omitempty"`
	WaitEvent  string     `json:"wait_event,omitempty"`
	Result     string     `json:"result,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	MessageKey string     `json:"message_key"`
	NextStep   string     `json:"next_step,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// JourneyTimeline is a person's way through a journey: each entry with
// its ledger rows, oldest first.
type JourneyTimeline struct {
	JourneyID int64                  `json:"journey_id"`
	PersonID  int64                  `json:"person_id"`
	Entries   []JourneyTimelineEntry `json:"entries"`
}

// JourneyTimelineEntry is an entry and its steps.
type JourneyTimelineEntry struct {
	JourneyEntry
	Steps []JourneyLedgerRow `json:"steps"`
}

// JourneyMigration asks to move the persons in flight on one version to
// another, step by step (old step id → new step id).
type JourneyMigration struct {
	FromVersion int               `json:"from_version"`
	ToVersion   int               `json:"to_version"`
	Mapping     map[string]string `json:"mapping"`
}

// JourneyMigrationPlan says who moves where: active entries per (from
// step, to step), and those that stay (their step is not mapped, or its
// row is being run right now).
type JourneyMigrationPlan struct {
	FromVersion int                `json:"from_version"`
	ToVersion   int                `json:"to_version"`
	Moves       []JourneyMoveCount `json:"moves"`
	Unmapped    []JourneyStayCount `json:"unmapped"`
	Busy        int64              `json:"busy"`
	Moved       int64              `json:"moved"` // after a migration: entries moved
	Preview     bool               `json:"preview"`
}

// JourneyMoveCount is how many entries move from one step to another.
type JourneyMoveCount struct {
	FromStep string `json:"from_step"`
	ToStep   string `json:"to_step"`
	Entries  int64  `json:"entries"`
}

// JourneyStayCount is how many entries stay at an unmapped step.
type JourneyStayCount struct {
	Step    string `json:"step"`
	Entries int64  `json:"entries"`
}
