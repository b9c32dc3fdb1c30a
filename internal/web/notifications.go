package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Notifications (docs/reviews.md, "Reminders"): the bell in the top bar
// with the caller's unread count, the page /notifications listing them
// (mark one or all read), and the API GET /api/v1/notifications and POST
// /api/v1/notifications/{id}/read. The reminders of action items create
// them (review.Reminders, run by the review_reminders job).

func (s *Server) notificationRoutes(m *http.ServeMux) error {
	m.Handle("GET /notifications", s.page("tasks", s.notificationsPage))
	m.Handle("POST /notifications/{id}/read", s.page("tasks", s.notificationReadSubmit))
	m.Handle("POST /notifications/read-all", s.page("tasks", s.notificationsReadAllSubmit))
	m.Handle("GET /api/v1/notifications", s.requireAPI(s.apiNotifications))
	m.Handle("POST /api/v1/notifications/{id}/read", s.requireAPI(s.apiNotificationRead))
	return nil
}

type notificationsView struct {
	Unread bool // only the unread ones
	Table  *dataTable
	List   []notificationItem
	Count  int // unread
}

func (notificationsView) NavKey() string { return "tasks" }

type notificationItem struct {
	model.Notification
	Text string
}

// notificationText is a notification as a sentence in the reader's
// language.
func notificationText(loc Locale, n model.Notification) string {
	if k := "notifications.kind." + n.Kind; loc.T(k) != k {
		return loc.T(k)
	}
	return n.Kind
}

func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	u, _ := userFrom(r.Context())
	cal, err := s.store.Calendar(r.Context())
	if err != nil {
		s.pageInternal(w, r, "notifications page", err)
		return
	}
	v := notificationsView{Unread: r.URL.Query().Get("show") == "unread"}
	list, err := s.store.UserNotifications(r.Context(), u.ID, v.Unread, store.MaxNotifications)
	if err != nil {
		s.pageInternal(w, r, "notifications page", err)
		return
	}
	if v.Count, err = s.store.CountUnreadNotifications(r.Context(), u.ID); err != nil {
		s.pageInternal(w, r, "notifications page", err)
		return
	}
	t := &dataTable{ID: "notifications", Loc: cal.Loc, Empty: loc.T("notifications.empty"), Columns: []column{
		{Key: "notice", Label: loc.T("notifications.col.notice"), Kind: kindText},
		{Key: "action", Label: loc.T("notifications.col.action"), Kind: kindText},
		{Key: "due", Label: loc.T("notifications.col.due"), Kind: kindTime},
		{Key: "created", Label: loc.T("notifications.col.created"), Kind: kindTime},
		{Key: "state", Label: loc.T("notifications.col.state"), Kind: kindText},
	}}
	for _, n := range list {
		var due any
		if n.DueAt != nil {
			due = *n.DueAt
		}
		state := "unread"
		if n.ReadAt != nil {
			state = "read"
		} else {
			v.List = append(v.List, notificationItem{Notification: n, Text: notificationText(loc, n)})
		}
		t.Rows = append(t.Rows, []cell{{V: n.Kind, Text: notificationText(loc, n)}, {V: n.Title, Href: n.Href}, {V: due}, {V: n.CreatedAt},
			{V: state, Text: loc.T("notifications.state." + state)}})
	}
	t.prepare(r, "", false)
	v.Table = t
	if s.exportTable(w, r, "notifications", viewFilter{}, t) {
		return
	}
	s.render(w, r, http.StatusOK, "notifications", "notifications.title", v)
}

func (s *Server) notificationReadSubmit(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, ok := pageID(r)
	if !ok {
		s.renderError(w, r, http.StatusBadRequest, "notifications.error.bad_id")
		return
	}
	if _, err := s.store.ReadNotification(r.Context(), u.ID, id, s.app.Now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.renderError(w, r, http.StatusNotFound, "notifications.error.not_found")
			return
		}
		s.pageInternal(w, r, "read notification", err)
		return
	}
	http.Redirect(w, r, "/notifications", http.StatusSeeOther)
}

func (s *Server) notificationsReadAllSubmit(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	if _, err := s.store.ReadAllNotifications(r.Context(), u.ID, s.app.Now()); err != nil {
		s.pageInternal(w, r, "read notifications", err)
		return
	}
	http.Redirect(w, r, "/notifications", http.StatusSeeOther)
}

// notificationUser is the caller of a notifications API: the user of the
// session or of the key; 0 (with an answer written) when none.
func (s *Server) notificationUser(w http.ResponseWriter, r *http.Request) int64 {
	uid, err := s.requestUserID(r)
	if err != nil {
		s.apiInternal(w, r, err)
		return 0
	}
	if uid == 0 {
		writeJSONError(w, http.StatusBadRequest, "this API key belongs to no user, so it has no notifications")
	}
	return uid
}

func (s *Server) apiNotifications(w http.ResponseWriter, r *http.Request) {
	uid := s.notificationUser(w, r)
	if uid == 0 {
		return
	}
	status := strings.TrimSpace(r.URL.Query().Get("status"))
	if status != "" && status != "unread" && status != "all" {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("status %q: want unread or all", clip(status, 40)))
		return
	}
	list, err := s.store.UserNotifications(r.Context(), uid, status == "unread", store.MaxNotifications)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	unread, err := s.store.CountUnreadNotifications(r.Context(), uid)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": uid, "unread": unread, "notifications": list, "truncated": len(list) == store.MaxNotifications})
}

func (s *Server) apiNotificationRead(w http.ResponseWriter, r *http.Request) {
	id, ok := pageID(r)
	if !ok {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("id %q: want a notification id (a positive whole number)", clip(r.PathValue("id"), 40)))
		return
	}
	uid := s.notificationUser(w, r)
	if uid == 0 {
		return
	}
	n, err := s.store.ReadNotification(r.Context(), uid, id, s.app.Now())
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no notification %d of yours", id))
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}
