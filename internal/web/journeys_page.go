package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The journeys' pages: the list, a journey with its figures, its steps
// and its versions, a person's way through it, and the editor. Writing
// goes through forms (a definition is the JSON of docs/journeys.md, which
// the editor's script draws as a flow of steps and keeps in the form's
// textarea); the JSON API is journeys.go.

// journeyFormMax bounds a posted editor form: the definition's own bounds
// (model.MaxJourneySteps steps of at most model.MaxStepTextLen bytes) are
// checked after decoding, this only stops a runaway body.
const journeyFormMax = 4 << 20

func (s *Server) journeyPageRoutes(m *http.ServeMux) error {
	m.Handle("GET /journeys", s.page("journeys", s.journeysPage))
	m.Handle("GET /journeys/new", s.page("journeys", s.editorsOnly(s.journeyNewPage)))
	m.Handle("POST /journeys/new", s.page("journeys", s.editorsOnly(s.journeyCreateSubmit)))
	m.Handle("GET /journeys/{id}", s.page("journeys", s.journeyPage))
	m.Handle("GET /journeys/{id}/edit", s.page("journeys", s.editorsOnly(s.journeyEditPage)))
	m.Handle("POST /journeys/{id}/edit", s.page("journeys", s.editorsOnly(s.journeyEditSubmit)))
	m.Handle("POST /journeys/{id}/status", s.page("journeys", s.editorsOnly(s.journeyStatusSubmit)))
	m.Handle("POST /journeys/{id}/migrate", s.page("journeys", s.editorsOnly(s.journeyMigrateSubmit)))
	m.Handle("GET /journeys/{id}/persons/{pid}", s.page("journeys", s.journeyPersonPage))
	m.Handle("GET /journeys/{id}/person", s.page("journeys", s.journeyPersonLookup))
	return nil
}

// ---- the list ----

type journeysView struct {
	Table       *dataTable
	Live, Total int
	CanEdit     bool
	Notice      string
}

func (journeysView) NavKey() string { return "journeys" }

func (s *Server) journeysPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	u, _ := userFrom(r.Context())
	list, err := s.store.Journeys(r.Context())
	if err != nil {
		s.pageInternal(w, r, "journeys page", err)
		return
	}
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		s.pageInternal(w, r, "journeys page", err)
		return
	}
	segments, err := s.segmentNames(r.Context())
	if err != nil {
		s.pageInternal(w, r, "journeys page", err)
		return
	}
	v := journeysView{Total: len(list), CanEdit: canEditCampaigns(u.Role)}
	t := &dataTable{ID: "journeys", Loc: cal.Loc, Empty: loc.T("journeys.empty"), Columns: []column{
		{Key: "name", Label: loc.T("journeys.col.name"), Kind: kindText},
		{Key: "status", Label: loc.T("journeys.col.status"), Kind: kindText},
		{Key: "trigger", Label: loc.T("journeys.col.trigger"), Kind: kindText},
		{Key: "version", Label: loc.T("journeys.col.version"), Kind: kindInt},
		{Key: "entered", Label: loc.T("journeys.col.entered"), Tip: loc.T("journeys.tip.entered"), Kind: kindInt},
		{Key: "active", Label: loc.T("journeys.col.active"), Tip: loc.T("journeys.tip.active"), Kind: kindInt},
		{Key: "updated", Label: loc.T("journeys.col.updated"), Kind: kindTime},
	}}
	for _, j := range list {
		if j.Status == model.JourneyLive {
			v.Live++
		}
		t.Rows = append(t.Rows, []cell{
			{V: j.Name, Href: fmt.Sprintf("/journeys/%d", j.ID)},
			{V: j.Status, Text: loc.T("journeys.status." + j.Status)},
			{V: triggerText(loc, j.Trigger, segments)},
			{V: int64(j.LiveVersion)},
			{V: j.Entered}, {V: j.Active}, {V: j.UpdatedAt},
		})
	}
	t.prepare(r, "updated", true)
	v.Table = t
	switch r.URL.Query().Get("done") {
	case "created":
		v.Notice = loc.T("journeys.done.created")
	}
	if s.exportTable(w, r, "journeys", viewFilter{}, t) {
		return
	}
	s.render(w, r, http.StatusOK, "journeys", "journeys.title", v)
}

