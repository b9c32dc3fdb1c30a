package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The events and content dashboards over a small demo: the API (with a
// key, no cookies) answers what the report computes, the page (with a
// session) shows the same figures, every table exports them, and wrong
// input gets a clear 400 or 404 in the user's language.

// dashEnd is the last day of the dashboards' demo; dashRange is the year
// to it.
var dashEnd = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

const dashRange = "from=2025-11-26&to=2026-11-25"

// hostileName is a campaign and asset name a careless import could bring:
// markup, and a formula for a spreadsheet.
const hostileName = `=HYPERLINK("http://evil.example")<script>alert(1)</script>`

// newEventsEnv is a server over a small demo (events, content, credits)
// with its roll-ups refreshed, a webinar named hostileName, a marketer
// who logs in and a viewer API key.
func newEventsEnv(t *testing.T, s *store.Store) *env {
	t.Helper()
	if _, err := demo.Generate(ctx, s, demo.Options{Seed: 3, End: dashEnd, Scale: 0.02}); err != nil {
		t.Fatalf("demo: %v", err)
	}
	db := s.WriterDB()
	for _, q := range []string{
		// Watch times for the webinar attendances, unless the demo gave them
		// some, and every day of the touches roll-up to do again.
		`UPDATE touchpoints SET watch_seconds = (id * 7919) % 4000 WHERE type = 'webinar_attend' AND NOT EXISTS (SELECT 1 FROM touchpoints x WHERE x.watch_seconds > 0)`,
		`INSERT INTO rollup_dirty (name, day) VALUES ('touches', '0001-01-01')`,
		`INSERT INTO campaigns (code, name, name_en, channel, kind, start_date, end_date, created_at)
			VALUES ('evil-webinar', '` + strings.ReplaceAll(hostileName, "'", "''") + `', '', 'webinar', 'webinar', '2026-10-20', '2026-10-20', '2026-10-01 00:00:00+00:00')`,
		`INSERT INTO content_assets (kind, title, title_en, url, created_at)
			VALUES ('whitepaper', '` + strings.ReplaceAll(hostileName, "'", "''") + `', '', '', '2026-10-01 00:00:00+00:00')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := rollup.Refresh(ctx, s, time.Now()); err != nil {
		t.Fatal(err)
	}
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
	return &env{store: s, auth: a, srv: srv, h: srv.Handler(), key: key}
}

// eventTouches counts the touches of the event campaigns in the team days
// of the range by type, read from the base table.
func eventTouches(t *testing.T, s *store.Store, from, to time.Time) map[string]int64 {
	t.Helper()
	cal, err := s.Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := model.Period{From: from, To: to, Cal: cal}
	rows, err := s.WriterDB().QueryContext(ctx, `SELECT t.type, t.occurred_at FROM touchpoints t JOIN campaigns c ON c.id = t.campaign_id
		WHERE c.channel IN ('webinar', 'offline_event')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var typ string
		var at time.Time
		if err := rows.Scan(&typ, &at); err != nil {
			t.Fatal(err)
		}
		if p.Contains(cal.Day(at)) {
			out[typ]++
		}
	}
	return out
}

// kpiValues reads the data-value of each KPI of a page.
func kpiValues(body string) map[string]string {
	out := map[string]string{}
	re := regexp.MustCompile(`(?s)id="kpi-([a-z_]+)" data-kpi="[a-z_]+">.*?data-value="([^"]*)"`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// exported reads a table's CSV export.
func exported(t *testing.T, e *env, target string, c *http.Cookie) [][]string {
	t.Helper()
	res := e.do(t, req{target: target, cookies: []*http.Cookie{c}})
	body := bodyOf(t, res)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export %s: %d %s", target, res.StatusCode, body[:min(len(body), 200)])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func columnOf(t *testing.T, head []string, label string) int {
	t.Helper()
	i := slices.Index(head, label)
	if i < 0 {
		t.Fatalf("no column %q in %v", label, head)
	}
	return i
}

func TestEventsDashboard(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEventsEnv(t, s)
		from, to := dashEnd.AddDate(-1, 0, 1), dashEnd

		// The API, with a key: what the report computes, for every model
		// asked.
		var api report.Events
		decodeJSON(t, e.api(t, "/api/v1/dashboards/events?"+dashRange+"&model=position"), http.StatusOK, &api)
		cal, _ := s.Calendar(ctx)
		want, err := report.Reporter{Store: s}.Events(ctx, report.EventsQuery{Period: model.Period{From: from, To: to, Cal: cal}, Model: "position"})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(api)
		b, _ := json.Marshal(want)
		if !bytes.Equal(a, b) {
			t.Fatalf("API answer differs from the report:\n%s\n%s", a, b)
		}
		if api.Model != "position" || api.From != "2025-11-26" || api.To != "2026-11-25" || len(api.Events) < 10 || len(api.Months) != 12 {
			t.Fatalf("API: model %s %s..%s, %d events, %d months", api.Model, api.From, api.To, len(api.Events), len(api.Months))
		}
		// Counted a second way, from the touches themselves.
		touches := eventTouches(t, s, from, to)
		if api.Total.Registrations != touches["webinar_register"] || api.Total.Attendances != touches["webinar_attend"]+touches["badge_scan"] ||
			api.Total.Registrations == 0 || api.Total.Viewers == 0 {
			t.Errorf("registrations %d attendances %d, touches %v", api.Total.Registrations, api.Total.Attendances, touches)
		}

		// The page, with a session, shows the same figures.
		c := e.login(t)
		res := e.do(t, req{target: "/dashboards/events?" + dashRange + "&model=position", cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "zh-CN"}})
		body := bodyOf(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page: %d %s", res.StatusCode, body)
		}
		k := kpiValues(body)
		for id, v := range map[string]string{
			"registrations": strconv.FormatInt(api.Total.Registrations, 10), "attendances": strconv.FormatInt(api.Total.Attendances, 10),
			"leads": strconv.FormatInt(api.Total.Leads, 10), "credited_pipeline": api.Total.CreditedPipeline.String(),
			"won_revenue": api.Total.WonRevenue.String(), "cost": api.Total.Cost.String(), "roas": rawRateText(api.Total.ROAS),
			"avg_watch_minutes": strconv.FormatFloat(*api.Total.AvgWatchMinutes, 'f', 1, 64),
		} {
			if k[id] != v {
				t.Errorf("KPI %s = %q, want %q", id, k[id], v)
			}
		}
		for _, frag := range []string{`<h1>活动运营</h1>`, `id="table-events"`, `id="table-months"`, `data-chart="events-trend"`, `data-chart="events-people"`,
			`data-chart="events-money"`, `href="/campaigns/`, `aria-current="page">活动</a>`} {
			if !strings.Contains(body, frag) {
				t.Errorf("page lacks %s", frag)
			}
		}
		// Markup in a name is shown as text.
		if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Error("a campaign name's markup reached the page unescaped")
		}

		// Every table exports what the page shows: the rows and the total
		// of the list; a formula in a name stays text.
		rows := exported(t, e, "/dashboards/events?"+dashRange+"&model=position&export=events&lang=en", c)
		if len(rows) != len(api.Events)+2 {
			t.Fatalf("export has %d lines for %d events", len(rows), len(api.Events))
		}
		reg, pipe := columnOf(t, rows[0], "Registrations"), columnOf(t, rows[0], "Credited pipeline")
		var sumReg int64
		var sumPipe model.Money
		for _, r := range rows[1 : len(rows)-1] {
			n, _ := strconv.ParseInt(r[reg], 10, 64)
			m, err := model.ParseMoney(r[pipe])
			if err != nil {
				t.Fatal(err)
			}
			sumReg += n
			sumPipe += m
		}
		last := rows[len(rows)-1]
		if strconv.FormatInt(sumReg, 10) != last[reg] || sumPipe.String() != last[pipe] || last[reg] != strconv.FormatInt(api.Total.Registrations, 10) ||
			last[pipe] != api.Total.CreditedPipeline.String() {
			t.Errorf("export: rows add up to %d and %s; total line %s and %s", sumReg, sumPipe, last[reg], last[pipe])
		}
		if !slices.ContainsFunc(rows, func(r []string) bool { return strings.HasPrefix(r[0], `'=HYPERLINK`) }) {
			t.Error("a formula in a name was exported as a formula")
		}
		if months := exported(t, e, "/dashboards/events?"+dashRange+"&export=months", c); len(months) != 13 {
			t.Errorf("the months export has %d lines", len(months))
		}

		// The drill-down into the busiest event: its figures, its days,
		// the link to its campaign; the filter keeps it.
		busiest := api.Events[0]
		for _, ev := range api.Events {
			if ev.Registrations > busiest.Registrations {
				busiest = ev
			}
		}
		var one report.Events
		decodeJSON(t, e.api(t, "/api/v1/dashboards/events?"+dashRange+"&model=position&event="+strconv.FormatInt(busiest.ID, 10)), http.StatusOK, &one)
		if one.Event == nil || one.Event.ID != busiest.ID || one.Event.Registrations != busiest.Registrations || len(one.Event.Days) == 0 {
			t.Fatalf("detail of %d: %+v", busiest.ID, one.Event)
		}
		target := "/dashboards/events?" + dashRange + "&event=" + strconv.FormatInt(busiest.ID, 10)
		res = e.do(t, req{target: target + "&lang=en", cookies: []*http.Cookie{c}})
		body = bodyOf(t, res)
		for _, frag := range []string{`id="event"`, `href="/campaigns/` + strconv.FormatInt(busiest.ID, 10) + `"`, `data-chart="event-days"`,
			`data-chart="event-funnel"`, `id="table-event_days"`, `name="event" value="` + strconv.FormatInt(busiest.ID, 10) + `"`, busiest.NameEN} {
			if !strings.Contains(body, frag) {
				t.Errorf("detail page lacks %s", frag)
			}
		}
		if k := kpiValues(body); k["event_registrations"] != strconv.FormatInt(busiest.Registrations, 10) {
			t.Errorf("detail KPI registrations %q, want %d", k["event_registrations"], busiest.Registrations)
		}
		if days := exported(t, e, target+"&export=event_days", c); len(days) != len(one.Event.Days)+1 {
			t.Errorf("the days export has %d lines for %d days", len(days), len(one.Event.Days))
		}

		// Wrong input: a clear 400 (or 404) in the user's language, and
		// in the API's message.
		for _, tc := range []struct {
			query, zh, en, api string
			code               int
		}{
			{"from=2026-13-01", "开始日期", "start date", "from", 400},
			{"from=2026-03-01&to=2026-02-01", "", "", "must not be after", 400},
			{"model=magic", "", "", "model", 400},
			{"event=abc", "活动编号无效", "not valid", "not an event id", 400},
			{"event=-3", "活动编号无效", "not valid", "not an event id", 400},
			{"event=99999999", "找不到编号为 99999999", "no webinar or offline event with id 99999999", "no webinar or offline event", 404},
			{"event=1", "找不到编号为 1", "", "no webinar or offline event", 404}, // a paid search campaign
		} {
			var msg struct{ Error string }
			decodeJSON(t, e.api(t, "/api/v1/dashboards/events?"+tc.query), tc.code, &msg)
			if !strings.Contains(msg.Error, tc.api) {
				t.Errorf("API %s: %q", tc.query, msg.Error)
			}
			for lang, want := range map[string]string{"zh-CN": tc.zh, "en": tc.en} {
				res := e.do(t, req{target: "/dashboards/events?" + tc.query + "&lang=" + lang, cookies: []*http.Cookie{c}})
				body := bodyOf(t, res)
				if res.StatusCode != tc.code || !strings.Contains(body, `id="filter-error"`) || (want != "" && !strings.Contains(body, want)) {
					t.Errorf("page %s in %s: %d, want %d with %q", tc.query, lang, res.StatusCode, tc.code, want)
				}
			}
		}

		// Sales may not open it, by page or by key.
		sales := e.loginAs(t, model.RoleSales)
		if res := e.do(t, req{target: "/dashboards/events", cookies: []*http.Cookie{sales}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("sales opened the events page: %d", res.StatusCode)
		}
		key, _, err := e.auth.CreateAPIKey(ctx, "sales", model.RoleSales)
		if err != nil {
			t.Fatal(err)
		}
		if res := e.do(t, req{target: "/api/v1/dashboards/events", header: map[string]string{"Authorization": "Bearer " + key}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("a sales key read the events API: %d", res.StatusCode)
		}
		if res := e.do(t, req{target: "/api/v1/dashboards/events"}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("the events API without a key: %d", res.StatusCode)
		}
	})
}

func TestContentDashboard(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEventsEnv(t, s)
		from, to := dashEnd.AddDate(-1, 0, 1), dashEnd
		var api report.Content
		decodeJSON(t, e.api(t, "/api/v1/dashboards/content?"+dashRange), http.StatusOK, &api)
		cal, _ := s.Calendar(ctx)
		want, err := report.Reporter{Store: s}.Content(ctx, report.ContentQuery{Period: model.Period{From: from, To: to, Cal: cal}, Model: "linear"})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(api)
		b, _ := json.Marshal(want)
		if !bytes.Equal(a, b) {
			t.Fatalf("API answer differs from the report:\n%s\n%s", a, b)
		}
		// Downloads counted a second way, from the touches.
		var downloads int64
		p := model.Period{From: from, To: to, Cal: cal}
		rows, err := s.WriterDB().QueryContext(ctx, `SELECT occurred_at FROM touchpoints WHERE type = 'content_download' AND content_id IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var at time.Time
			if err := rows.Scan(&at); err != nil {
				t.Fatal(err)
			}
			if p.Contains(cal.Day(at)) {
				downloads++
			}
		}
		rows.Close()
		if api.Total.Downloads != downloads || downloads == 0 || api.Model != "linear" || len(api.Kinds) < 3 {
			t.Errorf("downloads %d, want %d; model %s; %d kinds", api.Total.Downloads, downloads, api.Model, len(api.Kinds))
		}

		c := e.login(t)
		res := e.do(t, req{target: "/dashboards/content?" + dashRange + "&lang=en", cookies: []*http.Cookie{c}})
		body := bodyOf(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page: %d", res.StatusCode)
		}
		k := kpiValues(body)
		for id, v := range map[string]string{
			"views": strconv.FormatInt(api.Total.Views, 10), "downloads": strconv.FormatInt(api.Total.Downloads, 10),
			"leads": strconv.FormatInt(api.Total.Leads, 10), "effective_lead_rate": rawRateText(api.Total.EffectiveRate),
			"credited_pipeline": api.Total.CreditedPipeline.String(), "download_rate": rawRateText(api.Total.DownloadRate),
		} {
			if k[id] != v {
				t.Errorf("KPI %s = %q, want %q", id, k[id], v)
			}
		}
		for _, frag := range []string{`<h1>Content</h1>`, `id="table-assets"`, `id="table-kinds"`, `id="table-months"`, `data-chart="content-top"`,
			`data-chart="content-trend"`, `data-chart="content-kinds"`, `aria-current="page">Content</a>`} {
			if !strings.Contains(body, frag) {
				t.Errorf("page lacks %s", frag)
			}
		}
		if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)") {
			t.Error("an asset title's markup reached the page unescaped")
		}
		assets := exported(t, e, "/dashboards/content?"+dashRange+"&export=assets&lang=en", c)
		if len(assets) != len(api.Assets)+2 {
			t.Fatalf("assets export has %d lines for %d assets", len(assets), len(api.Assets))
		}
		dl, inf := columnOf(t, assets[0], "Downloads"), columnOf(t, assets[0], "Influenced pipeline")
		var sum int64
		for _, r := range assets[1 : len(assets)-1] {
			n, _ := strconv.ParseInt(r[dl], 10, 64)
			sum += n
		}
		if last := assets[len(assets)-1]; last[dl] != strconv.FormatInt(sum, 10) || last[inf] != "" {
			t.Errorf("assets export total %v: downloads should be %d, influence empty", last, sum)
		}
		kinds := exported(t, e, "/dashboards/content?"+dashRange+"&export=kinds", c)
		if len(kinds) != len(api.Kinds)+2 {
			t.Errorf("kinds export has %d lines for %d kinds", len(kinds), len(api.Kinds))
		}
		if !slices.ContainsFunc(assets, func(r []string) bool { return strings.HasPrefix(r[0], `'=HYPERLINK`) }) {
			t.Error("a formula in a title was exported as a formula")
		}
		// Sorted by downloads, ascending, as the link asks.
		res = e.do(t, req{target: "/dashboards/content?" + dashRange + "&assets_sort=downloads&assets_dir=asc&export=assets", cookies: []*http.Cookie{c}})
		sorted, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(bodyOf(t, res), "\uFEFF"))).ReadAll()
		for i := 2; i < len(sorted)-1; i++ {
			x, _ := strconv.Atoi(sorted[i-1][dl])
			y, _ := strconv.Atoi(sorted[i][dl])
			if x > y {
				t.Fatalf("not sorted by downloads: %d before %d", x, y)
			}
		}

		for _, tc := range []struct {
			query, zh, api string
		}{
			{"to=yesterday", "结束日期", "to"},
			{"model=%3Cb%3E", "归因模型", "model"},
		} {
			var msg struct{ Error string }
			decodeJSON(t, e.api(t, "/api/v1/dashboards/content?"+tc.query), http.StatusBadRequest, &msg)
			if !strings.Contains(msg.Error, tc.api) {
				t.Errorf("API %s: %q", tc.query, msg.Error)
			}
			res := e.do(t, req{target: "/dashboards/content?" + tc.query, cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "zh-CN,zh"}})
			if body := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.zh) || strings.Contains(body, "<b>") {
				t.Errorf("page %s: %d", tc.query, res.StatusCode)
			}
		}
		sales := e.loginAs(t, model.RoleSales)
		if res := e.do(t, req{target: "/dashboards/content", cookies: []*http.Cookie{sales}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("sales opened the content page: %d", res.StatusCode)
		}
	})
}
