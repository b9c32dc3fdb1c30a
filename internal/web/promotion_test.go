package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The promotion leaderboard over a small demo: the API (a viewer's key)
// answers what the report computes, by employee and by team; the page (a
// marketer's session) shows the same totals and exports its table; wrong
// input is a 400 or 404 naming what was wrong; sales may not see it.
func TestPromotionLeaderboard(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEventsEnv(t, s)
		cal, _ := s.Calendar(ctx)
		p := model.Period{From: dashEnd.AddDate(-1, 0, 1), To: dashEnd, Cal: cal}
		var share int64
		if err := s.WriterDB().QueryRowContext(ctx, `SELECT campaign_id FROM tracked_links GROUP BY campaign_id ORDER BY COUNT(*) DESC, campaign_id LIMIT 1`).
			Scan(&share); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			query    string
			campaign int64
			by       string
		}{{"", 0, "employee"}, {"&by=team&model=first", 0, "team"}, {"&campaign=" + strconv.FormatInt(share, 10) + "&by=employee", share, "employee"}} {
			var api json.RawMessage
			decodeJSON(t, e.api(t, "/api/v1/reviews/promotion?"+dashRange+c.query), http.StatusOK, &api)
			m := "linear"
			if strings.Contains(c.query, "first") {
				m = "first"
			}
			want, err := report.Reporter{Store: s}.Promotion(ctx, report.PromotionQuery{Period: p, Model: m, CampaignID: c.campaign})
			if err != nil {
				t.Fatal(err)
			}
			body := promotionJSON{From: want.From, To: want.To, Model: want.Model, Currency: "CNY", Campaign: want.Campaign, By: c.by, Rows: want.Employees, Total: want.Total}
			if c.by == "team" {
				body.Rows = want.Teams
			}
			b, _ := json.Marshal(body)
			if !sameJSON(t, api, b) {
				t.Errorf("%s: the API differs from the report:\n%s\n%s", c.query, api, b)
			}
			if want.Total.Links == 0 || want.Total.Visits == 0 || len(want.Employees) < 10 {
				t.Errorf("%s: the demo shares nothing: %+v", c.query, want.Total)
			}
		}

		// The twin's files: the page's table, as CSV and as a workbook
		// holding the same cells, a row per employee and the total.
		csvRes := e.api(t, "/api/v1/reviews/promotion?"+dashRange+"&format=csv")
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(bodyOf(t, csvRes), "\uFEFF"))).ReadAll()
		whole, _ := report.Reporter{Store: s}.Promotion(ctx, report.PromotionQuery{Period: p, Model: "linear"})
		if csvRes.StatusCode != http.StatusOK || err != nil || len(recs) != len(whole.Employees)+2 {
			t.Fatalf("csv: %d, %d records for %d employees, %v", csvRes.StatusCode, len(recs), len(whole.Employees), err)
		}
		xlsxRes := e.api(t, "/api/v1/reviews/promotion?"+dashRange+"&format=xlsx")
		if xlsxRes.StatusCode != http.StatusOK {
			t.Fatalf("xlsx: %d", xlsxRes.StatusCode)
		}
		d := openXLSX(t, []byte(bodyOf(t, xlsxRes)))
		sameAsCSV(t, "promotion", recs, d, d.sheets()[0])
		if res := e.api(t, "/api/v1/reviews/promotion?format=pdf"); res.StatusCode != http.StatusBadRequest || !strings.Contains(bodyOf(t, res), "want json, csv or xlsx") {
			t.Errorf("format=pdf: %d", res.StatusCode)
		}

		// The page: the same totals, the table exported.
		cm := e.login(t)
		res := e.do(t, req{target: "/reviews/promotion?" + dashRange, cookies: []*http.Cookie{cm}})
		page := bodyOf(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page: %d %s", res.StatusCode, page)
		}
		want, _ := report.Reporter{Store: s}.Promotion(ctx, report.PromotionQuery{Period: p, Model: "linear"})
		kpis := kpiValues(page)
		for id, v := range map[string]string{"links": strconv.FormatInt(want.Total.Links, 10), "visits": strconv.FormatInt(want.Total.Visits, 10),
			"visitors": strconv.FormatInt(want.Total.Visitors, 10), "leads": strconv.FormatInt(want.Total.Leads, 10), "mqls": strconv.FormatInt(want.Total.MQLs, 10),
			"credited_pipeline": want.Total.CreditedPipeline.String(), "credited_revenue": want.Total.CreditedRevenue.String()} {
			if kpis[id] != v {
				t.Errorf("KPI %s = %q, want %q", id, kpis[id], v)
			}
		}
		for _, frag := range []string{`id="table-employees"`, `id="share-form"`, `data-by="team"`, `action="/my/links"`} {
			if !strings.Contains(page, frag) {
				t.Errorf("page lacks %s", frag)
			}
		}
		rows := exported(t, e, "/reviews/promotion?"+dashRange+"&export=employees&employees_sort=leads", cm)
		if len(rows) != len(want.Employees)+2 {
			t.Fatalf("export: %d rows, want a heading, %d employees and the total", len(rows), len(want.Employees))
		}
		li := columnOf(t, rows[0], "Leads")
		var leads int64
		for _, r := range rows[1 : len(rows)-1] {
			n, _ := strconv.ParseInt(r[li], 10, 64)
			leads += n
		}
		if last := rows[len(rows)-1]; leads != want.Total.Leads || last[li] != strconv.FormatInt(want.Total.Leads, 10) {
			t.Errorf("exported leads add up to %d, total row %s, want %d", leads, last[li], want.Total.Leads)
		}
		if n, _ := strconv.ParseInt(rows[1][li], 10, 64); n != want.Employees[0].Leads {
			t.Errorf("export sorted by leads starts with %d leads, want %d", n, want.Employees[0].Leads)
		}
		teams := exported(t, e, "/reviews/promotion?"+dashRange+"&by=team&export=teams", cm)
		if len(teams) != len(want.Teams)+2 {
			t.Errorf("team export: %d rows, want %d teams and heading and total", len(teams), len(want.Teams))
		}

		// Wrong input: the API says which parameter, the page shows it.
		for _, c := range []struct {
			query string
			code  int
			msg   string
		}{
			{"from=2026-13-01", 400, "from"},
			{"from=2026-06-01&to=2026-05-01", 400, "must not be after"},
			{"model=nope", 400, "model"},
			{"campaign=abc", 400, "campaign"},
			{"campaign=0", 400, "campaign"},
			{"campaign=-3", 400, "campaign"},
			{"campaign=99999999999999999999", 400, "campaign"},
			{"campaign=99999", 404, "campaign 99999 does not exist"},
			{"by=department", 400, "by"},
		} {
			res := e.api(t, "/api/v1/reviews/promotion?"+c.query)
			body := bodyOf(t, res)
			if res.StatusCode != c.code || !strings.Contains(body, c.msg) {
				t.Errorf("%s: %d %s, want %d naming %q", c.query, res.StatusCode, body, c.code, c.msg)
			}
			res = e.do(t, req{target: "/reviews/promotion?" + c.query, cookies: []*http.Cookie{cm}})
			body = bodyOf(t, res)
			if res.StatusCode != c.code || !strings.Contains(body, `id="filter-error"`) {
				t.Errorf("page %s: %d, want %d with the error shown", c.query, res.StatusCode, c.code)
			}
		}
		// Odd but valid: spaces around the campaign id, the grouping in
		// capitals.
		res = e.api(t, "/api/v1/reviews/promotion?campaign=+"+strconv.FormatInt(share, 10)+"+&by=TEAM")
		var odd promotionJSON
		decodeJSON(t, res, http.StatusOK, &odd)
		if odd.By != "team" || odd.Campaign == nil || odd.Campaign.ID != share {
			t.Errorf("odd input: by %s campaign %+v", odd.By, odd.Campaign)
		}

		// Sales may not see it, with a session or a key.
		cs := e.loginAs(t, model.RoleSales)
		if res := e.do(t, req{target: "/reviews/promotion", cookies: []*http.Cookie{cs}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("sales opened the leaderboard: %d", res.StatusCode)
		}
		key, _, err := e.auth.CreateAPIKey(ctx, "sales", model.RoleSales)
		if err != nil {
			t.Fatal(err)
		}
		if res := e.do(t, req{target: "/api/v1/reviews/promotion", header: map[string]string{"Authorization": "Bearer " + key}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("a sales key read the leaderboard: %d", res.StatusCode)
		}
	})
}

