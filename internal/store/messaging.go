package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Messaging channels: the counted sends behind frequency caps and WeCom's
// per-member limits, the shared WeCom access token, and the WeCom member
// ids of users (docs/messaging.md).

// SendLimit is one cap: at most Max sends in the Window before now (a
// Max of 0 or less bounds nothing).
type SendLimit struct {
	Window time.Duration
	Max    int
}

// MaxSendWindow bounds the windows a cap may count (the reservation rows
// older than it are never read).
const MaxSendWindow = 31 * 24 * time.Hour

// ReserveSend counts subject's sends in scope against limits and, when
// every limit leaves room, writes a reservation for key, in one
// transaction: two callers can never both take the last slot. A key that
// already has a row (a retry of the same message) is let through without
// counting it again. A reservation not confirmed (ConfirmSend) by
// now+hold stops counting then. When a limit is full, ok is false and
// retry is the time its oldest counted send leaves the window.
func (s *Store) ReserveSend(ctx context.Context, scope, subject, key string, limits []SendLimit, now time.Time, hold time.Duration) (ok bool, retry time.Time, err error) {
	now = utc(now)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			// One reserver per subject at a time; SQLite's one writer
			// serialises the transactions by itself.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 7744))", scope+"|"+subject); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM message_sends WHERE scope = ? AND msg_key = ?"), scope, key).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			ok = true
			return nil
		}
		var widest time.Duration
		for _, l := range limits {
			if l.Window > widest {
				widest = l.Window
			}
		}
		if widest > 0 {
			var times []time.Time
			err := s.eachOn(ctx, tx, `SELECT sent_at FROM message_sends WHERE scope = ? AND subject = ? AND sent_at > ?
				AND (confirmed OR expires_at > ?) ORDER BY sent_at`, []any{scope, subject, now.Add(-widest), now}, func(r *sql.Rows) error {
				var t time.Time
				if err := r.Scan(&t); err != nil {
					return err
				}
				times = append(times, t.UTC())
				return nil
			})
			if err != nil {
				return err
			}
			for _, l := range limits {
				from := now.Add(-l.Window)
				var in []time.Time
				for _, t := range times {
					if t.After(from) {
						in = append(in, t)
					}
				}
				if l.Max > 0 && len(in) >= l.Max {
					// The send that must leave the window for one more to fit.
					if at := in[len(in)-l.Max].Add(l.Window); at.After(retry) {
						retry = at
					}
				}
			}
			if !retry.IsZero() {
				return nil
			}
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO message_sends (scope, msg_key, subject, sent_at, confirmed, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
			scope, key, subject, now, false, now.Add(hold))
		ok = err == nil
		return err
	})
	if err != nil {
		return false, time.Time{}, err
	}
	return ok, retry, nil
}

// ConfirmSend marks key's reservation as a send that went, with the
// provider's id of it ("" when none): it counts for the whole window from
// then on. A key without a reservation (a message let through with no
// cap) is written as confirmed.
func (s *Store) ConfirmSend(ctx context.Context, scope, subject, key, providerID string, now time.Time) error {
	now = utc(now)
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO message_sends (scope, msg_key, subject, sent_at, confirmed, expires_at, provider_id) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, msg_key) DO UPDATE SET confirmed = excluded.confirmed, provider_id = excluded.provider_id`), scope, key, subject, now, true, now, providerID)
	return err
}

// SentBefore reports whether key's send was confirmed, with the
// provider's id of it: a message sent again after its result was lost.
func (s *Store) SentBefore(ctx context.Context, scope, key string) (providerID string, sent bool, err error) {
	err = s.w.QueryRowContext(ctx, s.q("SELECT provider_id FROM message_sends WHERE scope = ? AND msg_key = ? AND confirmed"), scope, key).Scan(&providerID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return providerID, err == nil, err
}

// ReleaseSend drops key's reservation when its message did not go.
func (s *Store) ReleaseSend(ctx context.Context, scope, key string) error {
	_, err := s.w.ExecContext(ctx, s.q("DELETE FROM message_sends WHERE scope = ? AND msg_key = ? AND NOT confirmed"), scope, key)
	return err
}

// PruneSends deletes the counted sends older than before (nothing reads
// them once they are out of every window).
func (s *Store) PruneSends(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM message_sends WHERE sent_at < ?"), utc(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// WeComToken is the stored access token of one WeCom app.
type WeComToken struct {
	Sealed          string
	ExpiresAt       time.Time // zero when none is stored
	RefreshingUntil time.Time // zero when no node is refreshing it
}

// WeComToken reads the stored token of appKey (a zero token when none).
func (s *Store) WeComToken(ctx context.Context, appKey string) (WeComToken, error) {
	var t WeComToken
	var exp, ref sql.NullTime
	err := s.w.QueryRowContext(ctx, s.q("SELECT token_sealed, expires_at, refreshing_until FROM wecom_tokens WHERE app_key = ?"), appKey).
		Scan(&t.Sealed, &exp, &ref)
	if errors.Is(err, sql.ErrNoRows) {
		return WeComToken{}, nil
	}
	if err != nil {
		return WeComToken{}, err
	}
	if exp.Valid {
		t.ExpiresAt = exp.Time.UTC()
	}
	if ref.Valid {
		t.RefreshingUntil = ref.Time.UTC()
	}
	return t, nil
}

// ClaimWeComRefresh makes this caller the one refreshing appKey's token
// until until, when no other claim is alive and the stored token is still
// seen (sealed, as read before; "" when none was stored). It reports
// whether the claim was taken.
func (s *Store) ClaimWeComRefresh(ctx context.Context, appKey, seen string, now, until time.Time) (bool, error) {
	now = utc(now)
	if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO wecom_tokens (app_key, token_sealed, updated_at) VALUES (?, '', ?)
		ON CONFLICT (app_key) DO NOTHING`), appKey, now); err != nil {
		return false, err
	}
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE wecom_tokens SET refreshing_until = ?, updated_at = ?
		WHERE app_key = ? AND token_sealed = ? AND (refreshing_until IS NULL OR refreshing_until < ?)`), utc(until), now, appKey, seen, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SaveWeComToken stores a fresh token and ends the refresh claim.
func (s *Store) SaveWeComToken(ctx context.Context, appKey, sealed string, expires, now time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE wecom_tokens SET token_sealed = ?, expires_at = ?, refreshing_until = NULL, updated_at = ? WHERE app_key = ?`),
		sealed, utc(expires), utc(now), appKey)
	return err
}

