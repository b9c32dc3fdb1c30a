// Package config is revloop's one Config struct. Every setting is a flag with
// a REVLOOP_* environment variable as its fallback; a flag given on the
// command line wins over the environment, which wins over the default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// Config holds every setting of the binary. Subcommands register the parts
// they use.
type Config struct {
	DB              string
	Addr            string
	LogLevel        string
	LogFormat       string
	InsecureCookies bool
	MetricsToken    string
	// Role is what a serving process does: web, worker or all.
	Role string
	// SecretKey (base64, 32 bytes) seals the secrets revloop keeps, such
	// as the SMTP password; empty: a key file beside a SQLite database.
	SecretKey string
}

// Defaults.
const (
	DefaultDB   = "revloop.db"
	DefaultAddr = "127.0.0.1:8080"
)

// Env looks up a REVLOOP_* variable; tests replace it.
type Env func(key string) (string, bool)

// OSEnv reads the process environment.
func OSEnv(key string) (string, bool) { return os.LookupEnv(key) }

// Binder registers flags on a FlagSet with environment fallbacks and
// remembers bad environment values to report after parsing.
type Binder struct {
	fs   *flag.FlagSet
	env  Env
	errs []error
}

// NewBinder binds to fs, reading fallbacks from env.
func NewBinder(fs *flag.FlagSet, env Env) *Binder { return &Binder{fs: fs, env: env} }

// String registers a string flag with an environment fallback.
func (b *Binder) String(p *string, name, envKey, def, usage string) {
	if v, ok := b.env(envKey); ok && v != "" {
		def = v
	}
	b.fs.StringVar(p, name, def, usage+" (env "+envKey+")")
}

// Bool registers a boolean flag with an environment fallback.
func (b *Binder) Bool(p *bool, name, envKey string, def bool, usage string) {
	if v, ok := b.env(envKey); ok && v != "" {
		parsed, err := strconv.ParseBool(v)
		if err != nil {
			b.errs = append(b.errs, fmt.Errorf("%s=%q is not a boolean (use true or false)", envKey, v))
		} else {
			def = parsed
		}
	}
	b.fs.BoolVar(p, name, def, usage+" (env "+envKey+")")
}

// Err reports environment values that could not be used.
func (b *Binder) Err() error { return errors.Join(b.errs...) }

// BindDB registers --db.
func (c *Config) BindDB(b *Binder, def string) {
	b.String(&c.DB, "db", "REVLOOP_DB", def, "database: a SQLite file path or a postgres:// URL")
}

// BindServer registers the HTTP server settings.
func (c *Config) BindServer(b *Binder) {
	b.String(&c.Addr, "addr", "REVLOOP_ADDR", DefaultAddr, "address to listen on")
	b.Bool(&c.InsecureCookies, "insecure-cookies", "REVLOOP_INSECURE_COOKIES", false,
		"send session cookies without the Secure attribute (only for plain HTTP off loopback)")
	b.String(&c.MetricsToken, "metrics-token", "REVLOOP_METRICS_TOKEN", "",
		"bearer token /metrics requires (empty: /metrics is open; keep it off the public network then)")
	b.String(&c.Role, "role", "REVLOOP_ROLE", "all",
		"what this process does: web (intake, pages, API), worker (background work) or all")
	b.String(&c.SecretKey, "secret-key", "REVLOOP_SECRET_KEY", "",
		"base64 32-byte key sealing stored secrets such as the SMTP password (make one: head -c 32 /dev/urandom | base64); empty: the file DB.key beside a SQLite database, none on PostgreSQL")
}

// BindLog registers the logging settings.
func (c *Config) BindLog(b *Binder) {
	b.String(&c.LogLevel, "log-level", "REVLOOP_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	b.String(&c.LogFormat, "log-format", "REVLOOP_LOG_FORMAT", "text", "log format: text or json")
}

// Logger builds the slog logger the settings ask for.
func (c *Config) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.TrimSpace(c.LogLevel))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
}
