package store_test

import (
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestMigrationGivesOldKeysToTheFirstAdmin loads API keys as a revloop
// without key owners left them and checks that the migration hands them to
// the admin with the lowest id, so that they stop with that account.
func TestMigrationGivesOldKeysToTheFirstAdmin(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		if err := s.MigrateDownForTest(ctx, 19); err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
		for _, q := range []string{
			`INSERT INTO users (id, email, role, created_at) VALUES (1, 'sales@x.cn', 'sales', ?), (2, 'boss@x.cn', 'admin', ?), (3, 'ops@x.cn', 'admin', ?)`,
			`INSERT INTO api_keys (name, role, prefix, key_hash, created_at) VALUES ('etl', 'viewer', 'rl_a', 'h1', ?), ('crm', 'sales', 'rl_b', 'h2', ?), ('x', 'admin', 'rl_c', 'h3', ?)`,
		} {
			if err := s.ExecForTest(ctx, q, t0, t0, t0); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		keys, err := s.APIKeys(ctx)
		if err != nil || len(keys) != 3 {
			t.Fatalf("%d keys, %v", len(keys), err)
		}
		for _, k := range keys {
			if k.UserID != 2 {
				t.Errorf("key %s belongs to user %d, want the first admin (2)", k.Name, k.UserID)
			}
		}
		id, err := s.CreateAPIKey(ctx, model.APIKey{Name: "new", Role: model.RoleSales, Prefix: "rl_d", KeyHash: "h4", UserID: 1})
		if err != nil {
			t.Fatal(err)
		}
		if k, err := s.APIKeyByHash(ctx, "h4"); err != nil || k.ID != id || k.UserID != 1 {
			t.Fatalf("owned key: %+v %v", k, err)
		}
	})
}
