package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/routing"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
)

// The rules page (/rules): the scoring, lifecycle, routing and channel
// rules, each as a readable table and as the JSON its API takes, in an
// editor. A change is checked on the server (an error points at its
// field and line), previewed (who would change, counted, and a sample),
// then saved, which starts the job that applies it (rescore, lifecycle
// run, reclassification; a routing run for administrators) with its
// progress bar. The JSON twins are the rule-set APIs themselves.

// rulesPage is the page's content.
type rulesPage struct {
	Tabs      []ruleTab
	Kind      string
	Text      string // the editor's JSON
	Version   int64
	UpdatedAt *time.Time
	UpdatedBy string
	Facts     []ruleFact
	Summary   *dataTable
	Error     *ruleErrorView
	Notice    string
	Preview   *rulePreviewView
	Job       *model.Job
	Applies   string // what saving starts, in words
}

func (rulesPage) NavKey() string { return "rules" }

type ruleTab struct {
	Key, Href string
	Current   bool
}

// ruleFact is a setting of a rule set beside its rules (the MQL
// threshold, the SLA...).
type ruleFact struct{ Label, Value string }

// ruleErrorView is a refused rule set: the reason, the field it names
// and where that field is in the editor's text.
type ruleErrorView struct {
	Msg     string
	Path    string
	Line    int
	Excerpt []excerptLine
}

type excerptLine struct {
	N    int
	Text string
	Bad  bool
}

