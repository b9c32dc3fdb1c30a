package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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

// DueAssignment is what the SLA figures need of an assignment due in a
// range: its owner and times. FollowedUpAt and SupersededAt are zero when
// none.
type DueAssignment struct {
	UserID                   int64
	AssignedAt, DueAt        time.Time
	FollowedUpAt, Superseded time.Time
}

// AssignmentsDue lists the assignments whose due time lies in [from, to)
// (zero ends open), with their owner and times only: a year of them is
// tens of thousands of rows.
func (s *Store) AssignmentsDue(ctx context.Context, from, to time.Time) ([]DueAssignment, error) {
	where, args := timeRange("due_at", from, to)
	cols := "user_id, assigned_at, due_at, first_follow_up_at, superseded_at"
	if s.dialect == SQLite {
		cols = "user_id, CAST(assigned_at AS TEXT), CAST(due_at AS TEXT), CAST(first_follow_up_at AS TEXT), CAST(superseded_at AS TEXT)"
	}
	var out []DueAssignment
	err := s.each(ctx, "SELECT "+cols+" FROM assignments"+s.indexedBy("assignments_due_follow")+" WHERE "+where, args, func(r *sql.Rows) error {
		var a DueAssignment
		var assigned, due, follow, superseded storedTime // zero when NULL
		if err := r.Scan(&a.UserID, &assigned, &due, &follow, &superseded); err != nil {
			return err
		}
		a.AssignedAt, a.DueAt, a.FollowedUpAt, a.Superseded = assigned.t, due.t, follow.t, superseded.t
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

// DecisionCount is how many SDR decisions of one kind one owner had in
// one bucket of a range.
type DecisionCount struct {
	// Bucket is the index of the bucket [bounds[i], bounds[i+1]) the
	// decisions fell in; 0 without bounds.
	Bucket int
	// To is sql for accepts (from mql), nurture or disqualified for
	// rejects (from mql or sql).
	To model.Stage
	// OwnerID is the person's owner at the time: their latest assignment
	// made at or before the change, else the user who made it ("user:ID"),
	// else 0.
	OwnerID int64
	N       int
}

// DecisionCounts counts the stage changes in [from, to) from mql to sql
// and from mql or sql to nurture or disqualified made by a person (an
// actor "user:…" or "apikey:…", lifecycle.ByPerson), by bucket, stages
// and owner. bounds, when given, are the instants that cut [from, to)
// into buckets (bounds[0] = from, the last = to). The database counts:
// a year holds tens of thousands of decisions, and no row of them comes
// to Go. The stage conditions repeat those of the partial index
// stage_changes_decisions word for word, so that both engines read it;
// the owner is the one kept on the row, looked up when not settled yet.
func (s *Store) DecisionCounts(ctx context.Context, from, to time.Time, bounds []time.Time) ([]DecisionCount, error) {
	where, args := timeRange("sc.changed_at", from, to)
	bucket := "0"
	var bargs []any
	if len(bounds) > 2 {
		var b strings.Builder
		b.WriteString("CASE")
		for i, t := range bounds[1 : len(bounds)-1] {
			fmt.Fprintf(&b, " WHEN sc.changed_at < ? THEN %d", i)
			bargs = append(bargs, utc(t))
		}
		fmt.Fprintf(&b, " ELSE %d END", len(bounds)-2)
		bucket = b.String()
	}
	// Each decision comes as four numbers (bucket, kind, owner, the user
	// who decided when no owner), counted here: SQLite's GROUP BY would
	// sort every row first, which costs more than the counting.
	q := `SELECT bucket, CASE to_stage WHEN 'sql' THEN 0 WHEN 'nurture' THEN 1 ELSE 2 END, owner_id,
			CASE WHEN owner_id = 0 AND substr(actor, 1, 5) = 'user:' THEN substr(actor, 6) END FROM (
		SELECT ` + bucket + ` AS bucket, sc.to_stage, sc.actor, COALESCE(sc.decision_owner_id, ` + decisionOwner + `, 0) AS owner_id
		FROM stage_changes sc` + s.indexedBy("stage_changes_decisions") + `
		WHERE ` + decisionShaped + ` AND ((substr(sc.actor, 1, 5) = 'user:' AND length(sc.actor) > 5) OR (substr(sc.actor, 1, 7) = 'apikey:' AND length(sc.actor) > 7))
			AND ` + where + `) d`
	into := [3]model.Stage{model.StageSQL, model.StageNurture, model.StageDisqualified}
	type key struct {
		bucket, kind int
		owner        int64
	}
	counts := map[key]int{}
	err := s.each(ctx, q, append(bargs, args...), func(r *sql.Rows) error {
		var k key
		var actor sql.NullString
		if err := r.Scan(&k.bucket, &k.kind, &k.owner, &actor); err != nil {
			return err
		}
		if k.owner == 0 && actor.Valid {
			k.owner, _ = strconv.ParseInt(actor.String, 10, 64)
		}
		counts[k]++
		return nil
	})
	out := make([]DecisionCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, DecisionCount{Bucket: k.bucket, To: into[k.kind], OwnerID: k.owner, N: n})
	}
	return out, err
}

// decisionShaped is the condition of the partial indexes on decisions
// (stage_changes_decisions, stage_changes_unsettled), word for word, over
// stage_changes sc.
const decisionShaped = `sc.to_stage IN ('sql', 'nurture', 'disqualified') AND sc.from_stage IN ('mql', 'sql') AND sc.from_stage <> sc.to_stage`

// decisionOwner is the owner of the decision sc: the user of the person's
// latest assignment made at or before it; NULL when none.
const decisionOwner = `(SELECT a.user_id FROM assignments a WHERE a.person_id = sc.person_id AND a.assigned_at <= sc.changed_at
	ORDER BY a.assigned_at DESC, a.id DESC LIMIT 1)`

// decisionMove says whether a move from one stage to another is shaped
// like a decision (decisionShaped).
func decisionMove(from, to model.Stage) bool {
	return from != to && (from == model.StageMQL || from == model.StageSQL) &&
		(to == model.StageSQL || to == model.StageNurture || to == model.StageDisqualified)
}

// settleDecisionOwners keeps the owner on the decision rows (migration
// 00041) of the given persons: every one of them (after an assignment or
// a merge, which can change it), or only those not settled yet (after
// their stage changes are written). With no person it settles every row
// not settled yet.
func (s *Store) settleDecisionOwners(ctx context.Context, ex execer, unsettledOnly bool, persons ...int64) error {
	q := `UPDATE stage_changes SET decision_owner_id = COALESCE(` + strings.ReplaceAll(decisionOwner, "sc.", "stage_changes.") + `, 0)
		WHERE ` + strings.ReplaceAll(decisionShaped, "sc.", "")
	if unsettledOnly || len(persons) == 0 {
		q += " AND decision_owner_id IS NULL"
	}
	if len(persons) == 0 {
		_, err := ex.ExecContext(ctx, s.q(q), nil...)
		return err
	}
	slices.Sort(persons)
	persons = slices.Compact(persons)
	for len(persons) > 0 {
		n := min(len(persons), 500)
		args := make([]any, n)
		for i, p := range persons[:n] {
			args[i] = p
		}
		if _, err := ex.ExecContext(ctx, s.q(q+" AND person_id IN (?"+strings.Repeat(", ?", n-1)+")"), args...); err != nil {
			return err
		}
		persons = persons[n:]
	}
	return nil
}

// SettleDecisionOwners settles the decision rows whose owner is not kept
// yet: those written in bulk (loads, processing). The roll-up refresh calls
// it; until then the dashboard looks their owner up.
func (s *Store) SettleDecisionOwners(ctx context.Context) error {
	return s.settleDecisionOwners(ctx, s.w, true)
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
