package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// ErrConflictResolved is a decision on a conflict that was decided before.
var ErrConflictResolved = errors.New("conflict already resolved")

// RecordConflict stores a conflict once per pair of persons and kind, and
// never for a pair a person kept apart.
func (p *ProcessTx) RecordConflict(c model.IdentityConflict) error {
	if c.PersonA > c.PersonB {
		c.PersonA, c.PersonB = c.PersonB, c.PersonA
		c.ValueA, c.ValueB = c.ValueB, c.ValueA
	}
	if err := p.flushForDirectWrite(); err != nil { // the persons and the event must exist
		return err
	}
	_, err := p.exec(`INSERT INTO identity_conflicts (person_a, person_b, type, value_a, value_b, event_id, reason, created_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM identity_kept_apart WHERE person_a = ? AND person_b = ?)
		ON CONFLICT (person_a, person_b, type) DO NOTHING`,
		c.PersonA, c.PersonB, c.Type, c.ValueA, c.ValueB, nullID(c.EventID), clip(c.Reason, 500), p.now, c.PersonA, c.PersonB)
	return err
}

// IdentityConflicts lists conflicts, newest first; only unresolved ones
// unless all is set.
func (s *Store) IdentityConflicts(ctx context.Context, all bool, limit int) ([]model.IdentityConflict, error) {
	if all {
		return s.IdentityConflictsByStatus(ctx, model.ConflictsAll, limit)
	}
	return s.IdentityConflictsByStatus(ctx, model.ConflictsOpen, limit)
}

const conflictCols = `id, person_a, person_b, type, value_a, value_b, COALESCE(event_id, 0), reason, created_at, resolved_at,
	decision, decided_by, note, COALESCE(merge_id, 0)`

func scanConflict(row interface{ Scan(...any) error }) (model.IdentityConflict, error) {
	var c model.IdentityConflict
	var resolved sql.NullTime
	err := row.Scan(&c.ID, &c.PersonA, &c.PersonB, &c.Type, &c.ValueA, &c.ValueB, &c.EventID, &c.Reason, &c.CreatedAt, &resolved,
		&c.Decision, &c.DecidedBy, &c.Note, &c.MergeID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	c.CreatedAt = c.CreatedAt.UTC()
	if resolved.Valid {
		t := resolved.Time.UTC()
		c.ResolvedAt = &t
	}
	return c, err
}

// IdentityConflictsByStatus lists conflicts, newest first: open ones
// (never decided), resolved ones, or all.
func (s *Store) IdentityConflictsByStatus(ctx context.Context, status model.ConflictStatus, limit int) ([]model.IdentityConflict, error) {
	where := ""
	switch status {
	case model.ConflictsOpen:
		where = "WHERE resolved_at IS NULL"
	case model.ConflictsResolved:
		where = "WHERE resolved_at IS NOT NULL"
	case model.ConflictsAll:
	default:
		return nil, fmt.Errorf("conflict status %q: want open, resolved or all", status)
	}
	return orEmpty(scanAll(ctx, s, s.r, `SELECT `+conflictCols+` FROM identity_conflicts `+where+` ORDER BY id DESC LIMIT ?`, []any{limit}, scanConflict))
}

// ResolveConflict decides a conflict and logs the decision (who, when,
// note) on it and on every other open conflict of the same pair, which the
// decision settles too. merge merges the two persons (or those they were
// merged into since) through the ordinary merge, logged and undoable, the
// lower-numbered person surviving; keep_apart records them as different
// people, so that events never merge them and no conflict is raised for
// them again. A conflict decided before is ErrConflictResolved, an unknown
// one ErrNotFound, an unknown decision ErrBadDecision.
func (s *Store) ResolveConflict(ctx context.Context, id int64, decision, note, actor string) (model.IdentityConflict, error) {
	if decision != model.DecisionMerge && decision != model.DecisionKeepApart {
		return model.IdentityConflict{}, fmt.Errorf("%w %q: want %s or %s", ErrBadDecision, clip(decision, 40), model.DecisionMerge, model.DecisionKeepApart)
	}
	note, actor = clip(note, 1000), clip(actor, 200)
	var out model.IdentityConflict
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c, err := scanConflict(tx.QueryRowContext(ctx, s.q(`SELECT `+conflictCols+` FROM identity_conflicts WHERE id = ?`), id))
		if err != nil {
			return err
		}
		if c.ResolvedAt != nil {
			return fmt.Errorf("%w: conflict %d was resolved (%s) by %s at %s", ErrConflictResolved, id, c.Decision, orElse(c.DecidedBy, "someone"),
				c.ResolvedAt.Format(time.RFC3339))
		}
		a, err := survivorTx(ctx, s, tx, c.PersonA)
		if err != nil {
			return err
		}
		b, err := survivorTx(ctx, s, tx, c.PersonB)
		if err != nil {
			return err
		}
		a, b = min(a, b), max(a, b)
		now := utc(time.Now())
		var mergeID int64
		switch {
		case decision == model.DecisionMerge && a != b:
			reason := fmt.Sprintf("conflict %d resolved: merge", id)
			if note != "" {
				reason += ": " + note
			}
			if mergeID, err = mergePersons(ctx, s, tx, a, b, reason, actor, 0, now); err != nil {
				return err
			}
		case decision == model.DecisionKeepApart && a == b:
			return fmt.Errorf("%w: persons %d and %d are one person now (merged since the conflict was raised); undo that merge first",
				ErrMergeRefused, c.PersonA, c.PersonB)
		case decision == model.DecisionKeepApart:
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO identity_kept_apart (person_a, person_b, conflict_id, decided_by, note, created_at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person_a, person_b) DO NOTHING`), a, b, id, actor, note, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE identity_conflicts SET resolved_at = ?, decision = ?, decided_by = ?, note = ?, merge_id = ?
			WHERE resolved_at IS NULL AND (id = ? OR (person_a = ? AND person_b = ?))`),
			now, decision, actor, note, nullID(mergeID), id, c.PersonA, c.PersonB); err != nil {
			return err
		}
		c.ResolvedAt, c.Decision, c.DecidedBy, c.Note, c.MergeID = &now, decision, actor, note, mergeID
		out = c
		return nil
	})
	return out, err
}

