package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/revloop/revloop/internal/journey"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The journeys' JSON API (docs/journeys.md, docs/api.md). Reading takes
// any key or session; writing takes a marketer.
func (s *Server) journeyRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/journeys", s.requireAPI(s.apiJourneys))
	m.Handle("POST /api/v1/journeys", s.requireRole(model.RoleMarketer, s.apiCreateJourney))
	m.Handle("GET /api/v1/journeys/{id}", s.requireAPI(s.apiJourney))
	m.Handle("PUT /api/v1/journeys/{id}", s.requireRole(model.RoleMarketer, s.apiPutJourney))
	m.Handle("POST /api/v1/journeys/{id}/activate", s.requireRole(model.RoleMarketer, s.apiJourneyStatus(true)))
	m.Handle("POST /api/v1/journeys/{id}/pause", s.requireRole(model.RoleMarketer, s.apiJourneyStatus(false)))
	m.Handle("POST /api/v1/journeys/{id}/migrate", s.requireRole(model.RoleMarketer, s.apiMigrateJourney))
	m.Handle("GET /api/v1/journeys/{id}/stats", s.requireAPI(s.apiJourneyStats))
	m.Handle("GET /api/v1/journeys/{id}/persons/{pid}", s.requireAPI(s.apiJourneyPerson))
	return nil
}

// readJourneyDef reads and validates a definition; on failure it has
// answered 400 (or 413) with the field at fault.
func (s *Server) readJourneyDef(w http.ResponseWriter, r *http.Request) (model.JourneyDef, bool) {
	var def model.JourneyDef
	if !decodeBody(w, r, &def, "(a journey definition)") {
		return def, false
	}
	fault, err := s.journeyFault(r.Context(), &def)
	switch {
	case err != nil:
		s.apiInternal(w, r, err)
		return def, false
	case fault != nil:
		writeJSONError(w, http.StatusBadRequest, "invalid journey: "+fault.Error())
		return def, false
	}
	return def, true
}

// journeyFault is what is wrong with a definition (its own validation,
// then what its channels and segments say), or err when the check itself
// failed.
func (s *Server) journeyFault(ctx context.Context, def *model.JourneyDef) (fault, err error) {
	if fault := def.Validate(); fault != nil {
		return fault, nil
	}
	err = journey.Check(ctx, s.store, def)
	var bad *journey.InvalidError
	if errors.As(err, &bad) {
		return bad, nil
	}
	return nil, err
}

// journeyError answers a store error of a journey request.
func (s *Server) journeyError(w http.ResponseWriter, r *http.Request, id int64, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no journey %d", id))
	case errors.Is(err, store.ErrJourneyConflict):
		writeJSONError(w, http.StatusConflict, err.Error())
	default:
		s.apiInternal(w, r, err)
	}
}

func (s *Server) apiJourneys(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.Journeys(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if list == nil {
		list = []model.JourneySummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"journeys": list})
}

func (s *Server) apiCreateJourney(w http.ResponseWriter, r *http.Request) {
	def, ok := s.readJourneyDef(w, r)
	if !ok {
		return
	}
	j, err := s.store.CreateJourney(r.Context(), def, s.actor(r), s.app.Now())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	d, err := s.store.JourneyDetail(r.Context(), j.ID, s.app.Now())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) apiJourney(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "journey")
	if !ok {
		return
	}
	d, err := s.store.JourneyDetail(r.Context(), id, s.app.Now())
	if err != nil {
		s.journeyError(w, r, id, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiPutJourney(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "journey")
	if !ok {
		return
	}
	def, ok := s.readJourneyDef(w, r)
	if !ok {
		return
	}
	if _, err := s.store.UpdateJourney(r.Context(), id, def, s.app.Now()); err != nil {
		s.journeyError(w, r, id, err)
		return
	}
	d, err := s.store.JourneyDetail(r.Context(), id, s.app.Now())
	if err != nil {
		s.journeyError(w, r, id, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiJourneyStatus(live bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r, "journey")
		if !ok {
			return
		}
		var j model.Journey
		var err error
		if live {
			j, err = s.store.ActivateJourney(r.Context(), id, s.app.Now())
		} else {
			j, err = s.store.PauseJourney(r.Context(), id, s.app.Now())
		}
		if err != nil {
			s.journeyError(w, r, id, err)
			return
		}
		writeJSON(w, http.StatusOK, j)
	}
}

func (s *Server) apiMigrateJourney(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "journey")
	if !ok {
		return
	}
	preview := false
	if v := r.URL.Query().Get("preview"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("preview: want 1 or 0, not %q", clipParam(v)))
			return
		}
		preview = b
	}
	var m model.JourneyMigration
	if !decodeBody(w, r, &m, `{"from_version": N, "to_version": N, "mapping": {"old step": "new step"}}`) {
		return
	}
	switch {
	case m.FromVersion <= 0:
		writeJSONError(w, http.StatusBadRequest, "from_version: required, a version number")
		return
	case m.ToVersion <= 0:
		writeJSONError(w, http.StatusBadRequest, "to_version: required, a version number")
		return
	case len(m.Mapping) > model.MaxJourneySteps:
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("mapping: at most %d steps", model.MaxJourneySteps))
		return
	}
	plan, err := s.store.MigrateJourney(r.Context(), id, m, preview, s.app.Now())
	if errors.Is(err, store.ErrJourneyConflict) {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		s.journeyError(w, r, id, err)
		return
	}
	writeJSON(w, http.StatusOK, plan)
}

func (s *Server) apiJourneyStats(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "journey")
	if !ok {
		return
	}
	st, err := s.store.JourneyStats(r.Context(), id, s.app.Now())
	if err != nil {
		s.journeyError(w, r, id, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) apiJourneyPerson(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "journey")
	if !ok {
		return
	}
	pid, err := strconv.ParseInt(r.PathValue("pid"), 10, 64)
	if err != nil || pid <= 0 {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("person id %q: want a positive number", clipParam(r.PathValue("pid"))))
		return
	}
	if _, err := s.store.Journey(r.Context(), id); err != nil {
		s.journeyError(w, r, id, err)
		return
	}
	tl, err := s.store.JourneyTimeline(r.Context(), id, pid)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tl)
}
