package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var bg = context.Background()

type testServer struct {
	url      string
	c        *Collector
	reg      *prometheus.Registry
	s        *store.Store
	key      string
	keyID    int64
	notified atomic.Int64

	mu      sync.Mutex
	headers []http.Header // of every request, in order
}

// requestsWith counts the requests whose header name had value ("" = absent).
func (ts *testServer) requestsWith(name, value string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	n := 0
	for _, h := range ts.headers {
		if h.Get(name) == value {
			n++
		}
	}
	return n
}

func newTestServer(t testing.TB, s *store.Store, opts Options) *testServer {
	t.Helper()
	ts := &testServer{s: s, reg: prometheus.NewRegistry()}
	k, err := CreateWriteKey(bg, s, "test site")
	if err != nil {
		t.Fatal(err)
	}
	ts.key, ts.keyID = k.Key, k.ID
	opts.Store, opts.Registerer = s, ts.reg
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts.Notify = func() { ts.notified.Add(1) }
	// A new database anonymises addresses (migration 00021); the tests
	// here send addresses as they are unless they turn it on themselves.
	if err := s.SetSetting(bg, SettingAnonymizeIP, false); err != nil {
		t.Fatal(err)
	}
	if ts.c, err = New(opts); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ts.c.Mount(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.headers = append(ts.headers, r.Header.Clone())
		ts.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		ts.c.Close(bg)
	})
	ts.url = srv.URL
	return ts
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (ts *testServer) post(t testing.TB, path string, body []byte, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest("POST", ts.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("%s answered %d with non-JSON %q", path, res.StatusCode, raw)
	}
	return a
}

func (ts *testServer) basic() map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(ts.key+":"))}
}

