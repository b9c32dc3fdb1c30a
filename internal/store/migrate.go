package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

//go:embed migrations
var migrations embed.FS

// ErrSchemaTooNew means the database was migrated by a newer revloop.
var ErrSchemaTooNew = errors.New("database schema is newer than this revloop")

func (s *Store) provider() (*goose.Provider, error) {
	dir, dialect := "migrations/sqlite", database.DialectSQLite3
	if s.dialect == Postgres {
		dir, dialect = "migrations/postgres", database.DialectPostgres
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, s.w, sub)
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
