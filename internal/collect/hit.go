package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/revloop/revloop/internal/links"
	"github.com/revloop/revloop/internal/model"
)

// Hits are the requests a person's browser makes to revloop itself rather
// than to the collector API: tracked-link clicks (GET /r/{code}) and pixel
// loads (GET /p.gif). They become Segment track messages that go through the
// same path as everything the collector takes: the client address behind
// trusted proxies, IP anonymisation, the bot list, the per-write-key rate
// limit, dedupe on the message id and the group commit. Their request's
// User-Agent is the person's browser, so it goes into context.userAgent,
// where the bot rule reads it.

// LinkSource names the built-in write key tracked-link clicks are stored
// under.
const LinkSource = "links"

// Click is one click on a tracked link.
type Click struct {
	Link        model.TrackedLink
	Landing     string // where the visitor is sent: the target with UTM and rl_aid
	AnonymousID string // the visitor's id on revloop's host (cookie rl_aid)
}

// RecordClick stores the touch a click leaves: a track "Tracked Link
// Clicked" with the link, campaign, promoter and card in its properties,
// the effective UTM (the landing URL's own parameters win, as Decode reads
// them from context.page.url) and a fresh message id, under the links write
// key. The event is flagged as a bot when the browser is a crawler (link
// previews, mail scanners). An error is a *Rejection (rate limit) or a
// failure to store.
func (c *Collector) RecordClick(r *http.Request, cl Click) error {
	keyID, err := c.linkKey(r.Context())
	if err != nil {
		return fmt.Errorf("links write key: %w", err)
	}
	props := map[string]any{"link_code": cl.Link.Code, "campaign_code": cl.Link.CampaignCode, "url": cl.Landing}
	if cl.Link.PromoterID != 0 {
		props["promoter_id"] = cl.Link.PromoterID
		props["promoter"] = cl.Link.PromoterEmail
	}
	if cl.Link.CardID != "" {
		props["card_id"] = cl.Link.CardID
	}
	msg := map[string]any{
		"type": "track", "event": "Tracked Link Clicked", "messageId": "link-" + links.NewAnonymousID(), "anonymousId": cl.AnonymousID,
		"properties": props,
		"context": map[string]any{"page": map[string]any{"url": cl.Landing, "referrer": r.Referer()},
			"library": map[string]string{"name": "revloop-links"}},
	}
	return c.recordHit(r, keyID, msg)
}

// RecordPixel stores a pixel load under the pixel's own write key: a track
// of p.Event with the pixel's UTM in context.campaign. The message id is
// the pixel's (so that an email client loading it twice counts once) or a
// fresh one. A refused pixel is a *Rejection whose Reason is the metric
// label (unknown_write_key, revoked_write_key, rate_limited, ...).
func (c *Collector) RecordPixel(r *http.Request, p links.Pixel) error {
	c.ensureStarted(r.Context())
	keyID, rej := c.checkKey(r.Context(), p.WriteKey)
	if rej != nil {
		return rej
	}
	mid := p.MessageID
	if mid == "" {
		mid = "px-" + links.NewAnonymousID()
	}
	camp := map[string]string{}
	for k, v := range map[string]string{"source": p.UTM.Source, "medium": p.UTM.Medium, "name": p.UTM.Campaign, "term": p.UTM.Term, "content": p.UTM.Content} {
		if v != "" {
			camp[k] = v
		}
	}
	msg := map[string]any{"type": "track", "event": p.Event, "messageId": mid, "properties": map[string]any{},
		"context": map[string]any{"campaign": camp, "library": map[string]string{"name": "revloop-pixel"}}}
	if p.AnonymousID != "" {
		msg["anonymousId"] = p.AnonymousID
	}
	if p.UserID != "" {
		msg["userId"] = p.UserID
	}
	return c.recordHit(r, keyID, msg)
}

// recordHit decodes msg as the collector decodes a posted track message,
// with the request's User-Agent as the person's, and commits it under
// keyID.
func (c *Collector) recordHit(r *http.Request, keyID int64, msg map[string]any) error {
	ctx := r.Context()
	c.ensureStarted(ctx)
	received := c.now()
	st := c.settings.Load()
	msg["timestamp"] = received.UTC().Format(time.RFC3339Nano)
	if ua := r.UserAgent(); ua != "" {
		msg["context"].(map[string]any)["userAgent"] = bound(ua, maxStoredFieldLength)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode hit: %w", err)
	}
	dec, err := Decode(Input{Kind: Kind(model.EventTrack), Body: body, ReceivedAt: received, RemoteIP: clientIP(r, st.trusted),
		AnonymizeIP: st.anonymizeIP, IsBot: c.bots.IsBot})
	if err != nil {
		var rej *Rejection
		if errors.As(err, &rej) {
			c.metrics.rejected.WithLabelValues(rej.Reason).Inc()
		}
		return err
	}
	if _, rej := c.admit(keyID, dec.Events, received, st); rej != nil {
		c.metrics.rejected.WithLabelValues(rej.Reason).Inc()
		return rej
	}
	// The click is committed even if the visitor's browser goes away: a
	// fresh context, bounded, since the answer matters to no one but the
	// stored touch.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := c.commit(sctx, dec.Events); err != nil {
		return fmt.Errorf("store event: %w", err)
	}
	return nil
}

// linkKey is the id of the built-in links write key, created on first
// use and looked up again after the write key cache's lifetime (it may have
// been revoked and replaced).
func (c *Collector) linkKey(ctx context.Context) (int64, error) {
	c.linkKeyMu.Lock()
	defer c.linkKeyMu.Unlock()
	now := c.now()
	if c.linkKeyID != 0 && now.Before(c.linkKeyUntil) {
		return c.linkKeyID, nil
	}
	k, err := c.store.BuiltinWriteKey(ctx, LinkSource, NewWriteKey)
	if err != nil {
		return 0, err
	}
	c.linkKeyID, c.linkKeyUntil = k.ID, now.Add(c.keys.ttl)
	return k.ID, nil
}
