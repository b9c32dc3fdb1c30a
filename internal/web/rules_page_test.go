package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// personValues reads every person's score and grade from the database.
func personValues(t *testing.T, s *store.Store) map[int64][2]string {
	t.Helper()
	rows, err := rawDB(t, s).Query(`SELECT id, score, grade FROM persons ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64][2]string{}
	for rows.Next() {
		var id int64
		var score float64
		var grade string
		if err := rows.Scan(&id, &score, &grade); err != nil {
			t.Fatal(err)
		}
		out[id] = [2]string{strconv.FormatFloat(score, 'f', 1, 64), grade}
	}
	return out
}

var savedLocation = regexp.MustCompile(`^/rules\?kind=(\w+)&saved=(\d+)&job=(\d+)#apply$`)

// TestRulesPagePreviewAndSave edits lifecycle and scoring rules through
// the page with a session: the dry run lists who would change, and
// saving (a job) changes exactly those, as the database shows; the API's
// dry run of the same rules agrees with the page.
func TestRulesPagePreviewAndSave(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		startApp(t, e.srv)
		c := e.loginAs(t, model.RoleMarketer)
		post := func(target, rules string) *http.Response {
			return e.do(t, req{method: http.MethodPost, target: target, form: url.Values{"rules": {rules}}, cookies: []*http.Cookie{c}})
		}

		for _, kind := range ruleKinds {
			res := e.do(t, req{target: "/rules?kind=" + kind + "&lang=zh-CN", cookies: []*http.Cookie{c}})
			if b := bodyOf(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, `<textarea class="rules-json" name="rules"`) || !strings.Contains(b, `id="table-summary"`) {
				t.Errorf("%s tab: %d", kind, res.StatusCode)
			}
		}

		// Lifecycle: grade the customers A.
		lifecycleRules := `{"rules": [{"name": "customers-a", "when": {"stage_in": ["customer"]}, "set": {"grade": "A"}}]}`
		before := personValues(t, s)
		body := bodyOf(t, post("/rules/lifecycle/preview?lang=en", lifecycleRules))
		for id, want := range map[string]string{"preview_persons": "1", "preview_grades": "1", "preview_classes": "0", "preview_moves": "0"} {
			if got := kpiRaw(body, id); got != want {
				t.Errorf("lifecycle preview %s = %q, want %q", id, got, want)
			}
		}
		if !strings.Contains(body, `<a href="/persons/1">#1</a>`) || !strings.Contains(body, `name="rules" value="{&#34;rules&#34;`) {
			t.Errorf("lifecycle preview lacks the sample or the save form:\n%s", pageText(body))
		}
		var dry struct {
			Changes struct {
				Persons      int `json:"persons"`
				GradeChanges int `json:"grade_changes"`
			} `json:"changes"`
		}
		decodeJSON(t, e.send(t, http.MethodPut, "/api/v1/lifecycle/rules?dry_run=true", e.marketerKey(t), "application/json", lifecycleRules), http.StatusOK, &dry)
		if dry.Changes.Persons != 1 || dry.Changes.GradeChanges != 1 {
			t.Errorf("the API's dry run disagrees: %+v", dry.Changes)
		}
		j := e.saveRules(t, c, "lifecycle", lifecycleRules)
		if j.Kind != "lifecycle.run" || j.State != model.JobSucceeded || !strings.Contains(string(j.Result), `"grade_changes":1`) {
			t.Fatalf("lifecycle job %+v %s", j, j.Result)
		}
		after := personValues(t, s)
		if changed := changedPersons(before, after, 1); changed != "1" || after[1][1] != "A" {
			t.Errorf("grades changed for %s (%v → %v), want person 1 graded A", changed, before, after)
		}
		body = bodyOf(t, e.do(t, req{target: fmt.Sprintf("/rules?kind=lifecycle&saved=1&job=%d&lang=en", j.ID), cookies: []*http.Cookie{c}}))
		if !strings.Contains(pageText(body), "1 people evaluated") && !strings.Contains(pageText(body), "grade changes") {
			t.Errorf("the job's result in words is missing: %s", pageText(body))
		}

		// Scoring: ten points for customers, no engagement, no MQL.
		scoringRules := `{"mql_threshold": 1000, "decay_half_life_days": 30, "fit": [{"field": "stage", "in": ["customer"], "points": 10}], "engagement": []}`
		before = personValues(t, s)
		body = bodyOf(t, post("/rules/scoring/preview?lang=en", scoringRules))
		changes, _ := strconv.Atoi(kpiRaw(body, "preview_score_changes"))
		if kpiRaw(body, "preview_to_mql") != "0" || changes == 0 {
			t.Fatalf("scoring preview: %s", pageText(body))
		}
		sample := regexp.MustCompile(`<a href="/persons/(\d+)">#\d+</a></td><td data-col="score_before" class="num">[^<]*</td><td data-col="score_after" class="num">([^<]*)</td>`).FindAllStringSubmatch(body, -1)
		if len(sample) != changes {
			t.Fatalf("sample of %d, %d changes", len(sample), changes)
		}
		j = e.saveRules(t, c, "scoring", scoringRules)
		if j.Kind != "scoring.rescore" || j.State != model.JobSucceeded {
			t.Fatalf("rescore job %+v", j)
		}
		after = personValues(t, s)
		n := 0
		for id := range after {
			if after[id][0] != before[id][0] {
				n++
			}
		}
		if n != changes {
			t.Errorf("%d scores changed, the preview said %d", n, changes)
		}
		for _, m := range sample {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			if after[id][0] != m[2] {
				t.Errorf("person %d scored %s, the preview said %s", id, after[id][0], m[2])
			}
		}

		// The same rules again: nothing to save.
		body = bodyOf(t, post("/rules/scoring/preview?lang=en", scoringRules))
		if !strings.Contains(body, `id="preview-unchanged"`) || strings.Contains(body, `id="rules-save"`) {
			t.Error("the rules in force preview as a change")
		}
	})
}

