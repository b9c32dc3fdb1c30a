package web

import (
	"net/http"
	"strconv"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
)

// The marketing dashboard (/dashboards/marketing) and its JSON twin: the
// head of marketing's landing page. The figures come from
// report.LoadMarketing; this file lays them out.

func (s *Server) marketingRoutes(m *http.ServeMux) error {
	m.Handle("GET /{$}", s.requireUser(s.home))
	m.Handle("GET /dashboards/marketing", s.page("marketing", s.marketingPage))
	m.Handle("GET /api/v1/dashboards/marketing", s.pageAPI("marketing", s.apiMarketing))
	return nil
}

// home sends a logged-in user to their role's landing page, keeping the
// query (a range, a language).
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	to := homeFor(u.Role)
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// dashRequest reads a dashboard's range and model.
func (s *Server) dashRequest(r *http.Request) (viewFilter, report.DashQuery, error) {
	f, err := s.filterOf(r, creditModels(), string(report.DefaultModel))
	if err != nil {
		return f, report.DashQuery{}, err
	}
	return f, report.DashQuery{Period: f.Period, Today: f.Today, Model: attribution.Model(f.Model)}, nil
}

// marketingRequest reads the marketing dashboard's parameters.
func (s *Server) marketingRequest(r *http.Request) (viewFilter, report.DashQuery, report.FunnelMode, error) {
	f, q, err := s.dashRequest(r)
	if err != nil {
		return f, q, "", err
	}
	mode, err := parseMode(r.URL.Query().Get("mode"))
	if err != nil {
		return f, q, "", &filterError{Param: "mode", Key: "error.bad_mode", Msg: err.Error()}
	}
	return f, q, mode, nil
}

func (s *Server) apiMarketing(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	f, q, mode, err := s.marketingRequest(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	m, err := report.LoadMarketing(r.Context(), s.store, q, mode)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if format != formatJSON {
		var v marketingView
		v.lay(s.catalog.locale(langOnly(r)), r, m, q.Period.Cal)
		s.apiTables(w, r, format, "marketing", f, v.tables()...)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// marketingView is the marketing dashboard's page.
type marketingView struct {
	Filter    viewFilter
	Models    []string
	Error     string
	Mode      report.FunnelMode
	ModeParam string // the mode as the filter form keeps it
	Modes     []modeLink
	Data      *report.Marketing
	KPIs      []kpi
	Funnel    *dataTable
	Trend     *dataTable
	Mix       *dataTable
	FunnelC   *chart
	TrendC    *chart
	MixC      *chart
}

func (marketingView) NavKey() string { return "marketing" }

// modeLink switches the funnel between cohort and period.
type modeLink struct {
	Mode    report.FunnelMode
	Href    string
	Current bool
}

func (s *Server) marketingPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	f, q, mode, err := s.marketingRequest(r)
	v := marketingView{Filter: f, Models: creditModels(), Mode: mode, ModeParam: string(mode)}
	if s.pageFailed(w, r, err, "error.not_found", "marketing dashboard", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "marketing", "mkt.title", v)
	}) {
		return
	}
	m, err := report.LoadMarketing(r.Context(), s.store, q, mode)
	if err != nil {
		s.pageInternal(w, r, "marketing dashboard", err)
		return
	}
	v.Data = &m
	v.Modes = modeLinks(r, mode)
	v.lay(loc, r, m, q.Period.Cal)
	if s.exportTable(w, r, "marketing", f, v.tables()...) {
		return
	}
	s.render(w, r, http.StatusOK, "marketing", "mkt.title", v)
}

