package collect

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/revloop/revloop/internal/model"
)

var received = time.Date(2026, 5, 20, 8, 0, 0, 0, time.UTC)

func decodeOK(t *testing.T, kind Kind, body string) Decoded {
	t.Helper()
	d, err := Decode(Input{Kind: kind, Body: []byte(body), ReceivedAt: received, RemoteIP: "203.0.113.9", UserAgent: "ua-header"})
	if err != nil {
		t.Fatalf("Decode(%s): %v", body, err)
	}
	return d
}

func TestDecodeRejections(t *testing.T) {
	big := strings.Repeat("x", MaxEventBytes)
	cases := []struct {
		name   string
		kind   Kind
		body   string
		status int
		reason string
		msg    string
	}{
		{"malformed", "track", `{"event":"x",`, 400, ReasonMalformed, "malformed JSON"},
		{"not an object", "track", `[1,2]`, 400, ReasonMalformed, "not a JSON object"},
		{"malformed batch", KindBatch, `{"batch":[{]}`, 400, ReasonMalformed, "malformed JSON"},
		{"batch not a list", KindBatch, `{"batch":{}}`, 400, ReasonMalformed, "malformed JSON"},
		{"batch element not an object", KindBatch, `{"batch":[{"type":"page","anonymousId":"a"},"x"]}`, 400, ReasonMalformed, "batch[1]: not a JSON object"},
		{"empty batch", KindBatch, `{"batch":[]}`, 400, ReasonEmptyBatch, "no events"},
		{"event over 32 KB", "track", `{"event":"x","anonymousId":"a","properties":{"p":"` + big + `"}}`, 413, ReasonEventTooLarge, "32 KB"},
		{"event over 32 KB in batch", KindBatch, `{"batch":[{"type":"track","event":"x","anonymousId":"a","properties":{"p":"` + big + `"}}]}`, 413, ReasonEventTooLarge, "batch[0]: event is"},
		{"batch over 500 KB", KindBatch, `{"batch":[` + strings.Repeat(`{"type":"page","anonymousId":"a","properties":{"p":"`+strings.Repeat("y", 20000)+`"}},`, 26) + `{}]}`, 413, ReasonBatchTooLarge, "500 KB"},
		{"no ids", "track", `{"event":"Signed Up","userId":"","anonymousId":null}`, 400, ReasonMissingID, "no userId and no anonymousId"},
		{"blank ids", "page", `{"userId":"  "}`, 400, ReasonMissingID, "no userId"},
		{"no ids in batch", KindBatch, `{"batch":[{"type":"page","anonymousId":"a"},{"type":"identify","traits":{}}]}`, 400, ReasonMissingID, "batch[1]"},
		{"track without event", "track", `{"userId":"u1","properties":{}}`, 400, ReasonMissingEvent, "track without event"},
		{"track with empty event", KindBatch, `{"batch":[{"type":"track","userId":"u1","event":""}]}`, 400, ReasonMissingEvent, "batch[0]: track without event"},
		{"unknown type", KindBatch, `{"batch":[{"type":"purchase","userId":"u1"}]}`, 400, ReasonUnknownType, `unknown type "purchase"`},
		{"missing type in batch", KindBatch, `{"batch":[{"userId":"u1"}]}`, 400, ReasonUnknownType, "missing type"},
		{"group without groupId", "group", `{"userId":"u1"}`, 400, ReasonMissingGroupID, "groupId"},
		{"alias without previousId", "alias", `{"userId":"u1"}`, 400, ReasonMissingPrevious, "previousId"},
		{"object user id", "identify", `{"userId":{"id":1}}`, 400, ReasonBadField, "userId must be a string"},
		{"nested too deeply", KindBatch, `{"batch":[{"type":"page","anonymousId":"a","properties":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}]}`, 400, ReasonMalformed, "nested 103 levels deep"},
		{"brackets inside strings do not count", "page", `{"anonymousId":"` + strings.Repeat(`[`, 100) + `","x":{"y":"\"{"}}`, 0, "", ""},
		{"batch context not an object", KindBatch, `{"context":[1],"batch":[{"type":"page","anonymousId":"a"}]}`, 400, ReasonBadField, "context must be an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(Input{Kind: tc.kind, Body: []byte(tc.body), ReceivedAt: received})
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			rej, ok := err.(*Rejection)
			if !ok {
				t.Fatalf("err = %v, want a rejection", err)
			}
			if rej.Status != tc.status || rej.Reason != tc.reason || !strings.Contains(rej.Msg, tc.msg) {
				t.Fatalf("got %d %s %q; want %d %s containing %q", rej.Status, rej.Reason, rej.Msg, tc.status, tc.reason, tc.msg)
			}
		})
	}
}

