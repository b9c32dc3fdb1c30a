package demo

import (
	"strings"
	"time"

	"github.com/revloop/revloop/internal/store"
)

// chunk bounds the rows built at once, and so the memory a load needs.
const chunk = 50_000

func ts(t int64) any {
	if t == 0 {
		return nil
	}
	return time.Unix(t, 0).UTC()
}

func id(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// insert builds n rows with row(i) and inserts them chunk by chunk.
func insert(l store.Loader, table, cols string, n int, row func(i int) []any) error {
	names := strings.Split(cols, ",")
	rows := make([][]any, 0, min(n, chunk))
	for i := 0; i < n; i++ {
		rows = append(rows, row(i))
		if len(rows) == chunk || i == n-1 {
			if err := l.Insert(table, names, rows); err != nil {
				return err
			}
			rows = rows[:0]
		}
	}
	return nil
}

func (g *gen) load(l store.Loader) error {
	day := func(d int) any { return g.date(d) }
	steps := []struct {
		table, cols string
		n           int
		row         func(i int) []any
	}{
		{"users", "id,email,name,role,password_hash,territory,manager_id,capacity,created_at", len(g.users), func(i int) []any {
			u := &g.users[i]
			return []any{u.id, u.email, u.name, string(u.role), "", u.territory, id(u.manager), u.capacity, ts(g.t0)}
		}},
		{"accounts", "id,name,name_en,domain,industry,size_band,employees,region,city,tier,owner_id,created_at", len(g.accounts), func(i int) []any {
			a := &g.accounts[i]
			return []any{a.id, a.name, a.nameEN, a.domain, a.industry.key, a.size.band, a.employees, a.city.region, a.city.zh, a.tier, id(a.owner), ts(a.created)}
		}},
		// Programmes first: their campaigns name them.
		{"campaigns", "id,code,name,name_en,channel,platform,kind,start_date,end_date,budget_fen,target_leads,target_mqls,target_opportunities,target_pipeline_fen,target_revenue_fen,landing_url,owner_id,parent_id,created_at", len(g.programmes) + len(g.camps), func(i int) []any {
			var c *campaign
			if i < len(g.programmes) {
				c = g.programmes[i]
			} else {
				c = g.camps[i-len(g.programmes)]
			}
			landing := ""
			if c.path != "" {
				landing = siteURL + c.path
			}
			return []any{c.id, c.code, c.name, c.nameEN, string(c.ch), c.platform, c.kind, day(c.startDay), day(c.endDay), c.budget,
				c.tLeads, c.tMQLs, c.tOpps, c.tPipeline, c.tRevenue, landing, id(c.owner), id(c.parent), ts(c.created)}
		}},
		{"ad_groups", "id,campaign_id,name", len(g.adGroups), func(i int) []any {
			a := &g.adGroups[i]
			return []any{a.id, a.campaign, a.name}
		}},
		{"keywords", "id,campaign_id,ad_group_id,text,match_type", len(g.keywords), func(i int) []any {
			k := &g.keywords[i]
			return []any{k.id, k.campaign, k.adGroup, k.def.text, k.def.match}
		}},
		{"content_assets", "id,campaign_id,kind,title,title_en,url,created_at", len(g.assets), func(i int) []any {
			a := &g.assets[i]
			return []any{a.id, id(a.campaign), a.kind, a.title, a.titleEN, a.url, ts(a.created)}
		}},
		{"persons", "id,account_id,name,title,email,phone,stage,stage_at,owner_id,first_seen_at,first_touch_channel,first_touch_campaign,lead_at,created_at", len(g.persons), func(i int) []any {
			p := &g.persons[i]
			var acc int64
			if p.acc != nil {
				acc = p.acc.id
			}
			stageAt := p.stageAt
			if stageAt == 0 {
				stageAt = p.firstSeen
			}
			return []any{p.id, id(acc), p.name, p.title, p.email, p.phone, string(p.stage), ts(stageAt), id(p.owner),
				ts(p.firstSeen), string(p.firstCh), id(p.firstCampaign), ts(p.leadAt), ts(p.firstSeen)}
		}},
		{"identities", "type,value,person_id,created_at", len(g.identities), func(i int) []any {
			x := &g.identities[i]
			return []any{string(x.typ), x.value, x.person, ts(x.created)}
		}},
		{"touchpoints", "id,person_id,account_id,anonymous_id,occurred_at,type,channel,source,medium,campaign_id,ad_group_id,keyword_id,content_id,promoter_id,url,referrer,click_id,watch_seconds", len(g.touches), func(i int) []any {
			t := &g.touches[i]
			adGroup := t.adGroup // a feed ad's, else the ad group of the clicked keyword
			if t.keyword != 0 {
				adGroup = g.keywords[t.keyword-1].adGroup
			}
			return []any{t.id, t.person, id(t.account), t.anon, ts(t.at), t.typ, string(t.ch), t.source, t.medium,
				id(t.campaign), id(adGroup), id(t.keyword), id(t.content), id(t.promoter), t.url, t.referrer, t.clickID, int64(t.watch)}
		}},
		{"daily_costs", "id,day,platform,campaign_id,ad_group_id,keyword_id,impressions,clicks,cost_fen", len(g.costs), func(i int) []any {
			c := &g.costs[i]
			return []any{int64(i + 1), day(c.day), c.platform, c.campaign, id(c.adGroup), id(c.keyword), c.impressions, c.clicks, c.costFen}
		}},
		{"opportunities", "id,account_id,name,owner_id,stage,amount_fen,created_at,closed_at", len(g.opps), func(i int) []any {
			o := &g.opps[i]
			return []any{o.id, o.account, o.name, id(o.owner), o.stage, o.amount, ts(o.created), ts(o.closed)}
		}},
		{"opportunity_contacts", "opportunity_id,person_id,role,is_primary", len(g.contacts), func(i int) []any {
			c := &g.contacts[i]
			return []any{c.opp, c.person, c.role, c.primary}
		}},
		{"orders", "id,opportunity_id,account_id,amount_fen,ordered_at,kind", len(g.orders), func(i int) []any {
			o := &g.orders[i]
			return []any{o.id, o.opp, o.account, o.amount, ts(o.at), o.kind}
		}},
		{"stage_changes", "id,person_id,from_stage,to_stage,changed_at,reason,actor,rule_version", len(g.changes), func(i int) []any {
			c := &g.changes[i]
			actor, version := g.actorOf(c)
			return []any{c.id, c.person, string(c.from), string(c.to), ts(c.at), c.reason, actor, version}
		}},
		{"tasks", "id,kind,title,person_id,opportunity_id,assignee_id,due_at,done_at,created_at", len(g.tasks), func(i int) []any {
			t := &g.tasks[i]
			return []any{t.id, t.kind, t.title, id(t.person), id(t.opp), id(t.assignee), ts(t.due), ts(t.done), ts(t.created)}
		}},
	}
	steps = g.withRouting(steps)           // routing.go: teams, absences, assignments, activities, escalations
	steps = g.withEmployeePromotion(steps) // promotion.go: share links and their clicks, the other colleagues' teams
	for _, s := range steps {
		if err := insert(l, s.table, s.cols, s.n, s.row); err != nil {
			return err
		}
	}
	return nil
}
