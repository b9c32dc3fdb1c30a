package journey_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/journey"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// A new version leaves persons in flight on theirs; a migration moves
// those at mapped steps (preview first), the others stay.
func TestVersionMigration(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		addPersons(t, s, 1, 5, "lead", `{}`, t0)
		j := newJourney(t, s, `{"name": "V", "trigger": {"segment": 4}, "steps": [
			{"id": "a", "type": "wait", "for": "1d"}, {"id": "b", "type": "wait", "for": "3d"}, {"id": "c", "type": "email", "subject": "v1", "text": "t"}]}`, t0)
		clk := &clock{t: t0}
		snd := &sender{}
		r := journey.NewRunner(s, journey.Options{Sender: snd, Now: clk.Now})
		enter(t, s, j.ID, t0, 1, 2, 3)
		drain(t, r)
		clk.Add(25 * time.Hour)
		drain(t, r) // 1, 2, 3 now wait at b
		enter(t, s, j.ID, clk.Now(), 4, 5)
		drain(t, r) // 4, 5 wait at a

		var v2 model.JourneyDef
		json.Unmarshal([]byte(`{"name": "V", "trigger": {"segment": 4}, "steps": [
			{"id": "a2", "type": "wait", "for": "1d"}, {"id": "c2", "type": "email", "subject": "v2", "text": "t"}]}`), &v2)
		if err := v2.Validate(); err != nil {
			t.Fatal(err)
		}
		jj, err := s.UpdateJourney(ctx, j.ID, v2, clk.Now())
		if err != nil || jj.LiveVersion != 2 || jj.Status != "live" {
			t.Fatalf("update: %+v %v", jj, err)
		}
		m := model.JourneyMigration{FromVersion: 1, ToVersion: 2, Mapping: map[string]string{"b": "c2"}}
		plan, err := s.MigrateJourney(ctx, j.ID, m, true, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(plan.Moves, plan.Unmapped, plan.Moved); got != "[{b c2 3}] [{a 2}] 0" {
			t.Fatalf("preview %s", got)
		}
		if n := count(t, s, fmt.Sprintf("SELECT COUNT(*) FROM journey_entries WHERE journey_id = %d AND version = 2", j.ID)); n != 0 {
			t.Fatalf("the preview moved %d", n)
		}
		if _, err := s.MigrateJourney(ctx, j.ID, model.JourneyMigration{FromVersion: 1, ToVersion: 2, Mapping: map[string]string{"b": "zz"}}, true, clk.Now()); err == nil {
			t.Fatal("a mapping to a missing step was accepted")
		}
		plan, err = s.MigrateJourney(ctx, j.ID, m, false, clk.Now())
		if err != nil || plan.Moved != 3 {
			t.Fatalf("migrate: %+v %v", plan, err)
		}
		drain(t, r) // c2 for 1, 2, 3 at once
		if got := snd.log(); got != "1:c2 2:c2 3:c2" {
			t.Fatalf("sent %q", got)
		}
		if got := steps(t, s, j.ID, 1); got != "a=done/waited b=skipped/moved c2=done/sent |completed" {
			t.Fatalf("person 1: %s", got)
		}
		clk.Add(24 * time.Hour)
		drain(t, r) // 4, 5 wait at b
		clk.Add(3 * 24 * time.Hour)
		drain(t, r)
		if got := steps(t, s, j.ID, 4); got != "a=done/waited b=done/waited c=done/sent |completed" {
			t.Fatalf("person 4 stays on version 1: %s", got)
		}
		// A new entrant takes version 2.
		addPersons(t, s, 6, 1, "lead", `{}`, t0)
		enter(t, s, j.ID, clk.Now(), 6)
		drain(t, r)
		clk.Add(25 * time.Hour)
		drain(t, r)
		if got := steps(t, s, j.ID, 6); got != "a2=done/waited c2=done/sent |completed" {
			t.Fatalf("person 6: %s", got)
		}
	})
}

