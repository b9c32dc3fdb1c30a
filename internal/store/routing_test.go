package store_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// routingWorld is two sales users and one person at sql since t0.
func routingWorld(t *testing.T, s *store.Store, t0 time.Time) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		for _, e := range []error{
			ins("users", "id,email,role,manager_id,created_at", []any{int64(1), "boss@x.cn", "sales", nil, t0}, []any{int64(2), "rep@x.cn", "sales", int64(1), t0}),
			ins("persons", "id,name,stage,stage_at,first_seen_at,created_at", []any{int64(1), "王", "sql", t0, t0, t0}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at", []any{int64(1), int64(1), "mql", "sql", t0}),
		} {
			if e != nil {
				return e
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPendingLeadsAndTheAssignmentGuard(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 1, 5, 1, 0, 0, 123456000, time.UTC)
		routingWorld(t, s, t0)
		working := []model.Stage{model.StageSQL, model.StageOpportunity}
		pending, err := s.PendingLeads(ctx, working, 10)
		if err != nil || len(pending) != 1 || !pending[0].EnteredAt.Equal(t0) || pending[0].Name != "王" {
			t.Fatalf("pending %+v, %v", pending, err)
		}
		if n, err := s.CountPendingLeads(ctx, working); err != nil || n != 1 {
			t.Fatalf("%d pending counted, %v; want 1", n, err)
		}
		a := model.NewAssignment{PersonID: 1, UserID: 2, Rule: "r", AssignedAt: t0.Add(time.Minute), DueAt: t0.Add(time.Hour), EnteredAt: t0}
		ids, err := s.SaveAssignments(ctx, []model.NewAssignment{a, a}, map[string]int64{"r": 2}, t0)
		if err != nil || ids[0] == 0 || ids[1] != 0 {
			t.Fatalf("ids %v, %v: the second copy must be skipped", ids, err)
		}
		if pending, err := s.PendingLeads(ctx, working, 10); err != nil || len(pending) != 0 {
			t.Fatalf("still pending: %+v, %v", pending, err)
		}
		if n, err := s.CountPendingLeads(ctx, working); err != nil || n != 0 {
			t.Fatalf("%d pending counted, %v; want 0", n, err)
		}
		if pending, err := s.PendingLeads(ctx, nil, 10); err != nil || len(pending) != 0 {
			t.Fatalf("no working stages, yet pending: %+v, %v", pending, err)
		}
	})
}

func TestEscalateOncePerAssignment(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
		routingWorld(t, s, t0)
		ids, err := s.SaveAssignments(ctx, []model.NewAssignment{{PersonID: 1, UserID: 2, AssignedAt: t0, DueAt: t0.Add(2 * time.Hour)}}, nil, t0)
		if err != nil {
			t.Fatal(err)
		}
		working := []model.Stage{model.StageSQL}
		if open, err := s.OpenAssignments(ctx, working, 10); err != nil || len(open) != 1 || open[0].ID != ids[0] || open[0].PersonName != "王" {
			t.Fatalf("open %+v, %v", open, err)
		}
		if open, err := s.OpenAssignments(ctx, working, 0); err != nil || len(open) != 0 {
			t.Fatalf("limit 0: %+v, %v", open, err)
		}
		if a, err := s.AssignmentByID(ctx, ids[0]); err != nil || a.PersonID != 1 || a.UserID != 2 || a.UserEmail != "rep@x.cn" {
			t.Fatalf("assignment %+v, %v", a, err)
		}
		if _, err := s.AssignmentByID(ctx, ids[0]+1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown assignment: %v", err)
		}
		if due, err := s.DueBreaches(ctx, working, t0.Add(time.Hour), 10); err != nil || len(due) != 0 {
			t.Fatalf("due before its time: %+v, %v", due, err)
		}
		due, err := s.DueBreaches(ctx, working, t0.Add(2*time.Hour), 10)
		if err != nil || len(due) != 1 || due[0].AssignmentID != ids[0] || due[0].ManagerID != 1 {
			t.Fatalf("due %+v, %v", due, err)
		}
		e := model.Escalation{AssignmentID: ids[0], PersonID: 1, AssigneeID: 1, Title: "x", BreachedAt: due[0].DueAt, TaskDueAt: t0.Add(4 * time.Hour), CreatedAt: t0.Add(2 * time.Hour)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := s.Escalate(ctx, []model.Escalation{e})
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != 1 {
			t.Fatalf("%d escalations, want exactly 1", total)
		}
		if due, err := s.DueBreaches(ctx, working, t0.Add(3*time.Hour), 10); err != nil || len(due) != 0 {
			t.Fatalf("breached assignment still due: %+v, %v", due, err)
		}
		as, err := s.PersonAssignments(ctx, 1)
		if err != nil || as[0].EscalationTaskID == 0 || as[0].BreachedAt == nil {
			t.Fatalf("%+v, %v", as, err)
		}
		task, err := s.TaskByID(ctx, as[0].EscalationTaskID)
		if err != nil || task.Kind != "sla_escalation" || task.AssigneeID != 1 {
			t.Fatalf("task %+v, %v", task, err)
		}
	})
}

