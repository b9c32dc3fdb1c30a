package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

const eventCols = "write_key_id, message_id, type, name, user_id, anonymous_id, group_id, previous_id, ts, received_at, sent_at, " +
	"ip, user_agent, bot, url, referrer, source, medium, campaign, term, content, click_id_type, click_id, payload"

var eventColList = strings.Split(eventCols, ", ")

func eventArgs(e *model.Event) []any {
	var sent any
	if e.SentAt != nil {
		sent = utc(*e.SentAt)
	}
	return []any{e.WriteKeyID, e.MessageID, string(e.Type), e.Name, e.UserID, e.AnonymousID, e.GroupID, e.PreviousID,
		utc(e.Timestamp), utc(e.ReceivedAt), sent, e.IP, e.UserAgent, e.Bot, e.URL, e.Referrer,
		e.Source, e.Medium, e.Campaign, e.Term, e.Content, e.ClickIDType, e.ClickID, string(e.Payload)}
}

// AppendEvents stores events in one transaction. A message already stored
// for the same write key is skipped, so retries never double-count. It
// returns how many events were new.
func (s *Store) AppendEvents(ctx context.Context, events []model.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	inserted := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.q("INSERT INTO events ("+eventCols+") VALUES ("+
			strings.TrimSuffix(strings.Repeat("?, ", len(eventColList)), ", ")+") ON CONFLICT (write_key_id, message_id) DO NOTHING"))
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range events {
			res, err := st.ExecContext(ctx, eventArgs(&events[i])...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			inserted += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return inserted, nil
}

// CountEvents counts stored events.
func (s *Store) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM events").Scan(&n)
	return n, err
}

// Backlog is how far event processing is behind intake.
type Backlog struct {
	Events int64      // events stored and not yet processed
	Oldest *time.Time // when the oldest of them was received; nil when there are none
}

// ProcessingBacklog counts the events waiting for processing and finds the
// oldest one's receipt time, in one query that the partial index
// events_unprocessed (id, received_at) answers alone: its cost grows with
// the backlog, not with the table, so it can run at every metrics scrape.
func (s *Store) ProcessingBacklog(ctx context.Context) (Backlog, error) {
	var b Backlog
	var oldest storedTime // an aggregate: SQLite gives it as text
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*), MIN(received_at) FROM events WHERE processed_at IS NULL").Scan(&b.Events, &oldest)
	if err != nil {
		return b, fmt.Errorf("processing backlog: %w", err)
	}
	if !oldest.t.IsZero() {
		t := oldest.t.UTC()
		b.Oldest = &t
	}
	return b, nil
}

const writeKeyCols = "id, name, key, created_at, revoked_at, server"

func scanWriteKey(row interface{ Scan(...any) error }) (model.WriteKey, error) {
	var k model.WriteKey
	var revoked sql.NullTime
	err := row.Scan(&k.ID, &k.Name, &k.Key, &k.CreatedAt, &revoked, &k.Server)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	k.CreatedAt = k.CreatedAt.UTC()
	if revoked.Valid {
		t := revoked.Time.UTC()
		k.RevokedAt = &t
	}
	return k, err
}

// CreateWriteKey stores a write key and returns its id.
func (s *Store) CreateWriteKey(ctx context.Context, k model.WriteKey) (int64, error) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	id, err := s.insertID(ctx, s.w, "INSERT INTO write_keys (name, key, created_at, server) VALUES (?, ?, ?, ?)", k.Name, k.Key, utc(k.CreatedAt), k.Server)
	if isUniqueViolation(err) {
		return 0, ErrDuplicate
	}
	return id, err
}

// WriteKeyByKey finds a write key, revoked or not.
func (s *Store) WriteKeyByKey(ctx context.Context, key string) (model.WriteKey, error) {
	return scanWriteKey(s.r.QueryRowContext(ctx, s.q("SELECT "+writeKeyCols+" FROM write_keys WHERE key = ?"), key))
}

// WriteKeys lists write keys, newest first.
func (s *Store) WriteKeys(ctx context.Context) ([]model.WriteKey, error) {
	return scanAll(ctx, s, s.r, "SELECT "+writeKeyCols+" FROM write_keys ORDER BY id DESC", nil, scanWriteKey)
}

// ServerWriteKeys is the set of ids of server write keys, revoked or not
// (their stored events stay trusted).
func (s *Store) ServerWriteKeys(ctx context.Context) (map[int64]bool, error) {
	ids, err := scanAll(ctx, s, s.r, "SELECT id FROM write_keys WHERE server = ?", []any{true}, scanValue[int64])
	if err != nil {
		return nil, fmt.Errorf("server write keys: %w", err)
	}
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// RevokeWriteKey stops a write key; revoking twice keeps the first time.
func (s *Store) RevokeWriteKey(ctx context.Context, id int64, at time.Time) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE write_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"), utc(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
