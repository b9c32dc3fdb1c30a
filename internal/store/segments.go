package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Segments: saved filters, their stored membership and its log of enters
// and leaves. A filter (model.SegmentCond, validated) is compiled to one
// SQL condition per dialect, values always as parameters; the same
// condition serves a full rebuild (over everyone), an incremental pass
// (restricted to the changed persons' ids) and one person's check.
// Membership changes and their log rows are written in one transaction,
// under a lock of their own on PostgreSQL (SQLite has one writer), so that
// two passes never interleave their diffs.

// segmentLockKey is the advisory lock of membership writes (PostgreSQL).
const segmentLockKey = 7_461_023_045

// ErrSegmentFilter is a stored filter that no longer parses (never
// expected: filters are validated before they are stored).
var ErrSegmentFilter = errors.New("segment filter does not parse")

const segmentColumns = `id, name, description, kind, filter, timed, version, built_version, member_count, built_at, created_by, created_at, updated_at`

func scanSegment(r rowScanner) (model.Segment, error) {
	var g model.Segment
	var filter string
	var built sql.NullTime
	err := r.Scan(&g.ID, &g.Name, &g.Description, &g.Kind, &filter, &g.Timed, &g.Version, &g.BuiltVersion, &g.MemberCount, &built,
		&g.CreatedBy, &g.CreatedAt, &g.UpdatedAt)
	if err != nil {
		return g, err
	}
	g.Filter = json.RawMessage(filter)
	if built.Valid {
		t := built.Time.UTC()
		g.BuiltAt = &t
	}
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	return g, nil
}

// CreateSegment stores a new segment (its filter validated by the
// caller) and returns it; its membership is empty until it is built.
func (s *Store) CreateSegment(ctx context.Context, g model.Segment, now time.Time) (model.Segment, error) {
	cond, err := model.ParseSegmentFilter(g.Kind, g.Filter, "filter")
	if err != nil {
		return g, err
	}
	g.Filter = compactJSON(g.Filter)
	at := utc(now)
	id, err := s.insertID(ctx, s.w, `INSERT INTO segments (name, description, kind, filter, timed, version, built_version, member_count,
		created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 0, 0, ?, ?, ?)`,
		g.Name, g.Description, g.Kind, string(g.Filter), cond.Timed(), g.CreatedBy, at, at)
	if err != nil {
		return g, fmt.Errorf("create segment: %w", err)
	}
	return s.Segment(ctx, id)
}

// UpdateSegment replaces a segment's name, description and filter (its
// kind stays); a changed filter raises the version, and the membership
// follows it at the next build.
func (s *Store) UpdateSegment(ctx context.Context, g model.Segment, now time.Time) (model.Segment, error) {
	old, err := s.Segment(ctx, g.ID)
	if err != nil {
		return g, err
	}
	cond, err := model.ParseSegmentFilter(old.Kind, g.Filter, "filter")
	if err != nil {
		return g, err
	}
	g.Filter = compactJSON(g.Filter)
	bump := 0
	if !jsonEqual(old.Filter, g.Filter) {
		bump = 1
	}
	_, err = s.w.ExecContext(ctx, s.q(`UPDATE segments SET name = ?, description = ?, filter = ?, timed = ?, version = version + ?, updated_at = ?
		WHERE id = ?`), g.Name, g.Description, string(g.Filter), cond.Timed(), bump, utc(now), g.ID)
	if err != nil {
		return g, fmt.Errorf("update segment %d: %w", g.ID, err)
	}
	return s.Segment(ctx, g.ID)
}

