package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/links"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Email: the SMTP setting (GET/PUT /api/v1/settings/email.smtp, the
// password sealed and never shown), preview and test send, bounce,
// complaint and reply reports, the suppression list, and the public
// endpoints every email points at: one-click unsubscribe (/u/{token}),
// the open pixel (/e/o/{token}) and the click redirect (/e/c/{token}).
// The page /settings/email is the administrators' form for all of it.
// docs/email.md describes them.

// emailMetrics counts the public email endpoints' hits.
type emailMetrics struct {
	hits *prometheus.CounterVec
}

// Bounds of the email API.
const (
	maxEmailReports      = 1000 // reports in one batch
	maxSuppressionList   = 1000
	defaultSuppressionLs = 100
)

func (s *Server) emailRoutes(m *http.ServeMux) error {
	em := &emailMetrics{hits: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "revloop_email_hits_total",
		Help: "Hits of the public email endpoints, by kind (open, click, unsubscribe) and result (recorded, bad_token, error).",
	}, []string{"kind", "result"})}
	if err := s.metrics.registry.Register(em.hits); err != nil {
		return err
	}
	m.Handle("GET /api/v1/settings/email.smtp", s.requireRole(model.RoleAdmin, s.apiEmailSettings))
	m.Handle("PUT /api/v1/settings/email.smtp", s.requireRole(model.RoleAdmin, s.apiPutEmailSettings))
	m.Handle("POST /api/v1/email/preview", s.requireRole(model.RoleMarketer, s.apiEmailPreview))
	m.Handle("POST /api/v1/email/test", s.requireRole(model.RoleMarketer, s.apiEmailTest))
	m.Handle("POST /api/v1/email/bounces", s.requireRole(model.RoleMarketer, s.apiEmailBounces))
	m.Handle("GET /api/v1/email/suppressions", s.requireRole(model.RoleAdmin, s.apiEmailSuppressions))
	m.Handle("POST /api/v1/email/suppressions", s.requireRole(model.RoleAdmin, s.apiAddEmailSuppression))
	m.Handle("DELETE /api/v1/email/suppressions/{email}", s.requireRole(model.RoleAdmin, s.apiDeleteEmailSuppression))
	m.Handle("GET /api/v1/email/messages/{key}/events", s.requireRole(model.RoleMarketer, s.apiMessageEvents))

	m.Handle("GET /settings/email", s.page("email", s.emailPage))
	m.Handle("POST /settings/email/smtp", s.page("email", s.emailPageSave))
	m.Handle("POST /settings/email/test", s.page("email", s.emailPageTest))
	m.Handle("POST /settings/email/unsuppress", s.page("email", s.emailPageUnsuppress))

	m.HandleFunc("GET /u/{token}", s.unsubscribePage)
	m.HandleFunc("POST /u/{token}", func(w http.ResponseWriter, r *http.Request) { s.unsubscribe(w, r, em) })
	m.HandleFunc("GET /e/o/{token}", func(w http.ResponseWriter, r *http.Request) { s.emailOpen(w, r, em) })
	m.HandleFunc("GET /e/c/{token}", func(w http.ResponseWriter, r *http.Request) { s.emailClick(w, r, em) })
	// Mail clients post the one-click unsubscribe from no page of ours
	// (RFC 8058): no cross-origin check, and no login.
	s.csrfBypass = append(s.csrfBypass, "POST /u/{token}")
	return nil
}

