package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// Where a request says it came from is believed only as far as it can be:
// the Host header is the client's to choose, and the X-Forwarded-* headers
// are anyone's unless a trusted proxy (collector.trusted_proxies) set them.

// viaTrustedProxy reports whether r's X-Forwarded-* headers may be believed.
func (s *Server) viaTrustedProxy(r *http.Request) bool {
	return s.collector != nil && s.collector.FromTrustedProxy(r)
}

// overTLS reports whether the client reached revloop over https: directly,
// or through a trusted proxy that says so.
func (s *Server) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.viaTrustedProxy(r) && strings.EqualFold(strings.TrimSpace(firstValue(r.Header.Get("X-Forwarded-Proto"))), "https")
}

// publicBase is the scheme and host short links, QR codes and snippets are
// built on: the links.public_url setting; else what a trusted proxy
// forwarded (X-Forwarded-Host, X-Forwarded-Proto); else the address the
// server listens on. Never the Host header of an arbitrary client, which
// would let anyone mint links and QR codes pointing elsewhere. Only a
// Server not started by ListenAndServe (a test, an embedding) falls back
// to the request's host.
func (s *Server) publicBase(r *http.Request) string {
	var v string
	if ok, err := s.store.Setting(r.Context(), SettingPublicURL, &v); err == nil && ok && v != "" {
		return strings.TrimRight(v, "/")
	}
	scheme := "http"
	if s.overTLS(r) {
		scheme = "https"
	}
	if s.viaTrustedProxy(r) {
		if h := strings.TrimSpace(firstValue(r.Header.Get("X-Forwarded-Host"))); validHost(h) {
			return scheme + "://" + h
		}
	}
	if base, ok := s.listenBase.Load().(string); ok && base != "" {
		return base
	}
	return scheme + "://" + r.Host
}

// firstValue is the first of a comma-separated header's values (the one
// the nearest proxy's client sent).
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return first
}

// validHost accepts a host name or address with an optional port, and
// nothing else (no user, path, spaces or control characters).
func validHost(h string) bool {
	if h == "" || len(h) > 255 || strings.ContainsAny(h, "/\\@?#% \t\r\n") {
		return false
	}
	host := h
	if hh, port, err := net.SplitHostPort(h); err == nil {
		host = hh
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return false
		}
	}
	if net.ParseIP(host) != nil {
		return true
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || strings.Trim(strings.ToLower(label), "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return true
}

// hstsHeader is a year: browsers that reached revloop over https keep
// using https.
const hstsHeader = "max-age=31536000"

// strictTransport adds Strict-Transport-Security to answers served over
// TLS (only: over plain http the header is meaningless and would be a lie).
func (s *Server) strictTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.overTLS(r) {
			w.Header().Set("Strict-Transport-Security", hstsHeader)
		}
		next.ServeHTTP(w, r)
	})
}

// metricsHandler serves /metrics, behind a bearer token when one is
// configured (--metrics-token, REVLOOP_METRICS_TOKEN).
func (s *Server) metricsHandler() http.Handler {
	h := s.metrics.handler()
	if s.metricsToken == "" {
		return h
	}
	want := []byte(s.metricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="revloop metrics"`)
			http.Error(w, "metrics need Authorization: Bearer <the metrics token>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
