package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revloop/revloop/internal/model"
)

// CreditColumns are attribution_credits' model columns, in the order of
// CreditRow.Shares: first, last, last-non-direct, linear, linear-unique,
// position, u-lead, w-shaped, full-path, j-shaped, inverse-j, time-decay
// (7-day half-life), markov (order 1), shapley, shapley-rate.
var CreditColumns = [NumCreditModels]string{"first_touch", "last_touch", "last_non_direct", "linear", "linear_unique",
	"position", "u_lead", "w_shaped", "full_path", "j_shaped", "inverse_j", "time_decay", "markov", "shapley", "shapley_rate"}

// NumCreditModels is the number of model columns.
const NumCreditModels = 15

// StoredConversion is a conversion whose credits are stored.
type StoredConversion struct {
	ID          int64
	PersonID    int64 // mql, sql
	At          time.Time
	Value       model.Money
	Touches     int
	Sourced     bool
	Influenced  bool
	Fingerprint int64
	ComputedAt  time.Time // set when read; WriteCredits uses the batch's time
}

// CreditRow is one touch's shares of one conversion, one per model column.
type CreditRow struct {
	ConversionID int64
	TouchID      int64
	Channel      string // the touch's channel when computed
	Shares       [NumCreditModels]float64
}

// CreditBatch is one write of a kind's credits.
type CreditBatch struct {
	Kind model.ConversionKind
	// Full replaces every stored conversion of the kind; otherwise Delete
	// and the ids of Conversions lose their stored rows first.
	Full        bool
	Delete      []int64
	Conversions []StoredConversion
	Credits     []CreditRow
	// Weights, when not nil, replace the kind's stored channel weights:
	// model column → channel → weight.
	Weights map[string]map[string]float64
	// Watermark is the highest touchpoint id the batch has seen, and
	// ChangeWatermark the highest person_changes id; the stored ones only
	// grow.
	Watermark       int64
	ChangeWatermark int64
	At              time.Time
	Fitted          bool // the batch carries a new global fit
}

// CreditState is what the last run left for a kind.
type CreditState struct {
	Watermark       int64 // highest touchpoint id read
	ChangeWatermark int64 // highest person_changes id read
	ComputedAt      time.Time
	FittedAt        time.Time // zero: never fitted
}

// CreditStateOf reads a kind's state; ok is false before its first run.
func (s *Store) CreditStateOf(ctx context.Context, kind model.ConversionKind) (st CreditState, ok bool, err error) {
	var fitted sql.NullTime
	err = s.r.QueryRowContext(ctx, s.q(`SELECT touch_watermark, change_watermark, computed_at, fitted_at FROM attribution_state WHERE kind = ?`), string(kind)).
		Scan(&st.Watermark, &st.ChangeWatermark, &st.ComputedAt, &fitted)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	st.ComputedAt = st.ComputedAt.UTC()
	if fitted.Valid {
		st.FittedAt = fitted.Time.UTC()
	}
	return st, true, nil
}

// CreditFingerprints reads the fingerprint of every stored conversion of a
// kind.
func (s *Store) CreditFingerprints(ctx context.Context, kind model.ConversionKind) (map[int64]int64, error) {
	out := map[int64]int64{}
	err := s.each(ctx, `SELECT conversion_id, fingerprint FROM attribution_conversions WHERE kind = ?`, []any{string(kind)}, func(r *sql.Rows) error {
		var id, fp int64
		if err := r.Scan(&id, &fp); err != nil {
			return err
		}
		out[id] = fp
		return nil
	})
	return out, err
}

// CreditWeights reads a kind's stored channel weights: model column →
// channel → weight.
func (s *Store) CreditWeights(ctx context.Context, kind model.ConversionKind) (map[string]map[string]float64, error) {
	out := map[string]map[string]float64{}
	err := s.each(ctx, `SELECT model, channel, weight FROM attribution_weights WHERE kind = ?`, []any{string(kind)}, func(r *sql.Rows) error {
		var m, ch string
		var w float64
		if err := r.Scan(&m, &ch, &w); err != nil {
			return err
		}
		if out[m] == nil {
			out[m] = map[string]float64{}
		}
		out[m][ch] = w
		return nil
	})
	return out, err
}