// segmentNames names the segments a journeys' page mentions.
func (s *Server) segmentNames(ctx context.Context) (map[int64]string, error) {
	segs, err := s.store.Segments(ctx)
	out := make(map[int64]string, len(segs))
	for _, g := range segs {
		out[g.ID] = g.Name
	}
	return out, err
}

// triggerText says in words who enters a journey.
func triggerText(loc Locale, tr model.JourneyTrigger, segments map[int64]string) string {
	switch {
	case tr.Event != "":
		return loc.T("journeys.trigger.event", "event", tr.Event)
	case tr.Stage != "":
		return loc.T("journeys.trigger.stage", "stage", loc.Stage(tr.Stage))
	case tr.Segment != 0:
		if name, ok := segments[tr.Segment]; ok {
			return loc.T("journeys.trigger.segment_named", "name", name)
		}
		return loc.T("journeys.trigger.segment", "id", tr.Segment)
	case tr.DateTrait != "":
		return loc.T("journeys.trigger.date", "trait", tr.DateTrait, "days", tr.OffsetDays)
	}
	return ""
}

// ---- one journey ----

type journeyView struct {
	D          model.JourneyDetail
	Trigger    string
	KPIs       []kpi
	Steps      *dataTable
	Versions   *dataTable
	CanEdit    bool
	Notice     string
	Error      string
	Migrate    *journeyMigrateForm
	Plan       *model.JourneyMigrationPlan
	PersonID   string
	Conversion string
}

func (journeyView) NavKey() string { return "journeys" }

// journeyMigrateForm is the form that moves the persons in flight on an
// older version to the latest one, step by step.
type journeyMigrateForm struct {
	From, To int
	Froms    []int // versions with persons in flight
	Rows     []journeyMapRow
}

type journeyMapRow struct {
	Step, Type string
	Choice     string // the new step chosen ("" stays)
	Choices    []string
}

func (s *Server) journeyPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.journeyView(w, r)
	if !ok {
		return
	}
	loc := s.catalog.locale(langOnly(r))
	switch r.URL.Query().Get("done") {
	case "saved":
		v.Notice = loc.T("journeys.done.saved")
	case "live":
		v.Notice = loc.T("journeys.done.live")
	case "paused":
		v.Notice = loc.T("journeys.done.paused")
	case "moved":
		v.Notice = loc.T("journeys.done.moved", "n", r.URL.Query().Get("n"))
	}
	if s.exportTable(w, r, "journey", viewFilter{}, v.Steps, v.Versions) {
		return
	}
	s.render(w, r, http.StatusOK, "journey", "journeys.title", v)
}

// pageJourney loads the journey of the page's path with its figures; on
// failure it has answered (404 for an unknown journey).
func (s *Server) pageJourney(w http.ResponseWriter, r *http.Request, what string) (model.JourneyDetail, bool) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return model.JourneyDetail{}, false
	}
	d, err := s.store.JourneyDetail(r.Context(), id, s.app.Now())
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return d, false
	}
	if err != nil {
		s.pageInternal(w, r, what, err)
		return d, false
	}
	return d, true
}

