package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/routing"
	"github.com/revloop/revloop/internal/store"
)

// routingRoutes mounts assignment rules, activities and follow-up SLAs.
func (s *Server) routingRoutes(m *http.ServeMux) error {
	rt := s.app.Router

	m.Handle("GET /api/v1/routing/rules", s.requireRole(model.RoleMarketer, func(w http.ResponseWriter, r *http.Request) {
		rs, err := rt.Rules(r.Context())
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rs)
	}))
	m.Handle("PUT /api/v1/routing/rules", s.requireRole(model.RoleMarketer, func(w http.ResponseWriter, r *http.Request) {
		s.apiPutRoutingRules(w, r, rt)
	}))
	// A run now: an operation (202 and its job, whose result says what
	// was assigned and escalated).
	m.Handle("POST /api/v1/routing/run", s.requireRole(model.RoleAdmin, func(w http.ResponseWriter, r *http.Request) {
		s.startOperation(w, r, app.RunRouting())
	}))
	m.Handle("GET /api/v1/routing/report", s.requireAPI(func(w http.ResponseWriter, r *http.Request) {
		win, err := parseWindow(r)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, err.Error())
			return
		}
		rep, err := rt.Report(r.Context(), win.From, win.To)
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rep)
	}))
	m.Handle("GET /api/v1/routing/users", s.requireRole(model.RoleMarketer, func(w http.ResponseWriter, r *http.Request) {
		s.apiRoutingUsers(w, r, rt)
	}))
	m.Handle("PUT /api/v1/routing/users/{id}", s.requireRole(model.RoleAdmin, s.apiPutRoutingUser))
	m.Handle("POST /api/v1/persons/{id}/assign", s.requireRole(model.RoleSales, func(w http.ResponseWriter, r *http.Request) {
		s.apiAssignPerson(w, r, rt)
	}))
	m.Handle("GET /api/v1/persons/{id}/assignments", s.requireAPI(s.apiPersonAssignments))
	m.Handle("POST /api/v1/activities", s.requireRole(model.RoleSales, func(w http.ResponseWriter, r *http.Request) {
		s.apiLogActivity(w, r, rt)
	}))
	m.Handle("GET /api/v1/activities", s.requireAPI(s.apiActivities))

	return nil
}

// fieldTime reads an optional RFC 3339 time from a JSON field, with an
// error that names the field.
func fieldTime(field, v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an RFC 3339 time such as 2026-01-31T14:05:00+08:00", field, clipParam(v))
	}
	return &t, nil
}

