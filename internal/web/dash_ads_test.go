package web

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// adsExpect is what the definitions give one advertising row.
type adsExpect struct {
	spend, impressions, clicks int64
	leads, mqls, sqls          int64
	pipeFen, wonFen, oppN      float64
}

// expectedAds sums the advertising figures of a span by a key of the
// campaign, ad group and keyword; keep selects what is in scope.
func (w world) expectedAds(sp span, key func(campaign, adGroup, keyword int64) string, keep func(campaign, adGroup, keyword int64) bool) map[string]*adsExpect {
	out := map[string]*adsExpect{}
	get := func(k string) *adsExpect {
		if out[k] == nil {
			out[k] = &adsExpect{}
		}
		return out[k]
	}
	for _, c := range w.costs {
		if sp.hasDay(c.day) && w.isAd(c.campaign) && keep(c.campaign, c.adGroup, c.keyword) {
			e := get(key(c.campaign, c.adGroup, c.keyword))
			e.spend += c.costFen
			e.impressions += c.impressions
			e.clicks += c.clicks
		}
	}
	for _, l := range w.leads {
		g := w.kwGroup[l.keyword]
		if sp.has(l.at) && w.isAd(l.campaign) && keep(l.campaign, g, l.keyword) {
			e := get(key(l.campaign, g, l.keyword))
			e.leads++
			if l.reached >= model.StageMQL.Rank() {
				e.mqls++
			}
			if l.reached >= model.StageSQL.Rank() {
				e.sqls++
			}
		}
	}
	for _, c := range w.credits {
		conv, ok := w.convs[c.kind][c.conversion]
		g := w.kwGroup[c.keyword]
		if !ok || !sp.has(conv.at) || !w.isAd(c.campaign) || !keep(c.campaign, g, c.keyword) {
			continue
		}
		e := get(key(c.campaign, g, c.keyword))
		if c.kind == "opportunity" {
			e.pipeFen += c.share * float64(conv.value)
			e.oppN += c.share
		} else {
			e.wonFen += c.share * float64(conv.value)
		}
	}
	return out
}

func checkAdsRows(t *testing.T, level string, rows []report.AdsRow, total report.AdsRow, want map[string]*adsExpect) {
	t.Helper()
	var sum report.AdsRow
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Key] = true
		w := want[r.Key]
		if w == nil {
			w = &adsExpect{}
		}
		if int64(r.Spend) != w.spend || r.Impressions != w.impressions || r.Clicks != w.clicks || r.Leads != w.leads || r.MQLs != w.mqls || r.SQLs != w.sqls {
			t.Errorf("%s %s (%s): spend %d impr %d clicks %d leads %d mqls %d sqls %d, want %+v", level, r.Key, r.Name,
				r.Spend, r.Impressions, r.Clicks, r.Leads, r.MQLs, r.SQLs, *w)
		}
		if !near(r.CreditedPipeline, w.pipeFen) || !near(r.CreditedWonRevenue, w.wonFen) || math.Abs(r.CreditedOpportunities-w.oppN) > 0.006 {
			t.Errorf("%s %s credited %d %d %.2f, want %.2f %.2f %.3f", level, r.Key, r.CreditedPipeline, r.CreditedWonRevenue, r.CreditedOpportunities,
				w.pipeFen, w.wonFen, w.oppN)
		}
		checkAdsRatios(t, level+" "+r.Key, r)
		sum.Spend += r.Spend
		sum.Impressions += r.Impressions
		sum.Clicks += r.Clicks
		sum.Leads += r.Leads
		sum.MQLs += r.MQLs
		sum.SQLs += r.SQLs
		sum.CreditedPipeline += r.CreditedPipeline
		sum.CreditedWonRevenue += r.CreditedWonRevenue
	}
	for k, w := range want {
		if !seen[k] && (*w != adsExpect{}) {
			t.Errorf("%s %s missing: %+v", level, k, *w)
		}
	}
	if sum.Spend != total.Spend || sum.Impressions != total.Impressions || sum.Clicks != total.Clicks || sum.Leads != total.Leads ||
		sum.MQLs != total.MQLs || sum.SQLs != total.SQLs || sum.CreditedPipeline != total.CreditedPipeline || sum.CreditedWonRevenue != total.CreditedWonRevenue {
		t.Errorf("%s rows sum to %+v, total %+v", level, sum, total)
	}
	checkAdsRatios(t, level+" total", total)
}

