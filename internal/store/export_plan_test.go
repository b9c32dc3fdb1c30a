package store

import (
	"context"
	"strings"
)

// PlanForTest returns the engine's query plan of query as text. On
// PostgreSQL sequential scans are turned off for it, so that the plan says
// whether an index can serve the query even on a table too small for the
// planner to bother.
func (s *Store) PlanForTest(ctx context.Context, query string) (string, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	explain := "EXPLAIN QUERY PLAN "
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return "", err
		}
		explain = "EXPLAIN "
	}
	rows, err := tx.QueryContext(ctx, explain+query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		// The plan text is the last column on both engines.
		switch v := vals[len(vals)-1].(type) {
		case string:
			lines = append(lines, v)
		case []byte:
			lines = append(lines, string(v))
		}
	}
	return strings.Join(lines, "\n"), rows.Err()
}
