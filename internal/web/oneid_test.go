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
	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// oneIDEnv is a server over an empty database with a viewer and a
// marketer API key, and a write key to append events with.
type oneIDEnv struct {
	s              *store.Store
	srv            *Server
	h              http.Handler
	viewer, editor string
	kid            int64
	seq            int
}

func newOneIDEnv(t *testing.T, s *store.Store) *oneIDEnv {
	t.Helper()
	e := newKeyedEnv(t, s, nil)
	kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_oneid"})
	if err != nil {
		t.Fatal(err)
	}
	e.kid = kid
	return e
}

// newKeyedEnv serves s with a viewer and a marketer API key; now, when
// not nil, is the authentication clock.
func newKeyedEnv(t *testing.T, s *store.Store, now func() time.Time) *oneIDEnv {
	t.Helper()
	a := auth.New(s)
	if now != nil {
		a.Now = now
	}
	viewer, _, err := a.CreateAPIKey(ctx, "viewer", model.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	editor, _, err := a.CreateAPIKey(ctx, "marketing ops", model.RoleMarketer)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &oneIDEnv{s: s, srv: srv, h: srv.Handler(), viewer: viewer, editor: editor}
}

func (e *oneIDEnv) send(t *testing.T, ev model.Event, min int, payload string) {
	t.Helper()
	e.seq++
	ev.WriteKeyID, ev.MessageID = e.kid, fmt.Sprintf("msg-%d", e.seq)
	ev.Timestamp = day0.Add(time.Duration(min) * time.Minute)
	ev.ReceivedAt = ev.Timestamp
	if payload == "" {
		payload = "{}"
	}
	ev.Payload = []byte(payload)
	if _, err := e.s.AppendEvents(ctx, []model.Event{ev}); err != nil {
		t.Fatal(err)
	}
}

func (e *oneIDEnv) call(t *testing.T, method, target, key, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	res := rec.Result()
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: content type %q", method, target, ct)
	}
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (e *oneIDEnv) get(t *testing.T, target string, wantCode int, v any) string {
	t.Helper()
	code, body := e.call(t, http.MethodGet, target, e.viewer, "")
	if code != wantCode {
		t.Fatalf("GET %s: status %d, want %d: %s", target, code, wantCode, body)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
	}
	return body
}

func TestAPIPersonsTimelineAndStats(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newOneIDEnv(t, s)
		e.send(t, model.Event{Type: model.EventPage, AnonymousID: "anon-1", URL: "https://www.revloop.cn/?utm_source=baidu&utm_medium=cpc&utm_campaign=spring",
			Source: "baidu", Medium: "cpc", Campaign: "spring"}, 0, "")
		e.send(t, model.Event{Type: model.EventTrack, Name: "Form Submitted", AnonymousID: "anon-1"}, 3,
			`{"properties":{"email":"Foo@X.cn","phone":"13812345679"}}`)
		e.send(t, model.Event{Type: model.EventIdentify, AnonymousID: "anon-1", UserID: "crm-7"}, 4, `{"traits":{"name":"Foo"}}`)
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}

		var p personJSON
		e.get(t, "/api/v1/persons?identifier=email:%20Foo@X.cn%20", http.StatusOK, &p)
		var ids []string
		for _, i := range p.Identifiers {
			ids = append(ids, string(i.Type)+":"+i.Value)
		}
		if strings.Join(ids, " ") != "anonymous_id:anon-1 email:foo@x.cn phone:+8613812345679 user_id:crm-7" {
			t.Fatalf("identifiers %v", ids)
		}
		if p.Counts.Touchpoints != 2 || p.Counts.Events != 3 || p.Stage != model.StageLead || p.FirstTouchChannel != model.ChannelPaidSearch {
			t.Fatalf("person %+v", p)
		}
		if p.Account == nil || p.Account.Domain != "x.cn" {
			t.Fatalf("account %+v", p.Account)
		}
		// Every identifier type finds the same person, normalised as on ingest.
		for _, q := range []string{"phone:+86%20138-1234-5679", "user_id:crm-7", "ANONYMOUS_ID:anon-1", "email:foo@x.cn"} {
			var other personJSON
			e.get(t, "/api/v1/persons?identifier="+q, http.StatusOK, &other)
			if other.ID != p.ID {
				t.Fatalf("%s found person %d, want %d", q, other.ID, p.ID)
			}
		}
		var byID personJSON
		e.get(t, fmt.Sprintf("/api/v1/persons/%d", p.ID), http.StatusOK, &byID)
		if byID.ID != p.ID || len(byID.Identifiers) != 4 {
			t.Fatalf("by id: %+v", byID)
		}

		// The timeline holds every item of the person's history, newest
		// first: the identify (no touch), the lead move the form fill made,
		// the form fill and the page view (touches).
		var tl struct {
			PersonID int64            `json:"person_id"`
			Items    []map[string]any `json:"items"`
			Total    int64            `json:"total"`
			Counts   map[string]int64 `json:"counts"`
		}
		e.get(t, fmt.Sprintf("/api/v1/persons/%d/timeline", p.ID), http.StatusOK, &tl)
		if len(tl.Items) != 4 || tl.Total != 4 || tl.Counts["touch"] != 2 || tl.Counts["event"] != 1 || tl.Counts["stage"] != 1 {
			t.Fatalf("timeline %+v", tl)
		}
		// The form fill carries no UTM of its own, so the rules call it
		// direct; identify is no touch and has no channel.
		want := []string{"event|identify|<nil>|<nil>|msg-3", "stage|<nil>|<nil>|<nil>|<nil>", "touch|form_submit|direct|<nil>|msg-2", "touch|page_view|paid_search|spring|msg-1"}
		for i, it := range tl.Items {
			got := fmt.Sprintf("%v|%v|%v|%v|%v", it["kind"], it["type"], it["channel"], it["campaign"], it["messageId"])
			if got != want[i] {
				t.Errorf("timeline item %d: %s, want %s", i, got, want[i])
			}
		}

		var stats map[string]json.RawMessage
		e.get(t, "/api/v1/stats", http.StatusOK, &stats)
		if string(stats["events"]) != "3" || string(stats["persons"]) != "1" || string(stats["touchpoints"]) != "2" {
			t.Fatalf("stats %v", stats)
		}
	})
}

func TestAPIPersonsErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newOneIDEnv(t, s)
		cases := []struct {
			target string
			code   int
			want   string
		}{
			{"/api/v1/persons?identifier=", 400, "identifier: want ?identifier=TYPE:VALUE"},
			{"/api/v1/persons?identifier=foo@x.cn", 400, "want ?identifier=TYPE:VALUE"},
			{"/api/v1/persons?identifier=mail:foo@x.cn", 400, `unknown identifier type "mail" (want one of user_id, crm_id, wechat_unionid, wecom_external_userid, wechat_openid, email, phone, anonymous_id)`},
			{"/api/v1/persons?identifier=email:test@test.com", 400, "placeholder value"},
			{"/api/v1/persons?identifier=email:Wang@X.cn", 404, "no person has email wang@x.cn"},
			{"/api/v1/persons/abc", 400, `person id "abc": want a positive number`},
			{"/api/v1/persons/999", 404, "no person 999"},
			{"/api/v1/persons/999/timeline", 404, "no person 999"},
			{"/api/v1/persons/1/timeline?limit=0", 400, "limit: want a number from 1 to 500"},
			{"/api/v1/identity/conflicts?status=closed", 400, `status "closed": want open (the default), resolved or all`},
		}
		for _, c := range cases {
			code, body := e.call(t, http.MethodGet, c.target, e.viewer, "")
			var msg apiError
			if err := json.Unmarshal([]byte(body), &msg); err != nil {
				t.Fatalf("GET %s: %s is not a JSON error: %v", c.target, body, err)
			}
			if code != c.code || !strings.Contains(msg.Error, c.want) {
				t.Errorf("GET %s: %d %s; want %d with %q", c.target, code, body, c.code, c.want)
			}
		}
		if code, _ := e.call(t, http.MethodGet, "/api/v1/persons?identifier=email:a@x.cn", "", ""); code != http.StatusUnauthorized {
			t.Errorf("no key: %d", code)
		}
	})
}

