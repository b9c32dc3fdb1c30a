package message

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

var ctx = context.Background()

func TestMain(m *testing.M) { storetest.Main(m) }

var t0 = time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)

// seedPeople loads an owner, an account and three persons: 1 with
// everything, 2 with no address, 3 whose address is suppressed.
func seedPeople(t testing.TB, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		if err := l.Insert("users", []string{"id", "email", "name", "role", "created_at"}, [][]any{
			{int64(7), "wang.fang@revloop.example", "王芳", "sales", t0}}); err != nil {
			return err
		}
		if err := l.Insert("accounts", []string{"id", "name", "domain", "owner_id", "created_at"}, [][]any{
			{int64(1), "示例制造 & Co", "acme.cn", int64(7), t0}}); err != nil {
			return err
		}
		return l.Insert("persons", []string{"id", "account_id", "name", "email", "stage", "first_seen_at", "created_at", "traits"}, [][]any{
			{int64(1), int64(1), "Lei Li", "Li.Lei@Acme.cn", "lead", t0, t0, `{"city":"上海","seats":12}`},
			{int64(2), int64(1), "韩梅梅", "", "lead", t0, t0, `{}`},
			{int64(3), nil, "Bounced Bob", "bob@gone.example", "lead", t0, t0, `{}`},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SuppressEmail(ctx, "BOB@gone.example", store.SuppressHardBounce, "550 no such user", "test", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, SettingPublicURL, "https://m.example.cn"); err != nil {
		t.Fatal(err)
	}
}

func testBox(t testing.TB) *secret.Box {
	b, err := secret.New(bytes.Repeat([]byte{9}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// configure points the store's SMTP setting at the sink.
func configure(t testing.TB, s *store.Store, box *secret.Box, k *sink, mode string) {
	t.Helper()
	in := SMTPInput{Host: "127.0.0.1", Port: k.port, TLS: mode, From: "市场部 <news@revloop.example>"}
	if k.user != "" {
		in.Username, in.Password = k.user, &k.pass
	}
	if _, err := SaveSMTP(ctx, s, box, in); err != nil {
		t.Fatal(err)
	}
}

func newTestSender(t testing.TB, s *store.Store, box *secret.Box, k *sink) *EmailSender {
	o := EmailOptions{Store: s, Secrets: box, Timeout: 5 * time.Second}
	if k.clientCA != nil {
		o.TLSConfig = testTLSClient(k)
	}
	e := NewEmailSender(o)
	t.Cleanup(func() { e.Close() })
	return e
}

func emailRequest(key string, person int64, step model.JourneyStep) Request {
	step.Type = model.StepEmail
	raw, _ := json.Marshal(step)
	return Request{Key: key, Channel: ChannelEmail, PersonID: person, JourneyID: 1, Version: 1, StepID: step.ID, Step: raw, Now: t0}
}

var welcome = model.JourneyStep{ID: "a", Subject: "{{person.first_name}}, 白皮书 for {{account.name}}",
	HTML: `<html><body><p>Hi {{person.first_name | default:"there"}} ({{person.traits.city}}) from {{account.name}}</p>` +
		`<a href="https://example.cn/paper?x=1&amp;y=2">paper</a> <a href="mailto:a@b.cn">mail</a></body></html>`,
	Text: "Hi {{person.name}}, ask {{owner.name}} <{{owner.email}}>. Seats: {{person.traits.seats}}. {{person.traits.none | default:\"-\"}}"}

// parsed is a received message, read back with the standard library.
type parsed struct {
	header mail.Header
	text   string
	html   string
}

func parseMessage(t *testing.T, data string) parsed {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{header: m.Header}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %s, want multipart/alternative", mt)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part) // multipart decodes quoted-printable
		pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch pt {
		case "text/plain":
			p.text = string(b)
		case "text/html":
			p.html = string(b)
		}
	}
	return p
}

// One email to one person: the exact recipient and sender, the headers
// receivers need (Message-ID from the key, one-click unsubscribe), the
// variables filled in (escaped in HTML), links tracked, the pixel and the
// visible unsubscribe link; the signed links say who and which message.
func TestEmailSendRendersAndHeaders(t *testing.T) {
	s := storetest.SQLite(t)
	seedPeople(t, s)
	box := testBox(t)
	k := newSink(t, false, "", "")
	configure(t, s, box, k, TLSNone)
	e := newTestSender(t, s, box, k)

	res, err := e.Send(ctx, emailRequest("j1-v1-a-1", 1, welcome))
	if err != nil || res.Status != Sent || res.ProviderID == "" {
		t.Fatalf("send: %+v %v", res, err)
	}
	got := k.messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	if got[0].From != "news@revloop.example" || len(got[0].To) != 1 || got[0].To[0] != "Li.Lei@Acme.cn" {
		t.Fatalf("envelope from %q to %v", got[0].From, got[0].To)
	}
	p := parseMessage(t, got[0].Data)
	h := p.header
	if id := h.Get("Message-Id"); id != "<j1-v1-a-1@revloop.example>" {
		t.Errorf("Message-ID %q", id)
	}
	if v := h.Get("List-Unsubscribe-Post"); v != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", v)
	}
	lu := h.Get("List-Unsubscribe")
	if !strings.HasPrefix(lu, "<https://m.example.cn/u/") || !strings.HasSuffix(lu, ">") {
		t.Fatalf("List-Unsubscribe %q", lu)
	}
	unsub := strings.Trim(lu, "<>")
	tok, err := e.ParseLink(ctx, LinkUnsubscribe, strings.TrimPrefix(unsub, "https://m.example.cn/u/"))
	if err != nil || tok.PersonID != 1 || tok.MessageKey != "j1-v1-a-1" {
		t.Fatalf("unsubscribe token: %+v %v", tok, err)
	}
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(h.Get("Subject"))
	if subj != "Lei, 白皮书 for 示例制造 & Co" {
		t.Errorf("subject %q", subj)
	}
	to, _ := mail.ParseAddress(h.Get("To"))
	if to == nil || to.Address != "Li.Lei@Acme.cn" || to.Name != "Lei Li" {
		t.Errorf("To %v", h.Get("To"))
	}
	wantText := "Hi Lei Li, ask 王芳 <wang.fang@revloop.example>. Seats: 12. -\n\n--\n退订 Unsubscribe: " + unsub + "\n"
	if strings.ReplaceAll(p.text, "\r\n", "\n") != wantText {
		t.Errorf("text:\n%q\nwant\n%q", p.text, wantText)
	}
	html := p.html
	if !strings.Contains(html, "<p>Hi Lei (上海) from 示例制造 &amp; Co</p>") {
		t.Errorf("html not rendered and escaped: %s", html)
	}
	if strings.Contains(html, `href="https://example.cn/paper`) || !strings.Contains(html, `href="https://m.example.cn/e/c/`) {
		t.Errorf("link not tracked: %s", html)
	}
	if !strings.Contains(html, `href="mailto:a@b.cn"`) {
		t.Errorf("mailto link changed: %s", html)
	}
	i := strings.Index(html, "/e/c/")
	clickTok := html[i+5 : i+5+strings.IndexByte(html[i+5:], '"')]
	ct, err := e.ParseLink(ctx, LinkClick, clickTok)
	if err != nil || ct.URL != "https://example.cn/paper?x=1&y=2" || ct.PersonID != 1 || ct.MessageKey != "j1-v1-a-1" {
		t.Errorf("click token: %+v %v", ct, err)
	}
	if !strings.Contains(html, `<a href="`+unsub+`">退订 Unsubscribe</a>`) || !strings.Contains(html, `src="https://m.example.cn/e/o/`) {
		t.Errorf("no visible unsubscribe link or pixel: %s", html)
	}
	if !strings.HasSuffix(strings.TrimSpace(html), "</body></html>") {
		t.Errorf("footer not inside the body: %s", html)
	}
	// A token altered in one byte, or of another kind, is refused.
	if _, err := e.ParseLink(ctx, LinkOpen, strings.TrimPrefix(unsub, "https://m.example.cn/u/")); err == nil {
		t.Error("an unsubscribe token passed as an open token")
	}
	bad := []byte(clickTok)
	bad[3] ^= 1
	if _, err := e.ParseLink(ctx, LinkClick, string(bad)); err == nil {
		t.Error("an altered click token accepted")
	}
}

// Who gets nothing: no address, a suppressed address, an unknown person;
// a bad template fails at once and names the field.
func TestEmailSkipsAndFails(t *testing.T) {
	s := storetest.SQLite(t)
	seedPeople(t, s)
	box := testBox(t)
	k := newSink(t, false, "", "")
	configure(t, s, box, k, TLSNone)
	e := newTestSender(t, s, box, k)
	cases := []struct {
		person int64
		step   model.JourneyStep
		want   Result
	}{
		{2, welcome, Result{Status: Skipped, Reason: "no_address"}},
		{3, welcome, Result{Status: Skipped, Reason: "suppressed"}},
		{99, welcome, Result{Status: Failed, Reason: "unknown_person"}},
		{1, model.JourneyStep{Subject: "Hi {{person.nickname}}", Text: "x"}, Result{Status: Failed,
			Reason: `bad_template: subject: {{person.nickname}}: unknown variable "person.nickname" (known: ` + knownList() + `, person.traits.KEY)`}},
	}
	for i, c := range cases {
		res, err := e.Send(ctx, emailRequest(fmt.Sprintf("k%d", i), c.person, c.step))
		if err != nil || res != c.want {
			t.Errorf("case %d: %+v %v, want %+v", i, res, err, c.want)
		}
	}
	if n := len(k.messages()); n != 0 {
		t.Errorf("%d messages went", n)
	}
}

// Templates: errors name the field and say what is wrong; defaults fill
// empty values.
func TestEmailTemplateErrors(t *testing.T) {
	cases := []struct {
		subject, html, text string
		want                string
	}{
		{"", "x", "", "subject: required"},
		{"a\nb", "x", "", "subject: must be one line"},
		{"s", "", " ", "html: an email needs an HTML or a text body"},
		{"s", "<p>{{person.name</p>", "", `html: "{{person.name</p>" at byte 3 is not closed with }}`},
		{"s", "", "{{person.name | upper}}", `text: {{person.name | upper}}: unknown filter "upper" (only default:"value")`},
		{"s", "", "{{person.name | default:there}}", `text: {{person.name | default:there}}: the default must be written in double quotes: default:"value"`},
		{"s", strings.Repeat("x", MaxEmailBodyLen+1), "", fmt.Sprintf("html: %d bytes, at most %d", MaxEmailBodyLen+1, MaxEmailBodyLen)},
	}
	for _, c := range cases {
		_, err := ParseEmailTemplates(c.subject, c.html, c.text)
		var te *TemplateError
		if !errors.As(err, &te) || err.Error() != c.want {
			t.Errorf("%q %q %q: %v, want %s", c.subject, clipStr(c.html, 30), c.text, err, c.want)
		}
	}
	if err := CheckEmailStep(model.JourneyStep{Subject: "s", Text: "t", From: "nobody"}); err == nil || !strings.HasPrefix(err.Error(), "from: ") {
		t.Errorf("a bad sender: %v", err)
	}
	if err := CheckEmailStep(welcome); err != nil {
		t.Errorf("welcome: %v", err)
	}
	tpl, err := ParseEmailTemplates("{{ person.traits.plan | default:\"免费版\" }}", "", "x")
	if err != nil {
		t.Fatal(err)
	}
	if got := tpl.subject.render(recipientVars(store.EmailRecipient{}, ""), false); got != "免费版" {
		t.Errorf("default: %q", got)
	}
}

// STARTTLS with a login: the message goes encrypted and authenticated,
// and the stored password is sealed (a wrong key cannot open it).
func TestEmailStartTLSAuth(t *testing.T) {
	s := storetest.SQLite(t)
	seedPeople(t, s)
	box := testBox(t)
	k := newSink(t, true, "mailer", "s3cret-pass")
	configure(t, s, box, k, TLSStartTLS)
	var stored map[string]any
	if _, err := s.Setting(ctx, SettingSMTP, &stored); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(stored); strings.Contains(string(b), "s3cret") || stored["password_sealed"] == "" {
		t.Fatalf("password stored in clear or not at all: %s", b)
	}
	e := newTestSender(t, s, box, k)
	res, err := e.Send(ctx, emailRequest("tls-1", 1, welcome))
	if err != nil || res.Status != Sent {
		t.Fatalf("send: %+v %v", res, err)
	}
	m := k.messages()
	if len(m) != 1 || !m[0].TLS || m[0].Auth != "mailer" {
		t.Fatalf("not sent over TLS with the login: %+v", m)
	}

	// The same setting with another key: the password cannot be opened,
	// and sending says so (an error, not a silent send without login).
	other, _ := secret.New(bytes.Repeat([]byte{1}, secret.KeySize))
	e2 := newTestSender(t, s, other, k)
	if _, err := e2.Send(ctx, emailRequest("tls-2", 1, welcome)); err == nil || !strings.Contains(err.Error(), "cannot open") {
		t.Errorf("send with the wrong key: %v", err)
	}
	// A wrong password: the server refuses the login; an error to retry
	// once fixed.
	wrong := "nope"
	if _, err := SaveSMTP(ctx, s, box, SMTPInput{Host: "127.0.0.1", Port: k.port, TLS: TLSStartTLS, From: "news@revloop.example", Username: "mailer", Password: &wrong}); err != nil {
		t.Fatal(err)
	}
	e.Reload()
	if _, err := e.Send(ctx, emailRequest("tls-3", 1, welcome)); err == nil {
		t.Error("a wrong password sent")
	}
}

// TLS from the first byte (port 465 style), with a login.
func TestEmailImplicitTLS(t *testing.T) {
	s := storetest.SQLite(t)
	seedPeople(t, s)
	box := testBox(t)
	k := newSinkMode(t, true, true, "mailer", "pw")
	configure(t, s, box, k, TLSImplicit)
	e := newTestSender(t, s, box, k)
	for i := range 3 {
		if res, err := e.Send(ctx, emailRequest(fmt.Sprintf("i%d", i), 1, welcome)); err != nil || res.Status != Sent {
			t.Fatalf("send: %+v %v", res, err)
		}
	}
	m := k.messages()
	if len(m) != 3 || !m[0].TLS || m[2].Auth != "mailer" || k.conns.Load() != 1 {
		t.Fatalf("%d messages, TLS %v, %d connections", len(m), len(m) > 0 && m[0].TLS, k.conns.Load())
	}
	// A server whose certificate is not trusted: an error, nothing sent.
	e2 := NewEmailSender(EmailOptions{Store: s, Secrets: box, Timeout: 5 * time.Second})
	defer e2.Close()
	if _, err := e2.Send(ctx, emailRequest("i9", 1, welcome)); err == nil {
		t.Error("sent to an untrusted certificate")
	}
}

// Many messages, from concurrent callers, share a few connections: with
// MaxConns 2, 40 messages open at most 2.
func TestEmailConnectionReuse(t *testing.T) {
	s := storetest.SQLite(t)
	seedPeople(t, s)
	box := testBox(t)
	k := newSink(t, true, "mailer", "pw")
	configure(t, s, box, k, TLSStartTLS)
	e := NewEmailSender(EmailOptions{Store: s, Secrets: box, MaxConns: 2, TLSConfig: testTLSClient(k)})
	defer e.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.Send(ctx, emailRequest(fmt.Sprintf("reuse-%d", i), 1, welcome))
			if err == nil && res.Status != Sent {
				err = fmt.Errorf("%+v", res)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(k.messages()); n != 40 {
		t.Fatalf("%d messages", n)
	}
	if c := k.conns.Load(); c < 1 || c > 2 {
		t.Errorf("%d connections for 40 messages, want at most 2", c)
	}
	if e.Dials() != k.conns.Load() {
		t.Errorf("dials %d, server saw %d", e.Dials(), k.conns.Load())
	}
}

// A permanent refusal (5xx) is Failed with the server's reason; a
// deferral (4xx) is an error to retry.
func TestEmailRefusals(t *testing.T) {
	s := storetest.SQLite(t)
	seedPeople(t, s)
	box := testBox(t)
	k := newSink(t, false, "", "")
	configure(t, s, box, k, TLSNone)
	e := newTestSender(t, s, box, k)
	k.mu.Lock()
	k.reject = func(string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	k.mu.Unlock()
	res, err := e.Send(ctx, emailRequest("r1", 1, welcome))
	if err != nil || res.Status != Failed || !strings.HasPrefix(res.Reason, "smtp 550: ") || !strings.Contains(res.Reason, "no such user") {
		t.Fatalf("5xx: %+v %v", res, err)
	}
	k.mu.Lock()
	k.reject = func(string) error {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}
	k.mu.Unlock()
	if res, err := e.Send(ctx, emailRequest("r2", 1, welcome)); err == nil {
		t.Fatalf("4xx: %+v, want an error", res)
	}
	// A refused sender is the setting's fault: an error, not a failure of
	// this message.
	k.mu.Lock()
	k.reject = nil
	k.rejectMail = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender not allowed"}
	k.mu.Unlock()
	if res, err := e.Send(ctx, emailRequest("r3", 1, welcome)); err == nil || !strings.Contains(err.Error(), "refused the sender") {
		t.Fatalf("refused sender: %+v %v", res, err)
	}
	k.mu.Lock()
	k.rejectMail = nil
	k.mu.Unlock()
	if res, err := e.Send(ctx, emailRequest("r3", 1, welcome)); err != nil || res.Status != Sent {
		t.Fatalf("after the refusals: %+v %v", res, err)
	}
	if c := k.conns.Load(); c != 1 {
		t.Errorf("%d connections: refusals must not cost the connection", c)
	}
}

// A dropped connection is replaced without losing the message; a server
// that is down is an error, and the same request goes once it is back.
func TestEmailReconnect(t *testing.T) {
	s := storetest.SQLite(t)
	seedPeople(t, s)
	box := testBox(t)
	k := newSink(t, false, "", "")
	configure(t, s, box, k, TLSNone)
	e := newTestSender(t, s, box, k)
	if res, err := e.Send(ctx, emailRequest("d1", 1, welcome)); err != nil || res.Status != Sent {
		t.Fatal(res, err)
	}
	k.dropAll()
	if res, err := e.Send(ctx, emailRequest("d2", 1, welcome)); err != nil || res.Status != Sent {
		t.Fatalf("after a drop: %+v %v", res, err)
	}
	if c := k.conns.Load(); c != 2 {
		t.Errorf("%d connections, want 2 (one replaced)", c)
	}
	k.stop()
	if res, err := e.Send(ctx, emailRequest("d3", 1, welcome)); err == nil {
		t.Fatalf("server down: %+v, want an error", res)
	}
	k.restart()
	if res, err := e.Send(ctx, emailRequest("d3", 1, welcome)); err != nil || res.Status != Sent {
		t.Fatalf("retry: %+v %v", res, err)
	}
	m := k.messages()
	if len(m) != 3 || parseMessage(t, m[2].Data).header.Get("Message-Id") != "<d3@revloop.example>" {
		t.Fatalf("%d messages; last %q", len(m), clipStr(m[len(m)-1].Data, 200))
	}
}

// Keys that are not dot-atom text are encoded in the Message-ID and read
// back.
func TestMessageIDKeys(t *testing.T) {
	for _, key := range []string{"j1-v2-a-77", "with space", "=starts", "a@b", "中文"} {
		id := "<" + MessageIDLocal(key) + "@x.cn>"
		if _, err := mail.ParseAddress(strings.Trim(id, "<>")); err != nil {
			t.Errorf("%q: %s is not an address form: %v", key, id, err)
		}
		if got := MessageKeyFromID(id); got != key {
			t.Errorf("%q: read back %q from %s", key, got, id)
		}
	}
	if MessageKeyFromID("no-at-sign") != "" || MessageKeyFromID("<=zz@x>") != "" {
		t.Error("not revloop's ids read as keys")
	}
}

// Settings: each refused value names its field; a password without a
// secret key is refused with how to set one; the view never shows it.
func TestSMTPSettings(t *testing.T) {
	s := storetest.SQLite(t)
	box := testBox(t)
	pw := "pw"
	ok := SMTPInput{Host: "smtp.example.cn", Port: 465, TLS: TLSImplicit, From: "news@example.cn", Username: "u", Password: &pw}
	bad := []struct {
		mut   func(*SMTPInput)
		field string
	}{
		{func(i *SMTPInput) { i.Host = "" }, "host"},
		{func(i *SMTPInput) { i.Host = "smtp.example.cn:465" }, "host"},
		{func(i *SMTPInput) { i.Port = 0 }, "port"},
		{func(i *SMTPInput) { i.TLS = "ssl" }, "tls"},
		{func(i *SMTPInput) { i.From = "not an address" }, "from"},
		{func(i *SMTPInput) { i.Username = "" }, "username"},
	}
	for _, b := range bad {
		in := ok
		b.mut(&in)
		_, err := SaveSMTP(ctx, s, box, in)
		var se *SettingsError
		if !errors.As(err, &se) || se.Field != b.field {
			t.Errorf("%+v: %v, want an error on %s", in, err, b.field)
		}
	}
	if _, err := SaveSMTP(ctx, s, nil, ok); !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("no key: %v", err)
	}
	v, err := SaveSMTP(ctx, s, box, ok)
	if err != nil || !v.PasswordSet || v.Host != "smtp.example.cn" {
		t.Fatalf("%+v %v", v, err)
	}
	// Saving again without a password keeps it; "" removes it.
	in := ok
	in.Password = nil
	if v, err = SaveSMTP(ctx, s, box, in); err != nil || !v.PasswordSet {
		t.Fatalf("kept: %+v %v", v, err)
	}
	empty := ""
	in.Password, in.Username = &empty, ""
	if v, err = SaveSMTP(ctx, s, nil, in); err != nil || v.PasswordSet {
		t.Fatalf("removed: %+v %v", v, err)
	}
}
