package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// RoutingUsers lists every user with their open assignments counted over
// the working stages (the stages in which an assignment still needs its
// first follow-up); without working stages Open stays 0.
func (s *Store) RoutingUsers(ctx context.Context, working []model.Stage) ([]model.RoutingUser, error) {
	var out []model.RoutingUser
	err := s.each(ctx, `SELECT id, email, name, role, team, COALESCE(manager_id, 0), capacity, disabled_at IS NOT NULL,
		out_of_office_from, out_of_office_until FROM users ORDER BY id`, nil, func(rows *sql.Rows) error {
		var u model.RoutingUser
		var role string
		var from, until sql.NullTime
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &role, &u.Team, &u.ManagerID, &u.Capacity, &u.Disabled, &from, &until); err != nil {
			return err
		}
		u.Role = model.Role(role)
		u.OutOfOffice, u.BackInOffice = nullTimePtr(from), nullTimePtr(until)
		out = append(out, u)
		return nil
	})
	if err != nil || len(working) == 0 {
		return out, err
	}
	open, err := s.OpenAssignmentCounts(ctx, working)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Open = open[out[i].ID]
	}
	return out, nil
}

// OpenAssignmentCounts counts, per user, the open assignments: a person's
// current (not superseded) assignment, without a first follow-up, while the
// person is still in one of the working stages.
func (s *Store) OpenAssignmentCounts(ctx context.Context, working []model.Stage) (map[int64]int, error) {
	in, args := stageList(working)
	return s.countsByID(ctx, `SELECT a.user_id, COUNT(*) FROM assignments a JOIN persons p ON p.id = a.person_id
		WHERE a.superseded_at IS NULL AND a.first_follow_up_at IS NULL AND p.stage IN (`+in+`) GROUP BY a.user_id`, args...)
}

// countsByID runs a query of (id, count) rows into a map.
func (s *Store) countsByID(ctx context.Context, query string, args ...any) (map[int64]int, error) {
	out := map[int64]int{}
	err := s.each(ctx, query, args, func(rows *sql.Rows) error {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		out[id] = n
		return nil
	})
	return out, err
}

