package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/config"
	_ "github.com/revloop/revloop/internal/store" // registers the sqlite driver
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(runAsCommandEnv); ok {
		os.Exit(runAsCommand(strings.Fields(args)))
	}
	storetest.Main(m)
}

// runAsCommandEnv, set to a command line, makes the test binary run it as
// revloop would instead of running the tests (TestStartUpIsLight, the
// servers of TestManyNodesOnOnePostgres).
const runAsCommandEnv = "REVLOOP_TEST_RUN_AS_COMMAND"

// runAsCommand runs args as main does, then writes the process's peak
// memory to standard error ("VmHWM: ... kB", on Linux). The parent cannot
// read it from the child's rusage: the child shares the parent's memory
// until it executes, and Linux counts the parent's peak in the child's.
func runAsCommand(args []string) int {
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, env: config.OSEnv}
	if url := os.Getenv(journeySinkEnv); url != "" {
		c.journeySender, c.journeyLease = &sinkSender{url: url, client: &http.Client{Timeout: 10 * time.Second}}, 3*time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, args, c)
	stop()
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				fmt.Fprintln(os.Stderr, line)
			}
		}
	}
	return code
}

type result struct {
	code           int
	stdout, stderr string
}

// revloop runs the command in-process with the given standard input and environment.
func revloop(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	term := stdin == ""
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, stdinIsTerminal: &term,
		env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	code := run(context.Background(), args, c)
	return result{code, out.String(), errb.String()}
}

func TestHelpForEveryCommand(t *testing.T) {
	r := revloop(t, "", nil, "-h")
	if r.code != 0 || !strings.Contains(r.stdout, "Commands:") {
		t.Fatalf("top help: %+v", r)
	}
	for _, args := range [][]string{{"serve", "-h"}, {"demo", "-h"}, {"migrate", "-h"}, {"user", "-h"}, {"user", "create", "-h"},
		{"user", "list", "-h"}, {"apikey", "-h"}, {"apikey", "create", "-h"}, {"apikey", "revoke", "-h"}, {"version", "-h"}} {
		r := revloop(t, "", nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: revloop "+args[0]) || r.stderr != "" {
			t.Errorf("%v: code %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := revloop(t, "", nil, "serve", "-h"); !strings.Contains(r.stdout, "REVLOOP_DB") || !strings.Contains(r.stdout, "REVLOOP_ADDR") {
		t.Errorf("serve help does not name the environment fallbacks: %s", r.stdout)
	}
}

func TestBadCommandLines(t *testing.T) {
	db := storetest.SQLiteDSN(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve", "--colour"}, 2, "flag provided but not defined: -colour"},
		{[]string{"migrate", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"user"}, 2, "missing subcommand"},
		{[]string{"user", "delete"}, 2, `unknown subcommand "delete"`},
		{[]string{"user", "create", "--db", db, "--email", "a@b.cn", "--role", "boss"}, 2, "unknown role"},
		{[]string{"user", "create", "--db", db, "--email", "not-an-email", "--role", "admin"}, 2, "invalid email"},
		{[]string{"user", "create", "--db", db, "--role", "admin"}, 2, "--email is required"},
		{[]string{"apikey", "create", "--db", db, "--role", "admin"}, 2, "--name is required"},
		{[]string{"apikey", "revoke", "--db", db, "--id", "x"}, 2, "want a positive key id"},
		{[]string{"apikey", "revoke", "--db", storetest.SQLiteDSN(t), "--id", "99"}, 1, "no API key with id 99"},
		{[]string{"migrate", "--db", "/no/such/dir/r.db"}, 1, "does not exist"},
		{[]string{"migrate", "--db", "mysql://root:pw@localhost/r"}, 1, "unsupported database"},
		{[]string{"migrate", "--db", "postgres://u:pw@127.0.0.1:1/r?connect_timeout=2"}, 1, "cannot reach PostgreSQL"},
		{[]string{"serve", "--db", db, "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"demo", "--end", "yesterday"}, 2, "--end"},
		{[]string{"demo", "--scale", "-1"}, 2, "--scale"},
	}
	for _, c := range cases {
		r := revloop(t, "", nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: code %d, stderr %q; want code %d and %q", c.args, r.code, r.stderr, c.code, c.want)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: error is not one line: %q", c.args, r.stderr)
		}
		if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "pw@") {
			t.Errorf("%v: stderr %q", c.args, r.stderr)
		}
	}
	// Nothing above was meant to create the database: rejected flags come first.
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a rejected command line created %s", db)
	}
}

func TestBadEnvironment(t *testing.T) {
	r := revloop(t, "", map[string]string{"REVLOOP_INSECURE_COOKIES": "sometimes"}, "serve")
	if r.code != 2 || !strings.Contains(r.stderr, "REVLOOP_INSECURE_COOKIES") {
		t.Fatalf("%+v", r)
	}
}

func TestUsersAndKeysOnBothEngines(t *testing.T) {
	onBothEngines(t, func(t *testing.T, dsn string) {
		env := map[string]string{"REVLOOP_DB": dsn}
		r := revloop(t, "", env, "migrate")
		if r.code != 0 || !strings.Contains(r.stdout, "schema version ") {
			t.Fatalf("migrate: %+v", r)
		}
		// Piped password.
		r = revloop(t, "piped-password-1\n", env, "user", "create", "--email", "Wang.Fang@Example.cn", "--role", "marketer", "--name", "王芳")
		if r.code != 0 || !strings.Contains(r.stdout, "created user wang.fang@example.cn (marketer)") || strings.Contains(r.stdout, "password:") {
			t.Fatalf("create with piped password: %+v", r)
		}
		// Generated password.
		r = revloop(t, "", env, "user", "create", "--email", "boss@example.cn", "--role", "admin")
		if r.code != 0 || !strings.Contains(r.stdout, "password: ") {
			t.Fatalf("create with generated password: %+v", r)
		}
		r = revloop(t, "", env, "user", "create", "--email", "boss@example.cn", "--role", "viewer")
		if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
			t.Fatalf("duplicate: %+v", r)
		}
		r = revloop(t, "", env, "user", "list")
		if !strings.Contains(r.stdout, "王芳") || !strings.Contains(r.stdout, "boss@example.cn") {
			t.Fatalf("list: %+v", r)
		}
		r = revloop(t, "", env, "apikey", "create", "--name", "warehouse sync", "--role", "viewer")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		key := lines[len(lines)-1]
		if r.code != 0 || !strings.HasPrefix(key, "rl_") || len(key) < 40 {
			t.Fatalf("apikey create: %+v", r)
		}
		r = revloop(t, "", env, "apikey", "list")
		if !strings.Contains(r.stdout, "warehouse sync") || strings.Contains(r.stdout, key) || !strings.Contains(r.stdout, "active") {
			t.Fatalf("apikey list: %+v", r)
		}
		r = revloop(t, "", env, "apikey", "revoke", "--id", "1")
		if r.code != 0 {
			t.Fatalf("revoke: %+v", r)
		}
		if r = revloop(t, "", env, "apikey", "list"); !strings.Contains(r.stdout, "revoked") {
			t.Fatalf("after revoke: %+v", r)
		}
	})
}

