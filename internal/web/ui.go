package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// sessionCookie holds a login session token.
const sessionCookie = "revloop_session"

// secureCookies says whether cookies carry the Secure attribute. Browsers
// keep Secure cookies on https and on plain http to loopback, so only
// deployments serving plain http to other hosts turn it off.
func (s *Server) secureCookies(*http.Request) bool { return !s.insecureCookies }

// staticFile is an embedded asset with a content hash for cache validation.
// Text assets are also served gzipped (echarts is 1.1 MB as is, 0.36 MB
// gzipped), compressed on first request so that start-up stays quick.
type staticFile struct {
	body  []byte
	etag  string
	ctype string
	gz    *lazyGzip // nil: served as is
}

type lazyGzip struct {
	once sync.Once
	body []byte
}

func (z *lazyGzip) bytes(plain []byte) []byte {
	z.once.Do(func() {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(plain)
		w.Close()
		z.body = buf.Bytes()
	})
	return z.body
}

// compressible says whether a type is worth gzipping.
func compressible(ctype string) bool {
	for _, p := range []string{"text/", "application/javascript", "text/javascript", "image/svg+xml", "application/json"} {
		if strings.HasPrefix(ctype, p) {
			return true
		}
	}
	return false
}

func loadStatic() (map[string]staticFile, error) {
	out := map[string]staticFile{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		f := staticFile{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
		if len(b) > 1024 && compressible(ctype) {
			f.gz = &lazyGzip{}
		}
		out[strings.TrimPrefix(p, "static/")] = f
		return nil
	})
	return out, err
}

// assetURL names an asset with its hash, so that it can be cached for long
// and still change with a new release.
func (s *Server) assetURL(name string) string {
	f, ok := s.static[name]
	if !ok {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + strings.Trim(f.etag, `"`)
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static[r.PathValue("file")]
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	if r.URL.Query().Get("v") == strings.Trim(f.etag, `"`) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=3600")
	}
	body := f.body
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body = f.gz.bytes(f.body)
			h.Set("Content-Encoding", "gzip")
			h.Set("ETag", strings.TrimSuffix(f.etag, `"`)+`-gz"`)
		}
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reads Accept-Encoding (gzip, or gzip;q=… above 0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

func (s *Server) favicon(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, s.assetURL("favicon.svg"), http.StatusMovedPermanently)
}

// parseTemplates parses every page of templates/ (each with the layout
// and the partials) and the partials alone, for fragments.
func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"money":      formatMoney,
		"moneyPtr":   formatMoneyPtr,
		"int":        formatInt,
		"percent":    formatPercent,
		"roiHTML":    roiHTML,
		"asset":      s.assetURL,
		"tip":        tipHTML,
		"filterPart": filterPart,
		"kpisPart":   kpisPart,
		"tablePart":  tablePart,
		"jobPart":    jobPart,
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", f)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	t, err := template.New("partials.html").Funcs(funcs).ParseFS(templateFS, "templates/partials.html")
	if err != nil {
		return nil, err
	}
	pages["partials"] = t
	return pages, nil
}

// pageData is what every page template gets.
type pageData struct {
	L        Locale
	Title    string
	User     *model.User
	Nav      []navGroupView // empty when logged out
	Langs    []LangLink
	Version  string
	Content  any
	BodyName string
	// Unread is the user's unread notifications, for the bell.
	Unread int
}

// render writes a page, rendered in full first so that a template error
// becomes a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name, titleKey string, content any) {
	loc := s.locale(w, r)
	d := pageData{L: loc, Title: loc.T(titleKey), Langs: langLinks(r, loc), Version: s.version, Content: content, BodyName: name}
	if u, ok := userFrom(r.Context()); ok {
		d.User = &u
		current := name
		if n, ok := content.(interface{ NavKey() string }); ok {
			current = n.NavKey() // a detail page lights its list's entry
		}
		d.Nav = navFor(u.Role, current)
		n, err := s.store.CountUnreadNotifications(r.Context(), u.ID)
		if err != nil {
			s.log.Warn("count notifications", "err", err) // the page goes on without the count
		}
		d.Unread = n
	}
	var buf bytes.Buffer
	if err := s.pages[name].Execute(&buf, d); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Language, Cookie")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// locale picks the request's language and remembers an explicit ?lang=.
func (s *Server) locale(w http.ResponseWriter, r *http.Request) Locale {
	l, explicit := requestLang(r)
	if explicit {
		s.setLangCookie(w, r, l)
	}
	return s.catalog.locale(l)
}

type errorPage struct {
	Code    int
	Message string
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, code int, key string) {
	loc := s.catalog.locale(langOnly(r))
	s.render(w, r, code, "error", "error.title", errorPage{Code: code, Message: loc.T(key)})
}