// SetUserRouting replaces a user's team, manager, capacity and
// out-of-office window.
func (s *Store) SetUserRouting(ctx context.Context, userID int64, r model.UserRouting) error {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE users SET team = ?, manager_id = ?, capacity = ?, out_of_office_from = ?, out_of_office_until = ?
		WHERE id = ?`), clip(r.Team, 200), nullID(r.ManagerID), r.Capacity, optTimeUTC(r.OutOfOffice), optTimeUTC(r.BackInOffice), userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// PendingLead is a person who reached the trigger stage and has had no
// assignment since.
type PendingLead struct {
	PersonID       int64
	Name           string
	Stage          model.Stage
	Region         string
	Industry       string
	Tier           string
	Score          float64
	AccountOwnerID int64
	OwnerID        int64
	EnteredAt      time.Time // the last entry into the working stages
}

// PendingLeads finds persons in the working stages (the trigger stage and
// the later ones before customer) without an assignment made at or after
// their last entry into those stages, oldest entry first. The entry is the
// latest stage change into a working stage from outside them; a person
// loaded without history counts from its stage time.
func (s *Store) PendingLeads(ctx context.Context, working []model.Stage, limit int) ([]PendingLead, error) {
	from, args := pendingLeads(working)
	var out []PendingLead
	err := s.each(ctx, `SELECT q.id, q.name, q.stage, q.region, q.industry, q.tier, q.score, q.account_owner, q.owner, q.entered `+from+`
		ORDER BY q.entered, q.id LIMIT ?`, append(args, limit), func(rows *sql.Rows) error {
		var l PendingLead
		var stage string
		var entered storedTime
		if err := rows.Scan(&l.PersonID, &l.Name, &stage, &l.Region, &l.Industry, &l.Tier, &l.Score, &l.AccountOwnerID, &l.OwnerID, &entered); err != nil {
			return err
		}
		l.Stage, l.EnteredAt = model.Stage(stage), entered.t
		out = append(out, l)
		return nil
	})
	return out, err
}

// CountPendingLeads counts what PendingLeads lists, without a limit: the
// live persons in the working stages whose latest assignment, if any, was
// made before their entry (their latest stage change into the working
// stages from outside them, else their stage time, else their creation).
// The latest assignment's time is kept on the person (last_assigned_at,
// migration 00042) in persons_live_stage.
//
// On SQLite it asks the database for the count: per person of
// persons_live_stage that has been assigned, one seek for their latest
// entry (stage_changes_into_working), all inside SQLite, so that no row
// crosses into Go. PostgreSQL reads both indexes in order and they are
// joined here, which it does faster than the per-person plan.
func (s *Store) CountPendingLeads(ctx context.Context, working []model.Stage) (int, error) {
	in, args := stageList(working)
	if s.dialect == SQLite {
		entries := "stage_changes sc WHERE"
		if intoWorkingIndexed(working) {
			entries = "stage_changes sc" + s.indexedBy("stage_changes_into_working") + " WHERE sc.to_stage IN ('mql', 'sql', 'opportunity') AND"
		}
		var n int
		err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM persons p`+s.indexedBy("persons_live_stage")+`
			WHERE p.stage IN (`+in+`) AND p.merged_into_id IS NULL AND (p.last_assigned_at IS NULL OR p.last_assigned_at < COALESCE(
				(SELECT MAX(sc.changed_at) FROM `+entries+` sc.person_id = p.id AND sc.to_stage IN (`+in+`) AND sc.from_stage NOT IN (`+in+`)),
				p.stage_at, p.created_at))`, append(append(append([]any{}, args...), args...), args...)...).Scan(&n)
		return n, err
	}
	type lead struct{ since, last time.Time }
	leads := map[int64]*lead{}
	err := s.each(ctx, `SELECT id, COALESCE(stage_at, created_at), last_assigned_at FROM persons`+s.indexedBy("persons_live_stage")+`
		WHERE stage IN (`+in+`) AND merged_into_id IS NULL`, args, func(r *sql.Rows) error {
		var id int64
		var since, last storedTime
		if err := r.Scan(&id, &since, &last); err != nil {
			return err
		}
		leads[id] = &lead{since.t, last.t}
		return nil
	})
	if err != nil || len(leads) == 0 {
		return 0, err
	}
	// Entries: the partial index holds the changes into mql, sql and
	// opportunity, every working stage of a trigger routing accepts.
	entries := "stage_changes"
	if intoWorkingIndexed(working) {
		entries += s.indexedBy("stage_changes_into_working") + " WHERE to_stage IN ('mql', 'sql', 'opportunity') AND"
	} else {
		entries += " WHERE"
	}
	err = s.each(ctx, `SELECT person_id, MAX(changed_at) FROM `+entries+` to_stage IN (`+in+`) AND from_stage NOT IN (`+in+`)
		GROUP BY person_id`, append(append([]any{}, args...), args...), func(r *sql.Rows) error {
		var id int64
		var t storedTime
		if err := r.Scan(&id, &t); err != nil {
			return err
		}
		if l, ok := leads[id]; ok {
			l.since = t.t
		}
		return nil
	})
	n := 0
	for _, l := range leads {
		if l.last.IsZero() || l.last.Before(l.since) {
			n++
		}
	}
	return n, err
}

// intoWorkingIndexed says whether stage_changes_into_working holds every
// change into the working stages.
func intoWorkingIndexed(working []model.Stage) bool {
	for _, st := range working {
		if st != model.StageMQL && st != model.StageSQL && st != model.StageOpportunity {
			return false
		}
	}
	return len(working) > 0
}

// pendingLeads is the FROM and WHERE of PendingLeads, and its arguments.
func pendingLeads(working []model.Stage) (string, []any) {
	in, args := stageList(working)
	return `FROM (
		SELECT p.id, p.name, p.stage, COALESCE(ac.region, '') AS region, COALESCE(ac.industry, '') AS industry, COALESCE(ac.tier, '') AS tier,
			p.score, COALESCE(ac.owner_id, 0) AS account_owner, COALESCE(p.owner_id, 0) AS owner,
			COALESCE((SELECT sc.changed_at FROM stage_changes sc WHERE sc.person_id = p.id AND sc.to_stage IN (` + in + `)
				AND sc.from_stage NOT IN (` + in + `) ORDER BY sc.changed_at DESC, sc.id DESC LIMIT 1), p.stage_at, p.created_at) AS entered
		FROM persons p LEFT JOIN accounts ac ON ac.id = p.account_id
		WHERE p.stage IN (` + in + `) AND p.merged_into_id IS NULL) q
		WHERE NOT EXISTS (SELECT 1 FROM assignments a WHERE a.person_id = q.id AND a.assigned_at >= q.entered)`,
		append(append(append([]any{}, args...), args...), args...)
}

