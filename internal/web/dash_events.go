package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
)

// The events dashboard (/dashboards/events) and its JSON twin: webinars,
// exhibitions, salons and conferences side by side, and one of them in
// detail (?event=ID). The figures come from report.Events; this file lays
// them out.

func (s *Server) eventsRoutes(m *http.ServeMux) error {
	m.Handle("GET /dashboards/events", s.page("events", s.eventsPage))
	m.Handle("GET /api/v1/dashboards/events", s.pageAPI("events", s.apiEvents))
	return nil
}

// eventsRequest reads the events dashboard's range, model and event.
func (s *Server) eventsRequest(r *http.Request) (viewFilter, report.EventsQuery, error) {
	f, dq, err := s.dashRequest(r)
	q := report.EventsQuery{Period: dq.Period, Model: string(dq.Model)}
	if err != nil {
		return f, q, err
	}
	if v := strings.TrimSpace(r.URL.Query().Get("event")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, q, &filterError{Param: "event", Key: "events.error.bad_event",
				Msg: fmt.Sprintf("event: %q is not an event id: use the id of a webinar or offline event campaign (the events list gives them)", clip(v, 40))}
		}
		q.Event = id
	}
	return f, q, nil
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	f, q, err := s.eventsRequest(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	ev, err := report.Reporter{Store: s.store}.Events(r.Context(), q)
	if errors.Is(err, report.ErrNoSuchEvent) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("event %d: no webinar or offline event campaign has this id", q.Event))
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if format != formatJSON {
		var v eventsView
		v.lay(s.catalog.locale(langOnly(r)), r, ev, f.Period.Cal)
		s.apiTables(w, r, format, "events", f, v.tables()...)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

// eventsView is the events dashboard's page.
type eventsView struct {
	Filter     viewFilter
	Models     []string
	EventParam string // the event in the URL, which the filter form keeps
	TopN       int    // events in a comparison chart
	Error      string
	Data       *report.Events
	KPIs       []kpi
	Events     *dataTable
	Months     *dataTable
	Trend      *chart
	Compare    *chart
	Money      *chart
	Detail     *eventDetailView
}

func (eventsView) NavKey() string { return "events" }

// eventDetailView is one event's drill-down.
type eventDetailView struct {
	Name, Other  string // the name in the page's language, and the other
	OtherLang    Lang   // the other name's language
	Kind, Dates  string
	CampaignHref string
	CloseHref    string
	KPIs         []kpi
	Days         *dataTable
	DaysChart    *chart
	Funnel       *chart
}

func (s *Server) eventsPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	f, q, err := s.eventsRequest(r)
	v := eventsView{Filter: f, Models: creditModels(), EventParam: r.URL.Query().Get("event"), TopN: chartEvents}
	if s.pageFailed(w, r, err, "error.not_found", "events dashboard", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "events", "events.title", v)
	}) {
		return
	}
	ev, err := report.Reporter{Store: s.store}.Events(r.Context(), q)
	if errors.Is(err, report.ErrNoSuchEvent) {
		v.Error = loc.T("events.error.no_event", "id", strconv.FormatInt(q.Event, 10))
		s.render(w, r, http.StatusNotFound, "events", "events.title", v)
		return
	}
	if err != nil {
		s.pageInternal(w, r, "events dashboard", err)
		return
	}
	v.Data = &ev
	v.lay(loc, r, ev, f.Period.Cal)
	if s.exportTable(w, r, "events", f, v.tables()...) {
		return
	}
	s.render(w, r, http.StatusOK, "events", "events.title", v)
}

// lay builds the dashboard's figures, tables and charts from the report,
// for the page and for its twin's files alike.
func (v *eventsView) lay(loc Locale, r *http.Request, ev report.Events, cal model.Calendar) {
	v.KPIs = eventKPIs(loc, ev.Total, false)
	v.Events = eventsTable(loc, r, ev)
	v.Months = eventMonthsTable(loc, ev.Months)
	v.Trend = eventTrendChart(loc, ev.Months)
	v.Compare, v.Money = eventCompareCharts(loc, ev.Events)
	v.Events.Title, v.Months.Title = loc.T("events.list"), loc.T("events.trend")
	if ev.Event != nil {
		v.Detail = eventDetail(loc, r, *ev.Event)
		v.Detail.Days.Title = loc.T("events.days")
	}
	for _, t := range v.tables() {
		t.Loc = cal.Loc
	}
	v.Events.prepare(r, "date", true)
	v.Months.prepare(r, "month", false)
	if v.Detail != nil {
		v.Detail.Days.prepare(r, "day", false)
	}
}