// journeyView loads a journey's page; on failure it has answered.
func (s *Server) journeyView(w http.ResponseWriter, r *http.Request) (*journeyView, bool) {
	d, ok := s.pageJourney(w, r, "journey page")
	if !ok {
		return nil, false
	}
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		s.pageInternal(w, r, "journey page", err)
		return nil, false
	}
	segments, err := s.segmentNames(r.Context())
	if err != nil {
		s.pageInternal(w, r, "journey page", err)
		return nil, false
	}
	loc := s.catalog.locale(langOnly(r))
	u, _ := userFrom(r.Context())
	v := &journeyView{D: d, Trigger: triggerText(loc, d.Definition.Trigger, segments), CanEdit: canEditCampaigns(u.Role)}
	st := d.Stats
	var rate *float64
	if st.Persons > 0 {
		x := float64(st.Converted) / float64(st.Persons)
		rate = &x
	}
	v.KPIs = []kpi{
		{ID: "entered", Label: loc.T("journeys.kpi.entered"), Tip: loc.T("journeys.tip.entered"), Value: formatInt(st.Entered), Sub: loc.T("journeys.kpi.persons", "n", formatInt(st.Persons))},
		{ID: "active", Label: loc.T("journeys.kpi.active"), Tip: loc.T("journeys.tip.active"), Value: formatInt(st.Active)},
		{ID: "completed", Label: loc.T("journeys.kpi.completed"), Tip: loc.T("journeys.tip.completed"), Value: formatInt(st.Completed)},
		{ID: "exited", Label: loc.T("journeys.kpi.exited"), Tip: loc.T("journeys.tip.exited"), Value: formatInt(st.Exited)},
		{ID: "converted", Label: loc.T("journeys.kpi.converted", "stage", loc.Stage(st.GoalStage)), Tip: loc.T("journeys.tip.converted"), Value: formatInt(st.Converted), Sub: formatPercent(rate), Accent: true},
		{ID: "opportunities", Label: loc.T("journeys.kpi.opportunities"), Tip: loc.T("journeys.tip.opportunities"), Value: formatInt(st.Opportunities)},
		{ID: "revenue", Label: loc.T("journeys.kpi.revenue"), Tip: loc.T("journeys.tip.revenue"), Value: formatMoney(st.Revenue)},
	}
	v.Steps = journeyStepsTable(loc, cal, d)
	v.Versions = &dataTable{ID: "versions", Loc: cal.Loc, Empty: "", Columns: []column{
		{Key: "version", Label: loc.T("journeys.col.version"), Kind: kindInt},
		{Key: "steps", Label: loc.T("journeys.col.steps"), Kind: kindInt},
		{Key: "created", Label: loc.T("journeys.col.created"), Kind: kindTime},
		{Key: "activated", Label: loc.T("journeys.col.activated"), Kind: kindTime},
	}}
	for _, ver := range d.Versions {
		var act any
		if ver.ActivatedAt != nil {
			act = *ver.ActivatedAt
		}
		v.Versions.Rows = append(v.Versions.Rows, []cell{{V: int64(ver.Version)}, {V: int64(len(ver.Definition.Steps))}, {V: ver.CreatedAt}, {V: act}})
	}
	v.Versions.prepare(r, "version", true)
	v.Migrate = migrateForm(d, r)
	return v, true
}

// journeyStepsTable is a row per version and step with what its ledger
// rows are: the live version's steps in their order first.
func journeyStepsTable(loc Locale, cal model.Calendar, d model.JourneyDetail) *dataTable {
	t := &dataTable{ID: "steps", Loc: cal.Loc, Empty: loc.T("journeys.steps_empty"), Presorted: true, Columns: []column{
		{Key: "version", Label: loc.T("journeys.col.version"), Kind: kindInt, NoSort: true},
		{Key: "step", Label: loc.T("journeys.col.step"), Kind: kindText, NoSort: true},
		{Key: "type", Label: loc.T("journeys.col.type"), Kind: kindText, NoSort: true},
		{Key: "waiting", Label: loc.T("journeys.col.waiting"), Tip: loc.T("journeys.tip.waiting"), Kind: kindInt, NoSort: true},
		{Key: "due", Label: loc.T("journeys.col.due"), Tip: loc.T("journeys.tip.due"), Kind: kindInt, NoSort: true},
		{Key: "done", Label: loc.T("journeys.col.done"), Tip: loc.T("journeys.tip.done"), Kind: kindInt, NoSort: true},
		{Key: "skipped", Label: loc.T("journeys.col.skipped"), Tip: loc.T("journeys.tip.skipped"), Kind: kindInt, NoSort: true},
		{Key: "failed", Label: loc.T("journeys.col.failed"), Kind: kindInt, NoSort: true},
	}}
	order := map[string]int{}
	names := map[string]string{}
	for _, ver := range d.Versions {
		for i, st := range ver.Definition.Steps {
			k := fmt.Sprintf("%d/%s", ver.Version, st.ID)
			order[k] = i
			names[k] = cmpOr(st.Name, st.ID)
		}
	}
	rows := append([]model.JourneyStepStats(nil), d.Stats.Steps...)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Version != rows[j].Version {
			return rows[i].Version > rows[j].Version
		}
		return order[fmt.Sprintf("%d/%s", rows[i].Version, rows[i].StepID)] < order[fmt.Sprintf("%d/%s", rows[j].Version, rows[j].StepID)]
	})
	for _, st := range rows {
		name := names[fmt.Sprintf("%d/%s", st.Version, st.StepID)]
		t.Rows = append(t.Rows, []cell{{V: int64(st.Version)}, {V: cmpOr(name, st.StepID)}, {V: st.Type, Text: loc.T("journey.editor.type." + st.Type)},
			{V: st.Waiting}, {V: st.Due}, {V: st.Done}, {V: st.Skipped}, {V: st.Failed}})
	}
	return t
}

