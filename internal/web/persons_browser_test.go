package web

import (
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

// personsBrowserEnd is the last day of the small demo the browser tests
// read.
var personsBrowserEnd = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// TestBrowserPersonsAndSales drives headless Chromium through the persons
// list, a person's page (with its timeline and an action) and the sales
// dashboard, in Chinese and in English, over a small demo: no console
// error, no request to another host, every chart drawn. With
// REVLOOP_SCREENSHOT set it saves screenshots to /tmp/revloop-*.png.
func TestBrowserPersonsAndSales(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	if _, err := demo.Generate(ctx, s, demo.Options{Seed: 1, End: personsBrowserEnd, Scale: 0.05}); err != nil {
		t.Fatal(err)
	}
	a := auth.New(s)
	a.Now = func() time.Time { return personsBrowserEnd.Add(10 * time.Hour) }
	if _, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
		t.Fatal(err)
	}
	_, base := serveForBrowser(t, s, a)

	bctx := newBrowser(t, chromium, chromedp.Flag("accept-lang", "zh-CN,zh"), chromedp.WindowSize(1440, 1100))
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	watch := watchPage(t, bctx, base)

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tb := newTab(t, bctx)
	run, text, count, shoot := tb.run, tb.text, tb.count, tb.shoot

	run("log in", chromedp.Navigate(base+"/persons"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), testEmail), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("#login-submit")), chromedp.WaitVisible(css("#table-persons")))

	// The persons list, in Chinese.
	if got := text("h1"); got != "人员" {
		t.Errorf("persons title %q", got)
	}
	if n := count("#table-persons tbody tr"); n != personsPageSize {
		t.Errorf("first page has %d rows, want %d", n, personsPageSize)
	}
	shoot("persons")
	run("next page", chromedp.Click(css("#next-persons")), chromedp.WaitVisible(css("#first-page")))
	run("search by stage", chromedp.Navigate(base+"/persons"), chromedp.WaitVisible(css("#f-stage")),
		chromedp.SetValue(css("#f-stage"), "sql"), chromedp.Click(css("#search-submit")), chromedp.WaitReady(css(`#f-stage option[value="sql"][selected]`)))
	if n := count(`#table-persons tbody td[data-col="stage"]`); n == 0 {
		t.Fatal("no SQL in the demo")
	}
	if got := text(`#table-persons tbody tr:first-child td[data-col="stage"]`); got != "销售认可线索 (SQL)" {
		t.Errorf("stage cell %q", got)
	}

	// A person with a timeline long enough to page.
	run("open a person", chromedp.Click(css(`#table-persons tbody tr:first-child td[data-col="name"] a`)), chromedp.WaitVisible(css("#timeline")))
	before := count("#timeline li.tl")
	if before == 0 {
		t.Fatal("the person's timeline is empty")
	}
	if count("#timeline-more") > 0 {
		run("older items", chromedp.Click(css("#timeline-more")))
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelectorAll('#timeline li.tl').length > `+strconv.Itoa(before), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("the timeline did not grow: %v", err)
		}
	}
	shoot("person")
	// A refused action shows its reason in Chinese, in place.
	if count("#form-reject") > 0 {
		run("reject without reason", chromedp.Click(css("#do-reject")), chromedp.WaitVisible(css("#action-result .alert")))
		if got := text("#action-result .alert"); got != "请填写退回原因。" {
			t.Errorf("refusal %q", got)
		}
	}
	run("move stage with a reason", chromedp.SetValue(css("#move-to"), "nurture"), chromedp.SendKeys(css("#move-reason"), "预算冻结到明年"),
		chromedp.Click(css("#do-move")), chromedp.WaitVisible(css("#done")))
	if got := text("#stage"); got != "培育中" {
		t.Errorf("stage after the move %q", got)
	}

	// The sales dashboard draws its four charts.
	run("sales dashboard", chromedp.Navigate(base+"/dashboards/sales?from=2026-09-01&to=2026-11-25"), chromedp.WaitVisible(css("#table-owners")))
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelectorAll('.chart[data-drawn]').length === 4`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("charts not drawn: %d of %d", count(".chart[data-drawn]"), count(".chart"))
	}
	if got := text("h1"); got != "销售跟进" {
		t.Errorf("sales title %q", got)
	}
	shoot("sales")

	// English.
	run("English", chromedp.Click(css(`.langs a[data-lang="en"]`)), chromedp.WaitReady(css(`html[lang="en"]`)), chromedp.WaitVisible(css("#table-owners")))
	if got := text("h1"); got != "Sales follow-up" {
		t.Errorf("en sales title %q", got)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelectorAll('.chart[data-drawn]').length === 4`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatal("en charts not drawn")
	}
	shoot("sales-en")
	run("persons in English", chromedp.Navigate(base+"/persons"), chromedp.WaitVisible(css("#table-persons")))
	if got := text("h1"); got != "People" {
		t.Errorf("en persons title %q", got)
	}
	run("person in English", chromedp.Click(css(`#table-persons tbody tr:first-child td[data-col="name"] a`)), chromedp.WaitVisible(css("#timeline")))
	if got := text("#timeline-title"); got != "Timeline" {
		t.Errorf("en timeline title %q", got)
	}
	shoot("person-en")

	time.Sleep(200 * time.Millisecond) // let the last console messages arrive
	watch.check(t)
}
