package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// refreshFigures stores every conversion's credits and refreshes the
// roll-ups, as the background runs do.
func refreshFigures(t testing.TB, s *store.Store, credit bool) {
	t.Helper()
	if credit {
		if _, err := credits.Recompute(ctx, s, credits.Full, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rollup.Refresh(ctx, s, time.Now()); err != nil {
		t.Fatal(err)
	}
}

type campaignRowJSON struct {
	ID                      int64        `json:"id"`
	Code                    string       `json:"code"`
	Name                    string       `json:"name"`
	ParentID                int64        `json:"parent_id"`
	Cost                    model.Money  `json:"cost"`
	Leads                   int64        `json:"leads"`
	MQLs                    int64        `json:"mqls"`
	SQLs                    int64        `json:"sqls"`
	CreditedPipeline        model.Money  `json:"credited_pipeline"`
	CreditedRevenue         model.Money  `json:"credited_won_revenue"`
	InfluencedOpportunities *int64       `json:"influenced_opportunities"`
	InfluencedPipeline      *model.Money `json:"influenced_pipeline"`
	ROAS                    *float64     `json:"roas"`
	CPL                     *model.Money `json:"cpl"`
}

type campaignsJSON struct {
	Model      string            `json:"model"`
	From       string            `json:"from"`
	To         string            `json:"to"`
	Campaigns  []campaignRowJSON `json:"campaigns"`
	Total      campaignRowJSON   `json:"total"`
	Programmes []campaignRowJSON `json:"programmes"`
}

// campaignTruth computes, with plain SQL over the base tables, what the
// campaigns table should show for the team days [from, to] (Asia/Shanghai)
// under one model column: per campaign id (0: no campaign).
type campaignTruth struct {
	cost, pipeline, revenue, influenced map[int64]float64
	leads, mqls, sqls, influencedN      map[int64]int64
	totalPipeline                       float64
}

func computeCampaignTruth(t *testing.T, s *store.Store, from, to time.Time, col string) campaignTruth {
	t.Helper()
	cal := model.DefaultCalendar()
	w0, w1 := cal.Start(from).UTC(), cal.Start(to.AddDate(0, 0, 1)).UTC()
	db := s.WriterDB()
	rebind := func(q string) string {
		if !strings.Contains(fmt.Sprintf("%T", db.Driver()), "sqlite") {
			n := 0
			var b strings.Builder
			for _, c := range q {
				if c == '?' {
					n++
					fmt.Fprintf(&b, "$%d", n)
				} else {
					b.WriteRune(c)
				}
			}
			return b.String()
		}
		return q
	}
	tr := campaignTruth{cost: map[int64]float64{}, pipeline: map[int64]float64{}, revenue: map[int64]float64{}, influenced: map[int64]float64{},
		leads: map[int64]int64{}, mqls: map[int64]int64{}, sqls: map[int64]int64{}, influencedN: map[int64]int64{}}
	query := func(q string, args []any, fn func(id int64, v float64, n int64)) {
		rows, err := db.QueryContext(ctx, rebind(q), args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var v float64
			var n int64
			if err := rows.Scan(&id, &v, &n); err != nil {
				t.Fatal(err)
			}
			fn(id, v, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	query(`SELECT campaign_id, SUM(cost_fen), COUNT(*) FROM daily_costs WHERE day >= ? AND day <= ? GROUP BY campaign_id`, []any{from, to},
		func(id int64, v float64, _ int64) { tr.cost[id] = v })
	// Lead source: the last touch at or before becoming a lead.
	query(`SELECT COALESCE((SELECT x.campaign_id FROM touchpoints x WHERE x.person_id = p.id AND x.occurred_at <= p.lead_at
			ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1), 0),
		CASE WHEN EXISTS (SELECT 1 FROM stage_changes sc WHERE sc.person_id = p.id AND sc.to_stage IN ('mql','sql','opportunity','customer')) THEN 1 ELSE 0 END,
		CASE WHEN EXISTS (SELECT 1 FROM stage_changes sc WHERE sc.person_id = p.id AND sc.to_stage IN ('sql','opportunity','customer')) THEN 1 ELSE 0 END
		FROM persons p WHERE p.lead_at >= ? AND p.lead_at < ? AND p.merged_into_id IS NULL`, []any{w0, w1},
		func(id int64, mql float64, sql int64) {
			tr.leads[id]++
			tr.mqls[id] += int64(mql)
			tr.sqls[id] += sql
		})
	credit := func(kind, timeCol string, into map[int64]float64) {
		query(`SELECT COALESCE(t.campaign_id, 0), SUM(ac.`+col+` * c.value_fen), COUNT(*) FROM attribution_credits ac
			JOIN attribution_conversions c ON c.kind = ac.kind AND c.conversion_id = ac.conversion_id
			JOIN opportunities o ON o.id = c.conversion_id
			JOIN touchpoints t ON t.id = ac.touch_id
			WHERE ac.kind = ? AND o.`+timeCol+` >= ? AND o.`+timeCol+` < ? GROUP BY COALESCE(t.campaign_id, 0)`, []any{kind, w0, w1},
			func(id int64, v float64, _ int64) { into[id] = v })
	}
	credit("opportunity", "created_at", tr.pipeline)
	credit("won", "closed_at", tr.revenue)
	query(`SELECT t.campaign_id, SUM(c.value_fen), COUNT(*) FROM attribution_conversions c JOIN opportunities o ON o.id = c.conversion_id
		JOIN (SELECT DISTINCT ac.conversion_id, x.campaign_id FROM attribution_credits ac JOIN touchpoints x ON x.id = ac.touch_id
			WHERE ac.kind = 'opportunity' AND x.campaign_id IS NOT NULL) t ON t.conversion_id = c.conversion_id
		WHERE c.kind = 'opportunity' AND o.created_at >= ? AND o.created_at < ? GROUP BY t.campaign_id`, []any{w0, w1},
		func(id int64, v float64, n int64) { tr.influenced[id], tr.influencedN[id] = v, n })
	for _, v := range tr.pipeline {
		tr.totalPipeline += v
	}
	return tr
}

// checkCampaigns compares the API's campaigns table with the truth.
func checkCampaigns(t *testing.T, got campaignsJSON, tr campaignTruth) {
	t.Helper()
	near := func(a model.Money, b float64) bool { return math.Abs(float64(a)-b) <= 1 }
	var sumPipeline, sumCost model.Money
	var sumLeads int64
	seen := map[int64]bool{}
	for _, r := range got.Campaigns {
		seen[r.ID] = true
		sumPipeline += r.CreditedPipeline
		sumCost += r.Cost
		sumLeads += r.Leads
		if !near(r.Cost, tr.cost[r.ID]) || r.Leads != tr.leads[r.ID] || r.MQLs != tr.mqls[r.ID] || r.SQLs != tr.sqls[r.ID] ||
			!near(r.CreditedPipeline, tr.pipeline[r.ID]) || !near(r.CreditedRevenue, tr.revenue[r.ID]) {
			t.Errorf("campaign %d (%s): cost %v leads %d mqls %d sqls %d pipeline %v revenue %v; want %.0f %d %d %d %.1f %.1f", r.ID, r.Code,
				r.Cost, r.Leads, r.MQLs, r.SQLs, r.CreditedPipeline, r.CreditedRevenue,
				tr.cost[r.ID], tr.leads[r.ID], tr.mqls[r.ID], tr.sqls[r.ID], tr.pipeline[r.ID], tr.revenue[r.ID])
		}
		if r.ID != 0 && (r.InfluencedPipeline == nil || !near(*r.InfluencedPipeline, tr.influenced[r.ID]) || *r.InfluencedOpportunities != tr.influencedN[r.ID]) {
			t.Errorf("campaign %d: influenced %v (%v), want %.0f (%d)", r.ID, r.InfluencedPipeline, r.InfluencedOpportunities, tr.influenced[r.ID], tr.influencedN[r.ID])
		}
		if r.Cost > 0 && (r.ROAS == nil || math.Abs(*r.ROAS-float64(r.CreditedRevenue)/float64(r.Cost)) > 1e-9) {
			t.Errorf("campaign %d: ROAS %v", r.ID, r.ROAS)
		}
		if r.Leads > 0 && (r.CPL == nil || math.Abs(float64(*r.CPL)-float64(r.Cost)/float64(r.Leads)) > 0.5) {
			t.Errorf("campaign %d: CPL %v", r.ID, r.CPL)
		}
	}
	for id, v := range tr.pipeline {
		if !seen[id] && v != 0 {
			t.Errorf("campaign %d has credited pipeline %.0f but no row", id, v)
		}
	}
	for id, n := range tr.leads {
		if !seen[id] && n != 0 {
			t.Errorf("campaign %d has %d leads but no row", id, n)
		}
	}
	// The rows add up to the total, and the total is the range's.
	if sumPipeline != got.Total.CreditedPipeline || sumCost != got.Total.Cost || sumLeads != got.Total.Leads {
		t.Errorf("rows add up to %v/%v/%d, total says %v/%v/%d", sumPipeline, sumCost, sumLeads, got.Total.CreditedPipeline, got.Total.Cost, got.Total.Leads)
	}
	if math.Abs(float64(got.Total.CreditedPipeline)-tr.totalPipeline) > float64(len(got.Campaigns)) {
		t.Errorf("total credited pipeline %v, the range's is %.1f", got.Total.CreditedPipeline, tr.totalPipeline)
	}
}

var creditModelColumns = map[string]string{"linear": "linear", "first": "first_touch", "last": "last_touch", "w-shaped": "w_shaped", "shapley": "shapley"}

func TestCampaignsMatchSQL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		refreshFigures(t, s, true)
		from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
		for m, col := range creditModelColumns {
			var got campaignsJSON
			decodeJSON(t, e.api(t, "/api/v1/campaigns?from=2026-01-01&to=2026-03-31&model="+m), http.StatusOK, &got)
			if got.Model != m || len(got.Campaigns) != 2 {
				t.Fatalf("%s: model %s, %d rows", m, got.Model, len(got.Campaigns))
			}
			checkCampaigns(t, got, computeCampaignTruth(t, s, from, to, col))
			if got.Total.CreditedPipeline != model.Yuan(500000) {
				t.Errorf("%s: total credited pipeline %v, want the one opportunity's ¥500,000", m, got.Total.CreditedPipeline)
			}
		}
		// The fixture by hand: paid search's ¥2,234.56 of cost, person 1's
		// lead source is the webinar (their last touch before becoming a
		// lead), person 2's too.
		var got campaignsJSON
		decodeJSON(t, e.api(t, "/api/v1/campaigns?from=2026-01-01&to=2026-03-31"), http.StatusOK, &got)
		byID := map[int64]campaignRowJSON{}
		for _, r := range got.Campaigns {
			byID[r.ID] = r
		}
		if byID[1].Cost != 223456 || byID[2].Leads != 2 || byID[2].MQLs != 2 || byID[1].Leads != 0 {
			t.Errorf("fixture rows %+v", got.Campaigns)
		}
		// Filters: a channel, a search.
		decodeJSON(t, e.api(t, "/api/v1/campaigns?from=2026-01-01&to=2026-03-31&channel=webinar"), http.StatusOK, &got)
		if len(got.Campaigns) != 1 || got.Campaigns[0].Code != "web-1" || got.Total.Leads != 2 {
			t.Errorf("channel filter: %+v", got.Campaigns)
		}
		decodeJSON(t, e.api(t, "/api/v1/campaigns?q=BAIDU"), http.StatusOK, &got)
		if len(got.Campaigns) != 1 || got.Campaigns[0].Code != "baidu-1" {
			t.Errorf("search: %+v", got.Campaigns)
		}
	})
}

func TestCampaignsOnDemoMatchSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("demo data skipped in -short mode")
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		end := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
		if _, err := demo.Generate(ctx, s, demo.Options{Seed: 7, End: end, Scale: 0.05}); err != nil {
			t.Fatal(err)
		}
		refreshFigures(t, s, false)
		e := newEnvOver(t, s)
		for _, rg := range [][2]string{{"2025-07-01", "2026-06-30"}, {"2026-01-01", "2026-03-31"}} {
			from, _ := time.Parse(dateLayout, rg[0])
			to, _ := time.Parse(dateLayout, rg[1])
			for _, m := range []string{"linear", "w-shaped"} {
				var got campaignsJSON
				decodeJSON(t, e.api(t, "/api/v1/campaigns?from="+rg[0]+"&to="+rg[1]+"&model="+m), http.StatusOK, &got)
				if len(got.Campaigns) < 10 {
					t.Fatalf("%d campaigns in the demo", len(got.Campaigns))
				}
				checkCampaigns(t, got, computeCampaignTruth(t, s, from, to, creditModelColumns[m]))
				if got.Total.CreditedPipeline == 0 || got.Total.Leads == 0 || got.Total.Cost == 0 {
					t.Errorf("%v %s: empty totals %+v", rg, m, got.Total)
				}
			}
		}
		// One campaign's page agrees with its row.
		var list campaignsJSON
		decodeJSON(t, e.api(t, "/api/v1/campaigns?from=2025-07-01&to=2026-06-30"), http.StatusOK, &list)
		var best campaignRowJSON
		for _, r := range list.Campaigns {
			if r.ID != 0 && r.Leads > best.Leads {
				best = r
			}
		}
		var one struct {
			Campaign campaignRowJSON `json:"campaign"`
			Trend    []struct {
				Leads int64       `json:"leads"`
				Cost  model.Money `json:"cost"`
			} `json:"trend"`
			Members int64 `json:"members"`
		}
		decodeJSON(t, e.api(t, fmt.Sprintf("/api/v1/campaigns/%d?from=2025-07-01&to=2026-06-30", best.ID)), http.StatusOK, &one)
		var leads int64
		var cost model.Money
		for _, p := range one.Trend {
			leads, cost = leads+p.Leads, cost+p.Cost
		}
		if one.Campaign.Leads != best.Leads || leads != best.Leads || cost != best.Cost || one.Members == 0 {
			t.Errorf("campaign %d: detail %d leads, trend %d leads %v cost, list %d leads %v cost, %d members", best.ID, one.Campaign.Leads, leads, cost, best.Leads, best.Cost, one.Members)
		}
	})
}

