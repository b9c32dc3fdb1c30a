package journey

import (
	"context"
	"errors"
	"fmt"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Check goes beyond a definition's own validation (model.JourneyDef
// Validate), to what only the rest of revloop can say: each message step
// as its channel will read it (an email's templates, a WeCom message, a
// webhook's URL and headers), and each segment the journey names — it
// must exist and hold persons — and each inline filter, parsed as the
// segments parse it. A fault of the definition is an *InvalidError
// naming the field, like Validate's; any other error is the store's.
func Check(ctx context.Context, st *store.Store, def *model.JourneyDef) error {
	err := check(ctx, st, def)
	var sf *storeFailure
	switch {
	case err == nil:
		return nil
	case errors.As(err, &sf):
		return sf.err
	}
	return &InvalidError{Err: err}
}

// InvalidError is a journey definition's fault found by Check.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// storeFailure carries a store error through check's wrapping.
type storeFailure struct{ err error }

func (e *storeFailure) Error() string { return e.err.Error() }

func check(ctx context.Context, st *store.Store, def *model.JourneyDef) error {
	if def.Trigger.Segment != 0 {
		if err := checkSegment(ctx, st, def.Trigger.Segment); err != nil {
			return fmt.Errorf("trigger: segment: %w", err)
		}
	}
	for i, c := range def.Exit {
		if err := checkCond(ctx, st, c); err != nil {
			return fmt.Errorf("exit[%d]: %w", i, err)
		}
	}
	for i, step := range def.Steps {
		var err error
		switch step.Type {
		case model.StepEmail:
			err = message.CheckEmailStep(step)
		case model.StepWeCom:
			err = message.CheckWeComStep(step.Kind, step.Content, step.ToUser)
		case model.StepWebhook:
			err = message.CheckWebhookStep(step.URL, step.Headers)
		case model.StepBranch:
			if err = checkCond(ctx, st, *step.If); err != nil {
				err = fmt.Errorf("if: %w", err)
			}
		}
		if err != nil {
			return fmt.Errorf("steps[%d] (%s): %w", i, step.ID, err)
		}
	}
	return nil
}

func checkCond(ctx context.Context, st *store.Store, c model.JourneyCond) error {
	if c.Segment != 0 {
		if err := checkSegment(ctx, st, c.Segment); err != nil {
			return fmt.Errorf("segment: %w", err)
		}
	}
	if len(c.Filter) > 0 {
		if _, err := model.ParseSegmentFilter(model.SegmentPersons, c.Filter, "filter"); err != nil {
			return err
		}
	}
	return nil
}

func checkSegment(ctx context.Context, st *store.Store, id int64) error {
	g, err := st.Segment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no segment %d", id)
	}
	if err != nil {
		return &storeFailure{err}
	}
	if g.Kind != model.SegmentPersons {
		return fmt.Errorf("segment %d (%s) lists accounts; a journey needs a segment of persons", id, g.Name)
	}
	return nil
}
