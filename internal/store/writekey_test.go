package store_test

import (
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// Write keys are browser keys unless made server keys; the built-in
// imports key is a server key, the links key is not.
func TestServerWriteKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		browser, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "www", Key: "wk_b"})
		if err != nil {
			t.Fatal(err)
		}
		server, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "backend", Key: "wk_s", Server: true})
		if err != nil {
			t.Fatal(err)
		}
		imports, err := s.BuiltinWriteKey(ctx, "imports", func() string { return "wk_i" })
		if err != nil {
			t.Fatal(err)
		}
		links, err := s.BuiltinWriteKey(ctx, "links", func() string { return "wk_l" })
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ServerWriteKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !got[server] || !got[imports.ID] || got[browser] || got[links.ID] || len(got) != 2 {
			t.Errorf("server keys %v (browser %d, server %d, imports %d, links %d)", got, browser, server, imports.ID, links.ID)
		}
		if k, err := s.WriteKeyByKey(ctx, "wk_s"); err != nil || !k.Server {
			t.Errorf("%+v %v", k, err)
		}
		if k, err := s.WriteKeyByKey(ctx, "wk_b"); err != nil || k.Server {
			t.Errorf("%+v %v", k, err)
		}
	})
}
