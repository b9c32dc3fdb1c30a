package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// privacyRoutes mounts erasure, export and consent of a person
// (docs/privacy.md).
func (s *Server) privacyRoutes(m *http.ServeMux) error {
	m.Handle("DELETE /api/v1/persons/{id}", s.requireRole(model.RoleAdmin, s.apiErasePerson))
	m.Handle("GET /api/v1/persons/{id}/export", s.requireRole(model.RoleAdmin, s.apiExportPerson))
	m.Handle("GET /api/v1/persons/{id}/consent", s.requireAPI(s.apiConsent))
	m.Handle("PUT /api/v1/persons/{id}/consent", s.requireRole(model.RoleMarketer, s.apiPutConsent))
	m.Handle("GET /api/v1/privacy/erasures", s.requireRole(model.RoleAdmin, s.apiErasures))
	return nil
}

// personError answers the store's errors about a person.
func (s *Server) personError(w http.ResponseWriter, r *http.Request, id int64, err error) {
	var merged store.ErrMerged
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no person %d", id))
	case errors.As(err, &merged):
		writeJSON(w, http.StatusConflict, map[string]any{"error": fmt.Sprintf("person %d was merged into person %d: act on person %d", id, merged.Into, merged.Into), "merged_into_id": merged.Into})
	default:
		s.apiInternal(w, r, err)
	}
}

// apiErasePerson answers DELETE /api/v1/persons/{id} with 202 and the
// job that erases the person: its result, once succeeded, is the receipt
// (GET /api/v1/jobs/{id}). An unknown person is 404, a merged one 409, one
// being erased already 409 naming that job.
func (s *Server) apiErasePerson(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	into, err := s.store.PersonRef(r.Context(), id)
	if err != nil {
		s.personError(w, r, id, err)
		return
	}
	if into != 0 && into != id {
		s.personError(w, r, id, store.ErrMerged{Into: into})
		return
	}
	s.startOperation(w, r, app.ErasePerson(id, s.actor(r)))
}

func (s *Server) apiErasures(w http.ResponseWriter, r *http.Request) {
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	rcs, err := s.store.Erasures(r.Context(), limit)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if rcs == nil {
		rcs = []model.ErasureReceipt{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"erasures": rcs})
}

// exportWriter notes whether anything was written, so that an error
// before the first byte still gets a proper answer.
type exportWriter struct {
	w       http.ResponseWriter
	started bool
}

func (e *exportWriter) Write(b []byte) (int, error) {
	if !e.started {
		e.started = true
		h := e.w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		e.w.WriteHeader(http.StatusOK)
	}
	return e.w.Write(b)
}

// apiExportPerson answers GET /api/v1/persons/{id}/export, streamed.
func (s *Server) apiExportPerson(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="person-%d.json"`, id))
	ew := &exportWriter{w: w}
	err := s.store.ExportPerson(r.Context(), id, ew)
	if err == nil {
		s.log.Info("person exported", "person", id, "actor", s.actor(r))
		return
	}
	if !ew.started {
		w.Header().Del("Content-Disposition")
		s.personError(w, r, id, err)
		return
	}
	// Half an object is not valid JSON: the client sees the cut.
	s.log.Error("person export cut short", "person", id, "err", err)
}

type consentJSON struct {
	PersonID int64           `json:"person_id"`
	Consent  []model.Consent `json:"consent"`
}

func (s *Server) apiConsent(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	if _, ok := s.personOr404(w, r, id); !ok {
		return
	}
	cs, err := s.store.Consents(r.Context(), id)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, consentJSON{PersonID: id, Consent: cs})
}

// apiPutConsent answers PUT /api/v1/persons/{id}/consent with
// {"email": "granted", "tracking": "denied", "source": "web form"}:
// the channels named are set (unknown forgets an answer), others kept.
func (s *Server) apiPutConsent(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "person")
	if !ok {
		return
	}
	var req map[string]json.RawMessage
	want := `{"email": "granted", "tracking": "denied", "source": "where the answer came from"}`
	if !decodeBody(w, r, &req, want) {
		return
	}
	source := ""
	if raw, ok := req["source"]; ok {
		if err := json.Unmarshal(raw, &source); err != nil {
			writeJSONError(w, http.StatusBadRequest, "source: want a string")
			return
		}
		source = clip(strings.TrimSpace(source), 200)
		delete(req, "source")
	}
	if len(req) == 0 {
		writeJSONError(w, http.StatusBadRequest, "name at least one channel ("+strings.Join(model.ConsentChannels, ", ")+"), e.g. "+want)
		return
	}
	var sets []model.ConsentSet
	for _, ch := range model.ConsentChannels {
		raw, ok := req[ch]
		if !ok {
			continue
		}
		delete(req, ch)
		var st string
		if err := json.Unmarshal(raw, &st); err != nil {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("%s: want \"granted\", \"denied\" or \"unknown\"", ch))
			return
		}
		switch cs := model.ConsentStatus(st); cs {
		case model.ConsentGranted, model.ConsentDenied, model.ConsentUnknown:
			sets = append(sets, model.ConsentSet{Channel: ch, Status: cs, Source: source})
		default:
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not a consent status (granted, denied or unknown)", ch, clip(st, 40)))
			return
		}
	}
	for k := range req {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("unknown consent channel %q (want one of %s)", clip(k, 40), strings.Join(model.ConsentChannels, ", ")))
		return
	}
	changed, err := s.store.SetConsents(r.Context(), id, sets, s.actor(r), s.app.Now())
	if err != nil {
		s.personError(w, r, id, err)
		return
	}
	if changed {
		s.app.SuppressionsChanged(r.Context())
	}
	cs, err := s.store.Consents(r.Context(), id)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, consentJSON{PersonID: id, Consent: cs})
}
