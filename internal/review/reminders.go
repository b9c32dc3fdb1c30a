package review

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Reminders of action items (docs/reviews.md, "Reminders"): when an open
// action item's task is due within the lead time (a day by default, the
// setting reminder_lead_hours) its owner gets a "due soon" notification;
// once its due time has passed, an "overdue" one. Each once per task and
// kind, however often the run comes. When Notify is set (e.g. an email
// sender) each new notification is also handed to it; one it refused is
// handed again on the next runs for a week.

// The lead time's setting and bounds, in hours.
const (
	SettingReminderLead = "reminder_lead_hours"
	DefaultReminderLead = 24
	MinReminderLead     = 1
	MaxReminderLead     = 24 * 14
	// notifyRetry is how long a notification the hook refused is offered
	// to it again.
	notifyRetry = 7 * 24 * time.Hour
	// maxNotifyPerRun bounds the notifications handed to the hook per run.
	maxNotifyPerRun = 1000
)

// ErrNoDelivery is what a NotifyFunc returns (wrapped) when nothing can
// deliver yet (no SMTP server is set): the notification is neither a
// failure nor delivered, and is offered again on the next runs.
var ErrNoDelivery = errors.New("no delivery configured")

// NotifyFunc delivers a notification outside revloop (e.g. by email).
type NotifyFunc func(ctx context.Context, userEmail, subject, text string) error

// Reminders creates the reminders.
type Reminders struct {
	Store  *store.Store
	Notify NotifyFunc // nil: in-app only
}

// RemindResult says what a run did.
type RemindResult struct {
	Created  int `json:"created"`
	Notified int `json:"notified"`
	Failed   int `json:"failed"` // handed to Notify and refused
	// LastError is Notify's last refusal, "" for none.
	LastError string `json:"last_error,omitempty"`
}

// LeadTime is the reminder lead time: the setting, or the default.
func LeadTime(ctx context.Context, s *store.Store) (time.Duration, error) {
	h := DefaultReminderLead
	if _, err := s.Setting(ctx, SettingReminderLead, &h); err != nil {
		return 0, err
	}
	if h < MinReminderLead || h > MaxReminderLead {
		h = DefaultReminderLead
	}
	return time.Duration(h) * time.Hour, nil
}

// DedupKey is the key that makes a reminder once per task and kind.
func DedupKey(taskID int64, kind string) string { return fmt.Sprintf("task:%d:%s", taskID, kind) }

// Run creates the reminders due at now and hands the new ones to Notify.
// A refusal of Notify is counted, not returned: the notification stays in
// the app and is offered again next time.
func (m Reminders) Run(ctx context.Context, now time.Time) (RemindResult, error) {
	var res RemindResult
	lead, err := LeadTime(ctx, m.Store)
	if err != nil {
		return res, err
	}
	due, err := m.Store.DueActionTasks(ctx, now.Add(lead))
	if err != nil {
		return res, fmt.Errorf("reminders: tasks: %w", err)
	}
	for _, d := range due {
		kind := model.NotifyTaskDueSoon
		if !now.Before(d.DueAt) {
			kind = model.NotifyTaskOverdue
		}
		at := d.DueAt
		n := model.Notification{UserID: d.OwnerID, Kind: kind, TaskID: d.TaskID, Title: d.Action,
			Href: fmt.Sprintf("/campaigns/%d/review#actions", d.CampaignID), DueAt: &at, CreatedAt: now}
		_, added, err := m.Store.AddNotification(ctx, n, DedupKey(d.TaskID, kind))
		if err != nil {
			return res, fmt.Errorf("reminders: %w", err)
		}
		if added {
			res.Created++
		}
	}
	if m.Notify == nil {
		return res, nil
	}
	pending, err := m.Store.UnnotifiedNotifications(ctx, now.Add(-notifyRetry), maxNotifyPerRun)
	if err != nil {
		return res, fmt.Errorf("reminders: pending: %w", err)
	}
	for _, p := range pending {
		subject, text := NotificationText(p.Notification)
		if err := m.Notify(ctx, p.Email, subject, text); errors.Is(err, ErrNoDelivery) {
			continue
		} else if err != nil {
			res.Failed++
			res.LastError = err.Error()
			continue
		}
		if err := m.Store.MarkNotified(ctx, p.ID, now); err != nil {
			return res, err
		}
		res.Notified++
	}
	return res, nil
}

// NotificationText is a notification's subject and text as the hook gets
// them: Chinese first, then English, for the hook knows no one's language.
func NotificationText(n model.Notification) (subject, text string) {
	due := ""
	if n.DueAt != nil {
		due = n.DueAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	switch n.Kind {
	case model.NotifyTaskOverdue:
		subject = "行动项已逾期 / Action item overdue: " + clipText(n.Title, 80)
		text = fmt.Sprintf("行动项「%s」已过截止时间 %s，尚未完成。\nThe action item \"%s\" was due %s and is not done.\n%s", n.Title, due, n.Title, due, n.Href)
	default:
		subject = "行动项即将到期 / Action item due soon: " + clipText(n.Title, 80)
		text = fmt.Sprintf("行动项「%s」将于 %s 到期。\nThe action item \"%s\" is due %s.\n%s", n.Title, due, n.Title, due, n.Href)
	}
	return subject, text
}

// clipText cuts s to at most n characters, marking the cut.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
