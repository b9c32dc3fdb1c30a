package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// sendJSON makes one JSON API request with a bearer key (none when key is "").
func (e *env) sendJSON(t *testing.T, method, target, key, body string) *http.Response {
	t.Helper()
	hr := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		hr.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec.Result()
}

// routingKey makes a key of role owned by the fixture's first user with
// that role (admin: owner@x.cn, sales: sales@x.cn, marketer: li.na).
func (e *env) routingKey(t *testing.T, role model.Role) string {
	t.Helper()
	users, err := e.store.Users(ctx, role)
	if err != nil || len(users) == 0 {
		t.Fatalf("no %s user: %v", role, err)
	}
	key, _, err := e.auth.CreateUserAPIKey(ctx, users[0].ID, string(role), role)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func wantRoutingError(t *testing.T, res *http.Response, code int, contains string) {
	t.Helper()
	var body apiError
	decodeJSON(t, res, code, &body)
	if !strings.Contains(body.Error, contains) {
		t.Fatalf("error %q, want it to contain %q", body.Error, contains)
	}
}

func TestRoutingRulesAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		marketer, sales := e.routingKey(t, model.RoleMarketer), e.routingKey(t, model.RoleSales)

		wantRoutingError(t, e.sendJSON(t, "GET", "/api/v1/routing/rules", "", ""), 401, "")
		wantRoutingError(t, e.sendJSON(t, "GET", "/api/v1/routing/rules", e.key, ""), 403, "marketer")
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/rules", sales, `{}`), 403, "marketer")

		var def map[string]any
		decodeJSON(t, e.sendJSON(t, "GET", "/api/v1/routing/rules", marketer, ""), 200, &def)
		if def["trigger_stage"] != "sql" || def["version"] != nil {
			t.Fatalf("defaults %v", def)
		}
		bad := []struct{ body, want string }{
			{`{"trigger_stage": "customer"}`, `invalid routing rules: trigger_stage: "customer" is not a trigger stage`},
			{`{"rules": [{"name": "x", "pool": {"users": ["nobody@x.cn"]}}]}`, "rules[0].pool.users[0]: no user nobody@x.cn"},
			{`{"rules": [{"name": "x", "pool": {"team": "mars"}}]}`, `rules[0].pool.team: no user is in team "mars"`},
			{`{"sla": {"first_follow_up": "soon"}}`, "sla.first_follow_up"},
			{`{"rules": "all"}`, "rules"},
			{`{"rulez": []}`, "unknown key"},
			{`not json`, "malformed JSON"},
			{`{}`, "rules: missing"},
			{`{"trigger_stage": "sql", "rules": null}`, "rules: missing"},
		}
		for _, b := range bad {
			wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/rules", marketer, b.body), 400, b.want)
		}
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/rules", marketer, `{"rules": [`+strings.Repeat(" ", 1<<20)+`]}`), 413, "larger than")

		body := `{"trigger_stage": "mql", "sla": {"first_follow_up": "90m", "business_hours": {"holidays": ["2026-02-17"]}},
			"keep_account_owner": true,
			"rules": [{"name": "sales", "match": {"tier": ["A", "B"], "score_gte": 10}, "pool": {"users": [2, "owner@x.cn"]}, "method": "least_busy"}],
			"fallback": {"pool": {"users": ["sales@x.cn"]}}}`
		var saved map[string]any
		decodeJSON(t, e.sendJSON(t, "PUT", "/api/v1/routing/rules", marketer, body), 200, &saved)
		if saved["version"] != float64(1) || saved["trigger_stage"] != "mql" || saved["updated_by"] == "" {
			t.Fatalf("saved %v", saved)
		}
		// What GET returns can be PUT back as it is: the same rules, so
		// no new version.
		var got map[string]any
		decodeJSON(t, e.sendJSON(t, "GET", "/api/v1/routing/rules", marketer, ""), 200, &got)
		raw, _ := json.Marshal(got)
		decodeJSON(t, e.sendJSON(t, "PUT", "/api/v1/routing/rules", marketer, string(raw)), 200, &saved)
		if saved["version"] != float64(1) || saved["unchanged"] != true {
			t.Fatalf("round trip %v", saved)
		}
		rules := saved["rules"].([]any)[0].(map[string]any)
		if users := rules["pool"].(map[string]any)["users"].([]any); users[0] != float64(2) || users[1] != "owner@x.cn" {
			t.Fatalf("pool users %v", users)
		}
	})
}

// runRouting runs routing now through the API (an operation) and decodes
// its result into v.
func (e *env) runRouting(t *testing.T, admin string, v any) {
	t.Helper()
	j := operate(t, e.h, "POST", "/api/v1/routing/run", admin, "")
	if j.State != model.JobSucceeded || json.Unmarshal(j.Result, v) != nil {
		t.Fatalf("routing run: %+v", j)
	}
}

func TestRoutingFlowAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		admin, marketer, sales := e.routingKey(t, model.RoleAdmin), e.routingKey(t, model.RoleMarketer), e.routingKey(t, model.RoleSales)
		// Monday 2 February 2026, 10:00 in Shanghai. Person 2 has been an
		// MQL since 30 January.
		now := time.Date(2026, 2, 2, 2, 0, 0, 0, time.UTC)
		e.auth.Now = func() time.Time { return now }
		var out map[string]any
		decodeJSON(t, e.sendJSON(t, "PUT", "/api/v1/routing/rules", marketer,
			`{"trigger_stage": "mql", "rules": [], "fallback": {"pool": {"users": ["sales@x.cn"]}}}`), 200, &out)

		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/routing/run", marketer, ""), 403, "admin")
		var run struct{ Assigned, Waiting, Breached int }
		startApp(t, e.srv)
		e.runRouting(t, admin, &run)
		if run.Assigned != 1 || run.Waiting != 0 || run.Breached != 0 {
			t.Fatalf("run %+v", run)
		}
		var list struct{ Assignments []assignmentJSON }
		decodeJSON(t, e.sendJSON(t, "GET", "/api/v1/persons/2/assignments", e.key, ""), 200, &list)
		if len(list.Assignments) != 1 || list.Assignments[0].UserID != 2 || list.Assignments[0].Rule != "fallback" ||
			!list.Assignments[0].DueAt.Equal(now.Add(2*time.Hour)) {
			t.Fatalf("assignments %+v", list.Assignments)
		}
		var person map[string]any
		decodeJSON(t, e.sendJSON(t, "GET", "/api/v1/persons/2", e.key, ""), 200, &person)
		if owner, _ := person["owner"].(map[string]any); owner == nil || owner["id"] != float64(2) {
			t.Fatalf("person owner %v", person["owner"])
		}

		// Activities: validation and auth, then a real follow-up.
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/activities", e.key, `{}`), 403, "sales")
		badActs := []struct{ body, want string }{
			{`{"person_id": 2, "user_id": 2, "kind": "telegram"}`, `kind: "telegram" is not an activity kind`},
			{`{"person_id": 2, "user_id": 2, "kind": "call", "occurred_at": "yesterday"}`, "occurred_at"},
			{`{"person_id": 2, "user_id": 2, "kind": "call", "occurred_at": "2026-02-03T10:00:00+08:00"}`, "future"},
			{`{"person_id": "two", "user_id": 2, "kind": "call"}`, "person_id"},
			{`{"person_id": 2, "user_id": 2, "kind": "call", "extra": 1}`, "unknown field"},
		}
		for _, b := range badActs {
			wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/activities", sales, b.body), 400, b.want)
		}
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/activities", sales, `{"person_id": 99, "user_id": 2, "kind": "call"}`), 404, "no such person")
		// A sales key logs as its owner: naming someone else is refused,
		// so nobody's follow-up can be logged by another; a key without an
		// owner cannot log at all; only an admin key names the user.
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/activities", sales, `{"person_id": 2, "user_id": 1, "kind": "call"}`), 403, "as its owner (sales@x.cn)")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/activities", sales, `{"person_id": 2, "user_email": "owner@x.cn", "kind": "call"}`), 403, "only admin keys")
		ownerless, _, err := e.auth.CreateAPIKey(ctx, "old crm", model.RoleSales)
		if err != nil {
			t.Fatal(err)
		}
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/activities", ownerless, `{"person_id": 2, "user_id": 2, "kind": "call"}`), 403, "belongs to no user")
		// No later than now, with five minutes for clocks.
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/activities", sales, `{"person_id": 2, "kind": "call", "occurred_at": "2026-02-02T10:36:00+08:00"}`), 400, "occurred_at")
		now = now.Add(30 * time.Minute)
		var act struct {
			Activity      activityJSON
			FirstFollowUp bool `json:"first_follow_up"`
		}
		decodeJSON(t, e.sendJSON(t, "POST", "/api/v1/activities", sales,
			`{"person_id": 2, "user_email": "sales@x.cn", "kind": "call", "occurred_at": "2026-02-02T10:20:00+08:00", "note": "接通，约演示"}`), 201, &act)
		if !act.FirstFollowUp || act.Activity.UserID != 2 || act.Activity.Kind != "call" || !act.Activity.OccurredAt.Equal(now.Add(-10*time.Minute)) {
			t.Fatalf("activity %+v", act)
		}
		var acts struct{ Activities []activityJSON }
		decodeJSON(t, e.sendJSON(t, "GET", "/api/v1/activities?person_id=2", e.key, ""), 200, &acts)
		if len(acts.Activities) != 1 || acts.Activities[0].Note != "接通，约演示" {
			t.Fatalf("activities %+v", acts)
		}
		wantRoutingError(t, e.sendJSON(t, "GET", "/api/v1/activities", e.key, ""), 400, "person_id")

		// Manual reassignment to the admin, who never follows up: one
		// breach, one escalation (no manager: the admin), one count.
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/persons/2/assign", sales, `{"user_id": 1}`), 400, "reason")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/persons/2/assign", sales, ``), 400, "empty body")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/persons/2/assign", sales, `{"user_id": 77, "reason": "x"}`), 400, "no user 77")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/persons/99/assign", sales, `{"user_id": 1, "reason": "x"}`), 404, "no such person")
		var re assignmentJSON
		decodeJSON(t, e.sendJSON(t, "POST", "/api/v1/persons/2/assign", sales, `{"user_email": "owner@x.cn", "reason": "key account"}`), 200, &re)
		if re.UserID != 1 || re.Rule != "manual" || !re.DueAt.Equal(now.Add(2*time.Hour)) {
			t.Fatalf("reassigned %+v", re)
		}
		now = now.Add(3 * time.Hour)
		e.runRouting(t, admin, &run)
		if run.Breached != 1 {
			t.Fatalf("run %+v, want one breach", run)
		}
		e.runRouting(t, admin, &run)
		if run.Breached != 0 {
			t.Fatalf("breached twice: %+v", run)
		}
		metrics := bodyOf(t, e.do(t, req{target: "/metrics"}))
		if !strings.Contains(metrics, "revloop_routing_sla_breaches_total 1") {
			t.Fatal("breach not counted in the metrics")
		}

		var rep struct {
			Owners []struct {
				UserID     int64 `json:"user_id"`
				Assigned   int   `json:"assigned"`
				FollowedUp int   `json:"followed_up"`
				Breached   int   `json:"breached"`
			}
		}
		decodeJSON(t, e.sendJSON(t, "GET", "/api/v1/routing/report?from=2026-02-01&to=2026-02-28", e.key, ""), 200, &rep)
		if len(rep.Owners) != 2 || rep.Owners[0].UserID != 1 || rep.Owners[0].Breached != 1 || rep.Owners[1].UserID != 2 || rep.Owners[1].FollowedUp != 1 {
			t.Fatalf("report %+v", rep)
		}
		wantRoutingError(t, e.sendJSON(t, "GET", "/api/v1/routing/report?from=someday", e.key, ""), 400, "from")

		// Users: settings and load.
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/2", marketer, `{}`), 403, "admin")
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/2", admin, `{"capacity": -1}`), 400, "capacity")
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/2", admin, `{"manager_id": 2}`), 400, "own manager")
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/9", admin, `{}`), 404, "no user 9")
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/abc", admin, `{}`), 400, `user id "abc"`)
		wantRoutingError(t, e.sendJSON(t, "GET", "/api/v1/persons/0/assignments", e.key, ""), 400, `person id "0"`)
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/2", admin,
			`{"out_of_office_from": "2026-02-10T00:00:00Z", "out_of_office_until": "2026-02-09T00:00:00Z"}`), 400, "after")
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/2", admin, `{"out_of_office_until": "next week"}`), 400,
			`out_of_office_until: "next week" is not an RFC 3339 time`)
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/2", admin, `{"capacity": "five"}`), 400, "field capacity: want int")
		wantRoutingError(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/2", admin, `{"teams": "east"}`), 400, `unknown field "teams"`)
		decodeJSON(t, e.sendJSON(t, "PUT", "/api/v1/routing/users/2", admin,
			`{"team": " east ", "manager_id": 1, "capacity": 5, "out_of_office_from": "2026-02-02T08:00:00+08:00", "out_of_office_until": "2026-02-09T00:00:00Z"}`), 200, &out)
		if out["team"] != "east" || out["manager_id"] != float64(1) || out["capacity"] != float64(5) || out["out_of_office_from"] != "2026-02-02T08:00:00+08:00" {
			t.Fatalf("saved settings %v", out)
		}
		var users struct{ Users []routingUserJSON }
		decodeJSON(t, e.sendJSON(t, "GET", "/api/v1/routing/users", marketer, ""), 200, &users)
		byID := map[int64]routingUserJSON{}
		for _, u := range users.Users {
			byID[u.ID] = u
		}
		u2 := byID[2]
		if u2.Team != "east" || u2.Capacity != 5 || u2.ManagerID == nil || *u2.ManagerID != 1 || u2.AvailableForLeads ||
			u2.OutOfOfficeFrom == nil || !u2.OutOfOfficeFrom.Equal(time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("user 2 %+v", u2)
		}
		// User 1 holds person 2: breached, but not followed up, so still open.
		if u1 := byID[1]; u1.Open != 1 || u1.ManagerID != nil || !u1.AvailableForLeads {
			t.Fatalf("user 1 %+v", u1)
		}

		// An admin key may log for another user, and logs as its own user
		// when it names nobody.
		decodeJSON(t, e.sendJSON(t, "POST", "/api/v1/activities", admin, `{"person_id": 2, "user_id": 2, "kind": "note", "note": "from the CRM import"}`), 201, &act)
		if act.Activity.UserID != 2 {
			t.Fatalf("admin-logged activity %+v", act.Activity)
		}
		decodeJSON(t, e.sendJSON(t, "POST", "/api/v1/activities", admin, `{"person_id": 2, "kind": "note"}`), 201, &act)
		if act.Activity.UserID != 1 {
			t.Fatalf("admin's own activity %+v", act.Activity)
		}
	})
}
