// Package store is the one place revloop talks SQL. It opens SQLite (the
// embedded default) or PostgreSQL (production), applies the embedded
// migrations of the right dialect, and offers typed methods to every other
// package. Queries are written once with `?` placeholders and rebound for
// PostgreSQL; a dialect-specific variant exists only where the engines differ.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	_ "modernc.org/sqlite"           // registers the "sqlite" driver
)

// Dialect is the SQL engine behind a Store.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Store holds the database handles. With SQLite, writes go through a pool of
// exactly one connection (SQLite allows one writer at a time, and queueing in
// Go is cheaper than retrying on "database is locked"), reads through a
// separate pool. With PostgreSQL both are the same pool.
type Store struct {
	dialect Dialect
	w       *sql.DB
	r       *sql.DB
	where   string // the database, with any password removed, for messages

	// writerStmts are statements prepared once on SQLite's one writer
	// connection, for event processing: parsing its long statements anew
	// in every transaction cost more than running them.
	writerStmts struct {
		sync.Mutex
		m map[string]*sql.Stmt
	}

	// journeyCache holds the live journeys' triggers (journeys.go).
	journeyCache journeyTriggerCache

	// searchCaps, when set (by tests), replace searchCandidateCap and
	// searchAccountsInline.
	searchCaps *[2]int
}

// WALSizeLimit is SQLite's journal_size_limit: the size in bytes the
// write-ahead log is cut back to after a checkpoint.
const WALSizeLimit = 64 << 20

// maxWriterStmts bounds the prepared statements kept (the processing
// statements are a fixed set of a few dozen).
const maxWriterStmts = 200

// writerStmt is query's statement prepared on the writer pool, or nil
// when it is not prepared yet.
func (s *Store) writerStmt(query string) *sql.Stmt {
	s.writerStmts.Lock()
	defer s.writerStmts.Unlock()
	return s.writerStmts.m[query]
}

// prepareWriterStmts prepares queries on the writer pool for later
// transactions. It must run outside a transaction (SQLite's one writer
// connection is busy during one), and holds no lock while it waits for
// the connection.
func (s *Store) prepareWriterStmts(ctx context.Context, queries []string) {
	for _, q := range queries {
		s.writerStmts.Lock()
		_, have := s.writerStmts.m[q]
		full := len(s.writerStmts.m) >= maxWriterStmts
		s.writerStmts.Unlock()
		if have || full {
			continue
		}
		st, err := s.w.PrepareContext(ctx, s.q(q))
		if err != nil {
			continue // prepared per transaction instead
		}
		s.writerStmts.Lock()
		if s.writerStmts.m == nil {
			s.writerStmts.m = map[string]*sql.Stmt{}
		}
		if _, have := s.writerStmts.m[q]; have {
			st.Close()
		} else {
			s.writerStmts.m[q] = st
		}
		s.writerStmts.Unlock()
	}
}

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// Open connects to dsn: a postgres:// or postgresql:// URL, or a SQLite file
// path (optionally prefixed with sqlite:// or file:). It checks that the
// database answers; it does not migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		return nil, errors.New("no database given: set --db or REVLOOP_DB to a SQLite file path or a postgres:// URL")
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	if i := strings.Index(dsn, "://"); i > 0 && !strings.HasPrefix(dsn, "sqlite://") && !strings.HasPrefix(dsn, "file://") {
		return nil, fmt.Errorf("unsupported database %q: use a SQLite file path or a postgres:// URL", redact(dsn))
	}
	path := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file://"), "file:")
	return openSQLite(ctx, path)
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("malformed database URL: %v", err)
	}
	where := redact(dsn)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", where, err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s: %s", u.Host, firstLine(err))
	}
	return &Store{dialect: Postgres, w: db, r: db, where: where}, nil
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("empty SQLite path")
	}
	if path != ":memory:" {
		dir := filepath.Dir(path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("cannot open SQLite database %s: directory %s does not exist", path, dir)
		}
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			return nil, fmt.Errorf("cannot open SQLite database %s: it is a directory", path)
		}
	}
	// busy_timeout first, so that the other pragmas already wait for locks.
	// page_size only takes effect when the file is created (before WAL is
	// switched on): 16 KiB pages suit the wide, append-heavy event rows.
	// journal_size_limit bounds the write-ahead log: once checkpointed
	// (automatically after each big enough commit, and by the periodic
	// Checkpoint), a log grown by an import is cut back to 64 MiB instead of
	// keeping its peak size on disk.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=page_size(16384)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)" +
		"&_pragma=journal_size_limit(" + strconv.Itoa(WALSizeLimit) + ")"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("cannot open SQLite database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("cannot open SQLite database %s: %s", path, firstLine(err))
	}
	// A file that is not a SQLite database only shows itself on first read.
	var n int
	if err := w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		w.Close()
		return nil, fmt.Errorf("cannot open SQLite database %s: %s", path, firstLine(err))
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("cannot open SQLite database %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	r.SetConnMaxIdleTime(0)
	return &Store{dialect: SQLite, w: w, r: r, where: path}, nil
}

// Close releases both pools.
func (s *Store) Close() error {
	s.writerStmts.Lock()
	for _, st := range s.writerStmts.m {
		st.Close()
	}
	s.writerStmts.m = nil
	s.writerStmts.Unlock()
	err := s.w.Close()
	if s.r != s.w {
		if rerr := s.r.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// Dialect says which engine this store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Where names the database for log lines, without credentials.
func (s *Store) Where() string { return s.where }

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return err
	}
	if s.r != s.w {
		return s.r.PingContext(ctx)
	}
	return nil
}

// q rebinds a query written with ? placeholders for the store's dialect.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	return rebind(query)
}

// rebind turns ? into $1, $2, ... outside of quoted strings.
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// inTx runs fn in one write transaction, committing only if fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// inConnTx is inTx on PostgreSQL with the transaction's connection at
// hand (for COPY inside it); on SQLite conn is nil.
func (s *Store) inConnTx(ctx context.Context, fn func(conn *sql.Conn, tx *sql.Tx) error) error {
	if s.dialect != Postgres {
		return s.inTx(ctx, func(tx *sql.Tx) error { return fn(nil, tx) })
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(conn, tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// withPgxTx runs fn in a pgx transaction on a connection of the writer
// pool, for what database/sql cannot do (COPY). The transaction commits
// when fn returns nil and rolls back otherwise. PostgreSQL only.
func (s *Store) withPgxTx(ctx context.Context, fn func(pgx.Tx) error) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected PostgreSQL driver connection %T", dc)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// insertID runs an INSERT and returns the new row's id on both engines.
func (s *Store) insertID(ctx context.Context, ex interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, query string, args ...any) (int64, error) {
	var id int64
	err := ex.QueryRowContext(ctx, s.q(query+" RETURNING id"), args...).Scan(&id)
	return id, err
}

// utc normalises a time for storage: UTC, microsecond precision (what
// PostgreSQL keeps), so that a value reads back equal on both engines.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullID stores 0 as NULL for optional references.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Checkpoint folds SQLite's write-ahead log into the main file and
// truncates the log, so that the file alone is the whole database (before
// it is moved or copied) and the log does not keep the size of the last
// import; it runs every few minutes. Readers still on an
// older snapshot make it stop short without an error; the next run
// finishes. It does nothing on PostgreSQL.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	_, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
