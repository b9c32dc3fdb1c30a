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

// TestPersonChangesLog: changes are logged once per person and call (more
// than one INSERT's worth too), merges and undos log both persons, and
// pruning drops only what every reader has passed, never reusing an id.
func TestPersonChangesLog(t *testing.T) {
	const n = 1201
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		err := s.Load(ctx, func(l store.Loader) error {
			rows := make([][]any, n)
			for i := range rows {
				rows[i] = []any{int64(i + 1), "lead", day0, day0}
			}
			return l.Insert("persons", strings.Split("id,stage,first_seen_at,created_at", ","), rows)
		})
		if err != nil {
			t.Fatal(err)
		}
		between := func(after, upTo int64) []int64 {
			t.Helper()
			ids, err := s.PersonChangesBetween(ctx, after, upTo)
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		maxID := func() int64 {
			t.Helper()
			id, err := s.MaxPersonChangeID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		if maxID() != 0 || len(between(0, 100)) != 0 {
			t.Fatalf("a new store has logged changes")
		}

		var ids, want []int64
		for i := int64(n); i >= 1; i-- {
			ids = append(ids, i, 0)
			want = append(want, n+1-i)
		}
		ids = append(ids, 7, 7)
		if err := s.RecordPersonChanges(ctx, ids, store.ChangeTraits, day0); err != nil {
			t.Fatal(err)
		}
		if got := maxID(); got != n {
			t.Fatalf("%d rows logged for %d persons (zero ids and repeats skipped)", got, n)
		}
		if got := between(0, n); !slices.Equal(got, want) {
			t.Fatalf("logged persons: %d, want 1…%d", len(got), n)
		}
		if got := between(n-1, n); len(got) != 1 {
			t.Errorf("(n-1, n]: %v, want one person", got)
		}
		if err := s.RecordPersonChanges(ctx, []int64{1}, " ", day0); err == nil {
			t.Errorf("a change without a reason was logged")
		}

		mid, err := s.MergePersons(ctx, 5, 9, "same person", "tester")
		if err != nil {
			t.Fatal(err)
		}
		afterMerge := maxID()
		if got := between(n, afterMerge); !slices.Equal(got, []int64{5, 9}) {
			t.Errorf("merge logged %v, want both persons", got)
		}
		if _, err := s.UndoMerge(ctx, mid); err != nil {
			t.Fatal(err)
		}
		if got := between(afterMerge, maxID()); !slices.Equal(got, []int64{5, 9}) {
			t.Errorf("undo logged %v, want both persons", got)
		}

		// Pruning: merges are logged at the wall clock's time, so prune
		// as of a week and a day after it.
		top := maxID()
		later := time.Now().Add(8 * 24 * time.Hour)
		prune := func(step string, want int64) {
			t.Helper()
			got, err := s.PrunePersonChanges(ctx, later)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			if got != want {
				t.Errorf("%s: %d pruned, want %d", step, got, want)
			}
		}
		prune("no reader ran", 0)
		if err := s.SetScoringWatermarks(ctx, store.ScoringWatermarks{PersonChangeID: n, Set: true}, day0); err != nil {
			t.Fatal(err)
		}
		if err := s.ExecForTest(ctx, `DELETE FROM scoring_watermarks WHERE name = 'person_changes'`); err != nil {
			t.Fatal(err)
		}
		prune("scoring ran before changes were logged", 0)
		if err := s.SetScoringWatermarks(ctx, store.ScoringWatermarks{PersonChangeID: top, Set: true}, day0); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteCredits(ctx, store.CreditBatch{Kind: model.ConvOrder, Full: true, ChangeWatermark: n - 1, At: day0}); err != nil {
			t.Fatal(err)
		}
		prune("credits read up to n-1", n-1)
		if got := between(0, top); len(got) != 3 {
			t.Errorf("after pruning: %v, want the last trait change and the merge's two persons", got)
		}
		if err := s.WriteCredits(ctx, store.CreditBatch{Kind: model.ConvOrder, Full: true, ChangeWatermark: top, At: day0}); err != nil {
			t.Fatal(err)
		}
		prune("every reader passed everything", top-(n-1))
		if err := s.RecordPersonChanges(ctx, []int64{1}, store.ChangeAccount, day0); err != nil {
			t.Fatal(err)
		}
		if got := maxID(); got != top+1 {
			t.Errorf("after pruning every row, the next change got id %d, want %d (ids are never reused)", got, top+1)
		}
	})
}

// TestAccountChangesLogItsPersons: a change of an account's fields logs
// each of its persons once, not the merged-away ones nor other accounts'.
func TestAccountChangesLogItsPersons(t *testing.T) {
	cases := []struct {
		name     string
		accounts []int64
		want     []int64
	}{
		{"one account", []int64{1}, []int64{1, 2}},
		{"two accounts, repeated, and none", []int64{2, 0, 1, 2}, []int64{1, 2, 4}},
		{"an account without persons", []int64{3}, nil},
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		err := s.Load(ctx, func(l store.Loader) error {
			if err := l.Insert("accounts", []string{"id", "name", "created_at"},
				[][]any{{int64(1), "甲", day0}, {int64(2), "乙", day0}, {int64(3), "丙", day0}}); err != nil {
				return err
			}
			return l.Insert("persons", []string{"id", "account_id", "stage", "first_seen_at", "created_at", "merged_into_id"}, [][]any{
				{int64(1), int64(1), "lead", day0, day0, nil},
				{int64(2), int64(1), "lead", day0, day0, nil},
				{int64(3), int64(2), "lead", day0, day0, int64(4)},
				{int64(4), int64(2), "lead", day0, day0, nil},
				{int64(5), nil, "lead", day0, day0, nil},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			before, err := s.MaxPersonChangeID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RecordAccountChanges(ctx, c.accounts, day0); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			after, err := s.MaxPersonChangeID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.PersonChangesBetween(ctx, before, after)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) || after-before != int64(len(c.want)) {
				t.Errorf("%s: logged %v in %d rows, want %v once each", c.name, got, after-before, c.want)
			}
		}
	})
}
