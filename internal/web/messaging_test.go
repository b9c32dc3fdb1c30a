package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMessagingSettingsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		box, err := secret.New(bytes.Repeat([]byte{9}, secret.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		e.srv.app.Secrets = box
		admin, _, err := e.auth.CreateAPIKey(ctx, "admin", model.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		marketer := e.marketerKey(t)
		if res := e.send(t, "GET", "/api/v1/messaging/settings", marketer, "", ""); res.StatusCode != http.StatusForbidden {
			t.Fatalf("marketer reads messaging settings: %d", res.StatusCode)
		}
		// Defaults: opt-in on both channels, no caps, no secrets.
		res := e.send(t, "GET", "/api/v1/messaging/settings", admin, "", "")
		if body := bodyOf(t, res); res.StatusCode != 200 || !strings.Contains(body, `"message.consent":{"email":"opt_in","wecom":"opt_in"}`) ||
			!strings.Contains(body, `"base_url":"https://qyapi.weixin.qq.com"`) || !strings.Contains(body, `"secret_set":false`) {
			t.Fatalf("defaults: %d %s", res.StatusCode, body)
		}
		cases := []struct {
			key, body string
			code      int
			want      string
		}{
			{"message.consent", `{"email":"unless_withdrawn"}`, 200, `"message.consent":{"email":"unless_withdrawn","wecom":"opt_in"}`},
			{"message.consent", `{"sms":"opt_in"}`, 400, `setting message.consent: \"sms\": not a channel`},
			{"message.consent", `{"email":"always"}`, 400, "not opt_in or unless_withdrawn"},
			{"message.caps", `{"email":{"per_day":1,"per_week":3}}`, 200, `"message.caps":{"email":{"per_day":1,"per_week":3}}`},
			{"message.caps", `{"email":{"per_day":1000}}`, 400, "email.per_day: 1000, want 0 (no cap) to 100"},
			{"message.caps", `{"email":{"per_hour":1}}`, 400, "unknown field"},
			{"webhook.allow_ranges", `["10.20.0.0/16","192.168.1.9"]`, 200, `"webhook.allow_ranges":["10.20.0.0/16","192.168.1.9/32"]`},
			{"webhook.allow_ranges", `["intranet"]`, 400, `\"intranet\" is not a CIDR`},
			{"wecom", `{"corp_id":"ww1234","agent_id":1000002,"secret":"app-secret-XYZ"}`, 200, `"secret_set":true`},
			{"wecom", `{"corp_id":"ww1234","agent_id":0}`, 400, "agent_id: required"},
			{"wecom", `{"corp_id":"ww1234","agent_id":5,"base_url":"ftp://x"}`, 400, "base_url"},
			{"wecom", `{"corp_id":"ww1234","agent_id":5,"duplicate_check_interval":99999}`, 400, "duplicate_check_interval"},
			// No secret: the stored one is kept.
			{"wecom", `{"corp_id":"ww1234","agent_id":1000003,"base_url":"http://wecom-fake.local:9000/"}`, 200, `"agent_id":1000003,"base_url":"http://wecom-fake.local:9000"`},
			{"webhook", `{"secret":"short"}`, 400, "secret: 16 to 256 characters"},
			{"webhook", `{"secret":"whsec-0123456789abcdef"}`, 200, `"webhook":{"secret_set":true}`},
			{"smtp", `{}`, 404, "unknown messaging setting"},
		}
		for _, c := range cases {
			res := e.send(t, "PUT", "/api/v1/messaging/settings/"+c.key, admin, "application/json", c.body)
			body := bodyOf(t, res)
			if res.StatusCode != c.code || !strings.Contains(body, c.want) {
				t.Errorf("PUT %s %s: %d %s", c.key, c.body, res.StatusCode, body)
			}
			if strings.Contains(body, "app-secret-XYZ") || strings.Contains(body, "whsec-0123") || strings.Contains(body, "v1:") {
				t.Errorf("PUT %s answered with a secret: %s", c.key, body)
			}
		}
		// Stored sealed: the database holds no plain secret, the box opens it.
		var wc message.WeComSettings
		if _, err := s.Setting(ctx, message.SettingWeCom, &wc); err != nil || wc.AgentID != 1000003 {
			t.Fatalf("wecom stored: %+v %v", wc, err)
		}
		if p, err := box.Open(wc.SecretSealed); err != nil || string(p) != "app-secret-XYZ" {
			t.Fatalf("sealed secret: %q %v", p, err)
		}
		if res := e.send(t, "GET", "/api/v1/settings", admin, "", ""); strings.Contains(bodyOf(t, res), wc.SecretSealed) {
			t.Fatal("the general settings list shows the sealed secret")
		}
		// Huge body: 413.
		big := `{"email":"` + strings.Repeat("x", 70<<10) + `"}`
		if res := e.send(t, "PUT", "/api/v1/messaging/settings/message.consent", admin, "application/json", big); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("huge body: %d", res.StatusCode)
		}
		// Without a secret key, secrets cannot be set.
		e.srv.app.Secrets = nil
		res = e.send(t, "PUT", "/api/v1/messaging/settings/webhook", admin, "application/json", `{"secret":"whsec-0123456789abcdef"}`)
		if body := bodyOf(t, res); res.StatusCode != 400 || !strings.Contains(body, "--secret-key") {
			t.Fatalf("no key: %d %s", res.StatusCode, body)
		}
	})
}

func TestWeComMembersAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		admin, _, err := e.auth.CreateAPIKey(ctx, "admin", model.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.UserByEmail(ctx, testEmail)
		if err != nil {
			t.Fatal(err)
		}
		uid := strconv.FormatInt(u.ID, 10)
		for _, c := range []struct {
			target, body string
			code         int
			want         string
		}{
			{"/api/v1/wecom/members/" + uid, `{"member_id":"LiNa"}`, 200, `"member_id":"LiNa"`},
			{"/api/v1/wecom/members/" + uid, `{"member_id":"Li Na"}`, 400, "member_id: letters"},
			{"/api/v1/wecom/members/" + uid, `{"member":"LiNa"}`, 400, "unknown field"},
			{"/api/v1/wecom/members/999999", `{"member_id":"X"}`, 404, "no user 999999"},
			{"/api/v1/wecom/members/abc", `{"member_id":"X"}`, 400, "user: want a user id"},
		} {
			res := e.send(t, "PUT", c.target, admin, "application/json", c.body)
			if body := bodyOf(t, res); res.StatusCode != c.code || !strings.Contains(body, c.want) {
				t.Errorf("PUT %s %s: %d %s", c.target, c.body, res.StatusCode, body)
			}
		}
		res := e.send(t, "GET", "/api/v1/wecom/members", admin, "", "")
		var got struct {
			Members []store.WeComMember `json:"members"`
		}
		if err := json.NewDecoder(res.Body).Decode(&got); err != nil || len(got.Members) != 1 || got.Members[0].MemberID != "LiNa" || got.Members[0].Email != testEmail {
			t.Fatalf("members: %+v %v", got, err)
		}
	})
}

// The messaging page: an administrator changes the caps and a member id
// through its forms; a refused value is shown with its reason; secrets
// are never in the page; a marketer may not open it.
func TestMessagingPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		box, _ := secret.New(bytes.Repeat([]byte{9}, secret.KeySize))
		e.srv.app.Secrets = box
		c := e.loginAs(t, model.RoleAdmin)
		post := func(target string, form url.Values) *http.Response {
			return e.do(t, req{method: http.MethodPost, target: target, form: form, cookies: []*http.Cookie{c}})
		}
		body := bodyOf(t, e.do(t, req{target: "/settings/messaging?lang=zh-CN", cookies: []*http.Cookie{c}}))
		for _, want := range []string{"频次上限", `action="/settings/messaging/message.caps"`, `id="cap-email-day"`, `href="/settings/messaging"`, "尚未存储密钥"} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		res := post("/settings/messaging/message.caps", url.Values{"email.per_day": {"1"}, "email.per_week": {"3"}, "wecom.per_day": {"2"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("caps form: %d %s", res.StatusCode, bodyOf(t, res))
		}
		var caps message.Caps
		if _, err := s.Setting(ctx, message.SettingCaps, &caps); err != nil || caps["email"] != (message.Cap{PerDay: 1, PerWeek: 3}) || caps["wecom"].PerDay != 2 {
			t.Fatalf("caps stored: %+v %v", caps, err)
		}
		res = post("/settings/messaging/message.caps?lang=en", url.Values{"email.per_day": {"500"}})
		if b := bodyOf(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, "Not saved: setting message.caps: email.per_day: 500") {
			t.Fatalf("bad caps: %d %s", res.StatusCode, b)
		}
		res = post("/settings/messaging/wecom", url.Values{"corp_id": {"ww1234"}, "agent_id": {"1000002"}, "secret": {"app-secret-XYZ"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("wecom form: %d %s", res.StatusCode, bodyOf(t, res))
		}
		u, _ := s.UserByEmail(ctx, testEmail)
		res = post("/settings/messaging/members", url.Values{"member." + strconv.FormatInt(u.ID, 10): {"LiNa"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("members form: %d %s", res.StatusCode, bodyOf(t, res))
		}
		body = bodyOf(t, e.do(t, req{target: "/settings/messaging?lang=en", cookies: []*http.Cookie{c}}))
		if !strings.Contains(body, `value="LiNa"`) || !strings.Contains(body, "A secret is stored") || strings.Contains(body, "app-secret-XYZ") || strings.Contains(body, "v1:") {
			t.Fatal("page after saving: member id missing or a secret shown")
		}
		m := e.loginAs(t, model.RoleMarketer)
		if res := e.do(t, req{target: "/settings/messaging", cookies: []*http.Cookie{m}}); res.StatusCode != http.StatusForbidden {
			t.Fatalf("marketer opens the page: %d", res.StatusCode)
		}
	})
}
