package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// ruleSetNow is the fake clock of the rule-set API tests.
var ruleSetNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newRuleSetEnv serves a world in which each kind of rule set has
// something to change:
//
//	person 10: lead at a tier-A account, two downloads today: 15 + 2·12 = 39
//	           under the default scoring rules (MQL at 46)
//	person 11: sql at the same account, never assigned (a waiting lead)
//	two page views from events: utm_source partner-x (unknown channel by
//	the default channel rules) and baidu/cpc
func newRuleSetEnv(t *testing.T, s *store.Store) (*oneIDEnv, string) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		for _, err := range []error{
			ins("users", "id,email,role,created_at", []any{int64(1), "owner@x.cn", "admin", day0}, []any{int64(2), "sales@x.cn", "sales", day0}),
			ins("accounts", "id,name,tier,industry,created_at", []any{int64(1), "甲", "A", "制造", day0}),
			ins("persons", "id,account_id,stage,stage_at,title,first_seen_at,created_at",
				[]any{int64(10), int64(1), "lead", day0, "CTO", day0, day0},
				[]any{int64(11), int64(1), "sql", day0, "", day0, day0}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,url",
				[]any{int64(1), int64(10), ruleSetNow, "content_download", "content", ""},
				[]any{int64(2), int64(10), ruleSetNow, "content_download", "content", ""}),
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
	e := newKeyedEnv(t, s, func() time.Time { return ruleSetNow })
	kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_rules"})
	if err != nil {
		t.Fatal(err)
	}
	e.kid = kid
	e.send(t, model.Event{Type: model.EventPage, AnonymousID: "a", URL: "https://www.revloop.cn/", Source: "partner-x"}, 0, "")
	e.send(t, model.Event{Type: model.EventPage, AnonymousID: "b", URL: "https://www.revloop.cn/", Source: "baidu", Medium: "cpc"}, 1, "")
	if _, err := process.ProcessPending(ctx, s); err != nil {
		t.Fatal(err)
	}
	return e, e.editor
}

