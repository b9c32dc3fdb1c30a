package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestNewPasswordRules(t *testing.T) {
	for _, c := range []struct {
		password, email string
		ok              bool
	}{
		{"correct horse battery", "", true},
		{"Tea-kettle on Tuesday", "li.na@example.cn", true},
		{"piped-password-1", "", true},
		{"short-pass", "", false},      // 10 characters
		{"密码太短了十一个字", "", false},       // 9 characters, 27 bytes
		{"password1234", "", false},    // on the list
		{"PASSWORD1234", "", false},    // case does not matter
		{"winniethepooh", "", false},   // on John's list
		{"dragon123456", "", false},    // a listed word padded with digits
		{"!!monkey2026!!", "", false},  // padded on both sides
		{"202603141530", "", false},    // only digits
		{"abcabcabcabc", "", false},    // one piece repeated
		{"aaaaaaaaaaaaaab", "", false}, // too few distinct characters
		{"li.na2026!!!", "li.na@example.cn", false},
		{"lina20262026", "li.na@example.cn", false},
		{strings.Repeat("x", 1025), "", false},
	} {
		err := auth.CheckNewPassword(c.password, c.email)
		if (err == nil) != c.ok {
			t.Errorf("CheckNewPassword(%q) = %v, want ok=%v", c.password, err, c.ok)
		}
	}
	for i := 0; i < 50; i++ {
		if err := auth.CheckNewPassword(auth.GeneratePassword(), "x@example.cn"); err != nil {
			t.Fatalf("a generated password is refused: %v", err)
		}
	}
}

func TestPasswordRulesOnCreateAndChange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		a := auth.New(s)
		if _, err := a.CreateUser(ctx, "weak@example.cn", "", model.RoleViewer, "password1"); err == nil || !strings.Contains(err.Error(), "at least 12") {
			t.Fatalf("short password on create: %v", err)
		}
		if _, err := a.CreateUser(ctx, "weak@example.cn", "", model.RoleViewer, "password1234"); err == nil || !strings.Contains(err.Error(), "too common") {
			t.Fatalf("common password on create: %v", err)
		}
		// A user from before the rule, with an 8-character password, still signs in.
		hash, err := auth.HashPassword("old-pass")
		if err != nil {
			t.Fatal(err)
		}
		id, err := s.CreateUser(ctx, model.User{Email: "old@example.cn", Role: model.RoleViewer, PasswordHash: hash})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Login(ctx, "old@example.cn", "old-pass", "192.0.2.7"); err != nil {
			t.Fatalf("existing user with a short password: %v", err)
		}
		if _, err := a.SetPassword(ctx, id, "qwertyuiop12"); err == nil || !strings.Contains(err.Error(), "too common") {
			t.Fatalf("common password on change: %v", err)
		}
		if _, err := a.SetPassword(ctx, id, "long enough and mine"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Login(ctx, "old@example.cn", "old-pass", "192.0.2.7"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("old password after change: %v", err)
		}
	})
}

// clock is a settable time for a Service.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLoginThrottle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		a := auth.New(s)
		c := &clock{time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
		a.Now = c.now
		const pw = "the right passphrase"
		if _, err := a.CreateUser(ctx, "li.na@example.cn", "", model.RoleAdmin, pw); err != nil {
			t.Fatal(err)
		}
		throttled := func(err error) time.Duration {
			t.Helper()
			var te *auth.ThrottledError
			if !errors.As(err, &te) || !errors.Is(err, auth.ErrThrottled) {
				t.Fatalf("want a throttled refusal, got %v", err)
			}
			return te.RetryAfter
		}
		// Five wrong passwords for the account, then even the right one is refused.
		for i := 0; i < 5; i++ {
			if _, _, err := a.Login(ctx, "li.na@example.cn", "wrong guess number", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("guess %d: %v", i+1, err)
			}
		}
		if d := throttled(second(a.Login(ctx, "li.na@example.cn", pw, "192.0.2.1"))); d != time.Minute {
			t.Fatalf("first lock %s, want 1m", d)
		}
		// From another address too: the account is locked, not the address.
		throttled(second(a.Login(ctx, "LI.NA@example.cn", pw, "198.51.100.9")))
		// The lock holds across a restart: a new Service over the same store.
		b := auth.New(s)
		b.Now = c.now
		throttled(second(b.Login(ctx, "li.na@example.cn", pw, "198.51.100.9")))

		// After the lock, five more guesses lock for twice as long.
		c.t = c.t.Add(61 * time.Second)
		for i := 0; i < 5; i++ {
			if _, _, err := a.Login(ctx, "li.na@example.cn", "wrong again", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("second round guess %d: %v", i+1, err)
			}
		}
		if d := throttled(second(a.Login(ctx, "li.na@example.cn", pw, "192.0.2.1"))); d != 2*time.Minute {
			t.Fatalf("second lock %s, want 2m", d)
		}
		// Once it has passed, the right password signs in and clears the account.
		c.t = c.t.Add(2*time.Minute + time.Second)
		if _, _, err := a.Login(ctx, "li.na@example.cn", pw, "192.0.2.1"); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		if _, _, err := a.Login(ctx, "li.na@example.cn", "one typo here", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("a typo after signing in: %v", err)
		}

		// Twenty guesses from one address over many accounts lock the
		// address, for every account; an IPv6 address counts by its /64.
		c.t = c.t.Add(time.Hour)
		for i := 0; i < 20; i++ {
			email := "guess" + string(rune('a'+i)) + "@example.cn"
			if _, _, err := a.Login(ctx, email, "wrong guess number", "2001:db8:1:2::"+string(rune('a'+i%6))); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("spray %d: %v", i+1, err)
			}
		}
		throttled(second(a.Login(ctx, "li.na@example.cn", pw, "2001:db8:1:2:ffff::1")))
		if _, _, err := a.Login(ctx, "li.na@example.cn", pw, "2001:db8:1:3::1"); err != nil {
			t.Fatalf("another /64: %v", err)
		}

		// Expired sessions and quiet counters are cleaned up.
		c.t = c.t.Add(30 * 24 * time.Hour)
		sessions, counters, err := a.Cleanup(ctx)
		if err != nil || sessions == 0 || counters == 0 {
			t.Fatalf("cleanup: %d sessions, %d counters, %v", sessions, counters, err)
		}
	})
}

