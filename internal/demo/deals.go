package demo

import (
	"math"
	"slices"

	"github.com/revloop/revloop/internal/model"
)

var products = []string{"云启CDP年度订阅", "营销自动化套件", "SCRM私域版", "CDP+MA一体化方案", "客户数据中台项目", "私有化部署项目"}

// buildDeals turns sales-accepted people into opportunities, account by
// account: the first SQL of an account opens a deal (or not), colleagues who
// become SQLs while it is open join it, and some colleagues are added as
// contacts by the rep. Deals close months later, won or lost, or are still
// open at the end of the data.
func (g *gen) buildDeals() {
	var sqls []*person
	for ai := range g.accounts {
		a := &g.accounts[ai]
		sqls = sqls[:0]
		for _, pi := range a.persons {
			if p := &g.persons[pi]; p.sqlAt > 0 {
				sqls = append(sqls, p)
			}
		}
		slices.SortStableFunc(sqls, func(x, y *person) int { return cmpInt(x.sqlAt, y.sqlAt) })
		cur := -1
		for _, p := range sqls {
			if cur >= 0 {
				o := &g.opps[cur]
				if p.sqlAt < o.end(g.tl) {
					g.joinOpp(a, o, p)
					continue
				}
				if p.sqlAt < o.end(g.tl)+45*day {
					continue
				}
			}
			if !g.chance(sigmoid(0.9 + 0.8*a.fit + 0.5*p.interest)) {
				continue
			}
			oc := g.after(p.sqlAt, g.between(3*day, 25*day))
			if oc >= g.tl {
				continue
			}
			cur = g.createOpp(a, p, oc, cur >= 0)
		}
	}
}

func (o *opp) end(tl int64) int64 {
	if o.closed > 0 {
		return o.closed
	}
	return tl
}

func (g *gen) createOpp(a *account, p *person, oc int64, expansion bool) int {
	// The buyer's last steps before the deal: the pricing page, a demo
	// request, or the rep's qualification call or discovery meeting.
	if g.chance(0.35) {
		if at := oc - g.between(2*hour, 3*day); at > p.sqlAt {
			t := g.visit(p, at, model.ChannelDirect, nil, "page_view")
			t.url = siteURL + "/pricing"
			g.add(t)
		}
	}
	switch x := g.r.Float64(); {
	case x < 0.3:
		if at := oc - g.between(5*minute, 40*minute); at > p.sqlAt {
			t := g.visit(p, at, model.ChannelDirect, nil, "form_submit")
			t.url = siteURL + "/demo"
			g.add(t)
		}
	case x < 0.65:
		if at := oc - g.between(30*minute, 2*day); at > p.sqlAt {
			typ := "call"
			if g.chance(0.4) {
				typ = "meeting"
			}
			m := g.base(p, at, typ, model.ChannelOutbound, nil)
			m.source, m.medium = "sales", "phone"
			if typ == "meeting" {
				m.medium = "meeting"
			}
			g.add(m)
		}
	}
	sz := a.size
	yuan := math.Exp(g.uniform(math.Log(float64(sz.dealMin)), math.Log(float64(sz.dealMax))))
	if a.tier == "A" {
		yuan *= 1.3
	}
	if expansion {
		yuan *= 0.45
	}
	amount := int64(math.Round(yuan/1000)) * 1000 * 100
	o := opp{id: int64(len(g.opps) + 1), account: a.id, owner: a.rep, created: oc, amount: amount, expansion: expansion}
	if amount >= 150_000_000 && g.chance(0.5) {
		o.owner = g.leaderFor(a.city.region)
	}
	prod := products[g.r.IntN(len(products))]
	if expansion {
		o.name = a.short + "-增购：" + prod
	} else {
		o.name = a.short + "-" + prod
	}
	size := math.Max(0, math.Log10(yuan/30_000)) / 2
	o.closeAt = g.after(oc, int64(25+g.r.IntN(50)+int(size*float64(g.r.IntN(120))))*day)
	engaged, referred := false, p.referred
	for _, pi := range a.persons {
		q := &g.persons[pi]
		if q.leadAt > 0 && q.leadAt < oc && (q.attended || q.atEvent) {
			engaged = true
		}
		referred = referred || (q.referred && q.leadAt < oc)
	}
	pWin := sigmoid(-3.15 + 1.0*a.fit + 0.45*p.interest + 0.6*b2f(engaged) + 0.7*b2f(referred) - 0.3*b2f(expansion))
	if o.closeAt >= g.tl {
		switch f := float64(g.tl-oc) / float64(o.closeAt-oc); {
		case f < 0.35:
			o.stage = model.OppStageQualify
		case f < 0.7:
			o.stage = model.OppStageProposal
		default:
			o.stage = model.OppStageNegotiate
		}
	} else if g.chance(pWin) {
		o.stage, o.won, o.closed = model.OppStageClosedWon, true, o.closeAt
	} else {
		o.stage = model.OppStageClosedLost
		o.closed = oc + int64(float64(o.closeAt-oc)*g.uniform(0.4, 1))
	}
	g.opps = append(g.opps, o)
	op := &g.opps[len(g.opps)-1]
	if a.owner == 0 {
		a.owner = o.owner
	}

	g.change(p, oc, model.StageOpportunity, "opportunity_created")
	p.oppAt = p.stageAt
	g.contacts = append(g.contacts, oppContact{opp: o.id, person: p.id, role: p.job.role, primary: true})
	g.dealTouches(p, op, oc)
	if op.won {
		g.becomeCustomer(p, op)
	}

	// The rep adds a few colleagues from the buying committee.
	n := g.pick(4, func(i int) float64 { return []float64{0.15, 0.4, 0.3, 0.15}[i] })
	for _, pi := range a.persons {
		if n == 0 {
			break
		}
		q := &g.persons[pi]
		if q == p || q.sqlAt > 0 || q.oppAt > 0 || q.leadAt == 0 || q.leadAt > oc-day || q.lastChange >= oc || !g.chance(0.25+0.5*b2f(q.stage == model.StageMQL)) {
			continue
		}
		n--
		at := oc + hour
		if q.stage == model.StageLead {
			g.change(q, at, model.StageMQL, "opportunity_contact")
		}
		g.change(q, at+2*minute, model.StageSQL, "opportunity_contact")
		g.change(q, at+4*minute, model.StageOpportunity, "opportunity_contact")
		q.oppAt, q.owner = q.stageAt, a.rep
		role := q.job.role
		if role == "decision_maker" && p.job.role == "decision_maker" {
			role = "influencer"
		}
		g.contacts = append(g.contacts, oppContact{opp: o.id, person: q.id, role: role})
		if op.won {
			g.becomeCustomer(q, op)
		}
	}
	return len(g.opps) - 1
}