func (ts *testServer) counter(t testing.TB, name, label, value string) float64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					match = true
				}
			}
			if match {
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func (ts *testServer) events(t testing.TB) []model.Event {
	t.Helper()
	evs, err := ts.s.CollectedEvents(bg, ts.keyID, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestRejectionsOverHTTP(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		revoked, _ := CreateWriteKey(bg, s, "old")
		if err := s.RevokeWriteKey(bg, revoked.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		auth := ts.basic()
		with := func(extra map[string]string) map[string]string {
			h := map[string]string{}
			for k, v := range auth {
				h[k] = v
			}
			for k, v := range extra {
				h[k] = v
			}
			return h
		}
		big := strings.Repeat("x", MaxEventBytes)
		var hugeBatch bytes.Buffer
		hugeBatch.WriteString(`{"batch":[`)
		for i := 0; hugeBatch.Len() < MaxBatchBytes+1000; i++ {
			fmt.Fprintf(&hugeBatch, `{"type":"page","anonymousId":"a","messageId":"m%d","properties":{"p":"%s"}},`, i, strings.Repeat("y", 10000))
		}
		hugeBatch.WriteString(`{"type":"page","anonymousId":"a"}]}`)
		cases := []struct {
			name   string
			path   string
			body   []byte
			header map[string]string
			status int
			reason string
			msg    string
		}{
			{"malformed JSON", "/v1/track", []byte(`{"event":`), auth, 400, ReasonMalformed, "malformed JSON"},
			{"event over 32 KB", "/v1/track", []byte(`{"event":"e","userId":"u","properties":{"x":"` + big + `"}}`), auth, 413, ReasonEventTooLarge, "32 KB"},
			{"event over 32 KB in a batch", "/v1/batch", []byte(`{"batch":[{"type":"track","event":"e","userId":"u","properties":{"x":"` + big + `"}}]}`), auth, 413, ReasonEventTooLarge, "batch[0]"},
			{"batch over 500 KB", "/v1/batch", hugeBatch.Bytes(), auth, 413, ReasonBatchTooLarge, "500 KB"},
			{"batch over 500 KB gzipped", "/v1/batch", gz(t, hugeBatch.Bytes()), with(map[string]string{"Content-Encoding": "gzip"}), 413, ReasonBatchTooLarge, "500 KB"},
			{"no userId and no anonymousId", "/v1/identify", []byte(`{"traits":{"email":"a@b.cn"}}`), auth, 400, ReasonMissingID, "no userId and no anonymousId"},
			{"track without event", "/v1/batch", []byte(`{"batch":[{"type":"page","anonymousId":"a"},{"type":"track","anonymousId":"a"}]}`), auth, 400, ReasonMissingEvent, "batch[1]: track without event"},
			{"unknown write key", "/v1/track", []byte(`{"event":"e","userId":"u"}`), map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("wk_nope:"))}, 401, ReasonUnknownWriteKey, "unknown write key"},
			{"unknown write key in body", "/v1/t", []byte(`{"event":"e","userId":"u","writeKey":"wk_nope"}`), nil, 401, ReasonUnknownWriteKey, "unknown write key"},
			{"revoked write key", "/v1/track", []byte(`{"event":"e","userId":"u"}`), map[string]string{"Authorization": "Bearer " + revoked.Key}, 401, ReasonRevokedWriteKey, "revoked"},
			{"no write key", "/v1/track", []byte(`{"event":"e","userId":"u"}`), nil, 401, ReasonNoWriteKey, "no write key"},
			{"unsupported media type", "/v1/track", []byte(`event=e`), with(map[string]string{"Content-Type": "multipart/form-data; boundary=x"}), 415, ReasonMediaType, "Content-Type"},
			{"unsupported encoding", "/v1/track", []byte(`{}`), with(map[string]string{"Content-Encoding": "br"}), 415, ReasonEncoding, "Content-Encoding"},
			{"not gzip", "/v1/track", []byte(`{"event":"e","userId":"u"}`), with(map[string]string{"Content-Encoding": "gzip"}), 400, ReasonBadCompression, "gzip"},
			{"truncated gzip", "/v1/track", gz(t, []byte(`{"event":"e","userId":"u"}`))[:20], with(map[string]string{"Content-Encoding": "gzip"}), 400, ReasonBadCompression, "gzip"},
			{"unknown type", "/v1/batch", []byte(`{"batch":[{"type":"purchase","userId":"u"}]}`), auth, 400, ReasonUnknownType, "unknown type"},
			{"empty batch", "/v1/batch", []byte(`{"batch":[]}`), auth, 400, ReasonEmptyBatch, "no events"},
		}
		for _, tc := range cases {
			before := ts.counter(t, "revloop_collector_rejected_total", "reason", tc.reason)
			a := ts.post(t, tc.path, tc.body, tc.header)
			msg, _ := a.body["error"].(string)
			if a.status != tc.status || !strings.Contains(msg, tc.msg) {
				t.Errorf("%s: %d %q; want %d containing %q", tc.name, a.status, msg, tc.status, tc.msg)
			}
			if after := ts.counter(t, "revloop_collector_rejected_total", "reason", tc.reason); after != before+1 {
				t.Errorf("%s: rejected_total{reason=%q} went from %v to %v", tc.name, tc.reason, before, after)
			}
			if tc.status == 401 && !strings.Contains(a.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%s: no WWW-Authenticate", tc.name)
			}
		}
		if n, _ := s.CountEvents(bg); n != 0 {
			t.Fatalf("rejected requests stored %d events", n)
		}
	})
}

func TestGzipBombIsBounded(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t), Options{})
	// 1 GB of spaces inside a JSON string compresses to about 1 MB; send
	// 200 MB (about 200 KB compressed).
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write([]byte(`{"batch":[{"type":"page","anonymousId":"a","properties":{"p":"`))
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range 200 {
		w.Write(chunk)
	}
	w.Write([]byte(`"}}]}`))
	w.Close()
	if buf.Len() > MaxBatchBytes {
		t.Fatalf("bomb is %d bytes compressed", buf.Len())
	}
	var before, after runtimeMem
	before.read()
	start := time.Now()
	a := ts.post(t, "/v1/batch", buf.Bytes(), map[string]string{"Content-Encoding": "gzip", "Authorization": ts.basic()["Authorization"]})
	after.read()
	if a.status != 413 || !strings.Contains(a.body["error"].(string), "500 KB") {
		t.Fatalf("gzip bomb: %d %v", a.status, a.body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gzip bomb took %s", d)
	}
	if grew := after.total - before.total; grew > 64<<20 {
		t.Errorf("gzip bomb allocated %d MB", grew>>20)
	}
}

