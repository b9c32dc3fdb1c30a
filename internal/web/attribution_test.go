package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// attributionJSON is the part of the response the tests read; numbers stay
// raw so that money is compared as printed.
type attributionJSON struct {
	Model         string                       `json:"model"`
	Conversion    string                       `json:"conversion"`
	By            string                       `json:"by"`
	LookbackDays  int                          `json:"lookback_days"`
	Conversions   int                          `json:"conversions"`
	Credited      float64                      `json:"credited_conversions"`
	CreditedValue json.RawMessage              `json:"credited_value"`
	Uncredited    int                          `json:"uncredited_conversions"`
	Cost          json.RawMessage              `json:"cost"`
	Rows          []map[string]json.RawMessage `json:"rows"`
	Sourced       map[string]json.RawMessage   `json:"sourced"`
	Influenced    map[string]json.RawMessage   `json:"influenced"`
	Source        string                       `json:"source"`
}

// rowsString prints rows as key=conversions/value/cost/roi[/name].
func (a attributionJSON) rowsString() string {
	var b strings.Builder
	for _, r := range a.Rows {
		var key string
		json.Unmarshal(r["key"], &key)
		b.WriteString(key + "=" + string(r["conversions"]) + "/" + string(r["value"]) + "/" + string(r["cost"]) + "/" + string(r["roi"]))
		if n, ok := r["name"]; ok {
			var name string
			json.Unmarshal(n, &name)
			b.WriteString("/" + name)
		}
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String())
}

// The fixture (loadFixture): person 1 touched paid search (campaign 1,
// January 10) then a webinar (campaign 2, January 11) before opportunity 1
// (¥500,000, created January 15, won February 9) and its order (¥480,000).
// Campaign 1 cost ¥2,234.56 over January 10 and 11. Person 2 touched a
// webinar and reached MQL on January 30, person 1 on January 12.
func TestAPIAttribution(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		cases := []struct {
			query string
			rows  string
		}{
			{"model=first", "paid_search=1/500000.00/2234.56/223.7577 webinar=0/0.00/0.00/null"},
			{"model=last", "webinar=1/500000.00/0.00/null paid_search=0/0.00/2234.56/0"},
			{"model=linear", "paid_search=0.5/250000.00/2234.56/111.8788 webinar=0.5/250000.00/0.00/null"},
			{"model=linear&conversion=won", "paid_search=0.5/250000.00/2234.56/111.8788 webinar=0.5/250000.00/0.00/null"},
			{"model=first&conversion=order", "paid_search=1/480000.00/2234.56/214.8074 webinar=0/0.00/0.00/null"},
			{"model=linear&by=campaign", "1=0.5/250000.00/2234.56/111.8788/百度搜索 2=0.5/250000.00/0.00/null/线上研讨会"},
			{"model=first&by=keyword", "(none)=1/500000.00/null/null"},
			{"model=first&by=promoter", "(none)=1/500000.00/null/null"},
			{"model=first&by=source", "(none)=1/500000.00/null/null"},
			{"model=linear&conversion=mql", "webinar=1.5/0.00/0.00/null paid_search=0.5/0.00/2234.56/0"},
			// Only January 11 on: one day of cost; the deal was created inside.
			{"model=first&from=2026-01-11", "paid_search=1/500000.00/1000.00/500 webinar=0/0.00/0.00/null"},
			// A one-day lookback: both touches are older than the deal's day before; nothing is credited.
			{"model=first&lookback=1", "paid_search=0/0.00/2234.56/0"},
			// Markov learns from persons 2 (webinar) and 3 (paid search twice,
			// collapsed) too, whose journeys end without an opportunity:
			// P = 2/3·(1/2·1/2) + 1/3·1/2 = 1/3; without paid search 1/6
			// (RE 1/2), without webinar 0 (RE 1); credits 1/3 and 2/3.
			{"model=markov", "webinar=0.6666666666666666/333333.33/0.00/null paid_search=0.3333333333333333/166666.67/2234.56/74.5859"},
		}
		for _, c := range cases {
			var got attributionJSON
			decodeJSON(t, e.api(t, "/api/v1/attribution?"+c.query), http.StatusOK, &got)
			if g := got.rowsString(); g != c.rows {
				t.Errorf("%s:\n got %s\nwant %s", c.query, g, c.rows)
			}
		}
		var got attributionJSON
		decodeJSON(t, e.api(t, "/api/v1/attribution?model=linear"), http.StatusOK, &got)
		if got.Model != "linear" || got.Conversion != "opportunity" || got.By != "channel" || got.LookbackDays != 365 ||
			got.Conversions != 1 || got.Credited != 1 || string(got.CreditedValue) != "500000.00" || string(got.Cost) != "2234.56" {
			t.Errorf("header: %+v", got)
		}
		if string(got.Sourced["count"]) != "1" || string(got.Sourced["value"]) != "500000.00" ||
			string(got.Influenced["count"]) != "1" || string(got.Influenced["value"]) != "500000.00" {
			t.Errorf("sourced %v influenced %v", got.Sourced, got.Influenced)
		}
		got = attributionJSON{}
		decodeJSON(t, e.api(t, "/api/v1/attribution?model=first&lookback=1"), http.StatusOK, &got)
		if got.Conversions != 1 || got.Uncredited != 1 || got.Credited != 0 || string(got.Sourced["count"]) != "0" {
			t.Errorf("lookback 1: %+v", got)
		}
		got = attributionJSON{}
		decodeJSON(t, e.api(t, "/api/v1/attribution?model=first&conversion=sql"), http.StatusOK, &got)
		if got.Sourced != nil || got.Conversions != 1 {
			t.Errorf("sql: counts only, no sourced pipeline: %+v", got)
		}
	})
}

