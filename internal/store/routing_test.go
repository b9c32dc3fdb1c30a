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
		a := store.NewAssignment{PersonID: 1, UserID: 2, Rule: "r", AssignedAt: t0.Add(time.Minute), DueAt: t0.Add(time.Hour), EnteredAt: t0}
		ids, err := s.SaveAssignments(ctx, []store.NewAssignment{a, a}, map[string]int64{"r": 2}, t0)
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
		ids, err := s.SaveAssignments(ctx, []store.NewAssignment{{PersonID: 1, UserID: 2, AssignedAt: t0, DueAt: t0.Add(2 * time.Hour)}}, nil, t0)
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
		e := store.Escalation{AssignmentID: ids[0], PersonID: 1, AssigneeID: 1, Title: "x", BreachedAt: due[0].DueAt, TaskDueAt: t0.Add(4 * time.Hour), CreatedAt: t0.Add(2 * time.Hour)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := s.Escalate(ctx, []store.Escalation{e})
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
