package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

var day0 = time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)

func at(d, h int) time.Time { return day0.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }

// loadFixture loads a tiny world whose figures are easy to count by hand:
// three people, two channels with touches (paid search with ¥2,234.56 of
// cost, webinars with none), one ¥500,000 opportunity won as a ¥480,000 order.
//
//	person 1: paid search first touch, lead Jan 11, mql 12, sql 13, opp 15, customer Feb 9
//	person 2: webinar first touch, lead Jan 12, mql Jan 30
//	person 3: paid search visitor, never a lead
func loadFixture(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table string, cols string, rows ...[]any) error {
			return l.Insert(table, strings.Split(cols, ","), rows)
		}
		for _, e := range []error{
			ins("users", "id,email,role,created_at", []any{int64(1), "owner@x.cn", "admin", day0}, []any{int64(2), "sales@x.cn", "sales", day0}),
			ins("accounts", "id,name,created_at", []any{int64(1), "甲公司", day0}, []any{int64(2), "乙公司", day0}),
			ins("campaigns", "id,code,name,channel,platform,created_at",
				[]any{int64(1), "baidu-1", "百度搜索", "paid_search", "baidu", day0},
				[]any{int64(2), "web-1", "线上研讨会", "webinar", "", day0}),
			ins("persons", "id,account_id,stage,first_seen_at,first_touch_channel,first_touch_campaign,lead_at,created_at",
				[]any{int64(1), int64(1), "customer", at(0, 1), "paid_search", int64(1), at(1, 0), at(0, 1)},
				[]any{int64(2), int64(2), "mql", at(0, 2), "webinar", int64(2), at(2, 0), at(0, 2)},
				[]any{int64(3), nil, "visitor", at(0, 3), "paid_search", int64(1), nil, at(0, 3)}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,campaign_id",
				[]any{int64(1), int64(1), at(0, 1), "ad_click", "paid_search", int64(1)},
				[]any{int64(2), int64(1), at(1, 0), "webinar_attend", "webinar", int64(2)},
				[]any{int64(3), int64(2), at(0, 2), "webinar_register", "webinar", int64(2)},
				[]any{int64(4), int64(3), at(0, 3), "ad_click", "paid_search", int64(1)},
				[]any{int64(5), int64(3), at(40, 3), "page_view", "paid_search", int64(1)}),
			ins("daily_costs", "id,day,platform,campaign_id,impressions,clicks,cost_fen",
				[]any{int64(1), day0, "baidu", int64(1), int64(1000), int64(40), int64(123456)},
				[]any{int64(2), day0.AddDate(0, 0, 1), "baidu", int64(1), int64(900), int64(30), int64(100000)}),
			ins("opportunities", "id,account_id,name,owner_id,stage,amount_fen,created_at,closed_at",
				[]any{int64(1), int64(1), "甲公司 CDP", int64(2), "closed_won", int64(50000000), at(5, 0), at(30, 0)}),
			ins("opportunity_contacts", "opportunity_id,person_id,role,is_primary", []any{int64(1), int64(1), "decision_maker", true}),
			ins("orders", "id,opportunity_id,account_id,amount_fen,ordered_at", []any{int64(1), int64(1), int64(1), int64(48000000), at(30, 0)}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at",
				[]any{int64(1), int64(1), "visitor", "lead", at(1, 0)},
				[]any{int64(2), int64(1), "lead", "mql", at(2, 0)},
				[]any{int64(3), int64(1), "mql", "sql", at(3, 0)},
				[]any{int64(4), int64(1), "sql", "opportunity", at(5, 0)},
				[]any{int64(5), int64(1), "opportunity", "customer", at(30, 0)},
				[]any{int64(6), int64(2), "visitor", "lead", at(2, 0)},
				[]any{int64(7), int64(2), "lead", "mql", at(20, 0)}),
		} {
			if e != nil {
				return e
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The dashboards read roll-ups, which the job runner keeps current;
	// the servers of the tests run without one.
	if _, err := rollup.Refresh(ctx, s, time.Now()); err != nil {
		t.Fatal(err)
	}
}

const (
	testEmail    = "li.na@example.cn"
	testPassword = "correct horse battery"
)

// env is a server over a loaded fixture with one user and one API key.
type env struct {
	store *store.Store
	auth  *auth.Service
	srv   *Server
	h     http.Handler
	key   string
}

func newEnv(t *testing.T, s *store.Store) *env {
	t.Helper()
	loadFixture(t, s)
	a := auth.New(s)
	if _, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
		t.Fatal(err)
	}
	key, _, err := a.CreateAPIKey(ctx, "test", model.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv.attribution.Limit.Burst = 1000 // the tests explore many parameters with one key
	return &env{store: s, auth: a, srv: srv, h: srv.Handler(), key: key}
}

// req describes one request to the handler.
type req struct {
	method, target string
	form           url.Values
	header         map[string]string
	cookies        []*http.Cookie
}

func (e *env) do(t *testing.T, r req) *http.Response {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	hr := httptest.NewRequest(r.method, r.target, body)
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	for _, c := range r.cookies {
		hr.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec.Result()
}

func (e *env) api(t *testing.T, target string) *http.Response {
	t.Helper()
	return e.do(t, req{target: target, header: map[string]string{"Authorization": "Bearer " + e.key}})
}

func bodyOf(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeJSON checks the status and content type of an API answer and decodes it.
func decodeJSON(t *testing.T, res *http.Response, wantCode int, v any) {
	t.Helper()
	body := bodyOf(t, res)
	if res.StatusCode != wantCode {
		t.Fatalf("status %d, want %d; body %s", res.StatusCode, wantCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("content type %q; body %s", ct, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// login signs the test user in and returns the session cookie.
func (e *env) login(t *testing.T) *http.Cookie {
	t.Helper()
	res := e.do(t, req{method: http.MethodPost, target: "/login", form: url.Values{"email": {testEmail}, "password": {testPassword}, "next": {"/"}}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: status %d: %s", res.StatusCode, bodyOf(t, res))
	}
	c := cookieNamed(res, sessionCookie)
	if c == nil || c.Value == "" {
		t.Fatal("login set no session cookie")
	}
	return c
}

func TestHealthReadyAndMetrics(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		res := e.do(t, req{target: "/healthz"})
		if b := bodyOf(t, res); res.StatusCode != 200 || strings.TrimSpace(b) != "ok" {
			t.Fatalf("healthz: %d %q", res.StatusCode, b)
		}
		if res := e.do(t, req{target: "/readyz"}); res.StatusCode != 200 {
			t.Fatalf("readyz: %d", res.StatusCode)
		}
		e.api(t, "/api/v1/stats")
		e.do(t, req{target: "/api/v1/nope"})

		res = e.do(t, req{target: "/metrics"})
		b := bodyOf(t, res)
		if res.StatusCode != 200 {
			t.Fatalf("metrics: %d", res.StatusCode)
		}
		for _, want := range []string{
			`revloop_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
			`revloop_http_requests_total{code="200",method="GET",route="GET /readyz"} 1`,
			`revloop_http_requests_total{code="200",method="GET",route="GET /api/v1/stats"} 1`,
			`revloop_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
			`revloop_http_request_duration_seconds_bucket{code="200",method="GET",route="GET /healthz",le="+Inf"} 1`,
			`revloop_build_info{role="all",version="test"} 1`,
			"go_goroutines ",
			"process_cpu_seconds_total ",
		} {
			if !strings.Contains(b, want) {
				t.Errorf("metrics lack %q", want)
			}
		}

		// Once the database is gone the process is alive but not ready.
		s.Close()
		if res := e.do(t, req{target: "/readyz"}); res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("readyz with closed store: %d", res.StatusCode)
		}
		if res := e.do(t, req{target: "/healthz"}); res.StatusCode != 200 {
			t.Fatalf("healthz with closed store: %d", res.StatusCode)
		}
	})
}

func TestMetricsRegistriesArePrivate(t *testing.T) {
	s := storetest.SQLite(t)
	a, err := newWith(t, testOpts{Store: s, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := newWith(t, testOpts{Store: s, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	a.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), `route="GET /healthz"`) {
		t.Fatal("a request to one server shows in another server's metrics")
	}
}

func TestAPIAuthentication(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		revoked, k, err := e.auth.CreateAPIKey(ctx, "old", model.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIKey(ctx, k.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, authz, want string
		}{
			{"missing", "", auth.ErrNoKey.Error()},
			{"unknown", "Bearer rl_notakey", auth.ErrBadKey.Error()},
			{"revoked", "Bearer " + revoked, auth.ErrRevokedKey.Error()},
			{"not bearer", "Basic " + e.key, "malformed Authorization header"},
			{"empty bearer", "Bearer ", auth.ErrNoKey.Error()},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := req{target: "/api/v1/stats", header: map[string]string{}}
				if c.authz != "" {
					r.header["Authorization"] = c.authz
				}
				res := e.do(t, r)
				var got apiError
				decodeJSON(t, res, http.StatusUnauthorized, &got)
				if !strings.Contains(got.Error, c.want) {
					t.Fatalf("error %q, want %q", got.Error, c.want)
				}
				if res.Header.Get("WWW-Authenticate") == "" {
					t.Fatal("no WWW-Authenticate header")
				}
			})
		}

		var st map[string]any
		decodeJSON(t, e.api(t, "/api/v1/stats"), http.StatusOK, &st)
		keys, _ := s.APIKeys(ctx)
		for _, k := range keys {
			if k.Name == "test" && k.LastUsedAt == nil {
				t.Fatal("key use not recorded")
			}
		}

		// A logged-in browser may read the API with its session cookie.
		cookie := e.login(t)
		decodeJSON(t, e.do(t, req{target: "/api/v1/stats", cookies: []*http.Cookie{cookie}}), http.StatusOK, &st)
		decodeJSON(t, e.do(t, req{target: "/api/v1/stats", cookies: []*http.Cookie{{Name: sessionCookie, Value: "forged"}}}), http.StatusUnauthorized, &st)
	})
}

// num reads a JSON number as its exact text, so money is compared exactly.
func num(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	return string(raw)
}

func TestAPIStats(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		var got map[string]json.RawMessage
		decodeJSON(t, e.api(t, "/api/v1/stats"), http.StatusOK, &got)
		want := map[string]string{
			"persons": "3", "known_persons": "2", "accounts": "2", "touchpoints": "5", "campaigns": "2",
			"opportunities": "1", "orders": "1", "won_revenue": "480000.00", "pipeline": "500000.00",
			"cost": "2234.56", "currency": `"CNY"`, "roi": "214.8074",
		}
		for k, v := range want {
			if g := num(t, got[k]); g != v {
				t.Errorf("%s = %s, want %s", k, g, v)
			}
		}
	})
}

type funnelJSON struct {
	Mode   string `json:"mode"`
	From   *time.Time
	To     *time.Time
	Stages []struct {
		Stage string   `json:"stage"`
		Count int64    `json:"count"`
		Rate  *float64 `json:"rate"`
	} `json:"stages"`
	Overall *float64 `json:"overall_rate"`
}

func (f funnelJSON) counts() string {
	var parts []string
	for _, s := range f.Stages {
		parts = append(parts, s.Stage+"="+strings.TrimSpace(formatInt(s.Count)))
	}
	return strings.Join(parts, " ")
}

func TestAPIFunnel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		// Team days in Asia/Shanghai (the default time zone): a day runs
		// from 16:00 UTC of the day before.
		cases := []struct {
			query, mode, counts string
			from, to            string // RFC 3339 of the window echoed back, "" for open
		}{
			{"", "cohort", "lead=2 mql=2 sql=1 opportunity=1 customer=1", "", ""},
			{"?mode=cohort&from=2026-01-12", "cohort", "lead=1 mql=1 sql=0 opportunity=0 customer=0", "2026-01-11T16:00:00Z", ""},
			// to is inclusive of its whole day: person 2 became a lead on Jan 12 at 08:00 there.
			{"?to=2026-01-11", "cohort", "lead=1 mql=1 sql=1 opportunity=1 customer=1", "", "2026-01-11T16:00:00Z"},
			{"?to=2026-01-12", "cohort", "lead=2 mql=2 sql=1 opportunity=1 customer=1", "", "2026-01-12T16:00:00Z"},
			// An RFC 3339 end is exclusive: midnight of Jan 12 there ends Jan 11.
			{"?to=" + url.QueryEscape("2026-01-12T00:00:00+08:00"), "cohort", "lead=1 mql=1 sql=1 opportunity=1 customer=1", "", "2026-01-11T16:00:00Z"},
			// A time inside a day stands for that whole day.
			{"?to=" + url.QueryEscape("2026-01-12T00:00:00Z"), "cohort", "lead=2 mql=2 sql=1 opportunity=1 customer=1", "", "2026-01-12T16:00:00Z"},
			{"?mode=period&from=2026-01-12&to=2026-01-19", "period", "lead=1 mql=1 sql=1 opportunity=1 customer=0", "2026-01-11T16:00:00Z", "2026-01-19T16:00:00Z"},
			{"?mode=PERIOD&from=2026-01-11&to=2026-01-11", "period", "lead=1 mql=0 sql=0 opportunity=0 customer=0", "2026-01-10T16:00:00Z", "2026-01-11T16:00:00Z"},
		}
		for _, c := range cases {
			var f funnelJSON
			decodeJSON(t, e.api(t, "/api/v1/funnel"+c.query), http.StatusOK, &f)
			if f.Mode != c.mode || f.counts() != c.counts {
				t.Errorf("%s: mode %s, %s; want %s, %s", c.query, f.Mode, f.counts(), c.mode, c.counts)
			}
			show := func(p *time.Time) string {
				if p == nil {
					return ""
				}
				return p.Format(time.RFC3339)
			}
			if show(f.From) != c.from || show(f.To) != c.to {
				t.Errorf("%s: window %q..%q, want %q..%q", c.query, show(f.From), show(f.To), c.from, c.to)
			}
		}
		var f funnelJSON
		decodeJSON(t, e.api(t, "/api/v1/funnel"), http.StatusOK, &f)
		if f.Stages[0].Rate != nil || *f.Stages[1].Rate != 1 || *f.Stages[2].Rate != 0.5 || *f.Overall != 0.5 {
			t.Errorf("rates: %+v overall %v", f.Stages, *f.Overall)
		}
	})
}

