package model

import "time"

// RuleSetKind names one kind of versioned rule set. Each version holds
// the rules as JSON (validated by the owning package before it is saved),
// who saved it and when; the newest version is in force, older ones are
// history.
type RuleSetKind string

const (
	ChannelRuleSets   RuleSetKind = "channel"
	ScoringRuleSets   RuleSetKind = "scoring"
	RoutingRuleSets   RuleSetKind = "routing"
	LifecycleRuleSets RuleSetKind = "lifecycle"
)

// RuleSet is one stored version of a rule set.
type RuleSet struct {
	Version   int64
	Rules     []byte // nil in RuleSetHistory
	CreatedBy string
	CreatedAt time.Time
}
