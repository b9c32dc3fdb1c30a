package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/revloop/revloop/internal/config"
	"github.com/revloop/revloop/internal/importer"
	"github.com/revloop/revloop/internal/store"
)

func runImport(ctx context.Context, c *cli, args []string) error {
	return subcommands(c, "import", args, map[string]func([]string) error{
		"costs":  func(args []string) error { return importFile(ctx, c, "costs", args) },
		"events": func(args []string) error { return importFile(ctx, c, "events", args) },
	}, "Import CSV files: daily ad costs from Baidu, Ocean Engine, Tencent Ads, Google Ads, LinkedIn or the generic\n"+
		"layout (costs), and offline registrations, check-ins and badge scans (events). A file with a bad row stores\n"+
		"nothing; a good one is stored in chunks, and one stopped part way is finished by importing it again. Importing\n"+
		"a file again changes nothing. One import runs at a time. See docs/imports.md for the layouts.")
}

// parseWithFile parses flags around one FILE argument ("-" for standard input).
func parseWithFile(fs *flag.FlagSet, b *config.Binder, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return "", err
		}
		return "", usageError{fmt.Sprintf("%v (run '%s -h' for help)", err, fs.Name())}
	}
	if fs.NArg() == 0 {
		return "", usageError{fmt.Sprintf("missing FILE (run '%s -h' for help)", fs.Name())}
	}
	file := fs.Arg(0)
	return file, parse(fs, b, fs.Args()[1:])
}

func importFile(ctx context.Context, c *cli, kind string, args []string) error {
	var cfg config.Config
	var tz string
	var create bool
	usage := "import " + kind + " FILE.csv [--create-campaigns] [--db DB]"
	summary := "Import daily ad spend, impressions and clicks by platform, account, campaign, ad group and keyword.\n" +
		"The layout (Baidu, Ocean Engine, Tencent Ads, Google Ads, LinkedIn, generic) is found from the header;\n" +
		"UTF-8, UTF-16 and GBK files are read. FILE - reads standard input. A campaign is found by platform and\n" +
		"name, else by code or name in any case; one found by neither is a bad row unless --create-campaigns."
	if kind == "events" {
		usage = "import events FILE.csv [--tz +08:00] [--create-campaigns] [--db DB]"
		summary = "Import offline touches: one row per person and event (registered, checked_in, badge_scan, attended)\n" +
			"with a time, a campaign code and an email, phone, wechat_unionid or user_id. FILE - reads standard input."
	}
	fs := newFlags(c, "import "+kind, usage, summary)
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	if kind == "events" {
		fs.StringVar(&tz, "tz", "+08:00", "UTC offset of times written without one, e.g. +08:00 or Z")
		fs.BoolVar(&create, "create-campaigns", false, "create campaigns the file names that match none by code or name (as offline events)")
	} else {
		fs.BoolVar(&create, "create-campaigns", false, "create campaigns the file names that match none by code or name, in the channel\n"+
			"their platform implies (search engines paid search, feeds and social networks paid social)")
	}
	file, err := parseWithFile(fs, b, args)
	if err != nil {
		return err
	}
	loc := importer.ChinaStandardTime
	if kind == "events" {
		if loc, err = parseOffset(tz); err != nil {
			return usageError{err.Error()}
		}
	}
	src, name, cleanup, err := openImportFile(c, file)
	if err != nil {
		return err
	}
	defer cleanup()
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	im := &importer.Importer{Store: s, Location: loc, CreateCampaigns: create, Actor: "cli"}
	run, res, err := im.Start(ctx, kind, filepath.Base(name), src)
	var busy *store.JobBusyError
	if errors.As(err, &busy) {
		return fmt.Errorf("%s: another import is running (%v); import the file when it has ended", name, busy)
	}
	if err == nil && run != nil {
		res, err = run.Do(ctx)
		if err != nil && !errors.As(err, new(*importer.BadRowsError)) && !errors.As(err, new(importer.InputError)) {
			err = fmt.Errorf("%w (job %d; what was stored is kept: import the same file again to finish it)", err, run.JobID)
		}
	}
	var bad *importer.BadRowsError
	if errors.As(err, &bad) {
		for _, r := range bad.Rows {
			fmt.Fprintf(c.stderr, "%s: %s\n", name, r)
		}
		if more := bad.Total - len(bad.Rows); more > 0 {
			fmt.Fprintf(c.stderr, "%s: and %d more bad rows\n", name, more)
		}
		return fmt.Errorf("%s: %d bad row(s), nothing imported; fix them and import the file again", name, bad.Total)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if res.AlreadyImported {
		fmt.Fprintf(c.stdout, "%s was already imported on %s (import %d, as %s): nothing changed\n",
			name, res.CreatedAt.Format(time.RFC3339), res.ID, res.FileName)
		return nil
	}
	for _, n := range res.Notes {
		fmt.Fprintf(c.stdout, "note: %s\n", n)
	}
	if kind == "costs" {
		fmt.Fprintf(c.stdout, "imported %s (%s layout, %s): %d rows new, %d updated, %d unchanged, %d skipped\n",
			name, res.Layout, res.Encoding, res.RowsNew, res.RowsUpdated, res.RowsSame, res.RowsSkipped)
	} else {
		fmt.Fprintf(c.stdout, "imported %s (%s): %d rows new, %d already stored\n", name, res.Encoding, res.RowsNew, res.RowsSame)
	}
	return nil
}

// openImportFile opens FILE for an import, which reads it more than once:
// standard input is first copied to a temporary file (at most
// importer.MaxFileBytes).
func openImportFile(c *cli, file string) (io.ReadSeeker, string, func(), error) {
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, "", nil, err
		}
		return f, file, func() { f.Close() }, nil
	}
	f, err := os.CreateTemp("", "revloop-import-*.csv")
	if err != nil {
		return nil, "", nil, err
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, io.LimitReader(c.stdin, importer.MaxFileBytes+1))
	if err != nil {
		cleanup()
		return nil, "", nil, fmt.Errorf("read stdin: %w", err)
	}
	if n > importer.MaxFileBytes {
		cleanup()
		return nil, "", nil, fmt.Errorf("stdin is over %d MiB: split it", importer.MaxFileBytes>>20)
	}
	return f, "stdin", cleanup, nil
}

// parseOffset reads a UTC offset such as +08:00, -05:00 or Z.
func parseOffset(s string) (*time.Location, error) {
	if s == "Z" || s == "UTC" {
		return time.UTC, nil
	}
	t, err := time.Parse("-07:00", s)
	if err != nil {
		return nil, fmt.Errorf("--tz %q: want an offset such as +08:00", s)
	}
	_, off := t.Zone()
	return time.FixedZone(s, off), nil
}
