package web

import (
	"encoding/csv"
	"encoding/json"
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

// reviewEnv is a server over the reviewtest world with a viewer key
// (e.key), a marketer's key of no user and a sales key of 甲.
type reviewEnv struct {
	*env
	marketer, sales string
}

func newReviewEnv(t *testing.T, s *store.Store) reviewEnv {
	t.Helper()
	reviewtest.Load(t, s)
	e := newEnvOver(t, s)
	m, _, err := e.auth.CreateAPIKey(ctx, "marketing", model.RoleMarketer)
	if err != nil {
		t.Fatal(err)
	}
	sk, _, err := e.auth.CreateUserAPIKey(ctx, reviewtest.SalesJia, "jia", model.RoleSales)
	if err != nil {
		t.Fatal(err)
	}
	return reviewEnv{env: e, marketer: m, sales: sk}
}

const march = "from=2026-03-01&to=2026-03-31&model=linear"

type targetsAnswer struct {
	Version int64 `json:"version"`
	Targets []struct {
		Metric    string          `json:"metric"`
		Value     json.RawMessage `json:"value"`
		Unit      string          `json:"unit"`
		Direction string          `json:"direction"`
	} `json:"targets"`
}

// Targets round-trip through the API in their units (yuan for money);
// what is wrong is refused with 400 naming the target, a stale version
// with 409, a viewer with 403.
func TestReviewTargetsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newReviewEnv(t, s)
		var got targetsAnswer
		decodeJSON(t, e.api(t, "/api/v1/campaigns/1/targets"), http.StatusOK, &got)
		if len(got.Targets) != 0 {
			t.Fatalf("before: %+v", got)
		}
		before := got.Version
		body := map[string]any{"targets": []map[string]any{{"metric": "leads", "value": 5}, {"metric": "won_revenue", "value": 5000000},
			{"metric": "cost_per_lead", "value": "600.50"}, {"metric": "first_follow_up_hours", "value": 1.5}, {"metric": "roi", "value": 100}}}
		if res := e.apiJSON(t, http.MethodPut, "/api/v1/campaigns/1/targets", e.key, body); res.StatusCode != http.StatusForbidden {
			t.Errorf("a viewer set targets: %d", res.StatusCode)
		}
		decodeJSON(t, e.apiJSON(t, http.MethodPut, "/api/v1/campaigns/1/targets", e.marketer, body), http.StatusOK, &got)
		want := map[string]string{"leads": "5", "won_revenue": "5000000.00", "cost_per_lead": "600.50", "first_follow_up_hours": "1.5", "roi": "100"}
		check := func(got targetsAnswer) {
			t.Helper()
			if len(got.Targets) != len(want) {
				t.Fatalf("targets %+v", got.Targets)
			}
			for _, x := range got.Targets {
				if string(x.Value) != want[x.Metric] {
					t.Errorf("%s = %s, want %s", x.Metric, x.Value, want[x.Metric])
				}
			}
			if got.Targets[0].Metric != "leads" || got.Targets[0].Unit != "count" || got.Targets[0].Direction != "higher_better" {
				t.Errorf("first target %+v", got.Targets[0])
			}
		}
		check(got)
		if got.Version != before+1 {
			t.Errorf("version %d after one edit, want %d", got.Version, before+1)
		}
		decodeJSON(t, e.api(t, "/api/v1/campaigns/1/targets"), http.StatusOK, &got)
		check(got)
		// The leads and won-revenue targets are the campaign's own.
		c, err := s.CampaignByID(ctx, 1)
		if err != nil || c.TargetLeads != 5 || c.TargetRevenue != model.Yuan(5_000_000) {
			t.Errorf("campaign columns %d %v %v", c.TargetLeads, c.TargetRevenue, err)
		}

		for _, tc := range []struct {
			body   string
			code   int
			saying string
		}{
			{`{"targets": [{"metric": "leeds", "value": 5}]}`, 400, `targets[0].metric: unknown metric \"leeds\"`},
			{`{"targets": [{"metric": "leads", "value": -5}]}`, 400, "targets[0].value: leads: must not be negative"},
			{`{"targets": [{"metric": "leads", "value": 5}, {"metric": "leads", "value": 6}]}`, 400, "targets[1].metric: leads is also targets[0]"},
			{`{"targets": [{"metric": "cost", "value": 1.234}]}`, 400, "cost: at most two decimals"},
			{`{"targets": [{"metric": "mqls", "value": 2.5}]}`, 400, "mqls: a whole number"},
			{`{"targets": [{"metric": "leads"}]}`, 400, "leads: a value is required"},
			{`{"targets": [{"metric": "leads", "value": 5, "unit": "x"}]}`, 400, `unknown field \"unit\"`},
			{`{}`, 400, "targets: required"},
			{`[1]`, 400, "body must be a JSON object"},
			{`{"targets": [], "version": ` + itoa(before) + `}`, 409, "version"},
			{`{"targets": [` + strings.Repeat(`{"metric": "leads", "value": 1},`, 16) + `{"metric": "leads", "value": 1}]}`, 400, "17 targets; at most 16"},
		} {
			res := e.doBody(t, req{method: http.MethodPut, target: "/api/v1/campaigns/1/targets",
				header: map[string]string{"Authorization": "Bearer " + e.marketer, "Content-Type": "application/json"}}, tc.body)
			b := bodyOf(t, res)
			if res.StatusCode != tc.code || !strings.Contains(b, tc.saying) {
				t.Errorf("%s: %d %s, want %d …%s…", tc.body, res.StatusCode, b, tc.code, tc.saying)
			}
		}
		if res := e.apiJSON(t, http.MethodPut, "/api/v1/campaigns/999/targets", e.marketer, map[string]any{"targets": []any{}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("an unknown campaign: %d", res.StatusCode)
		}
		// Nothing refused changed anything.
		decodeJSON(t, e.api(t, "/api/v1/campaigns/1/targets"), http.StatusOK, &got)
		check(got)
	})
}

