package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/review"
	"github.com/revloop/revloop/internal/store"
)

// A campaign's review (复盘, docs/reviews.md): /campaigns/{id}/review, a
// page that prints as the review a marketing team presents, and its JSON
// twin; the campaign's targets (GET and PUT) and its action items (GET,
// POST, PATCH) under /api/v1/campaigns/{id}.

func (s *Server) reviewRoutes(m *http.ServeMux) error {
	m.Handle("GET /campaigns/{id}/review", s.page("campaigns", s.reviewPage))
	m.Handle("POST /campaigns/{id}/review/targets", s.page("campaigns", s.editorsOnly(s.reviewTargetsSubmit)))
	m.Handle("POST /campaigns/{id}/review/actions", s.page("campaigns", s.actorsOnly(s.reviewActionSubmit)))
	m.Handle("POST /campaigns/{id}/review/action-status", s.page("campaigns", s.actorsOnly(s.reviewActionStatusSubmit)))

	m.Handle("GET /api/v1/campaigns/{id}/review", s.pageAPI("campaigns", s.apiReview))
	m.Handle("GET /api/v1/campaigns/{id}/targets", s.pageAPI("campaigns", s.apiTargets))
	m.Handle("PUT /api/v1/campaigns/{id}/targets", s.requireRole(model.RoleMarketer, s.apiPutTargets))
	m.Handle("GET /api/v1/campaigns/{id}/actions", s.pageAPI("campaigns", s.apiActions))
	m.Handle("POST /api/v1/campaigns/{id}/actions", s.requireRole(model.RoleSales, s.apiCreateAction))
	m.Handle("PATCH /api/v1/campaigns/{id}/actions/{aid}", s.requireRole(model.RoleSales, s.apiPatchAction))
	return nil
}

// actorsOnly lets everyone but viewers through: marketing and sales
// both take action items in a review.
func (s *Server) actorsOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		if u.Role == model.RoleViewer {
			s.renderError(w, r, http.StatusForbidden, "review.error.forbidden")
			return
		}
		next(w, r)
	}
}

func (s *Server) reviewService() review.Service {
	return review.Service{Store: s.store, Now: s.app.Now}
}

// reviewView is a campaign's review for the page; the API writes its R.
type reviewView struct {
	Filter   viewFilter
	Models   []string
	Campaign model.Campaign
	R        *report.Review
	// Tables are every table of the review (reviewTables); Tab names them.
	Tables  []*dataTable
	Tab     map[string]*dataTable
	Gaps    []reviewGap
	Fields  []targetField
	Users   []model.User
	CanEdit bool // targets
	CanAct  bool // action items
	Open    []model.CampaignAction
	// PreviousDone is how many of the previous campaign's actions are done.
	PreviousDone int
	KindText     string
	Scope        int // campaigns the figures cover
	Compared     string
	ActionForm   map[string]string
	Notice       string
	Error        string
	TargetError  string
	ActionError  string
	Now          time.Time
}

func (reviewView) NavKey() string { return "campaigns" }

// reviewGap is a metric with a target, as the gaps section tells it.
type reviewGap struct {
	Class               string // gap-good, gap-bad or "" (unknown)
	Metric, Label, Tip  string
	Target, Actual, Gap string
	Good                *bool
	Explanation         string
}

// targetField is one metric of the targets form.
type targetField struct {
	Metric, Label, Unit, Value, Error string
}

// reviewData builds a campaign's review over the range in the URL, or
// without one from the campaign's first day to today.
func (s *Server) reviewData(r *http.Request, loc Locale, id int64) (*reviewView, error) {
	v := &reviewView{Models: creditModels(), Now: s.app.Now()}
	c, err := s.store.CampaignByID(r.Context(), id)
	if err != nil {
		return v, err
	}
	v.Campaign = c
	f, err := s.filterOf(r, v.Models, string(report.DefaultModel))
	v.Filter = f
	if err != nil {
		return v, err
	}
	if f.Default && !c.StartDate.IsZero() && !c.StartDate.After(f.Today) {
		f.Period.From = c.StartDate
		f.From = c.StartDate.Format(dateLayout)
		v.Filter = f
	}
	v.R, err = s.reports.Review(r.Context(), report.ReviewQuery{Campaign: id, Model: f.Model, Period: f.Period, Now: s.app.Now(), Router: s.app.Router})
	if err != nil {
		return v, err
	}
	rv := v.R
	v.KindText = campaignKindText(loc, c.Kind)
	v.Scope = len(rv.Scope)
	var names []string
	for _, h := range rv.ComparedWith {
		names = append(names, campaignName(loc, h.Name, h.NameEN))
	}
	v.Compared = strings.Join(names, loc.T("review.list_sep"))
	v.Tables = reviewTables(loc, rv, f.Period.Cal, v.Now)
	v.Tab = map[string]*dataTable{}
	for _, t := range v.Tables {
		v.Tab[t.ID] = t
	}
	for _, m := range rv.Metrics {
		if m.Target == nil {
			continue
		}
		g := reviewGap{Metric: m.Metric, Label: loc.T("review.metric." + m.Metric), Tip: loc.T("review.tip." + m.Metric), Target: metricText(loc, m.Target), Actual: metricText(loc, m.Actual),
			Gap: gapText(m.Gap), Good: m.Good}
		if m.Good != nil {
			g.Class = map[bool]string{true: "gap-good", false: "gap-bad"}[*m.Good]
		}
		if m.Explanation != nil {
			g.Explanation = m.Explanation.Text
		}
		v.Gaps = append(v.Gaps, g)
	}
	for _, a := range rv.PreviousActions {
		if a.Status == model.ActionDone {
			v.PreviousDone++
		}
	}
	for _, a := range rv.Actions {
		if a.Status == model.ActionOpen {
			v.Open = append(v.Open, a)
		}
	}
	v.Fields = targetFields(loc, rv, nil, nil)
	v.ActionForm = map[string]string{}
	return v, nil
}