// tables are the dashboard's tables in the page's order: the events, the
// months and, with an event detailed, its days.
func (v *eventsView) tables() []*dataTable {
	out := []*dataTable{v.Events, v.Months}
	if v.Detail != nil {
		out = append(out, v.Detail.Days)
	}
	return out
}

// inLanguage is a name in the page's language: the English one on English
// pages when there is one.
func inLanguage(l Locale, zh, en string) (string, string) {
	if l.Lang == LangEN && en != "" {
		return en, zh
	}
	if en == zh {
		en = ""
	}
	return zh, en
}

// eventKind names an event's kind (webinar, exhibition, salon, ...); an
// unknown kind shows as it is.
func eventKind(l Locale, kind string) string {
	key := "events.kind." + kind
	if s := l.T(key); s != key {
		return s
	}
	return kind
}

func rawMoneyText(m model.Money) string { return m.String() }

func rawRateText(r *float64) string {
	if r == nil {
		return ""
	}
	return strconv.FormatFloat(*r, 'f', 4, 64)
}

// eventKPIs are the headline figures of all events (or of one, with its
// influence, when one is true).
func eventKPIs(l Locale, e report.EventFigures, one bool) []kpi {
	count := func(id string, n int64, sub string) kpi {
		return kpi{ID: id, Label: l.T("events." + id), Tip: l.T("events.tip." + id), Value: formatInt(n), Raw: strconv.FormatInt(n, 10), Sub: sub}
	}
	money := func(id string, m model.Money, sub string) kpi {
		return kpi{ID: id, Label: l.T("events." + id), Tip: l.T("events.tip." + id), Value: formatMoney(m), Raw: rawMoneyText(m), Sub: sub}
	}
	avg := "—"
	raw := ""
	if e.AvgWatchMinutes != nil {
		avg = l.T("events.minutes", "n", formatDecimal(*e.AvgWatchMinutes, 1))
		raw = strconv.FormatFloat(*e.AvgWatchMinutes, 'f', 1, 64)
	}
	out := []kpi{
		count("registrations", e.Registrations, ""),
		count("attendances", e.Attendances, l.T("events.sub.attendance_rate", "rate", formatPercent(e.AttendanceRate))),
		{ID: "avg_watch_minutes", Label: l.T("events.avg_watch_minutes"), Tip: l.T("events.tip.avg_watch_minutes"), Value: avg, Raw: raw,
			Sub: l.T("events.sub.long_view_share", "rate", formatPercent(e.LongViewShare))},
		count("leads", e.Leads, l.T("events.sub.leads", "mqls", formatInt(e.MQLs), "sqls", formatInt(e.SQLs))),
		money("credited_pipeline", e.CreditedPipeline, ""),
	}
	out[4].Accent = true
	if one && e.InfluencedPipeline != nil {
		out = append(out, money("influenced_pipeline", *e.InfluencedPipeline, ""))
	}
	out = append(out,
		money("won_revenue", e.WonRevenue, ""),
		money("cost", e.Cost, l.T("events.sub.cost", "cpl", formatMoneyPtr(e.CostPerLead), "cpa", formatMoneyPtr(e.CostPerAttendee))),
		kpi{ID: "roas", Label: l.T("events.roas"), Tip: l.T("events.tip.roas"), Value: formatROI(e.ROAS), Raw: rawRateText(e.ROAS)},
	)
	return out
}

// eventColumns are the figure columns of the events table.
func eventColumns(l Locale) []column {
	col := func(key string, kind cellKind) column {
		return column{Key: key, Label: l.T("events." + key), Tip: l.T("events.tip." + key), Kind: kind}
	}
	return []column{
		col("registrations", kindInt), col("attendances", kindInt), col("attendance_rate", kindPercent),
		col("avg_watch_minutes", kindNumber), col("long_view_share", kindPercent),
		col("leads", kindInt), col("mqls", kindInt), col("sqls", kindInt),
		col("credited_pipeline", kindMoney), col("influenced_pipeline", kindMoney), col("won_revenue", kindMoney),
		col("cost", kindMoney), col("cost_per_lead", kindMoney), col("cost_per_attendee", kindMoney), col("roas", kindRatio),
	}
}

func eventCells(e report.EventFigures) []cell {
	return []cell{
		{V: e.Registrations}, {V: e.Attendances}, {V: e.AttendanceRate},
		{V: e.AvgWatchMinutes}, {V: e.LongViewShare},
		{V: e.Leads}, {V: e.MQLs}, {V: e.SQLs},
		{V: e.CreditedPipeline}, {V: e.InfluencedPipeline}, {V: e.WonRevenue},
		{V: e.Cost}, {V: e.CostPerLead}, {V: e.CostPerAttendee}, {V: e.ROAS},
	}
}