func TestAPIAttributionBadParams(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		cases := []struct {
			query string
			want  []string
		}{
			{"", []string{"model:", "first", "markov", "shapley-rate"}},
			{"model=magic", []string{"model:", `"magic"`, "linear"}},
			{"model=linear&conversion=lead", []string{"conversion:", `"lead"`, "opportunity, won, order, mql, sql"}},
			{"model=linear&by=region", []string{"by:", `"region"`, "channel, source, campaign, adgroup, keyword, asset, promoter"}},
			{"model=linear&lookback=0", []string{"lookback:", "1 to 3650"}},
			{"model=linear&lookback=ten", []string{"lookback:", `"ten"`}},
			{"model=linear&from=yesterday", []string{"from:", "YYYY-MM-DD"}},
			{"model=linear&from=2026-02-01&to=2026-01-01", []string{"before"}},
			{"model=" + url.QueryEscape(strings.Repeat("x", 500)), []string{"model:", "…"}},
		}
		for _, c := range cases {
			var got apiError
			decodeJSON(t, e.api(t, "/api/v1/attribution?"+c.query), http.StatusBadRequest, &got)
			for _, w := range c.want {
				if !strings.Contains(got.Error, w) {
					t.Errorf("%s: error %q lacks %q", c.query, got.Error, w)
				}
			}
		}
		res := e.do(t, req{target: "/api/v1/attribution?model=linear"})
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("no key: status %d", res.StatusCode)
		}
	})
}