// pageInternal answers a page whose request failed on err: 503 with
// Retry-After while the database cannot be written (see /readyz), 500
// otherwise. what names the page in the log.
func (s *Server) pageInternal(w http.ResponseWriter, r *http.Request, what string, err error) {
	if store.Unwritable(err) {
		s.log.Error(what+": the database cannot be written", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "30")
		s.renderError(w, r, http.StatusServiceUnavailable, "error.unwritable")
		return
	}
	s.log.Error(what, "path", r.URL.Path, "err", err)
	s.renderError(w, r, http.StatusInternalServerError, "error.internal")
}

func langOnly(r *http.Request) Lang {
	l, _ := requestLang(r)
	return l
}

// requireUser lets a logged-in user through and sends everyone else to
// the login page, remembering where they were going.
func (s *Server) requireUser(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.sessionUser(r)
		if errors.Is(err, auth.ErrNoSession) {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.pageInternal(w, r, "check session", err)
			return
		}
		next(w, r.WithContext(withUser(r.Context(), u)))
	})
}

func (s *Server) sessionUser(r *http.Request) (model.User, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return model.User{}, auth.ErrNoSession
	}
	return s.auth.SessionUser(r.Context(), c.Value)
}

// safeNext accepts only a path on this site as a place to go after login:
// "/x?y" yes; "//evil.example", "/\evil.example", "https://evil.example" no.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	return next
}

type loginForm struct {
	Email string
	Next  string
	Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := s.sessionUser(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	// The language links repeat the query: give them the checked next only.
	q := r.URL.Query()
	q.Del("next")
	if next != "/" {
		q.Set("next", next)
	}
	r = r.WithContext(r.Context())
	u := *r.URL
	u.RawQuery = q.Encode()
	r.URL = &u
	s.render(w, r, http.StatusOK, "login", "login.title", loginForm{Next: next})
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "login", "login.title", loginForm{Next: "/", Error: s.catalog.locale(langOnly(r)).T("login.missing_fields")})
		return
	}
	loc := s.catalog.locale(langOnly(r))
	form := loginForm{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: safeNext(r.PostForm.Get("next"))}
	password := r.PostForm.Get("password")
	if form.Email == "" || password == "" {
		form.Error = loc.T("login.missing_fields")
		s.render(w, r, http.StatusBadRequest, "login", "login.title", form)
		return
	}
	if len(password) > 1024 || len(form.Email) > 320 {
		form.Error = loc.T("login.bad_credentials")
		s.render(w, r, http.StatusUnauthorized, "login", "login.title", form)
		return
	}
	ip := s.clientIP(r)
	token, u, err := s.login(r.Context(), form.Email, password, ip)
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		s.log.Warn("login refused", "reason", "throttled", "email", form.Email, "ip", ip, "retry_after", throttled.RetryAfter.Round(time.Second).String())
		w.Header().Set("Retry-After", retryAfter(throttled.RetryAfter))
		form.Error = loc.T("login.throttled", "minutes", max(1, int((throttled.RetryAfter+time.Minute-1)/time.Minute)))
		s.render(w, r, http.StatusTooManyRequests, "login", "login.title", form)
		return
	case errors.Is(err, auth.ErrBadCredentials):
		s.log.Warn("login failed", "reason", "bad credentials", "email", form.Email, "ip", ip)
		form.Error = loc.T("login.bad_credentials")
		s.render(w, r, http.StatusUnauthorized, "login", "login.title", form)
		return
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, errLoginBusy):
		form.Error = loc.T("login.busy")
		s.render(w, r, http.StatusServiceUnavailable, "login", "login.title", form)
		return
	case err != nil:
		s.pageInternal(w, r, "login", err)
		return
	}
	s.log.Info("login", "user_id", u.ID, "ip", ip)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: int(s.auth.SessionTTL / time.Second),
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, form.Next, http.StatusSeeOther)
}

var errLoginBusy = errors.New("too many concurrent logins")

// login runs auth.Login inside the bounded pool of password checks.
func (s *Server) login(ctx context.Context, email, password, clientIP string) (string, model.User, error) {
	wait := time.NewTimer(10 * time.Second)
	defer wait.Stop()
	select {
	case s.loginSlots <- struct{}{}:
	case <-wait.C:
		return "", model.User{}, errLoginBusy
	case <-ctx.Done():
		return "", model.User{}, ctx.Err()
	}
	defer func() { <-s.loginSlots }()
	return s.auth.Login(ctx, email, password, clientIP)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.auth.Logout(r.Context(), c.Value); err != nil {
			s.pageInternal(w, r, "logout", err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// rangeText says which days a page shows.
func rangeText(loc Locale, from, to string) string {
	switch {
	case from != "" && to != "":
		return loc.T("overview.range", "from", from, "to", to)
	case from != "":
		return loc.T("overview.since", "from", from)
	case to != "":
		return loc.T("overview.until", "to", to)
	}
	return loc.T("overview.all_time")
}
