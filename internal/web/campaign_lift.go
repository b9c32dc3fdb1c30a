package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
)

// A campaign's cohort lift (docs/lift.md): the page /campaigns/{id}/lift
// and its JSON twin /api/v1/campaigns/{id}/lift. The figures come from
// report.Lift; this file reads the question and lays the answer out.

func (s *Server) campaignLiftRoutes(m *http.ServeMux) error {
	m.Handle("GET /campaigns/{id}/lift", s.page("campaigns", s.campaignLiftPage))
	m.Handle("GET /api/v1/campaigns/{id}/lift", s.pageAPI("campaigns", s.apiCampaignLift))
	return nil
}

// liftQuery reads the event window (from, to: team days; both or
// neither, neither meaning the campaign's dates) and the follow window
// (window: days) of a lift request; a bad one is a *filterError.
func (s *Server) liftQuery(r *http.Request, c model.Campaign) (report.LiftQuery, viewFilter, error) {
	q := report.LiftQuery{FollowDays: report.DefaultLiftFollowDays, Now: s.app.Now()}
	f, err := s.filterOf(r, nil, "")
	q.Period.Cal = f.Period.Cal
	if err != nil {
		return q, f, err
	}
	if !f.Default {
		if f.Period.From.IsZero() || f.Period.To.IsZero() {
			return q, f, &filterError{Param: "from,to", Key: "lift.error.one_side", Msg: "from and to: give both (the event's first and last team day, YYYY-MM-DD) or neither (the campaign's dates)"}
		}
		q.Period.From, q.Period.To = f.Period.From, f.Period.To
	}
	if v := strings.TrimSpace(r.URL.Query().Get("window")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < report.MinLiftFollowDays || n > report.MaxLiftFollowDays {
			return q, f, &filterError{Param: "window", Key: "lift.error.bad_window",
				Msg: fmt.Sprintf("window: %q is not a number of days from %d to %d (the days after the event in which outcomes count)", clip(v, 40), report.MinLiftFollowDays, report.MaxLiftFollowDays)}
		}
		q.FollowDays = n
	}
	from, to, err := report.LiftWindow(c, q)
	if err != nil {
		return q, f, &filterError{Param: "from,to", Key: "lift.error.no_dates", Msg: fmt.Sprintf("campaign %d has no start date: give from and to (the event's first and last team day, YYYY-MM-DD)", c.ID)}
	}
	if days := int(to.Sub(from)/(24*time.Hour)) + 1; days > report.MaxLiftWindowDays {
		return q, f, &filterError{Param: "from,to", Key: "lift.error.too_long",
			Msg: fmt.Sprintf("from %s to %s is %d days: an event window is at most %d days", from.Format(dateLayout), to.Format(dateLayout), days, report.MaxLiftWindowDays)}
	}
	f.From, f.To = from.Format(dateLayout), to.Format(dateLayout)
	return q, f, nil
}

// liftCampaignJSON names the campaign in the API's answer.
type liftCampaignJSON struct {
	ID      int64         `json:"id"`
	Code    string        `json:"code"`
	Name    string        `json:"name"`
	NameEN  string        `json:"name_en"`
	Channel model.Channel `json:"channel"`
	Kind    string        `json:"kind"`
}

func (s *Server) apiCampaignLift(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "id: want a campaign id")
		return
	}
	c, err := s.store.CampaignByID(r.Context(), id)
	if s.apiFailed(w, r, err, fmt.Sprintf("no campaign %d", id)) {
		return
	}
	q, _, err := s.liftQuery(r, c)
	if s.apiFailed(w, r, err, "") {
		return
	}
	l, err := s.reports.Lift(r.Context(), id, q)
	if s.apiFailed(w, r, err, fmt.Sprintf("no campaign %d", id)) {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Campaign liftCampaignJSON `json:"campaign"`
		*report.Lift
	}{liftCampaignJSON{ID: c.ID, Code: c.Code, Name: c.Name, NameEN: c.NameEN, Channel: c.Channel, Kind: c.Kind}, l})
}

// liftView is the lift page.
type liftView struct {
	Campaign   model.Campaign
	Name       string
	From, To   string // the form's values
	Window     int
	Min, Max   int // the window's bounds
	Error      string
	Data       *report.Lift
	KPIs       []kpi
	Statements []liftStatement
	Outcomes   *dataTable
	Strata     *dataTable
	StrataNote string
}

func (liftView) NavKey() string { return "campaigns" }

// liftStatement is one outcome's verdict in a sentence.
type liftStatement struct {
	Outcome, Verdict, Text string
}

func (s *Server) campaignLiftPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	loc := s.catalog.locale(langOnly(r))
	v := liftView{Window: report.DefaultLiftFollowDays, Min: report.MinLiftFollowDays, Max: report.MaxLiftFollowDays}
	err := s.liftData(r, loc, id, &v)
	if s.pageFailed(w, r, err, "campaigns.error.not_found", "campaign lift page", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "campaign_lift", "lift.title", v)
	}) {
		return
	}
	v.Outcomes.prepare(r, "", false)
	v.Strata.prepare(r, "", false)
	if s.exportTable(w, r, "lift-"+v.Campaign.Code, viewFilter{From: v.From, To: v.To}, v.Outcomes, v.Strata) {
		return
	}
	s.render(w, r, http.StatusOK, "campaign_lift", "lift.title", v)
}

