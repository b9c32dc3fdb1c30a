package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

func TestPasswordHash(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash format: %s", h)
	}
	if !auth.CheckPassword(h, "correct horse battery") {
		t.Fatal("right password rejected")
	}
	for _, wrong := range []string{"", "correct horse batter", "Correct horse battery"} {
		if auth.CheckPassword(h, wrong) {
			t.Fatalf("wrong password %q accepted", wrong)
		}
	}
	h2, _ := auth.HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=65536,t=3,p=2$!!$!!", "$argon2id$v=19$m=999999999,t=3,p=2$YQ$YQ"} {
		if auth.CheckPassword(bad, "x") {
			t.Fatalf("malformed hash %q accepted", bad)
		}
	}
	if _, err := auth.HashPassword(""); err == nil {
		t.Fatal("empty password hashed")
	}
}

func TestRoles(t *testing.T) {
	cases := []struct {
		role, min model.Role
		want      bool
	}{
		{model.RoleAdmin, model.RoleViewer, true},
		{model.RoleViewer, model.RoleAdmin, false},
		{model.RoleMarketer, model.RoleMarketer, true},
		{model.RoleSales, model.RoleMarketer, false},
		{"root", model.RoleViewer, false},
		{model.RoleAdmin, "root", false},
	}
	for _, c := range cases {
		if got := auth.Allows(c.role, c.min); got != c.want {
			t.Errorf("Allows(%s, %s) = %v", c.role, c.min, got)
		}
	}
}

func TestNormaliseEmail(t *testing.T) {
	if e, err := auth.NormaliseEmail("  Wang.Fang@Example.CN "); err != nil || e != "wang.fang@example.cn" {
		t.Fatalf("%q %v", e, err)
	}
	for _, bad := range []string{"", "nobody", "a@b", "Name <a@b.cn>", "a@b.cn, c@d.cn"} {
		if _, err := auth.NormaliseEmail(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLoginAndKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		a := auth.New(s)
		now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
		a.Now = func() time.Time { return now }
		u, err := a.CreateUser(ctx, "Admin@Example.cn", "管理员", model.RoleAdmin, "s3cret-pass-phrase")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.CreateUser(ctx, "admin@example.cn", "", model.RoleViewer, "another-pass-phrase"); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := a.CreateUser(ctx, "x@example.cn", "", "boss", "another-pass-phrase"); err == nil || !strings.Contains(err.Error(), "unknown role") {
			t.Fatalf("bad role: %v", err)
		}
		if _, _, err := a.Login(ctx, "admin@example.cn", "wrong-pass", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, _, err := a.Login(ctx, "ghost@example.cn", "s3cret-pass-phrase", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("unknown user: %v", err)
		}
		token, got, err := a.Login(ctx, "ADMIN@example.cn", "s3cret-pass-phrase", "192.0.2.1")
		if err != nil || got.ID != u.ID {
			t.Fatalf("login: %v", err)
		}
		if su, err := a.SessionUser(ctx, token); err != nil || su.ID != u.ID {
			t.Fatalf("session: %v", err)
		}
		if _, err := a.SessionUser(ctx, token+"x"); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("forged session: %v", err)
		}
		now = now.Add(15 * 24 * time.Hour)
		if _, err := a.SessionUser(ctx, token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("expired session: %v", err)
		}

		key, k, err := a.CreateAPIKey(ctx, "etl", model.RoleMarketer)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(key, auth.APIKeyPrefix) || !strings.HasPrefix(key, k.Prefix) || k.KeyHash == key {
			t.Fatalf("key %q, stored %+v", key, k)
		}
		if got, err := a.CheckAPIKey(ctx, key); err != nil || got.ID != k.ID || got.Role != model.RoleMarketer {
			t.Fatalf("check: %v", err)
		}
		for in, want := range map[string]error{"": auth.ErrNoKey, "rl_nope": auth.ErrBadKey} {
			if _, err := a.CheckAPIKey(ctx, in); !errors.Is(err, want) {
				t.Errorf("CheckAPIKey(%q) = %v, want %v", in, err, want)
			}
		}
		if err := s.RevokeAPIKey(ctx, k.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := a.CheckAPIKey(ctx, key); !errors.Is(err, auth.ErrRevokedKey) {
			t.Fatalf("revoked: %v", err)
		}
		if _, _, err := a.CreateAPIKey(ctx, "  ", model.RoleAdmin); err == nil {
			t.Fatal("nameless key accepted")
		}
	})
}