// lay builds the dashboard's figures, tables and charts from the report,
// for the page and for its twin's files alike.
func (v *marketingView) lay(loc Locale, r *http.Request, m report.Marketing, cal model.Calendar) {
	v.KPIs = marketingKPIs(loc, m)
	v.Funnel, v.FunnelC = funnelTable(loc, m.Funnel)
	v.Trend, v.TrendC = trendTable(loc, m.Trend)
	v.Mix, v.MixC = mixTable(loc, m)
	for t, title := range map[*dataTable]string{v.Funnel: "mkt.funnel", v.Trend: "mkt.trend", v.Mix: "mkt.mix"} {
		t.Loc, t.Title = cal.Loc, loc.T(title)
	}
	v.Funnel.prepare(r, "", false)
	v.Trend.prepare(r, "month", false)
	v.Mix.prepare(r, "credited_pipeline", true)
}

// tables are the dashboard's tables in the page's order.
func (v *marketingView) tables() []*dataTable { return []*dataTable{v.Funnel, v.Trend, v.Mix} }

func modeLinks(r *http.Request, mode report.FunnelMode) []modeLink {
	var out []modeLink
	for _, m := range []report.FunnelMode{report.Cohort, report.Period} {
		q := cloneQuery(r.URL.Query(), "export", "lang")
		q.Set("mode", string(m))
		out = append(out, modeLink{Mode: m, Href: r.URL.Path + "?" + q.Encode(), Current: m == mode})
	}
	return out
}

// moneyRaw is money as the API prints it (yuan with two decimals).
func moneyRaw(m model.Money) string { return m.String() }

func moneyPtrRaw(m *model.Money) string {
	if m == nil {
		return ""
	}
	return m.String()
}

func rateRaw(r *float64) string {
	if r == nil {
		return ""
	}
	return strconv.FormatFloat(*r, 'f', 4, 64)
}

// targetMeter is progress towards a target, labelled with the target.
func targetMeter(l Locale, value, target model.Money) *meter {
	m := newMeter(l, float64(value), float64(target))
	if m != nil {
		m.Label = l.T("mkt.of_target", "percent", formatDecimal(float64(value)/float64(target)*100, 0), "target", formatMoney(target))
	}
	return m
}

func marketingKPIs(l Locale, m report.Marketing) []kpi {
	h := m.Headline
	split := func(sourced, influenced model.Money) string {
		return l.T("mkt.split", "sourced", formatMoney(sourced), "influenced", formatMoney(influenced))
	}
	return []kpi{
		{ID: "pipeline_created", Label: l.T("mkt.pipeline_created"), Tip: l.T("mkt.tip.pipeline_created"), Value: formatMoney(h.PipelineCreated),
			Raw: moneyRaw(h.PipelineCreated), Sub: split(h.PipelineSourced, h.PipelineInfluenced), Accent: true,
			Meter: targetMeter(l, h.PipelineCreated, h.TargetPipeline)},
		{ID: "won_revenue", Label: l.T("mkt.won_revenue"), Tip: l.T("mkt.tip.won_revenue"), Value: formatMoney(h.WonRevenue),
			Raw: moneyRaw(h.WonRevenue), Sub: split(h.WonSourced, h.WonInfluenced), Accent: true,
			Meter: targetMeter(l, h.WonRevenue, h.TargetRevenue)},
		{ID: "open_pipeline", Label: l.T("mkt.open_pipeline"), Tip: l.T("mkt.tip.open_pipeline"), Value: formatMoney(h.OpenPipeline),
			Raw: moneyRaw(h.OpenPipeline), Sub: l.T("mkt.n_opportunities", "n", formatInt(h.OpenOpportunities))},
		{ID: "won_deals", Label: l.T("mkt.won_deals"), Tip: l.T("mkt.tip.won_deals"), Value: formatInt(h.WonDeals), Raw: strconv.FormatInt(h.WonDeals, 10),
			Sub: l.T("mkt.n_created", "n", formatInt(h.OpportunitiesCreated))},
		{ID: "win_rate", Label: l.T("mkt.win_rate"), Tip: l.T("mkt.tip.win_rate"), Value: formatPercent(h.WinRate), Raw: rateRaw(h.WinRate),
			Sub: l.T("mkt.won_lost", "won", formatInt(h.WonDeals), "lost", formatInt(h.LostDeals))},
		{ID: "closed_lost", Label: l.T("mkt.closed_lost"), Tip: l.T("mkt.tip.closed_lost"), Value: formatMoney(h.ClosedLost), Raw: moneyRaw(h.ClosedLost),
			Sub: l.T("mkt.n_opportunities", "n", formatInt(h.LostDeals))},
		{ID: "spend", Label: l.T("mkt.spend"), Tip: l.T("mkt.tip.spend"), Value: formatMoney(h.Spend), Raw: moneyRaw(h.Spend)},
		{ID: "leads", Label: l.T("mkt.leads"), Tip: l.T("mkt.tip.leads"), Value: formatInt(h.Leads), Raw: strconv.FormatInt(h.Leads, 10)},
		{ID: "roas", Label: l.T("mkt.roas"), Tip: l.T("mkt.tip.roas"), Value: formatROI(h.ROAS), Raw: rateRaw(h.ROAS)},
		{ID: "roi", Label: l.T("mkt.roi"), Tip: l.T("mkt.tip.roi"), Value: formatROI(h.ROI), Raw: rateRaw(h.ROI)},
		{ID: "cac", Label: l.T("mkt.cac"), Tip: l.T("mkt.tip.cac"), Value: formatMoneyPtr(h.CAC), Raw: moneyPtrRaw(h.CAC),
			Sub: l.T("mkt.n_new_customers", "n", formatInt(h.NewCustomers))},
	}
}

