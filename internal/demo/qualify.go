package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
)

// afterLoad runs, on the loaded data, what a live revloop runs as data
// arrives: attribution credits are stored for every conversion, and the
// predictive model is trained so that every lead carries a probability.
// asOf is the end of the data year.
func afterLoad(ctx context.Context, s *store.Store, asOf time.Time) error {
	// The three read the loaded data independently (none reads what another
	// writes), so they run side by side; on SQLite their writes queue for
	// the one writer connection.
	steps := []struct {
		what string
		run  func() error
	}{
		{"store attribution credits", func() error {
			_, err := credits.Recompute(ctx, s, credits.Full, asOf)
			return err
		}},
		// The demo's own MQLs crossed the default rules' threshold when
		// their story says so; the rescore gives everybody today's score,
		// and moves the few leads whose score crosses it only today.
		{"score persons", func() error {
			_, err := scoring.Rescore(ctx, s, asOf, nil)
			return err
		}},
		{"train the predictive model", func() error {
			_, err := predictdb.Train(ctx, s, asOf)
			return err
		}},
	}
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, st := range steps {
		wg.Go(func() {
			if err := st.run(); err != nil {
				errs[i] = fmt.Errorf("%s: %w", st.what, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// recycleRule names the rule that sends unresponsive MQLs back to lead.
const recycleRule = lifecycle.ActorRule + "recycle-unresponsive-mql"

// actorOf says who made a stage change of the demo's story, as the product
// records it: the scoring engine (rule version 1, the default rules) for
// MQLs by threshold, the account's rep for sales acceptance, a rule for
// recycling, the system for the rest.
func (g *gen) actorOf(c *stageChange) (string, any) {
	switch c.reason {
	case "score_threshold":
		return lifecycle.ActorScoring, int64(1)
	case "sales_accepted":
		if p := &g.persons[c.person-1]; p.owner != 0 {
			return fmt.Sprintf("%s%d", lifecycle.ActorUser, p.owner), nil
		}
	case "recycled":
		return recycleRule, nil
	}
	return lifecycle.ActorSystem, nil
}
