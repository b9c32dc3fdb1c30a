package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// adminKey is an API key allowed to change settings.
func (e *env) adminKey(t *testing.T) string {
	t.Helper()
	key, _, err := e.auth.CreateAPIKey(ctx, "admin", model.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// putSetting changes a setting through the API.
func (e *env) putSetting(t *testing.T, admin, key, value string) {
	t.Helper()
	if res := e.send(t, http.MethodPut, "/api/v1/settings/"+key, admin, "application/json", value); res.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s %s: %d %s", key, value, res.StatusCode, bodyOf(t, res))
	}
}

// collect posts a collector message with a write key (Basic auth), as a
// backend does; it returns the status.
func (e *env) collect(t *testing.T, path, writeKey, body string) int {
	t.Helper()
	hr := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	hr.SetBasicAuth(writeKey, "")
	hr.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec.Code
}

// Clicks and pixel hits go through the collector: behind a trusted proxy
// they record the visitor's address, not the proxy's, anonymised when that
// is on, and a crawler's click is flagged as a bot.
func TestClicksAndPixelsBehindTrustedProxy(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		startApp(t, e.srv) // the stored addresses are anonymised by a job
		admin := e.adminKey(t)
		// A new database anonymises addresses; this test turns it on later.
		e.putSetting(t, admin, collect.SettingAnonymizeIP, "false")
		l := createLink(t, e, e.marketerKey(t), map[string]string{"campaign": "web-1", "url": "https://example.cn/webinar"})
		wk, err := collect.CreateWriteKey(ctx, s, "email")
		if err != nil {
			t.Fatal(err)
		}
		const browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36"
		const crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
		hit := func(target, userAgent string) {
			t.Helper()
			// httptest requests come from 192.0.2.1, the proxy here.
			res := e.do(t, req{target: target, header: map[string]string{"User-Agent": userAgent, "X-Forwarded-For": "198.51.100.23"}})
			if res.StatusCode != http.StatusFound && res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", target, res.StatusCode)
			}
		}
		n := 0
		pixel := func() string {
			n++
			return "/p.gif?" + url.Values{"k": {wk.Key}, "aid": {"reader-12345678"}, "mid": {fmt.Sprintf("open-%d", n)}}.Encode()
		}
		click := "/r/" + l.Code
		hit(click, browser)
		hit(pixel(), browser)
		e.putSetting(t, admin, collect.SettingTrustedProxies, `["192.0.2.0/24"]`)
		hit(click, browser)
		hit(pixel(), browser)
		hit(click, crawler)
		e.putSetting(t, admin, collect.SettingAnonymizeIP, `true`)
		hit(click, browser)
		hit(pixel(), browser)

		want := []struct {
			name, ip string
			bot      bool
		}{
			// Turning anonymisation on rewrites the addresses stored before.
			{"Tracked Link Clicked", "192.0.2.0", false}, // no trusted proxy: X-Forwarded-For is anyone's to write
			{"Email Opened", "192.0.2.0", false},
			{"Tracked Link Clicked", "198.51.100.0", false},
			{"Email Opened", "198.51.100.0", false},
			{"Tracked Link Clicked", "198.51.100.0", true},
			{"Tracked Link Clicked", "198.51.100.0", false},
			{"Email Opened", "198.51.100.0", false},
		}
		db := rawDB(t, s)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var full int
			if err := db.QueryRow("SELECT COUNT(*) FROM events WHERE ip IN ('192.0.2.1', '198.51.100.23')").Scan(&full); err != nil {
				t.Fatal(err)
			}
			if full == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d stored addresses not anonymised", full)
			}
		}
		rows, err := db.Query("SELECT name, ip, bot, payload FROM events ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		i := 0
		for ; rows.Next(); i++ {
			var name, ip, payload string
			var bot bool
			if err := rows.Scan(&name, &ip, &bot, &payload); err != nil {
				t.Fatal(err)
			}
			if i >= len(want) {
				continue
			}
			if w := want[i]; name != w.name || ip != w.ip || bot != w.bot {
				t.Errorf("event %d: %s from %s bot %v; want %s from %s bot %v", i, name, ip, bot, w.name, w.ip, w.bot)
			}
			if strings.Contains(payload, "198.51.100.23") {
				t.Errorf("event %d: payload keeps the full address: %s", i, payload)
			}
		}
		if i != len(want) {
			t.Errorf("%d events, want %d", i, len(want))
		}
	})
}