func TestDecodeTimestamps(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		body string
		want time.Time
		sent string // "" = no sentAt stored
	}{
		{"sentAt corrects a fast clock", "track",
			`{"event":"e","anonymousId":"a","timestamp":"2026-05-20T08:10:00Z","sentAt":"2026-05-20T08:10:05Z"}`,
			received.Add(-5 * time.Second), "2026-05-20T08:10:05Z"},
		{"sentAt corrects a slow clock with zones and fractions", "page",
			`{"anonymousId":"a","timestamp":"2026-05-20T15:59:58.250+08:00","sentAt":"2026-05-20T15:59:59.000+08:00"}`,
			received.Add(-750 * time.Millisecond), "2026-05-20T07:59:59Z"},
		{"batch-level sentAt", KindBatch,
			`{"sentAt":"2026-05-19T00:00:10Z","batch":[{"type":"page","anonymousId":"a","timestamp":"2026-05-19T00:00:00Z"}]}`,
			received.Add(-10 * time.Second), "2026-05-19T00:00:10Z"},
		{"event sentAt beats batch sentAt", KindBatch,
			`{"sentAt":"2026-05-19T00:00:10Z","batch":[{"type":"page","anonymousId":"a","timestamp":"2026-05-19T00:00:00Z","sentAt":"2026-05-19T00:00:03Z"}]}`,
			received.Add(-3 * time.Second), "2026-05-19T00:00:03Z"},
		{"no sentAt: timestamp as given", "identify",
			`{"userId":"u","timestamp":"2026-01-02T03:04:05.123456Z"}`,
			time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC), ""},
		{"originalTimestamp (RudderStack)", "track",
			`{"event":"e","userId":"u","originalTimestamp":"2026-05-20T08:00:00Z","sentAt":"2026-05-20T08:00:02Z"}`,
			received.Add(-2 * time.Second), "2026-05-20T08:00:02Z"},
		{"no timestamp: received", "track", `{"event":"e","userId":"u"}`, received, ""},
		{"no timestamp but sentAt: received", "track", `{"event":"e","userId":"u","sentAt":"2020-01-01T00:00:00Z"}`, received, "2020-01-01T00:00:00Z"},
		{"unreadable timestamp: received", "track", `{"event":"e","userId":"u","timestamp":"yesterday"}`, received, ""},
		{"timestamp without zone is UTC", "track", `{"event":"e","userId":"u","timestamp":"2026-03-04T05:06:07"}`,
			time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), ""},
		{"epoch milliseconds", "track", `{"event":"e","userId":"u","timestamp":1767225600000}`,
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := decodeOK(t, tc.kind, tc.body).Events[0]
			if !e.Timestamp.Equal(tc.want) {
				t.Errorf("timestamp %s, want %s", e.Timestamp, tc.want)
			}
			if !e.ReceivedAt.Equal(received) {
				t.Errorf("receivedAt %s", e.ReceivedAt)
			}
			switch {
			case tc.sent == "" && e.SentAt != nil:
				t.Errorf("sentAt %s, want none", e.SentAt)
			case tc.sent != "":
				want, _ := time.Parse(time.RFC3339, tc.sent)
				if e.SentAt == nil || !e.SentAt.Equal(want) {
					t.Errorf("sentAt %v, want %s", e.SentAt, want)
				}
			}
		})
	}
}

