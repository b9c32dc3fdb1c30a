package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Reads of the sales follow-up dashboard. Each stays in one index
// (migration 00035): assignments by due time with their owner and times,
// the open assignments (a partial index, a few rows), a person's
// assignments newest first with their owner, the stage changes an SDR's
// decision makes (a partial index), and the live persons by stage with
// their grade, SDR class and times. On SQLite, times are read as text and
// parsed here, many times faster than the driver's parsing.

// indexedBy names the index a SQLite query must read. Without statistics
// (nothing runs ANALYZE) SQLite takes an equality on any indexed column
// for a handful of rows and prefers it: persons by merged_into_id IS NULL
// (nearly all of them) over the working stages, the stage changes by
// to_stage over the decisions' partial index, every assignment by user
// over the few open ones. PostgreSQL plans from its statistics.
func (s *Store) indexedBy(index string) string {
	if s.dialect == SQLite {
		return " INDEXED BY " + index
	}
	return ""
}

// AssignmentsDue lists the assignments whose due time lies in [from, to)
// (zero ends open), with what the SLA figures need: the owner (UserID)
// and the times (AssignedAt, DueAt, FirstFollowUpAt, SupersededAt); the
// other fields are left empty.
func (s *Store) AssignmentsDue(ctx context.Context, from, to time.Time) ([]model.Assignment, error) {
	where, args := timeRange("due_at", from, to)
	cols := "user_id, assigned_at, due_at, first_follow_up_at, superseded_at"
	if s.dialect == SQLite {
		cols = "user_id, CAST(assigned_at AS TEXT), CAST(due_at AS TEXT), CAST(first_follow_up_at AS TEXT), CAST(superseded_at AS TEXT)"
	}
	var out []model.Assignment
	err := s.each(ctx, "SELECT "+cols+" FROM assignments WHERE "+where, args, func(r *sql.Rows) error {
		var a model.Assignment
		var assigned, due storedTime
		var follow, superseded storedNullTime
		if err := r.Scan(&a.UserID, &assigned, &due, &follow, &superseded); err != nil {
			return err
		}
		a.AssignedAt, a.DueAt, a.FirstFollowUpAt, a.SupersededAt = assigned.t, due.t, follow.t, superseded.t
		out = append(out, a)
		return nil
	})
	return out, err
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
	from := "assignments a" + s.indexedBy("assignments_open") + " JOIN persons p ON p.id = a.person_id JOIN users u ON u.id = a.user_id"
	return s.assignmentsIn(ctx, from, cond+" ORDER BY a.due_at, a.assigned_at, a.id LIMIT ?", append(args, limit)...)
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
		FROM assignments a`+s.indexedBy("assignments_open")+` JOIN persons p ON p.id = a.person_id
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
// disqualified made by a person: the kind an SDR's accept or reject makes.
type StageDecision struct {
	ID       int64
	PersonID int64
	From, To model.Stage
	At       time.Time
	Actor    string
	// OwnerID is the person's owner at the time: their latest assignment
	// made at or before the change, else the user who made it ("user:ID"),
	// else 0.
	OwnerID int64
}

// StageDecisions lists the stage changes in [from, to) from mql to sql and
// from mql or sql to nurture or disqualified whose actor names a person
// ("user:…" or "apikey:…"; on SQLite, where LIKE ignores case, a few
// more that report.Decision then sets aside), oldest first. The
// conditions repeat those of the partial index stage_changes_decisions
// word for word, so that both engines read it.
func (s *Store) StageDecisions(ctx context.Context, from, to time.Time) ([]StageDecision, error) {
	where, args := timeRange("sc.changed_at", from, to)
	at := "sc.changed_at"
	if s.dialect == SQLite {
		at = "CAST(sc.changed_at AS TEXT)"
	}
	return scanAll(ctx, s, s.r, `SELECT sc.id, sc.person_id, sc.from_stage, sc.to_stage, `+at+`, sc.actor,
		COALESCE((SELECT a.user_id FROM assignments a WHERE a.person_id = sc.person_id AND a.assigned_at <= sc.changed_at
			ORDER BY a.assigned_at DESC, a.id DESC LIMIT 1), 0)
		FROM stage_changes sc`+s.indexedBy("stage_changes_decisions")+`
		WHERE sc.to_stage IN ('sql', 'nurture', 'disqualified') AND sc.from_stage IN ('mql', 'sql') AND sc.from_stage <> sc.to_stage
		AND (sc.actor LIKE 'user:_%' OR sc.actor LIKE 'apikey:_%') AND `+where+` ORDER BY sc.changed_at`, args, func(r rowScanner) (StageDecision, error) {
		var d StageDecision
		var f, t string
		var changed storedTime
		err := r.Scan(&d.ID, &d.PersonID, &f, &t, &changed, &d.Actor, &d.OwnerID)
		d.From, d.To, d.At = model.Stage(f), model.Stage(t), changed.t
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
	// By stage first, in the index's order: SQLite then counts without
	// sorting.
	err := s.each(ctx, `SELECT stage, grade, sdr_class, COUNT(*) FROM persons`+s.indexedBy("persons_live_stage")+`
		WHERE stage IN (`+in+`) AND merged_into_id IS NULL GROUP BY stage, grade, sdr_class`, args, func(r *sql.Rows) error {
		var stage, g, c string
		var n int64
		if err := r.Scan(&stage, &g, &c, &n); err != nil {
			return err
		}
		out.Persons += n
		out.Grades[g] += n
		out.SDRClass[c] += n
		return nil
	})
	return out, err
}
