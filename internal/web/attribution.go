package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
)

// attributionRoutes mounts GET /api/v1/attribution and POST
// /api/v1/attribution/recompute (an operation: 202 and its job).
func (s *Server) attributionRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/attribution", s.requireAPI(s.apiAttribution))
	m.Handle("POST /api/v1/attribution/recompute", s.requireRole(model.RoleMarketer, s.apiRecompute))
	return nil
}

// apiRecompute starts a recomputation of the stored credits: fully unless
// the body says {"mode": "incremental"}. An empty body is a full run.
func (s *Server) apiRecompute(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, "body")
	if !ok {
		return
	}
	mode := credits.Full
	if len(bytes.TrimSpace(body)) > 0 {
		var req struct {
			Mode string `json:"mode"`
		}
		if err := parseObject(body, &req); err != nil {
			writeJSONError(w, http.StatusBadRequest, `body must be a JSON object such as {"mode": "full"}: `+err.Error())
			return
		}
		if req.Mode != "" {
			var err error
			if mode, err = credits.ParseMode(req.Mode); err != nil {
				writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("mode: unknown mode %q: use full or incremental", shorten(req.Mode)))
				return
			}
		}
	}
	s.startOperation(w, r, app.RecomputeCredits(mode))
}

// paramError names the parameter that was wrong.
type paramError struct{ Param, Msg string }

func (e *paramError) Error() string { return e.Param + ": " + e.Msg }

func shorten(v string) string {
	if len(v) > 40 {
		return v[:40] + "…"
	}
	return v
}

func parseAttributionQuery(r *http.Request) (report.AttributionQuery, error) {
	q := r.URL.Query()
	var aq report.AttributionQuery
	var err error
	if aq.Model, err = attribution.ParseModel(q.Get("model")); err != nil {
		names := make([]string, len(attribution.Models))
		for i, m := range attribution.Models {
			names[i] = string(m)
		}
		return aq, &paramError{"model", fmt.Sprintf("unknown model %q: use one of %s", shorten(q.Get("model")), strings.Join(names, ", "))}
	}
	conv := q.Get("conversion")
	if strings.TrimSpace(conv) == "" {
		conv = string(model.ConvOpportunity)
	}
	if aq.Conversion, err = credits.ParseConversionKind(conv); err != nil {
		names := make([]string, len(credits.ConversionKinds))
		for i, k := range credits.ConversionKinds {
			names[i] = string(k)
		}
		return aq, &paramError{"conversion", fmt.Sprintf("unknown conversion %q: use one of %s", shorten(conv), strings.Join(names, ", "))}
	}
	if v := strings.ToLower(strings.TrimSpace(q.Get("order_kind"))); v != "" {
		if aq.Conversion != model.ConvOrder {
			return aq, &paramError{"order_kind", "only with conversion=order"}
		}
		if !slices.Contains(model.OrderKinds, v) {
			return aq, &paramError{"order_kind", fmt.Sprintf("unknown order kind %q: use one of %s", shorten(q.Get("order_kind")), strings.Join(model.OrderKinds, ", "))}
		}
		aq.OrderKind = v
	}
	aq.By = strings.ToLower(strings.TrimSpace(q.Get("by")))
	if aq.By == "" {
		aq.By = "channel"
	}
	if !slices.Contains(report.AttributionDims, aq.By) {
		return aq, &paramError{"by", fmt.Sprintf("unknown roll-up %q: use one of %s", shorten(q.Get("by")), strings.Join(report.AttributionDims, ", "))}
	}
	aq.Lookback = credits.DefaultLookback
	if v := strings.TrimSpace(q.Get("lookback")); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 1 || d > report.MaxLookbackDays {
			return aq, &paramError{"lookback", fmt.Sprintf("%q is not a number of days from 1 to %d", shorten(v), report.MaxLookbackDays)}
		}
		aq.Lookback = time.Duration(d) * 24 * time.Hour
	}
	if aq.Window, err = parseWindow(r); err != nil {
		return aq, err
	}
	return aq, nil
}

func (s *Server) apiAttribution(w http.ResponseWriter, r *http.Request) {
	aq, err := parseAttributionQuery(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.attribution.Attribute(r.Context(), callerKey(r), aq)
	var me *report.ModelError
	var rate *report.RateError
	switch {
	case errors.As(err, &rate):
		w.Header().Set("Retry-After", strconv.Itoa(report.RetrySeconds(rate.Retry)))
		writeJSONError(w, http.StatusTooManyRequests, err.Error())
		return
	case errors.Is(err, report.ErrBusy):
		w.Header().Set("Retry-After", "5")
		writeJSONError(w, http.StatusServiceUnavailable, err.Error())
		return
	case errors.As(err, &me):
		writeJSONError(w, http.StatusUnprocessableEntity, "model: "+me.Error())
		return
	case err != nil:
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// attributionView is the overview's attribution table: credited
// opportunities, pipeline and won revenue (orders) by channel.
type attributionView struct {
	Model      attribution.Model
	Models     []attribution.Model
	Error      string // a bad ?model=, in words
	Rows       []attributionChannel
	Total      attributionChannel
	Sourced    report.PipelineSplit // opportunities whose first touch was marketing
	Influenced report.PipelineSplit
	Computed   bool
}

type attributionChannel struct{ report.CreditedChannel }

// Credited prints the credited opportunities with one decimal.
func (c attributionChannel) Credited() string { return formatDecimal(c.Opportunities, 1) }

// overviewAttribution builds the overview's attribution table for the
// request's window and ?model=. A bad window is reported by the page
// itself; the table is then left out.
func (s *Server) overviewAttribution(r *http.Request, loc Locale) (*attributionView, error) {
	v := &attributionView{Model: report.DefaultModel, Models: attribution.Models}
	if m := r.URL.Query().Get("model"); strings.TrimSpace(m) != "" {
		pm, err := attribution.ParseModel(m)
		if err != nil {
			v.Error = loc.T("error.bad_model")
			return v, nil
		}
		v.Model = pm
	}
	// The page's range in team days, as its funnel and channel table.
	period, err := s.parsePeriod(r)
	if err != nil {
		return v, nil
	}
	t, err := s.attribution.ByChannel(r.Context(), callerKey(r), v.Model, period.Window())
	var me *report.ModelError
	if errors.As(err, &me) {
		v.Error = me.Error()
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	for _, row := range t.Rows {
		v.Rows = append(v.Rows, attributionChannel{row})
	}
	v.Total, v.Sourced, v.Influenced, v.Computed = attributionChannel{t.Total}, t.Sourced, t.Influenced, true
	return v, nil
}

// callerKey names who sent a request, for the per-caller limit of
// attribution computed on request: the API key or the session, hashed so
// that no secret is kept.
func callerKey(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if v == "" {
		if c, err := r.Cookie(sessionCookie); err == nil {
			v = "session " + c.Value
		}
	}
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:12])
}
