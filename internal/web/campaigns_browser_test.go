package web

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The campaigns and accounts pages in a real browser, in both languages:
// they draw their charts, log no error and ask no other host for
// anything; the form shows its errors and creates a campaign.
func TestBrowserCampaignsAndAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	loadFixture(t, s)
	refreshFigures(t, s, true)
	a := auth.New(s)
	if _, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
		t.Fatal(err)
	}
	_, base := serveForBrowser(t, s, a)
	bctx := newBrowser(t, chromium, chromedp.WindowSize(1440, 1100))

	watch := watchPage(t, bctx, base)
	// The form is sent once with a wrong budget: the page answers 400.
	watch.expected("status of 400 (Bad Request) " + base + "/campaigns")
	tb := newTab(t, bctx)
	run, text := tb.run, tb.text
	run("log in", chromedp.Navigate(base+"/login?next=%2Fcampaigns"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), testEmail), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#table-campaigns")))

	r := "from=2026-01-01&to=2026-03-31"
	for _, p := range []struct{ lang, path, title, chart string }{
		{"zh-CN", "/campaigns?" + r, "营销活动", ""},
		{"en", "/campaigns?" + r, "Campaigns", ""},
		{"zh-CN", "/campaigns/1?" + r, "百度搜索", "#chart-trend[data-drawn]"},
		{"en", "/campaigns/1?" + r, "百度搜索", "#chart-cost-days[data-drawn]"},
		{"zh-CN", "/accounts?" + r, "客户公司", ""},
		{"en", "/accounts/1?" + r, "甲公司", "#chart-touches[data-drawn]"},
		{"zh-CN", "/campaigns/new?parent=", "新建活动", ""},
		{"zh-CN", "/campaigns/2/lift?from=2026-01-10&to=2026-01-11", "人群增益", "#table-strata"},
		{"en", "/campaigns/2/lift?from=2026-01-10&to=2026-01-11", "Cohort lift", "#table-outcomes"},
	} {
		wait := "h1"
		if p.chart != "" {
			wait = p.chart
		}
		run(p.path, chromedp.Navigate(base+p.path+"&lang="+p.lang), chromedp.WaitVisible(chromedp.CSS(wait)))
		if got := text("h1"); !strings.Contains(got, p.title) {
			t.Errorf("%s (%s): title %q", p.path, p.lang, got)
		}
	}
	// The form: a wrong budget and dates are shown beside their fields,
	// then the campaign is created.
	run("bad form", chromedp.Navigate(base+"/campaigns/new?lang=zh-CN"), chromedp.WaitVisible(chromedp.CSS("#f-name")),
		chromedp.SendKeys(chromedp.CSS("#f-name"), "深圳制造业沙龙"),
		chromedp.SendKeys(chromedp.CSS("#f-budget"), "8000.123"),
		chromedp.Click(chromedp.CSS("#campaign-save")), chromedp.WaitVisible(chromedp.CSS("#err-budget")))
	if got := text("#err-budget"); !strings.Contains(got, "两位小数") {
		t.Errorf("budget error %q", got)
	}
	run("good form", chromedp.Clear(chromedp.CSS("#f-budget")), chromedp.SendKeys(chromedp.CSS("#f-budget"), "8000.50"),
		chromedp.Click(chromedp.CSS("#campaign-save")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := text("#campaign-name"); got != "深圳制造业沙龙" {
		t.Errorf("created %q", got)
	}
	if dir := os.Getenv("REVLOOP_SCREENSHOT"); dir != "" {
		for name, path := range map[string]string{"campaigns": "/campaigns?" + r, "campaign": "/campaigns/1?" + r, "accounts": "/accounts?" + r} {
			run(name, chromedp.Navigate(base+path+"&lang=zh-CN"), chromedp.WaitVisible(chromedp.CSS("h1")), chromedp.Sleep(500*time.Millisecond))
			png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile("/tmp/revloop-"+name+".png", png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(200 * time.Millisecond)
	watch.check(t)
}
