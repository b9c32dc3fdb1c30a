package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
)

// The person page (/persons/{id}): everything known about one person,
// their whole timeline, and the sales actions on them, which go through
// the same functions as the API's (moveStage, acceptPerson, rejectPerson,
// assignPerson) with the same role rules.

const (
	timelinePageSize = 50  // items the person page shows at a time
	timelineAPIMax   = 500 // the largest limit of the timeline API
)

// personRoutes mounts the person page, its actions and the person APIs
// it adds (timeline, deals, credits).
func (s *Server) personRoutes(m *http.ServeMux) error {
	m.Handle("GET /persons/{id}", s.page("persons", s.personPage))
	m.Handle("GET /persons/{id}/timeline", s.page("persons", s.personTimelineFragment))
	for _, action := range []string{"stage", "accept", "reject", "assign"} {
		m.Handle("POST /persons/{id}/"+action, s.page("persons", s.personAction(action)))
	}
	m.Handle("GET /api/v1/persons/{id}/deals", s.requireAPI(s.apiPersonDeals))
	m.Handle("GET /api/v1/persons/{id}/credits", s.requireAPI(s.apiPersonCredits))
	return nil
}

// personPageView is the person page's content.
type personPageView struct {
	D          model.PersonDetail
	Name       string
	Cal        model.Calendar
	L          Locale
	Score      *scoring.Breakdown
	Factors    []predict.Factor
	Stages     *dataTable
	Identities *dataTable
	Assign     *dataTable
	Opps       *dataTable
	Orders     *dataTable
	Credits    *dataTable
	Model      attribution.Model
	Models     []attribution.Model
	Current    *model.Assignment // the open or latest assignment
	SLAState   string            // of the current assignment, "" when none is open

	Timeline     []timelineRow
	TimelineNext string
	Counts       model.TimelineCounts

	// Actions.
	CanAct      bool
	Users       []model.RoutingUser // who can be assigned
	MoveTargets []model.Stage
	CanAccept   bool
	CanReject   bool
	Error       string // an action refused, in the user's language
	Done        string // an action done, in the user's language
}

// NavKey marks the persons entry of the navigation.
func (personPageView) NavKey() string { return "persons" }

// TraitList is the traits in key order.
func (v personPageView) TraitList() []traitPair {
	var out []traitPair
	for k, val := range v.D.Traits {
		var s string
		switch x := val.(type) {
		case string:
			s = x
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		out = append(out, traitPair{k, s})
	}
	slices.SortFunc(out, func(a, b traitPair) int { return strings.Compare(a.Key, b.Key) })
	return out
}

type traitPair struct{ Key, Value string }

// Local prints an instant in the team's time zone, to the minute.
func (v personPageView) Local(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "—"
	}
	return t.In(v.Cal.Loc).Format("2006-01-02 15:04")
}

// LocalTime is Local of a value.
func (v personPageView) LocalTime(t time.Time) string { return v.Local(&t) }

// Probability prints a predicted probability as a percentage.
func (v personPageView) Probability() string {
	if v.D.PredictedProbability == nil {
		return "—"
	}
	p := *v.D.PredictedProbability
	return formatPercent(&p)
}

// Number prints a score.
func (personPageView) Number(x float64) string { return formatDecimal(x, 1) }

// Count is the number of timeline items of a kind.
func (v personPageView) Count(kind string) int64 { return v.Counts[model.TimelineKind(kind)] }

// TimelinePart is the first page of the timeline for the template.
func (v personPageView) TimelinePart() timelinePart {
	return timelinePart{L: v.L, PersonID: v.D.ID, Rows: v.Timeline, Next: v.TimelineNext}
}

// timelineRow is one timeline item as the page lists it.
type timelineRow struct {
	Kind    model.TimelineKind
	When    string // team time, to the minute
	Title   string
	Detail  string
	Channel string
	Href    string
}

// timelineCursor is what the timeline's cursor holds (opaque to clients).
type timelineCursor struct {
	At   time.Time          `json:"t"`
	Kind model.TimelineKind `json:"k"`
	ID   int64              `json:"i"`
}

