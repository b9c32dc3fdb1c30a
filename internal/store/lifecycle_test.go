package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

var lcDay = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func loadLifecycleWorld(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		for _, err := range []error{
			ins("accounts", "id,name,domain,tier,industry,created_at",
				[]any{int64(1), "甲公司", "Jia.cn", "A", "制造", lcDay}, []any{int64(2), "乙公司", "jia.cn", "B", "金融", lcDay}),
			ins("persons", "id,account_id,stage,stage_at,first_seen_at,created_at",
				[]any{int64(1), int64(1), "mql", lcDay, lcDay, lcDay},
				[]any{int64(2), nil, "lead", nil, lcDay, lcDay},
				[]any{int64(3), int64(2), "visitor", nil, lcDay, lcDay},
				[]any{int64(4), int64(1), "lead", lcDay, lcDay, lcDay}),
			ins("identities", "type,value,person_id,created_at", []any{"email", "li@jia.cn", int64(4), lcDay}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,url",
				[]any{int64(1), int64(1), lcDay.Add(time.Hour), "page_view", "direct", ""},
				[]any{int64(2), int64(1), lcDay.Add(3*time.Hour + 1500*time.Microsecond), "form_submit", "direct", "https://x.cn/demo"},
				[]any{int64(3), int64(2), lcDay.Add(2 * time.Hour), "Demo Request", "direct", ""},
				[]any{int64(4), int64(4), lcDay.Add(2 * time.Hour), "form_submit", "direct", "https://x.cn/contact"}),
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
}

func TestSetQualifications(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadLifecycleWorld(t, s)
		set := func(q model.QualificationSet) bool {
			t.Helper()
			q.PersonID, q.At = 1, lcDay
			ok, err := s.SetQualifications(ctx, []model.QualificationSet{q})
			if err != nil {
				t.Fatal(err)
			}
			return ok[0]
		}
		steps := []struct {
			q       model.QualificationSet
			applied bool
			grade   string
			by      string
		}{
			{model.QualificationSet{Field: model.FieldGrade, Value: "C", Actor: "rule:icp", KeepManual: true}, true, "C", "rule:icp"},
			{model.QualificationSet{Field: model.FieldGrade, Value: "C", Actor: "rule:icp", KeepManual: true}, false, "C", "rule:icp"},   // unchanged
			{model.QualificationSet{Field: model.FieldGrade, Value: "C", Actor: "user:7"}, true, "C", "user:7"},                          // a person takes it over
			{model.QualificationSet{Field: model.FieldGrade, Value: "A", Actor: "rule:hot", KeepManual: true}, false, "C", "user:7"},     // kept
			{model.QualificationSet{Field: model.FieldGrade, Value: "B", Actor: "apikey:crm"}, true, "B", "apikey:crm"},                  // another person
			{model.QualificationSet{Field: model.FieldGrade, Value: "A", Actor: "rule:hot", KeepManual: true}, false, "B", "apikey:crm"}, // kept
			{model.QualificationSet{Field: model.FieldGrade, Value: "A", Actor: "rule:boss", KeepManual: false}, true, "A", "rule:boss"}, // overrides
			{model.QualificationSet{Field: model.FieldGrade, Value: "", Actor: "user:7", Reason: "unknown"}, true, "", ""},               // cleared: back to rules
			{model.QualificationSet{Field: model.FieldGrade, Value: "B", Actor: "rule:hot", KeepManual: true}, true, "B", "rule:hot"},
		}
		for i, st := range steps {
			if got := set(st.q); got != st.applied {
				t.Fatalf("step %d: applied %v, want %v", i, got, st.applied)
			}
			q, err := s.PersonQualification(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if q.Grade != st.grade || q.GradeSetBy != st.by {
				t.Fatalf("step %d: grade %q by %q, want %q by %q", i, q.Grade, q.GradeSetBy, st.grade, st.by)
			}
		}
		h, err := s.QualificationHistory(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 6 || h[5].Old != "" || h[5].New != "B" || h[4].Reason != "unknown" || h[4].Old != "A" {
			t.Fatalf("history %+v", h)
		}
		if _, err := s.SetQualifications(ctx, []model.QualificationSet{{PersonID: 99, Field: model.FieldSDRClass, Value: "sql", At: lcDay, Actor: "user:1"}}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing person: %v", err)
		}
		if _, err := s.SetQualifications(ctx, []model.QualificationSet{{PersonID: 1, Field: "stage", Value: "sql", At: lcDay, Actor: "user:1"}}); err == nil {
			t.Fatal("unknown field accepted")
		}
	})
}

func TestLifecyclePersonsAndLookups(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadLifecycleWorld(t, s)
		ps, err := s.LifecyclePersons(ctx, nil, true, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 3 {
			t.Fatalf("%d persons, want 3 (no visitors)", len(ps))
		}
		p1, p2, p4 := ps[0], ps[1], ps[2]
		if p1.ID != 1 || p1.AccountTier != "A" || p1.Industry != "制造" || !p1.DemoRequest || p1.LastActivity == nil ||
			!p1.LastActivity.Equal(lcDay.Add(3*time.Hour+1500*time.Microsecond)) || p1.StageAt == nil || !p1.StageAt.Equal(lcDay) {
			t.Errorf("person 1: %+v", p1)
		}
		if p2.ID != 2 || p2.AccountTier != "" || !p2.DemoRequest || p2.StageAt != nil {
			t.Errorf("person 2: %+v", p2)
		}
		if p4.ID != 4 || p4.DemoRequest || p4.LastActivity == nil {
			t.Errorf("person 4: %+v", p4)
		}
		ps, err = s.LifecyclePersons(ctx, nil, false, false)
		if err != nil || ps[0].LastActivity != nil || ps[0].DemoRequest {
			t.Fatalf("without the costly inputs: %+v %v", ps[0], err)
		}
		// Only some persons: the same values, for those only (a visitor
		// and an unknown id are not read).
		some, err := s.LifecyclePersons(ctx, []int64{4, 3, 999, 1}, true, true)
		if err != nil || len(some) != 2 || some[0].ID != 1 || some[1].ID != 4 || !some[0].DemoRequest || some[0].LastActivity == nil ||
			!some[0].LastActivity.Equal(*p1.LastActivity) || some[1].DemoRequest || some[1].LastActivity == nil {
			t.Fatalf("only 1, 3, 4, 999: %+v %v", some, err)
		}
		if none, err := s.LifecyclePersons(ctx, []int64{}, true, true); err != nil || len(none) != 0 {
			t.Fatalf("only none: %+v %v", none, err)
		}

		// Lookups the CRM API resolves references with.
		if id, err := s.AccountIDByDomain(ctx, " JIA.cn"); err != nil || id != 1 {
			t.Errorf("account by domain: %d %v", id, err)
		}
		if _, err := s.AccountIDByDomain(ctx, "yi.cn"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown domain: %v", err)
		}
		if id, err := s.PersonIDByEmail(ctx, "li@jia.cn"); err != nil || id != 4 {
			t.Errorf("person by email: %d %v", id, err)
		}
		if st, at, err := s.PersonStage(ctx, 2); err != nil || st != model.StageLead || at != nil {
			t.Errorf("stage of 2: %s %v %v", st, at, err)
		}
		if _, _, err := s.PersonStage(ctx, 42); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("stage of a missing person: %v", err)
		}
	})
}