// ErrBadDecision is a conflict decision other than merge and keep_apart.
var ErrBadDecision = errors.New("unknown decision")

// inheritKeptApart makes the survivor of a merge kept apart from whoever
// the merged person was kept apart from: a person's decision that two
// records are different humans holds for the human, not for one record.
// Each pair added is logged with the merge, so that undo removes it.
func inheritKeptApart(ctx context.Context, s *Store, tx *sql.Tx, mid, into, from int64) error {
	type pair struct {
		other, conflict int64
		decidedBy, note string
		createdAt       time.Time
	}
	var pairs []pair
	err := s.eachOn(ctx, tx, `SELECT CASE WHEN person_a = ? THEN person_b ELSE person_a END, COALESCE(conflict_id, 0), decided_by, note, created_at
		FROM identity_kept_apart WHERE person_a = ? OR person_b = ?`, []any{from, from, from}, func(r *sql.Rows) error {
		var p pair
		if err := r.Scan(&p.other, &p.conflict, &p.decidedBy, &p.note, &p.createdAt); err != nil {
			return err
		}
		if p.other != into {
			pairs = append(pairs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range pairs {
		a, b := min(into, p.other), max(into, p.other)
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO identity_kept_apart (person_a, person_b, conflict_id, decided_by, note, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person_a, person_b) DO NOTHING`), a, b, nullID(p.conflict), p.decidedBy, p.note, utc(p.createdAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // kept apart already, by a decision of its own
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO person_merge_items (merge_id, kind, item_id, id_value) VALUES (?, 'kept_apart', ?, ?)`),
			mid, a, strconv.FormatInt(b, 10)); err != nil {
			return err
		}
	}
	return nil
}

// survivorTx follows a person's merges to the person it lives on in.
func survivorTx(ctx context.Context, s *Store, tx *sql.Tx, id int64) (int64, error) {
	for range 100 {
		var merged sql.NullInt64
		err := tx.QueryRowContext(ctx, s.q("SELECT merged_into_id FROM persons WHERE id = ?"), id).Scan(&merged)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("person %d: %w", id, ErrNotFound)
		}
		if err != nil || !merged.Valid {
			return id, err
		}
		id = merged.Int64
	}
	return 0, fmt.Errorf("person %d: its merges form a chain over 100 long", id)
}

// MergeUndone says whether the two persons must not be merged
// automatically: a merge between them was undone (a person split by hand
// is not merged back) or a person decided they are different people.
func (p *ProcessTx) MergeUndone(a, b int64) (bool, error) {
	var n int
	err := p.row(`SELECT (SELECT COUNT(*) FROM person_merges WHERE undone_at IS NOT NULL AND
		((into_id = ? AND from_id = ?) OR (into_id = ? AND from_id = ?))) +
		(SELECT COUNT(*) FROM identity_kept_apart WHERE person_a = ? AND person_b = ?)`, a, b, b, a, min(a, b), max(a, b)).Scan(&n)
	return n > 0, err
}

// personSnapshot is what a merge changes on the persons rows, kept so that
// undo can put it back.
type personSnapshot struct {
	Stage        string     `json:"stage"`
	StageAt      *time.Time `json:"stage_at"`
	LeadAt       *time.Time `json:"lead_at"`
	FirstSeenAt  time.Time  `json:"first_seen_at"`
	FirstChannel string     `json:"first_touch_channel"`
	FirstCamp    *int64     `json:"first_touch_campaign"`
	AccountID    *int64     `json:"account_id"`
	Name         string     `json:"name"`
	Title        string     `json:"title"`
	Email        string     `json:"email"`
	Phone        string     `json:"phone"`
	Traits       string     `json:"traits,omitempty"` // absent from merges logged before traits were kept
}

func readSnapshot(ctx context.Context, s *Store, tx *sql.Tx, id int64) (personSnapshot, error) {
	var ps personSnapshot
	var stageAt, leadAt sql.NullTime
	var camp, acct sql.NullInt64
	err := tx.QueryRowContext(ctx, s.q(`SELECT stage, stage_at, lead_at, first_seen_at, first_touch_channel, first_touch_campaign,
		account_id, name, title, email, phone, traits FROM persons WHERE id = ?`), id).Scan(&ps.Stage, &stageAt, &leadAt, &ps.FirstSeenAt,
		&ps.FirstChannel, &camp, &acct, &ps.Name, &ps.Title, &ps.Email, &ps.Phone, &ps.Traits)
	if errors.Is(err, sql.ErrNoRows) {
		return ps, fmt.Errorf("person %d: %w", id, ErrNotFound)
	}
	ps.FirstSeenAt = ps.FirstSeenAt.UTC()
	if stageAt.Valid {
		t := stageAt.Time.UTC()
		ps.StageAt = &t
	}
	if leadAt.Valid {
		t := leadAt.Time.UTC()
		ps.LeadAt = &t
	}
	if camp.Valid {
		ps.FirstCamp = &camp.Int64
	}
	if acct.Valid {
		ps.AccountID = &acct.Int64
	}
	return ps, err
}

// MergePersons merges person from into person into, inside the processing
// transaction.
func (p *ProcessTx) MergePersons(into, from int64, reason string, eventID int64) (int64, error) {
	// The merge moves (and logs) the rows of from: what the batch kept in
	// memory so far must be written first, and read again after.
	if err := p.flushForDirectWrite(); err != nil {
		return 0, err
	}
	mid, err := mergePersons(p.ctx, p.s, p.tx, into, from, reason, "oneid", eventID, p.now)
	if err != nil {
		return 0, err
	}
	p.forget(into, from)
	for k, owner := range p.owners {
		if owner == from {
			p.owners[k] = into
		}
	}
	return mid, nil
}

// MergePersons merges two persons by hand (a reviewed conflict). It returns
// the merge's id.
func (s *Store) MergePersons(ctx context.Context, into, from int64, reason, actor string) (int64, error) {
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = mergePersons(ctx, s, tx, into, from, reason, actor, 0, utc(time.Now()))
		return err
	})
	return id, err
}

