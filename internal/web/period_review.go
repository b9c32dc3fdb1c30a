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
	"unicode"
	"unicode/utf8"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/review"
)

// The period review (docs/reviews.md, "Period reviews"): the campaigns of
// a quarter or any range, all or one channel's or one kind's, against the
// period's own targets — the page /reviews/period, its JSON twin GET
// /api/v1/reviews/period (format=csv|xlsx), and the period's targets: GET
// and PUT /api/v1/reviews/period/targets, the form on the page.

func (s *Server) periodReviewRoutes(m *http.ServeMux) error {
	m.Handle("GET /reviews/period", s.page("period_review", s.periodReviewPage))
	m.Handle("POST /reviews/period/targets", s.page("period_review", s.editorsOnly(s.periodTargetsSubmit)))
	m.Handle("GET /api/v1/reviews/period", s.pageAPI("period_review", s.apiPeriodReview))
	m.Handle("GET /api/v1/reviews/period/targets", s.pageAPI("period_review", s.apiPeriodTargets))
	m.Handle("PUT /api/v1/reviews/period/targets", s.requireRole(model.RoleMarketer, s.apiPutPeriodTargets))
	return nil
}

// maxKind bounds the kind a period is narrowed to.
const maxKind = 64

type periodView struct {
	Filter   viewFilter
	Models   []string
	Channel  string
	Kind     string
	Channels []model.Channel
	R        *report.PeriodReview
	Tables   []*dataTable
	Fields   []targetField
	CanEdit  bool
	Error    string
	Notice   string
	// TargetError says the targets form was refused.
	TargetError string
}

func (periodView) NavKey() string { return "period_review" }