// compactJSON stores a filter without the spacing it was sent with.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// DeleteSegment deletes a segment and its membership; its logged enters
// and leaves stay (the log is append-only).
func (s *Store) DeleteSegment(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockSegments(ctx, s, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM segment_members WHERE segment_id = ?`), id); err != nil {
			return fmt.Errorf("delete segment %d: %w", id, err)
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM segments WHERE id = ?`), id)
		if err != nil {
			return fmt.Errorf("delete segment %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// Segment reads one segment.
func (s *Store) Segment(ctx context.Context, id int64) (model.Segment, error) {
	g, err := scanSegment(s.r.QueryRowContext(ctx, s.q(`SELECT `+segmentColumns+` FROM segments WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, ErrNotFound
	}
	return g, err
}

// MaxSegments bounds the segments a workspace keeps (each is re-evaluated
// for every changed person).
const MaxSegments = 500

// Segments lists every segment, by name.
func (s *Store) Segments(ctx context.Context) ([]model.Segment, error) {
	return orEmpty(scanAll(ctx, s, s.r, `SELECT `+segmentColumns+` FROM segments ORDER BY name, id LIMIT ?`, []any{MaxSegments}, scanSegment))
}

// CountSegments counts the segments.
func (s *Store) CountSegments(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM segments`).Scan(&n)
	return n, err
}

// SegmentMember reports whether the person (or account, for an account
// segment) is a member of the segment now, as stored.
func (s *Store) SegmentMember(ctx context.Context, segmentID, personID int64) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM segment_members WHERE segment_id = ? AND member_id = ?`), segmentID, personID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// MaxSegmentChangesPage bounds one read of the change log.
const MaxSegmentChangesPage = 10000

// SegmentChangesAfter lists the logged enters and leaves with an id above
// afterID, oldest first, at most limit (1 to MaxSegmentChangesPage). Ids
// only grow, and a change commits with its membership change, so a reader
// keeping the highest id it has read misses none (on PostgreSQL, writers
// take segmentLockKey, so ids commit in order).
func (s *Store) SegmentChangesAfter(ctx context.Context, afterID int64, limit int) ([]model.SegmentChange, error) {
	limit = max(1, min(limit, MaxSegmentChangesPage))
	return orEmpty(scanAll(ctx, s, s.r, `SELECT id, segment_id, member_id, entered, at FROM segment_changes WHERE id > ? ORDER BY id LIMIT ?`,
		[]any{afterID, limit}, func(r rowScanner) (model.SegmentChange, error) {
			var c model.SegmentChange
			err := r.Scan(&c.ID, &c.SegmentID, &c.MemberID, &c.Entered, &c.At)
			c.At = c.At.UTC()
			return c, err
		}))
}

// MaxSegmentMembersPage bounds one page of members.
const MaxSegmentMembersPage = 500

// SegmentMembers lists a page of a segment's members, newest entries
// first, with names: persons' names and emails, or accounts' names and
// industries.
func (s *Store) SegmentMembers(ctx context.Context, g model.Segment, offset, limit int) ([]model.SegmentMember, error) {
	limit = max(1, min(limit, MaxSegmentMembersPage))
	offset = max(0, offset)
	q := `SELECT m.member_id, COALESCE(p.name, ''), COALESCE(p.email, ''), m.entered_at FROM segment_members m
		LEFT JOIN persons p ON p.id = m.member_id WHERE m.segment_id = ? ORDER BY m.entered_at DESC, m.member_id LIMIT ? OFFSET ?`
	if g.Kind == model.SegmentAccounts {
		q = `SELECT m.member_id, COALESCE(a.name, ''), COALESCE(a.industry, ''), m.entered_at FROM segment_members m
		LEFT JOIN accounts a ON a.id = m.member_id WHERE m.segment_id = ? ORDER BY m.entered_at DESC, m.member_id LIMIT ? OFFSET ?`
	}
	return orEmpty(scanAll(ctx, s, s.r, q, []any{g.ID, limit, offset}, scanSegmentMember))
}

func scanSegmentMember(r rowScanner) (model.SegmentMember, error) {
	var m model.SegmentMember
	err := r.Scan(&m.ID, &m.Name, &m.Detail, &m.EnteredAt)
	m.EnteredAt = m.EnteredAt.UTC()
	return m, err
}

// SegmentPreview is how many match a filter now, and a few of them.
type SegmentPreview struct {
	Count  int64                 `json:"count"`
	Sample []model.SegmentMember `json:"sample"`
}

// MaxSegmentSample bounds a preview's sample.
const MaxSegmentSample = 50

// PreviewSegment counts who matches a filter of kind now and lists up to
// sample of them (lowest ids first), without storing anything.
func (s *Store) PreviewSegment(ctx context.Context, kind string, cond *model.SegmentCond, sample int, now time.Time) (SegmentPreview, error) {
	sample = max(0, min(sample, MaxSegmentSample))
	from, args := compileSegment(s.dialect, kind, cond, now, true)
	var p SegmentPreview
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) `+from), args...).Scan(&p.Count); err != nil {
		return p, fmt.Errorf("preview segment: %w", err)
	}
	cols := `p.id, p.name, p.email`
	if kind == model.SegmentAccounts {
		cols = `a.id, a.name, a.industry`
	}
	var err error
	p.Sample, err = orEmpty(scanAll(ctx, s, s.r, `SELECT `+cols+` `+from+` ORDER BY 1 LIMIT ?`, append(args, sample),
		func(r rowScanner) (model.SegmentMember, error) {
			var m model.SegmentMember
			return m, r.Scan(&m.ID, &m.Name, &m.Detail)
		}))
	if err != nil {
		return p, fmt.Errorf("preview segment: %w", err)
	}
	return p, nil
}

// SegmentMatches evaluates a person filter for one person now: whether
// the person (not merged away) matches it.
func (s *Store) SegmentMatches(ctx context.Context, cond *model.SegmentCond, personID int64, now time.Time) (bool, error) {
	from, args := compileSegment(s.dialect, model.SegmentPersons, cond, now, false)
	var one int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 `+from+` AND p.id = ?`), append(args, personID)...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// SegmentBuild is what one pass changed.
type SegmentBuild struct {
	Segments int           `json:"segments"`
	Entered  int           `json:"entered"`
	Left     int           `json:"left"`
	Members  int64         `json:"members"` // of a full build of one segment
	Took     time.Duration `json:"took_ns"`
}

// RebuildSegment evaluates a segment's filter over everyone and brings
// its membership to the result: enters and leaves logged, the filter's
// version marked built. One transaction.
func (s *Store) RebuildSegment(ctx context.Context, id int64, now time.Time) (SegmentBuild, error) {
	start := time.Now()
	var b SegmentBuild
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockSegments(ctx, s, tx); err != nil {
			return err
		}
		g, err := scanSegment(tx.QueryRowContext(ctx, s.q(`SELECT `+segmentColumns+` FROM segments WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		cond, err := model.ParseSegmentFilter(g.Kind, g.Filter, "filter")
		if err != nil {
			return fmt.Errorf("segment %d: %w: %v", id, ErrSegmentFilter, err)
		}
		from, args := compileSegment(s.dialect, g.Kind, cond, now, true)
		match, err := scanAll(ctx, s, tx, `SELECT `+memberColumn(g.Kind)+` `+from, args, scanValue[int64])
		if err != nil {
			return fmt.Errorf("evaluate segment %d: %w", id, err)
		}
		current, err := scanAll(ctx, s, tx, `SELECT member_id FROM segment_members WHERE segment_id = ?`, []any{id}, scanValue[int64])
		if err != nil {
			return err
		}
		in, out, err := applySegmentDiff(ctx, s, tx, id, match, current, now)
		if err != nil {
			return err
		}
		b = SegmentBuild{Segments: 1, Entered: in, Left: out, Members: int64(len(match))}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE segments SET built_version = ?, built_at = ?, member_count = ? WHERE id = ?`),
			g.Version, utc(now), len(match), id)
		return err
	})
	b.Took = time.Since(start)
	return b, err
}

func memberColumn(kind string) string {
	if kind == model.SegmentAccounts {
		return "a.id"
	}
	return "p.id"
}

// RefreshSegmentsFor re-evaluates every built segment for the persons
// (person segments) and their accounts (account segments), and brings
// the membership of those members to the result, in one transaction.
func (s *Store) RefreshSegmentsFor(ctx context.Context, personIDs []int64, now time.Time) (SegmentBuild, error) {
	start := time.Now()
	var b SegmentBuild
	ids := slices.Clone(personIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return b, nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockSegments(ctx, s, tx); err != nil {
			return err
		}
		segs, err := scanAll(ctx, s, tx, `SELECT `+segmentColumns+` FROM segments WHERE built_version = version ORDER BY id`, nil, scanSegment)
		if err != nil || len(segs) == 0 {
			return err
		}
		var accounts []int64
		if slices.ContainsFunc(segs, func(g model.Segment) bool { return g.Kind == model.SegmentAccounts }) {
			err := inChunks(ids, func(_ []int64, in string, args []any) error {
				got, err := scanAll(ctx, s, tx, `SELECT DISTINCT account_id FROM persons WHERE account_id IS NOT NULL AND id IN `+in, args, scanValue[int64])
				accounts = append(accounts, got...)
				return err
			})
			if err != nil {
				return err
			}
			slices.Sort(accounts)
			accounts = slices.Compact(accounts)
		}
		for _, g := range segs {
			cond, err := model.ParseSegmentFilter(g.Kind, g.Filter, "filter")
			if err != nil {
				return fmt.Errorf("segment %d: %w: %v", g.ID, ErrSegmentFilter, err)
			}
			scope := ids
			if g.Kind == model.SegmentAccounts {
				scope = accounts
			}
			from, fargs := compileSegment(s.dialect, g.Kind, cond, now, false)
			col := memberColumn(g.Kind)
			in, out := 0, 0
			err = inChunks(scope, func(_ []int64, list string, args []any) error {
				match, err := scanAll(ctx, s, tx, `SELECT `+col+` `+from+` AND `+col+` IN `+list, append(slices.Clone(fargs), args...), scanValue[int64])
				if err != nil {
					return fmt.Errorf("evaluate segment %d: %w", g.ID, err)
				}
				current, err := scanAll(ctx, s, tx, `SELECT member_id FROM segment_members WHERE segment_id = ? AND member_id IN `+list,
					append([]any{g.ID}, args...), scanValue[int64])
				if err != nil {
					return err
				}
				i, o, err := applySegmentDiff(ctx, s, tx, g.ID, match, current, now)
				in, out = in+i, out+o
				return err
			})
			if err != nil {
				return err
			}
			if in+out > 0 {
				if _, err := tx.ExecContext(ctx, s.q(`UPDATE segments SET member_count = member_count + ? WHERE id = ?`), in-out, g.ID); err != nil {
					return err
				}
			}
			b.Segments++
			b.Entered += in
			b.Left += out
		}
		return nil
	})
	b.Took = time.Since(start)
	return b, err
}

// SegmentsToRebuild lists the ids of segments whose membership does not
// follow their filter yet (new or edited), and, when timed is set, also
// those that must be re-evaluated as time passes: filters with a window
// of days, and account segments (their opportunities change outside the
// person logs).
func (s *Store) SegmentsToRebuild(ctx context.Context, timed, all bool) ([]int64, error) {
	q := `SELECT id FROM segments WHERE built_version <> version`
	if timed {
		q += ` OR timed OR kind = 'account'`
	}
	if all {
		q = `SELECT id FROM segments`
	}
	return scanAll(ctx, s, s.r, q+` ORDER BY id`, nil, scanValue[int64])
}

// applySegmentDiff brings the stored membership of the members in
// current (stored) to match (evaluated) inside tx, logging each change,
// and returns how many entered and left.
func applySegmentDiff(ctx context.Context, s *Store, tx *sql.Tx, segmentID int64, match, current []int64, now time.Time) (int, int, error) {
	have := make(map[int64]bool, len(current))
	for _, id := range current {
		have[id] = true
	}
	var enter, leave []int64
	want := make(map[int64]bool, len(match))
	for _, id := range match {
		want[id] = true
		if !have[id] {
			enter = append(enter, id)
		}
	}
	for _, id := range current {
		if !want[id] {
			leave = append(leave, id)
		}
	}
	if len(enter)+len(leave) == 0 {
		return 0, 0, nil
	}
	slices.Sort(enter)
	slices.Sort(leave)
	at := utc(now)
	write := txRows(ctx, s, tx)
	rows := make([][]any, 0, len(enter))
	for _, id := range enter {
		rows = append(rows, []any{segmentID, id, at})
	}
	if err := write(`INSERT INTO segment_members (segment_id, member_id, entered_at) VALUES `, `(?, ?, ?)`, ``, 3, rows); err != nil {
		return 0, 0, fmt.Errorf("segment %d: add members: %w", segmentID, err)
	}
	err := inChunks(leave, func(_ []int64, in string, args []any) error {
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM segment_members WHERE segment_id = ? AND member_id IN `+in), append([]any{segmentID}, args...)...)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("segment %d: remove members: %w", segmentID, err)
	}
	log := make([][]any, 0, len(enter)+len(leave))
	for _, id := range enter {
		log = append(log, []any{segmentID, id, true, at})
	}
	for _, id := range leave {
		log = append(log, []any{segmentID, id, false, at})
	}
	if err := write(`INSERT INTO segment_changes (segment_id, member_id, entered, at) VALUES `, `(?, ?, ?, ?)`, ``, 4, log); err != nil {
		return 0, 0, fmt.Errorf("segment %d: log changes: %w", segmentID, err)
	}
	return len(enter), len(leave), nil
}

