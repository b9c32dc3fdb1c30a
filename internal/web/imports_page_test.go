package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// uploadForm is a multipart body as the imports page's form sends it.
func uploadForm(t *testing.T, kind, create, fileName string, file io.Reader) (string, io.Reader) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("kind", kind)
		if create != "" {
			mw.WriteField("create_campaigns", create)
		}
		if file != nil {
			fw, err := mw.CreateFormFile("file", fileName)
			if err == nil {
				_, err = io.Copy(fw, file)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return mw.FormDataContentType(), pr
}

// upload posts the imports page's form with a session.
func (e *env) upload(t *testing.T, c *http.Cookie, kind, create, fileName string, file io.Reader, lang string) *http.Response {
	t.Helper()
	ctype, body := uploadForm(t, kind, create, fileName, file)
	hr := httptest.NewRequest(http.MethodPost, "/imports?lang="+lang, body)
	hr.Header.Set("Content-Type", ctype)
	hr.AddCookie(c)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec.Result()
}

var jobIDInLocation = regexp.MustCompile(`^/imports\?job=(\d+)$`)

// uploadJob uploads through the page, expects the redirect to the page
// watching the import's job, and waits for the job to end.
func (e *env) uploadJob(t *testing.T, c *http.Cookie, kind, create, fileName, file string) jobJSON {
	t.Helper()
	res := e.upload(t, c, kind, create, fileName, strings.NewReader(file), "en")
	m := jobIDInLocation.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("upload: %d %q %s", res.StatusCode, res.Header.Get("Location"), bodyOf(t, res))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return e.waitJob(t, id)
}

// pageText is a page's body with tags dropped and spaces collapsed, for
// checks of what a reader sees.
func pageText(body string) string {
	text := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(body, " ")
	return strings.Join(strings.Fields(text), " ")
}

// TestImportsPageUpload uploads through the page with a session: a cost
// file with bad rows lists them by line and column, in the reader's
// language, escaped, and exports them as CSV; a good file ends done with
// its figures; the history lists both and its JSON twin agrees.
func TestImportsPageUpload(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		startApp(t, e.srv)
		c := e.loginAs(t, model.RoleMarketer)

		page := bodyOf(t, e.do(t, req{target: "/imports?lang=zh-CN", cookies: []*http.Cookie{c}}))
		for _, want := range []string{`enctype="multipart/form-data"`, `name="file"`, `data-limit="67108864"`, "单个文件最大 64 MiB",
			`href="/imports/samples/costs-zh-CN.csv"`, `href="/imports/samples/events-en.csv"`, `id="table-history"`, `data-field="cost"`} {
			if !strings.Contains(page, want) {
				t.Errorf("imports page lacks %q", want)
			}
		}

		// A file with bad rows: a hostile file name and hostile cells.
		hostileName := `<img src=x onerror=alert(1)>.csv`
		bad := "日期,平台,账户,推广计划,推广单元,关键词,展现,点击,消费\n" +
			"2026-01-10,百度,acc,百度搜索,g,k1,100,5,12.50\n" +
			"2026-01-11,百度,acc,百度搜索,g,k1,100,5,<script>alert(1)</script>\n" +
			"2026/13/01,百度,acc,百度搜索,g,k3,100,5,1.00\n"
		j := e.uploadJob(t, c, "costs", "", hostileName, bad)
		if j.State != model.JobFailed || !strings.Contains(string(j.Result), `"bad_row_count":2`) {
			t.Fatalf("bad file job %+v %s", j, j.Result)
		}
		body := bodyOf(t, e.do(t, req{target: fmt.Sprintf("/imports?job=%d&lang=zh-CN", j.ID), cookies: []*http.Cookie{c}}))
		if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, "<img src=x") {
			t.Fatal("hostile text reached the page unescaped")
		}
		text := html2text(pageText(body))
		for _, want := range []string{
			"2 行有错误，未导入任何数据。",
			"3 I 列 · 消费 <script>alert(1)</script> 「<script>alert(1)</script>」不是以元为单位的金额",
			"4 A 列 · 日期 2026/13/01 「2026/13/01」不是日期",
			"<img src=x onerror=alert(1)>.csv",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("result page lacks %q:\n%s", want, text)
			}
		}
		// The bad rows as CSV, line by line.
		res := e.do(t, req{target: fmt.Sprintf("/imports?job=%d&export=errors&lang=en", j.ID), cookies: []*http.Cookie{c}})
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(bodyOf(t, res)), []byte("\uFEFF")))).ReadAll()
		if err != nil || len(rows) != 3 || strings.Join(rows[0], "|") != "Line|Column|Value|What to fix|Importer's note" ||
			rows[1][0] != "3" || rows[1][1] != "I · 消费" || rows[2][0] != "4" || !strings.Contains(rows[2][3], "is not a date") {
			t.Fatalf("errors CSV %q (%v)", rows, err)
		}

		// A campaign that does not exist, named with markup.
		j = e.uploadJob(t, c, "costs", "", "new.csv", "日期,平台,账户,推广计划,展现,点击,消费\n2026-01-11,百度,acc,<b>新计划</b>,100,5,1.00\n")
		body = bodyOf(t, e.do(t, req{target: fmt.Sprintf("/imports?job=%d&lang=zh-CN", j.ID), cookies: []*http.Cookie{c}}))
		if strings.Contains(body, "<b>新计划") || !strings.Contains(html2text(pageText(body)), "2 D 列 · 推广计划 <b>新计划</b> 没有名为「<b>新计划</b>」的活动") {
			t.Errorf("unknown campaign: %s", html2text(pageText(body)))
		}

		// A good file: done, and its figures are what the database holds.
		good := costFile(5, "百度搜索")
		j = e.uploadJob(t, c, "costs", "", "baidu-jan.csv", good)
		if j.State != model.JobSucceeded {
			t.Fatalf("good file job %+v", j)
		}
		var stored int
		if err := rawDB(t, s).QueryRow(`SELECT COUNT(*) FROM daily_costs WHERE keyword_id IS NOT NULL`).Scan(&stored); err != nil || stored != 5 {
			t.Fatalf("stored cost rows %d (%v)", stored, err)
		}
		body = bodyOf(t, e.do(t, req{target: fmt.Sprintf("/imports?job=%d&lang=en", j.ID), cookies: []*http.Cookie{c}}))
		for id, want := range map[string]string{"rows_read": "5", "rows_new": "5", "rows_updated": "0", "rows_same": "0", "rows_skipped": "0"} {
			if got := kpiRaw(body, id); got != want {
				t.Errorf("kpi %s = %q, want %q", id, got, want)
			}
		}
		if !strings.Contains(pageText(body), "5 rows read: 5 new, 0 updated, 0 unchanged, 0 skipped.") {
			t.Errorf("no result in words: %s", pageText(body))
		}

		// The same file again: nothing changes, and the page says so.
		res = e.upload(t, c, "costs", "", "again.csv", strings.NewReader(good), "en")
		if b := bodyOf(t, res); res.StatusCode != http.StatusOK || !strings.Contains(b, "was imported on") {
			t.Fatalf("second upload: %d %s", res.StatusCode, pageText(b))
		}

		// The history lists both imports; its JSON twin agrees.
		body = bodyOf(t, e.do(t, req{target: "/imports?lang=en&history_sort=bad&history_dir=desc", cookies: []*http.Cookie{c}}))
		if n := strings.Count(body, `<tr><td data-col="created">`); n != 3 {
			t.Errorf("history shows %d imports, want 3", n)
		}
		var hist struct {
			Imports []importRecord `json:"imports"`
		}
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/imports/history", e.marketerKey(t), "", ""), http.StatusOK, &hist)
		if len(hist.Imports) != 3 || hist.Imports[0].RowsNew != 5 || hist.Imports[0].File != "baidu-jan.csv" || hist.Imports[0].RowsRead != 5 ||
			hist.Imports[2].BadRows != 2 || hist.Imports[2].File != hostileName || hist.Imports[2].State != model.JobFailed {
			t.Fatalf("history %+v", hist.Imports)
		}
		// A range before the imports shows none.
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/imports/history?from=2020-01-01&to=2020-12-31", e.marketerKey(t), "", ""), http.StatusOK, &hist)
		if len(hist.Imports) != 0 {
			t.Errorf("history of 2020: %+v", hist.Imports)
		}
	})
}