func TestAPIChannels(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		type row map[string]json.RawMessage
		var got struct {
			Rows  []row `json:"rows"`
			Total row   `json:"total"`
		}
		decodeJSON(t, e.api(t, "/api/v1/channels"), http.StatusOK, &got)
		if len(got.Rows) != 2 {
			t.Fatalf("rows: %d", len(got.Rows))
		}
		// Leads count for their lead source: both became leads with a
		// webinar touch (person 1's ad click came before it).
		want := []map[string]string{
			{"channel": `"paid_search"`, "touchpoints": "3", "leads": "0", "cost": "2234.56", "cost_per_lead": "null",
				"opportunities": "1", "pipeline": "500000.00", "won": "1", "won_revenue": "480000.00", "roi": "214.8074"},
			{"channel": `"webinar"`, "touchpoints": "2", "leads": "2", "cost": "0.00", "cost_per_lead": "null",
				"opportunities": "0", "pipeline": "0.00", "won": "0", "won_revenue": "0.00", "roi": "null"},
			{"channel": `"total"`, "touchpoints": "5", "leads": "2", "cost": "2234.56", "cost_per_lead": "1117.28",
				"opportunities": "1", "pipeline": "500000.00", "won": "1", "won_revenue": "480000.00", "roi": "214.8074"},
		}
		for i, r := range append(got.Rows, got.Total) {
			for k, v := range want[i] {
				if g := string(r[k]); g != v {
					t.Errorf("row %d %s = %s, want %s", i, k, g, v)
				}
			}
		}
		// Only January 11: one lead, one day of cost, no deal.
		decodeJSON(t, e.api(t, "/api/v1/channels?from=2026-01-11&to=2026-01-11"), http.StatusOK, &got)
		if string(got.Total["leads"]) != "1" || string(got.Total["cost"]) != "1000.00" || string(got.Total["opportunities"]) != "0" {
			t.Errorf("Jan 11 total: %v", got.Total)
		}
	})
}