// checkAdsRatios checks a row's rates against its own sums.
func checkAdsRatios(t *testing.T, name string, r report.AdsRow) {
	t.Helper()
	ok := samePtr(r.CTR, rate(r.Clicks, r.Impressions)) && sameMoneyPtr(r.CPC, perUnitFen(int64(r.Spend), r.Clicks)) &&
		sameMoneyPtr(r.CPL, perUnitFen(int64(r.Spend), r.Leads)) && sameMoneyPtr(r.CostPerMQL, perUnitFen(int64(r.Spend), r.MQLs)) &&
		sameMoneyPtr(r.CostPerSQL, perUnitFen(int64(r.Spend), r.SQLs)) && samePtr(r.ROAS, rate(int64(r.CreditedWonRevenue), int64(r.Spend))) &&
		samePtr(r.ROI, rate(int64(r.CreditedWonRevenue-r.Spend), int64(r.Spend)))
	if !ok {
		t.Errorf("%s: ratios do not follow from the sums: %+v", name, r)
	}
}

// Every level of the advertising dashboard equals the definitions over
// the base tables, and each level's rows add up to the row above.
func TestAdsDashboardMatchesBaseTables(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newDemoEnv(t, s)
		w := loadWorld(t, s, "linear")
		const rng = "from=2026-01-01&to=2026-06-30"
		sp := w.span("2026-01-01", "2026-06-30")
		all := func(int64, int64, int64) bool { return true }
		id := func(n int64) string { return strconv.FormatInt(n, 10) }

		var top report.Ads
		e.getJSON(t, "/api/v1/dashboards/ads?"+rng+"&grain=month", &top)
		if top.Level != report.LevelPlatform || len(top.Path) != 0 || top.Model != "linear" || top.Grain != report.GrainMonth || len(top.Trend) != 6 {
			t.Fatalf("top: level %s path %v model %s grain %s trend %d", top.Level, top.Path, top.Model, top.Grain, len(top.Trend))
		}
		checkAdsRows(t, "platform", top.Rows, top.Total, w.expectedAds(sp, func(c, _, _ int64) string { return w.campaigns[c].platform }, all))
		names := map[string]string{}
		for _, r := range top.Rows {
			names[r.Key] = r.Name + "/" + r.NameEN
		}
		for p, want := range map[string]string{"baidu": "百度营销/Baidu", "oceanengine": "巨量引擎/Ocean Engine", "tencent_ads": "腾讯广告/Tencent Ads",
			"google_ads": "谷歌广告/Google Ads", "linkedin_ads": "领英广告/LinkedIn Ads"} {
			if names[p] != want {
				t.Errorf("platform %s named %q, want %q", p, names[p], want)
			}
		}
		checkTrendSums(t, top)

		// One platform: its campaigns add up to its row above.
		var baidu report.Ads
		e.getJSON(t, "/api/v1/dashboards/ads?"+rng+"&platform=baidu", &baidu)
		if baidu.Level != report.LevelCampaign || len(baidu.Path) != 1 || baidu.Path[0].Key != "baidu" {
			t.Fatalf("baidu: %s %v", baidu.Level, baidu.Path)
		}
		onBaidu := func(c, _, _ int64) bool { return w.campaigns[c].platform == "baidu" }
		checkAdsRows(t, "campaign", baidu.Rows, baidu.Total, w.expectedAds(sp, func(c, _, _ int64) string { return id(c) }, onBaidu))
		if baidu.Total.Spend != rowOf(top.Rows, "baidu").Spend || baidu.Total.Leads != rowOf(top.Rows, "baidu").Leads {
			t.Errorf("baidu's campaigns sum to %d / %d, its platform row says %d / %d", baidu.Total.Spend, baidu.Total.Leads,
				rowOf(top.Rows, "baidu").Spend, rowOf(top.Rows, "baidu").Leads)
		}

		// The campaign with the most spend: its ad groups, then the ad
		// group with the most spend: its keywords.
		camp := baidu.Rows[0]
		var groups report.Ads
		e.getJSON(t, "/api/v1/dashboards/ads?"+rng+"&campaign="+camp.Key, &groups)
		if groups.Level != report.LevelAdGroup || len(groups.Path) != 2 || groups.Path[1].Key != camp.Key || len(groups.Rows) < 2 {
			t.Fatalf("campaign %s: %s %v %d rows", camp.Key, groups.Level, groups.Path, len(groups.Rows))
		}
		inCamp := func(c, _, _ int64) bool { return id(c) == camp.Key }
		checkAdsRows(t, "ad group", groups.Rows, groups.Total, w.expectedAds(sp, func(_, g, _ int64) string { return id(g) }, inCamp))
		if groups.Total.Spend != camp.Spend || groups.Total.Leads != camp.Leads || groups.Total.CreditedPipeline != camp.CreditedPipeline {
			t.Errorf("the ad groups sum to %+v, the campaign row says %+v", groups.Total, camp)
		}
		var group report.AdsRow
		for _, r := range groups.Rows {
			if r.Key != "0" {
				group = r
				break
			}
		}
		var kws report.Ads
		e.getJSON(t, "/api/v1/dashboards/ads?"+rng+"&campaign="+camp.Key+"&ad_group="+group.Key+"&grain=week", &kws)
		if kws.Level != report.LevelKeyword || len(kws.Path) != 3 || kws.Grain != report.GrainWeek {
			t.Fatalf("ad group %s: %s %v %s", group.Key, kws.Level, kws.Path, kws.Grain)
		}
		inGroup := func(c, g, _ int64) bool { return id(c) == camp.Key && id(g) == group.Key }
		checkAdsRows(t, "keyword", kws.Rows, kws.Total, w.expectedAds(sp, func(_, _, k int64) string { return id(k) }, inGroup))
		if kws.Total.Spend != group.Spend || kws.Total.Leads != group.Leads {
			t.Errorf("the keywords sum to %d / %d, the ad group row says %d / %d", kws.Total.Spend, kws.Total.Leads, group.Spend, group.Leads)
		}
		checkTrendSums(t, kws)
		for i, p := range kws.Trend {
			d, _ := time.Parse(time.DateOnly, p.Start)
			if d.Weekday() != time.Monday || i > 0 && p.Start <= kws.Trend[i-1].Start {
				t.Errorf("weekly trend period %s", p.Start)
			}
		}

		// Best and worst keywords of the whole scope, by both rules.
		for _, by := range []string{report.RankCPL, report.RankCostPerMQL} {
			var a report.Ads
			e.getJSON(t, "/api/v1/dashboards/ads?"+rng+"&rank_by="+by+"&min_spend=500", &a)
			checkRanking(t, a, w.expectedAds(sp, func(_, _, k int64) string { return id(k) }, func(_, _, k int64) bool { return k != 0 }), by)
		}

		// A daily trend of a month has its days.
		var daily report.Ads
		e.getJSON(t, "/api/v1/dashboards/ads?from=2026-06-01&to=2026-06-30&platform=baidu", &daily)
		if daily.Grain != report.GrainDay || len(daily.Trend) != 30 || daily.Trend[0].Start != "2026-06-01" {
			t.Errorf("June by day: %s, %d periods", daily.Grain, len(daily.Trend))
		}
		checkTrendSums(t, daily)
	})
}

