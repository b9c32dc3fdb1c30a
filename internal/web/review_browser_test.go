package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report/reviewtest"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The review page in a real browser, in both languages: no script error
// and no other host; printed, it drops the navigation, the filters and
// the forms and keeps the title, the facts, the tables and the gaps.
func TestBrowserReview(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	reviewtest.Load(t, s)
	if _, _, err := s.SetCampaignTargets(ctx, reviewtest.Webinar, []model.CampaignTarget{{Metric: "won_revenue", Value: 500000000},
		{Metric: "registrations", Value: 1000}}, nil, reviewtest.Now); err != nil {
		t.Fatal(err)
	}
	a := auth.New(s)
	if _, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
		t.Fatal(err)
	}
	_, base := serveForBrowser(t, s, a)
	bctx := newBrowser(t, chromium, chromedp.WindowSize(1440, 1100))
	watch := watchPage(t, bctx, base)
	tb := newTab(t, bctx)
	run, text := tb.run, tb.text
	run("log in", chromedp.Navigate(base+"/login?next=%2Ftasks"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), testEmail), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#table-tasks")))
	for _, p := range []struct{ lang, gap string }{{"zh-CN", "-93.6%"}, {"en", "-93.6%"}} {
		run(p.lang, chromedp.Navigate(base+"/campaigns/1/review?from=2026-03-01&to=2026-03-31&lang="+p.lang), chromedp.WaitVisible(chromedp.CSS("#gaps")))
		if got := text(`#gaps li[data-metric="won_revenue"] .gap-value`); got != p.gap {
			t.Errorf("%s: won revenue gap %q, want %q", p.lang, got, p.gap)
		}
	}
	if got := text("#review-title"); got != "March webinar" {
		t.Errorf("title %q", got)
	}
	if _, err := chromedp.Call(bctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	shown := func(sel string) bool {
		v, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+"`"+sel+"`"+`); return !!e && e.getClientRects().length > 0; })()`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, sel := range []string{"#sidenav", "#filters", "#targets-form", "#action-form", "#print-review", ".table-tools"} {
		if shown(sel) {
			t.Errorf("printed, %s still shows", sel)
		}
	}
	for _, sel := range []string{"#review-title", "#review-facts", "#table-targets", "#gaps", "#table-funnel", "#table-actions", ".print-only"} {
		if !shown(sel) {
			t.Errorf("printed, %s is hidden", sel)
		}
	}
	if got := text("#review-period"); !strings.Contains(got, "2026") {
		t.Errorf("printed period %q", got)
	}
	time.Sleep(200 * time.Millisecond)
	watch.check(t)
}