// MaxTouchID is the highest touchpoint id (ids only grow).
func (s *Store) MaxTouchID(ctx context.Context) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM touchpoints`).Scan(&id)
	return id, err
}

// PersonsTouchedBetween lists the persons of touchpoints with an id in
// (after, upto].
func (s *Store) PersonsTouchedBetween(ctx context.Context, after, upto int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	err := s.each(ctx, `SELECT DISTINCT person_id FROM touchpoints WHERE id > ? AND id <= ? AND person_id IS NOT NULL`, []any{after, upto},
		func(r *sql.Rows) error {
			var p int64
			if err := r.Scan(&p); err != nil {
				return err
			}
			out[p] = true
			return nil
		})
	return out, err
}

// bulkTx is a write transaction that can also load many rows fast: COPY
// on PostgreSQL, prepared multi-row INSERTs on SQLite.
type bulkTx interface {
	exec(query string, args ...any) error
	load(table string, cols []string, n int, row func(i int) []any) error
	// each runs a query (? placeholders) and calls fn with each row's scan.
	each(query string, args []any, fn func(scan func(...any) error) error) error
}

type sqliteBulk struct{ l *sqliteLoader }

func (b sqliteBulk) exec(query string, args ...any) error {
	_, err := b.l.tx.ExecContext(b.l.ctx, query, args...)
	return err
}

func (b sqliteBulk) each(query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := b.l.tx.QueryContext(b.l.ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (b sqliteBulk) load(table string, cols []string, n int, row func(i int) []any) error {
	args := make([]any, 0, sqliteBatch*len(cols))
	for start := 0; start < n; start += sqliteBatch {
		end := min(start+sqliteBatch, n)
		st, err := b.l.stmt(table, cols, end-start)
		if err != nil {
			return err
		}
		args = args[:0]
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		if _, err := st.ExecContext(b.l.ctx, args...); err != nil {
			return fmt.Errorf("write %s: %w", table, err)
		}
	}
	return nil
}

type pgBulk struct {
	ctx context.Context
	tx  pgx.Tx
}

func (b pgBulk) exec(query string, args ...any) error {
	_, err := b.tx.Exec(b.ctx, rebind(query), args...)
	return err
}

func (b pgBulk) each(query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := b.tx.Query(b.ctx, rebind(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (b pgBulk) load(table string, cols []string, n int, row func(i int) []any) error {
	_, err := b.tx.CopyFrom(b.ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
	if err != nil {
		return fmt.Errorf("write %s: %w", table, err)
	}
	return nil
}

// inBulkTx runs fn in one write transaction.
func (s *Store) inBulkTx(ctx context.Context, fn func(bulkTx) error) error {
	if s.dialect != Postgres {
		return s.inTx(ctx, func(tx *sql.Tx) error {
			return fn(sqliteBulk{&sqliteLoader{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}})
		})
	}
	return s.withPgxTx(ctx, func(tx pgx.Tx) error { return fn(pgBulk{ctx, tx}) })
}

var creditCols = append([]string{"kind", "conversion_id", "touch_id", "channel"}, CreditColumns[:]...)

// WriteCredits writes a batch in one transaction: readers see the kind's
// credits either before or after it, never half of it. It sorts the
// batch's Conversions and Credits by key. It marks the days it changes
// for the kind's credit roll-up (rollupsource.go): every day after a
// full run, else the old and new days of the conversions it rewrites or
// drops, and for mql and sql those of every entry of their persons, whose
// first entry may have moved.
func (s *Store) WriteCredits(ctx context.Context, b CreditBatch) error {
	kind := string(b.Kind)
	at := utc(b.At)
	// Rows in key order append to the B-trees instead of splitting pages
	// all over them (several times faster on SQLite). This sorts the
	// batch's slices in place.
	slices.SortFunc(b.Conversions, func(x, y StoredConversion) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(b.Credits, func(x, y CreditRow) int {
		if c := cmp.Compare(x.ConversionID, y.ConversionID); c != 0 {
			return c
		}
		return cmp.Compare(x.TouchID, y.TouchID)
	})
	return s.inBulkTx(ctx, func(tx bulkTx) error {
		if err := markCreditDays(tx, b); err != nil {
			return err
		}
		if b.Full {
			for _, t := range []string{"attribution_credits", "attribution_conversions"} {
				if err := tx.exec("DELETE FROM "+t+" WHERE kind = ?", kind); err != nil {
					return fmt.Errorf("clear %s: %w", t, err)
				}
			}
		} else {
			ids := append([]int64(nil), b.Delete...)
			for _, c := range b.Conversions {
				ids = append(ids, c.ID)
			}
			for start := 0; start < len(ids); start += idChunk {
				cond, args := inList("conversion_id", ids[start:min(start+idChunk, len(ids))])
				args = append([]any{kind}, args...)
				for _, t := range []string{"attribution_credits", "attribution_conversions"} {
					if err := tx.exec("DELETE FROM "+t+" WHERE kind = ? AND "+cond, args...); err != nil {
						return fmt.Errorf("delete from %s: %w", t, err)
					}
				}
			}
		}
		flag := func(b bool) int16 {
			if b {
				return 1
			}
			return 0
		}
		err := tx.load("attribution_conversions", []string{"kind", "conversion_id", "person_id", "converted_at", "value_fen", "touches",
			"sourced", "influenced", "fingerprint", "computed_at"}, len(b.Conversions), func(i int) []any {
			c := &b.Conversions[i]
			return []any{kind, c.ID, nullID(c.PersonID), utc(c.At), int64(c.Value), int64(c.Touches), flag(c.Sourced), flag(c.Influenced), c.Fingerprint, at}
		})
		if err != nil {
			return err
		}
		err = tx.load("attribution_credits", creditCols, len(b.Credits), func(i int) []any {
			c := &b.Credits[i]
			row := make([]any, 4, 4+NumCreditModels)
			row[0], row[1], row[2], row[3] = kind, c.ConversionID, c.TouchID, c.Channel
			for _, x := range c.Shares {
				row = append(row, x)
			}
			return row
		})
		if err != nil {
			return err
		}
		if b.Weights != nil {
			if err := tx.exec("DELETE FROM attribution_weights WHERE kind = ?", kind); err != nil {
				return fmt.Errorf("clear attribution_weights: %w", err)
			}
			var rows [][]any
			for m, ws := range b.Weights {
				for ch, w := range ws {
					rows = append(rows, []any{kind, m, ch, w})
				}
			}
			if err := tx.load("attribution_weights", []string{"kind", "model", "channel", "weight"}, len(rows), func(i int) []any { return rows[i] }); err != nil {
				return err
			}
		}
		var fitted any
		if b.Fitted {
			fitted = at
		}
		err = tx.exec(`INSERT INTO attribution_state (kind, touch_watermark, change_watermark, computed_at, fitted_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (kind) DO UPDATE SET computed_at = excluded.computed_at,
				touch_watermark = CASE WHEN excluded.touch_watermark > attribution_state.touch_watermark
					THEN excluded.touch_watermark ELSE attribution_state.touch_watermark END,
				change_watermark = CASE WHEN excluded.change_watermark > attribution_state.change_watermark
					THEN excluded.change_watermark ELSE attribution_state.change_watermark END,
				fitted_at = COALESCE(excluded.fitted_at, attribution_state.fitted_at)`, kind, b.Watermark, b.ChangeWatermark, at, fitted)
		if err != nil {
			return fmt.Errorf("write attribution_state: %w", err)
		}
		return nil
	})
}

// markCreditDays marks, inside a credit batch's transaction and before
// its writes, the days whose credit roll-up the batch changes.
func markCreditDays(tx bulkTx, b CreditBatch) error {
	kind := string(b.Kind)
	var at []time.Time
	if b.Full {
		at = append(at, rollupAllDays())
	} else {
		ids := append([]int64(nil), b.Delete...)
		persons := map[int64]bool{}
		for _, c := range b.Conversions {
			ids = append(ids, c.ID)
			at = append(at, c.At)
			if c.PersonID != 0 {
				persons[c.PersonID] = true
			}
		}
		read := func(cond string, args []any) error {
			return tx.each("SELECT converted_at, COALESCE(person_id, 0) FROM attribution_conversions WHERE kind = ? AND "+cond,
				append([]any{kind}, args...), func(scan func(...any) error) error {
					var t time.Time
					var p int64
					if err := scan(&t, &p); err != nil {
						return err
					}
					at = append(at, t)
					if p != 0 {
						persons[p] = true
					}
					return nil
				})
		}
		for start := 0; start < len(ids); start += idChunk {
			cond, args := inList("conversion_id", ids[start:min(start+idChunk, len(ids))])
			if err := read(cond, args); err != nil {
				return fmt.Errorf("read the days of rewritten credits: %w", err)
			}
		}
		if b.Kind == model.ConvMQL || b.Kind == model.ConvSQL {
			ps := make([]int64, 0, len(persons))
			for p := range persons {
				ps = append(ps, p)
			}
			slices.Sort(ps)
			for start := 0; start < len(ps); start += idChunk {
				cond, args := inList("person_id", ps[start:min(start+idChunk, len(ps))])
				if err := read(cond, args); err != nil {
					return fmt.Errorf("read the days of rewritten credits: %w", err)
				}
			}
		}
	}
	rows := dirtyRows([]string{RollupCredits(b.Kind)}, at)
	return tx.load("rollup_dirty", []string{"name", "day"}, len(rows), func(i int) []any { return rows[i] })
}

// currentConversionSQL selects the conversions of a kind as they are now:
// FROM and WHERE, the id, time and value columns.
var currentConversionSQL = map[model.ConversionKind]struct{ from, id, at, value string }{
	model.ConvOpportunity: {"opportunities o WHERE 1=1", "o.id", "o.created_at", "o.amount_fen"},
	model.ConvWon:         {"opportunities o WHERE o.stage = 'closed_won' AND o.closed_at IS NOT NULL", "o.id", "o.closed_at", "o.amount_fen"},
	model.ConvOrder:       {"orders r WHERE 1=1", "r.id", "r.ordered_at", "r.amount_fen"},
	model.ConvMQL:         {"stage_changes sc WHERE sc.to_stage = 'mql'", "sc.id", "sc.changed_at", "0"},
	model.ConvSQL:         {"stage_changes sc WHERE sc.to_stage = 'sql'", "sc.id", "sc.changed_at", "0"},
}

// CreditsCurrent reports whether the stored credits of a kind cover the
// conversions of window w as they are now: a run has completed, no
// conversion in w lacks stored credits, and the stored conversions in w
// are as many and worth as much as the current ones. Touches that arrived
// after the last run are not checked: the incremental run after event
// processing catches them up. It also returns when the last run ended.
// One query.
func (s *Store) CreditsCurrent(ctx context.Context, kind model.ConversionKind, w model.Window) (bool, time.Time, error) {
	c, known := currentConversionSQL[kind]
	if !known {
		return false, time.Time{}, fmt.Errorf("unknown conversion kind %q", kind)
	}
	cond, args := windowClause(w, c.at)
	vcond, vargs := windowClause(w, "converted_at")
	args = append(append([]any{string(kind)}, args...), string(kind))
	args = append(append(args, vargs...), string(kind))
	var n, value, missing, sn, svalue int64
	var computedAt time.Time
	err := s.r.QueryRowContext(ctx, s.q(`SELECT cur.n, cur.fen, cur.missing, st.n, st.fen, a.computed_at FROM
		(SELECT COUNT(*) AS n, `+s.sumFen(c.value)+` AS fen, COALESCE(SUM(CASE WHEN NOT EXISTS (
			SELECT 1 FROM attribution_conversions v WHERE v.kind = ? AND v.conversion_id = `+c.id+`) THEN 1 ELSE 0 END), 0) AS missing
		FROM `+c.from+` AND `+cond+`) cur
		CROSS JOIN (SELECT COUNT(*) AS n, `+s.sumFen("value_fen")+` AS fen FROM attribution_conversions WHERE kind = ? AND `+vcond+`) st
		CROSS JOIN attribution_state a WHERE a.kind = ?`), args...).Scan(&n, &value, &missing, &sn, &svalue, &computedAt)
	if errors.Is(err, sql.ErrNoRows) { // no run yet
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, err
	}
	return missing == 0 && sn == n && svalue == value, computedAt.UTC(), nil
}

// CreditStamp is what answers computed on request are kept by: when the
// kind's last credit run ended (zero before the first) and the highest
// touchpoint id. One query.
func (s *Store) CreditStamp(ctx context.Context, kind model.ConversionKind) (time.Time, int64, error) {
	var computedAt sql.NullTime
	var maxTouch int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT a.computed_at, (SELECT COALESCE(MAX(id), 0) FROM touchpoints)
		FROM (SELECT 1 AS one) x LEFT JOIN attribution_state a ON a.kind = ?`), string(kind)).Scan(&computedAt, &maxTouch)
	return computedAt.Time.UTC(), maxTouch, err
}

