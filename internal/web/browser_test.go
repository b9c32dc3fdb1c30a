package web

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// chromiumPath finds a Chromium to drive, or skips (fails on CI, where the
// chromium package is installed).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("REVLOOP_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required on CI: apt-get install chromium")
	}
	t.Skip("Chromium not found (apt-get install chromium); set CI=true to fail instead")
	return ""
}

// TestBrowserLoginOverviewLanguageLogout drives a real headless Chromium
// against the real server: log in through the form, land on the marketing
// dashboard, read it, filter it, switch language, log out. With REVLOOP_SCREENSHOT set it saves
// screenshots to /tmp/revloop-*.png.
func TestBrowserLoginOverviewLanguageLogout(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	loadFixture(t, s)
	refreshDerived(t, s)
	a := auth.New(s)
	if _, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
		t.Fatal(err)
	}
	_, base := serveForBrowser(t, s, a)

	bctx := newBrowser(t, chromium, chromedp.Flag("accept-lang", "zh-CN,zh"), chromedp.WindowSize(1440, 1100))

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tb := newTab(t, bctx)
	run, text, shoot := tb.run, tb.text, tb.shoot
	location := func() string {
		t.Helper()
		loc, err := chromedp.Run(bctx, chromedp.Location())
		if err != nil {
			t.Fatalf("location: %v", err)
		}
		return loc
	}

	// An anonymous visit lands on the login page, in Chinese.
	run("open overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#email")))
	if loc := location(); loc != base+"/login?next=%2F" {
		t.Fatalf("anonymous visit went to %s", loc)
	}
	if got := text("h1"); got != "登录" {
		t.Fatalf("login title %q", got)
	}
	shoot("login")

	run("wrong password",
		chromedp.SendKeys(css("#email"), testEmail),
		chromedp.SendKeys(css("#password"), "not the password"),
		chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css("#login-error")))
	if got := text("#login-error"); !strings.Contains(got, "邮箱或密码错误") {
		t.Fatalf("wrong password message %q", got)
	}

	run("log in",
		chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css("#kpi-won_revenue")))
	if loc := location(); loc != base+"/dashboards/marketing" {
		t.Fatalf("after login at %s, want the marketing dashboard", loc)
	}
	// The session cookie is Secure and Chromium kept it on http://127.0.0.1,
	// which it treats as a secure context: that is why the login worked.
	cookies, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax {
		t.Fatalf("session cookie in the browser: %+v", session)
	}

	// From here on no page fails a script or reaches another host (the
	// wrong password's 401 above is logged by the browser as an error).
	watch := watchPage(t, bctx, base)
	// The fixture's quarter.
	run("open the quarter", chromedp.Navigate(base+"/dashboards/marketing?from=2026-01-01&to=2026-03-31"), chromedp.WaitVisible(css("#kpi-won_revenue")))
	waitCharts(t, bctx, 3)
	lang, err := chromedp.Run(bctx, chromedp.AttributeValue(css("html"), "lang"))
	if err != nil || lang.Value != "zh-CN" {
		t.Errorf("html lang %+v, %v", lang, err)
	}
	want := map[string]string{
		"h1":                               "营销看板",
		"#kpi-won_revenue .kpi-value":      "¥500,000.00",
		"#kpi-spend .kpi-value":            "¥2,234.56",
		"#kpi-pipeline_created .kpi-value": "¥500,000.00",
		"#kpi-roas .kpi-value":             "223.76×",
		"#kpi-leads .kpi-value":            "2",
		"#kpi-win_rate .kpi-value":         "100.0%",
		`#table-funnel tbody tr:nth-child(1) td[data-col="count"]`:     "2",
		`#table-funnel tbody tr:nth-child(3) td[data-col="rate"]`:      "50.0%",
		`#table-funnel tfoot td[data-col="rate"]`:                      "50.0%",
		`#table-channels tbody tr:nth-child(1) td[data-col="channel"]`: "付费搜索",
		`nav.sidenav a[aria-current="page"]`:                           "市场总览",
		".user":                                                        testEmail,
	}
	for sel, w := range want {
		if got := text(sel); got != w {
			t.Errorf("%s = %q, want %q", sel, got, w)
		}
	}
	shoot("marketing")

	// Filter from January 12: one person became a lead from then on.
	run("filter",
		chromedp.SetValue(css(`input[name="from"]`), "2026-01-12"),
		chromedp.Submit(css(`form.filters`)),
		chromedp.WaitVisible(css(`input[name="from"][value="2026-01-12"]`)))
	if loc := location(); !strings.Contains(loc, "from=2026-01-12") || !strings.Contains(loc, "to=2026-03-31") {
		t.Fatalf("filter went to %s", loc)
	}
	if got := text(`#table-funnel tbody tr:nth-child(1) td[data-col="count"]`); got != "1" {
		t.Errorf("filtered leads %q", got)
	}

	// Switch to English; the choice sticks on the next visit.
	run("switch to English",
		chromedp.Click(css(`.langs a[data-lang="en"]`)),
		chromedp.WaitReady(css(`html[lang="en"]`)))
	for sel, w := range map[string]string{
		"h1": "Marketing dashboard",
		`#table-channels tbody tr:nth-child(1) td[data-col="channel"]`: "Paid search",
		"#range":  "2026-01-12 – 2026-03-31 · attribution: Linear",
		"#logout": "Log out",
	} {
		if got := text(sel); got != w {
			t.Errorf("en %s = %q, want %q", sel, got, w)
		}
	}
	run("reload", chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#kpi-won_revenue")))
	if got := text("h1"); got != "Marketing dashboard" {
		t.Errorf("language not remembered: %q", got)
	}
	shoot("marketing-en")
	watch.check(t)

	run("log out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#email")))
	if loc := location(); loc != base+"/login" {
		t.Fatalf("after logout at %s", loc)
	}
	if got := text("h1"); got != "Sign in" {
		t.Errorf("login title after logout %q", got)
	}
	run("dashboard after logout", chromedp.Navigate(base+"/dashboards/marketing"), chromedp.WaitVisible(css("#email")))
	if loc := location(); !strings.HasPrefix(loc, base+"/login") {
		t.Fatalf("dashboard after logout at %s", loc)
	}
}

// serveForBrowser runs the real server on a free loopback port until the
// test ends and returns it with its base URL.
func serveForBrowser(t *testing.T, s *store.Store, a *auth.Service) (*Server, string) {
	t.Helper()
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(sctx, "127.0.0.1:0", func(u string) { urls <- u }) }()
	select {
	case base := <-urls:
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("server: %v", err)
			}
		})
		return srv, base
	case err := <-done:
		stop()
		t.Fatalf("server: %v", err)
		return nil, ""
	}
}

// newBrowser starts headless Chromium with the flags this machine needs
// (root: no sandbox; a closed network: no background connections) and a
// fresh profile, for at most 90 s.
func newBrowser(t *testing.T, chromium string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(opts, extra...)...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	bctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	return bctx
}

// tab is a browser tab of a test, with the steps the browser tests share.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func newTab(t *testing.T, bctx context.Context) tab { return tab{t: t, ctx: bctx} }

// run does the actions of one step, failing the test with the step's name.
func (b tab) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// text is the trimmed text of the first element sel matches.
func (b tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// count is how many elements sel matches.
func (b tab) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// shoot saves a screenshot of the whole page as /tmp/revloop-<name>.png
// when REVLOOP_SCREENSHOT is set.
func (b tab) shoot(name string) {
	b.t.Helper()
	if os.Getenv("REVLOOP_SCREENSHOT") == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	path := "/tmp/revloop-" + name + ".png"
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}
