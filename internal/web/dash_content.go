package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
)

// The content dashboard (/dashboards/content) and its JSON twin: which
// whitepapers, case studies, reports, articles and videos are read, are
// downloaded, bring leads that turn into MQLs, and take part in pipeline.
// The figures come from report.Content; this file lays them out.

func (s *Server) contentRoutes(m *http.ServeMux) error {
	m.Handle("GET /dashboards/content", s.page("content", s.contentPage))
	m.Handle("GET /api/v1/dashboards/content", s.pageAPI("content", s.apiContent))
	return nil
}

// contentRequest reads the content dashboard's range and model.
func (s *Server) contentRequest(r *http.Request) (viewFilter, report.ContentQuery, error) {
	f, dq, err := s.dashRequest(r)
	return f, report.ContentQuery{Period: dq.Period, Model: string(dq.Model)}, err
}

func (s *Server) apiContent(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	f, q, err := s.contentRequest(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	c, err := report.Reporter{Store: s.store}.Content(r.Context(), q)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if format != formatJSON {
		var v contentView
		v.lay(s.catalog.locale(langOnly(r)), r, c, f.Period.Cal)
		s.apiTables(w, r, format, "content", f, v.tables()...)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// contentView is the content dashboard's page.
type contentView struct {
	Filter viewFilter
	Models []string
	Error  string
	Data   *report.Content
	KPIs   []kpi
	TopN   int
	Assets *dataTable
	Kinds  *dataTable
	Months *dataTable
	Top    *chart
	Trend  *chart
	ByKind *chart
}

func (contentView) NavKey() string { return "content" }

func (s *Server) contentPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	f, q, err := s.contentRequest(r)
	v := contentView{Filter: f, Models: creditModels(), TopN: chartAssets}
	if s.pageFailed(w, r, err, "error.not_found", "content dashboard", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "content", "content.title", v)
	}) {
		return
	}
	c, err := report.Reporter{Store: s.store}.Content(r.Context(), q)
	if err != nil {
		s.pageInternal(w, r, "content dashboard", err)
		return
	}
	v.Data = &c
	v.lay(loc, r, c, f.Period.Cal)
	if s.exportTable(w, r, "content", f, v.tables()...) {
		return
	}
	s.render(w, r, http.StatusOK, "content", "content.title", v)
}

// lay builds the dashboard's figures, tables and charts from the report,
// for the page and for its twin's files alike.
func (v *contentView) lay(loc Locale, r *http.Request, c report.Content, cal model.Calendar) {
	v.KPIs = contentKPIs(loc, c.Total)
	v.Assets = assetsTable(loc, c)
	v.Kinds = contentKindsTable(loc, c)
	v.Months = contentMonthsTable(loc, c.Months)
	v.Top, v.Trend, v.ByKind = contentCharts(loc, c)
	for t, title := range map[*dataTable]string{v.Assets: "content.assets_title", v.Kinds: "content.by_kind", v.Months: "content.trend"} {
		t.Loc, t.Title = cal.Loc, loc.T(title)
	}
	v.Assets.prepare(r, "leads", true)
	v.Kinds.prepare(r, "leads", true)
	v.Months.prepare(r, "month", false)
}

// tables are the dashboard's tables in the page's order.
func (v *contentView) tables() []*dataTable { return []*dataTable{v.Assets, v.Kinds, v.Months} }

// assetKind names a kind of content asset; an unknown kind shows as it is.
func assetKind(l Locale, kind string) string {
	key := "content.kind." + kind
	if s := l.T(key); s != key {
		return s
	}
	return kind
}

func contentKPIs(l Locale, t report.ContentFigures) []kpi {
	count := func(id string, n int64, sub string) kpi {
		return kpi{ID: id, Label: l.T("content." + id), Tip: l.T("content.tip." + id), Value: formatInt(n), Raw: strconv.FormatInt(n, 10), Sub: sub}
	}
	rate := func(id string, r *float64) kpi {
		return kpi{ID: id, Label: l.T("content." + id), Tip: l.T("content.tip." + id), Value: formatPercent(r), Raw: rawRateText(r)}
	}
	return []kpi{
		count("views", t.Views, ""),
		count("downloads", t.Downloads, ""),
		rate("download_rate", t.DownloadRate),
		count("leads", t.Leads, l.T("content.sub.mqls", "n", formatInt(t.MQLs))),
		rate("effective_lead_rate", t.EffectiveRate),
		{ID: "credited_pipeline", Label: l.T("content.credited_pipeline"), Tip: l.T("content.tip.credited_pipeline"),
			Value: formatMoney(t.CreditedPipeline), Raw: rawMoneyText(t.CreditedPipeline), Accent: true},
	}
}

func contentColumns(l Locale, influence bool) []column {
	col := func(key string, kind cellKind) column {
		return column{Key: key, Label: l.T("content." + key), Tip: l.T("content.tip." + key), Kind: kind}
	}
	out := []column{col("views", kindInt), col("downloads", kindInt), col("download_rate", kindPercent),
		col("leads", kindInt), col("mqls", kindInt), col("effective_lead_rate", kindPercent), col("credited_pipeline", kindMoney)}
	if influence {
		out = append(out, col("influenced_pipeline", kindMoney), col("influenced_opportunities", kindInt))
	}
	return out
}

