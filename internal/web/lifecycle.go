package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
)

// lifecycleRoutes mounts the lifecycle API: stage moves with history, SDR
// actions, SDR classes and grades (by hand and by rules), the CRM's
// opportunities and orders (which move contacts forward), and funnel
// figures.
func (s *Server) lifecycleRoutes(m *http.ServeMux) error {
	m.Handle("POST /api/v1/persons/{id}/stage", s.requireActor(model.RoleSales, s.apiMoveStage))
	m.Handle("GET /api/v1/persons/{id}/stages", s.requireAPI(s.apiStageHistory))
	m.Handle("POST /api/v1/persons/{id}/accept", s.requireActor(model.RoleSales, s.apiAccept))
	m.Handle("POST /api/v1/persons/{id}/reject", s.requireActor(model.RoleSales, s.apiReject))
	m.Handle("GET /api/v1/persons/{id}/qualification", s.requireAPI(s.apiQualification))
	m.Handle("PUT /api/v1/persons/{id}/qualification", s.requireActor(model.RoleSales, s.apiSetQualification))
	m.Handle("GET /api/v1/lifecycle/rules", s.requireAPI(s.apiLifecycleRules))
	m.Handle("PUT /api/v1/lifecycle/rules", s.requireActor(model.RoleMarketer, s.apiPutLifecycleRules))
	m.Handle("POST /api/v1/lifecycle/rules/run", s.requireActor(model.RoleMarketer, s.apiRunLifecycleRules))
	m.Handle("GET /api/v1/lifecycle/funnel", s.requireAPI(s.apiLifecycleFunnel))
	m.Handle("POST /api/v1/opportunities", s.requireActor(model.RoleSales, s.apiUpsertOpportunity))
	m.Handle("GET /api/v1/opportunities/{id}", s.requireAPI(s.apiOpportunity))
	m.Handle("PATCH /api/v1/opportunities/{id}", s.requireActor(model.RoleSales, s.apiPatchOpportunity))
	m.Handle("POST /api/v1/orders", s.requireActor(model.RoleSales, s.apiUpsertOrder))
	return nil
}

