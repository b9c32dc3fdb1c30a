package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestBrowserSDKFromTrackedLinkToFormFill drives headless Chromium through
// what a buyer does: clicks a tracked link (revloop redirects it, adding
// UTM and its anonymous id), lands on a web site of another origin that
// loads the SDK from revloop, fills a form and lands on a thank-you page.
// The events table must then hold the click, the page views with UTM, and
// the identify and "Form Submitted" track, all with one anonymous id; the
// browser must have asked no host but the two on this machine.
func TestBrowserSDKFromTrackedLinkToFormFill(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	loadFixture(t, s)
	a := auth.New(s)
	srv, base := serveForBrowser(t, s, a)
	wk, err := collect.CreateWriteKey(ctx, s, "www")
	if err != nil {
		t.Fatal(err)
	}

	// The customer's web site, on another port: another origin.
	page := func(title, body string) string {
		return `<!doctype html><html><head><meta charset="utf-8"><title>` + title + `</title>` +
			Snippet(base, wk.Key) + `</head><body>` + body + `</body></html>`
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/landing":
			fmt.Fprint(w, page("Landing", `<h1>白皮书下载</h1>
<form id="lead" name="whitepaper" action="/thanks" method="get">
  <label>邮箱 <input type="email" id="email" name="email"></label>
  <label>手机 <input type="tel" id="phone" name="mobile"></label>
  <label>公司 <input id="company" name="company"></label>
  <label>姓名 <input id="name" name="name"></label>
  <input type="password" name="password" value="secret-never-sent">
  <button type="submit" id="go" name="action" value="download">下载</button>
</form>`))
		case "/thanks":
			fmt.Fprint(w, page("Thanks", `<h1 id="thanks">谢谢</h1>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)

	var l linkJSON
	{
		e := &env{store: s, auth: a, srv: srv, h: srv.Handler()}
		key, _, err := a.CreateAPIKey(ctx, "m", "marketer")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]string{"campaign": "baidu-1", "url": site.URL + "/landing?bd_vid=bd-click-42",
			"utm_source": "baidu", "utm_medium": "cpc", "utm_campaign": "brand-2026"})
		decodeJSON(t, e.send(t, http.MethodPost, "/api/v1/links", key, "application/json", string(b)), http.StatusCreated, &l)
	}

	bctx := newBrowser(t, chromium)

	var mu sync.Mutex
	var requested []string
	if err := chromedp.Listen(bctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	run("click the tracked link", chromedp.Navigate(base+"/r/"+l.Code), chromedp.WaitVisible(chromedp.CSS("#email")))
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(loc, site.URL+"/landing?bd_vid=bd-click-42&utm_source=baidu&utm_medium=cpc&utm_campaign=brand-2026&rl_aid=") {
		t.Fatalf("landed on %s (%v)", loc, err)
	}
	linkAID := loc[strings.Index(loc, "rl_aid=")+len("rl_aid="):]
	// The SDK has loaded and adopted the link's anonymous id.
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`window.revloop && typeof window.revloop.touches === 'function' && localStorage.getItem('ajs_anonymous_id') !== null`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("SDK did not start: %v", err)
	}
	run("fill the form",
		chromedp.SendKeys(chromedp.CSS("#email"), "Li.Na@Example-Mfg.cn"),
		chromedp.SendKeys(chromedp.CSS("#phone"), "13800138000"),
		chromedp.SendKeys(chromedp.CSS("#company"), "示例制造"),
		chromedp.SendKeys(chromedp.CSS("#name"), "李娜"),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS("#thanks")))
	loc, _ = chromedp.Run(bctx, chromedp.Location())
	if !strings.Contains(loc, "/thanks?") || !strings.Contains(loc, "email=Li.Na%40Example-Mfg.cn") || !strings.Contains(loc, "action=download") {
		t.Errorf("the form was not submitted as the browser would have: %s", loc)
	}
	touches, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]any](`window.revloop ? window.revloop.touches() : null`))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := touches["first"].(map[string]any)
	if first["utm_campaign"] != "brand-2026" || first["click_id_type"] != "bd_vid" || first["click_id"] != "bd-click-42" {
		t.Errorf("first touch in storage: %v", touches)
	}

	// Events arrive through the collector's group commit: wait for them.
	type row struct{ typ, name, anon, campaign, source, clickID, url, payload string }
	var rows []row
	deadline := time.Now().Add(20 * time.Second)
	db := rawDB(t, s)
	for {
		rows = rows[:0]
		rs, err := db.Query("SELECT type, name, anonymous_id, campaign, source, click_id, url, payload FROM events ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.typ, &r.name, &r.anon, &r.campaign, &r.source, &r.clickID, &r.url, &r.payload); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r)
		}
		rs.Close()
		if len(rows) >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	find := func(typ, name, urlPart string) *row {
		for i := range rows {
			if rows[i].typ == typ && (name == "" || rows[i].name == name) && strings.Contains(rows[i].url+rows[i].payload, urlPart) {
				return &rows[i]
			}
		}
		return nil
	}
	click := find("track", "Tracked Link Clicked", "")
	landing := find("page", "", "/landing")
	thanks := find("page", "", "/thanks")
	identify := find("identify", "", "")
	form := find("track", "Form Submitted", "")
	if click == nil || landing == nil || thanks == nil || identify == nil || form == nil {
		for _, r := range rows {
			t.Logf("event %s %q anon=%s campaign=%s url=%s", r.typ, r.name, r.anon, r.campaign, r.url)
		}
		t.Fatalf("missing events: click %v, landing page %v, thanks page %v, identify %v, form %v", click != nil, landing != nil, thanks != nil, identify != nil, form != nil)
	}
	for _, r := range []*row{click, landing, thanks, identify, form} {
		if r.anon != linkAID {
			t.Errorf("%s %s has anonymous id %s, want the link's %s", r.typ, r.name, r.anon, linkAID)
		}
	}
	if click.clickID != "bd-click-42" || click.campaign != "brand-2026" {
		t.Errorf("link click: campaign %q click id %q", click.campaign, click.clickID)
	}
	if landing.campaign != "brand-2026" || landing.source != "baidu" || landing.clickID != "bd-click-42" {
		t.Errorf("landing page view: campaign %q source %q click id %q", landing.campaign, landing.source, landing.clickID)
	}
	// The thank-you page has no UTM in its URL: the last touch from storage gives it.
	if thanks.campaign != "brand-2026" || !strings.Contains(thanks.payload, `"first_touch"`) {
		t.Errorf("thanks page view: campaign %q payload %s", thanks.campaign, thanks.payload)
	}
	if !strings.Contains(identify.payload, `"email":"Li.Na@Example-Mfg.cn"`) || !strings.Contains(identify.payload, `"phone":"13800138000"`) ||
		!strings.Contains(identify.payload, `"company":"示例制造"`) || strings.Contains(identify.payload, "secret-never-sent") {
		t.Errorf("identify payload %s", identify.payload)
	}
	if !strings.Contains(form.payload, `"form_id":"lead"`) || strings.Contains(form.payload, "secret-never-sent") {
		t.Errorf("form payload %s", form.payload)
	}

	mu.Lock()
	defer mu.Unlock()
	allowed := map[string]bool{}
	for _, u := range []string{base, site.URL} {
		pu, _ := url.Parse(u)
		allowed[pu.Host] = true
	}
	for _, u := range requested {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "data" && !allowed[pu.Host]) {
			t.Errorf("the browser asked another host: %s", u)
		}
	}
	if len(requested) < 5 {
		t.Errorf("saw only %d requests: %v", len(requested), requested)
	}
}