// liftData fills the page's view; the form's fields are set whatever
// goes wrong after the campaign is found.
func (s *Server) liftData(r *http.Request, loc Locale, id int64, v *liftView) error {
	c, err := s.store.CampaignByID(r.Context(), id)
	if err != nil {
		return err
	}
	v.Campaign, v.Name = c, campaignName(loc, c.Name, c.NameEN)
	qv := r.URL.Query()
	v.From, v.To = qv.Get("from"), qv.Get("to")
	if n, err := strconv.Atoi(qv.Get("window")); err == nil {
		v.Window = n
	}
	q, f, err := s.liftQuery(r, c)
	if err != nil {
		return err
	}
	v.From, v.To, v.Window = f.From, f.To, q.FollowDays
	l, err := s.reports.Lift(r.Context(), id, q)
	if err != nil {
		return err
	}
	v.Data = l
	cal := q.Period.Cal
	share := l.Matching.CohortMatchedShare
	v.KPIs = []kpi{
		{ID: "cohort", Label: loc.T("lift.kpi.cohort"), Tip: loc.T("lift.tip.cohort"), Value: formatInt(l.Cohort.Persons), Raw: strconv.FormatInt(l.Cohort.Persons, 10),
			Sub: loc.T("lift.kpi.matched_of", "n", formatInt(l.Cohort.Matched), "share", formatPercent(share))},
		{ID: "baseline", Label: loc.T("lift.kpi.baseline"), Tip: loc.T("lift.tip.baseline"), Value: formatInt(l.Baseline.Matched), Raw: strconv.FormatInt(l.Baseline.Matched, 10),
			Sub: loc.T("lift.kpi.active_of", "n", formatInt(l.Baseline.Persons))},
		{ID: "strata", Label: loc.T("lift.kpi.strata"), Tip: loc.T("lift.tip.strata"), Value: formatInt(int64(l.Matching.Strata)), Raw: strconv.Itoa(l.Matching.Strata)},
		{ID: "follow", Label: loc.T("lift.kpi.follow"), Tip: loc.T("lift.tip.follow"), Value: l.FollowTo, Raw: l.FollowTo,
			Sub: loc.T("lift.kpi.follow_days", "n", strconv.Itoa(l.FollowDays))},
	}
	if !l.Complete {
		v.KPIs[3].Sub += " · " + loc.T("lift.kpi.partial")
	}
	for _, o := range l.Outcomes {
		v.Statements = append(v.Statements, liftStatement{Outcome: o.Outcome, Verdict: o.Verdict, Text: liftSentence(loc, o)})
	}
	v.Outcomes = liftOutcomeTable(loc, l, cal)
	v.Strata = liftStrataTable(loc, l, cal)
	if l.StrataTotal > len(l.Strata) {
		v.StrataNote = loc.T("lift.strata_cut", "n", formatInt(int64(len(l.Strata))), "total", formatInt(int64(l.StrataTotal)))
	}
	return nil
}

// liftValue prints an outcome's value: a rate as a percentage, money as
// yuan.
func liftValue(o report.LiftOutcome, x *float64) string {
	if x == nil {
		return "—"
	}
	if o.Unit == "cny" {
		return formatMoney(yuanMoney(*x))
	}
	return formatPercent(x)
}

// liftDelta prints a lift: rate points ("+12.3 pp") or yuan, signed.
func liftDelta(loc Locale, o report.LiftOutcome, x float64) string {
	sign := "+"
	if x < 0 {
		sign = "−"
	}
	if o.Unit == "cny" {
		return sign + formatMoney(yuanMoney(math.Abs(x)))
	}
	return sign + loc.T("lift.points", "n", formatDecimal(math.Abs(x)*100, 1))
}

func yuanMoney(y float64) model.Money { return model.Money(math.Round(y * 100)) }

// liftSentence says an outcome's verdict plainly.
func liftSentence(loc Locale, o report.LiftOutcome) string {
	name := loc.T("lift.outcome." + o.Outcome)
	if o.Verdict == report.VerdictTooSmall || o.AbsoluteLift == nil || o.AbsoluteCI == nil {
		return loc.T("lift.say.too_small", "outcome", name, "group", strconv.Itoa(report.MinLiftGroup), "outcomes", strconv.Itoa(report.MinLiftOutcomes))
	}
	return loc.T("lift.say."+o.Verdict, "outcome", name, "cohort", liftValue(o, o.Cohort.Value), "baseline", liftValue(o, o.Baseline.Value),
		"lift", liftDelta(loc, o, *o.AbsoluteLift), "lo", liftDelta(loc, o, o.AbsoluteCI.Lo), "hi", liftDelta(loc, o, o.AbsoluteCI.Hi))
}

