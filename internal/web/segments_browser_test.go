package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestBrowserSegmentBuilder drives the builder as a marketer: the default
// condition shows, a second condition and "any of" change the filter, the
// preview counts who matches (the web fixture: person 2 is an MQL, person
// 3 a visitor), and saving opens the segment; no script fails.
func TestBrowserSegmentBuilder(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	loadFixture(t, s)
	a := auth.New(s)
	if _, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
		t.Fatal(err)
	}
	_, base := serveForBrowser(t, s, a)
	bctx := newBrowser(t, chromium, chromedp.Flag("accept-lang", "zh-CN,zh"), chromedp.WindowSize(1440, 1100))
	watch := watchPage(t, bctx, base)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tb := newTab(t, bctx)
	run, text := tb.run, tb.text

	run("log in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), testEmail), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("#login-submit")), chromedp.WaitVisible(css("#sidenav")))
	run("open the builder", chromedp.Navigate(base+"/segments/new"), chromedp.WaitVisible(css("#segment-builder .seg-row")))
	if got := text("h1"); got != "新建分组" {
		t.Errorf("title %q", got)
	}
	run("add a condition", chromedp.Click(css(".seg-add")), chromedp.WaitVisible(css(".seg-row:nth-of-type(3)")))
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(function () {
		var m = document.querySelector('.seg-mode'); m.value = 'any'; m.dispatchEvent(new Event('change')); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	filter, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('f-filter').value`))
	if err != nil || filter != `{"any":[{"field":"stage","op":"eq","value":"mql"},{"field":"stage","op":"eq","value":"visitor"}]}` {
		t.Fatalf("filter %s %v", filter, err)
	}
	run("preview", chromedp.Click(css("#segment-preview")), chromedp.WaitVisible(css("#preview-count")))
	if got := text("#preview-count"); got != "当前符合：2" {
		t.Errorf("preview %q", got)
	}
	run("save", chromedp.SendKeys(css("#f-name"), "MQL 与访客"), chromedp.Click(css("#segment-save")), chromedp.WaitVisible(css("#members")))
	if got := text("h1"); got != "MQL 与访客" {
		t.Errorf("saved segment title %q", got)
	}
	run("the list", chromedp.Navigate(base+"/segments"), chromedp.WaitVisible(css("#segments-table")))
	if got := text("#segments-table tbody"); !strings.Contains(got, "MQL 与访客") {
		t.Errorf("list %q", got)
	}
	time.Sleep(100 * time.Millisecond)
	watch.check(t)
}