// metricText prints a metric's value in its unit; "—" for none.
func metricText(loc Locale, v *report.MetricValue) string {
	if v == nil || math.IsNaN(v.Hundredths) {
		return "—"
	}
	return unitText(loc, v.Unit, v.Value())
}

// unitText prints a value in a unit (yuan for CNY).
func unitText(loc Locale, unit model.MetricUnit, x float64) string {
	switch unit {
	case model.UnitCNY:
		return formatMoney(model.Money(math.Round(x * 100)))
	case model.UnitHours:
		return loc.T("review.hours", "n", formatDecimal(x, 1))
	case model.UnitRatio:
		return formatROI(&x)
	}
	if x == math.Trunc(x) {
		return formatInt(int64(x))
	}
	return formatDecimal(x, 1)
}

// gapText prints a gap as a signed percentage.
func gapText(g *float64) string {
	if g == nil {
		return "—"
	}
	s := formatPercent(g)
	if *g > 0 {
		s = "+" + s
	}
	return s
}

// targetFields is the targets form: every metric with its target as typed
// (values, when the form came back with errors) or as stored.
func targetFields(loc Locale, rv *report.Review, values, errs map[string]string) []targetField {
	var out []targetField
	for _, m := range model.ReviewMetrics {
		f := targetField{Metric: m.Key, Label: loc.T("review.metric." + m.Key), Unit: loc.T("review.unit." + string(m.Unit))}
		if values != nil {
			f.Value, f.Error = values[m.Key], errs[m.Key]
		} else {
			for _, row := range rv.Metrics {
				if row.Metric == m.Key && row.Target != nil {
					f.Value = report.HundredthsText(int64(math.Round(row.Target.Hundredths)))
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// ---- the tables ----

// reviewTableIDs are the review's tables in the order the page and a
// workbook show them.
var reviewTableIDs = []string{"targets", "actions", "previous_actions", "lead_sources", "customers", "promoters", "interactions",
	"lead_status", "funnel", "opportunities", "orders"}

// reviewTables builds every table of a review: targets against actuals
// with the gaps and their explanations, the action items and those of
// the previous review, the process tables and the result tables. The page
// shows them, ?export=<id> answers one as CSV, and ?format=csv on the API
// the targets table. The explanations' texts are set on rv too.
func reviewTables(loc Locale, rv *report.Review, cal model.Calendar, now time.Time) []*dataTable {
	col := func(key string, kind cellKind) column {
		c := column{Key: key, Label: loc.T("review.col." + key), Kind: kind}
		if tip := "review.tip.col." + key; loc.T(tip) != tip {
			c.Tip = loc.T(tip)
		}
		return c
	}
	// Each table's title names its sheet in the workbook.
	titles := map[string]string{"targets": "review.section.targets", "actions": "review.section.actions", "previous_actions": "review.section.previous"}
	table := func(id string, cols ...column) *dataTable {
		title := titles[id]
		if title == "" {
			title = "review.table." + id
		}
		return &dataTable{ID: id, Title: loc.T(title), Loc: cal.Loc, Empty: loc.T("review.empty." + id), Columns: cols}
	}
	kindName := campaignKindText(loc, rv.Campaign.Kind)

	targets := table("targets", col("metric", kindText), col("direction", kindText), col("target", kindNumber), col("actual", kindNumber),
		col("gap", kindPercent), col("result", kindText), col("explanation", kindText))
	for i := range rv.Metrics {
		m := &rv.Metrics[i]
		if m.Explanation != nil {
			m.Explanation.Text = explanationText(loc, *m, kindName)
		}
		label := loc.T("review.metric." + m.Metric)
		row := []cell{{V: label}, {V: string(m.Direction), Text: loc.T("review.direction." + string(m.Direction))},
			valueCell(loc, m.Target), valueCell(loc, m.Actual), {V: m.Gap, Text: gapText(m.Gap)}, resultCell(loc, m.Target, m.Good), {}}
		if m.Explanation != nil {
			row[6] = cell{V: m.Explanation.Text}
		}
		targets.Rows = append(targets.Rows, row)
	}
	// Metrics with a target first, in the catalogue's order.
	slices.SortStableFunc(targets.Rows, func(a, b []cell) int {
		return boolRank(a[2].V != nil) - boolRank(b[2].V != nil)
	})

	actions := actionTable(loc, "actions", rv.Actions, cal, now)
	previous := actionTable(loc, "previous_actions", rv.PreviousActions, cal, now)
	actions.Title, previous.Title = loc.T(titles["actions"]), loc.T(titles["previous_actions"])

	pr := rv.Process
	var totalLeads int64
	for _, l := range pr.LeadSources {
		totalLeads += l.Leads
	}
	sources := table("lead_sources", col("channel", kindText), col("source", kindText), col("leads", kindInt), col("mqls", kindInt),
		col("share", kindPercent))
	for _, l := range pr.LeadSources {
		sources.Rows = append(sources.Rows, []cell{channelCell(loc, l.Channel), {V: l.Source}, {V: l.Leads}, {V: l.MQLs}, {V: shareOf(l.Leads, totalLeads)}})
	}
	customers := table("customers", col("segment", kindText), col("members", kindInt), col("leads", kindInt))
	for _, sg := range pr.Customers {
		customers.Rows = append(customers.Rows, []cell{{V: sg.Segment, Text: loc.T("review.segment." + sg.Segment)}, {V: sg.Members}, {V: sg.Leads}})
	}
	promoters := table("promoters", col("promoter", kindText), col("email", kindText), col("links", kindInt), col("visits", kindInt),
		col("visitors", kindInt), col("leads", kindInt), col("mqls", kindInt))
	for _, p := range pr.Promoters {
		promoters.Rows = append(promoters.Rows, []cell{{V: cmpOr(p.Name, p.Email)}, {V: p.Email}, {V: p.Links}, {V: p.Visits}, {V: p.Visitors},
			{V: p.Leads}, {V: p.MQLs}})
	}
	interactions := table("interactions", col("channel", kindText), col("type", kindText), col("touches", kindInt))
	for _, x := range pr.Interactions {
		interactions.Rows = append(interactions.Rows, []cell{channelCell(loc, x.Channel), {V: x.Type, Text: touchTypeText(loc, x.Type)}, {V: x.Touches}})
	}

	res := rv.Results
	var statusTotal int64
	for _, st := range res.LeadStatus {
		statusTotal += st.Leads
	}
	status := table("lead_status", col("stage", kindText), col("leads", kindInt), col("share", kindPercent))
	for _, st := range res.LeadStatus {
		status.Rows = append(status.Rows, []cell{{V: string(st.Stage), Text: loc.Stage(st.Stage)}, {V: st.Leads}, {V: shareOf(st.Leads, statusTotal)}})
	}
	funnel := table("funnel", col("stage", kindText), col("count", kindInt), col("rate", kindPercent))
	for _, st := range res.Funnel {
		funnel.Rows = append(funnel.Rows, []cell{{V: string(st.Stage), Text: loc.Stage(st.Stage)}, {V: st.Count}, {V: st.Rate}})
	}
	opps := table("opportunities", col("opportunity", kindText), col("account", kindText), col("opp_stage", kindText), col("amount", kindMoney),
		col("created", kindTime))
	for _, d := range res.Opportunities {
		opps.Rows = append(opps.Rows, []cell{{V: d.Name}, {V: d.Account}, {V: d.Stage, Text: oppStageText(loc, d.Stage)}, {V: d.Amount}, {V: d.At}})
	}
	if res.OpportunityCount > 0 {
		opps.Total = []cell{{V: loc.T("review.total_n", "n", formatInt(int64(res.OpportunityCount)))}, {}, {}, {V: res.Pipeline}, {}}
	}
	orders := table("orders", col("account", kindText), col("amount", kindMoney), col("placed", kindTime), col("opportunity_id", kindText))
	for _, d := range res.Orders {
		var opp cell
		if d.OpportunityID != 0 {
			opp = cell{V: strconv.FormatInt(d.OpportunityID, 10)}
		}
		orders.Rows = append(orders.Rows, []cell{{V: d.Account}, {V: d.Amount}, {V: d.At}, opp})
	}
	if res.OrderCount > 0 {
		orders.Total = []cell{{V: loc.T("review.total_n", "n", formatInt(int64(res.OrderCount)))}, {V: res.OrderAmount}, {}, {}}
	}
	return []*dataTable{targets, actions, previous, sources, customers, promoters, interactions, status, funnel, opps, orders}
}

func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}

// valueCell is a metric's value in a table: a count as an integer, money
// as an amount, hours and ratios as numbers, printed in the unit.
func valueCell(loc Locale, v *report.MetricValue) cell {
	if v == nil {
		return cell{}
	}
	text := metricText(loc, v)
	switch v.Unit {
	case model.UnitCNY:
		return cell{V: model.Money(math.Round(v.Hundredths)), Text: text}
	case model.UnitCount:
		return cell{V: int64(math.Round(v.Value())), Text: text}
	case model.UnitRatio:
		return cell{V: math.Round(v.Hundredths*100) / 1e4, Text: text}
	}
	return cell{V: math.Round(v.Hundredths) / 100, Text: text}
}

func resultCell(loc Locale, target *report.MetricValue, good *bool) cell {
	switch {
	case target == nil:
		return cell{}
	case good == nil:
		return cell{V: "unknown", Text: loc.T("review.result.unknown")}
	case *good:
		return cell{V: "met", Text: loc.T("review.result.met")}
	}
	return cell{V: "missed", Text: loc.T("review.result.missed")}
}

func channelCell(loc Locale, ch string) cell {
	if ch == "" {
		return cell{V: "unknown", Text: loc.Channel(model.ChannelUnknown)}
	}
	return cell{V: ch, Text: loc.Channel(model.Channel(ch))}
}

func shareOf(n, total int64) *float64 {
	if total == 0 {
		return nil
	}
	x := float64(n) / float64(total)
	return &x
}

// actionTable lists action items with their state now.
func actionTable(loc Locale, id string, acts []model.CampaignAction, cal model.Calendar, now time.Time) *dataTable {
	col := func(key string, kind cellKind) column {
		return column{Key: key, Label: loc.T("review.col." + key), Kind: kind}
	}
	t := &dataTable{ID: id, Loc: cal.Loc, Empty: loc.T("review.empty." + id), Columns: []column{
		col("action", kindText), col("owner", kindText), col("due", kindDate), col("success", kindText), col("finding", kindText),
		col("status", kindText), col("state", kindText), col("closed", kindTime)}}
	for _, a := range acts {
		var closed any
		if a.ClosedAt != nil {
			closed = *a.ClosedAt
		}
		state := actionState(a, now)
		t.Rows = append(t.Rows, []cell{{V: a.Action}, {V: cmpOr(a.OwnerName, a.OwnerEmail)}, {V: a.Due}, {V: a.Success},
			{V: a.Finding, Text: findingText(loc, a.Finding)}, {V: string(a.Status), Text: loc.T("review.status." + string(a.Status))},
			{V: state, Text: loc.T("review.state." + state)}, {V: closed}})
	}
	return t
}

// actionState is where an action item stands now: overdue or open (not
// yet due), done on time or late, dropped.
func actionState(a model.CampaignAction, now time.Time) string {
	switch {
	case a.Status == model.ActionDropped:
		return "dropped"
	case a.Status == model.ActionDone:
		if ok := a.OnTime(); ok != nil && !*ok {
			return "done_late"
		}
		return "done_on_time"
	case a.Overdue(now):
		return "overdue"
	}
	return "open"
}

// findingText names a metric of the catalogue in the page's language;
// any other finding shows as written.
func findingText(loc Locale, f string) string {
	if _, ok := model.ReviewMetricByKey(f); ok {
		return loc.T("review.metric." + f)
	}
	return f
}

// ---- explanations in words ----

// explanationText tells a gap's first explanation in the page's language.
func explanationText(loc Locale, m report.ReviewMetricRow, kindText string) string {
	e := m.Explanation
	label := loc.T("review.metric." + m.Metric)
	if kindText == "" {
		kindText = loc.T("review.campaigns")
	}
	val := func(x float64) string { return unitText(loc, e.Unit, x) }
	switch e.Kind {
	case report.ExplainChannelChange:
		ch := loc.Channel(model.Channel(cmpOr(e.Channel, string(model.ChannelUnknown))))
		var s string
		if e.Change == nil {
			s = loc.T("review.explain.channel_new", "metric", label, "channel", ch, "now", val(e.Current), "n", e.Compared, "kind", kindText)
		} else {
			s = loc.T("review.explain.channel_change", "metric", label, "channel", ch, "moved", movedText(loc, *e.Change),
				"pct", formatPercent(absPtr(*e.Change)), "n", e.Compared, "kind", kindText, "before", val(*e.Baseline), "now", val(e.Current))
		}
		if e.TotalChange != nil && e.Channels > 1 {
			s += " " + loc.T("review.explain.total", "moved", movedText(loc, *e.TotalChange), "pct", formatPercent(absPtr(*e.TotalChange)),
				"before", val(*e.TotalBaseline), "now", val(e.TotalCurrent))
		}
		// A target missed though the figure grew (or met though it fell)
		// says more about the target than about the campaign.
		if e.TargetChange != nil && e.TotalChange != nil && m.Good != nil {
			if !*m.Good && *e.TotalChange >= 0 && *e.TargetChange > 0 {
				s += " " + loc.T("review.explain.target_above", "pct", formatPercent(e.TargetChange))
			} else if *m.Good && *e.TotalChange < 0 && *e.TargetChange < 0 {
				s += " " + loc.T("review.explain.target_below", "pct", formatPercent(absPtr(*e.TargetChange)))
			}
		}
		return s
	case report.ExplainChannelShare:
		ch := loc.Channel(model.Channel(cmpOr(e.Channel, string(model.ChannelUnknown))))
		return loc.T("review.explain.channel_share", "metric", label, "channel", ch, "share", formatPercent(e.Share), "now", val(e.Current), "kind", kindText)
	case report.ExplainParts:
		var parts []string
		for i, p := range e.Parts {
			text := loc.T("review.part."+p.Figure) + " " + unitText(loc, p.Unit, p.Current)
			if p.Change != nil {
				key := "review.explain.part_change"
				if i == 0 {
					key = "review.explain.part_change_first"
				}
				text += loc.T(key, "change", signedPercent(*p.Change), "n", e.Compared, "kind", kindText)
			}
			parts = append(parts, text)
		}
		s := strings.Join(parts, loc.T("review.list_sep"))
		if e.Compared == 0 {
			s += loc.T("review.explain.no_history", "kind", kindText)
		}
		return s
	case report.ExplainFollowUp:
		f := e.FollowUp
		sla := formatDecimal(f.SLAHours, 1)
		if f.MedianHours == nil {
			return loc.T("review.explain.follow_up_none", "due", f.Due, "breached", f.Breached, "sla", sla)
		}
		s := loc.T("review.explain.follow_up", "median", formatDecimal(*f.MedianHours, 1), "sla", sla, "breaching", f.Breaching, "owners", f.Owners)
		if f.Slowest != nil && f.Slowest.MedianBusinessHours != nil {
			s += loc.T("review.explain.slowest", "name", cmpOr(f.Slowest.Name, f.Slowest.Email), "hours", formatDecimal(*f.Slowest.MedianBusinessHours, 1))
		}
		return s
	}
	return loc.T("review.explain.none")
}

func absPtr(x float64) *float64 { x = math.Abs(x); return &x }

func movedText(loc Locale, c float64) string {
	switch {
	case c < 0:
		return loc.T("review.moved.fell")
	case c > 0:
		return loc.T("review.moved.rose")
	}
	return loc.T("review.moved.held")
}

func signedPercent(c float64) string {
	s := formatPercent(&c)
	if c > 0 {
		s = "+" + s
	}
	return s
}

// ---- the page ----

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	loc := s.catalog.locale(langOnly(r))
	v, ok := s.reviewPageData(w, r, loc, id)
	if !ok {
		return
	}
	if s.exportTable(w, r, "review-"+v.Campaign.Code, v.Filter, v.Tables...) {
		return
	}
	s.render(w, r, http.StatusOK, "review", "review.title", v)
}

// reviewPageData is the review page's view, finished for who asks; when
// it fails it has answered (400 with the error on the page, 404, 500).
func (s *Server) reviewPageData(w http.ResponseWriter, r *http.Request, loc Locale, id int64) (*reviewView, bool) {
	v, err := s.reviewData(r, loc, id)
	if s.pageFailed(w, r, err, "campaigns.error.not_found", "review page", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "review", "review.title", v)
	}) {
		return nil, false
	}
	if err := s.finishReviewView(r, loc, v); err != nil {
		s.pageInternal(w, r, "review page", err)
		return nil, false
	}
	return v, true
}

// finishReviewView sets what depends on who asks and sorts the tables.
func (s *Server) finishReviewView(r *http.Request, loc Locale, v *reviewView) error {
	u, _ := userFrom(r.Context())
	v.CanEdit = canEditCampaigns(u.Role)
	v.CanAct = u.Role != model.RoleViewer
	// The open items whose status the user may change.
	by := review.Caller{UserID: u.ID, Name: u.Email, Role: u.Role}
	v.Open = slices.DeleteFunc(v.Open, func(a model.CampaignAction) bool { return !review.MayChange(a, by) })
	if v.CanAct {
		// The owners an action item may have: the enabled users who can
		// work on the campaign (not viewers).
		users, err := s.store.Users(r.Context(), "")
		if err != nil {
			return err
		}
		for _, u := range users {
			if review.MayOwn(u) {
				v.Users = append(v.Users, u)
			}
		}
	}
	if n := r.URL.Query().Get("done"); n == "targets" || n == "action" || n == "status" {
		v.Notice = loc.T("review.done." + n)
	}
	for _, t := range v.Tables {
		t.prepare(r, "", false)
	}
	return nil
}

// reviewRedirect goes back to the review with the range and model kept.
func reviewRedirect(w http.ResponseWriter, r *http.Request, id int64, done, anchor string) {
	q := url.Values{}
	for _, k := range []string{"from", "to", "model"} {
		if v := r.PostForm.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	q.Set("done", done)
	http.Redirect(w, r, fmt.Sprintf("/campaigns/%d/review?%s#%s", id, q.Encode(), anchor), http.StatusSeeOther)
}

// reviewFormFailed shows the review again with a form's errors.
func (s *Server) reviewFormFailed(w http.ResponseWriter, r *http.Request, id int64, code int, set func(loc Locale, v *reviewView)) {
	loc := s.catalog.locale(langOnly(r))
	// The page's range and model come back in the form.
	q := r.URL.Query()
	for _, k := range []string{"from", "to", "model"} {
		if v := r.PostForm.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	r.URL.RawQuery = q.Encode()
	v, ok := s.reviewPageData(w, r, loc, id)
	if !ok {
		return
	}
	set(loc, v)
	s.render(w, r, code, "review", "review.title", v)
}

func (s *Server) reviewTargetsSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.campaignPost(w, r, 32<<10)
	if !ok {
		return
	}
	in := review.TargetsInput{}
	values := map[string]string{}
	for _, m := range model.ReviewMetrics {
		raw := strings.TrimSpace(r.PostForm.Get("target_" + m.Key))
		values[m.Key] = raw
		raw = strings.NewReplacer("¥", "", "￥", "", ",", "", "，", "", " ", "").Replace(raw)
		if raw == "" {
			continue
		}
		in.Targets = append(in.Targets, review.TargetInput{Metric: m.Key, Value: []byte(strconv.Quote(raw))})
	}
	if n, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64); err == nil {
		in.Version = &n
	}
	_, _, err := s.reviewService().SetTargets(r.Context(), id, in)
	var ie *review.InvalidError
	switch {
	case errors.As(err, &ie):
		s.reviewFormFailed(w, r, id, http.StatusBadRequest, func(loc Locale, v *reviewView) {
			errs := map[string]string{}
			for _, fe := range ie.Fields {
				var i int
				if _, err := fmt.Sscanf(fe.Field, "targets[%d]", &i); err == nil && i >= 0 && i < len(in.Targets) {
					errs[in.Targets[i].Metric] = loc.T(fe.Key, fe.Args...)
				}
			}
			v.Fields = targetFields(loc, v.R, values, errs)
			v.TargetError = loc.T("review.error.targets_form")
		})
		return
	case errors.Is(err, review.ErrNotYours):
		writeJSONError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, review.ErrStale):
		s.reviewFormFailed(w, r, id, http.StatusConflict, func(loc Locale, v *reviewView) {
			v.Fields = targetFields(loc, v.R, values, nil)
			v.TargetError = loc.T("review.error.stale")
		})
		return
	case errors.Is(err, store.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "campaigns.error.not_found")
		return
	case err != nil:
		s.pageInternal(w, r, "campaign targets", err)
		return
	}
	s.log.Info("campaign targets set", "campaign_id", id, "targets", len(in.Targets), "by", s.actor(r))
	reviewRedirect(w, r, id, "targets", "targets")
}