func TestStoresEventsOnceAndNotifies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		batch := []byte(`{"sentAt":"2026-05-20T08:00:10Z","context":{"library":{"name":"analytics-test"},"locale":"zh-CN"},
			"integrations":{"All":true},
			"batch":[
			{"type":"page","messageId":"m-page","anonymousId":"anon-1","name":"定价","timestamp":"2026-05-20T08:00:00Z",
			 "context":{"userAgent":"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
			   "page":{"url":"https://www.example.cn/pricing?utm_source=baidu&utm_medium=cpc&utm_campaign=brand&utm_term=crm&utm_content=a1&bd_vid=99","referrer":"https://www.baidu.com/"}}},
			{"type":"track","messageId":"m-track","userId":"u-1","anonymousId":"anon-1","event":"Demo Requested","timestamp":"2026-05-20T08:00:05Z",
			 "properties":{"url":"https://www.example.cn/demo?gclid=CjwKCA"}},
			{"type":"identify","messageId":"m-id","userId":"u-1","traits":{"email":"wang@example.cn"}}
		]}`)
		a := ts.post(t, "/v1/batch", batch, ts.basic())
		if a.status != 200 || a.body["success"] != true {
			t.Fatalf("batch: %d %v", a.status, a.body)
		}
		evs := ts.events(t)
		if len(evs) != 3 {
			t.Fatalf("stored %d events", len(evs))
		}
		page, track, ident := evs[0], evs[1], evs[2]
		if page.MessageID != "m-page" || page.Type != model.EventPage || page.Name != "定价" || !page.Bot ||
			page.Source != "baidu" || page.Medium != "cpc" || page.Campaign != "brand" || page.Term != "crm" || page.Content != "a1" ||
			page.ClickIDType != "bd_vid" || page.ClickID != "99" || page.Referrer != "https://www.baidu.com/" || page.IP != "127.0.0.1" {
			t.Errorf("page: %+v", page)
		}
		if page.SentAt == nil || page.Timestamp.After(page.ReceivedAt.Add(-9*time.Second)) || page.Timestamp.Before(page.ReceivedAt.Add(-11*time.Second)) {
			t.Errorf("page time %s received %s sent %v: want received − 10 s", page.Timestamp, page.ReceivedAt, page.SentAt)
		}
		if track.Name != "Demo Requested" || track.UserID != "u-1" || track.ClickIDType != "gclid" || track.Bot {
			t.Errorf("track: %+v", track)
		}
		var p map[string]any
		if err := json.Unmarshal(ident.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p["context"].(map[string]any)["locale"] != "zh-CN" || p["integrations"].(map[string]any)["All"] != true ||
			p["traits"].(map[string]any)["email"] != "wang@example.cn" {
			t.Errorf("identify payload: %s", ident.Payload)
		}
		if ts.notified.Load() != 1 {
			t.Errorf("notified %d times", ts.notified.Load())
		}
		// A retry (with one more event) stores only the new one.
		retry := bytes.Replace(batch, []byte(`{"type":"identify"`), []byte(`{"type":"group","messageId":"m-g","userId":"u-1","groupId":"acme"},{"type":"identify"`), 1)
		if a := ts.post(t, "/v1/batch", retry, ts.basic()); a.status != 200 {
			t.Fatalf("retry: %d %v", a.status, a.body)
		}
		if n, _ := s.CountEvents(bg); n != 4 {
			t.Fatalf("after retry: %d events", n)
		}
		if d := ts.counter(t, "revloop_collector_events_total", "outcome", "duplicate"); d != 3 {
			t.Errorf("duplicates counted: %v", d)
		}
		if b := ts.counter(t, "revloop_collector_bot_events_total", "", ""); b != 2 {
			t.Errorf("bot events counted: %v", b)
		}
		// Without a messageId but with a timestamp, a retry is still stored once.
		for range 2 {
			if a := ts.post(t, "/v1/track", []byte(`{"event":"e","userId":"u","timestamp":"2026-05-20T08:00:00Z"}`), ts.basic()); a.status != 200 {
				t.Fatal(a)
			}
		}
		if n, _ := s.CountEvents(bg); n != 5 {
			t.Fatalf("after two sends without messageId: %d events", n)
		}
	})
}