func rowOf(rows []report.AdsRow, key string) report.AdsRow {
	for _, r := range rows {
		if r.Key == key {
			return r
		}
	}
	return report.AdsRow{}
}

// checkTrendSums checks that the trend adds up to the scope's total.
func checkTrendSums(t *testing.T, a report.Ads) {
	t.Helper()
	var spend model.Money
	var clicks, leads, mqls int64
	for _, p := range a.Trend {
		spend += p.Spend
		clicks += p.Clicks
		leads += p.Leads
		mqls += p.MQLs
		if !sameMoneyPtr(p.CPL, perUnitFen(int64(p.Spend), p.Leads)) {
			t.Errorf("period %s CPL %v", p.Start, p.CPL)
		}
	}
	if spend != a.Total.Spend || clicks != a.Total.Clicks || leads != a.Total.Leads || mqls != a.Total.MQLs {
		t.Errorf("%s trend sums to %d %d %d %d, total %d %d %d %d", a.Grain, spend, clicks, leads, mqls, a.Total.Spend, a.Total.Clicks, a.Total.Leads, a.Total.MQLs)
	}
}

// checkRanking checks the best and worst keywords against the rule.
func checkRanking(t *testing.T, a report.Ads, byKeyword map[string]*adsExpect, by string) {
	t.Helper()
	type kw struct {
		key   string
		cost  float64 // per result; +Inf without one
		spend int64
	}
	var eligible []kw
	for k, e := range byKeyword {
		if e.spend < 50000 {
			continue
		}
		n := e.leads
		if by == report.RankCostPerMQL {
			n = e.mqls
		}
		c := math.Inf(1)
		if n > 0 {
			c = float64((e.spend*2 + n) / (2 * n))
		}
		eligible = append(eligible, kw{k, c, e.spend})
	}
	slices.SortFunc(eligible, func(x, y kw) int {
		switch {
		case x.cost < y.cost:
			return -1
		case x.cost > y.cost:
			return 1
		case math.IsInf(x.cost, 1) && x.spend != y.spend:
			if x.spend < y.spend {
				return -1
			}
			return 1
		case x.spend != y.spend:
			if x.spend > y.spend {
				return -1
			}
			return 1
		}
		return strings.Compare(x.key, y.key)
	})
	n := min(report.RankedKeywords, len(eligible)/2)
	if n < 3 {
		t.Fatalf("only %d keywords to rank by %s", len(eligible), by)
	}
	if len(a.Best) != n || len(a.Worst) != n || a.RankBy != by || a.MinSpend != 50000 {
		t.Fatalf("%s: %d best, %d worst, want %d (rank %s, min %d)", by, len(a.Best), len(a.Worst), n, a.RankBy, a.MinSpend)
	}
	for i := 0; i < n; i++ {
		if a.Best[i].Key != eligible[i].key {
			t.Errorf("%s best #%d = %s, want %s", by, i+1, a.Best[i].Key, eligible[i].key)
		}
		if a.Worst[i].Key != eligible[len(eligible)-1-i].key {
			t.Errorf("%s worst #%d = %s, want %s", by, i+1, a.Worst[i].Key, eligible[len(eligible)-1-i].key)
		}
		if a.Best[i].Level != report.LevelKeyword || a.Best[i].Name == "" {
			t.Errorf("best keyword %+v", a.Best[i])
		}
	}
}

