package process

import (
	"cmp"
	"context"
	"slices"

	"github.com/revloop/revloop/internal/channel"
	"github.com/revloop/revloop/internal/store"
)

// reclassified is what rs makes of one touchpoint's channel, source and
// medium.
func reclassified(t store.TouchSource, rs *channel.RuleSet) store.Reclassified {
	c := rs.Classify(TouchOf(TouchInput{
		EventType: t.EventType, EventName: t.EventName, URL: t.URL, Referrer: t.Referrer,
		Source: t.UTMSource, Medium: t.UTMMedium, Campaign: t.UTMCampaign, Term: t.UTMTerm, Content: t.UTMContent,
		ClickIDType: t.ClickIDType, ClickID: t.ClickID, CampaignChannel: t.CampaignChannel, PromoterID: t.PromoterID,
	}))
	return store.Reclassified{TouchpointID: t.TouchpointID, PersonID: t.PersonID, Channel: string(c.Channel), Source: c.Source, Medium: c.Medium}
}

// ReclassifyPreview says what Reclassify would change with a rule set.
type ReclassifyPreview struct {
	ReclassifyResult
	Persons     int                 `json:"persons"`     // persons with a touchpoint whose channel would change
	Transitions []ChannelTransition `json:"transitions"` // channel moves, the largest first
	Sample      []TouchChange       `json:"sample"`      // the first touchpoints whose channel would change
}

// ChannelTransition counts the touchpoints that would move from one
// channel to another.
type ChannelTransition struct {
	From        string `json:"from"`
	To          string `json:"to"`
	Touchpoints int    `json:"touchpoints"`
}

// TouchChange is one touchpoint whose channel would change.
type TouchChange struct {
	TouchpointID  int64  `json:"touchpoint_id"`
	PersonID      int64  `json:"person_id"`
	ChannelBefore string `json:"channel_before"`
	ChannelAfter  string `json:"channel_after"`
}

// PreviewReclassify classifies every touchpoint made from an event with rs
// as Reclassify would, writing nothing, and lists at most sample of the
// touchpoints whose channel would change.
func PreviewReclassify(ctx context.Context, s *store.Store, rs *channel.RuleSet, sample int) (ReclassifyPreview, error) {
	out := ReclassifyPreview{Transitions: []ChannelTransition{}, Sample: []TouchChange{}}
	type move struct{ from, to string }
	moves := map[move]int{}
	persons := map[int64]bool{}
	var after int64
	for {
		batch, err := s.TouchSources(ctx, after, 2000)
		if err != nil {
			return out, err
		}
		if len(batch) == 0 {
			break
		}
		for _, t := range batch {
			after = t.TouchpointID
			out.Examined++
			c := reclassified(t, rs)
			if c.Channel != t.Channel || c.Source != t.Source || c.Medium != t.Medium {
				out.Updated++
			}
			if c.Channel == t.Channel {
				continue
			}
			out.Changed++
			moves[move{t.Channel, c.Channel}]++
			if t.PersonID != 0 {
				persons[t.PersonID] = true
			}
			if len(out.Sample) < sample {
				out.Sample = append(out.Sample, TouchChange{TouchpointID: t.TouchpointID, PersonID: t.PersonID, ChannelBefore: t.Channel, ChannelAfter: c.Channel})
			}
		}
	}
	out.Persons = len(persons)
	for m, n := range moves {
		out.Transitions = append(out.Transitions, ChannelTransition{From: m.from, To: m.to, Touchpoints: n})
	}
	slices.SortFunc(out.Transitions, func(a, b ChannelTransition) int {
		return cmp.Or(cmp.Compare(b.Touchpoints, a.Touchpoints), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out, nil
}

// ReclassifyResult says what a reclassification changed.
type ReclassifyResult struct {
	Examined int `json:"examined"` // touchpoints made from events
	Changed  int `json:"changed"`  // of which the channel changed
	Updated  int `json:"updated"`  // of which the channel, source or medium changed
}

// Reclassify re-derives the channel, source and medium of every touchpoint
// made from an event with rs, writes those that changed, and refreshes the
// first touch of their persons. Touchpoints loaded without an event (bulk
// loads, the demo) keep their channel. progress, when not nil, is told
// how many touchpoints were examined after each batch.
func Reclassify(ctx context.Context, s *store.Store, rs *channel.RuleSet, progress func(examined int)) (ReclassifyResult, error) {
	var res ReclassifyResult
	var after int64
	for {
		batch, err := s.TouchSources(ctx, after, 2000)
		if err != nil {
			return res, err
		}
		if len(batch) == 0 {
			return res, nil
		}
		var changes []store.Reclassified
		for _, t := range batch {
			after = t.TouchpointID
			res.Examined++
			c := reclassified(t, rs)
			if c.Channel != t.Channel {
				res.Changed++
			}
			if c.Channel != t.Channel || c.Source != t.Source || c.Medium != t.Medium {
				changes = append(changes, c)
			}
		}
		if err := s.UpdateTouchChannels(ctx, changes); err != nil {
			return res, err
		}
		res.Updated += len(changes)
		if progress != nil {
			progress(res.Examined)
		}
	}
}
