package demo_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/routing"
)

// checkRouting checks the demo's routing story: due times follow the
// stored rule set's business-hours clock, an assignment is breached exactly
// when it had no follow-up by its due time (and its person was still being
// worked), each breach has one escalation task for the owner's manager, and
// first follow-ups are the first activities after the assignment.
func checkRouting(t *testing.T, w world) {
	stored, err := w.s.ActiveRuleSet(ctx, model.RoutingRuleSets)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := routing.Parse(stored.Rules)
	if err != nil || stored.Version != 1 || rs.TriggerStage != "mql" {
		t.Fatalf("rule set %d: %v (trigger %s)", stored.Version, err, rs.TriggerStage)
	}
	managers := map[int64]int64{}
	rows, err := w.db.QueryContext(ctx, "SELECT id, COALESCE(manager_id, 0) FROM users")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, m int64
		if err := rows.Scan(&id, &m); err != nil {
			t.Fatal(err)
		}
		managers[id] = m
	}
	rows.Close()
	dataEnd := w.sum.To
	as, err := w.s.AssignmentsIn(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) < 50 {
		t.Fatalf("only %d assignments", len(as))
	}
	// Every person's activities, read once.
	acts := map[int64][]time.Time{}
	rows, err = w.db.QueryContext(ctx, "SELECT person_id, occurred_at FROM activities")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pid int64
		var at time.Time
		if err := rows.Scan(&pid, &at); err != nil {
			t.Fatal(err)
		}
		acts[pid] = append(acts[pid], at.UTC())
	}
	rows.Close()
	var within, late, never, breached int
	for _, a := range as {
		if want := rs.DueAt(a.AssignedAt); !a.DueAt.Equal(want) {
			t.Fatalf("assignment %d: due %s, the clock says %s", a.ID, a.DueAt, want)
		}
		// The first activity while the assignment was open.
		var first *time.Time
		for _, at := range acts[a.PersonID] {
			if !at.Before(a.AssignedAt) && (a.SupersededAt == nil || at.Before(*a.SupersededAt)) && (first == nil || at.Before(*first)) {
				first = &at
			}
		}
		if (first == nil) != (a.FirstFollowUpAt == nil) || (first != nil && !first.Equal(*a.FirstFollowUpAt)) {
			t.Fatalf("assignment %d: first follow-up %v, first activity after assignment %v", a.ID, a.FirstFollowUpAt, first)
		}
		inTime := a.FirstFollowUpAt != nil && !a.FirstFollowUpAt.After(a.DueAt)
		switch {
		case inTime:
			within++
		case a.FirstFollowUpAt != nil:
			late++
		default:
			never++
		}
		if a.BreachedAt != nil {
			breached++
			if inTime || !a.BreachedAt.Equal(a.DueAt) || a.EscalationTaskID == 0 {
				t.Fatalf("assignment %d breached at %v (due %s, follow-up %v, task %d)", a.ID, a.BreachedAt, a.DueAt, a.FirstFollowUpAt, a.EscalationTaskID)
			}
			task, err := w.s.TaskByID(ctx, a.EscalationTaskID)
			if err != nil || task.Kind != "sla_escalation" || task.PersonID != a.PersonID || task.AssigneeID != managers[a.UserID] || task.CreatedAt.Before(a.DueAt) {
				t.Fatalf("assignment %d: escalation %+v, %v; want one for manager %d", a.ID, task, err, managers[a.UserID])
			}
			continue
		}
		// Not breached: followed up in time, not yet seen by the check at
		// the end of the data, or its person left the working stages first.
		if !inTime && a.DueAt.Add(time.Minute).Before(dataEnd) {
			left := w.count(t, `SELECT COUNT(*) FROM stage_changes WHERE person_id = `+strconv.FormatInt(a.PersonID, 10)+
				` AND from_stage IN ('mql', 'sql', 'opportunity') AND to_stage NOT IN ('mql', 'sql', 'opportunity')`)
			if left == 0 {
				t.Fatalf("assignment %d missed its SLA (due %s, follow-up %v) but is not breached", a.ID, a.DueAt, a.FirstFollowUpAt)
			}
		}
	}
	if within == 0 || late == 0 || breached == 0 {
		t.Errorf("follow-ups: %d within the SLA, %d late, %d never, %d breached; want some of each", within, late, never, breached)
	}
	if n := w.count(t, "SELECT COUNT(*) FROM tasks WHERE kind = 'sla_escalation'"); n != int64(breached) {
		t.Errorf("%d escalation tasks for %d breaches", n, breached)
	}
	rt := &routing.Router{Store: w.s, Now: func() time.Time { return dataEnd }}
	rep, err := rt.Report(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Leads waiting at the end: the unfollowed assignments are the open ones.
	open := 0
	for _, a := range as {
		if a.FirstFollowUpAt == nil && a.SupersededAt == nil && (a.PersonStage == "mql" || a.PersonStage == "sql" || a.PersonStage == "opportunity") {
			open++
		}
	}
	if rep.Waiting.NotFollowedUp.Count != open {
		t.Errorf("report: %d waiting for a follow-up, the assignments say %d", rep.Waiting.NotFollowedUp.Count, open)
	}
	if rep.Total.Assigned != len(as) || len(rep.Teams) == 0 {
		t.Errorf("report: %d assigned, %d teams", rep.Total.Assigned, len(rep.Teams))
	}
	// Every MQL is someone's: nobody in the working stages waits for an
	// assignee at the end, and the SDRs own the MQLs.
	if rep.Waiting.Unassigned.Count != 0 {
		t.Errorf("%d leads wait for an assignee at the end of the data", rep.Waiting.Unassigned.Count)
	}
	if n := w.count(t, "SELECT COUNT(*) FROM persons WHERE stage = 'mql' AND owner_id IS NULL"); n != 0 {
		t.Errorf("%d MQLs without an owner", n)
	}
	mqls, bySDR := w.count(t, "SELECT COUNT(*) FROM persons WHERE stage = 'mql'"),
		w.count(t, "SELECT COUNT(*) FROM persons p JOIN users u ON u.id = p.owner_id WHERE p.stage = 'mql' AND u.team = 'sdr'")
	if mqls == 0 || bySDR*10 < mqls*8 {
		t.Errorf("SDRs own %d of %d MQLs; want most", bySDR, mqls)
	}
	// Nobody holds more open assignments than their capacity.
	if n := w.count(t, `SELECT COUNT(*) FROM users u WHERE u.capacity > 0 AND u.capacity < (SELECT COUNT(*) FROM assignments a
			JOIN persons p ON p.id = a.person_id WHERE a.user_id = u.id AND a.superseded_at IS NULL AND a.first_follow_up_at IS NULL
			AND p.stage IN ('mql', 'sql', 'opportunity'))`); n != 0 {
		t.Errorf("%d users hold more open assignments than their capacity", n)
	}
	if n := w.count(t, "SELECT COUNT(*) FROM users WHERE out_of_office_from IS NOT NULL"); n == 0 {
		t.Error("nobody is ever out of office")
	}
}
