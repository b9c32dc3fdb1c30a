package web

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/store/storetest"
)

// TestBrowserDemoJourneys opens the demo's live journeys in headless
// Chromium as a marketer would after `make run`: the list, the whitepaper
// nurture with its figures and the ledger of its steps, and a person's
// way through it, found with the page's own form.
func TestBrowserDemoJourneys(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	e := newEventsEnv(t, s)
	_, base := serveForBrowser(t, s, e.auth)
	var pid int64
	if err := s.WriterDB().QueryRowContext(ctx, `SELECT person_id FROM journey_entries e JOIN journeys j ON j.id = e.journey_id
		WHERE j.name LIKE '%Whitepaper%' ORDER BY e.id LIMIT 1`).Scan(&pid); err != nil {
		t.Fatalf("no one entered the demo's whitepaper nurture: %v", err)
	}

	bctx := newBrowser(t, chromium, chromedp.WindowSize(1280, 1000))
	watch := watchPage(t, bctx, base)
	tb := newTab(t, bctx)
	run, text, count, shoot := tb.run, tb.text, tb.count, tb.shoot
	run("log in",
		chromedp.Navigate(base+"/login?next=%2Fjourneys%3Flang%3Den"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), testEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#table-journeys")))
	if n := count("#table-journeys tbody tr"); n != 2 {
		t.Errorf("%d journeys listed, want the demo's 2", n)
	}
	if got := text("#table-journeys"); !strings.Contains(got, "live") || !strings.Contains(got, "Whitepaper Downloaded") {
		t.Errorf("journeys list: %q", got)
	}
	shoot("journeys-en")
	run("open the whitepaper nurture", chromedp.Navigate(base+"/journeys?lang=en"), chromedp.WaitVisible(chromedp.CSS("#table-journeys")))
	js := `(function(){var a=[...document.querySelectorAll('#table-journeys a')].find(function(x){return x.textContent.indexOf('Whitepaper')>=0});if(!a)return false;a.click();return true})()`
	if ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](js)); err != nil || !ok {
		t.Fatalf("no link to the whitepaper nurture: %v", err)
	}
	run("its page", chromedp.WaitVisible(chromedp.CSS("#table-steps")))
	if v := text("#kpi-entered .kpi-value"); v == "" || v == "0" {
		t.Errorf("entered %q", v)
	}
	if n := count("#table-steps tbody tr"); n < 3 {
		t.Errorf("%d step rows", n)
	}
	shoot("journey-demo-en")
	run("a person's way", chromedp.SendKeys(chromedp.CSS("#person-id"), strconv.FormatInt(pid, 10)),
		chromedp.Submit(chromedp.CSS("#person-id")), chromedp.WaitVisible(chromedp.CSS(".timeline")))
	if n := count(".timeline li"); n < 1 {
		t.Errorf("the timeline has %d steps", n)
	}
	shoot("journey-person-en")
	watch.check(t)
}