// migrateForm offers to move persons in flight on an older version to
// the latest one; nil when nobody is on an older version.
func migrateForm(d model.JourneyDetail, r *http.Request) *journeyMigrateForm {
	latest := d.LatestVersion
	inFlight := map[int]bool{}
	for _, st := range d.Stats.Steps {
		if st.Version != latest && st.Waiting+st.Due > 0 {
			inFlight[st.Version] = true
		}
	}
	if len(inFlight) == 0 {
		return nil
	}
	f := &journeyMigrateForm{To: latest}
	for ver := range inFlight {
		f.Froms = append(f.Froms, ver)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(f.Froms)))
	f.From = f.Froms[0]
	if n, err := strconv.Atoi(r.URL.Query().Get("from")); err == nil && inFlight[n] {
		f.From = n
	}
	var from, to model.JourneyDef
	for _, ver := range d.Versions {
		if ver.Version == f.From {
			from = ver.Definition
		}
		if ver.Version == latest {
			to = ver.Definition
		}
	}
	var targets []string
	for _, st := range to.Steps {
		targets = append(targets, st.ID)
	}
	for _, st := range from.Steps {
		choice := ""
		if to.Step(st.ID) != nil {
			choice = st.ID // the same id is the natural guess
		}
		if r.Method == http.MethodPost {
			choice = r.PostForm.Get("map_" + st.ID)
		}
		f.Rows = append(f.Rows, journeyMapRow{Step: st.ID, Type: st.Type, Choice: choice, Choices: targets})
	}
	return f
}

func (s *Server) journeyMigrateSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.journeyForm(w, r, 64<<10) {
		return
	}
	v, ok := s.journeyView(w, r)
	if !ok {
		return
	}
	loc := s.catalog.locale(langOnly(r))
	if v.Migrate == nil {
		http.Redirect(w, r, fmt.Sprintf("/journeys/%d", v.D.ID), http.StatusSeeOther)
		return
	}
	from, err := strconv.Atoi(r.PostForm.Get("from"))
	if err != nil {
		v.Error = loc.T("journeys.error.from")
		s.render(w, r, http.StatusBadRequest, "journey", "journeys.title", v)
		return
	}
	m := model.JourneyMigration{FromVersion: from, ToVersion: v.D.LatestVersion, Mapping: map[string]string{}}
	for _, row := range v.Migrate.Rows {
		if row.Choice != "" {
			m.Mapping[row.Step] = row.Choice
		}
	}
	preview := r.PostForm.Get("move") == ""
	plan, err := s.store.MigrateJourney(r.Context(), v.D.ID, m, preview, s.app.Now())
	switch {
	case errors.Is(err, store.ErrJourneyConflict):
		v.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "journey", "journeys.title", v)
		return
	case err != nil:
		s.pageInternal(w, r, "journey migration", err)
		return
	}
	if preview {
		v.Plan = &plan
		s.render(w, r, http.StatusOK, "journey", "journeys.title", v)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/journeys/%d?done=moved&n=%d", v.D.ID, plan.Moved), http.StatusSeeOther)
}

func (s *Server) journeyStatusSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.journeyForm(w, r, 4<<10) {
		return
	}
	id, _ := pageID(r)
	var err error
	done := ""
	switch r.PostForm.Get("status") {
	case model.JourneyLive:
		_, err = s.store.ActivateJourney(r.Context(), id, s.app.Now())
		done = "live"
	case model.JourneyPaused:
		_, err = s.store.PauseJourney(r.Context(), id, s.app.Now())
		done = "paused"
	default:
		s.renderError(w, r, http.StatusBadRequest, "journeys.error.status")
		return
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	case errors.Is(err, store.ErrJourneyConflict):
		v, ok := s.journeyView(w, r)
		if !ok {
			return
		}
		v.Error = err.Error()
		s.render(w, r, http.StatusConflict, "journey", "journeys.title", v)
		return
	case err != nil:
		s.pageInternal(w, r, "journey status", err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/journeys/%d?done=%s", id, done), http.StatusSeeOther)
}

// journeyForm reads a posted form of a journey's page; on failure it has
// answered.
func (s *Server) journeyForm(w http.ResponseWriter, r *http.Request, limit int64) bool {
	if _, ok := pageID(r); !ok && r.PathValue("id") != "" {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.renderError(w, r, http.StatusRequestEntityTooLarge, "journeys.error.too_big")
			return false
		}
		s.renderError(w, r, http.StatusBadRequest, "campaigns.error.bad_form")
		return false
	}
	return true
}

