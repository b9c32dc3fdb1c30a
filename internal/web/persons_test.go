package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// sqlCount runs a COUNT query with ? placeholders on either engine.
func sqlCount(t *testing.T, s *store.Store, query string, args ...any) int64 {
	t.Helper()
	if s.Dialect() == store.Postgres {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	var n int64
	if err := s.WriterDB().QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func sqlExec(t *testing.T, s *store.Store, query string, args ...any) {
	t.Helper()
	if s.Dialect() == store.Postgres {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	if _, err := s.WriterDB().ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// hostilePersonName is a person's name that must come out as text everywhere.
const hostilePersonName = `<script>alert("x")</script>=HYPERLINK("http://evil")`

// personsEnv is the web fixture with names, a hostile one among them, and
// grades, as the persons list shows them.
func personsEnv(t *testing.T, s *store.Store) *env {
	t.Helper()
	e := newEnv(t, s)
	e.auth.Now = func() time.Time { return day0.AddDate(0, 3, 0) }
	sqlExec(t, s, "UPDATE persons SET name = ?, email = ?, grade = 'A', owner_id = 2 WHERE id = 1", "王伟", "wang.wei@jia.cn")
	sqlExec(t, s, "UPDATE persons SET name = ?, grade = 'B', score = 42.5 WHERE id = 2", hostilePersonName)
	return e
}

type personsAnswer struct {
	Persons []struct {
		ID      int64       `json:"id"`
		Name    string      `json:"name"`
		Stage   model.Stage `json:"stage"`
		Account *struct {
			Name string `json:"name"`
		} `json:"account"`
		Owner *struct {
			ID int64 `json:"id"`
		} `json:"owner"`
	} `json:"persons"`
	Total      int64   `json:"total"`
	NextCursor *string `json:"next_cursor"`
	From, To   string
}

func (a personsAnswer) ids() string {
	var out []string
	for _, p := range a.Persons {
		out = append(out, fmt.Sprint(p.ID))
	}
	return strings.Join(out, " ")
}

func TestPersonsAPIFiltersAgreeWithSQL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := personsEnv(t, s)
		// The fixture's persons were first seen on 10 January 2026 (UTC),
		// 09:00 to 11:00 in Shanghai.
		cases := []struct {
			query, where string
			ids          string
		}{
			{"from=2026-01-01&to=2026-01-31", "1 = 1", "3 2 1"},
			{"from=2026-01-01&to=2026-01-31&stage=mql", "stage = 'mql'", "2"},
			{"from=2026-01-01&to=2026-01-31&stage=mql,customer&sort=score", "stage IN ('mql', 'customer')", "2 1"},
			{"from=2026-01-01&to=2026-01-31&grade=none", "grade = ''", "3"},
			{"from=2026-01-01&to=2026-01-31&owner=2", "owner_id = 2", "1"},
			{"from=2026-01-01&to=2026-01-31&owner=none&min_score=40", "owner_id IS NULL AND score >= 40", "2"},
			{"from=2026-01-01&to=2026-01-31&channel=paid_search&sort=first_seen&dir=asc", "first_touch_channel = 'paid_search'", "1 3"},
			{"from=2026-01-12&to=2026-01-12&date=lead", "lead_at IS NOT NULL AND lead_at >= '2026-01-11 16:00:00+00:00' AND lead_at < '2026-01-12 16:00:00+00:00'", "2"},
			{"from=2026-01-01&to=2026-01-31&q=%E7%94%B2%E5%85%AC%E5%8F%B8", "account_id = 1", "1"}, // 甲公司: the company
			{"from=2026-01-01&to=2026-01-31&q=WANG.WEI@JIA.CN", "id = 1", "1"},
			{"from=2026-01-01&to=2026-01-31&q=script", "id = 2", "2"},
			{"from=2026-02-01&to=2026-02-28", "1 = 0", ""},
		}
		for _, c := range cases {
			var got personsAnswer
			decodeJSON(t, e.api(t, "/api/v1/persons?"+c.query), http.StatusOK, &got)
			where := c.where
			if s.Dialect() == store.Postgres {
				where = strings.ReplaceAll(where, "+00:00'", "+00:00'::timestamptz")
			}
			want := sqlCount(t, s, "SELECT COUNT(*) FROM persons WHERE merged_into_id IS NULL AND first_seen_at >= '2000-01-01' AND "+where)
			if strings.Contains(c.query, "date=lead") {
				want = sqlCount(t, s, "SELECT COUNT(*) FROM persons WHERE merged_into_id IS NULL AND "+where)
			}
			if got.Total != want || int64(len(got.Persons)) != want || got.ids() != c.ids {
				t.Errorf("%s: total %d, ids %q; want %d (SQL) and %q", c.query, got.Total, got.ids(), want, c.ids)
			}
		}
		var one personsAnswer
		decodeJSON(t, e.api(t, "/api/v1/persons?from=2026-01-01&to=2026-01-31&sort=name&dir=asc&limit=1"), http.StatusOK, &one)
		if one.ids() != "2" || one.NextCursor == nil || one.Persons[0].Name != hostilePersonName {
			t.Fatalf("first by name: %+v", one)
		}
		var two personsAnswer
		decodeJSON(t, e.api(t, "/api/v1/persons?from=2026-01-01&to=2026-01-31&sort=name&dir=asc&limit=1&cursor="+*one.NextCursor), http.StatusOK, &two)
		if two.ids() != "1" || two.Persons[0].Account == nil || two.Persons[0].Account.Name != "甲公司" || two.Persons[0].Owner.ID != 2 {
			t.Fatalf("second by name: %+v", two)
		}
		// The lookup by identifier still answers one person.
		var p personJSON
		sqlExec(t, s, "INSERT INTO identities (type, value, person_id, created_at) VALUES ('email', 'wang.wei@jia.cn', 1, ?)", day0)
		decodeJSON(t, e.api(t, "/api/v1/persons?identifier=email:Wang.Wei@jia.cn"), http.StatusOK, &p)
		if p.ID != 1 {
			t.Fatalf("lookup: %+v", p)
		}
	})
}

func TestPersonsBadParameters(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := personsEnv(t, s)
		var first personsAnswer
		decodeJSON(t, e.api(t, "/api/v1/persons?from=2026-01-01&limit=1"), http.StatusOK, &first)
		cases := []struct{ query, want string }{
			{"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=ten", "limit"},
			{"stage=won", "stage"}, {"grade=Z", "grade"}, {"owner=boss", "owner"}, {"owner=me", "owner=me"},
			{"min_score=high", "min_score"}, {"min_score=NaN", "min_score"}, {"channel=paid%20search", "channel"},
			{"date=closed", "date"}, {"sort=stage", "sort"}, {"sort=score&dir=up", "dir"},
			{"cursor=%21%21", "cursor"}, {"cursor=" + *first.NextCursor + "&sort=score", "cursor"},
			{"from=2026-13-01", "from"}, {"from=2026-02-01&to=2026-01-01", "from"},
			{"q=" + strings.Repeat("x", 201), "q"},
		}
		for _, c := range cases {
			res := e.api(t, "/api/v1/persons?"+c.query)
			var msg apiError
			decodeJSON(t, res, http.StatusBadRequest, &msg)
			if !strings.HasPrefix(msg.Error, c.want) {
				t.Errorf("%s: %q should start with %q", c.query, msg.Error, c.want)
			}
		}
		// The page says it in the user's language, with a 400.
		c := e.loginAs(t, model.RoleMarketer)
		res := e.do(t, req{target: "/persons?limit=500", cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "zh-CN"}})
		body := bodyOf(t, res)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "每页显示 1 到 200 人。") {
			t.Errorf("page with a bad limit: %d %s", res.StatusCode, body)
		}
	})
}

