package web

import (
	"net/http"

	"github.com/revloop/revloop/internal/collect"
)

// ingestRoutes mounts the Segment-compatible collector (/v1/...); tracked
// links and pixels (links.go) hand their hits to the same collector.
func (s *Server) ingestRoutes(m *http.ServeMux) error {
	s.collector.Mount(m)
	s.csrfBypass = append(s.csrfBypass, collect.BypassPatterns()...)
	return nil
}