func TestAPIBadRequests(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		cases := []struct {
			target string
			code   int
			want   []string
		}{
			{"/api/v1/funnel?from=2026-13-01", 400, []string{"from:", "YYYY-MM-DD", "RFC 3339"}},
			{"/api/v1/funnel?from=yesterday", 400, []string{"from:", `"yesterday"`, "YYYY-MM-DD"}},
			{"/api/v1/funnel?to=2026/01/31", 400, []string{"to:", "YYYY-MM-DD"}},
			{"/api/v1/funnel?from=2026-02-01&to=2026-01-01", 400, []string{"from", "to", "before"}},
			{"/api/v1/funnel?mode=weekly", 400, []string{"mode:", `"weekly"`, "cohort or period"}},
			{"/api/v1/channels?to=31.01.2026", 400, []string{"to:", "YYYY-MM-DD"}},
			{"/api/v1/funnel?from=" + url.QueryEscape("<script>"), 400, []string{"from:", "<script>"}},
			{"/api/v1/nope", 404, []string{"no such endpoint", "/api/v1/nope"}},
			{"/api/v2/stats", 404, []string{"no such endpoint"}},
		}
		for _, c := range cases {
			var got apiError
			decodeJSON(t, e.api(t, c.target), c.code, &got)
			for _, w := range c.want {
				if !strings.Contains(got.Error, w) {
					t.Errorf("%s: error %q lacks %q", c.target, got.Error, w)
				}
			}
		}
		res := e.do(t, req{method: http.MethodPost, target: "/api/v1/stats", header: map[string]string{"Authorization": "Bearer " + e.key}})
		var got apiError
		decodeJSON(t, res, http.StatusMethodNotAllowed, &got)
		if !strings.Contains(res.Header.Get("Allow"), "GET") || !strings.Contains(got.Error, "POST") {
			t.Errorf("405: Allow %q, error %q", res.Header.Get("Allow"), got.Error)
		}
	})
}

func TestLoginSessionAndPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		zh := map[string]string{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}

		res := e.do(t, req{target: "/?from=2026-01-12", header: zh})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2F%3Ffrom%3D2026-01-12" {
			t.Fatalf("anonymous overview: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}

		res = e.do(t, req{target: "/login?next=%2F", header: zh})
		page := bodyOf(t, res)
		if res.StatusCode != 200 || !strings.Contains(page, `<html lang="zh-CN">`) || !strings.Contains(page, "登录") || !strings.Contains(page, `name="password"`) {
			t.Fatalf("login page: %d\n%s", res.StatusCode, page)
		}

		res = e.do(t, req{method: http.MethodPost, target: "/login", header: zh, form: url.Values{"email": {testEmail}, "password": {"wrong password"}}})
		page = bodyOf(t, res)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "邮箱或密码错误") || cookieNamed(res, sessionCookie) != nil {
			t.Fatalf("wrong password: %d\n%s", res.StatusCode, page)
		}
		if !strings.Contains(page, `value="`+testEmail+`"`) {
			t.Error("wrong password form forgot the email")
		}
		res = e.do(t, req{method: http.MethodPost, target: "/login", form: url.Values{"email": {"nobody@example.cn"}, "password": {testPassword}}})
		if page := bodyOf(t, res); res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Wrong email or password") {
			t.Fatalf("unknown user: %d\n%s", res.StatusCode, page)
		}

		res = e.do(t, req{method: http.MethodPost, target: "/login", form: url.Values{"email": {" LI.NA@example.cn "}, "password": {testPassword}, "next": {"/?from=2026-01-12"}}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?from=2026-01-12" {
			t.Fatalf("login: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		c := cookieNamed(res, sessionCookie)
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || !c.Secure || c.Path != "/" || c.MaxAge <= 0 {
			t.Fatalf("session cookie: %+v", c)
		}
		session := []*http.Cookie{{Name: sessionCookie, Value: c.Value}}

		res = e.do(t, req{target: "/", header: zh, cookies: session})
		page = bodyOf(t, res)
		if res.StatusCode != 200 {
			t.Fatalf("overview: %d\n%s", res.StatusCode, page)
		}
		for _, want := range []string{`<html lang="zh-CN">`, "营销概览", "付费搜索", "线上研讨会", "¥480,000.00", "¥500,000.00",
			"¥2,234.56", "¥1,117.28", `214.81<span class="unit">×</span>`, "市场认可线索 (MQL)", "50.0%", testEmail, "退出登录", `href="/?lang=en"`} {
			if !strings.Contains(page, want) {
				t.Errorf("zh overview lacks %q", want)
			}
		}
		if strings.Contains(page, "Paid search") {
			t.Error("zh overview shows English channel names")
		}

		res = e.do(t, req{target: "/?lang=en&from=2026-01-12", header: zh, cookies: session})
		page = bodyOf(t, res)
		for _, want := range []string{`<html lang="en">`, "Marketing overview", "Paid search", "Webinars", "¥480,000.00", "Log out",
			`value="2026-01-12"`, "Since 2026-01-12", `<tr data-stage="lead">`} {
			if !strings.Contains(page, want) {
				t.Errorf("en overview lacks %q", want)
			}
		}
		if !regexp.MustCompile(`data-stage="lead">\s*<th scope="row">Lead</th>.*?<td class="num count">1</td>`).MatchString(strings.ReplaceAll(page, "\n", " ")) {
			t.Error("filtered funnel does not show one lead")
		}
		lc := cookieNamed(res, langCookie)
		if lc == nil || lc.Value != "en" {
			t.Fatalf("lang cookie: %+v", lc)
		}
		// The remembered choice beats Accept-Language.
		res = e.do(t, req{target: "/", header: zh, cookies: append(session, &http.Cookie{Name: langCookie, Value: "en"})})
		if page := bodyOf(t, res); !strings.Contains(page, "Marketing overview") {
			t.Error("lang cookie ignored")
		}
		// Bad filter input is a 400 page that says what was wrong, not a crash.
		res = e.do(t, req{target: "/?from=2026-02-01&to=2026-01-01&lang=en", cookies: session})
		if page := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "The start date is after the end date") {
			t.Errorf("bad range page: %d", res.StatusCode)
		}

		res = e.do(t, req{method: http.MethodPost, target: "/logout", cookies: session})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
			t.Fatalf("logout: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if c := cookieNamed(res, sessionCookie); c == nil || c.MaxAge >= 0 || c.Value != "" {
			t.Fatalf("logout did not clear the cookie: %+v", c)
		}
		if res := e.do(t, req{target: "/", cookies: session}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("old session still works after logout: %d", res.StatusCode)
		}
		var ae apiError
		decodeJSON(t, e.do(t, req{target: "/api/v1/stats", cookies: session}), http.StatusUnauthorized, &ae)
	})
}