// second drops Login's token and user.
func second(_ string, _ model.User, err error) error { return err }

func TestConcurrentGuessesStayWithinTheLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		a := auth.New(s)
		if _, err := a.CreateUser(ctx, "li.na@example.cn", "", model.RoleAdmin, "the right passphrase"); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 12)
		for i := 0; i < 12; i++ {
			go func() { errs <- second(a.Login(ctx, "li.na@example.cn", "wrong guess number", "192.0.2.1")) }()
		}
		checked := 0
		for i := 0; i < 12; i++ {
			if err := <-errs; errors.Is(err, auth.ErrBadCredentials) {
				checked++
			} else if !errors.Is(err, auth.ErrThrottled) {
				t.Fatal(err)
			}
		}
		if checked > 5 {
			t.Fatalf("%d concurrent guesses were checked, want at most 5", checked)
		}
	})
}

func TestUserDisableEnableAndKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		a := auth.New(s)
		const pw = "the right passphrase"
		admin, err := a.CreateUser(ctx, "boss@example.cn", "", model.RoleAdmin, pw)
		if err != nil {
			t.Fatal(err)
		}
		sales, err := a.CreateUser(ctx, "wang@example.cn", "", model.RoleSales, pw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.DisableUser(ctx, admin.ID); !errors.Is(err, auth.ErrLastAdmin) {
			t.Fatalf("disabling the only admin: %v", err)
		}
		if _, _, err := a.CreateUserAPIKey(ctx, sales.ID, "crm", model.RoleAdmin); err == nil {
			t.Fatal("a sales user got an admin key")
		}
		key, k, err := a.CreateUserAPIKey(ctx, sales.ID, "crm", model.RoleSales)
		if err != nil || k.UserID != sales.ID {
			t.Fatalf("owned key: %+v %v", k, err)
		}
		token, _, err := a.Login(ctx, "wang@example.cn", pw, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		ended, err := a.DisableUser(ctx, sales.ID)
		if err != nil || ended != 1 {
			t.Fatalf("disable: %d sessions ended, %v", ended, err)
		}
		if _, err := a.SessionUser(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("session of a disabled user: %v", err)
		}
		if _, err := a.CheckAPIKey(ctx, key); !errors.Is(err, auth.ErrDisabledKey) {
			t.Fatalf("key of a disabled user: %v", err)
		}
		if _, _, err := a.Login(ctx, "wang@example.cn", pw, "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("login of a disabled user: %v", err)
		}
		if err := a.EnableUser(ctx, sales.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.CheckAPIKey(ctx, key); err != nil {
			t.Fatalf("key after enabling: %v", err)
		}
		if _, _, err := a.Login(ctx, "wang@example.cn", pw, "192.0.2.1"); err != nil {
			t.Fatalf("login after enabling: %v", err)
		}
		// Explicit revocation.
		if _, _, err := a.Login(ctx, "wang@example.cn", pw, "192.0.2.2"); err != nil {
			t.Fatal(err)
		}
		if n, err := a.RevokeSessions(ctx, sales.ID); err != nil || n != 2 {
			t.Fatalf("revoke: %d %v", n, err)
		}
	})
}
