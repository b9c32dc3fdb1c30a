package routing_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/routing"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var (
	ctx      = context.Background()
	shanghai = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()
)

// cst is a wall-clock time in Shanghai; 2026-01-05 is a Monday.
func cst(day, hour, min int) time.Time { return time.Date(2026, 1, day, hour, min, 0, 0, shanghai) }

// fakeClock is the routers' time.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// world loads users, two accounts and persons who entered sql at the
// given times (from mql, a day earlier from lead).
//
//	users: 1 admin; 2 sales manager (team east); 3, 4, 6 sales in team east
//	       managed by 2; 5 sales in team north without a manager; 7 viewer
//	account 1: east, manufacturing, tier B, no owner
//	account 2: north, financial_services, tier A, owned by 5
func world(t *testing.T, s *store.Store, persons map[int64]struct {
	account int64
	sqlAt   time.Time
}) {
	t.Helper()
	t0 := cst(1, 0, 0)
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error {
			return l.Insert(table, strings.Split(cols, ","), rows)
		}
		if err := ins("users", "id,email,name,role,team,manager_id,created_at",
			[]any{int64(1), "admin@x.cn", "Admin", "admin", "", nil, t0},
			[]any{int64(2), "boss@x.cn", "Boss", "sales", "east", nil, t0},
			[]any{int64(3), "a@x.cn", "A", "sales", "east", int64(2), t0},
			[]any{int64(4), "b@x.cn", "B", "sales", "east", int64(2), t0},
			[]any{int64(5), "c@x.cn", "C", "sales", "north", nil, t0},
			[]any{int64(6), "d@x.cn", "D", "sales", "east", int64(2), t0},
			[]any{int64(7), "v@x.cn", "V", "viewer", "east", nil, t0}); err != nil {
			return err
		}
		if err := ins("accounts", "id,name,region,industry,tier,owner_id,created_at",
			[]any{int64(1), "甲", "east", "manufacturing", "B", nil, t0},
			[]any{int64(2), "乙", "north", "financial_services", "A", int64(5), t0}); err != nil {
			return err
		}
		var ps, scs [][]any
		n := int64(0)
		for id := int64(1); id <= 100; id++ {
			p, ok := persons[id]
			if !ok {
				continue
			}
			stage := "sql"
			if p.sqlAt.IsZero() {
				stage = "mql"
			}
			at := p.sqlAt
			if at.IsZero() {
				at = t0.Add(time.Hour)
			}
			ps = append(ps, []any{id, p.account, "P" + string(rune('A'+id%26)), stage, at, t0, "direct", t0})
			n++
			scs = append(scs, []any{n, id, "lead", "mql", at.Add(-24 * time.Hour)})
			if stage == "sql" {
				n++
				scs = append(scs, []any{n, id, "mql", "sql", at})
			}
		}
		if err := ins("persons", "id,account_id,name,stage,stage_at,first_seen_at,first_touch_channel,created_at", ps...); err != nil {
			return err
		}
		return ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at", scs...)
	})
	if err != nil {
		t.Fatal(err)
	}
}

type entry = struct {
	account int64
	sqlAt   time.Time
}

