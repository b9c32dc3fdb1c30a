package message

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
)

// EmailOptions are what an EmailSender needs.
type EmailOptions struct {
	Store *store.Store
	// Secrets opens the stored SMTP password; nil when no secret key is
	// configured (then only a server without a password can be used).
	Secrets *secret.Box
	// BaseURL is the base of email links while the links.public_url
	// setting is empty (the address the server listens on); SetBaseURL
	// changes it.
	BaseURL string
	Log     *slog.Logger
	Now     func() time.Time
	// MaxConns bounds the SMTP connections open at once (default 4); each
	// is kept open and reused for message after message.
	MaxConns int
	// Timeout bounds each SMTP command and the dial (default 30 s).
	Timeout time.Duration
	// MaxIdle is how long an unused connection is kept (default 60 s).
	MaxIdle time.Duration
	// Reload is how long the settings read from the store are used before
	// they are read again (default 10 s); Reload() forgets them at once.
	Reload time.Duration
	// TLSConfig is the base of the TLS configuration (tests trust their
	// own certificate with it); ServerName is always the setting's host.
	TLSConfig *tls.Config
}

// ErrNotConfigured means no SMTP server is set: a transient failure, the
// message goes once an administrator sets one.
var ErrNotConfigured = errors.New("email: no SMTP server is configured (settings email.smtp)")

// EmailSender sends email steps over SMTP. It is safe for concurrent use:
// callers share a bounded set of long-lived connections, each reused for
// many messages and replaced when it fails.
type EmailSender struct {
	o       EmailOptions
	base    atomic.Value // string, fallback base URL
	mu      sync.Mutex
	cur     *emailConfig
	dials   atomic.Int64
	retries atomic.Int64
}

// emailConfig is what the store said, with the pool of its server.
type emailConfig struct {
	raw      string // the SMTP setting as stored, to notice a change
	settings SMTPSettings
	from     string // address part of the sender
	fromHost string
	base     string
	signer   LinkSigner
	pool     *smtpPool // nil when not configured
	err      error     // why the pool could not be made
	loaded   time.Time
}

// NewEmailSender makes a sender; nothing connects until the first send.
func NewEmailSender(o EmailOptions) *EmailSender {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = 60 * time.Second
	}
	if o.Reload <= 0 {
		o.Reload = 10 * time.Second
	}
	e := &EmailSender{o: o}
	e.base.Store(strings.TrimRight(o.BaseURL, "/"))
	return e
}

// SetBaseURL sets the base of links used while links.public_url is empty.
func (e *EmailSender) SetBaseURL(u string) {
	e.base.Store(strings.TrimRight(u, "/"))
	e.Reload()
}

// Reload forgets the settings read, so that the next send reads them
// again (called when an administrator saves them).
func (e *EmailSender) Reload() {
	e.mu.Lock()
	if e.cur != nil {
		e.cur.loaded = time.Time{}
	}
	e.mu.Unlock()
}

// Dials counts the SMTP connections opened so far.
func (e *EmailSender) Dials() int64 { return e.dials.Load() }

// Close closes the idle connections; sending again reopens them.
func (e *EmailSender) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil && e.cur.pool != nil {
		e.cur.pool.close()
	}
	e.cur = nil
	return nil
}

// config returns the current settings, read again when they are older
// than o.Reload; a changed SMTP server gets a new pool (the old one's
// connections close as they are given back).
func (e *EmailSender) config(ctx context.Context) (*emailConfig, error) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil && now.Sub(e.cur.loaded) < e.o.Reload {
		return e.cur, nil
	}
	var raw json.RawMessage
	if _, err := e.o.Store.Setting(ctx, SettingSMTP, &raw); err != nil {
		return nil, err
	}
	var public string
	if _, err := e.o.Store.Setting(ctx, SettingPublicURL, &public); err != nil {
		return nil, err
	}
	base := strings.TrimRight(public, "/")
	if base == "" {
		base, _ = e.base.Load().(string)
	}
	if e.cur != nil && e.cur.raw == string(raw) {
		e.cur.base, e.cur.loaded = base, now
		return e.cur, nil
	}
	key, err := e.o.Store.EmailLinkKey(ctx)
	if err != nil {
		return nil, err
	}
	c := &emailConfig{raw: string(raw), base: base, signer: NewLinkSigner(key), loaded: now}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &c.settings); err != nil {
			return nil, fmt.Errorf("setting %s: %w", SettingSMTP, err)
		}
		c.pool, c.err = e.newPool(c.settings)
		if a, err := parseFrom(c.settings.From); err == nil {
			c.from = a.Address
			_, c.fromHost, _ = strings.Cut(a.Address, "@")
		}
	}
	if e.cur != nil && e.cur.pool != nil {
		e.cur.pool.close()
	}
	e.cur = c
	return c, nil
}

