package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/routing"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
)

// What the rule-set PUTs of the API and the rules page share, so that
// the two never disagree: a draft is a rule set as sent, checked by its
// owning package and compared with the one in force; its preview is the
// owning package's dry run; saving it stores a version and starts what
// applies it.

// ruleKinds are the rule sets the rules page edits, in the order of its
// tabs.
var ruleKinds = []string{"scoring", "lifecycle", "routing", "channels"}

// ruleDraft is a checked rule set of one kind.
type ruleDraft struct {
	Kind      string
	Canonical []byte // the JSON stored when saved
	Unchanged bool   // the rules in force: saving stores nothing
	Version   int64  // the version in force

	scoring       *scoring.Rules
	scoringActive scoring.RuleSet
	lifecycle     lifecycle.RuleSet
	routing       *routing.RuleSet
	channels      *channel.RuleSet
}

// ruleInputError is a rule set its package refused: Msg is the API's
// message, Err the package's error (which names the field).
type ruleInputError struct {
	Msg string
	Err error
}

func (e *ruleInputError) Error() string { return e.Msg }

// draftRules checks body (what a PUT takes, GET's read-only keys already
// dropped) as a rule set of kind.
func (s *Server) draftRules(ctx context.Context, kind string, body []byte) (*ruleDraft, error) {
	d := &ruleDraft{Kind: kind}
	switch kind {
	case "scoring":
		rules, err := scoring.Parse(body)
		if err != nil {
			return nil, &ruleInputError{Msg: "invalid scoring rules: " + err.Error(), Err: err}
		}
		active, err := scoring.Active(ctx, s.store)
		if err != nil {
			return nil, err
		}
		d.scoring, d.scoringActive, d.Version = rules, active, active.Version
		d.Canonical = rules.JSON()
		d.Unchanged = bytes.Equal(d.Canonical, active.Rules.JSON())
	case "lifecycle":
		rs, err := lifecycle.ParseRules(body)
		if err != nil {
			return nil, &ruleInputError{Msg: err.Error(), Err: err}
		}
		if d.Canonical, err = json.Marshal(rs); err != nil {
			return nil, err
		}
		active, saved, err := lifecycle.ActiveRules(ctx, s.store)
		if err != nil {
			return nil, err
		}
		current, err := json.Marshal(active)
		if err != nil {
			return nil, err
		}
		d.lifecycle, d.Version, d.Unchanged = rs, saved.Version, bytes.Equal(d.Canonical, current)
	case "routing":
		rs, err := routing.Parse(body)
		if err != nil {
			return nil, &ruleInputError{Msg: "invalid routing rules: " + err.Error(), Err: err}
		}
		// Like the other rule sets, a PUT says what it wants: a body
		// without "rules" ({} say) would silently drop every rule.
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) != nil || top["rules"] == nil || string(top["rules"]) == "null" {
			err := &routing.ValidationError{Path: "rules", Msg: `missing; send the list of rules ("rules": [] for none), e.g. as GET /api/v1/routing/rules answers it`}
			return nil, &ruleInputError{Msg: "invalid routing rules: rules: " + err.Msg, Err: err}
		}
		users, err := s.store.RoutingUsers(ctx, nil)
		if err != nil {
			return nil, err
		}
		if err := rs.ResolvePools(routing.Users(users)); err != nil {
			return nil, &ruleInputError{Msg: "invalid routing rules: " + err.Error(), Err: err}
		}
		if d.Canonical, err = json.Marshal(rs); err != nil {
			return nil, err
		}
		active, err := s.app.Router.Rules(ctx)
		if err != nil {
			return nil, err
		}
		cur := *active
		cur.Version, cur.UpdatedAt, cur.UpdatedBy = 0, nil, ""
		current, err := json.Marshal(&cur)
		if err != nil {
			return nil, err
		}
		d.routing, d.Version, d.Unchanged = rs, active.Version, bytes.Equal(d.Canonical, current)
	case "channels":
		rs, err := channel.ParseRules(body)
		if err != nil {
			return nil, &ruleInputError{Msg: "invalid channel rules: " + err.Error(), Err: err}
		}
		rs.UpdatedAt, rs.UpdatedBy = nil, ""
		if d.Canonical, err = json.Marshal(rs); err != nil {
			return nil, err
		}
		active, err := process.ChannelRules(ctx, s.store)
		if err != nil {
			return nil, err
		}
		cur := *active
		cur.UpdatedAt, cur.UpdatedBy = nil, ""
		current, err := json.Marshal(&cur)
		if err != nil {
			return nil, err
		}
		if saved, err := s.store.ActiveRuleSet(ctx, model.ChannelRuleSets); err == nil {
			d.Version = saved.Version
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		d.channels, d.Unchanged = rs, bytes.Equal(d.Canonical, current)
	default:
		return nil, fmt.Errorf("unknown rule set kind %q", kind)
	}
	return d, nil
}

// rulePreview is what saving a draft would change: the owning package's
// dry run (Changes, as the API answers it) and a summary in English.
type rulePreview struct {
	Changes any
	Summary string

	scoring   scoring.Preview
	lifecycle lifecycle.Preview
	routing   routing.Preview
	channels  process.ReclassifyPreview
}

