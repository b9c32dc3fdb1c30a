package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Loader inserts many rows fast. Rows carry explicit ids, so a generator can
// link rows without reading ids back.
type Loader interface {
	Insert(table string, cols []string, rows [][]any) error
}

// ErrNotEmpty means a bulk load was asked of a database that already holds data.
var ErrNotEmpty = errors.New("database already holds data")

// tablesWithIDs are the tables whose id sequences need moving past
// explicitly loaded ids on PostgreSQL.
var tablesWithIDs = []string{"users", "api_keys", "accounts", "campaigns", "ad_groups", "keywords",
	"content_assets", "persons", "touchpoints", "daily_costs", "opportunities", "orders", "stage_changes", "tasks",
	"routing_rule_sets", "lifecycle_rule_sets", "assignments", "activities", "tracked_links"}

// Empty reports whether the database holds no business data (users and
// keys do not count).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM persons) + (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM campaigns)`).Scan(&n)
	return n == 0, err
}

// Load runs fn in one transaction: either everything it inserts is there
// afterwards, or nothing is. It refuses a database that already has data.
// PostgreSQL loads with COPY; SQLite with prepared multi-row INSERTs. The
// person roll-ups are marked for every day (the loaded rows may carry any
// ids and times).
func (s *Store) Load(ctx context.Context, fn func(Loader) error) error {
	empty, err := s.Empty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return fmt.Errorf("%w: %s; load into a fresh database", ErrNotEmpty, s.where)
	}
	fn = func(fn func(Loader) error) func(Loader) error {
		return func(l Loader) error {
			if err := fn(l); err != nil {
				return err
			}
			return l.Insert("rollup_dirty", []string{"name", "day"}, dirtyRows(personRollups, []time.Time{rollupAllDays()}))
		}
	}(fn)
	if s.dialect == Postgres {
		err = s.loadPostgres(ctx, fn)
	} else {
		err = s.loadSQLite(ctx, fn)
	}
	if err != nil {
		return err
	}
	// The loaded decisions get their owner kept, the loaded persons the
	// time of their latest assignment (a fresh database: nothing else
	// writes meanwhile).
	if _, err := s.w.ExecContext(ctx, `UPDATE persons SET last_assigned_at = (SELECT MAX(a.assigned_at) FROM assignments a WHERE a.person_id = persons.id)
		WHERE id IN (SELECT person_id FROM assignments)`); err != nil {
		return err
	}
	return s.SettleDecisionOwners(ctx)
}

func (s *Store) loadSQLite(ctx context.Context, fn func(Loader) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// A bulk load touches every index page many times over: a page
		// cache of 256 MiB (instead of SQLite's 2 MiB) keeps them in memory
		// for the transaction, on the one writer connection, and gives it
		// back afterwards.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", loadCacheKiB)); err != nil {
			return err
		}
		defer tx.ExecContext(ctx, "PRAGMA cache_size = -2000")
		return fn(&sqliteLoader{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}})
	})
}

// loadCacheKiB is SQLite's page cache during a bulk load.
const loadCacheKiB = 256 << 10

type sqliteLoader struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// sqliteBatch keeps a statement's variables well under SQLite's limit.
const sqliteBatch = 256

func (l *sqliteLoader) stmt(table string, cols []string, n int) (*sql.Stmt, error) {
	key := fmt.Sprintf("%s/%s/%d", table, strings.Join(cols, ","), n)
	if st, ok := l.stmts[key]; ok {
		return st, nil
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	query := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(one+",", n), ",")
	st, err := l.tx.PrepareContext(l.ctx, query)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", table, err)
	}
	l.stmts[key] = st
	return st, nil
}

func (l *sqliteLoader) Insert(table string, cols []string, rows [][]any) error {
	args := make([]any, 0, sqliteBatch*len(cols))
	for start := 0; start < len(rows); start += sqliteBatch {
		end := min(start+sqliteBatch, len(rows))
		st, err := l.stmt(table, cols, end-start)
		if err != nil {
			return err
		}
		args = args[:0]
		for _, r := range rows[start:end] {
			if len(r) != len(cols) {
				return fmt.Errorf("load %s: row has %d values for %d columns", table, len(r), len(cols))
			}
			args = append(args, normalise(r)...)
		}
		if _, err := st.ExecContext(l.ctx, args...); err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
	}
	return nil
}

func (s *Store) loadPostgres(ctx context.Context, fn func(Loader) error) error {
	return s.withPgxTx(ctx, func(tx pgx.Tx) error {
		if err := fn(&pgLoader{ctx: ctx, tx: tx}); err != nil {
			return err
		}
		for _, t := range tablesWithIDs {
			if _, err := tx.Exec(ctx, fmt.Sprintf(
				`SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)`, t, t)); err != nil {
				return fmt.Errorf("reset %s id sequence: %w", t, err)
			}
		}
		return nil
	})
}

type pgLoader struct {
	ctx context.Context
	tx  pgx.Tx
}

func (l *pgLoader) Insert(table string, cols []string, rows [][]any) error {
	for i, r := range rows {
		if len(r) != len(cols) {
			return fmt.Errorf("load %s: row %d has %d values for %d columns", table, i, len(r), len(cols))
		}
		normaliseInPlace(r)
	}
	_, err := l.tx.CopyFrom(l.ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	return nil
}

// normalise applies the storage rules to loaded values: times in UTC at
// microsecond precision, pointers dereferenced.
func normalise(r []any) []any {
	normaliseInPlace(r)
	return r
}
