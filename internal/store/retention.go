package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// retentionBatch is the events one statement of the retention and IP
// tasks looks at: small enough that event intake waits for none long.
const retentionBatch = 1000

// StripOldPayloads empties the payload, address and user agent of
// processed raw events received before cutoff. The events stay (their
// message ids keep retried messages from being stored twice, and
// touchpoints point at them) with the columns derived from them: type,
// name, time, URL, UTM fields. Events not processed yet are left alone.
// It returns how many events were stripped.
func (s *Store) StripOldPayloads(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		// The next batch of ids, and whether any of it is old enough: ids
		// grow with the receive time, so a batch with nothing old ends it.
		var upTo, old int64
		err := s.r.QueryRowContext(ctx, s.q(`SELECT COALESCE(MAX(id), 0), COALESCE(SUM(CASE WHEN received_at < ? THEN 1 ELSE 0 END), 0)
			FROM (SELECT id, received_at FROM events WHERE id > ? ORDER BY id LIMIT ?) b`), utc(cutoff), after, retentionBatch).Scan(&upTo, &old)
		if err != nil {
			return total, fmt.Errorf("retention: %w", err)
		}
		if upTo == 0 || old == 0 {
			return total, nil
		}
		res, err := s.w.ExecContext(ctx, s.q(`UPDATE events SET payload = '{}', ip = '', user_agent = ''
			WHERE id > ? AND id <= ? AND processed_at IS NOT NULL AND received_at < ? AND payload <> '{}'`), after, upTo, utc(cutoff))
		if err != nil {
			return total, fmt.Errorf("retention: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		after = upTo
	}
}

// MaxEventID is the highest event id (0 without events).
func (s *Store) MaxEventID(ctx context.Context) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM events").Scan(&id)
	return id, err
}

// AnonymizeStoredIPs rewrites with anon the addresses stored with the
// events whose ids lie in (after, upTo]: the events.ip column and the
// payload's context.ip. It returns the highest id it has done, to be
// passed as after next time, and how many events it changed.
func (s *Store) AnonymizeStoredIPs(ctx context.Context, after, upTo int64, anon func(string) string) (last int64, changed int64, err error) {
	last = after
	for {
		if err := ctx.Err(); err != nil {
			return last, changed, err
		}
		type row struct {
			id          int64
			ip, payload string
		}
		var batch []row
		if err := s.each(ctx, "SELECT id, ip, payload FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?", []any{last, upTo, retentionBatch}, func(r *sql.Rows) error {
			var x row
			if err := r.Scan(&x.id, &x.ip, &x.payload); err != nil {
				return err
			}
			batch = append(batch, x)
			return nil
		}); err != nil {
			return last, changed, fmt.Errorf("anonymise stored addresses: %w", err)
		}
		if len(batch) == 0 {
			return last, changed, nil
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return last, changed, err
		}
		for _, x := range batch {
			ip := x.ip
			if ip != "" {
				ip = anon(ip)
			}
			payload, pchanged := anonymizePayloadIP(x.payload, anon)
			if ip == x.ip && !pchanged {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q("UPDATE events SET ip = ?, payload = ? WHERE id = ?"), ip, payload, x.id); err != nil {
				tx.Rollback()
				return last, changed, fmt.Errorf("anonymise stored addresses: %w", err)
			}
			changed++
		}
		if err := tx.Commit(); err != nil {
			return last, changed, err
		}
		last = batch[len(batch)-1].id
	}
}

// anonymizePayloadIP rewrites context.ip of a JSON message.
func anonymizePayloadIP(payload string, anon func(string) string) (string, bool) {
	var msg map[string]json.RawMessage
	if json.Unmarshal([]byte(payload), &msg) != nil {
		return payload, false
	}
	var c map[string]json.RawMessage
	if json.Unmarshal(msg["context"], &c) != nil {
		return payload, false
	}
	var ip string
	if json.Unmarshal(c["ip"], &ip) != nil || ip == "" {
		return payload, false
	}
	a := anon(ip)
	if a == ip {
		return payload, false
	}
	c["ip"], _ = json.Marshal(a)
	msg["context"], _ = json.Marshal(c)
	out, err := json.Marshal(msg)
	if err != nil {
		return payload, false
	}
	return string(out), true
}
