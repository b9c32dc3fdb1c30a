package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Writing a journey's past at once, for the demo: entries and their ledger
// rows as a runner would have left them.

// JourneyCandidate is a person touched by a campaign: the first such touch
// and the person's stage now.
type JourneyCandidate struct {
	PersonID int64
	At       time.Time
	Stage    model.Stage
}

// CampaignTouchedPersons lists the live persons whose first touch by one
// of the campaigns (by code) lies in [from, to), in the order of that
// touch, at most limit.
func (s *Store) CampaignTouchedPersons(ctx context.Context, codes []string, from, to time.Time, limit int) ([]JourneyCandidate, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(codes)+3)
	for _, c := range codes {
		args = append(args, c)
	}
	args = append(args, utc(from), utc(to), limit)
	return scanAll(ctx, s, s.r, `SELECT f.person_id, f.at, p.stage FROM (
			SELECT t.person_id, MIN(t.occurred_at) AS at FROM touchpoints t JOIN campaigns c ON c.id = t.campaign_id
			WHERE c.code IN (`+placeholders(len(codes))+`) AND t.person_id IS NOT NULL GROUP BY t.person_id) f
		JOIN persons p ON p.id = f.person_id AND p.merged_into_id IS NULL
		WHERE f.at >= ? AND f.at < ? ORDER BY f.at, f.person_id LIMIT ?`, args, func(r rowScanner) (JourneyCandidate, error) {
		var c JourneyCandidate
		var stage string
		var at storedTime // an aggregate: SQLite gives it as text
		err := r.Scan(&c.PersonID, &at, &stage)
		c.At, c.Stage = at.t.UTC(), model.Stage(stage)
		return c, err
	})
}

// SeededEntry is an entry with its steps, as written by SeedJourneyHistory.
type SeededEntry struct {
	PersonID  int64
	EnteredAt time.Time
	State     string
	EndedAt   time.Time // zero while active
	Reason    string
	Steps     []SeededStep
}

// SeededStep is a ledger row of a seeded entry.
type SeededStep struct {
	StepID, Type           string
	Status, Result, Reason string
	DueAt                  time.Time
	WaitUntil              time.Time // zero when not a wait
	FinishedAt             time.Time // zero while due
}

// SeedJourneyHistory writes entries (entry number 1) and their ledger rows
// for a version of a journey in one transaction.
func (s *Store) SeedJourneyHistory(ctx context.Context, journeyID int64, version int, entries []SeededEntry) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range entries {
			current := ""
			if e.State == model.EntryActive && len(e.Steps) > 0 {
				current = e.Steps[len(e.Steps)-1].StepID
			}
			var ended any
			if !e.EndedAt.IsZero() {
				ended = utc(e.EndedAt)
			}
			id, err := s.insertID(ctx, tx, `INSERT INTO journey_entries (journey_id, version, person_id, entry_no, entered_at, state, current_step, ended_at, reason)
				VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)`, journeyID, version, e.PersonID, utc(e.EnteredAt), e.State, current, ended, e.Reason)
			if err != nil {
				return fmt.Errorf("seed journey %d: %w", journeyID, err)
			}
			for i, st := range e.Steps {
				var wait, fin, started any
				if !st.WaitUntil.IsZero() {
					wait = utc(st.WaitUntil)
				}
				if !st.FinishedAt.IsZero() {
					fin = utc(st.FinishedAt)
				}
				if st.Status != model.LedgerDue || !st.WaitUntil.IsZero() {
					started = utc(st.DueAt)
				}
				next := ""
				if i+1 < len(e.Steps) {
					next = e.Steps[i+1].StepID
				}
				attempts := 1
				if st.Status == model.LedgerDue && st.WaitUntil.IsZero() {
					attempts = 0
				}
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO journey_ledger (entry_id, journey_id, version, step_id, person_id, entry_no, step_type,
					status, due_at, attempts, wait_until, result, reason, message_key, next_step, created_at, started_at, finished_at)
					VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
					id, journeyID, version, st.StepID, e.PersonID, st.Type, st.Status, utc(st.DueAt), attempts, wait, st.Result, st.Reason,
					JourneyMessageKey(journeyID, version, st.StepID, e.PersonID, 1), next, utc(st.DueAt), started, fin); err != nil {
					return fmt.Errorf("seed journey %d: %w", journeyID, err)
				}
			}
		}
		return nil
	})
}