// quarterOf is the quarter of a team day: its first and last days.
func quarterOf(d time.Time) (time.Time, time.Time) {
	first := time.Date(d.Year(), time.Month((int(d.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	return first, first.AddDate(0, 3, -1)
}

// periodQuery reads the period (from, to: team days; neither: the
// current quarter), the model, and the narrowing (channel, kind); a bad
// one is a *filterError.
func (s *Server) periodQuery(r *http.Request, v *periodView) (report.PeriodQuery, error) {
	v.Models = creditModels()
	f, err := s.filterOf(r, v.Models, string(report.DefaultModel))
	if err == nil && f.Default {
		f.Period.From, f.Period.To = quarterOf(f.Today)
		f.From, f.To, f.Default = f.Period.From.Format(dateLayout), f.Period.To.Format(dateLayout), false
	}
	v.Filter = f
	q := report.PeriodQuery{Period: f.Period, Model: f.Model, Now: s.app.Now()}
	if err != nil {
		return q, err
	}
	if f.Period.From.IsZero() || f.Period.To.IsZero() {
		return q, &filterError{Param: "from,to", Key: "period.error.one_side", Msg: "from and to: give both (the period's first and last team day, YYYY-MM-DD) or neither (the current quarter)"}
	}
	if days := int(f.Period.To.Sub(f.Period.From)/(24*time.Hour)) + 1; days > report.MaxPeriodDays {
		return q, &filterError{Param: "from,to", Key: "period.error.too_long",
			Msg: fmt.Sprintf("from %s to %s is %d days: a period is at most %d days", f.From, f.To, days, report.MaxPeriodDays)}
	}
	qv := r.URL.Query()
	if ch := strings.TrimSpace(qv.Get("channel")); ch != "" {
		if !slices.Contains(model.Channels, model.Channel(ch)) {
			return q, &filterError{Param: "channel", Key: "period.error.channel", Msg: fmt.Sprintf("channel %q: not a channel (see docs/metrics.md, \"Channels\")", clip(ch, 40))}
		}
		q.Channel, v.Channel = model.Channel(ch), ch
	}
	if k := strings.TrimSpace(qv.Get("kind")); k != "" {
		if utf8.RuneCountInString(k) > maxKind || strings.ContainsFunc(k, unicode.IsControl) {
			return q, &filterError{Param: "kind", Key: "period.error.kind", Msg: fmt.Sprintf("kind: at most %d characters, no control characters", maxKind)}
		}
		q.Kind, v.Kind = k, k
	}
	return q, nil
}

// periodData fills the view.
func (s *Server) periodData(r *http.Request, loc Locale, v *periodView) error {
	v.Channels = model.Channels
	q, err := s.periodQuery(r, v)
	if err != nil {
		return err
	}
	if v.R, err = s.reports.PeriodReview(r.Context(), q); err != nil {
		return err
	}
	v.Tables = periodTables(loc, v.R, v.Filter.Period.Cal)
	return nil
}

// periodTables are the period's target table and its campaigns.
func periodTables(loc Locale, pr *report.PeriodReview, cal model.Calendar) []*dataTable {
	rv := &report.Review{Metrics: pr.Metrics}
	targets := reviewTables(loc, rv, cal, time.Time{})[0]
	campaigns := &dataTable{ID: "campaigns", Title: loc.T("period.table.campaigns"), Loc: cal.Loc, Empty: loc.T("period.empty.campaigns"), Columns: []column{
		{Key: "campaign", Label: loc.T("period.col.campaign"), Kind: kindText},
		{Key: "channel", Label: loc.T("period.col.channel"), Kind: kindText},
		{Key: "kind", Label: loc.T("period.col.kind"), Kind: kindText},
		{Key: "start", Label: loc.T("period.col.start"), Kind: kindText},
		{Key: "end", Label: loc.T("period.col.end"), Kind: kindText},
		{Key: "leads", Label: loc.T("review.metric.leads"), Kind: kindInt},
		{Key: "mqls", Label: loc.T("review.metric.mqls"), Kind: kindInt},
		{Key: "opportunities", Label: loc.T("review.metric.opportunities"), Kind: kindInt},
		{Key: "cost", Label: loc.T("review.metric.cost"), Kind: kindMoney},
		{Key: "won_revenue", Label: loc.T("review.metric.won_revenue"), Kind: kindMoney},
	}}
	str := func(p *string) cell {
		if p == nil {
			return cell{}
		}
		return cell{V: *p}
	}
	for _, c := range pr.Campaigns {
		campaigns.Rows = append(campaigns.Rows, []cell{{V: campaignName(loc, c.Name, c.NameEN), Href: fmt.Sprintf("/campaigns/%d/review", c.ID)},
			channelCell(loc, string(c.Channel)), {V: c.Kind, Text: campaignKindText(loc, c.Kind)}, str(c.StartDate), str(c.EndDate),
			{V: c.Leads}, {V: c.MQLs}, {V: c.Opportunities}, {V: c.Cost}, {V: c.CreditedRevenue}})
	}
	return []*dataTable{targets, campaigns}
}

// periodFields are the targets form's fields, from the review or as sent.
func periodFields(loc Locale, pr *report.PeriodReview, values, errs map[string]string) []targetField {
	var out []targetField
	for _, m := range model.ReviewMetrics {
		f := targetField{Metric: m.Key, Label: loc.T("review.metric." + m.Key), Unit: loc.T("review.unit." + string(m.Unit))}
		if values != nil {
			f.Value, f.Error = values[m.Key], errs[m.Key]
		} else if pr != nil {
			for _, row := range pr.Metrics {
				if row.Metric == m.Key && row.Target != nil {
					f.Value = report.HundredthsText(int64(math.Round(row.Target.Hundredths)))
				}
			}
		}
		out = append(out, f)
	}
	return out
}

func (s *Server) periodReviewPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	v := &periodView{}
	err := s.periodData(r, loc, v)
	if s.pageFailed(w, r, err, "error.not_found", "period review", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "period_review", "period.title", v)
	}) {
		return
	}
	s.finishPeriodView(r, loc, v)
	if s.exportTable(w, r, "period-review", v.Filter, v.Tables...) {
		return
	}
	s.render(w, r, http.StatusOK, "period_review", "period.title", v)
}

func (s *Server) finishPeriodView(r *http.Request, loc Locale, v *periodView) {
	u, _ := userFrom(r.Context())
	v.CanEdit = canEditCampaigns(u.Role)
	if v.Fields == nil {
		v.Fields = periodFields(loc, v.R, nil, nil)
	}
	if r.URL.Query().Get("done") == "targets" {
		v.Notice = loc.T("review.done.targets")
	}
	for _, t := range v.Tables {
		t.prepare(r, "", false)
	}
}

// periodURL is the page's URL for a period and narrowing.
func periodURL(from, to, channel, kind, mdl, done string) string {
	v := url.Values{"from": {from}, "to": {to}}
	for k, x := range map[string]string{"channel": channel, "kind": kind, "model": mdl, "done": done} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return "/reviews/period?" + v.Encode()
}

// periodTargetsInput reads targets from the form's target_<metric> fields.
func periodTargetsInput(form url.Values) (review.TargetsInput, map[string]string) {
	in := review.TargetsInput{Targets: []review.TargetInput{}}
	values := map[string]string{}
	for _, m := range model.ReviewMetrics {
		raw := strings.TrimSpace(form.Get("target_" + m.Key))
		values[m.Key] = raw
		raw = strings.NewReplacer("¥", "", "￥", "", ",", "", "，", "", " ", "").Replace(raw)
		if raw == "" {
			continue
		}
		in.Targets = append(in.Targets, review.TargetInput{Metric: m.Key, Value: []byte(strconv.Quote(raw))})
	}
	return in, values
}

func (s *Server) periodTargetsSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "campaigns.error.bad_form")
		return
	}
	// The period and narrowing come with the form, as the page's URL has them.
	r.URL.RawQuery = url.Values{"from": {r.PostForm.Get("from")}, "to": {r.PostForm.Get("to")}, "channel": {r.PostForm.Get("channel")},
		"kind": {r.PostForm.Get("kind")}, "model": {r.PostForm.Get("model")}}.Encode()
	loc := s.catalog.locale(langOnly(r))
	v := &periodView{}
	q, err := s.periodQuery(r, v)
	if s.pageFailed(w, r, err, "error.not_found", "period targets", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "period_review", "period.title", v)
	}) {
		return
	}
	in, values := periodTargetsInput(r.PostForm)
	ts, err := review.ParseTargets(in.Targets)
	var ie *review.InvalidError
	if errors.As(err, &ie) {
		errs := map[string]string{}
		for _, fe := range ie.Fields {
			var i int
			if _, err := fmt.Sscanf(fe.Field, "targets[%d]", &i); err == nil && i >= 0 && i < len(in.Targets) {
				errs[in.Targets[i].Metric] = loc.T(fe.Key, fe.Args...)
			}
		}
		if err := s.periodData(r, loc, v); err != nil {
			s.pageInternal(w, r, "period targets", err)
			return
		}
		v.Fields = periodFields(loc, v.R, values, errs)
		v.TargetError = loc.T("review.error.targets_form")
		s.finishPeriodView(r, loc, v)
		s.render(w, r, http.StatusBadRequest, "period_review", "period.title", v)
		return
	}
	if err != nil {
		s.pageInternal(w, r, "period targets", err)
		return
	}
	if _, err := s.store.SetPeriodTargets(r.Context(), q.Key(), ts, s.app.Now()); err != nil {
		s.pageInternal(w, r, "period targets", err)
		return
	}
	s.log.Info("period targets set", "from", v.Filter.From, "to", v.Filter.To, "channel", q.Channel, "kind", q.Kind, "targets", len(ts), "by", s.actor(r))
	http.Redirect(w, r, periodURL(v.Filter.From, v.Filter.To, string(q.Channel), q.Kind, q.Model, "targets")+"#targets", http.StatusSeeOther)
}

