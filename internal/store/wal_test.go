package store_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The write-ahead log does not keep the size of the biggest write burst:
// journal_size_limit is set on every connection, and Checkpoint (run
// every few minutes by the server) folds the log in and truncates it.
func TestSQLiteWALIsBounded(t *testing.T) {
	ctx := context.Background()
	path := storetest.SQLiteDSN(t)
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var limit int64
	if err := s.WriterDB().QueryRowContext(ctx, "PRAGMA journal_size_limit").Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if limit != store.WALSizeLimit {
		t.Fatalf("journal_size_limit %d, want %d", limit, store.WALSizeLimit)
	}

	// A burst of about 24 MB in one transaction, as an import chunk or a
	// busy minute of intake writes.
	if err := s.ExecForTest(ctx, "CREATE TABLE burst (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	tx, err := s.WriterDB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	row := strings.Repeat("x", 8<<10)
	for range 3000 {
		if _, err := tx.ExecContext(ctx, "INSERT INTO burst (v) VALUES (?)", row); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	wal := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if os.IsNotExist(err) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if n := wal(); n < 16<<20 {
		t.Fatalf("the burst left a WAL of %d bytes; the test needs a big one", n)
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if n := wal(); n != 0 {
		t.Fatalf("WAL is %d bytes after the checkpoint, want it truncated", n)
	}
	var count int
	if err := s.WriterDB().QueryRowContext(ctx, "SELECT COUNT(*) FROM burst").Scan(&count); err != nil || count != 3000 {
		t.Fatalf("after the checkpoint %d rows (%v), want 3000", count, err)
	}
}
