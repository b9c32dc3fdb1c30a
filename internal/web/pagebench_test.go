package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// BenchmarkPages times every workspace page and its JSON twin on a
// database you generated, server-side: the time from the request entering
// the handler to its last byte, without the network. It reports the
// median and the 95th percentile per page and fails no one; the figures
// go to docs/benchmarks.md. See there for the commands, e.g.
//
//	./bin/revloop demo --no-serve --scale 10 --end 2026-11-30 --db /tmp/s10.db
//	REVLOOP_PAGEBENCH_DB=/tmp/s10.db go test ./internal/web/ -run '^$' -bench BenchmarkPages -benchtime 1x -timeout 60m
//
// REVLOOP_PAGEBENCH_DB takes a SQLite path or a postgres:// URL;
// REVLOOP_PAGEBENCH_ROUNDS sets the requests per page (default 20);
// REVLOOP_PAGEBENCH_ONLY keeps the pages whose URL contains it.
func BenchmarkPages(b *testing.B) {
	dsn := os.Getenv("REVLOOP_PAGEBENCH_DB")
	if dsn == "" {
		b.Skip("set REVLOOP_PAGEBENCH_DB to a generated demo database (see docs/benchmarks.md)")
	}
	rounds := 20
	if v := os.Getenv("REVLOOP_PAGEBENCH_ROUNDS"); v != "" {
		fmt.Sscan(v, &rounds)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a := auth.New(s)
	email := fmt.Sprintf("pagebench-%d@example.cn", time.Now().UnixNano())
	if _, err := a.CreateUser(ctx, email, "bench", model.RoleAdmin, testPassword); err != nil {
		b.Fatal(err)
	}
	key, _, err := a.CreateAPIKey(ctx, "pagebench", model.RoleAdmin)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := newWith(b, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	session := benchLogin(b, h, email)

	targets := pageBenchTargets(b, h, session, key)
	if only := os.Getenv("REVLOOP_PAGEBENCH_ONLY"); only != "" {
		targets = slices.DeleteFunc(targets, func(t benchTarget) bool { return !strings.Contains(t.path, only) })
	}
	type result struct {
		target        string
		p50, p95, max time.Duration
		status        int
	}
	var results []result
	for i := 0; i < b.N; i++ {
		results = results[:0]
		for _, tg := range targets {
			var times []time.Duration
			status := 0
			for r := 0; r < rounds+2; r++ {
				req := httptest.NewRequest(http.MethodGet, tg.path, nil)
				if tg.api {
					req.Header.Set("Authorization", "Bearer "+key)
				} else {
					req.AddCookie(session)
				}
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				d := time.Since(start)
				status = rec.Code
				if r >= 2 { // two warm-up requests fill the caches a user's first visit would
					times = append(times, d)
				}
			}
			slices.Sort(times)
			results = append(results, result{tg.path, times[len(times)/2], times[(len(times)*95+99)/100-1], times[len(times)-1], status})
		}
	}
	var worst time.Duration
	b.Logf("%-90s %6s %9s %9s %9s", "page", "status", "p50", "p95", "max")
	for _, r := range results {
		b.Logf("%-90s %6d %9s %9s %9s", r.target, r.status, r.p50.Round(100*time.Microsecond), r.p95.Round(100*time.Microsecond), r.max.Round(100*time.Microsecond))
		worst = max(worst, r.p95)
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-p95-ms")
}

type benchTarget struct {
	path string
	api  bool
}

// pageBenchTargets lists every page of the navigation and its JSON twin,
// over the default range, a quarter and all of one year, sorted and
// paged as people do, plus the detail pages of the busiest person,
// account and campaign.
func pageBenchTargets(b *testing.B, h http.Handler, session *http.Cookie, key string) []benchTarget {
	var out []benchTarget
	ranges := []string{"", "from=2026-07-01&to=2026-09-30", "from=2025-12-01&to=2026-11-30&model=shapley"}
	for _, g := range workspaceNav() {
		for _, it := range g.Items {
			for _, rg := range ranges {
				p := it.Path
				if rg != "" {
					p += "?" + rg
				}
				out = append(out, benchTarget{path: p})
			}
		}
	}
	for _, name := range []string{"marketing", "ads", "events", "content", "sales"} {
		for _, rg := range ranges {
			out = append(out, benchTarget{path: "/api/v1/dashboards/" + name + "?" + rg, api: true})
		}
	}
	for _, list := range []string{"persons", "accounts", "campaigns"} {
		out = append(out, benchTarget{path: "/api/v1/" + list + "?limit=50", api: true})
	}
	for _, rg := range ranges[:2] {
		out = append(out, benchTarget{path: "/api/v1/funnel?" + rg, api: true}, benchTarget{path: "/api/v1/channels?" + rg, api: true})
	}
	out = append(out,
		benchTarget{path: "/persons?q=" + url.QueryEscape("张")},
		benchTarget{path: "/persons?stage=mql"},
		benchTarget{path: "/api/v1/persons?q=gmail&limit=100", api: true},
		benchTarget{path: "/accounts?q=" + url.QueryEscape("科技")},
		benchTarget{path: "/dashboards/ads?platform=baidu"},
	)
	for _, list := range []string{"persons", "accounts", "campaigns"} {
		if id := firstID(b, h, key, list); id != 0 {
			out = append(out, benchTarget{path: fmt.Sprintf("/%s/%d", list, id)})
		}
	}
	// The reviews' twins, narrowed to a campaign, and the cohort lift of a
	// month's event, a four weeks' event and an always-on campaign.
	for _, rg := range ranges {
		out = append(out, benchTarget{path: "/api/v1/reviews/promotion?" + rg, api: true}, benchTarget{path: "/api/v1/reviews/content?" + rg, api: true})
	}
	for _, code := range []string{"evt-retail-expo", "evt-user-conf", "bd-brand", "share-webinar"} {
		if id := benchCampaign(b, h, key, code); id != 0 {
			out = append(out,
				benchTarget{path: fmt.Sprintf("/campaigns/%d/lift", id)},
				benchTarget{path: fmt.Sprintf("/api/v1/campaigns/%d/lift", id), api: true},
				benchTarget{path: fmt.Sprintf("/campaigns/%d/review", id)},
				benchTarget{path: fmt.Sprintf("/reviews/promotion?campaign=%d", id)},
			)
		}
	}
	return out
}

// firstID is the id of the first row a list API answers, 0 when none.
func firstID(b *testing.B, h http.Handler, key, list string) int64 {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/"+list+"?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	var v map[string]json.RawMessage
	if rec.Code != http.StatusOK || json.Unmarshal(body, &v) != nil {
		b.Logf("%s list: status %d", list, rec.Code)
		return 0
	}
	for _, field := range []string{list, "items", "rows", "data"} {
		var rows []struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(v[field], &rows) == nil && len(rows) > 0 {
			return rows[0].ID
		}
	}
	return 0
}

// benchCampaign is the id of the campaign of a code, 0 when none.
func benchCampaign(b *testing.B, h http.Handler, key, code string) int64 {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/campaigns?limit=500", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var v map[string]json.RawMessage
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
		return 0
	}
	for _, field := range []string{"campaigns", "items", "rows", "data"} {
		var rows []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		}
		if json.Unmarshal(v[field], &rows) == nil {
			for _, r := range rows {
				if r.Code == code {
					return r.ID
				}
			}
		}
	}
	b.Logf("no campaign %s", code)
	return 0
}

func benchLogin(b *testing.B, h http.Handler, email string) *http.Cookie {
	form := url.Values{"email": {email}, "password": {testPassword}, "next": {"/"}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	b.Fatalf("login: status %d", rec.Code)
	return nil
}