func encodeTimelineCursor(k model.TimelineKey) string {
	b, _ := json.Marshal(timelineCursor{At: k.At.UTC(), Kind: k.Kind, ID: k.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeTimelineCursor(v string) (*model.TimelineKey, error) {
	if v == "" {
		return nil, nil
	}
	bad := &filterError{Param: "cursor", Key: "person.error.cursor", Msg: "cursor: not a cursor of this timeline; leave it out to start from the newest item"}
	if len(v) > 512 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	var c timelineCursor
	if json.Unmarshal(b, &c) != nil || c.Kind.Rank() < 0 || c.ID <= 0 {
		return nil, bad
	}
	return &model.TimelineKey{At: c.At.UTC(), Kind: c.Kind, ID: c.ID}, nil
}

// creditModel reads ?model= (the default model without it).
func creditModel(r *http.Request) (attribution.Model, int, error) {
	m := report.DefaultModel
	if v := strings.TrimSpace(r.URL.Query().Get("model")); v != "" {
		pm, err := attribution.ParseModel(v)
		if err != nil {
			return "", 0, &filterError{Param: "model", Key: "error.bad_model", Msg: "model: " + err.Error()}
		}
		m = pm
	}
	col, ok := credits.Column(m)
	if !ok {
		return "", 0, &filterError{Param: "model", Key: "error.bad_model", Msg: fmt.Sprintf("model %q: its credits are not stored", m)}
	}
	return m, col, nil
}

// personView builds the person page; ok is false when it answered
// itself (not found, bad model).
func (s *Server) personView(w http.ResponseWriter, r *http.Request, l Locale) (*personPageView, bool) {
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return nil, false
	}
	ctx := r.Context()
	d, err := s.store.PersonDetail(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "person.not_found")
		return nil, false
	}
	if err != nil {
		s.pageInternal(w, r, "person page", err)
		return nil, false
	}
	if d.MergedIntoID != 0 {
		http.Redirect(w, r, fmt.Sprintf("/persons/%d", d.MergedIntoID), http.StatusSeeOther)
		return nil, false
	}
	cal, err := s.store.Calendar(ctx)
	if err != nil {
		s.pageInternal(w, r, "person page", err)
		return nil, false
	}
	v := &personPageView{D: d, Name: personName(l, d.ID, d.Name, d.Email), Cal: cal, L: l, Models: attribution.Models}
	fail := func(what string, err error) (*personPageView, bool) {
		s.pageInternal(w, r, "person page: "+what, err)
		return nil, false
	}
	var col int
	if v.Model, col, err = creditModel(r); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_model")
		return nil, false
	}

	users, err := s.store.RoutingUsers(ctx, nil)
	if err != nil {
		return fail("users", err)
	}
	for _, u := range users {
		if !u.Disabled && u.Role != model.RoleViewer {
			v.Users = append(v.Users, u)
		}
	}
	if b, err := scoring.Explain(ctx, s.store, d.ID, s.app.Now()); err == nil {
		v.Score = &b
	} else if !errors.Is(err, store.ErrNotFound) {
		return fail("score", err)
	}
	if d.PredictedProbability != nil {
		if v.Factors, err = predictdb.Factors(ctx, s.store, d.ID, d.PredictedAt); err != nil {
			return fail("prediction", err)
		}
	}

	hist, err := s.store.StageHistory(ctx, d.ID)
	if err != nil {
		return fail("stages", err)
	}
	v.Stages = stagesTable(l, cal, hist, users)
	v.Identities = identitiesTable(l, cal, d.Identities)
	as, err := s.store.PersonAssignments(ctx, d.ID)
	if err != nil {
		return fail("assignments", err)
	}
	if len(as) > 0 {
		cur := as[len(as)-1]
		v.Current = &cur
		if cur.SupersededAt == nil && cur.FirstFollowUpAt == nil {
			v.SLAState = string(report.StateAt(cur.DueAt, s.app.Now()))
		}
	}
	v.Assign = assignmentsTable(l, cal, as, s.app.Now())
	opps, err := s.store.PersonOpportunities(ctx, d.ID)
	if err != nil {
		return fail("opportunities", err)
	}
	v.Opps = opportunitiesTable(l, cal, opps)
	orders, err := s.store.PersonOrders(ctx, d.ID)
	if err != nil {
		return fail("orders", err)
	}
	v.Orders = ordersTable(l, cal, orders)
	cs, err := s.store.PersonCredits(ctx, d.ID, col)
	if err != nil {
		return fail("credits", err)
	}
	v.Credits = creditsTable(l, cal, cs)
	for _, t := range []*dataTable{v.Stages, v.Identities, v.Assign, v.Opps, v.Orders, v.Credits} {
		t.prepare(r, t.Columns[0].Key, t.ID != "identities")
	}

	items, next, err := s.store.PersonTimelinePage(ctx, d.ID, nil, timelinePageSize)
	if err != nil {
		return fail("timeline", err)
	}
	v.Timeline = timelineRows(l, cal, items, users)
	if next != nil {
		v.TimelineNext = encodeTimelineCursor(*next)
	}
	if v.Counts, err = s.store.PersonTimelineCounts(ctx, d.ID); err != nil {
		return fail("timeline counts", err)
	}

	if u, ok := userFrom(ctx); ok && auth.Allows(u.Role, model.RoleSales) {
		v.CanAct = true
		for _, st := range append(slices.Clone(model.LifecycleStages[1:]), model.StageNurture, model.StageDisqualified) {
			if st != d.Stage {
				v.MoveTargets = append(v.MoveTargets, st)
			}
		}
		v.CanAccept = d.Stage == model.StageMQL
		v.CanReject = d.Stage == model.StageMQL || d.Stage == model.StageSQL
	}
	if done := r.URL.Query().Get("done"); slices.Contains([]string{"stage", "accept", "reject", "assign"}, done) {
		v.Done = l.T("person.done." + done)
	}
	return v, true
}

