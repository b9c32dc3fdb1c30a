package web

import "net/http"

// lifecycleRoutes mounts the lifecycle API: stage moves with history, SDR
// classes and grades, and funnel figures.
func (s *Server) lifecycleRoutes(m *http.ServeMux) error {
	return nil
}