// newPool makes the go-mail client of the settings and a pool over it.
func (e *EmailSender) newPool(v SMTPSettings) (*smtpPool, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	password, err := v.password(e.o.Secrets)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if e.o.TLSConfig != nil {
		tc = e.o.TLSConfig.Clone()
	}
	tc.ServerName = v.Host
	opts := []gomail.Option{gomail.WithPort(v.Port), gomail.WithTimeout(e.o.Timeout), gomail.WithTLSConfig(tc), gomail.WithHELO(heloName(v.From))}
	switch v.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if v.Username != "" && password != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(v.Username), gomail.WithPassword(password))
	}
	client, err := gomail.NewClient(v.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("email: SMTP client: %w", err)
	}
	return &smtpPool{client: client, slots: make(chan struct{}, e.o.MaxConns), maxIdle: e.o.MaxIdle, dials: &e.dials}, nil
}

// heloName is the name revloop greets the server with: the sender's
// domain (servers check it is a name, not a bare word).
func heloName(from string) string {
	if a, err := parseFrom(from); err == nil {
		if _, host, ok := strings.Cut(a.Address, "@"); ok && host != "" {
			return host
		}
	}
	return "localhost"
}

// smtpPool keeps up to cap(slots) connections to one server, each used by
// one sender at a time and given back for the next.
type smtpPool struct {
	client  *gomail.Client
	slots   chan struct{}
	maxIdle time.Duration
	dials   *atomic.Int64

	mu     sync.Mutex
	idle   []idleConn
	closed bool
}

type idleConn struct {
	c     *smtp.Client
	since time.Time
}

// get takes an idle connection (reused true) or dials a new one.
func (p *smtpPool) get(ctx context.Context) (*smtp.Client, bool, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	p.mu.Lock()
	for len(p.idle) > 0 {
		ic := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if time.Since(ic.since) < p.maxIdle && ic.c.HasConnection() {
			p.mu.Unlock()
			return ic.c, true, nil
		}
		go ic.c.Close()
	}
	p.mu.Unlock()
	c, err := p.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		<-p.slots
		return nil, false, err
	}
	p.dials.Add(1)
	return c, false, nil
}

// put gives a connection back: kept when ok, closed otherwise.
func (p *smtpPool) put(c *smtp.Client, ok bool) {
	p.mu.Lock()
	if ok && !p.closed {
		p.idle = append(p.idle, idleConn{c: c, since: time.Now()})
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		if ok {
			_ = c.Quit()
		} else {
			_ = c.Close()
		}
	}
	<-p.slots
}

// close quits the idle connections; those in use close when given back.
func (p *smtpPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, ic := range idle {
		go func(c *smtp.Client) { _ = c.Quit(); _ = c.Close() }(ic.c)
	}
}

