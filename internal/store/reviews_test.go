package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// A campaign's targets: leads, MQLs, opportunities and won revenue are its
// own target columns (the campaign form edits the same values), the other
// metrics rows of campaign_targets; setting them replaces all of them,
// bumps the campaign's version and refuses a stale one.
func TestCampaignTargets(t *testing.T) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		c, err := s.CreateCampaign(ctx, model.Campaign{Code: "web", Name: "直播", Channel: model.ChannelWebinar, TargetLeads: 500,
			TargetRevenue: model.Yuan(5_000_000)}, now)
		if err != nil {
			t.Fatal(err)
		}
		ts, version, err := s.CampaignTargets(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []model.CampaignTarget{{Metric: "leads", Value: 50000}, {Metric: "won_revenue", Value: 500000000}}
		if !slices.Equal(ts, want) || version != 1 {
			t.Fatalf("targets %v version %d, want %v from the campaign's columns", ts, version, want)
		}

		set := []model.CampaignTarget{{Metric: "cost", Value: 300000}, {Metric: "leads", Value: 60000}, {Metric: "roi", Value: 250}}
		got, version, err := s.SetCampaignTargets(ctx, c.ID, set, &version, now)
		if err != nil {
			t.Fatal(err)
		}
		want = []model.CampaignTarget{{Metric: "leads", Value: 60000}, {Metric: "cost", Value: 300000}, {Metric: "roi", Value: 250}}
		if !slices.Equal(got, want) || version != 2 {
			t.Fatalf("after set: %v version %d, want %v in the catalogue's order, version 2", got, version, want)
		}
		stored, err := s.CampaignByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.TargetLeads != 600 || stored.TargetRevenue != 0 || stored.Version != 2 {
			t.Errorf("campaign columns: leads %d revenue %v version %d, want 600, 0 (cleared), 2", stored.TargetLeads, stored.TargetRevenue, stored.Version)
		}

		old := int64(1)
		if _, _, err := s.SetCampaignTargets(ctx, c.ID, nil, &old, now); !errors.Is(err, store.ErrStale) {
			t.Errorf("a stale version: %v, want ErrStale", err)
		}
		if _, _, err := s.SetCampaignTargets(ctx, 999, nil, nil, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown campaign: %v, want ErrNotFound", err)
		}
		if _, _, err := s.CampaignTargets(ctx, 999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("targets of an unknown campaign: %v, want ErrNotFound", err)
		}

		// The campaign form's MQL target is the review's.
		stored.TargetMQLs = 30
		if _, err := s.UpdateCampaign(ctx, stored, nil, now); err != nil {
			t.Fatal(err)
		}
		got, _, err = s.CampaignTargets(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want = []model.CampaignTarget{{Metric: "leads", Value: 60000}, {Metric: "mqls", Value: 3000}, {Metric: "cost", Value: 300000}, {Metric: "roi", Value: 250}}
		if !slices.Equal(got, want) {
			t.Errorf("after the form: %v, want %v", got, want)
		}

		// An empty list clears every target.
		if got, _, err = s.SetCampaignTargets(ctx, c.ID, nil, nil, now); err != nil || len(got) != 0 {
			t.Errorf("cleared: %v %v", got, err)
		}
	})
}

