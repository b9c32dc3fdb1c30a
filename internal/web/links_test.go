package web

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// send makes a request with a raw body and the given bearer key.
func (e *env) send(t *testing.T, method, target, key, ctype, body string) *http.Response {
	t.Helper()
	hr := httptest.NewRequest(method, target, strings.NewReader(body))
	if key != "" {
		hr.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec.Result()
}

func (e *env) marketerKey(t *testing.T) string {
	t.Helper()
	key, _, err := e.auth.CreateAPIKey(ctx, "marketing", model.RoleMarketer)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// rawDB opens the test database directly for checks the store has no query for.
func rawDB(t *testing.T, s *store.Store) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", s.Where()
	if s.Dialect() == store.SQLite {
		driver, dsn = "sqlite", "file:"+s.Where()+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func createLink(t *testing.T, e *env, key string, body map[string]string) linkJSON {
	t.Helper()
	b, _ := json.Marshal(body)
	var l linkJSON
	decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/links", key, "application/json", string(b)), http.StatusCreated, &l)
	return l
}

func TestTrackedLinkRedirectRecordsTouch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		key := e.marketerKey(t)
		l := createLink(t, e, key, map[string]string{"campaign": "web-1", "url": "https://example.cn/webinar?utm_source=own&x=%20#reg",
			"promoter": "sales@x.cn", "card_id": "C-42"})
		if l.Code == "" || l.ShortURL != "http://example.com/r/"+l.Code || l.Promoter != "sales@x.cn" || l.UTMMedium != "employee_sharing" || l.UTMCamp != "web-1" {
			t.Fatalf("link %+v", l)
		}
		res := e.do(t, req{target: "/r/" + l.Code + "?url=https://evil.example/", header: map[string]string{"Referer": "https://weixin.qq.com/", "User-Agent": "Mozilla/5.0 MicroMessenger"}})
		if res.StatusCode != http.StatusFound {
			t.Fatalf("status %d: %s", res.StatusCode, bodyOf(t, res))
		}
		aid := cookieNamed(res, anonCookie)
		if aid == nil || len(aid.Value) != 36 || !aid.HttpOnly {
			t.Fatalf("anonymous id cookie %+v", aid)
		}
		// The target's own utm_source wins; the others are appended; the fragment stays last.
		want := "https://example.cn/webinar?utm_source=own&x=%20&utm_medium=employee_sharing&utm_campaign=web-1&utm_content=card-C-42&rl_aid=" + aid.Value + "#reg"
		if loc := res.Header.Get("Location"); loc != want {
			t.Errorf("Location\n got %s\nwant %s", loc, want)
		}
		db := rawDB(t, s)
		var name, anon, source, medium, campaign, ref, payload, keyName string
		if err := db.QueryRow(`SELECT e.name, e.anonymous_id, e.source, e.medium, e.campaign, e.referrer, e.payload, k.name
			FROM events e JOIN write_keys k ON k.id = e.write_key_id`).Scan(&name, &anon, &source, &medium, &campaign, &ref, &payload, &keyName); err != nil {
			t.Fatal(err)
		}
		if name != "Tracked Link Clicked" || anon != aid.Value || source != "own" || medium != "employee_sharing" || campaign != "web-1" ||
			ref != "https://weixin.qq.com/" || keyName != "revloop:links" {
			t.Errorf("event: %s %s %s %s %s %s %s", name, anon, source, medium, campaign, ref, keyName)
		}
		var p struct {
			Properties map[string]any `json:"properties"`
		}
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			t.Fatal(err)
		}
		if p.Properties["link_code"] != l.Code || p.Properties["promoter"] != "sales@x.cn" || p.Properties["promoter_id"] != float64(2) || p.Properties["card_id"] != "C-42" {
			t.Errorf("properties %v", p.Properties)
		}
		// A second click from the same browser keeps its id and is a new touch.
		res = e.do(t, req{target: "/r/" + l.Code, cookies: []*http.Cookie{aid}})
		if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "rl_aid="+aid.Value) {
			t.Errorf("second click: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		var n, ids int
		if err := db.QueryRow("SELECT COUNT(*), COUNT(DISTINCT message_id) FROM events WHERE anonymous_id = '"+aid.Value+"'").Scan(&n, &ids); err != nil || n != 2 || ids != 2 {
			t.Errorf("%d events with %d message ids after two clicks, want 2 and 2 (%v)", n, ids, err)
		}
		// A link preview from a crawler still redirects, but its touch is flagged as a bot.
		res = e.do(t, req{target: "/r/" + l.Code, header: map[string]string{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}})
		if res.StatusCode != http.StatusFound {
			t.Fatalf("crawler click: %d", res.StatusCode)
		}
		var humans, bots int
		if err := db.QueryRow("SELECT COUNT(CASE WHEN bot THEN NULL ELSE 1 END), COUNT(CASE WHEN bot THEN 1 END) FROM events").Scan(&humans, &bots); err != nil || humans != 2 || bots != 1 {
			t.Errorf("%d human and %d bot clicks, want 2 and 1 (%v)", humans, bots, err)
		}
	})
}

