package store_test

import (
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
