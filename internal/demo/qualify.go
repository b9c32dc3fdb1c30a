package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/routing"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
)

// afterLoad runs, on the loaded data, what a live revloop runs as data
// arrives: attribution credits are stored for every conversion, every
// person is scored, the lifecycle rules grade them, the leads whose score
// crosses the MQL line only now are routed, and the predictive model is
// trained so that every lead carries a probability. asOf is the data's
// last second.
func afterLoad(ctx context.Context, s *store.Store, asOf time.Time) error {
	// Three strands read the loaded data independently (none reads what
	// another writes), so they run side by side; on SQLite their writes
	// queue for the one writer connection.
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
		// and moves the few leads whose score crosses it only today. The
		// lifecycle rules then grade everyone on those scores, as the
		// product does after each rescore, and the router hands the new
		// MQLs to the SDRs.
		{"score, grade and route persons", func() error {
			if _, err := scoring.Rescore(ctx, s, asOf, nil); err != nil {
				return fmt.Errorf("score: %w", err)
			}
			if _, err := lifecycle.RunRules(ctx, s, asOf); err != nil {
				return fmt.Errorf("grade: %w", err)
			}
			rt := &routing.Router{Store: s, Now: func() time.Time { return asOf }}
			if _, err := rt.Assign(ctx); err != nil {
				return fmt.Errorf("route: %w", err)
			}
			return nil
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

// demoLifecycleRules are the rules the demo's marketing team grades leads
// by (lifecycle rule set version 1), in the words of a Chinese B2B team:
// A, a clear need and budget, buying soon (比价阶段); B, a fairly clear need
// (深度了解阶段); C, no clear need yet but the right profile, worth
// nurturing (有孵化价值). Leads that neither fit nor engage stay ungraded,
// and so do customers. The first rule that matches decides; its reason is
// what the grade's history records.
const demoLifecycleRules = `{"rules": [
  {"name": "grade-a-active-deal", "when": {"stage_in": ["sql", "opportunity"], "score_gte": 25},
   "set": {"grade": "A"}, "reason": "SQL或商机阶段且近期活跃（评分≥25）：需求与预算明确，短期内可能成交"},
  {"name": "grade-a-demo-request", "when": {"stage_in": ["mql"], "has_demo_request": true, "score_gte": 40},
   "set": {"grade": "A"}, "reason": "MQL申请了产品演示且评分≥40：需求明确，进入比价阶段"},
  {"name": "grade-c-stalled", "when": {"stage_in": ["sql", "opportunity"], "no_activity_days_gte": 60},
   "set": {"grade": "C"}, "reason": "SQL或商机阶段但60天无互动（商机丢单或搁置）：需求暂不明确，转入长期培育"},
  {"name": "grade-b-in-sales", "when": {"stage_in": ["mql", "sql", "opportunity"]},
   "set": {"grade": "B"}, "reason": "MQL、SQL或商机阶段：需求相对明确，中短期内可能成交"},
  {"name": "grade-b-engaged-lead", "when": {"stage_in": ["lead", "nurture"], "score_gte": 30},
   "set": {"grade": "B"}, "reason": "线索近期高度活跃（评分≥30）：需求相对明确，深度了解阶段"},
  {"name": "grade-c-target-account", "when": {"stage_in": ["lead", "nurture"], "account_tier_in": ["A", "B"]},
   "set": {"grade": "C"}, "reason": "A/B类目标客户的线索：符合客户画像，需求尚不明确，有孵化价值"},
  {"name": "grade-c-engaged", "when": {"stage_in": ["lead", "nurture"], "score_gte": 10},
   "set": {"grade": "C"}, "reason": "线索有互动（评分≥10）但需求尚不明确：长期培育"}
]}`

// lifecycleRulesJSON is demoLifecycleRules checked by the lifecycle
// package, as the API would store them.
func lifecycleRulesJSON() string {
	rs, err := lifecycle.ParseRules([]byte(demoLifecycleRules))
	if err != nil {
		panic("demo lifecycle rules: " + err.Error()) // fixed data: a programming error
	}
	b, err := json.Marshal(rs)
	if err != nil {
		panic(err)
	}
	return string(b)
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