type reviewAnswer struct {
	Campaign struct {
		ID   int64  `json:"id"`
		From string `json:"from"`
	} `json:"campaign"`
	Model   string `json:"model"`
	Metrics []struct {
		Metric      string   `json:"metric"`
		Label       string   `json:"label"`
		Target      *float64 `json:"target"`
		Actual      *float64 `json:"actual"`
		Gap         *float64 `json:"gap"`
		Good        *bool    `json:"good"`
		Explanation *struct {
			Kind string `json:"kind"`
			Text string `json:"text"`
		} `json:"explanation"`
	} `json:"metrics"`
	Process struct {
		LeadSources []json.RawMessage `json:"lead_sources"`
		Promoters   []struct {
			Email string `json:"email"`
			Leads int64  `json:"leads"`
		} `json:"promoters"`
	} `json:"process"`
	Results struct {
		Pipeline json.RawMessage `json:"influenced_pipeline"`
	} `json:"results"`
	Actions []actionAnswer `json:"actions"`
}

type actionAnswer struct {
	ID     int64 `json:"id"`
	TaskID int64 `json:"task_id"`
	Owner  struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	} `json:"owner"`
	Due     string `json:"due"`
	Status  string `json:"status"`
	State   string `json:"state"`
	Overdue bool   `json:"overdue"`
	Finding string `json:"finding"`
}

