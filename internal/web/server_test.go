package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/store"
)

// testOpts are what a test server is built with: the app's store, logger,
// version and clock (Auth's, when a test set one), and the server's own
// options.
type testOpts struct {
	Store           *store.Store
	Auth            *auth.Service
	Logger          *slog.Logger
	Version         string
	Role            app.Role
	InsecureCookies bool
	MetricsToken    string
	// ServeDefaults runs the job queue with the intervals `revloop serve`
	// uses, not the short ones of the tests (benchmarks).
	ServeDefaults bool
}

// testJobs are the runner's intervals in tests: short, so that an
// operation a test starts ends within its wait.
var testJobs = jobs.Options{Debounce: 10 * time.Millisecond, PollInterval: 20 * time.Millisecond, TaskDelay: 20 * time.Millisecond,
	SweepInterval: time.Hour}

// newWith builds the app and the server over a store as `revloop serve`
// does; nothing runs in the background until startApp.
func newWith(t testing.TB, o testOpts) (*Server, error) {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ao := app.Options{Store: o.Store, Logger: o.Logger, Version: o.Version, Role: o.Role, Jobs: testJobs}
	if o.ServeDefaults {
		ao.Jobs = jobs.Options{}
	}
	if au := o.Auth; au != nil {
		// Read on every call: tests move the clock by setting Auth.Now.
		ao.Now = func() time.Time {
			if au.Now != nil {
				return au.Now()
			}
			return time.Now()
		}
	}
	a, err := app.New(ao)
	if err != nil {
		return nil, err
	}
	return New(Options{App: a, InsecureCookies: o.InsecureCookies, MetricsToken: o.MetricsToken})
}

// startApp starts the server's app (the job runner and its workers, the
// collector) until the test ends, for tests of operations and background
// work.
func startApp(t testing.TB, srv *Server) {
	t.Helper()
	if err := srv.app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.app.Stop(sctx); err != nil {
			t.Error(err)
		}
	})
}

// operate sends a request that starts an operation (as key), expects 202
// with its job, waits until the job ends and returns it.
func operate(t testing.TB, h http.Handler, method, target, key, body string) jobJSON {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	h.ServeHTTP(rec, r)
	var started struct {
		JobID     int64  `json:"job_id"`
		StatusURL string `json:"status_url"`
	}
	if rec.Code != http.StatusAccepted || json.Unmarshal(rec.Body.Bytes(), &started) != nil || started.JobID == 0 ||
		rec.Header().Get("Location") != started.StatusURL {
		t.Fatalf("%s %s: %d %s, want 202 with a job", method, target, rec.Code, rec.Body.String())
	}
	return awaitJob(t, h, key, started.JobID)
}

// awaitJob polls GET /api/v1/jobs/{id} until the job ends.
func awaitJob(t testing.TB, h http.Handler, key string, id int64) jobJSON {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d", id), nil)
		r.Header.Set("Authorization", "Bearer "+key)
		h.ServeHTTP(rec, r)
		var j jobJSON
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &j) != nil {
			t.Fatalf("job %d: %d %s", id, rec.Code, rec.Body.String())
		}
		if j.State.Done() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s: %+v", id, j.State, j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
