package web

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// liftJSON is the part of the lift API's answer the tests read.
type liftJSON struct {
	Campaign struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
	} `json:"campaign"`
	From        string `json:"from"`
	To          string `json:"to"`
	Window      int    `json:"window"`
	FollowTo    string `json:"follow_to"`
	Complete    bool   `json:"complete"`
	MinGroup    int    `json:"min_group"`
	Cohort      struct{ Persons, Matched int64 }
	Baseline    struct{ Persons, Matched int64 }
	Matching    struct{ Method, Weights string }
	Outcomes    []struct{ Outcome, Unit, Verdict string }
	Strata      []map[string]any `json:"strata"`
	StrataTotal int              `json:"strata_total"`
}

// TestCampaignLiftAPI asks the lift of the fixture's webinar (campaign 2,
// no dates of its own) as a client would, with good, odd and bad input.
func TestCampaignLiftAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		// Persons 1 and 2 touched the webinar on 10 and 11 January
		// (Shanghai), person 3 only the search campaign: cohort 2,
		// baseline 1, far too few for a verdict.
		var got liftJSON
		decodeJSON(t, e.api(t, "/api/v1/campaigns/2/lift?from=2026-01-10&to=2026-01-11"), http.StatusOK, &got)
		if got.Campaign.ID != 2 || got.Campaign.Code != "web-1" || got.From != "2026-01-10" || got.To != "2026-01-11" || got.Window != 90 ||
			got.FollowTo != "2026-04-11" || got.MinGroup != 30 {
			t.Errorf("answer %+v", got)
		}
		if got.Cohort.Persons != 2 || got.Baseline.Persons != 1 || got.Matching.Method != "exact_strata" || got.Matching.Weights != "mantel_haenszel" {
			t.Errorf("groups %+v %+v %+v", got.Cohort, got.Baseline, got.Matching)
		}
		if len(got.Outcomes) != 3 || got.Outcomes[0].Outcome != "reached_mql" || got.Outcomes[2].Unit != "cny" {
			t.Fatalf("outcomes %+v", got.Outcomes)
		}
		for _, o := range got.Outcomes {
			if o.Verdict != "too_small" {
				t.Errorf("%s: verdict %s", o.Outcome, o.Verdict)
			}
		}
		// Odd but valid: a one-day window, the follow window's bounds,
		// spaces around the number.
		for _, target := range []string{"/api/v1/campaigns/2/lift?from=2026-01-10&to=2026-01-10&window=1",
			"/api/v1/campaigns/2/lift?from=2026-01-10&to=2026-01-11&window=365", "/api/v1/campaigns/2/lift?from=2026-01-10&to=2026-01-11&window=%2030%20"} {
			decodeJSON(t, e.api(t, target), http.StatusOK, &got)
		}
		if got.Window != 30 {
			t.Errorf("window %d", got.Window)
		}
		// A campaign with dates needs no range: they are its window.
		camp, err := s.CampaignByID(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		camp.StartDate, camp.EndDate = day0, day0.AddDate(0, 0, 1)
		if _, err := s.UpdateCampaign(ctx, camp, nil, day0); err != nil {
			t.Fatal(err)
		}
		decodeJSON(t, e.api(t, "/api/v1/campaigns/2/lift"), http.StatusOK, &got)
		if got.From != "2026-01-10" || got.To != "2026-01-11" || got.Cohort.Persons != 2 {
			t.Errorf("the campaign's dates: %+v", got)
		}

		for _, c := range []struct {
			target string
			code   int
			says   []string
		}{
			{"/api/v1/campaigns/99/lift", 404, []string{"no campaign 99"}},
			{"/api/v1/campaigns/abc/lift", 400, []string{"campaign id"}},
			{"/api/v1/campaigns/1/lift", 400, []string{"no start date", "from and to"}},
			{"/api/v1/campaigns/2/lift?window=0", 400, []string{"window", "1 to 365"}},
			{"/api/v1/campaigns/2/lift?window=366", 400, []string{"window", "1 to 365"}},
			{"/api/v1/campaigns/2/lift?window=ninety", 400, []string{"window", "1 to 365"}},
			{"/api/v1/campaigns/2/lift?window=9.5", 400, []string{"window", "1 to 365"}},
			{"/api/v1/campaigns/2/lift?from=2026-01-10", 400, []string{"from and to", "both"}},
			{"/api/v1/campaigns/2/lift?from=2026-01-12&to=2026-01-10", 400, []string{"must not be after"}},
			{"/api/v1/campaigns/2/lift?from=10.01.2026&to=2026-01-10", 400, []string{"from", "YYYY-MM-DD"}},
			{"/api/v1/campaigns/2/lift?from=2024-01-01&to=2026-01-10", 400, []string{"at most 366 days"}},
		} {
			res := e.api(t, c.target)
			body := bodyOf(t, res)
			if res.StatusCode != c.code {
				t.Errorf("%s: %d %s, want %d", c.target, res.StatusCode, body, c.code)
				continue
			}
			for _, want := range c.says {
				if !strings.Contains(body, want) {
					t.Errorf("%s: %s does not say %q", c.target, body, want)
				}
			}
		}
		// Without a key: 401.
		if res := e.do(t, req{target: "/api/v1/campaigns/2/lift"}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("no key: %d", res.StatusCode)
		}
	})
}