// The review as JSON (every metric with target, actual, gap and result,
// the explanations in words) and its targets table as CSV; bad
// parameters are 400, an unknown campaign 404.
func TestReviewAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newReviewEnv(t, s)
		body := map[string]any{"targets": []map[string]any{{"metric": "won_revenue", "value": 5000000}, {"metric": "cost_per_lead", "value": 600},
			{"metric": "first_follow_up_hours", "value": 1.5}, {"metric": "registrations", "value": 10}}}
		if res := e.apiJSON(t, http.MethodPut, "/api/v1/campaigns/1/targets", e.marketer, body); res.StatusCode != http.StatusOK {
			t.Fatal(bodyOf(t, res))
		}
		var rv reviewAnswer
		decodeJSON(t, e.api(t, "/api/v1/campaigns/1/review?"+march), http.StatusOK, &rv)
		if rv.Campaign.ID != 1 || rv.Campaign.From != "2026-03-01" || rv.Model != "linear" || len(rv.Metrics) != 16 {
			t.Fatalf("review %+v", rv)
		}
		type want struct {
			target, actual, gap float64
			good                bool
			text                string
		}
		wants := map[string]want{
			"won_revenue":           {5000000, 318272, -0.9363456, false, "Won revenue from Webinars"},
			"cost_per_lead":         {600, 750, 0.25, false, "Spend ¥3,000.00 (0.0% vs the average of the last 2 Webinar campaigns); leads 4 (+300.0%)"},
			"first_follow_up_hours": {1.5, 2, 0.5 / 1.5, false, "Median 2.0 h vs the 2.0 h SLA: 2 of 2 owners breached it (slowest: 乙, median 3.2 h)."},
			"registrations":         {10, 4, -0.6, false, "Registrations from Webinars fell 33.3% vs the average of the last 2 Webinar campaigns (6 → 4). In all fell 42.9% (7 → 4)."},
		}
		seen := 0
		for _, m := range rv.Metrics {
			w, ok := wants[m.Metric]
			if !ok {
				if m.Target != nil || m.Gap != nil || m.Explanation != nil {
					t.Errorf("%s: no target set, got %+v", m.Metric, m)
				}
				continue
			}
			seen++
			if m.Target == nil || *m.Target != w.target || m.Actual == nil || *m.Actual != w.actual || m.Gap == nil ||
				*m.Gap-w.gap > 1e-12 || w.gap-*m.Gap > 1e-12 || m.Good == nil || *m.Good != w.good {
				t.Errorf("%s: %+v, want %+v", m.Metric, m, w)
			}
			if m.Explanation == nil || !strings.HasPrefix(m.Explanation.Text, w.text) {
				t.Errorf("%s explanation: %+v, want it to start %q", m.Metric, m.Explanation, w.text)
			}
		}
		if seen != len(wants) || string(rv.Results.Pipeline) != "418272.00" || len(rv.Process.Promoters) != 1 || rv.Process.Promoters[0].Leads != 1 {
			t.Errorf("review: %d metrics with targets, pipeline %s, promoters %+v", seen, rv.Results.Pipeline, rv.Process.Promoters)
		}

		res := e.api(t, "/api/v1/campaigns/1/review?format=csv&"+march)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(res.Header.Get("Content-Disposition"), "review-web-new-targets-2026-03-01_2026-03-31.csv") {
			t.Fatalf("csv: %d %v", res.StatusCode, res.Header)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(bodyOf(t, res), "\uFEFF"))).ReadAll()
		if err != nil || len(recs) != 17 {
			t.Fatalf("csv: %d records, %v", len(recs), err)
		}
		var won []string
		for _, r := range recs {
			if r[0] == "赢单金额" || r[0] == "Won revenue" {
				won = r
			}
		}
		if won == nil || won[2] != "5000000.00" || won[3] != "318272.00" || won[4] != "-93.63%" || won[5] == "" {
			t.Errorf("won revenue row %q", won)
		}

		// The workbook: every table a sheet, the targets first and the
		// action items second; the won revenue row with numbers in CNY
		// and the gap as a percentage, exactly.
		res = e.api(t, "/api/v1/campaigns/1/review?format=xlsx&"+march)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), "review-web-new-2026-03-01_2026-03-31.xlsx") {
			t.Fatalf("xlsx: %d %v", res.StatusCode, res.Header)
		}
		d := openXLSX(t, []byte(bodyOf(t, res)))
		sheets := d.sheets()
		if len(sheets) != 11 || sheets[0] != "Targets and results" || sheets[1] != "Action items" {
			t.Fatalf("sheets %q", sheets)
		}
		rows := d.rows(sheets[0])
		if len(rows) != len(recs) || !d.frozenHeading(sheets[0]) {
			t.Fatalf("targets sheet: %d rows, CSV %d", len(rows), len(recs))
		}
		for i, row := range rows {
			if row[0] != "Won revenue" {
				continue
			}
			target, actual, gap := d.cell(sheets[0], 3, i+1), d.cell(sheets[0], 4, i+1), d.cell(sheets[0], 5, i+1)
			if !target.Number || target.Num != 5000000 || !strings.Contains(target.Format, "¥") || !actual.Number || actual.Num != 318272 ||
				!gap.Number || math.Abs(gap.Num-(-0.9363456)) > 1e-7 || !strings.Contains(gap.Format, "%") {
				t.Errorf("won revenue cells: target %+v, actual %+v, gap %+v", target, actual, gap)
			}
		}

		for _, tc := range []struct {
			target string
			code   int
			saying string
		}{
			{"/api/v1/campaigns/1/review?format=xml", 400, `format \"xml\": want json, csv or xlsx`},
			{"/api/v1/campaigns/1/review?model=bogus", 400, "model"},
			{"/api/v1/campaigns/1/review?from=2026-03-31&to=2026-03-01", 400, "from"},
			{"/api/v1/campaigns/999/review", 404, "no campaign 999"},
			{"/api/v1/campaigns/x/review", 400, "id"},
		} {
			res := e.api(t, tc.target)
			if b := bodyOf(t, res); res.StatusCode != tc.code || !strings.Contains(b, tc.saying) {
				t.Errorf("%s: %d %s", tc.target, res.StatusCode, b)
			}
		}
	})
}

