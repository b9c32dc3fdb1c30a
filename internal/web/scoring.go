package web

import (
	"context"
	"net/http"

	"github.com/revloop/revloop/internal/store"
)

// scoringRoutes mounts the scoring rules API.
func (s *Server) scoringRoutes(m *http.ServeMux) error {
	return nil
}

// scoreExplanation says which rules gave a person how many points; nil
// when there is nothing to say.
func (s *Server) scoreExplanation(ctx context.Context, d store.PersonDetail) (any, error) {
	return nil, nil
}
