package store

import (
	"context"
	"database/sql"
)

// Every multi-row read in the store goes through eachOn (a callback per
// row) or scanAll (a slice of rows); each and idMap are their shorthands on
// the read pool. Queries are written with ? placeholders and rebound here.

// querier runs a query: a pool (s.r, s.w), a transaction or a connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// execer runs a statement: a pool, a transaction or a connection.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// rowScanner is what the scan functions read a row from: a *sql.Row or
// the current row of a *sql.Rows.
type rowScanner = interface{ Scan(...any) error }

// eachOn runs query on q and calls fn for each row, in the query's order,
// stopping at the first error. The rows are closed when it returns, so the
// caller may use q (a transaction) again right away.
func (s *Store) eachOn(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// each is eachOn on the read pool.
func (s *Store) each(ctx context.Context, query string, args []any, fn func(*sql.Rows) error) error {
	return s.eachOn(ctx, s.r, query, args, fn)
}

// scanAll runs query on q and returns its rows as scan reads them, in the
// query's order: nil when there are none, and nil with any error.
func scanAll[T any](ctx context.Context, s *Store, q querier, query string, args []any, scan func(rowScanner) (T, error)) ([]T, error) {
	var out []T
	err := s.eachOn(ctx, q, query, args, func(r *sql.Rows) error {
		v, err := scan(r)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanValue reads a row of one column.
func scanValue[T any](r rowScanner) (T, error) {
	var v T
	err := r.Scan(&v)
	return v, err
}

// orEmpty turns the nil of no rows into an empty list, for lists that
// JSON must show as [] rather than null.
func orEmpty[T any](out []T, err error) ([]T, error) {
	if out == nil && err == nil {
		out = []T{}
	}
	return out, err
}

// idMap reads a query of (id, value) rows on the read pool into a map.
func idMap[T any](ctx context.Context, s *Store, query string, args ...any) (map[int64]T, error) {
	out := map[int64]T{}
	err := s.each(ctx, query, args, func(r *sql.Rows) error {
		var id int64
		var v T
		if err := r.Scan(&id, &v); err != nil {
			return err
		}
		out[id] = v
		return nil
	})
	return out, err
}
