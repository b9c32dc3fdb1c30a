package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/revloop/revloop/internal/store/storetest"
)

// The secret key: from --secret-key when given; else a key file made
// beside the SQLite database on first use and read again after; a bad
// key is a usage error.
func TestSecretBox(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.SQLiteDSN(t)
	s, err := openStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	log := slog.New(slog.DiscardHandler)
	b1, err := secretBox("", dsn, s, log)
	if err != nil || b1 == nil {
		t.Fatalf("key file: %v", err)
	}
	st, err := os.Stat(dsn + ".key")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v %v", filepath.Base(dsn)+".key", st, err)
	}
	sealed, _ := b1.Seal([]byte("hunter2"))
	b2, err := secretBox("", dsn, s, log)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := b2.Open(sealed); err != nil || string(p) != "hunter2" {
		t.Fatalf("second start does not open the first one's secret: %v", err)
	}
	b3, err := secretBox("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", dsn, s, log)
	if err != nil || b3 == nil {
		t.Fatalf("--secret-key: %v", err)
	}
	if _, err := b3.Open(sealed); err == nil {
		t.Fatal("the flag's key opened the key file's secret")
	}
	if _, err := secretBox("c2hvcnQ=", dsn, s, log); err == nil {
		t.Fatal("a 5-byte key accepted")
	}
}
