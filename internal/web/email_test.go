package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/message/smtpsink"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// emailEnv is a server over persons with addresses, an admin and a
// marketer key, and a secret key.
type emailEnv struct {
	*env
	admin, marketer string
	box             *secret.Box
}

func newEmailEnv(t *testing.T, s *store.Store, withBox bool) *emailEnv {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		if err := l.Insert("users", []string{"id", "email", "name", "role", "created_at"}, [][]any{{int64(1), "owner@x.cn", "王芳", "sales", day0}}); err != nil {
			return err
		}
		if err := l.Insert("accounts", []string{"id", "name", "owner_id", "created_at"}, [][]any{{int64(1), "甲公司", int64(1), day0}}); err != nil {
			return err
		}
		if err := l.Insert("persons", []string{"id", "account_id", "name", "email", "stage", "first_seen_at", "created_at"}, [][]any{
			{int64(1), int64(1), "Lei Li", "li.lei@jia.cn", "lead", day0, day0},
			{int64(2), int64(1), "韩梅梅", "han@jia.cn", "lead", day0, day0}}); err != nil {
			return err
		}
		return l.Insert("identities", []string{"type", "value", "person_id", "created_at"}, [][]any{
			{"email", "li.lei@jia.cn", int64(1), day0}, {"email", "han@jia.cn", int64(2), day0}})
	})
	if err != nil {
		t.Fatal(err)
	}
	a := auth.New(s)
	if _, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleAdmin, testPassword); err != nil {
		t.Fatal(err)
	}
	viewer, _, err := a.CreateAPIKey(ctx, "viewer", model.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	admin, _, _ := a.CreateAPIKey(ctx, "admin", model.RoleAdmin)
	marketer, _, _ := a.CreateAPIKey(ctx, "marketer", model.RoleMarketer)
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e := &emailEnv{env: &env{store: s, auth: a, srv: srv, h: srv.Handler(), key: viewer}, admin: admin, marketer: marketer}
	if withBox {
		e.box, _ = secret.New(bytes.Repeat([]byte{3}, secret.KeySize))
		srv.app.Secrets = e.box
		srv.app.Email = message.NewEmailSender(message.EmailOptions{Store: s, Secrets: e.box, Timeout: 5 * time.Second})
	}
	if err := s.SetSetting(ctx, SettingPublicURL, "https://m.example.cn"); err != nil {
		t.Fatal(err)
	}
	return e
}

// call sends a JSON body with a key.
func (e *emailEnv) call(t *testing.T, method, target, key, body string) *http.Response {
	t.Helper()
	hr := httptest.NewRequest(method, target, strings.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	if key != "" {
		hr.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec.Result()
}

func wantError(t *testing.T, res *http.Response, code int, contains string) {
	t.Helper()
	var body struct{ Error string }
	decodeJSON(t, res, code, &body)
	if !strings.Contains(body.Error, contains) {
		t.Errorf("error %q does not say %q", body.Error, contains)
	}
}

// The SMTP setting through the API: checked field by field, the password
// sealed and never returned, refused without a secret key with how to
// set one; only administrators.
func TestEmailSettingsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEmailEnv(t, s, false)
		path := "/api/v1/settings/email.smtp"
		good := `{"host":"smtp.example.cn","port":587,"username":"news","password":"hunter2-secret","tls":"starttls","from":"市场部 <news@example.cn>"}`
		if res := e.call(t, "PUT", path, e.marketer, good); res.StatusCode != http.StatusForbidden {
			t.Errorf("marketer: %d", res.StatusCode)
		}
		wantError(t, e.call(t, "PUT", path, e.admin, good), 400, "REVLOOP_SECRET_KEY")
		for body, field := range map[string]string{
			`{"host":"smtp.example.cn","port":70000,"tls":"starttls","from":"a@b.cn"}`: "email.smtp port",
			`{"host":"smtp.example.cn","port":25,"tls":"ssl","from":"a@b.cn"}`:         "email.smtp tls",
			`{"host":"","port":25,"tls":"none","from":"a@b.cn"}`:                       "email.smtp host",
			`{"host":"smtp.example.cn","port":25,"tls":"none","from":"nobody"}`:        "email.smtp from",
			`{"host":"smtp.example.cn","port":"25"}`:                                   "field port",
			`{"hots":"x"}`:                                                             `unknown field "hots"`,
		} {
			wantError(t, e.call(t, "PUT", path, e.admin, body), 400, field)
		}
		if res := e.call(t, "PUT", path, e.admin, `{"host":"`+strings.Repeat("a", 2<<20)+`"}`); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("huge body: %d", res.StatusCode)
		}
		// Without a password it can be stored with no key.
		var v message.SMTPView
		decodeJSON(t, e.call(t, "PUT", path, e.admin, `{"host":"relay.lan","port":25,"tls":"none","from":"news@example.cn"}`), 200, &v)
		if !v.Configured || v.PasswordSet || v.SecretKey {
			t.Errorf("%+v", v)
		}

		e2 := newEmailEnv(t, storeLike(t, s), true)
		res := e2.call(t, "PUT", path, e2.admin, good)
		body := bodyOf(t, res)
		if res.StatusCode != 200 || strings.Contains(body, "hunter2") || !strings.Contains(body, `"password_set":true`) {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		res = e2.call(t, "GET", path, e2.admin, "")
		body = bodyOf(t, res)
		if res.StatusCode != 200 || strings.Contains(body, "hunter2") || strings.Contains(body, "sealed") || !strings.Contains(body, `"password_set":true`) {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		// The general settings list does not show it either.
		if b := bodyOf(t, e2.call(t, "GET", "/api/v1/settings", e2.admin, "")); strings.Contains(b, "hunter2") || strings.Contains(b, "email.smtp") {
			t.Errorf("settings list shows the SMTP setting: %s", b)
		}
	})
}

