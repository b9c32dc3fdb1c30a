package collect

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// storedPayloadBytes is the size of every payload stored for the write key.
func storedPayloadBytes(t *testing.T, s *store.Store, keyID int64) (events, bytes int) {
	t.Helper()
	evs, err := s.CollectedEvents(bg, keyID, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		bytes += len(e.Payload)
	}
	return len(evs), bytes
}

// amplifiedBatch is a batch of n tiny messages under one batch context of
// contextBytes bytes.
func amplifiedBatch(n, contextBytes int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"context":{"pad":%q},"batch":[`, strings.Repeat("x", contextBytes))
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"page","anonymousId":"a","messageId":"m%d"}`, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func TestBatchContextIsBoundedAfterMerging(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		// 169 KB: a 30 KB context over 2,800 tiny messages once stored
		// 2,800 copies of the context, about 85 MB.
		body := amplifiedBatch(2800, 30<<10)
		if len(body) > MaxBatchBytes || len(body) < 160<<10 {
			t.Fatalf("request is %d bytes", len(body))
		}
		a := ts.post(t, "/v1/batch", body, ts.basic())
		if a.status != 413 || !strings.Contains(a.body["error"].(string), "4 MB") {
			t.Fatalf("amplified batch: %d %v", a.status, a.body)
		}
		// One message that the batch context pushes over 32 KB.
		one := []byte(fmt.Sprintf(`{"context":{"pad":%q},"batch":[{"type":"page","anonymousId":"a","messageId":"big","context":{"own":%q}}]}`,
			strings.Repeat("x", 20<<10), strings.Repeat("y", 20<<10)))
		a = ts.post(t, "/v1/batch", one, ts.basic())
		if a.status != 413 || !strings.Contains(a.body["error"].(string), "once the batch context") {
			t.Fatalf("message over 32 KB after merging: %d %v", a.status, a.body)
		}
		if n, size := storedPayloadBytes(t, s, ts.keyID); n != 0 || size != 0 {
			t.Fatalf("refused requests stored %d events, %d bytes", n, size)
		}
		// A normal batch with a context still works, and what it stores
		// is bounded by the limits.
		a = ts.post(t, "/v1/batch", amplifiedBatch(100, 2<<10), ts.basic())
		if a.status != 200 {
			t.Fatalf("normal batch: %d %v", a.status, a.body)
		}
		n, size := storedPayloadBytes(t, s, ts.keyID)
		if n != 100 || size > MaxDecodedBytes || size < 100*(2<<10) {
			t.Fatalf("normal batch stored %d events, %d bytes", n, size)
		}
		e, err := s.EventByMessageID(bg, ts.keyID, "m7")
		if err != nil || len(gjson.GetBytes(e.Payload, "context.pad").Str) != 2<<10 {
			t.Fatalf("context not merged: %v %s", err, e.Payload)
		}
	})
}

func TestRateLimitCountsBytes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{RateLimit: RateLimit{Rate: 1e6, Burst: 1e6, ByteRate: 1000, ByteBurst: 40 << 10}})
		// 10 events of about 3 KB: well within the event budget, 30 KB of
		// the 40 KB byte burst.
		if a := ts.post(t, "/v1/batch", amplifiedBatch(10, 3<<10), ts.basic()); a.status != 200 {
			t.Fatalf("within the byte burst: %d %v", a.status, a.body)
		}
		a := ts.post(t, "/v1/batch", amplifiedBatch(10, 3<<10), ts.basic())
		if a.status != 429 || !strings.Contains(a.body["error"].(string), "bytes/s") {
			t.Fatalf("over the byte budget: %d %v", a.status, a.body)
		}
		if n, _ := storedPayloadBytes(t, s, ts.keyID); n != 10 {
			t.Fatalf("stored %d events", n)
		}
	})
	// The defaults leave a heavy backend room: 15,000 events of 500 bytes
	// a second.
	if r := (RateLimit{Rate: DefaultRate, Burst: DefaultBurst}).withByteDefaults(); r.ByteRate < 4*15000*500 {
		t.Errorf("default byte rate %g", r.ByteRate)
	}
}