// lockSegments takes the membership lock for the rest of tx (PostgreSQL).
func lockSegments(ctx context.Context, s *Store, tx *sql.Tx) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(segmentLockKey)); err != nil {
		return fmt.Errorf("take the segments lock: %w", err)
	}
	return nil
}

// SegmentWatermarks is how far incremental evaluation has read the logs
// that say a person changed.
type SegmentWatermarks struct {
	Events, Touchpoints, PersonChanges, StageChanges, QualificationChanges, Assignments int64
	Consents                                                                            int64 // updated_at, microseconds since 1970
	Set                                                                                 bool  // false: never stored
}

func (w *SegmentWatermarks) fields() map[string]*int64 {
	return map[string]*int64{"events": &w.Events, "touchpoints": &w.Touchpoints, "person_changes": &w.PersonChanges,
		"stage_changes": &w.StageChanges, "qualification_changes": &w.QualificationChanges, "assignments": &w.Assignments,
		"consents": &w.Consents}
}

// SegmentWatermarks reads the stored watermarks.
func (s *Store) SegmentWatermarks(ctx context.Context) (SegmentWatermarks, error) {
	var w SegmentWatermarks
	f := w.fields()
	err := s.each(ctx, `SELECT name, value FROM segment_watermarks`, nil, func(r *sql.Rows) error {
		var name string
		var v int64
		if err := r.Scan(&name, &v); err != nil {
			return err
		}
		if p, ok := f[name]; ok {
			*p, w.Set = v, true
		}
		return nil
	})
	return w, err
}

