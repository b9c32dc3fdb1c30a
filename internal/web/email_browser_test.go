package web

import (
	netmail "net/mail"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/message/smtpsink"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestBrowserEmail drives headless Chromium through the email page as an
// administrator: a refused SMTP setting shows why beside the form, a good
// one is saved, the test email reaches the SMTP server; then, as the
// recipient, the email's unsubscribe link asks first and unsubscribes on
// the button. No console error, no request to another host. With
// REVLOOP_SCREENSHOT set it saves /tmp/revloop-email-*.png.
func TestBrowserEmail(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := storetest.SQLite(t)
	a := auth.New(s)
	const adminEmail = "admin@example.cn"
	if _, err := a.CreateUser(ctx, adminEmail, "王芳", model.RoleAdmin, testPassword); err != nil {
		t.Fatal(err)
	}
	_, base := serveForBrowser(t, s, a)
	k := smtpsink.New(t)
	bctx := newBrowser(t, chromium, chromedp.Flag("accept-lang", "zh-CN,zh"), chromedp.WindowSize(1300, 1100))
	watch := watchPage(t, bctx, base)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tb := newTab(t, bctx)
	run, text, shoot := tb.run, tb.text, tb.shoot

	run("log in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), adminEmail), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("#login-submit")), chromedp.WaitVisible(css("#sidenav")))
	run("open the email page", chromedp.Navigate(base+"/settings/email"), chromedp.WaitVisible(css("#smtp-form")))
	if got := text("h1"); got != "邮件" {
		t.Errorf("title %q", got)
	}
	run("a bad sender", chromedp.SetValue(css("#smtp-host"), "127.0.0.1"), chromedp.SetValue(css("#smtp-port"), strconv.Itoa(k.Port)),
		chromedp.SetValue(css("#smtp-tls"), "none"), chromedp.SetValue(css("#smtp-from"), "nobody"),
		chromedp.Click(css("#smtp-save")), chromedp.WaitVisible(css("#smtp-error")))
	if got := text("#smtp-error"); !strings.Contains(got, "email.smtp from") {
		t.Errorf("error %q", got)
	}
	watch.expected("400")
	run("save", chromedp.SetValue(css("#smtp-from"), "市场部 <news@revloop.example>"), chromedp.Click(css("#smtp-save")), chromedp.WaitVisible(css(`#email-notice[data-done="saved"]`)))
	shoot("email-settings")
	run("send a test", chromedp.SendKeys(css("#test-to"), "me@example.cn"), chromedp.Click(css("#test-send")),
		chromedp.WaitVisible(css(`#email-notice[data-done="sent"], #test-error`)))
	if got := text("#email-notice"); !strings.Contains(got, "测试邮件") {
		t.Errorf("notice %q", got)
	}
	k.Mu.Lock()
	msgs := append([]string(nil), k.Msgs...)
	k.Mu.Unlock()
	if len(msgs) != 1 {
		t.Fatalf("%d messages reached the server", len(msgs))
	}
	m, err := netmail.ReadMessage(strings.NewReader(msgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	unsub := strings.Trim(m.Header.Get("List-Unsubscribe"), "<>")
	if !strings.HasPrefix(unsub, base+"/u/") {
		t.Fatalf("List-Unsubscribe %q not on %s", unsub, base)
	}
	run("open the unsubscribe link", chromedp.Navigate(unsub), chromedp.WaitVisible(css("#unsubscribe-confirm")))
	shoot("email-unsubscribe")
	run("confirm", chromedp.Click(css("#unsubscribe-confirm")), chromedp.WaitVisible(css("#unsubscribed")))
	if got := text("h1"); got != "已退订" {
		t.Errorf("after confirming: %q", got)
	}
	watch.check(t)
}
