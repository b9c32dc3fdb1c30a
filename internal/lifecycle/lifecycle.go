// Package lifecycle holds the rules of the lead lifecycle: which stage
// moves are allowed, and who may make them. Stages, in forward order:
// subscriber, lead, mql, sql, opportunity, customer; nurture (recycled) and
// disqualified are side states. The order itself lives in internal/model
// (model.LifecycleStages, Stage.Rank), below the store, so that identity
// merges keep the further stage by the same order (model.FurtherStage).
//
// Forward moves may be automatic (a known visitor filling in a form, a
// score crossing the MQL threshold, an SDR accepting, an opportunity
// created or won). Every other move — back
// down the order, into or out of a side state — needs a person or an
// explicit rule behind it, and a reason.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Actor prefixes: who moved a person.
const (
	ActorUser       = "user:"             // a person, by user id: "user:12"
	ActorAPIKey     = "apikey:"           // a person working through an API key, by key name: "apikey:crm-sync"
	ActorRule       = "rule:"             // an explicit rule, by name: "rule:recycle-after-90d"
	ActorScoring    = "scoring"           // the scoring engine crossing the MQL threshold
	ActorSystem     = "system"            // automatic forward moves (opportunity created, won)
	ActorProcessing = "system:processing" // event processing making a lead of a visitor
)

// ByPerson reports whether actor is a person: a logged-in user or someone
// calling the API with a key. An API key stands for whoever holds it, so it
// is treated like a user.
func ByPerson(actor string) bool {
	return (strings.HasPrefix(actor, ActorUser) && len(actor) > len(ActorUser)) ||
		(strings.HasPrefix(actor, ActorAPIKey) && len(actor) > len(ActorAPIKey))
}

// ByRule reports whether actor is an explicit rule.
func ByRule(actor string) bool {
	return strings.HasPrefix(actor, ActorRule) && len(actor) > len(ActorRule)
}

// ErrNotAllowed is wrapped by Check's refusals.
var ErrNotAllowed = errors.New("stage move not allowed")

// Forward reports whether from → to moves forward in the lifecycle order.
func Forward(from, to model.Stage) bool {
	return from.Rank() >= 0 && to.Rank() > from.Rank()
}

// Refusal codes: why Check refused a move, for callers that explain it
// in the user's language.
const (
	RefusedUnknownTarget  = "unknown_target"
	RefusedUnknownCurrent = "unknown_current"
	RefusedSameStage      = "same_stage"
	RefusedNoActor        = "no_actor"
	RefusedNotByPerson    = "not_by_person"
	RefusedNeedsReason    = "needs_reason"
)

// RefusedError is a move Check refused; it wraps ErrNotAllowed.
type RefusedError struct {
	Code     string // one of the Refused* codes
	From, To model.Stage
	msg      string
}

func (e *RefusedError) Error() string { return ErrNotAllowed.Error() + ": " + e.msg }

func (e *RefusedError) Unwrap() error { return ErrNotAllowed }

func refused(code string, from, to model.Stage, format string, args ...any) error {
	return &RefusedError{Code: code, From: from, To: to, msg: fmt.Sprintf(format, args...)}
}

// Check reports whether a move from → to by actor with reason is allowed.
func Check(from, to model.Stage, reason, actor string) error {
	if !to.Valid() || to == model.StageVisitor {
		return refused(RefusedUnknownTarget, from, to, "unknown target stage %q", to)
	}
	if !from.Valid() {
		return refused(RefusedUnknownCurrent, from, to, "unknown current stage %q", from)
	}
	if from == to {
		return refused(RefusedSameStage, from, to, "the person is already in %s", to)
	}
	if actor == "" {
		return refused(RefusedNoActor, from, to, "a move needs an actor")
	}
	if Forward(from, to) {
		return nil
	}
	if !ByPerson(actor) && !ByRule(actor) {
		return refused(RefusedNotByPerson, from, to, "%s → %s is not a forward move; only a person or an explicit rule may make it", from, to)
	}
	if strings.TrimSpace(reason) == "" {
		return refused(RefusedNeedsReason, from, to, "%s → %s is not a forward move and needs a reason", from, to)
	}
	return nil
}

// Move checks and applies one move for a person currently in from. It
// reports false (and no error) when the person had left from meanwhile.
func Move(ctx context.Context, s *store.Store, personID int64, from, to model.Stage, at time.Time, reason, actor string, ruleVersion int64) (bool, error) {
	if err := Check(from, to, reason, actor); err != nil {
		return false, err
	}
	ok, err := s.MoveStages(ctx, []model.StageMove{{PersonID: personID, From: from, To: to, At: at, Reason: reason, Actor: actor, RuleVersion: ruleVersion}})
	if err != nil {
		return false, err
	}
	return ok[0], nil
}

// LeadMove is the move that makes a visitor a lead: event processing
// decides it when a known person fills in a form or is identified with an
// email, at the event's time, with a reason that names the event. It is a
// forward move like any other (Check allows it) and is written with the
// same history; processing applies it with the rest of its batch
// (store.ProcessTx.MoveStage).
func LeadMove(personID int64, at time.Time, reason string) model.StageMove {
	return model.StageMove{PersonID: personID, From: model.StageVisitor, To: model.StageLead, At: at, Reason: reason, Actor: ActorProcessing}
}