// An action item is stored with its owner's task (kind campaign_action,
// due at the end of its day); the owner's task list shows it until it is
// done or dropped, and again when it is reopened; a campaign holds at
// most the bound of action items.
func TestCampaignActionsAndTasks(t *testing.T) {
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ownerID, err := s.CreateUser(ctx, model.User{Email: "owner@x.cn", Name: "负责人", Role: model.RoleSales, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		owner := model.User{ID: ownerID}
		c, err := s.CreateCampaign(ctx, model.Campaign{Code: "web", Name: "直播", Channel: model.ChannelWebinar}, now)
		if err != nil {
			t.Fatal(err)
		}
		cal := model.DefaultCalendar()
		due := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
		a := model.CampaignAction{CampaignID: c.ID, Action: "锁定重点行业名单", OwnerID: owner.ID, Due: due, DueAt: cal.EndOfDay(due).UTC(),
			Success: "报名 ≥ 40%", Finding: "registrations", CreatedBy: "admin@x.cn", CreatedAt: now}
		got, err := s.CreateCampaignAction(ctx, a, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 || got.TaskID == 0 || got.Status != model.ActionOpen || got.OwnerEmail != "owner@x.cn" || !got.Due.Equal(due) ||
			!got.DueAt.Equal(time.Date(2026, 3, 10, 15, 59, 59, 0, time.UTC)) || got.Finding != "registrations" {
			t.Fatalf("stored %+v", got)
		}
		task, err := s.TaskByID(ctx, got.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		if task.Kind != model.TaskCampaignAction || task.AssigneeID != owner.ID || task.DueAt == nil || !task.DueAt.Equal(got.DueAt) || task.DoneAt != nil {
			t.Errorf("task %+v", task)
		}

		tasks, err := s.UserTasks(ctx, owner.ID, false, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) != 1 || tasks[0].ActionID != got.ID || tasks[0].CampaignID != c.ID || tasks[0].CampaignName != "直播" {
			t.Fatalf("open tasks %+v", tasks)
		}
		for _, tc := range []struct {
			at            time.Time
			open, overdue int
		}{{now, 1, 0}, {got.DueAt, 1, 0}, {got.DueAt.Add(time.Second), 1, 1}} {
			open, overdue, err := s.CountUserTasks(ctx, owner.ID, tc.at)
			if err != nil || open != tc.open || overdue != tc.overdue {
				t.Errorf("at %v: %d open, %d overdue (%v), want %d, %d", tc.at, open, overdue, err, tc.open, tc.overdue)
			}
		}

		done, err := s.SetCampaignActionStatus(ctx, c.ID, got.ID, model.ActionDone, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != model.ActionDone || done.ClosedAt == nil || !done.ClosedAt.Equal(now.Add(time.Hour)) || !*done.OnTime() {
			t.Errorf("done %+v", done)
		}
		if tasks, _ := s.UserTasks(ctx, owner.ID, false, 10); len(tasks) != 0 {
			t.Errorf("a done action's task is still open: %+v", tasks)
		}
		if tasks, _ := s.UserTasks(ctx, owner.ID, true, 10); len(tasks) != 1 || tasks[0].DoneAt == nil {
			t.Errorf("done tasks %+v", tasks)
		}
		// Done again changes nothing; reopened, the task is open again.
		if again, err := s.SetCampaignActionStatus(ctx, c.ID, got.ID, model.ActionDone, now.Add(2*time.Hour)); err != nil || !again.ClosedAt.Equal(*done.ClosedAt) {
			t.Errorf("done twice: %+v %v", again, err)
		}
		if open, err := s.SetCampaignActionStatus(ctx, c.ID, got.ID, model.ActionOpen, now.Add(3*time.Hour)); err != nil || open.ClosedAt != nil {
			t.Errorf("reopened: %+v %v", open, err)
		}
		if tasks, _ := s.UserTasks(ctx, owner.ID, false, 10); len(tasks) != 1 {
			t.Errorf("a reopened action's task is not open: %+v", tasks)
		}
		if _, err := s.SetCampaignActionStatus(ctx, c.ID+1, got.ID, model.ActionDone, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an action of another campaign: %v, want ErrNotFound", err)
		}

		// Bounds and references.
		if _, err := s.CreateCampaignAction(ctx, a, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateCampaignAction(ctx, a, 2); !errors.Is(err, store.ErrTooMany) {
			t.Errorf("a third action with a bound of 2: %v, want ErrTooMany", err)
		}
		bad := a
		bad.OwnerID = 999
		if _, err := s.CreateCampaignAction(ctx, bad, 10); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown owner: %v", err)
		}
		bad = a
		bad.CampaignID = 999
		if _, err := s.CreateCampaignAction(ctx, bad, 10); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown campaign: %v", err)
		}
		list, err := s.CampaignActions(ctx, []int64{c.ID})
		if err != nil || len(list) != 2 || list[0].ID != got.ID {
			t.Errorf("actions %+v %v", list, err)
		}
	})
}