// saveRules saves a rule set that must be valid.
func saveRules(t *testing.T, s *store.Store, body string) {
	t.Helper()
	if _, err := routing.Parse([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveRuleSet(ctx, model.RoutingRuleSets, []byte(body), "test", time.Now(), nil); err != nil {
		t.Fatal(err)
	}
}

func owners(t *testing.T, s *store.Store, ids ...int64) []int64 {
	t.Helper()
	var out []int64
	for _, id := range ids {
		as, err := s.PersonAssignments(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) == 0 {
			out = append(out, 0)
			continue
		}
		out = append(out, as[len(as)-1].UserID)
	}
	return out
}

func TestAssignFollowUpAndBreach(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		world(t, s, map[int64]entry{
			1: {1, cst(5, 9, 0)}, 2: {1, cst(5, 9, 1)}, 3: {1, cst(5, 9, 2)}, 4: {1, cst(5, 9, 3)},
			5: {2, cst(5, 9, 4)}, // the ABM account owned by user 5
			6: {1, time.Time{}},  // an MQL: not yet at the trigger stage
		})
		saveRules(t, s, `{"trigger_stage": "sql", "keep_account_owner": true,
			"rules": [{"name": "east", "match": {"region": ["east"]}, "pool": {"users": [3, "b@x.cn"]}}]}`)
		clock := &fakeClock{cst(5, 10, 0)}
		breaches := 0
		rt := &routing.Router{Store: s, Now: clock.now, OnBreach: func(n int) { breaches += n }}

		res, err := rt.Assign(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Assigned != 5 || res.Waiting != 0 {
			t.Fatalf("first run: %+v, want 5 assigned", res)
		}
		if got := owners(t, s, 1, 2, 3, 4, 5, 6); !slices.Equal(got, []int64{3, 4, 3, 4, 5, 0}) {
			t.Fatalf("owners %v", got)
		}
		as, _ := s.PersonAssignments(ctx, 5)
		if as[0].Rule != routing.RuleAccountOwner || !as[0].DueAt.Equal(cst(5, 12, 0)) || !as[0].AssignedAt.Equal(cst(5, 10, 0)) || as[0].RuleSetID != 1 {
			t.Fatalf("ABM assignment %+v", as[0])
		}
		d, err := s.PersonDetail(ctx, 1)
		if err != nil || d.OwnerID != 3 {
			t.Fatalf("person 1 owner %d, %v", d.OwnerID, err)
		}
		if res, _ := rt.Assign(ctx); res.Assigned != 0 {
			t.Fatalf("second run assigned again: %+v", res)
		}

		// Follow-ups: the first activity after assignment stamps it,
		// whoever on the sales side made it.
		log := func(person, user int64, at time.Time) bool {
			t.Helper()
			_, stamped, err := rt.LogActivity(ctx, routing.NewActivity{PersonID: person, UserID: user, Kind: "call", OccurredAt: at})
			if err != nil {
				t.Fatal(err)
			}
			return stamped
		}
		clock.t = cst(5, 11, 50)
		if !log(1, 3, cst(5, 11, 0)) || !log(2, 3, cst(5, 11, 30)) || log(1, 3, cst(5, 11, 45)) {
			t.Fatal("wrong first-follow-up stamping")
		}
		if log(3, 3, cst(5, 9, 30)) { // before the assignment
			t.Fatal("an activity before the assignment counted as its follow-up")
		}

		// 12:30: persons 3, 4 and 5 are past due without a follow-up.
		clock.t = cst(5, 12, 30)
		n, err := rt.CheckSLA(ctx)
		if err != nil || n != 3 || breaches != 3 {
			t.Fatalf("breaches %d (hook %d), %v; want 3", n, breaches, err)
		}
		if n, _ := rt.CheckSLA(ctx); n != 0 {
			t.Fatalf("second check marked %d again", n)
		}
		wantAssignee := map[int64]int64{3: 2, 4: 2, 5: 1} // the manager, else the admin
		for person, boss := range wantAssignee {
			as, _ := s.PersonAssignments(ctx, person)
			a := as[0]
			if a.BreachedAt == nil || !a.BreachedAt.Equal(cst(5, 12, 0)) || a.EscalationTaskID == 0 {
				t.Fatalf("person %d: %+v", person, a)
			}
			task, err := s.TaskByID(ctx, a.EscalationTaskID)
			if err != nil || task.Kind != "sla_escalation" || task.AssigneeID != boss || task.PersonID != person {
				t.Fatalf("person %d: task %+v, %v; want assignee %d", person, task, err, boss)
			}
		}
		for _, person := range []int64{1, 2} {
			as, _ := s.PersonAssignments(ctx, person)
			if as[0].BreachedAt != nil {
				t.Fatalf("person %d followed up in time but breached", person)
			}
		}
		// A late follow-up is stamped; the breach stays on record.
		clock.t = cst(5, 13, 0)
		if !log(3, 4, cst(5, 13, 0)) {
			t.Fatal("late follow-up not stamped")
		}
		as, _ = s.PersonAssignments(ctx, 3)
		if as[0].BreachedAt == nil || as[0].FirstFollowUpAt == nil || !as[0].FirstFollowUpAt.Equal(cst(5, 13, 0)) {
			t.Fatalf("late follow-up: %+v", as[0])
		}

		// Person 4 goes back to nurture and returns: a new assignment,
		// with the round-robin turn carrying on (4 had the last one).
		if _, err := s.MoveStages(ctx, []model.StageMove{
			{PersonID: 4, From: "sql", To: "nurture", At: cst(5, 13, 0), Reason: "not now", Actor: "user:2"},
			{PersonID: 4, From: "nurture", To: "sql", At: cst(5, 14, 0), Reason: "back", Actor: "user:2"},
		}); err != nil {
			t.Fatal(err)
		}
		clock.t = cst(5, 14, 1)
		if res, _ := rt.Assign(ctx); res.Assigned != 1 {
			t.Fatalf("re-entry: %+v", res)
		}
		as, _ = s.PersonAssignments(ctx, 4)
		if len(as) != 2 || as[0].SupersededAt == nil || as[1].UserID != 3 || as[1].SupersededAt != nil {
			t.Fatalf("re-entry assignments %+v", as)
		}

		// Capacity and out-of-office: 3 holds one open lead (person 4) and
		// may hold one; 4 is away. Person 6 reaches sql and waits.
		if err := s.SetUserRouting(ctx, 3, model.UserRouting{Team: "east", ManagerID: 2, Capacity: 1}); err != nil {
			t.Fatal(err)
		}
		from, until := cst(5, 14, 0), cst(6, 9, 0)
		if err := s.SetUserRouting(ctx, 4, model.UserRouting{Team: "east", ManagerID: 2, OutOfOffice: &from, BackInOffice: &until}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MoveStages(ctx, []model.StageMove{{PersonID: 6, From: "mql", To: "sql", At: cst(5, 15, 0), Actor: "user:2"}}); err != nil {
			t.Fatal(err)
		}
		clock.t = cst(5, 15, 1)
		if res, _ := rt.Assign(ctx); res.Assigned != 0 || res.Waiting != 1 {
			t.Fatalf("full and away: %+v, want 1 waiting", res)
		}
		rep, err := rt.Report(ctx, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Waiting.Unassigned.Count != 1 || rep.Waiting.Unassigned.Oldest[0].PersonID != 6 || rep.Waiting.Unassigned.Oldest[0].AgeHours != 0.02 {
			t.Fatalf("waiting %+v", rep.Waiting.Unassigned)
		}
		// 4 is back the next morning.
		clock.t = cst(6, 9, 0)
		if res, _ := rt.Assign(ctx); res.Assigned != 1 {
			t.Fatalf("4 back: %+v", res)
		}
		if got := owners(t, s, 6); got[0] != 4 {
			t.Fatalf("person 6 went to %d, want 4", got[0])
		}

		// A manual reassignment supersedes and restarts the clock.
		clock.t = cst(6, 17, 0)
		a, err := rt.Reassign(ctx, 6, 0, "d@x.cn", "speaks Cantonese", "boss@x.cn")
		if err != nil {
			t.Fatal(err)
		}
		if a.UserID != 6 || a.Rule != routing.RuleManual || a.Reason != "speaks Cantonese" || !a.DueAt.Equal(cst(7, 10, 0)) {
			t.Fatalf("reassignment %+v", a)
		}
		for _, bad := range []struct {
			person, user int64
			reason, want string
		}{
			{6, 7, "x", "viewer"},
			{6, 99, "x", "no user 99"},
			{6, 3, " ", "reason"},
		} {
			if _, err := rt.Reassign(ctx, bad.person, bad.user, "", bad.reason, "t"); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("reassign %+v: %v", bad, err)
			}
		}
		if _, err := rt.Reassign(ctx, 99, 3, "", "x", "t"); err != routing.ErrNoPerson {
			t.Errorf("unknown person: %v", err)
		}
	})
}

func TestRoundRobinSurvivesRestarts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ps := map[int64]entry{}
		for id := int64(1); id <= 30; id++ {
			ps[id] = entry{1, time.Time{}}
			if id <= 10 {
				ps[id] = entry{1, cst(5, 9, int(id))}
			}
		}
		world(t, s, ps)
		saveRules(t, s, `{"rules": [{"name": "east", "pool": {"users": [3, 4, 6]}}]}`)
		// Three routers, as if the process restarted between runs, each
		// finding ten new persons at sql.
		counts := map[int64]int{}
		var order []int64
		for run := 0; run < 3; run++ {
			if run > 0 {
				var moves []model.StageMove
				for id := int64(10*run + 1); id <= int64(10*run+10); id++ {
					moves = append(moves, model.StageMove{PersonID: id, From: "mql", To: "sql", At: cst(5, 10, run), Actor: "user:2"})
				}
				if _, err := s.MoveStages(ctx, moves); err != nil {
					t.Fatal(err)
				}
			}
			rt := &routing.Router{Store: s, Now: func() time.Time { return cst(5, 10, run).Add(time.Second) }}
			if res, err := rt.Assign(ctx); err != nil || res.Assigned != 10 {
				t.Fatalf("run %d: %+v, %v", run, res, err)
			}
		}
		for id := int64(1); id <= 30; id++ {
			u := owners(t, s, id)[0]
			counts[u]++
			order = append(order, u)
		}
		if counts[3] != 10 || counts[4] != 10 || counts[6] != 10 {
			t.Fatalf("counts %v, want 10 each", counts)
		}
		for i := range order {
			if want := []int64{3, 4, 6}[i%3]; order[i] != want {
				t.Fatalf("assignment %d went to %d, want %d (order %v)", i, order[i], want, order)
			}
		}
		cur, err := s.RoutingCursors(ctx)
		if err != nil || cur["east"] != 6 {
			t.Fatalf("cursor %v, %v", cur, err)
		}
	})
}

func TestLeastBusyOnTheStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ps := map[int64]entry{}
		for id := int64(1); id <= 6; id++ {
			ps[id] = entry{1, cst(5, 9, int(id))}
		}
		world(t, s, ps)
		saveRules(t, s, `{"rules": [{"name": "lb", "pool": {"users": [3, 4]}, "method": "least_busy"}]}`)
		clock := &fakeClock{cst(5, 10, 0)}
		rt := &routing.Router{Store: s, Now: clock.now}
		// Give 3 two open leads by hand first.
		for _, p := range []int64{1, 2} {
			if _, err := rt.Reassign(ctx, p, 3, "", "seed", "t"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := rt.Assign(ctx); err != nil {
			t.Fatal(err)
		}
		// 4 (no open lead) takes two; then both hold two and the turn after
		// 4 wraps round to 3; then 4 is the less busy again.
		if got := owners(t, s, 3, 4, 5, 6); !slices.Equal(got, []int64{4, 4, 3, 4}) {
			t.Fatalf("owners %v, want [4 4 3 4]", got)
		}
		open, err := s.OpenAssignmentCounts(ctx, routing.WorkingStages(model.StageSQL))
		if err != nil || open[3] != 3 || open[4] != 3 {
			t.Fatalf("open %v, %v", open, err)
		}
	})
}

