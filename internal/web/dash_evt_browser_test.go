package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/store/storetest"
)

// TestBrowserEventsAndContent opens the events and content dashboards in
// headless Chromium, in Chinese and in English: every chart is drawn,
// the drill-down into an event works, nothing is logged as an error and
// no request leaves the server's host. With REVLOOP_SCREENSHOT set it
// saves screenshots to /tmp/revloop-*.png.
func TestBrowserEventsAndContent(t *testing.T) {
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
	// drawn waits until every chart of the page is drawn and says how many.
	drawn := func() int {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelectorAll('.chart').length > 0 &&
			document.querySelectorAll('.chart').length === document.querySelectorAll('.chart[data-drawn]').length &&
			Array.from(document.querySelectorAll('.chart[data-drawn] svg')).length === document.querySelectorAll('.chart').length`,
			chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			t.Fatalf("charts not drawn: %d of %d", count(".chart[data-drawn]"), count(".chart"))
		}
		return count(".chart[data-drawn]")
	}

	run("log in",
		chromedp.Navigate(base+"/login?next="+url.QueryEscape("/dashboards/events?"+dashRange+"&lang=zh-CN")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), testEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#table-events")))

	for _, lang := range []struct {
		code, events, content, detailBack string
	}{
		{"zh-CN", "活动运营", "内容运营", "返回全部活动"},
		{"en", "Events", "Content", "Back to all events"},
	} {
		run("events in "+lang.code, chromedp.Navigate(base+"/dashboards/events?"+dashRange+"&lang="+lang.code), chromedp.WaitVisible(chromedp.CSS("#table-events")))
		if got := text("h1"); got != lang.events {
			t.Errorf("%s events title %q", lang.code, got)
		}
		if n := drawn(); n != 3 {
			t.Errorf("%s events: %d charts drawn, want 3", lang.code, n)
		}
		if n := count("#table-events tbody tr"); n < 10 {
			t.Errorf("%s events: %d rows", lang.code, n)
		}
		if v := text("#kpi-registrations .kpi-value"); v == "" || v == "0" {
			t.Errorf("%s registrations KPI %q", lang.code, v)
		}
		shoot("events-" + lang.code)

		// Sort by leads, then open the first event.
		run("sort by leads", chromedp.Click(chromedp.CSS(`#table-events th[data-col="leads"] a`)), chromedp.WaitVisible(chromedp.CSS(`#table-events th[data-col="leads"][aria-sort]`)))
		drawn()
		run("open an event", chromedp.Click(chromedp.CSS(`#table-events tbody tr:first-child td[data-col="name"] a`)), chromedp.WaitVisible(chromedp.CSS("#event")))
		if n := drawn(); n != 5 {
			t.Errorf("%s event detail: %d charts drawn, want 5", lang.code, n)
		}
		if got := text("#event-close"); got != lang.detailBack {
			t.Errorf("%s close link %q", lang.code, got)
		}
		href, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS("#event-campaign"), "href"))
		if err != nil || !strings.HasPrefix(href.Value, "/campaigns/") {
			t.Errorf("%s campaign link %+v (%v)", lang.code, href, err)
		}
		shoot("event-" + lang.code)
		run("back to all events", chromedp.Click(chromedp.CSS("#event-close")), chromedp.WaitNotPresent(chromedp.CSS("#event")),
			chromedp.WaitVisible(chromedp.CSS("#table-events")))

		run("content in "+lang.code, chromedp.Navigate(base+"/dashboards/content?"+dashRange+"&lang="+lang.code), chromedp.WaitVisible(chromedp.CSS("#table-assets")))
		if got := text("h1"); got != lang.content {
			t.Errorf("%s content title %q", lang.code, got)
		}
		if n := drawn(); n != 3 {
			t.Errorf("%s content: %d charts drawn, want 3", lang.code, n)
		}
		if v := text("#kpi-downloads .kpi-value"); v == "" || v == "0" {
			t.Errorf("%s downloads KPI %q", lang.code, v)
		}
		shoot("content-" + lang.code)

		// The model switch keeps the range.
		run("switch model", chromedp.SetValue(chromedp.CSS("#filter-model"), "first"), chromedp.Submit(chromedp.CSS("#filters")),
			chromedp.WaitReady(chromedp.CSS(`#filter-model option[value="first"][selected]`)))
		loc, _ := chromedp.Run(bctx, chromedp.Location())
		if !strings.Contains(loc, "model=first") || !strings.Contains(loc, "from=2025-11-26") {
			t.Errorf("%s model switch went to %s", lang.code, loc)
		}
		drawn()
	}

	watch.check(t)
}
