package model

import "time"

// IdentityConflict is a pair of persons that look like one human but each
// hold a different identifier of the same kind, so they were not merged.
type IdentityConflict struct {
	ID         int64      `json:"id"`
	PersonA    int64      `json:"person_a"`
	PersonB    int64      `json:"person_b"`
	Type       string     `json:"type"`
	ValueA     string     `json:"value_a"`
	ValueB     string     `json:"value_b"`
	EventID    int64      `json:"event_id,omitempty"`
	Reason     string     `json:"reason"`
	CreatedAt  time.Time  `json:"created_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	// The decision, once resolved: merge or keep_apart, who made it, their
	// note, and the merge it made (0 when the two were already one).
	Decision  string `json:"decision,omitempty"`
	DecidedBy string `json:"decided_by,omitempty"`
	Note      string `json:"note,omitempty"`
	MergeID   int64  `json:"merge_id,omitempty"`
}

// Decisions on an identity conflict.
const (
	DecisionMerge     = "merge"      // the two are one human: merge them
	DecisionKeepApart = "keep_apart" // different humans: never merge them
)

// ConflictStatus selects conflicts by whether they were decided.
type ConflictStatus string

// Conflict statuses.
const (
	ConflictsOpen     ConflictStatus = "open"
	ConflictsResolved ConflictStatus = "resolved"
	ConflictsAll      ConflictStatus = "all"
)

// PersonMerge is one logged merge.
type PersonMerge struct {
	ID        int64      `json:"id"`
	IntoID    int64      `json:"into_id"`
	FromID    int64      `json:"from_id"`
	Reason    string     `json:"reason"`
	EventID   int64      `json:"event_id,omitempty"`
	Actor     string     `json:"actor"`
	CreatedAt time.Time  `json:"created_at"`
	UndoneAt  *time.Time `json:"undone_at"`
}
