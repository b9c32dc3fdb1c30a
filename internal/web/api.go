package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
)

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"cannot encode the response"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// apiInternal logs an unexpected error and answers 500 without its text,
// which may name database internals.
func (s *Server) apiInternal(w http.ResponseWriter, r *http.Request, err error) {
	if store.Unwritable(err) {
		// Not the request's fault nor a bug: the database is read-only or
		// full for now (see /readyz). Clients retry a 503.
		s.log.Error("api request failed: the database cannot be written", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "30")
		writeJSONError(w, http.StatusServiceUnavailable, "the database cannot be written at the moment (read-only or out of space); try again later")
		return
	}
	s.log.Error("api request failed", "path", r.URL.Path, "err", err)
	writeJSONError(w, http.StatusInternalServerError, "internal server error")
}

// apiKeyTouchInterval limits how often a key's last-used time is written,
// so that a busy client does not turn every read into a write.
const apiKeyTouchInterval = time.Minute

// requireAPI authenticates an API request by its bearer key or, for GET,
// by a logged-in session (so that the pages can fetch JSON).
func (s *Server) requireAPI(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		if authz == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
				if _, err := s.auth.SessionUser(r.Context(), c.Value); err == nil {
					next(w, r)
					return
				} else if !errors.Is(err, auth.ErrNoSession) {
					s.apiInternal(w, r, err)
					return
				}
			}
		}
		key, ok := bearer(authz)
		if authz != "" && !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="revloop"`)
			writeJSONError(w, http.StatusUnauthorized, "malformed Authorization header: send Authorization: Bearer <key>")
			return
		}
		k, err := s.auth.CheckAPIKey(r.Context(), key)
		switch {
		case errors.Is(err, auth.ErrNoKey), errors.Is(err, auth.ErrBadKey), errors.Is(err, auth.ErrRevokedKey), errors.Is(err, auth.ErrDisabledKey):
			w.Header().Set("WWW-Authenticate", `Bearer realm="revloop"`)
			writeJSONError(w, http.StatusUnauthorized, err.Error())
			return
		case err != nil:
			s.apiInternal(w, r, err)
			return
		}
		if now := s.app.Now(); k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > apiKeyTouchInterval {
			if err := s.store.TouchAPIKey(r.Context(), k.ID, now); err != nil {
				s.log.Warn("record API key use", "key", k.Prefix, "err", err)
			}
		}
		next(w, r)
	})
}

// bearer extracts the key from "Bearer <key>"; the scheme is case-insensitive.
func bearer(h string) (string, bool) {
	scheme, key, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(key), true
}

// statsJSON is the totals with how far processing is behind intake.
type statsJSON struct {
	report.Stats
	Processing processingJSON `json:"processing"`
	// SuppressedEvents are the events the collector dropped since it
	// started because they named a suppressed identifier (docs/privacy.md).
	SuppressedEvents int64 `json:"suppressed_events"`
}

// processingJSON is the processing backlog: events stored but not yet made
// into persons and touchpoints, and how long the oldest has waited.
type processingJSON struct {
	BacklogEvents        int64      `json:"backlog_events"`
	OldestUnprocessedAt  *time.Time `json:"oldest_unprocessed_at"`
	OldestUnprocessedAge float64    `json:"oldest_unprocessed_age_seconds"`
}

func processingView(b store.Backlog, now time.Time) processingJSON {
	p := processingJSON{BacklogEvents: b.Events, OldestUnprocessedAt: b.Oldest}
	if b.Oldest != nil {
		p.OldestUnprocessedAge = max(0, now.Sub(*b.Oldest).Seconds())
	}
	return p
}

func (s *Server) apiStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.reports.Stats(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	b, err := s.store.ProcessingBacklog(r.Context())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := statsJSON{Stats: st, Processing: processingView(b, s.app.Now())}
	if s.collector != nil {
		out.SuppressedEvents = s.collector.SuppressedEvents()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiFunnel(w http.ResponseWriter, r *http.Request) {
	period, err := s.parsePeriod(r)
	if err != nil {
		s.apiPeriodError(w, r, err)
		return
	}
	mode, err := parseMode(r.URL.Query().Get("mode"))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	f, err := s.reports.StageFunnel(r.Context(), period, mode)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// channelsResponse is the by-channel table with its window and total row.
type channelsResponse struct {
	From     *time.Time          `json:"from"`
	To       *time.Time          `json:"to"`
	Currency string              `json:"currency"`
	Rows     []report.ChannelRow `json:"rows"`
	Total    report.ChannelRow   `json:"total"`
}

func (s *Server) apiChannels(w http.ResponseWriter, r *http.Request) {
	period, err := s.parsePeriod(r)
	if err != nil {
		s.apiPeriodError(w, r, err)
		return
	}
	rows, total, err := s.reports.Channels(r.Context(), period)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	win := period.Window()
	writeJSON(w, http.StatusOK, channelsResponse{From: utcPtr(win.From), To: utcPtr(win.To), Currency: "CNY", Rows: rows, Total: total})
}

// parsePeriod reads ?from= and ?to= as the team days of a report, in the
// time_zone setting: a date (YYYY-MM-DD) is that team day, both ends
// included; an RFC 3339 time stands for the team day it falls in (for
// to, the exclusive end, the day of the instant before it). Figures read
// from the roll-ups count whole team days.
func (s *Server) parsePeriod(r *http.Request) (model.Period, error) {
	q := r.URL.Query()
	from, fromDay, err := parseTime("from", q.Get("from"))
	if err != nil {
		return model.Period{}, err
	}
	to, toDay, err := parseTime("to", q.Get("to"))
	if err != nil {
		return model.Period{}, err
	}
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		return model.Period{}, err
	}
	p := model.Period{From: from, To: to, Cal: cal}
	if !from.IsZero() && !fromDay {
		p.From = cal.Day(from)
	}
	if !to.IsZero() && !toDay {
		p.To = cal.Day(to.Add(-time.Nanosecond))
	}
	if !p.From.IsZero() && !p.To.IsZero() && p.To.Before(p.From) {
		return model.Period{}, &windowError{Param: "from,to", Msg: fmt.Sprintf("from (%s) must be before to (%s) or the same day", q.Get("from"), q.Get("to"))}
	}
	return p, nil
}

// apiPeriodError answers a period parsePeriod refused: 400 for a wrong
// parameter, 500 for a failure to read the calendar.
func (s *Server) apiPeriodError(w http.ResponseWriter, r *http.Request, err error) {
	var we *windowError
	if errors.As(err, &we) {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.apiInternal(w, r, err)
}

func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// dateLayout is how the API and the date form write a day.
const dateLayout = "2006-01-02"

// windowError names the parameter that was wrong and what it should look like.
type windowError struct {
	Param string // "from", "to", or "from,to"
	Msg   string
}

func (e *windowError) Error() string { return e.Param + ": " + e.Msg }

// parseWindow reads ?from= and ?to= as UTC days (YYYY-MM-DD; to includes
// its whole day) or RFC 3339 times (to is then the exclusive end).
func parseWindow(r *http.Request) (model.Window, error) {
	q := r.URL.Query()
	from, _, err := parseTime("from", q.Get("from"))
	if err != nil {
		return model.Window{}, err
	}
	to, toIsDay, err := parseTime("to", q.Get("to"))
	if err != nil {
		return model.Window{}, err
	}
	if toIsDay {
		to = to.AddDate(0, 0, 1)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return model.Window{}, &windowError{Param: "from,to", Msg: fmt.Sprintf("from (%s) must be before to (%s)", q.Get("from"), q.Get("to"))}
	}
	return model.Window{From: from, To: to}, nil
}

func parseTime(param, v string) (time.Time, bool, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false, nil
	}
	if d, err := time.Parse(dateLayout, v); err == nil {
		return d, true, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, false, nil
	}
	shown := v
	if len(shown) > 40 {
		shown = shown[:40] + "…"
	}
	return time.Time{}, false, &windowError{Param: param, Msg: fmt.Sprintf("%q is not a date: use YYYY-MM-DD (a UTC day) or an RFC 3339 time such as 2026-01-31T08:00:00+08:00", shown)}
}

// parseMode reads ?mode=, cohort by default.
func parseMode(v string) (report.FunnelMode, error) {
	switch m := report.FunnelMode(strings.ToLower(strings.TrimSpace(v))); m {
	case "":
		return report.Cohort, nil
	case report.Cohort, report.Period:
		return m, nil
	}
	shown := v
	if len(shown) > 40 {
		shown = shown[:40] + "…"
	}
	return "", fmt.Errorf("mode: unknown funnel mode %q: use cohort or period", shown)
}

// contextUser is the logged-in user of a page request.
type ctxUserKey struct{}

func withUser(ctx context.Context, u model.User) context.Context {
	return context.WithValue(ctx, ctxUserKey{}, u)
}

func userFrom(ctx context.Context) (model.User, bool) {
	u, ok := ctx.Value(ctxUserKey{}).(model.User)
	return u, ok
}