func TestAPIConflictsMergesUndo(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newOneIDEnv(t, s)
		e.send(t, model.Event{Type: model.EventIdentify, UserID: "u1"}, 0, `{"traits":{"email":"a@acme.cn"}}`)
		e.send(t, model.Event{Type: model.EventIdentify, UserID: "u2"}, 1, `{"traits":{"email":"b@acme.cn"}}`)
		e.send(t, model.Event{Type: model.EventIdentify, UserID: "u1"}, 2, `{"traits":{"email":"b@acme.cn"}}`)
		e.send(t, model.Event{Type: model.EventPage, AnonymousID: "dev"}, 3, "")
		e.send(t, model.Event{Type: model.EventIdentify, AnonymousID: "dev", UserID: "u2"}, 4, "")
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}
		var cs struct{ Conflicts []model.IdentityConflict }
		e.get(t, "/api/v1/identity/conflicts", http.StatusOK, &cs)
		if len(cs.Conflicts) != 1 || cs.Conflicts[0].Type != "user_id" || cs.Conflicts[0].ValueA != "u1" || cs.Conflicts[0].ValueB != "u2" {
			t.Fatalf("conflicts %+v", cs)
		}
		var ms struct{ Merges []model.PersonMerge }
		e.get(t, "/api/v1/persons/merges", http.StatusOK, &ms)
		if len(ms.Merges) != 1 {
			t.Fatalf("merges %+v", ms)
		}
		undo := fmt.Sprintf("/api/v1/persons/merges/%d/undo", ms.Merges[0].ID)
		if code, body := e.call(t, http.MethodPost, undo, e.viewer, ""); code != http.StatusForbidden {
			t.Fatalf("viewer undo: %d %s", code, body)
		}
		if code, body := e.call(t, http.MethodPost, undo, e.editor, ""); code != http.StatusOK || !strings.Contains(body, `"undone_at":"`) {
			t.Fatalf("undo: %d %s", code, body)
		}
		if code, body := e.call(t, http.MethodPost, undo, e.editor, ""); code != http.StatusConflict || !strings.Contains(body, "already undone") {
			t.Fatalf("second undo: %d %s", code, body)
		}
		var dev, u2 personJSON
		e.get(t, "/api/v1/persons?identifier=anonymous_id:dev", http.StatusOK, &dev)
		e.get(t, "/api/v1/persons?identifier=user_id:u2", http.StatusOK, &u2)
		if dev.ID == u2.ID || dev.Counts.Touchpoints != 1 || u2.Counts.Touchpoints != 0 {
			t.Fatalf("after undo: dev %+v, u2 %+v", dev, u2)
		}
		// Merging by hand after review, then the refusal to merge again.
		body := fmt.Sprintf(`{"into":%d,"from":%d,"reason":"checked by phone"}`, u2.ID, dev.ID)
		if code, out := e.call(t, http.MethodPost, "/api/v1/persons/merges", e.editor, body); code != http.StatusCreated {
			t.Fatalf("manual merge: %d %s", code, out)
		}
		if code, out := e.call(t, http.MethodPost, "/api/v1/persons/merges", e.editor, body); code != http.StatusConflict || !strings.Contains(out, "already merged") {
			t.Fatalf("merge again: %d %s", code, out)
		}
		if code, out := e.call(t, http.MethodPost, "/api/v1/persons/merges", e.editor, `{"into":1}`); code != http.StatusBadRequest {
			t.Fatalf("bad merge: %d %s", code, out)
		}
	})
}

func TestAPIChannelRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newOneIDEnv(t, s)
		e.send(t, model.Event{Type: model.EventPage, AnonymousID: "a", URL: "https://www.revloop.cn/", Source: "partner-x"}, 0, "")
		e.send(t, model.Event{Type: model.EventPage, AnonymousID: "b", URL: "https://www.revloop.cn/", Source: "baidu", Medium: "cpc"}, 1, "")
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}
		var rs channel.RuleSet
		e.get(t, "/api/v1/channels/rules", http.StatusOK, &rs)
		if len(rs.Rules) != len(channel.DefaultRules().Rules) || rs.UpdatedAt != nil {
			t.Fatalf("default rules: %d rules, updated %v", len(rs.Rules), rs.UpdatedAt)
		}
		rs.Rules = append([]channel.Rule{{Name: "Partners", Channel: model.ChannelReferral,
			When: []channel.Condition{{Field: "source", Match: "prefix", Value: "partner-"}}}}, rs.Rules...)
		doc, _ := json.Marshal(rs)

		if code, body := e.call(t, http.MethodPut, "/api/v1/channels/rules", e.viewer, string(doc)); code != http.StatusForbidden {
			t.Fatalf("viewer PUT: %d %s", code, body)
		}
		bad := strings.Replace(string(doc), `"field":"source","match":"prefix"`, `"field":"sauce","match":"prefix"`, 1)
		code, body := e.call(t, http.MethodPut, "/api/v1/channels/rules", e.editor, bad)
		if code != http.StatusBadRequest || !strings.Contains(body, `rules[0] (\"Partners\"): when[0]: unknown field \"sauce\"`) {
			t.Fatalf("bad rules: %d %s", code, body)
		}
		// Saved at once; the touchpoints follow in a reclassification job.
		startApp(t, e.srv)
		code, body = e.call(t, http.MethodPut, "/api/v1/channels/rules", e.editor, string(doc))
		var put struct {
			Version int64   `json:"version"`
			Job     jobJSON `json:"reclassify_job"`
		}
		if code != http.StatusOK || json.Unmarshal([]byte(body), &put) != nil || put.Version == 0 || put.Job.ID == 0 || put.Job.Kind != "channels.reclassify" {
			t.Fatalf("PUT: %d %s", code, body)
		}
		if j := awaitJob(t, e.h, e.viewer, put.Job.ID); j.State != model.JobSucceeded || string(j.Result) != `{"examined":2,"changed":1,"updated":1}` {
			t.Fatalf("reclassification: %+v", j)
		}
		var a personJSON
		e.get(t, "/api/v1/persons?identifier=anonymous_id:a", http.StatusOK, &a)
		if a.FirstTouchChannel != model.ChannelReferral {
			t.Fatalf("after the rule change: %s", a.FirstTouchChannel)
		}
		var saved channel.RuleSet
		e.get(t, "/api/v1/channels/rules", http.StatusOK, &saved)
		if saved.Rules[0].Name != "Partners" || saved.UpdatedAt == nil || !strings.Contains(saved.UpdatedBy, "marketing ops") {
			t.Fatalf("saved rules: first %q, updated %v by %q", saved.Rules[0].Name, saved.UpdatedAt, saved.UpdatedBy)
		}
		if j := operate(t, e.h, http.MethodPost, "/api/v1/channels/reclassify", e.editor, ""); j.State != model.JobSucceeded || !strings.Contains(string(j.Result), `"changed":0`) {
			t.Fatalf("reclassify: %+v", j)
		}
		code, body = e.call(t, http.MethodPut, "/api/v1/channels/rules", e.editor, `{"rules":[]}`)
		if code != http.StatusBadRequest || !strings.Contains(body, "has no rules") {
			t.Fatalf("empty rules: %d %s", code, body)
		}
	})
}

