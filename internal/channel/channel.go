// Package channel turns what a touch carries (UTM parameters, click ids,
// referrer, page URL, event) into a channel, with grouping rules that are
// data. It is pure: no database, no HTTP.
package channel

// UTM holds the campaign parameters of a touch, from utm_* query parameters
// or Segment's context.campaign.
type UTM struct {
	Source   string
	Medium   string
	Campaign string
	Term     string
	Content  string
}

// ClickID is an ad platform's click identifier found on a landing URL, e.g.
// {Type: "gclid", Value: "..."} or {Type: "bd_vid", Value: "..."}.
type ClickID struct {
	Type  string
	Value string
}

// Touch is everything classification looks at.
type Touch struct {
	UTM
	ClickID   ClickID
	URL       string // page URL
	Referrer  string
	EventType string // track, page, ...
	EventName string
	// CampaignChannel is the channel of the campaign the touch was matched
	// to (by utm_campaign or a tracked link), if any.
	CampaignChannel string
	// Promoter names the employee whose shared link brought the touch.
	Promoter string
}
