package web

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/store/storetest"
)

// TestBrowserReviews drives headless Chromium through the reviews on a
// small demo: the promotion leaderboard by employee and by team, "my
// share link" in two clicks (the link with its QR code, then the poster),
// and the content review of one asset — with no script error or refused
// resource on the way.
func TestBrowserReviews(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	e := newEventsEnv(t, s)
	_, base := serveForBrowser(t, s, e.auth)

	bctx := newBrowser(t, chromium, chromedp.WindowSize(1440, 1000))
	watch := watchPage(t, bctx, base)
	tb := newTab(t, bctx)
	run, text, count, shoot := tb.run, tb.text, tb.count, tb.shoot

	run("log in",
		chromedp.Navigate(base+"/login?next="+url.QueryEscape("/reviews/promotion?"+dashRange+"&lang=zh-CN")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), testEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#table-employees")))
	if got := text("h1"); got != "全员营销排行榜" {
		t.Errorf("leaderboard title %q", got)
	}
	if n := count("#table-employees tbody tr"); n < 10 {
		t.Errorf("%d employees on the leaderboard", n)
	}
	if v := text("#kpi-leads .kpi-value"); v == "" || v == "0" {
		t.Errorf("leads KPI %q", v)
	}
	shoot("promotion-zh-CN")
	run("by team", chromedp.Click(chromedp.CSS(`a[data-by="team"]`)), chromedp.WaitVisible(chromedp.CSS("#table-teams")))
	if n := count("#table-teams tbody tr"); n < 3 {
		t.Errorf("%d teams", n)
	}
	shoot("promotion-teams-zh-CN")

	// My share link: pick a campaign, one click, then the poster.
	// (Loaded afresh: the team view's navigation can still be settling
	// its document, which leaves the form's node stale.)
	run("share", chromedp.Navigate(base+"/reviews/promotion?"+dashRange+"&lang=zh-CN&by=team"), chromedp.WaitVisible(chromedp.CSS("#share-campaign")),
		chromedp.SetValue(chromedp.CSS("#share-campaign"), "1"), chromedp.Click(chromedp.CSS("#share-submit")),
		chromedp.WaitVisible(chromedp.CSS("#shown")))
	if got := text("#shown-url"); !strings.Contains(got, "/r/") {
		t.Errorf("share link %q", got)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector('#shown-qr').complete && document.querySelector('#shown-qr').naturalWidth > 0`)); err != nil {
		t.Errorf("the QR code did not load: %v", err)
	}
	shoot("my-links-zh-CN")
	run("poster", chromedp.Click(chromedp.CSS("#shown-poster")), chromedp.WaitVisible(chromedp.CSS("img")))
	shoot("share-poster-zh-CN")

	run("content review", chromedp.Navigate(base+"/reviews/content?"+dashRange+"&lang=en"), chromedp.WaitVisible(chromedp.CSS("#table-assets")))
	if got := text("h1"); got != "Content review" {
		t.Errorf("content review title %q", got)
	}
	// Most downloaders first, as the table opens.
	run("open an asset", chromedp.Click(chromedp.CSS(`#table-assets tbody tr:first-child td[data-col="title"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#asset-scope")))
	if n := count("#table-industries tbody tr"); n < 2 {
		t.Errorf("%d industries of the asset's downloaders", n)
	}
	shoot("content-review-en")
	watch.check(t)
}
