package identity

import (
	"context"
	"fmt"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// MaxSuppressions bounds the identifier hashes a Suppressions holds in
// memory (about 64 bytes each).
const MaxSuppressions = 2_000_000

// Suppressions are the identifiers whose events must not be collected
// again: those of erased persons and of persons who withdrew consent to
// tracking. The store keeps them as keyed hashes; a Suppressions holds
// them in memory so that every source of events (the collector, imports)
// checks an event without a query.
type Suppressions struct {
	// Stamp is the store's suppression stamp when the set was read; a
	// different stamp means the set is out of date.
	Stamp string
	// Truncated: the store holds more than MaxSuppressions entries and
	// the newest are not in the set.
	Truncated bool
	key       []byte
	hashes    map[string]struct{}
	norm      Normaliser
}

// LoadSuppressions reads the suppressed identifiers from the store.
func LoadSuppressions(ctx context.Context, st *store.Store) (*Suppressions, error) {
	stamp, err := st.SuppressionStamp(ctx)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	s := &Suppressions{Stamp: stamp}
	hashes, err := st.SuppressedHashes(ctx, MaxSuppressions)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	if len(hashes) == 0 {
		return s, nil
	}
	if s.key, err = st.SuppressionKey(ctx); err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	s.hashes = make(map[string]struct{}, len(hashes))
	for _, h := range hashes {
		s.hashes[h] = struct{}{}
	}
	region, err := PhoneRegion(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("suppressions: phone region: %w", err)
	}
	s.norm = Normaliser{PhoneRegion: region}
	s.Truncated = len(hashes) == MaxSuppressions
	return s, nil
}

// Empty says whether no identifier is suppressed (a nil set is empty).
func (s *Suppressions) Empty() bool { return s == nil || len(s.hashes) == 0 }

// Suppressed says whether ev names a suppressed identifier: any of those
// processing would read from it, normalised the same way.
func (s *Suppressions) Suppressed(ev *model.Event) bool {
	if s.Empty() {
		return false
	}
	has := func(t model.IdentityType, v string) bool {
		_, ok := s.hashes[store.HashIdentifier(s.key, string(t), v)]
		return ok
	}
	// The cheap identifiers first; the payload is read only when they pass.
	for _, x := range []struct {
		t model.IdentityType
		v string
	}{{model.IdentityUserID, ev.UserID}, {model.IdentityAnonymousID, ev.AnonymousID}, {model.IdentityAnonymousID, ev.PreviousID}, {model.IdentityUserID, ev.PreviousID}} {
		if x.v == "" {
			continue
		}
		if v, err := s.norm.Normalise(x.t, x.v); err == nil && has(x.t, v) {
			return true
		}
	}
	m := ParseMessage(ev)
	ids, _ := s.norm.Identifiers(ev, m)
	for _, id := range ids {
		if has(id.Type, id.Value) {
			return true
		}
	}
	return false
}