// previewRules runs the draft's dry run: nothing is written. The rules in
// force preview as no change (routing, whose preview is where the waiting
// leads would go, previews them anyway).
func (s *Server) previewRules(ctx context.Context, d *ruleDraft) (rulePreview, error) {
	var p rulePreview
	var err error
	switch d.Kind {
	case "scoring":
		p.scoring = scoring.Preview{Sample: []scoring.ScoreChange{}}
		p.Summary = "the rules are the active ones: nothing would change"
		if !d.Unchanged {
			if p.scoring, err = scoring.PreviewRules(ctx, s.store, d.scoring, s.app.Now(), dryRunSample); err != nil {
				return p, fmt.Errorf("preview scoring rules: %w", err)
			}
			p.Summary = fmt.Sprintf("%s would become MQL; %s of %d would change", plural(p.scoring.WouldBecomeMQL, "person", "persons"),
				plural(p.scoring.ScoreChanges, "score", "scores"), p.scoring.Persons)
		}
		p.Changes = p.scoring
	case "lifecycle":
		if p.lifecycle, err = lifecycle.PreviewRules(ctx, s.store, d.lifecycle, s.app.Now(), dryRunSample); err != nil {
			return p, fmt.Errorf("preview lifecycle rules: %w", err)
		}
		p.Changes = p.lifecycle
		p.Summary = fmt.Sprintf("%s would change: %s, %s, %s", plural(p.lifecycle.Persons, "person", "persons"),
			plural(p.lifecycle.GradeChanges, "grade", "grades"), plural(p.lifecycle.SDRClassChanges, "SDR class", "SDR classes"),
			plural(p.lifecycle.Moves, "stage move", "stage moves"))
	case "routing":
		if p.routing, err = s.app.Router.Preview(ctx, d.routing, dryRunSample); err != nil {
			return p, fmt.Errorf("preview routing rules: %w", err)
		}
		p.Changes = p.routing
		p.Summary = fmt.Sprintf("%s waiting: the next run would assign %s (%s to another owner than now), %s would keep waiting",
			plural(p.routing.Pending, "lead", "leads"), plural(p.routing.WouldAssign, "lead", "leads"),
			plural(p.routing.OwnerChanges, "lead", "leads"), plural(p.routing.WouldWait, "lead", "leads"))
	case "channels":
		p.channels = process.ReclassifyPreview{Transitions: []process.ChannelTransition{}, Sample: []process.TouchChange{}}
		if !d.Unchanged {
			if p.channels, err = process.PreviewReclassify(ctx, s.store, d.channels, dryRunSample); err != nil {
				return p, fmt.Errorf("preview channel rules: %w", err)
			}
		}
		p.Changes = p.channels
		p.Summary = fmt.Sprintf("%s of %d would change channel, for %s", plural(p.channels.Changed, "touchpoint", "touchpoints"),
			p.channels.Examined, plural(p.channels.Persons, "person", "persons"))
	}
	return p, nil
}

// savedRules is what saving a draft did: the version stored and the job
// that applies it, when one was started (or found running: it applies
// the new rules when it ends).
type savedRules struct {
	Version int64
	Scoring scoring.RuleSet // for the scoring API's answer
	Job     *model.Job
}

// saveRules stores a changed draft as the new version, by actor, and
// starts what applies it to everyone: a rescore for scoring rules, a
// reclassification for channel rules (both always, as the API has always
// done), a run of the lifecycle rules when run is set (the page; the API
// leaves it to the hourly run or POST /api/v1/lifecycle/rules/run), and
// a routing run when runRouting is set (an administrator on the page).
func (s *Server) saveRules(ctx context.Context, d *ruleDraft, actor string, run bool) (savedRules, error) {
	var out savedRules
	var op *app.Operation
	switch d.Kind {
	case "scoring":
		rs, err := scoring.Save(ctx, s.store, d.scoring, actor, s.app.Now())
		if err != nil {
			return out, err
		}
		out.Version, out.Scoring = rs.Version, rs
		o := app.Rescore()
		op = &o
	case "channels":
		saved, err := s.store.SaveRuleSet(ctx, model.ChannelRuleSets, d.Canonical, actor, s.app.Now(), nil)
		if err != nil {
			return out, err
		}
		out.Version = saved.Version
		o := app.Reclassify()
		op = &o
	case "lifecycle":
		saved, err := s.store.SaveRuleSet(ctx, model.LifecycleRuleSets, d.Canonical, actor, s.app.Now(), nil)
		if err != nil {
			return out, err
		}
		out.Version = saved.Version
		if run {
			o := app.RunLifecycleRules()
			op = &o
		}
	case "routing":
		saved, err := s.store.SaveRuleSet(ctx, model.RoutingRuleSets, d.Canonical, actor, s.app.Now(), nil)
		if err != nil {
			return out, err
		}
		out.Version = saved.Version
		if run {
			o := app.RunRouting()
			op = &o
		}
	}
	if op == nil {
		return out, nil
	}
	j, err := s.app.Enqueue(ctx, *op, actor)
	var busy *store.JobBusyError
	switch {
	case errors.As(err, &busy):
		j = busy.Holder
	case err != nil:
		return out, &jobNotQueuedError{Version: out.Version, Err: err}
	}
	out.Job = &j
	return out, nil
}

// jobNotQueuedError is rules saved whose job could not be queued.
type jobNotQueuedError struct {
	Version int64
	Err     error
}

func (e *jobNotQueuedError) Error() string {
	return fmt.Sprintf("rules saved as version %d, but the job that applies them could not be queued: %v", e.Version, e.Err)
}

func (e *jobNotQueuedError) Unwrap() error { return e.Err }
