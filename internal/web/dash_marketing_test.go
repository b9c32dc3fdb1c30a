package web

import (
	"bytes"
	"encoding/csv"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// Every figure of the marketing dashboard's API equals the definitions
// computed from the base tables, for several ranges, models and both
// funnel views.
func TestMarketingDashboardMatchesBaseTables(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newDemoEnv(t, s)
		cases := []struct {
			name, query string
			model       string
			mode        report.FunnelMode
		}{
			{"default range", "", "linear", report.Cohort},
			{"a quarter, first touch, period", "from=2026-04-01&to=2026-06-30&model=first&mode=period", "first", report.Period},
			{"a month, W-shaped", "from=2026-05-01&to=2026-05-31&model=w-shaped", "w-shaped", report.Cohort},
			{"the whole year, time decay, period", "from=2025-07-01&to=2026-06-30&model=time-decay&mode=period", "time-decay", report.Period},
		}
		worlds := map[string]world{}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var m report.Marketing
				e.getJSON(t, "/api/v1/dashboards/marketing?"+tc.query, &m)
				if string(m.Model) != tc.model || m.Mode != tc.mode || m.TimeZone != "Asia/Shanghai" || m.Currency != "CNY" {
					t.Fatalf("model %s mode %s zone %s", m.Model, m.Mode, m.TimeZone)
				}
				if tc.query == "" && (m.From != "2025-07-02" || m.To != "2026-07-01") {
					t.Errorf("default range %s..%s, want the 12 months to today (1 July)", m.From, m.To)
				}
				col, err := report.ModelColumn(m.Model)
				if err != nil {
					t.Fatal(err)
				}
				w, ok := worlds[col]
				if !ok {
					w = loadWorld(t, s, col)
					worlds[col] = w
				}
				sp := w.span(m.From, m.To)
				checkHeadline(t, m.Headline, w.expectedHeadline(sp))
				checkFunnel(t, m.Funnel, w.expectedFunnel(sp, tc.mode))
				checkTrend(t, m, w, sp)
				checkMix(t, m, w, sp)
			})
		}
	})
}

func checkHeadline(t *testing.T, got, want report.MarketingHeadline) {
	t.Helper()
	if got.PipelineCreated == 0 || got.WonRevenue == 0 || got.Spend == 0 || got.Leads == 0 {
		t.Errorf("the demo range is empty: %+v", got)
	}
	ints := []struct {
		name      string
		got, want int64
	}{
		{"opportunities created", got.OpportunitiesCreated, want.OpportunitiesCreated},
		{"pipeline created", int64(got.PipelineCreated), int64(want.PipelineCreated)},
		{"pipeline sourced", int64(got.PipelineSourced), int64(want.PipelineSourced)},
		{"pipeline influenced", int64(got.PipelineInfluenced), int64(want.PipelineInfluenced)},
		{"target pipeline", int64(got.TargetPipeline), int64(want.TargetPipeline)},
		{"won deals", got.WonDeals, want.WonDeals},
		{"won revenue", int64(got.WonRevenue), int64(want.WonRevenue)},
		{"won sourced", int64(got.WonSourced), int64(want.WonSourced)},
		{"won influenced", int64(got.WonInfluenced), int64(want.WonInfluenced)},
		{"target revenue", int64(got.TargetRevenue), int64(want.TargetRevenue)},
		{"target campaigns", got.TargetCampaigns, want.TargetCampaigns},
		{"open opportunities", got.OpenOpportunities, want.OpenOpportunities},
		{"open pipeline", int64(got.OpenPipeline), int64(want.OpenPipeline)},
		{"lost deals", got.LostDeals, want.LostDeals},
		{"closed-lost", int64(got.ClosedLost), int64(want.ClosedLost)},
		{"leads", got.Leads, want.Leads},
		{"spend", int64(got.Spend), int64(want.Spend)},
		{"new customers", got.NewCustomers, want.NewCustomers},
	}
	for _, c := range ints {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		name      string
		got, want *float64
	}{{"win rate", got.WinRate, want.WinRate}, {"ROAS", got.ROAS, want.ROAS}, {"ROI", got.ROI, want.ROI}} {
		if !samePtr(c.got, c.want) {
			t.Errorf("%s = %s, want %s", c.name, fmtPtr(c.got), fmtPtr(c.want))
		}
	}
	if !sameMoneyPtr(got.CAC, want.CAC) {
		t.Errorf("CAC = %v, want %v", got.CAC, want.CAC)
	}
	if got.PipelineSourced > got.PipelineCreated || got.WonInfluenced > got.WonRevenue {
		t.Errorf("marketing's share exceeds the whole: %+v", got)
	}
}