// ---- a person's way through a journey ----

type journeyPersonView struct {
	Journey  model.Journey
	PersonID int64
	Person   *model.PersonDetail
	Entries  []journeyEntryView
}

func (journeyPersonView) NavKey() string { return "journeys" }

// journeyEntryView is one entry of the person, ready to print.
type journeyEntryView struct {
	No, Version int
	Entered     string
	State       string // active, completed, exited
	Ended       string
	Reason      string
	Steps       []journeyStepView
}

type journeyStepView struct {
	Step, Type, Status string
	Due, Finished      string
	Result, Reason     string
	Attempts           int
	Key                string
}

// journeyPersonLookup answers the page's "show a person" form.
func (s *Server) journeyPersonLookup(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	pid, err := strconv.ParseInt(strings.TrimSpace(r.URL.Query().Get("pid")), 10, 64)
	if !ok || err != nil || pid <= 0 {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/journeys/%d/persons/%d", id, pid), http.StatusSeeOther)
}

func (s *Server) journeyPersonPage(w http.ResponseWriter, r *http.Request) {
	pid, err := strconv.ParseInt(r.PathValue("pid"), 10, 64)
	if err != nil || pid <= 0 {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	d, ok := s.pageJourney(w, r, "journey person")
	if !ok {
		return
	}
	tl, err := s.store.JourneyTimeline(r.Context(), d.ID, pid)
	if err != nil {
		s.pageInternal(w, r, "journey person", err)
		return
	}
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		s.pageInternal(w, r, "journey person", err)
		return
	}
	v := journeyPersonView{Journey: d.Journey, PersonID: pid}
	if p, err := s.store.PersonDetail(r.Context(), pid); err == nil {
		v.Person = &p
	} else if !errors.Is(err, store.ErrNotFound) {
		s.pageInternal(w, r, "journey person", err)
		return
	}
	names := map[string]string{}
	for _, ver := range d.Versions {
		for _, st := range ver.Definition.Steps {
			names[fmt.Sprintf("%d/%s", ver.Version, st.ID)] = cmpOr(st.Name, st.ID)
		}
	}
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(cal.Loc).Format("2006-01-02 15:04")
	}
	for _, e := range tl.Entries {
		ev := journeyEntryView{No: e.EntryNo, Version: e.Version, Entered: at(&e.EnteredAt), State: e.State, Ended: at(e.EndedAt), Reason: e.Reason}
		for _, st := range e.Steps {
			ev.Steps = append(ev.Steps, journeyStepView{Step: cmpOr(names[fmt.Sprintf("%d/%s", st.Version, st.StepID)], st.StepID), Type: st.Type,
				Status: st.Status, Due: at(&st.DueAt), Finished: at(st.FinishedAt), Result: st.Result, Reason: st.Reason, Attempts: st.Attempts, Key: st.MessageKey})
		}
		v.Entries = append(v.Entries, ev)
	}
	s.render(w, r, http.StatusOK, "journey_person", "journeys.title", v)
}

// ---- the editor ----

type journeyEditView struct {
	ID         int64
	Name       string
	Live       bool
	Action     string
	Definition string
	Error      string
	Strings    map[string]string
	Options    journeyEditorOptions
}

func (journeyEditView) NavKey() string { return "journeys" }

// journeyEditorOptions are the choices the editor offers: stages and
// segments by name.
type journeyEditorOptions struct {
	Stages   []journeyOption  `json:"stages"`
	Segments []journeySegment `json:"segments"`
}

type journeyOption struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

type journeySegment struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// journeyStarter is what a new journey starts from: the simplest
// nurture, a download followed by an email, a wait and a branch.
func journeyStarter(loc Locale) model.JourneyDef {
	return model.JourneyDef{
		Name:    loc.T("journeys.starter.name"),
		Trigger: model.JourneyTrigger{Event: "Whitepaper Downloaded"},
		Steps: []model.JourneyStep{
			{ID: "welcome", Type: model.StepEmail, Subject: loc.T("journeys.starter.subject"), HTML: loc.T("journeys.starter.html"), Text: loc.T("journeys.starter.text")},
			{ID: "wait", Type: model.StepWait, For: "3d"},
			{ID: "opened", Type: model.StepBranch, If: &model.JourneyCond{Step: "welcome", Outcome: model.OutcomeClicked}, Else: "end"},
			{ID: "handoff", Type: model.StepUpdate, Task: loc.T("journeys.starter.task")},
			{ID: "end", Type: model.StepExit},
		},
	}
}