// rulePreviewView is a dry run as the page shows it.
type rulePreviewView struct {
	Unchanged   bool
	KPIs        []kpi
	Transitions *dataTable // channels: from → to
	Sample      *dataTable
	SampleNote  string
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	if !slices.Contains(ruleKinds, kind) {
		kind = ruleKinds[0]
	}
	p := rulesPage{Kind: kind}
	l := s.catalog.locale(langOnly(r))
	if id, err := strconv.ParseInt(r.URL.Query().Get("job"), 10, 64); err == nil && id > 0 {
		j, err := s.store.GetJob(r.Context(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.pageInternal(w, r, "rules page", err)
			return
		}
		if err == nil {
			p.Job = &j
		}
	}
	if v, err := strconv.ParseInt(r.URL.Query().Get("saved"), 10, 64); err == nil && v > 0 {
		p.Notice = l.T("rules.saved", "version", v)
	} else if r.URL.Query().Get("unchanged") != "" {
		p.Notice = l.T("rules.unchanged_saved")
	}
	s.renderRules(w, r, http.StatusOK, p, nil)
}

// renderRules fills the page around p and renders it. text, when not
// nil, is the editor's content as sent; else the rules in force.
func (s *Server) renderRules(w http.ResponseWriter, r *http.Request, code int, p rulesPage, text []byte) {
	ctx := r.Context()
	l := s.catalog.locale(langOnly(r))
	for _, k := range ruleKinds {
		p.Tabs = append(p.Tabs, ruleTab{Key: k, Href: "/rules?kind=" + k, Current: k == p.Kind})
	}
	current, err := s.currentRules(ctx, p.Kind)
	if err != nil {
		s.pageInternal(w, r, "rules page", err)
		return
	}
	p.Version, p.UpdatedAt, p.UpdatedBy = current.Version, current.UpdatedAt, current.UpdatedBy
	p.Text = string(current.Text)
	summarise := current.Text
	if text != nil {
		p.Text = string(text)
		if p.Error == nil {
			summarise = text
		}
	}
	d, err := s.draftRules(ctx, p.Kind, summarise)
	if err != nil {
		var ie *ruleInputError
		if !errors.As(err, &ie) {
			s.pageInternal(w, r, "rules page", err)
			return
		}
		// The rules in force no longer pass (a user named in a pool left):
		// the editor still shows them, the error says what to fix.
		if p.Error == nil {
			p.Error = locateRuleError(summarise, ie)
		}
	} else {
		p.Facts, p.Summary = ruleSummary(l, d)
		// A preview's page answers a POST: its table's links are the GET
		// page's.
		pr := r
		if r.Method != http.MethodGet {
			pr = r.Clone(ctx)
			pr.URL = &url.URL{Path: "/rules", RawQuery: url.Values{"kind": {p.Kind}}.Encode()}
		}
		p.Summary.prepare(pr, "n", false)
		if s.exportTable(w, r, "rules-"+p.Kind, viewFilter{}, p.Summary) {
			return
		}
	}
	p.Applies = l.T("rules.applies." + p.Kind)
	if p.Kind == "routing" && !s.isAdmin(r) {
		p.Applies = l.T("rules.applies.routing_marketer")
	}
	s.render(w, r, code, "rules", "rules.title", p)
}

func (s *Server) isAdmin(r *http.Request) bool {
	u, ok := userFrom(r.Context())
	return ok && u.Role == model.RoleAdmin
}

// currentRules are the rules in force as the editor shows them: the JSON
// a PUT takes, indented.
type currentRuleSet struct {
	Text      []byte
	Version   int64
	UpdatedAt *time.Time
	UpdatedBy string
}

func (s *Server) currentRules(ctx context.Context, kind string) (currentRuleSet, error) {
	var out currentRuleSet
	var v any
	switch kind {
	case "scoring":
		rs, err := scoring.Active(ctx, s.store)
		if err != nil {
			return out, err
		}
		out.Version, out.UpdatedBy = rs.Version, rs.CreatedBy
		if !rs.CreatedAt.IsZero() {
			t := rs.CreatedAt
			out.UpdatedAt = &t
		}
		v = json.RawMessage(rs.Rules.JSON())
	case "lifecycle":
		rs, saved, err := lifecycle.ActiveRules(ctx, s.store)
		if err != nil {
			return out, err
		}
		out.Version, out.UpdatedBy = saved.Version, saved.CreatedBy
		if saved.Version != 0 {
			t := saved.CreatedAt
			out.UpdatedAt = &t
		}
		v = rs
	case "routing":
		rs, err := s.app.Router.Rules(ctx)
		if err != nil {
			return out, err
		}
		out.Version, out.UpdatedAt, out.UpdatedBy = rs.Version, rs.UpdatedAt, rs.UpdatedBy
		cur := *rs
		cur.Version, cur.UpdatedAt, cur.UpdatedBy, cur.Unchanged = 0, nil, "", false
		v = &cur
	case "channels":
		rs, err := process.ChannelRules(ctx, s.store)
		if err != nil {
			return out, err
		}
		out.UpdatedAt, out.UpdatedBy = rs.UpdatedAt, rs.UpdatedBy
		if saved, err := s.store.ActiveRuleSet(ctx, model.ChannelRuleSets); err == nil {
			out.Version = saved.Version
		} else if !errors.Is(err, store.ErrNotFound) {
			return out, err
		}
		cur := *rs
		cur.UpdatedAt, cur.UpdatedBy = nil, ""
		v = &cur
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return out, err
	}
	out.Text = buf.Bytes()
	return out, nil
}

// maxRulesForm bounds the editor's form.
const maxRulesForm = 2 << 20

// readRulesForm reads the editor's form: the kind from the path and the
// rules text (GET's read-only keys dropped as a PUT drops them).
func (s *Server) readRulesForm(w http.ResponseWriter, r *http.Request) (string, []byte, []byte, bool) {
	kind := r.PathValue("kind")
	if !slices.Contains(ruleKinds, kind) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return "", nil, nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRulesForm)
	if err := r.ParseForm(); err != nil {
		l := s.catalog.locale(langOnly(r))
		s.renderRules(w, r, http.StatusBadRequest, rulesPage{Kind: kind, Error: &ruleErrorView{Msg: l.T("rules.error.form")}}, nil)
		return "", nil, nil, false
	}
	text := []byte(strings.ReplaceAll(r.PostForm.Get("rules"), "\r\n", "\n"))
	readOnly := map[string][]string{"scoring": scoringReadOnly, "lifecycle": lifecycleReadOnly, "channels": channelReadOnly}[kind]
	nested := ""
	if kind == "scoring" {
		nested = "rules"
	}
	body, err := ruleSetBody(text, readOnly, nested)
	if err != nil {
		s.renderRules(w, r, http.StatusBadRequest, rulesPage{Kind: kind, Error: &ruleErrorView{Msg: err.Error()}}, text)
		return "", nil, nil, false
	}
	return kind, text, body, true
}

