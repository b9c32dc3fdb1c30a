package main

import (
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/config"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The secret key: the flag's when given (a bad one is a usage error);
// else a key file beside a SQLite database, made once (0600) and read
// again; on PostgreSQL without a key, none.
func TestSecretBox(t *testing.T) {
	s := storetest.SQLite(t)
	dsn := storetest.SQLiteDSN(t)
	box, err := secretBox(config.Config{DB: dsn}, s)
	if err != nil || box == nil {
		t.Fatal(box, err)
	}
	fi, err := os.Stat(dsn + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	sealed, _ := box.Seal([]byte("pw"))
	again, err := secretBox(config.Config{DB: dsn}, s)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := again.Open(sealed); err != nil || string(p) != "pw" {
		t.Errorf("the key file's key changed: %v", err)
	}
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	flagBox, err := secretBox(config.Config{DB: dsn, SecretKey: key}, s)
	if err != nil || flagBox == nil {
		t.Fatal(err)
	}
	if _, err := flagBox.Open(sealed); err == nil {
		t.Error("the flag's key opened what the file's key sealed")
	}
	if _, err := secretBox(config.Config{DB: dsn, SecretKey: "short"}, s); err == nil || !strings.Contains(err.Error(), "REVLOOP_SECRET_KEY") {
		t.Errorf("bad key: %v", err)
	}
	pg := storetest.Postgres(t)
	if box, err := secretBox(config.Config{DB: "postgres://x"}, pg); box != nil || err != nil {
		t.Errorf("postgres without a key: %v %v", box, err)
	}
}
