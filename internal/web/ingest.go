package web

import (
	"net/http"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/jobs"
)

// ingestRoutes mounts the Segment-compatible collector (/v1/...); tracked
// links and pixels (links.go) hand their hits to the same collector. Its
// committers start with the listener and drain on shutdown after the last
// request is answered, so that everything acknowledged stays committed.
func (s *Server) ingestRoutes(m *http.ServeMux) error {
	// Events are processed as they are committed; a commit whose
	// processing failed is left to the runner.
	ingester := jobs.NewIngester(s.store, s.log, s.eventsProcessed, s.notifyEvents)
	c, err := collect.New(collect.Options{
		Store:      s.store,
		Logger:     s.log,
		Registerer: s.metrics.registry,
		Ingest:     ingester.Ingest,
		// Two: one commit parses its events while the other writes.
		Committers: 2,
	})
	if err != nil {
		return err
	}
	c.Mount(m)
	s.collector = c
	if err := s.metrics.registry.Register(newBacklogCollector(s.store, s.log)); err != nil {
		return err
	}
	s.starters = append(s.starters, c.Start)
	s.closers = append(s.closers, c.Close)
	s.csrfBypass = append(s.csrfBypass, collect.BypassPatterns()...)
	return nil
}
