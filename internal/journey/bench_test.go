package journey_test

import (
	"context"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/journey"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// noopSender accepts every message at once.
type noopSender struct{ n atomic.Int64 }

func (s *noopSender) Send(context.Context, message.Request) (message.Result, error) {
	s.n.Add(1)
	return message.Result{Status: message.Sent}, nil
}

const benchJourney = `{"name": "Bench", "trigger": {"segment": 1}, "steps": [
	{"id": "mail", "type": "email", "subject": "s", "text": "t"},
	{"id": "hook", "type": "webhook", "url": "https://x.example.test/"},
	{"id": "qualified", "type": "branch", "if": {"stage": "mql"}, "then": "done", "else": "again"},
	{"id": "again", "type": "email", "subject": "s2", "text": "t", "next": "done"},
	{"id": "done", "type": "exit"}]}`

// BenchmarkJourneySteps measures the steps a runner completes per second
// with a sender that accepts at once: each person takes an email, a
// webhook, a branch on the stage (a read) and another email; the figure is
// steps/s (docs/benchmarks.md).
func BenchmarkJourneySteps(b *testing.B) {
	for _, e := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(e.name, func(b *testing.B) {
			s := e.open(b)
			t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			persons := b.N/4 + 1
			addPersons(b, s, 1, persons, "lead", `{}`, t0)
			j := newJourney(b, s, benchJourney, t0)
			ids := make([]int64, persons)
			for i := range ids {
				ids[i] = int64(i + 1)
			}
			enter(b, s, j.ID, t0, ids...)
			snd := &noopSender{}
			r := journey.NewRunner(s, journey.Options{Sender: snd, Now: func() time.Time { return t0.Add(time.Minute) }})
			b.ResetTimer()
			start := time.Now()
			n := drain(b, r)
			took := time.Since(start)
			b.StopTimer()
			if n != 5*persons { // four steps and the exit
				b.Fatalf("ran %d steps, want %d", n, 5*persons)
			}
			b.ReportMetric(float64(n)/took.Seconds(), "steps/s")
		})
	}
}

// TestHundredThousandEnterAndDrain enters 100,000 persons into a journey
// at once and drains it, measuring the heap before, at its peak during,
// and after. It runs only when REVLOOP_JOURNEY_100K is set (it takes a
// minute or more): see docs/benchmarks.md for the command.
func TestHundredThousandEnterAndDrain(t *testing.T) {
	if os.Getenv("REVLOOP_JOURNEY_100K") == "" {
		t.Skip("set REVLOOP_JOURNEY_100K=1 to run")
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		const persons = 100_000
		t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		addPersons(t, s, 1, persons, "lead", `{}`, t0)
		j := newJourney(t, s, `{"name": "Big", "trigger": {"segment": 1}, "steps": [
			{"id": "hook", "type": "webhook", "url": "https://x.example.test/"}, {"id": "done", "type": "exit"}]}`, t0)
		heap := func() uint64 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return m.HeapInuse
		}
		before := heap()
		start := time.Now()
		ids := make([]int64, persons)
		for i := range ids {
			ids[i] = int64(i + 1)
		}
		if n := enter(t, s, j.ID, t0, ids...); n != persons {
			t.Fatalf("entered %d", n)
		}
		ids = nil
		entered := time.Since(start)
		snd := &noopSender{}
		r := journey.NewRunner(s, journey.Options{Sender: snd, Now: func() time.Time { return t0.Add(time.Minute) }})
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}
		}()
		start = time.Now()
		n := drain(t, r)
		drained := time.Since(start)
		close(stop)
		<-done
		after := heap()
		if n != 2*persons || snd.n.Load() != persons {
			t.Fatalf("ran %d steps, sent %d", n, snd.n.Load())
		}
		t.Logf("%s: entered %d in %s, drained %d steps in %s (%.0f steps/s); heap in use %.1f MiB before, %.1f MiB peak during, %.1f MiB after",
			s.Dialect(), persons, entered.Round(time.Millisecond), n, drained.Round(time.Millisecond), float64(n)/drained.Seconds(),
			float64(before)/(1<<20), float64(peak.Load())/(1<<20), float64(after)/(1<<20))
		if after > before+32<<20 {
			t.Fatalf("heap grew from %d to %d bytes", before, after)
		}
	})
}