func checkFunnel(t *testing.T, got report.DashFunnel, want []report.DashStep) {
	t.Helper()
	if len(got.Steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(got.Steps), len(want))
	}
	for i, w := range want {
		g := got.Steps[i]
		if g.Stage != w.Stage || g.Count != w.Count || !samePtr(g.Rate, w.Rate) {
			t.Errorf("step %s: %d (%s), want %s %d (%s)", g.Stage, g.Count, fmtPtr(g.Rate), w.Stage, w.Count, fmtPtr(w.Rate))
		}
		switch {
		case (g.VelocityDays == nil) != (w.VelocityDays == nil):
			t.Errorf("step %s velocity %s, want %s", g.Stage, fmtPtr(g.VelocityDays), fmtPtr(w.VelocityDays))
		case g.VelocityDays != nil && math.Abs(*g.VelocityDays-*w.VelocityDays) > 0.051:
			t.Errorf("step %s velocity %.2f, want %.2f", g.Stage, *g.VelocityDays, *w.VelocityDays)
		}
	}
	if want[0].Count == 0 || want[1].Count == 0 {
		t.Error("the demo funnel is empty")
	}
	if !samePtr(got.Overall, rate(want[len(want)-1].Count, want[0].Count)) {
		t.Errorf("overall %s", fmtPtr(got.Overall))
	}
}

func checkTrend(t *testing.T, m report.Marketing, w world, sp span) {
	t.Helper()
	want := map[string]*report.MonthFigures{}
	month := func(k string) *report.MonthFigures {
		if want[k] == nil {
			want[k] = &report.MonthFigures{Month: k}
		}
		return want[k]
	}
	for _, c := range w.costs {
		if sp.hasDay(c.day) {
			month(c.day.Format("2006-01")).Spend += model.Money(c.costFen)
		}
	}
	for _, l := range w.leads {
		if sp.has(l.at) {
			month(w.cal.Day(l.at).Format("2006-01")).Leads++
		}
	}
	for _, o := range w.opps {
		if sp.has(o.created) {
			month(w.cal.Day(o.created).Format("2006-01")).PipelineCreated += model.Money(o.amount)
		}
		if o.closed != nil && o.stage == "closed_won" && sp.has(*o.closed) {
			month(w.cal.Day(*o.closed).Format("2006-01")).WonRevenue += model.Money(o.amount)
		}
	}
	var sum report.MonthFigures
	for i, g := range m.Trend {
		if i > 0 && g.Month <= m.Trend[i-1].Month {
			t.Errorf("months out of order: %s after %s", g.Month, m.Trend[i-1].Month)
		}
		wf := month(g.Month)
		if g != *wf {
			t.Errorf("month %s = %+v, want %+v", g.Month, g, *wf)
		}
		sum.Spend += g.Spend
		sum.Leads += g.Leads
		sum.PipelineCreated += g.PipelineCreated
		sum.WonRevenue += g.WonRevenue
		delete(want, g.Month)
	}
	for k, f := range want {
		if *f != (report.MonthFigures{Month: k}) {
			t.Errorf("month %s missing from the trend: %+v", k, *f)
		}
	}
	if first, last := sp.from.Format("2006-01"), sp.to.Format("2006-01"); len(m.Trend) == 0 || m.Trend[0].Month != first || m.Trend[len(m.Trend)-1].Month != last {
		t.Errorf("trend covers %v, want %s..%s", m.Trend, first, last)
	}
	h := m.Headline
	if sum.Spend != h.Spend || sum.Leads != h.Leads || sum.PipelineCreated != h.PipelineCreated || sum.WonRevenue != h.WonRevenue {
		t.Errorf("the months sum to %+v, the headline says %d %d %d %d", sum, h.Spend, h.Leads, h.PipelineCreated, h.WonRevenue)
	}
}