func TestPersonsPageAndCSVExport(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := personsEnv(t, s)
		c := e.loginAs(t, model.RoleSales)
		res := e.do(t, req{target: "/persons?from=2026-01-01&to=2026-01-31", cookies: []*http.Cookie{c}, header: map[string]string{"Accept-Language": "en"}})
		body := bodyOf(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page: %d %s", res.StatusCode, body)
		}
		if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Error("the hostile name is not escaped")
		}
		for _, want := range []string{`data-total="3"`, `href="/persons/1"`, "Anonymous visitor #3", `data-nav="persons" aria-current="page"`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		res = e.do(t, req{target: "/persons?from=2026-01-01&to=2026-01-31&persons_sort=name&persons_dir=asc&export=persons", cookies: []*http.Cookie{c},
			header: map[string]string{"Accept-Language": "en"}})
		raw := []byte(bodyOf(t, res))
		if res.StatusCode != http.StatusOK || !bytes.HasPrefix(raw, []byte("\uFEFF")) || !strings.Contains(res.Header.Get("Content-Disposition"), "persons-2026-01-01_2026-01-31.csv") {
			t.Fatalf("export: %d %v", res.StatusCode, res.Header)
		}
		rows, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || rows[0][0] != "Name" || rows[0][9] != "First seen" {
			t.Fatalf("CSV %q", rows)
		}
		// Ordered by name, the empty name last; the hostile one cannot
		// start a formula in a spreadsheet.
		if rows[1][0] != hostilePersonName || rows[2][0] != "王伟" || rows[3][0] != "Anonymous visitor #3" || rows[2][4] != "A" || rows[2][9] != "2026-01-10" {
			t.Errorf("CSV rows %q", rows[1:])
		}
		sqlExec(t, s, "UPDATE persons SET name = ? WHERE id = 2", "=1+1")
		res = e.do(t, req{target: "/persons?from=2026-01-01&to=2026-01-31&persons_sort=name&persons_dir=asc&export=persons", cookies: []*http.Cookie{c}})
		if rows, _ := csv.NewReader(strings.NewReader(bodyOf(t, res)[3:])).ReadAll(); len(rows) < 2 || rows[1][0] != "'=1+1" {
			t.Errorf("formula not guarded: %q", rows)
		}
		if res := e.do(t, req{target: "/persons?export=nope", cookies: []*http.Cookie{c}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown export: %d", res.StatusCode)
		}
	})
}