// Every user gets their own share link of a campaign in two clicks, and
// only they (and those who manage links) see its poster; the API does the
// same for a user's key.
func TestShareLinks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		db := s.WriterDB()
		for _, q := range []string{
			`UPDATE campaigns SET landing_url = 'https://www.example.cn/s' WHERE id = 1`,
			`INSERT INTO campaigns (id, code, name, channel, landing_url, created_at, archived_at) VALUES (3, 'old', '旧活动', 'email', 'https://www.example.cn/o', '2026-01-01 00:00:00+00:00', '2026-01-05 00:00:00+00:00')`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		cs := e.loginAs(t, model.RoleSales)
		sales, err := s.UserByEmail(ctx, "sales.user@example.cn")
		if err != nil {
			t.Fatal(err)
		}
		// Click one: the campaign page's button.
		page := bodyOf(t, e.do(t, req{target: "/campaigns/1", cookies: []*http.Cookie{cs}}))
		if !strings.Contains(page, `id="my-share-link"`) || !strings.Contains(page, `name="campaign" value="1"`) {
			t.Fatal("the campaign page has no share button")
		}
		share := func(c *http.Cookie, campaign string) *http.Response {
			return e.do(t, req{method: http.MethodPost, target: "/my/links", form: url.Values{"campaign": {campaign}}, cookies: []*http.Cookie{c}})
		}
		res := share(cs, "1")
		loc := res.Header.Get("Location")
		m := regexp.MustCompile(`^/my/links\?created=1&link=(\d+)#shown$`).FindStringSubmatch(loc)
		if res.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("share: %d to %q", res.StatusCode, loc)
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		link, err := s.TrackedLinkByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if link.PromoterID != sales.ID || link.CampaignID != 1 || link.UTMMedium != "employee_sharing" || link.TargetURL != "https://www.example.cn/s" {
			t.Errorf("link %+v", link)
		}
		// It lands on the link with its QR code; click two: the poster.
		page = bodyOf(t, e.do(t, req{target: strings.TrimSuffix(loc, "#shown"), cookies: []*http.Cookie{cs}}))
		poster := "/my/links/" + m[1] + "/poster"
		for _, frag := range []string{`id="shown"`, "/r/" + link.Code + "/qr.svg", `href="` + poster + `"`, "/r/" + link.Code + `</a>`} {
			if !strings.Contains(page, frag) {
				t.Errorf("my links page lacks %s", frag)
			}
		}
		res = e.do(t, req{target: poster, cookies: []*http.Cookie{cs}})
		if body := bodyOf(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, "/r/"+link.Code+"/qr.svg") {
			t.Errorf("poster: %d", res.StatusCode)
		}
		// Asking again gives the same link.
		res = share(cs, "1")
		if loc := res.Header.Get("Location"); loc != "/my/links?link="+m[1]+"#shown" {
			t.Errorf("second share: %q", loc)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tracked_links WHERE promoter_id = `+strconv.FormatInt(sales.ID, 10)).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d links of the sales user (%v)", n, err)
		}
		// Somebody else: their own link, not the poster of this one; those
		// who manage links see every poster.
		other := e.loginAs(t, model.RoleViewer)
		if res := e.do(t, req{target: poster, cookies: []*http.Cookie{other}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("another user's poster: %d", res.StatusCode)
		}
		if body := bodyOf(t, e.do(t, req{target: "/my/links", cookies: []*http.Cookie{other}})); strings.Contains(body, link.Code) {
			t.Error("another user's list shows the link")
		}
		if res := e.do(t, req{target: poster, cookies: []*http.Cookie{e.login(t)}}); res.StatusCode != http.StatusOK {
			t.Errorf("a marketer opening the poster: %d", res.StatusCode)
		}
		if res := share(other, "1"); !strings.Contains(res.Header.Get("Location"), "created=1") {
			t.Errorf("another user's share: %q", res.Header.Get("Location"))
		}
		// A revoked link is not given again.
		if err := s.RevokeTrackedLink(ctx, id, link.CreatedAt); err != nil {
			t.Fatal(err)
		}
		if res := share(cs, "1"); !strings.Contains(res.Header.Get("Location"), "created=1") || strings.Contains(res.Header.Get("Location"), "link="+m[1]+"#") {
			t.Errorf("share after revoking: %q", res.Header.Get("Location"))
		}
		// Refused: no campaign, a wrong one, one without a landing page, an
		// archived one.
		for _, c := range []struct{ campaign, msg string }{
			{"", "Choose a campaign first"},
			{"abc", "Choose a campaign first"},
			{"999", "does not exist"},
			{"2", "has no landing URL"},
			{"3", "is archived"},
		} {
			res := share(cs, c.campaign)
			body := bodyOf(t, res)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.msg) || !strings.Contains(body, `id="share-error"`) {
				t.Errorf("share %q: %d, want 400 saying %q", c.campaign, res.StatusCode, c.msg)
			}
		}

		// The API: a user's key acts for them.
		key, _, err := e.auth.CreateUserAPIKey(ctx, sales.ID, "mine", model.RoleSales)
		if err != nil {
			t.Fatal(err)
		}
		var got shareLinkJSON
		decodeJSON(t, e.sendJSON(t, http.MethodPost, "/api/v1/my/links", key, `{"campaign": "baidu-1"}`), http.StatusOK, &got)
		live, err := s.LiveShareLink(ctx, 1, sales.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Code != live.Code || got.PromoterID != sales.ID || !strings.HasSuffix(got.ShortURL, "/r/"+live.Code) || got.PosterURL != "/my/links/"+strconv.FormatInt(live.ID, 10)+"/poster" || got.Channel != model.ChannelEmployeeShare || got.CampaignName != "百度搜索" {
			t.Errorf("API share: %+v, want the live link %s", got, live.Code)
		}
		var list struct {
			Links []linkReport `json:"links"`
		}
		decodeJSON(t, e.do(t, req{target: "/api/v1/my/links", header: map[string]string{"Authorization": "Bearer " + key}}), http.StatusOK, &list)
		if len(list.Links) != 2 || list.Links[0].Code != live.Code || list.Links[1].RevokedAt == nil {
			t.Errorf("my links: %+v", list.Links)
		}
		for _, c := range []struct {
			key, body string
			code      int
			msg       string
		}{
			{e.key, `{"campaign": "baidu-1"}`, 403, "belongs to no user"},
			{key, `{}`, 400, "campaign is required"},
			{key, `{"campaign": 1}`, 400, "campaign"},
			{key, `{"campaign": "baidu-1", "promoter": "x@y.cn"}`, 400, "unknown field"},
			{key, `{"campaign": "nope"}`, 404, `does not exist`},
			{key, `{"campaign": "web-1"}`, 400, "no landing URL"},
			{key, `{"campaign": "` + strings.Repeat("x", 300) + `"}`, 400, "longer than 200 bytes"},
			{key, `not json`, 400, "JSON object"},
		} {
			res := e.sendJSON(t, http.MethodPost, "/api/v1/my/links", c.key, c.body)
			body := bodyOf(t, res)
			if res.StatusCode != c.code || !strings.Contains(body, c.msg) {
				t.Errorf("POST %s: %d %s, want %d saying %q", c.body[:min(len(c.body), 40)], res.StatusCode, body, c.code, c.msg)
			}
		}
		if res := e.do(t, req{target: "/api/v1/my/links", header: map[string]string{"Authorization": "Bearer " + e.key}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("a key of no user listed links: %d", res.StatusCode)
		}
		// A new campaign for another user's key: 201.
		vkey, _, err := e.auth.CreateUserAPIKey(ctx, sales.ID+1, "v", model.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		if res := e.sendJSON(t, http.MethodPost, "/api/v1/my/links", vkey, `{"campaign": "baidu-1"}`); res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
			t.Errorf("another key's share: %d %s", res.StatusCode, bodyOf(t, res))
		}
	})
}

// sameJSON says whether two JSON documents hold the same values (the API
// writes <, > and & as they are; json.Marshal escapes them).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