func (s *Server) editorView(r *http.Request, v *journeyEditView, def model.JourneyDef) error {
	ctx := r.Context()
	loc := s.catalog.locale(langOnly(r))
	if v.Definition == "" {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(def); err != nil {
			return err
		}
		v.Definition = buf.String()
	}
	v.Strings = loc.prefixed("journey.editor.")
	for _, st := range append(append([]model.Stage(nil), model.LifecycleStages...), model.StageNurture, model.StageDisqualified) {
		v.Options.Stages = append(v.Options.Stages, journeyOption{Key: string(st), Label: loc.Stage(st)})
	}
	v.Options.Segments = []journeySegment{}
	segs, err := s.store.Segments(ctx)
	if err != nil {
		return err
	}
	for _, g := range segs {
		if g.Kind == model.SegmentPersons {
			v.Options.Segments = append(v.Options.Segments, journeySegment{ID: g.ID, Name: g.Name})
		}
	}
	return nil
}

func (s *Server) journeyNewPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	def := journeyStarter(loc)
	v := &journeyEditView{Name: def.Name, Action: "/journeys/new"}
	if err := s.editorView(r, v, def); err != nil {
		s.pageInternal(w, r, "journey editor", err)
		return
	}
	s.render(w, r, http.StatusOK, "journey_edit", "journeys.new_title", v)
}

func (s *Server) journeyEditPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.pageJourney(w, r, "journey editor")
	if !ok {
		return
	}
	id := d.ID
	v := &journeyEditView{ID: id, Name: d.Name, Live: d.Status == model.JourneyLive, Action: fmt.Sprintf("/journeys/%d/edit", id)}
	if err := s.editorView(r, v, d.Definition); err != nil {
		s.pageInternal(w, r, "journey editor", err)
		return
	}
	s.render(w, r, http.StatusOK, "journey_edit", "journeys.edit_title", v)
}

// postedJourney reads the editor's form: the definition's JSON, named by
// the name field. A definition that does not hold is answered with the
// editor again, showing what was posted and what is wrong.
func (s *Server) postedJourney(w http.ResponseWriter, r *http.Request, v *journeyEditView) (model.JourneyDef, bool) {
	loc := s.catalog.locale(langOnly(r))
	var def model.JourneyDef
	raw := r.PostForm.Get("definition")
	v.Definition = raw
	v.Name = strings.TrimSpace(r.PostForm.Get("name"))
	fail := func(msg string) (model.JourneyDef, bool) {
		v.Error = msg
		if err := s.editorView(r, v, def); err != nil {
			s.pageInternal(w, r, "journey editor", err)
			return def, false
		}
		s.render(w, r, http.StatusBadRequest, "journey_edit", "journeys.edit_title", v)
		return def, false
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&def); err != nil {
		return fail(loc.T("journeys.error.json", "error", err.Error()))
	}
	if v.Name != "" {
		def.Name = v.Name
	}
	fault, err := s.journeyFault(r.Context(), &def)
	switch {
	case err != nil:
		s.pageInternal(w, r, "journey check", err)
		return def, false
	case fault != nil:
		return fail(loc.T("journeys.error.invalid", "error", fault.Error()))
	}
	return def, true
}

func (s *Server) journeyCreateSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.journeyForm(w, r, journeyFormMax) {
		return
	}
	v := &journeyEditView{Action: "/journeys/new"}
	def, ok := s.postedJourney(w, r, v)
	if !ok {
		return
	}
	u, _ := userFrom(r.Context())
	j, err := s.store.CreateJourney(r.Context(), def, u.Email, s.app.Now())
	if err != nil {
		s.pageInternal(w, r, "journey create", err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/journeys/%d?done=saved", j.ID), http.StatusSeeOther)
}

func (s *Server) journeyEditSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.journeyForm(w, r, journeyFormMax) {
		return
	}
	id, _ := pageID(r)
	v := &journeyEditView{ID: id, Action: fmt.Sprintf("/journeys/%d/edit", id)}
	def, ok := s.postedJourney(w, r, v)
	if !ok {
		return
	}
	_, err := s.store.UpdateJourney(r.Context(), id, def, s.app.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	case err != nil:
		s.pageInternal(w, r, "journey update", err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/journeys/%d?done=saved", id), http.StatusSeeOther)
}