// openAssignments lists a person's assignments that are not closed.
func openAssignments(t *testing.T, s *store.Store, person int64) []model.Assignment {
	t.Helper()
	as, err := s.PersonAssignments(ctx, person)
	if err != nil {
		t.Fatal(err)
	}
	var open []model.Assignment
	for _, a := range as {
		if a.SupersededAt == nil {
			open = append(open, a)
		}
	}
	return open
}

// TestAPersonHoldsOneOpenAssignment walks a lead through assignment,
// recycling, a new assignment when it comes back, and a manual
// reassignment: each step closes the one before, with its reason, and the
// SLA's open list only ever shows the current one.
func TestAPersonHoldsOneOpenAssignment(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
		routingWorld(t, s, t0)
		working := []model.Stage{model.StageSQL, model.StageOpportunity}
		move := func(from, to model.Stage, at time.Time) {
			t.Helper()
			if ok, err := s.MoveStages(ctx, []model.StageMove{{PersonID: 1, From: from, To: to, At: at, Reason: "test", Actor: "user:1"}}); err != nil || !ok[0] {
				t.Fatalf("move %s → %s: %v %v", from, to, ok, err)
			}
		}
		assign := func(user int64, at, entered time.Time) int64 {
			t.Helper()
			ids, err := s.SaveAssignments(ctx, []model.NewAssignment{{PersonID: 1, UserID: user, AssignedAt: at, DueAt: at.Add(time.Hour), EnteredAt: entered}}, nil, at)
			if err != nil || ids[0] == 0 {
				t.Fatalf("assign: %v %v", ids, err)
			}
			return ids[0]
		}
		openIDs := func() []int64 {
			t.Helper()
			open, err := s.OpenAssignments(ctx, working, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, a := range open {
				ids = append(ids, a.ID)
			}
			return ids
		}
		first := assign(2, t0.Add(time.Minute), t0)

		// Recycled to nurture, then back: the first assignment closes at
		// the recycling and is no longer "not followed up" while the
		// person waits for a new assignee.
		move(model.StageSQL, model.StageNurture, t0.Add(time.Hour))
		move(model.StageNurture, model.StageSQL, t0.Add(2*time.Hour))
		if ids := openIDs(); len(ids) != 1 || ids[0] != first {
			t.Fatalf("before closing, open %v", ids)
		}
		if n, err := s.CloseRecycled(ctx, working); err != nil || n != 1 {
			t.Fatalf("closed %d, %v; want 1", n, err)
		}
		if n, err := s.CloseRecycled(ctx, working); err != nil || n != 0 {
			t.Fatalf("closed again %d, %v; want 0", n, err)
		}
		a, err := s.AssignmentByID(ctx, first)
		if err != nil || a.SupersededAt == nil || !a.SupersededAt.Equal(t0.Add(time.Hour)) || a.ClosedReason != model.ClosedRecycled {
			t.Fatalf("recycled assignment %+v, %v", a, err)
		}
		if ids := openIDs(); len(ids) != 0 {
			t.Fatalf("after recycling, open %v", ids)
		}
		if n, err := s.CountPendingLeads(ctx, working); err != nil || n != 1 {
			t.Fatalf("pending %d, %v; want the person back", n, err)
		}

		// Assigned again automatically, then reassigned by hand.
		second := assign(1, t0.Add(3*time.Hour), t0.Add(2*time.Hour))
		third := assign(2, t0.Add(4*time.Hour), time.Time{})
		if a, err := s.AssignmentByID(ctx, second); err != nil || a.SupersededAt == nil || !a.SupersededAt.Equal(t0.Add(4*time.Hour)) || a.ClosedReason != model.ClosedReassigned {
			t.Fatalf("reassigned %+v, %v", a, err)
		}
		if open := openAssignments(t, s, 1); len(open) != 1 || open[0].ID != third || open[0].ClosedReason != "" {
			t.Fatalf("open assignments %+v, want only %d", open, third)
		}
		if ids := openIDs(); len(ids) != 1 || ids[0] != third {
			t.Fatalf("SLA open list %v, want [%d]", ids, third)
		}
		// On to customer is not recycling: the assignment stays.
		move(model.StageSQL, model.StageCustomer, t0.Add(5*time.Hour))
		if n, err := s.CloseRecycled(ctx, working); err != nil || n != 0 {
			t.Fatalf("closed %d on a win, %v", n, err)
		}

		// The database refuses a second open assignment.
		err = s.ExecForTest(ctx, `INSERT INTO assignments (person_id, user_id, assigned_at, due_at) VALUES (1, 1, ?, ?)`, t0.Add(6*time.Hour), t0.Add(7*time.Hour))
		if err == nil {
			t.Fatal("a second open assignment was stored")
		}
	})
}