// eventHref is the page with one event detailed, keeping the range and
// model.
func eventHref(r *http.Request, id int64) string {
	q := cloneQuery(r.URL.Query(), "export", "lang", "event")
	q.Set("event", strconv.FormatInt(id, 10))
	return r.URL.Path + "?" + q.Encode() + "#event"
}

// eventDates are an event's last day (its campaign's end, or start
// without an end), for the list, and its dates as the drill-down shows
// them ("start – end").
func eventDates(e report.EventRow) (time.Time, string) {
	day := func(s *string) time.Time {
		if s == nil {
			return time.Time{}
		}
		d, _ := time.Parse(dateLayout, *s)
		return d
	}
	start, end := day(e.StartDate), day(e.EndDate)
	switch {
	case start.IsZero():
		return time.Time{}, ""
	case end.IsZero() || !end.After(start):
		return start, start.Format(dateLayout)
	}
	return end, start.Format(dateLayout) + " – " + end.Format(dateLayout)
}

func eventsTable(l Locale, r *http.Request, ev report.Events) *dataTable {
	t := &dataTable{ID: "events", Empty: l.T("events.empty"), Columns: append([]column{
		{Key: "name", Label: l.T("events.name"), Kind: kindText},
		{Key: "kind", Label: l.T("events.kind"), Kind: kindText},
		{Key: "date", Label: l.T("events.date"), Tip: l.T("events.tip.date"), Kind: kindDate},
	}, append(eventColumns(l), column{Key: "campaign", Label: l.T("events.campaign"), Tip: l.T("events.tip.campaign"), Kind: kindText})...)}
	for _, e := range ev.Events {
		name, _ := inLanguage(l, e.Name, e.NameEN)
		last, _ := eventDates(e)
		row := append([]cell{{V: name, Href: eventHref(r, e.ID)}, {V: e.Kind, Text: eventKind(l, e.Kind)}, {V: last}},
			eventCells(e.EventFigures)...)
		t.Rows = append(t.Rows, append(row, cell{V: e.Code, Href: e.Href}))
	}
	if len(ev.Events) > 0 {
		t.Total = append(append([]cell{{V: l.T("events.total")}, {}, {}}, eventCells(ev.Total)...), cell{})
	}
	return t
}

func eventMonthsTable(l Locale, months []report.EventMonth) *dataTable {
	col := func(key string, kind cellKind) column {
		return column{Key: key, Label: l.T("events." + key), Tip: l.T("events.tip." + key), Kind: kind}
	}
	t := &dataTable{ID: "months", Empty: l.T("events.empty"), Columns: []column{
		{Key: "month", Label: l.T("events.month"), Kind: kindText},
		col("registrations", kindInt), col("attendances", kindInt), col("watch_minutes", kindNumber),
		col("leads", kindInt), col("mqls", kindInt), col("credited_pipeline", kindMoney), col("won_revenue", kindMoney), col("cost", kindMoney),
	}}
	for _, m := range months {
		t.Rows = append(t.Rows, []cell{{V: m.Month}, {V: m.Registrations}, {V: m.Attendances}, {V: float64(m.WatchSeconds) / 60},
			{V: m.Leads}, {V: m.MQLs}, {V: m.CreditedPipeline}, {V: m.WonRevenue}, {V: m.Cost}})
	}
	return t
}

func countPoint(n int64) *float64 { return point(float64(n)) }

func eventTrendChart(l Locale, months []report.EventMonth) *chart {
	c := &chart{ID: "events-trend", Kind: "bar", Format: "int", Right: "money"}
	regs, atts, leads, cost, pipe := []*float64{}, []*float64{}, []*float64{}, []*float64{}, []*float64{}
	for _, m := range months {
		c.X = append(c.X, m.Month)
		regs, atts, leads = append(regs, countPoint(m.Registrations)), append(atts, countPoint(m.Attendances)), append(leads, countPoint(m.Leads))
		cost, pipe = append(cost, yuan(m.Cost)), append(pipe, yuan(m.CreditedPipeline))
	}
	c.Series = []chartSeries{
		{Name: l.T("events.registrations"), Data: regs},
		{Name: l.T("events.attendances"), Data: atts},
		{Name: l.T("events.leads"), Data: leads},
		{Name: l.T("events.cost"), Kind: "line", Axis: 1, Data: cost},
		{Name: l.T("events.credited_pipeline"), Kind: "line", Axis: 1, Data: pipe},
	}
	return c
}

// chartEvents is how many events a comparison chart shows.
const chartEvents = 12

