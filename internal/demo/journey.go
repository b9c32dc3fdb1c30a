package demo

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"

	"github.com/revloop/revloop/internal/model"
)

const siteURL = "https://www.yunqidata.cn"

type touch struct {
	at                                   int64
	person, account                      int64
	anon                                 string
	typ                                  string
	ch                                   model.Channel
	source, medium                       string
	campaign, keyword, content, promoter int64
	adGroup                              int64 // a feed ad's ad group (a search click's is its keyword's)
	url, referrer, clickID               string
	id                                   int64
	watch                                int32 // seconds of a live session watched
}

type person struct {
	id                    int64
	acc                   *account // nil for anonymous visitors
	name, title, email    string
	phone                 string
	job                   *jobTitle
	owner                 int64
	known                 bool
	interest              float64
	leadAt, mqlAt, sqlAt  int64
	oppAt, customerAt     int64
	stage                 model.Stage
	stageAt, lastChange   int64
	anon                  []string
	unionID, wecomID, crm string
	follower              bool
	attended, atEvent     bool
	demoRequest, referred bool
	firstSeen             int64
	firstCh               model.Channel
	firstCampaign         int64
}

// channelMix is how known leads first found the company, and how good
// those leads are (a shift of their interest, in logits). Paid media bring
// volume; webinars, events and referrals bring buyers.
var channelMix = []struct {
	ch              model.Channel
	weight, quality float64
}{
	{model.ChannelPaidSearch, 24, -0.5},
	{model.ChannelPaidSocial, 14, -1.0},
	{model.ChannelDisplay, 2, -0.9},
	{model.ChannelOrganicSearch, 13, 0.0},
	{model.ChannelOrganicSocial, 3, -0.4},
	{model.ChannelWeChat, 6, -0.1},
	{model.ChannelWeCom, 2, 0.3},
	{model.ChannelReferral, 5, 1.1},
	{model.ChannelDirect, 4, 0.4},
	{model.ChannelWebinar, 8, 0.8},
	{model.ChannelOfflineEvent, 7, 0.9},
	{model.ChannelContent, 5, 0.3},
	{model.ChannelEmployeeShare, 3, 0.5},
	{model.ChannelOutbound, 4, -0.3},
}

// visitorMix is how anonymous visitors who never left details arrived.
var visitorMix = []struct {
	ch     model.Channel
	weight float64
}{
	{model.ChannelPaidSearch, 30}, {model.ChannelPaidSocial, 28}, {model.ChannelOrganicSearch, 22},
	{model.ChannelDisplay, 5}, {model.ChannelOrganicSocial, 5}, {model.ChannelWeChat, 5},
	{model.ChannelReferral, 2}, {model.ChannelDirect, 3},
}

// points is what each kind of touch adds to a lead's engagement score:
// the default scoring rules' points (internal/scoring), so that the demo's
// MQLs are those the product would have made.
func points(t *touch) float64 {
	switch t.typ {
	case "email_open":
		return 2
	case "email_click":
		return 6
	case "content_download":
		return 12
	case "webinar_register":
		return 5
	case "webinar_attend":
		if t.watch >= 30*60 {
			return 20
		}
		return 10
	case "badge_scan":
		return 10
	case "form_submit":
		if t.url == siteURL+"/demo" {
			return 30
		}
		return 10
	case "wechat_follow", "wecom_add":
		return 5
	case "share_click":
		return 4
	case "ad_click":
		return 1
	case "call":
		return 4
	case "page_view":
		if t.ch == model.ChannelDirect {
			return 8
		}
		return 3
	}
	return 0
}

const (
	mqlThreshold  = 46
	scoreHalfLife = 27 * day // e-folding time of engagement points
)

// ---- persons ----

func (g *gen) uniqueEmail(local, domain string) string {
	e := local + "@" + domain
	for i := 2; g.emails[e]; i++ {
		e = local + strconv.Itoa(i) + "@" + domain
	}
	g.emails[e] = true
	return e
}

