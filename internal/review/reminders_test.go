package review_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/review"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// Reminders: due soon within the lead time, overdue once past due, each
// once per task and kind; none for done or dropped items or disabled
// owners; the hook gets each new one once (again after a refusal); the
// lead time follows the setting.
func TestReminders(t *testing.T) {
	created := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ann, _ := s.CreateUser(ctx, model.User{Email: "ann@x.cn", Role: model.RoleMarketer, CreatedAt: created})
		bob, _ := s.CreateUser(ctx, model.User{Email: "bob@x.cn", Role: model.RoleSales, CreatedAt: created})
		gone, _ := s.CreateUser(ctx, model.User{Email: "gone@x.cn", Role: model.RoleSales, CreatedAt: created})
		c, err := s.CreateCampaign(ctx, model.Campaign{Code: "web", Name: "直播", Channel: model.ChannelWebinar}, created)
		if err != nil {
			t.Fatal(err)
		}
		svc := review.Service{Store: s, Now: func() time.Time { return created }}
		by := review.Caller{UserID: ann, Name: "ann@x.cn", Role: model.RoleMarketer}
		add := func(action, owner, due, status string) model.CampaignAction {
			t.Helper()
			a, err := svc.CreateAction(ctx, c.ID, review.ActionInput{Action: action, Owner: []byte(`"` + owner + `"`), Due: due, Status: status}, by)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		// Due at the end of the team's day (Asia/Shanghai): 2026-03-10
		// 23:59:59 CST is 15:59:59 UTC.
		a1 := add("复盘直播邀约话术", "ann@x.cn", "2026-03-10", "")
		a2 := add("补充线索来源", "bob@x.cn", "2026-03-12", "")
		add("已完成的", "ann@x.cn", "2026-03-10", "done")
		add("停用者的", "gone@x.cn", "2026-03-10", "")
		if _, err := s.WriterDB().ExecContext(ctx, "UPDATE users SET disabled_at = CURRENT_TIMESTAMP WHERE email = 'gone@x.cn'"); err != nil {
			t.Fatal(err)
		}
		_ = gone

		type sent struct{ email, subject string }
		var got []sent
		fail := false
		m := review.Reminders{Store: s, Notify: func(_ context.Context, email, subject, text string) error {
			if fail {
				return errors.New("mail server down")
			}
			if !strings.Contains(text, "/campaigns/") {
				t.Errorf("text %q names no review", text)
			}
			got = append(got, sent{email, subject})
			return nil
		}}
		run := func(now time.Time, want review.RemindResult) {
			t.Helper()
			res, err := m.Run(ctx, now)
			res.LastError = ""
			if err != nil || res != want {
				t.Errorf("run at %s: %+v %v, want %+v", now, res, err, want)
			}
		}
		// Two days before: nothing.
		run(time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC), review.RemindResult{})
		// Within a day of a1's due time: a1 due soon, once.
		soon := time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC)
		run(soon, review.RemindResult{Created: 1, Notified: 1})
		run(soon.Add(time.Hour), review.RemindResult{})
		// a1 past due, a2 within a day; the hook refuses: both stay in the
		// app and are offered again.
		fail = true
		late := time.Date(2026, 3, 11, 16, 30, 0, 0, time.UTC)
		run(late, review.RemindResult{Created: 2, Failed: 2})
		// Nothing to deliver with (no SMTP server yet): no failure, and
		// still offered.
		fail = false
		hook := m.Notify
		m.Notify = func(context.Context, string, string, string) error {
			return fmt.Errorf("mail: %w", review.ErrNoDelivery)
		}
		run(late.Add(30*time.Second), review.RemindResult{})
		m.Notify = hook
		run(late.Add(time.Minute), review.RemindResult{Notified: 2})
		run(late.Add(2*time.Minute), review.RemindResult{})
		want := []sent{{"ann@x.cn", "行动项即将到期 / Action item due soon: 复盘直播邀约话术"},
			{"ann@x.cn", "行动项已逾期 / Action item overdue: 复盘直播邀约话术"}, {"bob@x.cn", "行动项即将到期 / Action item due soon: 补充线索来源"}}
		if !slices.Equal(got, want) {
			t.Errorf("hook got %q\nwant %q", got, want)
		}
		list, err := s.UserNotifications(ctx, ann, false, 10)
		if err != nil || len(list) != 2 || list[0].Kind != model.NotifyTaskOverdue || list[1].Kind != model.NotifyTaskDueSoon ||
			list[0].TaskID != a1.TaskID || list[0].Href != "/campaigns/"+itoa(c.ID)+"/review#actions" || list[0].ReadAt != nil {
			t.Fatalf("ann's notifications %+v %v", list, err)
		}
		if n, _ := s.CountUnreadNotifications(ctx, ann); n != 2 {
			t.Errorf("ann has %d unread, want 2", n)
		}
		// Bob may not read Ann's.
		if _, err := s.ReadNotification(ctx, bob, list[0].ID, late); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("bob read ann's notification: %v", err)
		}
		r, err := s.ReadNotification(ctx, ann, list[0].ID, late)
		if err != nil || r.ReadAt == nil {
			t.Errorf("read: %+v %v", r, err)
		}
		if n, _ := s.CountUnreadNotifications(ctx, ann); n != 1 {
			t.Errorf("ann has %d unread after reading one, want 1", n)
		}
		// a2 done: no overdue reminder for it.
		if _, err := svc.SetActionStatus(ctx, c.ID, a2.ID, "done", review.Caller{UserID: bob, Name: "bob@x.cn", Role: model.RoleSales}); err != nil {
			t.Fatal(err)
		}
		run(time.Date(2026, 3, 13, 0, 0, 0, 0, time.UTC), review.RemindResult{})

		// A lead time of three days reminds earlier.
		a3 := add("三天后的", "bob@x.cn", "2026-03-20", "")
		if err := s.SetSetting(ctx, review.SettingReminderLead, 72); err != nil {
			t.Fatal(err)
		}
		run(time.Date(2026, 3, 17, 16, 30, 0, 0, time.UTC), review.RemindResult{Created: 1, Notified: 1})
		bl, _ := s.UserNotifications(ctx, bob, true, 10)
		if len(bl) != 2 || bl[0].TaskID != a3.TaskID {
			t.Errorf("bob's unread %+v", bl)
		}
	})
}
