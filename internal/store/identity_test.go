package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestMergeKeepsFurtherStage merges pairs of persons in every combination of
// stages that matters and checks the survivor's stage, its history, and that
// undoing the merge puts both back.
func TestMergeKeepsFurtherStage(t *testing.T) {
	cases := []struct {
		into, from, want model.Stage
	}{
		{model.StageVisitor, model.StageLead, model.StageLead},
		{model.StageSubscriber, model.StageVisitor, model.StageSubscriber},
		{model.StageSubscriber, model.StageLead, model.StageLead},
		{model.StageMQL, model.StageSubscriber, model.StageMQL},
		{model.StageMQL, model.StageSQL, model.StageSQL},
		{model.StageCustomer, model.StageOpportunity, model.StageCustomer},
		// Side states: a person's decision outweighs scoring and SDR
		// acceptance, a CRM opportunity or customer outweighs the decision.
		{model.StageMQL, model.StageDisqualified, model.StageDisqualified},
		{model.StageDisqualified, model.StageMQL, model.StageDisqualified},
		{model.StageSQL, model.StageNurture, model.StageNurture},
		{model.StageNurture, model.StageLead, model.StageNurture},
		{model.StageSubscriber, model.StageNurture, model.StageNurture},
		{model.StageNurture, model.StageDisqualified, model.StageDisqualified},
		{model.StageDisqualified, model.StageNurture, model.StageDisqualified},
		{model.StageDisqualified, model.StageOpportunity, model.StageOpportunity},
		{model.StageNurture, model.StageCustomer, model.StageCustomer},
		{model.StageCustomer, model.StageDisqualified, model.StageCustomer},
		{model.StageLead, model.StageLead, model.StageLead},
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		day := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		for i, c := range cases {
			t.Run(fmt.Sprintf("%s+%s", c.into, c.from), func(t *testing.T) {
				into, from := int64(2*i+1), int64(2*i+2)
				for _, p := range []struct {
					id    int64
					stage model.Stage
					at    time.Time
				}{{into, c.into, day}, {from, c.from, day.Add(time.Hour)}} {
					if err := s.ExecForTest(ctx, `INSERT INTO persons (id, stage, stage_at, first_seen_at, created_at) VALUES (?, ?, ?, ?, ?)`,
						p.id, string(p.stage), p.at, day, day); err != nil {
						t.Fatal(err)
					}
				}
				mid, err := s.MergePersons(ctx, into, from, "same person", "user:7")
				if err != nil {
					t.Fatal(err)
				}
				d, err := s.PersonDetail(ctx, into)
				if err != nil {
					t.Fatal(err)
				}
				if d.Stage != c.want {
					t.Fatalf("merged %s into %s: stage %s, want %s", c.from, c.into, d.Stage, c.want)
				}
				wantAt := day
				if c.want != c.into {
					wantAt = day.Add(time.Hour)
				}
				if !d.StageAt.Equal(wantAt) {
					t.Errorf("stage_at %s, want %s (when the kept stage began)", d.StageAt, wantAt)
				}
				hist, err := s.StageHistory(ctx, into)
				if err != nil {
					t.Fatal(err)
				}
				if c.want == c.into {
					if len(hist) != 0 {
						t.Errorf("stage unchanged, yet history %+v", hist)
					}
				} else if len(hist) != 1 || hist[0].FromStage != c.into || hist[0].ToStage != c.want || hist[0].Actor != "user:7" ||
					!strings.Contains(hist[0].Reason, fmt.Sprintf("merge %d: person %d", mid, from)) {
					t.Errorf("history %+v, want one change %s → %s by user:7 naming the merge", hist, c.into, c.want)
				}
				if _, err := s.UndoMerge(ctx, mid); err != nil {
					t.Fatal(err)
				}
				for id, want := range map[int64]model.Stage{into: c.into, from: c.from} {
					d, err := s.PersonDetail(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					if d.Stage != want {
						t.Errorf("after undo person %d is in %s, want %s", id, d.Stage, want)
					}
				}
				if hist, err := s.StageHistory(ctx, into); err != nil || len(hist) != 0 {
					t.Errorf("after undo history %+v (%v), want the merge's change gone", hist, err)
				}
			})
		}
	})
}