func TestDecodeBatchContextMerge(t *testing.T) {
	d := decodeOK(t, KindBatch, `{
		"writeKey": "wk_body",
		"context": {"library": {"name": "lib", "version": "1"}, "ip": "198.51.100.7", "locale": "zh-CN",
			"page": {"url": "https://x.cn/?utm_source=batch"}},
		"integrations": {"All": true, "Mixpanel": false},
		"batch": [
			{"type": "page", "anonymousId": "a1", "messageId": "m1",
			 "context": {"locale": "en-US", "library": {"version": "2"}}, "integrations": {"Mixpanel": true}},
			{"type": "track", "event": "Clicked", "userId": "u1", "messageId": "m2"}
		]}`)
	if d.WriteKey != "wk_body" || len(d.Events) != 2 {
		t.Fatalf("decoded %+v", d)
	}
	var p1, p2 map[string]any
	if err := json.Unmarshal(d.Events[0].Payload, &p1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(d.Events[1].Payload, &p2); err != nil {
		t.Fatal(err)
	}
	ctx1 := p1["context"].(map[string]any)
	if ctx1["locale"] != "en-US" || ctx1["ip"] != "198.51.100.7" ||
		ctx1["library"].(map[string]any)["name"] != "lib" || ctx1["library"].(map[string]any)["version"] != "2" {
		t.Errorf("event 1 context: %v", ctx1)
	}
	if in := p1["integrations"].(map[string]any); in["All"] != true || in["Mixpanel"] != true {
		t.Errorf("event 1 integrations: %v", in)
	}
	ctx2 := p2["context"].(map[string]any)
	if ctx2["locale"] != "zh-CN" || p2["integrations"].(map[string]any)["Mixpanel"] != false || p2["event"] != "Clicked" {
		t.Errorf("event 2 payload: %v", p2)
	}
	for _, e := range d.Events {
		if e.IP != "198.51.100.7" || e.Source != "batch" || e.URL != "https://x.cn/?utm_source=batch" {
			t.Errorf("merged context not used for %s: ip %q source %q url %q", e.MessageID, e.IP, e.Source, e.URL)
		}
	}
}

func TestDecodeFields(t *testing.T) {
	d := decodeOK(t, KindBatch, `{"batch":[
		{"type":"page","name":"Pricing","anonymousId":"anon-1","messageId":"p1",
		 "context":{"userAgent":"Mozilla/5.0 Chrome/120","page":{"url":"https://x.cn/pricing?utm_source=baidu&utm_medium=cpc&utm_campaign=brand&bd_vid=778","referrer":"https://www.baidu.com/"},
		           "campaign":{"source":"ctx-source","name":"ctx-campaign"}}},
		{"type":"track","event":"Demo Requested","userId":42,"anonymousId":"anon-1","messageId":"t1",
		 "properties":{"url":"https://x.cn/demo?gclid=CjwK&utm_term=crm","referrer":"https://google.com"}},
		{"type":"identify","userId":"u-42","traits":{"email":"a@b.cn"},"messageId":"i1","context":{"page":{"search":"?clickid=B.oe1&utm_content=video"}}},
		{"type":"group","userId":"u-42","groupId":"acme","messageId":"g1"},
		{"type":"alias","userId":"u-42","previousId":"anon-1","messageId":"a1"},
		{"type":"screen","name":"Home","anonymousId":"app-1","messageId":"s1"}
	]}`)
	e := d.Events
	if e[0].Type != model.EventPage || e[0].Name != "Pricing" || e[0].AnonymousID != "anon-1" || e[0].UserAgent != "Mozilla/5.0 Chrome/120" ||
		e[0].Referrer != "https://www.baidu.com/" || e[0].Source != "ctx-source" || e[0].Medium != "cpc" || e[0].Campaign != "ctx-campaign" ||
		e[0].ClickIDType != "bd_vid" || e[0].ClickID != "778" || e[0].IP != "203.0.113.9" {
		t.Errorf("page: %+v", e[0])
	}
	if e[1].Name != "Demo Requested" || e[1].UserID != "42" || e[1].URL != "https://x.cn/demo?gclid=CjwK&utm_term=crm" ||
		e[1].Referrer != "https://google.com" || e[1].ClickIDType != "gclid" || e[1].Term != "crm" || e[1].UserAgent != "ua-header" {
		t.Errorf("track: %+v", e[1])
	}
	if e[2].ClickIDType != "clickid" || e[2].ClickID != "B.oe1" || e[2].Content != "video" {
		t.Errorf("identify: %+v", e[2])
	}
	if e[3].GroupID != "acme" || e[4].PreviousID != "anon-1" || e[5].Type != model.EventScreen || e[5].Name != "Home" {
		t.Errorf("group/alias/screen: %+v %+v %+v", e[3], e[4], e[5])
	}
	// An unchanged message is stored as sent.
	if !bytes.HasPrefix(e[3].Payload, []byte(`{"type":"group"`)) {
		t.Errorf("payload %s", e[3].Payload)
	}
}

func TestDecodeSingleEndpointSetsType(t *testing.T) {
	d := decodeOK(t, "identify", `{"type":"track","userId":"u1","traits":{"name":"王芳"}}`)
	e := d.Events[0]
	var p map[string]any
	json.Unmarshal(e.Payload, &p)
	if e.Type != model.EventIdentify || p["type"] != "identify" || p["messageId"] != e.MessageID || e.MessageID == "" {
		t.Fatalf("%+v %s", e, e.Payload)
	}
}

func TestGeneratedMessageIDs(t *testing.T) {
	withTS := `{"event":"e","userId":"u","timestamp":"2026-05-20T08:00:00Z"}`
	a := decodeOK(t, "track", withTS).Events[0].MessageID
	b := decodeOK(t, "track", withTS).Events[0].MessageID
	if a == "" || a != b {
		t.Errorf("a retried message with a timestamp got ids %q and %q", a, b)
	}
	if c := decodeOK(t, "track", strings.Replace(withTS, "08:00:00", "08:00:01", 1)).Events[0].MessageID; c == a {
		t.Errorf("different messages got one id %q", c)
	}
	noTS := `{"event":"e","userId":"u"}`
	x, y := decodeOK(t, "track", noTS).Events[0].MessageID, decodeOK(t, "track", noTS).Events[0].MessageID
	if x == "" || x == y || len(x) != 36 {
		t.Errorf("messages without timestamp got ids %q and %q", x, y)
	}
}

func TestDecodeSanitises(t *testing.T) {
	d := decodeOK(t, "track", "{\"event\":\"Sign\\u0000ed \xff Up\",\"userId\":\"u\\u00001\",\"properties\":{\"url\":\"https://x.cn/?utm_source=a%00b\"}}")
	e := d.Events[0]
	if e.Name != "Signed \uFFFD Up" || e.UserID != "u1" || e.Source != "ab" || !utf8.Valid(e.Payload) {
		t.Fatalf("%q %q %q %q", e.Name, e.UserID, e.Source, e.Payload)
	}
}

func TestAnonymizeIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.77":                         "203.0.113.0",
		"::ffff:203.0.113.77":                  "203.0.113.0",
		"2001:db8:85a3:8d3:1319:8a2e:370:7348": "2001:db8:85a3::",
		"fe80::1%eth0":                         "fe80::",
		"not-an-ip":                            "",
		"":                                     "",
	} {
		if got := AnonymizeIP(in); got != want {
			t.Errorf("AnonymizeIP(%q) = %q, want %q", in, got, want)
		}
	}
	d, err := Decode(Input{Kind: "page", Body: []byte(`{"anonymousId":"a","context":{"ip":"198.51.100.200"}}`), ReceivedAt: received, AnonymizeIP: true})
	if err != nil {
		t.Fatal(err)
	}
	if e := d.Events[0]; e.IP != "198.51.100.0" || bytes.Contains(e.Payload, []byte("198.51.100.200")) {
		t.Fatalf("ip %q payload %s", e.IP, e.Payload)
	}
	d, _ = Decode(Input{Kind: "page", Body: []byte(`{"anonymousId":"a"}`), ReceivedAt: received, RemoteIP: "2001:db8::1234", AnonymizeIP: true})
	if d.Events[0].IP != "2001:db8::" {
		t.Fatalf("remote ip %q", d.Events[0].IP)
	}
}