// Action items: recorded by anyone but a viewer, owned by the caller
// unless named, listed with their state, moved to done or dropped; each
// is a task of its owner with the review's figures unchanged.
func TestReviewActionsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newReviewEnv(t, s)
		var a struct {
			Action actionAnswer `json:"action"`
		}
		decodeJSON(t, e.apiJSON(t, http.MethodPost, "/api/v1/campaigns/1/actions", e.sales,
			map[string]any{"action": "直播后 24 小时内电话跟进", "due": "2026-04-10", "success": "中位数 ≤ 2 小时", "finding": "first_follow_up_hours"}),
			http.StatusCreated, &a)
		if a.Action.Owner.ID != reviewtest.SalesJia || a.Action.Status != "open" || a.Action.Due != "2026-04-10" || a.Action.TaskID == 0 {
			t.Errorf("created %+v", a.Action)
		}
		first := a.Action.ID
		decodeJSON(t, e.apiJSON(t, http.MethodPost, "/api/v1/campaigns/1/actions", e.marketer,
			map[string]any{"action": "补发回放", "owner": "YI@x.cn", "due": "2026-03-01"}), http.StatusCreated, &a)
		if a.Action.Owner.ID != reviewtest.SalesYi || !a.Action.Overdue || a.Action.State != "overdue" {
			t.Errorf("created for 乙, due in the past: %+v", a.Action)
		}
		for _, tc := range []struct {
			key, body string
			code      int
			saying    string
		}{
			{e.key, `{"action": "x", "due": "2026-04-10"}`, 403, "role"},
			{e.marketer, `{"action": "x", "due": "2026-04-10"}`, 400, "owner: name the owner"},
			{e.sales, `{"action": "", "due": "2026-04-10"}`, 400, "action: is required"},
			{e.sales, `{"action": "x", "due": "next week"}`, 400, `due: \"next week\" is not a day`},
			{e.sales, `{"action": "x", "due": "2026-04-10", "owner": "nobody@x.cn"}`, 400, `owner: no user \"nobody@x.cn\"`},
			{e.sales, `{"action": "x", "due": "2026-04-10", "owner": 999}`, 400, `owner: no user \"999\"`},
			{e.sales, `{"action": "x", "due": "2026-04-10", "when": "now"}`, 400, `unknown field \"when\"`},
		} {
			res := e.doBody(t, req{method: http.MethodPost, target: "/api/v1/campaigns/1/actions",
				header: map[string]string{"Authorization": "Bearer " + tc.key, "Content-Type": "application/json"}}, tc.body)
			if b := bodyOf(t, res); res.StatusCode != tc.code || !strings.Contains(b, tc.saying) {
				t.Errorf("%s: %d %s", tc.body, res.StatusCode, b)
			}
		}
		if res := e.apiJSON(t, http.MethodPost, "/api/v1/campaigns/999/actions", e.sales, map[string]any{"action": "x", "due": "2026-04-10"}); res.StatusCode != 404 {
			t.Errorf("unknown campaign: %d", res.StatusCode)
		}

		var list struct {
			Actions []actionAnswer `json:"actions"`
		}
		decodeJSON(t, e.api(t, "/api/v1/campaigns/1/actions"), http.StatusOK, &list)
		if len(list.Actions) != 2 || list.Actions[0].ID != first || list.Actions[0].Finding != "first_follow_up_hours" {
			t.Fatalf("list %+v", list.Actions)
		}

		target := "/api/v1/campaigns/1/actions/" + itoa(first)
		decodeJSON(t, e.apiJSON(t, http.MethodPatch, target, e.sales, map[string]any{"status": "done"}), http.StatusOK, &a)
		if a.Action.Status != "done" || a.Action.State == "open" {
			t.Errorf("done: %+v", a.Action)
		}
		for _, tc := range []struct {
			target, body string
			code         int
			saying       string
		}{
			{target, `{"status": "finished"}`, 400, `\"finished\": want open, done or dropped`},
			{target, `{}`, 400, "status: required"},
			{"/api/v1/campaigns/1/actions/9999", `{"status": "done"}`, 404, "no action item 9999"},
			{"/api/v1/campaigns/2/actions/" + itoa(first), `{"status": "done"}`, 404, "no action item"},
			{"/api/v1/campaigns/1/actions/x", `{"status": "done"}`, 400, "aid"},
		} {
			res := e.doBody(t, req{method: http.MethodPatch, target: tc.target,
				header: map[string]string{"Authorization": "Bearer " + e.sales, "Content-Type": "application/json"}}, tc.body)
			if b := bodyOf(t, res); res.StatusCode != tc.code || !strings.Contains(b, tc.saying) {
				t.Errorf("%s %s: %d %s", tc.target, tc.body, res.StatusCode, b)
			}
		}

		// 乙's item of another campaign, recorded by a marketer: 甲 (sales)
		// may not close it, the marketer may.
		var yi struct {
			Action actionAnswer `json:"action"`
		}
		decodeJSON(t, e.apiJSON(t, http.MethodPost, "/api/v1/campaigns/2/actions", e.marketer,
			map[string]any{"action": "补录线索来源", "due": "2026-04-12", "owner": "yi@x.cn"}), http.StatusCreated, &yi)
		yiTarget := "/api/v1/campaigns/2/actions/" + itoa(yi.Action.ID)
		if res := e.apiJSON(t, http.MethodPatch, yiTarget, e.sales, map[string]any{"status": "dropped"}); res.StatusCode != http.StatusForbidden ||
			!strings.Contains(bodyOf(t, res), "only the action item's owner") {
			t.Errorf("甲 closed 乙's item: %d", res.StatusCode)
		}
		decodeJSON(t, e.apiJSON(t, http.MethodPatch, yiTarget, e.marketer, map[string]any{"status": "dropped"}), http.StatusOK, &yi)
		if yi.Action.Status != "dropped" {
			t.Errorf("the marketer's change: %+v", yi.Action)
		}

		// 甲's tasks: the done one is gone from the open list.
		var tasks struct {
			Open  int `json:"open"`
			Tasks []struct {
				Kind     string `json:"kind"`
				State    string `json:"state"`
				ActionID int64  `json:"action_id"`
			} `json:"tasks"`
		}
		res := e.do(t, req{target: "/api/v1/tasks?status=done", header: map[string]string{"Authorization": "Bearer " + e.sales}})
		decodeJSON(t, res, http.StatusOK, &tasks)
		if len(tasks.Tasks) != 1 || tasks.Tasks[0].Kind != "campaign_action" || tasks.Tasks[0].State != "done" || tasks.Tasks[0].ActionID != first {
			t.Errorf("甲's done tasks %+v", tasks)
		}
		if res := e.do(t, req{target: "/api/v1/tasks", header: map[string]string{"Authorization": "Bearer " + e.marketer}}); res.StatusCode != 400 {
			t.Errorf("tasks of a key of no user: %d", res.StatusCode)
		}
		if res := e.do(t, req{target: "/api/v1/tasks?status=later", header: map[string]string{"Authorization": "Bearer " + e.sales}}); res.StatusCode != 400 {
			t.Errorf("a bad status: %d", res.StatusCode)
		}

		// The review lists the actions with their state.
		var rv reviewAnswer
		decodeJSON(t, e.api(t, "/api/v1/campaigns/1/review?"+march), http.StatusOK, &rv)
		if len(rv.Actions) != 2 || rv.Actions[0].Status != "done" || rv.Actions[1].State != "overdue" {
			t.Errorf("review actions %+v", rv.Actions)
		}
	})
}

