package collect

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Suppression: events naming an identifier of an erased person, or of a
// person who withdrew consent to tracking, are dropped at intake and
// counted (revloop_collector_events_total{outcome="suppressed"}). The set
// of suppressed identifier hashes is held in memory and reloaded when the
// store's suppressions change (checked with the settings, and at once
// after an erasure or a consent change through ReloadSuppressions), so
// intake makes no query per event; with an empty set the check costs
// nothing.

// maxSuppressions bounds the hashes held in memory (64 bytes each).
const maxSuppressions = 2_000_000

type suppressionSet struct {
	stamp  string
	key    []byte
	hashes map[string]struct{}
	norm   identity.Normaliser
}

type suppressor struct {
	mu      sync.Mutex // one reload at a time
	set     atomic.Pointer[suppressionSet]
	dropped atomic.Int64
}

func (c *Collector) suppression() *suppressor { return &c.suppress }

// ReloadSuppressions reads the suppressed identifiers from the store now.
func (c *Collector) ReloadSuppressions(ctx context.Context) error {
	return c.refreshSuppressions(ctx, true)
}

// SuppressedEvents is how many events were dropped as suppressed since
// the collector started.
func (c *Collector) SuppressedEvents() int64 { return c.suppression().dropped.Load() }

func (c *Collector) refreshSuppressions(ctx context.Context, force bool) error {
	sp := c.suppression()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	stamp, err := c.store.SuppressionStamp(ctx)
	if err != nil {
		return fmt.Errorf("suppressions: %w", err)
	}
	cur := sp.set.Load()
	if !force && cur != nil && cur.stamp == stamp {
		return nil
	}
	next := &suppressionSet{stamp: stamp}
	hashes, err := c.store.SuppressedHashes(ctx, maxSuppressions)
	if err != nil {
		return fmt.Errorf("suppressions: %w", err)
	}
	if len(hashes) > 0 {
		if next.key, err = c.store.SuppressionKey(ctx); err != nil {
			return fmt.Errorf("suppressions: %w", err)
		}
		next.hashes = make(map[string]struct{}, len(hashes))
		for _, h := range hashes {
			next.hashes[h] = struct{}{}
		}
		var region string
		if _, err := c.store.Setting(ctx, identity.PhoneRegionSetting, &region); err != nil {
			c.log.Warn("suppressions: phone region unreadable; using the default", "err", err)
		}
		next.norm = identity.Normaliser{PhoneRegion: region}
		if len(hashes) == maxSuppressions {
			c.log.Warn("suppressions: more entries than the collector holds; the newest are not applied", "held", maxSuppressions)
		}
	}
	sp.set.Store(next)
	c.metrics.events.WithLabelValues("suppressed")
	return nil
}

// dropSuppressed removes the events that name a suppressed identifier
// (the identifiers processing would read from them, normalised the same
// way) and counts them. Every source of events (posted messages, link
// clicks, pixels) passes here on its way to the committer.
func (c *Collector) dropSuppressed(events []model.Event) []model.Event {
	set := c.suppression().set.Load()
	if set == nil || len(set.hashes) == 0 {
		return events
	}
	kept := events[:0]
	for i := range events {
		if !set.suppressed(&events[i]) {
			kept = append(kept, events[i])
		}
	}
	if n := len(events) - len(kept); n > 0 {
		c.suppression().dropped.Add(int64(n))
		c.metrics.events.WithLabelValues("suppressed").Add(float64(n))
	}
	return kept
}

func (set *suppressionSet) suppressed(ev *model.Event) bool {
	has := func(t model.IdentityType, v string) bool {
		_, ok := set.hashes[store.HashIdentifier(set.key, string(t), v)]
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
		if v, err := set.norm.Normalise(x.t, x.v); err == nil && has(x.t, v) {
			return true
		}
	}
	m := identity.ParseMessage(ev)
	ids, _ := set.norm.Identifiers(ev, m)
	for _, id := range ids {
		if has(id.Type, id.Value) {
			return true
		}
	}
	return false
}
