package report

import (
	"cmp"
	"math"
	"slices"

	"github.com/revloop/revloop/internal/model"
)

// A gap's first explanation, computed from the data and nothing else
// (docs/reviews.md, "Explanations"):
//
//   - a figure counted by channel (leads, MQLs, SQLs, opportunities,
//     registrations, attendances, downloads, won revenue, sourced
//     pipeline) names the channel that moved it most against the average
//     of the earlier campaigns compared with — down when the target was
//     missed, up when it was met — or, without earlier campaigns, the
//     channel that brought the largest share;
//   - a figure made of others (a cost per lead, ROI, spend, influenced
//     pipeline, orders) gives its parts against the same average;
//   - the time to first follow-up gives the median against the SLA and
//     the owners who breached it.
//
// Ties go to the channel key that sorts first, so that the same data
// always gives the same words.

// Explanation kinds.
const (
	ExplainChannelChange = "channel_change" // a channel moved the figure against the earlier campaigns
	ExplainChannelShare  = "channel_share"  // no earlier campaign: the channel with the largest share
	ExplainParts         = "parts"          // the figures the metric is made of, against the earlier campaigns
	ExplainFollowUp      = "follow_up"      // median against the SLA, owners who breached it
	ExplainNone          = "none"           // nothing counted to explain with
)

// Explanation is a gap's first explanation. Values are in their unit
// (yuan for CNY). Text is the sentence a page shows, in its language.
type Explanation struct {
	Kind string           `json:"kind"`
	Unit model.MetricUnit `json:"unit,omitempty"`
	// Channel change or share: the channel, its figure now, the average of
	// the earlier campaigns, the change between them, its share of the
	// figure now; and the figure in all, now and on average before.
	Channel       string   `json:"channel,omitempty"`
	Current       float64  `json:"current"`
	Baseline      *float64 `json:"baseline"`
	Change        *float64 `json:"change"`
	Share         *float64 `json:"share,omitempty"`
	TotalCurrent  float64  `json:"total_current"`
	TotalBaseline *float64 `json:"total_baseline"`
	TotalChange   *float64 `json:"total_change"`
	// Channels is how many channels the figure came through, now or in
	// the earlier campaigns.
	Channels int `json:"channels"`
	// TargetChange is how far the target was set from the earlier
	// campaigns' average: (target − average) ÷ average.
	TargetChange *float64 `json:"target_change"`
	// Compared is how many earlier campaigns the averages are of.
	Compared int                  `json:"compared"`
	Parts    []ExplanationPart    `json:"parts,omitempty"`
	FollowUp *FollowUpExplanation `json:"follow_up,omitempty"`
	Text     string               `json:"text"`
}

// ExplanationPart is one figure a metric is made of.
type ExplanationPart struct {
	Figure   string           `json:"figure"` // cost, clicks, leads, mqls, won_revenue, influenced_opportunities, average_amount, orders, order_amount
	Unit     model.MetricUnit `json:"unit"`
	Current  float64          `json:"current"`
	Baseline *float64         `json:"baseline"`
	Change   *float64         `json:"change"`
}

// FollowUpExplanation is the time to first follow-up against the SLA.
type FollowUpExplanation struct {
	MedianHours *float64 `json:"median_hours"`
	SLAHours    float64  `json:"sla_hours"`
	Owners      int      `json:"owners"`    // owners with an assignment due
	Breaching   int      `json:"breaching"` // of them, with at least one SLA breached
	Breached    int      `json:"breached"`  // assignments due without a follow-up in time
	Due         int      `json:"due"`
	// Slowest is the owner with the longest median (nil when nobody
	// followed up).
	Slowest *FollowUpOwner `json:"slowest"`
}

// explain gives metric m's first explanation; good says whether its
// target is met.
func explain(m model.ReviewMetric, target float64, good *bool, cur *scopeFacts, hist []historyFacts, fu CampaignFollowUp) *Explanation {
	e := explainFigures(m, good, cur, hist, fu)
	if e.Kind == ExplainChannelChange && e.TotalBaseline != nil {
		e.TargetChange = change(target, *e.TotalBaseline)
	}
	return e
}