// SaveAssignments writes assignments and the round-robin cursors in one
// transaction. Each closes the person's open assignment (a person holds at
// most one; reason "reassigned" for a manual reassignment, "recycled" for
// an automatic one, which is only made after the person left the working
// stages and came back) and sets the person's owner. It returns, per assignment, its id (0 when skipped
// because another run assigned the person meanwhile).
func (s *Store) SaveAssignments(ctx context.Context, as []model.NewAssignment, cursors map[string]int64, at time.Time) ([]int64, error) {
	ids := make([]int64, len(as))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, a := range as {
			if s.dialect == Postgres {
				// Serialise concurrent runs on the person (SQLite has one writer).
				if _, err := tx.ExecContext(ctx, s.q("SELECT id FROM persons WHERE id = ? FOR UPDATE"), a.PersonID); err != nil {
					return err
				}
			}
			if !a.EnteredAt.IsZero() {
				var n int
				if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM assignments WHERE person_id = ? AND assigned_at >= ?"),
					a.PersonID, utc(a.EnteredAt)).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					continue
				}
			}
			reason := model.ClosedReassigned
			if !a.EnteredAt.IsZero() {
				reason = model.ClosedRecycled
			}
			if _, err := tx.ExecContext(ctx, s.q("UPDATE assignments SET superseded_at = ?, closed_reason = ? WHERE person_id = ? AND superseded_at IS NULL"),
				utc(a.AssignedAt), reason, a.PersonID); err != nil {
				return err
			}
			id, err := s.insertID(ctx, tx, `INSERT INTO assignments (person_id, user_id, rule, reason, rule_set_id, assigned_by, assigned_at, due_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.PersonID, a.UserID, clip(a.Rule, 200), clip(a.Reason, 500), nullID(a.RuleSetID),
				clip(a.AssignedBy, 200), utc(a.AssignedAt), utc(a.DueAt))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE persons SET owner_id = ?,
				last_assigned_at = CASE WHEN last_assigned_at IS NULL OR last_assigned_at < ? THEN ? ELSE last_assigned_at END WHERE id = ?`),
				a.UserID, utc(a.AssignedAt), utc(a.AssignedAt), a.PersonID); err != nil {
				return err
			}
			if err := s.settleDecisionOwners(ctx, tx, false, a.PersonID); err != nil {
				return err
			}
			ids[i] = id
		}
		for rule, user := range cursors {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO routing_cursors (rule, last_user_id, updated_at) VALUES (?, ?, ?)
				ON CONFLICT (rule) DO UPDATE SET last_user_id = excluded.last_user_id, updated_at = excluded.updated_at`),
				clip(rule, 200), user, utc(at)); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// CloseRecycled closes the open assignments whose persons left the working
// stages for an earlier stage (back to lead or nurture, disqualified: not
// on to customer) after they were assigned. Each closes at the first such
// stage change, reason "recycled", so that the SLA report stops counting it
// as not followed up even if the person comes back and waits for a new
// assignee. It returns how many it closed.
func (s *Store) CloseRecycled(ctx context.Context, working []model.Stage) (int, error) {
	in, args := stageList(working)
	var earlier []model.Stage
	for _, st := range append(append([]model.Stage{}, model.LifecycleStages...), model.StageNurture, model.StageDisqualified) {
		if st != model.StageCustomer && !slices.Contains(working, st) {
			earlier = append(earlier, st)
		}
	}
	back, backArgs := stageList(earlier)
	type closing struct {
		id int64
		at time.Time
	}
	var todo []closing
	err := s.each(ctx, `SELECT a.id, MIN(sc.changed_at) FROM assignments a JOIN stage_changes sc ON sc.person_id = a.person_id
		WHERE a.superseded_at IS NULL AND sc.changed_at >= a.assigned_at AND sc.from_stage IN (`+in+`) AND sc.to_stage IN (`+back+`)
		GROUP BY a.id ORDER BY a.id`, append(args, backArgs...), func(rows *sql.Rows) error {
		var c closing
		var at storedTime
		if err := rows.Scan(&c.id, &at); err != nil {
			return err
		}
		c.at = at.t
		todo = append(todo, c)
		return nil
	})
	if err != nil || len(todo) == 0 {
		return 0, err
	}
	n := 0
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, c := range todo {
			res, err := tx.ExecContext(ctx, s.q("UPDATE assignments SET superseded_at = ?, closed_reason = ? WHERE id = ? AND superseded_at IS NULL"),
				utc(c.at), model.ClosedRecycled, c.id)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}

// RoutingCursors returns the round-robin state: per rule, the user who took
// its last lead.
func (s *Store) RoutingCursors(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.each(ctx, "SELECT rule, last_user_id FROM routing_cursors", nil, func(rows *sql.Rows) error {
		var rule string
		var id int64
		if err := rows.Scan(&rule, &id); err != nil {
			return err
		}
		out[rule] = id
		return nil
	})
	return out, err
}

const assignmentCols = `a.id, a.person_id, p.name, p.stage, a.user_id, u.email, u.name, u.team, a.rule, a.reason, COALESCE(a.rule_set_id, 0), a.assigned_by,
	a.assigned_at, a.due_at, a.first_follow_up_at, a.breached_at, COALESCE(a.escalation_task_id, 0), a.superseded_at, a.closed_reason`

// assignmentsFrom is the FROM of assignments: each with its person and
// user.
const assignmentsFrom = `assignments a JOIN persons p ON p.id = a.person_id JOIN users u ON u.id = a.user_id`

// assignments lists the assignments that cond (a condition, then ORDER BY
// and LIMIT) selects.
func (s *Store) assignments(ctx context.Context, cond string, args ...any) ([]model.Assignment, error) {
	return s.assignmentsIn(ctx, assignmentsFrom, cond, args...)
}

// assignmentsIn is assignments over another FROM naming the same tables
// a, p and u; cond joins them when from does not.
func (s *Store) assignmentsIn(ctx context.Context, from, cond string, args ...any) ([]model.Assignment, error) {
	var out []model.Assignment
	err := s.each(ctx, "SELECT "+assignmentCols+" FROM "+from+" WHERE "+cond, args, func(rows *sql.Rows) error {
		var a model.Assignment
		var stage string
		var follow, breached, superseded sql.NullTime
		if err := rows.Scan(&a.ID, &a.PersonID, &a.PersonName, &stage, &a.UserID, &a.UserEmail, &a.UserName, &a.UserTeam, &a.Rule, &a.Reason,
			&a.RuleSetID, &a.AssignedBy, &a.AssignedAt, &a.DueAt, &follow, &breached, &a.EscalationTaskID, &superseded, &a.ClosedReason); err != nil {
			return err
		}
		a.PersonStage = model.Stage(stage)
		a.AssignedAt, a.DueAt = a.AssignedAt.UTC(), a.DueAt.UTC()
		a.FirstFollowUpAt, a.BreachedAt, a.SupersededAt = nullTimePtr(follow), nullTimePtr(breached), nullTimePtr(superseded)
		out = append(out, a)
		return nil
	})
	return out, err
}

// PersonAssignments lists a person's assignments, oldest first.
func (s *Store) PersonAssignments(ctx context.Context, personID int64) ([]model.Assignment, error) {
	return s.assignments(ctx, "a.person_id = ? ORDER BY a.assigned_at, a.id", personID)
}

// AssignmentByID reads one assignment.
func (s *Store) AssignmentByID(ctx context.Context, id int64) (model.Assignment, error) {
	as, err := s.assignments(ctx, "a.id = ?", id)
	if err == nil && len(as) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return model.Assignment{}, err
	}
	return as[0], nil
}

// AssignmentsIn lists the assignments made in [from, to) (zero bounds are
// open), oldest first.
func (s *Store) AssignmentsIn(ctx context.Context, from, to time.Time) ([]model.Assignment, error) {
	where, args := timeRange("a.assigned_at", from, to)
	return s.assignments(ctx, where+" ORDER BY a.assigned_at, a.id", args...)
}

// OpenAssignments lists the oldest open assignments (see
// OpenAssignmentCounts), at most limit.
func (s *Store) OpenAssignments(ctx context.Context, working []model.Stage, limit int) ([]model.Assignment, error) {
	in, args := stageList(working)
	return s.assignments(ctx, `a.superseded_at IS NULL AND a.first_follow_up_at IS NULL
		AND p.stage IN (`+in+") ORDER BY a.assigned_at, a.id LIMIT ?", append(args, limit)...)
}

// DueBreach is an open assignment past its due time, not yet marked.
type DueBreach struct {
	AssignmentID int64
	PersonID     int64
	PersonName   string
	UserID       int64
	UserName     string
	ManagerID    int64 // the owner's manager when enabled; 0 otherwise
	DueAt        time.Time
}

// DueBreaches finds open assignments due at or before now that have not
// been marked breached, oldest due first.
func (s *Store) DueBreaches(ctx context.Context, working []model.Stage, now time.Time, limit int) ([]DueBreach, error) {
	in, args := stageList(working)
	var out []DueBreach
	err := s.each(ctx, `SELECT a.id, a.person_id, p.name, a.user_id, u.name, COALESCE(m.id, 0), a.due_at
		FROM assignments a JOIN persons p ON p.id = a.person_id JOIN users u ON u.id = a.user_id
		LEFT JOIN users m ON m.id = u.manager_id AND m.disabled_at IS NULL
		WHERE a.superseded_at IS NULL AND a.first_follow_up_at IS NULL AND a.breached_at IS NULL AND a.due_at <= ?
		AND p.stage IN (`+in+`) ORDER BY a.due_at, a.id LIMIT ?`, append(append([]any{utc(now)}, args...), limit), func(rows *sql.Rows) error {
		var b DueBreach
		if err := rows.Scan(&b.AssignmentID, &b.PersonID, &b.PersonName, &b.UserID, &b.UserName, &b.ManagerID, &b.DueAt); err != nil {
			return err
		}
		b.DueAt = b.DueAt.UTC()
		out = append(out, b)
		return nil
	})
	return out, err
}

// FirstAdmin is the enabled admin with the lowest id, or 0 when none.
func (s *Store) FirstAdmin(ctx context.Context) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, s.q("SELECT id FROM users WHERE role = ? AND disabled_at IS NULL ORDER BY id LIMIT 1"), string(model.RoleAdmin)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// Escalate marks assignments breached and creates one sla_escalation task
// for each, in one transaction. An assignment already marked, or followed
// up meanwhile, is skipped, so each gets at most one task however often
// and however concurrently the check runs. It returns how many it marked.
func (s *Store) Escalate(ctx context.Context, es []model.Escalation) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, e := range es {
			res, err := tx.ExecContext(ctx, s.q(`UPDATE assignments SET breached_at = ?
				WHERE id = ? AND breached_at IS NULL AND first_follow_up_at IS NULL AND superseded_at IS NULL`), utc(e.BreachedAt), e.AssignmentID)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			task, err := s.insertID(ctx, tx, `INSERT INTO tasks (kind, title, person_id, assignee_id, due_at, created_at) VALUES ('sla_escalation', ?, ?, ?, ?, ?)`,
				clip(e.Title, 500), e.PersonID, nullID(e.AssigneeID), utc(e.TaskDueAt), utc(e.CreatedAt))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q("UPDATE assignments SET escalation_task_id = ? WHERE id = ?"), task, e.AssignmentID); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// TaskByID reads one task.
func (s *Store) TaskByID(ctx context.Context, id int64) (model.Task, error) {
	var t model.Task
	var due, done sql.NullTime
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, kind, title, COALESCE(person_id, 0), COALESCE(opportunity_id, 0), COALESCE(assignee_id, 0), due_at, done_at, created_at
		FROM tasks WHERE id = ?`), id).Scan(&t.ID, &t.Kind, &t.Title, &t.PersonID, &t.OpportunityID, &t.AssigneeID, &due, &done, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	t.DueAt, t.DoneAt, t.CreatedAt = nullTimePtr(due), nullTimePtr(done), t.CreatedAt.UTC()
	return t, err
}