// apiPutRoutingRules validates and stores a new rule version. It takes
// what GET answers (version, updated_at and updated_by are ignored); rules
// identical to the active ones store nothing. With ?dry_run=true it says
// where the next run would hand the waiting leads, without saving.
func (s *Server) apiPutRoutingRules(w http.ResponseWriter, r *http.Request, rt *routing.Router) {
	body, dry, ok := readRuleSet(w, r, "routing", nil, "")
	if !ok {
		return
	}
	d, err := s.draftRules(r.Context(), "routing", body)
	if s.ruleDraftFailed(w, r, err) {
		return
	}
	if dry {
		s.writeRulePreview(w, r, d)
		return
	}
	if !d.Unchanged {
		if _, err := s.saveRules(r.Context(), d, s.actor(r), false); err != nil {
			s.apiInternal(w, r, err)
			return
		}
	}
	saved, err := rt.Rules(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	saved.Unchanged = d.Unchanged
	writeJSON(w, http.StatusOK, saved)
}

// routingUserJSON is a user's routing settings and load.
type routingUserJSON struct {
	ID                int64      `json:"id"`
	Email             string     `json:"email"`
	Name              string     `json:"name"`
	Role              model.Role `json:"role"`
	Team              string     `json:"team"`
	ManagerID         *int64     `json:"manager_id"`
	Capacity          int        `json:"capacity"`
	Open              int        `json:"open_assignments"`
	Disabled          bool       `json:"disabled"`
	OutOfOfficeFrom   *time.Time `json:"out_of_office_from"`
	OutOfOfficeUntil  *time.Time `json:"out_of_office_until"`
	AvailableForLeads bool       `json:"available_now"`
}

func (s *Server) apiRoutingUsers(w http.ResponseWriter, r *http.Request, rt *routing.Router) {
	rs, err := rt.Rules(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	us, err := s.store.RoutingUsers(r.Context(), routing.WorkingStages(rs.TriggerStage))
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	now := s.app.Now()
	out := []routingUserJSON{}
	for i, ru := range routing.Users(us) {
		u := us[i]
		j := routingUserJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Team: u.Team, Capacity: u.Capacity, Open: u.Open,
			Disabled: u.Disabled, OutOfOfficeFrom: u.OutOfOffice, OutOfOfficeUntil: u.BackInOffice, AvailableForLeads: ru.Available(now)}
		if u.ManagerID != 0 {
			j.ManagerID = &u.ManagerID
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

func (s *Server) apiPutRoutingUser(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "user")
	if !ok {
		return
	}
	var in struct {
		Team             string `json:"team"`
		ManagerID        *int64 `json:"manager_id"`
		Capacity         *int   `json:"capacity"`
		OutOfOfficeFrom  string `json:"out_of_office_from"`
		OutOfOfficeUntil string `json:"out_of_office_until"`
	}
	if !decodeBody(w, r, &in, `{"team", "manager_id", "capacity", "out_of_office_from", "out_of_office_until"}`) {
		return
	}
	set := model.UserRouting{Team: strings.TrimSpace(in.Team)}
	var err error
	if set.OutOfOffice, err = fieldTime("out_of_office_from", in.OutOfOfficeFrom); err == nil {
		set.BackInOffice, err = fieldTime("out_of_office_until", in.OutOfOfficeUntil)
	}
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(set.Team) > 200 {
		writeJSONError(w, http.StatusBadRequest, "team: longer than 200 bytes")
		return
	}
	if in.Capacity != nil {
		if *in.Capacity < 0 || *in.Capacity > 1_000_000 {
			writeJSONError(w, http.StatusBadRequest, "capacity: want 0 (no limit) or a positive number of open assignments")
			return
		}
		set.Capacity = *in.Capacity
	}
	if set.OutOfOffice != nil && set.BackInOffice != nil && !set.BackInOffice.After(*set.OutOfOffice) {
		writeJSONError(w, http.StatusBadRequest, "out_of_office_until must be after out_of_office_from")
		return
	}
	if in.ManagerID != nil && *in.ManagerID != 0 {
		if *in.ManagerID == id {
			writeJSONError(w, http.StatusBadRequest, "manager_id: a user cannot be their own manager")
			return
		}
		if _, err := s.store.UserByID(r.Context(), *in.ManagerID); errors.Is(err, store.ErrNotFound) {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("manager_id: no user %d", *in.ManagerID))
			return
		} else if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		set.ManagerID = *in.ManagerID
	}
	if err := s.store.SetUserRouting(r.Context(), id, set); errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no user %d", id))
		return
	} else if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "team": set.Team, "manager_id": set.ManagerID, "capacity": set.Capacity,
		"out_of_office_from": set.OutOfOffice, "out_of_office_until": set.BackInOffice})
}

// assignmentJSON is one assignment with its SLA clock.
type assignmentJSON struct {
	ID               int64       `json:"id"`
	PersonID         int64       `json:"person_id"`
	PersonStage      model.Stage `json:"person_stage"`
	UserID           int64       `json:"user_id"`
	UserEmail        string      `json:"user_email"`
	UserName         string      `json:"user_name"`
	Team             string      `json:"team"`
	Rule             string      `json:"rule"`
	Reason           string      `json:"reason,omitempty"`
	RuleSetVersion   *int64      `json:"rule_set_version"`
	AssignedBy       string      `json:"assigned_by"`
	AssignedAt       time.Time   `json:"assigned_at"`
	DueAt            time.Time   `json:"due_at"`
	FirstFollowUpAt  *time.Time  `json:"first_follow_up_at"`
	BreachedAt       *time.Time  `json:"breached_at"`
	EscalationTaskID *int64      `json:"escalation_task_id"`
	SupersededAt     *time.Time  `json:"superseded_at"`
	ClosedReason     string      `json:"closed_reason,omitempty"`
}

