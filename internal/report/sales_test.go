package report_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/routing"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// salesT0 is a Monday, 09:00 in Shanghai: the default SLA (2 business
// hours, Monday to Friday 09:00-18:00) runs from it without a break, so
// business hours equal wall-clock hours in this world.
var salesT0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// salesWorld is a sales team's morning: assignments followed up in time,
// late, never, or closed before they were due; accepts and rejects by
// people and the same moves by rules and the system.
func salesWorld(t *testing.T, s *store.Store) {
	t.Helper()
	t0 := salesT0
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) {
			if err := l.Insert(table, strings.Split(cols, ","), rows); err != nil {
				t.Fatal(table, err)
			}
		}
		ins("users", "id,email,name,role,capacity,team,created_at,disabled_at",
			[]any{int64(1), "boss@x.cn", "老板", "admin", 0, "", t0, nil},
			[]any{int64(2), "a@x.cn", "甲", "sales", 3, "east", t0, nil},
			[]any{int64(3), "b@x.cn", "乙", "sales", 0, "west", t0, nil},
			[]any{int64(4), "gone@x.cn", "丙", "sales", 0, "", t0, t0})
		p := func(id int64, stage, grade, class string, merged any) []any {
			return []any{id, fmt.Sprintf("P%d", id), stage, grade, class, h(-100), h(-200), merged, h(-200)}
		}
		ins("persons", "id,name,stage,grade,sdr_class,stage_at,first_seen_at,merged_into_id,created_at",
			p(1, "sql", "A", "sql", nil), p(2, "sql", "B", "", nil), p(3, "opportunity", "A", "opp", nil), p(4, "sql", "", "", nil),
			p(5, "mql", "", "", nil), p(6, "sql", "C", "", nil), p(7, "nurture", "", "", nil), p(8, "customer", "A", "", nil),
			p(9, "sql", "A", "", int64(1)), p(10, "sql", "B", "mql", nil), p(11, "disqualified", "", "", nil), p(12, "lead", "", "", nil),
			p(13, "sql", "A", "", nil))
		a := func(id, person, user int64, assigned, due float64, follow, superseded any, reason string) []any {
			return []any{id, person, user, "r", h(assigned), h(due), follow, superseded, reason}
		}
		ins("assignments", "id,person_id,user_id,rule,assigned_at,due_at,first_follow_up_at,superseded_at,closed_reason",
			a(6, 1, 3, -50, -48, nil, h(0), "reassigned"), // before the range
			a(1, 1, 2, 0, 2, h(1), nil, ""),               // within the SLA
			a(2, 2, 2, 0.5, 2.5, h(3), nil, ""),           // late
			a(3, 3, 3, 1, 3, nil, nil, ""),                // never: open, overdue
			a(4, 4, 3, 2, 4, nil, h(3), "reassigned"),     // closed before due: owed nothing
			a(5, 4, 2, 3, 5, h(4), nil, ""),               // within the SLA
			a(7, 5, 2, 40, 49.5, nil, nil, ""),            // mql: not a working stage, due after now
			a(8, 10, 3, 47.5, 48.5, nil, nil, ""),         // open, due soon
			a(9, 13, 2, 30, 47, nil, nil, ""))             // open, overdue, due outside the range
		sc := func(id, person int64, from, to string, at float64, actor string) []any {
			return []any{id, person, from, to, h(at), actor, "why"}
		}
		ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at,actor,reason",
			sc(1, 1, "mql", "sql", -0.5, "user:2"),        // accepted; owner: the assignee then (user 3)
			sc(2, 2, "mql", "sql", 0.5, "apikey:crm"),     // accepted, owner by assignment
			sc(3, 7, "mql", "nurture", 2, "user:3"),       // rejected to nurture
			sc(4, 11, "sql", "disqualified", 5, "user:2"), // rejected, disqualified
			sc(5, 3, "mql", "sql", 1, "system"),           // no decision
			sc(6, 12, "mql", "lead", 2, "rule:recycle"),   // no decision
			sc(7, 13, "mql", "sql", -100, "user:2"),       // before the range
			sc(8, 6, "lead", "sql", 3, "user:3"))          // not from mql: no decision
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSalesDashboardAgreesWithPlainSQL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		salesWorld(t, s)
		now := salesT0.Add(48 * time.Hour)
		cal := model.DefaultCalendar()
		day := cal.Day(salesT0)
		period := model.Period{From: day, To: day.AddDate(0, 0, 1), Cal: cal}
		rt := &routing.Router{Store: s, Now: func() time.Time { return now }}
		d, err := report.Sales(ctx, s, rt, report.SalesQuery{Period: period, Now: now, QueueLimit: 10})
		if err != nil {
			t.Fatal(err)
		}
		db := s.WriterDB()
		q := func(query string, args ...any) int {
			t.Helper()
			if s.Dialect() == store.Postgres {
				for i := 1; strings.Contains(query, "?"); i++ {
					query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
				}
			}
			var n int
			if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			return n
		}
		win := period.Window()
		win.From, win.To = win.From.UTC(), win.To.UTC() // SQLite compares times as UTC text
		end := win.To
		if now.Before(end) {
			end = now
		}
		dueWhere := `due_at >= ? AND due_at < ? AND (first_follow_up_at IS NOT NULL OR superseded_at IS NULL OR superseded_at > due_at)`
		due := q("SELECT COUNT(*) FROM assignments WHERE "+dueWhere, win.From, end)
		within := q("SELECT COUNT(*) FROM assignments WHERE first_follow_up_at <= due_at AND "+dueWhere, win.From, end)
		working := "('sql', 'opportunity')" // the default trigger is sql
		open := q("SELECT COUNT(*) FROM assignments a JOIN persons p ON p.id = a.person_id WHERE a.superseded_at IS NULL AND a.first_follow_up_at IS NULL AND p.stage IN " + working)
		overdue := q("SELECT COUNT(*) FROM assignments a JOIN persons p ON p.id = a.person_id WHERE a.superseded_at IS NULL AND a.first_follow_up_at IS NULL AND p.stage IN "+working+" AND a.due_at < ?", now)
		byPerson := "(actor LIKE 'user:%' OR actor LIKE 'apikey:%')"
		accepted := q("SELECT COUNT(*) FROM stage_changes WHERE from_stage = 'mql' AND to_stage = 'sql' AND "+byPerson+" AND changed_at >= ? AND changed_at < ?", win.From, win.To)
		rejected := q("SELECT COUNT(*) FROM stage_changes WHERE from_stage IN ('mql', 'sql') AND to_stage IN ('nurture', 'disqualified') AND "+byPerson+" AND changed_at >= ? AND changed_at < ?", win.From, win.To)
		openLeads := q("SELECT COUNT(*) FROM persons WHERE merged_into_id IS NULL AND stage IN " + working)
		gradeA := q("SELECT COUNT(*) FROM persons WHERE merged_into_id IS NULL AND grade = 'A' AND stage IN " + working)
		unassigned := q(`SELECT COUNT(*) FROM persons p WHERE p.merged_into_id IS NULL AND p.stage IN ` + working + `
			AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.person_id = p.id)`)

		// The world is built so that each figure is neither zero nor all.
		for name, v := range map[string]int{"due": due, "within": within, "open": open, "overdue": overdue, "accepted": accepted, "rejected": rejected, "unassigned": unassigned} {
			if v == 0 {
				t.Errorf("%s is 0 in the world: the test would prove little", name)
			}
		}
		check := func(name string, got, want any) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		check("due", d.Follow.Due, due)
		check("within SLA", d.Follow.WithinSLA, within)
		check("breached", d.Follow.Breached, due-within)
		check("compliance", *d.Follow.Compliance, math.Round(float64(within)/float64(due)*1e4)/1e4)
		// Followed up after 1, 2.5 and 1 business hours: the median is 1.
		check("median", *d.Follow.MedianBusinessHours, 1.0)
		check("not followed up", d.Waiting.NotFollowedUp, open)
		check("overdue", d.Waiting.Overdue, overdue)
		check("unassigned", d.Waiting.Unassigned, unassigned)
		check("accepted", d.Decisions.Accepted, accepted)
		check("rejected", d.Decisions.Rejected, rejected)
		check("to nurture + disqualified", d.Decisions.Nurtured+d.Decisions.Disqualified, rejected)
		check("open leads", d.OpenLeads.Total, openLeads)
		check("grade A", d.OpenLeads.Grades[0], report.ValueCount{Value: "A", Count: int64(gradeA)})

		// The owners' rows add up to the totals; each owner's open
		// assignments agree with SQL.
		var sum report.OwnerRow
		for _, o := range d.Owners {
			sum.Due += o.Due
			sum.WithinSLA += o.WithinSLA
			sum.Open += o.Open
			sum.Overdue += o.Overdue
			sum.Accepted += o.Accepted
			sum.Rejected += o.Rejected
			check(fmt.Sprintf("user %d open", o.UserID), o.Open,
				q("SELECT COUNT(*) FROM assignments a JOIN persons p ON p.id = a.person_id WHERE a.user_id = ? AND a.superseded_at IS NULL AND a.first_follow_up_at IS NULL AND p.stage IN "+working, o.UserID))
			if o.UserID == 4 {
				t.Error("a disabled user without assignments is listed")
			}
		}
		check("owners due", sum.Due, due)
		check("owners within", sum.WithinSLA, within)
		check("owners open", sum.Open, open)
		check("owners overdue", sum.Overdue, overdue)
		// Every decision here has an owner: the assignee then, or the user who decided.
		check("owners accepted", sum.Accepted, accepted)
		check("owners rejected", sum.Rejected, rejected)
		for _, o := range d.Owners {
			switch o.UserID {
			case 2: // accepted p2 (assigned to 2 then); disqualified p11 (no assignment: by actor)
				check("user 2", fmt.Sprint(o.Accepted, o.Rejected, o.Capacity, o.Open, o.Overdue), "1 1 3 1 1")
			case 3: // accepted p1 (then still assigned to 3); sent p7 to nurture
				check("user 3", fmt.Sprint(o.Accepted, o.Rejected, o.Capacity, o.Open, o.Overdue), "1 1 0 2 1")
			}
		}

		// The buckets add up too.
		var bDue, bWithin, bAcc, bRej int
		for _, b := range d.Buckets {
			bDue, bWithin, bAcc, bRej = bDue+b.Due, bWithin+b.WithinSLA, bAcc+b.Accepted, bRej+b.Rejected
		}
		check("bucket", d.Bucket, "week")
		check("buckets", []int{bDue, bWithin, bAcc, bRej}, []int{due, within, accepted, rejected})
		// Each bucket's decisions are those of its week of team days.
		for _, b := range d.Buckets {
			from, to := cal.Start(b.Start), cal.Start(b.Start.AddDate(0, 0, 7))
			if from.Before(win.From) {
				from = win.From
			}
			if to.After(win.To) {
				to = win.To
			}
			check("bucket accepted", b.Accepted, q("SELECT COUNT(*) FROM stage_changes WHERE from_stage = 'mql' AND to_stage = 'sql' AND "+byPerson+" AND changed_at >= ? AND changed_at < ?", from, to))
		}

		// The team's queue: every open assignment, the soonest due first.
		check("queue count", d.Queue.Count, open)
		var queue []string
		for _, r := range d.Queue.Rows {
			queue = append(queue, fmt.Sprintf("%d:%s", r.AssignmentID, r.State))
		}
		check("queue", strings.Join(queue, " "), "3:overdue 9:overdue 8:due_soon")

		// One user's queue.
		d2, err := report.Sales(ctx, s, rt, report.SalesQuery{Period: period, Now: now, QueueUser: 3, QueueLimit: 1})
		if err != nil {
			t.Fatal(err)
		}
		check("user 3 queue", fmt.Sprint(d2.Queue.Count, len(d2.Queue.Rows), d2.Queue.Truncated, d2.Queue.Rows[0].AssignmentID), "2 1 true 3")
		if !slices.Equal(d2.WorkingStages, []model.Stage{model.StageSQL, model.StageOpportunity}) {
			t.Errorf("working stages %v", d2.WorkingStages)
		}
	})
}