// TestAPIAttributionRollUps: a buying group of two contacts, one opportunity
// (¥300.00) and three touches, one per contact key; linear gives each touch
// a third (¥100.00).
func TestAPIAttributionRollUps(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		err := s.Load(ctx, func(l store.Loader) error {
			ins := func(table string, cols string, rows ...[]any) error {
				return l.Insert(table, strings.Split(cols, ","), rows)
			}
			for _, e := range []error{
				ins("users", "id,email,name,role,created_at", []any{int64(1), "wang@x.cn", "王芳", "sales", day0}),
				ins("accounts", "id,name,created_at", []any{int64(1), "甲公司", day0}),
				ins("campaigns", "id,code,name,name_en,channel,platform,created_at", []any{int64(1), "baidu-1", "百度搜索", "Baidu search", "paid_search", "baidu", day0}),
				ins("ad_groups", "id,campaign_id,name", []any{int64(1), int64(1), "品牌词"}, []any{int64(2), int64(1), "白皮书推广"}),
				ins("keywords", "id,campaign_id,ad_group_id,text", []any{int64(1), int64(1), int64(1), "cdp 系统"}),
				ins("content_assets", "id,kind,title,title_en,created_at", []any{int64(1), "whitepaper", "白皮书", "White paper", day0}),
				ins("persons", "id,account_id,stage,first_seen_at,created_at",
					[]any{int64(1), int64(1), "opportunity", day0, day0}, []any{int64(2), int64(1), "opportunity", day0, day0}),
				// Touch 1's ad group comes from its keyword; touch 2 names its own.
				ins("touchpoints", "id,person_id,occurred_at,type,channel,source,medium,campaign_id,ad_group_id,keyword_id,content_id,promoter_id",
					[]any{int64(1), int64(1), at(0, 1), "ad_click", "paid_search", "baidu", "cpc", int64(1), nil, int64(1), nil, nil},
					[]any{int64(2), int64(1), at(1, 0), "download", "content", "", "", nil, int64(2), nil, int64(1), nil},
					[]any{int64(3), int64(2), at(2, 0), "share_click", "employee_sharing", "", "", nil, nil, nil, nil, int64(1)}),
				ins("daily_costs", "id,day,platform,campaign_id,keyword_id,cost_fen", []any{int64(1), day0, "baidu", int64(1), int64(1), int64(10000)}),
				ins("opportunities", "id,account_id,name,stage,amount_fen,created_at", []any{int64(1), int64(1), "CDP", "proposal", int64(30000), at(5, 0)}),
				ins("opportunity_contacts", "opportunity_id,person_id,is_primary", []any{int64(1), int64(1), true}, []any{int64(1), int64(2), false}),
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
		srv, err := newWith(t, testOpts{Store: s, Auth: auth.New(s), Logger: slog.New(slog.DiscardHandler), Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := auth.New(s).CreateAPIKey(ctx, "test", model.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		e := &env{store: s, srv: srv, h: srv.Handler(), key: key}
		// key=conversions (2 decimals)/value/cost/roi/name/name_en
		row := func(r map[string]json.RawMessage) string {
			var key, name, nameEN string
			var conv float64
			json.Unmarshal(r["key"], &key)
			json.Unmarshal(r["name"], &name)
			json.Unmarshal(r["name_en"], &nameEN)
			json.Unmarshal(r["conversions"], &conv)
			return fmt.Sprintf("%s=%.2f/%s/%s/%s/%s/%s", key, conv, r["value"], r["cost"], r["roi"], name, nameEN)
		}
		cases := map[string]string{
			"channel":  "content=0.33/100.00/0.00/null//; employee_sharing=0.33/100.00/0.00/null//; paid_search=0.33/100.00/100.00/1//",
			"campaign": "(none)=0.67/200.00/null/null//; 1=0.33/100.00/100.00/1/百度搜索/Baidu search",
			"keyword":  "(none)=0.67/200.00/null/null//; 1=0.33/100.00/100.00/1/cdp 系统/",
			"adgroup":  "(none)=0.33/100.00/null/null//; 1=0.33/100.00/100.00/1/品牌词/; 2=0.33/100.00/0.00/null/白皮书推广/",
			"asset":    "(none)=0.67/200.00/null/null//; 1=0.33/100.00/null/null/白皮书/White paper",
			"promoter": "(none)=0.67/200.00/null/null//; 1=0.33/100.00/null/null/王芳/",
			"source":   "(none)=0.67/200.00/null/null//; baidu / cpc=0.33/100.00/null/null//",
		}
		check := func(source string) {
			t.Helper()
			for by, want := range cases {
				var got attributionJSON
				decodeJSON(t, e.api(t, "/api/v1/attribution?model=linear&by="+by), http.StatusOK, &got)
				var rows []string
				for _, r := range got.Rows {
					rows = append(rows, row(r))
				}
				if g := strings.Join(rows, "; "); g != want || got.Source != source {
					t.Errorf("by=%s (%s, want %s):\n got %s\nwant %s", by, got.Source, source, g, want)
				}
			}
		}
		check("computed")
		// The same from the stored credits.
		if _, err := credits.Recompute(ctx, s, credits.Full, time.Now()); err != nil {
			t.Fatal(err)
		}
		check("stored")
		// Sourced: the first touch (paid search) is marketing.
		var got attributionJSON
		decodeJSON(t, e.api(t, "/api/v1/attribution?model=w-shaped"), http.StatusOK, &got)
		if string(got.Sourced["value"]) != "300.00" || string(got.Influenced["count"]) != "1" || string(got.CreditedValue) != "300.00" {
			t.Errorf("w-shaped: %+v", got)
		}
	})
}

// TestAPIAttributionStoredMatchesComputed: after a recompute, every model,
// conversion and roll-up answered from the stored credits equals the
// answer computed on request before; markov and shapley-rate by channel
// stay computed.
func TestAPIAttributionStoredMatchesComputed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		var queries []string
		for _, m := range attribution.Models {
			for _, k := range credits.ConversionKinds {
				for _, by := range []string{"channel", "source", "campaign", "adgroup"} {
					queries = append(queries, fmt.Sprintf("model=%s&conversion=%s&by=%s", m, k, by))
				}
			}
			queries = append(queries, fmt.Sprintf("model=%s&from=2026-01-02", m), fmt.Sprintf("model=%s&conversion=mql&to=2026-01-10", m),
				fmt.Sprintf("model=%s&conversion=order&order_kind=new", m), fmt.Sprintf("model=%s&conversion=order&order_kind=upsell&by=campaign", m))
		}
		before := map[string]attributionJSON{}
		for _, q := range queries {
			var got attributionJSON
			decodeJSON(t, e.api(t, "/api/v1/attribution?"+q), http.StatusOK, &got)
			if got.Source != "computed" {
				t.Fatalf("%s before any recompute: source %q", q, got.Source)
			}
			before[q] = got
		}
		var st struct {
			Mode        string `json:"mode"`
			Conversions int    `json:"conversions"`
		}
		startApp(t, e.srv)
		job := operate(t, e.h, http.MethodPost, "/api/v1/attribution/recompute", e.marketerKey(t), "")
		// opportunity 1, won 1, order 1, mql 2 (persons 1 and 2), sql 1.
		if err := json.Unmarshal(job.Result, &st); err != nil || job.State != model.JobSucceeded || st.Mode != "full" || st.Conversions != 6 {
			t.Errorf("recompute: %+v %+v", job, st)
		}
		for _, q := range queries {
			var got attributionJSON
			decodeJSON(t, e.api(t, "/api/v1/attribution?"+q), http.StatusOK, &got)
			want := before[q]
			source := "stored"
			byChannel := strings.Contains(q, "by=channel") || !strings.Contains(q, "by=")
			if byChannel && (strings.Contains(q, "model=markov&") || strings.Contains(q, "model=shapley-rate&")) {
				source = "computed"
			}
			if got.Source != source {
				t.Errorf("%s: source %q, want %q", q, got.Source, source)
			}
			if got.Conversions != want.Conversions || got.Credited != want.Credited || string(got.CreditedValue) != string(want.CreditedValue) ||
				got.Uncredited != want.Uncredited || fmt.Sprint(got.Sourced) != fmt.Sprint(want.Sourced) || fmt.Sprint(got.Influenced) != fmt.Sprint(want.Influenced) {
				t.Errorf("%s: header\n got %+v\nwant %+v", q, got, want)
			}
			if len(got.Rows) != len(want.Rows) {
				t.Errorf("%s: rows\n got %s\nwant %s", q, got.rowsString(), want.rowsString())
				continue
			}
			for i := range got.Rows {
				g, w := got.Rows[i], want.Rows[i]
				var gc, wc float64
				json.Unmarshal(g["conversions"], &gc)
				json.Unmarshal(w["conversions"], &wc)
				if string(g["key"]) != string(w["key"]) || math.Abs(gc-wc) > 1e-9 || string(g["value"]) != string(w["value"]) ||
					string(g["cost"]) != string(w["cost"]) || string(g["roi"]) != string(w["roi"]) || string(g["name"]) != string(w["name"]) {
					t.Errorf("%s: rows\n got %s\nwant %s", q, got.rowsString(), want.rowsString())
					break
				}
			}
		}
	})
}

func TestAPIAttributionRecompute(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		const target = "/api/v1/attribution/recompute"
		mk := e.marketerKey(t)
		cases := []struct {
			key, body string
			code      int
			want      string
		}{
			{"", "", http.StatusUnauthorized, ""},
			{e.key, "", http.StatusForbidden, "marketer"},
			{mk, `{"mode": "sometimes"}`, http.StatusBadRequest, `mode: unknown mode \"sometimes\": use full or incremental`},
			{mk, `full`, http.StatusBadRequest, `body must be a JSON object such as {\"mode\": \"full\"}: invalid character`},
			{mk, `{"mode": "full", "models": ["linear"]}`, http.StatusBadRequest, `body must be a JSON object such as {\"mode\": \"full\"}: unknown field \"models\"`},
			{mk, `{"mode": "full"} {}`, http.StatusBadRequest, "found more after the first JSON value"},
			{mk, `{"mode": 1}`, http.StatusBadRequest, "field mode: want string, got a JSON number"},
			{mk, `{"mode": "full"}` + strings.Repeat(" ", 1<<20), http.StatusRequestEntityTooLarge, "body larger than 1048576 bytes"},
		}
		for _, c := range cases {
			res := e.send(t, http.MethodPost, target, c.key, "application/json", c.body)
			body := bodyOf(t, res)
			if res.StatusCode != c.code || !strings.Contains(body, c.want) {
				t.Errorf("key %.6s body %.40q: %d %s, want %d with %q", c.key, c.body, res.StatusCode, body, c.code, c.want)
			}
		}
		// A recomputation is an operation: 202, then its job's result.
		startApp(t, e.srv)
		for _, c := range []struct{ body, want string }{
			{`{"mode": "full"}`, `"mode":"full","conversions":6,"deleted":0,"credits":`},
			{"", `"mode":"full","conversions":6`},
			{`{"mode": "incremental"}`, `"mode":"incremental","conversions":0,"deleted":0,"credits":0`},
		} {
			job := operate(t, e.h, http.MethodPost, target, mk, c.body)
			if job.State != model.JobSucceeded || job.Kind != "attribution.recompute" || !strings.Contains(string(job.Result), c.want) {
				t.Errorf("body %q: job %+v, want a result with %q", c.body, job, c.want)
			}
		}
		if res := e.send(t, http.MethodGet, target, mk, "", ""); res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d", res.StatusCode)
		}
	})
}

