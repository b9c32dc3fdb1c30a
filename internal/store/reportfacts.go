package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"
)

// The reviews' facts kept between requests (migration 00047): a report's
// sums under a key that says what was asked, good while their generation
// is the current one. The roll-up refresh moves the generation on when it
// changed a roll-up (NextReportFactsGeneration); report decides what is
// kept and how it is keyed.

// MaxReportFacts bounds the entries kept: beyond it the least lately read
// go.
const MaxReportFacts = 2000

// reportFactsReadEvery is how stale an entry's read time may get before a
// read records it again (a read is otherwise not a write).
const reportFactsReadEvery = time.Hour

// ReportFactsGeneration is the current generation.
func (s *Store) ReportFactsGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT generation FROM report_facts_state WHERE id = 1`)).Scan(&g)
	return g, err
}

// NextReportFactsGeneration makes every entry stale.
func (s *Store) NextReportFactsGeneration(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE report_facts_state SET generation = generation + 1 WHERE id = 1`))
	return err
}

// factsKey is the stored key of a question: the SHA-256 of its params.
func factsKey(params string) string {
	h := sha256.Sum256([]byte(params))
	return hex.EncodeToString(h[:])
}

// ReportFacts reads the body of a current entry for the question params;
// found is false when there is none (or only a stale one). now is
// recorded as its read time when the one recorded is older than an hour.
func (s *Store) ReportFacts(ctx context.Context, report, params string, now time.Time) (body string, found bool, err error) {
	key := factsKey(params)
	var read time.Time
	err = s.r.QueryRowContext(ctx, s.q(`SELECT f.body, f.read_at FROM report_facts f JOIN report_facts_state g ON g.id = 1
		WHERE f.report = ? AND f.key = ? AND f.generation = g.generation`), report, key).Scan(&body, &read)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if now.Sub(read) > reportFactsReadEvery {
		if _, err := s.w.ExecContext(ctx, s.q(`UPDATE report_facts SET read_at = ? WHERE report = ? AND key = ?`), utc(now), report, key); err != nil {
			return "", false, err
		}
	}
	return body, true, nil
}

// PutReportFacts keeps an entry for the question params computed from
// what generation g saw (read before computing, so that an entry computed
// while the facts changed is stale at once), and drops the least lately
// read beyond MaxReportFacts.
func (s *Store) PutReportFacts(ctx context.Context, report, params string, g int64, body string, now time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO report_facts (report, key, params, generation, body, computed_at, read_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (report, key) DO UPDATE SET params = excluded.params, generation = excluded.generation, body = excluded.body,
			computed_at = excluded.computed_at, read_at = excluded.read_at`), report, factsKey(params), params, g, body, utc(now), utc(now))
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, s.q(`DELETE FROM report_facts WHERE read_at < (SELECT read_at FROM report_facts ORDER BY read_at DESC LIMIT 1 OFFSET ?)`), MaxReportFacts-1)
	return err
}

// StaleReportFacts lists the questions (params) of a report's stale
// entries read since since, the most lately read first, at most limit.
func (s *Store) StaleReportFacts(ctx context.Context, report string, since time.Time, limit int) ([]string, error) {
	return scanAll(ctx, s, s.r, `SELECT f.params FROM report_facts f JOIN report_facts_state g ON g.id = 1
		WHERE f.report = ? AND f.generation <> g.generation AND f.read_at >= ? ORDER BY f.read_at DESC, f.key LIMIT ?`,
		[]any{report, utc(since), limit}, func(r rowScanner) (string, error) {
			var k string
			err := r.Scan(&k)
			return k, err
		})
}