func (s *Server) personPage(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	v, ok := s.personView(w, r, l)
	if !ok {
		return
	}
	if s.exportTable(w, r, fmt.Sprintf("person-%d", v.D.ID), viewFilter{}, v.Stages, v.Identities, v.Assign, v.Opps, v.Orders, v.Credits) {
		return
	}
	s.render(w, r, http.StatusOK, "person", "person.title", v)
}

// personTimelineFragment answers the page's "more" button: the next
// items of the timeline and the next button.
func (s *Server) personTimelineFragment(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	before, err := decodeTimelineCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "person.error.cursor")
		return
	}
	if ok, err := s.personExists(r.Context(), id); err != nil || !ok {
		if err != nil {
			s.pageInternal(w, r, "person timeline", err)
		} else {
			s.renderError(w, r, http.StatusNotFound, "person.not_found")
		}
		return
	}
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		s.pageInternal(w, r, "person timeline", err)
		return
	}
	items, next, err := s.store.PersonTimelinePage(r.Context(), id, before, timelinePageSize)
	if err != nil {
		s.pageInternal(w, r, "person timeline", err)
		return
	}
	users, err := s.store.RoutingUsers(r.Context(), nil)
	if err != nil {
		s.pageInternal(w, r, "person timeline", err)
		return
	}
	part := timelinePart{L: l, PersonID: id, Rows: timelineRows(l, cal, items, users)}
	if next != nil {
		part.Next = encodeTimelineCursor(*next)
	}
	s.renderPersonPart(w, r, "timeline-items", part)
}

// timelinePart is a piece of the timeline list.
type timelinePart struct {
	L        Locale
	PersonID int64
	Rows     []timelineRow
	Next     string
}

// renderPersonPart writes one template of person.html as a fragment.
func (s *Server) renderPersonPart(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf strings.Builder
	if err := s.pages["person"].ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render part", "part", name, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	fmt.Fprint(w, buf.String())
}

// personAction answers the person page's action forms: with htmx a
// redirect to the refreshed page, or the refusal in the user's language
// for the form to show; without, the same as a redirect (PRG) or the page
// again with the refusal.
func (s *Server) personAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := s.catalog.locale(langOnly(r))
		id, ok := pageID(r)
		if !ok {
			s.renderError(w, r, http.StatusNotFound, "error.not_found")
			return
		}
		u, _ := userFrom(r.Context())
		var err error
		if !auth.Allows(u.Role, model.RoleSales) {
			err = &actionError{Status: http.StatusForbidden, Msg: "forbidden", Key: "person.error.forbidden"}
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if perr := r.ParseForm(); perr != nil {
				err = &actionError{Status: http.StatusBadRequest, Msg: "bad form", Key: "person.error.bad_form"}
			} else {
				err = s.doPersonAction(r, action, id, u)
			}
		}
		htmx := r.Header.Get("HX-Request") == "true"
		if err == nil {
			to := fmt.Sprintf("/persons/%d?done=%s", id, action)
			if htmx {
				w.Header().Set("HX-Redirect", to)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		var ae *actionError
		if !errors.As(err, &ae) {
			s.pageInternal(w, r, "person "+action, err)
			return
		}
		msg := actionMessage(l, ae)
		if htmx {
			// htmx swaps only 2xx answers: the refusal goes into the
			// form's message area.
			s.renderPersonPart(w, r, "action-error", msg)
			return
		}
		v, ok := s.personView(w, r, l)
		if !ok {
			return
		}
		v.Error = msg
		s.render(w, r, ae.Status, "person", "person.title", v)
	}
}