func TestClientIP(t *testing.T) {
	trusted := []string{"10.0.0.0/8", "127.0.0.1/32"}
	cases := []struct {
		remote, xff string
		trusted     bool
		want        string
	}{
		{"198.51.100.1:5000", "1.2.3.4", false, "198.51.100.1"},
		{"10.0.0.5:5000", "1.2.3.4", false, "10.0.0.5"},
		{"10.0.0.5:5000", "1.2.3.4", true, "1.2.3.4"},
		{"10.0.0.5:5000", "9.9.9.9, 1.2.3.4, 10.0.0.9", true, "1.2.3.4"},
		{"198.51.100.1:5000", "1.2.3.4", true, "198.51.100.1"},
		{"10.0.0.5:5000", "garbage, 1.2.3.4", true, "1.2.3.4"},
		{"10.0.0.5:5000", "1.2.3.4, garbage", true, "10.0.0.5"},
		{"[::1]:80", "", true, "::1"},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest("POST", "/v1/track", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		var ps = parsePrefixes(t, trusted)
		if !tc.trusted {
			ps = nil
		}
		if got := clientIP(r, ps); got != tc.want {
			t.Errorf("%s via %q (trusted %v): %q, want %q", tc.remote, tc.xff, tc.trusted, got, tc.want)
		}
	}
}

func TestBotList(t *testing.T) {
	var d BotDetector
	data, err := readLines("testdata/bot_user_agents.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 1000 {
		t.Fatalf("only %d example bot user agents", len(data))
	}
	for _, ua := range data {
		if !d.IsBot(ua) {
			t.Errorf("not flagged as a bot: %q", ua)
		}
	}
	for _, ua := range []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
		"Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 DingTalk/7.5.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
		"",
	} {
		if d.IsBot(ua) {
			t.Errorf("a browser flagged as a bot: %q", ua)
		}
	}
}