func (s *Server) reviewActionSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.campaignPost(w, r, 16<<10)
	if !ok {
		return
	}
	u, _ := userFrom(r.Context())
	pf := r.PostForm
	in := review.ActionInput{Action: pf.Get("action"), Due: pf.Get("due"), Success: pf.Get("success"), Finding: pf.Get("finding")}
	if o := strings.TrimSpace(pf.Get("owner")); o != "" {
		in.Owner = []byte(strconv.Quote(o))
	}
	a, err := s.reviewService().CreateAction(r.Context(), id, in, review.Caller{UserID: u.ID, Name: u.Email})
	var ie *review.InvalidError
	switch {
	case errors.As(err, &ie):
		s.reviewFormFailed(w, r, id, http.StatusBadRequest, func(loc Locale, v *reviewView) {
			var msgs []string
			for _, fe := range ie.Fields {
				msgs = append(msgs, loc.T("review.field."+fe.Field)+": "+loc.T(fe.Key, fe.Args...))
			}
			v.ActionError = strings.Join(msgs, loc.T("review.list_sep"))
			v.ActionForm = map[string]string{"action": pf.Get("action"), "owner": pf.Get("owner"), "due": pf.Get("due"),
				"success": pf.Get("success"), "finding": pf.Get("finding")}
		})
		return
	case errors.Is(err, store.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "campaigns.error.not_found")
		return
	case err != nil:
		s.pageInternal(w, r, "campaign action", err)
		return
	}
	s.log.Info("campaign action recorded", "campaign_id", id, "action_id", a.ID, "owner_id", a.OwnerID, "by", s.actor(r))
	reviewRedirect(w, r, id, "action", "actions")
}

