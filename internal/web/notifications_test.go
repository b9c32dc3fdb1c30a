package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report/reviewtest"
	"github.com/revloop/revloop/internal/review"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

type notificationsAnswer struct {
	UserID        int64 `json:"user_id"`
	Unread        int   `json:"unread"`
	Notifications []struct {
		ID     int64      `json:"id"`
		Kind   string     `json:"kind"`
		TaskID int64      `json:"task_id"`
		Title  string     `json:"title"`
		Href   string     `json:"href"`
		ReadAt *time.Time `json:"read_at"`
	} `json:"notifications"`
}

// An action item's reminder reaches its owner through the API: listed,
// marked read (once, by its owner only); bad ids and statuses are 400,
// another's or an unknown notification 404, a key of no user 400. The
// page shows the bell's count and the list in both languages and marks
// read.
func TestNotificationsAPIAndPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newReviewEnv(t, s)
		var a struct {
			Action struct {
				TaskID int64 `json:"task_id"`
			} `json:"action"`
		}
		decodeJSON(t, e.apiJSON(t, http.MethodPost, "/api/v1/campaigns/1/actions", e.sales,
			map[string]any{"action": "直播后 24 小时内电话跟进", "due": "2026-04-10"}), http.StatusCreated, &a)
		// 2026-04-10 ends at 15:59:59 UTC; at 16:00 it is overdue.
		if _, err := (review.Reminders{Store: s}).Run(ctx, time.Date(2026, 4, 10, 16, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		sales := map[string]string{"Authorization": "Bearer " + e.sales}
		var got notificationsAnswer
		decodeJSON(t, e.do(t, req{target: "/api/v1/notifications", header: sales}), http.StatusOK, &got)
		if got.UserID != reviewtest.SalesJia || got.Unread != 1 || len(got.Notifications) != 1 || got.Notifications[0].Kind != model.NotifyTaskOverdue ||
			got.Notifications[0].TaskID != a.Action.TaskID || got.Notifications[0].Href != "/campaigns/1/review#actions" || got.Notifications[0].ReadAt != nil {
			t.Fatalf("notifications %+v", got)
		}
		id := got.Notifications[0].ID
		for _, tc := range []struct {
			method, target string
			header         map[string]string
			code           int
			saying         string
		}{
			{http.MethodGet, "/api/v1/notifications?status=later", sales, 400, `status \"later\": want unread or all`},
			{http.MethodGet, "/api/v1/notifications", map[string]string{"Authorization": "Bearer " + e.marketer}, 400, "belongs to no user"},
			{http.MethodPost, "/api/v1/notifications/abc/read", sales, 400, `id \"abc\"`},
			{http.MethodPost, "/api/v1/notifications/0/read", sales, 400, "want a notification id"},
			{http.MethodPost, "/api/v1/notifications/99999/read", sales, 404, "no notification 99999 of yours"},
			{http.MethodGet, "/api/v1/notifications", nil, 401, ""},
		} {
			res := e.do(t, req{method: tc.method, target: tc.target, header: tc.header})
			if b := bodyOf(t, res); res.StatusCode != tc.code || !strings.Contains(b, tc.saying) {
				t.Errorf("%s %s: %d %s", tc.method, tc.target, res.StatusCode, b)
			}
		}
		var read struct {
			ID     int64      `json:"id"`
			ReadAt *time.Time `json:"read_at"`
		}
		target := "/api/v1/notifications/" + itoa(id) + "/read"
		decodeJSON(t, e.do(t, req{method: http.MethodPost, target: target, header: sales}), http.StatusOK, &read)
		if read.ID != id || read.ReadAt == nil {
			t.Errorf("read: %+v", read)
		}
		first := *read.ReadAt
		decodeJSON(t, e.do(t, req{method: http.MethodPost, target: target, header: sales}), http.StatusOK, &read)
		if read.ReadAt == nil || !read.ReadAt.Equal(first) {
			t.Errorf("read again: %v, first %v", read.ReadAt, first)
		}
		decodeJSON(t, e.do(t, req{target: "/api/v1/notifications?status=unread", header: sales}), http.StatusOK, &got)
		if got.Unread != 0 || len(got.Notifications) != 0 {
			t.Errorf("unread after reading %+v", got)
		}

		// The page: a marketer with a reminder of their own.
		me, err := e.auth.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		due := time.Date(2026, 4, 12, 15, 59, 59, 0, time.UTC)
		nid, _, err := s.AddNotification(ctx, model.Notification{UserID: me.ID, Kind: model.NotifyTaskDueSoon, Title: "补发回放", Href: "/campaigns/1/review#actions",
			DueAt: &due, CreatedAt: due.Add(-20 * time.Hour)}, "test:1")
		if err != nil {
			t.Fatal(err)
		}
		c := e.login(t)
		page := func(target string) (int, string) {
			res := e.do(t, req{target: target, cookies: []*http.Cookie{c}})
			return res.StatusCode, bodyOf(t, res)
		}
		rawKey := regexp.MustCompile(`(notifications|nav)\.[a-z_]+(\.[a-z_]+)?`)
		for lang, want := range map[string][]string{"en": {"Notifications", "Action item due soon", "补发回放", `id="notifications-count">1<`, `id="read-all"`},
			"zh-CN": {"通知", "行动项即将到期", "补发回放", `id="notifications-count">1<`}} {
			code, html := page("/notifications?lang=" + lang)
			if code != 200 {
				t.Fatalf("%s page: %d", lang, code)
			}
			for _, w := range want {
				if !strings.Contains(html, w) {
					t.Errorf("%s page lacks %q", lang, w)
				}
			}
			if k := rawKey.FindAllString(html, 3); len(k) > 0 {
				t.Errorf("%s page: raw keys %v", lang, k)
			}
		}
		if code, html := page("/tasks"); code != 200 || !strings.Contains(html, `id="notifications-bell"`) {
			t.Errorf("the bell is not on the tasks page: %d", code)
		}
		res := e.do(t, req{method: http.MethodPost, target: "/notifications/" + itoa(nid) + "/read", form: url.Values{}, cookies: []*http.Cookie{c}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("mark read: %d %s", res.StatusCode, bodyOf(t, res))
		}
		if n, _ := s.CountUnreadNotifications(ctx, me.ID); n != 0 {
			t.Errorf("%d unread after the form", n)
		}
		if code, html := page("/notifications"); code != 200 || strings.Contains(html, `id="notifications-count"`) {
			t.Errorf("the count is still shown: %d", code)
		}
		res = e.do(t, req{method: http.MethodPost, target: "/notifications/" + itoa(id) + "/read", form: url.Values{}, cookies: []*http.Cookie{c}})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("marking another's read: %d", res.StatusCode)
		}
	})
}

// The reminder lead time is a run-time setting: bounded, 400 naming the
// bounds outside them, and what the reminders read.
func TestReminderLeadSetting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		admin, _, err := e.auth.CreateAPIKey(ctx, "admin", model.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			body   string
			code   int
			saying string
		}{{`0`, 400, "0 hours: want 1 to 336"}, {`400`, 400, "want 1 to 336"}, {`"a day"`, 400, ""}, {`72`, 200, `"value":72`}} {
			res := e.send(t, "PUT", "/api/v1/settings/"+review.SettingReminderLead, admin, "application/json", tc.body)
			if b := bodyOf(t, res); res.StatusCode != tc.code || !strings.Contains(b, tc.saying) {
				t.Errorf("%s: %d %s", tc.body, res.StatusCode, b)
			}
		}
		if d, err := review.LeadTime(ctx, s); err != nil || d != 72*time.Hour {
			t.Errorf("lead time %v %v", d, err)
		}
	})
}
