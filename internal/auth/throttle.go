package auth

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/store"
)

// Throttle bounds password guessing. Every sign-in attempt counts against
// the account (its lower-cased email, whether or not it exists, so that the
// answers never tell which accounts do) and against the client address (an
// IPv6 address by its /64, which one subscriber usually holds whole). When
// either has had its limit of attempts within Window, it is locked: every
// attempt is refused, the right password too, for BaseLockout, doubling
// with each further lock up to MaxLockout. A successful sign-in clears the
// account and takes its own attempt back from the address. The counters
// live in the database, so they hold across nodes and restarts.
type Throttle struct {
	AccountLimit int           // attempts per account within Window
	IPLimit      int           // attempts per client address within Window
	Window       time.Duration // how long an attempt counts
	BaseLockout  time.Duration // the first lock
	MaxLockout   time.Duration // the longest lock
	Quiet        time.Duration // without attempts this long, earlier locks are forgotten
}

// DefaultThrottle allows 5 attempts per account and 20 per address in 15
// minutes, then locks for 1 minute, 2, 4, … up to an hour.
var DefaultThrottle = Throttle{AccountLimit: 5, IPLimit: 20, Window: 15 * time.Minute,
	BaseLockout: time.Minute, MaxLockout: time.Hour, Quiet: 24 * time.Hour}

// throttleKeys names the counters of an attempt: the account always, the
// address when it is known.
func throttleKeys(email, clientIP string) []store.ThrottleKey {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 320 {
		email = email[:320]
	}
	keys := []store.ThrottleKey{{Scope: store.ThrottleAccount, Subject: email}}
	if a, err := netip.ParseAddr(clientIP); err == nil {
		a = a.Unmap().WithZone("")
		subject := a.String()
		if a.Is6() {
			subject = netip.PrefixFrom(a, 64).Masked().String()
		}
		keys = append(keys, store.ThrottleKey{Scope: store.ThrottleIP, Subject: subject})
	}
	return keys
}

func (t Throttle) limit(k store.ThrottleKey) int {
	if k.Scope == store.ThrottleIP {
		return t.IPLimit
	}
	return t.AccountLimit
}

// lockout is the length of the lock after lockouts earlier ones.
func (t Throttle) lockout(lockouts int) time.Duration {
	d := t.BaseLockout
	for i := 0; i < lockouts && d < t.MaxLockout; i++ {
		d *= 2
	}
	return min(d, t.MaxLockout)
}

// counted is one key's count after an attempt.
type counted struct {
	key                store.ThrottleKey
	attempts, lockouts int
}

// admit refuses an attempt while a key is locked, and otherwise counts it;
// an attempt beyond a limit (concurrent guesses) locks and is refused.
func (t Throttle) admit(ctx context.Context, s *store.Store, keys []store.ThrottleKey, now time.Time) ([]counted, error) {
	if t.AccountLimit <= 0 {
		return nil, nil // throttling off
	}
	until, err := s.LoginLockedUntil(ctx, now, keys...)
	if err != nil {
		return nil, fmt.Errorf("sign-in throttle: %w", err)
	}
	if !until.IsZero() {
		return nil, &ThrottledError{RetryAfter: until.Sub(now)}
	}
	var refused time.Time
	var out []counted
	for _, k := range keys {
		n, lockouts, locked, err := s.CountLoginAttempt(ctx, k, now, t.Window, t.Quiet)
		if err != nil {
			return nil, fmt.Errorf("sign-in throttle: %w", err)
		}
		out = append(out, counted{k, n, lockouts})
		if locked.After(refused) {
			refused = locked
		}
		if n > t.limit(k) {
			u := now.Add(t.lockout(lockouts))
			if _, err := s.LockLogin(ctx, k, now, u); err != nil {
				return nil, fmt.Errorf("sign-in throttle: %w", err)
			}
			if u.After(refused) {
				refused = u
			}
		}
	}
	if !refused.IsZero() {
		return nil, &ThrottledError{RetryAfter: refused.Sub(now)}
	}
	return out, nil
}

// failed records a wrong password: a key whose count reached its limit
// with this attempt is locked from now (LockLogin's condition makes two
// concurrent failures lock once). It returns ErrBadCredentials, or the
// error that kept it from recording.
func (t Throttle) failed(ctx context.Context, s *store.Store, counts []counted, now time.Time) error {
	for _, c := range counts {
		if c.attempts >= t.limit(c.key) {
			if _, err := s.LockLogin(ctx, c.key, now, now.Add(t.lockout(c.lockouts))); err != nil {
				return fmt.Errorf("sign-in throttle: %w", err)
			}
		}
	}
	return ErrBadCredentials
}

// succeeded forgets the account's attempts and takes this one back from
// the address. A failure here only leaves the counters higher; it is not
// worth refusing a correct sign-in for.
func (t Throttle) succeeded(ctx context.Context, s *store.Store, counts []counted) {
	for _, c := range counts {
		if c.key.Scope == store.ThrottleAccount {
			s.ClearLoginThrottle(ctx, c.key)
		} else {
			s.ForgiveLoginAttempt(ctx, c.key)
		}
	}
}
