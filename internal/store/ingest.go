package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/revloop/revloop/internal/model"
)

// IngestEvents stores events exactly as AppendEvents does (one transaction,
// once per write key and message id, reporting how many were new), by the
// fastest path each engine offers. On PostgreSQL that is a COPY into a
// temporary table followed by one INSERT ... SELECT ... ON CONFLICT DO
// NOTHING, about five times the rate of prepared inserts. On SQLite it is
// the prepared single-row INSERT of AppendEvents: multi-row statements
// measured no faster there (docs/benchmarks.md). The collector's group
// commit calls it with the events of many requests at once.
func (s *Store) IngestEvents(ctx context.Context, events []model.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	if s.dialect == Postgres {
		return s.copyEvents(ctx, events)
	}
	return s.AppendEvents(ctx, events)
}

// copyEvents runs on one pooled connection through pgx directly, since
// database/sql has no COPY. The temporary table lives as long as the
// connection and is emptied by every commit.
func (s *Store) copyEvents(ctx context.Context, events []model.Event) (int, error) {
	inserted := 0
	err := s.withPgxTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS events_in ON COMMIT DELETE ROWS AS SELECT 0::integer AS ord, "+
			eventCols+" FROM events WITH NO DATA"); err != nil {
			return fmt.Errorf("ingest events: temporary table: %w", err)
		}
		cols := append([]string{"ord"}, eventColList...)
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(events) {
				return nil, nil
			}
			row := append([]any{i}, eventArgs(&events[i])...)
			i++
			return row, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events_in"}, cols, src); err != nil {
			return fmt.Errorf("ingest events: copy: %w", err)
		}
		tag, err := tx.Exec(ctx, "INSERT INTO events ("+eventCols+") SELECT "+eventCols+
			" FROM events_in ORDER BY ord ON CONFLICT (write_key_id, message_id) DO NOTHING")
		if err != nil {
			return err
		}
		inserted = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, err
	}
	return inserted, nil
}

const eventReadCols = "id, " + eventCols + ", processed_at"

func scanEvent(row interface{ Scan(...any) error }) (model.Event, error) {
	var e model.Event
	var typ, payload string
	var sent, processed sql.NullTime
	err := row.Scan(&e.ID, &e.WriteKeyID, &e.MessageID, &typ, &e.Name, &e.UserID, &e.AnonymousID, &e.GroupID, &e.PreviousID,
		&e.Timestamp, &e.ReceivedAt, &sent, &e.IP, &e.UserAgent, &e.Bot, &e.URL, &e.Referrer, &e.Source, &e.Medium,
		&e.Campaign, &e.Term, &e.Content, &e.ClickIDType, &e.ClickID, &payload, &processed)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return e, ErrNotFound
		}
		return e, err
	}
	e.Type = model.EventType(typ)
	e.Payload = []byte(payload)
	e.Timestamp, e.ReceivedAt = e.Timestamp.UTC(), e.ReceivedAt.UTC()
	if sent.Valid {
		t := sent.Time.UTC()
		e.SentAt = &t
	}
	if processed.Valid {
		t := processed.Time.UTC()
		e.ProcessedAt = &t
	}
	return e, nil
}

// EventByMessageID reads the event a write key sent with a message id.
func (s *Store) EventByMessageID(ctx context.Context, writeKeyID int64, messageID string) (model.Event, error) {
	return scanEvent(s.r.QueryRowContext(ctx, s.q("SELECT "+eventReadCols+" FROM events WHERE write_key_id = ? AND message_id = ?"),
		writeKeyID, messageID))
}

// CollectedEvents lists a write key's events with ids above afterID, in the
// order they were stored, at most limit of them.
func (s *Store) CollectedEvents(ctx context.Context, writeKeyID, afterID int64, limit int) ([]model.Event, error) {
	return scanAll(ctx, s, s.r, "SELECT "+eventReadCols+" FROM events WHERE write_key_id = ? AND id > ? ORDER BY id LIMIT ?",
		[]any{writeKeyID, afterID, limit}, scanEvent)
}