// rulesPreview answers POST /rules/{kind}/preview: the rules as typed,
// checked, and what saving them would change.
func (s *Server) rulesPreview(w http.ResponseWriter, r *http.Request) {
	kind, text, body, ok := s.readRulesForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	l := s.catalog.locale(langOnly(r))
	p := rulesPage{Kind: kind}
	d, err := s.draftRules(ctx, kind, body)
	var ie *ruleInputError
	switch {
	case errors.As(err, &ie):
		p.Error = locateRuleError(text, ie)
		s.renderRules(w, r, http.StatusBadRequest, p, text)
		return
	case err != nil:
		s.pageInternal(w, r, "rules preview", err)
		return
	}
	pv, err := s.previewRules(ctx, d)
	if err != nil {
		s.pageInternal(w, r, "rules preview", err)
		return
	}
	p.Preview = previewView(l, d, pv)
	s.renderRules(w, r, http.StatusOK, p, text)
}

// rulesSave answers POST /rules/{kind}/save: the rules as typed, checked
// again, stored as a new version, and the job that applies them started;
// the page then follows the job.
func (s *Server) rulesSave(w http.ResponseWriter, r *http.Request) {
	kind, text, body, ok := s.readRulesForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	d, err := s.draftRules(ctx, kind, body)
	var ie *ruleInputError
	switch {
	case errors.As(err, &ie):
		s.renderRules(w, r, http.StatusBadRequest, rulesPage{Kind: kind, Error: locateRuleError(text, ie)}, text)
		return
	case err != nil:
		s.pageInternal(w, r, "rules save", err)
		return
	}
	if d.Unchanged {
		http.Redirect(w, r, "/rules?kind="+kind+"&unchanged=1", http.StatusSeeOther)
		return
	}
	actor := s.actor(r)
	if kind == "lifecycle" || kind == "routing" {
		if u, ok := userFrom(ctx); ok {
			actor = lifecycle.ActorUser + strconv.FormatInt(u.ID, 10)
		}
	}
	run := kind == "lifecycle" || (kind == "routing" && s.isAdmin(r))
	saved, err := s.saveRules(ctx, d, actor, run)
	var nq *jobNotQueuedError
	if errors.As(err, &nq) {
		s.log.Error("job after a rule change not queued", "kind", kind, "version", nq.Version, "err", nq.Err)
		http.Redirect(w, r, fmt.Sprintf("/rules?kind=%s&saved=%d", kind, nq.Version), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.pageInternal(w, r, "rules save", err)
		return
	}
	target := fmt.Sprintf("/rules?kind=%s&saved=%d", kind, saved.Version)
	if saved.Job != nil {
		target += fmt.Sprintf("&job=%d", saved.Job.ID)
	}
	http.Redirect(w, r, target+"#apply", http.StatusSeeOther)
}

// previewView is a dry run's counts and sample as the page shows them.
func previewView(l Locale, d *ruleDraft, p rulePreview) *rulePreviewView {
	v := &rulePreviewView{Unchanged: d.Unchanged}
	fig := func(id, label string, n int) kpi {
		return kpi{ID: id, Label: l.T(label), Tip: l.T("tip." + id), Value: formatInt(int64(n)), Raw: strconv.Itoa(n)}
	}
	person := func(id int64) cell {
		return cell{V: id, Text: "#" + strconv.FormatInt(id, 10), Href: fmt.Sprintf("/persons/%d", id)}
	}
	switch d.Kind {
	case "scoring":
		pv := p.scoring
		v.KPIs = []kpi{fig("preview_scored", "rules.kpi.scored", pv.Persons), fig("preview_score_changes", "rules.kpi.score_changes", pv.ScoreChanges),
			fig("preview_to_mql", "rules.kpi.to_mql", pv.WouldBecomeMQL)}
		t := &dataTable{ID: "sample", Columns: []column{
			{Key: "person", Label: l.T("rules.col.person"), Kind: kindText},
			{Key: "score_before", Label: l.T("rules.col.score_before"), Kind: kindNumber},
			{Key: "score_after", Label: l.T("rules.col.score_after"), Kind: kindNumber},
			{Key: "stage_before", Label: l.T("rules.col.stage_before"), Kind: kindText},
			{Key: "stage_after", Label: l.T("rules.col.stage_after"), Kind: kindText},
		}}
		for _, c := range pv.Sample {
			t.Rows = append(t.Rows, []cell{person(c.PersonID), {V: c.ScoreBefore}, {V: c.ScoreAfter},
				{V: string(c.StageBefore), Text: l.Stage(c.StageBefore)}, {V: string(c.StageAfter), Text: l.Stage(c.StageAfter)}})
		}
		v.Sample = t
		v.SampleNote = l.T("rules.sample_note", "shown", len(pv.Sample), "total", pv.ScoreChanges)
	case "lifecycle":
		pv := p.lifecycle
		v.KPIs = []kpi{fig("preview_evaluated", "rules.kpi.evaluated", pv.Evaluated), fig("preview_persons", "rules.kpi.persons", pv.Persons),
			fig("preview_grades", "rules.kpi.grades", pv.GradeChanges), fig("preview_classes", "rules.kpi.classes", pv.SDRClassChanges),
			fig("preview_moves", "rules.kpi.moves", pv.Moves)}
		t := &dataTable{ID: "sample", Columns: []column{
			{Key: "person", Label: l.T("rules.col.person"), Kind: kindText},
			{Key: "field", Label: l.T("rules.col.field"), Kind: kindText},
			{Key: "before", Label: l.T("rules.col.before"), Kind: kindText},
			{Key: "after", Label: l.T("rules.col.after"), Kind: kindText},
			{Key: "rule", Label: l.T("rules.col.rule"), Kind: kindText},
		}}
		for _, c := range pv.Sample {
			before, after := c.Before, c.After
			if c.Field == "stage" {
				before, after = l.Stage(model.Stage(before)), l.Stage(model.Stage(after))
			}
			t.Rows = append(t.Rows, []cell{person(c.PersonID), {V: c.Field, Text: l.T("rules.field." + c.Field)}, {V: before}, {V: after}, {V: c.Rule}})
		}
		v.Sample = t
		v.SampleNote = l.T("rules.sample_note", "shown", len(pv.Sample), "total", pv.GradeChanges+pv.SDRClassChanges+pv.Moves)
	case "routing":
		pv := p.routing
		v.Unchanged = false // where the waiting leads go is worth seeing either way
		v.KPIs = []kpi{fig("preview_pending", "rules.kpi.pending", pv.Pending), fig("preview_assign", "rules.kpi.assign", pv.WouldAssign),
			fig("preview_owner_changes", "rules.kpi.owner_changes", pv.OwnerChanges), fig("preview_wait", "rules.kpi.wait", pv.WouldWait)}
		t := &dataTable{ID: "sample", Columns: []column{
			{Key: "person", Label: l.T("rules.col.person"), Kind: kindText},
			{Key: "owner_before", Label: l.T("rules.col.owner_before"), Kind: kindText},
			{Key: "owner_after", Label: l.T("rules.col.owner_after"), Kind: kindText},
			{Key: "rule", Label: l.T("rules.col.rule"), Kind: kindText},
		}}
		nobody := l.T("rules.nobody")
		for _, c := range pv.Sample {
			t.Rows = append(t.Rows, []cell{person(c.PersonID), {V: orText(c.OwnerBeforeEmail, nobody)}, {V: orText(c.OwnerAfterEmail, nobody)}, {V: c.Rule}})
		}
		v.Sample = t
		v.SampleNote = l.T("rules.sample_note", "shown", len(pv.Sample), "total", pv.Considered)
	case "channels":
		pv := p.channels
		v.KPIs = []kpi{fig("preview_examined", "rules.kpi.examined", pv.Examined), fig("preview_changed", "rules.kpi.changed", pv.Changed),
			fig("preview_channel_persons", "rules.kpi.channel_persons", pv.Persons)}
		tr := &dataTable{ID: "transitions", Columns: []column{
			{Key: "from", Label: l.T("rules.col.channel_before"), Kind: kindText},
			{Key: "to", Label: l.T("rules.col.channel_after"), Kind: kindText},
			{Key: "touchpoints", Label: l.T("rules.col.touchpoints"), Kind: kindInt},
		}}
		for _, c := range pv.Transitions {
			tr.Rows = append(tr.Rows, []cell{{V: c.From, Text: l.Channel(model.Channel(c.From))}, {V: c.To, Text: l.Channel(model.Channel(c.To))}, {V: int64(c.Touchpoints)}})
		}
		v.Transitions = tr
		t := &dataTable{ID: "sample", Columns: []column{
			{Key: "touchpoint", Label: l.T("rules.col.touchpoint"), Kind: kindInt},
			{Key: "person", Label: l.T("rules.col.person"), Kind: kindText},
			{Key: "from", Label: l.T("rules.col.channel_before"), Kind: kindText},
			{Key: "to", Label: l.T("rules.col.channel_after"), Kind: kindText},
		}}
		for _, c := range pv.Sample {
			t.Rows = append(t.Rows, []cell{{V: c.TouchpointID}, person(c.PersonID),
				{V: c.ChannelBefore, Text: l.Channel(model.Channel(c.ChannelBefore))}, {V: c.ChannelAfter, Text: l.Channel(model.Channel(c.ChannelAfter))}})
		}
		v.Sample = t
		v.SampleNote = l.T("rules.sample_note", "shown", len(pv.Sample), "total", pv.Changed)
	}
	return v
}

// ruleSummary is a rule set in words: its settings and one row per rule,
// in the order they apply.
func ruleSummary(l Locale, d *ruleDraft) ([]ruleFact, *dataTable) {
	t := &dataTable{ID: "summary", Empty: l.T("rules.no_rules"), Columns: []column{
		{Key: "n", Label: "#", Kind: kindInt},
		{Key: "rule", Label: l.T("rules.col.rule"), Kind: kindText},
		{Key: "when", Label: l.T("rules.col.when"), Kind: kindText},
		{Key: "then", Label: l.T("rules.col.then"), Kind: kindText},
	}}
	add := func(name, when, then string) {
		t.Rows = append(t.Rows, []cell{{V: int64(len(t.Rows) + 1)}, {V: name}, {V: when}, {V: then}})
	}
	var facts []ruleFact
	switch d.Kind {
	case "scoring":
		r := d.scoring
		facts = []ruleFact{{l.T("rules.fact.mql_threshold"), formatDecimal(r.MQLThreshold, 0)},
			{l.T("rules.fact.half_life"), l.T("rules.days", "n", formatDecimal(r.DecayHalfLifeDays, 0))}}
		for i, f := range r.Fit {
			test := map[string]any{"in": f.In, "gte": f.Gte, "lte": f.Lte, "matches": f.Matches, "equals": f.Equals, "exists": f.Exists}
			add(fmt.Sprintf("fit[%d]", i), f.Field+" "+conditionText(test), l.T("rules.points", "n", formatDecimal(f.Points, 1)))
		}
		for i, e := range r.Engagement {
			when := e.Event
			if e.PathPrefix != "" {
				when += " · " + e.PathPrefix
			}
			if len(e.Properties) > 0 {
				when += " · " + conditionText(e.Properties)
			}
			then := l.T("rules.points", "n", formatDecimal(e.Points, 1))
			if e.MaxPerDay > 0 {
				then += " · " + l.T("rules.max_per_day", "n", formatDecimal(e.MaxPerDay, 1))
			}
			add(fmt.Sprintf("engagement[%d]", i), when, then)
		}
	case "lifecycle":
		for _, r := range d.lifecycle.Rules {
			var when map[string]any
			b, _ := json.Marshal(r.When)
			_ = json.Unmarshal(b, &when)
			then := ""
			if r.Set != nil {
				var parts []string
				if r.Set.Grade != "" {
					parts = append(parts, l.T("rules.field.grade")+" = "+r.Set.Grade)
				}
				if r.Set.SDRClass != "" {
					parts = append(parts, l.T("rules.field.sdr_class")+" = "+r.Set.SDRClass)
				}
				then = strings.Join(parts, " · ")
			}
			if r.MoveTo != "" {
				then = l.T("rules.move_to", "stage", l.Stage(r.MoveTo)) + " (" + r.Reason + ")"
			}
			add(r.Name, conditionText(when), then)
		}
	case "routing":
		rs := d.routing
		facts = []ruleFact{{l.T("rules.fact.trigger"), l.Stage(rs.TriggerStage)},
			{l.T("rules.fact.sla"), rs.SLA.FirstFollowUp + " · " + strings.Join(rs.SLA.BusinessHours.Days, ",") + " " + rs.SLA.BusinessHours.Start + "–" +
				rs.SLA.BusinessHours.End + " " + rs.SLA.BusinessHours.TimeZone}}
		for _, r := range rs.Rules {
			var match map[string]any
			b, _ := json.Marshal(r.Match)
			_ = json.Unmarshal(b, &match)
			add(r.Name, conditionText(match), poolText(l, r.Pool, r.Method))
		}
		if rs.Fallback != nil {
			add(l.T("rules.fallback"), "—", poolText(l, rs.Fallback.Pool, rs.Fallback.Method))
		}
	case "channels":
		for _, r := range d.channels.Rules {
			var conds []string
			for _, c := range r.When {
				conds = append(conds, channelCondText(c))
			}
			then := l.Channel(r.Channel)
			if r.Source != "" || r.Medium != "" {
				then += " (" + strings.Trim(r.Source+" / "+r.Medium, " /") + ")"
			}
			when := strings.Join(conds, " · ")
			if when == "" {
				when = l.T("rules.every_touch")
			}
			add(r.Name, when, then)
		}
		facts = []ruleFact{{l.T("rules.fact.aliases"), strconv.Itoa(len(d.channels.SourceAliases))},
			{l.T("rules.fact.hosts"), strconv.Itoa(len(d.channels.HostSources))}}
	}
	return facts, t
}

// conditionText writes a JSON object's set keys as "key value · key
// value", lists joined by commas.
func conditionText(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if !isEmptyValue(v) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+valueText(m[k]))
	}
	return strings.Join(parts, " · ")
}

