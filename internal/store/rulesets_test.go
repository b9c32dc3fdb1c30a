package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// Every kind keeps its versions apart, the newest is in force, and a seed
// is stored as version 1 only when nothing was saved before.
func TestRuleSets(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		kinds := []model.RuleSetKind{model.ChannelRuleSets, model.ScoringRuleSets, model.RoutingRuleSets, model.LifecycleRuleSets}
		for _, k := range kinds {
			if _, err := s.ActiveRuleSet(ctx, k); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: fresh database: %v", k, err)
			}
		}
		// Scoring with a seed: the default becomes version 1.
		a, err := s.SaveRuleSet(ctx, model.ScoringRuleSets, []byte(`{"a":1}`), "li@x.cn", t0, []byte(`{"default":1}`))
		if err != nil || a.Version != 2 {
			t.Fatalf("first save %+v %v", a, err)
		}
		b, err := s.SaveRuleSet(ctx, model.ScoringRuleSets, []byte(`{"b":1}`), "wang@x.cn", t0.Add(time.Hour), []byte(`{"default":1}`))
		if err != nil || b.Version != 3 {
			t.Fatalf("second save: the seed must not be stored again: %+v %v", b, err)
		}
		active, err := s.ActiveRuleSet(ctx, model.ScoringRuleSets)
		if err != nil || active.Version != 3 || string(active.Rules) != `{"b":1}` || active.CreatedBy != "wang@x.cn" || !active.CreatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("active %+v %v", active, err)
		}
		v1, err := s.RuleSetVersion(ctx, model.ScoringRuleSets, 1)
		if err != nil || string(v1.Rules) != `{"default":1}` || v1.CreatedBy != "default" {
			t.Fatalf("seeded version 1 %+v %v", v1, err)
		}
		if _, err := s.RuleSetVersion(ctx, model.ScoringRuleSets, 9); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("version 9: %v", err)
		}
		list, err := s.RuleSetHistory(ctx, model.ScoringRuleSets)
		if err != nil || len(list) != 3 || list[0].Version != 3 || list[2].Version != 1 || list[0].Rules != nil {
			t.Fatalf("history %+v %v", list, err)
		}
		// Without a seed: version 1 is the first save; other kinds untouched.
		r, err := s.SaveRuleSet(ctx, model.RoutingRuleSets, []byte(`{"r":1}`), "ops", t0, nil)
		if err != nil || r.Version != 1 {
			t.Fatalf("routing save %+v %v", r, err)
		}
		for _, k := range []model.RuleSetKind{model.ChannelRuleSets, model.LifecycleRuleSets} {
			if _, err := s.ActiveRuleSet(ctx, k); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s after saving other kinds: %v", k, err)
			}
		}
		if _, err := s.ActiveRuleSet(ctx, "pricing"); err == nil {
			t.Fatal("unknown kind accepted")
		}
	})
}