// doPersonAction runs one action of the person page.
func (s *Server) doPersonAction(r *http.Request, action string, id int64, u model.User) error {
	f := r.PostForm
	actor := lifecycle.ActorUser + strconv.FormatInt(u.ID, 10)
	ctx := r.Context()
	switch action {
	case "stage":
		to := model.Stage(strings.TrimSpace(f.Get("to")))
		if to == "" {
			return &actionError{Status: http.StatusBadRequest, Msg: "to: missing", Key: "person.error.no_stage"}
		}
		return s.moveStage(ctx, id, moveRequest{To: to, Reason: f.Get("reason"), From: model.Stage(f.Get("from"))}, actor)
	case "accept":
		return s.acceptPerson(ctx, id, f.Get("reason"), actor)
	case "reject":
		return s.rejectPerson(ctx, id, moveRequest{To: model.Stage(f.Get("to")), Reason: f.Get("reason"), From: model.Stage(f.Get("from"))}, actor)
	case "assign":
		uid, _ := strconv.ParseInt(f.Get("user_id"), 10, 64)
		if uid <= 0 {
			return &actionError{Status: http.StatusBadRequest, Msg: "user_id: missing", Key: "person.error.no_user"}
		}
		_, err := s.assignPerson(ctx, s.app.Router, id, uid, "", f.Get("reason"), u.Email)
		return err
	}
	return &actionError{Status: http.StatusNotFound, Msg: "no such action", Key: "error.not_found"}
}

// actionMessage is a refusal in the user's language.
func actionMessage(l Locale, ae *actionError) string {
	args := slices.Clone(ae.Args)
	for i := 1; i < len(args); i += 2 {
		switch x := args[i].(type) {
		case model.Stage:
			args[i] = l.Stage(x)
		case []model.Stage:
			names := make([]string, len(x))
			for j, st := range x {
				names[j] = l.Stage(st)
			}
			args[i] = strings.Join(names, l.T("person.list_or"))
		}
	}
	return l.T(ae.Key, args...)
}

// actorText names who made a change: a user by name, a rule, the system.
func actorText(l Locale, actor string, users []model.RoutingUser) string {
	switch {
	case strings.HasPrefix(actor, lifecycle.ActorUser):
		id, _ := strconv.ParseInt(strings.TrimPrefix(actor, lifecycle.ActorUser), 10, 64)
		for _, u := range users {
			if u.ID == id {
				return orText(u.Name, u.Email)
			}
		}
		return actor
	case strings.HasPrefix(actor, lifecycle.ActorAPIKey):
		return l.T("person.actor.apikey", "name", strings.TrimPrefix(actor, lifecycle.ActorAPIKey))
	case strings.HasPrefix(actor, lifecycle.ActorRule):
		return l.T("person.actor.rule", "name", strings.TrimPrefix(actor, lifecycle.ActorRule))
	case actor == "":
		return "—"
	}
	key := "person.actor." + strings.ReplaceAll(actor, ":", "_")
	if t := l.T(key); t != key {
		return t
	}
	return actor
}

func stagesTable(l Locale, cal model.Calendar, hist []model.StageChange, users []model.RoutingUser) *dataTable {
	t := &dataTable{ID: "stages", Loc: cal.Loc, Empty: l.T("person.stages_empty"), Columns: []column{
		{Key: "at", Label: l.T("person.col.at"), Kind: kindTime},
		{Key: "from", Label: l.T("person.col.from"), Kind: kindText},
		{Key: "to", Label: l.T("person.col.to"), Kind: kindText},
		{Key: "reason", Label: l.T("person.col.reason"), Kind: kindText},
		{Key: "actor", Label: l.T("person.col.actor"), Kind: kindText},
	}}
	for _, c := range hist {
		t.Rows = append(t.Rows, []cell{{V: c.ChangedAt}, {V: string(c.FromStage), Text: l.Stage(c.FromStage)}, {V: string(c.ToStage), Text: l.Stage(c.ToStage)},
			{V: c.Reason}, {V: c.Actor, Text: actorText(l, c.Actor, users)}})
	}
	return t
}

func identitiesTable(l Locale, cal model.Calendar, ids []model.Identity) *dataTable {
	t := &dataTable{ID: "identities", Loc: cal.Loc, Empty: l.T("person.identities_empty"), Columns: []column{
		{Key: "type", Label: l.T("person.col.id_type"), Kind: kindText},
		{Key: "value", Label: l.T("person.col.id_value"), Kind: kindText},
		{Key: "since", Label: l.T("person.col.since"), Kind: kindTime},
	}}
	for _, i := range ids {
		t.Rows = append(t.Rows, []cell{{V: string(i.Type), Text: identityTypeText(l, i.Type)}, {V: i.Value}, {V: i.CreatedAt}})
	}
	return t
}

func identityTypeText(l Locale, t model.IdentityType) string {
	key := "person.id_type." + string(t)
	if s := l.T(key); s != key {
		return s
	}
	return string(t)
}