func explainFigures(m model.ReviewMetric, good *bool, cur *scopeFacts, hist []historyFacts, fu CampaignFollowUp) *Explanation {
	missed := good != nil && !*good
	counts := func(get func(*scopeFacts) map[string]int64) *Explanation {
		h := make([]map[string]float64, len(hist))
		for i, x := range hist {
			h[i] = floats(get(x.facts), 1)
		}
		return channelExplanation(model.UnitCount, floats(get(cur), 1), h, missed)
	}
	money := func(get func(*scopeFacts) map[string]float64) *Explanation {
		h := make([]map[string]float64, len(hist))
		for i, x := range hist {
			h[i] = scaled(get(x.facts), 0.01)
		}
		return channelExplanation(model.UnitCNY, scaled(get(cur), 0.01), h, missed)
	}
	type part struct {
		figure string
		unit   model.MetricUnit
		of     func(*scopeFacts) *float64
	}
	parts := func(ps ...part) *Explanation {
		e := &Explanation{Kind: ExplainParts, Unit: m.Unit, Compared: len(hist)}
		for _, p := range ps {
			now := p.of(cur)
			if now == nil {
				continue
			}
			x := ExplanationPart{Figure: p.figure, Unit: p.unit, Current: *now}
			var vals []float64
			for _, h := range hist {
				if v := p.of(h.facts); v != nil {
					vals = append(vals, *v)
				}
			}
			if len(vals) > 0 && len(vals) == len(hist) {
				b := mean(vals)
				x.Baseline, x.Change = &b, change(*now, b)
			}
			if *now == 0 && (x.Baseline == nil || *x.Baseline == 0) {
				continue // nothing, before or now: no part of the story
			}
			e.Parts = append(e.Parts, x)
		}
		if len(e.Parts) == 0 {
			e.Kind = ExplainNone
		}
		return e
	}
	yuan := func(v model.Money) *float64 { x := float64(v) / 100; return &x }
	num := func(n int64) *float64 { x := float64(n); return &x }
	cost := part{"cost", model.UnitCNY, func(f *scopeFacts) *float64 { return yuan(f.cost) }}

	switch m.Key {
	case model.MetricLeads:
		return counts(func(f *scopeFacts) map[string]int64 { return f.leads })
	case model.MetricMQLs:
		return counts(func(f *scopeFacts) map[string]int64 { return f.mqls })
	case model.MetricSQLs:
		return counts(func(f *scopeFacts) map[string]int64 { return f.sqls })
	case model.MetricOpportunities:
		return counts(func(f *scopeFacts) map[string]int64 { return f.opps })
	case model.MetricRegistrations:
		return counts(func(f *scopeFacts) map[string]int64 { return f.registrations })
	case model.MetricAttendance:
		return counts(func(f *scopeFacts) map[string]int64 { return f.attendance })
	case model.MetricDownloads:
		return counts(func(f *scopeFacts) map[string]int64 { return f.downloads })
	case model.MetricWonRevenue:
		return money(func(f *scopeFacts) map[string]float64 { return f.won })
	case model.MetricSourcedPipeline:
		return money(func(f *scopeFacts) map[string]float64 { return f.sourced })
	case model.MetricInfluencedPipeline:
		return parts(
			part{"influenced_opportunities", model.UnitCount, func(f *scopeFacts) *float64 { return num(int64(len(f.opportunities))) }},
			part{"average_amount", model.UnitCNY, func(f *scopeFacts) *float64 {
				if len(f.opportunities) == 0 {
					return nil
				}
				x := float64(f.influencedPipeline) / 100 / float64(len(f.opportunities))
				return &x
			}})
	case model.MetricOrders:
		return parts(
			part{"orders", model.UnitCount, func(f *scopeFacts) *float64 { return num(int64(len(f.orders))) }},
			part{"order_amount", model.UnitCNY, func(f *scopeFacts) *float64 { return yuan(f.orderAmount) }})
	case model.MetricCost:
		return parts(cost, part{"clicks", model.UnitCount, func(f *scopeFacts) *float64 { return num(f.clicks) }})
	case model.MetricCostPerLead:
		return parts(cost, part{"leads", model.UnitCount, func(f *scopeFacts) *float64 { return num(isum(f.leads)) }})
	case model.MetricCostPerMQL:
		return parts(cost, part{"mqls", model.UnitCount, func(f *scopeFacts) *float64 { return num(isum(f.mqls)) }})
	case model.MetricROI:
		return parts(part{"won_revenue", model.UnitCNY, func(f *scopeFacts) *float64 { x := sum(f.won) / 100; return &x }}, cost)
	case model.MetricFirstFollowUpHours:
		return followUpExplanation(fu)
	}
	return &Explanation{Kind: ExplainNone}
}