// TestCampaignLiftPage opens the page from the campaign's page, in both
// languages, exports its tables and shows a bad window's message.
func TestCampaignLiftPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		c := e.login(t)
		get := func(target string) (int, string) {
			res := e.do(t, req{target: target, cookies: []*http.Cookie{c}})
			return res.StatusCode, bodyOf(t, res)
		}
		if code, page := get("/campaigns/2?lang=en"); code != 200 || !strings.Contains(page, `href="/campaigns/2/lift"`) {
			t.Fatalf("campaign page: %d, link to the lift page missing", code)
		}
		code, page := get("/campaigns/2/lift?from=2026-01-10&to=2026-01-11&lang=en")
		if code != 200 {
			t.Fatalf("lift page: %d %s", code, page)
		}
		for _, want := range []string{"Cohort lift: 线上研讨会", `id="table-outcomes"`, `id="table-strata"`, "Too small to conclude", `data-verdict="too_small"`,
			"Reached MQL", "Pipeline per person", `value="2026-01-10"`, `value="90"`} {
			if !strings.Contains(page, want) {
				t.Errorf("lift page lacks %q", want)
			}
		}
		_, page = get("/campaigns/2/lift?from=2026-01-10&to=2026-01-11&lang=zh-CN")
		for _, want := range []string{"人群增益：线上研讨会", "到达 MQL", "样本太小", "分层"} {
			if !strings.Contains(page, want) {
				t.Errorf("zh lift page lacks %q", want)
			}
		}
		for _, id := range []string{"outcomes", "strata"} {
			res := e.do(t, req{target: "/campaigns/2/lift?from=2026-01-10&to=2026-01-11&lang=en&export=" + id, cookies: []*http.Cookie{c}})
			body := strings.TrimPrefix(bodyOf(t, res), "\uFEFF")
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("export %s: %d %s", id, res.StatusCode, res.Header.Get("Content-Type"))
			}
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			switch id {
			case "outcomes":
				if len(rows) != 4 || rows[0][0] != "Outcome" || rows[1][0] != "Reached MQL" || rows[3][1] != "CNY per person" || rows[1][14] != "Too small to conclude" {
					t.Errorf("outcomes CSV %q", rows)
				}
			case "strata":
				if len(rows) < 2 || rows[0][3] != "Main channel before" {
					t.Errorf("strata CSV %q", rows)
				}
			}
		}
		code, page = get("/campaigns/2/lift?window=500&lang=en")
		if code != 400 || !strings.Contains(page, "whole number of days from 1 to 365") {
			t.Errorf("bad window: %d", code)
		}
		code, page = get("/campaigns/1/lift?lang=en")
		if code != 400 || !strings.Contains(page, "has no start date") {
			t.Errorf("no dates: %d", code)
		}
		if code, _ := get("/campaigns/99/lift"); code != 404 {
			t.Errorf("unknown campaign: %d", code)
		}
	})
}