func assignmentsTable(l Locale, cal model.Calendar, as []model.Assignment, now time.Time) *dataTable {
	t := &dataTable{ID: "assignments", Loc: cal.Loc, Empty: l.T("person.assignments_empty"), Columns: []column{
		{Key: "assigned_at", Label: l.T("person.col.assigned_at"), Kind: kindTime},
		{Key: "owner", Label: l.T("person.col.owner"), Kind: kindText},
		{Key: "rule", Label: l.T("person.col.rule"), Kind: kindText},
		{Key: "due_at", Label: l.T("sales.col.due_at"), Tip: l.T("sales.tip.due_at"), Kind: kindTime},
		{Key: "follow_up", Label: l.T("person.col.follow_up"), Tip: l.T("sales.tip.first_follow_up"), Kind: kindTime},
		{Key: "state", Label: l.T("person.col.sla"), Tip: l.T("sales.tip.sla_state"), Kind: kindText},
		{Key: "closed", Label: l.T("person.col.closed"), Kind: kindText},
	}}
	for _, a := range as {
		state := assignmentState(a, now)
		closed := ""
		if a.ClosedReason != "" {
			closed = l.T("person.closed." + a.ClosedReason)
		}
		t.Rows = append(t.Rows, []cell{{V: a.AssignedAt}, {V: orText(a.UserName, a.UserEmail)}, {V: a.Rule}, {V: a.DueAt},
			{V: a.FirstFollowUpAt}, {V: state, Text: l.T("person.sla." + state)}, {V: closed}})
	}
	return t
}

// assignmentState is where an assignment stands: followed up within or
// after its due time, or, while open, its SLA state; closed without a
// follow-up otherwise.
func assignmentState(a model.Assignment, now time.Time) string {
	switch {
	case a.FirstFollowUpAt != nil && !a.FirstFollowUpAt.After(a.DueAt):
		return "within_sla"
	case a.FirstFollowUpAt != nil:
		return "late"
	case a.SupersededAt != nil:
		return "closed"
	}
	return string(report.StateAt(a.DueAt, now))
}

func opportunitiesTable(l Locale, cal model.Calendar, os []store.PersonOpportunity) *dataTable {
	t := &dataTable{ID: "opportunities", Loc: cal.Loc, Empty: l.T("person.opportunities_empty"), Columns: []column{
		{Key: "created_at", Label: l.T("person.col.created_at"), Kind: kindDate},
		{Key: "name", Label: l.T("person.col.opportunity"), Kind: kindText},
		{Key: "stage", Label: l.T("person.col.opp_stage"), Kind: kindText},
		{Key: "amount", Label: l.T("person.col.amount"), Kind: kindMoney},
		{Key: "closed_at", Label: l.T("person.col.closed_at"), Kind: kindDate},
		{Key: "role", Label: l.T("person.col.role"), Kind: kindText},
		{Key: "primary", Label: l.T("person.col.primary"), Tip: l.T("persons.tip.primary_contact"), Kind: kindText},
		{Key: "owner", Label: l.T("person.col.opp_owner"), Kind: kindText},
	}}
	for _, o := range os {
		var closed any
		if o.ClosedAt != nil {
			closed = cal.Day(*o.ClosedAt)
		}
		primary := ""
		if o.Primary {
			primary = l.T("person.primary")
		}
		t.Rows = append(t.Rows, []cell{{V: cal.Day(o.CreatedAt)}, {V: o.Name}, {V: o.Stage, Text: oppStageText(l, o.Stage)}, {V: o.Amount},
			{V: closed}, {V: o.Role, Text: roleText(l, o.Role)}, {V: primary}, {V: o.OwnerName}})
	}
	return t
}

func roleText(l Locale, role string) string {
	if role == "" {
		return ""
	}
	key := "person.role." + role
	if s := l.T(key); s != key {
		return s
	}
	return role
}

func ordersTable(l Locale, cal model.Calendar, os []store.PersonOrder) *dataTable {
	t := &dataTable{ID: "orders", Loc: cal.Loc, Empty: l.T("person.orders_empty"), Columns: []column{
		{Key: "ordered_at", Label: l.T("person.col.ordered_at"), Kind: kindDate},
		{Key: "opportunity", Label: l.T("person.col.opportunity"), Kind: kindText},
		{Key: "kind", Label: l.T("person.col.order_kind"), Kind: kindText},
		{Key: "amount", Label: l.T("person.col.amount"), Kind: kindMoney},
	}}
	for _, o := range os {
		t.Rows = append(t.Rows, []cell{{V: cal.Day(o.OrderedAt)}, {V: o.OpportunityName}, {V: o.Kind, Text: l.T("person.order_kind." + o.Kind)}, {V: o.Amount}})
	}
	return t
}

