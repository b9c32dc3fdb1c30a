package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Privacy settings (store.Setting keys, JSON values).
const (
	// SettingRetentionDays (integer, 0 = keep forever) is how long the
	// payloads of processed raw events are kept.
	SettingRetentionDays = "collector.retention_days"
	// settingAnonymizePending (anonymizePending) is the stored events
	// whose addresses are still to be anonymised.
	settingAnonymizePending = "privacy.anonymize_pending"
)

// maxRetentionDays bounds the retention setting (about 100 years).
const maxRetentionDays = 36500

// privacyTaskEvery is how often the retention and address task runs.
const privacyTaskEvery = time.Hour

// privacyRoutes mounts erasure, export and consent of a person and
// registers the retention task (docs/privacy.md).
func (s *Server) privacyRoutes(m *http.ServeMux) error {
	if s.oneID.runner != nil {
		s.oneID.runner.AddTask(jobs.Task{Name: "privacy_retention", Every: privacyTaskEvery, RunOnStart: true, Run: s.runPrivacyTask})
	}
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

// erasureJobKind is the kind of the jobs that erase a person.
const erasureJobKind = "person.erase"

// apiErasePerson answers DELETE /api/v1/persons/{id} with 202 and the
// job that erases the person: its result, once succeeded, is the receipt
// (GET /api/v1/jobs/{id}). An unknown person is 404, a merged one 409.
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
	actor := s.actor(r)
	j, err := s.store.CreateJob(r.Context(), model.Job{Kind: erasureJobKind, State: model.JobRunning, LockName: fmt.Sprintf("%s:%d", erasureJobKind, id),
		Subject: fmt.Sprint(id), ProgressUnit: "persons", ProgressTotal: 1, CreatedBy: actor})
	var busy *store.JobBusyError
	if errors.As(err, &busy) {
		writeJSON(w, http.StatusConflict, map[string]any{"error": "this person is being erased already: " + busy.Error(), "job_id": busy.Holder.ID})
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	go s.runErasureJob(j.ID, id, actor)
	w.Header().Set("Location", fmt.Sprintf("/api/v1/jobs/%d", j.ID))
	writeJSON(w, http.StatusAccepted, map[string]any{"job_id": j.ID, "job": jobView(j), "status_url": fmt.Sprintf("/api/v1/jobs/%d", j.ID)})
}

// runErasureJob erases a person for a job and records the receipt as
// the job's result.
func (s *Server) runErasureJob(jobID, personID int64, actor string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	rc, err := s.erasePerson(ctx, personID, actor)
	if err != nil {
		s.log.Error("person erasure failed", "person", personID, "job", jobID, "err", err)
		if ferr := s.store.FinishJob(ctx, jobID, nil, fmt.Errorf("erase person %d: %w", personID, err)); ferr != nil {
			s.log.Error("erasure job not finished", "job", jobID, "err", ferr)
		}
		return
	}
	_ = s.store.SetJobProgress(ctx, jobID, 1, 1)
	if err := s.store.FinishJob(ctx, jobID, rc, nil); err != nil {
		s.log.Error("erasure job not finished; the receipt is kept in /api/v1/privacy/erasures", "job", jobID, "err", err)
	}
}

// erasePerson erases and then makes the rest of revloop catch up: the
// collector drops the identifiers from now on, and the tasks that follow
// processing (attribution credits, scores) recompute without the person.
func (s *Server) erasePerson(ctx context.Context, id int64, actor string) (store.ErasureReceipt, error) {
	rc, err := s.store.ErasePerson(ctx, id, actor, time.Now())
	if err != nil {
		return rc, err
	}
	s.log.Info("person erased", "person", id, "actor", actor, "receipt", rc.ID, "suppressed", rc.Suppressed)
	s.afterSuppressionChange(ctx)
	if s.oneID.runner != nil {
		s.oneID.runner.Processed()
	}
	return rc, nil
}

func (s *Server) afterSuppressionChange(ctx context.Context) {
	if s.collector == nil {
		return
	}
	if err := s.collector.ReloadSuppressions(ctx); err != nil {
		s.log.Warn("suppressions not reloaded; the collector picks them up at its next settings refresh", "err", err)
	}
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
		rcs = []store.ErasureReceipt{}
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
	Consent  []store.Consent `json:"consent"`
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
		writeJSONError(w, http.StatusBadRequest, "name at least one channel ("+strings.Join(store.ConsentChannels, ", ")+"), e.g. "+want)
		return
	}
	var sets []store.ConsentSet
	for _, ch := range store.ConsentChannels {
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
		switch cs := store.ConsentStatus(st); cs {
		case store.ConsentGranted, store.ConsentDenied, store.ConsentUnknown:
			sets = append(sets, store.ConsentSet{Channel: ch, Status: cs, Source: source})
		default:
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not a consent status (granted, denied or unknown)", ch, clip(st, 40)))
			return
		}
	}
	for k := range req {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("unknown consent channel %q (want one of %s)", clip(k, 40), strings.Join(store.ConsentChannels, ", ")))
		return
	}
	changed, err := s.store.SetConsents(r.Context(), id, sets, s.actor(r), time.Now())
	if err != nil {
		s.personError(w, r, id, err)
		return
	}
	if changed {
		s.afterSuppressionChange(r.Context())
	}
	cs, err := s.store.Consents(r.Context(), id)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, consentJSON{PersonID: id, Consent: cs})
}