// requireActor authenticates a request that changes the lifecycle and
// names who makes it: an API key ("apikey:NAME", with the key's role) or a
// logged-in user ("user:ID", with the user's role), for any method (the
// server refuses cross-origin form posts before this runs).
func (s *Server) requireActor(min model.Role, next func(w http.ResponseWriter, r *http.Request, actor string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if authz := r.Header.Get("Authorization"); authz != "" {
			s.requireRole(min, func(w http.ResponseWriter, r *http.Request) {
				key, _ := bearer(authz)
				k, err := s.auth.CheckAPIKey(r.Context(), key)
				if err != nil {
					s.apiInternal(w, r, err)
					return
				}
				name := strings.TrimSpace(k.Name)
				if name == "" {
					name = k.Prefix
				}
				next(w, r, lifecycle.ActorAPIKey+clip(name, 100))
			}).ServeHTTP(w, r)
			return
		}
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="revloop"`)
			writeJSONError(w, http.StatusUnauthorized, "log in, or send Authorization: Bearer <key>")
			return
		}
		u, err := s.auth.SessionUser(r.Context(), c.Value)
		if errors.Is(err, auth.ErrNoSession) {
			writeJSONError(w, http.StatusUnauthorized, "your session has ended: log in again")
			return
		}
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		if !auth.Allows(u.Role, min) {
			writeJSONError(w, http.StatusForbidden, fmt.Sprintf("this needs the %s role or above; yours is %s", min, u.Role))
			return
		}
		next(w, r, lifecycle.ActorUser+strconv.FormatInt(u.ID, 10))
	})
}

// stageChangeJSON is one step of a person's stage history.
type stageChangeJSON struct {
	From        model.Stage `json:"from"`
	To          model.Stage `json:"to"`
	At          time.Time   `json:"at"`
	Reason      string      `json:"reason"`
	Actor       string      `json:"actor"`
	RuleVersion *int64      `json:"rule_version"`
}

type stageHistoryJSON struct {
	PersonID int64             `json:"person_id"`
	Stage    model.Stage       `json:"stage"`
	StageAt  *time.Time        `json:"stage_at"`
	Changes  []stageChangeJSON `json:"changes"`
}

// answered answers a store error, if there is one: 404 "no WHAT ID" when
// the record does not exist, 500 otherwise. It reports whether it answered.
func (s *Server) answered(w http.ResponseWriter, r *http.Request, err error, what string, id int64) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no %s %d", what, id))
	default:
		s.apiInternal(w, r, err)
	}
	return true
}

func (s *Server) stageHistory(w http.ResponseWriter, r *http.Request, id int64, code int) {
	st, at, err := s.store.PersonStage(r.Context(), id)
	if s.answered(w, r, err, "person", id) {
		return
	}
	hist, err := s.store.StageHistory(r.Context(), id)
	if s.answered(w, r, err, "person", id) {
		return
	}
	out := stageHistoryJSON{PersonID: id, Stage: st, StageAt: at, Changes: []stageChangeJSON{}}
	for _, c := range hist {
		j := stageChangeJSON{From: c.FromStage, To: c.ToStage, At: c.ChangedAt, Reason: c.Reason, Actor: c.Actor}
		if c.RuleVersion != 0 {
			v := c.RuleVersion
			j.RuleVersion = &v
		}
		out.Changes = append(out.Changes, j)
	}
	writeJSON(w, code, out)
}

func (s *Server) apiStageHistory(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	s.stageHistory(w, r, id, http.StatusOK)
}

// moveRequest is the body of a stage move.
type moveRequest struct {
	To     model.Stage `json:"to"`
	Reason string      `json:"reason"`
	// From, when given, is the stage the caller saw: the move is refused
	// with 409 if the person is no longer in it.
	From model.Stage `json:"from"`
}

// actionError is a person action refused for a reason the caller can
// fix: the HTTP status and the API's message, and the catalogue key (with
// its arguments) a page shows instead.
type actionError struct {
	Status int
	Msg    string
	Key    string
	Args   []any
}

func (e *actionError) Error() string { return e.Msg }

// answerAction answers an action's error on the API: its status and
// message when refused, 500 otherwise.
func (s *Server) answerAction(w http.ResponseWriter, r *http.Request, err error) {
	var ae *actionError
	if errors.As(err, &ae) {
		writeJSONError(w, ae.Status, ae.Msg)
		return
	}
	s.apiInternal(w, r, err)
}

// moveStage applies one stage move for actor, the API's and the person
// page's alike: nil when applied, an *actionError when refused (400 for a
// move the rules refuse, 404, 409 when the person moved meanwhile), any
// other error when it failed.
func (s *Server) moveStage(ctx context.Context, id int64, req moveRequest, actor string, allowedFrom ...model.Stage) error {
	if len(req.Reason) > 500 {
		return &actionError{Status: http.StatusBadRequest, Msg: "reason: at most 500 bytes", Key: "person.error.reason_too_long"}
	}
	req.Reason = strings.TrimSpace(req.Reason)
	cur, _, err := s.store.PersonStage(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return &actionError{Status: http.StatusNotFound, Msg: fmt.Sprintf("no person %d", id), Key: "person.error.not_found"}
	}
	if err != nil {
		return err
	}
	if req.From != "" && req.From != cur {
		return &actionError{Status: http.StatusConflict, Msg: fmt.Sprintf("person %d moved meanwhile: it is in %s now, not %s; reload and decide again", id, cur, req.From),
			Key: "person.error.moved_meanwhile", Args: []any{"stage", cur}}
	}
	if len(allowedFrom) > 0 && !slices.Contains(allowedFrom, cur) {
		names := make([]string, len(allowedFrom))
		for i, st := range allowedFrom {
			names[i] = string(st)
		}
		return &actionError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("person %d is in %s; this action applies to persons in %s", id, cur, strings.Join(names, " or ")),
			Key: "person.error.wrong_stage", Args: []any{"stage", cur, "allowed", allowedFrom}}
	}
	moved, err := lifecycle.Move(ctx, s.store, id, cur, req.To, s.app.Now(), req.Reason, actor, 0)
	var refused *lifecycle.RefusedError
	if errors.As(err, &refused) {
		return &actionError{Status: http.StatusBadRequest, Msg: err.Error(), Key: "person.error.refused." + refused.Code,
			Args: []any{"from", refused.From, "to", refused.To}}
	}
	if err != nil {
		return err
	}
	if !moved {
		now, _, err := s.store.PersonStage(ctx, id)
		if err != nil {
			now = "another stage"
		}
		return &actionError{Status: http.StatusConflict, Msg: fmt.Sprintf("person %d moved meanwhile: it left %s (now %s) before this move was applied; reload and decide again", id, cur, now),
			Key: "person.error.moved_meanwhile", Args: []any{"stage", now}}
	}
	return nil
}

// move applies one stage move for a caller and answers: 200 with the
// history, or the refusal.
func (s *Server) move(w http.ResponseWriter, r *http.Request, id int64, req moveRequest, actor string, allowedFrom ...model.Stage) {
	if err := s.moveStage(r.Context(), id, req, actor, allowedFrom...); err != nil {
		s.answerAction(w, r, err)
		return
	}
	s.stageHistory(w, r, id, http.StatusOK)
}

// acceptReason is an accept's reason when the SDR gives none.
const acceptReason = "an SDR accepts"

// acceptPerson is an SDR accepting an MQL: mql → sql.
func (s *Server) acceptPerson(ctx context.Context, id int64, reason, actor string) error {
	if strings.TrimSpace(reason) == "" {
		reason = acceptReason
	}
	return s.moveStage(ctx, id, moveRequest{To: model.StageSQL, Reason: reason}, actor, model.StageMQL)
}

// rejectPerson is an SDR turning an MQL or SQL back: to nurture or
// disqualified, with a reason.
func (s *Server) rejectPerson(ctx context.Context, id int64, req moveRequest, actor string) error {
	if req.To != model.StageNurture && req.To != model.StageDisqualified {
		return &actionError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(`to %q: a rejected person goes to "nurture" or "disqualified"`, clip(string(req.To), 40)),
			Key: "person.error.reject_to"}
	}
	if strings.TrimSpace(req.Reason) == "" {
		return &actionError{Status: http.StatusBadRequest, Msg: "reason: say why the person is rejected", Key: "person.error.reject_reason"}
	}
	return s.moveStage(ctx, id, moveRequest{To: req.To, Reason: req.Reason, From: req.From}, actor, model.StageMQL, model.StageSQL)
}

func (s *Server) apiMoveStage(w http.ResponseWriter, r *http.Request, actor string) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	var req moveRequest
	if !decodeBody(w, r, &req, `{"to": STAGE, "reason": TEXT, "from": STAGE (optional)}`) {
		return
	}
	if req.To == "" {
		writeJSONError(w, http.StatusBadRequest, `to: missing; want one of subscriber, lead, mql, sql, opportunity, customer, nurture, disqualified`)
		return
	}
	s.move(w, r, id, req, actor)
}

// apiAccept is an SDR accepting an MQL: mql → sql.
func (s *Server) apiAccept(w http.ResponseWriter, r *http.Request, actor string) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 && !decodeBody(w, r, &body, `{"reason": TEXT} (optional)`) {
		return
	}
	if err := s.acceptPerson(r.Context(), id, body.Reason, actor); err != nil {
		s.answerAction(w, r, err)
		return
	}
	s.stageHistory(w, r, id, http.StatusOK)
}

// apiReject is an SDR turning an MQL (or SQL) back: to nurture or
// disqualified, with a reason.
func (s *Server) apiReject(w http.ResponseWriter, r *http.Request, actor string) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	var req moveRequest
	if !decodeBody(w, r, &req, `{"to": "nurture"|"disqualified", "reason": TEXT}`) {
		return
	}
	if err := s.rejectPerson(r.Context(), id, req, actor); err != nil {
		s.answerAction(w, r, err)
		return
	}
	s.stageHistory(w, r, id, http.StatusOK)
}

type qualificationJSON struct {
	PersonID int64 `json:"person_id"`
	model.PersonQualification
	History []model.QualificationChange `json:"history"`
}

func (s *Server) qualification(w http.ResponseWriter, r *http.Request, id int64) {
	q, err := s.store.PersonQualification(r.Context(), id)
	if s.answered(w, r, err, "person", id) {
		return
	}
	h, err := s.store.QualificationHistory(r.Context(), id)
	if s.answered(w, r, err, "person", id) {
		return
	}
	writeJSON(w, http.StatusOK, qualificationJSON{PersonID: id, PersonQualification: q, History: h})
}

func (s *Server) apiQualification(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	s.qualification(w, r, id)
}

// apiSetQualification sets a person's grade and/or SDR class by hand. An
// absent field is left alone; "" clears it (and hands it back to the rules).
func (s *Server) apiSetQualification(w http.ResponseWriter, r *http.Request, actor string) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	var req struct {
		Grade    *string `json:"grade"`
		SDRClass *string `json:"sdr_class"`
		Reason   string  `json:"reason"`
	}
	if !decodeBody(w, r, &req, `{"grade": "A"|"B"|"C"|"", "sdr_class": "opp"|"sql"|"mql"|"ma"|"non_target"|"", "reason": TEXT}`) {
		return
	}
	if req.Grade == nil && req.SDRClass == nil {
		writeJSONError(w, http.StatusBadRequest, `give "grade" and/or "sdr_class"`)
		return
	}
	if len(req.Reason) > 500 {
		writeJSONError(w, http.StatusBadRequest, "reason: at most 500 bytes")
		return
	}
	now := s.app.Now()
	var sets []model.QualificationSet
	if req.Grade != nil {
		g := strings.ToUpper(strings.TrimSpace(*req.Grade))
		if g != "" && !lifecycle.ValidGrade(g) {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf(`grade %q: want "A" (clear need and budget, short-term), "B" (fairly clear need, mid-term), "C" (unclear need, fits the ideal customer profile) or "" to clear`, clip(*req.Grade, 40)))
			return
		}
		sets = append(sets, model.QualificationSet{PersonID: id, Field: model.FieldGrade, Value: g, At: now, Actor: actor, Reason: strings.TrimSpace(req.Reason)})
	}
	if req.SDRClass != nil {
		c := strings.ToLower(strings.TrimSpace(*req.SDRClass))
		if c != "" && !lifecycle.ValidSDRClass(c) {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf(`sdr_class %q: want one of %s, or "" to clear`, clip(*req.SDRClass, 40), strings.Join(lifecycle.SDRClasses, ", ")))
			return
		}
		sets = append(sets, model.QualificationSet{PersonID: id, Field: model.FieldSDRClass, Value: c, At: now, Actor: actor, Reason: strings.TrimSpace(req.Reason)})
	}
	if _, err := s.store.SetQualifications(r.Context(), sets); s.answered(w, r, err, "person", id) {
		return
	}
	s.qualification(w, r, id)
}

type lifecycleRulesJSON struct {
	Version   int64           `json:"version"`
	UpdatedAt *time.Time      `json:"updated_at"`
	UpdatedBy string          `json:"updated_by"`
	Rules     json.RawMessage `json:"rules"`
	// Unchanged: a PUT of the active rules, which stores no version.
	Unchanged bool `json:"unchanged,omitempty"`
}

func (s *Server) apiLifecycleRules(w http.ResponseWriter, r *http.Request) {
	s.writeLifecycleRules(w, r, false)
}

func (s *Server) writeLifecycleRules(w http.ResponseWriter, r *http.Request, unchanged bool) {
	rs, saved, err := lifecycle.ActiveRules(r.Context(), s.store)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	b, err := json.Marshal(rs.Rules)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := lifecycleRulesJSON{Version: saved.Version, UpdatedBy: saved.CreatedBy, Rules: b, Unchanged: unchanged}
	if saved.Version != 0 {
		out.UpdatedAt = &saved.CreatedAt
	}
	writeJSON(w, http.StatusOK, out)
}

// lifecycleReadOnly are the keys a GET of the lifecycle rules puts beside
// "rules"; a PUT ignores them.
var lifecycleReadOnly = []string{"version", "updated_at", "updated_by", "unchanged"}

// apiPutLifecycleRules replaces the lifecycle rules with a new version. It
// takes what GET answers; rules identical to the active ones store
// nothing. With ?dry_run=true it evaluates the rules over every person
// and says what the next run would change, without saving.
func (s *Server) apiPutLifecycleRules(w http.ResponseWriter, r *http.Request, actor string) {
	body, dry, ok := readRuleSet(w, r, "lifecycle", lifecycleReadOnly, "")
	if !ok {
		return
	}
	d, err := s.draftRules(r.Context(), "lifecycle", body)
	if s.ruleDraftFailed(w, r, err) {
		return
	}
	if dry {
		s.writeRulePreview(w, r, d)
		return
	}
	if d.Unchanged {
		s.writeLifecycleRules(w, r, true)
		return
	}
	if _, err := s.saveRules(r.Context(), d, actor, false); err != nil {
		s.apiInternal(w, r, err)
		return
	}
	s.apiLifecycleRules(w, r)
}

// apiRunLifecycleRules starts a run of the lifecycle rules over everyone
// (an operation: 202 and its job, whose result says what changed).
func (s *Server) apiRunLifecycleRules(w http.ResponseWriter, r *http.Request, actor string) {
	s.startOperation(w, r, app.RunLifecycleRules())
}

func (s *Server) apiLifecycleFunnel(w http.ResponseWriter, r *http.Request) {
	win, err := parseWindow(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	f, err := report.LoadFunnel(r.Context(), s.store, report.FunnelQuery{From: win.From, To: win.To, Period: q.Get("period"), By: q.Get("by"), Now: s.app.Now()})
	var qe *report.QueryError
	if errors.As(err, &qe) {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

type opportunityJSON struct {
	ID         int64            `json:"id"`
	ExternalID string           `json:"external_id"`
	AccountID  int64            `json:"account_id"`
	Name       string           `json:"name"`
	OwnerID    *int64           `json:"owner_id"`
	Stage      string           `json:"stage"`
	Amount     model.Money      `json:"amount"`
	Currency   string           `json:"currency"`
	CreatedAt  time.Time        `json:"created_at"`
	ClosedAt   *time.Time       `json:"closed_at"`
	Contacts   []contactJSON    `json:"contacts"`
	Created    bool             `json:"created"`
	Moves      []contactMoveOut `json:"moves"`
}

type contactJSON struct {
	PersonID int64       `json:"person_id"`
	Stage    model.Stage `json:"stage"`
	Primary  bool        `json:"primary"`
}

type contactMoveOut struct {
	PersonID int64       `json:"person_id"`
	From     model.Stage `json:"from"`
	To       model.Stage `json:"to"`
	At       time.Time   `json:"at"`
	Reason   string      `json:"reason"`
	Applied  bool        `json:"applied"`
}

func newOpportunityJSON(w store.OpportunityWrite) opportunityJSON {
	o := w.Opportunity
	out := opportunityJSON{ID: o.ID, ExternalID: o.ExternalID, AccountID: o.AccountID, Name: o.Name, Stage: o.Stage, Amount: o.Amount,
		Currency: "CNY", CreatedAt: o.CreatedAt, ClosedAt: o.ClosedAt, Contacts: []contactJSON{}, Created: w.Created, Moves: []contactMoveOut{}}
	if o.OwnerID != 0 {
		id := o.OwnerID
		out.OwnerID = &id
	}
	for i, c := range o.Contacts {
		out.Contacts = append(out.Contacts, contactJSON{PersonID: c.PersonID, Stage: c.Stage, Primary: i == 0})
	}
	for i, m := range w.Moves {
		out.Moves = append(out.Moves, contactMoveOut{PersonID: m.PersonID, From: m.From, To: m.To, At: m.At, Reason: m.Reason, Applied: w.Applied[i]})
	}
	return out
}

// opportunityRequest is an opportunity as a CRM sends it.
// answerCRMError answers a CRM write's error: 400 for bad input and
// unknown references, 500 otherwise.
func (s *Server) answerCRMError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *lifecycle.InputError
	switch {
	case errors.As(err, &ie):
		writeJSONError(w, http.StatusBadRequest, ie.Msg)
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusBadRequest, err.Error())
	default:
		s.apiInternal(w, r, err)
	}
}

// apiUpsertOpportunity creates an opportunity, or updates the one with the
// same external_id, and moves its contacts forward.
func (s *Server) apiUpsertOpportunity(w http.ResponseWriter, r *http.Request, actor string) {
	var req lifecycle.OpportunityRequest
	if !decodeBody(w, r, &req, `{"external_id", "account_id" or "account_domain", "name", "amount": "120000.00", "stage", "owner_email", "contact_person_ids" or "contact_emails", "created_at"}`) {
		return
	}
	in, err := lifecycle.OpportunityInput(r.Context(), s.store, req, s.app.Now())
	if err != nil {
		s.answerCRMError(w, r, err)
		return
	}
	now := s.app.Now()
	out, err := s.store.UpsertOpportunity(r.Context(), in, lifecycle.ContactMoves(now))
	if err != nil {
		s.answerCRMError(w, r, err)
		return
	}
	code := http.StatusOK
	if out.Created {
		code = http.StatusCreated
	}
	writeJSON(w, code, newOpportunityJSON(out))
}

func (s *Server) apiOpportunity(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "opportunity")
	if !ok {
		return
	}
	o, err := s.store.Opportunity(r.Context(), id)
	if s.answered(w, r, err, "opportunity", id) {
		return
	}
	writeJSON(w, http.StatusOK, newOpportunityJSON(store.OpportunityWrite{Opportunity: o}))
}

// apiPatchOpportunity changes an opportunity's stage, amount or closing
// time; winning it moves its contacts to customer.
func (s *Server) apiPatchOpportunity(w http.ResponseWriter, r *http.Request, actor string) {
	id, ok := pathID(w, r, "opportunity")
	if !ok {
		return
	}
	var req lifecycle.OpportunityPatch
	if !decodeBody(w, r, &req, `{"stage", "amount": "120000.00", "closed_at"} (each optional)`) {
		return
	}
	out, err := lifecycle.PatchOpportunity(r.Context(), s.store, id, req, s.app.Now())
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no opportunity %d", id))
		return
	}
	if err != nil {
		s.answerCRMError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newOpportunityJSON(out))
}

type orderJSON struct {
	ID            int64            `json:"id"`
	ExternalID    string           `json:"external_id"`
	OpportunityID *int64           `json:"opportunity_id"`
	AccountID     int64            `json:"account_id"`
	Amount        model.Money      `json:"amount"`
	Currency      string           `json:"currency"`
	Kind          string           `json:"kind"`
	OrderedAt     time.Time        `json:"ordered_at"`
	Created       bool             `json:"created"`
	Moves         []contactMoveOut `json:"moves"`
}

// apiUpsertOrder records an order (revenue), or updates the one with the
// same external_id; an order's opportunity's contacts become customers.
func (s *Server) apiUpsertOrder(w http.ResponseWriter, r *http.Request, actor string) {
	var req lifecycle.OrderRequest
	if !decodeBody(w, r, &req, `{"external_id", "opportunity_id" or "opportunity_external_id", "account_id" or "account_domain", "amount": "120000.00", "kind": "new"|"renewal"|"upsell", "ordered_at"}`) {
		return
	}
	in, err := lifecycle.OrderInput(r.Context(), s.store, req)
	if err != nil {
		s.answerCRMError(w, r, err)
		return
	}
	out, err := s.store.UpsertOrder(r.Context(), in, lifecycle.OrderContactMoves(s.app.Now(), in.ExternalID, in.OrderedAt))
	if err != nil {
		s.answerCRMError(w, r, err)
		return
	}
	res := orderJSON{ID: out.ID, ExternalID: in.ExternalID, AccountID: in.AccountID, Amount: in.Amount, Currency: "CNY", Kind: in.Kind,
		OrderedAt: in.OrderedAt.UTC(), Created: out.Created, Moves: []contactMoveOut{}}
	if in.OpportunityID != 0 {
		res.OpportunityID = &in.OpportunityID
	}
	for i, m := range out.Moves {
		res.Moves = append(res.Moves, contactMoveOut{PersonID: m.PersonID, From: m.From, To: m.To, At: m.At, Reason: m.Reason, Applied: out.Applied[i]})
	}
	code := http.StatusOK
	if out.Created {
		code = http.StatusCreated
	}
	writeJSON(w, code, res)
}
