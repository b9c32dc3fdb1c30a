package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// BenchmarkEndToEnd measures capture end to end, the way a backend sends:
// 100,000 track events of 2,000 users, posted to /v1/batch in batches of
// 100 by 8 concurrent plain HTTP senders (no SDK), into a server started
// as `revloop serve` starts it (collector, processing runner and the tasks
// that follow processing). The clock runs from the first byte sent until
// every event is a touchpoint of its person. Reported: events/s end to end
// and of intake alone (until the last batch was acknowledged).
//
//	go test ./internal/web -run '^$' -bench EndToEnd -benchtime 1x -count 3
//
// Peak memory of the whole process (server and senders), while the
// backlog drains:
//
//	go test -c -o /tmp/web.test ./internal/web
//	/usr/bin/time -v /tmp/web.test -test.run '^$' -test.bench 'EndToEnd/sqlite' -test.benchtime 1x
func BenchmarkEndToEnd(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			for range b.N {
				var s *store.Store
				if engine == "sqlite" {
					s = storetest.SQLite(b)
				} else {
					s = storetest.Postgres(b)
				}
				endToEnd(b, s)
			}
		})
	}
}

const (
	e2eEvents  = 100_000
	e2eUsers   = 2_000
	e2eSenders = 8
	e2eBatch   = 100
)

func endToEnd(b *testing.B, s *store.Store) {
	b.Helper()
	b.StopTimer()
	key := "wk_e2e_bench"
	if _, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "e2e", Key: key}); err != nil {
		b.Fatal(err)
	}
	srv, err := newWith(b, testOpts{Store: s, Logger: slog.New(slog.DiscardHandler), Version: "bench", ServeDefaults: true})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	baseURL := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(runCtx, "127.0.0.1:0", func(u string) { baseURL <- u }) }()
	base := <-baseURL
	defer func() {
		stop()
		if err := <-served; err != nil {
			b.Error(err)
		}
	}()
	bodies := e2eBodies(b)
	// Wait until the runner is up: the first request answers once the
	// starters ran.
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: e2eSenders}}
	var next, refused atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, e2eSenders)
	b.StartTimer()
	start := time.Now()
	for range e2eSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				n, err := e2ePost(client, base, key, bodies[i])
				refused.Add(int64(n))
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	intake := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	// Every event stored is processed once the backlog is empty; then the
	// touchpoints are counted.
	for {
		bl, err := s.ProcessingBacklog(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if bl.Events == 0 {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("after 5 minutes %d events still wait for processing", bl.Events)
		}
		time.Sleep(20 * time.Millisecond)
	}
	total := time.Since(start)
	if n, err := s.CountPersonTouchpoints(ctx); err != nil || n != e2eEvents {
		b.Fatalf("%d of %d events are touchpoints of a person (%v)", n, e2eEvents, err)
	}
	b.StopTimer()
	b.ReportMetric(e2eEvents/total.Seconds(), "events/s")
	b.ReportMetric(e2eEvents/intake.Seconds(), "intake-events/s")
	b.ReportMetric(float64(refused.Load()), "refused-requests")
	b.ReportMetric(0, "ns/op")
}

// e2eBodies are the batches: user u's events come in order, users
// interleaved as many people browse at once.
func e2eBodies(b *testing.B) [][]byte {
	b.Helper()
	t0 := time.Now().UTC().Add(-time.Hour)
	var bodies [][]byte
	batch := make([]map[string]any, 0, e2eBatch)
	for i := range e2eEvents {
		u := i % e2eUsers
		batch = append(batch, map[string]any{
			"type": "track", "event": "Pricing Viewed", "userId": fmt.Sprintf("user-%d", u),
			"messageId": fmt.Sprintf("e2e-%d", i), "timestamp": t0.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano),
			"properties": map[string]any{"plan": "enterprise", "url": "https://www.example.cn/pricing?utm_source=baidu&utm_medium=cpc"},
			"context":    map[string]any{"ip": "203.0.113.7", "campaign": map[string]any{"source": "baidu", "medium": "cpc", "name": "q4-search"}},
		})
		if len(batch) == e2eBatch {
			body, err := json.Marshal(map[string]any{"batch": batch})
			if err != nil {
				b.Fatal(err)
			}
			bodies = append(bodies, body)
			batch = batch[:0]
		}
	}
	return bodies
}

// e2ePost sends one batch as a backend would, retrying after a 429 or 503
// as Segment's libraries do; it says how many times it was refused.
func e2ePost(c *http.Client, base, key string, body []byte) (refused int, err error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequest(http.MethodPost, base+"/v1/batch", bytes.NewReader(body))
		if err != nil {
			return refused, err
		}
		req.SetBasicAuth(key, "")
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			return refused, err
		}
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusOK:
			return refused, nil
		case (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) && attempt < 100:
			refused++
			time.Sleep(100 * time.Millisecond)
		default:
			return refused, fmt.Errorf("POST /v1/batch: %s", res.Status)
		}
	}
}