// A visitor who already has an anonymous id of their own comes back
// through a tracked link: the browser SDK keeps its id and names the
// click's in context.revloop.link_anonymous_id, and the click's touch
// joins the visitor's.
func TestLinkAnonymousIDStitchesVisitor(t *testing.T) {
	for _, returning := range []bool{false, true} {
		t.Run(fmt.Sprintf("returning=%v", returning), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, s *store.Store) {
				e := newEnv(t, s)
				l := createLink(t, e, e.marketerKey(t), map[string]string{"campaign": "web-1", "url": "https://example.cn/webinar"})
				site, err := collect.CreateWriteKey(ctx, s, "www.example.cn")
				if err != nil {
					t.Fatal(err)
				}
				const visitor = "visitor-b-0001"
				page := func(id, extra string) {
					t.Helper()
					body := `{"anonymousId":"` + visitor + `","messageId":"` + id + `","name":"Webinar","context":{"userAgent":"Mozilla/5.0 Chrome/124.0"` + extra + `}}`
					if code := e.collect(t, "/v1/page", site.Key, body); code != http.StatusOK {
						t.Fatalf("page: %d", code)
					}
				}
				wantTouches := int64(2)
				if returning {
					page("before", "")
					wantTouches++
				}
				res := e.do(t, req{target: "/r/" + l.Code, header: map[string]string{"User-Agent": "Mozilla/5.0 Chrome/124.0"}})
				c := cookieNamed(res, anonCookie)
				if res.StatusCode != http.StatusFound || c == nil {
					t.Fatalf("click: %d", res.StatusCode)
				}
				if _, err := process.ProcessPending(ctx, s); err != nil {
					t.Fatal(err)
				}
				page("landing", `,"revloop":{"link_anonymous_id":"`+c.Value+`"}`)
				if _, err := process.ProcessPending(ctx, s); err != nil {
					t.Fatal(err)
				}
				a, err := s.PersonByIdentity(ctx, model.IdentityAnonymousID, c.Value)
				if err != nil {
					t.Fatalf("the click's anonymous id: %v", err)
				}
				b, err := s.PersonByIdentity(ctx, model.IdentityAnonymousID, visitor)
				if err != nil {
					t.Fatalf("the visitor's anonymous id: %v", err)
				}
				if a.ID != b.ID || b.Touchpoints != wantTouches {
					t.Errorf("click's person %d, visitor's %d with %d touchpoints; want one person with %d", a.ID, b.ID, b.Touchpoints, wantTouches)
				}
			})
		})
	}
}

// A rate limit changed through the settings API applies to the very next
// request, raised or turned off.
func TestRateLimitSettingAppliesAtOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		admin := e.adminKey(t)
		wk, err := collect.CreateWriteKey(ctx, s, "backend")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		batch := func(size int) string {
			var parts []string
			for range size {
				n++
				parts = append(parts, fmt.Sprintf(`{"type":"track","event":"Signed Up","userId":"u-%d"}`, n))
			}
			return `{"batch":[` + strings.Join(parts, ",") + `]}`
		}
		e.putSetting(t, admin, collect.SettingRateLimit, `{"events_per_second": 1, "burst": 10}`)
		steps := []struct {
			setting string // PUT before sending, if any
			size    int
			code    int
		}{
			{"", 10, http.StatusOK},
			{"", 5, http.StatusTooManyRequests},
			{`{"events_per_second": 1000, "burst": 100}`, 100, http.StatusOK},
			{"", 50, http.StatusTooManyRequests},
			{`{"events_per_second": 0, "burst": 0}`, 500, http.StatusOK},
			{"", 500, http.StatusOK},
		}
		for i, st := range steps {
			if st.setting != "" {
				e.putSetting(t, admin, collect.SettingRateLimit, st.setting)
			}
			if code := e.collect(t, "/v1/batch", wk.Key, batch(st.size)); code != st.code {
				t.Errorf("step %d (%s, %d events): %d, want %d", i, st.setting, st.size, code, st.code)
			}
		}
	})
}