// Send sends an email step (Request.Step holds a model.JourneyStep) to
// the person: Sent with the server's reply as the provider id; Skipped
// "no_address" or "suppressed"; Failed for a template that cannot be
// rendered, an address the server refuses for good (5xx) or an unknown
// person. Any other failure (the server unreachable or busy, 4xx) is an
// error: try again later with the same key, which is the Message-ID.
func (e *EmailSender) Send(ctx context.Context, r Request) (Result, error) {
	var step model.JourneyStep
	if err := json.Unmarshal(r.Step, &step); err != nil {
		return Result{Status: Failed, Reason: "bad_step"}, nil
	}
	tpl, err := ParseEmailTemplates(step.Subject, step.HTML, step.Text)
	if err != nil {
		return Result{Status: Failed, Reason: "bad_template: " + err.Error()}, nil
	}
	rec, err := e.recipient(ctx, r.PersonID)
	if errors.Is(err, store.ErrNotFound) {
		return Result{Status: Failed, Reason: "unknown_person"}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("email %s: %w", r.Key, err)
	}
	if strings.TrimSpace(rec.Email) == "" {
		return Result{Status: Skipped, Reason: "no_address"}, nil
	}
	if rec.Suppressed != "" {
		return Result{Status: Skipped, Reason: "suppressed"}, nil
	}
	cfg, err := e.ready(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("email %s: %w", r.Key, err)
	}
	now := r.Now
	if now.IsZero() {
		now = e.o.Now()
	}
	rendered := cfg.render(tpl, rec, r.Key)
	msg, res := cfg.compose(rendered, rec.Name, rec.Email, step.From, r.Key, now)
	if msg == nil {
		return res, nil
	}
	return e.deliver(ctx, cfg, msg, r.Key)
}

