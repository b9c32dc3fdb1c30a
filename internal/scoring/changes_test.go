package scoring_test

import (
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// changeRules: threshold 50; 制造 industry (from traits) 15; each webinar 20.
const changeRules = `{"mql_threshold": 50, "decay_half_life_days": 10, "time_zone": "UTC",
	"fit": [{"field": "traits.industry", "equals": "制造", "points": 15}],
	"engagement": [{"event": "Webinar Attended", "points": 20}]}`

// loadChangeWorld: three leads, scored at now.
//
//	1: one webinar now: 20
//	2: two webinars now: 40
//	3: nothing: 0
func loadChangeWorld(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		for _, err := range []error{
			ins("persons", "id,stage,first_seen_at,created_at,traits",
				[]any{int64(1), "lead", ago(9 * day), ago(9 * day), "{}"},
				[]any{int64(2), "lead", ago(9 * day), ago(9 * day), "{}"},
				[]any{int64(3), "lead", ago(9 * day), ago(9 * day), "{}"}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel",
				[]any{int64(1), int64(1), now, "webinar_attend", "webinar"},
				[]any{int64(2), int64(2), now, "webinar_attend", "webinar"},
				[]any{int64(3), int64(2), now, "webinar_attend", "webinar"}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := scoring.Parse([]byte(changeRules))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scoring.Save(ctx, s, r, "test", now); err != nil {
		t.Fatal(err)
	}
}

// TestMergeUndoAndTraitsReachRescoreNew: incremental scoring rescores
// the persons of a merge made by hand (whose moved touches are older than
// its watermarks), of an undone merge, and of a logged trait change,
// without any new event.
func TestMergeUndoAndTraitsReachRescoreNew(t *testing.T) {
	type want struct {
		score float64
		stage model.Stage
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadChangeWorld(t, s)
		rescoreNew := func(step string, persons int, scores map[int64]want) {
			t.Helper()
			res, err := scoring.RescoreNew(ctx, s, now)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			if res.Persons != persons {
				t.Errorf("%s: %d persons rescored, want %d", step, res.Persons, persons)
			}
			for id, w := range scores {
				if d := detail(t, s, id); d.Score != w.score || d.Stage != w.stage {
					t.Errorf("%s: person %d scores %v in %s, want %v in %s", step, id, d.Score, d.Stage, w.score, w.stage)
				}
			}
		}
		rescoreNew("first run (a full one)", 3, map[int64]want{1: {20, model.StageLead}, 2: {40, model.StageLead}, 3: {0, model.StageLead}})
		rescoreNew("nothing new", 0, nil)

		mid, err := s.MergePersons(ctx, 1, 2, "same person", "tester")
		if err != nil {
			t.Fatal(err)
		}
		// The survivor counts the moved webinars and crosses the
		// threshold; the merged-away person is not scored.
		rescoreNew("after the merge", 1, map[int64]want{1: {60, model.StageMQL}})
		if d := detail(t, s, 2); d.MergedIntoID != 1 {
			t.Errorf("person 2 merged into %d, want 1", d.MergedIntoID)
		}
		if p, err := s.ScoringProfiles(ctx, []int64{1, 2}); err != nil || len(p) != 1 || p[0].PersonID != 1 {
			t.Errorf("profiles after the merge: %+v %v, want person 1 only", p, err)
		}
		rescoreNew("merge already scored", 0, nil)

		if _, err := s.UndoMerge(ctx, mid); err != nil {
			t.Fatal(err)
		}
		// Scores go back; the survivor's move to mql was its own and stays
		// (scoring never moves a person back).
		rescoreNew("after the undo", 2, map[int64]want{1: {20, model.StageMQL}, 2: {40, model.StageLead}})

		if _, err := s.WriterDB().ExecContext(ctx, `UPDATE persons SET traits = '{"industry": "制造"}' WHERE id = 3`); err != nil {
			t.Fatal(err)
		}
		rescoreNew("traits written, not logged", 0, map[int64]want{3: {0, model.StageLead}})
		if err := s.RecordPersonChanges(ctx, []int64{3, 0, 3}, store.ChangeTraits, now); err != nil {
			t.Fatal(err)
		}
		rescoreNew("traits change logged", 1, map[int64]want{3: {15, model.StageLead}})
		rescoreNew("traits change already scored", 0, nil)
	})
}