func checkMix(t *testing.T, m report.Marketing, w world, sp span) {
	t.Helper()
	pipeFen, pipeN := w.creditedBy(sp, "opportunity", byChannel)
	wonFen, wonN := w.creditedBy(sp, "won", byChannel)
	inflN, inflV := w.influencedBy(sp, "opportunity", byChannel)
	_, inflWonV := w.influencedBy(sp, "won", byChannel)
	spend, leads := map[string]int64{}, map[string]int64{}
	for _, c := range w.costs {
		if sp.hasDay(c.day) {
			spend[w.campaigns[c.campaign].channel] += c.costFen
		}
	}
	for _, l := range w.leads {
		if sp.has(l.at) {
			ch := l.channel
			if ch == "" {
				ch = string(model.ChannelUnknown)
			}
			leads[ch]++
		}
	}
	var sum report.ChannelMix
	seen := map[string]bool{}
	for _, r := range m.Channels {
		ch := r.Channel
		seen[ch] = true
		if !near(r.CreditedPipeline, pipeFen[ch]) || !near(r.CreditedWonRevenue, wonFen[ch]) ||
			math.Abs(r.CreditedOpportunities-pipeN[ch]) > 0.006 || math.Abs(r.CreditedWonDeals-wonN[ch]) > 0.006 {
			t.Errorf("%s credited %v (%v) / %v (%v), want %.2f (%.3f) / %.2f (%.3f)", ch, r.CreditedPipeline, r.CreditedOpportunities,
				r.CreditedWonRevenue, r.CreditedWonDeals, pipeFen[ch], pipeN[ch], wonFen[ch], wonN[ch])
		}
		if int64(r.Spend) != spend[ch] || r.Leads != leads[ch] {
			t.Errorf("%s spend %d leads %d, want %d %d", ch, r.Spend, r.Leads, spend[ch], leads[ch])
		}
		if !samePtr(r.ROAS, rate(int64(r.CreditedWonRevenue), int64(r.Spend))) {
			t.Errorf("%s ROAS %s", ch, fmtPtr(r.ROAS))
		}
		gotN, gotV, gotW := int64(0), int64(0), int64(0)
		if r.InfluencedOpportunities != nil {
			gotN, gotV = *r.InfluencedOpportunities, int64(*r.InfluencedPipeline)
		}
		if r.InfluencedWonRevenue != nil {
			gotW = int64(*r.InfluencedWonRevenue)
		}
		if gotN != inflN[ch] || gotV != inflV[ch] || gotW != inflWonV[ch] {
			t.Errorf("%s influenced %d %d %d, want %d %d %d", ch, gotN, gotV, gotW, inflN[ch], inflV[ch], inflWonV[ch])
		}
		sum.Leads += r.Leads
		sum.Spend += r.Spend
		sum.CreditedPipeline += r.CreditedPipeline
		sum.CreditedWonRevenue += r.CreditedWonRevenue
	}
	for ch, v := range pipeFen {
		if !seen[ch] && v > 0.5 {
			t.Errorf("channel %s with credited pipeline %.0f is missing", ch, v)
		}
	}
	tot := m.ChannelTotal
	if sum.Leads != tot.Leads || sum.Spend != tot.Spend || sum.CreditedPipeline != tot.CreditedPipeline || sum.CreditedWonRevenue != tot.CreditedWonRevenue {
		t.Errorf("the channel rows sum to %+v, the total row says %+v", sum, tot)
	}
	if tot.Leads != m.Headline.Leads || tot.Spend != m.Headline.Spend {
		t.Errorf("channel total leads %d spend %d, headline %d %d", tot.Leads, tot.Spend, m.Headline.Leads, m.Headline.Spend)
	}
	// Credit covers the conversions with touches: at most the whole.
	if tot.CreditedPipeline > m.Headline.PipelineCreated+model.Money(len(m.Channels)) {
		t.Errorf("credited pipeline %d exceeds pipeline created %d", tot.CreditedPipeline, m.Headline.PipelineCreated)
	}
}

