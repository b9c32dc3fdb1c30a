package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

type salesAnswer struct {
	From, To string
	Queue    string `json:"queue_scope"`
	Waiting  struct {
		Unassigned    int `json:"unassigned"`
		NotFollowedUp int `json:"not_followed_up"`
		Overdue       int `json:"overdue"`
	} `json:"waiting"`
	SLA struct {
		Due        int      `json:"due"`
		WithinSLA  int      `json:"within_sla"`
		Breached   int      `json:"breached"`
		Compliance *float64 `json:"compliance"`
	} `json:"sla"`
	Decisions struct {
		Accepted int `json:"accepted"`
		Rejected int `json:"rejected"`
	} `json:"decisions"`
	OpenLeads struct {
		Total int64 `json:"total"`
	} `json:"open_leads"`
	Owners []struct {
		UserID   int64 `json:"user_id"`
		Due      int   `json:"due"`
		Open     int   `json:"open"`
		Accepted int   `json:"accepted"`
	} `json:"owners"`
	QueueRows struct {
		UserID int64 `json:"user_id"`
		Count  int   `json:"count"`
	} `json:"queue"`
}

// Over the demo, the dashboard's API (with a key) and page (with a
// session) show the same figures, which agree with plain SQL.
func TestSalesDashboardPageAndAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := demoEnv(t, s)
		const rng = "from=2026-10-01&to=2026-11-25"
		var got salesAnswer
		decodeJSON(t, e.api(t, "/api/v1/dashboards/sales?"+rng), http.StatusOK, &got)
		if got.From != "2026-10-01" || got.To != "2026-11-25" || got.Queue != "team" {
			t.Errorf("range %s..%s, queue %s", got.From, got.To, got.Queue)
		}
		cal := model.DefaultCalendar()
		from := cal.Start(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)).UTC()
		to := cal.Start(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)).UTC()
		now := personsDemoEnd.Add(10 * time.Hour)
		if now.Before(to) {
			to = now
		}
		dueWhere := "due_at >= ? AND due_at < ? AND (first_follow_up_at IS NOT NULL OR superseded_at IS NULL OR superseded_at > due_at)"
		due := sqlCount(t, s, "SELECT COUNT(*) FROM assignments WHERE "+dueWhere, from, to)
		within := sqlCount(t, s, "SELECT COUNT(*) FROM assignments WHERE first_follow_up_at <= due_at AND "+dueWhere, from, to)
		working := "('mql', 'sql', 'opportunity')" // the demo routes from mql
		openLeads := sqlCount(t, s, "SELECT COUNT(*) FROM persons WHERE merged_into_id IS NULL AND stage IN "+working)
		accepted := sqlCount(t, s, `SELECT COUNT(*) FROM stage_changes WHERE from_stage = 'mql' AND to_stage = 'sql'
			AND (actor LIKE 'user:%' OR actor LIKE 'apikey:%') AND changed_at >= ? AND changed_at < ?`, from, cal.Start(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)).UTC())
		if due == 0 || accepted == 0 {
			t.Fatalf("the demo has %d assignments due and %d accepts in the range", due, accepted)
		}
		if int64(got.SLA.Due) != due || int64(got.SLA.WithinSLA) != within || int64(got.SLA.Breached) != due-within || int64(got.Decisions.Accepted) != accepted || got.OpenLeads.Total != openLeads {
			t.Errorf("API %+v %+v open leads %d; SQL: due %d, within %d, accepted %d, open leads %d", got.SLA, got.Decisions, got.OpenLeads.Total, due, within, accepted, openLeads)
		}
		var ownersDue, ownersAccepted int
		for _, o := range got.Owners {
			ownersDue += o.Due
			ownersAccepted += o.Accepted
		}
		if ownersDue != got.SLA.Due {
			t.Errorf("owners' due add up to %d, total %d", ownersDue, got.SLA.Due)
		}
		if ownersAccepted > got.Decisions.Accepted {
			t.Errorf("owners accepted %d of %d", ownersAccepted, got.Decisions.Accepted)
		}

		// The page, in Chinese, shows the API's figures.
		c := e.loginAs(t, model.RoleMarketer)
		res := e.do(t, req{target: "/dashboards/sales?" + rng, cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "zh-CN"}})
		body := bodyOf(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page: %d", res.StatusCode)
		}
		for id, raw := range map[string]string{"sla_breached": strconv.Itoa(got.SLA.Breached), "accepted": strconv.Itoa(got.Decisions.Accepted),
			"open_leads": strconv.FormatInt(got.OpenLeads.Total, 10), "not_followed_up": strconv.Itoa(got.Waiting.NotFollowedUp),
			"sla_compliance": strconv.FormatFloat(*got.SLA.Compliance, 'f', -1, 64)} {
			if !strings.Contains(body, fmt.Sprintf(`data-kpi="%s">`, id)) || !strings.Contains(body, fmt.Sprintf(`data-value="%s"`, raw)) {
				t.Errorf("page lacks %s = %s", id, raw)
			}
		}
		for _, want := range []string{"团队待跟进", `id="chart-sla"`, `id="table-owners"`, `data-nav="sales" aria-current="page"`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		// The owners table exports, its rows summing to its total.
		res = e.do(t, req{target: "/dashboards/sales?" + rng + "&export=owners", cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "en"}})
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(bodyOf(t, res)), []byte("\uFEFF")))).ReadAll()
		if err != nil || len(rows) < 3 || rows[0][5] != "Due" {
			t.Fatalf("owners CSV: %v %q", err, rows)
		}
		sum := 0
		for _, r := range rows[1 : len(rows)-1] {
			n, _ := strconv.Atoi(r[5])
			sum += n
		}
		if total := rows[len(rows)-1]; total[5] != strconv.Itoa(sum) || sum != got.SLA.Due {
			t.Errorf("owners CSV due: rows sum to %d, total row %s, API %d", sum, total[5], got.SLA.Due)
		}
		res = e.do(t, req{target: "/dashboards/sales?" + rng + "&export=queue", cookies: []*http.Cookie{c}})
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("queue export: %d", res.StatusCode)
		}

		// A sales user sees their own queue by default.
		sales := e.loginAs(t, model.RoleSales)
		body = bodyOf(t, e.do(t, req{target: "/dashboards/sales", cookies: []*http.Cookie{sales}, header: map[string]string{"Accept-Language": "zh-CN"}}))
		if !strings.Contains(body, "我的待跟进") || !strings.Contains(body, `class="range current" id="queue-mine"`) {
			t.Error("a sales user does not land on their own queue")
		}
	})
}

func TestSalesDashboardBadInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		for q, want := range map[string]string{"from=2026-02-30": "from", "to=soon": "to", "from=2026-03-01&to=2026-01-01": "from", "queue=all": "queue", "queue=mine": "queue=mine"} {
			var msg apiError
			decodeJSON(t, e.api(t, "/api/v1/dashboards/sales?"+q), http.StatusBadRequest, &msg)
			if !strings.HasPrefix(msg.Error, want) {
				t.Errorf("%s: %q", q, msg.Error)
			}
		}
		c := e.loginAs(t, model.RoleSales)
		res := e.do(t, req{target: "/dashboards/sales?from=2026-02-30", cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "zh-CN"}})
		if body := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "开始日期格式不正确，请使用 YYYY-MM-DD。") {
			t.Errorf("page with a bad date: %d", res.StatusCode)
		}
		// Without a session the page sends to the login; without a key the
		// API answers 401.
		if res := e.do(t, req{target: "/dashboards/sales"}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous page: %d", res.StatusCode)
		}
		if res := e.do(t, req{target: "/api/v1/dashboards/sales"}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous API: %d", res.StatusCode)
		}
	})
}
