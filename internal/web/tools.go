package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/revloop/revloop/internal/model"
)

// The operators' tools: imports (imports_page.go), tracked links and
// their posters (links_page.go), rules (rules_page.go) and the
// administrators' settings (settings_page.go).

// toolsRoutes mounts the tool pages, their forms and their JSON twins.
func (s *Server) toolsRoutes(m *http.ServeMux) error {
	m.Handle("GET /imports", s.page("imports", s.importsPage))
	m.Handle("POST /imports", s.page("imports", s.importsUpload))
	m.Handle("GET /imports/samples/{file}", s.page("imports", s.importSample))
	m.Handle("GET /api/v1/imports/history", s.pageAPI("imports", s.apiImportHistory))

	m.Handle("GET /links", s.page("links", s.linksPage))
	m.Handle("POST /links", s.page("links", s.linksCreate))
	m.Handle("POST /links/{id}/revoke", s.page("links", s.linksRevoke))
	m.Handle("GET /links/{id}/poster", s.page("links", s.linkPoster))
	m.Handle("GET /api/v1/links/report", s.pageAPI("links", s.apiLinkReport))

	m.Handle("GET /rules", s.page("rules", s.rulesPage))
	m.Handle("POST /rules/{kind}/preview", s.page("rules", s.rulesPreview))
	m.Handle("POST /rules/{kind}/save", s.page("rules", s.rulesSave))

	m.Handle("GET /settings", s.page("settings", s.settingsPage))
	m.Handle("POST /settings/{key}", s.page("settings", s.settingsSave))
	m.Handle("POST /settings/operations/{op}", s.page("settings", s.settingsOperation))
	return nil
}

// toolFilter reads a tool page's date range. A bad one is the page's
// error (400, in the reader's language) and the page shows its default
// range instead; ok is false when the page has answered already.
func (s *Server) toolFilter(w http.ResponseWriter, r *http.Request, cal model.Calendar, msg *string, code *int) (viewFilter, bool) {
	f, err := s.parseFilter(r, cal, nil, "")
	var fe *filterError
	switch {
	case errors.As(err, &fe):
		*msg, *code = s.catalog.locale(langOnly(r)).T(fe.Key), http.StatusBadRequest
		plain := r.Clone(r.Context())
		plain.URL = &url.URL{Path: r.URL.Path}
		f, err = readFilter(plain, cal, cal.Day(s.app.Now()), nil, "")
		return f, err == nil
	case err != nil:
		s.pageInternal(w, r, "page filter", err)
		return f, false
	}
	return f, true
}
