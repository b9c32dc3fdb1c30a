package web

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// lcEnv is a server over a small lifecycle world: persons in every stage,
// an account with a domain, a sales API key ("crm"), a viewer key, and a
// marketer who logs in.
type lcEnv struct {
	s             *store.Store
	srv           *Server
	h             http.Handler
	sales, viewer string
	session       *http.Cookie
	userID        int64
}

var lcDay = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func newLcEnv(t *testing.T, s *store.Store) *lcEnv {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		person := func(id int64, stage model.Stage, channel string) []any {
			return []any{id, int64(1), string(stage), lcDay, lcDay, channel, lcDay}
		}
		for _, err := range []error{
			ins("users", "id,email,role,created_at", []any{int64(1), "rep@jia.cn", "sales", lcDay}),
			ins("accounts", "id,name,domain,created_at", []any{int64(1), "甲公司", "jia.cn", lcDay}, []any{int64(2), "乙公司", "yi.cn", lcDay}),
			ins("persons", "id,account_id,stage,stage_at,first_seen_at,first_touch_channel,created_at",
				person(10, model.StageLead, "paid_search"), person(11, model.StageMQL, "paid_search"), person(12, model.StageMQL, "webinar"),
				person(13, model.StageSQL, "webinar"), person(14, model.StageMQL, "email"), person(15, model.StageLead, "")),
			ins("identities", "type,value,person_id,created_at",
				[]any{"email", "wang@jia.cn", int64(13), lcDay}, []any{"email", "zhao@jia.cn", int64(14), lcDay}),
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
	a := auth.New(s)
	sales, _, err := a.CreateAPIKey(ctx, "crm", model.RoleSales)
	if err != nil {
		t.Fatal(err)
	}
	viewer, _, err := a.CreateAPIKey(ctx, "dashboard", model.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e := &lcEnv{s: s, srv: srv, h: srv.Handler(), sales: sales, viewer: viewer, userID: u.ID}
	login := (&env{h: e.h}).login(t)
	e.session = login
	return e
}

// call sends a request with an API key, or with the session when key is
// "session", or with nothing when key is "".
func (e *lcEnv) call(t *testing.T, method, target, key, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	switch key {
	case "":
	case "session":
		r.AddCookie(e.session)
	default:
		r.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: content type %q: %s", method, target, ct, b)
	}
	return res.StatusCode, string(b)
}

// expect checks the status and, for errors, that the message contains want.
// operate starts an operation with method and target as key (or the
// session), waits for its job and decodes the job's result into v.
func (e *lcEnv) operate(t *testing.T, method, target, key string, v any) {
	t.Helper()
	code, b := e.call(t, method, target, key, "")
	var started struct {
		JobID int64 `json:"job_id"`
	}
	if code != http.StatusAccepted || json.Unmarshal([]byte(b), &started) != nil || started.JobID == 0 {
		t.Fatalf("%s %s: %d %s, want 202 with a job", method, target, code, b)
	}
	j := awaitJob(t, e.h, e.viewer, started.JobID)
	if j.State != model.JobSucceeded {
		t.Fatalf("%s %s: job %+v", method, target, j)
	}
	if err := json.Unmarshal(j.Result, v); err != nil {
		t.Fatalf("job result %s: %v", j.Result, err)
	}
}

func (e *lcEnv) expect(t *testing.T, method, target, key, body string, code int, want string, v any) {
	t.Helper()
	got, b := e.call(t, method, target, key, body)
	if got != code {
		t.Fatalf("%s %s %s: status %d, want %d: %s", method, target, body, got, code, b)
	}
	text := b
	if code >= 400 {
		var ae apiError
		if err := json.Unmarshal([]byte(b), &ae); err != nil || ae.Error == "" {
			t.Fatalf("%s %s: error answer %s is not {\"error\": ...}", method, target, b)
		}
		text = ae.Error
	}
	if want != "" && !strings.Contains(text, want) {
		t.Fatalf("%s %s %s: %s does not contain %q", method, target, body, text, want)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(b), v); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
}

func TestAPIStageMoves(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newLcEnv(t, s)
		post := func(id int64, action string) string { return fmt.Sprintf("/api/v1/persons/%d/%s", id, action) }

		e.expect(t, "POST", post(10, "stage"), "", `{"to":"mql"}`, 401, "log in", nil)
		e.expect(t, "POST", post(10, "stage"), e.viewer, `{"to":"mql"}`, 403, "needs the sales role", nil)
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"to":"mql","why":"x"}`, 400, `unknown field "why"`, nil)
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"reason":"x"}`, 400, "to: missing", nil)
		e.expect(t, "POST", post(99, "stage"), e.sales, `{"to":"mql"}`, 404, "no person 99", nil)
		e.expect(t, "POST", "/api/v1/persons/x/stage", e.sales, `{"to":"mql"}`, 400, "want a positive number", nil)
		// Bodies are strict: one JSON object of the right types (none of
		// these moves the person: the next move is its first).
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"to":"mql"} {"to":"sql"}`, 400, "found more after the first JSON value", nil)
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"to":5}`, 400, "field to: want", nil)
		e.expect(t, "POST", post(10, "stage"), e.sales, "", 400, "empty body", nil)
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"to":"mql","reason":"`+strings.Repeat("x", 1<<20)+`"}`, 413, "body larger than 1048576 bytes", nil)

		// Forward: no reason needed; the API key is the actor.
		var h stageHistoryJSON
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"to":"mql"}`, 200, "", &h)
		if h.Stage != model.StageMQL || len(h.Changes) != 1 || h.Changes[0].Actor != "apikey:crm" || h.Changes[0].From != model.StageLead {
			t.Fatalf("after forward move: %+v", h)
		}
		// Backward and side states need a reason.
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"to":"lead"}`, 400, "needs a reason", nil)
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"to":"nurture","reason":"  "}`, 400, "needs a reason", nil)
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"to":"won"}`, 400, "unknown target stage", nil)
		// The caller saw the person in lead; it is in mql now.
		e.expect(t, "POST", post(10, "stage"), e.sales, `{"to":"sql","from":"lead"}`, 409, "moved meanwhile: it is in mql now", nil)
		// A logged-in user moves it back, with a reason.
		e.expect(t, "POST", post(10, "stage"), "session", `{"to":"lead","reason":"score was inflated by a bot","from":"mql"}`, 200, "", &h)
		if len(h.Changes) != 2 || h.Changes[1].Actor != fmt.Sprintf("user:%d", e.userID) || h.Changes[1].Reason != "score was inflated by a bot" {
			t.Fatalf("after backward move: %+v", h.Changes)
		}

		var got stageHistoryJSON
		e.expect(t, "GET", post(10, "stages"), e.viewer, "", 200, "", &got)
		if len(got.Changes) != 2 || got.Changes[0].To != model.StageMQL || got.Changes[1].To != model.StageLead || got.Changes[0].RuleVersion != nil || got.Changes[0].At.IsZero() {
			t.Fatalf("history: %+v", got)
		}
		_, raw := e.call(t, "GET", post(10, "stages"), e.viewer, "")
		for _, field := range []string{`"from":"mql"`, `"to":"lead"`, `"at":`, `"reason":`, `"actor":"apikey:crm"`, `"rule_version":null`} {
			if !strings.Contains(raw, field) {
				t.Errorf("history JSON lacks %s: %s", field, raw)
			}
		}

		// SDR actions.
		e.expect(t, "POST", post(11, "accept"), e.sales, "", 200, `"stage":"sql"`, &h)
		if last := h.Changes[len(h.Changes)-1]; last.Reason != "an SDR accepts" || last.From != model.StageMQL {
			t.Fatalf("accept: %+v", last)
		}
		e.expect(t, "POST", post(11, "accept"), e.sales, "", 400, "person 11 is in sql; this action applies to persons in mql", nil)
		e.expect(t, "POST", post(12, "reject"), e.sales, `{"to":"sql","reason":"x"}`, 400, `a rejected person goes to "nurture" or "disqualified"`, nil)
		e.expect(t, "POST", post(12, "reject"), e.sales, `{"to":"nurture"}`, 400, "say why", nil)
		e.expect(t, "POST", post(12, "reject"), e.sales, `{"to":"disqualified","reason":"a competitor"}`, 200, `"stage":"disqualified"`, &h)
		if last := h.Changes[len(h.Changes)-1]; last.Reason != "a competitor" || last.Actor != "apikey:crm" {
			t.Fatalf("reject: %+v", last)
		}
		e.expect(t, "POST", post(15, "reject"), e.sales, `{"to":"nurture","reason":"x"}`, 400, "applies to persons in mql or sql", nil)
		e.expect(t, "POST", post(13, "reject"), "session", `{"to":"nurture","reason":"next year's budget"}`, 200, `"stage":"nurture"`, nil)
	})
}

func TestAPIQualificationAndRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newLcEnv(t, s)
		target := "/api/v1/persons/11/qualification"
		e.expect(t, "PUT", target, e.sales, `{}`, 400, `give "grade" and/or "sdr_class"`, nil)
		e.expect(t, "PUT", target, e.sales, `{"grade":"D"}`, 400, `grade "D"`, nil)
		e.expect(t, "PUT", target, e.sales, `{"sdr_class":"hot"}`, 400, `sdr_class "hot": want one of opp, sql, mql, ma, non_target`, nil)
		e.expect(t, "PUT", target, e.viewer, `{"grade":"A"}`, 403, "", nil)
		var q qualificationJSON
		e.expect(t, "PUT", target, "session", `{"grade":"a","sdr_class":"SQL","reason":"budget confirmed for Q2"}`, 200, "", &q)
		user := fmt.Sprintf("user:%d", e.userID)
		if q.Grade != "A" || q.GradeSetBy != user || q.SDRClass != "sql" || q.SDRClassSetBy != user || len(q.History) != 2 || q.History[0].Reason != "budget confirmed for Q2" {
			t.Fatalf("qualification: %+v", q)
		}

		// Rules: strict validation with errors that name the rule.
		e.expect(t, "GET", "/api/v1/lifecycle/rules", e.viewer, "", 200, `{"version":0,"updated_at":null,"updated_by":"","rules":[]}`, nil)
		e.expect(t, "PUT", "/api/v1/lifecycle/rules", e.sales, `{"rules":[]}`, 403, "needs the marketer role", nil)
		e.expect(t, "PUT", "/api/v1/lifecycle/rules", "session", `{"rules":[{"name":"c","when":{"scor_gte":1},"set":{"grade":"C"}}]}`, 400, `unknown field "scor_gte"`, nil)
		e.expect(t, "PUT", "/api/v1/lifecycle/rules", "session", `{"rules":[{"name":"recycle","when":{"stage_in":["mql"]},"move_to":"nurture"}]}`, 400, "rules[0] (recycle): reason", nil)
		rules := `{"rules":[
			{"name":"mql-c","when":{"stage_in":["mql","sql"]},"set":{"grade":"C","sdr_class":"mql"}},
			{"name":"recycle","when":{"stage_in":["mql"],"no_activity_days_gte":45},"move_to":"nurture","reason":"no activity for 45 days"}]}`
		var saved lifecycleRulesJSON
		e.expect(t, "PUT", "/api/v1/lifecycle/rules", "session", rules, 200, "", &saved)
		if saved.Version == 0 || saved.UpdatedBy != user || saved.UpdatedAt == nil || !strings.Contains(string(saved.Rules), `"no_activity_days_gte":45`) {
			t.Fatalf("saved rules: %+v %s", saved, saved.Rules)
		}
		// A refused rule set leaves the one in force as it was.
		for _, c := range []struct {
			body string
			code int
			want string
		}{
			{"", 400, "rules: empty body"},
			{`{"rules":[]} {"rules":[]}`, 400, "unexpected data after the JSON object"},
			{`{"rules":[{"name":"c","when":{"score_gte":1},"set":{"grade":"C"},"description":"` + strings.Repeat("x", 1<<20) + `"}]}`, 413, "rule set larger than 1048576 bytes"},
		} {
			e.expect(t, "PUT", "/api/v1/lifecycle/rules", "session", c.body, c.code, c.want, nil)
		}
		var still lifecycleRulesJSON
		e.expect(t, "GET", "/api/v1/lifecycle/rules", e.viewer, "", 200, "", &still)
		if still.Version != saved.Version || string(still.Rules) != string(saved.Rules) {
			t.Fatalf("after refused rule sets: version %d %s, want %d %s", still.Version, still.Rules, saved.Version, saved.Rules)
		}

		// Run: 11 keeps its hand-set values; 12 and 14 (mql) and 13 (sql)
		// get C/mql; the MQLs (11 too: a hand-set grade does not hold the
		// stage), in their stage since 2026-01-05 without a
		// touch, are recycled.
		var res struct {
			Version                                  int64
			Evaluated, GradeChanges, SDRClassChanges int
			KeptManual, Moves                        int
		}
		var raw map[string]int64
		startApp(t, e.srv)
		e.operate(t, "POST", "/api/v1/lifecycle/rules/run", "session", &raw)
		res.Version, res.Evaluated, res.GradeChanges, res.SDRClassChanges, res.KeptManual, res.Moves =
			raw["rule_version"], int(raw["evaluated"]), int(raw["grade_changes"]), int(raw["sdr_class_changes"]), int(raw["kept_manual"]), int(raw["moves"])
		if res.Version != saved.Version || res.Evaluated != 6 || res.GradeChanges != 3 || res.SDRClassChanges != 3 || res.KeptManual != 2 || res.Moves != 3 {
			t.Fatalf("run: %+v", raw)
		}
		e.expect(t, "GET", target, e.viewer, "", 200, "", &q)
		if q.Grade != "A" || q.GradeSetBy != user {
			t.Fatalf("a rule overrode a hand-set grade: %+v", q)
		}
		var h stageHistoryJSON
		e.expect(t, "GET", "/api/v1/persons/14/stages", e.viewer, "", 200, "", &h)
		if h.Stage != model.StageNurture || h.Changes[0].Actor != "rule:recycle" || h.Changes[0].Reason != "no activity for 45 days" {
			t.Fatalf("recycled: %+v", h)
		}
		// Clearing a grade hands it back to the rules.
		e.expect(t, "PUT", target, e.sales, `{"grade":""}`, 200, `"grade_set_by":""`, nil)
		e.expect(t, "POST", "/api/v1/lifecycle/rules/run", e.sales, "", 403, "", nil)
	})
}

func TestAPIOpportunitiesAndOrders(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newLcEnv(t, s)
		opp := func(extra string) string {
			return `{"external_id":"SF-0001","account_domain":"JIA.cn","name":"甲公司 CDP 项目","stage":"Proposal","owner_email":"rep@jia.cn",` + extra + `}`
		}
		for _, c := range []struct{ body, want string }{
			{opp(`"amount":"120000.123","contact_emails":["wang@jia.cn"]`), "amount: \"120000.123\" has more than two decimals"},
			{opp(`"amount":120000.001,"contact_emails":["wang@jia.cn"]`), "lose precision"},
			{opp(`"amount":"-5.00","contact_emails":["wang@jia.cn"]`), "negative"},
			{opp(`"amount":"NaN","contact_emails":["wang@jia.cn"]`), "not a number"},
			{opp(`"amount":1e6,"contact_emails":["wang@jia.cn"]`), "exponent"},
			{opp(`"contact_emails":["wang@jia.cn"]`), "amount: missing"},
			{opp(`"amount":"1.00","contact_emails":["sun.li@jia.cn"]`), "contact_emails: no person has the email sun.li@jia.cn"},
			{opp(`"amount":"1.00","contact_person_ids":[999]`), "contact person 999"},
			{opp(`"amount":"1.00","closed_at":"2026-02-01"`), "closed_at: given, but stage proposal is open"},
			{opp(`"amount":"1.00","created_at":"yesterday"`), "created_at"},
			{opp(`"amount":"1.00","account_id":2`), "give account_id or account_domain, not both"},
			{`{"external_id":"x","account_domain":"nope.cn","name":"n","stage":"proposal","amount":"1"}`, `account_domain: no account has the domain "nope.cn"`},
			{`{"account_id":1,"name":"n","stage":"proposal","amount":"1"}`, "external_id: missing"},
			{`{"external_id":"x","account_id":1,"name":"n","stage":"proposal","amount":"1","owner_email":"ghost@jia.cn"}`, "owner_email: no user"},
		} {
			e.expect(t, "POST", "/api/v1/opportunities", e.sales, c.body, 400, c.want, nil)
		}
		e.expect(t, "POST", "/api/v1/opportunities", e.viewer, opp(`"amount":"1.00"`), 403, "", nil)

		// Created: 13 (sql) and 14 (mql) move to opportunity.
		var o opportunityJSON
		body := opp(`"amount":"120000.00","contact_emails":["wang@jia.cn"],"contact_person_ids":[14],"created_at":"2026-02-01T10:00:00+08:00"`)
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, body, 201, `"amount":120000.00`, &o)
		if !o.Created || o.Stage != "proposal" || o.AccountID != 1 || o.OwnerID == nil || *o.OwnerID != 1 || len(o.Contacts) != 2 || len(o.Moves) != 2 {
			t.Fatalf("created: %+v", o)
		}
		for _, m := range o.Moves {
			if !m.Applied || m.To != model.StageOpportunity || !strings.Contains(m.Reason, "SF-0001") || !m.At.Equal(time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)) {
				t.Errorf("move %+v", m)
			}
		}
		// Re-posting updates the same opportunity and moves nobody twice.
		var again opportunityJSON
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, strings.Replace(body, "120000.00", "150000.5", 1), 200, `"amount":150000.50`, &again)
		if again.Created || again.ID != o.ID || len(again.Moves) != 0 {
			t.Fatalf("re-post: %+v", again)
		}

		// PATCH: won moves the contacts on to customer.
		target := fmt.Sprintf("/api/v1/opportunities/%d", o.ID)
		e.expect(t, "PATCH", target, e.sales, `{}`, 400, `give at least one of`, nil)
		e.expect(t, "PATCH", target, e.sales, `{"amount":"1.001"}`, 400, "more than two decimals", nil)
		e.expect(t, "PATCH", "/api/v1/opportunities/999", e.sales, `{"stage":"closed_won"}`, 404, "no opportunity 999", nil)
		e.expect(t, "PATCH", target, e.sales, `{"stage":"closed_won","closed_at":"2026-01-01"}`, 400, "before the opportunity was created", nil)
		var won opportunityJSON
		e.expect(t, "PATCH", target, e.sales, `{"stage":"closed_won","closed_at":"2026-03-01"}`, 200, "", &won)
		if won.ClosedAt == nil || !won.ClosedAt.Equal(time.Date(2026, 3, 1, 15, 59, 59, 0, time.UTC)) || len(won.Moves) != 2 || won.Moves[0].To != model.StageCustomer || !strings.HasSuffix(won.Moves[0].Reason, " won") {
			t.Fatalf("won: %+v", won)
		}
		var h stageHistoryJSON
		e.expect(t, "GET", "/api/v1/persons/13/stages", e.viewer, "", 200, "", &h)
		if h.Stage != model.StageCustomer || len(h.Changes) != 2 || h.Changes[0].Actor != "system" {
			t.Fatalf("contact 13: %+v", h)
		}
		// Reopening clears closed_at.
		e.expect(t, "PATCH", target, "session", `{"stage":"negotiation"}`, 200, `"closed_at":null`, nil)
		e.expect(t, "GET", target, e.viewer, "", 200, `"external_id":"SF-0001"`, nil)

		// Orders.
		order := `{"external_id":"ORD-1","opportunity_external_id":"SF-0001","amount":"100000.00","kind":"renewal","ordered_at":"2026-03-02"}`
		var ord orderJSON
		e.expect(t, "POST", "/api/v1/orders", e.sales, order, 201, "", &ord)
		if !ord.Created || ord.OpportunityID == nil || *ord.OpportunityID != o.ID || ord.AccountID != 1 || ord.Kind != "renewal" || ord.Amount != model.Yuan(100000) {
			t.Fatalf("order: %+v", ord)
		}
		e.expect(t, "POST", "/api/v1/orders", e.sales, strings.Replace(order, "100000.00", "90000", 1), 200, `"amount":90000.00`, &ord)
		if ord.Created {
			t.Fatal("re-posted order created again")
		}
		for _, c := range []struct{ body, want string }{
			{`{"external_id":"ORD-2","account_id":1,"amount":"1","kind":"gift","ordered_at":"2026-03-02"}`, `kind "gift"`},
			{`{"external_id":"ORD-2","account_id":1,"amount":"1"}`, "ordered_at: missing"},
			{`{"external_id":"ORD-2","amount":"1","ordered_at":"2026-03-02"}`, "needs its account"},
			{`{"external_id":"ORD-2","opportunity_external_id":"SF-9","amount":"1","ordered_at":"2026-03-02"}`, "post the opportunity first"},
			{`{"external_id":"ORD-2","opportunity_external_id":"SF-0001","account_id":2,"amount":"1","ordered_at":"2026-03-02"}`, "is not the opportunity's"},
			{`{"external_id":"ORD-2","account_id":1,"amount":"0.001","ordered_at":"2026-03-02"}`, "more than two decimals"},
		} {
			e.expect(t, "POST", "/api/v1/orders", e.sales, c.body, 400, c.want, nil)
		}
		tot, err := s.Totals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tot.Orders != 1 || tot.Opportunities != 1 || tot.WonRevenue != model.Yuan(90000) {
			t.Fatalf("totals %+v", tot)
		}
	})
}

func TestAPILifecycleFunnel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadFixture(t, s)
		a := auth.New(s)
		key, _, err := a.CreateAPIKey(ctx, "v", model.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		e := &lcEnv{s: s, h: srv.Handler()}
		e.expect(t, "GET", "/api/v1/lifecycle/funnel?period=day", key, "", 400, `period "day": want week, month or quarter`, nil)
		e.expect(t, "GET", "/api/v1/lifecycle/funnel?by=owner", key, "", 400, "want none, channel or campaign", nil)
		e.expect(t, "GET", "/api/v1/lifecycle/funnel?from=2026-02-01&to=2026-01-01", key, "", 400, "from", nil)
		e.expect(t, "GET", "/api/v1/lifecycle/funnel?from=2000-01-01&to=2026-01-01&period=week", key, "", 400, "narrow the window", nil)
		e.expect(t, "GET", "/api/v1/lifecycle/funnel?from=2026-01-01&to=2026-02-28&period=WEEK&by=Channel", key, "", 200, `"period":"week","by":"channel"`, nil)

		// The fixture: person 1 (paid search) lead Jan 11, mql 12, sql 13,
		// opp 15, customer Feb 9; person 2 (webinar) lead Jan 12, mql Jan 30.
		var f struct {
			Periods []struct {
				Start  time.Time
				Groups []struct {
					Key        string
					Entered    map[string]int64
					Conversion []struct {
						From, To   string
						Entered    int64
						Reached    int64
						Rate       *float64
						MedianDays *float64 `json:"median_days"`
					}
				}
			}
		}
		e.expect(t, "GET", "/api/v1/lifecycle/funnel?from=2026-01-01&to=2026-02-28&period=month&by=channel", key, "", 200, "", &f)
		if len(f.Periods) != 2 || len(f.Periods[0].Groups) != 2 {
			t.Fatalf("funnel: %+v", f)
		}
		ps := f.Periods[0].Groups[0]
		if ps.Key != "paid_search" || ps.Entered["lead"] != 1 || ps.Entered["opportunity"] != 1 || ps.Entered["customer"] != 0 ||
			ps.Conversion[0].Reached != 1 || *ps.Conversion[0].MedianDays != 1 || *ps.Conversion[3].MedianDays != 25 {
			t.Errorf("January paid search: %+v", ps)
		}
		web := f.Periods[0].Groups[1]
		if web.Key != "webinar" || web.Entered["mql"] != 1 || web.Conversion[1].Rate == nil || *web.Conversion[1].Rate != 0 || *web.Conversion[0].MedianDays != 18 {
			t.Errorf("January webinar: %+v", web)
		}
		if g := f.Periods[1].Groups; len(g) != 1 || g[0].Entered["customer"] != 1 {
			t.Errorf("February: %+v", g)
		}
	})
}