func TestTrackedLinkNotFoundAndNoOpenRedirect(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		key := e.marketerKey(t)
		for _, bad := range []map[string]string{
			{"campaign": "web-1", "url": "javascript:alert(1)"},
			{"campaign": "web-1", "url": "//evil.example/"},
			{"campaign": "web-1", "url": "https://user:pw@evil.example/"},
			{"campaign": "web-1"}, // the campaign has no landing URL
			{"campaign": "nope", "url": "https://example.cn/"},
			{"campaign": "web-1", "url": "https://example.cn/", "promoter": "nobody@x.cn"},
		} {
			b, _ := json.Marshal(bad)
			res := e.send(t, http.MethodPost, "/api/v1/links", key, "application/json", string(b))
			var er apiError
			decodeJSON(t, res, http.StatusBadRequest, &er)
			if er.Error == "" {
				t.Errorf("%v: no reason", bad)
			}
		}
		// A viewer may not create links.
		res := e.send(t, http.MethodPost, "/api/v1/links", e.key, "application/json", `{"campaign":"web-1","url":"https://example.cn/"}`)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("viewer: %d", res.StatusCode)
		}
		l := createLink(t, e, key, map[string]string{"campaign": "baidu-1", "url": "https://example.cn/"})
		var revoked linkJSON
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/links/"+strconv.FormatInt(l.ID, 10)+"/revoke", key, "", ""), http.StatusOK, &revoked)
		if revoked.RevokedAt == nil {
			t.Fatalf("revoke: %+v", revoked)
		}
		for _, path := range []string{"/r/" + l.Code, "/r/" + l.Code + "/qr.png", "/r/unknown1", "/r/..%2F..%2Fetc", "/r/https:%2F%2Fevil.example", "/r/a"} {
			res := e.do(t, req{target: path})
			if res.StatusCode != http.StatusNotFound || res.Header.Get("Location") != "" {
				t.Errorf("%s: %d, Location %q", path, res.StatusCode, res.Header.Get("Location"))
			}
		}
		if n, _ := s.CountEvents(ctx); n != 0 {
			t.Errorf("%d events from dead links", n)
		}
		var list struct{ Links []linkJSON }
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/links?campaign=baidu-1", key, "", ""), http.StatusOK, &list)
		if len(list.Links) != 1 || list.Links[0].Code != l.Code || list.Links[0].RevokedAt == nil {
			t.Errorf("list %+v", list.Links)
		}
	})
}

func TestTrackedLinkQRCodes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		l := createLink(t, e, e.marketerKey(t), map[string]string{"campaign": "web-1", "url": "https://example.cn/expo"})
		res := e.do(t, req{target: "/r/" + l.Code + "/qr.png"})
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("png: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		img, err := png.Decode(res.Body)
		if err != nil || img.Bounds().Dx() < 21*8 || img.Bounds().Dx() != img.Bounds().Dy() {
			t.Errorf("png %v, %v", img.Bounds(), err)
		}
		res = e.do(t, req{target: "/r/" + l.Code + "/qr.svg"})
		body := bodyOf(t, res)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(body, "<svg ") {
			t.Errorf("svg: %d %s %.40s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if n, _ := s.CountEvents(ctx); n != 0 {
			t.Errorf("a QR code download recorded %d events", n)
		}
	})
}

