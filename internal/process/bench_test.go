package process_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// BenchmarkProcessPending measures event processing (OneID + channel +
// touchpoint) on a realistic mix: per visitor three page views from a
// search engine, then a form fill with an email. Reported as events/s, and
// the process's peak resident memory (VmHWM, Linux): with -benchtime
// 100000x it is the memory of draining a backlog of 100,000 events (the
// events built for it included).
//
//	go test ./internal/process -run '^$' -bench ProcessPending -benchtime 20000x
//	go test ./internal/process -run '^$' -bench 'ProcessPending/sqlite' -benchtime 100000x
func BenchmarkProcessPending(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var s *store.Store
			if engine == "sqlite" {
				s = storetest.SQLite(b)
			} else {
				s = storetest.Postgres(b)
			}
			kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "bench", Key: "wk_bench"})
			if err != nil {
				b.Fatal(err)
			}
			events := make([]model.Event, 0, b.N)
			for i := range b.N {
				v := i / 4
				e := model.Event{WriteKeyID: kid, MessageID: fmt.Sprintf("m%d", i), AnonymousID: fmt.Sprintf("anon-%d", v),
					Timestamp: t0.Add(time.Duration(i) * time.Second), ReceivedAt: t0, Payload: []byte("{}")}
				if i%4 == 3 {
					e.Type, e.Name = model.EventTrack, "Form Submitted"
					e.Payload = []byte(fmt.Sprintf(`{"properties":{"email":"p%d@company%d.cn"}}`, v, v%500))
				} else {
					e.Type, e.URL, e.Referrer = model.EventPage, "https://www.revloop.cn/?utm_source=baidu&utm_medium=cpc", "https://www.baidu.com/"
					e.Source, e.Medium = "baidu", "cpc"
				}
				events = append(events, e)
			}
			for i := 0; i < len(events); i += 5000 {
				if _, err := s.AppendEvents(ctx, events[i:min(i+5000, len(events))]); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start := time.Now()
			n, err := process.ProcessPending(ctx, s)
			if err != nil || n != b.N {
				b.Fatalf("processed %d of %d: %v", n, b.N, err)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
			if mb, ok := peakRSS(); ok {
				b.ReportMetric(mb, "peak-RSS-MB")
			}
		})
	}
}

// peakRSS is the process's peak resident memory in MB, from
// /proc/self/status (Linux only).
func peakRSS() (float64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024, err == nil
		}
	}
	return 0, false
}