func creditsTable(l Locale, cal model.Calendar, cs []store.PersonCredit) *dataTable {
	t := &dataTable{ID: "credits", Loc: cal.Loc, Empty: l.T("person.credits_empty"), Columns: []column{
		{Key: "at", Label: l.T("person.col.converted_at"), Kind: kindDate},
		{Key: "kind", Label: l.T("person.col.conversion"), Kind: kindText},
		{Key: "label", Label: l.T("person.col.what"), Kind: kindText},
		{Key: "value", Label: l.T("person.col.value"), Kind: kindMoney},
		{Key: "touches", Label: l.T("person.col.touches"), Kind: kindInt},
		{Key: "share", Label: l.T("person.col.share"), Tip: l.T("persons.tip.person_share"), Kind: kindPercent},
		{Key: "credited", Label: l.T("person.col.credited"), Tip: l.T("persons.tip.person_credited"), Kind: kindMoney},
	}}
	var total float64
	var totalValue model.Money
	for _, c := range cs {
		share := c.Share
		credited := c.Credited()
		total += credited
		totalValue += c.Value
		t.Rows = append(t.Rows, []cell{{V: cal.Day(c.At)}, {V: string(c.Kind), Text: l.T("person.conversion." + string(c.Kind))}, {V: c.Label},
			{V: c.Value}, {V: int64(c.Touches)}, {V: &share}, {V: credited}})
	}
	if len(cs) > 0 {
		t.Total = []cell{{V: l.T("person.credits_total")}, {V: ""}, {V: ""}, {V: totalValue}, {V: nil}, {V: nil}, {V: math.Round(total)}}
	}
	return t
}

// timelineRows describes timeline items in the user's language.
func timelineRows(l Locale, cal model.Calendar, items []model.TimelineItem, users []model.RoutingUser) []timelineRow {
	out := make([]timelineRow, 0, len(items))
	for _, it := range items {
		row := timelineRow{Kind: it.Kind, When: it.At.In(cal.Loc).Format("2006-01-02 15:04")}
		switch it.Kind {
		case model.ItemTouch:
			row.Title = touchTypeText(l, it.Type)
			row.Channel = channelText(l, it.Channel)
			var parts []string
			if name := campaignText(l, it); name != "" {
				parts = append(parts, name)
			}
			if it.Keyword != "" {
				parts = append(parts, l.T("person.tl.keyword", "keyword", it.Keyword))
			}
			if it.Content != "" {
				parts = append(parts, it.Content)
			}
			if it.WatchSeconds > 0 {
				parts = append(parts, l.T("person.tl.watched", "minutes", formatDecimal(float64(it.WatchSeconds)/60, 0)))
			}
			if it.URL != "" {
				parts = append(parts, clip(it.URL, 120))
			}
			row.Detail = strings.Join(parts, " · ")
		case model.ItemEvent:
			row.Title = l.T("person.tl.event", "type", it.Type)
			row.Detail = strings.TrimSpace(it.Name + " " + clip(it.URL, 120))
		case model.ItemStage:
			row.Title = l.T("person.tl.stage", "from", l.Stage(it.From), "to", l.Stage(it.To))
			row.Detail = strings.Trim(it.Reason+" · "+actorText(l, it.Actor, users), " ·")
		case model.ItemActivity:
			row.Title = l.T("person.tl.activity", "kind", l.T("person.activity."+it.ActivityKind), "user", orText(it.UserName, it.UserEmail))
			row.Detail = it.Note
		case model.ItemOpportunity:
			row.Title = l.T("person.tl.opportunity", "name", it.OpportunityName)
			row.Detail = formatMoney(it.Amount) + " · " + roleText(l, it.Role)
			if it.Primary {
				row.Detail += " · " + l.T("person.primary")
			}
		case model.ItemOpportunityClosed:
			row.Title = l.T("person.tl.opportunity_closed", "name", it.OpportunityName, "stage", oppStageText(l, it.OpportunityStage))
			row.Detail = formatMoney(it.Amount)
		case model.ItemOrder:
			row.Title = l.T("person.tl.order", "name", it.OpportunityName)
			row.Detail = formatMoney(it.Amount) + " · " + l.T("person.order_kind."+it.OrderKind)
		}
		row.Detail = strings.Trim(row.Detail, " ·")
		out = append(out, row)
	}
	return out
}

func touchTypeText(l Locale, typ string) string {
	key := "person.touch." + typ
	if s := l.T(key); s != key {
		return s
	}
	return typ
}