// ErrMergeRefused is a merge or undo that cannot be done as asked.
var ErrMergeRefused = errors.New("merge refused")

// mergePersons moves everything of `from` (identifiers, touchpoints,
// events, stage history, opportunity roles, tasks) to `into`, logs each
// moved row so that the merge can be undone, and leaves `from` as a
// tombstone pointing at `into`.
func mergePersons(ctx context.Context, s *Store, tx *sql.Tx, into, from int64, reason, actor string, eventID int64, now time.Time) (int64, error) {
	if into == from {
		return 0, fmt.Errorf("%w: cannot merge person %d into itself", ErrMergeRefused, into)
	}
	// First, before any row is touched: the merge logs person changes.
	if err := lockPersonChanges(ctx, s, tx); err != nil {
		return 0, err
	}
	ex := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, s.q(q), args...)
		return err
	}
	for _, id := range []int64{into, from} {
		var merged sql.NullInt64
		err := tx.QueryRowContext(ctx, s.q("SELECT merged_into_id FROM persons WHERE id = ?"), id).Scan(&merged)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("person %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return 0, err
		}
		if merged.Valid {
			return 0, fmt.Errorf("%w: person %d was already merged into person %d", ErrMergeRefused, id, merged.Int64)
		}
	}
	a, err := readSnapshot(ctx, s, tx, into)
	if err != nil {
		return 0, err
	}
	b, err := readSnapshot(ctx, s, tx, from)
	if err != nil {
		return 0, err
	}
	snap, _ := json.Marshal(map[string]personSnapshot{"into": a, "from": b})
	mid, err := s.insertID(ctx, tx, `INSERT INTO person_merges (into_id, from_id, reason, event_id, actor, snapshot, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, into, from, clip(reason, 500), nullID(eventID), clip(actor, 200), string(snap), now)
	if err != nil {
		return 0, err
	}
	steps := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO person_merge_items (merge_id, kind, id_type, id_value) SELECT ?, 'identity', type, value FROM identities WHERE person_id = ?`, []any{mid, from}},
		{`UPDATE identities SET person_id = ? WHERE person_id = ?`, []any{into, from}},
		{`INSERT INTO person_merge_items (merge_id, kind, item_id) SELECT ?, 'touchpoint', id FROM touchpoints WHERE person_id = ?`, []any{mid, from}},
		{`UPDATE touchpoints SET person_id = ? WHERE person_id = ?`, []any{into, from}},
		{`INSERT INTO person_merge_items (merge_id, kind, item_id) SELECT ?, 'event', id FROM events WHERE person_id = ?`, []any{mid, from}},
		{`UPDATE events SET person_id = ? WHERE person_id = ?`, []any{into, from}},
		{`INSERT INTO person_merge_items (merge_id, kind, item_id) SELECT ?, 'stage_change', id FROM stage_changes WHERE person_id = ?`, []any{mid, from}},
		{`UPDATE stage_changes SET person_id = ? WHERE person_id = ?`, []any{into, from}},
		{`INSERT INTO person_merge_items (merge_id, kind, item_id) SELECT ?, 'task', id FROM tasks WHERE person_id = ?`, []any{mid, from}},
		{`UPDATE tasks SET person_id = ? WHERE person_id = ?`, []any{into, from}},
		// Opportunity roles: moved where `into` has none on the
		// opportunity; dropped (and remembered) where it has one.
		{`INSERT INTO person_merge_items (merge_id, kind, item_id, id_type, id_value)
			SELECT ?, CASE WHEN EXISTS (SELECT 1 FROM opportunity_contacts o2 WHERE o2.opportunity_id = oc.opportunity_id AND o2.person_id = ?)
				THEN 'opp_dropped' ELSE 'opp_moved' END, oc.opportunity_id, oc.role, CASE WHEN oc.is_primary THEN '1' ELSE '0' END
			FROM opportunity_contacts oc WHERE oc.person_id = ?`, []any{mid, into, from}},
		{`DELETE FROM opportunity_contacts WHERE person_id = ? AND opportunity_id IN (SELECT opportunity_id FROM opportunity_contacts WHERE person_id = ?)`, []any{from, into}},
		{`UPDATE opportunity_contacts SET person_id = ? WHERE person_id = ?`, []any{into, from}},
	}
	for _, st := range steps {
		if err := ex(st.q, st.args...); err != nil {
			return 0, fmt.Errorf("merge person %d into %d: %w", from, into, err)
		}
	}
	// The survivor takes the further stage (in the lifecycle's merge order),
	// the earlier dates and whatever profile fields it lacked.
	stage, stageAt := a.Stage, a.StageAt
	if model.FurtherStage(model.Stage(a.Stage), model.Stage(b.Stage)) != model.Stage(a.Stage) {
		stage, stageAt = b.Stage, b.StageAt
	}
	leadAt := a.LeadAt
	if b.LeadAt != nil && (leadAt == nil || b.LeadAt.Before(*leadAt)) {
		leadAt = b.LeadAt
	}
	firstSeen, firstCh, firstCamp := a.FirstSeenAt, a.FirstChannel, a.FirstCamp
	if b.FirstSeenAt.Before(a.FirstSeenAt) || firstCh == "" {
		firstSeen = minTime(a.FirstSeenAt, b.FirstSeenAt)
		if b.FirstChannel != "" {
			firstCh, firstCamp = b.FirstChannel, b.FirstCamp
		}
	}
	acct := a.AccountID
	if acct == nil {
		acct = b.AccountID
	}
	// Traits: the survivor's win, the merged person's fill the rest.
	traits := parseTraits(b.Traits)
	for k, v := range parseTraits(a.Traits) {
		traits[k] = v
	}
	if err := ex(`UPDATE persons SET stage = ?, stage_at = ?, lead_at = ?, first_seen_at = ?, first_touch_channel = ?, first_touch_campaign = ?,
		account_id = ?, name = ?, title = ?, email = ?, phone = ?, traits = ? WHERE id = ?`,
		stage, timeArg(stageAt), timeArg(leadAt), utc(firstSeen), firstCh, int64Arg(firstCamp), int64Arg(acct),
		orElse(a.Name, b.Name), orElse(a.Title, b.Title), orElse(a.Email, b.Email), orElse(a.Phone, b.Phone), traitsJSON(traits), into); err != nil {
		return 0, err
	}
	if stage != a.Stage {
		// The survivor's stage changed: its history says so, like any other
		// move, and the undo of the merge takes the row away again.
		scid, err := s.insertID(ctx, tx, `INSERT INTO stage_changes (person_id, from_stage, to_stage, changed_at, reason, actor)
			VALUES (?, ?, ?, ?, ?, ?)`, into, a.Stage, stage, utc(now),
			clip(fmt.Sprintf("merge %d: person %d, in %s, merged in", mid, from, b.Stage), 500), clip(actor, 200))
		if err != nil {
			return 0, fmt.Errorf("merge person %d into %d: stage change: %w", from, into, err)
		}
		if err := ex(`INSERT INTO person_merge_items (merge_id, kind, item_id) VALUES (?, 'merge_stage', ?)`, mid, scid); err != nil {
			return 0, err
		}
	}
	if err := inheritKeptApart(ctx, s, tx, mid, into, from); err != nil {
		return 0, fmt.Errorf("merge person %d into %d: %w", from, into, err)
	}
	// The merged person's decisions now have the survivor's assignments.
	if err := s.settleDecisionOwners(ctx, tx, false, into); err != nil {
		return 0, err
	}
	// The tombstone no longer counts as a lead of its own.
	if err := ex(`UPDATE persons SET merged_into_id = ?, lead_at = NULL WHERE id = ?`, into, from); err != nil {
		return 0, err
	}
	if err := refreshFirstTouch(ctx, s, tx, into); err != nil {
		return 0, err
	}
	if err := ex(`UPDATE touchpoints SET account_id = (SELECT account_id FROM persons WHERE id = ?) WHERE person_id = ?`, into, into); err != nil {
		return 0, err
	}
	// The roll-ups of the survivor's touches (now known or not as it is),
	// stage history (its channel, first entries) and lead days, old and new.
	facts, err := readPersonFacts(ctx, s, tx, []int64{into}, true)
	if err != nil {
		return 0, fmt.Errorf("merge person %d into %d: %w", from, into, err)
	}
	for _, t := range []*time.Time{a.LeadAt, b.LeadAt} {
		if t != nil {
			facts.leads = append(facts.leads, *t)
		}
	}
	if err := facts.mark(ctx, s, tx); err != nil {
		return 0, fmt.Errorf("merge person %d into %d: %w", from, into, err)
	}
	// The moved touches and events keep their ids, below what incremental
	// scoring and credits have read: the log tells them to look again.
	if err := recordPersonChanges(ctx, s, tx, []int64{into, from}, ChangeMerge, now); err != nil {
		return 0, fmt.Errorf("merge person %d into %d: %w", from, into, err)
	}
	return mid, nil
}