func (g *gen) joinOpp(a *account, o *opp, p *person) {
	at := g.after(max(p.sqlAt, o.created), g.between(day, 5*day))
	if at >= o.end(g.tl) {
		return
	}
	if !g.change(p, at, model.StageOpportunity, "opportunity_contact") {
		return
	}
	p.oppAt = p.stageAt
	g.contacts = append(g.contacts, oppContact{opp: o.id, person: p.id, role: p.job.role})
	g.dealTouches(p, o, at)
	if o.won {
		g.becomeCustomer(p, o)
	}
}

func (g *gen) becomeCustomer(p *person, o *opp) {
	if g.change(p, o.closed+g.between(minute, 30*minute), model.StageCustomer, "closed_won") {
		p.customerAt = p.stageAt
	}
}

// dealTouches are the meetings and visits while a deal is open.
func (g *gen) dealTouches(p *person, o *opp, from int64) {
	end := o.end(g.tl)
	at := g.after(from, g.between(day, 7*day))
	for at < end {
		m := g.base(p, at, "meeting", model.ChannelOutbound, nil)
		m.source, m.medium = "sales", "meeting"
		m.promoter = 0
		g.add(m)
		if g.chance(0.5) {
			v := g.visit(p, g.after(at, g.between(hour, 5*day)), model.ChannelDirect, nil, "page_view")
			if v.at < end {
				g.add(v)
			}
		}
		if g.chance(0.3) {
			if c := g.activeCampaign(model.ChannelContent, g.dayOf(at)); c != nil && len(c.assets) > 0 {
				t := g.visit(p, g.after(at, g.between(hour, 3*day)), model.ChannelContent, c, "content_download")
				a := &g.assets[c.assets[g.r.IntN(len(c.assets))]]
				t.content, t.url = a.id, a.url
				if t.at < end {
					g.add(t)
				}
			}
		}
		at = g.after(at, g.between(10*day, 30*day))
	}
}

