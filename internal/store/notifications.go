package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// Notifications (migration 00047): a user's in-app notifications, the
// reminders of action items' tasks. internal/review's reminders create
// them, once per task and kind (the dedup key); the workspace shows them.

// DueTask is an open action item's task due before some time, with its
// owner.
type DueTask struct {
	TaskID     int64
	ActionID   int64
	CampaignID int64
	Action     string
	DueAt      time.Time
	OwnerID    int64
	OwnerEmail string
	OwnerName  string
}

// MaxDueTasks bounds the tasks a reminder run reads.
const MaxDueTasks = 10_000

// DueActionTasks lists the tasks of open action items, not done, whose
// owner is enabled, due before before, the soonest due first, at most
// MaxDueTasks.
func (s *Store) DueActionTasks(ctx context.Context, before time.Time) ([]DueTask, error) {
	return scanAll(ctx, s, s.r, `SELECT t.id, a.id, a.campaign_id, a.action, t.due_at, u.id, u.email, u.name
		FROM campaign_actions a JOIN tasks t ON t.id = a.task_id JOIN users u ON u.id = t.assignee_id
		WHERE a.status = ? AND t.done_at IS NULL AND t.due_at < ? AND u.disabled_at IS NULL
		ORDER BY t.due_at, t.id LIMIT ?`, []any{string(model.ActionOpen), utc(before), MaxDueTasks},
		func(r rowScanner) (DueTask, error) {
			var d DueTask
			err := r.Scan(&d.TaskID, &d.ActionID, &d.CampaignID, &d.Action, &d.DueAt, &d.OwnerID, &d.OwnerEmail, &d.OwnerName)
			d.DueAt = d.DueAt.UTC()
			return d, err
		})
}

// AddNotification stores n under its dedup key unless one with that key
// exists; it returns the id and whether it was new.
func (s *Store) AddNotification(ctx context.Context, n model.Notification, dedupKey string) (int64, bool, error) {
	var due any
	if n.DueAt != nil {
		due = utc(*n.DueAt)
	}
	var task any
	if n.TaskID != 0 {
		task = n.TaskID
	}
	res, err := s.w.ExecContext(ctx, s.q(`INSERT INTO notifications (user_id, kind, dedup_key, task_id, title, href, due_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`),
		n.UserID, n.Kind, dedupKey, task, n.Title, n.Href, due, utc(n.CreatedAt))
	if err != nil {
		return 0, false, fmt.Errorf("add notification: %w", err)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return 0, false, err
	}
	var id int64
	if err := s.w.QueryRowContext(ctx, s.q(`SELECT id FROM notifications WHERE dedup_key = ?`), dedupKey).Scan(&id); err != nil {
		return 0, false, err
	}
	return id, added > 0, nil
}

// MarkNotified records that the notification hook accepted a notification.
func (s *Store) MarkNotified(ctx context.Context, id int64, at time.Time) error {
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE notifications SET notified_at = ? WHERE id = ?`), utc(at), id)
	return err
}

// UnnotifiedNotification is a notification the hook has not accepted yet,
// with its user's email.
type UnnotifiedNotification struct {
	model.Notification
	Email string
}

// UnnotifiedNotifications lists the notifications created since since
// that the hook has not accepted, oldest first, at most limit.
func (s *Store) UnnotifiedNotifications(ctx context.Context, since time.Time, limit int) ([]UnnotifiedNotification, error) {
	return scanAll(ctx, s, s.r, `SELECT `+notificationCols+`, u.email FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE n.notified_at IS NULL AND n.created_at >= ? AND u.disabled_at IS NULL ORDER BY n.id LIMIT ?`, []any{utc(since), limit},
		func(r rowScanner) (UnnotifiedNotification, error) {
			var n UnnotifiedNotification
			err := scanNotification(r, &n.Notification, &n.Email)
			return n, err
		})
}

const notificationCols = `n.id, n.user_id, n.kind, COALESCE(n.task_id, 0), n.title, n.href, n.due_at, n.created_at, n.read_at, n.notified_at`

func scanNotification(r rowScanner, n *model.Notification, more ...any) error {
	var due, read, notified sql.NullTime
	err := r.Scan(append([]any{&n.ID, &n.UserID, &n.Kind, &n.TaskID, &n.Title, &n.Href, &due, &n.CreatedAt, &read, &notified}, more...)...)
	n.DueAt, n.ReadAt, n.NotifiedAt, n.CreatedAt = nullTimePtr(due), nullTimePtr(read), nullTimePtr(notified), n.CreatedAt.UTC()
	return err
}

// MaxNotifications bounds the notifications a list shows.
const MaxNotifications = 200

// UserNotifications lists a user's notifications, the newest first; only
// the unread ones with unread. At most limit.
func (s *Store) UserNotifications(ctx context.Context, userID int64, unread bool, limit int) ([]model.Notification, error) {
	cond := ""
	if unread {
		cond = " AND n.read_at IS NULL"
	}
	return orEmpty(scanAll(ctx, s, s.r, `SELECT `+notificationCols+` FROM notifications n WHERE n.user_id = ?`+cond+`
		ORDER BY n.id DESC LIMIT ?`, []any{userID, limit}, func(r rowScanner) (model.Notification, error) {
		var n model.Notification
		err := scanNotification(r, &n)
		return n, err
	}))
}

// CountUnreadNotifications counts a user's unread notifications.
func (s *Store) CountUnreadNotifications(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`), userID).Scan(&n)
	return n, err
}

// ReadNotification marks a user's notification read (once: a read one
// keeps its time). ErrNotFound when the user has no such notification.
func (s *Store) ReadNotification(ctx context.Context, userID, id int64, at time.Time) (model.Notification, error) {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL`), utc(at), id, userID); err != nil {
		return model.Notification{}, err
	}
	var n model.Notification
	err := scanNotification(s.w.QueryRowContext(ctx, s.q(`SELECT `+notificationCols+` FROM notifications n WHERE n.id = ? AND n.user_id = ?`), id, userID), &n)
	if err == sql.ErrNoRows {
		return n, ErrNotFound
	}
	return n, err
}

// ReadAllNotifications marks every unread notification of a user read;
// it returns how many.
func (s *Store) ReadAllNotifications(ctx context.Context, userID int64, at time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`), utc(at), userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