// UndoMerge puts back what a merge moved: identifiers, touchpoints, events,
// stage history, opportunity roles and tasks return to the merged person,
// both persons' stage and first touch are restored, and the pair is not
// merged automatically again. A merge whose persons were merged further
// since must have that later merge undone first.
func (s *Store) UndoMerge(ctx context.Context, id int64) (model.PersonMerge, error) {
	var m model.PersonMerge
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// First, before any row is touched: the undo logs person changes.
		if err := lockPersonChanges(ctx, s, tx); err != nil {
			return err
		}
		var undone sql.NullTime
		var snap string
		err := tx.QueryRowContext(ctx, s.q(`SELECT id, into_id, from_id, reason, COALESCE(event_id, 0), actor, created_at, undone_at, snapshot
			FROM person_merges WHERE id = ?`), id).Scan(&m.ID, &m.IntoID, &m.FromID, &m.Reason, &m.EventID, &m.Actor, &m.CreatedAt, &undone, &snap)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if undone.Valid {
			return fmt.Errorf("%w: merge %d was already undone at %s", ErrMergeRefused, id, undone.Time.UTC().Format(time.RFC3339))
		}
		var later int64
		err = tx.QueryRowContext(ctx, s.q(`SELECT id FROM person_merges WHERE undone_at IS NULL AND id > ? AND
			(from_id = ? OR from_id = ?) ORDER BY id LIMIT 1`), id, m.IntoID, m.FromID).Scan(&later)
		if err == nil {
			return fmt.Errorf("%w: a person of merge %d was merged again by merge %d; undo merge %d first", ErrMergeRefused, id, later, later)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var snaps map[string]personSnapshot
		if err := json.Unmarshal([]byte(snap), &snaps); err != nil {
			return fmt.Errorf("merge %d: unreadable snapshot: %w", id, err)
		}
		into, from := m.IntoID, m.FromID
		// The survivor's facts before the undo (the merge's own stage
		// change among them) and both persons' after it change roll-ups.
		before, err := readPersonFacts(ctx, s, tx, []int64{into}, true)
		if err != nil {
			return fmt.Errorf("undo merge %d: %w", id, err)
		}
		steps := []struct {
			q    string
			args []any
		}{
			{`UPDATE identities SET person_id = ? WHERE person_id = ? AND EXISTS (SELECT 1 FROM person_merge_items m
				WHERE m.merge_id = ? AND m.kind = 'identity' AND m.id_type = identities.type AND m.id_value = identities.value)`, []any{from, into, id}},
			{`UPDATE touchpoints SET person_id = ? WHERE person_id = ? AND id IN (SELECT item_id FROM person_merge_items WHERE merge_id = ? AND kind = 'touchpoint')`, []any{from, into, id}},
			{`UPDATE events SET person_id = ? WHERE person_id = ? AND id IN (SELECT item_id FROM person_merge_items WHERE merge_id = ? AND kind = 'event')`, []any{from, into, id}},
			{`UPDATE stage_changes SET person_id = ? WHERE person_id = ? AND id IN (SELECT item_id FROM person_merge_items WHERE merge_id = ? AND kind = 'stage_change')`, []any{from, into, id}},
			{`UPDATE tasks SET person_id = ? WHERE person_id = ? AND id IN (SELECT item_id FROM person_merge_items WHERE merge_id = ? AND kind = 'task')`, []any{from, into, id}},
			{`UPDATE opportunity_contacts SET person_id = ? WHERE person_id = ? AND opportunity_id IN (SELECT item_id FROM person_merge_items WHERE merge_id = ? AND kind = 'opp_moved')`, []any{from, into, id}},
			{`INSERT INTO opportunity_contacts (opportunity_id, person_id, role, is_primary)
				SELECT item_id, ?, id_type, id_value = '1' FROM person_merge_items WHERE merge_id = ? AND kind = 'opp_dropped'
				ON CONFLICT (opportunity_id, person_id) DO NOTHING`, []any{from, id}},
		}
		for _, st := range steps {
			if _, err := tx.ExecContext(ctx, s.q(st.q), st.args...); err != nil {
				return fmt.Errorf("undo merge %d: %w", id, err)
			}
		}
		// The stage change the merge itself wrote goes with it, and so do
		// the kept-apart pairs the survivor inherited.
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM stage_changes WHERE id IN
			(SELECT item_id FROM person_merge_items WHERE merge_id = ? AND kind = 'merge_stage')`), id); err != nil {
			return fmt.Errorf("undo merge %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM identity_kept_apart WHERE EXISTS (SELECT 1 FROM person_merge_items m
			WHERE m.merge_id = ? AND m.kind = 'kept_apart' AND m.item_id = identity_kept_apart.person_a AND m.id_value = CAST(identity_kept_apart.person_b AS TEXT))`), id); err != nil {
			return fmt.Errorf("undo merge %d: %w", id, err)
		}
		for pid, ps := range map[int64]personSnapshot{into: snaps["into"], from: snaps["from"]} {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE persons SET stage = ?, stage_at = ?, lead_at = ?, first_seen_at = ?, first_touch_channel = ?,
				first_touch_campaign = ?, account_id = ?, name = ?, title = ?, email = ?, phone = ?, merged_into_id = NULL,
				traits = CASE WHEN ? = '' THEN traits ELSE ? END WHERE id = ?`),
				ps.Stage, timeArg(ps.StageAt), timeArg(ps.LeadAt), utc(ps.FirstSeenAt), ps.FirstChannel, int64Arg(ps.FirstCamp),
				int64Arg(ps.AccountID), ps.Name, ps.Title, ps.Email, ps.Phone, ps.Traits, ps.Traits, pid); err != nil {
				return err
			}
			// Whatever happened to the survivor after the merge stays:
			// its latest stage change and earliest lead still count.
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE persons SET
				lead_at = COALESCE((SELECT MIN(changed_at) FROM stage_changes WHERE person_id = ? AND to_stage = 'lead'), lead_at),
				stage = COALESCE((SELECT to_stage FROM stage_changes WHERE person_id = ? ORDER BY changed_at DESC, id DESC LIMIT 1), stage)
				WHERE id = ?`), pid, pid, pid); err != nil {
				return err
			}
			if err := refreshFirstTouch(ctx, s, tx, pid); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE touchpoints SET account_id = (SELECT account_id FROM persons WHERE id = ?) WHERE person_id = ?`), pid, pid); err != nil {
				return err
			}
		}
		if err := s.settleDecisionOwners(ctx, tx, false, into, from); err != nil {
			return err
		}
		after, err := readPersonFacts(ctx, s, tx, []int64{into, from}, true)
		if err != nil {
			return fmt.Errorf("undo merge %d: %w", id, err)
		}
		if err := before.mark(ctx, s, tx); err != nil {
			return fmt.Errorf("undo merge %d: %w", id, err)
		}
		if err := after.mark(ctx, s, tx); err != nil {
			return fmt.Errorf("undo merge %d: %w", id, err)
		}
		now := utc(time.Now())
		if _, err := tx.ExecContext(ctx, s.q("UPDATE person_merges SET undone_at = ? WHERE id = ?"), now, id); err != nil {
			return err
		}
		if err := recordPersonChanges(ctx, s, tx, []int64{into, from}, ChangeUnmerge, now); err != nil {
			return fmt.Errorf("undo merge %d: %w", id, err)
		}
		m.UndoneAt = &now
		m.CreatedAt = m.CreatedAt.UTC()
		return nil
	})
	return m, err
}

// PersonMerges lists merges, newest first.
func (s *Store) PersonMerges(ctx context.Context, limit int) ([]model.PersonMerge, error) {
	return orEmpty(scanAll(ctx, s, s.r, `SELECT id, into_id, from_id, reason, COALESCE(event_id, 0), actor, created_at, undone_at
		FROM person_merges ORDER BY id DESC LIMIT ?`, []any{limit}, func(r rowScanner) (model.PersonMerge, error) {
		var m model.PersonMerge
		var undone sql.NullTime
		if err := r.Scan(&m.ID, &m.IntoID, &m.FromID, &m.Reason, &m.EventID, &m.Actor, &m.CreatedAt, &undone); err != nil {
			return m, err
		}
		m.CreatedAt = m.CreatedAt.UTC()
		if undone.Valid {
			t := undone.Time.UTC()
			m.UndoneAt = &t
		}
		return m, nil
	}))
}

// PersonByIdentity finds the person an identifier points at.
func (s *Store) PersonByIdentity(ctx context.Context, t model.IdentityType, value string) (model.PersonDetail, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, s.q("SELECT person_id FROM identities WHERE type = ? AND value = ?"), string(t), value).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return model.PersonDetail{}, ErrNotFound
	}
	if err != nil {
		return model.PersonDetail{}, err
	}
	return s.PersonDetail(ctx, id)
}

// PersonDetail reads a person with its identifiers, account and counts.
func (s *Store) PersonDetail(ctx context.Context, id int64) (model.PersonDetail, error) {
	var d model.PersonDetail
	var stage, ch string
	var stageAt, leadAt sql.NullTime
	var acct, camp, owner, merged, version sql.NullInt64
	var scoredAt, predictedAt sql.NullTime
	var predicted sql.NullFloat64
	var traits string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT persons.id, account_id, persons.name, title, persons.email, phone, stage, stage_at, grade, owner_id, first_seen_at,
		first_touch_channel, first_touch_campaign, lead_at, persons.created_at, merged_into_id,
		(SELECT COUNT(*) FROM touchpoints WHERE person_id = persons.id), (SELECT COUNT(*) FROM events WHERE person_id = persons.id),
		sdr_class, fit_score, engagement_score, score, score_version, scored_at, predicted_probability, predicted_at,
		COALESCE(u.name, ''), COALESCE(u.email, ''), persons.traits
		FROM persons LEFT JOIN users u ON u.id = persons.owner_id WHERE persons.id = ?`), id).Scan(&d.ID, &acct, &d.Name, &d.Title, &d.Email, &d.Phone, &stage, &stageAt, &d.Grade, &owner,
		&d.FirstSeenAt, &ch, &camp, &leadAt, &d.CreatedAt, &merged, &d.Touchpoints, &d.Events,
		&d.SDRClass, &d.FitScore, &d.EngagementScore, &d.Score, &version, &scoredAt, &predicted, &predictedAt, &d.OwnerName, &d.OwnerEmail, &traits)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, err
	}
	d.Stage, d.FirstTouchChannel = model.Stage(stage), model.Channel(ch)
	d.Traits = parseTraits(traits)
	d.AccountID, d.FirstTouchCampaign, d.OwnerID, d.MergedIntoID = acct.Int64, camp.Int64, owner.Int64, merged.Int64
	d.FirstSeenAt, d.CreatedAt = d.FirstSeenAt.UTC(), d.CreatedAt.UTC()
	d.ScoreVersion = version.Int64
	if scoredAt.Valid {
		t := scoredAt.Time.UTC()
		d.ScoredAt = &t
	}
	if predicted.Valid {
		d.PredictedProbability = &predicted.Float64
	}
	if predictedAt.Valid {
		t := predictedAt.Time.UTC()
		d.PredictedAt = &t
	}
	if stageAt.Valid {
		d.StageAt = stageAt.Time.UTC()
	}
	if leadAt.Valid {
		t := leadAt.Time.UTC()
		d.LeadAt = &t
	}
	if d.Identities, err = scanAll(ctx, s, s.r, "SELECT person_id, type, value, created_at FROM identities WHERE person_id = ? ORDER BY type, value", []any{id}, scanIdentity); err != nil {
		return d, err
	}
	if d.AccountID != 0 {
		var a model.Account
		err := s.r.QueryRowContext(ctx, s.q("SELECT id, name, name_en, domain, industry, size_band, employees, region, city, tier, plan, created_at FROM accounts WHERE id = ?"), d.AccountID).
			Scan(&a.ID, &a.Name, &a.NameEN, &a.Domain, &a.Industry, &a.SizeBand, &a.Employees, &a.Region, &a.City, &a.Tier, &a.Plan, &a.CreatedAt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return d, err
		}
		if err == nil {
			a.CreatedAt = a.CreatedAt.UTC()
			d.Account = &a
		}
	}
	return d, nil
}