// liftOutcomeTable is the per-outcome table. Rates and yuan share its
// value columns: each cell holds the plain number (what sorts and what
// CSV writes: a rate as a fraction, money in yuan) and shows it
// formatted; the unit column says which.
func liftOutcomeTable(loc Locale, l *report.Lift, cal model.Calendar) *dataTable {
	col := func(key string, kind cellKind) column {
		c := column{Key: key, Label: loc.T("lift.col." + key), Kind: kind}
		if tip := "lift.tip." + key; loc.T(tip) != tip {
			c.Tip = loc.T(tip)
		}
		return c
	}
	t := &dataTable{ID: "outcomes", Loc: cal.Loc, Empty: loc.T("lift.empty"), Columns: []column{
		col("outcome", kindText), col("unit", kindText), col("cohort_persons", kindInt), col("cohort_reached", kindInt), col("cohort_value", kindNumber),
		col("baseline_persons", kindInt), col("baseline_reached", kindInt), col("baseline_value", kindNumber),
		col("absolute_lift", kindNumber), col("ci_lo", kindNumber), col("ci_hi", kindNumber),
		col("relative_lift", kindPercent), col("relative_lo", kindPercent), col("relative_hi", kindPercent), col("verdict", kindText),
	}}
	num := func(o report.LiftOutcome, x *float64) cell {
		if x == nil {
			return cell{}
		}
		return cell{V: *x, Text: liftValue(o, x)}
	}
	delta := func(o report.LiftOutcome, x *float64) cell {
		if x == nil {
			return cell{}
		}
		return cell{V: *x, Text: liftDelta(loc, o, *x)}
	}
	for _, o := range l.Outcomes {
		var lo, hi, rlo, rhi *float64
		if o.AbsoluteCI != nil {
			lo, hi = &o.AbsoluteCI.Lo, &o.AbsoluteCI.Hi
		}
		if o.RelativeCI != nil {
			rlo, rhi = &o.RelativeCI.Lo, &o.RelativeCI.Hi
		}
		t.Rows = append(t.Rows, []cell{{V: o.Outcome, Text: loc.T("lift.outcome." + o.Outcome)}, {V: o.Unit, Text: loc.T("lift.unit." + o.Unit)},
			{V: o.Cohort.Persons}, {V: o.Cohort.Reached}, num(o, o.Cohort.Value),
			{V: o.Baseline.Persons}, {V: o.Baseline.Reached}, num(o, o.Baseline.Value),
			delta(o, o.AbsoluteLift), delta(o, lo), delta(o, hi),
			{V: o.RelativeLift}, {V: rlo}, {V: rhi}, {V: o.Verdict, Text: loc.T("lift.verdict." + o.Verdict)}})
	}
	return t
}

// liftStrataTable is the per-stratum table: the strata with cohort
// persons, the largest first.
func liftStrataTable(loc Locale, l *report.Lift, cal model.Calendar) *dataTable {
	col := func(key string, kind cellKind) column {
		c := column{Key: key, Label: loc.T("lift.col." + key), Kind: kind}
		if tip := "lift.tip." + key; loc.T(tip) != tip {
			c.Tip = loc.T(tip)
		}
		return c
	}
	t := &dataTable{ID: "strata", Loc: cal.Loc, Empty: loc.T("lift.strata_empty"), Columns: []column{
		col("industry", kindText), col("size_band", kindText), col("region", kindText), col("prior_channel", kindText), col("lead_before", kindText),
		col("cohort_persons", kindInt), col("baseline_persons", kindInt), col("weight_share", kindPercent),
		col("cohort_mql_rate", kindPercent), col("baseline_mql_rate", kindPercent),
		col("cohort_opportunity_rate", kindPercent), col("baseline_opportunity_rate", kindPercent),
		col("cohort_pipeline", kindMoney), col("baseline_pipeline", kindMoney),
	}}
	money := func(x *float64) any {
		if x == nil {
			return nil
		}
		return yuanMoney(*x)
	}
	for _, st := range l.Strata {
		ch := cell{V: "", Text: loc.T("lift.no_prior")}
		if st.PriorChannel != "" {
			ch = cell{V: string(st.PriorChannel), Text: loc.Channel(st.PriorChannel)}
		}
		lead := cell{V: "no", Text: loc.T("lift.lead_before.no")}
		if st.LeadBefore {
			lead = cell{V: "yes", Text: loc.T("lift.lead_before.yes")}
		}
		blank := func(v string) cell {
			if v == "" {
				return cell{V: "", Text: loc.T("lift.unknown")}
			}
			return cell{V: v}
		}
		t.Rows = append(t.Rows, []cell{blank(st.Industry), blank(st.SizeBand), blank(st.Region), ch, lead,
			{V: st.Cohort}, {V: st.Baseline}, {V: &st.WeightShare},
			{V: st.CohortMQLRate}, {V: st.BaselineMQLRate}, {V: st.CohortOppRate}, {V: st.BaselineOppRate},
			{V: money(st.CohortPipeline)}, {V: money(st.BaselinePipeline)}})
	}
	return t
}