// eventCompareCharts compare the events: people (registrations,
// attendances, leads) for the most attended, money (cost, credited
// pipeline, won revenue) for the costliest.
func eventCompareCharts(l Locale, rows []report.EventRow) (*chart, *chart) {
	name := func(e report.EventRow) string {
		n, _ := inLanguage(l, e.Name, e.NameEN)
		return n
	}
	top := func(key func(report.EventRow) int64) []report.EventRow {
		out := slices.Clone(rows)
		slices.SortStableFunc(out, func(a, b report.EventRow) int { return cmp.Compare(key(b), key(a)) })
		return out[:min(len(out), chartEvents)]
	}
	people := &chart{ID: "events-people", Kind: "hbar", Format: "int"}
	var regs, atts, leads []*float64
	for _, e := range top(func(e report.EventRow) int64 { return e.Attendances + e.Registrations + e.Leads }) {
		people.X = append(people.X, name(e))
		regs, atts, leads = append(regs, countPoint(e.Registrations)), append(atts, countPoint(e.Attendances)), append(leads, countPoint(e.Leads))
	}
	people.Series = []chartSeries{{Name: l.T("events.registrations"), Data: regs}, {Name: l.T("events.attendances"), Data: atts},
		{Name: l.T("events.leads"), Data: leads}}
	money := &chart{ID: "events-money", Kind: "hbar", Format: "money"}
	var cost, pipe, won []*float64
	for _, e := range top(func(e report.EventRow) int64 { return int64(e.Cost) + int64(e.CreditedPipeline) }) {
		money.X = append(money.X, name(e))
		cost, pipe, won = append(cost, yuan(e.Cost)), append(pipe, yuan(e.CreditedPipeline)), append(won, yuan(e.WonRevenue))
	}
	money.Series = []chartSeries{{Name: l.T("events.cost"), Data: cost}, {Name: l.T("events.credited_pipeline"), Data: pipe},
		{Name: l.T("events.won_revenue"), Data: won}}
	return people, money
}

// eventDetail lays out one event's drill-down.
func eventDetail(l Locale, r *http.Request, d report.EventDetail) *eventDetailView {
	name, other := inLanguage(l, d.Name, d.NameEN)
	v := &eventDetailView{Name: name, Other: other, OtherLang: LangEN, Kind: eventKind(l, d.Kind), CampaignHref: d.Href}
	if l.Lang == LangEN {
		v.OtherLang = LangZH
	}
	_, v.Dates = eventDates(d.EventRow)
	q := cloneQuery(r.URL.Query(), "export", "lang", "event")
	v.CloseHref = r.URL.Path
	if len(q) > 0 {
		v.CloseHref += "?" + q.Encode()
	}
	v.KPIs = eventKPIs(l, d.EventFigures, true)
	for i := range v.KPIs {
		v.KPIs[i].ID = "event_" + v.KPIs[i].ID
	}
	v.Days = &dataTable{ID: "event_days", Empty: l.T("events.empty"), Columns: []column{
		{Key: "day", Label: l.T("events.day"), Kind: kindDate},
		{Key: "registrations", Label: l.T("events.registrations"), Tip: l.T("events.tip.registrations"), Kind: kindInt},
		{Key: "attendances", Label: l.T("events.attendances"), Tip: l.T("events.tip.attendances"), Kind: kindInt},
		{Key: "leads", Label: l.T("events.leads"), Tip: l.T("events.tip.leads"), Kind: kindInt},
	}}
	dc := &chart{ID: "event-days", Kind: "bar", Format: "int"}
	var regs, atts, leads []*float64
	for _, day := range d.Days {
		t, _ := time.Parse(dateLayout, day.Day)
		v.Days.Rows = append(v.Days.Rows, []cell{{V: t}, {V: day.Registrations}, {V: day.Attendances}, {V: day.Leads}})
		dc.X = append(dc.X, day.Day)
		regs, atts, leads = append(regs, countPoint(day.Registrations)), append(atts, countPoint(day.Attendances)), append(leads, countPoint(day.Leads))
	}
	dc.Series = []chartSeries{{Name: l.T("events.registrations"), Data: regs}, {Name: l.T("events.attendances"), Data: atts},
		{Name: l.T("events.leads"), Data: leads}}
	v.DaysChart = dc
	fc := &chart{ID: "event-funnel", Kind: "funnel", Format: "int"}
	var counts []*float64
	for _, st := range d.Funnel {
		fc.X = append(fc.X, l.Stage(st.Stage))
		counts = append(counts, countPoint(st.Count))
	}
	fc.Series = []chartSeries{{Name: l.T("events.funnel"), Data: counts}}
	v.Funnel = fc
	return v
}
