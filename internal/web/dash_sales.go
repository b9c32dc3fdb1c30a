package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
)

// The sales follow-up dashboard (/dashboards/sales and
// GET /api/v1/dashboards/sales): leads waiting, first follow-up against
// the SLA, the SDRs' accepts and rejects, who holds which leads. The
// figures come from report.Sales; docs/metrics.md defines them.

// salesQueueMax bounds the queue listed (every open assignment is counted).
const salesQueueMax = 200

func (s *Server) salesRoutes(m *http.ServeMux) error {
	m.Handle("GET /dashboards/sales", s.page("sales", s.salesPage))
	m.Handle("GET /api/v1/dashboards/sales", s.pageAPI("sales", s.apiSales))
	return nil
}

// salesView is the dashboard of a request: the page renders it, the API
// writes its D.
type salesView struct {
	Filter  viewFilter
	D       *report.SalesDashboard
	Queue   string // mine or team
	KPIs    []kpi
	QueueT  *dataTable
	Owners  *dataTable
	Grades  *dataTable
	Classes *dataTable
	SLA     *chart
	Decide  *chart
	GradeC  *chart
	ClassC  *chart
	Error   string
	Cal     model.Calendar
	// MineHref and TeamHref show the same dashboard with the user's own
	// queue or the team's.
	MineHref, TeamHref string
}

// NavKey marks the sales entry of the navigation.
func (salesView) NavKey() string { return "sales" }

// salesData builds the dashboard of a request for the page and the API;
// a *filterError is a parameter the caller must fix.
func (s *Server) salesData(r *http.Request, l Locale) (*salesView, error) {
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		return nil, err
	}
	v := &salesView{Cal: cal}
	if v.Filter, err = s.parseFilter(r, cal, nil, ""); err != nil {
		return v, err
	}
	me, role, err := s.requestUser(r)
	if err != nil {
		return v, err
	}
	v.Queue = "team"
	if role == model.RoleSales {
		v.Queue = "mine"
	}
	switch q := r.URL.Query().Get("queue"); q {
	case "":
	case "mine", "team":
		v.Queue = q
	default:
		return v, &filterError{Param: "queue", Key: "sales.error.queue", Msg: fmt.Sprintf("queue %q: want mine or team", clip(q, 40))}
	}
	who := int64(0)
	if v.Queue == "mine" {
		if me == 0 {
			return v, &filterError{Param: "queue", Key: "sales.error.queue_mine", Msg: "queue=mine: this API key belongs to no user; use queue=team"}
		}
		who = me
	}
	v.D, err = report.Sales(r.Context(), s.store, s.app.Router, report.SalesQuery{Period: v.Filter.Period, Now: s.app.Now(), QueueUser: who, QueueLimit: salesQueueMax})
	if err != nil {
		return v, err
	}
	s.salesParts(r, l, v)
	for scope, href := range map[string]*string{"mine": &v.MineHref, "team": &v.TeamHref} {
		q := cloneQuery(r.URL.Query(), "export", "lang")
		q.Set("queue", scope)
		*href = r.URL.Path + "?" + q.Encode()
	}
	return v, nil
}

// requestUser is the user and role behind a request (key or session).
func (s *Server) requestUser(r *http.Request) (int64, model.Role, error) {
	role, err := s.requestRole(r)
	if err != nil {
		return 0, "", err
	}
	id, err := s.requestUserID(r)
	return id, role, err
}

func hoursText(l Locale, h *float64) string {
	if h == nil {
		return "—"
	}
	return l.T("sales.hours", "n", formatDecimal(*h, 1))
}

func rawFloat(x *float64) string {
	if x == nil {
		return ""
	}
	return strconv.FormatFloat(*x, 'f', -1, 64)
}