func newAssignmentJSON(a model.Assignment) assignmentJSON {
	j := assignmentJSON{ID: a.ID, PersonID: a.PersonID, PersonStage: a.PersonStage, UserID: a.UserID, UserEmail: a.UserEmail, UserName: a.UserName,
		Team: a.UserTeam, Rule: a.Rule, Reason: a.Reason, AssignedBy: a.AssignedBy, AssignedAt: a.AssignedAt, DueAt: a.DueAt,
		FirstFollowUpAt: a.FirstFollowUpAt, BreachedAt: a.BreachedAt, SupersededAt: a.SupersededAt, ClosedReason: a.ClosedReason}
	if a.RuleSetID != 0 {
		j.RuleSetVersion = &a.RuleSetID
	}
	if a.EscalationTaskID != 0 {
		j.EscalationTaskID = &a.EscalationTaskID
	}
	return j
}

// routingError answers the errors of the Router's actions.
func (s *Server) routingError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *routing.InputError
	switch {
	case errors.As(err, &ie):
		writeJSONError(w, http.StatusBadRequest, ie.Error())
	case errors.Is(err, routing.ErrNoPerson):
		writeJSONError(w, http.StatusNotFound, "no such person")
	default:
		s.apiInternal(w, r, err)
	}
}

func (s *Server) apiAssignPerson(w http.ResponseWriter, r *http.Request, rt *routing.Router) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	var in struct {
		UserID    int64  `json:"user_id"`
		UserEmail string `json:"user_email"`
		Reason    string `json:"reason"`
	}
	if !decodeBody(w, r, &in, `{"user_id" or "user_email", "reason"}`) {
		return
	}
	a, err := s.assignPerson(r.Context(), rt, id, in.UserID, in.UserEmail, in.Reason, s.actor(r))
	if err != nil {
		s.answerAction(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newAssignmentJSON(a))
}

// assignPerson reassigns a person by hand, the API's and the person
// page's alike: an *actionError when refused (400 for bad input, 404 for
// an unknown person), any other error when it failed.
func (s *Server) assignPerson(ctx context.Context, rt *routing.Router, id, userID int64, userEmail, reason, by string) (model.Assignment, error) {
	a, err := rt.Reassign(ctx, id, userID, userEmail, reason, by)
	var ie *routing.InputError
	switch {
	case errors.As(err, &ie):
		key := "person.error.assign_user"
		switch {
		case ie.Field == "reason" && strings.TrimSpace(reason) == "":
			key = "person.error.assign_reason"
		case ie.Field == "reason":
			key = "person.error.reason_too_long"
		case ie.Field == "person_id":
			key = "person.error.merged"
		}
		return a, &actionError{Status: http.StatusBadRequest, Msg: ie.Error(), Key: key, Args: []any{"detail", ie.Msg}}
	case errors.Is(err, routing.ErrNoPerson):
		return a, &actionError{Status: http.StatusNotFound, Msg: "no such person", Key: "person.error.not_found"}
	}
	return a, err
}

