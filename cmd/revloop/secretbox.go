package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
)

// secretBox opens the key that seals the secrets revloop stores (the
// SMTP password, the WeCom app secret, the webhook signing secret): --secret-key or
// REVLOOP_SECRET_KEY (base64 of 32 bytes) when given; else, beside a
// SQLite database, the key file <db>.key (made on first start, readable
// by the owner only). PostgreSQL without a key gives no box: the server
// runs, but secrets cannot be set until a key is configured (every node
// must share the same key).
func secretBox(key, dsn string, s *store.Store, log *slog.Logger) (*secret.Box, error) {
	if strings.TrimSpace(key) != "" {
		k, err := secret.ParseKey(key)
		if err != nil {
			return nil, usageError{"--secret-key: " + err.Error()}
		}
		return secret.New(k)
	}
	if s.Dialect() != store.SQLite {
		log.Warn("no --secret-key (REVLOOP_SECRET_KEY): the SMTP password and the WeCom and webhook secrets cannot be set")
		return nil, nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(dsn), "sqlite://"), "file://"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i] // options of the DSN, not of the file
	}
	if path == "" || path == ":memory:" {
		return nil, nil
	}
	k, err := secret.KeyFile(path + ".key")
	if err != nil {
		return nil, fmt.Errorf("secret key beside the database: %w", err)
	}
	return secret.New(k)
}