// CreditSum is one roll-up row of stored credits.
type CreditSum struct {
	Key         string // channel; source and medium as "source / medium"; or the id
	Conversions float64
	Fen         float64 // credited value in fen, before rounding
}

// CreditTotals are the conversions of a window as stored.
type CreditTotals struct {
	Conversions     int64
	Value           model.Money
	Uncredited      int64 // without touches
	UncreditedValue model.Money
	Sourced         int64
	SourcedValue    model.Money
	Influenced      int64
	InfluencedValue model.Money
}

// creditDims are the roll-up keys of StoredCredits.
var creditDims = map[string]string{
	"channel":  "t.channel",
	"source":   "t.source, t.medium",
	"campaign": "COALESCE(t.campaign_id, 0)",
	"adgroup":  "COALESCE(t.ad_group_id, k.ad_group_id, 0)",
	"keyword":  "COALESCE(t.keyword_id, 0)",
	"asset":    "COALESCE(t.content_id, 0)",
	"promoter": "COALESCE(t.promoter_id, 0)",
}

// storedConversionsSQL is the conversions of a kind in a window as stored,
// each person's first entry only for mql and sql (as AttributionJourneys);
// orderKind, when not empty, keeps the orders of that kind only.
func storedConversionsSQL(kind model.ConversionKind, w model.Window, orderKind string) (string, []any) {
	cond, args := windowClause(w, "v.converted_at")
	q := `SELECT v.conversion_id, v.value_fen, v.touches, v.sourced, v.influenced FROM attribution_conversions v WHERE v.kind = ? AND ` + cond
	args = append([]any{string(kind)}, args...)
	if kind == model.ConvOrder && orderKind != "" {
		q += ` AND v.conversion_id IN (SELECT id FROM orders WHERE kind = ?)`
		args = append(args, orderKind)
	}
	if kind == model.ConvMQL || kind == model.ConvSQL {
		econd, eargs := windowClause(w, "e.converted_at")
		q += ` AND NOT EXISTS (SELECT 1 FROM attribution_conversions e WHERE e.kind = v.kind AND e.person_id = v.person_id AND ` + econd + `
			AND (e.converted_at < v.converted_at OR (e.converted_at = v.converted_at AND e.conversion_id < v.conversion_id)))`
		args = append(args, eargs...)
	}
	return q, args
}

