package collect

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/revloop/revloop/internal/identity"
	"github.com/revloop/revloop/internal/model"
)

// Suppression: events naming an identifier of an erased person, or of a
// person who withdrew consent to tracking, are dropped at intake and
// counted (revloop_collector_events_total{outcome="suppressed"}). The set
// of suppressed identifier hashes is held in memory and reloaded when the
// store's suppressions change (checked with the settings, and at once
// after an erasure or a consent change through ReloadSuppressions), so
// intake makes no query per event; with an empty set the check costs
// nothing.

type suppressor struct {
	mu      sync.Mutex // one reload at a time
	set     atomic.Pointer[identity.Suppressions]
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
	cur := sp.set.Load()
	if !force && cur != nil {
		stamp, err := c.store.SuppressionStamp(ctx)
		if err != nil {
			return fmt.Errorf("suppressions: %w", err)
		}
		if cur.Stamp == stamp {
			return nil
		}
	}
	next, err := identity.LoadSuppressions(ctx, c.store)
	if err != nil {
		return err
	}
	if next.Truncated {
		c.log.Warn("suppressions: more entries than the collector holds; the newest are not applied", "held", identity.MaxSuppressions)
	}
	sp.set.Store(next)
	c.metrics.events.WithLabelValues("suppressed")
	return nil
}

// dropSuppressed removes the events that name a suppressed identifier
// and counts them. Every source of events (posted messages, link clicks,
// pixels) passes here on its way to the committer.
func (c *Collector) dropSuppressed(events []model.Event) []model.Event {
	set := c.suppression().set.Load()
	if set.Empty() {
		return events
	}
	kept := events[:0]
	for i := range events {
		if !set.Suppressed(&events[i]) {
			kept = append(kept, events[i])
		}
	}
	if n := len(events) - len(kept); n > 0 {
		c.suppression().dropped.Add(int64(n))
		c.metrics.events.WithLabelValues("suppressed").Add(float64(n))
	}
	return kept
}