func TestTimestampsAreClampedAroundReceipt(t *testing.T) {
	cases := []struct {
		name, fields string
		want         time.Time
		clamped      bool
	}{
		{"far future", `"timestamp":"9999-01-01T00:00:00Z"`, received.Add(MaxFutureSkew), true},
		// A sentAt centuries after the timestamp: the skew correction
		// lands in 1734.
		{"skew into the past", `"timestamp":"2000-01-01T00:00:00Z","sentAt":"2300-01-01T00:00:00Z"`, received.Add(-MaxPastAge), true},
		{"a little ahead", `"timestamp":"2026-05-20T20:00:00Z"`, time.Date(2026, 5, 20, 20, 0, 0, 0, time.UTC), false},
		{"history", `"timestamp":"2019-03-01T00:00:00Z"`, time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Decode(Input{Kind: "track", Body: []byte(`{"event":"e","userId":"u","context":{"ip":"1.2.3.4"},` + c.fields + `}`), ReceivedAt: received})
			if err != nil {
				t.Fatal(err)
			}
			e := d.Events[0]
			if !e.Timestamp.Equal(c.want) {
				t.Errorf("timestamp %v, want %v", e.Timestamp, c.want)
			}
			flag := gjson.GetBytes(e.Payload, "context.revloop.timestamp_clamped")
			if flag.Exists() != c.clamped {
				t.Errorf("flag %v in %s", flag, e.Payload)
			}
			if c.clamped && gjson.GetBytes(e.Payload, "context.ip").Str != "1.2.3.4" {
				t.Errorf("context lost: %s", e.Payload)
			}
		})
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		a := ts.post(t, "/v1/track", []byte(`{"event":"e","userId":"u","messageId":"future","timestamp":"9999-12-31T23:59:59Z"}`), ts.basic())
		if a.status != 200 {
			t.Fatalf("%d %v", a.status, a.body)
		}
		e, err := s.EventByMessageID(bg, ts.keyID, "future")
		if err != nil {
			t.Fatal(err)
		}
		if lim := time.Now().Add(MaxFutureSkew + time.Minute); e.Timestamp.After(lim) {
			t.Errorf("stored timestamp %v", e.Timestamp)
		}
		var p struct {
			Context struct {
				Revloop struct {
					TimestampClamped string `json:"timestamp_clamped"`
				} `json:"revloop"`
			} `json:"context"`
		}
		if err := json.Unmarshal(e.Payload, &p); err != nil || !strings.HasPrefix(p.Context.Revloop.TimestampClamped, "9999-12-31") {
			t.Errorf("flag %q in %s (%v)", p.Context.Revloop.TimestampClamped, e.Payload, err)
		}
	})
}

// The default limits let one backend send 100,000 events as fast as a
// server can store them (measured at 15,000–19,000 events/s end to end on
// the standard machine; docs/benchmarks.md) without a single 429: a
// retrying client no longer spends most of a minute refused. The clock is
// simulated: batches of 100 events of 1.5 KB (a heavy payload) arrive at
// 30,000 events a second, faster than any measured server.
func TestDefaultLimitsAdmitOneFastBackend(t *testing.T) {
	r := (RateLimit{Rate: DefaultRate, Burst: DefaultBurst}).withByteDefaults()
	events, bytes := newLimiter(r.Rate, r.Burst), newLimiter(r.ByteRate, r.ByteBurst)
	const total, batch, perSecond, payload = 100_000, 100, 30_000, 1500
	at := received
	for sent := 0; sent < total; sent += batch {
		if ok, wait := bytes.take(1, batch*payload, at); !ok {
			t.Fatalf("byte limit refused after %d events (retry in %s)", sent, wait)
		}
		if ok, wait := events.take(1, batch, at); !ok {
			t.Fatalf("event limit refused after %d events (retry in %s)", sent, wait)
		}
		at = at.Add(time.Second * batch / perSecond)
	}
	// It still protects: a sender far faster than any server (a loop
	// replaying a million events in a few seconds) is refused.
	flood := newLimiter(r.Rate, r.Burst)
	refused := false
	for sent, at := 0, received; sent < 1_000_000; sent += batch {
		if ok, _ := flood.take(1, batch, at); !ok {
			refused = true
			break
		}
		at = at.Add(time.Second * batch / 300_000)
	}
	if !refused {
		t.Error("a flood of 300,000 events a second was never refused")
	}
}