// storeLike is a fresh store on the engine of s.
func storeLike(t *testing.T, s *store.Store) *store.Store {
	if s.Dialect() == store.Postgres {
		return storetest.Postgres(t)
	}
	return storetest.SQLite(t)
}

var (
	unsubRE = regexp.MustCompile(`https://m\.example\.cn/u/([A-Za-z0-9_\-.]+)`)
	clickRE = regexp.MustCompile(`https://m\.example\.cn/e/c/([A-Za-z0-9_\-.]+)`)
	openRE  = regexp.MustCompile(`https://m\.example\.cn/e/o/([A-Za-z0-9_\-.]+)`)
)

// Preview renders for a person with the links as they go; the links
// work: the unsubscribe page asks and changes nothing, its POST (as a
// mail client sends it, from no page of ours and with no login) denies
// the email consent; the open pixel and the click become outcomes of the
// message and touches of the person; the click goes only where its token
// says.
func TestEmailPreviewLinksAndUnsubscribe(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEmailEnv(t, s, true)
		startApp(t, e.srv)
		wantError(t, e.call(t, "POST", "/api/v1/email/preview", e.marketer, `{"subject":"Hi {{person.nick}}","text":"x","person_id":1}`), 400, `subject: {{person.nick}}: unknown variable "person.nick"`)
		wantError(t, e.call(t, "POST", "/api/v1/email/preview", e.marketer, `{"subject":"Hi","text":"x"}`), 400, "person_id")
		wantError(t, e.call(t, "POST", "/api/v1/email/preview", e.marketer, `{"subject":"Hi","text":"x","person_id":99}`), 404, "person_id")
		if res := e.call(t, "POST", "/api/v1/email/preview", e.key, `{"subject":"Hi","text":"x","person_id":1}`); res.StatusCode != 403 {
			t.Errorf("viewer preview: %d", res.StatusCode)
		}
		var out message.Rendered
		decodeJSON(t, e.call(t, "POST", "/api/v1/email/preview", e.marketer,
			`{"subject":"{{person.first_name}}, 白皮书","html":"<p>{{owner.name}} at {{account.name}}</p><a href=\"https://example.cn/paper?a=1&amp;b=2\">read</a>","text":"Hi {{person.name}}","person_id":1}`), 200, &out)
		if out.Subject != "Lei, 白皮书" || !strings.HasPrefix(out.Text, "Hi Lei Li\n") || !strings.Contains(out.HTML, "<p>王芳 at 甲公司</p>") {
			t.Fatalf("%+v", out)
		}
		unsub := unsubRE.FindStringSubmatch(out.UnsubscribeURL)
		click := clickRE.FindStringSubmatch(out.HTML)
		open := openRE.FindStringSubmatch(out.HTML)
		if unsub == nil || click == nil || open == nil || !strings.Contains(out.Text, out.UnsubscribeURL) {
			t.Fatalf("links missing: %+v", out)
		}

		// GET asks, changes nothing.
		res := e.do(t, req{target: "/u/" + unsub[1], header: map[string]string{"Accept-Language": "zh-CN"}})
		page := bodyOf(t, res)
		if res.StatusCode != 200 || !strings.Contains(page, `action="/u/`+unsub[1]+`"`) || !strings.Contains(page, "l•••••@jia.cn") || !strings.Contains(page, "退订") {
			t.Fatalf("page %d: %s", res.StatusCode, page)
		}
		if c, _ := s.Consent(ctx, 1, "email"); c != model.ConsentUnknown {
			t.Fatalf("GET changed the consent: %s", c)
		}
		// A forged or altered token: 404, nothing changes.
		bad := []byte(unsub[1])
		bad[2] ^= 1
		res = e.do(t, req{method: "POST", target: "/u/" + string(bad), form: url.Values{"List-Unsubscribe": {"One-Click"}}})
		if res.StatusCode != 404 {
			t.Errorf("forged token: %d", res.StatusCode)
		}
		// The one-click POST, cross-site, no session.
		res = e.do(t, req{method: "POST", target: "/u/" + unsub[1], form: url.Values{"List-Unsubscribe": {"One-Click"}},
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://mail.example.com"}})
		if res.StatusCode != 200 {
			t.Fatalf("one-click: %d %s", res.StatusCode, bodyOf(t, res))
		}
		cs, err := s.Consents(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if cs[0].Channel != "email" || cs[0].Status != model.ConsentDenied || cs[0].Source != "unsubscribe" {
			t.Errorf("consent after unsubscribing: %+v", cs[0])
		}
		if c, _ := s.Consent(ctx, 2, "email"); c != model.ConsentUnknown {
			t.Errorf("another person's consent changed: %s", c)
		}
		if ok, err := s.MessageOutcome(ctx, "preview", store.MessageUnsubscribed); !ok || err != nil {
			t.Errorf("outcome unsubscribed: %v %v", ok, err)
		}

		// Open and click.
		res = e.do(t, req{target: "/e/o/" + open[1], header: map[string]string{"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Outlook"}})
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/gif" {
			t.Errorf("pixel: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		// A crawler's click redirects but is not the message's outcome.
		res = e.do(t, req{target: "/e/c/" + click[1], header: map[string]string{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}})
		if res.StatusCode != http.StatusFound {
			t.Errorf("bot click: %d", res.StatusCode)
		}
		if ok, _ := s.MessageOutcome(ctx, "preview", store.MessageClicked); ok {
			t.Error("a crawler's click counted as the message's click")
		}
		res = e.do(t, req{target: "/e/c/" + click[1], header: map[string]string{"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120"}})
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://example.cn/paper?a=1&b=2" {
			t.Errorf("click: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		for _, k := range []string{store.MessageOpened, store.MessageClicked} {
			if ok, err := s.MessageOutcome(ctx, "preview", k); !ok || err != nil {
				t.Errorf("outcome %s: %v %v", k, ok, err)
			}
		}
		if ok, _ := s.MessageOutcome(ctx, "preview", store.MessageReplied); ok {
			t.Error("replied without a reply")
		}
		// A click token with its URL swapped is refused: no open redirect.
		res = e.do(t, req{target: "/e/c/" + strings.Replace(click[1], ".", "x.", 1)})
		if res.StatusCode != 404 || res.Header.Get("Location") != "" {
			t.Errorf("altered click: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		// Both hits become touches of person 1 on the email channel.
		deadline := time.Now().Add(10 * time.Second)
		for {
			tl, err := s.PersonTimeline(ctx, 1, 100)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, ev := range tl {
				got[ev.Name] = ev.Channel + "/" + ev.Medium
			}
			if got["Email Opened"] == "email/email" && got["Email Link Clicked"] == "email/email" {
				break
			}
			if time.Now().After(deadline) {
				m := bodyOf(t, e.do(t, req{target: "/metrics"}))
				for _, line := range strings.Split(m, "\n") {
					if strings.Contains(line, "email_hits") || strings.Contains(line, "rejected") {
						t.Log(line)
					}
				}
				t.Fatalf("no email touches on the timeline: %v", got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// Bounce, complaint and reply reports: validated field by field; a hard
// bounce suppresses at once, soft bounces at the third in 7 days; the
// message's outcome is recorded; administrators list and lift
// suppressions.
func TestEmailBouncesAndSuppressions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEmailEnv(t, s, true)
		b := "/api/v1/email/bounces"
		wantError(t, e.call(t, "POST", b, e.marketer, `{"email":"not-an-address","type":"hard"}`), 400, "email:")
		wantError(t, e.call(t, "POST", b, e.marketer, `{"email":"a@b.cn","type":"bounce"}`), 400, "type:")
		wantError(t, e.call(t, "POST", b, e.marketer, `{"email":"a@b.cn","type":"hard","message_id":"garbage"}`), 400, "message_id:")
		wantError(t, e.call(t, "POST", b, e.marketer, `{"reports":[{"email":"a@b.cn","type":"hard"},{"email":"x","type":"hard"}]}`), 400, "reports[1].email")
		wantError(t, e.call(t, "POST", b, e.marketer, `{"reports":[]}`), 400, "reports: want 1 to 1000")
		if res := e.call(t, "POST", b, e.marketer, `{"reports":[`+strings.Repeat(`{"email":"a@b.cn","type":"soft"},`, 40000)+`{}]}`); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("huge batch: %d", res.StatusCode)
		}
		many := `{"reports":[` + strings.Repeat(`{"email":"a@b.cn","type":"soft"},`, 1000) + `{"email":"a@b.cn","type":"soft"}]}`
		wantError(t, e.call(t, "POST", b, e.marketer, many), 400, "reports: want 1 to 1000")
		if res := e.call(t, "POST", b, e.key, `{"email":"a@b.cn","type":"hard"}`); res.StatusCode != 403 {
			t.Errorf("viewer: %d", res.StatusCode)
		}
		var r store.EmailReportResult
		decodeJSON(t, e.call(t, "POST", b, e.marketer, `{"email":"Li.Lei@jia.cn","type":"hard","message_id":"<j1-v1-a-1@example.cn>","detail":"550 5.1.1"}`), 200, &r)
		if !r.Suppressed || r.Reason != "hard_bounce" || r.Outcome != "bounced" || r.Email != "li.lei@jia.cn" {
			t.Errorf("%+v", r)
		}
		if ok, _ := s.MessageOutcome(ctx, "j1-v1-a-1", store.MessageBounced); !ok {
			t.Error("bounce not recorded as the message's outcome")
		}
		// The next email to the bounced address is skipped.
		step, _ := json.Marshal(model.JourneyStep{ID: "b", Type: model.StepEmail, Subject: "Again", Text: "x"})
		if res, err := e.srv.app.Email.Send(ctx, message.Request{Key: "j1-v1-b-1", Channel: message.ChannelEmail, PersonID: 1, Step: step}); err != nil ||
			res != (message.Result{Status: message.Skipped, Reason: "suppressed"}) {
			t.Errorf("send after a hard bounce: %+v %v", res, err)
		}
		var batch struct{ Reports []store.EmailReportResult }
		decodeJSON(t, e.call(t, "POST", b, e.marketer, `{"reports":[{"email":"han@jia.cn","type":"soft"},{"email":"han@jia.cn","type":"soft"},{"email":"han@jia.cn","type":"reply","message_id":"j2@x.cn"}]}`), 200, &batch)
		if len(batch.Reports) != 3 || batch.Reports[1].Suppressed || batch.Reports[2].Outcome != "replied" {
			t.Errorf("%+v", batch)
		}
		decodeJSON(t, e.call(t, "POST", b, e.marketer, `{"email":"han@jia.cn","type":"soft"}`), 200, &r)
		if !r.Suppressed || r.Reason != "soft_bounce" {
			t.Errorf("third soft bounce: %+v", r)
		}

		var list struct{ Suppressions []store.EmailSuppression }
		decodeJSON(t, e.call(t, "GET", "/api/v1/email/suppressions?q=jia.cn", e.admin, ""), 200, &list)
		if len(list.Suppressions) != 2 {
			t.Fatalf("%+v", list)
		}
		if res := e.call(t, "GET", "/api/v1/email/suppressions", e.marketer, ""); res.StatusCode != 403 {
			t.Errorf("marketer list: %d", res.StatusCode)
		}
		wantError(t, e.call(t, "GET", "/api/v1/email/suppressions?limit=0", e.admin, ""), 400, "limit")
		var del map[string]any
		decodeJSON(t, e.call(t, "DELETE", "/api/v1/email/suppressions/"+url.PathEscape("HAN@jia.cn"), e.admin, ""), 200, &del)
		wantError(t, e.call(t, "DELETE", "/api/v1/email/suppressions/han@jia.cn", e.admin, ""), 404, "not suppressed")
		if why, _ := s.EmailSuppressed(ctx, "han@jia.cn"); why != "" {
			t.Errorf("still suppressed: %s", why)
		}
		var events struct{ Events []store.MessageEvent }
		decodeJSON(t, e.call(t, "GET", "/api/v1/email/messages/j2/events", e.marketer, ""), 200, &events)
		if len(events.Events) != 1 || events.Events[0].Kind != "replied" || events.Events[0].PersonID != 2 {
			t.Errorf("%+v", events)
		}
	})
}

// A test send goes through the configured server to the address given;
// the page's form does the same and shows what went wrong.
func TestEmailTestSendAndPage(t *testing.T) {
	s := storetest.SQLite(t)
	e := newEmailEnv(t, s, true)
	k := smtpsink.New(t)
	wantError(t, e.call(t, "POST", "/api/v1/email/test", e.marketer, `{"to":"me@x.cn","subject":"t","text":"x"}`), 502, "no SMTP server")
	body := `{"host":"127.0.0.1","port":` + strconv.Itoa(k.Port) + `,"tls":"none","from":"news@revloop.example"}`
	if res := e.call(t, "PUT", "/api/v1/settings/email.smtp", e.admin, body); res.StatusCode != 200 {
		t.Fatal(bodyOf(t, res))
	}
	wantError(t, e.call(t, "POST", "/api/v1/email/test", e.marketer, `{"to":"a@b.cn, c@d.cn","subject":"t","text":"x"}`), 400, "to:")
	wantError(t, e.call(t, "POST", "/api/v1/email/test", e.marketer, `{"to":"me@x.cn","subject":"{{oops}}","text":"x"}`), 400, "subject: {{oops}}: unknown variable")
	if res := e.call(t, "POST", "/api/v1/email/test", e.key, `{"to":"me@x.cn","subject":"t","text":"x"}`); res.StatusCode != 403 {
		t.Errorf("viewer test send: %d", res.StatusCode)
	}
	var res message.Result
	decodeJSON(t, e.call(t, "POST", "/api/v1/email/test", e.marketer, `{"to":"me@x.cn","subject":"测试 {{person.name | default:\"朋友\"}}","text":"hello"}`), 200, &res)
	if res.Status != message.Sent {
		t.Fatalf("%+v", res)
	}
	k.Mu.Lock()
	msgs, rcpt := append([]string(nil), k.Msgs...), append([]string(nil), k.Rcpt...)
	k.Mu.Unlock()
	if len(msgs) != 1 || len(rcpt) != 1 || rcpt[0] != "me@x.cn" || !strings.Contains(msgs[0], "List-Unsubscribe-Post: List-Unsubscribe=One-Click") {
		t.Fatalf("%v %v", rcpt, msgs)
	}

	c := e.login(t)
	page := e.do(t, req{target: "/settings/email", cookies: []*http.Cookie{c}})
	html := bodyOf(t, page)
	if page.StatusCode != 200 || !strings.Contains(html, `id="test-send"`) || !strings.Contains(html, "127.0.0.1") {
		t.Fatalf("page %d", page.StatusCode)
	}
	sent := e.do(t, req{method: "POST", target: "/settings/email/test", cookies: []*http.Cookie{c},
		form: url.Values{"to": {"page@x.cn"}, "subject": {"from the page"}, "text": {"hi"}}})
	if sent.StatusCode != http.StatusSeeOther {
		t.Fatalf("page test send: %d %s", sent.StatusCode, bodyOf(t, sent))
	}
	bad := e.do(t, req{method: "POST", target: "/settings/email/smtp", cookies: []*http.Cookie{c},
		form: url.Values{"host": {"relay.lan"}, "port": {"99999"}, "tls": {"none"}, "from": {"a@b.cn"}}})
	if html := bodyOf(t, bad); bad.StatusCode != 400 || !strings.Contains(html, "email.smtp port") {
		t.Errorf("bad form: %d", bad.StatusCode)
	}
	var v message.SMTPView
	decodeJSON(t, e.call(t, "GET", "/api/v1/settings/email.smtp", e.admin, ""), 200, &v)
	if v.Host != "127.0.0.1" {
		t.Errorf("a refused form changed the setting: %+v", v)
	}
}

// consentGate lets a message through unless the person denied the
// channel: the part of the real gate this test needs.
type consentGate struct{ s *store.Store }

func (g consentGate) Allow(_ context.Context, r message.Request) (bool, string, error) {
	c, err := g.s.Consent(ctx, r.PersonID, r.Channel)
	if err != nil {
		return false, "", err
	}
	if c == model.ConsentDenied {
		return false, "no_consent", nil
	}
	return true, "", nil
}

func (g consentGate) Record(context.Context, message.Request, message.Result) error { return nil }

// The whole loop: a journey's email goes out through the dispatcher; the
// one-click POST to its List-Unsubscribe URL (as a mail client sends it)
// unsubscribes the person; the next email step is skipped and nothing
// more reaches the server.
func TestEmailOneClickUnsubscribeStopsTheNextSend(t *testing.T) {
	s := storetest.SQLite(t)
	e := newEmailEnv(t, s, true)
	k := smtpsink.New(t)
	body := `{"host":"127.0.0.1","port":` + strconv.Itoa(k.Port) + `,"tls":"none","from":"news@revloop.example"}`
	if res := e.call(t, "PUT", "/api/v1/settings/email.smtp", e.admin, body); res.StatusCode != 200 {
		t.Fatal(bodyOf(t, res))
	}
	d := &message.Dispatcher{Gate: consentGate{s}, Senders: map[string]message.Sender{message.ChannelEmail: e.srv.app.Email}}
	step, _ := json.Marshal(model.JourneyStep{ID: "a", Type: model.StepEmail, Subject: "Hi {{person.first_name}}", Text: "Read this."})
	send := func(key string) message.Result {
		t.Helper()
		res, err := d.Send(ctx, message.Request{Key: key, Channel: message.ChannelEmail, PersonID: 1, JourneyID: 3, Version: 1, StepID: "a", Step: step})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := send("j3-v1-a-1"); res.Status != message.Sent {
		t.Fatalf("first: %+v", res)
	}
	k.Mu.Lock()
	raw := k.Msgs[0]
	k.Mu.Unlock()
	m, err := netmail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Message-Id") != "<j3-v1-a-1@revloop.example>" || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("headers: %v", m.Header)
	}
	u, err := url.Parse(strings.Trim(m.Header.Get("List-Unsubscribe"), "<>"))
	if err != nil || u.Host != "m.example.cn" {
		t.Fatalf("List-Unsubscribe %q", m.Header.Get("List-Unsubscribe"))
	}
	res := e.do(t, req{method: "POST", target: u.Path, form: url.Values{"List-Unsubscribe": {"One-Click"}},
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	if res.StatusCode != 200 {
		t.Fatalf("one-click: %d", res.StatusCode)
	}
	if res := send("j3-v1-b-1"); res.Status != message.Skipped || res.Reason != "no_consent" {
		t.Fatalf("after unsubscribing: %+v", res)
	}
	k.Mu.Lock()
	n := len(k.Msgs)
	k.Mu.Unlock()
	if n != 1 {
		t.Errorf("%d messages reached the server", n)
	}
	if ok, _ := s.MessageOutcome(ctx, "j3-v1-a-1", store.MessageUnsubscribed); !ok {
		t.Error("the message's outcome unsubscribed is missing")
	}
}