// personsDemoEnd is the last day of the small demo the tests read.
var personsDemoEnd = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// demoEnv is a server over a small demo (scale 0.05) and a viewer key.
func demoEnv(t *testing.T, s *store.Store) *env {
	t.Helper()
	if _, err := demo.Generate(ctx, s, demo.Options{Seed: 1, End: personsDemoEnd, Scale: 0.05}); err != nil {
		t.Fatal(err)
	}
	a := auth.New(s)
	a.Now = func() time.Time { return personsDemoEnd.Add(10 * time.Hour) }
	key, _, err := a.CreateAPIKey(ctx, "test", model.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: s, auth: a, srv: srv, h: srv.Handler(), key: key}
}

// Over a demo, every order pages through every person exactly once, ties
// and missing values included, and a demo person's timeline holds every
// touch of theirs and the rest of their history.
func TestPersonsPagingAndTimelineOverTheDemo(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := demoEnv(t, s)
		live := sqlCount(t, s, "SELECT COUNT(*) FROM persons WHERE merged_into_id IS NULL")
		if live < 1000 {
			t.Fatalf("only %d persons in the demo", live)
		}
		for _, order := range []string{"sort=first_seen", "sort=score&dir=asc", "sort=name&dir=asc", "sort=lead_at"} {
			seen := map[int64]bool{}
			target := "/api/v1/persons?from=2000-01-01&limit=200&" + order
			var total int64
			for pages := 0; ; pages++ {
				if pages > int(live/200)+2 {
					t.Fatalf("%s: paging does not end", order)
				}
				var page personsAnswer
				decodeJSON(t, e.api(t, target), http.StatusOK, &page)
				total = page.Total
				for _, p := range page.Persons {
					if seen[p.ID] {
						t.Fatalf("%s: person %d twice", order, p.ID)
					}
					seen[p.ID] = true
				}
				if page.NextCursor == nil {
					break
				}
				target = "/api/v1/persons?from=2000-01-01&limit=200&" + order + "&cursor=" + url.QueryEscape(*page.NextCursor)
			}
			if int64(len(seen)) != live || total != live {
				t.Errorf("%s: %d persons paged, total %d, want %d", order, len(seen), total, live)
			}
		}

		// The person with the most touches.
		var id int64
		q := "SELECT person_id FROM touchpoints WHERE person_id IS NOT NULL GROUP BY person_id ORDER BY COUNT(*) DESC, person_id LIMIT 1"
		if err := s.WriterDB().QueryRowContext(ctx, q).Scan(&id); err != nil {
			t.Fatal(err)
		}
		touches := sqlCount(t, s, "SELECT COUNT(*) FROM touchpoints WHERE person_id = ?", id)
		others := sqlCount(t, s, "SELECT COUNT(*) FROM stage_changes WHERE person_id = ?", id) +
			sqlCount(t, s, "SELECT COUNT(*) FROM activities WHERE person_id = ?", id) +
			sqlCount(t, s, "SELECT COUNT(*) FROM events e WHERE person_id = ? AND NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.event_id = e.id)", id) +
			sqlCount(t, s, "SELECT COUNT(*) FROM opportunity_contacts WHERE person_id = ?", id) +
			sqlCount(t, s, "SELECT COUNT(*) FROM opportunity_contacts oc JOIN opportunities o ON o.id = oc.opportunity_id WHERE oc.person_id = ? AND o.closed_at IS NOT NULL", id) +
			sqlCount(t, s, "SELECT COUNT(*) FROM orders r JOIN opportunity_contacts oc ON oc.opportunity_id = r.opportunity_id WHERE oc.person_id = ?", id)
		if touches < 5 {
			t.Fatalf("person %d has %d touches", id, touches)
		}
		kinds := map[string]int64{}
		var prev time.Time
		target := fmt.Sprintf("/api/v1/persons/%d/timeline?limit=7", id)
		var total int64
		for pages := 0; pages < 1000; pages++ {
			var tl struct {
				Items []struct {
					Kind string    `json:"kind"`
					At   time.Time `json:"at"`
				} `json:"items"`
				Total      int64   `json:"total"`
				NextCursor *string `json:"next_cursor"`
			}
			decodeJSON(t, e.api(t, target), http.StatusOK, &tl)
			total = tl.Total
			for _, it := range tl.Items {
				if !prev.IsZero() && it.At.After(prev) {
					t.Fatalf("timeline not newest first: %v after %v", it.At, prev)
				}
				prev = it.At
				kinds[it.Kind]++
			}
			if tl.NextCursor == nil {
				break
			}
			target = fmt.Sprintf("/api/v1/persons/%d/timeline?limit=7&cursor=%s", id, url.QueryEscape(*tl.NextCursor))
		}
		var n int64
		for _, v := range kinds {
			n += v
		}
		if kinds["touch"] != touches || n != touches+others || total != n {
			t.Errorf("timeline of person %d: %v (%d items, total %d); want %d touches + %d others", id, kinds, n, total, touches, others)
		}
		// The page shows it too.
		c := e.loginAs(t, model.RoleViewer)
		body := bodyOf(t, e.do(t, req{target: fmt.Sprintf("/persons/%d", id), cookies: []*http.Cookie{c}}))
		if strings.Count(body, `class="tl tl-`) != min(int(n), timelinePageSize) || !strings.Contains(body, fmt.Sprintf(`data-value="%d"`, n)) {
			t.Errorf("person page timeline: %d items shown of %d", strings.Count(body, `class="tl tl-`), n)
		}
		if strings.Contains(body, `id="actions"`) {
			t.Error("a viewer is offered the actions")
		}
	})
}