func funnelTable(l Locale, f report.DashFunnel) (*dataTable, *chart) {
	t := &dataTable{ID: "funnel", Columns: []column{
		{Key: "stage", Label: l.T("mkt.stage"), Kind: kindText},
		{Key: "count", Label: l.T("mkt.funnel_count." + string(f.Mode)), Tip: l.T("mkt.tip.funnel_count." + string(f.Mode)), Kind: kindInt},
		{Key: "rate", Label: l.T("mkt.conversion_rate"), Tip: l.T("mkt.tip.conversion_rate." + string(f.Mode)), Kind: kindPercent},
		{Key: "velocity", Label: l.T("mkt.velocity"), Tip: l.T("mkt.tip.velocity"), Kind: kindDays},
	}}
	c := &chart{ID: "funnel", Kind: "funnel", Format: "int", Series: []chartSeries{{Name: l.T("mkt.funnel_count." + string(f.Mode))}}}
	for _, st := range f.Steps {
		t.Rows = append(t.Rows, []cell{{V: string(st.Stage), Text: l.Stage(st.Stage)}, {V: st.Count}, {V: st.Rate}, {V: st.VelocityDays}})
		c.X = append(c.X, l.Stage(st.Stage))
		c.Series[0].Data = append(c.Series[0].Data, point(float64(st.Count)))
	}
	t.Total = []cell{{V: "overall", Text: l.T("mkt.lead_to_customer")}, {}, {V: f.Overall}, {}}
	return t, c
}