func TestActivityValidation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		world(t, s, map[int64]entry{1: {1, cst(5, 9, 0)}})
		rt := &routing.Router{Store: s, Now: func() time.Time { return cst(5, 10, 0) }}
		cases := []struct {
			in   routing.NewActivity
			want string
		}{
			{routing.NewActivity{PersonID: 1, UserID: 3, Kind: "fax"}, `kind: "fax" is not an activity kind`},
			{routing.NewActivity{PersonID: 1, Kind: "call"}, "user_id: name the user"},
			{routing.NewActivity{PersonID: 1, UserEmail: "who@x.cn", Kind: "call"}, `user_email: no user "who@x.cn"`},
			{routing.NewActivity{PersonID: 1, UserID: 7, Kind: "call"}, "viewer"},
			{routing.NewActivity{PersonID: 1, UserID: 3, Kind: "call", OccurredAt: cst(5, 11, 0)}, "occurred_at: is in the future"},
			{routing.NewActivity{PersonID: 1, UserID: 3, Kind: "call", Note: strings.Repeat("x", 4001)}, "note"},
			{routing.NewActivity{PersonID: 0, UserID: 3, Kind: "call"}, "person_id"},
		}
		for _, c := range cases {
			if _, _, err := rt.LogActivity(ctx, c.in); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%+v: %v, want %q", c.in, err, c.want)
			}
		}
		if _, _, err := rt.LogActivity(ctx, routing.NewActivity{PersonID: 42, UserID: 3, Kind: "call"}); err != routing.ErrNoPerson {
			t.Errorf("unknown person: %v", err)
		}
		a, _, err := rt.LogActivity(ctx, routing.NewActivity{PersonID: 1, UserEmail: "A@X.cn", Kind: " WeChat ", Note: " 加了微信 "})
		if err != nil || a.UserID != 3 || a.Kind != "wechat" || a.Note != "加了微信" || !a.OccurredAt.Equal(cst(5, 10, 0)) {
			t.Fatalf("%+v, %v", a, err)
		}
		list, err := s.Activities(ctx, 1, 10)
		if err != nil || len(list) != 1 || list[0].UserEmail != "a@x.cn" || !list[0].OccurredAt.Equal(cst(5, 10, 0)) {
			t.Fatalf("%+v, %v", list, err)
		}
	})
}