// A markov answer computed on request is reused until the data moves: a
// new touch gives a new answer at once.
func TestAPIAttributionLiveCacheFollowsData(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		const q = "/api/v1/attribution?model=markov"
		const before = "webinar=0.6666666666666666/333333.33/0.00/null paid_search=0.3333333333333333/166666.67/2234.56/74.5859"
		for range 2 {
			var got attributionJSON
			decodeJSON(t, e.api(t, q), http.StatusOK, &got)
			if g := got.rowsString(); g != before {
				t.Fatalf("got %s\nwant %s", g, before)
			}
		}
		// Person 3 (paid search on days 0 and 40, no opportunity) also saw
		// a webinar on day 6: paths PS → W → conversion, W → null and
		// PS → W → PS → null. From PS: W 2/3, null 1/3; from W:
		// conversion, null and PS 1/3 each; so x_W = 3/7, x_PS = 2/7 and
		// P = 2/3·2/7 + 1/3·3/7 = 1/3. Without PS, P = 1/3·1/3 = 1/9
		// (RE 2/3); without W, P = 0 (RE 1). Credits 0.6 and 0.4.
		insert := "INSERT INTO touchpoints (person_id, occurred_at, type, channel) VALUES (3, ?, 'webinar_attend', 'webinar')"
		if s.Dialect() == store.Postgres {
			insert = strings.Replace(insert, "?", "$1", 1)
		}
		if _, err := s.WriterDB().ExecContext(t.Context(), insert, at(6, 0)); err != nil {
			t.Fatal(err)
		}
		var got attributionJSON
		decodeJSON(t, e.api(t, q), http.StatusOK, &got)
		const after = "webinar=0.6/300000.00/0.00/null paid_search=0.4/200000.00/2234.56/89.5031"
		if g := got.rowsString(); g != after {
			t.Errorf("after a new touch:\n got %s\nwant %s", g, after)
		}
	})
}