func contentCells(f report.ContentFigures, influence bool) []cell {
	out := []cell{{V: f.Views}, {V: f.Downloads}, {V: f.DownloadRate}, {V: f.Leads}, {V: f.MQLs}, {V: f.EffectiveRate}, {V: f.CreditedPipeline}}
	if influence {
		var n any
		if f.InfluencedOpportunities != nil {
			n = *f.InfluencedOpportunities
		}
		out = append(out, cell{V: f.InfluencedPipeline}, cell{V: n})
	}
	return out
}

func assetsTable(l Locale, c report.Content) *dataTable {
	t := &dataTable{ID: "assets", Empty: l.T("content.empty"), Columns: append([]column{
		{Key: "title", Label: l.T("content.title_col"), Kind: kindText},
		{Key: "kind", Label: l.T("content.kind"), Kind: kindText},
	}, contentColumns(l, true)...)}
	for _, a := range c.Assets {
		title, _ := inLanguage(l, a.Title, a.TitleEN)
		t.Rows = append(t.Rows, append([]cell{{V: title, Href: a.Href}, {V: a.Kind, Text: assetKind(l, a.Kind)}}, contentCells(a.ContentFigures, true)...))
	}
	if len(c.Assets) > 0 {
		t.Total = append([]cell{{V: l.T("content.total")}, {}}, contentCells(c.Total, true)...)
	}
	return t
}

func contentKindsTable(l Locale, c report.Content) *dataTable {
	t := &dataTable{ID: "kinds", Empty: l.T("content.empty"), Columns: append([]column{
		{Key: "kind", Label: l.T("content.kind"), Kind: kindText},
		{Key: "assets", Label: l.T("content.assets"), Tip: l.T("content.tip.assets"), Kind: kindInt},
	}, contentColumns(l, false)...)}
	for _, k := range c.Kinds {
		t.Rows = append(t.Rows, append([]cell{{V: k.Kind, Text: assetKind(l, k.Kind)}, {V: int64(k.Assets)}}, contentCells(k.ContentFigures, false)...))
	}
	if len(c.Kinds) > 0 {
		t.Total = append([]cell{{V: l.T("content.total")}, {V: int64(len(c.Assets))}}, contentCells(c.Total, false)...)
	}
	return t
}

func contentMonthsTable(l Locale, months []report.ContentMonth) *dataTable {
	col := func(key string, kind cellKind) column {
		return column{Key: key, Label: l.T("content." + key), Tip: l.T("content.tip." + key), Kind: kind}
	}
	t := &dataTable{ID: "months", Empty: l.T("content.empty"), Columns: []column{
		{Key: "month", Label: l.T("content.month"), Kind: kindText},
		col("views", kindInt), col("downloads", kindInt), col("leads", kindInt), col("mqls", kindInt), col("credited_pipeline", kindMoney),
	}}
	for _, m := range months {
		t.Rows = append(t.Rows, []cell{{V: m.Month}, {V: m.Views}, {V: m.Downloads}, {V: m.Leads}, {V: m.MQLs}, {V: m.CreditedPipeline}})
	}
	return t
}

// chartAssets is how many assets the top-assets chart shows.
const chartAssets = 10

// contentCharts are the top assets (by leads, then downloads), the months
// and the kinds.
func contentCharts(l Locale, c report.Content) (*chart, *chart, *chart) {
	top := &chart{ID: "content-top", Kind: "hbar", Format: "int"}
	rows := slices.Clone(c.Assets)
	slices.SortStableFunc(rows, func(a, b report.AssetRow) int {
		return cmp.Or(cmp.Compare(b.Leads, a.Leads), cmp.Compare(b.Downloads+b.Views, a.Downloads+a.Views))
	})
	var leads, mqls []*float64
	for _, a := range rows[:min(len(rows), chartAssets)] {
		title, _ := inLanguage(l, a.Title, a.TitleEN)
		top.X = append(top.X, title)
		leads, mqls = append(leads, countPoint(a.Leads)), append(mqls, countPoint(a.MQLs))
	}
	top.Series = []chartSeries{{Name: l.T("content.leads"), Data: leads}, {Name: l.T("content.mqls"), Data: mqls}}

	trend := &chart{ID: "content-trend", Kind: "bar", Format: "int", Right: "money"}
	var views, dls, ls, pipe []*float64
	for _, m := range c.Months {
		trend.X = append(trend.X, m.Month)
		views, dls, ls = append(views, countPoint(m.Views)), append(dls, countPoint(m.Downloads)), append(ls, countPoint(m.Leads))
		pipe = append(pipe, yuan(m.CreditedPipeline))
	}
	trend.Series = []chartSeries{{Name: l.T("content.views"), Data: views}, {Name: l.T("content.downloads"), Data: dls},
		{Name: l.T("content.leads"), Data: ls}, {Name: l.T("content.credited_pipeline"), Kind: "line", Axis: 1, Data: pipe}}

	kinds := &chart{ID: "content-kinds", Kind: "bar", Format: "int", Right: "money"}
	var kd, kl, kp []*float64
	for _, k := range c.Kinds {
		kinds.X = append(kinds.X, assetKind(l, k.Kind))
		kd, kl, kp = append(kd, countPoint(k.Downloads)), append(kl, countPoint(k.Leads)), append(kp, yuan(k.CreditedPipeline))
	}
	kinds.Series = []chartSeries{{Name: l.T("content.downloads"), Data: kd}, {Name: l.T("content.leads"), Data: kl},
		{Name: l.T("content.credited_pipeline"), Kind: "line", Axis: 1, Data: kp}}
	return top, trend, kinds
}
