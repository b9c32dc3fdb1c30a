package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// sdkFile is the bundled browser SDK inside the embedded static files
// (built by ui/build.sh, committed).
const sdkFile = "sdk/revloop.js"

// sdkRoutes serves the browser SDK and the tracking settings page.
func (s *Server) sdkRoutes(m *http.ServeMux) error {
	t, err := template.New("layout.html").Funcs(template.FuncMap{"asset": s.assetURL, "int": formatInt}).
		ParseFS(templateFS, "templates/layout.html", "templates/tracking.html")
	if err != nil {
		return err
	}
	s.pages["tracking"] = t
	m.HandleFunc("GET /sdk/revloop.js", s.serveSDK)
	m.Handle("GET /settings/tracking", s.page("tracking", s.trackingPage))
	return nil
}

// serveSDK serves the SDK at a fixed address (the one pasted into web
// sites), cached for an hour and revalidated by ETag after that.
func (s *Server) serveSDK(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static[sdkFile]
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "public, max-age=3600, stale-while-revalidate=86400")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// Snippet is the HTML to paste into a web site's pages for a write key.
func Snippet(base, writeKey string) string {
	return `<script async src="` + template.HTMLEscapeString(base) + `/sdk/revloop.js" data-write-key="` + template.HTMLEscapeString(writeKey) + `"></script>`
}

type trackingKey struct {
	model.WriteKey
	Snippet string
}

type trackingView struct {
	Base  string
	Keys  []trackingKey
	Links []linkJSON
}

// trackingPage shows each write key with its snippet, and recent tracked links.
func (s *Server) trackingPage(w http.ResponseWriter, r *http.Request) {
	keys, err := s.store.WriteKeys(r.Context())
	if err != nil {
		s.pageInternal(w, r, "tracking page", err)
		return
	}
	v := trackingView{Base: s.publicBase(r)}
	for _, k := range keys {
		if strings.HasPrefix(k.Name, "revloop:") {
			continue // revloop's own sources (links, imports) are not for web sites
		}
		v.Keys = append(v.Keys, trackingKey{WriteKey: k, Snippet: Snippet(v.Base, k.Key)})
	}
	list, err := s.store.TrackedLinks(r.Context(), 0, 50)
	if err != nil {
		s.pageInternal(w, r, "tracking page links", err)
		return
	}
	for _, l := range list {
		v.Links = append(v.Links, linkView(v.Base, l))
	}
	s.render(w, r, http.StatusOK, "tracking", "tracking.title", v)
}
