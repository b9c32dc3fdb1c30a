package model

import "time"

// PersonDetail is a person with its identifiers, account and counts.
type PersonDetail struct {
	Person
	MergedIntoID int64
	Identities   []Identity
	Account      *Account
	Touchpoints  int64
	Events       int64
	// Traits are the identify traits stored on the person (never nil).
	Traits map[string]any
	Qualification
}

// Qualification is what scoring, predictive scoring and routing keep on a
// person.
type Qualification struct {
	SDRClass             string
	FitScore             float64
	EngagementScore      float64
	Score                float64
	ScoreVersion         int64      // 0: never scored
	ScoredAt             *time.Time // nil: never scored
	PredictedProbability *float64   // nil: no model has scored the person
	PredictedAt          *time.Time
	OwnerName            string
	OwnerEmail           string
}

// TimelineEvent is one event of a person's timeline.
type TimelineEvent struct {
	ID           int64
	MessageID    string
	Type         string
	Name         string
	Timestamp    time.Time
	URL          string
	Channel      string // of the touchpoint made from the event; empty for identify, alias, group
	Source       string
	Medium       string
	CampaignID   int64
	CampaignCode string
	CampaignName string
	RawCampaign  string // utm_campaign as sent
}
