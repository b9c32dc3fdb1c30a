package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

var createdInLocation = regexp.MustCompile(`^/links\?created=(\d+)#created$`)

// TestLinksPage creates links through the page with a session, clicks
// them, makes one visitor a lead, and checks the list's clicks and leads
// (and its JSON twin's) against the stored events, counted independently;
// then the poster, the CSV, the refusals and the revocation.
func TestLinksPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		c := e.loginAs(t, model.RoleMarketer)
		key := e.marketerKey(t)
		post := func(target string, form url.Values) *http.Response {
			return e.do(t, req{method: http.MethodPost, target: target, form: form, cookies: []*http.Cookie{c}})
		}

		page := bodyOf(t, e.do(t, req{target: "/links?lang=zh-CN", cookies: []*http.Cookie{c}}))
		for _, want := range []string{`<option value="web-1">线上研讨会 (web-1)</option>`, `<option value="wechat">微信公众号 · wechat / social</option>`,
			`<option value="sales@x.cn">`, `id="table-links"`, "还没有推广链接。"} {
			if !strings.Contains(page, want) {
				t.Errorf("links page lacks %q", want)
			}
		}

		// Refused forms say why, in the reader's language, and keep what was typed.
		for _, bad := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"campaign": {""}, "url": {"https://example.cn/x"}}, "链接未生成：campaign is required"},
			{url.Values{"campaign": {"web-1"}, "url": {"javascript:alert(1)"}}, "链接未生成："},
			{url.Values{"campaign": {"web-1"}, "url": {"https://example.cn/x"}, "preset": {"carrier_pigeon"}}, "请从列表中选择渠道"},
			{url.Values{"campaign": {"web-1"}, "url": {"https://example.cn/x"}, "promoter": {"nobody@x.cn"}}, "is not a user"},
		} {
			res := post("/links?lang=zh-CN", bad.form)
			if b := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, bad.want) || !strings.Contains(b, bad.form.Get("url")) {
				t.Errorf("form %v: %d, want 400 with %q", bad.form, res.StatusCode, bad.want)
			}
		}

		// A link shared by an employee, with a hostile card id.
		hostile := `<img src=x onerror=alert(1)>`
		res := post("/links", url.Values{"campaign": {"web-1"}, "url": {"https://example.cn/webinar"}, "preset": {"wechat"},
			"promoter": {"sales@x.cn"}, "card_id": {hostile}})
		m := createdInLocation.FindStringSubmatch(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("create: %d %q %s", res.StatusCode, res.Header.Get("Location"), bodyOf(t, res))
		}
		var l1 model.TrackedLink
		links, _ := s.TrackedLinks(ctx, 0, 10)
		l1 = links[0]
		if l1.UTMSource != "wechat" || l1.UTMMedium != "social" || l1.PromoterEmail != "sales@x.cn" || l1.CardID != hostile {
			t.Fatalf("created %+v", l1)
		}
		body := bodyOf(t, e.do(t, req{target: "/links?created=" + m[1] + "&lang=en", cookies: []*http.Cookie{c}}))
		if strings.Contains(body, hostile) {
			t.Fatal("the card id reached the page unescaped")
		}
		for _, want := range []string{`id="created"`, `src="/r/` + l1.Code + `/qr.svg"`, `href="/r/` + l1.Code + `/qr.png?scale=16" download="revloop-` + l1.Code + `.png"`,
			`href="/links/` + m[1] + `/poster"`} {
			if !strings.Contains(body, want) {
				t.Errorf("created link lacks %q", want)
			}
		}
		l2 := createLink(t, e, key, map[string]string{"campaign": "baidu-1", "url": "https://example.cn/sem"})

		// Two people click the first link, a crawler too; one of them
		// becomes a lead afterwards.
		var aids []string
		for _, ua := range []string{"Mozilla/5.0 Chrome/124.0", "Mozilla/5.0 MicroMessenger", "Mozilla/5.0 (compatible; Googlebot/2.1)"} {
			res := e.do(t, req{target: "/r/" + l1.Code, header: map[string]string{"User-Agent": ua}})
			if res.StatusCode != http.StatusFound {
				t.Fatalf("click: %d", res.StatusCode)
			}
			aids = append(aids, cookieNamed(res, anonCookie).Value)
		}
		wk, err := collect.CreateWriteKey(ctx, s, "www.example.cn")
		if err != nil {
			t.Fatal(err)
		}
		if code := e.collect(t, "/v1/identify", wk.Key, `{"anonymousId":"`+aids[0]+`","traits":{"email":"zhao@client.cn"}}`); code != http.StatusOK {
			t.Fatalf("identify: %d", code)
		}
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}

		// The figures, counted independently from the stored events.
		wantClicks, wantLeads := independentLinkFigures(t, s)
		var rep struct {
			Links []linkReport   `json:"links"`
			Total map[string]int `json:"total"`
		}
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/links/report", key, "", ""), http.StatusOK, &rep)
		if len(rep.Links) != 2 {
			t.Fatalf("report %+v", rep)
		}
		for _, k := range rep.Links {
			if k.Clicks != int64(wantClicks[k.Code]) || k.Leads != int64(wantLeads[k.Code]) {
				t.Errorf("link %s: %d clicks %d leads, want %d and %d", k.Code, k.Clicks, k.Leads, wantClicks[k.Code], wantLeads[k.Code])
			}
		}
		if wantClicks[l1.Code] != 2 || wantLeads[l1.Code] != 1 || rep.Total["clicks"] != 2 || rep.Total["leads"] != 1 {
			t.Errorf("independent %v %v, total %v", wantClicks, wantLeads, rep.Total)
		}
		// The channel shown is the one the clicks were classified as.
		var stored string
		if err := rawDB(t, s).QueryRow(fmt.Sprintf(`SELECT DISTINCT channel FROM touchpoints WHERE link_id = %d`, l1.ID)).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if string(rep.Links[1].Channel) != stored || rep.Links[1].Code != l1.Code {
			t.Errorf("channel shown %s, stored %s", rep.Links[1].Channel, stored)
		}

		// The page shows the same, sorted by clicks; the CSV too.
		body = bodyOf(t, e.do(t, req{target: "/links?lang=en&links_sort=clicks&links_dir=desc", cookies: []*http.Cookie{c}}))
		row := regexp.MustCompile(`(?s)<tr data-link="` + l1.Code + `".*?</tr>`).FindString(body)
		if !strings.Contains(row, `<td data-col="clicks" class="num">2</td><td data-col="leads" class="num">1</td>`) {
			t.Errorf("row of the first link: %s", row)
		}
		if strings.Index(body, `data-link="`+l1.Code+`"`) > strings.Index(body, `data-link="`+l2.Code+`"`) {
			t.Error("sorted by clicks, the clicked link comes first")
		}
		res = e.do(t, req{target: "/links?lang=en&export=links", cookies: []*http.Cookie{c}})
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(bodyOf(t, res)), []byte("\uFEFF")))).ReadAll()
		if err != nil || len(recs) != 4 || recs[0][7] != "Clicks" || recs[3][0] != "Total" || recs[3][7] != "2" || recs[3][8] != "1" {
			t.Fatalf("CSV %q (%v)", recs, err)
		}
		// A range before the links lists none.
		body = bodyOf(t, e.do(t, req{target: "/links?from=2020-01-01&to=2020-01-31", cookies: []*http.Cookie{c}}))
		if strings.Contains(body, `data-link="`) {
			t.Error("links created after the range are listed")
		}

		// The printable poster: escaped, A5, the QR code and the short URL.
		res = e.do(t, req{target: fmt.Sprintf("/links/%d/poster?size=a5&caption=%s&lang=zh-CN", l1.ID, url.QueryEscape("<script>alert(1)</script>")), cookies: []*http.Cookie{c}})
		body = bodyOf(t, res)
		if res.StatusCode != http.StatusOK || strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, `class="poster poster-a5"`) ||
			!strings.Contains(body, `src="/r/`+l1.Code+`/qr.svg"`) || !strings.Contains(body, l1.Code+"</div>") || !strings.Contains(body, "线上研讨会</h1>") {
			t.Errorf("poster: %d %s", res.StatusCode, pageText(body))
		}

		// Revoked: the link, its QR code and its poster answer 404; the
		// list keeps it, marked.
		res = post(fmt.Sprintf("/links/%d/revoke", l1.ID), url.Values{})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", res.StatusCode)
		}
		for _, target := range []string{"/r/" + l1.Code, "/r/" + l1.Code + "/qr.png", fmt.Sprintf("/links/%d/poster", l1.ID)} {
			if res := e.do(t, req{target: target, cookies: []*http.Cookie{c}}); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s after revoking: %d", target, res.StatusCode)
			}
		}
		body = bodyOf(t, e.do(t, req{target: "/links?lang=en&revoked=1", cookies: []*http.Cookie{c}}))
		if !strings.Contains(body, "The link is revoked.") || !strings.Contains(regexp.MustCompile(`(?s)<tr data-link="`+l1.Code+`".*?</tr>`).FindString(body), "Revoked") {
			t.Error("the revoked link is not marked")
		}

		// Roles: the page is the marketers'; the JSON twin too.
		for _, role := range []model.Role{model.RoleSales, model.RoleViewer} {
			if res := e.do(t, req{target: "/links", cookies: []*http.Cookie{e.loginAs(t, role)}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s opened /links: %d", role, res.StatusCode)
			}
		}
		var apiErr apiError
		decodeJSON(t, e.api(t, "/api/v1/links/report"), http.StatusForbidden, &apiErr)
		decodeJSON(t, e.send(t, http.MethodGet, "/api/v1/links/report?from=2026-01-40", key, "", ""), http.StatusBadRequest, &apiErr)
	})
}

