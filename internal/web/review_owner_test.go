package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The action item form offers as owners only the users who can work on
// the campaign: enabled marketers, sales and admins, not viewers; the API
// refuses a viewer as owner with 400 naming them.
func TestActionOwnerPicker(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newReviewEnv(t, s)
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		if _, err := s.CreateUser(ctx, model.User{Email: "look@x.cn", Role: model.RoleViewer, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, model.User{Email: "gone@x.cn", Role: model.RoleSales, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WriterDB().ExecContext(ctx, "UPDATE users SET disabled_at = CURRENT_TIMESTAMP WHERE email = 'gone@x.cn'"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.auth.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
			t.Fatal(err)
		}
		c := e.login(t)
		res := e.do(t, req{target: "/campaigns/1/review?" + march, cookies: []*http.Cookie{c}})
		html := bodyOf(t, res)
		i := strings.Index(html, `id="action-owner"`)
		if res.StatusCode != 200 || i < 0 {
			t.Fatalf("page: %d, owner picker found: %v", res.StatusCode, i >= 0)
		}
		picker := html[i : i+strings.Index(html[i:], "</select>")]
		for _, want := range []string{"jia@x.cn", "yi@x.cn", "admin@x.cn", testEmail} {
			if !strings.Contains(picker, want) {
				t.Errorf("the picker lacks %s", want)
			}
		}
		for _, not := range []string{"look@x.cn", "gone@x.cn"} {
			if strings.Contains(picker, not) {
				t.Errorf("the picker offers %s", not)
			}
		}
		res = e.apiJSON(t, http.MethodPost, "/api/v1/campaigns/1/actions", e.sales, map[string]any{"action": "x", "due": "2026-04-10", "owner": "look@x.cn"})
		if b := bodyOf(t, res); res.StatusCode != 400 || !strings.Contains(b, "look@x.cn is a viewer") {
			t.Errorf("a viewer as owner: %d %s", res.StatusCode, b)
		}
	})
}
