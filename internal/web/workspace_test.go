package web

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// loginAs creates a user of a role and logs them in.
func (e *env) loginAs(t *testing.T, role model.Role) *http.Cookie {
	t.Helper()
	email := string(role) + ".user@example.cn"
	if _, err := e.auth.CreateUser(ctx, email, string(role), role, testPassword); err != nil {
		t.Fatal(err)
	}
	res := e.do(t, req{method: http.MethodPost, target: "/login", form: url.Values{"email": {email}, "password": {testPassword}, "next": {"/"}}})
	c := cookieNamed(res, sessionCookie)
	if res.StatusCode != http.StatusSeeOther || c == nil {
		t.Fatalf("login as %s: status %d", role, res.StatusCode)
	}
	return c
}

// The navigation shows each role the pages it may open, and a page
// refuses the roles that may not.
func TestNavigationByRole(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		want := map[model.Role][]string{
			model.RoleAdmin: {"marketing", "ads", "events", "content", "sales", "persons", "accounts", "campaigns", "tasks", "my_links",
				"promotion", "content_review", "period_review", "segments", "journeys", "imports", "links", "rules", "settings", "tracking", "messaging", "email", "users"},
			model.RoleMarketer: {"marketing", "ads", "events", "content", "sales", "persons", "accounts", "campaigns", "tasks", "my_links",
				"promotion", "content_review", "period_review", "segments", "journeys", "imports", "links", "rules", "tracking"},
			model.RoleSales:  {"sales", "persons", "accounts", "campaigns", "tasks", "my_links"},
			model.RoleViewer: {"marketing", "ads", "events", "content", "sales", "persons", "accounts", "campaigns", "tasks", "my_links", "promotion", "content_review", "period_review", "segments", "journeys"},
		}
		for role, keys := range want {
			c := e.loginAs(t, role)
			body := bodyOf(t, e.do(t, req{target: "/settings/tracking", cookies: []*http.Cookie{c}}))
			var got []string
			for _, part := range strings.Split(body, `data-nav="`)[1:] {
				got = append(got, part[:strings.IndexByte(part, '"')])
			}
			if role == model.RoleSales || role == model.RoleViewer {
				// /settings/tracking is refused: the error page still has the navigation.
				if !strings.Contains(body, "403") {
					t.Errorf("%s opened /settings/tracking", role)
				}
			}
			if strings.Join(got, " ") != strings.Join(keys, " ") {
				t.Errorf("%s sees %v, want %v", role, got, keys)
			}
		}
	})
}

func TestTableSortsAndExportsCSV(t *testing.T) {
	tbl := func() *dataTable {
		return &dataTable{ID: "camp", Columns: []column{
			{Key: "name", Label: "名称", Kind: kindText},
			{Key: "cost", Label: "Cost", Kind: kindMoney},
			{Key: "roi", Label: "ROI", Kind: kindRatio},
		}, Rows: [][]cell{
			{{V: "=HYPERLINK(\"http://x\")"}, {V: model.Money(12345)}, {V: ptr(1.5)}},
			{{V: "Baidu 品牌词"}, {V: model.Money(99)}, {V: (*float64)(nil)}},
			{{V: "Ocean"}, {V: model.Money(100000)}, {V: ptr(-0.25)}},
		}}
	}
	r := httptest.NewRequest("GET", "/campaigns?from=2026-01-01&camp_sort=cost&camp_dir=asc", nil)
	t1 := tbl()
	t1.prepare(r, "name", false)
	if got := []any{t1.Rows[0][1].V, t1.Rows[1][1].V, t1.Rows[2][1].V}; got[0] != model.Money(99) || got[2] != model.Money(100000) {
		t.Fatalf("cost ascending: %v", got)
	}
	if h := t1.SortHref("cost"); !strings.Contains(h, "camp_dir=desc") || !strings.Contains(h, "from=2026-01-01") {
		t.Errorf("sort link %q should flip the order and keep the range", h)
	}
	t2 := tbl()
	t2.prepare(httptest.NewRequest("GET", "/campaigns?camp_sort=roi", nil), "name", false)
	if t2.Rows[0][2].V.(*float64) == nil || *t2.Rows[0][2].V.(*float64) != 1.5 || t2.Rows[2][2].V.(*float64) != nil {
		t.Fatalf("roi descending puts the missing value last: %v %v %v", t2.Rows[0][2], t2.Rows[1][2], t2.Rows[2][2])
	}
	rec := httptest.NewRecorder()
	writeCSV(rec, "campaigns-camp-2026-01-01_2026-03-31", tbl())
	body := rec.Body.Bytes()
	if !bytes.HasPrefix(body, []byte("\uFEFF")) {
		t.Error("CSV lacks the byte-order mark Excel needs for UTF-8")
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"名称", "Cost", "ROI"}, {`'=HYPERLINK("http://x")`, "123.45", "1.5000"}, {"Baidu 品牌词", "0.99", ""}, {"Ocean", "1000.00", "-0.2500"}}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
		}
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "campaigns-camp-2026-01-01_2026-03-31.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
}

func ptr(x float64) *float64 { return &x }

// The date range of a page is team days, both ends included, and defaults
// to the 12 months to today.
func TestFilterPeriod(t *testing.T) {
	{
		cal := model.DefaultCalendar()
		today := cal.Day(time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)) // 01:00 on 7 Dec in Shanghai
		f, err := readFilter(httptest.NewRequest("GET", "/x", nil), cal, today, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if f.From != "2025-12-08" || f.To != "2026-12-07" || !f.Default {
			t.Errorf("default range %s..%s", f.From, f.To)
		}
		f, err = readFilter(httptest.NewRequest("GET", "/x?from=2026-11-01&to=2026-11-30&model=first", nil), cal, today, []string{"linear", "first"}, "linear")
		if err != nil {
			t.Fatal(err)
		}
		w := f.Period.Window()
		if !w.From.Equal(time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC)) || !w.To.Equal(time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)) || f.Model != "first" {
			t.Errorf("window %v..%v model %s", w.From, w.To, f.Model)
		}
		for _, bad := range []string{"from=2026-13-01", "to=yesterday", "from=2026-02-01&to=2026-01-01", "model=magic"} {
			if _, err := readFilter(httptest.NewRequest("GET", "/x?"+bad, nil), cal, today, []string{"linear"}, "linear"); err == nil {
				t.Errorf("%s accepted", bad)
			}
		}
	}
}

// Text assets are served gzipped to browsers that accept it.
func TestStaticGzip(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		res := e.do(t, req{target: "/static/vendor/echarts.min.js", header: map[string]string{"Accept-Encoding": "gzip, deflate, br"}})
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("no gzip: %v", res.Header)
		}
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || len(plain) != len(e.srv.static["vendor/echarts.min.js"].body) {
			t.Fatalf("gunzipped %d bytes (%v)", len(plain), err)
		}
		res = e.do(t, req{target: "/static/vendor/echarts.min.js", header: map[string]string{"Accept-Encoding": "gzip;q=0"}})
		if res.Header.Get("Content-Encoding") != "" {
			t.Error("gzip sent to a client that refused it")
		}
	})
}
