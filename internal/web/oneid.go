package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
)

// oneIDRoutes mounts persons, identities, their timelines and the channel
// rules.
func (s *Server) oneIDRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/persons", s.pageAPI("persons", s.apiPersons))
	m.Handle("GET /api/v1/persons/{id}", s.requireAPI(s.apiPerson))
	m.Handle("GET /api/v1/persons/{id}/timeline", s.requireAPI(s.apiTimeline))
	m.Handle("GET /api/v1/persons/merges", s.requireAPI(s.apiMerges))
	m.Handle("POST /api/v1/persons/merges", s.requireRole(model.RoleMarketer, s.apiMerge))
	m.Handle("POST /api/v1/persons/merges/{id}/undo", s.requireRole(model.RoleMarketer, s.apiUndoMerge))
	m.Handle("GET /api/v1/identity/conflicts", s.requireAPI(s.apiConflicts))
	m.Handle("POST /api/v1/identity/conflicts/{id}/resolve", s.requireRole(model.RoleMarketer, s.apiResolveConflict))
	m.Handle("GET /api/v1/channels/rules", s.requireAPI(s.apiRules))
	m.Handle("PUT /api/v1/channels/rules", s.requireRole(model.RoleMarketer, s.apiPutRules))
	m.Handle("POST /api/v1/channels/reclassify", s.requireRole(model.RoleMarketer, s.apiReclassify))
	return nil
}

type identifierJSON struct {
	Type      model.IdentityType `json:"type"`
	Value     string             `json:"value"`
	CreatedAt time.Time          `json:"created_at"`
}

type accountJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Domain    string `json:"domain"`
	Industry  string `json:"industry"`
	Employees int    `json:"employees"`
	Tier      string `json:"tier"`
	Plan      string `json:"plan"`
}

type personJSON struct {
	ID                 int64            `json:"id"`
	Name               string           `json:"name"`
	Title              string           `json:"title"`
	Email              string           `json:"email"`
	Phone              string           `json:"phone"`
	Stage              model.Stage      `json:"stage"`
	LeadAt             *time.Time       `json:"lead_at"`
	FirstSeenAt        time.Time        `json:"first_seen_at"`
	FirstTouchChannel  model.Channel    `json:"first_touch_channel"`
	FirstTouchCampaign *int64           `json:"first_touch_campaign_id"`
	MergedIntoID       *int64           `json:"merged_into_id"`
	Account            *accountJSON     `json:"account"`
	Identifiers        []identifierJSON `json:"identifiers"`
	Traits             map[string]any   `json:"traits"`
	Counts             struct {
		Touchpoints int64 `json:"touchpoints"`
		Events      int64 `json:"events"`
	} `json:"counts"`

	// Qualification: scores, prediction, grade, SDR class and owner.
	FitScore             float64    `json:"fit_score"`
	EngagementScore      float64    `json:"engagement_score"`
	Score                float64    `json:"score"`
	ScoreVersion         *int64     `json:"score_rule_version"`
	ScoredAt             *time.Time `json:"scored_at"`
	PredictedProbability *float64   `json:"predicted_probability"`
	PredictedAt          *time.Time `json:"predicted_at"`
	Grade                string     `json:"grade"`
	SDRClass             string     `json:"sdr_class"`
	Owner                *ownerJSON `json:"owner"`
	// Explanations, filled by the scoring and prediction handlers.
	ScoreExplanation  any `json:"score_explanation,omitempty"`
	PredictionFactors any `json:"prediction_factors,omitempty"`
}

type ownerJSON struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