// conflictEnv makes two persons whose identifiers clash (u1 holds email a,
// u2 email b, then u1 is seen with email b) and returns the conflict.
func conflictEnv(t *testing.T, s *store.Store) (*oneIDEnv, model.IdentityConflict) {
	t.Helper()
	e := newOneIDEnv(t, s)
	e.send(t, model.Event{Type: model.EventIdentify, UserID: "u1"}, 0, `{"traits":{"email":"a@acme.cn"}}`)
	e.send(t, model.Event{Type: model.EventIdentify, UserID: "u2"}, 1, `{"traits":{"email":"b@acme.cn"}}`)
	e.send(t, model.Event{Type: model.EventIdentify, UserID: "u1"}, 2, `{"traits":{"email":"b@acme.cn"}}`)
	if _, err := process.ProcessPending(ctx, s); err != nil {
		t.Fatal(err)
	}
	var cs struct{ Conflicts []model.IdentityConflict }
	e.get(t, "/api/v1/identity/conflicts?status=open", http.StatusOK, &cs)
	if len(cs.Conflicts) != 1 {
		t.Fatalf("conflicts %+v, want one", cs)
	}
	return e, cs.Conflicts[0]
}

func TestAPIResolveConflictKeepApart(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e, c := conflictEnv(t, s)
		target := fmt.Sprintf("/api/v1/identity/conflicts/%d/resolve", c.ID)
		for _, tc := range []struct {
			target, key, body string
			code              int
			want              string
		}{
			{target, e.viewer, `{"decision":"keep_apart"}`, http.StatusForbidden, "marketer role"},
			{target, e.editor, `{"decision":"split"}`, http.StatusBadRequest, `decision \"split\": want merge (the two are one person) or keep_apart`},
			{target, e.editor, `{"decision":"keep_apart","why":"x"}`, http.StatusBadRequest, "unknown field"},
			{target, e.editor, ``, http.StatusBadRequest, "body must be a JSON object"},
			{"/api/v1/identity/conflicts/999/resolve", e.editor, `{"decision":"keep_apart"}`, http.StatusNotFound, "no conflict 999"},
			{"/api/v1/identity/conflicts/x/resolve", e.editor, `{"decision":"keep_apart"}`, http.StatusBadRequest, "conflict id"},
		} {
			if code, body := e.call(t, http.MethodPost, tc.target, tc.key, tc.body); code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("POST %s %s: %d %s, want %d with %q", tc.target, tc.body, code, body, tc.code, tc.want)
			}
		}
		code, body := e.call(t, http.MethodPost, target, e.editor, `{"decision":"keep_apart","note":"two colleagues sharing a laptop"}`)
		if code != http.StatusOK {
			t.Fatalf("keep apart: %d %s", code, body)
		}
		var got model.IdentityConflict
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if got.Decision != "keep_apart" || got.Note != "two colleagues sharing a laptop" || !strings.Contains(got.DecidedBy, "marketing ops") || got.ResolvedAt == nil {
			t.Fatalf("resolved %+v", got)
		}
		if code, body := e.call(t, http.MethodPost, target, e.editor, `{"decision":"merge"}`); code != http.StatusConflict ||
			!strings.Contains(body, "already resolved") || !strings.Contains(body, "keep_apart") {
			t.Fatalf("second decision: %d %s", code, body)
		}
		var open, resolved struct{ Conflicts []model.IdentityConflict }
		e.get(t, "/api/v1/identity/conflicts", http.StatusOK, &open)
		e.get(t, "/api/v1/identity/conflicts?status=resolved", http.StatusOK, &resolved)
		if len(open.Conflicts) != 0 || len(resolved.Conflicts) != 1 || resolved.Conflicts[0].Note != got.Note || resolved.Conflicts[0].DecidedBy != got.DecidedBy {
			t.Fatalf("open %+v, resolved %+v", open, resolved)
		}
		// Later events linking the two, each way round and by a device the
		// two share, merge nothing and raise nothing.
		e.send(t, model.Event{Type: model.EventIdentify, UserID: "u2"}, 10, `{"traits":{"email":"a@acme.cn"}}`)
		e.send(t, model.Event{Type: model.EventPage, AnonymousID: "laptop"}, 11, "")
		e.send(t, model.Event{Type: model.EventIdentify, AnonymousID: "laptop", UserID: "u1"}, 12, "")
		e.send(t, model.Event{Type: model.EventIdentify, AnonymousID: "laptop", UserID: "u2"}, 13, "")
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}
		var u1, u2 personJSON
		e.get(t, "/api/v1/persons?identifier=user_id:u1", http.StatusOK, &u1)
		e.get(t, "/api/v1/persons?identifier=user_id:u2", http.StatusOK, &u2)
		if u1.ID == u2.ID || u1.MergedIntoID != nil || u2.MergedIntoID != nil {
			t.Fatalf("kept apart, yet u1 %+v, u2 %+v", u1, u2)
		}
		var ms struct{ Merges []model.PersonMerge }
		e.get(t, "/api/v1/persons/merges", http.StatusOK, &ms)
		for _, m := range ms.Merges {
			if (m.IntoID == u1.ID && m.FromID == u2.ID) || (m.IntoID == u2.ID && m.FromID == u1.ID) {
				t.Errorf("merge %+v of persons kept apart", m)
			}
		}
		var all struct{ Conflicts []model.IdentityConflict }
		e.get(t, "/api/v1/identity/conflicts?status=all", http.StatusOK, &all)
		if len(all.Conflicts) != 1 {
			t.Fatalf("conflicts after keep_apart %+v, want only the resolved one", all.Conflicts)
		}
	})
}

