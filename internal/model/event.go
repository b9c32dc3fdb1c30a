package model

import "time"

// EventType is a Segment message type.
type EventType string

const (
	EventTrack    EventType = "track"
	EventIdentify EventType = "identify"
	EventPage     EventType = "page"
	EventScreen   EventType = "screen"
	EventGroup    EventType = "group"
	EventAlias    EventType = "alias"
)

// Event is one raw message as accepted by the collector (or made by an
// import, a tracked link or a pixel). Events are append-only: everything
// derived from them (person, channel, touchpoint) can be recomputed.
type Event struct {
	ID          int64
	WriteKeyID  int64
	MessageID   string
	Type        EventType
	Name        string // track: event name; page/screen: page name
	UserID      string
	AnonymousID string
	GroupID     string
	PreviousID  string    // alias
	Timestamp   time.Time // when it happened, after clock-skew correction
	ReceivedAt  time.Time
	SentAt      *time.Time
	IP          string
	UserAgent   string
	Bot         bool
	URL         string
	Referrer    string
	Source      string // utm_source or context.campaign.source
	Medium      string
	Campaign    string
	Term        string
	Content     string
	ClickIDType string // gclid, bd_vid, ...
	ClickID     string
	Payload     []byte // the whole message as JSON, batch context merged in
	ProcessedAt *time.Time
}

// WriteKey identifies a source sending events. It is public by nature (it
// sits in web pages), so it is stored as is; revoking it stops intake.
type WriteKey struct {
	ID        int64
	Name      string
	Key       string
	CreatedAt time.Time
	RevokedAt *time.Time
	// Server marks a key held by a backend, trusted to attach new strong
	// identifiers to a known person; a browser key (public, in web pages)
	// is not (docs/identity.md).
	Server bool
}
