package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestDecisionOwnerIsKept checks the owner kept on the decision rows
// (migration 00041), and each person's latest assignment (00042), against
// their definition, the person's latest
// assignment made at or before the decision, through every write that can
// change it: a load, a backdated assignment, a later decision, a merge and
// its undo; and that a row not settled is looked up alike.
func TestDecisionOwnerIsKept(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
		err := s.Load(ctx, func(l store.Loader) error {
			ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
			for _, e := range []error{
				ins("users", "id,email,role,created_at", []any{int64(1), "a@x.cn", "sales", t0}, []any{int64(2), "b@x.cn", "sales", t0},
					[]any{int64(3), "c@x.cn", "sales", t0}),
				ins("persons", "id,name,stage,stage_at,first_seen_at,created_at", []any{int64(1), "甲", "sql", h(2), t0, t0},
					[]any{int64(2), "乙", "mql", t0, t0, t0}),
				ins("assignments", "id,person_id,user_id,rule,reason,assigned_by,assigned_at,due_at",
					[]any{int64(1), int64(1), int64(1), "r", "", "system", t0, h(4)},
					[]any{int64(2), int64(2), int64(3), "r", "", "system", h(2.5), h(6)}),
				ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at,actor",
					[]any{int64(1), int64(1), "lead", "mql", t0, "system"},
					[]any{int64(2), int64(1), "mql", "sql", h(2), "apikey:3"}),
			} {
				if e != nil {
					return e
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// owners checks the owner kept on decision rows.
		owners := func(want map[int64]int64) {
			t.Helper()
			kept := map[int64]int64{}
			rows, err := s.WriterDB().QueryContext(ctx, `SELECT id, decision_owner_id FROM stage_changes
				WHERE to_stage IN ('sql', 'nurture', 'disqualified') AND from_stage IN ('mql', 'sql') AND from_stage <> to_stage`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				var owner *int64
				if err := rows.Scan(&id, &owner); err != nil {
					t.Fatal(err)
				}
				if owner == nil {
					t.Errorf("decision %d: owner not settled", id)
					continue
				}
				kept[id] = *owner
			}
			// And the latest assignment kept on each person (00042).
			var stale int
			if err := s.WriterDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM persons p WHERE NOT (
				(p.last_assigned_at IS NULL AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.person_id = p.id))
				OR p.last_assigned_at = (SELECT MAX(a.assigned_at) FROM assignments a WHERE a.person_id = p.id))`).Scan(&stale); err != nil || stale != 0 {
				t.Errorf("%d persons with a stale latest assignment, %v", stale, err)
			}
			for id, w := range want {
				if kept[id] != w {
					t.Errorf("decision %d: owner kept %d; want %d", id, kept[id], w)
				}
			}
		}
		owners(map[int64]int64{2: 1})

		// An assignment made (backdated) before the decision becomes its owner.
		if _, err := s.SaveAssignments(ctx, []model.NewAssignment{{PersonID: 1, UserID: 2, Rule: "manual", AssignedAt: h(1), DueAt: h(3)}}, nil, h(1)); err != nil {
			t.Fatal(err)
		}
		owners(map[int64]int64{2: 2})

		// A later decision gets the owner then.
		if _, err := s.MoveStages(ctx, []model.StageMove{{PersonID: 1, From: model.StageSQL, To: model.StageNurture, At: h(3), Actor: "user:2"}}); err != nil {
			t.Fatal(err)
		}
		var nurture int64
		if err := s.WriterDB().QueryRowContext(ctx, `SELECT id FROM stage_changes WHERE to_stage = 'nurture'`).Scan(&nurture); err != nil {
			t.Fatal(err)
		}
		owners(map[int64]int64{2: 2, nurture: 2})

		// Merged into person 2, the decisions have person 2's assignments:
		// none at or before the first (user 3's came at 2.5 h), then user
		// 3's. (The merge's own stage change is checked for being settled.)
		mid, err := s.MergePersons(ctx, 2, 1, "test", "user:1")
		if err != nil {
			t.Fatal(err)
		}
		owners(map[int64]int64{2: 0, nurture: 3})
		if _, err := s.UndoMerge(ctx, mid); err != nil {
			t.Fatal(err)
		}
		owners(map[int64]int64{2: 2, nurture: 2})

		// A row not settled yet is looked up by the dashboard alike.
		if err := s.ExecForTest(ctx, `UPDATE stage_changes SET decision_owner_id = NULL`); err != nil {
			t.Fatal(err)
		}
		// Counted by the dashboard: both decisions are user 2's, the first
		// (accepted) in the first bucket, the second (nurtured) in the
		// second.
		counts, err := s.DecisionCounts(ctx, t0, h(4), []time.Time{t0, h(2.5), h(4)})
		want := []store.DecisionCount{{Bucket: 0, To: model.StageSQL, OwnerID: 2, N: 1},
			{Bucket: 1, To: model.StageNurture, OwnerID: 2, N: 1}}
		slices.SortFunc(counts, func(a, b store.DecisionCount) int { return a.Bucket - b.Bucket })
		if err != nil || !slices.Equal(counts, want) {
			t.Fatalf("decisions not settled counted %+v, %v; want %+v", counts, err, want)
		}
		// A move by no person (an actor not "user:ID" or "apikey:…", case
		// and all) is no decision.
		if _, err := s.MoveStages(ctx, []model.StageMove{{PersonID: 2, From: model.StageMQL, To: model.StageDisqualified, At: h(3.5), Actor: "USER:3"}}); err != nil {
			t.Fatal(err)
		}
		if again, err := s.DecisionCounts(ctx, t0, h(4), nil); err != nil || len(again) != 2 || again[0].Bucket != 0 || again[0].N+again[1].N != 2 {
			t.Fatalf("counted %+v, %v; want the two decisions, in one bucket", again, err)
		}
		if err := s.SettleDecisionOwners(ctx); err != nil {
			t.Fatal(err)
		}
		owners(map[int64]int64{2: 2, nurture: 2})
	})
}