// kpiRaw reads a headline figure's raw value from a page.
func kpiRaw(body, id string) string {
	m := regexp.MustCompile(`data-kpi="` + id + `"[^>]*>\s*<div class="kpi-label">.*?</div>\s*<div class="kpi-value" data-value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// html2text unescapes the entities html/template writes.
func html2text(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}

// TestImportsPageRefusals: a file over the limit, no file, a wrong kind,
// a bad range and a role without the page are refused with a clear
// message; the sample files download in both languages.
func TestImportsPageRefusals(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		c := e.loginAs(t, model.RoleMarketer)

		huge := io.LimitReader(repeatReader('a'), maxImportBody+1)
		res := e.upload(t, c, "costs", "", "huge.csv", huge, "zh-CN")
		if b := bodyOf(t, res); res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(b, "文件超过 64 MiB 的上限") {
			t.Fatalf("too large: %d %s", res.StatusCode, pageText(b))
		}
		res = e.upload(t, c, "costs", "", "", nil, "en")
		if b := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, "Choose a file to import.") {
			t.Fatalf("no file: %d %s", res.StatusCode, pageText(b))
		}
		res = e.upload(t, c, "wages", "", "x.csv", strings.NewReader("a,b\n1,2\n"), "en")
		if b := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, "Choose what the file holds") {
			t.Fatalf("bad kind: %d %s", res.StatusCode, pageText(b))
		}
		res = e.upload(t, c, "costs", "", "x.csv", strings.NewReader("nothing,we,know\n1,2,3\n"), "en")
		if b := bodyOf(t, res); res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusSeeOther {
			t.Fatalf("unknown header: %d %s", res.StatusCode, pageText(b))
		}
		res = e.do(t, req{target: "/imports?from=2026-02-30&lang=en", cookies: []*http.Cookie{c}})
		if b := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, `id="imports-error"`) {
			t.Fatalf("bad range: %d", res.StatusCode)
		}
		var apiErr apiError
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/imports/history?to=soon", e.marketerKey(t), "", ""), http.StatusBadRequest, &apiErr)
		if !strings.Contains(apiErr.Error, "YYYY-MM-DD") {
			t.Errorf("API bad range: %q", apiErr.Error)
		}
		for _, role := range []model.Role{model.RoleSales, model.RoleViewer} {
			if res := e.do(t, req{target: "/imports", cookies: []*http.Cookie{e.loginAs(t, role)}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s opened /imports: %d", role, res.StatusCode)
			}
		}
		for _, f := range []string{"costs-zh-CN.csv", "costs-en.csv", "events-zh-CN.csv", "events-en.csv"} {
			res := e.do(t, req{target: "/imports/samples/" + f, cookies: []*http.Cookie{c}})
			if b := bodyOf(t, res); res.StatusCode != http.StatusOK || !strings.HasPrefix(b, "\uFEFF") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
				t.Errorf("sample %s: %d %q", f, res.StatusCode, res.Header)
			}
		}
		if res := e.do(t, req{target: "/imports/samples/secrets-en.csv", cookies: []*http.Cookie{c}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown sample: %d", res.StatusCode)
		}
	})
}

// repeatReader is an endless reader of one byte.
type repeatReader byte

func (b repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
