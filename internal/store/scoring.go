package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revloop/revloop/internal/model"
)

// ScoringProfile is what fit scoring reads of a person and its account.
type ScoringProfile struct {
	PersonID     int64
	Stage        model.Stage
	Title        string
	Email        string
	Traits       string // JSON object
	Industry     string
	SizeBand     string
	Employees    int
	Region       string
	City         string
	Tier         string
	Plan         string
	ScoreVersion int64
	Score        float64
}

const profileColumns = `SELECT p.id, p.stage, p.title, p.email, p.traits, COALESCE(a.industry, ''), COALESCE(a.size_band, ''),
	COALESCE(a.employees, 0), COALESCE(a.region, ''), COALESCE(a.city, ''), COALESCE(a.tier, ''), COALESCE(a.plan, ''), COALESCE(p.score_version, 0), p.score
	FROM persons p LEFT JOIN accounts a ON a.id = p.account_id WHERE p.merged_into_id IS NULL`

// ScoringProfiles reads the profiles of the persons with the given ids,
// or of every person when ids is nil. Merged persons are left out.
func (s *Store) ScoringProfiles(ctx context.Context, ids []int64) ([]ScoringProfile, error) {
	var out []ScoringProfile
	scan := func(query string, args []any) error {
		return s.each(ctx, query, args, func(r *sql.Rows) error {
			var p ScoringProfile
			var stage string
			if err := r.Scan(&p.PersonID, &stage, &p.Title, &p.Email, &p.Traits, &p.Industry, &p.SizeBand,
				&p.Employees, &p.Region, &p.City, &p.Tier, &p.Plan, &p.ScoreVersion, &p.Score); err != nil {
				return err
			}
			p.Stage = model.Stage(stage)
			out = append(out, p)
			return nil
		})
	}
	var err error
	if ids == nil {
		err = scan(profileColumns+" ORDER BY p.id", nil)
	} else {
		err = inChunks(ids, func(part []int64, in string, args []any) error {
			return scan(profileColumns+" AND p.id IN "+in+" ORDER BY p.id", args)
		})
	}
	return out, err
}

// ActivityRow is one thing a person did that engagement scoring may count:
// an event (page, screen or track; bots left out) or a touchpoint that no
// event is behind (bulk loads, the demo).
type ActivityRow struct {
	PersonID   int64
	At         time.Time
	FromEvent  bool   // an event; else a touchpoint
	Type       string // the event's type (page, screen, track) or the touchpoint's type
	Name       string // the track event's name
	URL        string
	Properties string // the event's payload, only for names asked for
	// WatchSeconds is a touchpoint's watch time (an event's is in its
	// payload).
	WatchSeconds int64
}