func TestWriteKeySources(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		other, _ := CreateWriteKey(bg, s, "other")
		b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
		cases := []struct {
			name   string
			path   string
			body   string
			header map[string]string
			key    int64
		}{
			{"basic KEY:", "/v1/track", `{"event":"e","userId":"u","messageId":"1"}`, map[string]string{"Authorization": "Basic " + b64(ts.key+":")}, ts.keyID},
			{"basic without colon", "/v1/track", `{"event":"e","userId":"u","messageId":"2"}`, map[string]string{"Authorization": "Basic " + b64(ts.key)}, ts.keyID},
			{"basic without padding", "/v1/track", `{"event":"e","userId":"u","messageId":"3"}`, map[string]string{"Authorization": "basic " + strings.TrimRight(b64(ts.key), "=")}, ts.keyID},
			{"bearer", "/v1/page", `{"anonymousId":"a","messageId":"4"}`, map[string]string{"Authorization": "Bearer " + ts.key}, ts.keyID},
			{"body of a message", "/v1/p", `{"anonymousId":"a","messageId":"5","writeKey":"` + ts.key + `"}`, map[string]string{"Content-Type": "text/plain"}, ts.keyID},
			{"body of a batch", "/v1/b", `{"writeKey":"` + ts.key + `","batch":[{"type":"page","anonymousId":"a","messageId":"6"}]}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, ts.keyID},
			{"header wins over body", "/v1/track", `{"event":"e","userId":"u","messageId":"7","writeKey":"` + ts.key + `"}`, map[string]string{"Authorization": "Bearer " + other.Key}, other.ID},
			{"no content type", "/v1/import", `{"batch":[{"type":"alias","userId":"u","previousId":"a","messageId":"8"}],"writeKey":"` + other.Key + `"}`, map[string]string{"Content-Type": ""}, other.ID},
		}
		for _, tc := range cases {
			a := ts.post(t, tc.path, []byte(tc.body), tc.header)
			if a.status != 200 {
				t.Errorf("%s: %d %v", tc.name, a.status, a.body)
				continue
			}
		}
		for i, tc := range cases {
			e, err := s.EventByMessageID(bg, tc.key, fmt.Sprint(i+1))
			if err != nil {
				t.Errorf("%s: event not stored under key %d: %v", tc.name, tc.key, err)
			} else if e.UserAgent == "" {
				t.Errorf("%s: no user agent", tc.name)
			}
		}
	})
}

func TestGzipBodies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		body := gz(t, []byte(`{"batch":[{"type":"track","event":"压缩","userId":"u","messageId":"g1"}]}`))
		a := ts.post(t, "/v1/batch", body, map[string]string{"Content-Encoding": "gzip", "Authorization": "Bearer " + ts.key})
		if a.status != 200 {
			t.Fatalf("%d %v", a.status, a.body)
		}
		if e, err := s.EventByMessageID(bg, ts.keyID, "g1"); err != nil || e.Name != "压缩" {
			t.Fatalf("%+v %v", e, err)
		}
	})
}

func TestRateLimitAnswers429(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{RateLimit: RateLimit{Rate: 1, Burst: 20}})
		batch := func(from, n int) []byte {
			var parts []string
			for i := range n {
				parts = append(parts, fmt.Sprintf(`{"type":"page","anonymousId":"a","messageId":"r%d"}`, from+i))
			}
			return []byte(`{"batch":[` + strings.Join(parts, ",") + `]}`)
		}
		if a := ts.post(t, "/v1/batch", batch(0, 15), ts.basic()); a.status != 200 {
			t.Fatalf("within burst: %d %v", a.status, a.body)
		}
		a := ts.post(t, "/v1/batch", batch(15, 10), ts.basic())
		if a.status != 429 || !strings.Contains(a.body["error"].(string), "rate limit") {
			t.Fatalf("over the limit: %d %v", a.status, a.body)
		}
		if ra := a.header.Get("Retry-After"); ra != "5" {
			t.Errorf("Retry-After %q, want 5 (5 events short at 1/s)", ra)
		}
		if n, _ := s.CountEvents(bg); n != 15 {
			t.Fatalf("stored %d", n)
		}
		// The limit is a setting. Raised, it applies to the very next
		// request: the bucket emptied under the old limit starts afresh.
		if err := s.SetSetting(bg, SettingRateLimit, RateLimit{Rate: 1, Burst: 100}); err != nil {
			t.Fatal(err)
		}
		if err := ts.c.ReloadSettings(bg); err != nil {
			t.Fatal(err)
		}
		if a := ts.post(t, "/v1/batch", batch(15, 50), ts.basic()); a.status != 200 {
			t.Fatalf("limit raised: %d %v", a.status, a.body)
		}
		// Turned off.
		if err := s.SetSetting(bg, SettingRateLimit, RateLimit{Rate: 0}); err != nil {
			t.Fatal(err)
		}
		if err := ts.c.ReloadSettings(bg); err != nil {
			t.Fatal(err)
		}
		if a := ts.post(t, "/v1/batch", batch(65, 100), ts.basic()); a.status != 200 {
			t.Fatalf("limit off: %d %v", a.status, a.body)
		}
		if c := ts.counter(t, "revloop_collector_rejected_total", "reason", ReasonRateLimited); c != 1 {
			t.Errorf("rate_limited counted %v", c)
		}
	})
}

func TestIPSettings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		send := func(id, ctxIP, xff string) model.Event {
			t.Helper()
			body := `{"anonymousId":"a","messageId":"` + id + `"}`
			if ctxIP != "" {
				body = `{"anonymousId":"a","messageId":"` + id + `","context":{"ip":"` + ctxIP + `"}}`
			}
			h := ts.basic()
			if xff != "" {
				h["X-Forwarded-For"] = xff
			}
			if a := ts.post(t, "/v1/page", []byte(body), h); a.status != 200 {
				t.Fatalf("%d %v", a.status, a.body)
			}
			e, err := s.EventByMessageID(bg, ts.keyID, id)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		if e := send("1", "", "198.51.100.23"); e.IP != "127.0.0.1" {
			t.Errorf("untrusted X-Forwarded-For used: %q", e.IP)
		}
		if e := send("2", "2001:db8::77", ""); e.IP != "2001:db8::77" {
			t.Errorf("context.ip: %q", e.IP)
		}
		if err := s.SetSetting(bg, SettingTrustedProxies, []string{"127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSetting(bg, SettingAnonymizeIP, true); err != nil {
			t.Fatal(err)
		}
		if err := ts.c.ReloadSettings(bg); err != nil {
			t.Fatal(err)
		}
		if e := send("3", "", "198.51.100.23"); e.IP != "198.51.100.0" {
			t.Errorf("trusted proxy + anonymised: %q", e.IP)
		}
		e := send("4", "203.0.113.99", "")
		if e.IP != "203.0.113.0" || strings.Contains(string(e.Payload), "203.0.113.99") {
			t.Errorf("anonymised context.ip: %q %s", e.IP, e.Payload)
		}
		if e := send("5", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", ""); e.IP != "2001:db8:aaaa::" {
			t.Errorf("anonymised IPv6: %q", e.IP)
		}
	})
}

func TestRevokedKeyStopsIntake(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{KeyCacheTTL: time.Millisecond})
		if a := ts.post(t, "/v1/page", []byte(`{"anonymousId":"a"}`), ts.basic()); a.status != 200 {
			t.Fatal(a)
		}
		if err := s.RevokeWriteKey(bg, ts.keyID, time.Now()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if a := ts.post(t, "/v1/page", []byte(`{"anonymousId":"a"}`), ts.basic()); a.status != 401 {
			t.Fatalf("revoked key: %d %v", a.status, a.body)
		}
	})
}

func TestCORSAndUnknownPaths(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t), Options{})
	req, _ := http.NewRequest("OPTIONS", ts.url+"/v1/t", nil)
	req.Header.Set("Origin", "https://www.example.cn")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://www.example.cn" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	a := ts.post(t, "/v1/t", []byte(`{"event":"e","anonymousId":"a","writeKey":"`+ts.key+`"}`), map[string]string{"Origin": "https://www.example.cn", "Content-Type": "text/plain;charset=UTF-8"})
	if a.status != 200 || a.header.Get("Access-Control-Allow-Origin") != "https://www.example.cn" {
		t.Fatalf("browser post: %d %v", a.status, a.header)
	}
	res, err = http.Get(ts.url + "/v1/track")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 || !strings.Contains(res.Header.Get("Allow"), "POST") {
		t.Fatalf("GET /v1/track: %d", res.StatusCode)
	}
	if a := ts.post(t, "/v1/purchase", []byte(`{}`), nil); a.status != 404 || !strings.Contains(a.body["error"].(string), "no such collector endpoint") {
		t.Fatalf("unknown endpoint: %d %v", a.status, a.body)
	}
}

// Many concurrent requests are committed in fewer transactions, and every
// acknowledged event is stored.
func TestGroupCommitUnderConcurrency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		const clients, requests, perBatch = 16, 15, 20
		var wg sync.WaitGroup
		var failed atomic.Int64
		for c := range clients {
			wg.Go(func() {
				for r := range requests {
					var parts []string
					for i := range perBatch {
						parts = append(parts, fmt.Sprintf(`{"type":"track","event":"e","anonymousId":"a","messageId":"%d-%d-%d"}`, c, r, i))
					}
					a := ts.post(t, "/v1/batch", []byte(`{"batch":[`+strings.Join(parts, ",")+`]}`), ts.basic())
					if a.status != 200 {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if failed.Load() != 0 {
			t.Fatalf("%d requests failed", failed.Load())
		}
		if n, _ := s.CountEvents(bg); n != clients*requests*perBatch {
			t.Fatalf("stored %d events", n)
		}
		commits := ts.counter(t, "revloop_collector_commits_total", "result", "ok")
		if commits >= clients*requests {
			t.Errorf("%v commits for %d requests: no grouping", commits, clients*requests)
		}
		t.Logf("%d requests in %v commits", clients*requests, commits)
	})
}

// Close drains: every request answered 200 is stored; requests after Close
// get 503 with Retry-After; a failing store gives 503 too.
func TestCloseDrainsAndFailuresAre503(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		var wg sync.WaitGroup
		var acked sync.Map
		for c := range 8 {
			wg.Go(func() {
				for r := range 30 {
					id := fmt.Sprintf("%d-%d", c, r)
					a := ts.post(t, "/v1/track", []byte(`{"event":"e","anonymousId":"a","messageId":"`+id+`"}`), ts.basic())
					switch a.status {
					case 200:
						acked.Store(id, true)
					case 503:
						if a.header.Get("Retry-After") == "" {
							t.Errorf("503 without Retry-After")
						}
					default:
						t.Errorf("status %d %v", a.status, a.body)
					}
				}
			})
		}
		time.Sleep(20 * time.Millisecond)
		if err := ts.c.Close(bg); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		n := 0
		acked.Range(func(k, _ any) bool {
			n++
			if _, err := s.EventByMessageID(bg, ts.keyID, k.(string)); err != nil {
				t.Errorf("acknowledged %s not stored: %v", k, err)
			}
			return true
		})
		t.Logf("%d of 240 acknowledged before close", n)
		if a := ts.post(t, "/v1/track", []byte(`{"event":"e","anonymousId":"a"}`), ts.basic()); a.status != 503 {
			t.Fatalf("after close: %d", a.status)
		}

		ts2 := newTestServer(t, s, Options{})
		if a := ts2.post(t, "/v1/track", []byte(`{"event":"e","anonymousId":"a"}`), ts2.basic()); a.status != 200 {
			t.Fatal(a)
		}
		s.Close() // the database goes away
		a := ts2.post(t, "/v1/track", []byte(`{"event":"e","anonymousId":"b"}`), ts2.basic())
		if a.status != 503 || a.header.Get("Retry-After") == "" {
			t.Fatalf("store down: %d %v", a.status, a.body)
		}
	})
}
