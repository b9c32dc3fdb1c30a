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

// ErrDuplicate is returned when a unique value (an email, say) is taken.
var ErrDuplicate = errors.New("already exists")

func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

const userCols = "id, email, name, role, password_hash, territory, COALESCE(manager_id, 0), capacity, created_at, disabled_at"

func scanUser(row interface{ Scan(...any) error }) (model.User, error) {
	var u model.User
	var role string
	var disabled sql.NullTime
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &u.Territory, &u.ManagerID, &u.Capacity, &u.CreatedAt, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	u.Role = model.Role(role)
	u.CreatedAt = u.CreatedAt.UTC()
	if disabled.Valid {
		t := disabled.Time.UTC()
		u.DisabledAt = &t
	}
	return u, err
}

// CreateUser stores a new user and returns its id.
func (s *Store) CreateUser(ctx context.Context, u model.User) (int64, error) {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	id, err := s.insertID(ctx, s.w, `INSERT INTO users (email, name, role, password_hash, territory, manager_id, capacity, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Email, u.Name, string(u.Role), u.PasswordHash, u.Territory, nullID(u.ManagerID), u.Capacity, utc(u.CreatedAt))
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("user %s: %w", u.Email, ErrDuplicate)
	}
	return id, err
}

// UserByEmail finds a user by (lower-cased) email.
func (s *Store) UserByEmail(ctx context.Context, email string) (model.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, s.q("SELECT "+userCols+" FROM users WHERE email = ?"), strings.ToLower(strings.TrimSpace(email))))
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id int64) (model.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, s.q("SELECT "+userCols+" FROM users WHERE id = ?"), id))
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE users SET password_hash = ? WHERE id = ?"), hash, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Users lists users, optionally only those with a role.
func (s *Store) Users(ctx context.Context, role model.Role) ([]model.User, error) {
	query, args := "SELECT "+userCols+" FROM users ORDER BY id", []any{}
	if role != "" {
		query, args = "SELECT "+userCols+" FROM users WHERE role = ? ORDER BY id", []any{string(role)}
	}
	return scanAll(ctx, s, s.r, query, args, scanUser)
}

// CreateSession stores a browser session by its token hash.
func (s *Store) CreateSession(ctx context.Context, sess model.Session) error {
	_, err := s.w.ExecContext(ctx, s.q("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)"),
		sess.TokenHash, sess.UserID, utc(sess.CreatedAt), utc(sess.ExpiresAt))
	return err
}

// SessionUser returns the user behind a live session token hash.
func (s *Store) SessionUser(ctx context.Context, tokenHash string, now time.Time) (model.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, s.q(`SELECT u.id, u.email, u.name, u.role, u.password_hash, u.territory, COALESCE(u.manager_id, 0), u.capacity, u.created_at, u.disabled_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL`), tokenHash, utc(now)))
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE token_hash = ?"), tokenHash)
	return err
}

// DeleteUserSessions ends every session of a user and returns how many
// there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE user_id = ?"), userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// UserSessionCounts returns the number of live sessions per user id.
func (s *Store) UserSessionCounts(ctx context.Context, now time.Time) (map[int64]int, error) {
	return s.countsByID(ctx, "SELECT user_id, COUNT(*) FROM sessions WHERE expires_at > ? GROUP BY user_id", utc(now))
}

// SetUserDisabled disables a user from at, or enables them again with a
// nil at. Disabling twice keeps the first time.
func (s *Store) SetUserDisabled(ctx context.Context, userID int64, at *time.Time) error {
	var res sql.Result
	var err error
	if at == nil {
		res, err = s.w.ExecContext(ctx, s.q("UPDATE users SET disabled_at = NULL WHERE id = ?"), userID)
	} else {
		res, err = s.w.ExecContext(ctx, s.q("UPDATE users SET disabled_at = COALESCE(disabled_at, ?) WHERE id = ?"), utc(*at), userID)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE expires_at <= ?"), utc(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

const apiKeyCols = "id, name, role, prefix, key_hash, COALESCE(user_id, 0), created_at, revoked_at, last_used_at"

func scanAPIKey(row interface{ Scan(...any) error }) (model.APIKey, error) {
	var k model.APIKey
	var role string
	var revoked, used sql.NullTime
	err := row.Scan(&k.ID, &k.Name, &role, &k.Prefix, &k.KeyHash, &k.UserID, &k.CreatedAt, &revoked, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	k.Role = model.Role(role)
	k.CreatedAt = k.CreatedAt.UTC()
	if revoked.Valid {
		t := revoked.Time.UTC()
		k.RevokedAt = &t
	}
	if used.Valid {
		t := used.Time.UTC()
		k.LastUsedAt = &t
	}
	return k, err
}

// CreateAPIKey stores a key by its hash and returns its id.
func (s *Store) CreateAPIKey(ctx context.Context, k model.APIKey) (int64, error) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	return s.insertID(ctx, s.w, "INSERT INTO api_keys (name, role, prefix, key_hash, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		k.Name, string(k.Role), k.Prefix, k.KeyHash, nullID(k.UserID), utc(k.CreatedAt))
}

// APIKeyByHash finds a key, revoked or not, by its hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (model.APIKey, error) {
	return scanAPIKey(s.r.QueryRowContext(ctx, s.q("SELECT "+apiKeyCols+" FROM api_keys WHERE key_hash = ?"), hash))
}

// APIKeys lists every key, newest first.
func (s *Store) APIKeys(ctx context.Context) ([]model.APIKey, error) {
	return scanAll(ctx, s, s.r, "SELECT "+apiKeyCols+" FROM api_keys ORDER BY id DESC", nil, scanAPIKey)
}

// RevokeAPIKey revokes a key by id; revoking twice keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64, at time.Time) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"), utc(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchAPIKey records when a key was last used.
func (s *Store) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q("UPDATE api_keys SET last_used_at = ? WHERE id = ?"), utc(at), id)
	return err
}
