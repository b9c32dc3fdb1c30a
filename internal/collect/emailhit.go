package collect

import (
	"fmt"
	"net/http"

	"github.com/revloop/revloop/internal/links"
)

// EmailSource names the built-in write key the opens and clicks of emails
// are stored under.
const EmailSource = "email"

// Email hit events.
const (
	EventEmailOpened  = "Email Opened"
	EventEmailClicked = "Email Link Clicked"
)

// EmailHit is an open (the pixel loaded) or a click of an email revloop
// sent.
type EmailHit struct {
	Event      string // EventEmailOpened or EventEmailClicked
	Email      string // the recipient's address: it names the person
	MessageKey string // the message's key
	URL        string // a click's original URL
	Campaign   string // utm_campaign of the touch (the journey), optional
	// AnonymousID is the browser's id on revloop's host (a click's rl_aid
	// cookie), or a fresh one: the recipient's address joins it to the
	// person.
	AnonymousID string
}

// RecordEmail stores the touch an email hit leaves, through the path
// every hit takes (bots flagged, rate limit, group commit): a track of
// hit.Event identified by the recipient's address, medium "email". An
// open's message id is the message's, so that a client loading the pixel
// again counts once.
func (c *Collector) RecordEmail(r *http.Request, hit EmailHit) error {
	c.ensureStarted(r.Context())
	k, err := c.store.BuiltinWriteKey(r.Context(), EmailSource, NewWriteKey)
	if err != nil {
		return fmt.Errorf("email write key: %w", err)
	}
	mid := "email-click-" + links.NewAnonymousID()
	if hit.Event == EventEmailOpened {
		mid = "email-open-" + hit.MessageKey
	}
	props := map[string]any{"email": hit.Email, "message_key": hit.MessageKey}
	if hit.URL != "" {
		props["url"] = hit.URL
	}
	camp := map[string]string{"source": "revloop", "medium": "email"}
	if hit.Campaign != "" {
		camp["name"] = hit.Campaign
	}
	aid := hit.AnonymousID
	if aid == "" {
		aid = links.NewAnonymousID()
	}
	msg := map[string]any{"type": "track", "event": hit.Event, "messageId": bound(mid, 200), "anonymousId": aid, "properties": props,
		"context": map[string]any{"campaign": camp, "traits": map[string]any{"email": hit.Email},
			"library": map[string]string{"name": "revloop-email"}}}
	return c.recordHit(r, k.ID, msg)
}

// IsBot says whether a user agent is a crawler's or a scanner's by the
// collector's bot list (mail security scanners follow every link of a
// message before its reader does).
func (c *Collector) IsBot(ua string) bool { return c.bots.IsBot(ua) }
