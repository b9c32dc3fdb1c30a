// Package auth holds users, roles, sessions and API keys: password hashing
// (argon2id), session and key tokens (random, stored only as hashes), and the
// checks the web layer calls.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Errors the web layer turns into answers. They say what was wrong without
// telling an attacker which half of a login failed.
var (
	ErrBadCredentials = errors.New("wrong email or password")
	ErrNoKey          = errors.New("missing API key: send Authorization: Bearer <key>")
	ErrBadKey         = errors.New("unknown API key")
	ErrRevokedKey     = errors.New("API key has been revoked")
	ErrNoSession      = errors.New("not logged in")
	ErrDisabledKey    = errors.New("API key's owner is disabled")
	ErrThrottled      = errors.New("too many failed sign-ins")
)

// ThrottledError refuses a sign-in while an account or a client address is
// locked out; RetryAfter says when to try again.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again in %s", e.RetryAfter.Round(time.Second))
}

func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// argon2id parameters, after RFC 9106's second recommended option (64 MiB,
// 3 passes), with parallelism 2 for the 2-core machines revloop targets.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// HashPassword returns a PHC-format argon2id hash of password.
// It does not judge the password: CheckNewPassword does, where one is set.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", errors.New("password is empty")
	}
	if len(password) > MaxPasswordLength {
		return "", fmt.Errorf("password must be at most %d bytes", MaxPasswordLength)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a hash from HashPassword.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem uint32
	var iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false
	}
	if mem == 0 || mem > 1<<21 || iters == 0 || iters > 20 || threads == 0 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the email is unknown, so that a login
// for a missing user takes as long as one with a wrong password. It is
// HashPassword("revloop-timing-equaliser") written out, so that no command
// pays for an argon2id hash (64 MiB) at start; TestDummyHashMatchesParameters
// checks that it was made with the parameters above.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$ShT0EEjCCfzPQhsZaJxMZg$mm4F6hv9PINUzTUmcG2BGQkZBnvNxfZ2ctbXlNHczsI"

// NewToken returns a random URL-safe token with 256 bits of entropy.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how session tokens and API keys are stored: a SHA-256 is
// enough for 256-bit random secrets, and lets a lookup be an index hit.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// GeneratePassword returns a random password for users created without one.
func GeneratePassword() string { return NewToken()[:20] }

// APIKeyPrefix starts every API key, so that a leaked key is recognisable.
const APIKeyPrefix = "rl_"

// Service ties the checks to the store.
type Service struct {
	Store      *store.Store
	SessionTTL time.Duration
	Throttle   Throttle
	Now        func() time.Time
}

// New returns a Service with 14-day sessions and the default sign-in
// throttle.
func New(s *store.Store) *Service {
	return &Service{Store: s, SessionTTL: 14 * 24 * time.Hour, Throttle: DefaultThrottle, Now: time.Now}
}

// NormaliseEmail trims, lower-cases and validates an email address.
func NormaliseEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e[strings.IndexByte(e, '@')+1:], ".") {
		return "", fmt.Errorf("invalid email address %q", email)
	}
	return e, nil
}

// CreateUser validates and stores a user with the given password.
func (a *Service) CreateUser(ctx context.Context, email, name string, role model.Role, password string) (model.User, error) {
	e, err := NormaliseEmail(email)
	if err != nil {
		return model.User{}, err
	}
	if _, err := model.ParseRole(string(role)); err != nil {
		return model.User{}, err
	}
	if err := CheckNewPassword(password, e); err != nil {
		return model.User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return model.User{}, err
	}
	u := model.User{Email: e, Name: model.CleanText(name), Role: role, PasswordHash: hash, CreatedAt: a.Now()}
	id, err := a.Store.CreateUser(ctx, u)
	if err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return model.User{}, fmt.Errorf("a user with email %s already exists", e)
		}
		return model.User{}, err
	}
	u.ID = id
	return u, nil
}

