package web

import "net/http"

// oneIDRoutes mounts persons, identities and their timelines.
func (s *Server) oneIDRoutes(m *http.ServeMux) error { return nil }

// notifyEvents is called after new events are durably stored, so that
// processing can start without waiting for the next sweep.
func (s *Server) notifyEvents() {}