func TestPixel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		wk, err := collect.CreateWriteKey(ctx, s, "email")
		if err != nil {
			t.Fatal(err)
		}
		gif := func(q url.Values) {
			t.Helper()
			res := e.do(t, req{target: "/p.gif?" + q.Encode()})
			body := bodyOf(t, res)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/gif" || !strings.HasPrefix(body, "GIF89a") ||
				!strings.Contains(res.Header.Get("Cache-Control"), "no-store") {
				t.Errorf("pixel %v: %d %s %s", q, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
			}
		}
		open := url.Values{"k": {wk.Key}, "aid": {"anon-12345678"}, "c": {"NURTURE-1"}, "utm_medium": {"email"}, "mid": {"open-1"}}
		gif(open)
		gif(open) // the same open again: stored once
		gif(url.Values{"k": {wk.Key}, "uid": {"u-1"}, "e": {"Newsletter Viewed"}})
		gif(url.Values{"aid": {"x"}})
		gif(url.Values{"k": {"wk_unknown"}, "aid": {"x"}})
		gif(url.Values{"k": {wk.Key}})
		if n, _ := s.CountEvents(ctx); n != 2 {
			t.Errorf("%d events, want 2", n)
		}
		var name, medium, campaign string
		if err := rawDB(t, s).QueryRow("SELECT name, medium, campaign FROM events WHERE message_id = 'open-1'").Scan(&name, &medium, &campaign); err != nil ||
			name != "Email Opened" || medium != "email" || campaign != "NURTURE-1" {
			t.Errorf("open: %s %s %s %v", name, medium, campaign, err)
		}
		metrics := bodyOf(t, e.do(t, req{target: "/metrics"}))
		for _, want := range []string{`revloop_pixel_rejected_total{reason="no_write_key"} 1`, `revloop_pixel_rejected_total{reason="unknown_write_key"} 1`,
			`revloop_pixel_rejected_total{reason="no_identity"} 1`} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

func TestImportAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		startApp(t, e.srv) // imports run as jobs
		key := e.marketerKey(t)
		csv := "date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n2026-01-10,baidu,acc,百度搜索,g,k,100,5,\"1,000.50\"\n"
		var res struct {
			RowsNew         int  `json:"rows_new"`
			AlreadyImported bool `json:"already_imported"`
			Layout          string
		}
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/costs?name=jan.csv", key, "text/csv", csv), http.StatusOK, &res)
		if res.RowsNew != 1 || res.AlreadyImported || res.Layout != "generic" {
			t.Errorf("first: %+v", res)
		}
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/costs", key, "text/csv", csv), http.StatusOK, &res)
		if !res.AlreadyImported {
			t.Errorf("second: %+v", res)
		}
		var bad struct {
			Error   string
			BadRows []struct {
				Line   int
				Reason string
			} `json:"bad_rows"`
		}
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/costs", key, "text/csv", csv+"2026-01-11,baidu,acc,百度搜索,g,k,many,5,1\n"), http.StatusUnprocessableEntity, &bad)
		if len(bad.BadRows) != 1 || bad.BadRows[0].Line != 3 || !strings.Contains(bad.Error, "line 3") {
			t.Errorf("bad: %+v", bad)
		}
		// A campaign that matches none is a bad row unless the import is
		// asked to create it, in the platform's channel.
		other := "date,platform,account,campaign,ad_group,keyword,impressions,clicks,cost\n2026-01-10,zhihu,acc,知乎内容,g,k,100,5,1\n"
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/costs", key, "text/csv", other), http.StatusUnprocessableEntity, &bad)
		if len(bad.BadRows) != 1 || bad.BadRows[0].Line != 2 || !strings.Contains(bad.BadRows[0].Reason, `campaign "知乎内容" does not exist on zhihu`) ||
			!strings.Contains(bad.BadRows[0].Reason, "create_campaigns=true") {
			t.Errorf("unknown campaign: %+v", bad)
		}
		var er apiError
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/costs?create_campaigns=yes", key, "text/csv", other), http.StatusBadRequest, &er)
		if er.Error != `create_campaigns "yes": want true or false` {
			t.Errorf("create_campaigns=yes: %q", er.Error)
		}
		var created struct {
			RowsNew int `json:"rows_new"`
			Notes   []string
		}
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/costs?create_campaigns=true&name=zhihu.csv", key, "text/csv", other), http.StatusOK, &created)
		if created.RowsNew != 1 || len(created.Notes) != 1 || !strings.Contains(created.Notes[0], `campaign "知乎内容" created as paid_social (platform zhihu`) {
			t.Errorf("created: %+v", created)
		}
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/imports/events", key, "text/csv", "what,ever\n1,2\n"), http.StatusBadRequest, &er)
		if !strings.Contains(er.Error, "header") {
			t.Errorf("events: %q", er.Error)
		}
		if res := e.send(t, http.MethodPost, "/api/v1/imports/costs", e.key, "text/csv", csv); res.StatusCode != http.StatusForbidden {
			t.Errorf("viewer import: %d", res.StatusCode)
		}
		var list struct{ Imports []model.Import }
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/imports", key, "", ""), http.StatusOK, &list)
		if len(list.Imports) != 2 || list.Imports[0].FileName != "zhihu.csv" || list.Imports[1].FileName != "jan.csv" {
			t.Errorf("imports %+v", list.Imports)
		}
	})
}

func TestSDKAndTrackingPage(t *testing.T) {
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	res := e.do(t, req{target: "/sdk/revloop.js"})
	body := bodyOf(t, res)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(res.Header.Get("Cache-Control"), "max-age=3600") || res.Header.Get("ETag") == "" || len(body) < 50_000 {
		t.Fatalf("sdk: %d %s %s %d bytes", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"), len(body))
	}
	built, err := os.ReadFile("static/sdk/revloop.js")
	if err != nil || !bytes.Equal(built, []byte(body)) {
		t.Errorf("served SDK differs from static/sdk/revloop.js (%v)", err)
	}
	wk, err := collect.CreateWriteKey(ctx, s, "官网")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BuiltinWriteKey(ctx, "links", collect.NewWriteKey); err != nil {
		t.Fatal(err)
	}
	page := bodyOf(t, e.do(t, req{target: "/settings/tracking", cookies: []*http.Cookie{e.login(t)}}))
	snippet := `&lt;script async src=&#34;http://example.com/sdk/revloop.js&#34; data-write-key=&#34;` + wk.Key + `&#34;&gt;&lt;/script&gt;`
	if !strings.Contains(page, snippet) || strings.Contains(page, "revloop:links") {
		t.Errorf("tracking page lacks the snippet for %s or shows a built-in key", wk.Key)
	}
	if res := e.do(t, req{target: "/settings/tracking"}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("tracking page without login: %d", res.StatusCode)
	}
}
