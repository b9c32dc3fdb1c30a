package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/config"
	"github.com/revloop/revloop/internal/store"
)

func runWriteKey(ctx context.Context, c *cli, args []string) error {
	return subcommands(c, "writekey", args, map[string]func([]string) error{
		"create": func(args []string) error { return writekeyCreate(ctx, c, args) },
		"list":   func(args []string) error { return writekeyList(ctx, c, args) },
		"revoke": func(args []string) error { return writekeyRevoke(ctx, c, args) },
	}, "Manage collector write keys (the key a website or server SDK sends events with).")
}

func writekeyCreate(ctx context.Context, c *cli, args []string) error {
	var cfg config.Config
	var name string
	var server bool
	fs := newFlags(c, "writekey create", "writekey create --name NAME [--server] [--db DB]",
		"Create a write key for a source of events (a website, an app, a server). The key is printed as the last line.\n"+
			"Write keys are public by nature (they sit in web pages); revoke one to stop its intake.\n"+
			"A --server key is for a backend only: its identify calls may give a known person a new email or phone.")
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	fs.StringVar(&name, "name", "", "what sends with the key, e.g. www.example.cn (required)")
	fs.BoolVar(&server, "server", false, "a server key: never put it in a web page or an app")
	if err := parse(fs, b, args); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return usageError{"--name is required"}
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	k, err := collect.CreateWriteKeyOf(ctx, s, name, server)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created %s write key %d %q:\n%s\n", keyKind(k.Server), k.ID, k.Name, k.Key)
	return nil
}

func writekeyList(ctx context.Context, c *cli, args []string) error {
	return storeCommand{name: "writekey list", usage: "writekey list [--db DB]", summary: "List write keys, newest first.",
		run: func(s *store.Store) error {
			keys, err := s.WriteKeys(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tKEY\tKIND\tCREATED\tSTATUS")
			for _, k := range keys {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Key, keyKind(k.Server), k.CreatedAt.Format(time.RFC3339), keyStatus(k.RevokedAt))
			}
			return tw.Flush()
		}}.exec(ctx, c, args)
}

func writekeyRevoke(ctx context.Context, c *cli, args []string) error {
	var id string
	var n int64
	return storeCommand{name: "writekey revoke", usage: "writekey revoke --id ID [--db DB]",
		summary: "Revoke a write key: the collector answers 401 to it from then on (within 10 s on running servers). Stored events stay.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&id, "id", "", "id of the key, as writekey list shows (required)")
		},
		check: func() (err error) { n, err = idFlag("id", id); return err },
		run: func(s *store.Store) error {
			if err := s.RevokeWriteKey(ctx, n, time.Now()); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no write key with id %d", n)
				}
				return err
			}
			fmt.Fprintf(c.stdout, "revoked write key %d\n", n)
			return nil
		}}.exec(ctx, c, args)
}

func keyKind(server bool) string {
	if server {
		return "server"
	}
	return "browser"
}
