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
)

func runImport(ctx context.Context, c *cli, args []string) error {
	return subcommands(c, "import", args, map[string]func([]string) error{
		"costs":  func(args []string) error { return importFile(ctx, c, "costs", args) },
		"events": func(args []string) error { return importFile(ctx, c, "events", args) },
	}, "Import CSV files: daily ad costs from Baidu, Ocean Engine, Tencent Ads, Google Ads, LinkedIn or the generic\n"+
		"layout (costs), and offline registrations, check-ins and badge scans (events). A file goes in whole or not at all;\n"+
		"importing it again changes nothing. See docs/imports.md for the layouts.")
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
	data, name, err := readImportFile(c, file)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	im := &importer.Importer{Store: s, Location: loc, CreateCampaigns: create}
	var res importer.Result
	if kind == "costs" {
		res, err = im.Costs(ctx, filepath.Base(name), data)
	} else {
		res, err = im.Events(ctx, filepath.Base(name), data)
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

func readImportFile(c *cli, file string) ([]byte, string, error) {
	var r io.Reader
	name := file
	if file == "-" {
		r, name = c.stdin, "stdin"
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, importer.MaxFileBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > importer.MaxFileBytes {
		return nil, "", fmt.Errorf("%s is over %d MiB: split it", name, importer.MaxFileBytes>>20)
	}
	return data, name, nil
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