// StoredCredits sums the stored credits of one model column (an index
// into CreditColumns) over the conversions of a kind in w (for orders,
// of orderKind only unless it is empty), by a dimension: channel (as
// stored with the credits), or source, campaign, adgroup, keyword, asset
// or promoter (as the touchpoints say now).
func (s *Store) StoredCredits(ctx context.Context, kind model.ConversionKind, column int, by string, w model.Window, orderKind string) ([]CreditSum, CreditTotals, error) {
	var tot CreditTotals
	dim, ok := creditDims[by]
	if !ok || column < 0 || column >= NumCreditModels {
		return nil, tot, fmt.Errorf("stored credits: unknown roll-up %q or model column %d", by, column)
	}
	convQ, convArgs := storedConversionsSQL(kind, w, orderKind)
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*), `+s.sumFen("value_fen")+`,
			COALESCE(SUM(CASE WHEN touches = 0 THEN 1 ELSE 0 END), 0), `+s.sumFen("CASE WHEN touches = 0 THEN value_fen ELSE 0 END")+`,
			COALESCE(SUM(sourced), 0), `+s.sumFen("sourced * value_fen")+`, COALESCE(SUM(influenced), 0), `+s.sumFen("influenced * value_fen")+`
		FROM (`+convQ+`) conv`), convArgs...).Scan(&tot.Conversions, &tot.Value, &tot.Uncredited, &tot.UncreditedValue,
		&tot.Sourced, &tot.SourcedValue, &tot.Influenced, &tot.InfluencedValue)
	if err != nil {
		return nil, tot, err
	}
	col := "c." + CreditColumns[column]
	join := `JOIN touchpoints t ON t.id = c.touch_id LEFT JOIN keywords k ON k.id = t.keyword_id`
	if by == "channel" {
		dim, join = "c.channel", ""
	}
	// MATERIALIZED: the first-entry test of mql and sql runs once per
	// conversion, not once per credit row. CROSS JOIN keeps SQLite's loops
	// in this order (conversions outside, their credits by primary key
	// inside); PostgreSQL plans it as the inner join it is.
	q := `WITH conv AS MATERIALIZED (` + convQ + `)
		SELECT ` + dim + `, SUM(` + col + `), SUM(` + col + ` * conv.value_fen)
		FROM conv CROSS JOIN attribution_credits c ` + join + `
		WHERE c.kind = ? AND c.conversion_id = conv.conversion_id
		GROUP BY ` + dim
	args := append(convArgs, string(kind))
	var out []CreditSum
	err = s.each(ctx, q, args, func(r *sql.Rows) error {
		var cs CreditSum
		switch by {
		case "channel":
			if err := r.Scan(&cs.Key, &cs.Conversions, &cs.Fen); err != nil {
				return err
			}
		case "source":
			var src, med string
			if err := r.Scan(&src, &med, &cs.Conversions, &cs.Fen); err != nil {
				return err
			}
			cs.Key = src + " / " + med
			if src == "" && med == "" {
				cs.Key = ""
			}
		default:
			var id int64
			if err := r.Scan(&id, &cs.Conversions, &cs.Fen); err != nil {
				return err
			}
			if id != 0 {
				cs.Key = strconv.FormatInt(id, 10)
			}
		}
		out = append(out, cs)
		return nil
	})
	return out, tot, err
}

// StoredCreditsOf reads a kind's stored conversions and credit rows, in
// key order, for checks and exports.
func (s *Store) StoredCreditsOf(ctx context.Context, kind model.ConversionKind) ([]StoredConversion, []CreditRow, error) {
	var convs []StoredConversion
	err := s.each(ctx, `SELECT conversion_id, COALESCE(person_id, 0), converted_at, value_fen, touches, sourced, influenced, fingerprint, computed_at
		FROM attribution_conversions WHERE kind = ? ORDER BY conversion_id`, []any{string(kind)}, func(r *sql.Rows) error {
		var c StoredConversion
		var sourced, influenced int64
		if err := r.Scan(&c.ID, &c.PersonID, &c.At, &c.Value, &c.Touches, &sourced, &influenced, &c.Fingerprint, &c.ComputedAt); err != nil {
			return err
		}
		c.At, c.ComputedAt = c.At.UTC(), c.ComputedAt.UTC()
		c.Sourced, c.Influenced = sourced != 0, influenced != 0
		convs = append(convs, c)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var rows []CreditRow
	err = s.each(ctx, `SELECT conversion_id, touch_id, channel, `+strings.Join(CreditColumns[:], ", ")+`
		FROM attribution_credits WHERE kind = ? ORDER BY conversion_id, touch_id`, []any{string(kind)}, func(r *sql.Rows) error {
		var c CreditRow
		dst := []any{&c.ConversionID, &c.TouchID, &c.Channel}
		for i := range c.Shares {
			dst = append(dst, &c.Shares[i])
		}
		if err := r.Scan(dst...); err != nil {
			return err
		}
		rows = append(rows, c)
		return nil
	})
	return convs, rows, err
}

// CreditVolume is the size of the stored credits, for the documentation's
// figures and for operators.
func (s *Store) CreditVolume(ctx context.Context) (conversions, credits int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM attribution_conversions), (SELECT COUNT(*) FROM attribution_credits)`).
		Scan(&conversions, &credits)
	return conversions, credits, err
}
