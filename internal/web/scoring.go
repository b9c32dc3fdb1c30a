package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
)

// scoringRoutes mounts the scoring rules API. Rescoring runs as a job: after
// each processing run, daily, after a rule change and on request.
func (s *Server) scoringRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/scoring/rules", s.requireAPI(s.apiScoringRules))
	m.Handle("PUT /api/v1/scoring/rules", s.requireRole(model.RoleMarketer, s.apiPutScoringRules))
	m.Handle("GET /api/v1/scoring/rules/versions", s.requireAPI(s.apiScoringVersions))
	m.Handle("POST /api/v1/scoring/rescore", s.requireRole(model.RoleMarketer, func(w http.ResponseWriter, r *http.Request) {
		s.startOperation(w, r, app.Rescore())
	}))
	return nil
}

type scoringRulesJSON struct {
	Version   int64           `json:"version"`
	CreatedAt *time.Time      `json:"created_at"`
	CreatedBy string          `json:"created_by"`
	Default   bool            `json:"default"`
	Rules     json.RawMessage `json:"rules"`
	// RescoreJob is the rescore a saved change started (or found
	// running: it rescores again with the new rules when it ends).
	RescoreJob *jobJSON `json:"rescore_job,omitempty"`
	// Unchanged: a PUT of the active rules, which stores no version.
	Unchanged bool `json:"unchanged,omitempty"`
}

func newScoringRulesJSON(rs scoring.RuleSet) scoringRulesJSON {
	out := scoringRulesJSON{Version: rs.Version, CreatedBy: rs.CreatedBy, Default: rs.Default, Rules: rs.Rules.JSON()}
	if !rs.CreatedAt.IsZero() {
		t := rs.CreatedAt
		out.CreatedAt = &t
	}
	return out
}

// apiScoringRules answers GET /api/v1/scoring/rules: the active rule set,
// or with ?version=N an older one.
func (s *Server) apiScoringRules(w http.ResponseWriter, r *http.Request) {
	var rs scoring.RuleSet
	var err error
	if v := r.URL.Query().Get("version"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 1 {
			writeJSONError(w, http.StatusBadRequest, "version: want a positive number")
			return
		}
		rs, err = scoring.Version(r.Context(), s.store, n)
		if errors.Is(err, store.ErrNotFound) {
			writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no scoring rules version %d", n))
			return
		}
	} else {
		rs, err = scoring.Active(r.Context(), s.store)
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newScoringRulesJSON(rs))
}

// scoringReadOnly are the keys a GET of the scoring rules (or a PUT's
// answer) puts beside "rules"; a PUT ignores them.
var scoringReadOnly = []string{"version", "created_at", "created_by", "default", "rescore", "rescore_job", "unchanged"}

// apiPutScoringRules validates and stores a new rule version, then replays
// every score with it before answering. It takes the bare rules or the
// envelope GET answers; rules identical to the active ones store nothing.
// With ?dry_run=true it replays without writing and says what would change.
func (s *Server) apiPutScoringRules(w http.ResponseWriter, r *http.Request) {
	body, dry, ok := readRuleSet(w, r, "scoring", scoringReadOnly, "rules")
	if !ok {
		return
	}
	d, err := s.draftRules(r.Context(), "scoring", body)
	if s.ruleDraftFailed(w, r, err) {
		return
	}
	if dry {
		s.writeRulePreview(w, r, d)
		return
	}
	if d.Unchanged {
		out := newScoringRulesJSON(d.scoringActive)
		out.Unchanged = true
		writeJSON(w, http.StatusOK, out)
		return
	}
	// The scores follow in the background: the new version is active
	// already, and a rescore job replays everyone with it.
	saved, err := s.saveRules(r.Context(), d, s.actor(r), false)
	var nq *jobNotQueuedError
	if errors.As(err, &nq) {
		s.log.Error("rescore after a rule change not queued", "version", nq.Version, "err", nq.Err)
		writeJSONError(w, http.StatusInternalServerError,
			fmt.Sprintf("rules saved as version %d, but the rescore could not be queued; POST /api/v1/scoring/rescore retries, the daily rescore too", nq.Version))
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := newScoringRulesJSON(saved.Scoring)
	jv := jobView(*saved.Job)
	out.RescoreJob = &jv
	writeJSON(w, http.StatusOK, out)
}

type scoringVersionJSON struct {
	Version   int64      `json:"version"`
	CreatedAt *time.Time `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	Active    bool       `json:"active"`
}

// apiScoringVersions answers GET /api/v1/scoring/rules/versions, newest
// first.
func (s *Server) apiScoringVersions(w http.ResponseWriter, r *http.Request) {
	sets, err := s.store.RuleSetHistory(r.Context(), model.ScoringRuleSets)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	out := []scoringVersionJSON{}
	for i, rs := range sets {
		t := rs.CreatedAt
		out = append(out, scoringVersionJSON{Version: rs.Version, CreatedAt: &t, CreatedBy: rs.CreatedBy, Active: i == 0})
	}
	if len(out) == 0 {
		out = append(out, scoringVersionJSON{Version: 1, CreatedBy: "default", Active: true})
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out})
}

// scoreExplanation says which rules gave a person how many points; nil
// when there is nothing to say.
func (s *Server) scoreExplanation(ctx context.Context, d model.PersonDetail) (any, error) {
	if d.MergedIntoID != 0 {
		return nil, nil
	}
	b, err := scoring.Explain(ctx, s.store, d.ID, s.app.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}