func (s *Server) reviewActionStatusSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.campaignPost(w, r, 4<<10)
	if !ok {
		return
	}
	aid, err := strconv.ParseInt(r.PostForm.Get("aid"), 10, 64)
	if err != nil || aid <= 0 {
		s.renderError(w, r, http.StatusBadRequest, "review.error.no_action")
		return
	}
	u, _ := userFrom(r.Context())
	_, err = s.reviewService().SetActionStatus(r.Context(), id, aid, r.PostForm.Get("status"), review.Caller{UserID: u.ID, Name: u.Email, Role: u.Role})
	var ie *review.InvalidError
	switch {
	case errors.As(err, &ie):
		s.renderError(w, r, http.StatusBadRequest, "review.error.status")
		return
	case errors.Is(err, review.ErrNotYours):
		s.renderError(w, r, http.StatusForbidden, "review.error.not_yours")
		return
	case errors.Is(err, store.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	case err != nil:
		s.pageInternal(w, r, "campaign action status", err)
		return
	}
	s.log.Info("campaign action status", "campaign_id", id, "action_id", aid, "status", r.PostForm.Get("status"), "by", s.actor(r))
	if r.PostForm.Get("back") == "tasks" {
		http.Redirect(w, r, "/tasks?done=status", http.StatusSeeOther)
		return
	}
	reviewRedirect(w, r, id, "status", "actions")
}