// AddActivity stores an activity and stamps it as the first follow-up of
// the person's current assignment when it is the earliest activity at or
// after the assignment. It reports whether it stamped.
func (s *Store) AddActivity(ctx context.Context, a model.Activity) (int64, bool, error) {
	var id int64
	stamped := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.insertID(ctx, tx, `INSERT INTO activities (person_id, user_id, kind, occurred_at, note, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.PersonID, a.UserID, a.Kind, utc(a.OccurredAt), clip(a.Note, 4000), clip(a.CreatedBy, 200), utc(a.CreatedAt))
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE assignments SET first_follow_up_at = ?
			WHERE person_id = ? AND superseded_at IS NULL AND assigned_at <= ? AND (first_follow_up_at IS NULL OR first_follow_up_at > ?)`),
			utc(a.OccurredAt), a.PersonID, utc(a.OccurredAt), utc(a.OccurredAt))
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		stamped = k > 0
		return nil
	})
	return id, stamped, err
}

// Activities lists a person's activities, newest first, at most limit.
func (s *Store) Activities(ctx context.Context, personID int64, limit int) ([]model.Activity, error) {
	var out []model.Activity
	err := s.each(ctx, `SELECT a.id, a.person_id, a.user_id, u.email, u.name, a.kind, a.occurred_at, a.note, a.created_by, a.created_at
		FROM activities a JOIN users u ON u.id = a.user_id WHERE a.person_id = ? ORDER BY a.occurred_at DESC, a.id DESC LIMIT ?`,
		[]any{personID, limit}, func(rows *sql.Rows) error {
			var a model.Activity
			if err := rows.Scan(&a.ID, &a.PersonID, &a.UserID, &a.UserEmail, &a.UserName, &a.Kind, &a.OccurredAt, &a.Note, &a.CreatedBy, &a.CreatedAt); err != nil {
				return err
			}
			a.OccurredAt, a.CreatedAt = a.OccurredAt.UTC(), a.CreatedAt.UTC()
			out = append(out, a)
			return nil
		})
	return out, err
}

