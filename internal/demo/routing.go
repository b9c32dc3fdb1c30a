package demo

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/routing"
)

// Routing in the demo: the company hands every MQL to sales with a
// first-follow-up SLA. Every MQL goes to the SDR team (销售开发), who
// qualify it and pass it to the account's rep on acceptance (SQL):
// financial services first to its specialist, key accounts to the least
// busy SDR, the others in turn, the regional leaders when every SDR is
// full or away. The SDR call each MQL gets, mostly within
// hours, now and then days later (the "ob-mql-follow" touch of the
// journey), is the follow-up; colleagues a rep adds to a deal's buying
// committee get a note from the rep. The rules, capacities and
// out-of-office windows below run through the routing package's own
// Decide and business-hours clock, event by event, so the data agrees with
// what the product would have done.

// demoSLA is the demo's first-follow-up promise, in business hours.
const demoSLA = "8h"

// routingTeam puts the SDRs (their leads too) in "sdr", the regional
// reps in their region's team and the regional leaders in "managers", the
// fallback pool.
func (g *gen) routingTeam(u *user) string {
	switch {
	case u.isSDR:
		return "sdr"
	case !u.isRep:
		return ""
	case u.isLeader:
		return "managers"
	}
	return u.territory
}

// demoRuleSet is the rule set the demo stores as version 1.
func (g *gen) demoRuleSet() *routing.RuleSet {
	email := func(local string) string { return local + "@" + userDomain }
	var holidays []string
	first, last := unixTime(g.t0).Year(), unixTime(g.tl).Year()+1
	for y := first; y <= last; y++ {
		// The fixed-date public holidays: New Year's Day, Labour Day week
		// and National Day week.
		holidays = append(holidays, fmt.Sprintf("%d-01-01", y))
		for d := 1; d <= 5; d++ {
			holidays = append(holidays, fmt.Sprintf("%d-05-%02d", y, d))
		}
		for d := 1; d <= 7; d++ {
			holidays = append(holidays, fmt.Sprintf("%d-10-%02d", y, d))
		}
	}
	doc := map[string]any{
		"trigger_stage": "mql",
		"sla": map[string]any{"first_follow_up": demoSLA, "business_hours": map[string]any{
			"days": []string{"mon", "tue", "wed", "thu", "fri"}, "start": "09:00", "end": "18:00", "time_zone": "Asia/Shanghai", "holidays": holidays}},
		"keep_account_owner": false,
		"rules": []map[string]any{
			{"name": "sdr-financial-services", "match": map[string]any{"industry": []string{"financial_services"}},
				"pool": map[string]any{"users": []string{email("han.yutong")}}, "method": "least_busy"},
			{"name": "sdr-key-accounts", "match": map[string]any{"tier": []string{"A", "B"}},
				"pool": map[string]any{"team": "sdr"}, "method": "least_busy"},
			{"name": "sdr", "match": map[string]any{}, "pool": map[string]any{"team": "sdr"}},
		},
		"fallback": map[string]any{"pool": map[string]any{"team": "managers"}, "method": "least_busy"},
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	rs, err := routing.Parse(raw)
	if err != nil {
		panic("demo routing rules: " + err.Error()) // fixed data: a programming error
	}
	return rs
}

// demoAway is who is out of office when: one window per user, as
// users.out_of_office_from/until hold it. Days count from the first day of
// the data; the last window is still running when the data ends.
func (g *gen) demoAway() map[string][2]int64 {
	return map[string][2]int64{
		"wu.jun":     {g.t0 + 150*day, g.t0 + 164*day},
		"he.min":     {g.t0 + 200*day, g.t0 + 207*day},
		"zhao.peng":  {g.t0 + 260*day, g.t0 + 262*day},
		"liu.siyuan": {g.tl - 9*day, g.tl + 5*day},
	}
}

// demoCapacity is the most open (not yet followed-up) leads a named rep
// holds; SDRs hold twelve, their leads five, reps hired beyond scale 1 four.
var demoCapacity = map[string]int{
	"sun.jiayi": 3, "zhou.xiaoming": 6, "li.na": 4, "zhao.peng": 4, "lin.ting": 4, "zheng.hao": 5,
	"wu.jun": 5, "liu.siyuan": 3, "he.min": 3,
	"chen.lihua": 2, "wang.haitao": 2, "huang.zhiqiang": 2,
}

// demoAssignment is one assignment the demo loads.
type demoAssignment struct {
	id, person, user int64
	rule             string
	assigned, due    int64
	followUp, breach int64 // 0 when none
	task             int64 // the escalation task's id
	closed           int64 // when its person left the working stages unfollowed
	// supersededAt is when the assignment closed for good, closedReason
	// why: the person was recycled, or assigned again. 0 while open (a
	// person holds at most one open assignment).
	supersededAt int64
	closedReason string
}

// demoActivity is one logged sales activity.
type demoActivity struct {
	person, user int64
	kind, note   string
	at           int64
}

// demoRouting is what the demo's routing produced.
type demoRouting struct {
	rulesJSON    []byte
	assignments  []demoAssignment
	activities   []demoActivity
	cursors      []demoCursor
	lastAssigned int64
	waiting      int // persons left waiting for an assignee at the end
}

// demoCursor is one rule's round-robin turn: the user who took its last
// lead.
type demoCursor struct {
	rule string
	user int64
}

// ceilMinute is when the once-a-minute routing task first sees something
// that happened at t.
func ceilMinute(t int64) int64 { return (t/minute + 1) * minute }

// buildRouting routes the year's MQLs, derives their follow-ups from the
// journeys and raises the escalations of missed SLAs.
func (g *gen) buildRouting() *demoRouting {
	rs := g.demoRuleSet()
	dr := &demoRouting{}
	dr.rulesJSON, _ = json.Marshal(rs)
	tsOf := func(t int64) time.Time { return time.Unix(t, 0).UTC() }

	// Users as routing sees them, with the demo's capacities and absences.
	away := g.demoAway()
	users := make([]routing.User, len(g.users))
	for i := range g.users {
		u := &g.users[i]
		local, _, _ := strings.Cut(u.email, "@")
		if c, ok := demoCapacity[local]; ok {
			u.capacity = c
		}
		users[i] = routing.User{ID: u.id, Email: u.email, Team: g.routingTeam(u), ManagerID: u.manager, Capacity: u.capacity,
			Viewer: u.role != model.RoleSales}
		if w, ok := away[local]; ok {
			from, until := tsOf(w[0]), tsOf(w[1])
			users[i].OutOfOffice, users[i].BackInOffice = &from, &until
		}
	}
	userIdx := func(id int64) int { return int(id - g.users[0].id) }

	// The events: entries into the working stages, leaving them, and
	// the follow-up moments (the SDR call, the rep's note on a new
	// committee member).
	working := map[model.Stage]bool{}
	for _, st := range routing.WorkingStages(rs.TriggerStage) {
		working[st] = true
	}
	var evs []demoEvent
	for i := range g.changes {
		c := &g.changes[i]
		switch in, was := working[c.to], working[c.from]; {
		case in && !was:
			evs = append(evs, demoEvent{ceilMinute(c.at), evEntry, c.person})
			if c.reason == "opportunity_contact" && c.to == model.StageMQL {
				evs = append(evs, demoEvent{c.at + 4*minute, evNote, c.person})
			}
		case was && !in:
			evs = append(evs, demoEvent{c.at, evLeave, c.person})
		}
	}
	follow := g.campaignByCode("ob-mql-follow").id
	for i := range g.touches {
		if t := &g.touches[i]; t.typ == "call" && t.campaign == follow {
			evs = append(evs, demoEvent{t.at, evFollow, t.person})
		}
	}
	for _, w := range away {
		if w[1] < g.tl {
			evs = append(evs, demoEvent{ceilMinute(w[1]), evBack, 0})
		}
	}
	planned := map[int64][]int64{} // person → moments of its calls and notes; looked up, never iterated
	for _, e := range evs {
		if e.kind == evFollow || e.kind == evNote {
			planned[e.person] = append(planned[e.person], e.at)
		}
	}
	slices.SortFunc(evs, cmpEvent)

	var own []demoEvent        // the owners' own first calls, scheduled as leads are routed
	current := map[int64]int{} // person → index of its current assignment; looked up, never iterated
	var waiting []int64        // persons waiting for an assignee, oldest first
	cursors := routing.Cursors{}
	lead := func(p *person) routing.Lead {
		l := routing.Lead{PersonID: p.id}
		if a := p.acc; a != nil {
			l.Region, l.Industry, l.Tier, l.AccountOwnerID = a.city.region, a.industry.key, a.tier, a.owner
		}
		return l
	}
	assign := func(pid, at int64) bool {
		d := rs.Decide(lead(&g.persons[pid-1]), users, cursors, tsOf(at))
		if d.UserID == 0 {
			return false
		}
		users[userIdx(d.UserID)].Open++
		due := rs.DueAt(tsOf(at)).Unix()
		dr.assignments = append(dr.assignments, demoAssignment{id: int64(len(dr.assignments) + 1), person: pid, user: d.UserID,
			rule: d.Rule, assigned: at, due: due})
		current[pid] = len(dr.assignments) - 1
		dr.lastAssigned = at
		if !slices.ContainsFunc(planned[pid], func(t int64) bool { return t >= at }) {
			// The SDR call came before the lead was routed (it waited for
			// an assignee): the owner makes a first call of their own.
			own = append(own, demoEvent{g.after(at, g.between(10*minute, 6*hour)), evOwnCall, pid})
		}
		return true
	}
	retry := func(at int64) {
		at = ceilMinute(at)
		if at >= g.tl {
			return
		}
		// Oldest first; once nobody in a team is free the rest keep waiting.
		waiting = slices.DeleteFunc(waiting, func(pid int64) bool {
			return slices.ContainsFunc(users, func(u routing.User) bool { return u.Team != "" && u.Available(tsOf(at)) }) && assign(pid, at)
		})
	}
	for k := 0; ; {
		// The next event: the earlier of the journeys' and the owners'.
		var e demoEvent
		j := -1
		for i := range own {
			if j < 0 || cmpEvent(own[i], own[j]) < 0 {
				j = i
			}
		}
		switch {
		case j >= 0 && (k == len(evs) || cmpEvent(own[j], evs[k]) < 0):
			e = own[j]
			own = slices.Delete(own, j, j+1)
		case k < len(evs):
			e, k = evs[k], k+1
		}
		if e.kind == evNone || e.at >= g.tl {
			break
		}
		switch e.kind {
		case evEntry:
			if !assign(e.person, e.at) {
				waiting = append(waiting, e.person)
			}
		case evLeave:
			waiting = slices.DeleteFunc(waiting, func(pid int64) bool { return pid == e.person })
			if i, ok := current[e.person]; ok && dr.assignments[i].followUp == 0 && dr.assignments[i].closed == 0 {
				dr.assignments[i].closed = e.at
				users[userIdx(dr.assignments[i].user)].Open--
			}
			delete(current, e.person)
			retry(e.at)
		case evFollow, evNote, evOwnCall:
			p := &g.persons[e.person-1]
			act := demoActivity{person: e.person, kind: "call", note: "SDR跟进电话", at: e.at}
			switch e.kind {
			case evNote:
				act.kind, act.note = "note", "加入商机采购小组"
			case evOwnCall:
				if i, ok := current[e.person]; !ok || dr.assignments[i].followUp != 0 {
					continue // the lead left, or was followed up, meanwhile
				}
				act.note = "负责人首次跟进"
			}
			if i, ok := current[e.person]; ok && dr.assignments[i].assigned <= e.at {
				a := &dr.assignments[i]
				act.user = a.user
				if a.followUp == 0 {
					a.followUp = e.at
					if a.closed == 0 {
						users[userIdx(a.user)].Open--
					}
					retry(e.at)
				}
			} else if p.acc != nil {
				// Nobody was assigned (yet): the region's manager called.
				act.user = g.leaderFor(p.acc.city.region)
			}
			if act.user != 0 {
				dr.activities = append(dr.activities, act)
			}
		case evBack:
			retry(e.at)
		}
	}
	dr.waiting = len(waiting)
	// Missed SLAs: the once-a-minute check marks an assignment breached
	// when it is due without a follow-up while its person is still being
	// worked, and raises one task for the owner's manager.
	g.tasks = slices.DeleteFunc(g.tasks, func(t task) bool { return t.kind == "sla_escalation" })
	for i := range g.tasks {
		g.tasks[i].id = int64(i + 1)
	}
	for i := range dr.assignments {
		a := &dr.assignments[i]
		seen := ceilMinute(a.due)
		if seen >= g.tl || (a.followUp != 0 && a.followUp <= a.due) || (a.closed != 0 && a.closed <= a.due) {
			continue
		}
		a.breach = a.due
		u := &g.users[userIdx(a.user)]
		p := &g.persons[a.person-1]
		t := task{id: int64(len(g.tasks) + 1), kind: "sla_escalation", title: routing.EscalationTitle(p.name, u.name),
			person: a.person, assignee: u.manager, created: seen, due: min(rs.DueAt(tsOf(seen)).Unix(), g.tl-1)}
		if a.followUp != 0 {
			t.done = a.followUp
		}
		g.tasks = append(g.tasks, t)
		a.task = t.id
	}

	// Closing: an assignment closes when its person goes back to an
	// earlier stage (recycled, disqualified: not on to customer), else
	// when the person is assigned again.
	back := map[int64][]int64{} // person → when it left the working stages backwards; looked up, never iterated
	for i := range g.changes {
		if c := &g.changes[i]; working[c.from] && !working[c.to] && c.to != model.StageCustomer {
			back[c.person] = append(back[c.person], c.at)
		}
	}
	next := map[int64]int64{} // person → when its next assignment was made; looked up, never iterated
	for i := len(dr.assignments) - 1; i >= 0; i-- {
		a := &dr.assignments[i]
		for _, at := range back[a.person] {
			if at >= a.assigned && (next[a.person] == 0 || at <= next[a.person]) && (a.supersededAt == 0 || at < a.supersededAt) {
				a.supersededAt, a.closedReason = at, model.ClosedRecycled
			}
		}
		if a.supersededAt == 0 && next[a.person] != 0 {
			a.supersededAt, a.closedReason = next[a.person], model.ClosedReassigned
		}
		next[a.person] = a.assigned
	}

	// Owners: a routed person belongs to its assignee unless sales
	// acceptance already gave it to the account's rep.
	for _, a := range dr.assignments {
		if p := &g.persons[a.person-1]; p.owner == 0 {
			p.owner = a.user
		}
	}
	var names []string
	for _, r := range rs.Rules {
		names = append(names, r.Name)
	}
	for _, name := range append(names, routing.RuleFallback) {
		if id, ok := cursors[name]; ok {
			dr.cursors = append(dr.cursors, demoCursor{name, id})
		}
	}
	return dr
}

// demoEvent is one moment of the routing replay.
type demoEvent struct {
	at     int64
	kind   int
	person int64
}

// Kinds of demoEvent, in the order they are handled at the same second.
const (
	evNone  = iota
	evLeave // frees capacity first
	evFollow
	evNote
	evOwnCall
	evBack // an absence ends
	evEntry
)

func cmpEvent(a, b demoEvent) int {
	if c := cmpInt(a.at, b.at); c != 0 {
		return c
	}
	if c := cmpInt(int64(a.kind), int64(b.kind)); c != 0 {
		return c
	}
	return cmpInt(a.person, b.person)
}

// loadStep is one table of the demo load (the shape load.go uses).
type loadStep = struct {
	table, cols string
	n           int
	row         func(i int) []any
}

// withRouting builds the routing data and adds it to the load: the users'
// teams and absences, the escalation tasks, the rule set, the cursors, the
// assignments and the activities.
func (g *gen) withRouting(steps []loadStep) []loadStep {
	dr := g.buildRouting()
	away := g.demoAway()
	for i := range steps {
		switch s := &steps[i]; s.table {
		case "users":
			base := s.row
			s.cols += ",team,out_of_office_from,out_of_office_until"
			s.row = func(i int) []any {
				u := &g.users[i]
				local, _, _ := strings.Cut(u.email, "@")
				w := away[local]
				return append(base(i), g.routingTeam(u), ts(w[0]), ts(w[1]))
			}
		case "tasks":
			s.n = len(g.tasks)
		}
	}
	return append(steps,
		loadStep{"routing_rule_sets", "id,rules,created_by,created_at", 1, func(int) []any {
			return []any{int64(1), string(dr.rulesJSON), "demo", ts(g.t0)}
		}},
		loadStep{"lifecycle_rule_sets", "id,rules,created_by,created_at", 1, func(int) []any {
			return []any{int64(1), lifecycleRulesJSON(), "demo", ts(g.t0)}
		}},
		loadStep{"routing_cursors", "rule,last_user_id,updated_at", len(dr.cursors), func(i int) []any {
			return []any{dr.cursors[i].rule, dr.cursors[i].user, ts(dr.lastAssigned)}
		}},
		loadStep{"assignments", "id,person_id,user_id,rule,rule_set_id,assigned_by,assigned_at,due_at,first_follow_up_at,breached_at,escalation_task_id,superseded_at,closed_reason",
			len(dr.assignments), func(i int) []any {
				a := &dr.assignments[i]
				return []any{a.id, a.person, a.user, a.rule, int64(1), routing.ActorRouting, ts(a.assigned), ts(a.due), ts(a.followUp), ts(a.breach), id(a.task),
					ts(a.supersededAt), a.closedReason}
			}},
		loadStep{"activities", "id,person_id,user_id,kind,occurred_at,note,created_by,created_at", len(dr.activities), func(i int) []any {
			a := &dr.activities[i]
			return []any{int64(i + 1), a.person, a.user, a.kind, ts(a.at), a.note, "demo", ts(a.at)}
		}},
	)
}
