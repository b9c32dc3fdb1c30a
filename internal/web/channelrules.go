package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
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
	rs, err := channel.ParseRules(body)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid channel rules: "+err.Error())
		return
	}
	rs.UpdatedAt, rs.UpdatedBy = nil, ""
	canonical, err := json.Marshal(rs)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	active, err := process.ChannelRules(r.Context(), s.store)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	cur := *active
	cur.UpdatedAt, cur.UpdatedBy = nil, ""
	current, err := json.Marshal(&cur)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	var version int64
	if saved, err := s.store.ActiveRuleSet(r.Context(), model.ChannelRuleSets); err == nil {
		version = saved.Version
	} else if !errors.Is(err, store.ErrNotFound) {
		s.apiInternal(w, r, err)
		return
	}
	unchanged := bytes.Equal(canonical, current)
	if dry {
		p := process.ReclassifyPreview{Transitions: []process.ChannelTransition{}, Sample: []process.TouchChange{}}
		if !unchanged {
			if p, err = process.PreviewReclassify(r.Context(), s.store, rs, dryRunSample); err != nil {
				s.apiInternal(w, r, fmt.Errorf("preview channel rules: %w", err))
				return
			}
		}
		summary := fmt.Sprintf("%s of %d would change channel, for %s", plural(p.Changed, "touchpoint", "touchpoints"), p.Examined,
			plural(p.Persons, "person", "persons"))
		writeJSON(w, http.StatusOK, map[string]any{"dry_run": true, "version": version, "unchanged": unchanged, "changes": p, "summary": summary})
		return
	}
	if unchanged {
		writeJSON(w, http.StatusOK, map[string]any{"rule_set_id": version, "version": version, "rules": len(rs.Rules), "unchanged": true})
		return
	}
	saved, err := s.store.SaveRuleSet(r.Context(), model.ChannelRuleSets, canonical, s.actor(r), s.app.Now(), nil)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	// The touchpoints follow in the background: a reclassification runs
	// as a job (one at a time; one already running reclassifies again
	// when it ends, with these rules).
	out := map[string]any{"rule_set_id": saved.Version, "version": saved.Version, "rules": len(rs.Rules)}
	j, err := s.app.Enqueue(r.Context(), app.Reclassify(), s.actor(r))
	var busy *store.JobBusyError
	switch {
	case errors.As(err, &busy):
		j = busy.Holder
	case err != nil:
		s.apiInternal(w, r, err)
		return
	}
	out["reclassify_job"] = jobView(j)
	writeJSON(w, http.StatusOK, out)
}
