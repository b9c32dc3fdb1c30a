package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
)

// The advertising dashboard (/dashboards/ads) and its JSON twin: ad
// operations by platform, drilled down by URL to a campaign, an ad group
// and its keywords. The figures come from report.LoadAds.

func (s *Server) adsRoutes(m *http.ServeMux) error {
	m.Handle("GET /dashboards/ads", s.page("ads", s.adsPage))
	m.Handle("GET /api/v1/dashboards/ads", s.pageAPI("ads", s.apiAds))
	return nil
}

// maxMinSpend bounds ?min_spend= (yuan).
const maxMinSpend = 100_000_000

// adsRequest reads the advertising dashboard's parameters.
func (s *Server) adsRequest(r *http.Request) (viewFilter, report.AdsQuery, error) {
	f, dq, err := s.dashRequest(r)
	q := report.AdsQuery{DashQuery: dq}
	if err != nil {
		return f, q, err
	}
	v := r.URL.Query()
	bad := func(param, key, format string, args ...any) error {
		return &filterError{Param: param, Key: key, Msg: param + ": " + fmt.Sprintf(format, args...)}
	}
	q.Platform = strings.ToLower(strings.TrimSpace(v.Get("platform")))
	if len(q.Platform) > 40 {
		return f, q, bad("platform", "ads.error.bad_platform", "%q is not a platform", clip(q.Platform, 40))
	}
	id := func(param string) (int64, error) {
		raw := strings.TrimSpace(v.Get(param))
		if raw == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return 0, bad(param, "ads.error.bad_id", "%q is not an id (a positive whole number)", clip(raw, 40))
		}
		return n, nil
	}
	if q.CampaignID, err = id("campaign"); err != nil {
		return f, q, err
	}
	if q.AdGroupID, err = id("ad_group"); err != nil {
		return f, q, err
	}
	switch g := strings.ToLower(strings.TrimSpace(v.Get("grain"))); g {
	case "", report.GrainDay, report.GrainWeek, report.GrainMonth:
		q.Grain = g
	default:
		return f, q, bad("grain", "ads.error.bad_grain", "%q: use day, week or month", clip(g, 40))
	}
	switch rb := strings.ToLower(strings.TrimSpace(v.Get("rank_by"))); rb {
	case "", report.RankCPL, report.RankCostPerMQL:
		q.RankBy = rb
	default:
		return f, q, bad("rank_by", "ads.error.bad_rank", "%q: use cpl or cost_per_mql", clip(rb, 40))
	}
	if raw := strings.TrimSpace(v.Get("min_spend")); raw != "" {
		y, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(y) || y < 0 || y > maxMinSpend {
			return f, q, bad("min_spend", "ads.error.bad_min_spend", "%q is not an amount in yuan from 0 to %d", clip(raw, 40), maxMinSpend)
		}
		q.MinSpend = model.Money(math.Round(y * 100))
		if q.MinSpend == 0 {
			q.MinSpend = 1 // 0 asks for every keyword that spent anything
		}
	}
	return f, q, nil
}

