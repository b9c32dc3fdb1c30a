package report

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The reviews' facts kept between requests (docs/reviews.md, "Speed").
// The promotion leaderboard, the content review and the cohort lift read
// hundreds of thousands of touches, persons and credits per request; what
// they sum from them (per promoter, per asset, per stratum) is small, and
// changes only when those facts change, which the roll-up refresh notices.
// With KeepFacts set, a Reporter keeps those sums under a key that says
// what was asked (store.ReportFacts) and serves them again while the
// generation is current; the refresh moves the generation on when it
// changed a roll-up and calls RefreshFacts, which computes again the
// entries people read lately. The figures are the same either way: what
// is kept is the very result of the computation, and the parts outside
// the roll-ups' reach (users and their teams, links, assets) are read
// anew or are part of the key.

// factKinds are the kept facts: how each is computed again from its key.
var factKinds = map[string]func(ctx context.Context, r Reporter, key []byte) error{}

// kept returns the facts of report under key: the kept ones when
// current, else computed (and kept when r.KeepFacts).
func kept[K any, T any](ctx context.Context, r Reporter, report string, key K, compute func(context.Context, K) (T, error)) (T, error) {
	if !r.KeepFacts {
		return compute(ctx, key)
	}
	var zero T
	k, err := json.Marshal(key)
	if err != nil {
		return zero, err
	}
	now := time.Now()
	body, found, err := r.Store.ReportFacts(ctx, report, string(k), now)
	if err != nil {
		return zero, fmt.Errorf("%s: kept facts: %w", report, err)
	}
	if found {
		var v T
		if err := json.Unmarshal([]byte(body), &v); err == nil {
			return v, nil
		}
	}
	return computeAndKeep(ctx, r, report, k, key, compute)
}

// computeAndKeep computes the facts of key and keeps them under its JSON
// k, with the generation read before computing.
func computeAndKeep[K any, T any](ctx context.Context, r Reporter, report string, k []byte, key K, compute func(context.Context, K) (T, error)) (T, error) {
	g, err := r.Store.ReportFactsGeneration(ctx)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: kept facts: %w", report, err)
	}
	v, err := compute(ctx, key)
	if err != nil {
		return v, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v, err
	}
	if err := r.Store.PutReportFacts(ctx, report, string(k), g, string(b), time.Now()); err != nil {
		return v, fmt.Errorf("%s: keep facts: %w", report, err)
	}
	return v, nil
}

// registerFacts says how a report's kept facts are computed again.
func registerFacts[K any, T any](report string, compute func(r Reporter) func(context.Context, K) (T, error)) {
	factKinds[report] = func(ctx context.Context, r Reporter, k []byte) error {
		var key K
		if err := json.Unmarshal(k, &key); err != nil {
			return err
		}
		_, err := computeAndKeep(ctx, r, report, k, key, compute(r))
		return err
	}
}

// RefreshedFacts says what RefreshFacts did.
type RefreshedFacts struct {
	Entries int           `json:"entries"`
	Took    time.Duration `json:"-"`
}

// RefreshFacts computes again the stale kept facts read since since, the
// most lately read first, at most limit of each report, until budget is
// spent; the rest are computed when next asked for.
func (r Reporter) RefreshFacts(ctx context.Context, since time.Time, limit int, budget time.Duration) (RefreshedFacts, error) {
	start := time.Now()
	var out RefreshedFacts
	for _, report := range []string{factsPromotion, factsContent, factsLift, factsPeriodFollowUp, factsDeals} {
		keys, err := r.Store.StaleReportFacts(ctx, report, since, limit)
		if err != nil {
			return out, err
		}
		for _, k := range keys {
			if time.Since(start) > budget {
				out.Took = time.Since(start)
				return out, nil
			}
			if err := factKinds[report](ctx, r, []byte(k)); err != nil {
				return out, fmt.Errorf("%s %s: %w", report, k, err)
			}
			out.Entries++
		}
	}
	out.Took = time.Since(start)
	return out, nil
}
