package web

import (
	"encoding/csv"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report/reviewtest"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

type periodAnswer struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Kind      string `json:"kind"`
	Campaigns []struct {
		ID    int64 `json:"id"`
		Leads int64 `json:"leads"`
	} `json:"campaigns"`
	Metrics []struct {
		Metric string   `json:"metric"`
		Target *float64 `json:"target"`
		Actual *float64 `json:"actual"`
		Gap    *float64 `json:"gap"`
		Good   *bool    `json:"good"`
	} `json:"metrics"`
}

// The period review through the API: the period's targets set (PUT) and
// read (GET), the review of March's webinars against them — won revenue
// ¥5,000,000 against ¥318,272 is −93.6 % — as JSON, CSV and XLSX; every
// bad question is a 400 naming what is wrong, a sales key may not set
// targets; the page in both languages and its targets form.
func TestPeriodReviewAPIAndPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newReviewEnv(t, s)
		const q = "from=2026-03-01&to=2026-03-31&kind=webinar&model=linear"
		var ts targetsAnswer
		decodeJSON(t, e.apiJSON(t, http.MethodPut, "/api/v1/reviews/period/targets?"+q, e.marketer,
			map[string]any{"targets": []map[string]any{{"metric": "won_revenue", "value": 5000000}, {"metric": "leads", "value": 8}}}), http.StatusOK, &ts)
		if len(ts.Targets) != 2 || ts.Targets[0].Metric != "leads" || string(ts.Targets[1].Value) != "5000000.00" {
			t.Fatalf("targets %+v", ts)
		}
		decodeJSON(t, e.api(t, "/api/v1/reviews/period/targets?"+q), http.StatusOK, &ts)
		if len(ts.Targets) != 2 {
			t.Errorf("targets read back %+v", ts)
		}
		var pr periodAnswer
		decodeJSON(t, e.api(t, "/api/v1/reviews/period?"+q), http.StatusOK, &pr)
		if pr.From != "2026-03-01" || pr.Kind != "webinar" || len(pr.Campaigns) != 1 || pr.Campaigns[0].ID != reviewtest.Webinar || pr.Campaigns[0].Leads != 4 {
			t.Fatalf("period %+v", pr)
		}
		seen := 0
		for _, m := range pr.Metrics {
			switch m.Metric {
			case model.MetricWonRevenue:
				seen++
				if m.Target == nil || *m.Target != 5000000 || *m.Actual != 318272 || math.Abs(*m.Gap-(318272.0/5000000-1)) > 1e-9 || *m.Good {
					t.Errorf("won revenue %+v", m)
				}
			case model.MetricLeads:
				seen++
				if *m.Target != 8 || *m.Actual != 4 || *m.Gap != -0.5 || *m.Good {
					t.Errorf("leads %+v", m)
				}
			case model.MetricCost:
				if m.Target != nil || *m.Actual != 3000 {
					t.Errorf("cost %+v", m)
				}
			}
		}
		if seen != 2 {
			t.Errorf("%d metrics with targets", seen)
		}
		res := e.api(t, "/api/v1/reviews/period?format=csv&"+q)
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(bodyOf(t, res), "\uFEFF"))).ReadAll()
		if res.StatusCode != 200 || err != nil || len(recs) != 17 {
			t.Fatalf("csv: %d, %d records, %v", res.StatusCode, len(recs), err)
		}
		for _, r := range recs {
			if r[0] == "Won revenue" && (r[2] != "5000000.00" || r[3] != "318272.00" || r[4] != "-93.63%") {
				t.Errorf("csv won revenue %q", r)
			}
		}
		res = e.api(t, "/api/v1/reviews/period?format=xlsx&"+q)
		if res.StatusCode != 200 {
			t.Fatalf("xlsx: %d", res.StatusCode)
		}
		d := openXLSX(t, []byte(bodyOf(t, res)))
		if sheets := d.sheets(); len(sheets) != 2 || len(d.rows(sheets[0])) != 17 || len(d.rows(sheets[1])) != 2 {
			t.Errorf("sheets %q", sheets)
		}

		for _, tc := range []struct {
			method, target, key, body string
			code                      int
			saying                    string
		}{
			{"GET", "/api/v1/reviews/period?from=2026-03-01", e.key, "", 400, "from and to: give both"},
			{"GET", "/api/v1/reviews/period?from=2026-03-31&to=2026-03-01", e.key, "", 400, "must not be after"},
			{"GET", "/api/v1/reviews/period?from=2020-01-01&to=2026-03-01", e.key, "", 400, "a period is at most 731 days"},
			{"GET", "/api/v1/reviews/period?channel=telepathy", e.key, "", 400, `channel \"telepathy\": not a channel`},
			{"GET", "/api/v1/reviews/period?kind=" + strings.Repeat("x", 65), e.key, "", 400, "kind: at most 64 characters"},
			{"GET", "/api/v1/reviews/period?model=psychic", e.key, "", 400, "model"},
			{"GET", "/api/v1/reviews/period?format=xml", e.key, "", 400, `format \"xml\"`},
			{"GET", "/api/v1/reviews/period?from=2026-13-01&to=2026-13-31", e.key, "", 400, "is not a day"},
			{"PUT", "/api/v1/reviews/period/targets?" + q, e.marketer, `{"targets": [{"metric": "leeds", "value": 5}]}`, 400, `unknown metric \"leeds\"`},
			{"PUT", "/api/v1/reviews/period/targets?" + q, e.marketer, `{}`, 400, "targets: required"},
			{"PUT", "/api/v1/reviews/period/targets?kind=webinar", e.marketer, `{"targets": []}`, 400, "from and to: required"},
			{"PUT", "/api/v1/reviews/period/targets?" + q, e.sales, `{"targets": []}`, 403, ""},
		} {
			res := e.doBody(t, req{method: tc.method, target: tc.target, header: map[string]string{"Authorization": "Bearer " + tc.key, "Content-Type": "application/json"}}, tc.body)
			if b := bodyOf(t, res); res.StatusCode != tc.code || !strings.Contains(b, tc.saying) {
				t.Errorf("%s %s: %d %s", tc.method, tc.target, res.StatusCode, b)
			}
		}

		if _, err := e.auth.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
			t.Fatal(err)
		}
		c := e.login(t)
		page := func(target string) (int, string) {
			res := e.do(t, req{target: target, cookies: []*http.Cookie{c}})
			return res.StatusCode, bodyOf(t, res)
		}
		rawKey := regexp.MustCompile(`(period|review)\.[a-z_]+\.[a-z_]+`)
		for lang, want := range map[string][]string{"en": {"Period review", "March webinar", `id="table-targets"`, `id="table-campaigns"`, `id="targets-form"`, "93.6"},
			"zh-CN": {"阶段复盘", "三月直播", `id="targets-form"`}} {
			code, html := page("/reviews/period?lang=" + lang + "&" + q)
			if code != 200 {
				t.Fatalf("%s page: %d", lang, code)
			}
			for _, w := range want {
				if !strings.Contains(html, w) {
					t.Errorf("%s page lacks %q", lang, w)
				}
			}
			if k := rawKey.FindAllString(html, 3); len(k) > 0 {
				t.Errorf("%s page: raw keys %v", lang, k)
			}
		}
		if code, html := page("/reviews/period?from=2026-03-01"); code != 400 || !strings.Contains(html, `id="filter-error"`) {
			t.Errorf("a bad range: %d", code)
		}
		if code, _ := page("/reviews/period"); code != 200 {
			t.Errorf("the current quarter: %d", code)
		}
		form := url.Values{"from": {"2026-03-01"}, "to": {"2026-03-31"}, "kind": {"webinar"}, "model": {"linear"}, "target_cost": {"¥2,500"}}
		res = e.do(t, req{method: http.MethodPost, target: "/reviews/period/targets", form: form, cookies: []*http.Cookie{c}})
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=targets") {
			t.Fatalf("targets form: %d %s", res.StatusCode, bodyOf(t, res))
		}
		key := store.PeriodGroupKey{From: reviewtest.March[0], To: reviewtest.March[1], Kind: "webinar"}
		if got, _ := s.PeriodTargets(ctx, key); len(got) != 1 || got[0].Metric != model.MetricCost || got[0].Value != 250000 {
			t.Errorf("targets after the form %+v", got)
		}
		form.Set("target_leads", "-3")
		res = e.do(t, req{method: http.MethodPost, target: "/reviews/period/targets", form: form, cookies: []*http.Cookie{c}})
		if b := bodyOf(t, res); res.StatusCode != 400 || !strings.Contains(b, `id="targets-error"`) || !strings.Contains(b, `value="-3"`) {
			t.Errorf("a bad targets form: %d", res.StatusCode)
		}
	})
}