// Login checks a password and opens a session for a sign-in from
// clientIP (the address the web layer believes, "" when unknown). It
// returns the session token to set as a cookie. Attempts are throttled per
// account and per address (Throttle): while either is locked out the
// answer is a *ThrottledError, the right password included, and no
// password is checked.
func (a *Service) Login(ctx context.Context, email, password, clientIP string) (string, model.User, error) {
	now := a.Now()
	keys := throttleKeys(email, clientIP)
	counts, err := a.Throttle.admit(ctx, a.Store, keys, now)
	if err != nil {
		return "", model.User{}, err
	}
	u, err := a.Store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		CheckPassword(dummyHash, password)
		return "", model.User{}, a.Throttle.failed(ctx, a.Store, counts, now)
	}
	if err != nil {
		return "", model.User{}, err
	}
	if !CheckPassword(u.PasswordHash, password) {
		return "", model.User{}, a.Throttle.failed(ctx, a.Store, counts, now)
	}
	if u.DisabledAt != nil {
		// The right password: not a guess, so not held against anyone.
		a.Throttle.succeeded(ctx, a.Store, counts)
		return "", model.User{}, ErrBadCredentials
	}
	token := NewToken()
	if err := a.Store.CreateSession(ctx, model.Session{TokenHash: HashToken(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(a.SessionTTL)}); err != nil {
		return "", model.User{}, err
	}
	a.Throttle.succeeded(ctx, a.Store, counts)
	return token, u, nil
}

// SessionUser returns the user of a session token.
func (a *Service) SessionUser(ctx context.Context, token string) (model.User, error) {
	if token == "" {
		return model.User{}, ErrNoSession
	}
	u, err := a.Store.SessionUser(ctx, HashToken(token), a.Now())
	if errors.Is(err, store.ErrNotFound) {
		return model.User{}, ErrNoSession
	}
	return u, err
}

// Logout ends a session.
func (a *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return a.Store.DeleteSession(ctx, HashToken(token))
}

// CreateAPIKey makes a key without an owner (it acts with its role only,
// as keys did before they had owners), stores its hash and returns the key
// itself, which is shown once and never again. CreateUserAPIKey makes the
// keys the command line and the API hand out.
func (a *Service) CreateAPIKey(ctx context.Context, name string, role model.Role) (string, model.APIKey, error) {
	return a.createAPIKey(ctx, 0, name, role)
}

// CreateUserAPIKey makes a key owned by a user: it acts for them, with at
// most their role, and stops working when they are disabled.
func (a *Service) CreateUserAPIKey(ctx context.Context, userID int64, name string, role model.Role) (string, model.APIKey, error) {
	u, err := a.Store.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return "", model.APIKey{}, fmt.Errorf("no user %d", userID)
	}
	if err != nil {
		return "", model.APIKey{}, err
	}
	if u.DisabledAt != nil {
		return "", model.APIKey{}, fmt.Errorf("user %s is disabled", u.Email)
	}
	if !Allows(u.Role, role) {
		return "", model.APIKey{}, fmt.Errorf("a key of %s (%s) cannot have the %s role: a key has at most its owner's role", u.Email, u.Role, role)
	}
	return a.createAPIKey(ctx, u.ID, name, role)
}

func (a *Service) createAPIKey(ctx context.Context, userID int64, name string, role model.Role) (string, model.APIKey, error) {
	name = model.CleanText(name)
	if name == "" {
		return "", model.APIKey{}, errors.New("an API key needs a name (--name)")
	}
	if _, err := model.ParseRole(string(role)); err != nil {
		return "", model.APIKey{}, err
	}
	key := APIKeyPrefix + NewToken()
	k := model.APIKey{Name: name, Role: role, Prefix: key[:len(APIKeyPrefix)+6], KeyHash: HashToken(key), UserID: userID, CreatedAt: a.Now()}
	id, err := a.Store.CreateAPIKey(ctx, k)
	if err != nil {
		return "", model.APIKey{}, err
	}
	k.ID = id
	return key, k, nil
}

// CheckAPIKey authenticates a bearer key. A key whose owner is disabled
// is refused (ErrDisabledKey); one whose owner now has a lower role than
// the key acts with the owner's role.
func (a *Service) CheckAPIKey(ctx context.Context, key string) (model.APIKey, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return model.APIKey{}, ErrNoKey
	}
	k, err := a.Store.APIKeyByHash(ctx, HashToken(key))
	if errors.Is(err, store.ErrNotFound) {
		return model.APIKey{}, ErrBadKey
	}
	if err != nil {
		return model.APIKey{}, err
	}
	if k.RevokedAt != nil {
		return model.APIKey{}, ErrRevokedKey
	}
	if k.UserID != 0 {
		u, err := a.Store.UserByID(ctx, k.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return model.APIKey{}, ErrDisabledKey
		}
		if err != nil {
			return model.APIKey{}, err
		}
		if u.DisabledAt != nil {
			return model.APIKey{}, ErrDisabledKey
		}
		if !Allows(u.Role, k.Role) {
			k.Role = u.Role
		}
	}
	return k, nil
}