// The page shows the API's figures, in the user's language, and each of
// its tables sorts and exports CSV.
func TestMarketingPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newDemoEnv(t, s)
		c := e.loginAs(t, model.RoleViewer)
		session := []*http.Cookie{c}
		q := "from=2026-04-01&to=2026-06-30&model=first"
		var m report.Marketing
		e.getJSON(t, "/api/v1/dashboards/marketing?"+q, &m)

		res := e.do(t, req{target: "/dashboards/marketing?" + q + "&lang=zh-CN", cookies: session})
		page := bodyOf(t, res)
		if res.StatusCode != 200 {
			t.Fatalf("page: %d\n%s", res.StatusCode, page)
		}
		h := m.Headline
		for _, want := range []string{"营销看板", "新建商机金额", "赢单收入", "首次触点", formatMoney(h.PipelineCreated), formatMoney(h.WonRevenue),
			formatMoney(h.Spend), formatPercent(h.WinRate), `data-kpi="cac"`, `data-nav="marketing" aria-current="page"`, "市场来源 " + formatMoney(h.PipelineSourced),
			`data-mode="period"`, `id="chart-funnel"`, `id="chart-trend"`, `id="chart-channels"`, `data-export="channels"`, "同期群"} {
			if !strings.Contains(page, want) {
				t.Errorf("zh page lacks %q", want)
			}
		}
		if strings.Contains(page, "Pipeline created") {
			t.Error("zh page shows English labels")
		}
		for _, kpi := range []struct{ id, raw string }{{"pipeline_created", h.PipelineCreated.String()}, {"won_revenue", h.WonRevenue.String()},
			{"spend", h.Spend.String()}, {"leads", formatRaw(h.Leads)}, {"won_deals", formatRaw(h.WonDeals)}} {
			if !strings.Contains(page, `data-kpi="`+kpi.id+`"`) || !strings.Contains(page, `data-value="`+kpi.raw+`"`) {
				t.Errorf("KPI %s does not show %s", kpi.id, kpi.raw)
			}
		}
		res = e.do(t, req{target: "/dashboards/marketing?" + q + "&lang=en&mode=period", cookies: session})
		page = bodyOf(t, res)
		for _, want := range []string{"Marketing dashboard", "Pipeline created", "First touch", "Entered", `class="current" aria-current="true">Period`,
			"Days from previous stage", "Channel mix", "Paid search"} {
			if !strings.Contains(page, want) {
				t.Errorf("en page lacks %q", want)
			}
		}

		// The channel table as CSV: one line per channel and the total,
		// money in yuan, the same amounts as the API.
		res = e.do(t, req{target: "/dashboards/marketing?" + q + "&lang=en&export=channels&channels_sort=spend&channels_dir=desc", cookies: session})
		body := bodyOf(t, res)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(bytes.NewReader([]byte(strings.TrimPrefix(body, "\uFEFF")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(m.Channels)+2 || recs[0][0] != "Channel" || recs[len(recs)-1][0] != "Total" {
			t.Fatalf("CSV %d lines: %q", len(recs), recs)
		}
		if recs[len(recs)-1][4] != m.ChannelTotal.CreditedPipeline.String() {
			t.Errorf("CSV total credited pipeline %s, API %s", recs[len(recs)-1][4], m.ChannelTotal.CreditedPipeline)
		}
		for i := 2; i < len(recs)-1; i++ {
			a, _ := model.ParseMoney(recs[i-1][2])
			b, _ := model.ParseMoney(recs[i][2])
			if b > a {
				t.Errorf("CSV not sorted by spend: %s before %s", recs[i-1][2], recs[i][2])
			}
		}
		for _, id := range []string{"funnel", "trend"} {
			res := e.do(t, req{target: "/dashboards/marketing?" + q + "&export=" + id, cookies: session})
			if b := bodyOf(t, res); res.StatusCode != 200 || strings.Count(b, "\n") < 4 {
				t.Errorf("export %s: %d %q", id, res.StatusCode, b)
			}
		}
		if res := e.do(t, req{target: "/dashboards/marketing?export=nope", cookies: session}); res.StatusCode != 404 {
			t.Errorf("unknown export: %d", res.StatusCode)
		}
	})
}

