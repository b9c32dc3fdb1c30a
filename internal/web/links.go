package web

import "net/http"

// linkRoutes mounts tracked links, QR codes, pixels and imports.
func (s *Server) linkRoutes(m *http.ServeMux) error { return nil }
