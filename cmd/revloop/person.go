package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/config"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

func runPerson(ctx context.Context, c *cli, args []string) error {
	return subcommands(c, "person", args, map[string]func([]string) error{
		"erase":  func(args []string) error { return personErase(ctx, c, args) },
		"export": func(args []string) error { return personExport(ctx, c, args) },
	}, "Exercise a person's privacy rights: erase everything held about them, or export it (docs/privacy.md).")
}

// personCommand parses "[flags] ID" and opens the migrated store.
func personCommand(ctx context.Context, c *cli, name, summary string, args []string, extra func(*flag.FlagSet)) (*store.Store, int64, error) {
	var cfg config.Config
	fs := newFlags(c, "person "+name, "person "+name+" [--db DB] [flags] ID", summary)
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	if extra != nil {
		extra(fs)
	}
	// The id comes last, after the flags.
	raw := ""
	if n := len(args); n > 0 && !strings.HasPrefix(args[n-1], "-") {
		raw, args = args[n-1], args[:n-1]
	}
	if err := parse(fs, b, args); err != nil {
		return nil, 0, err
	}
	if raw == "" {
		return nil, 0, usageError{fmt.Sprintf("give the person's id (run 'revloop person %s -h' for help)", name)}
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, 0, usageError{fmt.Sprintf("person id %q: want a positive number", clipArg(raw))}
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return nil, 0, err
	}
	return s, id, nil
}

func clipArg(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func personErrorText(id int64, err error) error {
	var merged store.ErrMerged
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("no person %d", id)
	case errors.As(err, &merged):
		return fmt.Errorf("person %d was merged into person %d: erase person %d", id, merged.Into, merged.Into)
	}
	return err
}

func personErase(ctx context.Context, c *cli, args []string) error {
	var by string
	s, id, err := personCommand(ctx, c, "erase",
		"Erase a person and the persons merged into it: events, identities, touchpoints, traits, history, scores,\n"+
			"credits, activities and assignments. Their identifiers are suppressed so that they are not collected\n"+
			"again; opportunities stay on the account without them. Prints the receipt (also the result of a\n"+
			"person.erase job). A running server's collector applies the suppression within its settings refresh.", args,
		func(fs *flag.FlagSet) {
			fs.StringVar(&by, "by", "", "who asks for the erasure, for the receipt (e.g. your email)")
		})
	if err != nil {
		return err
	}
	defer s.Close()
	if into, err := s.PersonRef(ctx, id); err != nil {
		return personErrorText(id, err)
	} else if into != 0 {
		return personErrorText(id, store.ErrMerged{Into: into})
	}
	actor := "cli"
	if by = strings.TrimSpace(by); by != "" {
		actor = "cli: " + clipArg(by)
	}
	j, err := s.CreateJob(ctx, model.Job{Kind: "person.erase", State: model.JobRunning, LockName: fmt.Sprintf("person.erase:%d", id),
		Subject: fmt.Sprint(id), ProgressUnit: "persons", ProgressTotal: 1, CreatedBy: actor})
	if err != nil {
		return err
	}
	rc, err := s.ErasePerson(ctx, id, actor, time.Now())
	if err != nil {
		_ = s.FinishJob(ctx, j.ID, nil, err)
		return personErrorText(id, err)
	}
	_ = s.SetJobProgress(ctx, j.ID, 1, 1)
	if err := s.FinishJob(ctx, j.ID, rc, nil); err != nil {
		return err
	}
	// The credits of the account's conversions without the person's touches.
	if _, err := credits.Recompute(ctx, s, credits.Incremental, time.Now()); err != nil {
		fmt.Fprintf(c.stderr, "revloop: person %d erased; recomputing the attribution credits failed (a running server retries): %v\n", id, err)
	}
	out, _ := json.MarshalIndent(map[string]any{"job_id": j.ID, "receipt": rc}, "", "  ")
	fmt.Fprintf(c.stdout, "%s\n", out)
	return nil
}

func personExport(ctx context.Context, c *cli, args []string) error {
	s, id, err := personCommand(ctx, c, "export",
		"Write everything held about a person as JSON to standard output (the same as GET /api/v1/persons/ID/export).", args, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.ExportPerson(ctx, id, c.stdout); err != nil {
		return personErrorText(id, err)
	}
	return nil
}
