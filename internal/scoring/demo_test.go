package scoring_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
)

// TestDemoRescore rescores a demo database with the active rules and
// reports what it did: how many leads it moved to mql, the score
// distribution by stage, and how long the full rescore took. It runs only
// when REVLOOP_SCORING_DEMO_DB names a copy of a demo database (it writes
// to it); REVLOOP_SCORING_NOW (RFC 3339) sets the time to score at,
// default now. See docs/scoring.md.
func TestDemoRescore(t *testing.T) {
	path := os.Getenv("REVLOOP_SCORING_DEMO_DB")
	if path == "" {
		t.Skip("set REVLOOP_SCORING_DEMO_DB to a copy of a demo database")
	}
	at := time.Now().UTC()
	if v := os.Getenv("REVLOOP_SCORING_NOW"); v != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, v); err != nil {
			t.Fatal(err)
		}
	}
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := scoring.Rescore(ctx, s, at, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("full rescore at %s: version %d, %d persons, %d counted activities, %d moved to mql, took %s (read %d ms, write %d ms)",
		at.Format(time.RFC3339), res.Version, res.Persons, res.Activities, res.MovedToMQL, res.Took, res.ReadMS, res.WriteMS)
	rs, err := scoring.Active(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.ScoringProfiles(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	by := map[model.Stage][]float64{}
	for _, p := range ps {
		by[p.Stage] = append(by[p.Stage], p.Score)
	}
	t.Logf("%-13s %7s %7s %7s %7s %7s %7s  %s", "stage", "persons", "p10", "median", "p90", "max", "mean", "≥ threshold")
	for _, st := range append(model.LifecycleStages, model.StageNurture, model.StageDisqualified) {
		xs := by[st]
		if len(xs) == 0 {
			continue
		}
		slices.Sort(xs)
		sum, over := 0.0, 0
		for _, x := range xs {
			sum += x
			if x >= rs.Rules.MQLThreshold {
				over++
			}
		}
		q := func(f float64) float64 { return xs[int(f*float64(len(xs)-1))] }
		t.Logf("%-13s %7d %7.1f %7.1f %7.1f %7.1f %7.1f  %d", st, len(xs), q(0.1), q(0.5), q(0.9), xs[len(xs)-1], sum/float64(len(xs)), over)
	}
}
