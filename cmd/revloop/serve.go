package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/config"
	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/web"
)

func runServe(ctx context.Context, c *cli, args []string) error {
	var cfg config.Config
	fs := newFlags(c, "serve", "serve [--db DB] [--addr ADDR] [flags]",
		"Serve the collector, JSON API and dashboard. Migrates the database on start.")
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	cfg.BindServer(b)
	cfg.BindLog(b)
	if err := parse(fs, b, args); err != nil {
		return err
	}
	log, err := cfg.Logger(c.stderr)
	if err != nil {
		return usageError{err.Error()}
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	return serve(ctx, c, cfg, s, log, nil)
}

// serve runs the process in its role until ctx ends. ready is called
// with the base URL.
func serve(ctx context.Context, c *cli, cfg config.Config, s *store.Store, log *slog.Logger, ready func(string)) error {
	role, err := app.ParseRole(cfg.Role)
	if err != nil {
		return usageError{"--" + err.Error()}
	}
	box, err := secretBox(cfg.SecretKey, cfg.DB, s, log)
	if err != nil {
		return err
	}
	a, err := app.New(app.Options{Store: s, Role: role, Logger: log, Version: version, Secrets: box,
		JourneySender: c.journeySender, JourneyLease: c.journeyLease})
	if err != nil {
		return err
	}
	srv, err := web.New(web.Options{App: a, InsecureCookies: cfg.InsecureCookies, MetricsToken: cfg.MetricsToken})
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx, cfg.Addr, func(url string) {
		log.Info("revloop is listening", "url", url, "role", role, "db", s.Where(), "engine", s.Dialect().String(), "version", version)
		if ready != nil {
			ready(url)
		}
	})
}

// demoAdminEmail is the login printed by revloop demo.
const demoAdminEmail = "admin@revloop.local"

func runDemo(ctx context.Context, c *cli, args []string) error {
	var cfg config.Config
	var seed int64
	var end string
	var scale float64
	var noServe bool
	fs := newFlags(c, "demo", "demo [--seed N] [--end YYYY-MM-DD] [--db DB] [--addr ADDR] [flags]",
		"Generate 12 months of believable B2B marketing data into a fresh database, then serve it.\n"+
			"Prints the URL, an admin login, an admin API key and a collector write key, one per line.")
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, "")
	cfg.BindServer(b)
	cfg.BindLog(b)
	fs.Int64Var(&seed, "seed", 1, "random seed: the same seed and end date give the same data")
	fs.StringVar(&end, "end", "", "last day of the data, YYYY-MM-DD (default today, UTC)")
	fs.Float64Var(&scale, "scale", 1, "size of the dataset relative to the default (0 < scale <= 10)")
	fs.BoolVar(&noServe, "no-serve", false, "generate, print the database and credentials, and exit")
	if err := parse(fs, b, args); err != nil {
		return err
	}
	if fs.Lookup("db").Value.String() == "" {
		// A fresh file of its own, so that a second run never collides with the first.
		dir, err := os.MkdirTemp("", "revloop-demo-")
		if err != nil {
			return err
		}
		cfg.DB = filepath.Join(dir, "revloop.db")
	}
	endDay := time.Now().UTC()
	if end != "" {
		t, err := time.Parse("2006-01-02", end)
		if err != nil {
			return usageError{fmt.Sprintf("--end %q: want a date like 2026-06-30", end)}
		}
		endDay = t
	}
	if !(scale > 0 && scale <= 10) {
		return usageError{fmt.Sprintf("--scale %v: want a number above 0 and at most 10", scale)}
	}
	log, err := cfg.Logger(c.stderr)
	if err != nil {
		return usageError{err.Error()}
	}

	start := time.Now()
	s, err := generateDemo(ctx, cfg.DB, demo.Options{Seed: seed, End: endDay, Scale: scale})
	if err != nil {
		return err
	}
	defer s.Close()
	log.Info("demo data generated", "db", s.Where(), "seed", seed, "end", endDay.Format("2006-01-02"), "took", time.Since(start).Round(time.Millisecond))

	a := auth.New(s)
	password := auth.GeneratePassword()
	admin, err := a.CreateUser(ctx, demoAdminEmail, "Admin", model.RoleAdmin, password)
	if err != nil {
		return err
	}
	key, _, err := a.CreateUserAPIKey(ctx, admin.ID, "demo admin", model.RoleAdmin)
	if err != nil {
		return err
	}
	wk, err := collect.CreateWriteKey(ctx, s, "demo web site")
	if err != nil {
		return err
	}
	credentials := func(first string) {
		fmt.Fprintln(c.stdout, first)
		fmt.Fprintf(c.stdout, "admin: %s %s\n", demoAdminEmail, password)
		fmt.Fprintf(c.stdout, "api key: %s\n", key)
		fmt.Fprintf(c.stdout, "write key: %s\n", wk.Key)
	}
	if noServe {
		credentials("database: " + s.Where())
		return nil
	}
	return serve(ctx, c, cfg, s, log, func(url string) { credentials(url) })
}

// generateDemo fills a fresh database. A SQLite file is built under a
// temporary name and renamed into place only when complete, so an
// interrupted run leaves no half-written database; on PostgreSQL the load is
// one transaction.
func generateDemo(ctx context.Context, dsn string, opts demo.Options) (*store.Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s, err := openStore(ctx, dsn)
		if err != nil {
			return nil, err
		}
		if _, err := demo.Generate(ctx, s, opts); err != nil {
			s.Close()
			return nil, fmt.Errorf("generate demo data: %w", err)
		}
		return s, nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%s already exists: the demo needs a fresh database (choose another --db or remove the file)", path)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("cannot create %s: directory %s does not exist", path, dir)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".partial-*")
	if err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", path, err)
	}
	tmp := f.Name()
	f.Close()
	cleanup := func() {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(tmp + suffix)
		}
	}
	s, err := openStore(ctx, tmp)
	if err != nil {
		cleanup()
		return nil, err
	}
	_, err = demo.Generate(ctx, s, opts)
	if err == nil {
		err = s.Checkpoint(ctx)
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("generate demo data: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		cleanup()
		return nil, err
	}
	cleanup()
	s, err = store.Open(ctx, path)
	if err != nil {
		return nil, errors.Join(errors.New("reopen the demo database"), err)
	}
	return s, nil
}