func TestBotFlagUsesThePersonsUserAgent(t *testing.T) {
	var bots BotDetector
	cases := []struct {
		body, header string
		bot          bool
	}{
		{`{"anonymousId":"a","context":{"userAgent":"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}}`, "Mozilla/5.0 Chrome/120", true},
		// The request's User-Agent names the HTTP client that posted, never the person.
		{`{"anonymousId":"a"}`, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", false},
		{`{"anonymousId":"a"}`, "curl/8.5.0", false},
		{`{"anonymousId":"a"}`, "python-requests/2.31.0", false},
		{`{"anonymousId":"a"}`, "", false},
		{`{"anonymousId":"a","context":{"userAgent":"curl/8.5.0"}}`, "Mozilla/5.0 Chrome/120", true},
		// A server-side SDK (it names its library) speaks for a visitor: its own HTTP client is not the visitor.
		{`{"anonymousId":"a","context":{"library":{"name":"@rudderstack/rudder-sdk-node"}}}`, "axios/1.7.2", false},
		{`{"anonymousId":"a","context":{"library":{"name":"x"},"userAgent":"Mozilla/5.0 Chrome/120"}}`, "axios/1.7.2", false},
		{`{"anonymousId":"a","context":{"userAgent":"Mozilla/5.0 (Windows NT 10.0) Chrome/120 Safari/537.36"}}`, "Baiduspider", false},
	}
	for _, tc := range cases {
		d, err := Decode(Input{Kind: "page", Body: []byte(tc.body), ReceivedAt: received, UserAgent: tc.header, IsBot: bots.IsBot})
		if err != nil {
			t.Fatal(err)
		}
		if d.Events[0].Bot != tc.bot {
			t.Errorf("%s with header %q: bot %v, want %v", tc.body, tc.header, d.Events[0].Bot, tc.bot)
		}
	}
}

func TestRateLimiter(t *testing.T) {
	l := newLimiter(100, 500)
	now := received
	if ok, _ := l.take(1, 500, now); !ok {
		t.Fatal("a full burst was refused")
	}
	ok, wait := l.take(1, 50, now)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("over the burst: ok %v, wait %s", ok, wait)
	}
	if ok, _ := l.take(2, 10, now); !ok {
		t.Fatal("another key shares the bucket")
	}
	if ok, _ := l.take(1, 50, now.Add(500*time.Millisecond)); !ok {
		t.Fatal("refilled bucket refused")
	}
	if ok, _ := l.take(1, 5000, now.Add(time.Hour)); !ok {
		t.Fatal("a batch larger than the burst can never pass")
	}
	// A changed limit starts the buckets afresh; setting the same one again does not.
	l.take(1, 500, now.Add(time.Hour))
	l.set(100, 500)
	if ok, _ := l.take(1, 50, now.Add(time.Hour)); ok {
		t.Fatal("setting the same limit again refilled the bucket")
	}
	l.set(100, 1000)
	if ok, _ := l.take(1, 1000, now.Add(time.Hour)); !ok {
		t.Fatal("a raised limit refused a full new burst")
	}
	l.set(0, 0)
	if ok, _ := l.take(1, 1e6, now); !ok {
		t.Fatal("limit off still limits")
	}
}