// TestMoveStages checks that moves apply in order, a person's later move
// seeing its earlier one, that a move whose person has left From is
// skipped, and that every applied move leaves its history row.
func TestMoveStages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadLifecycleWorld(t, s)
		t1, t2 := lcDay.Add(time.Hour), lcDay.Add(2*time.Hour)
		moves := []model.StageMove{
			{PersonID: 3, From: model.StageVisitor, To: model.StageLead, At: t1, Reason: "form fill", Actor: "system:processing"},
			{PersonID: 2, From: model.StageLead, To: model.StageMQL, At: t1, Reason: "score 80", Actor: "scoring", RuleVersion: 5},
			{PersonID: 3, From: model.StageLead, To: model.StageMQL, At: t2, Reason: "score 75", Actor: "scoring", RuleVersion: 5},
			{PersonID: 1, From: model.StageLead, To: model.StageMQL, At: t2, Reason: "stale", Actor: "scoring"},
			{PersonID: 3, From: model.StageVisitor, To: model.StageLead, At: t2, Reason: "again", Actor: "system:processing"},
		}
		applied, err := s.MoveStages(ctx, moves)
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, true, true, false, false}; !slices.Equal(applied, want) {
			t.Fatalf("applied %v, want %v", applied, want)
		}
		p, err := s.PersonDetail(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		if p.Stage != model.StageMQL || !p.StageAt.Equal(t2) || p.LeadAt == nil || !p.LeadAt.Equal(t1) {
			t.Fatalf("person 3: %s at %v, lead at %v", p.Stage, p.StageAt, p.LeadAt)
		}
		hist, err := s.StageHistory(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := []model.StageChange{
			{PersonID: 3, FromStage: model.StageVisitor, ToStage: model.StageLead, ChangedAt: t1, Reason: "form fill", Actor: "system:processing"},
			{PersonID: 3, FromStage: model.StageLead, ToStage: model.StageMQL, ChangedAt: t2, Reason: "score 75", Actor: "scoring", RuleVersion: 5},
		}
		if !slices.Equal(hist, want) {
			t.Fatalf("history of 3:\n%+v\nwant\n%+v", hist, want)
		}
		if hist, err = s.StageHistory(ctx, 1); err != nil || len(hist) != 0 {
			t.Fatalf("a skipped move left history: %+v %v", hist, err)
		}
	})
}