func campaignText(l Locale, it model.TimelineItem) string {
	if l.Lang == LangEN && it.CampaignNameEN != "" {
		return it.CampaignNameEN
	}
	return it.CampaignName
}

// timelineItemJSON is one timeline item as the API gives it; which fields
// are present depends on the kind.
type timelineItemJSON struct {
	Kind             model.TimelineKind `json:"kind"`
	At               time.Time          `json:"at"`
	ID               int64              `json:"id"`
	Type             string             `json:"type,omitempty"`
	Name             string             `json:"name,omitempty"`
	Channel          model.Channel      `json:"channel,omitempty"`
	Source           string             `json:"source,omitempty"`
	Medium           string             `json:"medium,omitempty"`
	URL              string             `json:"url,omitempty"`
	CampaignID       *int64             `json:"campaign_id,omitempty"`
	Campaign         string             `json:"campaign,omitempty"`
	CampaignName     string             `json:"campaign_name,omitempty"`
	Keyword          string             `json:"keyword,omitempty"`
	Content          string             `json:"content,omitempty"`
	WatchSeconds     int64              `json:"watch_seconds,omitempty"`
	EventID          *int64             `json:"event_id,omitempty"`
	MessageID        string             `json:"messageId,omitempty"`
	From             model.Stage        `json:"from,omitempty"`
	To               model.Stage        `json:"to,omitempty"`
	Reason           string             `json:"reason,omitempty"`
	Actor            string             `json:"actor,omitempty"`
	ActivityKind     string             `json:"activity_kind,omitempty"`
	UserEmail        string             `json:"user_email,omitempty"`
	UserName         string             `json:"user_name,omitempty"`
	Note             string             `json:"note,omitempty"`
	OpportunityID    *int64             `json:"opportunity_id,omitempty"`
	OpportunityName  string             `json:"opportunity_name,omitempty"`
	OpportunityStage string             `json:"opportunity_stage,omitempty"`
	Amount           *model.Money       `json:"amount,omitempty"`
	Role             string             `json:"role,omitempty"`
	Primary          *bool              `json:"primary,omitempty"`
	OrderKind        string             `json:"order_kind,omitempty"`
}

func newTimelineItemJSON(it model.TimelineItem) timelineItemJSON {
	j := timelineItemJSON{Kind: it.Kind, At: it.At, ID: it.ID, Type: it.Type, Name: it.Name, Channel: it.Channel, Source: it.Source, Medium: it.Medium,
		URL: it.URL, Campaign: it.RawCampaign, CampaignName: it.CampaignName, Keyword: it.Keyword, Content: it.Content, WatchSeconds: it.WatchSeconds,
		MessageID: it.MessageID, From: it.From, To: it.To, Reason: it.Reason, Actor: it.Actor, ActivityKind: it.ActivityKind, UserEmail: it.UserEmail,
		UserName: it.UserName, Note: it.Note, OpportunityName: it.OpportunityName, OpportunityStage: it.OpportunityStage, Role: it.Role, OrderKind: it.OrderKind}
	if it.CampaignID != 0 {
		id := it.CampaignID
		j.CampaignID, j.Campaign = &id, it.CampaignCode
	}
	if it.EventID != 0 {
		id := it.EventID
		j.EventID = &id
	}
	switch it.Kind {
	case model.ItemOpportunity, model.ItemOpportunityClosed, model.ItemOrder:
		id, amount := it.OpportunityID, it.Amount
		j.OpportunityID, j.Amount = &id, &amount
		if it.Kind != model.ItemOrder {
			p := it.Primary
			j.Primary = &p
		}
	}
	return j
}

type timelineJSON struct {
	PersonID   int64              `json:"person_id"`
	Items      []timelineItemJSON `json:"items"`
	Counts     map[string]int64   `json:"counts"`
	Total      int64              `json:"total"`
	NextCursor *string            `json:"next_cursor"`
	Truncated  bool               `json:"truncated"`
}

const defaultTimelineLimit = 100

// apiTimeline answers GET /api/v1/persons/{id}/timeline: every item of a
// person's history, newest first, a page at a time.
func (s *Server) apiTimeline(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	limit := defaultTimelineLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > timelineAPIMax {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("limit: want a number from 1 to %d", timelineAPIMax))
			return
		}
		limit = n
	}
	before, err := decodeTimelineCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	d, ok := s.personOr404(w, r, id)
	if !ok {
		return
	}
	items, next, err := s.store.PersonTimelinePage(r.Context(), d.ID, before, limit)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	counts, err := s.store.PersonTimelineCounts(r.Context(), d.ID)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := timelineJSON{PersonID: d.ID, Items: []timelineItemJSON{}, Counts: map[string]int64{}, Total: counts.Total(), Truncated: next != nil}
	for k, n := range counts {
		out.Counts[string(k)] = n
	}
	for _, it := range items {
		out.Items = append(out.Items, newTimelineItemJSON(it))
	}
	if next != nil {
		c := encodeTimelineCursor(*next)
		out.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, out)
}