// ScoringActivities calls fn for every activity of the persons with the
// given ids, or of everyone when ids is nil, in no particular order. An
// event's payload is read only when its name is one of payloadFor. fn must
// not write to the store: a read is open while it runs.
func (s *Store) ScoringActivities(ctx context.Context, ids []int64, payloadFor []string, fn func(ActivityRow) error) error {
	payload := "''"
	var pargs []any
	if len(payloadFor) > 0 {
		payload = "CASE WHEN name IN (" + strings.TrimSuffix(strings.Repeat("?,", len(payloadFor)), ",") + ") THEN payload ELSE '' END"
		for _, n := range payloadFor {
			pargs = append(pargs, n)
		}
	}
	// On SQLite, times are read as text and parsed here (many times faster
	// than the driver's parsing), and a full read scans the table rather
	// than walking the person index (+person_id) with a lookup per row.
	ts, occurred, person := "ts", "occurred_at", "person_id"
	if s.dialect == SQLite {
		ts, occurred = "CAST(ts AS TEXT)", "CAST(occurred_at AS TEXT)"
		if ids == nil {
			person = "+person_id"
		}
	}
	events := "SELECT person_id, " + ts + ", type, name, url, " + payload + " FROM events WHERE " + person + " IS NOT NULL AND NOT bot AND type IN ('page', 'screen', 'track')"
	touches := "SELECT person_id, " + occurred + ", type, url, watch_seconds FROM touchpoints WHERE event_id IS NULL AND " + person + " IS NOT NULL"
	intern := map[string]string{}
	name := func(b []byte) string {
		if v, ok := intern[string(b)]; ok {
			return v
		}
		v := string(b)
		if len(intern) < 10000 {
			intern[v] = v
		}
		return v
	}
	run := func(query string, fromEvent bool, args ...any) error {
		var a ActivityRow
		a.FromEvent = fromEvent
		var typ, nm, url, props sql.RawBytes
		var at any
		return s.each(ctx, query, args, func(r *sql.Rows) error {
			var err error
			if fromEvent {
				err = r.Scan(&a.PersonID, &at, &typ, &nm, &url, &props)
			} else {
				err = r.Scan(&a.PersonID, &at, &typ, &url, &a.WatchSeconds)
			}
			if err != nil {
				return err
			}
			if a.At, err = activityTime(at); err != nil {
				return err
			}
			a.Type, a.Name, a.URL, a.Properties = name(typ), name(nm), string(url), string(props)
			return fn(a)
		})
	}
	if ids == nil {
		if err := run(events, true, pargs...); err != nil {
			return err
		}
		return run(touches, false)
	}
	// For some persons SQLite must walk the person index: left to itself
	// (without statistics) it reads every touch without an event through
	// touchpoints_event, 0.2 s for one person of the demo.
	touchesOf := touches
	if s.dialect == SQLite {
		touchesOf = strings.Replace(touches, "WHERE event_id IS NULL", "WHERE +event_id IS NULL", 1)
	}
	return inChunks(ids, func(part []int64, in string, args []any) error {
		if err := run(events+" AND person_id IN "+in, true, append(append([]any{}, pargs...), args...)...); err != nil {
			return err
		}
		return run(touchesOf+" AND person_id IN "+in, false, args...)
	})
}

// activityTime reads a time column: a time.Time (PostgreSQL), or the text
// SQLite holds, in the form time.Time.String writes ("2026-03-01
// 12:00:00.123456 +0000 UTC") parsed by hand, else in the other forms
// times are stored in.
func activityTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case string:
		return parseActivityTime(x)
	case []byte:
		return parseActivityTime(string(x))
	}
	return time.Time{}, fmt.Errorf("unexpected time value %T", v)
}

