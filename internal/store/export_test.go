package store

import "context"

// ExecForTest runs a statement on the writer, for tests that need to set up
// states the API does not allow.
func (s *Store) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := s.w.ExecContext(ctx, s.q(query), args...)
	return err
}
