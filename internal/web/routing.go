package web

import "net/http"

// routingRoutes mounts assignment rules, activities and follow-up SLAs.
func (s *Server) routingRoutes(m *http.ServeMux) error {
	return nil
}
