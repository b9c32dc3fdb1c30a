package model

import "time"

// ContactStage is an opportunity contact and the stage the person is in.
type ContactStage struct {
	PersonID int64
	Stage    Stage
	StageAt  *time.Time
}

// OpportunityRecord is an opportunity as the CRM API sees it.
type OpportunityRecord struct {
	Opportunity
	ExternalID string
	Contacts   []ContactStage // in order: the primary contact first
}