// runPrivacyTask strips the payloads of processed raw events older than
// the retention, and anonymises addresses stored before
// collector.anonymize_ip was turned on.
func (s *Server) runPrivacyTask(ctx context.Context) error {
	var errs []error
	var days int
	if _, err := s.store.Setting(ctx, SettingRetentionDays, &days); err != nil {
		errs = append(errs, err)
	} else if days > 0 {
		n, err := s.store.StripOldPayloads(ctx, time.Now().AddDate(0, 0, -days))
		if err != nil {
			errs = append(errs, err)
		} else if n > 0 {
			s.log.Info("retention: raw event payloads stripped", "events", n, "older_than_days", days)
		}
	}
	if err := s.anonymizeStored(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// anonymizePending is how far the rewrite of stored addresses has got:
// events with ids in (After, UpTo] are still to be anonymised.
type anonymizePending struct {
	After int64 `json:"after"`
	UpTo  int64 `json:"up_to"`
}

// anonymizeStored anonymises the addresses of the events stored before
// collector.anonymize_ip was last turned on (later ones arrive
// anonymised), resuming where the last run stopped.
func (s *Server) anonymizeStored(ctx context.Context) error {
	var on bool
	if _, err := s.store.Setting(ctx, collect.SettingAnonymizeIP, &on); err != nil || !on {
		return err
	}
	var p anonymizePending
	if _, err := s.store.Setting(ctx, settingAnonymizePending, &p); err != nil || p.After >= p.UpTo {
		return err
	}
	last, n, err := s.store.AnonymizeStoredIPs(ctx, p.After, p.UpTo, collect.AnonymizeIP)
	if last != p.After {
		p.After = last
		if serr := s.store.SetSetting(ctx, settingAnonymizePending, p); serr != nil && err == nil {
			err = serr
		}
	}
	if n > 0 {
		s.log.Info("stored client addresses anonymised", "events", n)
	}
	return err
}

// privacySettingChanged starts anonymising the stored addresses when
// collector.anonymize_ip was turned on: the events stored so far are
// rewritten now, in the background, and by the hourly privacy task if
// this run is cut short.
func (s *Server) privacySettingChanged(ctx context.Context, key string, v any) error {
	if on, _ := v.(bool); key != collect.SettingAnonymizeIP || !on {
		return nil
	}
	upTo, err := s.store.MaxEventID(ctx)
	if err != nil {
		return err
	}
	if err := s.store.SetSetting(ctx, settingAnonymizePending, anonymizePending{UpTo: upTo}); err != nil {
		return err
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		if err := s.anonymizeStored(ctx); err != nil {
			s.log.Warn("stored client addresses not anonymised yet; the hourly privacy task retries", "err", err)
		}
	}()
	return nil
}