// apiPeriodFilter answers a bad period question with 400 naming it.
func (s *Server) apiPeriodFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	var fe *filterError
	switch {
	case err == nil:
		return false
	case errors.As(err, &fe):
		writeJSONError(w, http.StatusBadRequest, fe.Msg)
	default:
		s.apiInternal(w, r, err)
	}
	return true
}

func (s *Server) apiPeriodReview(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiPeriodFailed(w, r, err) {
		return
	}
	loc := s.catalog.locale(LangEN)
	if format != formatJSON {
		loc = s.catalog.locale(langOnly(r))
	}
	v := &periodView{}
	if s.apiPeriodFailed(w, r, s.periodData(r, loc, v)) {
		return
	}
	if format != formatJSON {
		for _, t := range v.Tables {
			t.prepare(r, "", false)
		}
		s.apiTables(w, r, format, "period-review", v.Filter, v.Tables...)
		return
	}
	pr := v.R
	metrics := make([]metricJSON, len(pr.Metrics))
	for i, m := range pr.Metrics {
		metrics[i] = metricJSON{ReviewMetricRow: m, Label: loc.T("review.metric." + m.Metric)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": pr.From, "to": pr.To, "channel": pr.Channel, "kind": pr.Kind, "model": pr.Model,
		"currency": pr.Currency, "metrics": metrics, "campaigns": pr.Campaigns, "figures": pr.Figures, "sla_first_follow_up": pr.SLA, "follow_up": pr.FollowUp})
}

func (s *Server) apiPeriodTargets(w http.ResponseWriter, r *http.Request) {
	v := &periodView{}
	q, err := s.periodQuery(r, v)
	if s.apiPeriodFailed(w, r, err) {
		return
	}
	ts, err := s.store.PeriodTargets(r.Context(), q.Key())
	if s.apiPeriodFailed(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": v.Filter.From, "to": v.Filter.To, "channel": q.Channel, "kind": q.Kind, "currency": "CNY", "targets": targetsJSON(ts)})
}

func (s *Server) apiPutPeriodTargets(w http.ResponseWriter, r *http.Request) {
	v := &periodView{}
	q, err := s.periodQuery(r, v)
	if s.apiPeriodFailed(w, r, err) {
		return
	}
	if r.URL.Query().Get("from") == "" || r.URL.Query().Get("to") == "" {
		writeJSONError(w, http.StatusBadRequest, "from and to: required in the URL (the period's first and last team day, YYYY-MM-DD)")
		return
	}
	var in review.TargetsInput
	if !decodeBody(w, r, &in, `{"targets": [{"metric": "leads", "value": 500}, ...]} (money in yuan)`) {
		return
	}
	if in.Targets == nil {
		writeJSONError(w, http.StatusBadRequest, `targets: required (a list; [] clears every target)`)
		return
	}
	parsed, err := review.ParseTargets(in.Targets)
	if s.reviewAPIError(w, r, err, "") {
		return
	}
	ts, err := s.store.SetPeriodTargets(r.Context(), q.Key(), parsed, s.app.Now())
	if s.apiPeriodFailed(w, r, err) {
		return
	}
	s.log.Info("period targets set", "from", v.Filter.From, "to", v.Filter.To, "channel", q.Channel, "kind", q.Kind, "targets", len(ts), "by", s.actor(r))
	writeJSON(w, http.StatusOK, map[string]any{"from": v.Filter.From, "to": v.Filter.To, "channel": q.Channel, "kind": q.Kind, "currency": "CNY", "targets": targetsJSON(ts)})
}