// TestResolveConflict decides conflicts in the store: keep_apart stops
// automatic merges and new conflicts of the pair, merge follows persons
// merged since, and wrong decisions are refused.
func TestResolveConflict(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		day := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		for id := int64(1); id <= 5; id++ {
			if err := s.ExecForTest(ctx, `INSERT INTO persons (id, stage, first_seen_at, created_at) VALUES (?, 'lead', ?, ?)`, id, day, day); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range [][]any{{int64(1), int64(2), "email", "a@x.cn", "b@x.cn"}, {int64(1), int64(2), "user_id", "u1", "u2"},
			{int64(3), int64(4), "email", "c@x.cn", "d@x.cn"}} {
			if err := s.ExecForTest(ctx, `INSERT INTO identity_conflicts (person_a, person_b, type, value_a, value_b, reason, created_at)
				VALUES (?, ?, ?, ?, ?, 'test', ?)`, append(c, day)...); err != nil {
				t.Fatal(err)
			}
		}
		open, err := s.IdentityConflictsByStatus(ctx, model.ConflictsOpen, 10)
		if err != nil || len(open) != 3 {
			t.Fatalf("open conflicts %+v (%v)", open, err)
		}
		byType := map[string]int64{}
		for _, c := range open {
			byType[fmt.Sprint(c.PersonA, c.Type)] = c.ID
		}
		if _, err := s.ResolveConflict(ctx, byType["1email"], "split", "", "user:1"); !errors.Is(err, store.ErrBadDecision) {
			t.Errorf("unknown decision: %v", err)
		}
		if _, err := s.ResolveConflict(ctx, 999, model.DecisionMerge, "", "user:1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown conflict: %v", err)
		}
		got, err := s.ResolveConflict(ctx, byType["1email"], model.DecisionKeepApart, "colleagues", "user:1")
		if err != nil || got.Decision != model.DecisionKeepApart || got.DecidedBy != "user:1" || got.Note != "colleagues" || got.ResolvedAt == nil {
			t.Fatalf("keep apart: %+v, %v", got, err)
		}
		// The decision settles the pair's other conflict too.
		if _, err := s.ResolveConflict(ctx, byType["1user_id"], model.DecisionMerge, "", "user:2"); !errors.Is(err, store.ErrConflictResolved) {
			t.Errorf("the pair's other conflict: %v, want already resolved", err)
		}
		resolved, err := s.IdentityConflictsByStatus(ctx, model.ConflictsResolved, 10)
		if err != nil || len(resolved) != 2 {
			t.Fatalf("resolved %+v (%v)", resolved, err)
		}

		// Processing sees the pair as not to be merged and records no
		// conflict for it, while other pairs are unaffected.
		kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "t", Key: "wk_t"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendEvents(ctx, []model.Event{{WriteKeyID: kid, MessageID: "m1", Type: model.EventTrack, Name: "x", AnonymousID: "a",
			Timestamp: day, ReceivedAt: day, Payload: []byte("{}")}}); err != nil {
			t.Fatal(err)
		}
		var apart, apartRev, other bool
		if _, err := s.ProcessEvents(ctx, 10, func(p *store.ProcessTx, ev *model.Event) error {
			var err error
			if apart, err = p.MergeUndone(1, 2); err != nil {
				return err
			}
			if apartRev, err = p.MergeUndone(2, 1); err != nil {
				return err
			}
			if other, err = p.MergeUndone(1, 3); err != nil {
				return err
			}
			for _, c := range []model.IdentityConflict{{PersonA: 2, PersonB: 1, Type: "phone", ValueA: "1", ValueB: "2"},
				{PersonA: 1, PersonB: 5, Type: "phone", ValueA: "1", ValueB: "5"}} {
				if err := p.RecordConflict(c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !apart || !apartRev || other {
			t.Errorf("MergeUndone: 1-2 %v, 2-1 %v, 1-3 %v; want true, true, false", apart, apartRev, other)
		}
		all, err := s.IdentityConflictsByStatus(ctx, model.ConflictsAll, 10)
		if err != nil {
			t.Fatal(err)
		}
		var pairs []string
		for _, c := range all {
			pairs = append(pairs, fmt.Sprintf("%d-%d %s", c.PersonA, c.PersonB, c.Type))
		}
		if got := strings.Join(pairs, ", "); got != "1-5 phone, 3-4 email, 1-2 user_id, 1-2 email" {
			t.Errorf("conflicts %s, want no new one for 1-2", got)
		}

		// Merge after person 4 was merged into 5: the survivors merge.
		if _, err := s.MergePersons(ctx, 5, 4, "test", "user:1"); err != nil {
			t.Fatal(err)
		}
		got, err = s.ResolveConflict(ctx, byType["3email"], model.DecisionMerge, "", "user:3")
		if err != nil || got.MergeID == 0 {
			t.Fatalf("merge: %+v, %v", got, err)
		}
		if d, err := s.PersonDetail(ctx, 5); err != nil || d.MergedIntoID != 3 {
			t.Errorf("person 5 after the decision: merged into %d (%v), want 3", d.MergedIntoID, err)
		}
		// keep_apart of persons that are one person now is refused.
		c15 := all[0].ID
		if _, err := s.MergePersons(ctx, 1, 3, "test", "user:1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResolveConflict(ctx, c15, model.DecisionKeepApart, "", "user:3"); !errors.Is(err, store.ErrMergeRefused) {
			t.Errorf("keep apart persons merged since: %v", err)
		}
	})
}

// TestKeptApartFollowsMerges checks that a person merged into another
// hands its kept-apart pairs to the survivor, and that undoing the merge
// takes them back.
func TestKeptApartFollowsMerges(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		day := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		for id := int64(1); id <= 3; id++ {
			if err := s.ExecForTest(ctx, `INSERT INTO persons (id, stage, first_seen_at, created_at) VALUES (?, 'lead', ?, ?)`, id, day, day); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ExecForTest(ctx, `INSERT INTO identity_conflicts (id, person_a, person_b, type, value_a, value_b, reason, created_at)
			VALUES (1, 1, 2, 'email', 'a@x.cn', 'b@x.cn', 'test', ?)`, day); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResolveConflict(ctx, 1, model.DecisionKeepApart, "", "user:1"); err != nil {
			t.Fatal(err)
		}
		kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "t", Key: "wk_t"})
		if err != nil {
			t.Fatal(err)
		}
		seq := 0
		apart := func(a, b int64) bool {
			t.Helper()
			seq++
			if _, err := s.AppendEvents(ctx, []model.Event{{WriteKeyID: kid, MessageID: fmt.Sprint("m", seq), Type: model.EventTrack, Name: "x",
				AnonymousID: "a", Timestamp: day, ReceivedAt: day, Payload: []byte("{}")}}); err != nil {
				t.Fatal(err)
			}
			var got bool
			if _, err := s.ProcessEvents(ctx, 10, func(p *store.ProcessTx, ev *model.Event) error {
				var err error
				got, err = p.MergeUndone(a, b)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return got
		}
		mid, err := s.MergePersons(ctx, 3, 2, "test", "user:1")
		if err != nil {
			t.Fatal(err)
		}
		if !apart(3, 1) {
			t.Errorf("person 3, into which 2 was merged, is not kept apart from 1")
		}
		if _, err := s.UndoMerge(ctx, mid); err != nil {
			t.Fatal(err)
		}
		if apart(3, 1) || !apart(1, 2) {
			t.Errorf("after undo: 3-1 kept apart %v (want false), 1-2 %v (want true)", apart(3, 1), apart(1, 2))
		}
	})
}
