package demo

import "github.com/revloop/revloop/internal/model"

// The brand event whose cohort lift the demo shows (docs/lift.md): at the
// Shanghai Retail Digitalization Expo the booth ran a live product demo
// every hour, and about half of the visitors whose badge the team scanned
// sat through one and asked, there and then, for a demo of their own (a
// demo request on the booth's tablet). A demo request is worth a lot of
// engagement (the scoring rules' Form Submitted on /demo) and makes sales
// more likely to accept the lead, so the expo's attendees go on to reach
// MQL and opportunity clearly more often than persons like them who were
// active at the same time but not at the expo — a lift the lift page finds
// and that other events, without a booth demo, show less of.

// brandEventCode is the expo's campaign.
const brandEventCode = "evt-retail-expo"

// boothDemoShare is the share of the expo's scanned visitors who ask for a
// demo at the booth.
const boothDemoShare = 0.5

// boothDemos adds a known person's demo request at the expo's booth, after
// their badge scan there (the touch that made them a lead, or one of their
// nurture touches, which are in time order), to their touches; it returns
// the touches, still in time order. Persons not scanned at the expo draw
// no random number, so that they are as they were.
func (g *gen) boothDemos(p *person, lead touch, eng []touch) []touch {
	ev := g.campaignByCode(brandEventCode)
	scanned := int64(-1)
	if lead.typ == "badge_scan" && lead.campaign == ev.id {
		scanned = lead.at
	} else {
		for i := range eng {
			if eng[i].typ == "badge_scan" && eng[i].campaign == ev.id {
				scanned = eng[i].at
				break
			}
		}
	}
	if scanned < 0 || !g.chance(boothDemoShare) {
		return eng
	}
	at := scanned + g.between(10*minute, 90*minute)
	if at >= g.tl {
		return eng
	}
	t := g.base(p, at, "form_submit", model.ChannelOfflineEvent, ev)
	t.url = siteURL + "/demo"
	p.demoRequest = true
	i := len(eng)
	for i > 0 && eng[i-1].at > at {
		i--
	}
	eng = append(eng, touch{})
	copy(eng[i+1:], eng[i:])
	eng[i] = t
	return eng
}