// ---- the API ----

// metricJSON is a review metric in the API, with its label in English.
type metricJSON struct {
	report.ReviewMetricRow
	Label string `json:"label"`
}

func (s *Server) apiReview(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
		return
	}
	format, err := apiFormat(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	loc := s.catalog.locale(LangEN)
	if format != formatJSON {
		// The spreadsheet is for people: in the caller's language.
		loc = s.catalog.locale(langOnly(r))
	}
	v, err := s.reviewData(r, loc, id)
	if s.apiFailed(w, r, err, fmt.Sprintf("no campaign %d", id)) {
		return
	}
	if format != formatJSON {
		// CSV: the targets against the actuals (or ?table=); XLSX: every
		// table of the review, a sheet each, the targets first and the
		// action items second.
		s.apiTables(w, r, format, "review-"+v.Campaign.Code, v.Filter, v.Tables...)
		return
	}
	rv := v.R
	metrics := make([]metricJSON, len(rv.Metrics))
	for i, m := range rv.Metrics {
		metrics[i] = metricJSON{ReviewMetricRow: m, Label: loc.T("review.metric." + m.Metric)}
	}
	actions := make([]actionJSON, 0, len(rv.Actions))
	for _, a := range rv.Actions {
		actions = append(actions, newActionJSON(a, v.Now))
	}
	previous := make([]actionJSON, 0, len(rv.PreviousActions))
	for _, a := range rv.PreviousActions {
		previous = append(previous, newActionJSON(a, v.Now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign": rv.Campaign, "programme": rv.Programme, "scope": rv.Scope, "model": rv.Model,
		"from": rv.From, "to": rv.To, "currency": rv.Currency, "version": rv.Version, "metrics": metrics, "compared_with": rv.ComparedWith,
		"sla_first_follow_up": rv.SLA, "follow_up": rv.FollowUp, "process": rv.Process, "results": rv.Results, "actions": actions,
		"previous_campaign": rv.Previous, "previous_actions": previous, "previous_done": v.PreviousDone})
}

// targetJSON is a target in the API, in the metric's unit.
type targetJSON struct {
	Metric    string                `json:"metric"`
	Value     report.MetricValue    `json:"value"`
	Unit      model.MetricUnit      `json:"unit"`
	Direction model.MetricDirection `json:"direction"`
}

func targetsJSON(ts []model.CampaignTarget) []targetJSON {
	out := []targetJSON{}
	for _, t := range ts {
		m, _ := model.ReviewMetricByKey(t.Metric)
		out = append(out, targetJSON{Metric: t.Metric, Value: report.MetricValue{Unit: m.Unit, Hundredths: float64(t.Value)}, Unit: m.Unit, Direction: m.Direction})
	}
	return out
}

func (s *Server) apiTargets(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
		return
	}
	ts, version, err := s.store.CampaignTargets(r.Context(), id)
	if s.apiFailed(w, r, err, fmt.Sprintf("no campaign %d", id)) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign_id": id, "version": version, "currency": "CNY", "targets": targetsJSON(ts)})
}