func TestNewerSchemaIsRefused(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	if r := revloop(t, "", nil, "migrate", "--db", dsn); r.code != 0 {
		t.Fatal(r)
	}
	// Pretend a newer revloop migrated this database (a version far above
	// any of ours).
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, args := range [][]string{{"migrate"}, {"serve"}, {"user", "list"}} {
		r := revloop(t, "", nil, append(args, "--db", dsn)...)
		if r.code != 1 || !strings.Contains(r.stderr, "newer than this revloop") || !strings.Contains(r.stderr, "version 99999") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

func TestDemoGeneratesAndServes(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "demo.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	term := true
	c := &cli{stdin: strings.NewReader(""), stdout: pw, stderr: &errb, stdinIsTerminal: &term, env: func(string) (string, bool) { return "", false }}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--db", dsn, "--addr", "127.0.0.1:0", "--scale", "0.01", "--seed", "3", "--end", "2026-06-30"}, c)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 4 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	go io.Copy(io.Discard, pr)
	if len(lines) < 4 {
		t.Fatalf("demo printed %q; stderr %s", lines, errb.String())
	}
	url := lines[0]
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasPrefix(lines[1], "admin: admin@revloop.local ") || !strings.HasPrefix(lines[2], "api key: rl_") || !strings.HasPrefix(lines[3], "write key: wk_") {
		t.Fatalf("demo printed %q", lines)
	}
	key := strings.TrimPrefix(lines[2], "api key: ")
	req, _ := http.NewRequest("GET", url+"/api/v1/stats", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var stats map[string]any
	json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if resp.StatusCode != 200 || stats["persons"].(float64) < 100 || stats["touchpoints"].(float64) < 1000 || stats["won_revenue"].(float64) <= 0 {
		t.Fatalf("stats %d %v", resp.StatusCode, stats)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("demo exited %d: %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not shut down")
	}
	// The finished file is there, and no partial file is left behind.
	left, _ := filepath.Glob(dsn + ".partial-*")
	if len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
	// A second demo into the same file is refused, and the file is untouched.
	before, _ := os.ReadFile(dsn)
	r := revloop(t, "", nil, "demo", "--db", dsn, "--scale", "0.01", "--no-serve")
	after, _ := os.ReadFile(dsn)
	if r.code != 1 || !strings.Contains(r.stderr, "fresh database") || !bytes.Equal(before, after) {
		t.Fatalf("second demo: %+v", r)
	}
}

func TestDemoOnPostgres(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	r := revloop(t, "", nil, "demo", "--db", dsn, "--scale", "0.01", "--no-serve", "--end", "2026-06-30")
	if r.code != 0 || !strings.Contains(r.stdout, "admin: admin@revloop.local") || !strings.Contains(r.stdout, "api key: rl_") {
		t.Fatalf("%+v", r)
	}
	r = revloop(t, "", nil, "demo", "--db", dsn, "--scale", "0.01", "--no-serve")
	if r.code != 1 || !strings.Contains(r.stderr, "already holds data") {
		t.Fatalf("second demo on the same database: %+v", r)
	}
}

// onBothEngines runs fn as a subtest on a fresh, not yet migrated database
// of each engine.
func onBothEngines(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.SQLiteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresDSN(t)) })
}