// ready is the configuration with a usable pool and the public address
// its links need.
func (e *EmailSender) ready(ctx context.Context) (*emailConfig, error) {
	cfg, err := e.connected(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.base == "" {
		return nil, errors.New("email: links need revloop's public address: set links.public_url")
	}
	return cfg, nil
}

// connected is the configuration with a usable pool.
func (e *EmailSender) connected(ctx context.Context) (*emailConfig, error) {
	cfg, err := e.config(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.raw == "" {
		return nil, ErrNotConfigured
	}
	if cfg.err != nil {
		return nil, fmt.Errorf("email: %w", cfg.err)
	}
	return cfg, nil
}

// recipient reads the person, following merges to the survivor.
func (e *EmailSender) recipient(ctx context.Context, id int64) (store.EmailRecipient, error) {
	for range 8 {
		rec, err := e.o.Store.EmailRecipient(ctx, id)
		if err != nil || rec.Merged == 0 {
			return rec, err
		}
		id = rec.Merged
	}
	return store.EmailRecipient{}, fmt.Errorf("person %d: merge chain too long", id)
}

// Rendered is an email as it goes: subject and bodies with the variables
// filled in, links tracked, the open pixel and the unsubscribe link.
type Rendered struct {
	Subject        string `json:"subject"`
	HTML           string `json:"html"`
	Text           string `json:"text"`
	UnsubscribeURL string `json:"unsubscribe_url"`
}

// render fills the templates for rec and adds the tracking: links of the
// HTML body go through the click redirect, a pixel records the open, and
// both bodies carry a visible unsubscribe link (where the template put
// {{unsubscribe_url}}, or at their end).
func (c *emailConfig) render(t EmailTemplates, rec store.EmailRecipient, key string) Rendered {
	links := messageLinks{base: c.base, signer: c.signer, person: rec.PersonID, key: key}
	unsub := links.unsubscribe()
	vars := recipientVars(rec, unsub)
	out := Rendered{UnsubscribeURL: unsub}
	out.Subject = clipStr(strings.Join(strings.Fields(t.subject.render(vars, false)), " "), maxRenderedSubject)
	if len(t.text.parts) > 0 && !(len(t.text.parts) == 1 && strings.TrimSpace(t.text.parts[0].literal) == "") {
		out.Text = t.text.render(vars, false)
		if !t.text.usesUnsubscribe() {
			out.Text = strings.TrimRight(out.Text, "\n") + "\n\n--\n退订 Unsubscribe: " + unsub + "\n"
		}
	}
	if len(t.html.parts) > 0 && !(len(t.html.parts) == 1 && strings.TrimSpace(t.html.parts[0].literal) == "") {
		body := t.html.render(vars, true)
		body = links.trackLinks(body, unsub)
		var footer strings.Builder
		if !t.html.usesUnsubscribe() {
			footer.WriteString(`<p style="font-size:12px;color:#888">`)
			footer.WriteString(`<a href="` + escapeAttr(unsub) + `">退订 Unsubscribe</a></p>`)
		}
		footer.WriteString(`<img src="` + escapeAttr(links.open()) + `" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">`)
		if i := lastIndexFold(body, "</body>"); i >= 0 {
			body = body[:i] + footer.String() + body[i:]
		} else {
			body += footer.String()
		}
		out.HTML = body
	}
	return out
}

func escapeAttr(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }

func lastIndexFold(s, sub string) int { return strings.LastIndex(strings.ToLower(s), sub) }

// atextRE is a Message-ID local part that needs no encoding: dot-atom
// text (RFC 5322).
var atextRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")

// MessageIDLocal is the local part of the Message-ID of the message with
// key: the key itself, or "=" and its hex form when the key is not
// dot-atom text (or itself begins with "=").
func MessageIDLocal(key string) string {
	if atextRE.MatchString(key) && !strings.HasPrefix(key, "=") {
		return key
	}
	return fmt.Sprintf("=%x", key)
}

// MessageKeyFromID reads the key back from a Message-ID ("<local@host>"
// or "local@host"); "" when it is not one revloop made.
func MessageKeyFromID(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	local, _, ok := strings.Cut(id, "@")
	if !ok || local == "" || len(local) > 500 {
		return ""
	}
	if hexKey, ok := strings.CutPrefix(local, "="); ok {
		var b []byte
		if _, err := fmt.Sscanf(hexKey, "%x", &b); err != nil || fmt.Sprintf("%x", b) != hexKey {
			return ""
		}
		return string(b)
	}
	return local
}

// compose builds the message; a nil message comes with the Failed result
// that says why.
func (c *emailConfig) compose(r Rendered, name, to, from, key string, now time.Time) (*gomail.Msg, Result) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if from == "" {
		from = c.settings.From
	}
	fa, err := parseFrom(from)
	if err != nil {
		return nil, Result{Status: Failed, Reason: "bad_from: " + err.Error()}
	}
	_, fromHost, _ := strings.Cut(fa.Address, "@")
	if err := m.FromFormat(fa.Name, fa.Address); err != nil {
		return nil, Result{Status: Failed, Reason: "bad_from"}
	}
	if err := m.AddToFormat(strings.Join(strings.Fields(name), " "), strings.TrimSpace(to)); err != nil {
		return nil, Result{Status: Failed, Reason: "bad_address"}
	}
	m.Subject(r.Subject)
	m.SetMessageIDWithValue(MessageIDLocal(key) + "@" + fromHost)
	m.SetDateWithValue(now)
	if r.UnsubscribeURL != "" { // every marketing email; not a notice to a colleague
		m.SetGenHeader("List-Unsubscribe", "<"+r.UnsubscribeURL+">")
		m.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	switch {
	case r.Text != "" && r.HTML != "":
		m.SetBodyString(gomail.TypeTextPlain, r.Text)
		m.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	case r.HTML != "":
		m.SetBodyString(gomail.TypeTextHTML, r.HTML)
	default:
		m.SetBodyString(gomail.TypeTextPlain, r.Text)
	}
	return m, Result{}
}

// deliver sends msg on a pooled connection. A reused connection that
// turns out dead before the server took the message is replaced and the
// message tried once more on a new one.
func (e *EmailSender) deliver(ctx context.Context, cfg *emailConfig, msg *gomail.Msg, key string) (Result, error) {
	for attempt := 0; ; attempt++ {
		conn, reused, err := cfg.pool.get(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("email %s: connect to %s:%d: %w", key, cfg.settings.Host, cfg.settings.Port, err)
		}
		err = cfg.pool.client.SendWithSMTPClient(conn, msg)
		if err == nil {
			cfg.pool.put(conn, true)
			id := strings.TrimSpace(msg.ServerResponse())
			if id == "" {
				id = MessageIDLocal(key)
			}
			return Result{Status: Sent, ProviderID: clipStr(id, 200)}, nil
		}
		var se *gomail.SendError
		if !errors.As(err, &se) {
			cfg.pool.put(conn, false)
			return Result{}, fmt.Errorf("email %s: %w", key, err)
		}
		code := se.ErrorCode()
		switch {
		case code >= 500 && se.Reason == gomail.ErrSMTPMailFrom:
			// The sender refused (not logged in, a from the server does
			// not allow): a setting to fix, not this recipient's fault.
			cfg.pool.put(conn, true)
			return Result{}, fmt.Errorf("email %s: the server refused the sender (check email.smtp): %w", key, err)
		case code >= 500:
			cfg.pool.put(conn, true)
			return Result{Status: Failed, Reason: clipStr(fmt.Sprintf("smtp %d: %s", code, firstLine(se)), 300)}, nil
		case code >= 400:
			cfg.pool.put(conn, code != 421)
			return Result{}, fmt.Errorf("email %s: the server deferred it: %w", key, err)
		}
		cfg.pool.put(conn, false)
		// Nothing was taken when the connection failed its check or the
		// first command: safe to send again on a new connection.
		if reused && attempt == 0 && (se.Reason == gomail.ErrConnCheck || se.Reason == gomail.ErrSMTPMailFrom) {
			e.retries.Add(1)
			continue
		}
		return Result{}, fmt.Errorf("email %s: %w", key, err)
	}
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

// Preview renders an email step for a person as it would go, with the
// message key given (links are signed for it).
func (e *EmailSender) Preview(ctx context.Context, personID int64, key, subject, htmlBody, textBody string) (Rendered, error) {
	tpl, err := ParseEmailTemplates(subject, htmlBody, textBody)
	if err != nil {
		return Rendered{}, err
	}
	rec, err := e.recipient(ctx, personID)
	if err != nil {
		return Rendered{}, err
	}
	cfg, err := e.config(ctx)
	if err != nil {
		return Rendered{}, err
	}
	return cfg.render(tpl, rec, key), nil
}

// SendTest sends one email to the address to, rendered for the person
// with personID when it is not 0 (else every variable is empty and takes
// its default). Its links are signed for person 0 (they record nothing
// for anyone).
func (e *EmailSender) SendTest(ctx context.Context, to string, personID int64, key, subject, htmlBody, textBody string) (Result, error) {
	tpl, err := ParseEmailTemplates(subject, htmlBody, textBody)
	if err != nil {
		return Result{}, err
	}
	var rec store.EmailRecipient
	if personID != 0 {
		if rec, err = e.recipient(ctx, personID); err != nil {
			return Result{}, err
		}
	}
	rec.PersonID = 0
	cfg, err := e.ready(ctx)
	if err != nil {
		return Result{}, err
	}
	msg, res := cfg.compose(cfg.render(tpl, rec, key), "", to, "", key, e.o.Now())
	if msg == nil {
		return res, nil
	}
	return e.deliver(ctx, cfg, msg, key)
}

// SendNotice sends a plain-text notice to a colleague (the reminder of an
// action item): no template, no tracking and no unsubscribe link — it is
// the team's own mail, not marketing. The key makes its Message-ID.
func (e *EmailSender) SendNotice(ctx context.Context, to, key, subject, text string) (Result, error) {
	cfg, err := e.connected(ctx) // no links: no public address needed
	if err != nil {
		return Result{}, err
	}
	r := Rendered{Subject: clipStr(strings.Join(strings.Fields(subject), " "), maxRenderedSubject), Text: text}
	msg, res := cfg.compose(r, "", to, "", key, e.o.Now())
	if msg == nil {
		return res, nil
	}
	return e.deliver(ctx, cfg, msg, key)
}

// ParseLink checks a link token of kind (LinkUnsubscribe, LinkOpen,
// LinkClick) against the store's key.
func (e *EmailSender) ParseLink(ctx context.Context, kind byte, token string) (LinkToken, error) {
	key, err := e.o.Store.EmailLinkKey(ctx)
	if err != nil {
		return LinkToken{}, err
	}
	return NewLinkSigner(key).Parse(kind, token)
}
