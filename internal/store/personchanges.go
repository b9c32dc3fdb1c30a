package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Reasons a person is logged in person_changes.
const (
	ChangeMerge   = "merge"   // merged into another person, or another merged into it
	ChangeUnmerge = "unmerge" // a merge it took part in was undone
	ChangeTraits  = "traits"  // its traits changed
	ChangeAccount = "account" // its account, or a field of its account, changed
)

// personChangesChunk bounds the rows of one INSERT (three arguments each).
const personChangesChunk = 500

// lockPersonChanges takes the processing lock (PostgreSQL) for the rest of
// tx, before it draws person_changes ids. Readers keep the highest id
// they have read; were two writers to draw ids concurrently, the smaller
// could commit after a reader saw the larger and never be read. Under the
// lock ids commit in the order they are drawn. Event processing holds the
// lock already (taking it again is a no-op), so merges and undos by hand
// wait for the batch in progress. SQLite has one writer.
func lockPersonChanges(ctx context.Context, s *Store, tx *sql.Tx) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(processLockKey)); err != nil {
		return fmt.Errorf("take the processing lock: %w", err)
	}
	return nil
}

// recordPersonChanges logs that the persons changed for reason, inside
// tx: incremental scoring and credits recompute them on their next run
// although no new event or touch names them. Zero ids are skipped, and so
// are repeats within ids. On PostgreSQL tx must hold the processing lock
// (event processing does; others call lockPersonChanges first).
func recordPersonChanges(ctx context.Context, s *Store, tx *sql.Tx, ids []int64, reason string, now time.Time) error {
	seen := make(map[int64]bool, len(ids))
	keep := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			keep = append(keep, id)
		}
	}
	at := utc(now)
	for len(keep) > 0 {
		part := keep[:min(personChangesChunk, len(keep))]
		keep = keep[len(part):]
		args := make([]any, 0, 3*len(part))
		for _, id := range part {
			args = append(args, id, reason, at)
		}
		q := "INSERT INTO person_changes (person_id, reason, created_at) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?),", len(part)), ",")
		if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
			return fmt.Errorf("record %s changes of %d persons: %w", reason, len(part), err)
		}
	}
	return nil
}

// recordAccountChanges logs every person of the accounts (merged-away
// persons left out) as changed for reason ChangeAccount, inside tx: fit
// rules read the account's fields, so a change to them (a group call, a
// CRM update) changes the scores of all its persons. On PostgreSQL tx
// must hold the processing lock, as for recordPersonChanges.
func recordAccountChanges(ctx context.Context, s *Store, tx *sql.Tx, accountIDs []int64, now time.Time) error {
	ids := slices.DeleteFunc(slices.Clone(accountIDs), func(id int64) bool { return id == 0 })
	slices.Sort(ids)
	ids = slices.Compact(ids)
	at := utc(now)
	return inChunks(ids, func(part []int64, in string, args []any) error {
		q := `INSERT INTO person_changes (person_id, reason, created_at) SELECT id, ?, ? FROM persons
			WHERE merged_into_id IS NULL AND account_id IN ` + in + ` ORDER BY id`
		if _, err := tx.ExecContext(ctx, s.q(q), append([]any{ChangeAccount, at}, args...)...); err != nil {
			return fmt.Errorf("record changes of the persons of %d accounts: %w", len(part), err)
		}
		return nil
	})
}

// RecordAccountChanges logs in a transaction of its own that the fields of
// the accounts changed, for changes made outside event processing.
func (s *Store) RecordAccountChanges(ctx context.Context, accountIDs []int64, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockPersonChanges(ctx, s, tx); err != nil {
			return err
		}
		return recordAccountChanges(ctx, s, tx, accountIDs, now)
	})
}

// RecordPersonChanges logs in a transaction of its own that the persons
// changed for reason (one of the Change constants), for changes made
// outside event processing and merges, such as an edit by hand.
func (s *Store) RecordPersonChanges(ctx context.Context, ids []int64, reason string, now time.Time) error {
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("record person changes: a reason is required")
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockPersonChanges(ctx, s, tx); err != nil {
			return err
		}
		return recordPersonChanges(ctx, s, tx, ids, reason, now)
	})
}

// MaxPersonChangeID is the highest person_changes id (ids only grow, also
// across pruning).
func (s *Store) MaxPersonChangeID(ctx context.Context) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM person_changes`).Scan(&id)
	return id, err
}

// PersonChangesBetween lists the persons logged in person_changes with an
// id in (after, upTo], each once, in id order of the persons.
func (s *Store) PersonChangesBetween(ctx context.Context, after, upTo int64) ([]int64, error) {
	var out []int64
	if upTo <= after {
		return out, nil
	}
	err := s.each(ctx, `SELECT DISTINCT person_id FROM person_changes WHERE id > ? AND id <= ? ORDER BY person_id`, []any{after, upTo},
		func(r *sql.Rows) error {
			var id int64
			if err := r.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
			return nil
		})
	return out, err
}

// personChangesKept is how long logged changes stay after every reader
// has passed them: long enough to tell why a person was recomputed.
const personChangesKept = 7 * 24 * time.Hour

// PrunePersonChanges deletes the logged changes older than a week that
// both incremental scoring and incremental credits (every conversion kind)
// have read, and returns how many. A reader that never ran holds nothing
// back: its first run is a full one.
func (s *Store) PrunePersonChanges(ctx context.Context, now time.Time) (int64, error) {
	var marks []int64
	scoringRan, scoringRead := false, false
	err := s.each(ctx, `SELECT name, value FROM scoring_watermarks`, nil, func(r *sql.Rows) error {
		var name string
		var v int64
		if err := r.Scan(&name, &v); err != nil {
			return err
		}
		scoringRan = true
		if name == "person_changes" {
			scoringRead = true
			marks = append(marks, v)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune person changes: %w", err)
	}
	if scoringRan && !scoringRead {
		return 0, nil // scored before changes were logged: it has read none yet
	}
	err = s.each(ctx, `SELECT change_watermark FROM attribution_state`, nil, func(r *sql.Rows) error {
		var v int64
		if err := r.Scan(&v); err != nil {
			return err
		}
		marks = append(marks, v)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune person changes: %w", err)
	}
	if len(marks) == 0 {
		return 0, nil
	}
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM person_changes WHERE id <= ? AND created_at < ?`),
		slices.Min(marks), utc(now.Add(-personChangesKept)))
	if err != nil {
		return 0, fmt.Errorf("prune person changes: %w", err)
	}
	return res.RowsAffected()
}
