package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// loginFrom posts the login form from a client address, with extra headers.
func (e *env) loginFrom(t *testing.T, remote, email, password string, header map[string]string) *http.Response {
	t.Helper()
	form := url.Values{"email": {email}, "password": {password}}
	hr := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.RemoteAddr = remote
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec.Result()
}

func TestLoginIsThrottled(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		var logs strings.Builder
		loadFixture(t, s)
		a := auth.New(s)
		if _, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
			t.Fatal(err)
		}
		srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		e := &env{store: s, auth: a, srv: srv, h: srv.Handler()}

		// Five wrong passwords, then the right one is refused too.
		for i := 0; i < 5; i++ {
			if res := e.loginFrom(t, "198.51.100.7:4000", testEmail, "wrong password", nil); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d", i+1, res.StatusCode)
			}
		}
		zh := map[string]string{"Accept-Language": "zh-CN"}
		res := e.loginFrom(t, "198.51.100.7:4000", testEmail, testPassword, zh)
		page := bodyOf(t, res)
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "60" || cookieNamed(res, sessionCookie) != nil ||
			!strings.Contains(page, "登录失败次数过多，请 1 分钟后再试") {
			t.Fatalf("right password while locked: %d, Retry-After %q\n%s", res.StatusCode, res.Header.Get("Retry-After"), page)
		}
		res = e.loginFrom(t, "203.0.113.50:4000", testEmail, testPassword, map[string]string{"Accept-Language": "en"})
		if page := bodyOf(t, res); res.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Too many failed sign-ins for this account") {
			t.Fatalf("right password from elsewhere while locked: %d\n%s", res.StatusCode, page)
		}
		out := logs.String()
		for _, want := range []string{`"msg":"login failed"`, `"email":"` + testEmail + `"`, `"ip":"198.51.100.7"`, `"msg":"login refused","reason":"throttled"`} {
			if !strings.Contains(out, want) {
				t.Errorf("logs lack %s:\n%s", want, out)
			}
		}
		if strings.Contains(out, testPassword) || strings.Contains(out, "wrong password") {
			t.Error("logs contain a password")
		}

		// Twenty guesses from one address lock it for every account; a
		// forged X-Forwarded-For from an untrusted peer changes nothing.
		for i := 0; i < 20; i++ {
			forged := map[string]string{"X-Forwarded-For": "10.0.0." + string(rune('1'+i%9))}
			if res := e.loginFrom(t, "192.0.2.99:5000", "nobody"+string(rune('a'+i))+"@example.cn", "wrong password", forged); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("spray %d: %d", i+1, res.StatusCode)
			}
		}
		if res := e.loginFrom(t, "192.0.2.99:5000", "owner@x.cn", "anything at all", map[string]string{"X-Forwarded-For": "10.9.9.9"}); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("locked address: %d", res.StatusCode)
		}
	})
}

