package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// The journey ledger: one row per (journey version, step, person, entry).
// A runner claims due rows (a lease: claimed_by, lease_until, attempts as
// the claim's token), runs their steps outside any transaction, and
// completes them: the row's outcome, the step's effects on the person and
// the next step's row are written in one transaction. A completion whose
// claim is no longer the row's (the lease ran out and another runner took
// it) changes nothing. A row left running by a runner that died is due
// again once its lease expired; a done row is never claimed again.

// JourneyWork is a claimed ledger row with what its runner needs.
type JourneyWork struct {
	ID         int64
	EntryID    int64
	JourneyID  int64
	Version    int
	StepID     string
	Type       string
	PersonID   int64
	EntryNo    int
	Attempt    int // this claim's attempt: 1 for the first
	DueAt      time.Time
	StartedAt  time.Time // the first claim's time
	WaitUntil  *time.Time
	WaitEvent  string
	Result     string // "event" when the event a wait listened for came
	MessageKey string
	EnteredAt  time.Time
	EntryState string
}

// ClaimJourneySteps takes up to limit due rows of live journeys (due_at
// at or before now) for worker, leased until now+lease; first, rows whose
// lease expired are made due again. On PostgreSQL concurrent claimers skip
// each other's rows (FOR UPDATE SKIP LOCKED); SQLite has one writer.
func (s *Store) ClaimJourneySteps(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]JourneyWork, error) {
	now = utc(now)
	if limit <= 0 {
		limit = 500
	}
	var out []JourneyWork
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE journey_ledger SET status = 'due', claimed_by = '', lease_until = NULL
			WHERE status = 'running' AND lease_until < ?`), now); err != nil {
			return err
		}
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE OF l SKIP LOCKED"
		}
		err := s.eachOn(ctx, tx, `UPDATE journey_ledger SET status = 'running', claimed_by = ?, lease_until = ?, attempts = attempts + 1,
			started_at = COALESCE(started_at, ?)
			WHERE id IN (SELECT l.id FROM journey_ledger l WHERE l.status = 'due' AND l.due_at <= ?
				AND EXISTS (SELECT 1 FROM journeys j WHERE j.id = l.journey_id AND j.status = 'live')
				ORDER BY l.due_at, l.id LIMIT ?`+lock+`)
			RETURNING id, entry_id, journey_id, version, step_id, step_type, person_id, entry_no, attempts, due_at, started_at, wait_until,
				wait_event, result, message_key`, []any{worker, utc(now.Add(lease)), now, now, limit}, func(r *sql.Rows) error {
			var w JourneyWork
			var wait sql.NullTime
			if err := r.Scan(&w.ID, &w.EntryID, &w.JourneyID, &w.Version, &w.StepID, &w.Type, &w.PersonID, &w.EntryNo, &w.Attempt, &w.DueAt,
				&w.StartedAt, &wait, &w.WaitEvent, &w.Result, &w.MessageKey); err != nil {
				return err
			}
			w.DueAt, w.StartedAt = w.DueAt.UTC(), w.StartedAt.UTC()
			if wait.Valid {
				t := wait.Time.UTC()
				w.WaitUntil = &t
			}
			out = append(out, w)
			return nil
		})
		if err != nil || len(out) == 0 {
			return err
		}
		byEntry := make(map[int64][]int, len(out))
		ids := make([]any, 0, len(out))
		for i, w := range out {
			if _, ok := byEntry[w.EntryID]; !ok {
				ids = append(ids, w.EntryID)
			}
			byEntry[w.EntryID] = append(byEntry[w.EntryID], i)
		}
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			err := s.eachOn(ctx, tx, "SELECT id, entered_at, state FROM journey_entries WHERE id IN ("+placeholders(len(chunk))+")", chunk,
				func(r *sql.Rows) error {
					var id int64
					var at time.Time
					var state string
					if err := r.Scan(&id, &at, &state); err != nil {
						return err
					}
					for _, i := range byEntry[id] {
						out[i].EnteredAt, out[i].EntryState = at.UTC(), state
					}
					return nil
				})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim journey steps: %w", err)
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// JourneyUpdate is what an update step changes on the person.
type JourneyUpdate struct {
	Trait      string
	Value      json.RawMessage
	Stage      model.Stage
	ScoreDelta int
	Owner      string // a user's email or id
	Task       string // a task for the person's owner
}

// JourneyStepDone is how a claimed row ends, or is put back.
type JourneyStepDone struct {
	Work JourneyWork
	// Again puts the row back, due at DueAt (a retry after a transient
	// failure, or a wait armed: WaitUntil and WaitEvent set).
	Again     bool
	DueAt     time.Time
	WaitUntil *time.Time
	WaitEvent string
	// Otherwise the row ends with Status (done, skipped, failed), Result
	// and Reason; Next is the next step's id and type ("" at the end);
	// End ends the entry (completed or exited) with EndReason.
	Status    string
	Result    string
	Reason    string
	Next      string
	NextType  string
	End       string
	EndReason string
	Update    *JourneyUpdate
}

// CompleteJourneySteps writes the outcomes of claimed rows in one
// transaction: each row whose claim still holds is ended (or put back),
// its update applied, its next row inserted due at now (or its entry
// ended). It returns how many rows were still the worker's.
func (s *Store) CompleteJourneySteps(ctx context.Context, worker string, now time.Time, done []JourneyStepDone) (int, error) {
	if len(done) == 0 {
		return 0, nil
	}
	now = utc(now)
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		again, err := tx.PrepareContext(ctx, s.q(`UPDATE journey_ledger SET status = 'due', due_at = ?, wait_until = COALESCE(?, wait_until),
			wait_event = ?, reason = ?, claimed_by = '', lease_until = NULL WHERE id = ? AND status = 'running' AND claimed_by = ? AND attempts = ?`))
		if err != nil {
			return err
		}
		defer again.Close()
		end, err := tx.PrepareContext(ctx, s.q(`UPDATE journey_ledger SET status = ?, result = ?, reason = ?, next_step = ?, finished_at = ?,
			claimed_by = '', lease_until = NULL WHERE id = ? AND status = 'running' AND claimed_by = ? AND attempts = ?`))
		if err != nil {
			return err
		}
		defer end.Close()
		insert, err := tx.PrepareContext(ctx, s.q(`INSERT INTO journey_ledger (entry_id, journey_id, version, step_id, person_id, entry_no, step_type,
			status, due_at, message_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'due', ?, ?, ?) ON CONFLICT DO NOTHING`))
		if err != nil {
			return err
		}
		defer insert.Close()
		current, err := tx.PrepareContext(ctx, s.q("UPDATE journey_entries SET current_step = ? WHERE id = ? AND state = 'active'"))
		if err != nil {
			return err
		}
		defer current.Close()
		finish, err := tx.PrepareContext(ctx, s.q(`UPDATE journey_entries SET state = ?, ended_at = ?, reason = ?, current_step = ''
			WHERE id = ? AND state = 'active'`))
		if err != nil {
			return err
		}
		defer finish.Close()
		for _, d := range done {
			w := d.Work
			if d.Again {
				var wait any
				if d.WaitUntil != nil {
					wait = utc(*d.WaitUntil)
				}
				res, err := again.ExecContext(ctx, utc(d.DueAt), wait, d.WaitEvent, clip(d.Reason, 500), w.ID, worker, w.Attempt)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k == 1 {
					n++
				}
				continue
			}
			res, err := end.ExecContext(ctx, d.Status, clip(d.Result, 100), clip(d.Reason, 500), d.Next, now, w.ID, worker, w.Attempt)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k != 1 {
				continue // no longer this worker's claim
			}
			n++
			if d.Update != nil {
				if err := s.applyJourneyUpdate(ctx, tx, w, *d.Update, now); err != nil {
					return fmt.Errorf("journey %d step %s person %d: %w", w.JourneyID, w.StepID, w.PersonID, err)
				}
			}
			endState, endReason := d.End, d.EndReason
			if d.Next != "" {
				res, err := insert.ExecContext(ctx, w.EntryID, w.JourneyID, w.Version, d.Next, w.PersonID, w.EntryNo, d.NextType, now,
					JourneyMessageKey(w.JourneyID, w.Version, d.Next, w.PersonID, w.EntryNo), now)
				if err != nil {
					return fmt.Errorf("journey ledger: %w", err)
				}
				if k, _ := res.RowsAffected(); k == 1 {
					if _, err := current.ExecContext(ctx, d.Next, w.EntryID); err != nil {
						return err
					}
					continue
				}
				endState, endReason = model.EntryExited, "step "+d.Next+" reached a second time"
			}
			if endState == "" {
				endState = model.EntryCompleted
			}
			if _, err := finish.ExecContext(ctx, endState, now, clip(endReason, 500), w.EntryID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("complete journey steps: %w", err)
	}
	return n, nil
}

// applyJourneyUpdate applies an update step inside the completion's
// transaction, so that it happens exactly when the step is recorded done.
func (s *Store) applyJourneyUpdate(ctx context.Context, tx *sql.Tx, w JourneyWork, u JourneyUpdate, now time.Time) error {
	actor := "journey:" + strconv.FormatInt(w.JourneyID, 10)
	if u.Trait != "" {
		var raw string
		if err := tx.QueryRowContext(ctx, s.q("SELECT traits FROM persons WHERE id = ?"), w.PersonID).Scan(&raw); err != nil {
			return err
		}
		traits := parseTraits(raw)
		if traits == nil {
			traits = map[string]any{}
		}
		var v any
		if err := json.Unmarshal(u.Value, &v); err != nil {
			return fmt.Errorf("trait %s: %w", u.Trait, err)
		}
		traits[u.Trait] = v
		if _, err := tx.ExecContext(ctx, s.q("UPDATE persons SET traits = ? WHERE id = ?"), traitsJSON(traits), w.PersonID); err != nil {
			return err
		}
	}
	if u.ScoreDelta != 0 {
		if _, err := tx.ExecContext(ctx, s.q("UPDATE persons SET score = score + ? WHERE id = ?"), float64(u.ScoreDelta), w.PersonID); err != nil {
			return err
		}
	}
	if u.Owner != "" {
		id, _ := strconv.ParseInt(u.Owner, 10, 64)
		var owner int64
		err := tx.QueryRowContext(ctx, s.q("SELECT id FROM users WHERE id = ? OR lower(email) = lower(?) ORDER BY id LIMIT 1"), id, u.Owner).Scan(&owner)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if owner != 0 {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE persons SET owner_id = ? WHERE id = ?"), owner, w.PersonID); err != nil {
				return err
			}
		}
	}
	if u.Task != "" {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO tasks (kind, title, person_id, assignee_id, due_at, created_at)
			VALUES ('journey', ?, ?, (SELECT owner_id FROM persons WHERE id = ?), ?, ?)`), clip(u.Task, 500), w.PersonID, w.PersonID, now, now); err != nil {
			return err
		}
	}
	if u.Stage != "" {
		var cur string
		if err := tx.QueryRowContext(ctx, s.q("SELECT stage FROM persons WHERE id = ?"), w.PersonID).Scan(&cur); err != nil {
			return err
		}
		if model.Stage(cur) != u.Stage {
			if _, err := applyStageMoves(ctx, s, tx, txRows(ctx, s, tx), []model.StageMove{{PersonID: w.PersonID, From: model.Stage(cur), To: u.Stage,
				At: now, Reason: "journey step " + w.StepID, Actor: actor}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// JourneyStepOutcome is what became of a step of an entry: the status and
// result of its latest ledger row and its message key; found is false when
// the entry never reached the step.
func (s *Store) JourneyStepOutcome(ctx context.Context, entryID int64, stepID string) (status, result, key string, found bool, err error) {
	err = s.w.QueryRowContext(ctx, s.q(`SELECT status, result, message_key FROM journey_ledger WHERE entry_id = ? AND step_id = ?
		ORDER BY id DESC LIMIT 1`), entryID, stepID).Scan(&status, &result, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", false, nil
	}
	return status, result, key, err == nil, err
}

// PersonDidEventSince says whether the person did the tracked event at or
// after since.
func (s *Store) PersonDidEventSince(ctx context.Context, personID int64, name string, since time.Time) (bool, error) {
	var one int
	err := s.w.QueryRowContext(ctx, s.q(`SELECT 1 FROM events WHERE person_id = ? AND ts >= ? AND name = ? AND type = 'track' LIMIT 1`),
		personID, utc(since), name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// JourneyPerson returns what steps read of a person: the stage and the
// "timezone" trait ("" when none).
func (s *Store) JourneyPerson(ctx context.Context, personID int64) (model.Stage, string, error) {
	var stage, raw string
	err := s.w.QueryRowContext(ctx, s.q("SELECT stage, traits FROM persons WHERE id = ?"), personID).Scan(&stage, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", err
	}
	zone, _ := parseTraits(raw)["timezone"].(string)
	return model.Stage(stage), zone, nil
}

// JourneyStats computes a journey's figures (docs/metrics.md): entries by
// state, ledger rows per step, and the conversions of the persons who
// entered, each counted from the person's first entry.
func (s *Store) JourneyStats(ctx context.Context, id int64, now time.Time) (model.JourneyStats, error) {
	now = utc(now)
	st := model.JourneyStats{JourneyID: id, At: now, Steps: []model.JourneyStepStats{}}
	j, err := s.Journey(ctx, id)
	if err != nil {
		return st, err
	}
	v := j.LiveVersion
	if v == 0 {
		v = j.LatestVersion
	}
	def, err := s.JourneyDefinition(ctx, id, v)
	if err != nil {
		return st, err
	}
	st.GoalStage = def.GoalStage()
	err = s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COUNT(DISTINCT person_id),
		COALESCE(SUM(CASE WHEN state = 'active' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'completed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'exited' THEN 1 ELSE 0 END), 0)
		FROM journey_entries WHERE journey_id = ?`), id).Scan(&st.Entered, &st.Persons, &st.Active, &st.Completed, &st.Exited)
	if err != nil {
		return st, err
	}
	err = s.eachOn(ctx, s.r, `SELECT version, step_id, step_type,
		COALESCE(SUM(CASE WHEN status = 'due' AND due_at > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN (status = 'due' AND due_at <= ?) OR status = 'running' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0)
		FROM journey_ledger WHERE journey_id = ? GROUP BY version, step_id, step_type ORDER BY version, MIN(id)`, []any{now, now, id},
		func(r *sql.Rows) error {
			var x model.JourneyStepStats
			err := r.Scan(&x.Version, &x.StepID, &x.Type, &x.Waiting, &x.Due, &x.Done, &x.Skipped, &x.Failed)
			st.Steps = append(st.Steps, x)
			return err
		})
	if err != nil {
		return st, err
	}
	var goals []model.Stage
	if st.GoalStage.Rank() < 0 {
		goals = []model.Stage{st.GoalStage}
	} else {
		for _, g := range model.LifecycleStages {
			if g.Rank() >= st.GoalStage.Rank() {
				goals = append(goals, g)
			}
		}
	}
	in, args := stageList(goals)
	first := `WITH f AS (SELECT person_id, MIN(entered_at) AS at FROM journey_entries WHERE journey_id = ? GROUP BY person_id)`
	err = s.r.QueryRowContext(ctx, s.q(first+` SELECT COUNT(*) FROM f WHERE EXISTS (SELECT 1 FROM stage_changes sc
		WHERE sc.person_id = f.person_id AND sc.changed_at >= f.at AND sc.to_stage IN (`+in+`))`), append([]any{id}, args...)...).Scan(&st.Converted)
	if err != nil {
		return st, err
	}
	err = s.r.QueryRowContext(ctx, s.q(first+`, o AS (SELECT DISTINCT o.id, o.amount_fen, o.stage FROM f
		JOIN opportunity_contacts oc ON oc.person_id = f.person_id
		JOIN opportunities o ON o.id = oc.opportunity_id AND o.created_at >= f.at)
		SELECT COUNT(*), COALESCE(SUM(CASE WHEN stage = ? THEN amount_fen ELSE 0 END), 0) FROM o`), id, model.OppStageClosedWon).
		Scan(&st.Opportunities, &st.RevenueFen)
	return st, err
}

const ledgerCols = `id, entry_id, version, step_id, step_type, status, due_at, attempts, wait_until, wait_event, result, reason, message_key,
	next_step, created_at, started_at, finished_at`

func scanLedgerRow(r rowScanner) (model.JourneyLedgerRow, error) {
	var x model.JourneyLedgerRow
	var wait, started, finished sql.NullTime
	err := r.Scan(&x.ID, &x.EntryID, &x.Version, &x.StepID, &x.Type, &x.Status, &x.DueAt, &x.Attempts, &wait, &x.WaitEvent, &x.Result, &x.Reason,
		&x.MessageKey, &x.NextStep, &x.CreatedAt, &started, &finished)
	x.DueAt, x.CreatedAt = x.DueAt.UTC(), x.CreatedAt.UTC()
	x.WaitUntil, x.StartedAt, x.FinishedAt = nullTimePtr(wait), nullTimePtr(started), nullTimePtr(finished)
	return x, err
}

// JourneyTimeline returns a person's entries into a journey, each with its
// ledger rows, oldest first.
func (s *Store) JourneyTimeline(ctx context.Context, journeyID, personID int64) (model.JourneyTimeline, error) {
	tl := model.JourneyTimeline{JourneyID: journeyID, PersonID: personID, Entries: []model.JourneyTimelineEntry{}}
	entries, err := scanAll(ctx, s, s.r, `SELECT id, journey_id, version, person_id, entry_no, entered_at, state, current_step, ended_at, reason
		FROM journey_entries WHERE journey_id = ? AND person_id = ? ORDER BY entry_no LIMIT 1000`, []any{journeyID, personID},
		func(r rowScanner) (model.JourneyEntry, error) {
			var e model.JourneyEntry
			var ended sql.NullTime
			err := r.Scan(&e.ID, &e.JourneyID, &e.Version, &e.PersonID, &e.EntryNo, &e.EnteredAt, &e.State, &e.CurrentStep, &ended, &e.Reason)
			e.EnteredAt, e.EndedAt = e.EnteredAt.UTC(), nullTimePtr(ended)
			return e, err
		})
	if err != nil {
		return tl, err
	}
	for _, e := range entries {
		rows, err := scanAll(ctx, s, s.r, "SELECT "+ledgerCols+" FROM journey_ledger WHERE entry_id = ? ORDER BY id", []any{e.ID}, scanLedgerRow)
		if err != nil {
			return tl, err
		}
		if rows == nil {
			rows = []model.JourneyLedgerRow{}
		}
		tl.Entries = append(tl.Entries, model.JourneyTimelineEntry{JourneyEntry: e, Steps: rows})
	}
	return tl, nil
}

// MigrateJourney moves the active entries of m.FromVersion whose current
// step is mapped to the mapped step of m.ToVersion: the waiting row is
// ended (skipped, "moved") and the new version's step is due at now. An
// entry whose row is being run is left where it is (Busy). With preview
// nothing changes and the plan says who would move where. Both versions'
// definitions must have the steps the mapping names.
func (s *Store) MigrateJourney(ctx context.Context, id int64, m model.JourneyMigration, preview bool, now time.Time) (model.JourneyMigrationPlan, error) {
	plan := model.JourneyMigrationPlan{FromVersion: m.FromVersion, ToVersion: m.ToVersion, Preview: preview,
		Moves: []model.JourneyMoveCount{}, Unmapped: []model.JourneyStayCount{}}
	if _, err := s.Journey(ctx, id); err != nil {
		return plan, err
	}
	from, err := s.JourneyDefinition(ctx, id, m.FromVersion)
	if errors.Is(err, ErrNotFound) {
		return plan, fmt.Errorf("%w: from_version: journey %d has no version %d", ErrJourneyConflict, id, m.FromVersion)
	}
	if err != nil {
		return plan, err
	}
	to, err := s.JourneyDefinition(ctx, id, m.ToVersion)
	if errors.Is(err, ErrNotFound) {
		return plan, fmt.Errorf("%w: to_version: journey %d has no version %d", ErrJourneyConflict, id, m.ToVersion)
	}
	if err != nil {
		return plan, err
	}
	if m.FromVersion == m.ToVersion {
		return plan, fmt.Errorf("%w: to_version: the same as from_version", ErrJourneyConflict)
	}
	for a, b := range m.Mapping {
		if from.Step(a) == nil {
			return plan, fmt.Errorf("%w: mapping: version %d has no step %q", ErrJourneyConflict, m.FromVersion, a)
		}
		if to.Step(b) == nil {
			return plan, fmt.Errorf("%w: mapping[%q]: version %d has no step %q", ErrJourneyConflict, a, m.ToVersion, b)
		}
	}
	now = utc(now)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		type cur struct {
			step string
			busy bool
		}
		counts := map[cur]int64{}
		err := s.eachOn(ctx, tx, `SELECT e.current_step, CASE WHEN l.status = 'running' THEN 1 ELSE 0 END, COUNT(*) FROM journey_entries e
			LEFT JOIN journey_ledger l ON l.entry_id = e.id AND l.version = e.version AND l.step_id = e.current_step
			WHERE e.journey_id = ? AND e.version = ? AND e.state = 'active' GROUP BY e.current_step, CASE WHEN l.status = 'running' THEN 1 ELSE 0 END
			ORDER BY e.current_step`, []any{id, m.FromVersion}, func(r *sql.Rows) error {
			var c cur
			var busy int
			var n int64
			if err := r.Scan(&c.step, &busy, &n); err != nil {
				return err
			}
			c.busy = busy == 1
			counts[c] += n
			return nil
		})
		if err != nil {
			return err
		}
		for _, st := range from.Steps {
			free, busy := counts[cur{st.ID, false}], counts[cur{st.ID, true}]
			if free+busy == 0 {
				continue
			}
			target, ok := m.Mapping[st.ID]
			if !ok {
				plan.Unmapped = append(plan.Unmapped, model.JourneyStayCount{Step: st.ID, Entries: free + busy})
				continue
			}
			plan.Busy += busy
			if free > 0 {
				plan.Moves = append(plan.Moves, model.JourneyMoveCount{FromStep: st.ID, ToStep: target, Entries: free})
			}
		}
		if preview {
			return nil
		}
		skip, err := tx.PrepareContext(ctx, s.q(`UPDATE journey_ledger SET status = 'skipped', result = 'moved', reason = ?, finished_at = ?
			WHERE entry_id = ? AND version = ? AND step_id = ? AND status = 'due'`))
		if err != nil {
			return err
		}
		defer skip.Close()
		for i, mv := range plan.Moves {
			type ent struct {
				id, person int64
				no         int
			}
			var ents []ent
			err := s.eachOn(ctx, tx, `SELECT e.id, e.person_id, e.entry_no FROM journey_entries e
				WHERE e.journey_id = ? AND e.version = ? AND e.state = 'active' AND e.current_step = ? ORDER BY e.id`,
				[]any{id, m.FromVersion, mv.FromStep}, func(r *sql.Rows) error {
					var e ent
					err := r.Scan(&e.id, &e.person, &e.no)
					ents = append(ents, e)
					return err
				})
			if err != nil {
				return err
			}
			moved := int64(0)
			toType := to.Step(mv.ToStep).Type
			reason := fmt.Sprintf("moved to version %d step %s", m.ToVersion, mv.ToStep)
			for _, e := range ents {
				res, err := skip.ExecContext(ctx, reason, now, e.id, m.FromVersion, mv.FromStep)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k == 0 {
					continue // being run
				}
				if _, err := insertLedgerRow(ctx, s, tx, ledgerRow{entryID: e.id, journeyID: id, version: m.ToVersion, stepID: mv.ToStep,
					stepType: toType, personID: e.person, entryNo: e.no, due: now}); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, s.q("UPDATE journey_entries SET version = ?, current_step = ? WHERE id = ?"), m.ToVersion, mv.ToStep, e.id); err != nil {
					return err
				}
				moved++
			}
			plan.Moves[i].Entries = moved
			plan.Moved += moved
		}
		return nil
	})
	return plan, err
}

// JourneyLedgerCounts counts a journey's ledger rows by status, for tests
// and the operations page.
func (s *Store) JourneyLedgerCounts(ctx context.Context, journeyID int64) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.eachOn(ctx, s.r, "SELECT status, COUNT(*) FROM journey_ledger WHERE journey_id = ? GROUP BY status", []any{journeyID}, func(r *sql.Rows) error {
		var st string
		var n int64
		err := r.Scan(&st, &n)
		out[st] = n
		return err
	})
	return out, err
}