func (s *Server) apiPersonAssignments(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	as, err := s.store.PersonAssignments(r.Context(), id)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := []assignmentJSON{}
	for _, a := range as {
		out = append(out, newAssignmentJSON(a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"person_id": id, "assignments": out})
}

// activityJSON is one logged sales activity.
type activityJSON struct {
	ID         int64     `json:"id"`
	PersonID   int64     `json:"person_id"`
	UserID     int64     `json:"user_id"`
	UserEmail  string    `json:"user_email"`
	UserName   string    `json:"user_name"`
	Kind       string    `json:"kind"`
	OccurredAt time.Time `json:"occurred_at"`
	Note       string    `json:"note"`
	LoggedBy   string    `json:"logged_by"`
	LoggedAt   time.Time `json:"logged_at"`
}

func newActivityJSON(a model.Activity) activityJSON {
	return activityJSON{ID: a.ID, PersonID: a.PersonID, UserID: a.UserID, UserEmail: a.UserEmail, UserName: a.UserName, Kind: a.Kind,
		OccurredAt: a.OccurredAt, Note: a.Note, LoggedBy: a.CreatedBy, LoggedAt: a.CreatedAt}
}

func (s *Server) apiLogActivity(w http.ResponseWriter, r *http.Request, rt *routing.Router) {
	var in struct {
		PersonID   int64  `json:"person_id"`
		UserID     int64  `json:"user_id"`
		UserEmail  string `json:"user_email"`
		Kind       string `json:"kind"`
		OccurredAt string `json:"occurred_at"`
		Note       string `json:"note"`
	}
	if !decodeBody(w, r, &in, `{"person_id", "user_id" or "user_email", "kind", "occurred_at", "note"}`) {
		return
	}
	occurred, err := fieldTime("occurred_at", in.OccurredAt)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	var at time.Time
	if occurred != nil {
		at = *occurred
	}
	userID, userEmail, ok := s.activityUser(w, r, in.UserID, in.UserEmail)
	if !ok {
		return
	}
	a, stamped, err := rt.LogActivity(r.Context(), routing.NewActivity{PersonID: in.PersonID, UserID: userID, UserEmail: userEmail,
		Kind: in.Kind, OccurredAt: at, Note: in.Note, By: s.actor(r)})
	if err != nil {
		s.routingError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"activity": newActivityJSON(a), "first_follow_up": stamped})
}

// activityUser decides whose activity is being logged. Follow-up SLAs
// are measured by activities, so only an admin may log one for someone
// else: any other caller logs as the owner of its key (or as the signed-in
// user), and naming another user is refused with 403. It answers the
// refusal itself.
func (s *Server) activityUser(w http.ResponseWriter, r *http.Request, id int64, email string) (int64, string, bool) {
	var ownerID int64
	var role model.Role
	if key, ok := bearer(r.Header.Get("Authorization")); ok && key != "" {
		k, err := s.auth.CheckAPIKey(r.Context(), key)
		if err != nil {
			s.apiInternal(w, r, err)
			return 0, "", false
		}
		ownerID, role = k.UserID, k.Role
	} else if u, err := s.sessionUser(r); err == nil {
		ownerID, role = u.ID, u.Role
	}
	if role == model.RoleAdmin {
		if id == 0 && strings.TrimSpace(email) == "" {
			id = ownerID // the admin's own activity; none: LogActivity asks for a user
		}
		return id, email, true
	}
	if ownerID == 0 {
		writeJSONError(w, http.StatusForbidden, "this API key belongs to no user, so it cannot log activities: create one with revloop apikey create --user EMAIL")
		return 0, "", false
	}
	owner, err := s.store.UserByID(r.Context(), ownerID)
	if err != nil {
		s.apiInternal(w, r, err)
		return 0, "", false
	}
	if (id != 0 && id != owner.ID) || (strings.TrimSpace(email) != "" && !strings.EqualFold(strings.TrimSpace(email), owner.Email)) {
		writeJSONError(w, http.StatusForbidden, fmt.Sprintf("a %s key logs activities as its owner (%s); only admin keys may log them for another user", role, owner.Email))
		return 0, "", false
	}
	return owner.ID, "", true
}

// maxActivities bounds one page of activities.
const maxActivities = 500

func (s *Server) apiActivities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, err := strconv.ParseInt(q.Get("person_id"), 10, 64)
	if err != nil || id <= 0 {
		writeJSONError(w, http.StatusBadRequest, "person_id: want ?person_id=ID")
		return
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxActivities {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("limit: want a number from 1 to %d", maxActivities))
			return
		}
	}
	as, err := s.store.Activities(r.Context(), id, limit)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := []activityJSON{}
	for _, a := range as {
		out = append(out, newActivityJSON(a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"person_id": id, "activities": out})
}
