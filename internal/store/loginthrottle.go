package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Scopes of the sign-in throttle: an account (its lower-cased email, known
// or not, so that the answer never tells which emails exist) and a client
// address.
const (
	ThrottleAccount = "account"
	ThrottleIP      = "ip"
)

// ThrottleKey names one throttle counter.
type ThrottleKey struct {
	Scope   string // ThrottleAccount or ThrottleIP
	Subject string
}

// LoginLockedUntil returns the latest lock among keys that is still in
// force at now, or the zero time when none is.
func (s *Store) LoginLockedUntil(ctx context.Context, now time.Time, keys ...ThrottleKey) (time.Time, error) {
	var until time.Time
	for _, k := range keys {
		var t sql.NullTime
		err := s.w.QueryRowContext(ctx, s.q("SELECT locked_until FROM login_throttle WHERE scope = ? AND subject = ? AND locked_until > ?"),
			k.Scope, k.Subject, utc(now)).Scan(&t)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return time.Time{}, err
		}
		if t.Valid && t.Time.After(until) {
			until = t.Time.UTC()
		}
	}
	return until, nil
}

// CountLoginAttempt counts one sign-in attempt against k, atomically, and
// returns the attempts in the current window (this one included), how
// many times k has been locked before and the lock in force, if any (an
// attempt that races with a lock must be refused too). The window restarts when the first
// attempt in it is older than window; the lock count is forgotten after
// quiet without attempts. The count is taken before the password is
// checked, so that concurrent guesses cannot all slip under the limit; a
// successful sign-in takes it back (ForgiveLoginAttempt, ClearLoginThrottle).
func (s *Store) CountLoginAttempt(ctx context.Context, k ThrottleKey, now time.Time, window, quiet time.Duration) (attempts, lockouts int, lockedUntil time.Time, err error) {
	now = utc(now)
	windowStart, quietSince := now.Add(-window), now.Add(-quiet)
	var locked sql.NullTime
	err = s.w.QueryRowContext(ctx, s.q(`INSERT INTO login_throttle (scope, subject, failures, window_start, lockouts, last_attempt_at)
		VALUES (?, ?, 1, ?, 0, ?)
		ON CONFLICT (scope, subject) DO UPDATE SET
			failures = CASE WHEN login_throttle.window_start <= ? THEN 1 ELSE login_throttle.failures + 1 END,
			window_start = CASE WHEN login_throttle.window_start <= ? THEN excluded.window_start ELSE login_throttle.window_start END,
			lockouts = CASE WHEN login_throttle.last_attempt_at <= ? THEN 0 ELSE login_throttle.lockouts END,
			last_attempt_at = excluded.last_attempt_at
		RETURNING failures, lockouts, locked_until`),
		k.Scope, k.Subject, now, now, windowStart, windowStart, quietSince).Scan(&attempts, &lockouts, &locked)
	if locked.Valid && locked.Time.After(now) {
		lockedUntil = locked.Time.UTC()
	}
	return attempts, lockouts, lockedUntil, err
}

// LockLogin locks k until the given time unless a lock is already in
// force, and starts a new window. It reports whether this call locked.
func (s *Store) LockLogin(ctx context.Context, k ThrottleKey, now, until time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE login_throttle SET locked_until = ?, lockouts = lockouts + 1, failures = 0, window_start = ?
		WHERE scope = ? AND subject = ? AND (locked_until IS NULL OR locked_until <= ?)`),
		utc(until), utc(now), k.Scope, k.Subject, utc(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ForgiveLoginAttempt takes back one counted attempt (a sign-in that
// succeeded), never below zero.
func (s *Store) ForgiveLoginAttempt(ctx context.Context, k ThrottleKey) error {
	_, err := s.w.ExecContext(ctx, s.q("UPDATE login_throttle SET failures = failures - 1 WHERE scope = ? AND subject = ? AND failures > 0"), k.Scope, k.Subject)
	return err
}

// ClearLoginThrottle forgets k's attempts and locks (after a successful
// sign-in to the account).
func (s *Store) ClearLoginThrottle(ctx context.Context, k ThrottleKey) error {
	_, err := s.w.ExecContext(ctx, s.q("DELETE FROM login_throttle WHERE scope = ? AND subject = ?"), k.Scope, k.Subject)
	return err
}

// DeleteStaleLoginThrottle removes counters without an attempt since
// before and without a lock in force at now.
func (s *Store) DeleteStaleLoginThrottle(ctx context.Context, before, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM login_throttle WHERE last_attempt_at < ? AND (locked_until IS NULL OR locked_until <= ?)"), utc(before), utc(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