// buildOrders books the revenue of won deals; some are paid in two parts
// (licence, then services).
func (g *gen) buildOrders() {
	for i := range g.opps {
		o := &g.opps[i]
		if !o.won {
			continue
		}
		at := o.closed + g.between(0, 3*day)
		if at >= g.tl {
			at = o.closed
		}
		total := o.amount * int64(90+g.r.IntN(11)) / 100 / 10000 * 10000
		kind := "new"
		if o.expansion {
			kind = "upsell"
		}
		if g.chance(0.25) {
			second := g.after(at, g.between(20*day, 90*day))
			if second < g.tl {
				first := total * 7 / 10 / 10000 * 10000
				g.orders = append(g.orders, order{id: int64(len(g.orders) + 1), opp: o.id, account: o.account, amount: first, at: at, kind: kind})
				g.orders = append(g.orders, order{id: int64(len(g.orders) + 1), opp: o.id, account: o.account, amount: total - first, at: second, kind: kind})
				continue
			}
		}
		g.orders = append(g.orders, order{id: int64(len(g.orders) + 1), opp: o.id, account: o.account, amount: total, at: at, kind: kind})
	}
}

// buildTasks writes the follow-ups sales owes: first calls on new SQLs,
// next steps on open deals, hand-overs of new customers and a few SLA
// escalations.
func (g *gen) buildTasks() {
	addTask := func(kind, title string, person, opp, assignee, created, due int64, doneP float64) {
		due = min(due, g.tl-1)
		t := task{id: int64(len(g.tasks) + 1), kind: kind, title: title, person: person, opp: opp, assignee: assignee, created: created, due: due}
		if g.chance(doneP) {
			if done := created + g.between(2*hour, 4*day); done < g.tl {
				t.done = done
			}
		}
		g.tasks = append(g.tasks, t)
	}
	for i := range g.persons {
		p := &g.persons[i]
		if p.sqlAt > 0 && g.chance(0.05) {
			addTask("follow_up", "跟进SQL："+p.name+"（"+p.acc.short+"）", p.id, 0, p.owner, p.sqlAt, p.sqlAt+2*day, 0.85)
		}
		if p.mqlAt > 0 && g.chance(0.01) {
			addTask("sla_escalation", "MQL超时未跟进："+p.name+"（"+p.acc.short+"）", p.id, 0, g.leaderFor(p.acc.city.region), p.mqlAt+day, p.mqlAt+2*day, 0.7)
		}
	}
	for i := range g.opps {
		o := &g.opps[i]
		switch {
		case o.closed == 0 && g.chance(0.6):
			created := max(o.created, g.tl-g.between(day, 20*day))
			addTask("next_step", "推进商机："+o.name, 0, o.id, o.owner, created, created+7*day, 0)
		case o.won && g.chance(0.3):
			addTask("handover", "客户交接与实施启动："+o.name, 0, o.id, o.owner, o.closed, o.closed+5*day, 0.9)
		}
	}
}

// finishPersons sets what follows from the whole history: first touch,
// owner, identities. Grades are the lifecycle rules' (afterLoad).
func (g *gen) finishPersons() {
	seen := map[string]int64{} // anonymous id → first use; looked up, never iterated
	for i := range g.touches {
		t := &g.touches[i]
		p := &g.persons[t.person-1]
		if p.firstSeen == 0 {
			p.firstSeen, p.firstCh, p.firstCampaign = t.at, t.ch, t.campaign
		}
		if t.anon != "" {
			if _, ok := seen[t.anon]; !ok {
				seen[t.anon] = t.at
			}
		}
	}
	for i := range g.identities {
		id := &g.identities[i]
		p := &g.persons[id.person-1]
		if id.typ == model.IdentityAnonymousID {
			if at, ok := seen[id.value]; ok {
				id.created = at
			}
		}
		id.created = max(p.firstSeen, min(id.created, g.tl-1))
	}
	for i := range g.persons {
		p := &g.persons[i]
		if !p.known {
			continue
		}
		a := p.acc
		if p.sqlAt > 0 || p.oppAt > 0 {
			if p.owner == 0 {
				p.owner = a.rep
			}
			p.crm = "CRM-" + pad7(p.id)
			g.identities = append(g.identities, identity{typ: model.IdentityCRMID, value: p.crm, person: p.id, created: max(p.sqlAt, p.oppAt)})
		}
		g.identities = append(g.identities,
			identity{typ: model.IdentityEmail, value: p.email, person: p.id, created: p.leadAt},
			identity{typ: model.IdentityPhone, value: p.phone, person: p.id, created: p.leadAt})
	}
	for i := range g.accounts {
		a := &g.accounts[i]
		a.created = g.tl - 1
		for _, pi := range a.persons {
			a.created = min(a.created, g.persons[pi].firstSeen)
		}
		if a.tier == "A" && a.owner == 0 {
			a.owner = a.rep
		}
	}
}

func pad7(n int64) string {
	s := []byte("0000000")
	for i := 6; i >= 0 && n > 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}