func TestReportFigures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ps := map[int64]entry{}
		for id := int64(1); id <= 8; id++ {
			ps[id] = entry{1, cst(5, 8, int(id))}
		}
		world(t, s, ps)
		saveRules(t, s, `{"rules": [{"name": "east", "pool": {"team": "east"}}]}`)
		// Persons 1–5 go to user 3 (team east), 6–8 to user 5 (team north),
		// all on Monday 09:00, due at 11:00.
		var as []model.NewAssignment
		for id := int64(1); id <= 8; id++ {
			u := int64(3)
			if id > 5 {
				u = 5
			}
			as = append(as, model.NewAssignment{PersonID: id, UserID: u, Rule: "east", AssignedAt: cst(5, 9, 0), DueAt: cst(5, 11, 0)})
		}
		if _, err := s.SaveAssignments(ctx, as, nil, cst(5, 9, 0)); err != nil {
			t.Fatal(err)
		}
		// First follow-ups: user 3 after 1, 2, 3, 4 hours and on Tuesday at
		// 10:00 (10 business hours, 25 wall-clock hours); user 5 after 1 and
		// 3 hours, and never for person 8.
		follow := map[int64]time.Time{1: cst(5, 10, 0), 2: cst(5, 11, 0), 3: cst(5, 12, 0), 4: cst(5, 13, 0), 5: cst(6, 10, 0),
			6: cst(5, 10, 0), 7: cst(5, 12, 0)}
		clock := &fakeClock{cst(6, 12, 0)}
		rt := &routing.Router{Store: s, Now: clock.now}
		for p, at := range follow {
			if _, ok, err := rt.LogActivity(ctx, routing.NewActivity{PersonID: p, UserID: 2, Kind: "email", OccurredAt: at}); err != nil || !ok {
				t.Fatalf("person %d: %v %v", p, ok, err)
			}
		}
		if n, err := rt.CheckSLA(ctx); err != nil || n != 1 {
			t.Fatalf("breaches %d, %v; want 1 (person 8)", n, err)
		}
		if _, err := s.MoveStages(ctx, []model.StageMove{
			{PersonID: 2, From: "sql", To: "nurture", At: cst(6, 11, 0), Reason: "budget next year", Actor: "user:3"},
			{PersonID: 7, From: "sql", To: "lead", At: cst(6, 11, 30), Reason: "not the buyer", Actor: "user:5"},
		}); err != nil {
			t.Fatal(err)
		}
		rep, err := rt.Report(ctx, cst(5, 0, 0), cst(8, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		type figures struct {
			assigned, followed, within, breached, open int
			pct                                        float64
			bMed, bP90, wMed, wP90                     float64
		}
		fig := func(r routing.ReportRow) figures {
			f := figures{assigned: r.Assigned, followed: r.FollowedUp, within: r.WithinSLA, breached: r.Breached, open: r.Open}
			if r.WithinSLAPercent != nil {
				f.pct = *r.WithinSLAPercent
			}
			if r.BusinessHours.Median != nil {
				f.bMed, f.bP90, f.wMed, f.wP90 = *r.BusinessHours.Median, *r.BusinessHours.P90, *r.WallClockHours.Median, *r.WallClockHours.P90
			}
			return f
		}
		user3 := figures{assigned: 5, followed: 5, within: 2, pct: 40, bMed: 3, bP90: 10, wMed: 3, wP90: 25}
		user5 := figures{assigned: 3, followed: 2, within: 1, breached: 1, open: 1, pct: 33.3, bMed: 2, bP90: 3, wMed: 2, wP90: 3}
		total := figures{assigned: 8, followed: 7, within: 3, breached: 1, open: 1, pct: 37.5, bMed: 3, bP90: 10, wMed: 3, wP90: 25}
		if len(rep.Owners) != 2 || rep.Owners[0].UserID != 3 || fig(rep.Owners[0]) != user3 || rep.Owners[1].UserID != 5 || fig(rep.Owners[1]) != user5 {
			t.Fatalf("owners %+v", rep.Owners)
		}
		if len(rep.Teams) != 2 || rep.Teams[0].Team != "east" || fig(rep.Teams[0]) != user3 || rep.Teams[1].Team != "north" || fig(rep.Teams[1]) != user5 {
			t.Fatalf("teams %+v", rep.Teams)
		}
		if fig(rep.Total) != total {
			t.Fatalf("total %+v, want %+v", fig(rep.Total), total)
		}
		w := rep.Waiting.NotFollowedUp
		if w.Count != 1 || w.Oldest[0].PersonID != 8 || w.Oldest[0].AgeHours != 27 || w.Oldest[0].AgeBusinessHours != 12 || !w.Oldest[0].Breached {
			t.Fatalf("not followed up %+v", w)
		}
		if rep.Waiting.Unassigned.Count != 0 {
			t.Fatalf("unassigned %+v", rep.Waiting.Unassigned)
		}
		rec := rep.Recycling
		if rec.Total != 2 || len(rec.ByOwner) != 2 || rec.ByOwner[0].UserID != 3 || rec.ByOwner[0].Count != 1 || rec.ByOwner[1].UserID != 5 || rec.ByOwner[1].Email != "c@x.cn" {
			t.Fatalf("recycling %+v", rec)
		}
		// A window after the assignments: no rows, the recycling of Tuesday.
		rep, err = rt.Report(ctx, cst(6, 0, 0), cst(7, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Owners) != 0 || rep.Total.Assigned != 0 || rep.Total.WithinSLAPercent != nil || rep.Recycling.Total != 2 {
			t.Fatalf("Tuesday: %+v", rep)
		}
	})
}

