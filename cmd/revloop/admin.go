package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/config"
	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// openStore opens the database and brings its schema up to date, the job
// queue's tables included. A database from a newer revloop is refused
// before anything is written.
func openStore(ctx context.Context, dsn string) (*store.Store, error) {
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := jobs.Migrate(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func runMigrate(ctx context.Context, c *cli, args []string) error {
	return storeCommand{name: "migrate", usage: "migrate [--db DB]",
		summary: "Apply the embedded schema migrations (also done by serve on start).",
		run: func(s *store.Store) error {
			cur, _, err := s.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s database %s is at schema version %d\n", s.Dialect(), s.Where(), cur)
			return nil
		}}.exec(ctx, c, args)
}

func runVersion(_ context.Context, c *cli, args []string) error {
	fs := newFlags(c, "version", "version", "Print the version of this binary.")
	if err := parse(fs, nil, args); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "revloop %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func runUser(ctx context.Context, c *cli, args []string) error {
	return subcommands(c, "user", args, map[string]func([]string) error{
		"create":          func(args []string) error { return userCreate(ctx, c, args) },
		"list":            func(args []string) error { return userList(ctx, c, args) },
		"disable":         func(args []string) error { return userDisable(ctx, c, args) },
		"enable":          func(args []string) error { return userEnable(ctx, c, args) },
		"passwd":          func(args []string) error { return userPasswd(ctx, c, args) },
		"revoke-sessions": func(args []string) error { return userRevokeSessions(ctx, c, args) },
	}, "Manage the people who log in to revloop.")
}

func userCreate(ctx context.Context, c *cli, args []string) error {
	var cfg config.Config
	var email, name, role string
	fs := newFlags(c, "user create", "user create --email EMAIL --role admin|marketer|sales|viewer [--name NAME] [--db DB]",
		"Create a user. The password is read from standard input when it is piped in; otherwise one is generated and printed.")
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	fs.StringVar(&email, "email", "", "email address the user logs in with (required)")
	fs.StringVar(&role, "role", "", "admin, marketer, sales or viewer (required)")
	fs.StringVar(&name, "name", "", "display name")
	if err := parse(fs, b, args); err != nil {
		return err
	}
	if email == "" {
		return usageError{"--email is required"}
	}
	r, err := model.ParseRole(role)
	if err != nil {
		return usageError{err.Error()}
	}
	if _, err := auth.NormaliseEmail(email); err != nil {
		return usageError{err.Error()}
	}
	password, generated, err := c.readPassword()
	if err != nil {
		return err
	}
	if err := auth.CheckNewPassword(password, email); err != nil {
		return err
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := auth.New(s).CreateUser(ctx, email, name, r, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created user %s (%s), id %d\n", u.Email, u.Role, u.ID)
	if generated {
		fmt.Fprintf(c.stdout, "password: %s\n", password)
	}
	return nil
}

// readPassword takes the first line of a piped standard input, or generates
// a password when standard input is a terminal or empty.
func (c *cli) readPassword() (password string, generated bool, err error) {
	terminal := false
	if c.stdinIsTerminal != nil {
		terminal = *c.stdinIsTerminal
	} else if f, ok := c.stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	if !terminal && c.stdin != nil {
		line, err := bufio.NewReader(io.LimitReader(c.stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fmt.Errorf("read password from standard input: %w", err)
		}
		if p := strings.TrimRight(line, "\r\n"); p != "" {
			return p, false, nil
		}
	}
	return auth.GeneratePassword(), true, nil
}

func userList(ctx context.Context, c *cli, args []string) error {
	return storeCommand{name: "user list", usage: "user list [--db DB]", summary: "List users.",
		run: func(s *store.Store) error {
			users, err := s.Users(ctx, "")
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tTERRITORY\tSTATUS")
			for _, u := range users {
				status := "active"
				if u.DisabledAt != nil {
					status = "disabled " + u.DisabledAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role, u.Territory, status)
			}
			return tw.Flush()
		}}.exec(ctx, c, args)
}

func runAPIKey(ctx context.Context, c *cli, args []string) error {
	return subcommands(c, "apikey", args, map[string]func([]string) error{
		"create": func(args []string) error { return apikeyCreate(ctx, c, args) },
		"list":   func(args []string) error { return apikeyList(ctx, c, args) },
		"revoke": func(args []string) error { return apikeyRevoke(ctx, c, args) },
	}, "Manage keys for the JSON API (Authorization: Bearer <key>).")
}

func apikeyCreate(ctx context.Context, c *cli, args []string) error {
	var cfg config.Config
	var name, role, owner string
	fs := newFlags(c, "apikey create", "apikey create --name NAME --role admin|marketer|sales|viewer [--user EMAIL] [--db DB]",
		"Create an API key. It acts for its user, with at most their role, and stops working when they are disabled. The key is printed once, as the last line; only its hash is stored.")
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	fs.StringVar(&name, "name", "", "what the key is for (required)")
	fs.StringVar(&role, "role", "", "admin, marketer, sales or viewer (required)")
	fs.StringVar(&owner, "user", "", "email of the user the key belongs to (default: the first enabled admin)")
	if err := parse(fs, b, args); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return usageError{"--name is required"}
	}
	r, err := model.ParseRole(role)
	if err != nil {
		return usageError{err.Error()}
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	a := auth.New(s)
	u, err := keyOwner(ctx, a, owner)
	if err != nil {
		return err
	}
	key, k, err := a.CreateUserAPIKey(ctx, u.ID, name, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created API key %d %q (%s) for %s; it is shown only now:\n%s\n", k.ID, k.Name, k.Role, u.Email, key)
	return nil
}

func apikeyList(ctx context.Context, c *cli, args []string) error {
	return storeCommand{name: "apikey list", usage: "apikey list [--db DB]", summary: "List API keys (never the keys themselves).",
		run: func(s *store.Store) error {
			keys, err := s.APIKeys(ctx)
			if err != nil {
				return err
			}
			users, err := s.Users(ctx, "")
			if err != nil {
				return err
			}
			owners := map[int64]model.User{}
			for _, u := range users {
				owners[u.ID] = u
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tROLE\tUSER\tPREFIX\tCREATED\tSTATUS")
			for _, k := range keys {
				owner, status := "-", keyStatus(k.RevokedAt)
				if u, ok := owners[k.UserID]; ok {
					owner = u.Email
					if u.DisabledAt != nil && k.RevokedAt == nil {
						status = "user disabled"
					}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s…\t%s\t%s\n", k.ID, k.Name, k.Role, owner, k.Prefix, k.CreatedAt.Format(time.RFC3339), status)
			}
			return tw.Flush()
		}}.exec(ctx, c, args)
}

func apikeyRevoke(ctx context.Context, c *cli, args []string) error {
	var id string
	var n int64
	return storeCommand{name: "apikey revoke", usage: "apikey revoke --id ID [--db DB]",
		summary: "Revoke an API key; requests with it get 401 from then on.",
		flags:   func(fs *flag.FlagSet) { fs.StringVar(&id, "id", "", "id of the key, as apikey list shows (required)") },
		check:   func() (err error) { n, err = idFlag("id", id); return err },
		run: func(s *store.Store) error {
			if err := s.RevokeAPIKey(ctx, n, time.Now()); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no API key with id %d", n)
				}
				return err
			}
			fmt.Fprintf(c.stdout, "revoked API key %d\n", n)
			return nil
		}}.exec(ctx, c, args)
}

// storeCommand is a subcommand that works on the database: it parses its
// flags (with --db), checks them before anything is opened, so a rejected
// command line never creates or touches a database, then runs on the
// migrated store.
type storeCommand struct {
	name, usage, summary string
	flags                func(fs *flag.FlagSet) // the command's own flags
	check                func() error           // validation before the database is opened
	run                  func(s *store.Store) error
}

func (sc storeCommand) exec(ctx context.Context, c *cli, args []string) error {
	var cfg config.Config
	fs := newFlags(c, sc.name, sc.usage, sc.summary)
	b := config.NewBinder(fs, c.env)
	cfg.BindDB(b, config.DefaultDB)
	if sc.flags != nil {
		sc.flags(fs)
	}
	if err := parse(fs, b, args); err != nil {
		return err
	}
	if sc.check != nil {
		if err := sc.check(); err != nil {
			return err
		}
	}
	s, err := openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer s.Close()
	return sc.run(s)
}

// idFlag reads a required positive id flag.
func idFlag(name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, usageError{fmt.Sprintf("--%s %q: want a positive key id", name, v)}
	}
	return n, nil
}

// keyStatus says whether a key is active or since when it is revoked.
func keyStatus(revokedAt *time.Time) string {
	if revokedAt == nil {
		return "active"
	}
	return "revoked " + revokedAt.Format(time.RFC3339)
}
