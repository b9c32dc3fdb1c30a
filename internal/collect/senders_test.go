package collect

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// A backend calling the HTTP API directly, with whatever HTTP client it
// has, is a person's server: its identify and form fill make a person, a
// touch and a lead. Only the person's own user agent (context.userAgent)
// can make a message a bot's.
func TestServerSideSendersArePeople(t *testing.T) {
	clients := []string{"curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1", "Java/17.0.2", "okhttp/4.12.0",
		"axios/1.6.0", "Apache-HttpClient/4.5.14 (Java/17)", ""}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(ts.key+":"))
		send := func(path, userAgent, body string) {
			t.Helper()
			req, err := http.NewRequest(http.MethodPost, ts.url+path, bytes.NewReader([]byte(body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", auth)
			// An empty value makes the transport send no User-Agent at all.
			req.Header["User-Agent"] = []string{userAgent}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s from %q: status %d", path, userAgent, res.StatusCode)
			}
		}
		for i, ua := range clients {
			user := fmt.Sprintf("backend-user-%d", i)
			send("/v1/identify", ua, fmt.Sprintf(`{"userId":%q,"traits":{"email":"person%d@acme-robotics.cn"}}`, user, i))
			send("/v1/track", ua, fmt.Sprintf(`{"userId":%q,"event":"Form Submitted","properties":{"form":"contact"}}`, user))
		}
		// The person's own browser is a crawler: still a bot, whoever posts.
		send("/v1/page", "python-requests/2.31.0",
			`{"anonymousId":"crawler-1","name":"Pricing","context":{"userAgent":"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}}`)
		if n := ts.requestsWith("User-Agent", ""); n != 2 {
			t.Fatalf("%d requests arrived without a User-Agent, want 2", n)
		}
		if _, err := process.ProcessPending(bg, s); err != nil {
			t.Fatal(err)
		}
		for i, ua := range clients {
			p, err := s.PersonByIdentity(bg, model.IdentityUserID, fmt.Sprintf("backend-user-%d", i))
			if err != nil {
				t.Errorf("%q: no person: %v", ua, err)
				continue
			}
			if p.Stage != model.StageLead || p.Touchpoints < 1 {
				t.Errorf("%q: stage %s, %d touchpoints; want a lead with a touch", ua, p.Stage, p.Touchpoints)
			}
			if byEmail, err := s.PersonByIdentity(bg, model.IdentityEmail, fmt.Sprintf("person%d@acme-robotics.cn", i)); err != nil || byEmail.ID != p.ID {
				t.Errorf("%q: the email belongs to person %d, not %d (%v)", ua, byEmail.ID, p.ID, err)
			}
		}
		var crawler model.Event
		for _, e := range ts.events(t) {
			if e.Bot != (e.AnonymousID == "crawler-1") {
				t.Errorf("event %s (%s, %q): bot %v", e.MessageID, e.Type, e.UserAgent, e.Bot)
			}
			if e.AnonymousID == "crawler-1" {
				crawler = e
			}
		}
		if !strings.Contains(crawler.UserAgent, "Googlebot") {
			t.Errorf("crawler's page stored with user agent %q", crawler.UserAgent)
		}
		if p, err := s.PersonByIdentity(bg, model.IdentityAnonymousID, "crawler-1"); err == nil && p.Touchpoints != 0 {
			t.Errorf("the crawler's page view made %d touchpoints", p.Touchpoints)
		}
	})
}