// SetSegmentWatermarks stores the watermarks.
func (s *Store) SetSegmentWatermarks(ctx context.Context, w SegmentWatermarks, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for name, v := range w.fields() {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO segment_watermarks (name, value, moved_at) VALUES (?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET value = excluded.value, moved_at = excluded.moved_at`), name, *v, utc(now)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SegmentHighWater is how far incremental evaluation may read now. Events,
// touchpoints and person changes are read only as far as incremental
// scoring has (once it ran), so that a person is evaluated with the
// scores those changes gave; the lifecycle moves that follow a rescore
// are in stage_changes and qualification_changes.
func (s *Store) SegmentHighWater(ctx context.Context) (SegmentWatermarks, error) {
	var w SegmentWatermarks
	var consents any
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(id) FROM stage_changes), 0),
		COALESCE((SELECT MAX(id) FROM qualification_changes), 0), COALESCE((SELECT MAX(id) FROM assignments), 0),
		(SELECT MAX(updated_at) FROM consents)`).Scan(&w.StageChanges, &w.QualificationChanges, &w.Assignments, &consents)
	if err != nil {
		return w, err
	}
	if consents != nil {
		t, err := activityTime(consents)
		if err != nil {
			return w, fmt.Errorf("segment high water: consents: %w", err)
		}
		w.Consents = t.UnixMicro()
	}
	sw, err := s.ScoringHighWater(ctx)
	if err != nil {
		return w, err
	}
	scored, err := s.ScoringWatermarks(ctx)
	if err != nil {
		return w, err
	}
	w.Events, w.Touchpoints, w.PersonChanges = sw.EventID, sw.TouchpointID, sw.PersonChangeID
	if scored.Set {
		w.Events, w.Touchpoints, w.PersonChanges = min(w.Events, scored.EventID), min(w.Touchpoints, scored.TouchpointID),
			min(w.PersonChanges, scored.PersonChangeID)
	}
	w.Set = true
	return w, nil
}

// PersonsChangedForSegments lists the persons logged as changed between
// two watermarks (above from, up to to), each once, in id order.
func (s *Store) PersonsChangedForSegments(ctx context.Context, from, to SegmentWatermarks) ([]int64, error) {
	q := `SELECT person_id FROM events WHERE id > ? AND id <= ? AND person_id IS NOT NULL
		UNION SELECT person_id FROM touchpoints WHERE id > ? AND id <= ? AND person_id IS NOT NULL
		UNION SELECT person_id FROM person_changes WHERE id > ? AND id <= ?
		UNION SELECT person_id FROM stage_changes WHERE id > ? AND id <= ?
		UNION SELECT person_id FROM qualification_changes WHERE id > ? AND id <= ?
		UNION SELECT person_id FROM assignments WHERE id > ? AND id <= ?`
	args := []any{from.Events, to.Events, from.Touchpoints, to.Touchpoints, from.PersonChanges, to.PersonChanges,
		from.StageChanges, to.StageChanges, from.QualificationChanges, to.QualificationChanges, from.Assignments, to.Assignments}
	if to.Consents > from.Consents {
		// Consents carry a time, not an id: a minute of overlap reads
		// again what was written with an earlier time in the same instant.
		q += ` UNION SELECT person_id FROM consents WHERE updated_at > ? AND updated_at <= ?`
		args = append(args, time.UnixMicro(from.Consents).UTC().Add(-time.Minute), time.UnixMicro(to.Consents).UTC())
	}
	return scanAll(ctx, s, s.r, q+` ORDER BY 1`, args, scanValue[int64])
}

// compileSegment turns a validated filter of kind into the FROM and WHERE
// of a query over persons p (LEFT JOIN accounts a) or accounts a, and its
// arguments. Every value is a parameter; every leaf is wrapped so that it
// is true or false, never NULL, and "not" is exact.
//
// full says the query runs over everyone (a build, a preview): touch
// conditions are then asked of the touches once (the persons whose touches
// qualify, through touchpoints_type_time and touchpoints_time_person)
// rather than of each person's touches in turn, which is what a query
// over a few persons does.
func compileSegment(d Dialect, kind string, cond *model.SegmentCond, now time.Time, full bool) (string, []any) {
	c := segCompiler{d: d, kind: kind, now: utc(now), full: full}
	var b strings.Builder
	if kind == model.SegmentAccounts {
		b.WriteString(`FROM accounts a WHERE `)
	} else {
		b.WriteString(`FROM persons p LEFT JOIN accounts a ON a.id = p.account_id WHERE p.merged_into_id IS NULL AND `)
	}
	b.WriteString("(" + c.cond(cond) + ")")
	return b.String(), c.args
}

type segCompiler struct {
	d    Dialect
	kind string
	now  time.Time
	full bool
	args []any
}

func (c *segCompiler) arg(v any) string {
	c.args = append(c.args, v)
	return "?"
}

func (c *segCompiler) cond(x *model.SegmentCond) string {
	switch {
	case x.All != nil:
		if len(x.All) == 0 {
			return "1 = 1"
		}
		parts := make([]string, len(x.All))
		for i := range x.All {
			parts[i] = "(" + c.cond(&x.All[i]) + ")"
		}
		return strings.Join(parts, " AND ")
	case x.Any != nil:
		if len(x.Any) == 0 {
			return "1 = 0"
		}
		parts := make([]string, len(x.Any))
		for i := range x.Any {
			parts[i] = "(" + c.cond(&x.Any[i]) + ")"
		}
		return strings.Join(parts, " OR ")
	case x.Not != nil:
		return "NOT (" + c.cond(x.Not) + ")"
	}
	return "COALESCE((" + c.leaf(x) + "), " + c.falseLit() + ")"
}

func (c *segCompiler) falseLit() string {
	if c.d == Postgres {
		return "FALSE"
	}
	return "0"
}

func (c *segCompiler) since(days int) time.Time {
	return c.now.Add(-time.Duration(days) * 24 * time.Hour)
}

// column is the SQL of a fixed field.
func (c *segCompiler) column(field string) string {
	name := field
	prefix := "a."
	if c.kind == model.SegmentPersons {
		if f, ok := strings.CutPrefix(field, "account."); ok {
			name = f
		} else {
			prefix = "p."
		}
	}
	switch {
	case name == "owner":
		return prefix + "owner_id"
	case name == "last_touch_channel":
		return `(SELECT t.channel FROM touchpoints t` + c.byPerson("touchpoints_person_time") + ` WHERE t.person_id = p.id ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1)`
	case name == "open_opportunities":
		return `(SELECT COUNT(*) FROM opportunities o WHERE o.account_id = a.id AND o.closed_at IS NULL)`
	}
	return prefix + name
}

func (c *segCompiler) leaf(x *model.SegmentCond) string {
	switch x.Type {
	case model.FieldBehaviour:
		return c.behaviour(x)
	case model.FieldEngaged:
		q := `(SELECT COUNT(*) FROM persons q WHERE q.account_id = a.id AND q.merged_into_id IS NULL`
		if x.MinEngagement != nil {
			q += ` AND q.engagement_score >= ` + c.arg(*x.MinEngagement)
		}
		if x.Days > 0 {
			q += ` AND EXISTS (SELECT 1 FROM touchpoints t WHERE t.person_id = q.id AND t.occurred_at >= ` + c.arg(c.since(x.Days)) + `)`
		}
		return c.compare(q+`)`, x)
	case model.FieldTrait:
		return c.trait(x)
	case model.FieldConsent:
		key := strings.TrimPrefix(x.Field, "consent.")
		return c.compare(`COALESCE((SELECT cs.status FROM consents cs WHERE cs.person_id = p.id AND cs.channel = `+c.arg(key)+`), 'unknown')`, x)
	}
	return c.compare(c.column(x.Field), x)
}

// compare applies x's operator to the expression e.
func (c *segCompiler) compare(e string, x *model.SegmentCond) string {
	list := func() string {
		ph := make([]string, 0, len(x.Texts)+len(x.Numbers))
		if x.Type == model.FieldUser {
			for _, n := range x.Numbers {
				ph = append(ph, c.arg(int64(n)))
			}
		} else {
			for _, t := range x.Texts {
				ph = append(ph, c.arg(t))
			}
		}
		return "(" + strings.Join(ph, ", ") + ")"
	}
	one := func() string {
		switch {
		case x.Type == model.FieldUser:
			return c.arg(int64(x.Numbers[0]))
		case len(x.Numbers) > 0:
			if c.d == Postgres {
				// A count or an integer column would otherwise make the
				// parameter an integer, refusing 2.5.
				return "CAST(" + c.arg(x.Numbers[0]) + " AS DOUBLE PRECISION)"
			}
			return c.arg(x.Numbers[0])
		}
		return c.arg(x.Texts[0])
	}
	switch x.Op {
	case model.OpEq:
		return e + " = " + one()
	case model.OpNe:
		return e + " <> " + one()
	case model.OpIn:
		return e + " IN " + list()
	case model.OpNotIn:
		return e + " NOT IN " + list()
	case model.OpGt:
		return e + " > " + one()
	case model.OpGte:
		return e + " >= " + one()
	case model.OpLt:
		return e + " < " + one()
	case model.OpLte:
		return e + " <= " + one()
	case model.OpContains:
		if c.d == Postgres {
			return "strpos(" + e + ", " + one() + ") > 0"
		}
		return "instr(" + e + ", " + one() + ") > 0"
	case model.OpIsSet:
		if x.Type == model.FieldUser {
			return e + " IS NOT NULL"
		}
		return "COALESCE(" + e + ", '') <> ''"
	case model.OpIsNotSet:
		if x.Type == model.FieldUser {
			return e + " IS NULL"
		}
		return "COALESCE(" + e + ", '') = ''"
	}
	return "1 = 0"
}

// trait compares a trait through each dialect's JSON functions: text
// operators see strings, numbers and booleans as text, number operators
// see numbers only; a trait that is absent or null is not set.
func (c *segCompiler) trait(x *model.SegmentCond) string {
	key := strings.TrimPrefix(x.Field, "trait.")
	numeric := x.Op == model.OpGt || x.Op == model.OpGte || x.Op == model.OpLt || x.Op == model.OpLte
	if c.d == Postgres {
		switch {
		case x.Op == model.OpIsSet:
			return "COALESCE(jsonb_typeof(p.traits::jsonb -> " + c.arg(key) + "::text), 'null') <> 'null'"
		case x.Op == model.OpIsNotSet:
			return "COALESCE(jsonb_typeof(p.traits::jsonb -> " + c.arg(key) + "::text), 'null') = 'null'"
		case numeric:
			return c.compare("(CASE WHEN jsonb_typeof(p.traits::jsonb -> "+c.arg(key)+"::text) = 'number' THEN (p.traits::jsonb ->> "+
				c.arg(key)+"::text)::double precision END)", x)
		}
		return c.compare("(CASE WHEN jsonb_typeof(p.traits::jsonb -> "+c.arg(key)+"::text) IN ('string', 'number', 'boolean') THEN p.traits::jsonb ->> "+
			c.arg(key)+"::text END)", x)
	}
	path := `$."` + key + `"`
	switch {
	case x.Op == model.OpIsSet:
		return "COALESCE(json_type(p.traits, " + c.arg(path) + "), 'null') <> 'null'"
	case x.Op == model.OpIsNotSet:
		return "COALESCE(json_type(p.traits, " + c.arg(path) + "), 'null') = 'null'"
	case numeric:
		return c.compare("(CASE WHEN json_type(p.traits, "+c.arg(path)+") IN ('integer', 'real') THEN json_extract(p.traits, "+c.arg(path)+") END)", x)
	}
	return c.compare("(CASE WHEN json_type(p.traits, "+c.arg(path)+") IN ('text', 'integer', 'real') THEN CAST(json_extract(p.traits, "+
		c.arg(path)+") AS TEXT) WHEN json_type(p.traits, "+c.arg(path)+") IN ('true', 'false') THEN json_type(p.traits, "+c.arg(path)+") END)", x)
}

// behaviour counts the person's events (tracked, by name) or touchpoints
// (by type or channel) in the window, at least Min (did) or fewer (did
// not).
func (c *segCompiler) behaviour(x *model.SegmentCond) string {
	var q string
	switch x.Field {
	case "event":
		q = `FROM events e` + c.byPerson("events_person_time") + ` WHERE e.person_id = p.id AND e.type = 'track' AND e.name = ` + c.arg(x.Texts[0])
		if x.Days > 0 {
			q += ` AND e.ts >= ` + c.arg(c.since(x.Days))
		}
	default:
		col := "t.type"
		if x.Field == "touch_channel" {
			col = "t.channel"
		}
		if c.full {
			return c.touchSet(x, col)
		}
		q = `FROM touchpoints t` + c.byPerson("touchpoints_person_time") + ` WHERE t.person_id = p.id AND ` + col + ` = ` + c.arg(x.Texts[0])
		if x.Days > 0 {
			q += ` AND t.occurred_at >= ` + c.arg(c.since(x.Days))
		}
	}
	if x.Min <= 1 {
		if x.Op == model.OpDidNot {
			return "NOT EXISTS (SELECT 1 " + q + ")"
		}
		return "EXISTS (SELECT 1 " + q + ")"
	}
	op := " >= "
	if x.Op == model.OpDidNot {
		op = " < "
	}
	return "(SELECT COUNT(*) " + q + ")" + op + c.arg(int64(x.Min))
}

// byPerson pins SQLite to the index by person of a per-person subquery:
// without statistics it may otherwise range over an index by type or
// time, reading every person's touches for each person.
func (c *segCompiler) byPerson(index string) string {
	if c.d == Postgres {
		return ""
	}
	return " INDEXED BY " + index
}

// touchSet is a touch condition asked of the touches at once: the persons
// with at least Min matching touches in the window (did), or the others
// (did not).
func (c *segCompiler) touchSet(x *model.SegmentCond, col string) string {
	q := `SELECT t.person_id FROM touchpoints t WHERE ` + col + ` = ` + c.arg(x.Texts[0])
	if x.Days > 0 {
		q += ` AND t.occurred_at >= ` + c.arg(c.since(x.Days))
	}
	q += ` AND t.person_id IS NOT NULL`
	if x.Min > 1 {
		q += ` GROUP BY t.person_id HAVING COUNT(*) >= ` + c.arg(int64(x.Min))
	}
	if x.Op == model.OpDidNot {
		return "p.id NOT IN (" + q + ")"
	}
	return "p.id IN (" + q + ")"
}