// salesParts lays the dashboard out: headline figures, tables, charts.
func (s *Server) salesParts(r *http.Request, l Locale, v *salesView) {
	d := v.D
	f := d.Follow
	itoa := func(n int) string { return strconv.Itoa(n) }
	v.KPIs = []kpi{
		{ID: "unassigned", Label: l.T("sales.kpi.unassigned"), Tip: l.T("sales.tip.unassigned"), Value: formatInt(int64(d.Waiting.Unassigned)), Raw: itoa(d.Waiting.Unassigned)},
		{ID: "not_followed_up", Label: l.T("sales.kpi.not_followed_up"), Tip: l.T("sales.tip.not_followed_up"), Value: formatInt(int64(d.Waiting.NotFollowedUp)),
			Raw: itoa(d.Waiting.NotFollowedUp), Sub: l.T("sales.kpi.overdue_sub", "n", formatInt(int64(d.Waiting.Overdue)))},
		{ID: "sla_compliance", Label: l.T("sales.kpi.compliance"), Tip: l.T("sales.tip.sla_compliance"), Value: formatPercent(f.Compliance), Raw: rawFloat(f.Compliance),
			Sub: l.T("sales.kpi.compliance_sub", "within", formatInt(int64(f.WithinSLA)), "due", formatInt(int64(f.Due))), Accent: true},
		{ID: "sla_breached", Label: l.T("sales.kpi.breached"), Tip: l.T("sales.tip.sla_breached"), Value: formatInt(int64(f.Breached)), Raw: itoa(f.Breached)},
		{ID: "median_follow_up", Label: l.T("sales.kpi.median"), Tip: l.T("sales.tip.median_follow_up"), Value: hoursText(l, f.MedianBusinessHours),
			Raw: rawFloat(f.MedianBusinessHours), Sub: l.T("sales.kpi.median_sub", "n", formatInt(int64(f.FollowedUp)))},
		{ID: "accepted", Label: l.T("sales.kpi.accepted"), Tip: l.T("sales.tip.accepted"), Value: formatInt(int64(d.Decisions.Accepted)), Raw: itoa(d.Decisions.Accepted),
			Sub: l.T("sales.kpi.acceptance_sub", "rate", formatPercent(d.Decisions.AcceptanceRate))},
		{ID: "rejected", Label: l.T("sales.kpi.rejected"), Tip: l.T("sales.tip.rejected"), Value: formatInt(int64(d.Decisions.Rejected)), Raw: itoa(d.Decisions.Rejected),
			Sub: l.T("sales.kpi.rejected_sub", "nurture", formatInt(int64(d.Decisions.Nurtured)), "disqualified", formatInt(int64(d.Decisions.Disqualified)))},
		{ID: "open_leads", Label: l.T("sales.kpi.open_leads"), Tip: l.T("sales.tip.open_leads"), Value: formatInt(d.OpenLeads.Total), Raw: strconv.FormatInt(d.OpenLeads.Total, 10)},
	}

	// The queue.
	q := &dataTable{ID: "queue", Loc: v.Cal.Loc, Empty: l.T("sales.queue_empty"), Columns: []column{
		{Key: "person", Label: l.T("sales.col.person"), Kind: kindText},
		{Key: "stage", Label: l.T("sales.col.stage"), Kind: kindText},
		{Key: "owner", Label: l.T("sales.col.owner"), Kind: kindText},
		{Key: "assigned_at", Label: l.T("sales.col.assigned_at"), Kind: kindTime},
		{Key: "due_at", Label: l.T("sales.col.due_at"), Tip: l.T("sales.tip.due_at"), Kind: kindTime},
		{Key: "state", Label: l.T("sales.col.state"), Tip: l.T("sales.tip.sla_state"), Kind: kindText},
	}}
	for _, row := range d.Queue.Rows {
		q.Rows = append(q.Rows, []cell{
			{V: row.Name, Text: personName(l, row.PersonID, row.Name, ""), Href: fmt.Sprintf("/persons/%d", row.PersonID)},
			{V: string(row.Stage), Text: l.Stage(row.Stage)},
			{V: orText(row.UserName, row.UserEmail)},
			{V: row.AssignedAt},
			{V: row.DueAt},
			{V: string(row.State), Text: l.T("sales.state." + string(row.State))},
		})
	}
	q.prepare(r, "due_at", false)
	v.QueueT = q

	// Owners.
	o := &dataTable{ID: "owners", Loc: v.Cal.Loc, Empty: l.T("sales.owners_empty"), Columns: []column{
		{Key: "owner", Label: l.T("sales.col.owner"), Kind: kindText},
		{Key: "team", Label: l.T("sales.col.team"), Kind: kindText},
		{Key: "capacity", Label: l.T("sales.col.capacity"), Tip: l.T("sales.tip.capacity"), Kind: kindInt},
		{Key: "open", Label: l.T("sales.col.open"), Tip: l.T("sales.tip.not_followed_up"), Kind: kindInt},
		{Key: "overdue", Label: l.T("sales.col.overdue"), Tip: l.T("sales.tip.overdue"), Kind: kindInt},
		{Key: "due", Label: l.T("sales.col.due"), Tip: l.T("sales.tip.assignments_due"), Kind: kindInt},
		{Key: "within_sla", Label: l.T("sales.col.within_sla"), Tip: l.T("sales.tip.within_sla"), Kind: kindInt},
		{Key: "compliance", Label: l.T("sales.col.compliance"), Tip: l.T("sales.tip.sla_compliance"), Kind: kindPercent},
		{Key: "breached", Label: l.T("sales.col.breached"), Tip: l.T("sales.tip.sla_breached"), Kind: kindInt},
		{Key: "median", Label: l.T("sales.col.median"), Tip: l.T("sales.tip.median_follow_up"), Kind: kindNumber},
		{Key: "accepted", Label: l.T("sales.col.accepted"), Tip: l.T("sales.tip.accepted"), Kind: kindInt},
		{Key: "rejected", Label: l.T("sales.col.rejected"), Tip: l.T("sales.tip.rejected"), Kind: kindInt},
	}}
	ownerCells := func(name, team string, capacity any, row report.OwnerRow) []cell {
		return []cell{{V: name}, {V: team}, {V: capacity}, {V: int64(row.Open)}, {V: int64(row.Overdue)}, {V: int64(row.Due)},
			{V: int64(row.WithinSLA)}, {V: row.Compliance}, {V: int64(row.Breached)}, {V: row.MedianBusinessHours},
			{V: int64(row.Accepted)}, {V: int64(row.Rejected)}}
	}
	for _, row := range d.Owners {
		var capacity any = int64(row.Capacity)
		c := ownerCells(orText(row.Name, row.Email), row.Team, capacity, row)
		if row.Capacity == 0 {
			c[2].Text = l.T("sales.no_limit")
		}
		o.Rows = append(o.Rows, c)
	}
	o.Total = ownerCells(l.T("sales.total"), "", nil, d.OwnersTotal)
	o.prepare(r, "open", true)
	v.Owners = o

	// Open leads by grade and SDR class.
	spread := func(id, label string, counts []report.ValueCount, name func(string) string) *dataTable {
		t := &dataTable{ID: id, Loc: v.Cal.Loc, Columns: []column{
			{Key: "value", Label: label, Kind: kindText},
			{Key: "leads", Label: l.T("sales.col.open_leads"), Tip: l.T("sales.tip.open_leads"), Kind: kindInt},
			{Key: "share", Label: l.T("sales.col.share"), Kind: kindPercent},
		}}
		for _, c := range counts {
			var share *float64
			if d.OpenLeads.Total > 0 {
				x := float64(c.Count) / float64(d.OpenLeads.Total)
				share = &x
			}
			t.Rows = append(t.Rows, []cell{{V: c.Value, Text: name(c.Value)}, {V: c.Count}, {V: share}})
		}
		t.Total = []cell{{V: l.T("sales.total")}, {V: d.OpenLeads.Total}, {V: nil}}
		t.prepare(r, "", false)
		return t
	}
	gradeName := func(g string) string {
		if g == "" {
			return l.T("sales.no_grade")
		}
		return l.T("sales.grade", "grade", g)
	}
	className := func(c string) string {
		if c == "" {
			return l.T("sales.no_class")
		}
		key := "sales.class." + c
		if t := l.T(key); t != key {
			return t
		}
		return c
	}
	v.Grades = spread("grades", l.T("sales.col.grade"), d.OpenLeads.Grades, gradeName)
	v.Classes = spread("classes", l.T("sales.col.sdr_class"), d.OpenLeads.SDRClasses, className)
	v.QueueT.Title = l.T("sales.queue_team")
	if v.Queue == "mine" {
		v.QueueT.Title = l.T("sales.queue_mine")
	}
	v.Owners.Title, v.Grades.Title, v.Classes.Title = l.T("sales.owners"), l.T("sales.grades"), l.T("sales.classes")

	// Charts.
	var x []string
	sla := &chart{ID: "sla", Kind: "bar", Format: "int", Right: "percent"}
	dec := &chart{ID: "decisions", Kind: "stacked", Format: "int"}
	due, within, comp := []*float64{}, []*float64{}, []*float64{}
	acc, rej := []*float64{}, []*float64{}
	for _, b := range d.Buckets {
		x = append(x, bucketLabel(l, d.Bucket, b))
		due = append(due, point(float64(b.Due)))
		within = append(within, point(float64(b.WithinSLA)))
		comp = append(comp, b.Compliance)
		acc = append(acc, point(float64(b.Accepted)))
		rej = append(rej, point(float64(b.Rejected)))
	}
	sla.X, dec.X = x, x
	sla.Series = []chartSeries{{Name: l.T("sales.col.due"), Data: due}, {Name: l.T("sales.col.within_sla"), Data: within},
		{Name: l.T("sales.col.compliance"), Kind: "line", Axis: 1, Data: comp}}
	dec.Series = []chartSeries{{Name: l.T("sales.col.accepted"), Data: acc}, {Name: l.T("sales.col.rejected"), Data: rej}}
	v.SLA, v.Decide = sla, dec
	v.GradeC = spreadChart("grades", "pie", l.T("sales.col.open_leads"), d.OpenLeads.Grades, gradeName)
	v.ClassC = spreadChart("classes", "hbar", l.T("sales.col.open_leads"), d.OpenLeads.SDRClasses, className)
}

