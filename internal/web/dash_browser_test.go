package web

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/store/storetest"
)

// pageWatch records what a browser tab did that a page must not: script
// errors, console errors and warnings, log entries of those levels (a
// refused inline script or style, a blocked resource among them) and
// requests to any other host.
type pageWatch struct {
	base    string
	mu      sync.Mutex
	errors  []string
	foreign []string
	expect  []string // errors a test causes on purpose (parts of their text)
}

// expected says that errors containing part are the test's own doing,
// e.g. a form it submits wrong on purpose.
func (w *pageWatch) expected(part string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expect = append(w.expect, part)
}

func watchPage(t *testing.T, bctx context.Context, base string) *pageWatch {
	t.Helper()
	w := &pageWatch{base: base}
	err := chromedp.Listen(bctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			w.errors = append(w.errors, "exception: "+e.ExceptionDetails.Text+" "+e.ExceptionDetails.URL)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				w.errors = append(w.errors, "console "+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				w.errors = append(w.errors, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			u := e.Request.URL
			if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") && u != base {
				w.foreign = append(w.foreign, u)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// The log domain reports what the console API does not, such as a
	// resource the Content-Security-Policy refused.
	if _, err := chromedp.Call(bctx, log.Enable, struct{}{}); err != nil {
		t.Fatal(err)
	}
	return w
}

// check fails the test for anything recorded so far.
func (w *pageWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
next:
	for _, e := range w.errors {
		for _, part := range w.expect {
			if strings.Contains(e, part) {
				continue next
			}
		}
		t.Errorf("browser: %s", e)
	}
	for _, u := range w.foreign {
		t.Errorf("request to another host: %s", u)
	}
}

// waitCharts waits until n charts are drawn on the page.
func waitCharts(t *testing.T, bctx context.Context, n int) {
	t.Helper()
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelectorAll('.chart[data-drawn] svg').length >= `+strconv.Itoa(n), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		drawn, _ := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('.chart[data-drawn]').length`))
		t.Fatalf("%d charts drawn, want %d: %v", drawn, n, err)
	}
}

// Both dashboards open in Chinese and English over the demo data, draw
// their charts, drill down by their links and never fail a script or
// reach another host.
func TestBrowserDashboards(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	e := newDemoEnv(t, s)
	_, base := serveForBrowser(t, s, e.auth)
	bctx := newBrowser(t, chromium, chromedp.Flag("accept-lang", "zh-CN,zh"), chromedp.WindowSize(1440, 1100))
	watch := watchPage(t, bctx, base)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tb := newTab(t, bctx)
	run, text, shoot := tb.run, tb.text, tb.shoot
	run("log in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), testEmail), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("#login-submit")), chromedp.WaitVisible(css("#kpi-pipeline_created")))

	const rng = "from=2026-01-01&to=2026-06-30"
	for _, lang := range []string{"zh-CN", "en"} {
		run("marketing "+lang, chromedp.Navigate(base+"/dashboards/marketing?"+rng+"&lang="+lang), chromedp.WaitVisible(css("#kpi-pipeline_created")))
		waitCharts(t, bctx, 3)
		h1 := map[string]string{"zh-CN": "营销看板", "en": "Marketing dashboard"}[lang]
		if got := text("h1"); got != h1 {
			t.Errorf("%s h1 %q", lang, got)
		}
		if got := text("#kpi-pipeline_created .kpi-value"); !strings.HasPrefix(got, "¥") || got == "¥0.00" {
			t.Errorf("%s pipeline created %q", lang, got)
		}
		shoot("dash-marketing-" + lang)

		run("ads "+lang, chromedp.Navigate(base+"/dashboards/ads?"+rng+"&lang="+lang), chromedp.WaitVisible(css("#kpi-spend")))
		waitCharts(t, bctx, 1)
		if got := text(`#crumbs [aria-current="page"]`); got != map[string]string{"zh-CN": "全部平台", "en": "All platforms"}[lang] {
			t.Errorf("%s path %q", lang, got)
		}
		shoot("dash-ads-" + lang)
	}

	// Drill down by the links: the top platform, its top campaign, its
	// top ad group.
	for i, level := range []string{"campaign", "ad_group", "keyword"} {
		run("drill to "+level, chromedp.Click(css(`#table-rows tbody tr:first-child td[data-col="name"] a`)),
			chromedp.WaitVisible(css(`#crumbs li:nth-child(`+strconv.Itoa(i+2)+`) [aria-current="page"]`)))
		waitCharts(t, bctx, 1)
		heading := map[string]string{"campaign": "Campaigns", "ad_group": "Ad groups", "keyword": "Keywords"}[level]
		if got := text("#rows-title"); got != heading {
			t.Errorf("drilled to %s: heading %q", level, got)
		}
	}
	shoot("dash-ads-keywords")
	run("back to all platforms", chromedp.Click(css(`#crumbs li:first-child a`)), chromedp.WaitVisible(css(`#crumbs li:first-child [aria-current="page"]`)))
	run("weekly trend", chromedp.Click(css(`.seg a[data-grain="week"]`)), chromedp.WaitVisible(css(`.seg a[data-grain="week"].current`)))
	waitCharts(t, bctx, 1)
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#table-trend tbody tr').length`)); err != nil || n < 25 {
		t.Errorf("weekly trend rows %d (%v)", n, err)
	}
	watch.check(t)
}
