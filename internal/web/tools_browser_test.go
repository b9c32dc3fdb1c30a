package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestBrowserTools drives headless Chromium through the tool pages as an
// administrator: uploads a cost file through the imports form and waits
// for the progress bar to finish and the figures to show, uploads a file
// with a bad row and reads it by line, creates a tracked link and opens
// its poster, previews a rule change, opens the settings; every page in
// Chinese and in English, without a console error and without asking
// any host but revloop's. With REVLOOP_SCREENSHOT set it saves
// screenshots to /tmp/revloop-tools-*.png.
func TestBrowserTools(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	loadFixture(t, s)
	a := auth.New(s)
	const adminEmail = "admin@example.cn"
	if _, err := a.CreateUser(ctx, adminEmail, "王芳", model.RoleAdmin, testPassword); err != nil {
		t.Fatal(err)
	}
	_, base := serveForBrowser(t, s, a)
	bctx := newBrowser(t, chromium, chromedp.Flag("accept-lang", "zh-CN,zh"), chromedp.WindowSize(1440, 1100))

	watch := watchPage(t, bctx, base)

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tb := newTab(t, bctx)
	run, text, shoot := tb.run, tb.text, tb.shoot

	run("log in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), adminEmail), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("#login-submit")), chromedp.WaitVisible(css("#sidenav")))

	// Upload a cost file through the form; the progress bar finishes and
	// the page shows what the import did.
	dir := t.TempDir()
	good := filepath.Join(dir, "百度-一月.csv")
	if err := os.WriteFile(good, []byte(costFile(120, "百度搜索")), 0o644); err != nil {
		t.Fatal(err)
	}
	run("open imports", chromedp.Navigate(base+"/imports"), chromedp.WaitVisible(css("#import-form")))
	if got := text("h1"); got != "数据导入" {
		t.Errorf("imports title %q", got)
	}
	shoot("imports")
	run("upload", chromedp.SetUploadFiles(css("#import-file"), []string{good}), chromedp.Click(css("#import-submit")),
		chromedp.WaitVisible(css(`#result .job`)))
	run("wait for the import", chromedp.WaitVisible(css(`#result .job[data-state="succeeded"]`)),
		chromedp.WaitVisible(css(`[data-kpi="rows_new"]`)))
	if got := text(`[data-kpi="rows_new"] .kpi-value`); got != "120" {
		t.Errorf("rows imported %q", got)
	}
	if got := text(`#result .job-summary`); !strings.Contains(got, "读取 120 行：新增 120") {
		t.Errorf("summary %q", got)
	}
	if got := text("#result-file"); got != "百度-一月.csv" {
		t.Errorf("file name %q", got)
	}
	shoot("import-done")

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("date,platform,campaign,impressions,clicks,cost\n2026-01-02,baidu,百度搜索,10,1,1.00\n2026-01-03,baidu,百度搜索,10,1,十元\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("upload a bad file", chromedp.SetUploadFiles(css("#import-file"), []string{bad}), chromedp.Click(css("#import-submit")),
		chromedp.WaitVisible(css(`#table-errors`)))
	if got := text(`#table-errors tbody tr td[data-col="line"]`); got != "3" {
		t.Errorf("bad line %q", got)
	}
	if got := text(`#table-errors tbody tr td[data-col="fix"]`); !strings.Contains(got, "「十元」不是以元为单位的金额") {
		t.Errorf("fix %q", got)
	}
	shoot("import-errors")

	// A tracked link, its poster.
	run("open links", chromedp.Navigate(base+"/links"), chromedp.WaitVisible(css("#link-form")),
		chromedp.SetValue(css("#link-campaign"), "web-1"), chromedp.SetValue(css("#link-url"), "https://example.cn/webinar"),
		chromedp.Click(css("#link-submit")), chromedp.WaitVisible(css("#created")))
	shoot("links")
	run("open the poster", chromedp.Click(css(`#created a[href$="/poster"]`)), chromedp.WaitVisible(css("#poster")))
	if got := text("#poster-title"); got != "线上研讨会" {
		t.Errorf("poster title %q", got)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector('.poster-qr').complete && document.querySelector('.poster-qr').naturalWidth > 0`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the poster's QR code did not load: %v", err)
	}
	shoot("poster")

	// A rule change, previewed.
	run("open rules", chromedp.Navigate(base+"/rules?kind=lifecycle"), chromedp.WaitVisible(css("#rules-json")),
		chromedp.SetValue(css("#rules-json"), `{"rules": [{"name": "customers-a", "when": {"stage_in": ["customer"]}, "set": {"grade": "A"}}]}`),
		chromedp.Click(css("#rules-preview")), chromedp.WaitVisible(css("#preview")))
	if got := text(`[data-kpi="preview_grades"] .kpi-value`); got != "1" {
		t.Errorf("grade changes %q", got)
	}
	shoot("rules-preview")
	run("save the rules", chromedp.Click(css("#rules-save")), chromedp.WaitVisible(css(`#apply .job[data-state="succeeded"]`)))
	shoot("rules-applied")

	run("open settings", chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(css("#run-settings")))
	shoot("settings")

	// Every page in both languages.
	for _, lang := range []struct{ code, imports, links, rules, settings string }{
		{"zh-CN", "数据导入", "推广链接与二维码", "规则设置", "系统设置"},
		{"en", "Imports", "Links & QR codes", "Rules", "Settings"},
	} {
		for path, want := range map[string]string{"/imports": lang.imports, "/links": lang.links, "/rules": lang.rules, "/settings": lang.settings} {
			run(path+" in "+lang.code, chromedp.Navigate(base+path+"?lang="+lang.code), chromedp.WaitVisible(css("h1")))
			if got := text("h1"); got != want {
				t.Errorf("%s in %s: title %q, want %q", path, lang.code, got, want)
			}
		}
	}

	watch.check(t)
}