func trendTable(l Locale, months []report.MonthFigures) (*dataTable, *chart) {
	t := &dataTable{ID: "trend", Columns: []column{
		{Key: "month", Label: l.T("mkt.month"), Kind: kindText},
		{Key: "spend", Label: l.T("mkt.spend"), Tip: l.T("mkt.tip.spend"), Kind: kindMoney},
		{Key: "leads", Label: l.T("mkt.leads"), Tip: l.T("mkt.tip.leads"), Kind: kindInt},
		{Key: "pipeline_created", Label: l.T("mkt.pipeline_created"), Tip: l.T("mkt.tip.pipeline_created"), Kind: kindMoney},
		{Key: "won_revenue", Label: l.T("mkt.won_revenue"), Tip: l.T("mkt.tip.won_revenue"), Kind: kindMoney},
	}}
	c := &chart{ID: "trend", Kind: "bar", Format: "money", Right: "int", Series: []chartSeries{
		{Name: l.T("mkt.spend"), Kind: "bar"}, {Name: l.T("mkt.pipeline_created"), Kind: "bar"},
		{Name: l.T("mkt.won_revenue"), Kind: "bar"}, {Name: l.T("mkt.leads"), Kind: "line", Axis: 1}}}
	for _, m := range months {
		t.Rows = append(t.Rows, []cell{{V: m.Month}, {V: m.Spend}, {V: m.Leads}, {V: m.PipelineCreated}, {V: m.WonRevenue}})
		c.X = append(c.X, m.Month)
		c.Series[0].Data = append(c.Series[0].Data, yuan(m.Spend))
		c.Series[1].Data = append(c.Series[1].Data, yuan(m.PipelineCreated))
		c.Series[2].Data = append(c.Series[2].Data, yuan(m.WonRevenue))
		c.Series[3].Data = append(c.Series[3].Data, point(float64(m.Leads)))
	}
	return t, c
}

func mixTable(l Locale, m report.Marketing) (*dataTable, *chart) {
	t := &dataTable{ID: "channels", Columns: []column{
		{Key: "channel", Label: l.T("mkt.channel"), Kind: kindText},
		{Key: "leads", Label: l.T("mkt.leads"), Tip: l.T("mkt.tip.leads"), Kind: kindInt},
		{Key: "spend", Label: l.T("mkt.spend"), Tip: l.T("mkt.tip.spend"), Kind: kindMoney},
		{Key: "credited_opportunities", Label: l.T("mkt.credited_opportunities"), Tip: l.T("mkt.tip.credited"), Kind: kindNumber},
		{Key: "credited_pipeline", Label: l.T("mkt.credited_pipeline"), Tip: l.T("mkt.tip.credited"), Kind: kindMoney},
		{Key: "credited_won_deals", Label: l.T("mkt.credited_won_deals"), Tip: l.T("mkt.tip.credited"), Kind: kindNumber},
		{Key: "credited_won_revenue", Label: l.T("mkt.credited_won_revenue"), Tip: l.T("mkt.tip.credited"), Kind: kindMoney},
		{Key: "roas", Label: l.T("mkt.roas"), Tip: l.T("mkt.tip.channel_roas"), Kind: kindRatio},
		{Key: "influenced_pipeline", Label: l.T("mkt.influenced_pipeline"), Tip: l.T("mkt.tip.influenced"), Kind: kindMoney},
		{Key: "influenced_won_revenue", Label: l.T("mkt.influenced_won_revenue"), Tip: l.T("mkt.tip.influenced"), Kind: kindMoney},
	}}
	row := func(c report.ChannelMix, name string) []cell {
		return []cell{{V: c.Channel, Text: name}, {V: c.Leads}, {V: c.Spend}, {V: c.CreditedOpportunities}, {V: c.CreditedPipeline},
			{V: c.CreditedWonDeals}, {V: c.CreditedWonRevenue}, {V: c.ROAS}, {V: c.InfluencedPipeline}, {V: c.InfluencedWonRevenue}}
	}
	ch := &chart{ID: "channels", Kind: "hbar", Format: "money", Series: []chartSeries{
		{Name: l.T("mkt.credited_pipeline")}, {Name: l.T("mkt.credited_won_revenue")}, {Name: l.T("mkt.spend")}}}
	for _, c := range m.Channels {
		name := l.Channel(model.Channel(c.Channel))
		t.Rows = append(t.Rows, row(c, name))
		ch.X = append(ch.X, name)
		ch.Series[0].Data = append(ch.Series[0].Data, yuan(c.CreditedPipeline))
		ch.Series[1].Data = append(ch.Series[1].Data, yuan(c.CreditedWonRevenue))
		ch.Series[2].Data = append(ch.Series[2].Data, yuan(c.Spend))
	}
	t.Total = row(m.ChannelTotal, l.T("mkt.total"))
	return t, ch
}