// tables are the dashboard's tables in the page's order.
func (v *salesView) tables() []*dataTable {
	return []*dataTable{v.QueueT, v.Owners, v.Grades, v.Classes}
}

func spreadChart(id, kind, series string, counts []report.ValueCount, name func(string) string) *chart {
	c := &chart{ID: id, Kind: kind, Format: "int"}
	var data []*float64
	for _, v := range counts {
		c.X = append(c.X, name(v.Value))
		data = append(data, point(float64(v.Count)))
	}
	c.Series = []chartSeries{{Name: series, Data: data}}
	return c
}

// bucketLabel names a week (its Monday) or a month.
func bucketLabel(l Locale, bucket string, b report.SalesBucket) string {
	if bucket == "week" {
		return l.T("sales.week_of", "day", b.Start.Format("01-02"))
	}
	return b.Start.Format("2006-01")
}

func (s *Server) salesPage(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	v, err := s.salesData(r, l)
	if s.pageFailed(w, r, err, "error.not_found", "sales dashboard", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "sales", "sales.title", v)
	}) {
		return
	}
	if s.exportTable(w, r, "sales", v.Filter, v.tables()...) {
		return
	}
	s.render(w, r, http.StatusOK, "sales", "sales.title", v)
}

// salesJSON is the API's dashboard: the report with the range.
type salesJSON struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Queue string `json:"queue_scope"`
	*report.SalesDashboard
}

func (s *Server) apiSales(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	v, err := s.salesData(r, s.fileLocale(r, format))
	if s.apiFailed(w, r, err, "") {
		return
	}
	if format != formatJSON {
		s.apiTables(w, r, format, "sales", v.Filter, v.tables()...)
		return
	}
	writeJSON(w, http.StatusOK, salesJSON{From: v.Filter.From, To: v.Filter.To, Queue: v.Queue, SalesDashboard: v.D})
}
