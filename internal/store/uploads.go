package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"
)

// UploadPartSize is the size of the parts an upload is kept in: a part is
// read into memory at a time, never the whole file.
const UploadPartSize = 1 << 20

// SaveUpload keeps the file r reads (at most max bytes) in the database,
// in parts, and returns its id and size. A longer file is refused
// (ErrUploadTooLarge) and nothing is kept.
func (s *Store) SaveUpload(ctx context.Context, name string, r io.Reader, max int64, now time.Time) (int64, int64, error) {
	var id, size int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.insertID(ctx, tx, "INSERT INTO uploads (name, size, part_size, created_at) VALUES (?, 0, ?, ?)", name, UploadPartSize, utc(now))
		if err != nil {
			return err
		}
		buf := make([]byte, UploadPartSize)
		for seq := 0; ; seq++ {
			n, rerr := io.ReadFull(r, buf)
			if n > 0 {
				if size += int64(n); size > max {
					return ErrUploadTooLarge
				}
				if _, err := tx.ExecContext(ctx, s.q("INSERT INTO upload_parts (upload_id, seq, data) VALUES (?, ?, ?)"), id, seq, buf[:n]); err != nil {
					return fmt.Errorf("keep upload: %w", err)
				}
			}
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
				break
			}
			if rerr != nil {
				return fmt.Errorf("read upload: %w", rerr)
			}
		}
		_, err = tx.ExecContext(ctx, s.q("UPDATE uploads SET size = ? WHERE id = ?"), size, id)
		return err
	})
	return id, size, err
}

// ErrUploadTooLarge refuses a file over SaveUpload's bound.
var ErrUploadTooLarge = errors.New("the file is too large")

// OpenUpload reads a kept upload: an io.ReadSeeker that holds one part in
// memory at a time. ErrNotFound when there is none with the id.
func (s *Store) OpenUpload(ctx context.Context, id int64) (*UploadReader, error) {
	u := &UploadReader{s: s, ctx: ctx, id: id, part: -1}
	err := s.r.QueryRowContext(ctx, s.q("SELECT name, size, part_size FROM uploads WHERE id = ?"), id).Scan(&u.Name, &u.size, &u.partSize)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if u.partSize <= 0 {
		return nil, fmt.Errorf("upload %d: part size %d", id, u.partSize)
	}
	return u, nil
}

// UploadReader reads a kept upload (OpenUpload).
type UploadReader struct {
	Name     string
	s        *Store
	ctx      context.Context
	id       int64
	size     int64
	partSize int64
	off      int64
	part     int64 // the part in buf; -1: none
	buf      []byte
}

// Size is the upload's size in bytes.
func (u *UploadReader) Size() int64 { return u.size }

func (u *UploadReader) Read(p []byte) (int, error) {
	if u.off >= u.size {
		return 0, io.EOF
	}
	part := u.off / u.partSize
	if part != u.part {
		var data []byte
		err := u.s.r.QueryRowContext(u.ctx, u.s.q("SELECT data FROM upload_parts WHERE upload_id = ? AND seq = ?"), u.id, part).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("upload %d: part %d is missing", u.id, part)
		}
		if err != nil {
			return 0, err
		}
		u.buf, u.part = data, part
	}
	start := u.off - part*u.partSize
	if start >= int64(len(u.buf)) {
		return 0, fmt.Errorf("upload %d: part %d is short", u.id, part)
	}
	n := copy(p, u.buf[start:])
	u.off += int64(n)
	return n, nil
}

func (u *UploadReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += u.off
	case io.SeekEnd:
		offset += u.size
	default:
		return u.off, fmt.Errorf("seek: bad whence %d", whence)
	}
	if offset < 0 {
		return u.off, errors.New("seek: before the start")
	}
	u.off = offset
	return offset, nil
}

// DeleteUpload removes a kept upload (its job ended).
func (s *Store) DeleteUpload(ctx context.Context, id int64) error {
	_, err := s.w.ExecContext(ctx, s.q("DELETE FROM uploads WHERE id = ?"), id)
	return err
}

// DeleteUploadsBefore removes the uploads kept since before t (a job that
// never ran, or failed for good): it returns how many.
func (s *Store) DeleteUploadsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM uploads WHERE created_at < ?"), utc(t))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