func isEmptyValue(v any) bool {
	if v == nil {
		return true
	}
	b, _ := json.Marshal(v)
	s := string(b)
	return s == "null" || s == "[]" || s == "{}" || s == `""`
}

func valueText(v any) string {
	b, _ := json.Marshal(v)
	var list []any
	if json.Unmarshal(b, &list) == nil {
		var parts []string
		for _, x := range list {
			parts = append(parts, valueText(x))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	return string(b)
}

func poolText(l Locale, p routing.Pool, method string) string {
	var who []string
	for _, u := range p.Users {
		if u.Email != "" {
			who = append(who, u.Email)
		} else {
			who = append(who, "#"+strconv.FormatInt(u.ID, 10))
		}
	}
	if p.Team != "" {
		who = append(who, l.T("rules.team", "team", p.Team))
	}
	if method == "" {
		method = "round_robin"
	}
	return strings.Join(who, ", ") + " · " + l.T("rules.method."+method)
}

func channelCondText(c channel.Condition) string {
	v := c.Value
	if len(c.Values) > 0 {
		v = "[" + strings.Join(c.Values, ", ") + "]"
	}
	if c.List != "" {
		v = "@" + c.List
	}
	not := ""
	if c.Not {
		not = "not "
	}
	return strings.TrimSpace(c.Field + " " + not + c.Match + " " + v)
}

// byteOffset finds "at byte N" (a JSON syntax error) in a message.
var byteOffset = regexp.MustCompile(`at byte (\d+)`)

// leadingPath finds the field a package's message starts with:
// "fit[2].matches: ...", "rules[1] (grade-a): when.score_gte: ...".
var leadingPath = regexp.MustCompile(`^(?:rules: )?([A-Za-z_]+(?:\[\d+\])?(?:\.[A-Za-z_]+(?:\[\d+\])?)*)(?: \([^)]*\))?:(?: ((?:when|set|match|pool|sla|fallback|move_to|reason|name|description|override_manual)(?:\.[A-Za-z_]+(?:\[\d+\])?)*)\b)?`)

// locateRuleError turns a refused rule set into what the editor shows:
// the reason, the field it names and that field's line in text, with the
// lines around it.
func locateRuleError(text []byte, ie *ruleInputError) *ruleErrorView {
	v := &ruleErrorView{Msg: ie.Msg}
	offset := -1
	var cv *channel.ValidationError
	var rv *routing.ValidationError
	switch {
	case errors.As(ie.Err, &cv) && cv.Rule >= 0:
		v.Path = fmt.Sprintf("rules[%d]", cv.Rule)
		if cv.Condition >= 0 {
			v.Path += fmt.Sprintf(".when[%d]", cv.Condition)
		}
	case errors.As(ie.Err, &rv) && rv.Path != "":
		v.Path = rv.Path
	}
	msg := ie.Err.Error()
	var syn *json.SyntaxError
	var probe any
	if err := json.Unmarshal(text, &probe); errors.As(err, &syn) {
		// Malformed JSON: where the decoder stopped, whatever the
		// package's message says.
		offset = int(syn.Offset) - 1
		v.Path = ""
	} else if m := byteOffset.FindStringSubmatch(msg); m != nil {
		offset, _ = strconv.Atoi(m[1])
		offset--
	} else if v.Path == "" {
		if m := leadingPath.FindStringSubmatch(msg); m != nil {
			v.Path = m[1]
			if m[2] != "" {
				v.Path += "." + m[2]
			}
		}
	}
	if offset < 0 && v.Path != "" {
		offset = jsonPathOffset(text, v.Path)
	}
	if offset < 0 {
		return v
	}
	offset = min(offset, len(text))
	v.Line = bytes.Count(text[:offset], []byte("\n")) + 1
	lines := strings.Split(string(text), "\n")
	for n := max(1, v.Line-3); n <= min(len(lines), v.Line+3); n++ {
		v.Excerpt = append(v.Excerpt, excerptLine{N: n, Text: lines[n-1], Bad: n == v.Line})
	}
	return v
}

// jsonPathOffset is the byte offset of the value at path ("rules[2].when",
// "sla.first_follow_up") in a JSON document, or of the deepest part of it
// found; -1 when not even its first step is there.
func jsonPathOffset(doc []byte, path string) int {
	var steps []string
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			steps = append(steps, name)
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			steps = append(steps, "["+idx+"]")
			_, rest, _ = strings.Cut(after, "[")
		}
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	best := -1
	var walk func(depth int) bool // reports whether the path was found below
	walk = func(depth int) bool {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if depth > 0 {
			best = skipSpace(doc, int(start))
		}
		if depth == len(steps) {
			return true
		}
		d, ok := tok.(json.Delim)
		if !ok || (d != '{' && d != '[') {
			return false
		}
		want := steps[depth]
		for i := 0; dec.More(); i++ {
			key := "[" + strconv.Itoa(i) + "]"
			if d == '{' {
				kt, err := dec.Token()
				if err != nil {
					return false
				}
				key, _ = kt.(string)
			}
			if key == want {
				return walk(depth + 1)
			}
			if !skipValue(dec) {
				return false
			}
		}
		return false
	}
	walk(0)
	return best
}

// skipSpace moves an offset past white space and a separator to the
// value that follows.
func skipSpace(doc []byte, i int) int {
	for i < len(doc) && strings.ContainsRune(" \t\r\n,:", rune(doc[i])) {
		i++
	}
	return i
}

// skipValue reads past one JSON value.
func skipValue(dec *json.Decoder) bool {
	var raw json.RawMessage
	return dec.Decode(&raw) == nil
}