// adminEnv is an env with an admin who signs in with a password and an
// admin key owned by them.
func adminEnv(t *testing.T, s *store.Store) (e *env, admin model.User, adminKey string, adminSession *http.Cookie) {
	t.Helper()
	e = newEnv(t, s)
	admin, err := e.auth.CreateUser(ctx, "boss@example.cn", "老板", model.RoleAdmin, "boss passphrase here")
	if err != nil {
		t.Fatal(err)
	}
	adminKey, _, err = e.auth.CreateUserAPIKey(ctx, admin.ID, "admin tools", model.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	res := e.loginFrom(t, "192.0.2.10:1", "boss@example.cn", "boss passphrase here", nil)
	if adminSession = cookieNamed(res, sessionCookie); res.StatusCode != http.StatusSeeOther || adminSession == nil {
		t.Fatalf("admin login: %d", res.StatusCode)
	}
	return e, admin, adminKey, adminSession
}

func TestUsersAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e, admin, adminKey, _ := adminEnv(t, s)
		li, err := s.UserByEmail(ctx, testEmail)
		if err != nil {
			t.Fatal(err)
		}
		liKey, _, err := e.auth.CreateUserAPIKey(ctx, li.ID, "li's sheet", model.RoleMarketer)
		if err != nil {
			t.Fatal(err)
		}
		liSession := e.login(t)

		var list struct{ Users []userJSON }
		decodeJSON(t, e.sendJSON(t, "GET", "/api/v1/users", adminKey, ""), 200, &list)
		if len(list.Users) != 4 || list.Users[2].Email != testEmail || list.Users[2].Sessions != 1 {
			t.Fatalf("users %+v", list.Users)
		}
		if body := bodyOf(t, e.sendJSON(t, "GET", "/api/v1/users", adminKey, "")); strings.Contains(body, "argon2") {
			t.Fatal("the user list shows password hashes")
		}
		wantRoutingError(t, e.sendJSON(t, "GET", "/api/v1/users", liKey, ""), 403, "admin")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/users/1/disable", e.key, ""), 403, "admin")

		// Creation and password changes take only good passwords.
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/users", adminKey, `{"email": "new@example.cn", "role": "sales", "password": "short"}`), 400, "at least 12")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/users", adminKey, `{"email": "new@example.cn", "role": "sales", "password": "password1234"}`), 400, "too common")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/users", adminKey, `{"email": "new@example.cn", "role": "chief", "password": "a fine passphrase"}`), 400, "role")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/users", adminKey, `{"email": "boss@example.cn", "role": "sales", "password": "a fine passphrase"}`), 409, "already exists")
		var created struct{ User userJSON }
		decodeJSON(t, e.sendJSON(t, "POST", "/api/v1/users", adminKey, `{"email": "New@Example.cn", "name": "新人", "role": "sales", "password": "a fine passphrase"}`), 201, &created)
		if created.User.Email != "new@example.cn" || created.User.Role != model.RoleSales || created.User.ID == 0 {
			t.Fatalf("created %+v", created)
		}
		target := "/api/v1/users/" + itoa(li.ID)
		wantRoutingError(t, e.sendJSON(t, "POST", target+"/password", adminKey, `{"password": "qwertyuiop12"}`), 400, "too common")

		// Disabling ends the sessions and stops the keys.
		var changed struct {
			User          userJSON
			SessionsEnded int64 `json:"sessions_ended"`
		}
		decodeJSON(t, e.sendJSON(t, "POST", target+"/disable", adminKey, ""), 200, &changed)
		if changed.User.DisabledAt == nil || changed.SessionsEnded != 1 {
			t.Fatalf("disable: %+v", changed)
		}
		if res := e.do(t, req{target: "/", cookies: []*http.Cookie{liSession}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("session of a disabled user: %d", res.StatusCode)
		}
		wantRoutingError(t, e.sendJSON(t, "GET", "/api/v1/stats", liKey, ""), 401, "owner is disabled")
		decodeJSON(t, e.sendJSON(t, "POST", target+"/enable", adminKey, ""), 200, &changed)
		if changed.User.DisabledAt != nil {
			t.Fatalf("enable: %+v", changed)
		}
		decodeJSON(t, e.sendJSON(t, "GET", "/api/v1/stats", liKey, ""), 200, &map[string]any{})

		// A new password ends the sessions; the new one signs in.
		liSession = e.login(t)
		decodeJSON(t, e.sendJSON(t, "POST", target+"/password", adminKey, `{"password": "a brand new passphrase"}`), 200, &changed)
		if changed.SessionsEnded != 1 {
			t.Fatalf("password: %+v", changed)
		}
		if res := e.do(t, req{target: "/", cookies: []*http.Cookie{liSession}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("session after a password change: %d", res.StatusCode)
		}
		if res := e.loginFrom(t, "192.0.2.11:1", testEmail, "a brand new passphrase", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("new password: %d", res.StatusCode)
		}
		decodeJSON(t, e.sendJSON(t, "DELETE", target+"/sessions", adminKey, ""), 200, &changed)
		if changed.SessionsEnded != 1 || changed.User.Sessions != 0 {
			t.Fatalf("revoke: %+v", changed)
		}

		// The fixture's owner@x.cn is an admin too; once they are disabled,
		// the last enabled admin cannot be.
		decodeJSON(t, e.sendJSON(t, "POST", "/api/v1/users/1/disable", adminKey, ""), 200, &changed)
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/users/"+itoa(admin.ID)+"/disable", adminKey, ""), 409, "only enabled admin")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/users/999/disable", adminKey, ""), 404, "no user 999")
		wantRoutingError(t, e.sendJSON(t, "POST", "/api/v1/users/x/enable", adminKey, ""), 400, "id")
		wantRoutingError(t, e.sendJSON(t, "POST", target+"/password", adminKey, `{"pass": 1}`), 400, "unknown field")
	})
}

func TestUsersPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e, _, _, adminSession := adminEnv(t, s)
		li, err := s.UserByEmail(ctx, testEmail)
		if err != nil {
			t.Fatal(err)
		}
		liSession := e.login(t)
		admin := []*http.Cookie{adminSession}
		zh := map[string]string{"Accept-Language": "zh-CN"}

		res := e.do(t, req{target: "/users", header: zh, cookies: admin})
		page := bodyOf(t, res)
		if res.StatusCode != 200 {
			t.Fatalf("users page: %d\n%s", res.StatusCode, page)
		}
		for _, want := range []string{"<h1>用户</h1>", testEmail, "boss@example.cn", "停用", "结束会话", "设置密码", `href="/users" data-nav="users" aria-current="page"`,
			`action="/users/` + itoa(li.ID) + `/disable"`} {
			if !strings.Contains(page, want) {
				t.Errorf("users page lacks %q", want)
			}
		}
		// Others see neither the page nor the link.
		if res := e.do(t, req{target: "/users", cookies: []*http.Cookie{liSession}}); res.StatusCode != http.StatusForbidden {
			t.Fatalf("marketer on the users page: %d", res.StatusCode)
		}
		if page := bodyOf(t, e.do(t, req{target: "/", cookies: []*http.Cookie{liSession}})); strings.Contains(page, `href="/users"`) {
			t.Error("a marketer sees the users link")
		}
		if res := e.do(t, req{method: http.MethodPost, target: "/users/" + itoa(li.ID) + "/disable", form: url.Values{}, cookies: []*http.Cookie{liSession}}); res.StatusCode != http.StatusForbidden {
			t.Fatalf("marketer disabling: %d", res.StatusCode)
		}

		res = e.do(t, req{method: http.MethodPost, target: "/users/" + itoa(li.ID) + "/disable", form: url.Values{}, cookies: admin})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/users?done=disabled" {
			t.Fatalf("disable: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res := e.do(t, req{target: "/", cookies: []*http.Cookie{liSession}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("session of a disabled user: %d", res.StatusCode)
		}
		page = bodyOf(t, e.do(t, req{target: "/users?done=disabled", header: zh, cookies: admin}))
		if !strings.Contains(page, "已停用该用户") || !strings.Contains(page, `action="/users/`+itoa(li.ID)+`/enable"`) {
			t.Fatalf("after disabling:\n%s", page)
		}
		res = e.do(t, req{method: http.MethodPost, target: "/users/" + itoa(li.ID) + "/enable", form: url.Values{}, cookies: admin})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("enable: %d", res.StatusCode)
		}

		res = e.do(t, req{method: http.MethodPost, target: "/users/" + itoa(li.ID) + "/password", header: zh, form: url.Values{"password": {"password1234"}}, cookies: admin})
		if page := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "该密码过于常见") {
			t.Fatalf("common password: %d\n%s", res.StatusCode, page)
		}
		res = e.do(t, req{method: http.MethodPost, target: "/users", form: url.Values{"email": {"wang@example.cn"}, "role": {"sales"}, "password": {"short"}}, cookies: admin})
		if page := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "at least 12 characters") || !strings.Contains(page, `value="wang@example.cn"`) {
			t.Fatalf("short password: %d\n%s", res.StatusCode, page)
		}
		res = e.do(t, req{method: http.MethodPost, target: "/users", form: url.Values{"email": {"wang@example.cn"}, "role": {"sales"}, "password": {"sales passphrase ok"}}, cookies: admin})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/users?done=created" {
			t.Fatalf("create: %d", res.StatusCode)
		}
		if _, err := s.UserByEmail(ctx, "wang@example.cn"); err != nil {
			t.Fatal(err)
		}
		if res := e.do(t, req{method: http.MethodPost, target: "/users/" + itoa(li.ID) + "/explode", form: url.Values{}, cookies: admin}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown action: %d", res.StatusCode)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
