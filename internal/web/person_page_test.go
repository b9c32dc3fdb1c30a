package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The person page's actions go through the API's functions: the same
// moves, the same refusals, said in the user's language; a viewer may
// look but not act.
func TestPersonPageActions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := personsEnv(t, s)
		marketer := e.loginAs(t, model.RoleMarketer)
		zh := map[string]string{"Accept-Language": "zh-CN"}
		htmx := map[string]string{"Accept-Language": "zh-CN", "HX-Request": "true"}
		post := func(path string, form url.Values, header map[string]string, c *http.Cookie) (int, string, http.Header) {
			t.Helper()
			res := e.do(t, req{method: http.MethodPost, target: path, form: form, header: header, cookies: []*http.Cookie{c}})
			return res.StatusCode, bodyOf(t, res), res.Header
		}
		stageOf := func(id int64) string {
			st, _, err := s.PersonStage(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return string(st)
		}

		res := e.do(t, req{target: "/persons/2", cookies: []*http.Cookie{marketer}, header: zh})
		body := bodyOf(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="form-accept"`) || !strings.Contains(body, `id="form-reject"`) {
			t.Fatalf("person page: %d", res.StatusCode)
		}
		if strings.Contains(body, "<script>alert") {
			t.Error("the hostile name is not escaped on the person page")
		}

		// A reject without a reason: the page again, 400, in Chinese; with
		// htmx the refusal alone, for the form.
		code, body, _ := post("/persons/2/reject", url.Values{"to": {"nurture"}, "from": {"mql"}}, zh, marketer)
		if code != http.StatusBadRequest || !strings.Contains(body, "请填写退回原因。") || stageOf(2) != "mql" {
			t.Errorf("reject without reason: %d, stage %s", code, stageOf(2))
		}
		code, body, _ = post("/persons/2/reject", url.Values{"to": {"nurture"}}, htmx, marketer)
		if code != http.StatusOK || strings.TrimSpace(body) != `<div class="alert" role="alert" id="action-error">请填写退回原因。</div>` {
			t.Errorf("htmx refusal: %d %q", code, body)
		}
		// Accept: PRG, and the move is the API's (actor user:ID, the
		// default reason).
		code, _, h := post("/persons/2/accept", url.Values{}, zh, marketer)
		if code != http.StatusSeeOther || h.Get("Location") != "/persons/2?done=accept" || stageOf(2) != "sql" {
			t.Fatalf("accept: %d %v, stage %s", code, h, stageOf(2))
		}
		hist, _ := s.StageHistory(ctx, 2)
		last := hist[len(hist)-1]
		if !strings.HasPrefix(last.Actor, "user:") || last.Reason != acceptReason || last.FromStage != "mql" {
			t.Errorf("accept recorded as %+v", last)
		}
		body = bodyOf(t, e.do(t, req{target: "/persons/2?done=accept", cookies: []*http.Cookie{marketer}, header: zh}))
		if !strings.Contains(body, "已接收，此人现为 SQL。") {
			t.Error("no notice after accepting")
		}
		// Accepting again: the person is no MQL any more.
		code, body, _ = post("/persons/2/accept", url.Values{}, zh, marketer)
		if code != http.StatusBadRequest || !strings.Contains(body, "该操作只适用于处于市场认可线索 (MQL)阶段的人员，此人当前为销售认可线索 (SQL)。") {
			t.Errorf("accept twice: %d %s", code, body)
		}
		// Back to mql needs a reason; a stale form is a conflict.
		code, body, _ = post("/persons/2/stage", url.Values{"to": {"mql"}, "from": {"sql"}}, zh, marketer)
		if code != http.StatusBadRequest || !strings.Contains(body, "属于回退或转入特殊状态，请填写原因。") {
			t.Errorf("backward without reason: %d", code)
		}
		code, body, _ = post("/persons/2/stage", url.Values{"to": {"nurture"}, "from": {"mql"}, "reason": {"x"}}, zh, marketer)
		if code != http.StatusConflict || !strings.Contains(body, "此人刚被他人调整过") {
			t.Errorf("stale form: %d", code)
		}
		code, body, _ = post("/persons/2/stage", url.Values{"to": {""}}, zh, marketer)
		if code != http.StatusBadRequest || !strings.Contains(body, "请选择阶段。") {
			t.Errorf("no stage: %d", code)
		}
		code, _, h = post("/persons/2/stage", url.Values{"to": {"mql"}, "from": {"sql"}, "reason": {"预算冻结"}}, htmx, marketer)
		if code != http.StatusNoContent || h.Get("HX-Redirect") != "/persons/2?done=stage" || stageOf(2) != "mql" {
			t.Errorf("htmx move: %d %v, stage %s", code, h, stageOf(2))
		}

		// Assign: the router's manual reassignment, with its rules.
		code, body, _ = post("/persons/2/assign", url.Values{"user_id": {"2"}}, zh, marketer)
		if code != http.StatusBadRequest || !strings.Contains(body, "请填写重新分配的原因。") {
			t.Errorf("assign without reason: %d", code)
		}
		code, _, _ = post("/persons/2/assign", url.Values{"user_id": {"2"}, "reason": {"会说粤语"}}, zh, marketer)
		as, _ := s.PersonAssignments(ctx, 2)
		if code != http.StatusSeeOther || len(as) != 1 || as[0].UserID != 2 || as[0].Rule != "manual" || as[0].Reason != "会说粤语" {
			t.Errorf("assign: %d, %+v", code, as)
		}
		viewerID := e.loginAs(t, model.RoleViewer)
		viewer, err := s.UserByEmail(ctx, "viewer.user@example.cn")
		if err != nil {
			t.Fatal(err)
		}
		code, body, _ = post("/persons/2/assign", url.Values{"user_id": {fmt.Sprint(viewer.ID)}, "reason": {"x"}}, zh, marketer)
		if code != http.StatusBadRequest || !strings.Contains(body, "该用户不能接收线索") {
			t.Errorf("assign to a viewer: %d", code)
		}

		// A viewer sees the page without actions and may not post.
		body = bodyOf(t, e.do(t, req{target: "/persons/2", cookies: []*http.Cookie{viewerID}, header: zh}))
		if strings.Contains(body, `id="actions"`) {
			t.Error("a viewer is offered the actions")
		}
		code, body, _ = post("/persons/2/accept", url.Values{}, zh, viewerID)
		if code != http.StatusForbidden || !strings.Contains(body, "你的角色只能查看，不能修改。") {
			t.Errorf("viewer accepts: %d", code)
		}
		// Unknown persons and actions.
		for path, want := range map[string]int{"/persons/999": 404, "/persons/abc": 404, "/persons/1?model=magic": 400} {
			if res := e.do(t, req{target: path, cookies: []*http.Cookie{marketer}}); res.StatusCode != want {
				t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
			}
		}
		if code, _, _ := post("/persons/999/accept", url.Values{}, zh, marketer); code != http.StatusNotFound {
			t.Errorf("accept an unknown person: %d", code)
		}
	})
}

// The person page's tables export CSV, and its timeline pages through
// htmx fragments.
func TestPersonPageExportsAndTimelineFragments(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := personsEnv(t, s)
		c := e.loginAs(t, model.RoleSales)
		res := e.do(t, req{target: "/persons/1?export=stages", cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "en"}})
		raw := []byte(bodyOf(t, res))
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("export: %d %v", res.StatusCode, err)
		}
		if want := sqlCount(t, s, "SELECT COUNT(*) FROM stage_changes WHERE person_id = 1"); int64(len(rows)-1) != want || rows[0][0] != "When" {
			t.Errorf("stages CSV has %d rows, want %d: %q", len(rows)-1, want, rows)
		}
		res = e.do(t, req{target: "/persons/1?export=opportunities", cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "en"}})
		rows, _ = csv.NewReader(strings.NewReader(strings.TrimPrefix(bodyOf(t, res), "\uFEFF"))).ReadAll()
		if len(rows) != 2 || rows[1][1] != "甲公司 CDP" || rows[1][3] != "500000.00" || rows[1][6] != "Primary contact" {
			t.Errorf("opportunities CSV %q", rows)
		}
		// Person 1 has 5 touches and stage changes, an opportunity (won)
		// and an order: 2 touches + 5 stages + 1 + 1 + 1 = 10 items.
		body := bodyOf(t, e.do(t, req{target: "/persons/1", cookies: []*http.Cookie{c}}))
		if n := strings.Count(body, `class="tl tl-`); n != 10 {
			t.Errorf("%d timeline items on the page, want 10", n)
		}
		res = e.do(t, req{target: "/persons/1/timeline?cursor=nonsense", cookies: []*http.Cookie{c}})
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("bad cursor: %d", res.StatusCode)
		}
		items, next, err := s.PersonTimelinePage(ctx, 1, nil, 3)
		if err != nil || next == nil || len(items) != 3 {
			t.Fatal(items, next, err)
		}
		frag := bodyOf(t, e.do(t, req{target: "/persons/1/timeline?cursor=" + encodeTimelineCursor(*next), cookies: []*http.Cookie{c}}))
		if n := strings.Count(frag, `class="tl tl-`); n != 7 || strings.Contains(frag, "<html") || strings.Contains(frag, "timeline-more") {
			t.Errorf("fragment after 3 items: %d items: %s", n, frag)
		}
		if res := e.do(t, req{target: "/persons/99/timeline", cookies: []*http.Cookie{c}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("timeline of nobody: %d", res.StatusCode)
		}
		// The API's deals and credits.
		var deals struct {
			Opportunities []struct {
				Name    string `json:"name"`
				Role    string `json:"role"`
				Primary bool   `json:"primary"`
			} `json:"opportunities"`
			Orders []struct {
				Amount model.Money `json:"amount"`
			} `json:"orders"`
		}
		decodeJSON(t, e.api(t, "/api/v1/persons/1/deals"), http.StatusOK, &deals)
		if len(deals.Opportunities) != 1 || deals.Opportunities[0].Role != "decision_maker" || !deals.Opportunities[0].Primary || len(deals.Orders) != 1 || deals.Orders[0].Amount != 48000000 {
			t.Errorf("deals %+v", deals)
		}
		var credits struct {
			Model   string `json:"model"`
			Credits []any  `json:"credits"`
		}
		decodeJSON(t, e.api(t, "/api/v1/persons/1/credits"), http.StatusOK, &credits)
		if credits.Model != "linear" {
			t.Errorf("credits %+v", credits)
		}
		var msg apiError
		decodeJSON(t, e.api(t, "/api/v1/persons/1/credits?model=magic"), http.StatusBadRequest, &msg)
		if !strings.HasPrefix(msg.Error, "model: ") {
			t.Errorf("bad model: %q", msg.Error)
		}
		decodeJSON(t, e.api(t, "/api/v1/persons/1/timeline?cursor=zz"), http.StatusBadRequest, &msg)
		if !strings.HasPrefix(msg.Error, "cursor: ") {
			t.Errorf("bad cursor: %q", msg.Error)
		}
		decodeJSON(t, e.api(t, fmt.Sprintf("/api/v1/persons/%d/deals", 404)), http.StatusNotFound, &msg)
	})
}