// saveRules saves rules through the page and waits for the job it
// started.
func (e *env) saveRules(t *testing.T, c *http.Cookie, kind, rules string) jobJSON {
	t.Helper()
	res := e.do(t, req{method: http.MethodPost, target: "/rules/" + kind + "/save", form: url.Values{"rules": {rules}}, cookies: []*http.Cookie{c}})
	m := savedLocation.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil || m[1] != kind {
		t.Fatalf("save %s: %d %q %s", kind, res.StatusCode, res.Header.Get("Location"), pageText(bodyOf(t, res)))
	}
	id, _ := strconv.ParseInt(m[3], 10, 64)
	return e.waitJob(t, id)
}

// changedPersons lists the persons whose value i differs, as "1,3".
func changedPersons(before, after map[int64][2]string, i int) string {
	var out []string
	for id := int64(1); id <= int64(len(after)); id++ {
		if before[id][i] != after[id][i] {
			out = append(out, strconv.FormatInt(id, 10))
		}
	}
	return strings.Join(out, ",")
}

// TestRulesPageErrorsPointAtTheField: a refused rule set says why, names
// the field and shows its line, in the reader's language, escaped; nothing
// is saved.
func TestRulesPageErrorsPointAtTheField(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		c := e.loginAs(t, model.RoleMarketer)
		for _, tc := range []struct {
			kind, rules, path string
			line              int
		}{
			{"lifecycle", "{\"rules\": [\n  {\"name\": \"a\",\n   \"when\": {\"score_gte\": 50},\n   \"set\": {\"grade\": \"Z\"}}\n]}", "rules[0].set.grade", 4},
			{"scoring", "{\"mql_threshold\": 60,\n \"decay_half_life_days\": 30,\n \"fit\": [\n  {\"field\": \"industry\", \"in\": [\"x\"], \"points\": 5},\n  {\"field\": \"industry\", \"in\": [\"y\"]}\n ],\n \"engagement\": []}", "fit[1].points", 5},
			{"routing", "{\"trigger_stage\": \"sql\",\n \"rules\": [\n  {\"name\": \"\", \"pool\": {\"team\": \"x\"}}\n ]}", "rules[0].name", 3},
			{"channels", "{\"rules\": [\n {\"name\": \"a\", \"channel\": \"paid_search\", \"when\": [{\"field\": \"source\", \"match\": \"exact\", \"value\": \"b\"}]},\n {\"name\": \"<script>x</script>\", \"channel\": \"carrier_pigeon\", \"when\": []}\n]}", "rules[1]", 3},
			{"scoring", "{\"mql_threshold\": 60,\n \"fit\": [\n  {\"field\": \"industry\" \"points\": 5}\n ]}", "", 3},
		} {
			res := e.do(t, req{method: http.MethodPost, target: "/rules/" + tc.kind + "/preview?lang=zh-CN", form: url.Values{"rules": {tc.rules}}, cookies: []*http.Cookie{c}})
			body := bodyOf(t, res)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="rules-error"`) || strings.Contains(body, "<script>x") {
				t.Errorf("%s %s: %d %s", tc.kind, tc.path, res.StatusCode, pageText(body))
				continue
			}
			where := regexp.MustCompile(`id="rules-error-where">([^<]*)<`).FindStringSubmatch(body)
			wantWhere := fmt.Sprintf("位置：%s，第 %d 行：", tc.path, tc.line)
			if tc.path == "" {
				wantWhere = fmt.Sprintf("第 %d 行：", tc.line)
			}
			if where == nil || where[1] != wantWhere {
				t.Errorf("%s: where %q, want %q", tc.kind, where, wantWhere)
			}
			if !regexp.MustCompile(`class="bad" id="rules-error-line"><span class="ln">` + strconv.Itoa(tc.line) + `</span>`).MatchString(body) {
				t.Errorf("%s: line %d not marked", tc.kind, tc.line)
			}
			// The editor keeps what was typed.
			if !strings.Contains(html2text(body), tc.rules[:20]) {
				t.Errorf("%s: the editor lost the text", tc.kind)
			}
		}
		n, err := s.RuleSetHistory(ctx, model.LifecycleRuleSets)
		if err != nil || len(n) != 0 {
			t.Errorf("a refused rule set was saved: %v %v", n, err)
		}
		// Saving refused rules is refused the same way.
		res := e.do(t, req{method: http.MethodPost, target: "/rules/lifecycle/save", form: url.Values{"rules": {`{"rules": [{"name": "a"}]}`}}, cookies: []*http.Cookie{c}})
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("save of refused rules: %d", res.StatusCode)
		}
		if res := e.do(t, req{method: http.MethodPost, target: "/rules/nonsense/preview", form: url.Values{"rules": {"{}"}}, cookies: []*http.Cookie{c}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown kind: %d", res.StatusCode)
		}
		for _, role := range []model.Role{model.RoleSales, model.RoleViewer} {
			if res := e.do(t, req{target: "/rules", cookies: []*http.Cookie{e.loginAs(t, role)}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s opened /rules: %d", role, res.StatusCode)
			}
		}
	})
}
