package message

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkEmailSend sends the welcome email (HTML and text, variables,
// tracked links) to a local SMTP sink through the sender's pooled
// connections, from 8 concurrent callers, and reports messages per
// second. docs/benchmarks.md has the command and the figure.
func BenchmarkEmailSend(b *testing.B) {
	s := storeForBench(b)
	seedPeople(b, s)
	box := testBox(b)
	k := newSink(b, false, "", "")
	k.discard = true
	configure(b, s, box, k, TLSNone)
	e := NewEmailSender(EmailOptions{Store: s, Secrets: box, MaxConns: 4})
	defer e.Close()
	var seq atomic.Int64
	b.SetParallelism(4) // 4 × GOMAXPROCS callers
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := e.Send(ctx, emailRequest(fmt.Sprintf("bench-%d", seq.Add(1)), 1, welcome))
			if err != nil || res.Status != Sent {
				b.Errorf("%+v %v", res, err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(k.conns.Load()), "conns")
	if got := k.received.Load(); got != int64(b.N) {
		b.Fatalf("sink received %d of %d", got, b.N)
	}
}
