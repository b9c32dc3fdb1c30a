// Package web is revloop's HTTP server: the JSON API under /api/v1, the
// server-rendered pages (zh-CN and English), login sessions, health and
// readiness probes and Prometheus metrics, over the services an app.App
// holds. Handlers are thin: they parse a request, call the app's services
// or a domain package, and render. Nothing here runs in the background.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/revloop/revloop/internal/app"
	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
)

// Options are what a Server needs from the command that starts it.
type Options struct {
	App *app.App
	// InsecureCookies drops the Secure attribute from cookies, for
	// plain-HTTP deployments that are not on loopback. By default cookies
	// are Secure: browsers keep Secure cookies over https and over plain
	// http to loopback (127.0.0.1, localhost), which they treat as a secure
	// context, so `revloop serve` on a laptop works without it.
	InsecureCookies bool
	// MetricsToken, when not empty, is the bearer token /metrics requires.
	MetricsToken string
}

// Server serves the API, the pages and the operational endpoints.
type Server struct {
	app             *app.App
	store           *store.Store
	auth            *auth.Service
	reports         report.Reporter
	attribution     *report.Attributor
	log             *slog.Logger
	version         string
	insecureCookies bool
	metricsToken    string
	listenBase      atomic.Value // string: the bound address, set by Listening

	catalog    catalog
	pages      map[string]*template.Template
	static     map[string]staticFile
	metrics    *metrics
	mux        *http.ServeMux
	handler    http.Handler
	loginSlots chan struct{}

	// csrfBypass are the public endpoints exempt from the cross-origin
	// form check (the collector, tracked links and pixels are called from
	// other sites).
	csrfBypass []string

	// collector takes every event: the /v1 API, tracked-link clicks and
	// pixel hits. Nil on a worker, which serves only health and metrics.
	collector *collect.Collector

	// exportMax bounds the rows of a list's export (listExportMax; the
	// tests lower it).
	exportMax int
}

// maxConcurrentLogins bounds simultaneous password checks: each argon2id
// check takes 64 MiB, so a burst of logins must queue rather than exhaust
// memory.
const maxConcurrentLogins = 4

// New builds a Server over an app; it fails only when the embedded
// templates or translations are broken or the app is missing. A worker's
// server answers health, readiness and metrics only.
func New(opts Options) (*Server, error) {
	a := opts.App
	if a == nil {
		return nil, errors.New("web: Options.App is required")
	}
	s := &Server{
		app:             a,
		store:           a.Store,
		auth:            a.Auth,
		reports:         report.Reporter{Store: a.Store, KeepFacts: true},
		attribution:     a.Attribution,
		log:             a.Log,
		version:         a.Version,
		insecureCookies: opts.InsecureCookies,
		metricsToken:    opts.MetricsToken,
		loginSlots:      make(chan struct{}, maxConcurrentLogins),
		collector:       a.Collector,
		exportMax:       listExportMax,
	}
	var err error
	if s.metrics, err = newMetrics(a.Metrics); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.catalog, err = loadCatalog(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.static, err = loadStatic(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if err := s.routes(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	csrf := http.NewCrossOriginProtection()
	for _, p := range s.csrfBypass {
		csrf.AddInsecureBypassPattern(p)
	}
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "cross-origin request refused: submit forms from revloop's own pages", "error.forbidden")
	}))
	s.handler = s.observe(s.recoverPanics(s.strictTransport(securityHeaders(csrf.Handler(http.HandlerFunc(s.dispatch))))))
	return s, nil
}

// Listening tells the server the base URL it was bound to: links and QR
// codes fall back to it when no public URL is set.
func (s *Server) Listening(baseURL string) {
	s.listenBase.Store(baseURL)
	s.app.Email.SetBaseURL(baseURL)
}