// Orders can be credited by kind: the fixture's one order is a new one.
func TestAPIAttributionOrderKind(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		for _, c := range []struct {
			query       string
			conversions int
			rows        string
		}{
			{"model=first&conversion=order&order_kind=new", 1, "paid_search=1/480000.00/2234.56/214.8074 webinar=0/0.00/0.00/null"},
			{"model=first&conversion=order&order_kind=UPSELL", 0, "paid_search=0/0.00/2234.56/0"},
			{"model=markov&conversion=order&order_kind=renewal", 0, "paid_search=0/0.00/2234.56/0"},
		} {
			var got attributionJSON
			decodeJSON(t, e.api(t, "/api/v1/attribution?"+c.query), http.StatusOK, &got)
			if got.Conversions != c.conversions || got.rowsString() != c.rows {
				t.Errorf("%s: %d conversions, rows %s; want %d, %s", c.query, got.Conversions, got.rowsString(), c.conversions, c.rows)
			}
		}
		for q, want := range map[string]string{
			"model=first&conversion=order&order_kind=gift": `order_kind: unknown order kind \"gift\": use one of new, renewal, upsell`,
			"model=first&conversion=won&order_kind=new":    "order_kind: only with conversion=order",
			"model=first&order_kind=new":                   "order_kind: only with conversion=order",
		} {
			res := e.api(t, "/api/v1/attribution?"+q)
			if body := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
				t.Errorf("%s: %d %s, want 400 with %s", q, res.StatusCode, body, want)
			}
		}
	})
}
