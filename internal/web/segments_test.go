package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

type segmentAnswer struct {
	Segment struct {
		ID           int64  `json:"id"`
		Name         string `json:"name"`
		Kind         string `json:"kind"`
		Version      int64  `json:"version"`
		BuiltVersion int64  `json:"built_version"`
		MemberCount  int64  `json:"member_count"`
		Building     bool   `json:"building"`
	} `json:"segment"`
	Job *struct {
		ID int64 `json:"id"`
	} `json:"job"`
}

// TestSegmentsAPI: segments as API clients use them, over the web
// fixture (persons 1 customer of 甲公司, 2 mql of 乙公司, 3 visitor
// without an account; persons 1 and 3 had paid-search touches).
func TestSegmentsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		startApp(t, e.srv)
		marketer, _, err := e.auth.CreateAPIKey(ctx, "m", model.RoleMarketer)
		if err != nil {
			t.Fatal(err)
		}
		memberIDs := func(id int64) []int64 {
			t.Helper()
			var out struct {
				Total   int64 `json:"total"`
				Members []struct {
					ID int64 `json:"id"`
				} `json:"members"`
			}
			decodeJSON(t, e.api(t, fmt.Sprintf("/api/v1/segments/%d/members?limit=10", id)), http.StatusOK, &out)
			var ids []int64
			for _, m := range out.Members {
				ids = append(ids, m.ID)
			}
			slices.Sort(ids)
			if out.Total != int64(len(ids)) {
				t.Fatalf("segment %d: total %d, %d members", id, out.Total, len(ids))
			}
			return ids
		}
		create := func(body string) segmentAnswer {
			t.Helper()
			var a segmentAnswer
			decodeJSON(t, e.doBody(t, req{method: http.MethodPost, target: "/api/v1/segments",
				header: map[string]string{"Authorization": "Bearer " + marketer, "Content-Type": "application/json"}}, body), http.StatusCreated, &a)
			if a.Job == nil {
				t.Fatalf("created without a build job: %+v", a)
			}
			if j := awaitJob(t, e.h, marketer, a.Job.ID); j.State != model.JobSucceeded {
				t.Fatalf("build: %+v", j)
			}
			return a
		}
		send := func(method, target, key, body string) (int, string) {
			t.Helper()
			res := e.doBody(t, req{method: method, target: target, header: map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}}, body)
			return res.StatusCode, bodyOf(t, res)
		}

		// A viewer reads but does not write.
		if code, body := send(http.MethodPost, "/api/v1/segments", e.key, `{"name":"x","filter":{"all":[]}}`); code != http.StatusForbidden {
			t.Fatalf("viewer create: %d %s", code, body)
		}
		hot := create(`{"name":"MQLs and customers","kind":"person","filter":{"field":"stage","op":"in","value":["mql","customer"]}}`)
		if got := memberIDs(hot.Segment.ID); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("members %v, want [1 2]", got)
		}
		abm := create(`{"name":"甲","kind":"account","filter":{"all":[{"field":"name","op":"contains","value":"甲"},{"field":"open_opportunities","op":"eq","value":0}]}}`)
		if got := memberIDs(abm.Segment.ID); !slices.Equal(got, []int64{1}) {
			t.Fatalf("account members %v, want [1]", got)
		}

		// Preview: paid-search touches and no account → person 3.
		code, body := send(http.MethodPost, "/api/v1/segments/preview", marketer,
			`{"kind":"person","filter":{"all":[{"field":"touch_channel","op":"did","value":"paid_search"},{"field":"account.name","op":"is_not_set"}]},"sample":5}`)
		var p store.SegmentPreview
		if code != http.StatusOK || json.Unmarshal([]byte(body), &p) != nil || p.Count != 1 || len(p.Sample) != 1 || p.Sample[0].ID != 3 {
			t.Fatalf("preview: %d %s", code, body)
		}

		// Bad input: 400 naming the field; too large: 413.
		for _, c := range []struct {
			method, target, body string
			code                 int
			want                 string
		}{
			{http.MethodPost, "/api/v1/segments", `{"name":"x","filter":{"all":[{"field":"colour","op":"eq","value":"red"}]}}`, 400, "filter.all[0].field"},
			{http.MethodPost, "/api/v1/segments", `{"name":"x","filter":{"any":[{"field":"score","op":"gte","value":"high"}]}}`, 400, "filter.any[0].value"},
			{http.MethodPost, "/api/v1/segments", `{"name":" ","filter":{"all":[]}}`, 400, "name: required"},
			{http.MethodPost, "/api/v1/segments", `{"name":"x","kind":"group","filter":{"all":[]}}`, 400, "kind:"},
			{http.MethodPost, "/api/v1/segments", `{"name":"x"}`, 400, "filter: a filter is required"},
			{http.MethodPost, "/api/v1/segments", `{"name":"x","filter":{"all":[]},"colour":1}`, 400, "colour"},
			{http.MethodPost, "/api/v1/segments", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "larger than"},
			{http.MethodPost, "/api/v1/segments/preview", `{"filter":{"not":{"field":"event","op":"did","value":"x","days":0.5}}}`, 400, "filter.not.days"},
			{http.MethodPost, "/api/v1/segments/preview", `{"filter":{"all":[]},"sample":1000}`, 400, "sample"},
			{http.MethodPut, fmt.Sprintf("/api/v1/segments/%d", hot.Segment.ID), `{"name":"x","kind":"account","filter":{"all":[]}}`, 400, "kind:"},
			{http.MethodPut, "/api/v1/segments/999", `{"name":"x","filter":{"all":[]}}`, 404, "segment 999"},
			{http.MethodGet, fmt.Sprintf("/api/v1/segments/%d/members?limit=100000", hot.Segment.ID), ``, 400, "limit"},
			{http.MethodGet, "/api/v1/segments/abc", ``, 400, "segment id"},
		} {
			code, body := send(c.method, c.target, marketer, c.body)
			if code != c.code || !strings.Contains(body, c.want) {
				t.Errorf("%s %s %.80s: %d %.200s, want %d naming %q", c.method, c.target, c.body, code, body, c.code, c.want)
			}
		}

		// Editing the filter rebuilds: only the MQL stays.
		var up segmentAnswer
		code, body = send(http.MethodPut, fmt.Sprintf("/api/v1/segments/%d", hot.Segment.ID), marketer,
			`{"name":"MQLs","filter":{"field":"stage","op":"eq","value":"mql"}}`)
		if code != http.StatusOK || json.Unmarshal([]byte(body), &up) != nil || up.Segment.Version != 2 || up.Job == nil {
			t.Fatalf("update: %d %s", code, body)
		}
		awaitJob(t, e.h, marketer, up.Job.ID)
		if got := memberIDs(hot.Segment.ID); !slices.Equal(got, []int64{2}) {
			t.Fatalf("after the edit: members %v, want [2]", got)
		}
		// Kept current by the runner: a stage move reaches the members with
		// the pass that follows processing, without a rebuild.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if w, err := s.SegmentWatermarks(ctx); err != nil || w.Set {
				break // the pass on start has run
			}
			if time.Now().After(deadline) {
				t.Fatal("the segment pass never ran")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := s.MoveStages(ctx, []model.StageMove{{PersonID: 3, From: model.StageVisitor, To: model.StageMQL, At: time.Now(), Reason: "test"}}); err != nil {
			t.Fatal(err)
		}
		e.srv.app.Jobs.Processed()
		for !slices.Equal(memberIDs(hot.Segment.ID), []int64{2, 3}) {
			if time.Now().After(deadline) {
				t.Fatalf("person 3 never entered: %v", memberIDs(hot.Segment.ID))
			}
			time.Sleep(20 * time.Millisecond)
		}
		log, err := s.SegmentChangesAfter(ctx, 0, 100)
		if err != nil || len(log) == 0 || log[len(log)-1].MemberID != 3 || !log[len(log)-1].Entered || log[len(log)-1].SegmentID != hot.Segment.ID {
			t.Fatalf("change log ends %+v, %v", log, err)
		}
		if j := operate(t, e.h, http.MethodPost, fmt.Sprintf("/api/v1/segments/%d/rebuild", hot.Segment.ID), marketer, ""); j.State != model.JobSucceeded {
			t.Fatalf("rebuild: %+v", j)
		}
		var list struct {
			Segments []struct {
				Name     string `json:"name"`
				Building bool   `json:"building"`
			} `json:"segments"`
		}
		decodeJSON(t, e.api(t, "/api/v1/segments"), http.StatusOK, &list)
		if len(list.Segments) != 2 || list.Segments[0].Name != "MQLs" || list.Segments[0].Building {
			t.Fatalf("list: %+v", list)
		}

		// Pages, in both languages.
		c := e.login(t)
		for _, pg := range []struct{ target, want string }{
			{"/segments?lang=zh-CN", "人群分组"},
			{"/segments?lang=en", "MQLs"},
			{fmt.Sprintf("/segments/%d?lang=en", hot.Segment.ID), `href="/persons/2"`},
			{"/segments/new?kind=account&lang=zh-CN", "新建分组"},
		} {
			res := e.do(t, req{target: pg.target, cookies: []*http.Cookie{c}})
			if b := bodyOf(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, pg.want) {
				t.Errorf("%s: %d, want %q", pg.target, res.StatusCode, pg.want)
			}
		}
		res := e.do(t, req{method: http.MethodPost, target: "/segments", cookies: []*http.Cookie{c},
			form: url.Values{"name": {"bad"}, "kind": {"person"}, "filter": {`{"all":[{"field":"stage","op":"eq","value":"hot"}]}`}}})
		if b := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, "filter.all[0].value") {
			t.Errorf("form with a bad filter: %d", res.StatusCode)
		}
		res = e.do(t, req{method: http.MethodPost, target: "/segments", cookies: []*http.Cookie{c},
			form: url.Values{"name": {"visitors"}, "kind": {"person"}, "filter": {`{"all":[{"field":"stage","op":"eq","value":"visitor"}]}`}}})
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/segments/") {
			t.Errorf("form: %d %s", res.StatusCode, res.Header.Get("Location"))
		}

		if code, body := send(http.MethodDelete, fmt.Sprintf("/api/v1/segments/%d", hot.Segment.ID), marketer, ""); code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", code, body)
		}
		if code, _ := send(http.MethodGet, fmt.Sprintf("/api/v1/segments/%d", hot.Segment.ID), marketer, ""); code != http.StatusNotFound {
			t.Fatalf("deleted segment: %d", code)
		}
	})
}
