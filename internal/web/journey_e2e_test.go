package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/journey"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/message/smtpsink"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// outcomesOf answers a journey's branch on an email's outcome from the
// recorded message events, as the application wires it.
type outcomesOf struct{ s *store.Store }

func (o outcomesOf) Outcome(ctx context.Context, key, kind string) (bool, error) {
	return o.s.MessageOutcome(ctx, key, kind)
}

var hrefInMail = regexp.MustCompile(`href="(https://m\.example\.cn/e/c/[^"]+)"`)

// The whole nurture loop as users drive it, with every part real: a
// backend posts "Whitepaper Downloaded" to the collector over plain HTTP;
// processing enters the journey in the same transaction; the runner
// (on a fake clock) sends the email through the consent and cap gate to a
// real SMTP server; one person clicks the tracked link, another
// unsubscribes with one click (as mail clients post it); after the wait
// the branch sees the click, and the second email is held back by the cap
// of one email a day; those who did not click go to the CRM by a signed
// webhook, and the unsubscribed person's nudge is not sent. The person
// without email consent gets no email at all.
func TestJourneyEndToEnd(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEmailEnv(t, s, true)
		sink := smtpsink.New(t)
		put := func(key, target, body string) {
			t.Helper()
			if res := e.call(t, "PUT", target, key, body); res.StatusCode != http.StatusOK {
				t.Fatalf("PUT %s: %d %s", target, res.StatusCode, bodyOf(t, res))
			}
		}
		put(e.admin, "/api/v1/settings/email.smtp", `{"host":"127.0.0.1","port":`+strconv.Itoa(sink.Port)+`,"tls":"none","from":"news@revloop.example"}`)
		put(e.admin, "/api/v1/messaging/settings/message.caps", `{"email":{"per_day":1}}`)
		put(e.admin, "/api/v1/messaging/settings/webhook.allow_ranges", `["127.0.0.0/8"]`)
		put(e.admin, "/api/v1/messaging/settings/webhook", `{"secret":"a-signing-secret-of-some-length"}`)
		// Li Lei and 韩梅梅 agreed to email; 张伟 (no answer) did not.
		put(e.marketer, "/api/v1/persons/1/consent", `{"email":"granted"}`)
		put(e.marketer, "/api/v1/persons/2/consent", `{"email":"granted"}`)

		var hooks struct {
			sync.Mutex
			bodies []string
			sigs   []string
		}
		crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			hooks.Lock()
			hooks.bodies = append(hooks.bodies, string(b))
			hooks.sigs = append(hooks.sigs, r.Header.Get(message.HeaderSignature))
			hooks.Unlock()
		}))
		defer crm.Close()

		def := fmt.Sprintf(`{"name": "Whitepaper nurture", "trigger": {"event": "Whitepaper Downloaded"}, "steps": [
			{"id": "a", "type": "email", "subject": "{{person.first_name | default:\"你好\"}}, your whitepaper", "html": "<p>Read <a href=\"https://example.cn/paper\">the paper</a></p>", "text": "Read it."},
			{"id": "w", "type": "wait", "for": "12h"},
			{"id": "clicked", "type": "branch", "if": {"step": "a", "outcome": "clicked"}, "else": "crm"},
			{"id": "b", "type": "email", "subject": "The next chapter", "text": "Chapter two.", "next": "end"},
			{"id": "crm", "type": "webhook", "url": %q},
			{"id": "nudge", "type": "email", "subject": "Did you get a chance to read it?", "text": "Here it is again."},
			{"id": "end", "type": "exit"}]}`, crm.URL+"/hook")
		res := e.call(t, "POST", "/api/v1/journeys", e.marketer, def)
		var d model.JourneyDetail
		if err := json.NewDecoder(res.Body).Decode(&d); err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %v", res.StatusCode, err)
		}
		if res := e.call(t, "POST", fmt.Sprintf("/api/v1/journeys/%d/activate", d.ID), e.marketer, ""); res.StatusCode != http.StatusOK {
			t.Fatalf("activate: %d", res.StatusCode)
		}

		// A backend posts the downloads as plain HTTP, with the address in
		// context.traits.
		wk, err := collect.CreateWriteKey(ctx, s, "backend")
		if err != nil {
			t.Fatal(err)
		}
		batch := `{"batch": [
			{"type": "track", "event": "Whitepaper Downloaded", "messageId": "m1", "anonymousId": "x1", "context": {"traits": {"email": "li.lei@jia.cn"}}},
			{"type": "track", "event": "Whitepaper Downloaded", "messageId": "m2", "anonymousId": "x2", "context": {"traits": {"email": "han@jia.cn"}}},
			{"type": "track", "event": "Whitepaper Downloaded", "messageId": "m3", "anonymousId": "x3", "context": {"traits": {"email": "zhang.wei@yi.cn"}}}]}`
		if code := e.collect(t, "/v1/batch", wk.Key, batch); code != http.StatusOK {
			t.Fatalf("collector: %d", code)
		}
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}

		now := time.Now()
		clock := func() time.Time { return now }
		gate := message.NewGate(s)
		run := journey.NewRunner(s, journey.Options{Now: clock, Outcomes: outcomesOf{s},
			Sender: &message.Dispatcher{Gate: gate, Senders: map[string]message.Sender{
				message.ChannelEmail: e.srv.app.Email, message.ChannelWebhook: message.NewWebhook(s, e.box)}}})
		drain := func() {
			t.Helper()
			if _, err := run.Drain(ctx); err != nil {
				t.Fatal(err)
			}
		}
		drain()
		st, err := s.JourneyStats(ctx, d.ID, now)
		if err != nil || st.Entered != 3 {
			t.Fatalf("entered %d, want 3: %v", st.Entered, err)
		}
		sink.Mu.Lock()
		rcpt := append([]string(nil), sink.Rcpt...)
		msgs := append([]string(nil), sink.Msgs...)
		sink.Mu.Unlock()
		if strings.Join(sortedCopy(rcpt), ",") != "han@jia.cn,li.lei@jia.cn" {
			t.Fatalf("first email went to %v", rcpt)
		}
		var liLei *netmail.Message
		for _, raw := range msgs {
			m, err := netmail.ReadMessage(strings.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(m.Header.Get("To"), "li.lei@jia.cn") {
				liLei = m
			}
		}
		key := fmt.Sprintf("j%d.v1.a.p1.e1", d.ID)
		if liLei == nil || liLei.Header.Get("Message-Id") != "<"+key+"@revloop.example>" ||
			liLei.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(liLei.Header.Get("List-Unsubscribe"), "<https://m.example.cn/u/") {
			t.Fatalf("Li Lei's email: %v", liLei)
		}
		tl, err := s.JourneyTimeline(ctx, d.ID, 3)
		if err != nil || len(tl.Entries) != 1 || tl.Entries[0].Steps[0].Status != model.LedgerSkipped || tl.Entries[0].Steps[0].Reason != "no_consent" {
			t.Fatalf("张伟 without consent: %+v %v", tl, err)
		}

		// Li Lei clicks the tracked link in the email.
		body, _ := io.ReadAll(liLei.Body)
		m := hrefInMail.FindSubmatch(qpDecode(body))
		if m == nil {
			t.Fatalf("no tracked link in %s", body)
		}
		u, _ := url.Parse(string(m[1]))
		if res := e.do(t, req{target: u.RequestURI(), header: map[string]string{"User-Agent": "Mozilla/5.0 (Macintosh) Safari/605"}}); res.StatusCode != http.StatusFound ||
			res.Header.Get("Location") != "https://example.cn/paper" {
			t.Fatalf("click: %d %s", res.StatusCode, res.Header.Get("Location"))
		}

		// 韩梅梅 unsubscribes with one click, as her mail client posts it.
		var han *netmail.Message
		for _, raw := range msgs {
			if m, _ := netmail.ReadMessage(strings.NewReader(raw)); m != nil && strings.Contains(m.Header.Get("To"), "han@jia.cn") {
				han = m
			}
		}
		unsub, _ := url.Parse(strings.Trim(han.Header.Get("List-Unsubscribe"), "<>"))
		if res := e.do(t, req{method: http.MethodPost, target: unsub.Path, form: url.Values{"List-Unsubscribe": {"One-Click"}},
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}}); res.StatusCode != http.StatusOK {
			t.Fatalf("one-click: %d", res.StatusCode)
		}

		// Half a day later: Li Lei clicked, so the next chapter — held
		// back by the cap of one email a day; 韩梅梅 did not click, so the
		// CRM hears of her (and of 张伟), and her nudge is not sent: she
		// withdrew. Nothing more reaches the SMTP server.
		now = now.Add(13 * time.Hour)
		drain()
		sink.Mu.Lock()
		n := len(sink.Msgs)
		sink.Mu.Unlock()
		if n != 2 {
			t.Fatalf("after the wait: %d emails, want the first 2 only", n)
		}
		step := func(pid int64, id string) model.JourneyLedgerRow {
			t.Helper()
			tl, err := s.JourneyTimeline(ctx, d.ID, pid)
			if err != nil || len(tl.Entries) != 1 {
				t.Fatalf("timeline of %d: %+v %v", pid, tl, err)
			}
			for _, r := range tl.Entries[0].Steps {
				if r.StepID == id {
					return r
				}
			}
			t.Fatalf("person %d has no step %s: %+v", pid, id, tl.Entries[0].Steps)
			return model.JourneyLedgerRow{}
		}
		if r := step(1, "b"); r.Status != model.LedgerSkipped || r.Reason != "frequency_cap" {
			t.Errorf("Li Lei's next chapter: %+v", r)
		}
		if r := step(2, "nudge"); r.Status != model.LedgerSkipped || r.Reason != "withdrawn" {
			t.Errorf("韩梅梅's nudge: %+v", r)
		}
		if r := step(3, "nudge"); r.Status != model.LedgerSkipped || r.Reason != "no_consent" {
			t.Errorf("张伟's nudge: %+v", r)
		}
		hooks.Lock()
		got := strings.Join(hooks.bodies, "\n")
		if len(hooks.bodies) != 2 || !strings.Contains(got, `"han@jia.cn"`) || !strings.Contains(got, `"zhang.wei@yi.cn"`) || strings.Contains(got, "li.lei") {
			t.Fatalf("webhooks %v", hooks.bodies)
		}
		for i := range hooks.bodies {
			if !message.VerifySignature([]byte("a-signing-secret-of-some-length"), hooks.sigs[i], []byte(hooks.bodies[i]), time.Now(), 5*time.Minute) {
				t.Errorf("webhook %d's signature does not verify", i)
			}
		}
		hooks.Unlock()
		st, _ = s.JourneyStats(ctx, d.ID, now)
		if st.Completed+st.Exited != 3 || st.Active != 0 {
			t.Errorf("after the run: %+v", st)
		}
	})
}

// qpDecode undoes the quoted-printable soft breaks and =3D of a body,
// enough to find a link in it.
func qpDecode(b []byte) []byte {
	s := strings.ReplaceAll(string(b), "=\r\n", "")
	s = strings.ReplaceAll(s, "=\n", "")
	return []byte(strings.ReplaceAll(s, "=3D", "="))
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