// TestMigrationClosesDuplicateAssignments loads assignments as an older
// revloop left them (two open for one person, a stale one of a recycled
// person) and checks the migration repairs them before the one-open index.
func TestMigrationClosesDuplicateAssignments(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
		routingWorld(t, s, t0)
		if err := s.MigrateDownForTest(ctx, 13); err != nil {
			t.Fatal(err)
		}
		h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO persons (id, name, stage, stage_at, first_seen_at, created_at) VALUES (2, '李', 'sql', ?, ?, ?), (3, '张', 'lead', ?, ?, ?)`,
				[]any{h(0), h(0), h(0), h(0), h(0), h(0)}},
			// Person 1: assigned, recycled, back and assigned again; both open.
			{`INSERT INTO stage_changes (id, person_id, from_stage, to_stage, changed_at) VALUES (10, 1, 'sql', 'lead', ?), (11, 1, 'lead', 'sql', ?), (12, 3, 'sql', 'nurture', ?)`,
				[]any{h(2), h(3), h(2)}},
			{`INSERT INTO assignments (id, person_id, user_id, assigned_at, due_at) VALUES (1, 1, 2, ?, ?), (2, 1, 1, ?, ?)`, []any{h(1), h(2), h(4), h(5)}},
			// Person 2: assigned twice without leaving; both open.
			{`INSERT INTO assignments (id, person_id, user_id, assigned_at, due_at) VALUES (3, 2, 2, ?, ?), (4, 2, 1, ?, ?)`, []any{h(1), h(2), h(3), h(4)}},
			// Person 3: recycled after its only assignment.
			{`INSERT INTO assignments (id, person_id, user_id, assigned_at, due_at) VALUES (5, 3, 2, ?, ?)`, []any{h(1), h(2)}},
		} {
			if err := s.ExecForTest(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		want := []struct {
			id     int64
			closed time.Time // zero: open
			reason string
		}{
			{1, h(2), model.ClosedRecycled},
			{2, time.Time{}, ""},
			{3, h(3), model.ClosedReassigned},
			{4, time.Time{}, ""},
			{5, h(2), model.ClosedRecycled},
		}
		for _, w := range want {
			a, err := s.AssignmentByID(ctx, w.id)
			if err != nil {
				t.Fatal(err)
			}
			closed := time.Time{}
			if a.SupersededAt != nil {
				closed = *a.SupersededAt
			}
			if !closed.Equal(w.closed) || a.ClosedReason != w.reason {
				t.Errorf("assignment %d: closed %v (%q), want %v (%q)", w.id, closed, a.ClosedReason, w.closed, w.reason)
			}
		}
	})
}
