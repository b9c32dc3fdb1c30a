package web

import (
	"context"
	"net/http"

	"github.com/revloop/revloop/internal/store"
)

// predictRoutes mounts the predictive scoring API.
func (s *Server) predictRoutes(m *http.ServeMux) error {
	return nil
}

// predictionFactors gives the top factors of a person's predicted
// probability in words; nil when no model has scored the person.
func (s *Server) predictionFactors(ctx context.Context, d store.PersonDetail) (any, error) {
	return nil, nil
}