func formatRaw(n int64) string { return strings.TrimSpace(strings.ReplaceAll(formatInt(n), ",", "")) }

// Wrong parameters are a 400 that says what to fix: in words of the
// user's language on the page, naming the parameter in the API.
func TestMarketingBadInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		session := []*http.Cookie{e.login(t)}
		for _, tc := range []struct {
			query, api, zh, en string
		}{
			{"from=2026-13-01", "from:", "开始日期", "start date"},
			{"to=yesterday", "to:", "结束日期", "end date"},
			{"from=2026-02-01&to=2026-01-01", "must not be after", "晚于", "after the end date"},
			{"model=magic", "model \"magic\"", "归因模型", "attribution model"},
			{"model=" + url.QueryEscape("<script>alert(1)</script>"), "model", "归因模型", "attribution model"},
			{"mode=funnel", "mode:", "漏斗", "funnel"},
		} {
			res := e.api(t, "/api/v1/dashboards/marketing?"+tc.query)
			var ae apiError
			decodeJSON(t, res, http.StatusBadRequest, &ae)
			if !strings.Contains(ae.Error, tc.api) {
				t.Errorf("%s: API says %q", tc.query, ae.Error)
			}
			for lang, want := range map[string]string{"zh-CN": tc.zh, "en": tc.en} {
				res := e.do(t, req{target: "/dashboards/marketing?" + tc.query + "&lang=" + lang, cookies: session})
				page := bodyOf(t, res)
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="filter-error"`) || !strings.Contains(page, want) {
					t.Errorf("%s (%s): %d, want 400 saying %q", tc.query, lang, res.StatusCode, want)
				}
				if strings.Contains(page, "<script>alert") {
					t.Errorf("%s: hostile text is not escaped", tc.query)
				}
			}
		}
	})
}

// / sends each role to its home; the dashboards keep out the roles that
// may not open them, page and API alike.
func TestHomeAndDashboardRoles(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		for role, home := range map[model.Role]string{model.RoleAdmin: "/dashboards/marketing", model.RoleMarketer: "/dashboards/marketing",
			model.RoleViewer: "/dashboards/marketing", model.RoleSales: "/dashboards/sales"} {
			c := e.loginAs(t, role)
			res := e.do(t, req{target: "/?from=2026-01-01", cookies: []*http.Cookie{c}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != home+"?from=2026-01-01" {
				t.Errorf("%s: / answers %d to %q", role, res.StatusCode, res.Header.Get("Location"))
			}
			for _, path := range []string{"/dashboards/marketing", "/dashboards/ads"} {
				res := e.do(t, req{target: path, cookies: []*http.Cookie{c}})
				want := http.StatusOK
				if role == model.RoleSales {
					want = http.StatusForbidden
				}
				if res.StatusCode != want {
					t.Errorf("%s opens %s: %d, want %d", role, path, res.StatusCode, want)
				}
				res = e.do(t, req{target: "/api/v1" + path, cookies: []*http.Cookie{c}})
				if res.StatusCode != want {
					t.Errorf("%s reads /api/v1%s: %d, want %d", role, path, res.StatusCode, want)
				}
			}
		}
		if res := e.do(t, req{target: "/dashboards/marketing"}); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("anonymous: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		var ae apiError
		decodeJSON(t, e.do(t, req{target: "/api/v1/dashboards/marketing"}), http.StatusUnauthorized, &ae)
	})
}

// The model switcher offers every stored model, keeps the one chosen and
// shares each deal out as that model says: on the fixture, the ¥500,000
// deal's contact touched paid search, then a webinar.
func TestMarketingModelSwitcher(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		refreshDerived(t, s)
		c := []*http.Cookie{e.login(t)}
		const rng = "from=2026-01-01&to=2026-03-31"
		page := func(q string) (int, string) {
			res := e.do(t, req{target: "/dashboards/marketing?" + rng + "&" + q, cookies: c})
			return res.StatusCode, bodyOf(t, res)
		}
		row := func(body, ch string) string {
			i := strings.Index(body, `id="table-channels"`)
			if i < 0 {
				return ""
			}
			body = body[i:]
			j := strings.Index(body, `<td data-col="channel">`+ch+`</td>`)
			if j < 0 {
				return ""
			}
			k := strings.Index(body[j:], "</tr>")
			return body[j : j+k]
		}
		for _, tc := range []struct {
			query, lang, channel, selected string
			want                           []string
		}{
			{"lang=en", "en", "Paid search", `<option value="linear" selected>Linear</option>`,
				[]string{`data-col="credited_opportunities" class="num">0.5</td>`, `data-col="credited_pipeline" class="num">¥250,000.00</td>`,
					`data-col="credited_won_revenue" class="num">¥250,000.00</td>`, `data-col="influenced_pipeline" class="num">¥500,000.00</td>`}},
			{"model=first&lang=en", "en", "Paid search", `<option value="first" selected>First touch</option>`,
				[]string{`data-col="credited_opportunities" class="num">1.0</td>`, `data-col="credited_pipeline" class="num">¥500,000.00</td>`}},
			{"model=last&lang=en", "en", "Webinars", `<option value="last" selected>Last touch</option>`,
				[]string{`data-col="credited_pipeline" class="num">¥500,000.00</td>`}},
			{"model=w-shaped&lang=zh-CN", "zh-CN", "付费搜索", `<option value="w-shaped" selected>W 型</option>`,
				[]string{`data-col="credited_pipeline"`}},
		} {
			code, body := page(tc.query)
			if code != 200 || !strings.Contains(body, tc.selected) {
				t.Errorf("%s: %d, the switcher lacks %s", tc.query, code, tc.selected)
			}
			for _, m := range creditModels() {
				if !strings.Contains(body, `<option value="`+m+`"`) {
					t.Errorf("%s: the switcher lacks the stored model %s", tc.query, m)
				}
			}
			r := row(body, tc.channel)
			for _, w := range tc.want {
				if !strings.Contains(r, w) {
					t.Errorf("%s: the %s row lacks %s: %s", tc.query, tc.channel, w, r)
				}
			}
		}
		var m report.Marketing
		e.getJSON(t, "/api/v1/dashboards/marketing?"+rng+"&model=last", &m)
		if len(m.Channels) != 2 || m.Channels[0].Channel != "webinar" || m.Channels[0].CreditedPipeline != 50000000 || m.ChannelTotal.CreditedPipeline != 50000000 {
			t.Errorf("last touch: %+v", m.Channels)
		}
		if m.Headline.PipelineSourced != 50000000 || m.Headline.PipelineInfluenced != 50000000 || m.Headline.WonDeals != 1 || m.Headline.Leads != 2 {
			t.Errorf("headline: %+v", m.Headline)
		}
	})
}

// A range open at one end (only from, or only to) answers on every
// dashboard, page and API, on both engines: the marketing dashboard then
// starts at the first opportunity, which SQLite used to hand back as text.
func TestDashboardsOpenEndedRange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		session := []*http.Cookie{e.login(t)}
		for _, name := range []string{"marketing", "ads", "events", "content", "sales"} {
			for _, q := range []string{"to=2026-06-30", "from=2026-01-01"} {
				if res := e.api(t, "/api/v1/dashboards/"+name+"?"+q); res.StatusCode != http.StatusOK {
					t.Errorf("API %s?%s: %d %s", name, q, res.StatusCode, bodyOf(t, res))
				}
				if res := e.do(t, req{target: "/dashboards/" + name + "?" + q, cookies: session}); res.StatusCode != http.StatusOK {
					t.Errorf("page %s?%s: %d", name, q, res.StatusCode)
				}
			}
		}
	})
}