func (s *Server) apiAds(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	f, q, err := s.adsRequest(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	a, err := report.LoadAds(r.Context(), s.store, q)
	var ae *report.AdsError
	switch {
	case errors.As(err, &ae) && ae.NotFound:
		writeJSONError(w, http.StatusNotFound, ae.Error())
		return
	case errors.As(err, &ae):
		writeJSONError(w, http.StatusBadRequest, ae.Error())
		return
	case err != nil:
		s.apiInternal(w, r, err)
		return
	}
	if format != formatJSON {
		var v adsView
		v.lay(s.catalog.locale(langOnly(r)), r, a, q.Period.Cal)
		s.apiTables(w, r, format, "ads", f, v.tables()...)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// adsView is the advertising dashboard's page.
type adsView struct {
	Filter viewFilter
	Models []string
	Error  string
	Data   *report.Ads
	// Keep are the scope and options the filter form keeps.
	Platform, Campaign, AdGroup, Grain, RankBy, MinSpend string
	Crumbs                                               []adCrumbView
	LevelKey                                             string
	Grains, Ranks                                        []segLink
	KPIs                                                 []kpi
	Rows, Trend, Best, Worst                             *dataTable
	TrendC                                               *chart
	MinSpendText                                         string
}

func (adsView) NavKey() string { return "ads" }

// adCrumbView is one step of the drill-down path.
type adCrumbView struct {
	Name, Other string // in the page's language; the other language's, when it differs
	Href        string // "" for the current level
}

// segLink is one option of a segmented switch.
type segLink struct {
	Key, Label, Href string
	Current          bool
}

func (s *Server) adsPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	f, q, err := s.adsRequest(r)
	v := adsView{Filter: f, Models: creditModels()}
	qv := r.URL.Query()
	v.Platform, v.Campaign, v.AdGroup = qv.Get("platform"), qv.Get("campaign"), qv.Get("ad_group")
	v.Grain, v.RankBy, v.MinSpend = qv.Get("grain"), qv.Get("rank_by"), qv.Get("min_spend")
	if s.pageFailed(w, r, err, "error.not_found", "advertising dashboard", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "ads", "ads.title", v)
	}) {
		return
	}
	a, err := report.LoadAds(r.Context(), s.store, q)
	var ae *report.AdsError
	switch {
	case errors.As(err, &ae):
		code, key := http.StatusBadRequest, "ads.error.daily_too_long"
		switch {
		case ae.NotFound:
			code, key = http.StatusNotFound, "ads.error.not_found"
		case ae.Param == "ad_group":
			key = "ads.error.ad_group_needs_campaign"
		}
		v.Error = loc.T(key)
		s.render(w, r, code, "ads", "ads.title", v)
		return
	case err != nil:
		s.pageInternal(w, r, "advertising dashboard", err)
		return
	}
	v.Data = &a
	v.LevelKey = a.Level
	v.Crumbs = adCrumbs(loc, r, a)
	v.Grains = segLinks(r, "grain", a.Grain, []string{report.GrainDay, report.GrainWeek, report.GrainMonth}, func(k string) string { return loc.T("ads.grain." + k) })
	v.Ranks = segLinks(r, "rank_by", a.RankBy, []string{report.RankCPL, report.RankCostPerMQL}, func(k string) string { return loc.T("ads.rank." + k) })
	v.MinSpendText = formatMoney(a.MinSpend)
	v.lay(loc, r, a, q.Period.Cal)
	if s.exportTable(w, r, "ads", f, v.tables()...) {
		return
	}
	s.render(w, r, http.StatusOK, "ads", "ads.title", v)
}

// lay builds the dashboard's figures, tables and charts from the report,
// for the page and for its twin's files alike.
func (v *adsView) lay(loc Locale, r *http.Request, a report.Ads, cal model.Calendar) {
	v.KPIs = adsKPIs(loc, a.Total)
	v.Rows = adsRowsTable(loc, r, "rows", a.Level, a.Rows, &a.Total)
	v.Best = adsKeywordTable(loc, "best", a.Best, a.RankBy)
	v.Worst = adsKeywordTable(loc, "worst", a.Worst, a.RankBy)
	v.Trend, v.TrendC = adsTrendTable(loc, a)
	for t, title := range map[*dataTable]string{v.Rows: "ads.by." + a.Level, v.Trend: "ads.trend", v.Best: "ads.best", v.Worst: "ads.worst"} {
		t.Loc, t.Title = cal.Loc, loc.T(title)
	}
	v.Rows.prepare(r, "spend", true)
	v.Trend.prepare(r, "start", false)
	v.Best.prepare(r, "", false)
	v.Worst.prepare(r, "", false)
}

// tables are the dashboard's tables in the page's order.
func (v *adsView) tables() []*dataTable { return []*dataTable{v.Rows, v.Trend, v.Best, v.Worst} }

// inLang is a name in the page's language, and the other language's
// when it differs.
func inLang(l Locale, zh, en string) (string, string) {
	if en == "" {
		en = zh
	}
	if zh == "" {
		zh = en
	}
	name, other := en, zh
	if l.Lang == LangZH {
		name, other = zh, en
	}
	if name == other {
		other = ""
	}
	return name, other
}

// platformText is a platform's name as a table shows it: in the page's
// language with the other beside it.
func platformText(l Locale, zh, en string) string {
	name, other := inLang(l, zh, en)
	if other == "" {
		return name
	}
	return name + " · " + other
}

// drillHref is the page one level down (or up): the scope set as given,
// the rest of the URL (range, model, options, orders) kept.
func drillHref(r *http.Request, scope map[string]string) string {
	q := cloneQuery(r.URL.Query(), "export", "lang", "platform", "campaign", "ad_group")
	for k, v := range scope {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return r.URL.Path
	}
	return r.URL.Path + "?" + q.Encode()
}

