package demo

import (
	"math"

	"github.com/revloop/revloop/internal/model"
)

// buildCosts writes what the campaigns cost. Search platforms report down to
// the keyword, feed and social platforms per campaign, day by day; clicks
// are the tracked clicks plus those that never became a known visitor.
// Events, content, email and employee sharing have a few lump costs.
func (g *gen) buildCosts() {
	kwClicks := make([]int32, len(g.keywords)*g.days)
	agClicks := make([]int32, len(g.adGroups)*g.days)
	campClicks := make([]int32, len(g.camps)*g.days)
	for i := range g.touches {
		t := &g.touches[i]
		if t.typ != "ad_click" {
			continue
		}
		d := g.dayOf(t.at)
		switch {
		case t.keyword != 0:
			kwClicks[int(t.keyword-1)*g.days+d]++
		case t.adGroup != 0:
			agClicks[int(t.adGroup-1)*g.days+d]++
		case t.campaign != 0:
			campClicks[int(t.campaign-1)*g.days+d]++
		}
	}
	dayFactor := func(d int) float64 {
		switch weekday(g.dayStart(d) + 12*hour) {
		case 0, 6:
			return 0.35
		}
		return 1
	}
	for ki := range g.keywords {
		k := &g.keywords[ki]
		c := k.camp
		for d := c.startDay; d <= c.endDay && d < g.days; d++ {
			clicks := int64(kwClicks[ki*g.days+d]) + int64(g.poisson(untrackedClicks*k.untracked*g.scale*dayFactor(d)))
			imp := int64(float64(clicks)/k.ctr*g.uniform(0.8, 1.2)) + int64(g.poisson(10*g.scale*dayFactor(d)))
			if imp == 0 {
				continue
			}
			imp = max(imp, clicks)
			cost := int64(float64(clicks) * float64(k.cpc) * g.uniform(0.85, 1.15))
			g.costs = append(g.costs, dailyCost{day: d, platform: c.platform, campaign: c.id, adGroup: k.adGroup, keyword: k.id,
				impressions: imp, clicks: clicks, costFen: cost})
		}
	}
	for _, c := range g.camps {
		switch c.ch {
		case model.ChannelPaidSocial, model.ChannelDisplay:
			// Feed platforms report per ad group (巨量引擎's 计划, 腾讯's 广告,
			// LinkedIn's campaign): each its own bid and click-through rate.
			type unit struct {
				adGroup  int64
				clicks   []int32
				share    float64
				cpc, ctr float64
			}
			var units []unit
			for _, ai := range c.adGroupIdx {
				units = append(units, unit{g.adGroups[ai].id, agClicks[ai*g.days : (ai+1)*g.days], 1 / float64(len(c.adGroupIdx)),
					float64(g.between(c.cpcMin, c.cpcMax)), c.ctr * g.uniform(0.7, 1.4)})
			}
			if len(units) == 0 {
				units = append(units, unit{0, campClicks[c.idx*g.days : (c.idx+1)*g.days], 1, float64(c.cpcMin+c.cpcMax) / 2, c.ctr})
			}
			for _, u := range units {
				for d := c.startDay; d <= c.endDay && d < g.days; d++ {
					clicks := int64(u.clicks[d]) + int64(g.poisson(untrackedClicks*c.untracked*u.share*g.scale*dayFactor(d)))
					imp := int64(float64(clicks)/u.ctr*g.uniform(0.8, 1.2)) + int64(g.poisson(50*u.share*g.scale))
					if imp == 0 {
						continue
					}
					imp = max(imp, clicks)
					g.costs = append(g.costs, dailyCost{day: d, platform: c.platform, campaign: c.id, adGroup: u.adGroup, impressions: imp, clicks: clicks,
						costFen: int64(float64(clicks) * u.cpc * g.uniform(0.8, 1.2))})
				}
			}
		case model.ChannelWebinar:
			g.lumpCost(c, c.eventDay-10, 8_000, 20_000) // promotion
			g.lumpCost(c, c.eventDay, 10_000, 30_000)   // platform, studio, guest speakers, gifts
		case model.ChannelOfflineEvent:
			lo, hi := int64(300_000), int64(800_000) // booth, build, travel
			switch c.kind {
			case "conference":
				lo, hi = 600_000, 1_200_000
			case "salon":
				lo, hi = 30_000, 80_000
			case "roundtable":
				lo, hi = 60_000, 120_000
			}
			g.lumpCost(c, c.eventDay-14, 5_000, 20_000)
			g.lumpCost(c, c.eventDay, lo, hi)
		case model.ChannelContent:
			g.lumpCost(c, c.startDay, 15_000, 60_000)
		case model.ChannelEmail, model.ChannelEmployeeShare:
			lo, hi := int64(600), int64(1_800)
			if c.ch == model.ChannelEmployeeShare {
				lo, hi = 1_500, 5_000
			}
			for d := c.startDay; d <= c.endDay && d < g.days; d++ {
				if d == c.startDay || firstDayOfMonth(g.dayStart(d)) {
					g.lumpCost(c, d, lo, hi)
				}
			}
		case model.ChannelOutbound:
			if c.code == "ob-list" || c.code == "ob-abm" {
				for d := c.startDay; d <= c.endDay && d < g.days; d++ {
					if d == c.startDay || firstDayOfMonth(g.dayStart(d)) {
						g.lumpCost(c, d, 3_000, 8_000)
					}
				}
			}
		}
	}
}

