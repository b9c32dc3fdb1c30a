package model

import "time"

// ConsentStatus is what a person said about a channel.
type ConsentStatus string

// The statuses; ConsentUnknown is the absence of an answer.
const (
	ConsentGranted ConsentStatus = "granted"
	ConsentDenied  ConsentStatus = "denied"
	ConsentUnknown ConsentStatus = "unknown"
)

// ConsentChannels are the channels consent is kept for. "tracking" is the
// collection of events itself: denying it suppresses the person's
// identifiers at the collector.
var ConsentChannels = []string{"email", "sms", "phone", "wechat", "wecom", "tracking"}

// ConsentChannelTracking is the consent channel the collector honours.
const ConsentChannelTracking = "tracking"

// ValidConsentChannel reports whether ch is one of ConsentChannels.
func ValidConsentChannel(ch string) bool {
	for _, c := range ConsentChannels {
		if c == ch {
			return true
		}
	}
	return false
}

// Consent is a person's answer for one channel.
type Consent struct {
	Channel   string        `json:"channel"`
	Status    ConsentStatus `json:"status"`
	Source    string        `json:"source,omitempty"`
	UpdatedBy string        `json:"updated_by,omitempty"`
	UpdatedAt *time.Time    `json:"updated_at,omitempty"`
}

// ConsentSet is one answer to record; ConsentUnknown forgets the answer.
type ConsentSet struct {
	Channel string
	Status  ConsentStatus
	Source  string
}

// ErasureReceipt says what an erasure removed: rows per table, when, by
// whom. It names the person by id only.
type ErasureReceipt struct {
	ID         int64            `json:"id"`
	PersonID   int64            `json:"person_id"`
	Persons    []int64          `json:"persons"` // the person and the persons merged into it
	Actor      string           `json:"actor"`
	Removed    map[string]int64 `json:"removed"`
	Detached   map[string]int64 `json:"detached"`
	Suppressed int              `json:"suppressed"`
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt time.Time        `json:"finished_at"`
}