// The review page in both languages with every table, its CSV exports,
// and its forms: targets (marketers), action items and their status
// (everyone but viewers), the owner's task list.
func TestReviewPageAndForms(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newReviewEnv(t, s)
		if _, err := e.auth.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
			t.Fatal(err)
		}
		c := e.login(t)
		page := func(target string) (int, string) {
			res := e.do(t, req{target: target, cookies: []*http.Cookie{c}})
			return res.StatusCode, bodyOf(t, res)
		}
		code, html := page("/campaigns/1/review?lang=en&" + march)
		if code != 200 {
			t.Fatalf("page: %d %s", code, html)
		}
		for _, id := range reviewTableIDs {
			if !strings.Contains(html, `id="table-`+id+`"`) {
				t.Errorf("page lacks table %s", id)
			}
		}
		for _, want := range []string{"Campaign review", "March webinar", "Targets and results", "Process", "Results", "Action items",
			`id="print-review"`, `id="targets-form"`, `id="action-form"`, "review.css", "February webinar"} {
			if !strings.Contains(html, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		rawKey := regexp.MustCompile(`(review|tasks)\.[a-z_]+\.[a-z_]+`)
		if code, zh := page("/campaigns/1/review?lang=zh-CN&" + march); code != 200 || !strings.Contains(zh, "活动复盘") || rawKey.MatchString(zh) {
			t.Errorf("zh page: %d, raw keys: %v", code, rawKey.FindAllString(zh, 5))
		}
		if rawKey.MatchString(html) {
			t.Errorf("en page: raw keys %v", rawKey.FindAllString(html, 5))
		}
		res := e.do(t, req{target: "/campaigns/1/review?export=lead_sources&" + march, cookies: []*http.Cookie{c}})
		if b := bodyOf(t, res); res.StatusCode != 200 || !strings.Contains(b, "polyv") {
			t.Errorf("export: %d %s", res.StatusCode, b)
		}

		post := func(target string, form url.Values) *http.Response {
			return e.do(t, req{method: http.MethodPost, target: target, form: form, cookies: []*http.Cookie{c}})
		}
		res = post("/campaigns/1/review/targets", url.Values{"target_leads": {"5"}, "target_won_revenue": {"¥5,000,000"}, "from": {"2026-03-01"},
			"to": {"2026-03-31"}, "model": {"linear"}})
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "from=2026-03-01") {
			t.Fatalf("targets form: %d %s", res.StatusCode, bodyOf(t, res))
		}
		if ts, _, _ := s.CampaignTargets(ctx, 1); len(ts) != 2 || ts[1].Value != 500000000 {
			t.Errorf("targets after the form: %+v", ts)
		}
		res = post("/campaigns/1/review/targets", url.Values{"target_leads": {"-5"}, "target_roi": {"abc"}})
		if b := bodyOf(t, res); res.StatusCode != 400 || !strings.Contains(b, `id="targets-error"`) || !strings.Contains(b, `value="abc"`) {
			t.Errorf("a bad targets form: %d", res.StatusCode)
		}
		res = post("/campaigns/1/review/actions", url.Values{"action": {"补发回放"}, "owner": {"yi@x.cn"}, "due": {"2026-04-03"}, "finding": {"attendance"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("action form: %d %s", res.StatusCode, bodyOf(t, res))
		}
		res = post("/campaigns/1/review/actions", url.Values{"action": {""}, "due": {"soon"}})
		if b := bodyOf(t, res); res.StatusCode != 400 || !strings.Contains(b, `id="action-error"`) {
			t.Errorf("a bad action form: %d", res.StatusCode)
		}
		acts, err := s.CampaignActions(ctx, []int64{1})
		if err != nil || len(acts) != 1 || acts[0].OwnerID != reviewtest.SalesYi {
			t.Fatalf("actions %+v %v", acts, err)
		}
		res = post("/campaigns/1/review/action-status", url.Values{"aid": {itoa(acts[0].ID)}, "status": {"dropped"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("status form: %d", res.StatusCode)
		}
		if a, _ := s.CampaignAction(ctx, 1, acts[0].ID); a.Status != model.ActionDropped {
			t.Errorf("status after the form: %s", a.Status)
		}
		if code, html := page("/tasks?lang=en"); code != 200 || !strings.Contains(html, "My tasks") {
			t.Errorf("tasks page: %d", code)
		}
	})
}