// independentLinkFigures counts each link's clicks (the human clicks
// stored as events) and leads (persons who became leads after clicking,
// found through the anonymous ids of the clicks) from the events,
// identities and persons tables, in Go, by link code.
func independentLinkFigures(t *testing.T, s *store.Store) (clicks, leads map[string]int) {
	t.Helper()
	db := rawDB(t, s)
	rows, err := db.Query(`SELECT e.anonymous_id, e.payload, e.ts, e.bot FROM events e JOIN write_keys k ON k.id = e.write_key_id
		WHERE k.name = 'revloop:links' AND e.name = 'Tracked Link Clicked'`)
	if err != nil {
		t.Fatal(err)
	}
	type click struct {
		aid, code string
		at        time.Time
	}
	var list []click
	clicks, leads = map[string]int{}, map[string]int{}
	for rows.Next() {
		var aid, payload string
		var at time.Time
		var bot bool
		if err := rows.Scan(&aid, &payload, &at, &bot); err != nil {
			t.Fatal(err)
		}
		var p struct {
			Properties struct {
				Code string `json:"link_code"`
			} `json:"properties"`
		}
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			t.Fatal(err)
		}
		if !bot {
			clicks[p.Properties.Code]++
			list = append(list, click{aid, p.Properties.Code, at})
		}
	}
	rows.Close()
	for _, cl := range list {
		var leadAt *time.Time
		q := `SELECT p.lead_at FROM identities i JOIN persons p ON p.id = i.person_id WHERE i.type = 'anonymous_id' AND i.value = ?`
		if s.Dialect() != store.SQLite {
			q = strings.Replace(q, "?", "$1", 1)
		}
		err := db.QueryRow(q, cl.aid).Scan(&leadAt)
		if err != nil {
			t.Fatal(err)
		}
		if leadAt != nil && !cl.at.After(*leadAt) {
			leads[cl.code]++ // one click per person here
		}
	}
	return clicks, leads
}
