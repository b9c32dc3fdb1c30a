package collect

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// WriteKeyPrefix starts every write key, so that one is recognisable in a
// web page or a log.
const WriteKeyPrefix = "wk_"

// NewWriteKey makes a write key: the prefix and 26 random base32 letters and
// digits (130 bits).
func NewWriteKey() string {
	return WriteKeyPrefix + strings.ToLower(rand.Text())
}

// CreateWriteKey stores a new browser write key named name.
func CreateWriteKey(ctx context.Context, s *store.Store, name string) (model.WriteKey, error) {
	return CreateWriteKeyOf(ctx, s, name, false)
}

// CreateWriteKeyOf stores a new write key named name, a server key when
// server is set (docs/identity.md: what each kind may do).
func CreateWriteKeyOf(ctx context.Context, s *store.Store, name string, server bool) (model.WriteKey, error) {
	name = model.CleanText(name)
	if name == "" {
		return model.WriteKey{}, errors.New("a write key needs a name (what sends with it, e.g. \"www.example.cn\")")
	}
	if len(name) > 200 {
		return model.WriteKey{}, fmt.Errorf("write key name is %d bytes; at most 200 are allowed", len(name))
	}
	for range 3 {
		k := model.WriteKey{Name: name, Key: NewWriteKey(), CreatedAt: time.Now().UTC().Truncate(time.Microsecond), Server: server}
		id, err := s.CreateWriteKey(ctx, k)
		if errors.Is(err, store.ErrDuplicate) {
			continue // astronomically unlikely; draw again
		}
		if err != nil {
			return model.WriteKey{}, err
		}
		k.ID = id
		return k, nil
	}
	return model.WriteKey{}, errors.New("could not draw a unique write key")
}