// The advertising page shows the API's scope, names platforms in both
// languages, drills down by links and exports its tables; wrong input is
// a 400 (or a 404 for a scope that does not exist) in the user's words;
// names are escaped.
func TestAdsPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newDemoEnv(t, s)
		session := []*http.Cookie{e.loginAs(t, model.RoleMarketer)}
		const rng = "from=2026-01-01&to=2026-06-30"
		var top report.Ads
		e.getJSON(t, "/api/v1/dashboards/ads?"+rng, &top)
		res := e.do(t, req{target: "/dashboards/ads?" + rng + "&lang=zh-CN", cookies: session})
		page := bodyOf(t, res)
		if res.StatusCode != 200 {
			t.Fatalf("page: %d\n%s", res.StatusCode, page)
		}
		for _, want := range []string{"广告投放看板", "巨量引擎 · Ocean Engine", "百度营销 · Baidu", "腾讯广告 · Tencent Ads", "关键词红黑榜", formatMoney(top.Total.Spend),
			`href="/dashboards/ads?from=2026-01-01&amp;platform=baidu&amp;to=2026-06-30"`, `data-nav="ads" aria-current="page"`, `id="chart-ads-trend"`,
			`data-grain="month"`, `data-export="rows"`} {
			if !strings.Contains(page, want) {
				t.Errorf("zh page lacks %q", want)
			}
		}
		res = e.do(t, req{target: "/dashboards/ads?" + rng + "&lang=en&platform=oceanengine", cookies: session})
		page = bodyOf(t, res)
		for _, want := range []string{"Advertising dashboard", "All platforms", `<span aria-current="page">Ocean Engine</span>`, "巨量引擎", "Campaigns", "Ocean Engine - Feed Lead Ads"} {
			if !strings.Contains(page, want) {
				t.Errorf("en platform page lacks %q", want)
			}
		}

		// CSV of the platform table: the rows and the total.
		res = e.do(t, req{target: "/dashboards/ads?" + rng + "&export=rows&lang=en", cookies: session})
		body := bodyOf(t, res)
		if res.StatusCode != 200 || strings.Count(body, "\r\n") != len(top.Rows)+2 || !strings.Contains(body, top.Total.Spend.String()) {
			t.Errorf("rows CSV: %d\n%s", res.StatusCode, body)
		}
		for _, id := range []string{"trend", "best", "worst"} {
			if res := e.do(t, req{target: "/dashboards/ads?" + rng + "&export=" + id, cookies: session}); res.StatusCode != 200 {
				t.Errorf("export %s: %d", id, res.StatusCode)
			}
		}

		// A campaign name with markup is shown as text.
		db := rawDB(t, s)
		var campID int64
		if err := db.QueryRowContext(ctx, `SELECT id FROM campaigns WHERE platform = 'oceanengine' ORDER BY id LIMIT 1`).Scan(&campID); err != nil {
			t.Fatal(err)
		}
		update := `UPDATE campaigns SET name = ?, name_en = ? WHERE id = ?`
		if s.Dialect() == store.Postgres {
			update = `UPDATE campaigns SET name = $1, name_en = $2 WHERE id = $3`
		}
		if _, err := db.ExecContext(ctx, update, `<img src=x onerror=alert(1)>巨量`, `"><script>x()</script>`, campID); err != nil {
			t.Fatal(err)
		}
		for _, lang := range []string{"zh-CN", "en"} {
			page := bodyOf(t, e.do(t, req{target: "/dashboards/ads?" + rng + "&platform=oceanengine&lang=" + lang, cookies: session}))
			if strings.Contains(page, "<img src=x") || strings.Contains(page, "<script>x()") {
				t.Errorf("%s: a campaign name is not escaped", lang)
			}
			page = bodyOf(t, e.do(t, req{target: "/dashboards/ads?" + rng + "&campaign=" + strconv.FormatInt(campID, 10) + "&lang=" + lang, cookies: session}))
			if strings.Contains(page, "<img src=x") || strings.Contains(page, "<script>x()") || !strings.Contains(page, "&lt;") {
				t.Errorf("%s: the path's campaign name is not escaped", lang)
			}
		}

		for _, tc := range []struct {
			query  string
			code   int
			api    string
			zh, en string
		}{
			{"grain=hour", 400, "grain:", "趋势粒度", "trend period"},
			{"campaign=abc", 400, "campaign:", "编号", "number"},
			{"campaign=-3", 400, "campaign:", "编号", "number"},
			{"ad_group=5", 400, "ad_group:", "推广单元", "ad group"},
			{"rank_by=ctr", 400, "rank_by:", "排名依据", "ranking"},
			{"min_spend=1e12", 400, "min_spend:", "花费门槛", "minimum spend"},
			{"min_spend=" + url.QueryEscape("<b>"), 400, "min_spend:", "花费门槛", "minimum spend"},
			{"platform=" + strings.Repeat("x", 41), 400, "platform:", "平台", "platform"},
			{"platform=nosuch", 404, "platform:", "没有这个平台", "No such platform"},
			{"campaign=999999", 404, "campaign:", "没有这个平台", "No such platform"},
			{"from=2020-01-01&to=2026-06-30&grain=day", 400, "grain:", "按日趋势", "daily trend"},
			{"model=nope", 400, "model", "归因模型", "attribution model"},
		} {
			var ae apiError
			decodeJSON(t, e.api(t, "/api/v1/dashboards/ads?"+tc.query), tc.code, &ae)
			if !strings.HasPrefix(ae.Error, tc.api) && !strings.Contains(ae.Error, tc.api) {
				t.Errorf("%s: API says %q", tc.query, ae.Error)
			}
			for lang, want := range map[string]string{"zh-CN": tc.zh, "en": tc.en} {
				res := e.do(t, req{target: "/dashboards/ads?" + tc.query + "&lang=" + lang, cookies: session})
				page := bodyOf(t, res)
				if res.StatusCode != tc.code || !strings.Contains(page, want) {
					t.Errorf("%s (%s): %d, want %d saying %q", tc.query, lang, res.StatusCode, tc.code, want)
				}
			}
		}
	})
}