// reviewAPIError answers what the review rules refused: 400 naming every
// field, 409 for a stale version, 404 for an unknown campaign or action.
func (s *Server) reviewAPIError(w http.ResponseWriter, r *http.Request, err error, missing string) bool {
	var ie *review.InvalidError
	switch {
	case err == nil:
		return false
	case errors.As(err, &ie):
		fields := map[string]string{}
		for _, f := range ie.Fields {
			fields[f.Field] = f.Msg
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": ie.Error(), "fields": fields})
	case errors.Is(err, review.ErrNotYours):
		writeJSONError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, review.ErrStale):
		writeJSONError(w, http.StatusConflict, "version: the campaign was changed since you read it; read its targets again (GET) and send their version")
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, missing)
	default:
		s.apiInternal(w, r, err)
	}
	return true
}

func (s *Server) apiPutTargets(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
		return
	}
	var in review.TargetsInput
	if !decodeBody(w, r, &in, `{"targets": [{"metric": "leads", "value": 500}, ...]} (money in yuan; optional "version")`) {
		return
	}
	if in.Targets == nil {
		writeJSONError(w, http.StatusBadRequest, `targets: required (a list; [] clears every target)`)
		return
	}
	ts, version, err := s.reviewService().SetTargets(r.Context(), id, in)
	if s.reviewAPIError(w, r, err, fmt.Sprintf("no campaign %d", id)) {
		return
	}
	s.log.Info("campaign targets set", "campaign_id", id, "targets", len(ts), "by", s.actor(r))
	writeJSON(w, http.StatusOK, map[string]any{"campaign_id": id, "version": version, "currency": "CNY", "targets": targetsJSON(ts)})
}

