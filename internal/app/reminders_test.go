package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/app"

	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/message/smtpsink"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/review"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The running app reminds the owner of an overdue action item by itself:
// the in-app notification, and the notification hook it was given, once.
func TestAppRemindsOfOverdueActionItems(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		owner, err := s.CreateUser(ctx, model.User{Email: "owner@x.cn", Name: "负责人", Role: model.RoleSales, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateCampaign(ctx, model.Campaign{Code: "web", Name: "直播", Channel: model.ChannelWebinar}, now)
		if err != nil {
			t.Fatal(err)
		}
		svc := review.Service{Store: s, Now: func() time.Time { return now }}
		due := now.AddDate(0, 0, -3).Format("2006-01-02")
		if _, err := svc.CreateAction(ctx, c.ID, review.ActionInput{Action: "补发回放", Owner: json.RawMessage(`"owner@x.cn"`), Due: due},
			review.Caller{UserID: owner, Name: "owner@x.cn", Role: model.RoleSales}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var sent []string
		a, err := app.New(app.Options{Store: s, Logger: slog.New(slog.DiscardHandler), Version: "test",
			Jobs: jobs.Options{Debounce: 10 * time.Millisecond, PollInterval: 50 * time.Millisecond, TaskDelay: 50 * time.Millisecond},
			Notify: func(_ context.Context, email, subject, _ string) error {
				mu.Lock()
				defer mu.Unlock()
				sent = append(sent, email+" "+subject)
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		actx, stop := context.WithCancel(ctx)
		defer stop()
		if err := a.Start(actx); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(context.Background())
		waitFor(t, "the reminder", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(sent) > 0
		})
		mu.Lock()
		got := append([]string(nil), sent...)
		mu.Unlock()
		if len(got) != 1 || got[0] != "owner@x.cn 行动项已逾期 / Action item overdue: 补发回放" {
			t.Errorf("sent %q", got)
		}
		list, err := s.UserNotifications(ctx, owner, true, 10)
		if err != nil || len(list) != 1 || list[0].Kind != model.NotifyTaskOverdue || list[0].NotifiedAt == nil {
			t.Errorf("notifications %+v %v", list, err)
		}
	})
}

// Without a hook of its own, the app mails each reminder to its owner
// over the SMTP server of the email.smtp setting: a plain notice (no
// unsubscribe headers: it is the team's own mail), once.
func TestAppMailsRemindersOverSMTP(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		sink := smtpsink.New(t)
		if _, err := message.SaveSMTP(ctx, s, nil, message.SMTPInput{Host: "127.0.0.1", Port: sink.Port, TLS: "none", From: "revloop@team.example"}); err != nil {
			t.Fatal(err)
		}
		owner, err := s.CreateUser(ctx, model.User{Email: "owner@x.cn", Name: "负责人", Role: model.RoleSales, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateCampaign(ctx, model.Campaign{Code: "web", Name: "直播", Channel: model.ChannelWebinar}, now)
		if err != nil {
			t.Fatal(err)
		}
		svc := review.Service{Store: s, Now: func() time.Time { return now }}
		if _, err := svc.CreateAction(ctx, c.ID, review.ActionInput{Action: "补发回放 {{x}}", Owner: json.RawMessage(`"owner@x.cn"`), Due: now.AddDate(0, 0, -3).Format("2006-01-02")},
			review.Caller{UserID: owner, Name: "owner@x.cn", Role: model.RoleSales}); err != nil {
			t.Fatal(err)
		}
		a, err := app.New(app.Options{Store: s, Logger: slog.New(slog.DiscardHandler), Version: "test",
			Jobs: jobs.Options{Debounce: 10 * time.Millisecond, PollInterval: 50 * time.Millisecond, TaskDelay: 50 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		actx, stop := context.WithCancel(ctx)
		defer stop()
		if err := a.Start(actx); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(context.Background())
		waitFor(t, "the reminder's email", func() bool {
			sink.Mu.Lock()
			defer sink.Mu.Unlock()
			return len(sink.Msgs) > 0
		})
		sink.Mu.Lock()
		msgs := append([]string(nil), sink.Msgs...)
		sink.Mu.Unlock()
		m, err := netmail.ReadMessage(strings.NewReader(msgs[0]))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if len(msgs) != 1 || m.Header.Get("To") != "<owner@x.cn>" || subject != "行动项已逾期 / Action item overdue: 补发回放 {{x}}" || m.Header.Get("List-Unsubscribe") != "" {
			t.Errorf("%d emails; To %q, Subject %q, List-Unsubscribe %q", len(msgs), m.Header.Get("To"), subject, m.Header.Get("List-Unsubscribe"))
		}
	})
}
