package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
	"github.com/revloop/revloop/internal/web"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// served is the app and its web server on a loopback port, as `revloop
// serve` runs them, until the test ends.
type served struct {
	base, key, writeKey string
}

func serve(t *testing.T, s *store.Store) *served {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(app.Options{Store: s, Logger: slog.New(slog.DiscardHandler), Version: "test",
		Jobs: jobs.Options{Debounce: 10 * time.Millisecond, PollInterval: 50 * time.Millisecond, TaskDelay: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{App: a})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := auth.New(s).CreateAPIKey(ctx, "ops", model.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	wk, err := collect.CreateWriteKeyOf(ctx, s, "backend", true)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	urls, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- srv.ListenAndServe(sctx, "127.0.0.1:0", func(u string) { urls <- u }) }()
	select {
	case base := <-urls:
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
		return &served{base: base, key: key, writeKey: wk.Key}
	case err := <-done:
		stop()
		t.Fatal(err)
		return nil
	}
}

func (sv *served) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, sv.base+path, strings.NewReader(body))
	if strings.HasPrefix(path, "/v1/") {
		req.SetBasicAuth(sv.writeKey, "")
	} else {
		req.Header.Set("Authorization", "Bearer "+sv.key)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// person reads a person by identifier through the API.
func (sv *served) person(t *testing.T, id string) (p struct {
	ID    int64       `json:"id"`
	Score float64     `json:"score"`
	Grade string      `json:"grade"`
	Stage model.Stage `json:"stage"`
}) {
	t.Helper()
	code, body := sv.call(t, http.MethodGet, "/api/v1/persons?identifier="+id, "")
	if code != http.StatusOK {
		t.Fatalf("person %s: %d %s", id, code, body)
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// What processing learns about a person — a trait an identify call
// changed, a second device merged into them — reaches their score, grade
// and stage within the run that follows processing, not the next daily or
// hourly run.
func TestWhatProcessingLearnsReachesScoresAndGrades(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		sv := serve(t, s)
		for _, c := range []struct{ path, body string }{
			{"/api/v1/scoring/rules", `{"mql_threshold": 1000, "decay_half_life_days": 30, "fit": [
				{"field": "traits.budget", "gte": 100000, "points": 50},
				{"field": "plan", "in": ["enterprise"], "points": 20}],
				"engagement": [{"event": "page", "path_prefix": "/pricing", "points": 10}]}`},
			{"/api/v1/lifecycle/rules", `{"rules": [
				{"name": "big", "when": {"score_gte": 60}, "set": {"grade": "A"}},
				{"name": "budget", "when": {"score_gte": 40, "score_lt": 60}, "set": {"grade": "B"}},
				{"name": "rest", "when": {"score_lt": 40}, "set": {"grade": "C"}}]}`},
		} {
			if code, body := sv.call(t, http.MethodPut, c.path, c.body); code != http.StatusOK {
				t.Fatalf("PUT %s: %d %s", c.path, code, body)
			}
		}
		identify := func(user, traits string) {
			t.Helper()
			if code, body := sv.call(t, http.MethodPost, "/v1/identify", fmt.Sprintf(`{"userId": %q, "traits": %s}`, user, traits)); code != http.StatusOK {
				t.Fatalf("identify: %d %s", code, body)
			}
		}
		identify("u1", `{"email": "li@acme.cn", "budget": 5000}`)
		waitFor(t, "a grade for the new lead", func() bool { p := sv.person(t, "user_id:u1"); return p.Grade == "C" })

		// A trait changes: score 50, grade B.
		identify("u1", `{"budget": 200000}`)
		waitFor(t, "the new budget to reach the score and grade", func() bool {
			p := sv.person(t, "user_id:u1")
			return p.Score == 50 && p.Grade == "B"
		})
		// The company's plan (an account field) changes: 70, grade A.
		identify("u1", `{"company": {"name": "Acme", "plan": "enterprise"}}`)
		waitFor(t, "the account's plan to reach the score and grade", func() bool {
			p := sv.person(t, "user_id:u1")
			return p.Score == 70 && p.Grade == "A"
		})
		// A visitor who read the pricing page twice on a phone signs in as
		// u2: the visitor merges into u2, whose score gains the visits.
		identify("u2", `{"email": "wang@beta.cn", "budget": 200000}`)
		waitFor(t, "u2's grade", func() bool { return sv.person(t, "user_id:u2").Grade == "B" })
		for range 2 {
			if code, body := sv.call(t, http.MethodPost, "/v1/page", `{"anonymousId": "phone-9", "properties": {"url": "https://www.beta.cn/pricing"}}`); code != http.StatusOK {
				t.Fatalf("page: %d %s", code, body)
			}
		}
		visitor := sv.person(t, "anonymous_id:phone-9")
		if code, body := sv.call(t, http.MethodPost, "/v1/identify", `{"anonymousId": "phone-9", "userId": "u2"}`); code != http.StatusOK {
			t.Fatalf("identify: %d %s", code, body)
		}
		waitFor(t, "the merge to reach u2's score and grade", func() bool {
			p := sv.person(t, "user_id:u2")
			return p.Score == 70 && p.Grade == "A" && sv.person(t, "anonymous_id:phone-9").ID == p.ID && p.ID != visitor.ID
		})
	})
}