// actionJSON is an action item in the API.
type actionJSON struct {
	ID         int64              `json:"id"`
	CampaignID int64              `json:"campaign_id"`
	TaskID     int64              `json:"task_id"`
	Action     string             `json:"action"`
	Owner      actionOwnerJSON    `json:"owner"`
	Due        string             `json:"due"`
	DueAt      time.Time          `json:"due_at"`
	Success    string             `json:"success"`
	Finding    string             `json:"finding"`
	Status     model.ActionStatus `json:"status"`
	State      string             `json:"state"` // open, overdue, done_on_time, done_late, dropped
	Overdue    bool               `json:"overdue"`
	CreatedBy  string             `json:"created_by"`
	CreatedAt  time.Time          `json:"created_at"`
	ClosedAt   *time.Time         `json:"closed_at"`
}

type actionOwnerJSON struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

func newActionJSON(a model.CampaignAction, now time.Time) actionJSON {
	return actionJSON{ID: a.ID, CampaignID: a.CampaignID, TaskID: a.TaskID, Action: a.Action,
		Owner: actionOwnerJSON{ID: a.OwnerID, Email: a.OwnerEmail, Name: a.OwnerName}, Due: a.Due.Format(dateLayout), DueAt: a.DueAt,
		Success: a.Success, Finding: a.Finding, Status: a.Status, State: actionState(a, now), Overdue: a.Overdue(now),
		CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt, ClosedAt: a.ClosedAt}
}

