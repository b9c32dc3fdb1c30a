package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// scoringNow is the fake clock of the scoring API tests.
var scoringNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newScoringEnv serves two persons on a fake clock:
//
//	1: lead at a tier-A account, attended a webinar 30 days ago and
//	   downloaded two whitepapers today (rules below: 15 + 10·½ + 10 + 10)
//	2: lead without an account, one /pricing page view today
func newScoringEnv(t *testing.T, s *store.Store) *oneIDEnv {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		for _, err := range []error{
			ins("accounts", "id,name,tier,industry,created_at", []any{int64(1), "甲", "A", "制造", scoringNow.AddDate(-1, 0, 0)}),
			ins("persons", "id,account_id,stage,title,first_seen_at,created_at",
				[]any{int64(1), int64(1), "lead", "CTO", scoringNow.AddDate(0, -2, 0), scoringNow.AddDate(0, -2, 0)},
				[]any{int64(2), nil, "lead", "", scoringNow.AddDate(0, -2, 0), scoringNow.AddDate(0, -2, 0)}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,url",
				[]any{int64(1), int64(1), scoringNow.AddDate(0, 0, -30), "webinar_attend", "webinar", ""},
				[]any{int64(2), int64(1), scoringNow, "content_download", "content", ""},
				[]any{int64(3), int64(1), scoringNow, "content_download", "content", ""},
				[]any{int64(4), int64(2), scoringNow, "page_view", "direct", "https://www.x.cn/pricing"}),
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
	return newKeyedEnv(t, s, func() time.Time { return scoringNow })
}

const apiScoringRules = `{
  "mql_threshold": 35,
  "decay_half_life_days": 30,
  "fit": [
    {"field": "industry", "in": ["制造", "金融"], "points": 15},
    {"field": "title", "matches": "(?i)总监|director|vp|cto|ceo", "points": 15},
    {"field": "email_domain", "in": ["competitor.com"], "points": -50}
  ],
  "engagement": [
    {"event": "Content Downloaded", "points": 10, "max_per_day": 20},
    {"event": "page", "path_prefix": "/pricing", "points": 5},
    {"event": "Webinar Attended", "points": 10}
  ]
}`

type scoringRulesAnswer struct {
	Version    int64           `json:"version"`
	CreatedAt  *time.Time      `json:"created_at"`
	CreatedBy  string          `json:"created_by"`
	Default    bool            `json:"default"`
	Rules      json.RawMessage `json:"rules"`
	RescoreJob *jobJSON        `json:"rescore_job"`
}

// rescoreResult is the result of a rescore job.
type rescoreResult struct {
	Version    int64 `json:"version"`
	Persons    int   `json:"persons"`
	MovedToMQL int   `json:"moved_to_mql"`
}

func TestAPIScoringRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newScoringEnv(t, s)
		var def scoringRulesAnswer
		e.get(t, "/api/v1/scoring/rules", http.StatusOK, &def)
		if def.Version != 1 || !def.Default || def.CreatedAt != nil || !strings.Contains(string(def.Rules), `"mql_threshold":46`) {
			t.Fatalf("default rules %+v %s", def, def.Rules)
		}
		var versions struct {
			Versions []struct {
				Version   int64  `json:"version"`
				CreatedBy string `json:"created_by"`
				Active    bool   `json:"active"`
			} `json:"versions"`
		}
		e.get(t, "/api/v1/scoring/rules/versions", http.StatusOK, &versions)
		if len(versions.Versions) != 1 || versions.Versions[0].Version != 1 || !versions.Versions[0].Active {
			t.Fatalf("versions before any save %+v", versions)
		}

		// Auth: a key is needed, and the marketer role to change rules.
		for _, c := range []struct {
			method, key string
			want        int
		}{
			{http.MethodGet, "", http.StatusUnauthorized},
			{http.MethodPut, "", http.StatusUnauthorized},
			{http.MethodPut, e.viewer, http.StatusForbidden},
			{http.MethodPost, e.viewer, http.StatusForbidden},
		} {
			target := "/api/v1/scoring/rules"
			if c.method == http.MethodPost {
				target = "/api/v1/scoring/rescore"
			}
			if code, body := e.call(t, c.method, target, c.key, apiScoringRules); code != c.want {
				t.Errorf("%s %s with key %q: %d, want %d: %s", c.method, target, c.key, code, c.want, body)
			}
		}

		// Validation: 400 naming the rule and key; nothing stored.
		for _, c := range []struct{ body, want string }{
			{`not json`, "invalid scoring rules: not valid JSON"},
			{`{"mql_threshold": 60, "decay_half_life_days": 30, "fit": [{"field": "title", "matches": "(", "points": 1}]}`, "fit[0].matches: invalid regular expression"},
			{`{"mql_threshold": 60, "decay_half_life_days": 30, "fit": [{"field": "employees", "gte": 1, "lte": 2, "points": 1}]}`, "fit[0]: want exactly one of"},
			{`{"mql_threshold": 60, "decay_half_life_days": 30, "engagement": [{"event": "page", "points": 1e9}]}`, "engagement[0].points: 1e9 is out of range"},
			{`{"mql_threshold": 60, "decay_half_life_days": 30, "surprise": true}`, `unknown key \"surprise\"`},
		} {
			code, body := e.call(t, http.MethodPut, "/api/v1/scoring/rules", e.editor, c.body)
			if code != http.StatusBadRequest || !strings.Contains(body, c.want) {
				t.Errorf("PUT %.60s: %d %s, want 400 with %q", c.body, code, body, c.want)
			}
		}
		huge := `{"mql_threshold": 60, "decay_half_life_days": 30, "fit": [` + strings.Repeat(" ", 1<<20) + `]}`
		if code, body := e.call(t, http.MethodPut, "/api/v1/scoring/rules", e.editor, huge); code != http.StatusRequestEntityTooLarge {
			t.Errorf("huge body: %d %s", code, body)
		}
		e.get(t, "/api/v1/scoring/rules", http.StatusOK, &def)
		if def.Version != 1 {
			t.Fatalf("a refused rule set was stored: %+v", def)
		}

		// A valid rule set becomes version 2 and is replayed at once, in a
		// job: person 1 has 15 + 15 + 10·½ + 10 + 10 = 55 ≥ 35 and moves
		// to mql.
		startApp(t, e.srv)
		code, body := e.call(t, http.MethodPut, "/api/v1/scoring/rules", e.editor, apiScoringRules)
		if code != http.StatusOK {
			t.Fatalf("PUT: %d %s", code, body)
		}
		var put scoringRulesAnswer
		if err := json.Unmarshal([]byte(body), &put); err != nil {
			t.Fatal(err)
		}
		if put.Version != 2 || put.Default || !strings.HasPrefix(put.CreatedBy, "api key marketing ops") ||
			put.RescoreJob == nil || put.RescoreJob.Kind != "scoring.rescore" {
			t.Fatalf("PUT answer %s", body)
		}
		// The answer goes back as it is: the same rules, nothing stored.
		if code, again := e.call(t, http.MethodPut, "/api/v1/scoring/rules", e.editor, body); code != http.StatusOK || !strings.Contains(again, `"unchanged":true`) {
			t.Fatalf("PUT of the PUT answer: %d %s", code, again)
		}
		var rescored rescoreResult
		if j := awaitJob(t, e.h, e.viewer, put.RescoreJob.ID); j.State != model.JobSucceeded || json.Unmarshal(j.Result, &rescored) != nil ||
			rescored.Version != 2 || rescored.Persons != 2 || rescored.MovedToMQL != 1 {
			t.Fatalf("rescore job %+v", j)
		}
		e.get(t, "/api/v1/scoring/rules/versions", http.StatusOK, &versions)
		if len(versions.Versions) != 2 || versions.Versions[0].Version != 2 || !versions.Versions[0].Active ||
			versions.Versions[1].Version != 1 || versions.Versions[1].CreatedBy != "default" || versions.Versions[1].Active {
			t.Fatalf("versions %+v", versions)
		}
		var old scoringRulesAnswer
		e.get(t, "/api/v1/scoring/rules?version=1", http.StatusOK, &old)
		if old.Version != 1 || !strings.Contains(string(old.Rules), `"mql_threshold":46`) {
			t.Fatalf("version 1 after a save: %+v", old)
		}
		e.get(t, "/api/v1/scoring/rules?version=9", http.StatusNotFound, nil)
		e.get(t, "/api/v1/scoring/rules?version=x", http.StatusBadRequest, nil)

		// The person explains its score.
		var p struct {
			Stage           model.Stage `json:"stage"`
			FitScore        float64     `json:"fit_score"`
			EngagementScore float64     `json:"engagement_score"`
			Score           float64     `json:"score"`
			ScoreVersion    int64       `json:"score_rule_version"`
			Explanation     struct {
				Version    int64 `json:"version"`
				Fit        []map[string]any
				Engagement []map[string]any
				Score      float64 `json:"score"`
				Threshold  float64 `json:"threshold"`
			} `json:"score_explanation"`
		}
		e.get(t, "/api/v1/persons/1", http.StatusOK, &p)
		if p.Stage != model.StageMQL || p.FitScore != 30 || p.EngagementScore != 25 || p.Score != 55 || p.ScoreVersion != 2 {
			t.Fatalf("person 1 %+v", p)
		}
		x := p.Explanation
		if x.Version != 2 || x.Score != 55 || x.Threshold != 35 || len(x.Fit) != 2 || len(x.Engagement) != 2 {
			t.Fatalf("explanation %+v", x)
		}
		if x.Fit[1]["field"] != "title" || x.Fit[1]["value"] != "CTO" || x.Fit[1]["points"] != 15.0 {
			t.Errorf("title line %+v", x.Fit[1])
		}
		if l := x.Engagement[0]; l["event"] != "Content Downloaded" || l["occurrences"] != 2.0 || l["points_now"] != 20.0 {
			t.Errorf("download line %+v", l)
		}
		if l := x.Engagement[1]; l["event"] != "Webinar Attended" || l["points_before_decay"] != 10.0 || l["points_now"] != 5.0 {
			t.Errorf("webinar line %+v", l)
		}

		if j := operate(t, e.h, http.MethodPost, "/api/v1/scoring/rescore", e.editor, ""); j.State != model.JobSucceeded || !strings.Contains(string(j.Result), `"moved_to_mql":0`) {
			t.Errorf("rescore: %+v", j)
		}
	})
}
