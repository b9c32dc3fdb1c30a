// Command revloop is the whole product in one binary: the HTTP collector,
// API and dashboard (serve), a demo with generated data (demo), and the
// administration tools (migrate, user, apikey). This file only wires
// packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/revloop/revloop/internal/message"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/revloop/revloop/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, env: config.OSEnv})
	stop()
	os.Exit(code)
}

// cli is the process's surroundings, replaceable in tests.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            config.Env
	// stdinIsTerminal is set by tests; otherwise it is read from os.Stdin.
	stdinIsTerminal *bool
	// journeySender, set by tests, sends the journeys' messages, and
	// journeyLease bounds their claims.
	journeySender message.Sender
	journeyLease  time.Duration
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve the collector, API and dashboard", runServe},
		{"demo", "generate a demo database and serve it", runDemo},
		{"migrate", "bring the database schema up to date", runMigrate},
		{"user", "create and list users who log in", runUser},
		{"apikey", "create, list and revoke API keys", runAPIKey},
		{"writekey", "create, list and revoke collector write keys", runWriteKey},
		{"import", "import ad costs and offline events from CSV files", runImport},
		{"link", "create and list tracked links and their QR codes", runLink},
		{"attribute", "credit conversions to channels from path or touch files", runAttribute},
		{"person", "erase or export everything held about a person", runPerson},
		{"version", "print the version", runVersion},
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, c *cli) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printTopUsage(c.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, cmd := range commands() {
		if cmd.name != args[0] {
			continue
		}
		err := cmd.run(ctx, c, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		}
		fmt.Fprintf(c.stderr, "revloop %s: %s\n", cmd.name, oneLine(err))
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(c.stderr, "revloop: unknown command %q (run 'revloop -h' for the list)\n", args[0])
	return 2
}

func printTopUsage(w io.Writer) {
	fmt.Fprintln(w, "revloop closes the B2B marketing loop: capture every touch, unify people and accounts,")
	fmt.Fprintln(w, "follow leads to revenue and credit the channels that earned it.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: revloop <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'revloop <command> -h' for a command's flags. Every flag has a REVLOOP_* environment fallback.")
}

// newFlags makes a FlagSet whose -h prints to stdout and whose parse errors
// come back as one-line usage errors.
func newFlags(c *cli, name, usage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("revloop "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(c.stdout, "%s\n\nUsage: revloop %s\n\nFlags:\n", summary, usage)
		fs.SetOutput(c.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args and turns flag errors into usage errors.
func parse(fs *flag.FlagSet, b *config.Binder, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return err
		}
		return usageError{fmt.Sprintf("%v (run '%s -h' for help)", err, fs.Name())}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (run '%s -h' for help)", fs.Arg(0), fs.Name())}
	}
	if b != nil {
		if err := b.Err(); err != nil {
			return usageError{oneLine(err)}
		}
	}
	return nil
}

// subcommands dispatches "revloop user create ..." style commands.
func subcommands(c *cli, parent string, args []string, subs map[string]func([]string) error, summary string) error {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(c.stdout, "%s\n\nUsage: revloop %s <%s> [flags]\n\nRun 'revloop %s <subcommand> -h' for its flags.\n",
			summary, parent, strings.Join(names, "|"), parent)
		if len(args) == 0 {
			return usageError{fmt.Sprintf("missing subcommand (one of %s)", strings.Join(names, ", "))}
		}
		return flag.ErrHelp
	}
	fn, ok := subs[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown subcommand %q (one of %s)", args[0], strings.Join(names, ", "))}
	}
	return fn(args[1:])
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}
