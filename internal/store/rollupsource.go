package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/revloop/revloop/internal/model"
)

// What the roll-up refresh (internal/rollup) reads and writes: where each
// roll-up stands, the marks writers leave, the facts of a range of time,
// and the replacement of a roll-up's days. The sums dashboards read are in
// rollups.go.
//
// A roll-up learns of new facts in two ways. Touchpoints and stage changes
// only ever get new ids, so the refresh reads those above its watermarks.
// What changes rows in place, or deletes them (a merge, an undo, an
// erasure, a reclassification, rewritten credits, a replay, a bulk load),
// leaves a mark in rollup_dirty in the same transaction.

// Roll-up names, as rollup_state and rollup_dirty spell them.
const (
	RollupTouches = "touches"
	RollupLeads   = "leads"
	RollupStages  = "stages"
)

// RollupCredits names the roll-up of a conversion kind's credits and
// influence.
func RollupCredits(kind model.ConversionKind) string { return "credits:" + string(kind) }

// personRollups are the roll-ups that follow persons, touches and stage
// changes.
var personRollups = []string{RollupTouches, RollupLeads, RollupStages}

// rollupAllDays is the day of a mark that asks for every day.
func rollupAllDays() time.Time { return time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC) }

// utcDate is the UTC calendar date of t, as a DATE column holds it.
func utcDate(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// dirtyRows are the rollup_dirty rows of changes at instants, one per
// name and UTC date.
func dirtyRows(names []string, instants []time.Time) [][]any {
	dates := make([]time.Time, 0, len(instants))
	for _, t := range instants {
		dates = append(dates, utcDate(t))
	}
	slices.SortFunc(dates, func(a, b time.Time) int { return a.Compare(b) })
	dates = slices.Compact(dates)
	rows := make([][]any, 0, len(dates)*len(names))
	for _, n := range names {
		for _, d := range dates {
			rows = append(rows, []any{n, d})
		}
	}
	return rows
}

// markDirty records, inside tx, that facts at the instants changed for
// the named roll-ups.
func markDirty(ctx context.Context, s *Store, tx *sql.Tx, names []string, instants []time.Time) error {
	if err := txRows(ctx, s, tx)("INSERT INTO rollup_dirty (name, day) VALUES ", "(?, ?)", "", 2, dirtyRows(names, instants)); err != nil {
		return fmt.Errorf("mark roll-ups %s: %w", strings.Join(names, ", "), err)
	}
	return nil
}

// markAllDirty records, inside tx, that every day of the named roll-ups
// must be recomputed.
func markAllDirty(ctx context.Context, s *Store, tx *sql.Tx, names []string) error {
	return markDirty(ctx, s, tx, names, []time.Time{rollupAllDays()})
}

// instantsOn reads a query of one time column on q; NULLs are skipped.
func instantsOn(ctx context.Context, s *Store, q querier, query string, args []any) ([]time.Time, error) {
	var out []time.Time
	err := s.eachOn(ctx, q, query, args, func(r *sql.Rows) error {
		var t sql.NullTime
		if err := r.Scan(&t); err != nil {
			return err
		}
		if t.Valid {
			out = append(out, t.Time)
		}
		return nil
	})
	return out, err
}

// personFacts are the instants of a set of persons that the person
// roll-ups are made of: their touches, their stage changes and their
// lead times.
type personFacts struct{ touches, stages, leads []time.Time }

// readPersonFacts reads the facts of the persons inside tx (their
// touches only when withTouches).
func readPersonFacts(ctx context.Context, s *Store, tx *sql.Tx, persons []int64, withTouches bool) (personFacts, error) {
	var f personFacts
	err := inChunks(persons, func(_ []int64, in string, args []any) error {
		for _, q := range []struct {
			dst   *[]time.Time
			query string
		}{
			{&f.touches, "SELECT occurred_at FROM touchpoints WHERE person_id IN " + in},
			{&f.stages, "SELECT changed_at FROM stage_changes WHERE person_id IN " + in},
			{&f.leads, "SELECT lead_at FROM persons WHERE lead_at IS NOT NULL AND id IN " + in},
		} {
			if q.dst == &f.touches && !withTouches {
				continue
			}
			ts, err := instantsOn(ctx, s, tx, q.query, args)
			if err != nil {
				return err
			}
			*q.dst = append(*q.dst, ts...)
		}
		return nil
	})
	return f, err
}

// mark marks the facts dirty in their roll-ups, inside tx.
func (f personFacts) mark(ctx context.Context, s *Store, tx *sql.Tx) error {
	for _, m := range []struct {
		name string
		at   []time.Time
	}{{RollupTouches, f.touches}, {RollupStages, f.stages}, {RollupLeads, f.leads}} {
		if err := markDirty(ctx, s, tx, []string{m.name}, m.at); err != nil {
			return err
		}
	}
	return nil
}

// RollupState is where a roll-up stands.
type RollupState struct {
	Name string
	// Watermark and AuxWatermark are the highest touchpoints and
	// stage_changes ids the person roll-ups have summed (0 for credits).
	Watermark    int64
	AuxWatermark int64
	TimeZone     string // the zone its days are in
	RefreshedAt  time.Time
}

// RollupStates reads every roll-up's state, by name.
func (s *Store) RollupStates(ctx context.Context) (map[string]RollupState, error) {
	out := map[string]RollupState{}
	err := s.each(ctx, `SELECT name, watermark, aux_watermark, time_zone, refreshed_at FROM rollup_state`, nil, func(r *sql.Rows) error {
		var st RollupState
		if err := r.Scan(&st.Name, &st.Watermark, &st.AuxWatermark, &st.TimeZone, &st.RefreshedAt); err != nil {
			return err
		}
		st.RefreshedAt = st.RefreshedAt.UTC()
		out[st.Name] = st
		return nil
	})
	return out, err
}

// RollupMark is a change a writer marked for a roll-up.
type RollupMark struct {
	ID   int64
	Name string
	Day  time.Time // the UTC date of the instant that changed
	All  bool      // every day
}

// RollupMarks reads every mark.
func (s *Store) RollupMarks(ctx context.Context) ([]RollupMark, error) {
	return scanAll(ctx, s, s.r, `SELECT id, name, day FROM rollup_dirty ORDER BY id`, nil, func(r rowScanner) (RollupMark, error) {
		var m RollupMark
		err := r.Scan(&m.ID, &m.Name, &m.Day)
		m.Day = utcDate(m.Day)
		m.All = m.Day.Year() <= 1
		return m, err
	})
}

// RollupSources are the highest source ids a refresh may sum up to.
type RollupSources struct {
	Touch int64 // touchpoints
	Stage int64 // stage_changes
	// StageSettled says that no stage change with an id up to Stage can
	// still commit. Always so on SQLite (one writer). On PostgreSQL ids
	// are drawn before commit, and stage changes are written by several
	// kinds of transaction at once; a transaction may commit a smaller id
	// after a larger one was seen. When the table could not be locked for
	// a moment to let those finish, Stage is what is visible and the
	// caller must not move its watermark past what it had.
	StageSettled bool
}

// stageLockWait bounds how long the refresh waits to lock stage_changes
// against writers (which wait behind it meanwhile).
const stageLockWait = "250ms"

// RollupSources reads the highest touchpoints and stage_changes ids.
// Touchpoints are only inserted under the processing lock, so their ids
// commit in order.
func (s *Store) RollupSources(ctx context.Context) (RollupSources, error) {
	src := RollupSources{StageSettled: true}
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(id), 0) FROM touchpoints), (SELECT COALESCE(MAX(id), 0) FROM stage_changes)`).
		Scan(&src.Touch, &src.Stage); err != nil {
		return src, err
	}
	if s.dialect != Postgres {
		return src, nil
	}
	// SHARE mode waits for every transaction that wrote stage_changes
	// and blocks new writers while the id is read: every id up to the
	// maximum is then committed or rolled back.
	var settled int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '`+stageLockWait+`'`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `LOCK TABLE stage_changes IN SHARE MODE`); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM stage_changes`).Scan(&settled)
	})
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "55P03": // lock_not_available
		src.StageSettled = false
		return src, nil
	case err != nil:
		return src, fmt.Errorf("settle stage change ids: %w", err)
	}
	src.Stage = settled
	return src, nil
}

// eachTimeOn calls fn with the time of each row of a query of one time
// column on the read pool.
func (s *Store) eachTime(ctx context.Context, query string, args []any, fn func(time.Time)) error {
	return s.each(ctx, query, args, func(r *sql.Rows) error {
		var t time.Time
		if err := r.Scan(&t); err != nil {
			return err
		}
		fn(t)
		return nil
	})
}

// TouchRollupChanges calls fn with the instants whose team days the
// touches roll-up must recompute for the touchpoints with ids in (t0, t1]
// and the stage changes with ids in (s0, s1]: the new touches, and every
// touch of a person who left visitor (or went back), since a touch counts
// as known by its person's stage.
func (s *Store) TouchRollupChanges(ctx context.Context, t0, t1, s0, s1 int64, fn func(time.Time)) error {
	if t1 > t0 {
		if err := s.eachTime(ctx, `SELECT occurred_at FROM touchpoints WHERE id > ? AND id <= ?`, []any{t0, t1}, fn); err != nil {
			return err
		}
	}
	if s1 > s0 {
		return s.eachTime(ctx, `SELECT t.occurred_at FROM touchpoints t WHERE t.person_id IN
			(SELECT person_id FROM stage_changes WHERE id > ? AND id <= ? AND (from_stage = 'visitor' OR to_stage = 'visitor'))`, []any{s0, s1}, fn)
	}
	return nil
}

// LeadRollupChanges calls fn with the lead times of the persons whose
// lead figures may have changed with the touchpoints with ids in (t0, t1]
// (a touch at or before the lead time can be the new lead source) and the
// stage changes with ids in (s0, s1] (a person became a lead, or reached
// a further stage).
func (s *Store) LeadRollupChanges(ctx context.Context, t0, t1, s0, s1 int64, fn func(time.Time)) error {
	if t1 > t0 {
		if err := s.eachTime(ctx, `SELECT p.lead_at FROM touchpoints t JOIN persons p ON p.id = t.person_id
			WHERE t.id > ? AND t.id <= ? AND p.lead_at IS NOT NULL AND t.occurred_at <= p.lead_at`, []any{t0, t1}, fn); err != nil {
			return err
		}
	}
	if s1 > s0 {
		return s.eachTime(ctx, `SELECT p.lead_at FROM persons p WHERE p.lead_at IS NOT NULL AND p.id IN
			(SELECT person_id FROM stage_changes WHERE id > ? AND id <= ?)`, []any{s0, s1}, fn)
	}
	return nil
}

// StageRollupChanges calls fn with the instants whose team days the
// stages roll-up must recompute for the touchpoints with ids in (t0, t1]
// (a new first touch changes its person's channel: all their changes) and
// the stage changes with ids in (s0, s1] (each, and the person's changes
// after it, whose first entry or previous stage it may change).
func (s *Store) StageRollupChanges(ctx context.Context, t0, t1, s0, s1 int64, fn func(time.Time)) error {
	if t1 > t0 {
		if err := s.eachTime(ctx, `SELECT h.changed_at FROM stage_changes h WHERE h.person_id IN
			(SELECT t.person_id FROM touchpoints t WHERE t.id > ? AND t.id <= ? AND t.person_id IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM touchpoints e WHERE e.person_id = t.person_id AND (e.occurred_at < t.occurred_at OR (e.occurred_at = t.occurred_at AND e.id < t.id))))`,
			[]any{t0, t1}, fn); err != nil {
			return err
		}
	}
	if s1 > s0 {
		return s.eachTime(ctx, `SELECT h.changed_at FROM stage_changes h JOIN
			(SELECT person_id, MIN(changed_at) AS since FROM stage_changes WHERE id > ? AND id <= ? GROUP BY person_id) n
			ON n.person_id = h.person_id WHERE h.changed_at >= n.since`, []any{s0, s1}, fn)
	}
	return nil
}

// rangeClause is a condition that col lies in [from, to) (a zero end is
// open) and its arguments.
func rangeClause(col string, from, to time.Time) (string, []any) {
	return windowClause(model.Window{From: from, To: to}, col)
}

// TouchFact is one touchpoint as the touches roll-up sums it.
type TouchFact struct {
	At                               time.Time
	Channel, Type                    string
	CampaignID, KeywordID, ContentID int64
	Known                            bool // its person is past visitor
	WatchSeconds                     int64
}

// TouchFacts calls fn with every touchpoint that occurred in [from, to)
// (a zero end is open). fn's fact is reused for the next row.
func (s *Store) TouchFacts(ctx context.Context, from, to time.Time, fn func(*TouchFact) error) error {
	cond, args := rangeClause("t.occurred_at", from, to)
	var f TouchFact
	return s.each(ctx, `SELECT t.occurred_at, t.channel, t.type, COALESCE(t.campaign_id, 0), COALESCE(t.keyword_id, 0), COALESCE(t.content_id, 0),
		t.watch_seconds, CASE WHEN p.stage IS NOT NULL AND p.stage <> 'visitor' THEN 1 ELSE 0 END
		FROM touchpoints t LEFT JOIN persons p ON p.id = t.person_id WHERE `+cond, args, func(r *sql.Rows) error {
		var known int
		if err := r.Scan(&f.At, &f.Channel, &f.Type, &f.CampaignID, &f.KeywordID, &f.ContentID, &f.WatchSeconds, &known); err != nil {
			return err
		}
		f.Known = known != 0
		return fn(&f)
	})
}

// LeadFact is one lead as the leads roll-up sums it.
type LeadFact struct {
	PersonID int64
	LeadAt   time.Time
	// The lead source: the person's last touch at or before LeadAt (the
	// later id on a tie); all empty when there is none.
	Channel                          string
	CampaignID, KeywordID, ContentID int64
	// Reached is the furthest forward stage in the person's stage
	// history (side states do not count; "" without one).
	Reached model.Stage
}

// LeadFacts calls fn with every person (not merged away) who became a
// lead in [from, to) (a zero end is open).
func (s *Store) LeadFacts(ctx context.Context, from, to time.Time, fn func(*LeadFact) error) error {
	cond, args := rangeClause("p.lead_at", from, to)
	cond += " AND p.lead_at IS NOT NULL AND p.merged_into_id IS NULL"
	reached := map[int64]model.Stage{}
	err := s.each(ctx, `SELECT sc.person_id, sc.to_stage FROM stage_changes sc JOIN persons p ON p.id = sc.person_id WHERE `+cond, args,
		func(r *sql.Rows) error {
			var id int64
			var st string
			if err := r.Scan(&id, &st); err != nil {
				return err
			}
			if stage := model.Stage(st); stage.Rank() > reached[id].Rank() {
				reached[id] = stage
			}
			return nil
		})
	if err != nil {
		return err
	}
	var f LeadFact
	return s.each(ctx, `SELECT p.id, p.lead_at, COALESCE(t.channel, ''), COALESCE(t.campaign_id, 0), COALESCE(t.keyword_id, 0), COALESCE(t.content_id, 0)
		FROM persons p LEFT JOIN touchpoints t ON t.id = (SELECT x.id FROM touchpoints x WHERE x.person_id = p.id AND x.occurred_at <= p.lead_at
			ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1)
		WHERE `+cond, args, func(r *sql.Rows) error {
		if err := r.Scan(&f.PersonID, &f.LeadAt, &f.Channel, &f.CampaignID, &f.KeywordID, &f.ContentID); err != nil {
			return err
		}
		f.Reached = reached[f.PersonID]
		return fn(&f)
	})
}

// StageEntry is one step of a person's stage history.
type StageEntry struct {
	ID    int64
	Stage model.Stage
	At    time.Time
}

// StageHistories calls fn with the whole stage history (in no particular
// order) and the first-touch channel of every person with a stage change
// in [from, to) (a zero end is open). The history slice is reused.
func (s *Store) StageHistories(ctx context.Context, from, to time.Time, fn func(personID int64, channel string, history []StageEntry) error) error {
	where := ""
	var args []any
	if !from.IsZero() || !to.IsZero() {
		cond, a := rangeClause("changed_at", from, to)
		where, args = "WHERE h.person_id IN (SELECT person_id FROM stage_changes WHERE "+cond+")", a
	}
	var (
		person  int64
		channel string
		hist    []StageEntry
	)
	err := s.each(ctx, `SELECT h.person_id, COALESCE(p.first_touch_channel, ''), h.id, h.to_stage, h.changed_at
		FROM stage_changes h LEFT JOIN persons p ON p.id = h.person_id `+where+` ORDER BY h.person_id`, args, func(r *sql.Rows) error {
		var id int64
		var ch, st string
		var e StageEntry
		if err := r.Scan(&id, &ch, &e.ID, &st, &e.At); err != nil {
			return err
		}
		e.Stage = model.Stage(st)
		if id != person && len(hist) > 0 {
			if err := fn(person, channel, hist); err != nil {
				return err
			}
			hist = hist[:0]
		}
		person, channel = id, ch
		hist = append(hist, e)
		return nil
	})
	if err != nil || len(hist) == 0 {
		return err
	}
	return fn(person, channel, hist)
}

// CreditFact is one credited touch of a conversion, as the credit and
// influence roll-ups sum it.
type CreditFact struct {
	ConversionID                     int64
	At                               time.Time
	Value                            model.Money
	Channel                          string // as stored with the credit
	CampaignID, KeywordID, ContentID int64  // of the touch
	Shares                           [NumCreditModels]float64
}

// CreditFacts calls fn with every credit row of the conversions of kind
// converted in [from, to) (a zero end is open): for mql and sql only each
// person's first entry into the stage, over all time. fn's fact is reused
// for the next row.
func (s *Store) CreditFacts(ctx context.Context, kind model.ConversionKind, from, to time.Time, fn func(*CreditFact) error) error {
	cond, args := rangeClause("v.converted_at", from, to)
	if kind == model.ConvMQL || kind == model.ConvSQL {
		cond += ` AND NOT EXISTS (SELECT 1 FROM attribution_conversions e WHERE e.kind = v.kind AND e.person_id = v.person_id
			AND (e.converted_at < v.converted_at OR (e.converted_at = v.converted_at AND e.conversion_id < v.conversion_id)))`
	}
	cols := make([]string, NumCreditModels)
	for i, c := range CreditColumns {
		cols[i] = "c." + c
	}
	var f CreditFact
	dst := []any{&f.ConversionID, &f.At, &f.Value, &f.Channel, &f.CampaignID, &f.KeywordID, &f.ContentID}
	for i := range f.Shares {
		dst = append(dst, &f.Shares[i])
	}
	return s.each(ctx, `SELECT v.conversion_id, v.converted_at, v.value_fen, c.channel, COALESCE(t.campaign_id, 0), COALESCE(t.keyword_id, 0),
		COALESCE(t.content_id, 0), `+strings.Join(cols, ", ")+`
		FROM attribution_conversions v JOIN attribution_credits c ON c.kind = v.kind AND c.conversion_id = v.conversion_id
		LEFT JOIN touchpoints t ON t.id = c.touch_id
		WHERE v.kind = ? AND `+cond, append([]any{string(kind)}, args...), func(r *sql.Rows) error {
		if err := r.Scan(dst...); err != nil {
			return err
		}
		return fn(&f)
	})
}

// Rows of the roll-up tables, as the refresh writes them.
type (
	TouchRollupRow struct {
		Day                              time.Time
		Channel, Type                    string
		CampaignID, KeywordID, ContentID int64
		Touches, Known, WatchSeconds     int64
	}
	LeadRollupRow struct {
		Day                                         time.Time
		Channel                                     string
		CampaignID, KeywordID, ContentID            int64
		Leads, MQLs, SQLs, Opportunities, Customers int64
	}
	StageRollupRow struct {
		Day            time.Time
		Stage, Channel string
		Entered, Timed int64
		DaysInBefore   float64
	}
	CreditRollupRow struct {
		Day                              time.Time
		Channel                          string
		CampaignID, KeywordID, ContentID int64
		Fen, N                           [NumCreditModels]float64 // per model, in the order of CreditColumns
	}
	InfluenceRollupRow struct {
		Day         time.Time
		Dim, Ref    string // channel, campaign, keyword or content; the channel or the id
		Conversions int64
		Value       model.Money
	}
)

// RollupSlice says what a refresh replaces of one roll-up: every row, or
// the rows of some days; with the state it leaves and the marks it used.
type RollupSlice struct {
	State RollupState
	All   bool
	Days  []time.Time
	Marks []int64 // rollup_dirty ids to delete
}

// rollupTable is one table a replacement writes.
type rollupTable struct {
	name  string
	scope string // a condition on the rows that belong to the roll-up ("" for all), with ? for scopeArg
	arg   any
	cols  []string
	n     int
	row   func(i int) []any
}

// replaceRollup replaces a slice of roll-up tables, writes the state and
// deletes the marks used, in one transaction.
func (s *Store) replaceRollup(ctx context.Context, sl RollupSlice, tables ...rollupTable) error {
	return s.inBulkTx(ctx, func(tx bulkTx) error {
		for _, t := range tables {
			scope, args := "1=1", []any(nil)
			if t.scope != "" {
				scope, args = t.scope, []any{t.arg}
			}
			if sl.All {
				if err := tx.exec("DELETE FROM "+t.name+" WHERE "+scope, args...); err != nil {
					return fmt.Errorf("clear %s: %w", t.name, err)
				}
			} else {
				for days := sl.Days; len(days) > 0; {
					part := days[:min(idChunk, len(days))]
					days = days[len(part):]
					a := append([]any(nil), args...)
					for _, d := range part {
						a = append(a, d)
					}
					if err := tx.exec("DELETE FROM "+t.name+" WHERE "+scope+" AND day IN ("+strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+")", a...); err != nil {
						return fmt.Errorf("clear days of %s: %w", t.name, err)
					}
				}
			}
			if err := tx.load(t.name, t.cols, t.n, t.row); err != nil {
				return err
			}
		}
		st := sl.State
		if err := tx.exec(`INSERT INTO rollup_state (name, watermark, aux_watermark, time_zone, refreshed_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET watermark = excluded.watermark, aux_watermark = excluded.aux_watermark,
				time_zone = excluded.time_zone, refreshed_at = excluded.refreshed_at`,
			st.Name, st.Watermark, st.AuxWatermark, st.TimeZone, utc(st.RefreshedAt)); err != nil {
			return fmt.Errorf("write rollup_state: %w", err)
		}
		for marks := sl.Marks; len(marks) > 0; {
			part := marks[:min(idChunk, len(marks))]
			marks = marks[len(part):]
			cond, args := inList("id", part)
			if err := tx.exec("DELETE FROM rollup_dirty WHERE "+cond, args...); err != nil {
				return fmt.Errorf("delete roll-up marks: %w", err)
			}
		}
		return nil
	})
}

// ReplaceTouchRollup replaces the touches roll-up's slice with rows.
func (s *Store) ReplaceTouchRollup(ctx context.Context, sl RollupSlice, rows []TouchRollupRow) error {
	return s.replaceRollup(ctx, sl, rollupTable{name: "rollup_touches",
		cols: []string{"day", "channel", "type", "campaign_id", "keyword_id", "content_id", "touches", "known", "watch_seconds"},
		n:    len(rows), row: func(i int) []any {
			r := &rows[i]
			return []any{r.Day, r.Channel, r.Type, r.CampaignID, r.KeywordID, r.ContentID, r.Touches, r.Known, r.WatchSeconds}
		}})
}

// ReplaceLeadRollup replaces the leads roll-up's slice with rows.
func (s *Store) ReplaceLeadRollup(ctx context.Context, sl RollupSlice, rows []LeadRollupRow) error {
	return s.replaceRollup(ctx, sl, rollupTable{name: "rollup_leads",
		cols: []string{"day", "channel", "campaign_id", "keyword_id", "content_id", "leads", "mqls", "sqls", "opportunities", "customers"},
		n:    len(rows), row: func(i int) []any {
			r := &rows[i]
			return []any{r.Day, r.Channel, r.CampaignID, r.KeywordID, r.ContentID, r.Leads, r.MQLs, r.SQLs, r.Opportunities, r.Customers}
		}})
}

// ReplaceStageRollup replaces the stages roll-up's slice with rows.
func (s *Store) ReplaceStageRollup(ctx context.Context, sl RollupSlice, rows []StageRollupRow) error {
	return s.replaceRollup(ctx, sl, rollupTable{name: "rollup_stages",
		cols: []string{"day", "stage", "channel", "entered", "timed", "days_in_before"},
		n:    len(rows), row: func(i int) []any {
			r := &rows[i]
			return []any{r.Day, r.Stage, r.Channel, r.Entered, r.Timed, r.DaysInBefore}
		}})
}

// creditRollupCols are rollup_credits' columns in the order of
// CreditRollupRow.
var creditRollupCols = func() []string {
	cols := []string{"kind", "day", "channel", "campaign_id", "keyword_id", "content_id"}
	for _, c := range CreditColumns {
		cols = append(cols, c+"_fen")
	}
	for _, c := range CreditColumns {
		cols = append(cols, c+"_n")
	}
	return cols
}()

// ReplaceCreditRollup replaces the slice of a kind's credit and influence
// roll-ups with rows.
func (s *Store) ReplaceCreditRollup(ctx context.Context, sl RollupSlice, kind model.ConversionKind, rows []CreditRollupRow, influence []InfluenceRollupRow) error {
	k := string(kind)
	return s.replaceRollup(ctx, sl,
		rollupTable{name: "rollup_credits", scope: "kind = ?", arg: k, cols: creditRollupCols, n: len(rows), row: func(i int) []any {
			r := &rows[i]
			out := make([]any, 0, len(creditRollupCols))
			out = append(out, k, r.Day, r.Channel, r.CampaignID, r.KeywordID, r.ContentID)
			for _, v := range r.Fen {
				out = append(out, v)
			}
			for _, v := range r.N {
				out = append(out, v)
			}
			return out
		}},
		rollupTable{name: "rollup_influence", scope: "kind = ?", arg: k,
			cols: []string{"kind", "day", "dim", "ref", "conversions", "value_fen"}, n: len(influence), row: func(i int) []any {
				r := &influence[i]
				return []any{k, r.Day, r.Dim, r.Ref, r.Conversions, int64(r.Value)}
			}})
}
