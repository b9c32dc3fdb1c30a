package model

import "time"

// TimelineKind is what a person's timeline item is.
type TimelineKind string

// The kinds of timeline item, from every place a person's history is
// kept. A collected event that made a touchpoint shows once, as the touch.
const (
	ItemTouch             TimelineKind = "touch"              // a touchpoint: collected, imported or generated
	ItemEvent             TimelineKind = "event"              // a collected event that is no touch (identify, group, other tracks)
	ItemStage             TimelineKind = "stage"              // a lifecycle stage change
	ItemActivity          TimelineKind = "activity"           // a logged sales activity
	ItemOpportunity       TimelineKind = "opportunity"        // an opportunity the person is a contact of, when created
	ItemOpportunityClosed TimelineKind = "opportunity_closed" // the same, when won or lost
	ItemOrder             TimelineKind = "order"              // an order on such an opportunity
)

// TimelineKinds lists the kinds in the order items of the same instant
// come in, oldest first: a touch before the stage change it caused.
var TimelineKinds = []TimelineKind{ItemTouch, ItemEvent, ItemStage, ItemActivity,
	ItemOpportunity, ItemOpportunityClosed, ItemOrder}

// Rank is the kind's place in TimelineKinds (-1 for none).
func (k TimelineKind) Rank() int {
	for i, x := range TimelineKinds {
		if x == k {
			return i
		}
	}
	return -1
}

// TimelineItem is one thing in a person's history. Which fields are set
// depends on the kind.
type TimelineItem struct {
	Kind TimelineKind
	At   time.Time
	ID   int64 // of the touchpoint, event, stage change, activity, opportunity or order

	// touch and event
	Type, Name          string // touch type (ad_click, webinar_attend...) or event type; event name
	Channel             Channel
	Source, Medium, URL string
	CampaignID          int64
	CampaignCode        string
	CampaignName        string
	CampaignNameEN      string
	RawCampaign         string // utm_campaign as sent (events)
	Keyword, Content    string // the touch's keyword text and content asset title
	WatchSeconds        int64
	EventID             int64 // the collected event a touch came from; 0 for imported and generated touches
	MessageID           string

	// stage
	From, To      Stage
	Reason, Actor string

	// activity
	ActivityKind string
	UserEmail    string
	UserName     string
	Note         string

	// opportunity, opportunity_closed and order
	OpportunityID    int64
	OpportunityName  string
	OpportunityStage string
	Amount           Money
	Role             string
	Primary          bool
	OrderKind        string
}

// TimelineKey is a place in a timeline, newest first: items come in
// descending (At, kind rank, ID).
type TimelineKey struct {
	At   time.Time
	Kind TimelineKind
	ID   int64
}

// Key is the item's place.
func (it TimelineItem) Key() TimelineKey { return TimelineKey{At: it.At, Kind: it.Kind, ID: it.ID} }

// Before reports whether a comes after b in the timeline (a is older).
func (a TimelineKey) Before(b TimelineKey) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	if a.Kind.Rank() != b.Kind.Rank() {
		return a.Kind.Rank() < b.Kind.Rank()
	}
	return a.ID < b.ID
}

// TimelineCounts counts a person's timeline items by kind.
type TimelineCounts map[TimelineKind]int64

// Total is the number of items.
func (c TimelineCounts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}
