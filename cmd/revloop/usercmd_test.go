package main

import (
	"context"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/store"
)

func TestUserDisableEnablePasswdOnBothEngines(t *testing.T) {
	onBothEngines(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		env := map[string]string{"REVLOOP_DB": dsn}
		for _, args := range [][]string{{"user", "disable", "-h"}, {"user", "enable", "-h"}, {"user", "passwd", "-h"}, {"user", "revoke-sessions", "-h"}} {
			if r := revloop(t, "", env, args...); r.code != 0 || !strings.Contains(r.stdout, "Usage: revloop user") {
				t.Errorf("%v: %+v", args, r)
			}
		}
		// Weak passwords are refused before anything is written.
		if r := revloop(t, "short\n", env, "user", "create", "--email", "boss@example.cn", "--role", "admin"); r.code != 1 || !strings.Contains(r.stderr, "at least 12") {
			t.Fatalf("short password: %+v", r)
		}
		if r := revloop(t, "iloveyou1234\n", env, "user", "create", "--email", "boss@example.cn", "--role", "admin"); r.code != 1 || !strings.Contains(r.stderr, "too common") {
			t.Fatalf("common password: %+v", r)
		}
		// A key needs an owner: none yet.
		if r := revloop(t, "", env, "apikey", "create", "--name", "crm", "--role", "sales"); r.code != 1 || !strings.Contains(r.stderr, "no enabled admin") {
			t.Fatalf("key without an admin: %+v", r)
		}
		if r := revloop(t, "boss passphrase here\n", env, "user", "create", "--email", "boss@example.cn", "--role", "admin"); r.code != 0 {
			t.Fatalf("create admin: %+v", r)
		}
		if r := revloop(t, "sales passphrase ok\n", env, "user", "create", "--email", "wang@example.cn", "--role", "sales"); r.code != 0 {
			t.Fatalf("create sales: %+v", r)
		}
		if r := revloop(t, "", env, "apikey", "create", "--name", "crm", "--role", "admin", "--user", "wang@example.cn"); r.code != 1 || !strings.Contains(r.stderr, "at most its owner's role") {
			t.Fatalf("admin key for sales: %+v", r)
		}
		r := revloop(t, "", env, "apikey", "create", "--name", "crm", "--role", "sales", "--user", "wang@example.cn")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		key := lines[len(lines)-1]
		if r.code != 0 || !strings.Contains(r.stdout, "for wang@example.cn") || !strings.HasPrefix(key, "rl_") {
			t.Fatalf("owned key: %+v", r)
		}
		if r := revloop(t, "", env, "apikey", "create", "--name", "bi", "--role", "viewer"); r.code != 0 || !strings.Contains(r.stdout, "for boss@example.cn") {
			t.Fatalf("key of the first admin: %+v", r)
		}

		s, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		a := auth.New(s)
		if _, _, err := a.Login(ctx, "wang@example.cn", "sales passphrase ok", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if r := revloop(t, "", env, "user", "disable", "--email", "Wang@Example.cn"); r.code != 0 || !strings.Contains(r.stdout, "disabled user wang@example.cn; 1 sessions ended") {
			t.Fatalf("disable: %+v", r)
		}
		if _, err := a.CheckAPIKey(ctx, key); err != auth.ErrDisabledKey {
			t.Fatalf("key of a disabled user: %v", err)
		}
		r = revloop(t, "", env, "user", "list")
		if !strings.Contains(r.stdout, "disabled 20") {
			t.Fatalf("list: %+v", r)
		}
		if r := revloop(t, "", env, "apikey", "list"); !strings.Contains(r.stdout, "wang@example.cn") || !strings.Contains(r.stdout, "user disabled") {
			t.Fatalf("apikey list: %+v", r)
		}
		if r := revloop(t, "", env, "user", "disable", "--email", "boss@example.cn"); r.code != 1 || !strings.Contains(r.stderr, "only enabled admin") {
			t.Fatalf("last admin: %+v", r)
		}
		if r := revloop(t, "", env, "user", "enable", "--email", "wang@example.cn"); r.code != 0 {
			t.Fatalf("enable: %+v", r)
		}
		if _, err := a.CheckAPIKey(ctx, key); err != nil {
			t.Fatalf("key after enabling: %v", err)
		}

		if r := revloop(t, "password1234\n", env, "user", "passwd", "--email", "wang@example.cn"); r.code != 1 || !strings.Contains(r.stderr, "too common") {
			t.Fatalf("common new password: %+v", r)
		}
		if _, _, err := a.Login(ctx, "wang@example.cn", "sales passphrase ok", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if r := revloop(t, "a new sales passphrase\n", env, "user", "passwd", "--email", "wang@example.cn"); r.code != 0 || !strings.Contains(r.stdout, "1 sessions ended") {
			t.Fatalf("passwd: %+v", r)
		}
		if _, _, err := a.Login(ctx, "wang@example.cn", "a new sales passphrase", "192.0.2.1"); err != nil {
			t.Fatalf("new password: %v", err)
		}
		if r := revloop(t, "", env, "user", "passwd", "--email", "wang@example.cn"); r.code != 0 || !strings.Contains(r.stdout, "password: ") {
			t.Fatalf("generated password: %+v", r)
		}
		if r := revloop(t, "", env, "user", "revoke-sessions", "--email", "wang@example.cn"); r.code != 0 || !strings.Contains(r.stdout, "ended 0 sessions") {
			t.Fatalf("revoke: %+v", r)
		}
		if r := revloop(t, "", env, "user", "enable", "--email", "ghost@example.cn"); r.code != 1 || !strings.Contains(r.stderr, "no user with email ghost@example.cn") {
			t.Fatalf("unknown user: %+v", r)
		}
		if r := revloop(t, "", env, "user", "disable"); r.code != 2 || !strings.Contains(r.stderr, "--email is required") {
			t.Fatalf("no email: %+v", r)
		}
	})
}
