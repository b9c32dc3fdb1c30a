package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestUploads(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		data := make([]byte, 2*store.UploadPartSize+12345)
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := range data {
			data[i] = byte(rnd.IntN(256))
		}
		now := time.Now()
		id, size, err := s.SaveUpload(ctx, "costs.csv", bytes.NewReader(data), int64(len(data)), now)
		if err != nil || size != int64(len(data)) {
			t.Fatalf("save: %d %v", size, err)
		}
		u, err := s.OpenUpload(ctx, id)
		if err != nil || u.Name != "costs.csv" || u.Size() != size {
			t.Fatalf("open: %+v %v", u, err)
		}
		got, err := io.ReadAll(u)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, %v", len(got), err)
		}
		// Seek anywhere, across parts.
		for _, off := range []int64{0, 1, store.UploadPartSize - 3, store.UploadPartSize, int64(len(data)) - 1} {
			if _, err := u.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 8)
			n, err := io.ReadFull(u, buf)
			want := data[off:min(off+8, int64(len(data)))]
			if !bytes.Equal(buf[:n], want) || (err != nil && !errors.Is(err, io.ErrUnexpectedEOF)) {
				t.Fatalf("at %d: %x %v, want %x", off, buf[:n], err, want)
			}
		}
		// Too large: refused, nothing kept.
		if _, _, err := s.SaveUpload(ctx, "big.csv", bytes.NewReader(data), 1000, now); !errors.Is(err, store.ErrUploadTooLarge) {
			t.Fatalf("too large: %v", err)
		}
		if n, err := s.DeleteUploadsBefore(ctx, now.Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("delete old: %d %v (the refused one must not have been kept)", n, err)
		}
		if _, err := s.OpenUpload(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted upload: %v", err)
		}
	})
}