// Handler is the whole server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() error {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", s.metricsHandler())
	s.mux = m
	if !s.app.Role.Serves() {
		return nil
	}
	m.HandleFunc("GET /static/{file...}", s.serveStatic)
	m.HandleFunc("GET /favicon.ico", s.favicon)

	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.loginSubmit)
	m.HandleFunc("POST /logout", s.logout)

	m.Handle("GET /api/v1/stats", s.requireAPI(s.apiStats))
	m.Handle("GET /api/v1/funnel", s.requireAPI(s.apiFunnel))
	m.Handle("GET /api/v1/channels", s.requireAPI(s.apiChannels))
	for _, mount := range []func(*http.ServeMux) error{s.ingestRoutes, s.oneIDRoutes, s.privacyRoutes, s.linkRoutes, s.settingsRoutes,
		s.attributionRoutes, s.lifecycleRoutes, s.scoringRoutes, s.predictRoutes, s.routingRoutes, s.userRoutes, s.jobRoutes, s.toolsRoutes,
		s.workspaceRoutes, s.marketingRoutes, s.adsRoutes, s.eventsRoutes, s.contentRoutes, s.personsRoutes, s.salesRoutes,
		s.campaignRoutes, s.campaignLiftRoutes, s.accountRoutes, s.reviewRoutes, s.taskRoutes, s.notificationRoutes, s.periodReviewRoutes,
		s.promotionRoutes, s.contentReviewRoutes, s.messagingRoutes, s.segmentRoutes, s.emailRoutes, s.journeyRoutes, s.journeyPageRoutes} {
		if err := mount(m); err != nil {
			return err
		}
	}
	return nil
}

// dispatch routes a request and answers unknown paths and wrong methods in
// the caller's language: JSON under /api/, a page elsewhere.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// The mux's own answer says whether the path exists for other methods.
	rec := &discardWriter{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.fail(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow")), "error.method_not_allowed")
		return
	}
	s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s", r.URL.Path), "error.not_found")
}

// discardWriter captures a status and headers and drops the body.
type discardWriter struct {
	header http.Header
	code   int
}

func (d *discardWriter) Header() http.Header { return d.header }
func (d *discardWriter) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}
func (d *discardWriter) Write(b []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	return len(b), nil
}

// isAPI says whether a request expects JSON answers, errors included.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// fail answers an error: {"error": apiMsg} for the API, a translated page
// (pageKey) otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, apiMsg, pageKey string) {
	if isAPI(r) {
		writeJSONError(w, code, apiMsg)
		return
	}
	s.renderError(w, r, code, pageKey)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "db", s.store.Where(), "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unavailable\n"))
		return
	}
	// A ping answers from a read-only or full database too: prove a write.
	// Waiting too long for SQLite's one writer (a long import holds it) is
	// not a failure to write.
	switch err := s.store.WriteCheck(ctx); {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded) && !store.Unwritable(err):
		w.Write([]byte("ready (the database writer is busy)\n"))
		return
	default:
		s.log.Warn("readiness check failed: the database cannot be written", "db", s.store.Where(), "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database cannot be written\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// statusWriter remembers the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (sw *statusWriter) WriteHeader(code int) {
	if sw.code == 0 {
		sw.code = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.code == 0 {
		sw.code = http.StatusOK
	}
	n, err := sw.ResponseWriter.Write(b)
	sw.bytes += int64(n)
	return n, err
}

func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// observe logs every request (method, path, status, duration; never the
// query, headers or cookies, which may carry secrets) and counts it in the
// metrics under its route pattern.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		route := r.Pattern // set by the mux on this same request
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(route, methodLabel(r.Method), sw.code, d)
		level := slog.LevelInfo
		switch {
		case sw.code >= 500:
			level = slog.LevelError
		case quietRoute(route):
			level = slog.LevelDebug // probes and scrapes every few seconds would drown the log
		}
		s.log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
			slog.Int("status", sw.code), slog.Duration("duration", d), slog.Int64("bytes", sw.bytes))
	})
}

// quietRoute says whether a route is logged at debug level when it succeeds.
func quietRoute(route string) bool {
	switch route {
	case "GET /healthz", "GET /readyz", "GET /metrics", "GET /static/{file...}":
		return true
	}
	return false
}

// recoverPanics turns a handler panic into a 500 (JSON for the API, a page
// otherwise) and logs the stack, so that one bad request never takes the
// process down or shows a trace to the user.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.fail(w, r, http.StatusInternalServerError, "internal server error", "error.internal")
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders applies the headers every answer carries. The CSP allows
// only this origin: no inline script or style, no CDN.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// ListenAndServe serves the app on addr until ctx ends (app.Serve: the
// services start with the listener and drain after it). ready, if not
// nil, is called with the base URL once the listener is bound.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(baseURL string)) error {
	return s.app.Serve(ctx, addr, s.handler, func(base string) {
		s.Listening(base)
		if ready != nil {
			ready(base)
		}
	})
}
