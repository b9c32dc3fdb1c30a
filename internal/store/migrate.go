package store

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing/fstest"
	"text/template"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds one template per schema version, rendered for each
// dialect (see templateFuncs). A version whose steps differ by engine
// altogether has NNNNN_name-sqlite.sql and NNNNN_name-postgres.sql instead.
//
//go:embed migrations/*.sql
var migrations embed.FS

// ErrSchemaTooNew means the database was migrated by a newer revloop.
var ErrSchemaTooNew = errors.New("database schema is newer than this revloop")

func (s *Store) provider() (*goose.Provider, error) {
	dialect := database.DialectSQLite3
	if s.dialect == Postgres {
		dialect = database.DialectPostgres
	}
	files, err := renderMigrations(s.dialect)
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	if s.dialect == Postgres {
		// Nodes that start together on a new release migrate one at a
		// time: the first applies, the others find nothing to do.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, s.w, files, opts...)
}

// WithAdvisoryLock runs fn while holding an exclusive lock of name on the
// database, for work that nodes must do one at a time (the job queue's
// migrations). On SQLite, which has one writer, it just runs fn.
func (s *Store) WithAdvisoryLock(ctx context.Context, name string, fn func() error) error {
	if s.dialect != Postgres {
		return fn()
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext($1))", name); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext($1))", name)
	return fn()
}

// templateFuncs are what a migration template writes where the engines
// differ. The names they render to are those the separate SQLite and
// PostgreSQL migrations used before there was one source, so that the
// schema of a database migrated back then is what a new one gets.
func templateFuncs(d Dialect) template.FuncMap {
	pg := d == Postgres
	pick := func(sqlite, postgres string) string {
		if pg {
			return postgres
		}
		return sqlite
	}
	return template.FuncMap{
		// id is an auto-assigned 64-bit primary key: SQLite's rowid, a
		// PostgreSQL sequence.
		"id":        func() string { return pick("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY") },
		"timestamp": func() string { return pick("DATETIME", "TIMESTAMPTZ") },
		"blob":      func() string { return pick("BLOB", "BYTEA") },
		// bool is a boolean literal; SQLite stores booleans as 0 and 1.
		"bool": func(b bool) string {
			if b {
				return pick("1", "TRUE")
			}
			return pick("0", "FALSE")
		},
		"sqlite": func(sql string) string { return pick(sql, "") },
		"psql":   func(sql string) string { return pick("", sql) },
	}
}

// renderMigrations renders the migrations for d into the files goose reads,
// named NNNNN_name.sql.
func renderMigrations(d Dialect) (fs.FS, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	out := fstest.MapFS{}
	for _, e := range entries {
		name := e.Name()
		base := strings.TrimSuffix(name, ".sql")
		if b, ok := strings.CutSuffix(base, "-"+d.String()); ok {
			base = b
		} else if strings.HasSuffix(base, "-"+SQLite.String()) || strings.HasSuffix(base, "-"+Postgres.String()) {
			continue // the other engine's
		}
		target := base + ".sql"
		if _, dup := out[target]; dup {
			return nil, fmt.Errorf("migration %s: more than one file for %s", name, d)
		}
		src, err := fs.ReadFile(migrations, path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		t, err := template.New(name).Funcs(templateFuncs(d)).Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, nil); err != nil {
			return nil, fmt.Errorf("migration %s for %s: %w", name, d, err)
		}
		out[target] = &fstest.MapFile{Data: buf.Bytes(), Mode: 0o444}
	}
	return out, nil
}

// SchemaVersion reports the database's schema version and the newest version
// this binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, err
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		latest = srcs[len(srcs)-1].Version
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, latest, fmt.Errorf("read schema version: %w", err)
	}
	return current, latest, nil
}

// Migrate brings the schema up to date. Each migration runs in its own
// transaction, so a failure leaves the database at the last good version.
// A database from a newer revloop is refused rather than touched.
func (s *Store) Migrate(ctx context.Context) error {
	current, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("%w: the database is at version %d, this binary knows up to %d; upgrade revloop", ErrSchemaTooNew, current, latest)
	}
	p, err := s.provider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", s.where, err)
	}
	return nil
}