func parseActivityTime(v string) (time.Time, error) {
	if t, ok := fastUTCTime(v); ok {
		return t, nil
	}
	if i := strings.Index(v, " m="); i >= 0 {
		v = v[:i] // a monotonic clock reading written by time.Time.String
	}
	for _, l := range []string{"2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999-07:00",
		time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable stored time %q", v)
}

// fastUTCTime parses "YYYY-MM-DD HH:MM:SS[.fraction]" followed by a UTC
// marker (" +0000 UTC", "Z", "+00:00" or nothing).
func fastUTCTime(v string) (time.Time, bool) {
	if len(v) < 19 || v[4] != '-' || v[7] != '-' || (v[10] != ' ' && v[10] != 'T') || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(v[0:4])
	mo, ok2 := num(v[5:7])
	d, ok3 := num(v[8:10])
	h, ok4 := num(v[11:13])
	mi, ok5 := num(v[14:16])
	sec, ok6 := num(v[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest, nanos := v[19:], 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100_000_000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if scale > 0 {
				nanos += int(rest[i]-'0') * scale
				scale /= 10
			}
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	switch rest {
	case "", "Z", "+00:00", " +0000 UTC", " +0000 +0000":
		return time.Date(y, time.Month(mo), d, h, mi, sec, nanos, time.UTC), true
	}
	return time.Time{}, false
}

// inChunks calls fn with "(?, ?, ...)" and its arguments for at most 500
// ids at a time.
func inChunks(ids []int64, fn func(part []int64, in string, args []any) error) error {
	const chunk = 500
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		if err := fn(part, "("+strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+")", args); err != nil {
			return err
		}
	}
	return nil
}

// WriteScores stores scores computed at `at` with rule version `version`,
// many thousand persons per transaction. A person already scored by a
// newer version, or by the same version at a later time, keeps its score:
// a slow run never overwrites a newer one. It returns how many persons it
// updated.
func (s *Store) WriteScores(ctx context.Context, scores []model.PersonScore, version int64, at time.Time) (int, error) {
	at = utc(at)
	if s.dialect == Postgres {
		return s.writeScoresPostgres(ctx, scores, version, at)
	}
	// SQLite: one prepared statement per row (UPDATE … FROM is many times
	// slower here, and a row update costs microseconds in-process), a few
	// thousand rows per transaction so that other writers get their turn.
	const txRows = 5000
	updated := 0
	for len(scores) > 0 {
		batch := scores[:min(txRows, len(scores))]
		scores = scores[len(batch):]
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			st, err := tx.PrepareContext(ctx, `UPDATE persons SET fit_score = ?, engagement_score = ?, score = ?, score_version = ?, scored_at = ?
				WHERE id = ? AND `+scoreGuard)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, p := range batch {
				res, err := st.ExecContext(ctx, p.Fit, p.Engagement, p.Score, version, at, p.PersonID, version, version, at)
				if err != nil {
					return err
				}
				n, _ := res.RowsAffected()
				updated += int(n)
			}
			return nil
		})
		if err != nil {
			return updated, err
		}
	}
	return updated, nil
}

const scoreGuard = `persons.merged_into_id IS NULL AND (persons.score_version IS NULL OR persons.score_version < ?
	OR (persons.score_version = ? AND (persons.scored_at IS NULL OR persons.scored_at <= ?)))`