func adCrumbs(l Locale, r *http.Request, a report.Ads) []adCrumbView {
	out := []adCrumbView{{Name: l.T("ads.all_platforms"), Href: drillHref(r, nil)}}
	scope := map[string]string{}
	for _, c := range a.Path {
		name, other := inLang(l, c.Name, c.NameEN)
		if c.Level != report.LevelPlatform {
			other = "" // campaign and ad group names show in one language
		}
		switch c.Level {
		case report.LevelPlatform:
			scope["platform"] = c.Key
		case report.LevelCampaign:
			scope["campaign"] = c.Key
		case report.LevelAdGroup:
			scope["ad_group"] = c.Key
		}
		out = append(out, adCrumbView{Name: name, Other: other, Href: drillHref(r, scope)})
	}
	out[len(out)-1].Href = ""
	return out
}

func segLinks(r *http.Request, param, current string, keys []string, label func(string) string) []segLink {
	var out []segLink
	for _, k := range keys {
		q := cloneQuery(r.URL.Query(), "export", "lang")
		q.Set(param, k)
		out = append(out, segLink{Key: k, Label: label(k), Href: r.URL.Path + "?" + q.Encode(), Current: k == current})
	}
	return out
}

func adsKPIs(l Locale, t report.AdsRow) []kpi {
	money := func(id string, m model.Money) kpi {
		return kpi{ID: id, Label: l.T("ads." + id), Tip: l.T("ads.tip." + id), Value: formatMoney(m), Raw: moneyRaw(m)}
	}
	moneyPtr := func(id string, m *model.Money) kpi {
		return kpi{ID: id, Label: l.T("ads." + id), Tip: l.T("ads.tip." + id), Value: formatMoneyPtr(m), Raw: moneyPtrRaw(m)}
	}
	count := func(id string, n int64) kpi {
		return kpi{ID: id, Label: l.T("ads." + id), Tip: l.T("ads.tip." + id), Value: formatInt(n), Raw: strconv.FormatInt(n, 10)}
	}
	k := []kpi{
		money("spend", t.Spend), count("impressions", t.Impressions), count("clicks", t.Clicks),
		{ID: "ctr", Label: l.T("ads.ctr"), Tip: l.T("ads.tip.ctr"), Value: formatPercent(t.CTR), Raw: rateRaw(t.CTR)},
		moneyPtr("cpc", t.CPC), count("leads", t.Leads), moneyPtr("cpl", t.CPL), count("mqls", t.MQLs), moneyPtr("cost_per_mql", t.CostPerMQL),
		count("sqls", t.SQLs), moneyPtr("cost_per_sql", t.CostPerSQL), money("credited_pipeline", t.CreditedPipeline),
		money("credited_won_revenue", t.CreditedWonRevenue),
		{ID: "roas", Label: l.T("ads.roas"), Tip: l.T("ads.tip.roas"), Value: formatROI(t.ROAS), Raw: rateRaw(t.ROAS)},
		{ID: "roi", Label: l.T("ads.roi"), Tip: l.T("ads.tip.roi"), Value: formatROI(t.ROI), Raw: rateRaw(t.ROI)},
	}
	k[0].Accent = true
	return k
}

// adsColumns are the figure columns of a row of the advertising tables.
func adsColumns(l Locale) []column {
	c := func(key string, kind cellKind) column {
		return column{Key: key, Label: l.T("ads." + key), Tip: l.T("ads.tip." + key), Kind: kind}
	}
	return []column{c("spend", kindMoney), c("impressions", kindInt), c("clicks", kindInt), c("ctr", kindPercent), c("cpc", kindMoney),
		c("leads", kindInt), c("cpl", kindMoney), c("mqls", kindInt), c("cost_per_mql", kindMoney), c("sqls", kindInt),
		c("cost_per_sql", kindMoney), c("credited_pipeline", kindMoney), c("credited_won_revenue", kindMoney), c("roas", kindRatio),
		c("roi", kindRatio)}
}