// /api/v1/stats and /metrics report the processing backlog: how many
// events wait and how long the oldest has.
func TestProcessingBacklogIsReported(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		wk, err := collect.CreateWriteKey(ctx, s, "backend")
		if err != nil {
			t.Fatal(err)
		}
		type backlog struct {
			events              int64
			metricEvents        float64
			statsAge, metricAge float64
		}
		read := func() backlog {
			t.Helper()
			var st struct {
				Processing struct {
					BacklogEvents int64      `json:"backlog_events"`
					OldestAt      *time.Time `json:"oldest_unprocessed_at"`
					Age           float64    `json:"oldest_unprocessed_age_seconds"`
				} `json:"processing"`
				Persons int64 `json:"persons"`
			}
			decodeJSON(t, e.api(t, "/api/v1/stats"), http.StatusOK, &st)
			if st.Persons == 0 {
				t.Error("stats lost their totals")
			}
			if (st.Processing.OldestAt == nil) != (st.Processing.BacklogEvents == 0) {
				t.Errorf("oldest_unprocessed_at %v with %d events waiting", st.Processing.OldestAt, st.Processing.BacklogEvents)
			}
			metrics := bodyOf(t, e.do(t, req{target: "/metrics"}))
			gauge := func(name string) float64 {
				m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(metrics)
				if m == nil {
					t.Fatalf("metrics lack %s", name)
				}
				v, _ := strconv.ParseFloat(m[1], 64)
				return v
			}
			return backlog{events: st.Processing.BacklogEvents, statsAge: st.Processing.Age,
				metricEvents: gauge("revloop_processing_backlog_events"), metricAge: gauge("revloop_processing_backlog_oldest_seconds")}
		}
		check := func(step string, events int64, minAge, maxAge float64) {
			t.Helper()
			b := read()
			if b.events != events || b.metricEvents != float64(events) {
				t.Errorf("%s: %d events waiting (stats), %v (metrics); want %d", step, b.events, b.metricEvents, events)
			}
			for _, age := range []float64{b.statsAge, b.metricAge} {
				if age < minAge || age > maxAge {
					t.Errorf("%s: oldest waited %v s, want %v to %v", step, age, minAge, maxAge)
				}
			}
		}
		check("nothing stored", 0, 0, 0)
		hourAgo := time.Now().Add(-time.Hour)
		if _, err := s.AppendEvents(ctx, []model.Event{{WriteKeyID: wk.ID, MessageID: "old", Type: model.EventTrack, Name: "Signed Up",
			UserID: "u-old", Timestamp: hourAgo, ReceivedAt: hourAgo, Payload: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		if code := e.collect(t, "/v1/batch", wk.Key, `{"batch":[{"type":"track","event":"Signed Up","userId":"u-1"},{"type":"page","userId":"u-1"}]}`); code != http.StatusOK {
			t.Fatalf("batch: %d", code)
		}
		// The collector processes what it stores in the same transaction:
		// only the event stored the plain way waits.
		check("three stored", 1, 3590, 3700)
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}
		check("all processed", 0, 0, 0)
	})
}

// The stats answer keeps its shape: the totals and the processing block.
func TestStatsJSONShape(t *testing.T) {
	b, _ := json.Marshal(statsJSON{Processing: processingView(store.Backlog{Events: 2}, time.Now())})
	for _, want := range []string{`"persons":0`, `"processing":{"backlog_events":2,"oldest_unprocessed_at":null,"oldest_unprocessed_age_seconds":0}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}
