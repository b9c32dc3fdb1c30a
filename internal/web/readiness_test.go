package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// A database that answers but takes no writes (read-only, or out of
// space) makes the server not ready and the API answer 503 with
// Retry-After, not 500: clients and load balancers retry a 503.
func TestUnwritableDatabaseIsNotReady(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		admin := e.adminKey(t)
		put := func() *http.Response {
			return e.sendJSON(t, http.MethodPut, "/api/v1/settings/collector.anonymize_ip", admin, `true`)
		}
		if res := e.do(t, req{target: "/readyz"}); res.StatusCode != http.StatusOK {
			t.Fatalf("readyz while writable: %d %s", res.StatusCode, bodyOf(t, res))
		}
		if res := put(); res.StatusCode != http.StatusOK {
			t.Fatalf("PUT setting while writable: %d %s", res.StatusCode, bodyOf(t, res))
		}

		w := s.WriterDB()
		if s.Dialect() == store.SQLite {
			// The writer is one connection: it refuses writes from now on
			// with SQLITE_READONLY, as a read-only file or volume does.
			if _, err := w.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
				t.Fatal(err)
			}
		} else {
			// New sessions of this database are read-only, as on a standby;
			// the pool keeps no idle session of before.
			var db string
			if err := w.QueryRowContext(ctx, "SELECT current_database()").Scan(&db); err != nil {
				t.Fatal(err)
			}
			if _, err := w.ExecContext(ctx, `ALTER DATABASE "`+db+`" SET default_transaction_read_only = on`); err != nil {
				t.Fatal(err)
			}
			w.SetMaxIdleConns(0)
		}

		res := e.do(t, req{target: "/readyz"})
		if b := bodyOf(t, res); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, "cannot be written") {
			t.Fatalf("readyz on a read-only database: %d %q, want 503", res.StatusCode, b)
		}
		if res := e.do(t, req{target: "/healthz"}); res.StatusCode != http.StatusOK {
			t.Fatalf("healthz on a read-only database: %d", res.StatusCode)
		}
		res = put()
		if b := bodyOf(t, res); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, "cannot be written") || res.Header.Get("Retry-After") == "" {
			t.Fatalf("PUT setting on a read-only database: %d %q (Retry-After %q), want 503 with Retry-After", res.StatusCode, b, res.Header.Get("Retry-After"))
		}
		// A page that must write (logging in makes a session) answers 503
		// too, with the reason, in the page's language.
		res = e.do(t, req{method: http.MethodPost, target: "/login", form: url.Values{"email": {testEmail}, "password": {testPassword}, "next": {"/"}}})
		if b := bodyOf(t, res); res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(b, "cannot be written") {
			t.Fatalf("login on a read-only database: %d %q, want 503 with Retry-After", res.StatusCode, b)
		}
		// Reads still work.
		if res := e.api(t, "/api/v1/stats"); res.StatusCode != http.StatusOK {
			t.Fatalf("stats on a read-only database: %d %s", res.StatusCode, bodyOf(t, res))
		}
	})
}