func newPersonJSON(d model.PersonDetail) personJSON {
	p := personJSON{ID: d.ID, Name: d.Name, Title: d.Title, Email: d.Email, Phone: d.Phone, Stage: d.Stage, LeadAt: d.LeadAt,
		FirstSeenAt: d.FirstSeenAt, FirstTouchChannel: d.FirstTouchChannel, Identifiers: []identifierJSON{}, Traits: d.Traits}
	if p.Traits == nil {
		p.Traits = map[string]any{}
	}
	if d.FirstTouchCampaign != 0 {
		p.FirstTouchCampaign = &d.FirstTouchCampaign
	}
	if d.MergedIntoID != 0 {
		p.MergedIntoID = &d.MergedIntoID
	}
	if d.Account != nil {
		p.Account = &accountJSON{ID: d.Account.ID, Name: d.Account.Name, Domain: d.Account.Domain, Industry: d.Account.Industry,
			Employees: d.Account.Employees, Tier: d.Account.Tier, Plan: d.Account.Plan}
	}
	for _, i := range d.Identities {
		p.Identifiers = append(p.Identifiers, identifierJSON{Type: i.Type, Value: i.Value, CreatedAt: i.CreatedAt})
	}
	p.Counts.Touchpoints, p.Counts.Events = d.Touchpoints, d.Events
	p.FitScore, p.EngagementScore, p.Score = d.FitScore, d.EngagementScore, d.Score
	if d.ScoreVersion != 0 {
		p.ScoreVersion = &d.ScoreVersion
	}
	p.ScoredAt, p.PredictedProbability, p.PredictedAt = d.ScoredAt, d.PredictedProbability, d.PredictedAt
	p.Grade, p.SDRClass = d.Grade, d.SDRClass
	if d.OwnerID != 0 {
		p.Owner = &ownerJSON{ID: d.OwnerID, Name: d.OwnerName, Email: d.OwnerEmail}
	}
	return p
}

// apiPersonLookup answers GET /api/v1/persons?identifier=TYPE:VALUE; the
// value is normalised as on ingest.
func (s *Server) apiPersonLookup(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("identifier")
	typ, value, ok := strings.Cut(raw, ":")
	if strings.TrimSpace(raw) == "" || !ok {
		writeJSONError(w, http.StatusBadRequest, "identifier: want ?identifier=TYPE:VALUE, e.g. email:li@acme.cn, with TYPE one of "+typeList())
		return
	}
	t, err := identity.ParseType(typ)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "identifier: "+err.Error())
		return
	}
	region, err := identity.PhoneRegion(r.Context(), s.store)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	v, err := identity.Normaliser{PhoneRegion: region}.Normalise(t, value)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "identifier: "+err.Error()+"; such a value never identifies anyone")
		return
	}
	d, err := s.store.PersonByIdentity(r.Context(), t, v)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no person has %s %s", t, v))
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPersonJSON(d))
}

func typeList() string {
	names := make([]string, len(identity.Types))
	for i, t := range identity.Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func pathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		shown := raw
		if len(shown) > 40 {
			shown = shown[:40] + "…"
		}
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("%s id %q: want a positive number", what, shown))
		return 0, false
	}
	return id, true
}

func (s *Server) apiPerson(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	d, ok := s.personOr404(w, r, id)
	if !ok {
		return
	}
	p := newPersonJSON(d)
	var err error
	if p.ScoreExplanation, err = s.scoreExplanation(r.Context(), d); err != nil {
		s.apiInternal(w, r, fmt.Errorf("explain score of person %d: %w", id, err))
		return
	}
	if p.PredictionFactors, err = s.predictionFactors(r.Context(), d); err != nil {
		s.apiInternal(w, r, fmt.Errorf("explain prediction of person %d: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func listLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeJSONError(w, http.StatusBadRequest, "limit: want a number from 1 to 1000")
			return 0, false
		}
		limit = n
	}
	return limit, true
}

func (s *Server) apiConflicts(w http.ResponseWriter, r *http.Request) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	status := model.ConflictsOpen
	switch st := r.URL.Query().Get("status"); st {
	case "", "open":
	case "resolved", "all":
		status = model.ConflictStatus(st)
	default:
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("status %q: want open (the default), resolved or all", clipParam(st)))
		return
	}
	cs, err := s.store.IdentityConflictsByStatus(r.Context(), status, limit)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conflicts": cs})
}