// newEnvOver is a server over a store already loaded, with a viewer key.
func newEnvOver(t *testing.T, s *store.Store) *env {
	t.Helper()
	e := &env{store: s}
	srv, err := newWith(t, testOpts{Store: s, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.h, e.auth = srv, srv.Handler(), srv.auth
	key, _, err := e.auth.CreateAPIKey(ctx, "test", model.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	e.key = key
	return e
}

// apiJSON sends a JSON body with an API key.
func (e *env) apiJSON(t *testing.T, method, target, key string, body any) *http.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	hr := req{method: method, target: target, header: map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}}
	return e.doBody(t, hr, string(b))
}

func TestCampaignWritesByAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		marketer, _, err := e.auth.CreateAPIKey(ctx, "m", model.RoleMarketer)
		if err != nil {
			t.Fatal(err)
		}
		type answer struct {
			Campaign struct {
				ID       int64   `json:"id"`
				Code     string  `json:"code"`
				Name     string  `json:"name"`
				Version  int64   `json:"version"`
				ParentID *int64  `json:"parent_id"`
				Budget   string  `json:"-"`
				Start    *string `json:"start_date"`
			} `json:"campaign"`
			Warnings []string          `json:"warnings"`
			Error    string            `json:"error"`
			Fields   map[string]string `json:"fields"`
		}
		// Viewers read only.
		res := e.apiJSON(t, http.MethodPost, "/api/v1/campaigns", e.key, map[string]any{"name": "x", "channel": "webinar"})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("viewer create: %d", res.StatusCode)
		}
		// A create without a code gets one from the English name.
		var a answer
		decodeJSON(t, e.apiJSON(t, http.MethodPost, "/api/v1/campaigns", marketer, map[string]any{
			"name": "2026 上海春季峰会", "name_en": "Shanghai Spring Summit", "kind": "conference", "channel": "offline_event",
			"start_date": "2026-04-10", "end_date": "2026-04-11", "budget": "120000.50", "target_leads": 300, "owner_id": 1}), http.StatusCreated, &a)
		if a.Campaign.Code != "shanghai-spring-summit-202604" || a.Campaign.Version != 1 {
			t.Errorf("created %+v", a.Campaign)
		}
		summit := a.Campaign.ID
		// Bad inputs: every field says what is wrong.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "", "channel": "webinar"}, "name"},
			{map[string]any{"name": "a", "channel": "tv"}, "channel"},
			{map[string]any{"name": "a", "channel": "webinar", "code": "有 空格"}, "code"},
			{map[string]any{"name": "a", "channel": "webinar", "code": "WEB-1"}, "code"}, // taken in another case
			{map[string]any{"name": "a", "channel": "webinar", "start_date": "2026-05-02", "end_date": "2026-05-01"}, "end_date"},
			{map[string]any{"name": "a", "channel": "webinar", "start_date": "2026-13-01"}, "start_date"},
			{map[string]any{"name": "a", "channel": "webinar", "budget": "-1"}, "budget"},
			{map[string]any{"name": "a", "channel": "webinar", "budget": "99999999999"}, "budget"},
			{map[string]any{"name": "a", "channel": "webinar", "owner_id": 999}, "owner_id"},
			{map[string]any{"name": "a", "channel": "webinar", "parent_id": 999}, "parent_id"},
			{map[string]any{"name": "a", "channel": "webinar", "landing_url": "javascript:alert(1)"}, "landing_url"},
			{map[string]any{"name": strings.Repeat("长", 201), "channel": "webinar"}, "name"},
		} {
			var bad answer
			decodeJSON(t, e.apiJSON(t, http.MethodPost, "/api/v1/campaigns", marketer, c.body), http.StatusBadRequest, &bad)
			if bad.Fields[c.field] == "" {
				t.Errorf("%v: fields %v, want %s", c.body, bad.Fields, c.field)
			}
		}
		if res := e.apiJSON(t, http.MethodPost, "/api/v1/campaigns", marketer, map[string]any{"name": "a", "channel": "webinar", "budget": "1.005"}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("three decimals: %d", res.StatusCode)
		}
		// A programme: web-1 goes inside the summit; the summit cannot then
		// go inside web-1.
		decodeJSON(t, e.apiJSON(t, http.MethodPatch, "/api/v1/campaigns/2", marketer, map[string]any{"parent_id": summit}), http.StatusOK, &a)
		if a.Campaign.ParentID == nil || *a.Campaign.ParentID != summit {
			t.Errorf("parent %+v", a.Campaign)
		}
		var bad answer
		decodeJSON(t, e.apiJSON(t, http.MethodPatch, fmt.Sprintf("/api/v1/campaigns/%d", summit), marketer, map[string]any{"parent_id": 2}), http.StatusBadRequest, &bad)
		if bad.Fields["parent_id"] == "" {
			t.Errorf("cycle accepted: %+v", bad)
		}
		// Changing a code that touches carry warns.
		decodeJSON(t, e.apiJSON(t, http.MethodPatch, "/api/v1/campaigns/2", marketer, map[string]any{"code": "web-2026"}), http.StatusOK, &a)
		if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "utm_campaign=web-1") {
			t.Errorf("warnings %v", a.Warnings)
		}
		// Two edits of the same version: the second is refused.
		v := a.Campaign.Version
		decodeJSON(t, e.apiJSON(t, http.MethodPatch, "/api/v1/campaigns/2", marketer, map[string]any{"name": "甲", "version": v}), http.StatusOK, &a)
		if res := e.apiJSON(t, http.MethodPatch, "/api/v1/campaigns/2", marketer, map[string]any{"name": "乙", "version": v}); res.StatusCode != http.StatusConflict {
			t.Errorf("stale edit: %d", res.StatusCode)
		}
		// PUT clears what it leaves out (but keeps code, name and channel).
		decodeJSON(t, e.apiJSON(t, http.MethodPut, fmt.Sprintf("/api/v1/campaigns/%d", summit), marketer, map[string]any{"name": "峰会"}), http.StatusOK, &a)
		if a.Campaign.Start != nil || a.Campaign.Code != "shanghai-spring-summit-202604" {
			t.Errorf("put %+v", a.Campaign)
		}
		for _, c := range []struct{ method, target, body string }{
			{http.MethodPatch, "/api/v1/campaigns/999", `{"name":"x"}`},
			{http.MethodPatch, "/api/v1/campaigns/2", `{"nmae":"x"}`},
			{http.MethodPatch, "/api/v1/campaigns/2", `{"budget":"abc"}`},
		} {
			res := e.doBody(t, req{method: c.method, target: c.target, header: map[string]string{"Authorization": "Bearer " + marketer}}, c.body)
			if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s %s: %d", c.method, c.target, c.body, res.StatusCode)
			}
		}
	})
}