// Advertising campaigns that name no platform are a row of their own, and
// that row opens (?platform=none) on their campaigns, which add up to it.
func TestAdsNoPlatform(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		db := s.WriterDB()
		for _, q := range []string{
			`INSERT INTO campaigns (id, code, name, channel, platform, created_at) VALUES (30, 'feed-1', '信息流测试', 'paid_social', '', '2026-01-01 00:00:00+00:00')`,
			`INSERT INTO daily_costs (id, day, platform, campaign_id, impressions, clicks, cost_fen) VALUES (30, '2026-01-03', '', 30, 500, 20, 88800)`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		const rng = "from=2026-01-01&to=2026-01-31"
		var top, none report.Ads
		e.getJSON(t, "/api/v1/dashboards/ads?"+rng, &top)
		row := rowOf(top.Rows, "")
		if row.Spend != model.Money(88800) || row.Name != "未指定平台" {
			t.Fatalf("no-platform row: %+v", row)
		}
		e.getJSON(t, "/api/v1/dashboards/ads?"+rng+"&platform=none", &none)
		if none.Level != report.LevelCampaign || len(none.Path) != 1 || none.Path[0].Key != "none" || len(none.Rows) != 1 ||
			none.Rows[0].Key != "30" || none.Total.Spend != row.Spend {
			t.Fatalf("platform=none: level %s path %v rows %+v total %+v", none.Level, none.Path, none.Rows, none.Total)
		}
		page := bodyOf(t, e.do(t, req{target: "/dashboards/ads?" + rng, cookies: []*http.Cookie{e.login(t)}}))
		if !strings.Contains(page, `platform=none`) {
			t.Error("the no-platform row does not link to its campaigns")
		}
	})
}