func TestAPIResolveConflictMerge(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e, c := conflictEnv(t, s)
		target := fmt.Sprintf("/api/v1/identity/conflicts/%d/resolve", c.ID)
		code, body := e.call(t, http.MethodPost, target, e.editor, `{"decision":"merge","note":"same person, checked by phone"}`)
		if code != http.StatusOK {
			t.Fatalf("merge: %d %s", code, body)
		}
		var got model.IdentityConflict
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if got.Decision != "merge" || got.MergeID == 0 {
			t.Fatalf("resolved %+v", got)
		}
		var u1, u2 personJSON
		e.get(t, "/api/v1/persons?identifier=user_id:u1", http.StatusOK, &u1)
		e.get(t, "/api/v1/persons?identifier=user_id:u2", http.StatusOK, &u2)
		if u1.ID != u2.ID || u1.ID != min(c.PersonA, c.PersonB) {
			t.Fatalf("after merge u1 is %d, u2 %d; want both %d", u1.ID, u2.ID, min(c.PersonA, c.PersonB))
		}
		var ms struct{ Merges []model.PersonMerge }
		e.get(t, "/api/v1/persons/merges", http.StatusOK, &ms)
		if len(ms.Merges) != 1 || ms.Merges[0].ID != got.MergeID || !strings.Contains(ms.Merges[0].Reason, "checked by phone") ||
			!strings.Contains(ms.Merges[0].Actor, "marketing ops") {
			t.Fatalf("merges %+v", ms.Merges)
		}
		// The merge is undone like any other.
		if code, body := e.call(t, http.MethodPost, fmt.Sprintf("/api/v1/persons/merges/%d/undo", got.MergeID), e.editor, ""); code != http.StatusOK {
			t.Fatalf("undo: %d %s", code, body)
		}
		e.get(t, "/api/v1/persons?identifier=user_id:u2", http.StatusOK, &u2)
		if u2.ID == u1.ID {
			t.Fatalf("after undo u2 is still person %d", u2.ID)
		}
		if code, body := e.call(t, http.MethodPost, target, e.editor, `{"decision":"keep_apart"}`); code != http.StatusConflict {
			t.Fatalf("decide again: %d %s", code, body)
		}
	})
}
