package web

import (
	"errors"
	"net/http"
)

// channelReadOnly are the keys a GET of the channel rules (or a PUT's
// answer) adds; a PUT ignores them.
var channelReadOnly = []string{"updated_at", "updated_by", "version", "rule_set_id", "unchanged", "reclassify_job", "reclassified"}

// putChannelRules validates and saves a channel rule set, then starts the
// reclassification of the touchpoints made from events (a job, named in
// the answer as reclassify_job). It takes what GET answers; rules identical to the active ones
// store nothing. With ?dry_run=true it classifies without writing and
// says how many touchpoints would change channel.
func (s *Server) putChannelRules(w http.ResponseWriter, r *http.Request) {
	body, dry, ok := readRuleSet(w, r, "channel", channelReadOnly, "")
	if !ok {
		return
	}
	d, err := s.draftRules(r.Context(), "channels", body)
	if s.ruleDraftFailed(w, r, err) {
		return
	}
	if dry {
		s.writeRulePreview(w, r, d)
		return
	}
	if d.Unchanged {
		writeJSON(w, http.StatusOK, map[string]any{"rule_set_id": d.Version, "version": d.Version, "rules": len(d.channels.Rules), "unchanged": true})
		return
	}
	// The touchpoints follow in the background: a reclassification runs
	// as a job (one at a time; one already running reclassifies again
	// when it ends, with these rules).
	saved, err := s.saveRules(r.Context(), d, s.actor(r), false)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rule_set_id": saved.Version, "version": saved.Version, "rules": len(d.channels.Rules),
		"reclassify_job": jobView(*saved.Job)})
}

// ruleDraftFailed answers a draft that could not be made: 400 with the
// owning package's reason for rules it refused, else 500. It reports
// whether it answered.
func (s *Server) ruleDraftFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	var ie *ruleInputError
	switch {
	case err == nil:
		return false
	case errors.As(err, &ie):
		writeJSONError(w, http.StatusBadRequest, ie.Msg)
	default:
		s.apiInternal(w, r, err)
	}
	return true
}

// writeRulePreview answers a PUT ?dry_run=true: what saving would change.
func (s *Server) writeRulePreview(w http.ResponseWriter, r *http.Request, d *ruleDraft) {
	p, err := s.previewRules(r.Context(), d)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"dry_run": true, "version": d.Version, "unchanged": d.Unchanged, "changes": p.Changes, "summary": p.Summary})
}