// ruleSetSnapshot is everything a dry run must leave alone: every rule
// set's versions, the persons' scores, stages, grades, classes and
// assignments, and the touchpoints' channels.
func ruleSetSnapshot(t *testing.T, s *store.Store) string {
	t.Helper()
	var b strings.Builder
	for _, k := range []model.RuleSetKind{model.ChannelRuleSets, model.ScoringRuleSets, model.RoutingRuleSets, model.LifecycleRuleSets} {
		h, err := s.RuleSetHistory(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s versions %d\n", k, len(h))
	}
	profiles, err := s.ScoringProfiles(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := s.LifecyclePersons(ctx, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	touches, err := s.TouchSources(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{profiles, lc, touches} {
		j, _ := json.Marshal(v)
		b.Write(j)
		b.WriteByte('\n')
	}
	for _, p := range profiles {
		as, err := s.PersonAssignments(ctx, p.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "person %d assignments %d\n", p.PersonID, len(as))
	}
	return b.String()
}

// dig follows a path of keys and indexes through decoded JSON.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// TestRuleSetsRoundTrip checks, for every kind of rule set, that what GET
// answers is accepted back by PUT unchanged (and stores no version), that
// a dry run of an edit says what would change and writes nothing, and
// that the edit, saved, is what GET answers next.
func TestRuleSetsRoundTrip(t *testing.T) {
	kinds := []struct {
		name string
		kind model.RuleSetKind
		path string
		// edit changes one field of the document GET answered.
		edit func(doc map[string]any)
		// edited reports whether a GET shows the edit.
		edited func(doc map[string]any) bool
		// dry checks what the dry run of the edit says would change.
		dry func(t *testing.T, changes any, summary string)
	}{
		{
			name: "scoring", kind: model.ScoringRuleSets, path: "/api/v1/scoring/rules",
			edit:   func(doc map[string]any) { doc["rules"].(map[string]any)["mql_threshold"] = 30 },
			edited: func(doc map[string]any) bool { return dig(doc, "rules", "mql_threshold") == float64(30) },
			dry: func(t *testing.T, c any, summary string) {
				if dig(c, "would_become_mql") != float64(1) || dig(c, "sample", 0, "person_id") != float64(10) ||
					dig(c, "sample", 0, "score_after") != float64(39) || dig(c, "sample", 0, "stage_after") != "mql" ||
					!strings.Contains(summary, "1 person would become MQL") {
					t.Errorf("dry run %v (%s), want person 10 at 39 to become MQL", c, summary)
				}
			},
		},
		{
			name: "routing", kind: model.RoutingRuleSets, path: "/api/v1/routing/rules",
			edit: func(doc map[string]any) {
				doc["fallback"] = map[string]any{"pool": map[string]any{"users": []any{"sales@x.cn"}}}
			},
			edited: func(doc map[string]any) bool { return dig(doc, "fallback", "pool", "users", 0) == "sales@x.cn" },
			dry: func(t *testing.T, c any, summary string) {
				if dig(c, "pending") != float64(1) || dig(c, "would_assign") != float64(1) || dig(c, "owner_changes") != float64(1) ||
					dig(c, "sample", 0, "person_id") != float64(11) || dig(c, "sample", 0, "owner_before") != float64(0) ||
					dig(c, "sample", 0, "owner_after") != float64(2) || dig(c, "sample", 0, "rule") != "fallback" {
					t.Errorf("dry run %v (%s), want person 11 to go to user 2", c, summary)
				}
			},
		},
		{
			name: "lifecycle", kind: model.LifecycleRuleSets, path: "/api/v1/lifecycle/rules",
			edit: func(doc map[string]any) {
				doc["rules"] = []any{map[string]any{"name": "sales-grade", "when": map[string]any{"stage_in": []any{"sql"}}, "set": map[string]any{"grade": "A"}}}
			},
			edited: func(doc map[string]any) bool { return dig(doc, "rules", 0, "name") == "sales-grade" },
			dry: func(t *testing.T, c any, summary string) {
				if dig(c, "grade_changes") != float64(1) || dig(c, "persons") != float64(1) || dig(c, "sample", 0, "person_id") != float64(11) ||
					dig(c, "sample", 0, "before") != "" || dig(c, "sample", 0, "after") != "A" || !strings.Contains(summary, "1 person would change") {
					t.Errorf("dry run %v (%s), want person 11 graded A", c, summary)
				}
			},
		},
		{
			name: "channels", kind: model.ChannelRuleSets, path: "/api/v1/channels/rules",
			edit: func(doc map[string]any) {
				partners := map[string]any{"name": "Partners", "channel": "referral", "when": []any{map[string]any{"field": "source", "match": "prefix", "value": "partner-"}}}
				doc["rules"] = append([]any{partners}, doc["rules"].([]any)...)
			},
			edited: func(doc map[string]any) bool { return dig(doc, "rules", 0, "name") == "Partners" },
			dry: func(t *testing.T, c any, summary string) {
				if dig(c, "examined") != float64(2) || dig(c, "changed") != float64(1) || dig(c, "transitions", 0, "to") != "referral" ||
					dig(c, "transitions", 0, "touchpoints") != float64(1) || dig(c, "sample", 0, "channel_after") != "referral" ||
					!strings.Contains(summary, "1 touchpoint of 2 would change channel") {
					t.Errorf("dry run %v (%s), want one touchpoint to move to referral", c, summary)
				}
			},
		},
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e, editor := newRuleSetEnv(t, s)
		send := func(t *testing.T, method, target, body string, want int) map[string]any {
			t.Helper()
			code, out := e.call(t, method, target, editor, body)
			if code != want {
				t.Fatalf("%s %s: %d, want %d: %s", method, target, code, want, out)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%s %s: %v: %s", method, target, err, out)
			}
			return doc
		}
		versions := func(t *testing.T, k model.RuleSetKind) int {
			h, err := s.RuleSetHistory(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			return len(h)
		}
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				_, got := e.call(t, http.MethodGet, k.path, editor, "")
				before := versions(t, k.kind)

				// GET → PUT unchanged: accepted, no new version.
				if put := send(t, http.MethodPut, k.path, got, http.StatusOK); put["unchanged"] != true {
					t.Errorf("PUT of the GET answer %v, want unchanged", put)
				}
				if dry := send(t, http.MethodPut, k.path+"?dry_run=true", got, http.StatusOK); dry["dry_run"] != true || dry["unchanged"] != true {
					t.Errorf("dry run of the GET answer %v, want unchanged", dry)
				}
				if n := versions(t, k.kind); n != before {
					t.Fatalf("an unchanged PUT stored a version: %d → %d", before, n)
				}

				// GET → edit one field → dry run: says what would change,
				// writes nothing.
				var doc map[string]any
				if err := json.Unmarshal([]byte(got), &doc); err != nil {
					t.Fatal(err)
				}
				k.edit(doc)
				edited, _ := json.Marshal(doc)
				snap := ruleSetSnapshot(t, s)
				dry := send(t, http.MethodPut, k.path+"?dry_run=true", string(edited), http.StatusOK)
				if dry["dry_run"] != true || dry["unchanged"] != false {
					t.Errorf("dry run of the edit %v", dry)
				}
				summary, _ := dry["summary"].(string)
				k.dry(t, dry["changes"], summary)
				if after := ruleSetSnapshot(t, s); after != snap {
					t.Fatalf("the dry run wrote:\nbefore %s\nafter  %s", snap, after)
				}

				// → PUT: a new version, which GET answers.
				if put := send(t, http.MethodPut, k.path, string(edited), http.StatusOK); put["unchanged"] != nil {
					t.Errorf("PUT of the edit %v", put)
				}
				if n := versions(t, k.kind); n <= before {
					t.Fatalf("the edit stored no version: %d → %d", before, n)
				}
				if now := send(t, http.MethodGet, k.path, "", http.StatusOK); !k.edited(now) {
					t.Fatalf("GET after the edit %v", now)
				}
			})
		}

		// Refusals name what was wrong.
		for _, c := range []struct{ target, body, want string }{
			{"/api/v1/scoring/rules?dry_run=maybe", `{}`, `dry_run: want true or false`},
			{"/api/v1/scoring/rules", `{"rules": {"mql_threshold": 1, "decay_half_life_days": 0}, "surprise": 1}`, `unknown key \"surprise\" beside \"rules\"`},
			{"/api/v1/lifecycle/rules?dry_run=true", `{"version": 3, "rulez": []}`, `unknown field \"rulez\"`},
			{"/api/v1/routing/rules?dry_run=true", `{"rules": [], "fallback": {"pool": {"users": ["nobody@x.cn"]}}}`, `no user nobody@x.cn`},
		} {
			code, out := e.call(t, http.MethodPut, c.target, editor, c.body)
			if code != http.StatusBadRequest || !strings.Contains(out, c.want) {
				t.Errorf("PUT %s %s: %d %s, want 400 with %q", c.target, c.body, code, out, c.want)
			}
		}
		if code, out := e.call(t, http.MethodPut, "/api/v1/scoring/rules?dry_run=true", e.viewer, `{}`); code != http.StatusForbidden {
			t.Errorf("a viewer's dry run: %d %s", code, out)
		}
	})
}
