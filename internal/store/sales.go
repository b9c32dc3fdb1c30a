package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Reads of the sales follow-up dashboard. Assignments and users are small
// tables read along their indexes; stage changes are read by their target
// stage and time (stage_changes_to_time), only the few kinds an SDR's
// decision makes.

// AssignmentsDue lists the assignments whose due time lies in [from, to)
// (zero ends open), by due time.
func (s *Store) AssignmentsDue(ctx context.Context, from, to time.Time) ([]model.Assignment, error) {
	where, args := timeRange("a.due_at", from, to)
	return s.assignments(ctx, where+" ORDER BY a.due_at, a.id", args...)
}

// OpenAssignmentsOf lists open assignments (current, not followed up,
// the person still in a working stage), the soonest due first; of one
// user, or of everyone when userID is 0; at most limit.
func (s *Store) OpenAssignmentsOf(ctx context.Context, working []model.Stage, userID int64, limit int) ([]model.Assignment, error) {
	in, args := stageList(working)
	cond := `a.superseded_at IS NULL AND a.first_follow_up_at IS NULL AND p.stage IN (` + in + `)`
	if userID != 0 {
		cond, args = cond+" AND a.user_id = ?", append(args, userID)
	}
	return s.assignments(ctx, cond+" ORDER BY a.due_at, a.assigned_at, a.id LIMIT ?", append(args, limit)...)
}

// OpenLoad is a user's open assignments now and how many of them are past
// their due time.
type OpenLoad struct {
	Open, Overdue int
}

// OpenAssignmentLoads counts, per user, the open assignments and those of
// them due before now.
func (s *Store) OpenAssignmentLoads(ctx context.Context, working []model.Stage, now time.Time) (map[int64]OpenLoad, error) {
	in, args := stageList(working)
	out := map[int64]OpenLoad{}
	err := s.each(ctx, `SELECT a.user_id, COUNT(*), SUM(CASE WHEN a.due_at < ? THEN 1 ELSE 0 END)
		FROM assignments a JOIN persons p ON p.id = a.person_id
		WHERE a.superseded_at IS NULL AND a.first_follow_up_at IS NULL AND p.stage IN (`+in+`) GROUP BY a.user_id`,
		append([]any{utc(now)}, args...), func(r *sql.Rows) error {
			var id int64
			var l OpenLoad
			if err := r.Scan(&id, &l.Open, &l.Overdue); err != nil {
				return err
			}
			out[id] = l
			return nil
		})
	return out, err
}

// StageDecision is a stage change out of mql or sql into sql, nurture or
// disqualified: the kind an SDR's accept or reject makes, whoever made it.
type StageDecision struct {
	ID       int64
	PersonID int64
	From, To model.Stage
	At       time.Time
	Actor    string
	Reason   string
	// OwnerID is the person's owner at the time: their latest assignment
	// made at or before the change, else the user who made it ("user:ID"),
	// else 0.
	OwnerID int64
}

// StageDecisions lists the stage changes in [from, to) from mql to sql and
// from mql or sql to nurture or disqualified, oldest first.
func (s *Store) StageDecisions(ctx context.Context, from, to time.Time) ([]StageDecision, error) {
	where, args := timeRange("sc.changed_at", from, to)
	return scanAll(ctx, s, s.r, `SELECT sc.id, sc.person_id, sc.from_stage, sc.to_stage, sc.changed_at, sc.actor, sc.reason,
		COALESCE((SELECT a.user_id FROM assignments a WHERE a.person_id = sc.person_id AND a.assigned_at <= sc.changed_at
			ORDER BY a.assigned_at DESC, a.id DESC LIMIT 1), 0)
		FROM stage_changes sc
		WHERE sc.to_stage IN ('sql', 'nurture', 'disqualified') AND sc.from_stage IN ('mql', 'sql') AND sc.from_stage <> sc.to_stage
		AND `+where+` ORDER BY sc.changed_at, sc.id`, args, func(r rowScanner) (StageDecision, error) {
		var d StageDecision
		var f, t string
		err := r.Scan(&d.ID, &d.PersonID, &f, &t, &d.At, &d.Actor, &d.Reason, &d.OwnerID)
		d.From, d.To, d.At = model.Stage(f), model.Stage(t), d.At.UTC()
		if d.OwnerID == 0 && strings.HasPrefix(d.Actor, "user:") {
			d.OwnerID, _ = strconv.ParseInt(strings.TrimPrefix(d.Actor, "user:"), 10, 64)
		}
		return d, err
	})
}

// StageSpread counts the live persons in some stages by grade and by SDR
// class ("" for none).
type StageSpread struct {
	Persons  int64
	Grades   map[string]int64
	SDRClass map[string]int64
}

// SpreadIn counts the live persons in the given stages by grade and by
// SDR class.
func (s *Store) SpreadIn(ctx context.Context, stages []model.Stage) (StageSpread, error) {
	in, args := stageList(stages)
	out := StageSpread{Grades: map[string]int64{}, SDRClass: map[string]int64{}}
	err := s.each(ctx, `SELECT grade, sdr_class, COUNT(*) FROM persons WHERE stage IN (`+in+`) AND merged_into_id IS NULL
		GROUP BY grade, sdr_class`, args, func(r *sql.Rows) error {
		var g, c string
		var n int64
		if err := r.Scan(&g, &c, &n); err != nil {
			return err
		}
		out.Persons += n
		out.Grades[g] += n
		out.SDRClass[c] += n
		return nil
	})
	return out, err
}