// doBody is do with a raw body.
func (e *env) doBody(t *testing.T, r req, body string) *http.Response {
	t.Helper()
	hr, err := http.NewRequest(r.method, "http://example.test"+r.target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.RemoteAddr = "192.0.2.1:1234"
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

func TestCampaignPagesAndForms(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		refreshFigures(t, s, true)
		if _, err := s.WriterDB().ExecContext(ctx, `UPDATE campaigns SET name = '<script>alert("x")</script>研讨会' WHERE id = 2`); err != nil {
			t.Fatal(err)
		}
		mk := e.login(t) // a marketer
		sales := e.loginAs(t, model.RoleSales)
		for _, c := range []struct {
			target string
			cookie *http.Cookie
			code   int
			want   []string
		}{
			{"/campaigns?from=2026-01-01&to=2026-03-31&lang=zh-CN", mk, 200, []string{"营销活动", "百度搜索", "&lt;script&gt;", `id="new-campaign"`, "2,234.56"}},
			{"/campaigns?from=2026-01-01&to=2026-03-31&lang=en", sales, 200, []string{"Campaigns", "Credited pipeline"}},
			{"/campaigns?from=2026-13-01", mk, 400, []string{"alert"}},
			{"/campaigns?channel=tv&lang=en", mk, 400, []string{"Unknown channel"}},
			{"/campaigns?model=nope", mk, 400, nil},
			{"/campaigns/1?from=2026-01-01&to=2026-03-31&lang=zh-CN", mk, 200, []string{"百度搜索", "baidu-1", `data-chart="trend"`, `data-chart="cost-days"`, "追踪链接"}},
			{"/campaigns/2?from=2026-01-01&to=2026-03-31&lang=en", sales, 200, []string{"&lt;script&gt;", "registered ×1", "Members"}},
			{"/campaigns/999", mk, 404, nil},
			{"/campaigns/1?grain=day", mk, 400, nil},
			{"/campaigns/new?lang=zh-CN", mk, 200, []string{"新建活动", "UTM 活动代码"}},
			{"/campaigns/new", sales, 403, nil},
			{"/campaigns/1/edit", mk, 200, []string{`value="baidu-1"`}},
		} {
			res := e.do(t, req{target: c.target, cookies: []*http.Cookie{c.cookie}})
			body := bodyOf(t, res)
			if res.StatusCode != c.code {
				t.Errorf("%s: status %d, want %d", c.target, res.StatusCode, c.code)
			}
			if strings.Contains(body, `<script>alert("x")`) {
				t.Errorf("%s: hostile name not escaped", c.target)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s lacks %q", c.target, w)
				}
			}
		}
		// CSV of the list.
		res := e.do(t, req{target: "/campaigns?from=2026-01-01&to=2026-03-31&export=campaigns", cookies: []*http.Cookie{mk}})
		csvBody := bodyOf(t, res)
		if res.StatusCode != 200 || !strings.Contains(csvBody, "2234.56") || !strings.Contains(csvBody, "'=") && strings.Contains(csvBody, "\n=") {
			t.Errorf("csv %d %s", res.StatusCode, csvBody)
		}

		// The form: errors in the user's language, then a create.
		form := url.Values{"name": {""}, "channel": {"webinar"}, "budget": {"12.345"}, "start_date": {"2026-05-02"}, "end_date": {"2026-05-01"}}
		res = e.do(t, req{method: http.MethodPost, target: "/campaigns?lang=zh-CN", form: form, cookies: []*http.Cookie{mk}})
		body := bodyOf(t, res)
		if res.StatusCode != 400 || !strings.Contains(body, "最多两位小数") {
			t.Errorf("bad form: %d", res.StatusCode)
		}
		form.Set("budget", "12.34")
		res = e.do(t, req{method: http.MethodPost, target: "/campaigns?lang=en", form: form, cookies: []*http.Cookie{mk}})
		body = bodyOf(t, res)
		if res.StatusCode != 400 || !strings.Contains(body, "Required.") || !strings.Contains(body, "must not be before the first day") {
			t.Errorf("bad form (en): %d", res.StatusCode)
		}
		form.Set("name", "春季沙龙")
		form.Set("end_date", "2026-05-03")
		form.Set("code", "SALON-SPRING")
		res = e.do(t, req{method: http.MethodPost, target: "/campaigns", form: form, cookies: []*http.Cookie{mk}})
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/campaigns/3?done=created") {
			t.Fatalf("create: %d %s %s", res.StatusCode, loc, bodyOf(t, res))
		}
		// Editing the code of a campaign that touches carry asks first.
		edit := url.Values{"name": {"百度搜索"}, "channel": {"paid_search"}, "code": {"baidu-2026"}, "version": {"0"}}
		res = e.do(t, req{method: http.MethodPost, target: "/campaigns/1?lang=en", form: edit, cookies: []*http.Cookie{mk}})
		body = bodyOf(t, res)
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, "utm_campaign=baidu-1") || !strings.Contains(body, `name="confirm_code"`) {
			t.Errorf("code change: %d", res.StatusCode)
		}
		edit.Set("confirm_code", "1")
		res = e.do(t, req{method: http.MethodPost, target: "/campaigns/1", form: edit, cookies: []*http.Cookie{mk}})
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("confirmed code change: %d %s", res.StatusCode, bodyOf(t, res))
		}
		// A stale version is refused with the user's edits kept.
		c1, _ := s.CampaignByID(ctx, 1)
		edit = url.Values{"name": {"改名"}, "channel": {"paid_search"}, "code": {"baidu-2026"}, "version": {fmt.Sprint(c1.Version - 1)}}
		res = e.do(t, req{method: http.MethodPost, target: "/campaigns/1?lang=zh-CN", form: edit, cookies: []*http.Cookie{mk}})
		body = bodyOf(t, res)
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, "有人保存了这个活动") || !strings.Contains(body, `value="改名"`) {
			t.Errorf("stale form: %d", res.StatusCode)
		}
		// Sales cannot post.
		res = e.do(t, req{method: http.MethodPost, target: "/campaigns", form: form, cookies: []*http.Cookie{sales}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("sales create: %d", res.StatusCode)
		}
		// A tracked link from the campaign's page carries its code.
		res = e.do(t, req{method: http.MethodPost, target: "/campaigns/3/links", form: url.Values{"url": {"https://www.example.cn/salon"}, "utm_source": {"wechat"}}, cookies: []*http.Cookie{mk}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("link: %d %s", res.StatusCode, bodyOf(t, res))
		}
		ls, err := s.TrackedLinks(ctx, 3, 10)
		if err != nil || len(ls) != 1 || ls[0].UTMCampaign != "SALON-SPRING" || ls[0].UTMSource != "wechat" {
			t.Fatalf("links %+v %v", ls, err)
		}
		body = bodyOf(t, e.do(t, req{target: "/campaigns/3", cookies: []*http.Cookie{mk}}))
		if !strings.Contains(body, "/r/"+ls[0].Code+"/qr.png") {
			t.Errorf("the link's QR code is not shown")
		}
		// Archiving hides it from the list, not from its page.
		res = e.do(t, req{method: http.MethodPost, target: "/campaigns/3/archive", form: url.Values{"archive": {"1"}}, cookies: []*http.Cookie{mk}})
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("archive: %d", res.StatusCode)
		}
		if body := bodyOf(t, e.do(t, req{target: "/campaigns", cookies: []*http.Cookie{mk}})); strings.Contains(body, "春季沙龙") {
			t.Errorf("archived campaign listed")
		}
		if body := bodyOf(t, e.do(t, req{target: "/campaigns?archived=1", cookies: []*http.Cookie{mk}})); !strings.Contains(body, "春季沙龙") {
			t.Errorf("archived campaign not listed with archived=1")
		}
	})
}
