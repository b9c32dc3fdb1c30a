package model

import "time"

// TrackedLink is a short code that redirects to a campaign's landing page
// and records a touch. PromoterID is the employee who shared it (全员营销),
// CardID a sales rep's business-card id.
type TrackedLink struct {
	ID            int64
	Code          string
	CampaignID    int64
	CampaignCode  string // read only: joined from campaigns
	TargetURL     string
	UTMSource     string
	UTMMedium     string
	UTMCampaign   string
	UTMTerm       string
	UTMContent    string
	PromoterID    int64
	PromoterEmail string // read only: joined from users
	CardID        string
	CreatedAt     time.Time
	RevokedAt     *time.Time
}

// LinkCampaign is the part of a campaign that tracked links and imports
// refer to.
type LinkCampaign struct {
	ID         int64
	Code       string
	Name       string
	Channel    Channel
	Platform   string
	LandingURL string
}