// FirstAdmin is the enabled admin with the lowest id: the owner of keys
// made without naming one.
func (a *Service) FirstAdmin(ctx context.Context) (model.User, error) {
	users, err := a.Store.Users(ctx, model.RoleAdmin)
	if err != nil {
		return model.User{}, err
	}
	for _, u := range users {
		if u.DisabledAt == nil {
			return u, nil
		}
	}
	return model.User{}, errors.New("there is no enabled admin: create one first (revloop user create --role admin)")
}

// ErrLastAdmin refuses to disable the only enabled admin, who is the one
// who could enable others again.
var ErrLastAdmin = errors.New("this is the only enabled admin: enable or create another admin first")

// DisableUser disables a user: they can no longer sign in, their sessions
// end now and their API keys stop working. It returns the sessions ended.
func (a *Service) DisableUser(ctx context.Context, id int64) (int64, error) {
	u, err := a.Store.UserByID(ctx, id)
	if err != nil {
		return 0, err
	}
	if u.Role == model.RoleAdmin && u.DisabledAt == nil {
		admins, err := a.enabledAdmins(ctx)
		if err != nil {
			return 0, err
		}
		if admins <= 1 {
			return 0, ErrLastAdmin
		}
	}
	now := a.Now()
	if err := a.Store.SetUserDisabled(ctx, id, &now); err != nil {
		return 0, err
	}
	return a.Store.DeleteUserSessions(ctx, id)
}

func (a *Service) enabledAdmins(ctx context.Context) (int, error) {
	users, err := a.Store.Users(ctx, model.RoleAdmin)
	n := 0
	for _, u := range users {
		if u.DisabledAt == nil {
			n++
		}
	}
	return n, err
}

// EnableUser lets a disabled user sign in again; their old sessions stay
// ended and their keys work again.
func (a *Service) EnableUser(ctx context.Context, id int64) error {
	return a.Store.SetUserDisabled(ctx, id, nil)
}

// SetPassword sets a user's password after checking it (CheckNewPassword)
// and ends all their sessions, the one that changed it included. It
// returns the sessions ended.
func (a *Service) SetPassword(ctx context.Context, id int64, password string) (int64, error) {
	u, err := a.Store.UserByID(ctx, id)
	if err != nil {
		return 0, err
	}
	if err := CheckNewPassword(password, u.Email); err != nil {
		return 0, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return 0, err
	}
	if err := a.Store.SetPassword(ctx, id, hash); err != nil {
		return 0, err
	}
	return a.Store.DeleteUserSessions(ctx, id)
}

// RevokeSessions ends every session of a user.
func (a *Service) RevokeSessions(ctx context.Context, id int64) (int64, error) {
	if _, err := a.Store.UserByID(ctx, id); err != nil {
		return 0, err
	}
	return a.Store.DeleteUserSessions(ctx, id)
}

// Cleanup deletes expired sessions and sign-in counters quiet for longer
// than Throttle.Quiet; the web server runs it periodically.
func (a *Service) Cleanup(ctx context.Context) (sessions, counters int64, err error) {
	now := a.Now()
	if sessions, err = a.Store.DeleteExpiredSessions(ctx, now); err != nil {
		return 0, 0, err
	}
	quiet := a.Throttle.Quiet
	if quiet <= 0 {
		quiet = DefaultThrottle.Quiet
	}
	counters, err = a.Store.DeleteStaleLoginThrottle(ctx, now.Add(-quiet), now)
	return sessions, counters, err
}

// Allows reports whether role may do what needs at least min. Roles are
// ordered admin > marketer > sales > viewer.
func Allows(role, min model.Role) bool {
	rank := func(r model.Role) int {
		for i, x := range model.Roles {
			if x == r {
				return len(model.Roles) - i
			}
		}
		return 0
	}
	return rank(role) >= rank(min) && rank(min) > 0
}