// TestRecycledLeadClosesItsAssignment: a lead assigned, recycled and back
// in sql waits for a new assignee without its old assignment counting as
// "not followed up"; once reassigned it holds one open assignment. The
// dry run beforehand says where the lead would go and writes nothing.
func TestRecycledLeadClosesItsAssignment(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		world(t, s, map[int64]entry{1: {1, cst(5, 9, 0)}})
		saveRules(t, s, `{"fallback": {"pool": {"users": ["a@x.cn", "b@x.cn"]}}}`)
		clock := &fakeClock{cst(5, 10, 0)}
		r := &routing.Router{Store: s, Now: clock.now}
		rs, err := r.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.Preview(ctx, rs, 10)
		if err != nil || p.Pending != 1 || p.WouldAssign != 1 || len(p.Sample) != 1 || p.Sample[0].OwnerAfter != 3 || p.Sample[0].OwnerAfterEmail != "a@x.cn" {
			t.Fatalf("preview %+v, %v", p, err)
		}
		if got := owners(t, s, 1); got[0] != 0 {
			t.Fatalf("the preview assigned: %v", got)
		}
		if res, err := r.Assign(ctx); err != nil || res.Assigned != 1 {
			t.Fatalf("assign %+v, %v", res, err)
		}

		// Recycled, then back while both users are away.
		for _, m := range []model.StageMove{
			{PersonID: 1, From: model.StageSQL, To: model.StageNurture, At: cst(5, 11, 0), Reason: "no budget", Actor: "user:3"},
			{PersonID: 1, From: model.StageNurture, To: model.StageSQL, At: cst(5, 12, 0), Reason: "budget found", Actor: "user:3"},
		} {
			if ok, err := s.MoveStages(ctx, []model.StageMove{m}); err != nil || !ok[0] {
				t.Fatalf("move %+v: %v %v", m, ok, err)
			}
		}
		away := cst(5, 11, 30)
		for _, id := range []int64{3, 4} {
			if err := s.SetUserRouting(ctx, id, model.UserRouting{Team: "east", ManagerID: 2, OutOfOffice: &away}); err != nil {
				t.Fatal(err)
			}
		}
		clock.t = cst(5, 12, 30)
		if res, err := r.Assign(ctx); err != nil || res.Closed != 1 || res.Assigned != 0 || res.Waiting != 1 {
			t.Fatalf("assign while away %+v, %v", res, err)
		}
		rep, err := r.Report(ctx, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Waiting.NotFollowedUp.Count != 0 || len(rep.Waiting.NotFollowedUp.Oldest) != 0 || rep.Waiting.Unassigned.Count != 1 || rep.Total.Open != 0 {
			t.Fatalf("report while waiting: not followed up %+v, unassigned %d, open %d", rep.Waiting.NotFollowedUp, rep.Waiting.Unassigned.Count, rep.Total.Open)
		}

		// Back in office: assigned again, one open assignment.
		for _, id := range []int64{3, 4} {
			if err := s.SetUserRouting(ctx, id, model.UserRouting{Team: "east", ManagerID: 2}); err != nil {
				t.Fatal(err)
			}
		}
		clock.t = cst(5, 13, 0)
		if res, err := r.Assign(ctx); err != nil || res.Assigned != 1 {
			t.Fatalf("assign again %+v, %v", res, err)
		}
		as, err := s.PersonAssignments(ctx, 1)
		if err != nil || len(as) != 2 {
			t.Fatalf("assignments %+v, %v", as, err)
		}
		if as[0].SupersededAt == nil || !as[0].SupersededAt.Equal(cst(5, 11, 0)) || as[0].ClosedReason != model.ClosedRecycled || as[1].SupersededAt != nil {
			t.Fatalf("after reassignment: old %+v, new %+v", as[0], as[1])
		}
		if rep, err = r.Report(ctx, time.Time{}, time.Time{}); err != nil || rep.Waiting.NotFollowedUp.Count != 1 || rep.Waiting.Unassigned.Count != 0 {
			t.Fatalf("report after reassignment %+v, %v", rep.Waiting, err)
		}
	})
}