func (g *gen) uniquePhone() string {
	prefixes := []string{"130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "155", "158", "159", "166", "176", "177", "180", "181", "186", "187", "188", "189", "199"}
	for {
		p := fmt.Sprintf("+86%s%08d", prefixes[g.r.IntN(len(prefixes))], g.r.IntN(100_000_000))
		if !g.phones[p] {
			g.phones[p] = true
			return p
		}
	}
}

func (g *gen) newKnownPerson(a *account) person {
	sn := surnames[g.r.IntN(len(surnames))]
	gn := givenNames[g.r.IntN(len(givenNames))]
	jt := &jobTitles[g.pick(len(jobTitles), func(i int) float64 { return jobTitles[i].weight })]
	var email string
	if g.chance(0.86) {
		email = g.uniqueEmail(sn.py+"."+gn.py, a.domain)
	} else {
		local := gn.py + sn.py + strconv.Itoa(1970+g.r.IntN(35))
		email = g.uniqueEmail(local, personalMailDomains[g.r.IntN(len(personalMailDomains))])
	}
	return person{id: int64(len(g.persons) + 1), acc: a, name: sn.zh + gn.zh, title: jt.zh, job: jt,
		email: email, phone: g.uniquePhone(), known: true, stage: model.StageVisitor}
}

// buildPersons creates the known persons account by account (big target
// accounts have buying committees of a dozen people, small ones one or
// two), then the anonymous visitors.
func (g *gen) buildPersons(visitors int) {
	for i := range g.accounts {
		a := &g.accounts[i]
		mean := 3.3
		switch a.tier {
		case "A":
			mean = 12.5
		case "B":
			mean = 5.8
		}
		k := 1 + g.poisson(mean-1)
		for j := 0; j < k; j++ {
			a.persons = append(a.persons, len(g.persons))
			g.persons = append(g.persons, g.newKnownPerson(a))
		}
	}
	for i := 0; i < visitors; i++ {
		g.persons = append(g.persons, person{id: int64(len(g.persons) + 1), stage: model.StageVisitor})
	}
}

// ---- touches ----

func (g *gen) anonFor(p *person, at int64) string {
	if len(p.anon) == 0 || (p.leadAt > 0 && at > p.leadAt && len(p.anon) < 3 && g.chance(0.04)) {
		id := g.uuid()
		p.anon = append(p.anon, id)
		g.identities = append(g.identities, identity{typ: model.IdentityAnonymousID, value: id, person: p.id, created: at})
		return id
	}
	return p.anon[len(p.anon)-1]
}

func (g *gen) base(p *person, at int64, typ string, ch model.Channel, c *campaign) touch {
	t := touch{at: at, person: p.id, typ: typ, ch: ch}
	if p.acc != nil {
		t.account = p.acc.id
	}
	if c != nil {
		t.campaign, t.source, t.medium = c.id, c.source, c.medium
	}
	return t
}

func utm(path, source, medium, code string) string {
	return siteURL + path + "?utm_source=" + source + "&utm_medium=" + medium + "&utm_campaign=" + code
}

// visit is a web session: it carries the browser's anonymous id, the page,
// the referrer and, for paid clicks, the platform's click id.
func (g *gen) visit(p *person, at int64, ch model.Channel, c *campaign, typ string) touch {
	t := g.base(p, at, typ, ch, c)
	t.anon = g.anonFor(p, at)
	if c == nil && ch != model.ChannelOrganicSearch && ch != model.ChannelDirect {
		t.url = siteURL + "/"
		return t
	}
	switch ch {
	case model.ChannelPaidSearch:
		if len(c.keywords) > 0 {
			ki := c.keywords[g.pick(len(c.keywords), func(i int) float64 { return g.keywords[c.keywords[i]].def.weight })]
			k := &g.keywords[ki]
			t.keyword = k.id
			t.url = utm(c.path, c.source, c.medium, c.code) + "&utm_term=" + url.QueryEscape(k.def.text)
		} else {
			t.url = utm(c.path, c.source, c.medium, c.code)
		}
		if c.platform == "google_ads" {
			t.clickID = "Cj0KCQ" + g.token(44, alnum)
			t.url += "&gclid=" + t.clickID
			t.referrer = "https://www.google.com/"
		} else {
			t.clickID = g.token(24, alnum)
			t.url += "&bd_vid=" + t.clickID
			t.referrer = "https://www.baidu.com/"
		}
	case model.ChannelPaidSocial:
		t.adGroup = g.pickAdGroup(c)
		t.url = utm(c.path, c.source, c.medium, c.code)
		switch c.platform {
		case "oceanengine":
			t.clickID = "B." + g.token(32, alnum)
			t.url += "&clickid=" + t.clickID
			t.referrer = "https://www.douyin.com/"
		case "tencent_ads":
			t.clickID = "wx0" + g.token(18, "abcdefghijklmnopqrstuvwxyz0123456789")
			t.url += "&gdt_vid=" + t.clickID
			t.referrer = "https://mp.weixin.qq.com/"
		case "linkedin_ads":
			t.clickID = g.token(22, alnum)
			t.url += "&li_fat_id=" + t.clickID
			t.referrer = "https://www.linkedin.com/"
		default:
			t.clickID = g.token(24, alnum)
			t.url += "&bd_vid=" + t.clickID
			t.referrer = "https://feed.baidu.com/"
		}
	case model.ChannelDisplay:
		t.adGroup = g.pickAdGroup(c)
		t.url = utm(c.path, c.source, c.medium, c.code)
		t.referrer = "https://www." + c.source + ".com/"
	case model.ChannelOrganicSearch:
		e := organicSearchEngines[g.r.IntN(len(organicSearchEngines))]
		t.source, t.medium, t.referrer = e.source, "organic", e.referrer
		t.url = siteURL + sitePages[g.r.IntN(len(sitePages))]
	case model.ChannelOrganicSocial:
		t.url = utm(c.path, c.source, c.medium, c.code)
		if c.platform == "zhihu" {
			t.referrer = "https://zhuanlan.zhihu.com/"
		} else {
			t.referrer = "https://channels.weixin.qq.com/"
		}
	case model.ChannelWeChat:
		t.url = utm(c.path, c.source, c.medium, c.code)
		t.referrer = "https://mp.weixin.qq.com/"
		if len(c.assets) > 0 && g.chance(0.5) {
			a := &g.assets[c.assets[g.r.IntN(len(c.assets))]]
			t.content, t.url = a.id, utm(a.url[len(siteURL):], c.source, c.medium, c.code)
		}
	case model.ChannelWeCom, model.ChannelEmail, model.ChannelWebinar, model.ChannelContent:
		t.url = utm(c.path, c.source, c.medium, c.code)
	case model.ChannelReferral:
		t.url = utm(c.path, c.source, c.medium, c.code)
		t.referrer = "https://" + c.source + "/"
	case model.ChannelEmployeeShare:
		t.promoter = g.promoter()
		t.url = utm(c.path, c.source, c.medium, c.code) + "&promoter=" + strconv.FormatInt(t.promoter, 10)
		t.referrer = "https://servicewechat.com/"
	case model.ChannelDirect:
		t.source, t.medium = "(direct)", "(none)"
		if g.chance(0.6) {
			t.url = siteURL + highIntentPages[g.r.IntN(len(highIntentPages))]
		} else {
			t.url = siteURL + "/"
		}
	}
	return t
}

// pickAdGroup is the ad group of a feed or display campaign a click came
// through; 0 when the campaign has none.
func (g *gen) pickAdGroup(c *campaign) int64 {
	if len(c.adGroupIdx) == 0 {
		return 0
	}
	return g.adGroups[c.adGroupIdx[g.r.IntN(len(c.adGroupIdx))]].id
}

func (g *gen) add(t touch) bool {
	if t.at < g.t0 || t.at >= g.tl {
		return false
	}
	if t.clickID == "" {
		// Pages and campaign links repeat: hold each text once. (A paid
		// click's URL carries its click id and is its own.)
		t.url, t.referrer = g.intern(t.url), g.intern(t.referrer)
	}
	g.touches = append(g.touches, t)
	return true
}

// intern returns the copy of s the generator already holds, so that the
// millions of touches at scale 10 share their URL texts.
func (g *gen) intern(s string) string {
	if v, ok := g.texts[s]; ok {
		return v
	}
	g.texts[s] = s
	return s
}

// pickFirstChannel chooses how a known person first came, with targeting:
// outbound and events go after big accounts; feed ads reach everyone.
func (g *gen) pickFirstChannel(a *account) (model.Channel, float64) {
	i := g.pick(len(channelMix), func(i int) float64 {
		m := channelMix[i]
		w := m.weight
		switch {
		case m.ch == model.ChannelOutbound && a.tier == "A":
			w *= 5
		case m.ch == model.ChannelOutbound && a.tier == "C":
			w *= 0.5
		case m.ch == model.ChannelOfflineEvent && a.tier != "C":
			w *= 1.4
		case (m.ch == model.ChannelPaidSocial || m.ch == model.ChannelPaidSearch) && a.tier == "C":
			w *= 1.15
		}
		return w
	})
	return channelMix[i].ch, channelMix[i].quality
}

// pickEvent chooses an event of ch near t that a person of region could go to.
func (g *gen) pickEvent(ch model.Channel, t int64, region string) *campaign {
	cs := g.byChannel[channelIndex(ch)]
	i := g.pick(len(cs), func(i int) float64 {
		c := cs[i]
		if c.eventDay < 0 || g.dayStart(c.eventDay+max(1, c.eventDays)) >= g.tl {
			return 0
		}
		w := c.weight
		if c.region != "" && c.region != region {
			w *= 0.05
		}
		dist := float64(g.dayStart(c.eventDay)-t) / float64(day)
		if dist < -15 {
			dist = -dist * 3
		}
		return w / (1 + dist*dist/900)
	})
	if i < 0 {
		return nil
	}
	return cs[i]
}

// eventMoment returns a time during the event's day(s), Beijing daytime.
func (g *gen) eventMoment(c *campaign) int64 {
	d := c.eventDay + g.r.IntN(max(1, c.eventDays))
	return g.dayStart(d) + 9*hour + g.r.Int64N(8*hour)
}

func (g *gen) change(p *person, at int64, to model.Stage, reason string) bool {
	if at <= p.lastChange {
		at = p.lastChange + minute + g.r.Int64N(10*minute)
	}
	if at >= g.tl {
		return false
	}
	g.changes = append(g.changes, stageChange{at: at, person: p.id, from: p.stage, to: to, reason: reason})
	p.stage, p.stageAt, p.lastChange = to, at, at
	return true
}

// knownJourney plays one known person's life: anonymous visits, a form fill
// (or a badge scan, a webinar registration, a call) that makes them a lead,
// nurture touches that push their score over the MQL line (or not), the
// SDR's call and, for some, sales acceptance. Opportunities come later,
// account by account.
func (g *gen) knownJourney(p *person, scratch []touch) []touch {
	a := p.acc
	ch, q := g.pickFirstChannel(a)
	p.interest = q + a.fit + g.norm(0.8)
	t := a.center + int64(g.norm(45)*float64(day))
	t = g.officeTime(max(g.t0+hour, min(t, g.tl-12*day)))
	if t < g.t0 {
		t += day
	}

	var lead touch
	var ev *campaign
	switch ch {
	case model.ChannelWebinar, model.ChannelOfflineEvent:
		ev = g.pickEvent(ch, t, a.city.region)
		if ev == nil {
			ch = model.ChannelOrganicSearch
		}
	}
	switch ch {
	case model.ChannelWebinar:
		reg := g.dayStart(ev.eventDay) - g.between(1, 14)*day
		reg = max(g.officeTime(reg), g.t0+g.r.Int64N(6*hour))
		lead = g.visit(p, reg, ch, ev, "webinar_register")
		lead.url = siteURL + ev.path + "?utm_source=" + ev.source + "&utm_medium=webinar&utm_campaign=" + ev.code
		g.add(lead)
		p.interest += ev.quality
	case model.ChannelOfflineEvent:
		lead = g.base(p, g.eventMoment(ev), "badge_scan", ch, ev)
		g.add(lead)
		p.atEvent = true
		p.interest += ev.quality
	case model.ChannelOutbound:
		c := g.campaignByCode("ob-list")
		if a.tier != "C" && g.chance(0.8) {
			c = g.campaignByCode("ob-abm")
		}
		lead = g.base(p, t, "call", ch, c)
		g.add(lead)
		p.interest += c.quality
	case model.ChannelWeCom:
		c := g.activeCampaign(ch, g.dayOf(t))
		g.add(g.base(p, t, "wecom_add", ch, c))
		g.setWeCom(p, t)
		p.interest += c.quality
		lead = g.visit(p, g.after(t, g.between(hour, 5*day)), ch, c, "form_submit")
		lead.url = siteURL + "/contact"
		g.add(lead)
	default:
		lead = g.webSessions(p, ch, t)
	}
	p.leadAt = lead.at
	g.change(p, lead.at, model.StageLead, leadReason(lead.typ))

	// Nurture: every touch for twenty weeks, then find where the score
	// crossed the MQL line.
	eng := g.nurture(p, lead, ev, scratch[:0])
	eng = g.boothDemos(p, lead, eng) // brandlift.go
	fitPoints := 0.0
	switch a.tier {
	case "A":
		fitPoints = 15
	case "B":
		fitPoints = 8
	}
	score := fitPoints + points(&lead)
	if lead.typ == "form_submit" && lead.url == siteURL+"/demo" {
		p.demoRequest = true
	}
	mql := int64(0)
	if score >= mqlThreshold {
		mql = lead.at + g.between(5*minute, 2*hour)
	}
	// Engagement fades: a point earned a month ago is worth a third.
	last := lead.at
	for i := range eng {
		e := &eng[i]
		switch e.typ {
		case "webinar_attend":
			p.attended = true
		case "badge_scan":
			p.atEvent = true
		}
		if mql == 0 {
			score = fitPoints + (score-fitPoints)*math.Exp(-float64(e.at-last)/float64(scoreHalfLife)) + points(e)
			last = e.at
			if score >= mqlThreshold {
				mql = e.at + g.between(minute, 30*minute)
			}
		}
	}
	for i := range eng {
		g.add(eng[i])
	}
	g.background(p)
	if mql == 0 || !g.change(p, mql, model.StageMQL, "score_threshold") {
		return eng
	}
	p.mqlAt = p.stageAt

	// The SDR calls, mostly within hours; about half the MQLs are
	// accepted by sales, most others qualified out.
	call := g.base(p, g.after(p.mqlAt, g.sdrDelay()), "call", model.ChannelOutbound, g.campaignByCode("ob-mql-follow"))
	if !g.add(call) {
		return eng
	}
	reached := g.chance(0.85)
	if reached && g.chance(0.45) {
		c := g.campaignByCode("wecom-advisor")
		at := call.at + g.between(10*minute, 2*hour)
		if g.add(g.base(p, at, "wecom_add", model.ChannelWeCom, c)) {
			g.setWeCom(p, at)
		}
	}
	pSQL := sigmoid(-1.5 + 0.9*p.interest + 0.7*b2f(p.attended) + 0.8*b2f(p.atEvent) + 0.7*b2f(p.demoRequest) + 0.3*b2f(a.tier == "A"))
	if reached && g.chance(pSQL) {
		at := g.after(call.at, g.between(day, 10*day))
		if g.change(p, at, model.StageSQL, "sales_accepted") {
			p.sqlAt = at
			p.owner = a.rep
		}
		return eng
	}
	// Not accepted: the SDR qualifies most of those reached out — not now
	// (back to marketing for nurturing) or not a buyer. The others stay
	// MQLs until the recycle rule finds them idle (recycleIdleMQLs).
	if reached && g.chance(0.7) {
		at := g.after(call.at, g.between(hour, 5*day))
		if g.chance(0.78) {
			g.change(p, at, model.StageNurture, reasonNotNow)
		} else {
			g.change(p, at, model.StageDisqualified, reasonNotABuyer)
		}
	}
	return eng
}

// Why an SDR took an MQL out of the working stages (the reasons the SDRs
// give in the product's reject action).
const (
	reasonNotNow    = "SDR跟进：暂无采购计划，转入长期培育"
	reasonNotABuyer = "SDR跟进：非目标客户（无需求或无预算）"
)

// recycleIdleMQLs plays the lifecycle rule recycle-unresponsive-mql, which
// runs every hour, over the persons still in mql when their story ends:
// once 45 days pass without a touch since they became MQLs (or since their
// last touch), the rule moves them back to lead at the next full hour.
func (g *gen) recycleIdleMQLs() {
	// Every person's touch times, by person.
	offsets := make([]int32, len(g.persons)+1)
	for i := range g.touches {
		offsets[g.touches[i].person]++
	}
	for i := 1; i < len(offsets); i++ {
		offsets[i] += offsets[i-1]
	}
	times := make([]int64, len(g.touches))
	fill := slices.Clone(offsets[:len(g.persons)])
	for i := range g.touches {
		t := &g.touches[i]
		times[fill[t.person-1]] = t.at
		fill[t.person-1]++
	}
	const idle = recycleIdleDays * day
	for i := range g.persons {
		p := &g.persons[i]
		if p.stage != model.StageMQL {
			continue
		}
		mine := times[offsets[i]:offsets[i+1]]
		slices.Sort(mine)
		last := p.stageAt
		for _, at := range mine {
			if at <= last {
				continue
			}
			if at-last >= idle {
				break
			}
			last = at
		}
		if at := (last + idle + hour - 1) / hour * hour; at < g.tl {
			g.change(p, at, model.StageLead, reasonIdleMQL)
		}
	}
}

// The recycle rule of the demo's lifecycle rules (demoLifecycleRules).
const (
	recycleIdleDays = 45
	reasonIdleMQL   = "MQL连续45天无互动：退回线索池继续培育"
)

// sdrDelay is how long after becoming an MQL the SDR calls: mostly the
// same working day, sometimes the next, now and then days later (a busy
// week, a holiday, a lead lost in the queue).
func (g *gen) sdrDelay() int64 {
	switch x := g.r.Float64(); {
	case x < 0.68:
		return g.between(10*minute, 3*hour)
	case x < 0.88:
		return g.between(3*hour, 20*hour)
	case x < 0.97:
		return g.between(20*hour, 48*hour)
	}
	return g.between(2*day, 5*day)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func leadReason(typ string) string {
	switch typ {
	case "badge_scan":
		return "badge_scan"
	case "webinar_register":
		return "webinar_register"
	case "call":
		return "sdr_call"
	case "content_download":
		return "content_download"
	}
	return "form_submit"
}

func (g *gen) setWeCom(p *person, at int64) {
	if p.wecomID != "" {
		return
	}
	p.wecomID = "wm" + g.token(30, alnum)
	g.identities = append(g.identities, identity{typ: model.IdentityWeComID, value: p.wecomID, person: p.id, created: at})
	g.setUnion(p, at)
}

func (g *gen) setUnion(p *person, at int64) {
	if p.unionID != "" {
		return
	}
	p.unionID = "o6_bm" + g.token(23, alnum)
	g.identities = append(g.identities, identity{typ: model.IdentityWeChatUnion, value: p.unionID, person: p.id, created: at})
}

// webSessions plays the anonymous visits before a form fill and returns
// the form fill. Returning visitors often come back direct or through
// search; the form is filled in the session it happens in.
func (g *gen) webSessions(p *person, ch model.Channel, t int64) touch {
	c := g.activeCampaign(ch, g.dayOf(t))
	if c == nil && ch != model.ChannelOrganicSearch && ch != model.ChannelDirect {
		ch = model.ChannelOrganicSearch
	}
	typ := "page_view"
	switch ch {
	case model.ChannelPaidSearch, model.ChannelPaidSocial, model.ChannelDisplay:
		typ = "ad_click"
	case model.ChannelEmployeeShare:
		typ = "share_click"
	}
	first := g.visit(p, t, ch, c, typ)
	if first.keyword != 0 {
		p.interest += g.keywords[first.keyword-1].def.quality
	}
	if c != nil {
		p.interest += c.quality
	}
	if ch == model.ChannelReferral {
		p.referred = true
	}
	g.add(first)
	if ch == model.ChannelWeChat && g.chance(0.4) {
		g.add(g.base(p, t+g.between(minute, 10*minute), "wechat_follow", ch, c))
		g.setUnion(p, t)
		p.follower = true
	}
	last := first
	n := 0
	switch x := g.r.Float64(); {
	case x < 0.3:
	case x < 0.6:
		n = 1
	case x < 0.82:
		n = 2
	default:
		n = 3 + g.r.IntN(3)
	}
	if ch == model.ChannelContent || ch == model.ChannelEmployeeShare {
		n /= 2
	}
	for i := 0; i < n; i++ {
		at := g.after(last.at, g.between(hour, 18*day))
		if at >= g.tl-2*day {
			break
		}
		switch x := g.r.Float64(); {
		case x < 0.3 && c != nil:
			last = g.visit(p, at, ch, c, typ)
		case x < 0.62:
			last = g.visit(p, at, model.ChannelDirect, nil, "page_view")
		case x < 0.85:
			last = g.visit(p, at, model.ChannelOrganicSearch, nil, "page_view")
		default:
			brand := g.campaignByCode("bd-brand")
			last = g.visit(p, at, model.ChannelPaidSearch, brand, "ad_click")
		}
		g.add(last)
	}
	// The form fill, in the last session.
	var campaignOf *campaign
	if last.campaign != 0 {
		campaignOf = g.camps[last.campaign-1]
	}
	form := g.visit(p, last.at+g.between(2*minute, 20*minute), last.ch, campaignOf, "form_submit")
	form.keyword, form.clickID, form.promoter = last.keyword, "", last.promoter
	e := sigmoid(p.interest)
	switch {
	case ch == model.ChannelContent || (ch == model.ChannelEmployeeShare && c != nil && c.code != "share-webinar"):
		cc := g.contentCampaign(g.dayOf(form.at))
		if cc != nil {
			a := &g.assets[cc.assets[g.r.IntN(len(cc.assets))]]
			form.typ, form.content, form.url = "content_download", a.id, a.url
			if form.ch == model.ChannelContent {
				form.campaign, form.source, form.medium = cc.id, cc.source, cc.medium
			}
		}
	case g.chance(0.04 + 0.2*e):
		form.url = siteURL + "/demo"
	case g.chance(0.3):
		form.url = siteURL + "/contact"
	default:
		form.url = siteURL + "/trial"
	}
	g.add(form)
	return form
}

func (g *gen) contentCampaign(d int) *campaign {
	cs := g.byChannel[channelIndex(model.ChannelContent)]
	i := g.pick(len(cs), func(i int) float64 {
		if d < cs[i].startDay || d > cs[i].endDay || len(cs[i].assets) == 0 {
			return 0
		}
		return cs[i].weight
	})
	if i < 0 {
		return nil
	}
	return cs[i]
}

// nurture returns a lead's touches over the twenty weeks after becoming a
// lead, sorted by time. How much a lead engages follows their interest.
func (g *gen) nurture(p *person, lead touch, ev *campaign, out []touch) []touch {
	e := sigmoid(p.interest)
	if ev != nil && ev.ch == model.ChannelWebinar && g.chance(0.45+0.3*e) {
		at := g.dayStart(ev.eventDay) + 14*hour + g.r.Int64N(30*minute)
		if at > lead.at {
			t := g.base(p, at, "webinar_attend", model.ChannelWebinar, ev)
			t.anon = g.anonFor(p, at)
			t.url = siteURL + ev.path + "/live"
			t.watch = g.watchTime(e)
			out = append(out, t)
		}
	}
	if lead.typ == "badge_scan" && g.chance(0.75) {
		at := g.after(lead.at, g.between(day, 6*day))
		out = append(out, g.base(p, at, "call", model.ChannelOutbound, g.campaignByCode("ob-event-follow")))
	}
	welcome, boost := g.campaignByCode("em-welcome"), g.campaignByCode("em-mql-boost")
	for w := int64(0); w < 20; w++ {
		ws := lead.at + w*7*day
		if ws >= g.tl {
			break
		}
		d := g.dayOf(ws)
		decay := 1.0 / (1 + float64(w)/8)
		// Nurture email: weekly welcome series, then every other week.
		var ec *campaign
		if w < 4 {
			ec = welcome
		} else if w%2 == 0 && d >= boost.startDay {
			ec = boost
		}
		if ec != nil {
			sent := g.officeTime(ws + g.between(day, 3*day))
			if g.chance(0.12 + 0.33*e) {
				open := g.base(p, sent+g.between(5*minute, 20*hour), "email_open", model.ChannelEmail, ec)
				out = append(out, open)
				if g.chance(0.12 + 0.35*e) {
					click := g.visit(p, open.at+g.between(10, 300), model.ChannelEmail, ec, "email_click")
					out = append(out, click)
				}
			}
		}
		if g.chance((0.05 + 0.17*e) * decay) {
			if cc := g.contentCampaign(d); cc != nil {
				at := g.officeTime(ws + g.r.Int64N(7*day))
				a := &g.assets[cc.assets[g.r.IntN(len(cc.assets))]]
				var t touch
				if sc := g.activeCampaign(model.ChannelEmployeeShare, d); sc != nil && g.chance(0.2) {
					share := g.visit(p, at, model.ChannelEmployeeShare, sc, "share_click")
					out = append(out, share)
					t = share
					t.at, t.typ = at+g.between(minute, 10*minute), "content_download"
				} else {
					t = g.visit(p, at, model.ChannelContent, cc, "content_download")
				}
				t.content, t.url = a.id, a.url
				out = append(out, t)
			}
		}
		for _, wc := range g.eventsBetween(model.ChannelWebinar, ws, ws+7*day) {
			if wc == ev || !g.chance((0.06+0.3*e)*decay) {
				continue
			}
			evAt := g.dayStart(wc.eventDay) + 14*hour
			reg := max(lead.at+hour, g.officeTime(evAt-g.between(day, 5*day)))
			if reg >= evAt {
				reg = evAt - g.between(hour, 4*hour)
			}
			if reg <= lead.at {
				continue
			}
			if sc := g.campaignByCode("share-webinar"); g.chance(0.2) && d >= sc.startDay {
				share := g.visit(p, reg-g.between(minute, 5*minute), model.ChannelEmployeeShare, sc, "share_click")
				share.url += "&webinar=" + wc.code
				out = append(out, share)
			}
			out = append(out, g.visit(p, reg, model.ChannelWebinar, wc, "webinar_register"))
			if g.chance(0.45 + 0.3*e) {
				at := evAt + g.r.Int64N(30*minute)
				att := g.base(p, at, "webinar_attend", model.ChannelWebinar, wc)
				att.anon, att.url = g.anonFor(p, at), siteURL+wc.path+"/live"
				att.watch = g.watchTime(e)
				out = append(out, att)
			}
		}
		for _, oc := range g.eventsBetween(model.ChannelOfflineEvent, ws, ws+7*day) {
			pr := (0.03 + 0.2*e) * decay
			if oc.region != "" && oc.region != p.acc.city.region {
				pr *= 0.1
			}
			if oc == ev || !g.chance(pr) {
				continue
			}
			at := g.eventMoment(oc)
			if at > lead.at {
				out = append(out, g.base(p, at, "badge_scan", model.ChannelOfflineEvent, oc))
			}
		}
		if g.chance((0.05 + 0.28*e) * decay) {
			out = append(out, g.visit(p, g.officeTime(ws+g.r.Int64N(7*day)), model.ChannelDirect, nil, "page_view"))
		}
		if g.chance((0.04 + 0.08*e) * decay) {
			out = append(out, g.visit(p, g.officeTime(ws+g.r.Int64N(7*day)), model.ChannelOrganicSearch, nil, "page_view"))
		}
		if g.chance(0.1 * decay) {
			if c := g.activeCampaign(model.ChannelPaidSocial, d); c != nil {
				out = append(out, g.visit(p, g.officeTime(ws+g.r.Int64N(7*day)), model.ChannelPaidSocial, c, "ad_click"))
			}
		}
		if g.chance(0.04 * decay) {
			out = append(out, g.visit(p, g.officeTime(ws+g.r.Int64N(7*day)), model.ChannelPaidSearch, g.campaignByCode("bd-brand"), "ad_click"))
		}
		if p.follower {
			if g.chance(0.15 + 0.25*e) {
				c := g.activeCampaign(model.ChannelWeChat, d)
				if c != nil {
					out = append(out, g.visit(p, g.officeTime(ws+g.r.Int64N(7*day)), model.ChannelWeChat, c, "page_view"))
				}
			}
		} else if g.chance(0.03 + 0.05*e) {
			if c := g.activeCampaign(model.ChannelWeChat, d); c != nil {
				at := g.officeTime(ws + g.r.Int64N(7*day))
				out = append(out, g.base(p, at, "wechat_follow", model.ChannelWeChat, c))
				g.setUnion(p, at)
				p.follower = true
			}
		}
		if g.chance(0.025 * decay) {
			if c := g.activeCampaign(model.ChannelEmployeeShare, d); c != nil {
				out = append(out, g.visit(p, g.officeTime(ws+g.r.Int64N(7*day)), model.ChannelEmployeeShare, c, "share_click"))
			}
		}
	}
	// Drop what falls before the lead or after the data ends, then sort.
	kept := out[:0]
	for _, t := range out {
		if t.at > lead.at && t.at < g.tl {
			kept = append(kept, t)
		}
	}
	slices.SortStableFunc(kept, func(a, b touch) int { return cmpInt(a.at, b.at) })
	return kept
}

// watchTime is how long an attendee of an hour-long live session stayed,
// in seconds: many look in for a few minutes and leave, the interested
// stay for most of it (e is the lead's engagement, 0..1).
func (g *gen) watchTime(e float64) int32 {
	var minutes float64
	if g.chance(0.3 + 0.45*e) {
		minutes = g.uniform(30, 62) - math.Abs(g.norm(8)) // stayed: the end, or most of it
	} else {
		minutes = math.Exp(g.uniform(math.Log(1.5), math.Log(29))) // looked in
	}
	return int32(math.Round(max(1, min(65, minutes)) * 60))
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// background is what a known person keeps doing after the nurture window:
// reading the monthly newsletter and, for followers, the weekly articles.
func (g *gen) background(p *person) {
	e := sigmoid(p.interest)
	nl := g.campaignByCode("em-newsletter")
	for _, t := range g.newsletterDays {
		if t < p.leadAt+7*day {
			continue
		}
		if g.chance(0.05 + 0.22*e) {
			open := g.base(p, g.officeTime(t+g.r.Int64N(2*day)), "email_open", model.ChannelEmail, nl)
			g.add(open)
			if g.chance(0.15) {
				g.add(g.visit(p, open.at+g.between(10, 600), model.ChannelEmail, nl, "email_click"))
			}
		}
	}
	if p.follower {
		for t := p.leadAt + 20*7*day; t < g.tl; t += 7 * day {
			if g.chance(0.1 + 0.1*e) {
				if c := g.activeCampaign(model.ChannelWeChat, g.dayOf(t)); c != nil {
					g.add(g.visit(p, g.officeTime(t+g.r.Int64N(7*day)), model.ChannelWeChat, c, "page_view"))
				}
			}
		}
	}
	re := g.campaignByCode("em-reactivate")
	if p.stage == model.StageLead && p.leadAt < g.dayStart(re.startDay)-60*day && g.chance(0.3) {
		at := g.officeTime(g.dayStart(re.startDay) + g.r.Int64N(int64(re.endDay-re.startDay+1)*day))
		g.add(g.base(p, at, "email_open", model.ChannelEmail, re))
		if g.chance(0.2) {
			g.add(g.visit(p, at+g.between(30, 3600), model.ChannelEmail, re, "email_click"))
		}
	}
}

// visitorJourney plays an anonymous visitor who never left details: a few
// sessions, mostly from paid media and search.
func (g *gen) visitorJourney(p *person) {
	i := g.pick(len(visitorMix), func(i int) float64 { return visitorMix[i].weight })
	ch := visitorMix[i].ch
	t := g.officeTime(g.t0 + g.r.Int64N(g.tl-g.t0-hour))
	if t >= g.tl {
		t = g.tl - g.between(minute, hour)
	}
	n := 1
	if g.chance(0.45) {
		n += 1 + g.r.IntN(3)
	}
	for k := 0; k < n; k++ {
		c := g.activeCampaign(ch, g.dayOf(t))
		cur := ch
		if c == nil && cur != model.ChannelOrganicSearch && cur != model.ChannelDirect {
			cur = model.ChannelOrganicSearch
		}
		typ := "page_view"
		if cur == model.ChannelPaidSearch || cur == model.ChannelPaidSocial || cur == model.ChannelDisplay {
			typ = "ad_click"
		}
		if !g.add(g.visit(p, t, cur, c, typ)) {
			break
		}
		t = g.after(t, g.between(hour, 20*day))
		if g.chance(0.5) {
			ch = model.ChannelDirect
		}
	}
}
