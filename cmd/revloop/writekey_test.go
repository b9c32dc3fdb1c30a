package main

import (
	"context"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestWriteKeysOnBothEngines(t *testing.T) {
	onBothEngines(t, func(t *testing.T, dsn string) {
		env := map[string]string{"REVLOOP_DB": dsn}
		lastLine := func(r result) string {
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			return lines[len(lines)-1]
		}
		r := revloop(t, "", env, "writekey", "create", "--name", "www.example.cn")
		site := lastLine(r)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(site, "wk_") || len(site) < 25 || strings.ContainsAny(site, " \t") {
			t.Fatalf("create: %+v", r)
		}
		r = revloop(t, "", env, "writekey", "create", "--name", "后端服务", "--server")
		server := lastLine(r)
		if r.code != 0 || server == site || !strings.HasPrefix(server, "wk_") || !strings.Contains(r.stdout, "created server write key") {
			t.Fatalf("second create: %+v", r)
		}
		r = revloop(t, "", env, "writekey", "list")
		if r.code != 0 || !strings.Contains(r.stdout, "www.example.cn") || !strings.Contains(r.stdout, site) ||
			!strings.Contains(r.stdout, "后端服务") || strings.Count(r.stdout, "active") != 2 ||
			strings.Count(r.stdout, " browser ") != 1 || strings.Count(r.stdout, " server ") != 1 {
			t.Fatalf("list: %+v", r)
		}
		if strings.Index(r.stdout, server) > strings.Index(r.stdout, site) {
			t.Errorf("list is not newest first:\n%s", r.stdout)
		}
		r = revloop(t, "", env, "writekey", "revoke", "--id", "1")
		if r.code != 0 || !strings.Contains(r.stdout, "revoked write key 1") {
			t.Fatalf("revoke: %+v", r)
		}
		r = revloop(t, "", env, "writekey", "list")
		if strings.Count(r.stdout, "active") != 1 || !strings.Contains(r.stdout, "revoked 20") {
			t.Fatalf("list after revoke: %+v", r)
		}
		// The store sees what the command did.
		s, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		k, err := s.WriteKeyByKey(context.Background(), site)
		if err != nil || k.RevokedAt == nil || k.Name != "www.example.cn" || k.Server {
			t.Fatalf("stored key: %+v %v", k, err)
		}
		if k, err := s.WriteKeyByKey(context.Background(), server); err != nil || k.RevokedAt != nil || !k.Server {
			t.Fatalf("other key: %+v %v", k, err)
		}
	})
}

func TestWriteKeyBadCommandLines(t *testing.T) {
	db := storetest.SQLiteDSN(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"writekey"}, 2, "missing subcommand"},
		{[]string{"writekey", "rotate"}, 2, `unknown subcommand "rotate"`},
		{[]string{"writekey", "create", "--db", db}, 2, "--name is required"},
		{[]string{"writekey", "create", "--db", db, "--name", "  "}, 2, "--name is required"},
		{[]string{"writekey", "create", "--db", db, "--name", "x", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"writekey", "revoke", "--db", db, "--id", "0"}, 2, "want a positive key id"},
		{[]string{"writekey", "revoke", "--db", db}, 2, "want a positive key id"},
		{[]string{"writekey", "revoke", "--db", storetest.SQLiteDSN(t), "--id", "7"}, 1, "no write key with id 7"},
		{[]string{"writekey", "list", "--db", "/no/such/dir/r.db"}, 1, "does not exist"},
	}
	for _, c := range cases {
		r := revloop(t, "", nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: code %d, stderr %q; want code %d and %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
	for _, args := range [][]string{{"writekey", "-h"}, {"writekey", "create", "-h"}, {"writekey", "list", "-h"}, {"writekey", "revoke", "-h"}} {
		if r := revloop(t, "", nil, args...); r.code != 0 || !strings.Contains(r.stdout, "Usage: revloop writekey") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}
