package scoring_test

import (
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

const fallbackRules = `{"mql_threshold": 1000, "decay_half_life_days": 10, "time_zone": "UTC", "fit": [
	{"field": "industry", "in": ["制造", "manufacturing"], "points": 15},
	{"field": "employees", "gte": 500, "points": 10},
	{"field": "city", "equals": "上海", "points": 3},
	{"field": "tier", "exists": false, "points": 1},
	{"field": "plan", "in": ["pro", "enterprise"], "points": 7}
]}`

func TestFitFallsBackToTraits(t *testing.T) {
	r, err := scoring.Parse([]byte(fallbackRules))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		p    scoring.Profile
		want float64
		from string // of the industry line, when it gave points
	}{
		{"no account, traits as sent", scoring.Profile{Traits: map[string]any{"industry": "Manufacturing", "employees": 800.0, "city": "上海"}},
			15 + 10 + 3 + 1, "traits.industry"},
		{"employee_count as a string", scoring.Profile{Traits: map[string]any{"employee_count": "1200"}}, 10 + 1, ""},
		{"Segment company object", scoring.Profile{Traits: map[string]any{"company": map[string]any{"industry": "制造", "employee_count": 600.0}}},
			15 + 10 + 1, "traits.company.industry"},
		{"address object", scoring.Profile{Traits: map[string]any{"address": map[string]any{"city": "上海"}}}, 3 + 1, ""},
		{"the account's field wins over the trait", scoring.Profile{Industry: "金融", Employees: 50, Traits: map[string]any{"industry": "制造", "employees": 900.0}},
			1, ""},
		{"a field the account lacks still falls back", scoring.Profile{Industry: "金融", Traits: map[string]any{"employees": 900.0}}, 10 + 1, ""},
		{"a trait decides exists", scoring.Profile{Traits: map[string]any{"tier": "A"}}, 0, ""},
		{"not a head count", scoring.Profile{Traits: map[string]any{"employees": "51-200", "employee_count": -3.0}}, 1, ""},
		{"no traits", scoring.Profile{}, 1, ""},
		{"the account's plan", scoring.Profile{Plan: "enterprise"}, 7 + 1, ""},
		{"a plan trait when the account has none", scoring.Profile{Traits: map[string]any{"company": map[string]any{"plan": "pro"}}}, 7 + 1, ""},
	}
	for _, c := range cases {
		b := r.Evaluate(c.p, nil, now)
		if b.FitScore != c.want {
			t.Errorf("%s: fit %v, want %v (%+v)", c.name, b.FitScore, c.want, b.Fit)
		}
		if c.from != "" && (len(b.Fit) == 0 || b.Fit[0].Field != "industry" || b.Fit[0].From != c.from) {
			t.Errorf("%s: lines %+v, want the industry line read from %s", c.name, b.Fit, c.from)
		}
	}
}

// TestRescoreFitFromTraits scores persons whose traits are stored in
// persons.traits: without an account, with an account lacking the field,
// and with an account that has it.
func TestRescoreFitFromTraits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		err := s.Load(ctx, func(l store.Loader) error {
			ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
			for _, err := range []error{
				ins("accounts", "id,name,industry,tier,created_at", []any{int64(1), "甲", "", "A", ago(400 * day)}, []any{int64(2), "乙", "金融", "A", ago(400 * day)}),
				ins("persons", "id,account_id,stage,first_seen_at,created_at,traits",
					[]any{int64(1), nil, "lead", ago(9 * day), ago(9 * day), `{"industry": "制造", "employee_count": 800}`},
					[]any{int64(2), int64(1), "lead", ago(9 * day), ago(9 * day), `{"company": {"industry": "Manufacturing"}}`},
					[]any{int64(3), int64(2), "lead", ago(9 * day), ago(9 * day), `{"industry": "制造"}`},
					[]any{int64(4), nil, "lead", ago(9 * day), ago(9 * day), `{}`}),
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
		r, err := scoring.Parse([]byte(fallbackRules))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := scoring.Save(ctx, s, r, "test", now); err != nil {
			t.Fatal(err)
		}
		if _, err := scoring.Rescore(ctx, s, now, nil); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]float64{1: 15 + 10 + 1, 2: 15, 3: 0, 4: 1} {
			if got := detail(t, s, id).FitScore; got != want {
				t.Errorf("person %d: fit %v, want %v", id, got, want)
			}
		}
		b, err := scoring.Explain(ctx, s, 2, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Fit) != 1 || b.Fit[0].From != "traits.company.industry" || b.Fit[0].Value != "Manufacturing" {
			t.Errorf("explanation %+v, want the industry read from traits.company.industry", b.Fit)
		}
	})
}
