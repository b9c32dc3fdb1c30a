package collect

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// benchBatchSize is the number of events per request in the benchmarks,
// what analytics-node and rudder-sdk-node send by default (flushAt 15-20)
// times five: a busy server-side sender.
const benchBatchSize = 100

// benchEvent is a typical browser page view: about 700 bytes of JSON with
// UTM parameters, a click id and the usual context.
const benchEvent = `{"type":"page","messageId":"MSG-%d","anonymousId":"anon-%d","name":"Pricing",` +
	`"timestamp":"2026-05-20T08:00:00.123Z","sentAt":"2026-05-20T08:00:01.000Z",` +
	`"properties":{"path":"/pricing","title":"价格 - Example","url":"https://www.example.cn/pricing?utm_source=baidu&utm_medium=cpc&utm_campaign=brand-2026&utm_term=crm%%20software&bd_vid=1173841234",` +
	`"referrer":"https://www.baidu.com/s?wd=crm"},` +
	`"context":{"library":{"name":"analytics.js","version":"5.2.0"},"locale":"zh-CN","ip":"203.0.113.%d",` +
	`"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",` +
	`"page":{"path":"/pricing","referrer":"https://www.baidu.com/s?wd=crm","search":"?utm_source=baidu&utm_medium=cpc","title":"价格 - Example",` +
	`"url":"https://www.example.cn/pricing?utm_source=baidu&utm_medium=cpc&utm_campaign=brand-2026&utm_term=crm%%20software&bd_vid=1173841234"}}}`

// benchBatch is a batch body whose message ids start with MSG-; each request
// replaces the marker with a unique prefix.
func benchBatch() []byte {
	var b bytes.Buffer
	b.WriteString(`{"batch":[`)
	for i := range benchBatchSize {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, benchEvent, i, i%37, i%250)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

var benchEngines = []struct {
	name string
	open func(testing.TB) *store.Store
}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}}

// BenchmarkCollectHTTP sends batches of 100 events from concurrent clients
// over loopback HTTP to a collector, and reports events stored per second.
func BenchmarkCollectHTTP(b *testing.B) {
	for _, eng := range benchEngines {
		b.Run(eng.name, func(b *testing.B) {
			s := eng.open(b)
			ts := newTestServer(b, s, Options{RateLimit: RateLimit{Rate: 1e12, Burst: 1 << 40}})
			tmpl := benchBatch()
			auth := ts.basic()["Authorization"]
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
			var seq atomic.Int64
			var failed atomic.Int64
			b.SetParallelism(8) // 16 clients on this 2-core machine
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body := bytes.ReplaceAll(tmpl, []byte("MSG-"), []byte("r"+strconv.FormatInt(seq.Add(1), 36)+"-"))
					req, _ := http.NewRequest("POST", ts.url+"/v1/batch", bytes.NewReader(body))
					req.Header.Set("Authorization", auth)
					req.Header.Set("Content-Type", "application/json")
					res, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						failed.Add(1)
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			if failed.Load() > 0 {
				b.Fatalf("%d requests failed", failed.Load())
			}
			if n, _ := s.CountEvents(bg); n != int64(b.N*benchBatchSize) {
				b.Fatalf("stored %d events for %d requests", n, b.N)
			}
			b.ReportMetric(float64(b.N*benchBatchSize)/elapsed.Seconds(), "events/s")
			b.ReportMetric(100*ts.histogramSum(b, "revloop_collector_commit_duration_seconds")/elapsed.Seconds(), "%committing")
			b.ReportMetric(float64(b.N*benchBatchSize)/ts.counter(b, "revloop_collector_commits_total", "result", "ok"), "events/commit")
		})
	}
}

func (ts *testServer) histogramSum(t testing.TB, name string) float64 {
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetHistogram().GetSampleSum()
		}
	}
	return 0
}

// BenchmarkRawInsert writes the same events straight into the same store,
// 1000 per transaction: the limit the collector can approach. "ingest" is
// the path the collector uses (store.IngestEvents: COPY on PostgreSQL, the
// prepared INSERT on SQLite); "prepared" is one prepared INSERT per event
// (store.AppendEvents) on both.
func BenchmarkRawInsert(b *testing.B) {
	for _, eng := range benchEngines {
		for _, path := range []string{"ingest", "prepared"} {
			b.Run(eng.name+"/"+path, func(b *testing.B) {
				s := eng.open(b)
				k, err := CreateWriteKey(bg, s, "bench")
				if err != nil {
					b.Fatal(err)
				}
				d, err := Decode(Input{Kind: KindBatch, Body: benchBatch(), ReceivedAt: time.Now(), RemoteIP: "127.0.0.1"})
				if err != nil {
					b.Fatal(err)
				}
				const perTx = 1000
				events := make([]model.Event, perTx)
				write := s.IngestEvents
				if path == "prepared" {
					write = s.AppendEvents
				}
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					for j := range events {
						events[j] = d.Events[j%benchBatchSize]
						events[j].WriteKeyID = k.ID
						events[j].MessageID = fmt.Sprintf("%d-%d", i, j)
					}
					if n, err := write(bg, events); err != nil || n != perTx {
						b.Fatalf("%d %v", n, err)
					}
				}
				elapsed := time.Since(start)
				b.ReportMetric(float64(b.N*perTx)/elapsed.Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkDecode measures the decoder alone on the benchmark batch.
func BenchmarkDecode(b *testing.B) {
	body := benchBatch()
	var bots BotDetector
	for b.Loop() {
		if _, err := Decode(Input{Kind: KindBatch, Body: body, ReceivedAt: time.Now(), RemoteIP: "127.0.0.1", IsBot: bots.IsBot}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatchSize)/b.Elapsed().Seconds(), "events/s")
}