func FuzzDecode(f *testing.F) {
	seeds := []struct {
		kind Kind
		body string
	}{
		{"track", `{"event":"Signed Up","userId":"u1","timestamp":"2026-05-20T08:00:00Z","sentAt":"2026-05-20T08:00:01Z","properties":{"url":"https://x.cn/?utm_source=baidu&bd_vid=1"}}`},
		{"page", `{"anonymousId":"a","name":"Home","context":{"page":{"url":"https://x.cn/?gclid=1","referrer":"r"},"campaign":{"source":"s"},"ip":"1.2.3.4","userAgent":"Googlebot"}}`},
		{"identify", `{"userId":12345,"traits":{"email":"a@b.cn"}}`},
		{"group", `{"userId":"u","groupId":"g"}`},
		{"alias", `{"userId":"u","previousId":"p"}`},
		{KindBatch, `{"writeKey":"wk","sentAt":"2026-01-01T00:00:00Z","context":{"library":{"name":"x"}},"integrations":{"All":true},"batch":[{"type":"track","event":"e","anonymousId":"a","context":{"library":{"version":"1"}}},{"type":"screen","userId":"u"}]}`},
		{KindBatch, `{"batch":[{"type":"page","anonymousId":"\u0000","messageId":"\ud800"}]}`},
		{KindBatch, `{"batch":[]}`},
		{"track", `{"event":"`},
		{"track", "\xff\xfe{}"},
		{KindBatch, `{"batch":[{"type":"track","event":"e","userId":"u","timestamp":1e300}]}`},
		{KindBatch, `{"context":{"pad":"xxxxxxxxxxxxxxxx","page":{"url":"https://x.cn/?utm_source=a"}},"integrations":{"A":{"b":1}},"batch":[{"type":"page","anonymousId":"a","context":{"page":{"title":"t"},"revloop":{"x":1}},"integrations":{"A":{"c":2}}},{"type":"track","event":"e","userId":"u","context":null}]}`},
		{KindBatch, `{"sentAt":"2300-01-01T00:00:00Z","context":{"ip":"1.2.3.4"},"batch":[{"type":"track","event":"e","userId":"u","timestamp":"2000-01-01T00:00:00Z"},{"type":"identify","userId":"u","timestamp":"9999-01-01T00:00:00Z"}]}`},
	}
	for _, s := range seeds {
		f.Add(string(s.kind), []byte(s.body), true)
	}
	f.Fuzz(func(t *testing.T, kind string, body []byte, anonymize bool) {
		var bots BotDetector
		k := Kind(kind)
		if _, ok := map[Kind]bool{"track": true, "identify": true, "page": true, "screen": true, "group": true, "alias": true, KindBatch: true}[k]; !ok {
			k = KindBatch
		}
		d, err := Decode(Input{Kind: k, Body: body, ReceivedAt: received, RemoteIP: "203.0.113.5", UserAgent: "ua", AnonymizeIP: anonymize, IsBot: bots.IsBot})
		if err != nil {
			rej, ok := err.(*Rejection)
			if !ok || rej.Status < 400 || rej.Status > 499 || rej.Reason == "" || rej.Msg == "" {
				t.Fatalf("bad rejection %#v", err)
			}
			return
		}
		if len(d.Events) == 0 {
			t.Fatal("accepted a request without events")
		}
		total := 0
		for _, e := range d.Events {
			// Bounded after the batch context is merged in, and within the
			// time window.
			if total += len(e.Payload); len(e.Payload) > MaxEventBytes || total > MaxDecodedBytes {
				t.Fatalf("stored %d bytes (%d in all)", len(e.Payload), total)
			}
			if e.Timestamp.Before(received.Add(-MaxPastAge)) || e.Timestamp.After(received.Add(MaxFutureSkew)) {
				t.Fatalf("timestamp %v outside the window", e.Timestamp)
			}
			if e.MessageID == "" || (e.UserID == "" && e.AnonymousID == "") || !json.Valid(e.Payload) {
				t.Fatalf("accepted event %+v", e)
			}
			if e.Type == model.EventTrack && e.Name == "" {
				t.Fatalf("track without a name accepted")
			}
			for _, s := range []string{e.MessageID, e.Name, e.UserID, e.AnonymousID, e.GroupID, e.PreviousID, e.URL, e.Referrer, e.UserAgent,
				e.Source, e.Medium, e.Campaign, e.Term, e.Content, e.ClickID, e.IP, string(e.Payload)} {
				if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
					t.Fatalf("unsafe stored text %q", s)
				}
			}
			if anonymize && e.IP != "" && e.IP != AnonymizeIP(e.IP) {
				t.Fatalf("ip %q not anonymised", e.IP)
			}
			if e.Timestamp.IsZero() || e.ReceivedAt != received {
				t.Fatalf("times %v %v", e.Timestamp, e.ReceivedAt)
			}
		}
	})
}

func parsePrefixes(t *testing.T, ss []string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, nil
}

func BenchmarkBotMatch(b *testing.B) {
	var d BotDetector
	d.once.Do(d.compile)
	ua := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
	for b.Loop() {
		if d.match(ua) {
			b.Fatal("flagged")
		}
	}
}