func adsCells(x report.AdsRow) []cell {
	return []cell{{V: x.Spend}, {V: x.Impressions}, {V: x.Clicks}, {V: x.CTR}, {V: x.CPC}, {V: x.Leads}, {V: x.CPL}, {V: x.MQLs},
		{V: x.CostPerMQL}, {V: x.SQLs}, {V: x.CostPerSQL}, {V: x.CreditedPipeline}, {V: x.CreditedWonRevenue}, {V: x.ROAS}, {V: x.ROI}}
}

// rowName is how a row is named in the page's language.
func rowName(l Locale, level string, x report.AdsRow) string {
	if level == report.LevelPlatform {
		return platformText(l, x.Name, x.NameEN)
	}
	name, _ := inLang(l, x.Name, x.NameEN)
	return name
}

func adsRowsTable(l Locale, r *http.Request, id, level string, rows []report.AdsRow, total *report.AdsRow) *dataTable {
	t := &dataTable{ID: id, Columns: append([]column{{Key: "name", Label: l.T("ads.level." + level), Kind: kindText}}, adsColumns(l)...)}
	for _, x := range rows {
		name := cell{V: x.Key, Text: rowName(l, level, x)}
		switch {
		case level == report.LevelPlatform:
			name.Href = drillHref(r, map[string]string{"platform": report.PlatformKey(x.Key)})
		case level == report.LevelCampaign:
			name.Href = drillHref(r, map[string]string{"platform": report.PlatformKey(x.Platform), "campaign": x.Key})
		case level == report.LevelAdGroup && x.Key != "0":
			name.Href = drillHref(r, map[string]string{"platform": report.PlatformKey(x.Platform), "campaign": strconv.FormatInt(x.CampaignID, 10), "ad_group": x.Key})
		}
		t.Rows = append(t.Rows, append([]cell{name}, adsCells(x)...))
	}
	if total != nil {
		t.Total = append([]cell{{V: "total", Text: l.T("ads.total")}}, adsCells(*total)...)
	}
	return t
}

func adsKeywordTable(l Locale, id string, rows []report.AdsRow, rankBy string) *dataTable {
	c := func(key string, kind cellKind) column {
		return column{Key: key, Label: l.T("ads." + key), Tip: l.T("ads.tip." + key), Kind: kind}
	}
	t := &dataTable{ID: id, Empty: l.T("ads.no_ranked"), Columns: []column{{Key: "keyword", Label: l.T("ads.level.keyword"), Kind: kindText},
		c("spend", kindMoney), c("clicks", kindInt), c("leads", kindInt), c("cpl", kindMoney), c("mqls", kindInt), c("cost_per_mql", kindMoney)}}
	for _, x := range rows {
		t.Rows = append(t.Rows, []cell{{V: x.Key, Text: x.Name}, {V: x.Spend}, {V: x.Clicks}, {V: x.Leads}, {V: x.CPL}, {V: x.MQLs}, {V: x.CostPerMQL}})
	}
	return t
}

func adsTrendTable(l Locale, a report.Ads) (*dataTable, *chart) {
	c := func(key string, kind cellKind) column {
		return column{Key: key, Label: l.T("ads." + key), Tip: l.T("ads.tip." + key), Kind: kind}
	}
	t := &dataTable{ID: "trend", Columns: []column{{Key: "start", Label: l.T("ads.grain_label." + a.Grain), Kind: kindText},
		c("spend", kindMoney), c("impressions", kindInt), c("clicks", kindInt), c("leads", kindInt), c("mqls", kindInt), c("cpl", kindMoney)}}
	ch := &chart{ID: "ads-trend", Kind: "bar", Format: "money", Right: "int", Series: []chartSeries{
		{Name: l.T("ads.spend"), Kind: "bar"}, {Name: l.T("ads.leads"), Kind: "line", Axis: 1}, {Name: l.T("ads.mqls"), Kind: "line", Axis: 1}}}
	for _, p := range a.Trend {
		t.Rows = append(t.Rows, []cell{{V: p.Start}, {V: p.Spend}, {V: p.Impressions}, {V: p.Clicks}, {V: p.Leads}, {V: p.MQLs}, {V: p.CPL}})
		ch.X = append(ch.X, p.Start)
		ch.Series[0].Data = append(ch.Series[0].Data, yuan(p.Spend))
		ch.Series[1].Data = append(ch.Series[1].Data, point(float64(p.Leads)))
		ch.Series[2].Data = append(ch.Series[2].Data, point(float64(p.MQLs)))
	}
	return t, ch
}
