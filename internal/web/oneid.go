package web

import "net/http"

// oneIDRoutes mounts persons, identities and their timelines.
func (s *Server) oneIDRoutes(m *http.ServeMux) error { return nil }