// apiPersonDeals answers GET /api/v1/persons/{id}/deals: the
// opportunities the person is a contact of (with role and whether
// primary) and their orders.
func (s *Server) apiPersonDeals(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	if _, ok := s.personOr404(w, r, id); !ok {
		return
	}
	opps, err := s.store.PersonOpportunities(r.Context(), id)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	orders, err := s.store.PersonOrders(r.Context(), id)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	type oppJSON struct {
		ID         int64       `json:"id"`
		ExternalID string      `json:"external_id"`
		Name       string      `json:"name"`
		Account    refJSON     `json:"account"`
		Owner      string      `json:"owner"`
		Stage      string      `json:"stage"`
		Amount     model.Money `json:"amount"`
		CreatedAt  time.Time   `json:"created_at"`
		ClosedAt   *time.Time  `json:"closed_at"`
		Role       string      `json:"role"`
		Primary    bool        `json:"primary"`
	}
	type orderJSON struct {
		ID            int64       `json:"id"`
		ExternalID    string      `json:"external_id"`
		OpportunityID int64       `json:"opportunity_id"`
		Opportunity   string      `json:"opportunity_name"`
		Kind          string      `json:"kind"`
		Amount        model.Money `json:"amount"`
		OrderedAt     time.Time   `json:"ordered_at"`
	}
	out := struct {
		PersonID      int64       `json:"person_id"`
		Currency      string      `json:"currency"`
		Opportunities []oppJSON   `json:"opportunities"`
		Orders        []orderJSON `json:"orders"`
	}{PersonID: id, Currency: "CNY", Opportunities: []oppJSON{}, Orders: []orderJSON{}}
	for _, o := range opps {
		out.Opportunities = append(out.Opportunities, oppJSON{ID: o.ID, ExternalID: o.ExternalID, Name: o.Name, Account: refJSON{ID: o.AccountID, Name: o.Account},
			Owner: o.OwnerName, Stage: o.Stage, Amount: o.Amount, CreatedAt: o.CreatedAt, ClosedAt: o.ClosedAt, Role: o.Role, Primary: o.Primary})
	}
	for _, o := range orders {
		out.Orders = append(out.Orders, orderJSON{ID: o.ID, ExternalID: o.ExternalID, OpportunityID: o.OpportunityID, Opportunity: o.OpportunityName,
			Kind: o.Kind, Amount: o.Amount, OrderedAt: o.OrderedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// apiPersonCredits answers GET /api/v1/persons/{id}/credits?model=: what
// the person's touches earned, per conversion, under one model.
func (s *Server) apiPersonCredits(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	m, col, err := creditModel(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, ok := s.personOr404(w, r, id); !ok {
		return
	}
	cs, err := s.store.PersonCredits(r.Context(), id, col)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	type creditJSON struct {
		Kind         model.ConversionKind `json:"kind"`
		ConversionID int64                `json:"conversion_id"`
		Label        string               `json:"label"`
		At           time.Time            `json:"converted_at"`
		Value        model.Money          `json:"value"`
		Touches      int                  `json:"touches"`
		Share        float64              `json:"share"`
		Credited     model.Money          `json:"credited"`
	}
	out := struct {
		PersonID int64             `json:"person_id"`
		Model    attribution.Model `json:"model"`
		Currency string            `json:"currency"`
		Credits  []creditJSON      `json:"credits"`
	}{PersonID: id, Model: m, Currency: "CNY", Credits: []creditJSON{}}
	for _, c := range cs {
		out.Credits = append(out.Credits, creditJSON{Kind: c.Kind, ConversionID: c.ConversionID, Label: c.Label, At: c.At, Value: c.Value,
			Touches: c.Touches, Share: math.Round(c.Share*1e6) / 1e6, Credited: model.Money(math.Round(c.Credited()))})
	}
	writeJSON(w, http.StatusOK, out)
}

// personExists is a cheap check for fragments.
func (s *Server) personExists(ctx context.Context, id int64) (bool, error) {
	_, err := s.store.PersonRef(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// oppStageText names an opportunity's CRM stage.
func oppStageText(l Locale, st string) string {
	key := "opp_stage." + st
	if s := l.T(key); s != key {
		return s
	}
	return st
}
