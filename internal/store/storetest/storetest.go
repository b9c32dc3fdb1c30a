// Package storetest opens real databases for tests: a temporary SQLite file,
// and a throwaway PostgreSQL cluster started from the system's PostgreSQL
// binaries (initdb + pg_ctl on a temporary directory and port). Every test
// gets a fresh, migrated database on each engine.
//
// Packages that use it call storetest.Main from TestMain so that the cluster
// is stopped when the tests end. Set REVLOOP_TEST_POSTGRES to a postgres://
// URL to use an existing server instead. When PostgreSQL cannot be started the
// PostgreSQL half of each test is skipped, except when CI=true, where it fails.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/revloop/revloop/internal/store"
)

// Main runs the package's tests and stops the PostgreSQL cluster afterwards.
func Main(m *testing.M) {
	code := m.Run()
	cluster.stop()
	os.Exit(code)
}

// Run runs fn as a subtest on SQLite and on PostgreSQL, each with a fresh,
// migrated database.
func Run(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a migrated database in a temporary file.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "revloop.db"))
}

// SQLiteDSN returns the path of a fresh, not yet created SQLite file.
func SQLiteDSN(t testing.TB) string { return filepath.Join(t.TempDir(), "revloop.db") }

// Postgres opens a migrated database on the throwaway cluster.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	return open(t, PostgresDSN(t))
}

// PostgresDSN creates a fresh empty database on the cluster and returns its URL.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base, err := cluster.url()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required on CI: %v", err)
		}
		t.Skipf("PostgreSQL not available (set CI=true to fail instead): %v", err)
	}
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), dbSeq.Add(1))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	u, _ := url.Parse(base)
	u.Path = "/" + name
	dsn := u.String()
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return dsn
}

var dbSeq atomic.Int64

func open(t testing.TB, dsn string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// pgCluster is one PostgreSQL server per test binary, started on first use.
type pgCluster struct {
	once    sync.Once
	dsn     string
	err     error
	dir     string
	pgCtl   string
	asUser  *user.User
	started bool
}

var cluster pgCluster

func (c *pgCluster) url() (string, error) {
	c.once.Do(func() {
		if env := os.Getenv("REVLOOP_TEST_POSTGRES"); env != "" {
			c.dsn = env
			return
		}
		c.dsn, c.err = c.start()
	})
	return c.dsn, c.err
}

// BinDir finds the directory holding initdb and pg_ctl.
func BinDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found (install PostgreSQL: apt-get install postgresql)")
}

func versionOf(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func (c *pgCluster) start() (string, error) {
	bin, err := BinDir()
	if err != nil {
		return "", err
	}
	c.pgCtl = filepath.Join(bin, "pg_ctl")
	dir, err := os.MkdirTemp("", "revloop-pg-")
	if err != nil {
		return "", err
	}
	c.dir = dir
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: hand the directory to postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root and no postgres user to run PostgreSQL as: %v", err)
		}
		c.asUser = u
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync", "--locale=C"); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	if out, err := c.run(c.pgCtl, "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return "", fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
	}
	c.started = true
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), nil
}

func (c *pgCluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	if c.asUser != nil {
		uid, _ := strconv.Atoi(c.asUser.Uid)
		gid, _ := strconv.Atoi(c.asUser.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Env = append(os.Environ(), "HOME="+c.dir)
	}
	return cmd.CombinedOutput()
}

func (c *pgCluster) stop() {
	if c.started {
		c.run(c.pgCtl, "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop")
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// BenchDB opens the database a benchmark over real data names in
// REVLOOP_BENCH_DB (a SQLite path or a postgres:// URL, e.g. a copy of the
// demo's), brings its schema up to date and closes it when the benchmark
// ends; without the variable the benchmark is skipped.
func BenchDB(b *testing.B) *store.Store {
	b.Helper()
	dsn := os.Getenv("REVLOOP_BENCH_DB")
	if dsn == "" {
		b.Skip("set REVLOOP_BENCH_DB to a database with data (the demo's)")
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}