// apiResolveConflict decides a conflict after review:
// {"decision": "merge" | "keep_apart", "note": "..."}.
func (s *Server) apiResolveConflict(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "conflict")
	if !ok {
		return
	}
	var req struct {
		Decision string `json:"decision"`
		Note     string `json:"note"`
	}
	want := `{"decision": "merge" | "keep_apart", "note": "..."}`
	if !decodeBody(w, r, &req, want) {
		return
	}
	if req.Decision != model.DecisionMerge && req.Decision != model.DecisionKeepApart {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("decision %q: want merge (the two are one person) or keep_apart (different people)", clipParam(req.Decision)))
		return
	}
	c, err := s.store.ResolveConflict(r.Context(), id, req.Decision, strings.TrimSpace(req.Note), s.actor(r))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no conflict %d", id))
		return
	case errors.Is(err, store.ErrConflictResolved), errors.Is(err, store.ErrMergeRefused):
		writeJSONError(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func clipParam(v string) string {
	if len(v) > 40 {
		return v[:40] + "…"
	}
	return v
}

func (s *Server) apiMerges(w http.ResponseWriter, r *http.Request) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	ms, err := s.store.PersonMerges(r.Context(), limit)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"merges": ms})
}

// apiMerge merges two persons by hand, e.g. after reviewing a conflict:
// {"into": 12, "from": 34, "reason": "same person, checked by phone"}.
func (s *Server) apiMerge(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Into   int64  `json:"into"`
		From   int64  `json:"from"`
		Reason string `json:"reason"`
	}
	if !decodeBody(w, r, &req, `{"into": PERSON_ID, "from": PERSON_ID, "reason": "..."}`) {
		return
	}
	if req.Into <= 0 || req.From <= 0 {
		writeJSONError(w, http.StatusBadRequest, "into and from must both be person ids")
		return
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		reason = "merged by hand"
	}
	id, err := s.store.MergePersons(r.Context(), req.Into, req.From, reason, s.actor(r))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, err.Error())
		return
	case errors.Is(err, store.ErrMergeRefused):
		writeJSONError(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"merge_id": id, "into_id": req.Into, "from_id": req.From})
}

func (s *Server) apiUndoMerge(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "merge")
	if !ok {
		return
	}
	m, err := s.store.UndoMerge(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no merge %d", id))
		return
	case errors.Is(err, store.ErrMergeRefused):
		writeJSONError(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiRules(w http.ResponseWriter, r *http.Request) {
	rs, err := process.ChannelRules(r.Context(), s.store)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rs)
}

// apiPutRules answers PUT /api/v1/channels/rules (channelrules.go).
func (s *Server) apiPutRules(w http.ResponseWriter, r *http.Request) { s.putChannelRules(w, r) }

// apiReclassify starts a reclassification of every touchpoint with the
// channel rules in force (an operation: 202 and its job).
func (s *Server) apiReclassify(w http.ResponseWriter, r *http.Request) {
	s.startOperation(w, r, app.Reclassify())
}

// actor names who made a change, for logs kept with it.
func (s *Server) actor(r *http.Request) string {
	if key, ok := bearer(r.Header.Get("Authorization")); ok && key != "" {
		if k, err := s.auth.CheckAPIKey(r.Context(), key); err == nil {
			return "api key " + k.Name + " (" + k.Prefix + "…)"
		}
	}
	if u, err := s.sessionUser(r); err == nil {
		return u.Email
	}
	return ""
}

// personOr404 loads a person for a handler, answering 404 or 500 itself
// when it cannot.
func (s *Server) personOr404(w http.ResponseWriter, r *http.Request, id int64) (model.PersonDetail, bool) {
	d, err := s.store.PersonDetail(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no person %d", id))
		return d, false
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return d, false
	}
	return d, true
}
