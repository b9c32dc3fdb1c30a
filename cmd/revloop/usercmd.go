package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// userByEmailFlag finds the user a --email flag names.
func userByEmailFlag(ctx context.Context, s *store.Store, email string) (model.User, error) {
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no user with email %s (revloop user list shows them)", strings.ToLower(strings.TrimSpace(email)))
	}
	return u, err
}

// userChange is a user subcommand that changes one user named by --email.
func userChange(ctx context.Context, c *cli, args []string, name, summary string, run func(a *auth.Service, u model.User) error) error {
	var email string
	return storeCommand{name: "user " + name, usage: "user " + name + " --email EMAIL [--db DB]", summary: summary,
		flags: func(fs *flag.FlagSet) { fs.StringVar(&email, "email", "", "email address of the user (required)") },
		check: func() error {
			if strings.TrimSpace(email) == "" {
				return usageError{"--email is required"}
			}
			return nil
		},
		run: func(s *store.Store) error {
			u, err := userByEmailFlag(ctx, s, email)
			if err != nil {
				return err
			}
			return run(auth.New(s), u)
		}}.exec(ctx, c, args)
}

func userDisable(ctx context.Context, c *cli, args []string) error {
	return userChange(ctx, c, args, "disable", "Disable a user: they can no longer sign in, their sessions end and their API keys stop working.",
		func(a *auth.Service, u model.User) error {
			n, err := a.DisableUser(ctx, u.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "disabled user %s; %d sessions ended\n", u.Email, n)
			return nil
		})
}

func userEnable(ctx context.Context, c *cli, args []string) error {
	return userChange(ctx, c, args, "enable", "Enable a disabled user again; their API keys work again.",
		func(a *auth.Service, u model.User) error {
			if err := a.EnableUser(ctx, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "enabled user %s\n", u.Email)
			return nil
		})
}

func userRevokeSessions(ctx context.Context, c *cli, args []string) error {
	return userChange(ctx, c, args, "revoke-sessions", "End every session of a user (they sign in again).",
		func(a *auth.Service, u model.User) error {
			n, err := a.RevokeSessions(ctx, u.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "ended %d sessions of %s\n", n, u.Email)
			return nil
		})
}

func userPasswd(ctx context.Context, c *cli, args []string) error {
	var email string
	var password string
	var generated bool
	return storeCommand{name: "user passwd", usage: "user passwd --email EMAIL [--db DB]",
		summary: "Set a user's password and end their sessions. The password is read from standard input when it is piped in; otherwise one is generated and printed.",
		flags:   func(fs *flag.FlagSet) { fs.StringVar(&email, "email", "", "email address of the user (required)") },
		check: func() (err error) {
			if strings.TrimSpace(email) == "" {
				return usageError{"--email is required"}
			}
			if password, generated, err = c.readPassword(); err != nil {
				return err
			}
			return auth.CheckNewPassword(password, email)
		},
		run: func(s *store.Store) error {
			u, err := userByEmailFlag(ctx, s, email)
			if err != nil {
				return err
			}
			n, err := auth.New(s).SetPassword(ctx, u.ID, password)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "set the password of %s; %d sessions ended\n", u.Email, n)
			if generated {
				fmt.Fprintf(c.stdout, "password: %s\n", password)
			}
			return nil
		}}.exec(ctx, c, args)
}

// keyOwner is the user a new API key belongs to: the one --user names, or
// the first enabled admin.
func keyOwner(ctx context.Context, a *auth.Service, email string) (model.User, error) {
	if strings.TrimSpace(email) == "" {
		return a.FirstAdmin(ctx)
	}
	return userByEmailFlag(ctx, a.Store, email)
}