// writeScoresPostgres copies the scores into a temporary table and updates
// persons from it in one statement per batch: one join, whatever the
// planner's statistics say (a bulk load leaves them stale, and a VALUES
// list then makes it scan persons once per statement).
func (s *Store) writeScoresPostgres(ctx context.Context, scores []model.PersonScore, version int64, at time.Time) (int, error) {
	const txRows = 50000
	updated := 0
	for len(scores) > 0 {
		batch := scores[:min(txRows, len(scores))]
		scores = scores[len(batch):]
		err := s.withPgxTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS scores_in (id BIGINT, fit DOUBLE PRECISION, eng DOUBLE PRECISION,
				score DOUBLE PRECISION) ON COMMIT DELETE ROWS`); err != nil {
				return err
			}
			i := 0
			src := pgx.CopyFromFunc(func() ([]any, error) {
				if i == len(batch) {
					return nil, nil
				}
				p := batch[i]
				i++
				return []any{p.PersonID, p.Fit, p.Engagement, p.Score}, nil
			})
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"scores_in"}, []string{"id", "fit", "eng", "score"}, src); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, rebind(`UPDATE persons SET fit_score = v.fit, engagement_score = v.eng, score = v.score, score_version = ?, scored_at = ?
				FROM scores_in v WHERE persons.id = v.id AND `+scoreGuard), version, at, version, version, at)
			if err != nil {
				return err
			}
			updated += int(tag.RowsAffected())
			return nil
		})
		if err != nil {
			return updated, err
		}
	}
	return updated, nil
}

// EverReached returns which of the persons have ever been in one of the
// stages, by their stage changes (moved into it or out of it).
func (s *Store) EverReached(ctx context.Context, ids []int64, stages []model.Stage) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(stages) == 0 {
		return out, nil
	}
	list := strings.TrimSuffix(strings.Repeat("?,", len(stages)), ",")
	err := inChunks(ids, func(part []int64, in string, args []any) error {
		all := make([]any, 0, len(args)+2*len(stages))
		all = append(all, args...)
		for range 2 {
			for _, st := range stages {
				all = append(all, string(st))
			}
		}
		return s.each(ctx, "SELECT DISTINCT person_id FROM stage_changes WHERE person_id IN "+in+
			" AND (to_stage IN ("+list+") OR from_stage IN ("+list+"))", all, func(r *sql.Rows) error {
			var id int64
			if err := r.Scan(&id); err != nil {
				return err
			}
			out[id] = true
			return nil
		})
	})
	return out, err
}

// ScoringWatermarks is how far incremental scoring has read.
type ScoringWatermarks struct {
	EventID      int64 // every event with id ≤ EventID is scored
	TouchpointID int64 // every touchpoint (without an event) with id ≤ TouchpointID is scored
	// every person logged in person_changes with id ≤ PersonChangeID is
	// scored (merges, undone merges, traits and account changes)
	PersonChangeID int64
	Set            bool // false: scoring never ran
}

// ScoringWatermarks reads the watermarks.
func (s *Store) ScoringWatermarks(ctx context.Context) (ScoringWatermarks, error) {
	var w ScoringWatermarks
	err := s.each(ctx, "SELECT name, value FROM scoring_watermarks", nil, func(r *sql.Rows) error {
		var name string
		var v int64
		if err := r.Scan(&name, &v); err != nil {
			return err
		}
		switch name {
		case "events":
			w.EventID, w.Set = v, true
		case "touchpoints":
			w.TouchpointID, w.Set = v, true
		case "person_changes":
			w.PersonChangeID = v
		}
		return nil
	})
	return w, err
}

// SetScoringWatermarks stores the watermarks.
func (s *Store) SetScoringWatermarks(ctx context.Context, w ScoringWatermarks, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for name, v := range map[string]int64{"events": w.EventID, "touchpoints": w.TouchpointID, "person_changes": w.PersonChangeID} {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO scoring_watermarks (name, value, moved_at) VALUES (?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET value = excluded.value, moved_at = excluded.moved_at`), name, v, utc(now)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ScoringHighWater returns the highest ids incremental scoring may read up
// to now: the newest touchpoint, the newest person change, and the newest
// event below the oldest one still unprocessed (an unprocessed event has
// no person yet; it is read once processing gave it one).
func (s *Store) ScoringHighWater(ctx context.Context) (ScoringWatermarks, error) {
	var w ScoringWatermarks
	var unprocessed sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(id) FROM events), 0),
		(SELECT MIN(id) FROM events WHERE processed_at IS NULL),
		COALESCE((SELECT MAX(id) FROM touchpoints), 0),
		COALESCE((SELECT MAX(id) FROM person_changes), 0)`).Scan(&w.EventID, &unprocessed, &w.TouchpointID, &w.PersonChangeID)
	if err != nil {
		return w, err
	}
	if unprocessed.Valid && unprocessed.Int64-1 < w.EventID {
		w.EventID = unprocessed.Int64 - 1
	}
	w.Set = true
	return w, nil
}

// PersonsActiveBetween returns the persons with events in (from.EventID,
// to.EventID], touchpoints without an event in (from.TouchpointID,
// to.TouchpointID] or changes logged in (from.PersonChangeID,
// to.PersonChangeID], in id order. Merged-away persons may be among them
// (both persons of a merge are logged); ScoringProfiles leaves them out.
func (s *Store) PersonsActiveBetween(ctx context.Context, from, to ScoringWatermarks) ([]int64, error) {
	return scanAll(ctx, s, s.r, `SELECT person_id FROM events WHERE id > ? AND id <= ? AND person_id IS NOT NULL
		UNION SELECT person_id FROM touchpoints WHERE id > ? AND id <= ? AND event_id IS NULL AND person_id IS NOT NULL
		UNION SELECT person_id FROM person_changes WHERE id > ? AND id <= ?
		ORDER BY 1`, []any{from.EventID, to.EventID, from.TouchpointID, to.TouchpointID, from.PersonChangeID, to.PersonChangeID}, scanValue[int64])
}