func (s *Server) apiActions(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
		return
	}
	if _, err := s.store.CampaignByID(r.Context(), id); s.apiFailed(w, r, err, fmt.Sprintf("no campaign %d", id)) {
		return
	}
	acts, err := s.store.CampaignActions(r.Context(), []int64{id})
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	now := s.app.Now()
	out := make([]actionJSON, 0, len(acts))
	for _, a := range acts {
		out = append(out, newActionJSON(a, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign_id": id, "actions": out})
}

func (s *Server) apiCreateAction(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
		return
	}
	var in review.ActionInput
	if !decodeBody(w, r, &in, `{"action", "owner" (email or id; you when absent), "due" (YYYY-MM-DD), "success", "finding"}`) {
		return
	}
	uid, err := s.requestUserID(r)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	a, err := s.reviewService().CreateAction(r.Context(), id, in, review.Caller{UserID: uid, Name: s.actor(r)})
	if s.reviewAPIError(w, r, err, fmt.Sprintf("no campaign %d", id)) {
		return
	}
	s.log.Info("campaign action recorded", "campaign_id", id, "action_id", a.ID, "owner_id", a.OwnerID, "by", s.actor(r))
	writeJSON(w, http.StatusCreated, map[string]any{"action": newActionJSON(a, s.app.Now())})
}

// requestCaller is who asks, for the review's records and rules: the API
// key's user and role (named after the key), else the signed-in user.
func (s *Server) requestCaller(r *http.Request) (review.Caller, error) {
	if key, ok := bearer(r.Header.Get("Authorization")); ok && key != "" {
		k, err := s.auth.CheckAPIKey(r.Context(), key)
		if err != nil {
			return review.Caller{}, err
		}
		return review.Caller{UserID: k.UserID, Name: s.actor(r), Role: k.Role}, nil
	}
	u, ok := userFrom(r.Context())
	if !ok {
		var err error
		if u, err = s.sessionUser(r); err != nil {
			return review.Caller{}, err
		}
	}
	return review.Caller{UserID: u.ID, Name: u.Email, Role: u.Role}, nil
}

func (s *Server) apiPatchAction(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
		return
	}
	aid, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil || aid <= 0 {
		writeJSONError(w, http.StatusBadRequest, "aid: want an action item id")
		return
	}
	var in struct {
		Status *string `json:"status"`
	}
	if !decodeBody(w, r, &in, `{"status": "open" | "done" | "dropped"}`) {
		return
	}
	if in.Status == nil {
		writeJSONError(w, http.StatusBadRequest, "status: required: open, done or dropped")
		return
	}
	by, err := s.requestCaller(r)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	a, err := s.reviewService().SetActionStatus(r.Context(), id, aid, *in.Status, by)
	if s.reviewAPIError(w, r, err, fmt.Sprintf("no action item %d of campaign %d", aid, id)) {
		return
	}
	s.log.Info("campaign action status", "campaign_id", id, "action_id", aid, "status", a.Status, "by", s.actor(r))
	writeJSON(w, http.StatusOK, map[string]any{"action": newActionJSON(a, s.app.Now())})
}