// untrackedClicks scales the paid clicks that never become a tracked touch
// (bounces, blocked trackers, clicks from people who never come back), so
// that spend and click volumes look like a real account's and cost per lead
// lands where Chinese B2B software marketers see it (hundreds of yuan).
const untrackedClicks = 9

func firstDayOfMonth(t int64) bool { return unixTime(t+cst).Day() == 1 }

// lumpCost books a cost of between lo and hi yuan at scale 1 on day d,
// when d is inside the data. It grows with the scale as the audience
// does: a company ten times the size rents a bigger booth, runs more
// sessions of a webinar and sends ten times the email.
func (g *gen) lumpCost(c *campaign, d int, lo, hi int64) {
	if d < 0 || d >= g.days {
		return
	}
	yuan := max(1, int64(math.Round(float64(g.between(lo, hi))*g.scale)))
	g.costs = append(g.costs, dailyCost{day: d, platform: c.platform, campaign: c.id, costFen: yuan * 100})
}

// setTargets gives every campaign a budget and targets the way a marketing
// team would have planned them: near what happened, some too ambitious,
// some too cautious, so that a review finds targets both met and missed.
// Results count people and deals the campaign touched before they reached
// the stage (influence).
func (g *gen) setTargets() {
	nc, np := len(g.camps), len(g.persons)
	// First touch of each campaign on each person, in seconds after the
	// year's start plus one; 0 = none. 32 bits: a year has 31.5M seconds.
	first := make([]uint32, nc*np)
	for i := range g.touches {
		t := &g.touches[i]
		if t.campaign == 0 {
			continue
		}
		k := int(t.campaign-1)*np + int(t.person-1)
		if at := uint32(t.at - g.t0 + 1); first[k] == 0 || at < first[k] {
			first[k] = at
		}
	}
	touchedBy := func(c, person int, by int64) bool {
		f := first[c*np+person]
		return f != 0 && int64(f)-1+g.t0 <= by
	}
	leads, mqls, opps := make([]int, nc), make([]int, nc), make([]int, nc)
	pipeline, revenue, spend := make([]int64, nc), make([]int64, nc), make([]int64, nc)
	for pi := range g.persons {
		p := &g.persons[pi]
		for c := 0; c < nc; c++ {
			if p.leadAt > 0 && touchedBy(c, pi, p.leadAt) {
				leads[c]++
			}
			if p.mqlAt > 0 && touchedBy(c, pi, p.mqlAt) {
				mqls[c]++
			}
		}
	}
	won := make([]int64, len(g.opps))
	for _, o := range g.orders {
		won[o.opp-1] += o.amount
	}
	hit := make([]bool, nc)
	for start := 0; start < len(g.contacts); {
		end := start
		for end < len(g.contacts) && g.contacts[end].opp == g.contacts[start].opp {
			end++
		}
		o := &g.opps[g.contacts[start].opp-1]
		clear(hit)
		for _, oc := range g.contacts[start:end] {
			for c := 0; c < nc; c++ {
				hit[c] = hit[c] || touchedBy(c, int(oc.person-1), o.created)
			}
		}
		for c := 0; c < nc; c++ {
			if hit[c] {
				opps[c]++
				pipeline[c] += o.amount
				revenue[c] += won[o.id-1]
			}
		}
		start = end
	}
	for _, k := range g.costs {
		spend[k.campaign-1] += k.costFen
	}
	defer g.programmeTargets()
	for i, c := range g.camps {
		f := func() float64 { return g.uniform(0.7, 1.5) }
		c.tLeads = roundTo(float64(leads[i])*f(), 5)
		c.tMQLs = roundTo(float64(mqls[i])*f(), 5)
		c.tOpps = roundTo(float64(opps[i])*f(), 1)
		c.tPipeline = int64(roundTo(float64(pipeline[i])*f()/1_000_000, 1)) * 1_000_000
		c.tRevenue = int64(roundTo(float64(revenue[i])*f()/1_000_000, 1)) * 1_000_000
		if spend[i] > 0 {
			c.budget = int64(roundTo(float64(spend[i])*g.uniform(0.85, 1.25)/100_000, 1)) * 100_000
		}
	}
}

// programmeTargets gives each programme its campaigns' budgets and targets,
// summed.
func (g *gen) programmeTargets() {
	for _, p := range g.programmes {
		for _, c := range g.camps {
			if c.parent == p.id {
				p.budget += c.budget
				p.tLeads += c.tLeads
				p.tMQLs += c.tMQLs
				p.tOpps += c.tOpps
				p.tPipeline += c.tPipeline
				p.tRevenue += c.tRevenue
			}
		}
	}
}

func roundTo(x float64, step int) int {
	return int(math.Round(x/float64(step))) * step
}