// PersonRef says whether a person exists and, if it was merged, into whom.
func (s *Store) PersonRef(ctx context.Context, id int64) (mergedInto int64, err error) {
	err = s.r.QueryRowContext(ctx, s.q("SELECT COALESCE(merged_into_id, 0) FROM persons WHERE id = ?"), id).Scan(&mergedInto)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return mergedInto, err
}

// Recyclings lists the stage changes in [from, to) that moved a person from
// one of fromStages back to one of toStages, oldest first.
func (s *Store) Recyclings(ctx context.Context, fromStages, toStages []model.Stage, from, to time.Time) ([]model.Recycling, error) {
	inFrom, argsFrom := stageList(fromStages)
	inTo, argsTo := stageList(toStages)
	where, argsTime := timeRange("sc.changed_at", from, to)
	args := append(append(argsFrom, argsTo...), argsTime...)
	var out []model.Recycling
	err := s.each(ctx, `SELECT sc.person_id, sc.from_stage, sc.to_stage, sc.changed_at, sc.reason,
		COALESCE((SELECT a.user_id FROM assignments a WHERE a.person_id = sc.person_id AND a.assigned_at <= sc.changed_at
			ORDER BY a.assigned_at DESC, a.id DESC LIMIT 1), p.owner_id, 0)
		FROM stage_changes sc JOIN persons p ON p.id = sc.person_id
		WHERE sc.from_stage IN (`+inFrom+`) AND sc.to_stage IN (`+inTo+`) AND `+where+` ORDER BY sc.changed_at, sc.id`, args, func(rows *sql.Rows) error {
		var r model.Recycling
		var f, t string
		if err := rows.Scan(&r.PersonID, &f, &t, &r.ChangedAt, &r.Reason, &r.OwnerID); err != nil {
			return err
		}
		r.From, r.To, r.ChangedAt = model.Stage(f), model.Stage(t), r.ChangedAt.UTC()
		out = append(out, r)
		return nil
	})
	return out, err
}

// timeRange is a condition on col for [from, to), zero bounds open.
func timeRange(col string, from, to time.Time) (string, []any) {
	conds, args := []string{"1 = 1"}, []any{}
	if !from.IsZero() {
		conds, args = append(conds, col+" >= ?"), append(args, utc(from))
	}
	if !to.IsZero() {
		conds, args = append(conds, col+" < ?"), append(args, utc(to))
	}
	return strings.Join(conds, " AND "), args
}

func nullTimePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func optTimeUTC(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}

// storedTime scans a time that an expression returned: PostgreSQL gives a
// time.Time, SQLite (which types expressions by value, not by column) the
// stored text.
// A NULL scans as the zero time.
type storedTime struct{ t time.Time }

// storedNullTime reads an optional time like storedTime: nil for NULL.
type storedNullTime struct{ t *time.Time }

func (st *storedNullTime) Scan(v any) error {
	if v == nil {
		st.t = nil
		return nil
	}
	t, err := activityTime(v)
	st.t = &t
	return err
}

func (st *storedTime) Scan(v any) (err error) {
	if v == nil {
		st.t = time.Time{}
		return nil
	}
	st.t, err = activityTime(v)
	return err
}
