package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// WriteCheck proves that the database takes writes now, for /readyz: it
// commits the heartbeat row. A ping alone answers from a read-only or
// full database too. Unwritable tells its error apart.
func (s *Store) WriteCheck(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO readiness (id, checked_at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`), utc(time.Now()))
	return err
}

// Unwritable reports whether err says the database cannot be written at
// the moment, through no fault of the request: read-only (SQLite's
// SQLITE_READONLY; PostgreSQL's read_only_sql_transaction, a standby or
// default_transaction_read_only) or out of space (SQLITE_FULL;
// PostgreSQL's disk_full and insufficient_resources class).
func Unwritable(err error) bool {
	if err == nil {
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code, without extended bits
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL:
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "25006", pe.Code == "53100", pe.Code == "53000", pe.Code == "57P03":
			// read_only_sql_transaction, disk_full, insufficient_resources,
			// cannot_connect_now (starting up or in recovery)
			return true
		}
	}
	return false
}