func (s *Server) apiEmailSettings(w http.ResponseWriter, r *http.Request) {
	v, err := message.ViewSMTP(r.Context(), s.store, s.app.Secrets)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// saveSMTP stores the setting and has the sender read it again; a
// refused value comes back as its message (the caller answers 400).
func (s *Server) saveSMTP(ctx context.Context, in message.SMTPInput) (message.SMTPView, string, error) {
	v, err := message.SaveSMTP(ctx, s.store, s.app.Secrets, in)
	var se *message.SettingsError
	switch {
	case errors.As(err, &se):
		return v, se.Error(), nil
	case errors.Is(err, message.ErrNoSecretKey):
		return v, "email.smtp password: " + err.Error(), nil
	case err != nil:
		return v, "", err
	}
	s.app.Email.Reload()
	return v, "", nil
}

func (s *Server) apiPutEmailSettings(w http.ResponseWriter, r *http.Request) {
	var in message.SMTPInput
	if !decodeBody(w, r, &in, `with host, port, username, password, tls ("none", "starttls" or "tls") and from`) {
		return
	}
	v, refused, err := s.saveSMTP(r.Context(), in)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if refused != "" {
		writeJSONError(w, http.StatusBadRequest, refused)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

type emailPreviewRequest struct {
	Subject  string `json:"subject"`
	HTML     string `json:"html"`
	Text     string `json:"text"`
	PersonID int64  `json:"person_id"`
}

func (s *Server) apiEmailPreview(w http.ResponseWriter, r *http.Request) {
	var req emailPreviewRequest
	if !decodeBody(w, r, &req, "with subject, html, text and person_id") {
		return
	}
	if req.PersonID <= 0 {
		writeJSONError(w, http.StatusBadRequest, "person_id: required (the person the preview is rendered for)")
		return
	}
	out, err := s.app.Email.Preview(r.Context(), req.PersonID, "preview", req.Subject, req.HTML, req.Text)
	var te *message.TemplateError
	switch {
	case errors.As(err, &te):
		writeJSONError(w, http.StatusBadRequest, te.Error())
		return
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("person_id: person %d does not exist", req.PersonID))
		return
	case err != nil:
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type emailTestRequest struct {
	To       string `json:"to"`
	Subject  string `json:"subject"`
	HTML     string `json:"html"`
	Text     string `json:"text"`
	PersonID int64  `json:"person_id,omitempty"`
}

// checkTestAddress refuses anything but one plain address.
func checkTestAddress(to string) error {
	a, err := mail.ParseAddress(strings.TrimSpace(to))
	if to == "" {
		return errors.New("to: required (the address the test goes to)")
	}
	if err != nil || len(to) > 320 || a.Address != strings.TrimSpace(to) {
		return fmt.Errorf("to: %q is not one email address", clip(to, 100))
	}
	return nil
}

// sendTest sends one test email; refused is a message for the sender of
// the request (a bad address or template, no SMTP server, the server's
// refusal).
func (s *Server) sendTest(ctx context.Context, req emailTestRequest) (message.Result, string, error) {
	if err := checkTestAddress(req.To); err != nil {
		return message.Result{}, err.Error(), nil
	}
	key := "test-" + links.NewAnonymousID()
	res, err := s.app.Email.SendTest(ctx, strings.TrimSpace(req.To), req.PersonID, key, req.Subject, req.HTML, req.Text)
	var te *message.TemplateError
	switch {
	case errors.As(err, &te):
		return res, te.Error(), nil
	case errors.Is(err, store.ErrNotFound):
		return res, fmt.Sprintf("person_id: person %d does not exist", req.PersonID), nil
	case err != nil:
		// The SMTP server is unreachable, refuses the login or is not set:
		// the administrator needs to read why.
		return res, "not sent: " + err.Error(), nil
	}
	if res.Status != message.Sent {
		return res, "not sent: " + res.Reason, nil
	}
	return res, "", nil
}

func (s *Server) apiEmailTest(w http.ResponseWriter, r *http.Request) {
	var req emailTestRequest
	if !decodeBody(w, r, &req, "with to, subject, html and text") {
		return
	}
	res, refused, err := s.sendTest(r.Context(), req)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if refused != "" {
		code := http.StatusBadRequest
		if strings.HasPrefix(refused, "not sent") {
			code = http.StatusBadGateway
		}
		writeJSONError(w, code, refused)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// emailReport is one bounce, complaint or reply as the API takes it.
type emailReport struct {
	Email     string `json:"email"`
	Type      string `json:"type"`
	MessageID string `json:"message_id,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// apiEmailBounces takes one report, or {"reports": [...]} (at most
// maxEmailReports), each checked before any is stored.
func (s *Server) apiEmailBounces(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, "body")
	if !ok {
		return
	}
	var batch struct {
		Reports []emailReport `json:"reports"`
	}
	var list []emailReport
	single := true
	if strings.Contains(string(body[:min(len(body), 200)]), `"reports"`) {
		if err := parseObject(body, &batch); err != nil {
			writeJSONError(w, http.StatusBadRequest, `body must be {"reports": [{"email", "type", "message_id"}, ...]}: `+err.Error())
			return
		}
		list, single = batch.Reports, false
	} else {
		var one emailReport
		if err := parseObject(body, &one); err != nil {
			writeJSONError(w, http.StatusBadRequest, `body must be a JSON object with email, type ("hard", "soft", "complaint" or "reply") and message_id, or {"reports": [...]}: `+err.Error())
			return
		}
		list = []emailReport{one}
	}
	if len(list) == 0 || len(list) > maxEmailReports {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("reports: want 1 to %d", maxEmailReports))
		return
	}
	reps := make([]store.EmailReport, len(list))
	now := s.app.Now()
	for i, e := range list {
		field := "reports[" + strconv.Itoa(i) + "]."
		if single {
			field = ""
		}
		a, err := mail.ParseAddress(strings.TrimSpace(e.Email))
		if err != nil || len(e.Email) > 320 || a.Address != strings.TrimSpace(e.Email) {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("%semail: %q is not one email address", field, clip(e.Email, 100)))
			return
		}
		switch e.Type {
		case store.EmailHardBounce, store.EmailSoftBounce, store.EmailComplaint, store.EmailReply:
		default:
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("%stype: %q: want hard, soft, complaint or reply", field, clip(e.Type, 30)))
			return
		}
		key := ""
		if e.MessageID != "" {
			if key = message.MessageKeyFromID(e.MessageID); key == "" || len(key) > 200 {
				writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("%smessage_id: %q is not a Message-ID revloop made (<key@host>)", field, clip(e.MessageID, 100)))
				return
			}
		}
		if len(e.Detail) > 2000 {
			writeJSONError(w, http.StatusBadRequest, field+"detail: at most 2000 bytes")
			return
		}
		reps[i] = store.EmailReport{Email: e.Email, Type: e.Type, MessageKey: key, Detail: e.Detail, At: now}
	}
	out := make([]store.EmailReportResult, 0, len(reps))
	for _, rep := range reps {
		res, err := s.store.ReportEmail(r.Context(), rep, s.actor(r))
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		out = append(out, res)
	}
	if single {
		writeJSON(w, http.StatusOK, out[0])
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reports": out})
}

func (s *Server) apiEmailSuppressions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultSuppressionLs
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSuppressionList {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("limit: want 1 to %d", maxSuppressionList))
			return
		}
		limit = n
	}
	like := q.Get("q")
	if len(like) > 320 {
		writeJSONError(w, http.StatusBadRequest, "q: at most 320 bytes")
		return
	}
	list, err := s.store.EmailSuppressions(r.Context(), like, limit)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"suppressions": list})
}

func (s *Server) apiAddEmailSuppression(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email  string `json:"email"`
		Detail string `json:"detail"`
	}
	if !decodeBody(w, r, &req, "with email and detail") {
		return
	}
	if err := checkTestAddress(req.Email); err != nil {
		writeJSONError(w, http.StatusBadRequest, "email"+strings.TrimPrefix(err.Error(), "to"))
		return
	}
	if len(req.Detail) > 500 {
		writeJSONError(w, http.StatusBadRequest, "detail: at most 500 bytes")
		return
	}
	added, err := s.store.SuppressEmail(r.Context(), req.Email, store.SuppressManual, req.Detail, s.actor(r), s.app.Now())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	code := http.StatusOK
	if added {
		code = http.StatusCreated
	}
	writeJSON(w, code, map[string]any{"email": store.NormalizeEmail(req.Email), "added": added})
}

func (s *Server) apiDeleteEmailSuppression(w http.ResponseWriter, r *http.Request) {
	email := r.PathValue("email")
	if len(email) > 320 {
		writeJSONError(w, http.StatusBadRequest, "email: at most 320 bytes")
		return
	}
	ok, err := s.store.UnsuppressEmail(r.Context(), email)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	if !ok {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("%q is not suppressed", clip(email, 100)))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"email": store.NormalizeEmail(email), "removed": true})
}

func (s *Server) apiMessageEvents(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if key == "" || len(key) > 200 {
		writeJSONError(w, http.StatusBadRequest, "key: want 1 to 200 characters")
		return
	}
	list, err := s.store.MessageEvents(r.Context(), key)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"message_key": key, "events": list})
}

// unsubscribeView is the unsubscribe page's content.
type unsubscribeView struct {
	Token string
	Email string // the address, partly hidden
	Done  bool
	Bad   bool
}

func (unsubscribeView) NavKey() string { return "" }

// maskEmail hides most of an address's local part: the page is seen by
// whoever holds the link.
func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" {
		return ""
	}
	r := []rune(local)
	return string(r[0]) + strings.Repeat("•", min(len(r)-1, 6)) + "@" + domain
}

// unsubscribePage answers GET /u/{token}: a page with a button that
// posts the unsubscribe. Opening the link changes nothing: mail scanners
// open every link.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	tok, err := s.app.Email.ParseLink(r.Context(), message.LinkUnsubscribe, r.PathValue("token"))
	if errors.Is(err, message.ErrBadToken) {
		s.render(w, r, http.StatusNotFound, "unsubscribe", "email.unsubscribe.title", unsubscribeView{Bad: true})
		return
	}
	if err != nil {
		s.pageInternal(w, r, "unsubscribe page", err)
		return
	}
	v := unsubscribeView{Token: r.PathValue("token")}
	if tok.PersonID != 0 {
		if rec, err := s.store.EmailRecipient(r.Context(), tok.PersonID); err == nil {
			v.Email = maskEmail(rec.Email)
		}
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, http.StatusOK, "unsubscribe", "email.unsubscribe.title", v)
}

// unsubscribe answers POST /u/{token} (the page's button, or a mail
// client's one-click post, RFC 8058): the person's email consent is
// denied at once, source "unsubscribe", and the message's outcome
// recorded. A merged person's survivor is the one unsubscribed. Posting
// again changes nothing more.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request, em *emailMetrics) {
	ctx := r.Context()
	token := r.PathValue("token")
	tok, err := s.app.Email.ParseLink(ctx, message.LinkUnsubscribe, token)
	if errors.Is(err, message.ErrBadToken) {
		em.hits.WithLabelValues("unsubscribe", "bad_token").Inc()
		s.render(w, r, http.StatusNotFound, "unsubscribe", "email.unsubscribe.title", unsubscribeView{Bad: true})
		return
	}
	if err != nil {
		s.pageInternal(w, r, "unsubscribe", err)
		return
	}
	if tok.PersonID != 0 {
		if err := s.denyEmailConsent(ctx, tok.PersonID, tok.MessageKey); err != nil && !errors.Is(err, store.ErrNotFound) {
			em.hits.WithLabelValues("unsubscribe", "error").Inc()
			s.pageInternal(w, r, "unsubscribe", err)
			return
		}
	}
	em.hits.WithLabelValues("unsubscribe", "recorded").Inc()
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, http.StatusOK, "unsubscribe", "email.unsubscribe.title", unsubscribeView{Done: true})
}

// denyEmailConsent records the unsubscribe of person (or their
// survivor) and the message's outcome.
func (s *Server) denyEmailConsent(ctx context.Context, person int64, key string) error {
	now := s.app.Now()
	set := []model.ConsentSet{{Channel: message.ChannelEmail, Status: model.ConsentDenied, Source: "unsubscribe"}}
	for range 8 {
		_, err := s.store.SetConsents(ctx, person, set, "unsubscribe link", now)
		var merged store.ErrMerged
		if errors.As(err, &merged) {
			person = merged.Into
			continue
		}
		if err != nil {
			return err
		}
		if key != "" {
			_, err = s.store.RecordMessageEvent(ctx, key, store.MessageUnsubscribed, person, "", now)
		}
		return err
	}
	return fmt.Errorf("person %d: merge chain too long", person)
}

// emailHit records an open or a click: the message's outcome, and the
// touch through the collector (aid is the browser's anonymous id, "" for
// a fresh one). Failures are counted and logged; the person still gets
// the pixel or their page.
func (s *Server) emailHit(r *http.Request, em *emailMetrics, kind string, tok message.LinkToken, aid string) {
	ctx := r.Context()
	if tok.PersonID == 0 { // a test send: nobody's
		return
	}
	outcome, event := store.MessageOpened, collect.EventEmailOpened
	if kind == "click" {
		outcome, event = store.MessageClicked, collect.EventEmailClicked
	}
	// A scanner's click is no reader's: it is stored as a bot's touch (the
	// collector flags it) but is not the message's outcome. Opens are kept
	// whoever loads the image: mail providers' image proxies load it for
	// their readers.
	scanner := kind == "click" && s.collector != nil && s.collector.IsBot(r.UserAgent())
	if !scanner {
		if _, err := s.store.RecordMessageEvent(ctx, tok.MessageKey, outcome, tok.PersonID, tok.URL, s.app.Now()); err != nil {
			s.log.Error("record email "+kind, "key", tok.MessageKey, "err", err)
			em.hits.WithLabelValues(kind, "error").Inc()
			return
		}
	}
	rec, err := s.store.EmailRecipient(ctx, tok.PersonID)
	if err != nil || rec.Email == "" || s.collector == nil {
		em.hits.WithLabelValues(kind, "recorded").Inc()
		return
	}
	err = s.collector.RecordEmail(r, collect.EmailHit{Event: event, Email: rec.Email, MessageKey: tok.MessageKey, URL: tok.URL, AnonymousID: aid})
	var rej *collect.Rejection
	switch {
	case errors.As(err, &rej):
		em.hits.WithLabelValues(kind, rej.Reason).Inc()
	case err != nil:
		s.log.Error("store email "+kind, "key", tok.MessageKey, "err", err)
		em.hits.WithLabelValues(kind, "error").Inc()
	default:
		em.hits.WithLabelValues(kind, "recorded").Inc()
	}
}

// emailOpen answers GET /e/o/{token} with a 1×1 GIF whatever happens.
func (s *Server) emailOpen(w http.ResponseWriter, r *http.Request, em *emailMetrics) {
	defer func() {
		h := w.Header()
		h.Set("Content-Type", "image/gif")
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate, private")
		w.Write(gif1x1)
	}()
	tok, err := s.app.Email.ParseLink(r.Context(), message.LinkOpen, r.PathValue("token"))
	if err != nil {
		em.hits.WithLabelValues("open", "bad_token").Inc()
		return
	}
	s.emailHit(r, em, "open", tok, "")
}

// emailClick answers GET /e/c/{token}: a 302 to the URL the token signs,
// after the click is recorded. Nothing in the request but a valid token
// chooses where: there is no open redirect.
func (s *Server) emailClick(w http.ResponseWriter, r *http.Request, em *emailMetrics) {
	tok, err := s.app.Email.ParseLink(r.Context(), message.LinkClick, r.PathValue("token"))
	if err != nil || !strings.HasPrefix(tok.URL, "http://") && !strings.HasPrefix(tok.URL, "https://") {
		em.hits.WithLabelValues("click", "bad_token").Inc()
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	aid := ""
	if c, err := r.Cookie(anonCookie); err == nil && links.ValidAnonymousID(c.Value) {
		aid = c.Value
	} else {
		aid = links.NewAnonymousID()
	}
	s.emailHit(r, em, "click", tok, aid)
	http.SetCookie(w, &http.Cookie{Name: anonCookie, Value: aid, Path: "/", MaxAge: 2 * 365 * 24 * 3600,
		HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer-when-downgrade")
	http.Redirect(w, r, tok.URL, http.StatusFound)
}

// emailPageView is the email settings page's content.
type emailPageView struct {
	SMTP         message.SMTPView
	Form         message.SMTPInput // what the form shows (after a refusal: what was sent)
	FormError    string
	Notice       string
	Done         string // what the notice is about: saved, sent, unsuppressed
	TestError    string
	Test         emailTestRequest
	Suppressions []store.EmailSuppression
	Variables    [][2]string
	TLSModes     []string
}

func (emailPageView) NavKey() string { return "email" }

func (s *Server) emailPage(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	v := emailPageView{}
	switch v.Done = r.URL.Query().Get("done"); v.Done {
	case "saved":
		v.Notice = l.T("email.saved")
	case "sent":
		v.Notice = l.T("email.test_sent")
	case "unsuppressed":
		v.Notice = l.T("email.unsuppressed")
	}
	s.renderEmailPage(w, r, http.StatusOK, v, nil)
}

func (s *Server) renderEmailPage(w http.ResponseWriter, r *http.Request, code int, v emailPageView, form *message.SMTPInput) {
	ctx := r.Context()
	smtp, err := message.ViewSMTP(ctx, s.store, s.app.Secrets)
	if err != nil {
		s.pageInternal(w, r, "email page", err)
		return
	}
	v.SMTP = smtp
	if form != nil {
		v.Form = *form
	} else {
		v.Form = message.SMTPInput{Host: smtp.Host, Port: smtp.Port, Username: smtp.Username, TLS: smtp.TLS, From: smtp.From}
	}
	if v.Test.Subject == "" {
		l := s.catalog.locale(langOnly(r))
		v.Test = emailTestRequest{Subject: l.T("email.test_subject"), Text: l.T("email.test_text")}
	}
	if v.Suppressions, err = s.store.EmailSuppressions(ctx, "", defaultSuppressionLs); err != nil {
		s.pageInternal(w, r, "email page", err)
		return
	}
	v.Variables = message.EmailVariables()
	v.TLSModes = []string{message.TLSStartTLS, message.TLSImplicit, message.TLSNone}
	s.render(w, r, code, "email", "email.title", v)
}

func (s *Server) emailPageSave(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderEmailPage(w, r, http.StatusBadRequest, emailPageView{FormError: l.T("email.error.form")}, nil)
		return
	}
	f := r.PostForm
	port, err := strconv.Atoi(strings.TrimSpace(f.Get("port")))
	in := message.SMTPInput{Host: f.Get("host"), Port: port, Username: f.Get("username"), TLS: f.Get("tls"), From: f.Get("from")}
	if p := f.Get("password"); p != "" {
		in.Password = &p
	} else if f.Get("clear_password") != "" {
		empty := ""
		in.Password = &empty
	}
	if err != nil {
		in.Port = 0
	}
	_, refused, err := s.saveSMTP(r.Context(), in)
	if err != nil {
		s.pageInternal(w, r, "save email settings", err)
		return
	}
	if refused != "" {
		in.Password = nil
		s.renderEmailPage(w, r, http.StatusBadRequest, emailPageView{FormError: refused}, &in)
		return
	}
	http.Redirect(w, r, "/settings/email?done=saved", http.StatusSeeOther)
}

func (s *Server) emailPageTest(w http.ResponseWriter, r *http.Request) {
	l := s.catalog.locale(langOnly(r))
	r.Body = http.MaxBytesReader(w, r.Body, 512<<10)
	if err := r.ParseForm(); err != nil {
		s.renderEmailPage(w, r, http.StatusBadRequest, emailPageView{TestError: l.T("email.error.form")}, nil)
		return
	}
	f := r.PostForm
	req := emailTestRequest{To: strings.TrimSpace(f.Get("to")), Subject: f.Get("subject"), HTML: f.Get("html"), Text: f.Get("text")}
	_, refused, err := s.sendTest(r.Context(), req)
	if err != nil {
		s.pageInternal(w, r, "send test email", err)
		return
	}
	if refused != "" {
		s.renderEmailPage(w, r, http.StatusBadRequest, emailPageView{TestError: refused, Test: req}, nil)
		return
	}
	http.Redirect(w, r, "/settings/email?done=sent#test", http.StatusSeeOther)
}

func (s *Server) emailPageUnsuppress(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		l := s.catalog.locale(langOnly(r))
		s.renderEmailPage(w, r, http.StatusBadRequest, emailPageView{FormError: l.T("email.error.form")}, nil)
		return
	}
	if _, err := s.store.UnsuppressEmail(r.Context(), r.PostForm.Get("email")); err != nil {
		s.pageInternal(w, r, "unsuppress", err)
		return
	}
	http.Redirect(w, r, "/settings/email?done=unsuppressed#suppressions", http.StatusSeeOther)
}