func floats(m map[string]int64, k float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for key, v := range m {
		if v != 0 {
			out[key] = float64(v) * k
		}
	}
	return out
}

func scaled(m map[string]float64, k float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for key, v := range m {
		if v != 0 {
			out[key] = v * k
		}
	}
	return out
}

func mean(vs []float64) float64 {
	var t float64
	for _, v := range vs {
		t += v
	}
	return t / float64(len(vs))
}

// change is (now − before) ÷ before; nil when before is 0.
func change(now, before float64) *float64 {
	if before == 0 {
		return nil
	}
	c := (now - before) / before
	return &c
}

// channelExplanation finds the channel that moved a figure most against
// the average of the earlier campaigns (hist): the largest fall when the
// target was missed, the largest rise when it was met; without earlier
// campaigns, the channel with the largest share.
func channelExplanation(unit model.MetricUnit, cur map[string]float64, hist []map[string]float64, missed bool) *Explanation {
	e := &Explanation{Kind: ExplainChannelShare, Unit: unit, Compared: len(hist), TotalCurrent: sum(cur)}
	if len(hist) == 0 {
		if e.TotalCurrent == 0 {
			e.Kind = ExplainNone
			return e
		}
		keys := sortedKeys(cur)
		e.Channels = len(keys)
		best := slices.MaxFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(cur[a], cur[b]), cmp.Compare(b, a)) })
		share := cur[best] / e.TotalCurrent
		e.Channel, e.Current, e.Share = best, cur[best], &share
		return e
	}
	base := map[string]float64{}
	for _, h := range hist {
		for k, v := range h {
			base[k] += v / float64(len(hist))
		}
	}
	union := map[string]float64{}
	for k := range cur {
		union[k] = 0
	}
	for k := range base {
		union[k] = 0
	}
	keys := sortedKeys(union)
	e.Channels = len(keys)
	if len(keys) == 0 {
		e.Kind = ExplainNone
		return e
	}
	delta := func(k string) float64 { return cur[k] - base[k] }
	pick := keys[0]
	for _, k := range keys[1:] {
		d, p := delta(k), delta(pick)
		if (missed && d < p) || (!missed && d > p) {
			pick = k
		}
	}
	b := base[pick]
	tb := sum(base)
	e.Kind, e.Channel, e.Current, e.Baseline, e.Change = ExplainChannelChange, pick, cur[pick], &b, change(cur[pick], b)
	e.TotalBaseline, e.TotalChange = &tb, change(e.TotalCurrent, tb)
	return e
}

func followUpExplanation(fu CampaignFollowUp) *Explanation {
	x := &FollowUpExplanation{MedianHours: fu.Total.MedianBusinessHours, SLAHours: fu.SLAHours, Due: fu.Total.Due, Breached: fu.Total.Breached}
	for i := range fu.Owners {
		o := &fu.Owners[i]
		if o.Due == 0 {
			continue
		}
		x.Owners++
		if o.Breached > 0 {
			x.Breaching++
		}
		if o.MedianBusinessHours == nil {
			continue
		}
		if x.Slowest == nil || *o.MedianBusinessHours > *x.Slowest.MedianBusinessHours ||
			(*o.MedianBusinessHours == *x.Slowest.MedianBusinessHours && o.UserID < x.Slowest.UserID) {
			s := *o
			x.Slowest = &s
		}
	}
	e := &Explanation{Kind: ExplainFollowUp, Unit: model.UnitHours, FollowUp: x}
	if x.Due == 0 {
		e.Kind = ExplainNone
	}
	if x.MedianHours != nil {
		e.Current = math.Round(*x.MedianHours*100) / 100
	}
	return e
}