func TestRequestLogsCarryNoSecrets(t *testing.T) {
	s := storetest.SQLite(t)
	loadFixture(t, s)
	a := auth.New(s)
	if _, err := a.CreateUser(ctx, testEmail, "", model.RoleViewer, testPassword); err != nil {
		t.Fatal(err)
	}
	key, _, err := a.CreateAPIKey(ctx, "k", model.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: s, auth: a, srv: srv, h: srv.Handler(), key: key}
	c := e.login(t)
	e.api(t, "/api/v1/funnel?from=2026-01-01")
	e.do(t, req{target: "/", cookies: []*http.Cookie{c}})
	out := logs.String()
	for _, secret := range []string{testPassword, key, c.Value, auth.HashToken(c.Value)} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain a secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"method":"POST","path":"/login","route":"POST /login","status":303`, `"path":"/api/v1/funnel"`, `"duration":`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}

func TestInsecureCookies(t *testing.T) {
	s := storetest.SQLite(t)
	a := auth.New(s)
	if _, err := a.CreateUser(ctx, testEmail, "", model.RoleViewer, testPassword); err != nil {
		t.Fatal(err)
	}
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), InsecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: s, auth: a, srv: srv, h: srv.Handler()}
	if c := e.login(t); c.Secure {
		t.Fatal("InsecureCookies still set Secure")
	}
}

func TestNoOpenRedirect(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		for _, next := range []string{"//evil.example", "//evil.example/x", "https://evil.example", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1", "evil.example"} {
			res := e.do(t, req{method: http.MethodPost, target: "/login", form: url.Values{"email": {testEmail}, "password": {testPassword}, "next": {next}}})
			loc := res.Header.Get("Location")
			if res.StatusCode != http.StatusSeeOther || (loc != "/" && loc != next) || strings.Contains(loc, "evil") && !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
				t.Errorf("next=%q: %d to %q", next, res.StatusCode, loc)
			}
			u, err := url.Parse(loc)
			if err != nil || u.Host != "" || u.Scheme != "" {
				t.Errorf("next=%q leads off-site to %q", next, loc)
			}
		}
		// The login form only carries a safe next.
		res := e.do(t, req{target: "/login?next=//evil.example"})
		if page := bodyOf(t, res); strings.Contains(page, "evil.example") {
			t.Error("login page echoes an off-site next")
		}
		// A logged-in visit to /login with an off-site next stays home.
		c := e.login(t)
		res = e.do(t, req{target: "/login?next=//evil.example", cookies: []*http.Cookie{c}})
		if res.Header.Get("Location") != "/" {
			t.Errorf("logged-in /login redirected to %q", res.Header.Get("Location"))
		}
	})
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/",
		"/":                    "/",
		"/?from=2026-01-01":    "/?from=2026-01-01",
		"/api/v1/stats":        "/api/v1/stats",
		"//evil.example":       "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"http:/evil.example":   "/",
		"/x\r\nLocation: y":    "/",
		"relative":             "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		form := url.Values{"email": {testEmail}, "password": {testPassword}}
		for _, h := range []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Origin": "https://evil.example"},
		} {
			res := e.do(t, req{method: http.MethodPost, target: "/login", form: form, header: h})
			if res.StatusCode != http.StatusForbidden || cookieNamed(res, sessionCookie) != nil {
				t.Errorf("cross-origin login with %v: %d", h, res.StatusCode)
			}
		}
		res := e.do(t, req{method: http.MethodPost, target: "/login", form: form, header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("same-origin login: %d", res.StatusCode)
		}
		c := cookieNamed(res, sessionCookie)
		res = e.do(t, req{method: http.MethodPost, target: "/logout", cookies: []*http.Cookie{c}, header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site logout: %d", res.StatusCode)
		}
	})
}

func TestPagesAreSelfContained(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		c := e.login(t)
		offsite := regexp.MustCompile(`(?i)(src|href|action|srcset)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import`)
		for _, target := range []string{"/", "/?lang=en", "/login", "/nope"} {
			res := e.do(t, req{target: target, cookies: []*http.Cookie{c}})
			page := bodyOf(t, res)
			if m := offsite.FindString(page); m != "" {
				t.Errorf("%s refers to another host: %q", target, m)
			}
			h := res.Header
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("%s: CSP %q", target, csp)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
				t.Errorf("%s: security headers %v", target, h)
			}
		}
		res := e.do(t, req{target: "/static/style.css"})
		css := bodyOf(t, res)
		if m := offsite.FindString(css); m != "" {
			t.Errorf("style.css refers to another host: %q", m)
		}
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") || !strings.Contains(res.Header.Get("Cache-Control"), "max-age") {
			t.Fatalf("style.css: %d %v", res.StatusCode, res.Header)
		}
		res = e.do(t, req{target: e.srv.assetURL("style.css")})
		if !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("versioned asset not cached for long: %q", res.Header.Get("Cache-Control"))
		}
		res = e.do(t, req{target: "/static/style.css", header: map[string]string{"If-None-Match": res.Header.Get("ETag")}})
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("conditional asset request: %d", res.StatusCode)
		}
		if res := e.do(t, req{target: "/static/nope.js"}); res.StatusCode != 404 {
			t.Errorf("missing asset: %d", res.StatusCode)
		}
		res = e.do(t, req{target: "/nope", header: map[string]string{"Accept-Language": "zh"}})
		if page := bodyOf(t, res); res.StatusCode != 404 || !strings.Contains(page, "页面不存在") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("404 page: %d", res.StatusCode)
		}
		res = e.do(t, req{method: http.MethodDelete, target: "/healthz"})
		if page := bodyOf(t, res); res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(page, "does not accept") || !strings.Contains(res.Header.Get("Allow"), "GET") {
			t.Errorf("DELETE /healthz: %d %v", res.StatusCode, res.Header)
		}
	})
}

func TestPanicsBecome500(t *testing.T) {
	s := storetest.SQLite(t)
	srv, err := newWith(t, testOpts{Store: s, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.observe(srv.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	for target, ctype := range map[string]string{"/api/v1/stats": "application/json", "/": "text/html"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != 500 || !strings.HasPrefix(rec.Header().Get("Content-Type"), ctype) || strings.Contains(rec.Body.String(), "boom") {
			t.Errorf("%s: %d %q %s", target, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	for header, want := range map[string]Lang{
		"":                        LangEN,
		"zh-CN,zh;q=0.9":          LangZH,
		"zh-TW":                   LangZH,
		"zh":                      LangZH,
		"en-US,en;q=0.9,zh;q=0.8": LangEN,
		"fr-FR,zh-CN;q=0.5":       LangZH,
		"de":                      LangEN,
		"en;q=0.1,zh-CN;q=0.9":    LangZH,
		"garbage;;q=x,,":          LangEN,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", header)
		if got, _ := requestLang(r); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", header, got, want)
		}
	}
}

func TestCatalogCoversTemplatesChannelsAndStages(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`\.T "([a-z_.\-A-Z]+)"`)
	entries, _ := templateFS.ReadDir("templates")
	for _, e := range entries {
		b, _ := templateFS.ReadFile("templates/" + e.Name())
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			for _, l := range langs {
				if _, ok := c[l][m[1]]; !ok {
					t.Errorf("%s uses %q, missing in %s", e.Name(), m[1], l)
				}
			}
		}
	}
	for _, key := range []string{"funnel.mode.cohort", "funnel.mode.period", "error.not_found", "error.internal", "error.forbidden", "login.bad_credentials", "login.missing_fields", "login.busy"} {
		if _, ok := c[LangEN][key]; !ok {
			t.Errorf("catalogue lacks %q", key)
		}
	}
	en, zh := c.locale(LangEN), c.locale(LangZH)
	for _, ch := range model.Channels {
		if en.Channel(ch) == zh.Channel(ch) || en.Channel(ch) == string(ch) {
			t.Errorf("channel %s is not translated: %q / %q", ch, en.Channel(ch), zh.Channel(ch))
		}
	}
	for _, st := range model.FunnelStages {
		if en.Stage(st) == zh.Stage(st) {
			t.Errorf("stage %s is not translated", st)
		}
	}
	for ch, want := range map[model.Channel]string{"paid_search": "付费搜索", "webinar": "线上研讨会", "offline_event": "线下活动",
		"employee_sharing": "全员营销", "wechat": "微信公众号", "wecom": "企业微信", "outbound": "外呼", "content": "内容", "referral": "推荐/合作伙伴"} {
		if zh.Channel(ch) != want {
			t.Errorf("zh %s = %q, want %q", ch, zh.Channel(ch), want)
		}
	}
	if len(c.keys()) < 50 {
		t.Errorf("only %d keys", len(c.keys()))
	}
}

func TestFormatting(t *testing.T) {
	money := map[model.Money]string{
		0: "¥0.00", 5: "¥0.05", 99: "¥0.99", 100: "¥1.00", 123456: "¥1,234.56",
		123456789: "¥1,234,567.89", 100000000: "¥1,000,000.00", -123456: "-¥1,234.56",
		-9223372036854775808: "-¥92,233,720,368,547,758.08", 9223372036854775807: "¥92,233,720,368,547,758.07",
	}
	for m, want := range money {
		if got := formatMoney(m); got != want {
			t.Errorf("formatMoney(%d) = %q, want %q", m, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := formatInt(n); got != want {
			t.Errorf("formatInt(%d) = %q, want %q", n, got, want)
		}
	}
	f := func(v float64) *float64 { return &v }
	if got := formatPercent(f(0.5)); got != "50.0%" {
		t.Errorf("percent: %q", got)
	}
	if got := formatPercent(nil); got != "—" {
		t.Errorf("percent nil: %q", got)
	}
	if got := formatROI(f(1234.5678)); got != "1,234.57×" {
		t.Errorf("roi: %q", got)
	}
	if got := formatMoneyPtr(nil); got != "—" {
		t.Errorf("money nil: %q", got)
	}
}

func TestListenAndServe(t *testing.T) {
	s := storetest.SQLite(t)
	srv, err := newWith(t, testOpts{Store: s, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(cctx, "127.0.0.1:0", func(u string) { urls <- u }) }()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("ListenAndServe: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base URL %q", base)
	}
	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz over TCP: %v %v", err, res)
	}
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
	if err := srv.ListenAndServe(ctx, "256.0.0.1:99999", nil); err == nil {
		t.Fatal("bad address accepted")
	}
}