// The figures agree with hand-computed values and with an independent
// computation in SQL.
func TestStatsAgreeWithSQL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		addPersons(t, s, 1, 6, "lead", `{}`, t0)
		exec(t, s, "INSERT INTO accounts (id, name, created_at) VALUES (1, 'Acme', ?)", t0)
		j := newJourney(t, s, `{"name": "S", "reentry": "after_exit", "goal": {"stage": "sql"}, "trigger": {"segment": 4}, "steps": [
			{"id": "m", "type": "email", "subject": "s", "text": "t"}, {"id": "w", "type": "wait", "for": "2d"}, {"id": "x", "type": "exit"}]}`, t0)
		clk := &clock{t: t0}
		r := journey.NewRunner(s, journey.Options{Sender: &sender{}, Now: clk.Now})
		enter(t, s, j.ID, t0, 1, 2, 3, 4)
		drain(t, r)
		clk.Add(49 * time.Hour)
		drain(t, r)                        // 1-4 exited
		enter(t, s, j.ID, clk.Now(), 1, 5) // 1 again, 5 first
		drain(t, r)
		// Conversions: 1 reaches SQL after entering, 2 reached it before
		// (does not count), 3 reaches customer (counts: later than the
		// goal), 6 never entered.
		for _, sc := range []struct {
			p  int
			to string
			at time.Time
		}{{1, "sql", t0.Add(time.Hour)}, {2, "sql", t0.Add(-time.Hour)}, {3, "customer", t0.Add(24 * time.Hour)}, {6, "sql", t0.Add(time.Hour)}} {
			exec(t, s, "INSERT INTO stage_changes (person_id, from_stage, to_stage, changed_at) VALUES (?, 'lead', ?, ?)", sc.p, sc.to, sc.at)
		}
		// Opportunities: o1 (won, 1000 yuan) after 1 and 3 entered, counted
		// once; o2 before anyone entered; o3 open, with 5, created after
		// 5 entered.
		for _, o := range []struct {
			id     int
			stage  string
			amount int64
			at     time.Time
			who    []int
		}{{1, "closed_won", 100000, t0.Add(30 * time.Hour), []int{1, 3}}, {2, "closed_won", 50000, t0.Add(-time.Hour), []int{2}},
			{3, "proposal", 70000, clk.Now().Add(time.Hour), []int{5}}} {
			exec(t, s, "INSERT INTO opportunities (id, account_id, name, stage, amount_fen, created_at) VALUES (?, 1, 'o', ?, ?, ?)", o.id, o.stage, o.amount, o.at)
			for _, p := range o.who {
				exec(t, s, "INSERT INTO opportunity_contacts (opportunity_id, person_id) VALUES (?, ?)", o.id, p)
			}
		}
		st, err := s.JourneyStats(ctx, j.ID, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if st.Entered != 6 || st.Persons != 5 || st.Active != 2 || st.Exited != 4 || st.Completed != 0 || st.Converted != 2 ||
			st.Opportunities != 2 || st.RevenueFen != 100000 {
			t.Fatalf("stats %+v", st)
		}
		// Independently: per person, the first entry; conversions and
		// opportunities by plain joins, counted in Go.
		first := map[int64]time.Time{}
		rows, err := s.WriterDB().QueryContext(ctx, fmt.Sprintf("SELECT person_id, entered_at FROM journey_entries WHERE journey_id = %d", j.ID))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var p int64
			var at time.Time
			rows.Scan(&p, &at)
			if f, ok := first[p]; !ok || at.Before(f) {
				first[p] = at
			}
		}
		rows.Close()
		converted := map[int64]bool{}
		rows, _ = s.WriterDB().QueryContext(ctx, "SELECT person_id, to_stage, changed_at FROM stage_changes")
		for rows.Next() {
			var p int64
			var to string
			var at time.Time
			rows.Scan(&p, &to, &at)
			if f, ok := first[p]; ok && !at.Before(f) && model.Stage(to).Rank() >= model.StageSQL.Rank() {
				converted[p] = true
			}
		}
		rows.Close()
		opps, revenue := map[int64]bool{}, int64(0)
		rows, _ = s.WriterDB().QueryContext(ctx, `SELECT o.id, o.stage, o.amount_fen, o.created_at, c.person_id FROM opportunities o
			JOIN opportunity_contacts c ON c.opportunity_id = o.id`)
		for rows.Next() {
			var id, amount, p int64
			var stage string
			var at time.Time
			rows.Scan(&id, &stage, &amount, &at, &p)
			if f, ok := first[p]; ok && !at.Before(f) && !opps[id] {
				opps[id] = true
				if stage == "closed_won" {
					revenue += amount
				}
			}
		}
		rows.Close()
		if int64(len(converted)) != st.Converted || int64(len(opps)) != st.Opportunities || revenue != st.RevenueFen {
			t.Fatalf("independent: converted %d opportunities %d revenue %d; stats %+v", len(converted), len(opps), revenue, st)
		}
		// Per step: m done 6; w done 4 and waiting 2; x done 4.
		got := ""
		for _, x := range st.Steps {
			got += fmt.Sprintf("%s:%d/%d/%d/%d ", x.StepID, x.Waiting, x.Due, x.Done, x.Skipped)
		}
		if got != "m:0/0/6/0 w:2/0/4/0 x:0/0/4/0 " {
			t.Fatalf("steps %s", got)
		}
	})
}