// PersonTimeline returns up to limit events of a person in time order.
func (s *Store) PersonTimeline(ctx context.Context, personID int64, limit int) ([]model.TimelineEvent, error) {
	return orEmpty(scanAll(ctx, s, s.r, `SELECT e.id, e.message_id, e.type, e.name, e.ts, e.url, COALESCE(t.channel, ''),
		COALESCE(t.source, e.source), COALESCE(t.medium, e.medium), COALESCE(c.id, 0), COALESCE(c.code, ''), COALESCE(c.name, ''), e.campaign
		FROM events e LEFT JOIN touchpoints t ON t.event_id = e.id LEFT JOIN campaigns c ON c.id = t.campaign_id
		WHERE e.person_id = ? ORDER BY e.ts, e.id LIMIT ?`, []any{personID, limit}, func(r rowScanner) (model.TimelineEvent, error) {
		var e model.TimelineEvent
		err := r.Scan(&e.ID, &e.MessageID, &e.Type, &e.Name, &e.Timestamp, &e.URL, &e.Channel, &e.Source, &e.Medium,
			&e.CampaignID, &e.CampaignCode, &e.CampaignName, &e.RawCampaign)
		e.Timestamp = e.Timestamp.UTC()
		return e, err
	}))
}

func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}

func int64Arg(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