// EndWeComRefresh drops a refresh claim that failed, so that the next
// caller may try at once.
func (s *Store) EndWeComRefresh(ctx context.Context, appKey string) error {
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE wecom_tokens SET refreshing_until = NULL WHERE app_key = ?`), appKey)
	return err
}

// ExpireWeComToken marks the token sealed as expired when it is still the
// stored one (WeCom called it invalid); a token another node has
// refreshed meanwhile is kept.
func (s *Store) ExpireWeComToken(ctx context.Context, appKey, sealed string) error {
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE wecom_tokens SET expires_at = NULL WHERE app_key = ? AND token_sealed = ?`), appKey, sealed)
	return err
}

// WeComMember is a user's WeCom member id.
type WeComMember struct {
	UserID   int64  `json:"user_id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	MemberID string `json:"member_id"`
}

// SetWeComMember sets (or, with "", removes) a user's WeCom member id.
// An unknown user is ErrNotFound.
func (s *Store) SetWeComMember(ctx context.Context, userID int64, memberID string, now time.Time) error {
	var n int
	if err := s.w.QueryRowContext(ctx, s.q("SELECT count(*) FROM users WHERE id = ?"), userID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	if memberID == "" {
		_, err := s.w.ExecContext(ctx, s.q("DELETE FROM wecom_members WHERE user_id = ?"), userID)
		return err
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO wecom_members (user_id, member_id, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET member_id = excluded.member_id, updated_at = excluded.updated_at`), userID, memberID, utc(now))
	return err
}

// WeComMembers lists the users with a WeCom member id, by user id.
func (s *Store) WeComMembers(ctx context.Context) ([]WeComMember, error) {
	out := []WeComMember{}
	err := s.each(ctx, `SELECT u.id, u.email, u.name, m.member_id FROM wecom_members m JOIN users u ON u.id = m.user_id ORDER BY u.id`, nil, func(r *sql.Rows) error {
		var m WeComMember
		if err := r.Scan(&m.UserID, &m.Email, &m.Name, &m.MemberID); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// MessagePerson is what the channels read of a person: the webhook body,
// the WeCom sender and recipients.
type MessagePerson struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Email       string          `json:"email"`
	Stage       string          `json:"stage"`
	Traits      json.RawMessage `json:"traits"`
	AccountID   int64           `json:"account_id,omitempty"`
	AccountName string          `json:"account_name,omitempty"`
	OwnerID     int64           `json:"owner_id,omitempty"`
	// OwnerMember is the owner's WeCom member id ("" when none is set).
	OwnerMember string `json:"-"`
	// ExternalUserID is the person's WeCom external user id ("" when none).
	ExternalUserID string `json:"-"`
}

// MessagePerson reads a person for a message; a merged person is read as
// its survivor. An unknown person is ErrNotFound.
func (s *Store) MessagePerson(ctx context.Context, personID int64) (MessagePerson, error) {
	id, err := s.survivor(ctx, s.r, personID)
	if err != nil {
		return MessagePerson{}, err
	}
	var p MessagePerson
	var traits string
	var acc, owner sql.NullInt64
	var accName, member sql.NullString
	err = s.r.QueryRowContext(ctx, s.q(`SELECT p.id, p.name, p.email, p.stage, p.traits, p.account_id, a.name, p.owner_id, m.member_id
		FROM persons p LEFT JOIN accounts a ON a.id = p.account_id LEFT JOIN wecom_members m ON m.user_id = p.owner_id
		WHERE p.id = ?`), id).Scan(&p.ID, &p.Name, &p.Email, &p.Stage, &traits, &acc, &accName, &owner, &member)
	if errors.Is(err, sql.ErrNoRows) {
		return MessagePerson{}, ErrNotFound
	}
	if err != nil {
		return MessagePerson{}, err
	}
	if !json.Valid([]byte(traits)) || strings.TrimSpace(traits) == "" {
		traits = "{}"
	}
	p.Traits = json.RawMessage(traits)
	p.AccountID, p.AccountName, p.OwnerID, p.OwnerMember = acc.Int64, accName.String, owner.Int64, member.String
	err = s.r.QueryRowContext(ctx, s.q("SELECT value FROM identities WHERE person_id = ? AND type = ? ORDER BY created_at DESC, value LIMIT 1"),
		id, string(model.IdentityWeComID)).Scan(&p.ExternalUserID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return MessagePerson{}, err
	}
	return p, nil
}