func TestSLAStateAndDueAssignments(t *testing.T) {
	now := salesT0
	cases := []struct {
		due  time.Duration
		want report.SLAState
	}{{-time.Minute, report.SLAOverdue}, {0, report.SLAOverdue}, {time.Hour, report.SLADueSoon}, {time.Hour + time.Second, report.SLAOnTime}}
	for _, c := range cases {
		if got := report.StateAt(now.Add(c.due), now); got != c.want {
			t.Errorf("due in %v: %s, want %s", c.due, got, c.want)
		}
	}
	at := func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
	due := now.Add(2 * time.Hour)
	for _, c := range []struct {
		name string
		a    store.DueAssignment
		want bool
	}{
		{"open, past due", store.DueAssignment{DueAt: due}, true},
		{"not due yet", store.DueAssignment{DueAt: now.Add(5 * time.Hour)}, false},
		{"closed before due", store.DueAssignment{DueAt: due, Superseded: at(1)}, false},
		{"closed after due", store.DueAssignment{DueAt: due, Superseded: at(3)}, true},
		{"followed up, then closed early", store.DueAssignment{DueAt: due, FollowedUpAt: at(0), Superseded: at(1)}, true},
	} {
		if got := report.CountsAsDue(c.a, now.Add(4*time.Hour)); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}
