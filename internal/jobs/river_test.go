package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
	"github.com/riverqueue/river"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var ctx = context.Background()

// Kinds of the tests.
type afterKind struct{}

func (afterKind) Kind() string { return "test_after" }

type startKind struct{}

func (startKind) Kind() string { return "test_start" }

type neverKind struct{}

func (neverKind) Kind() string { return "test_never" }

type echoOp struct {
	Op
	Say string `json:"say"`
}

func (echoOp) Kind() string { return "test_echo" }

// testRunner is a runner with short intervals that works, started until
// the test ends; add kinds with setup before it starts.
func testRunner(t *testing.T, s *store.Store, setup func(r *Runner)) *Runner {
	t.Helper()
	r := NewRunner(s, slog.New(slog.DiscardHandler), Options{Work: true, SweepInterval: time.Hour, Debounce: 10 * time.Millisecond,
		PollInterval: 20 * time.Millisecond, TaskDelay: 20 * time.Millisecond})
	setup(r)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := r.Stop(sctx); err != nil {
			t.Error(err)
		}
	})
	return r
}

func count(t *testing.T, s *store.Store, q string) int {
	t.Helper()
	var n int
	if err := s.WriterDB().QueryRowContext(ctx, q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestRunnerProcessesAfterNotify(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		// Kinds: one runs after processing only (its period is an hour),
		// one only on start, one never (hourly, not on start).
		var after, onStart, never atomic.Int64
		r := testRunner(t, s, func(r *Runner) {
			Handle[afterKind](r, Schedule{AfterProcess: true, Every: time.Hour}, func(context.Context) error { after.Add(1); return nil })
			Handle[startKind](r, Schedule{Every: time.Hour, RunOnStart: true}, func(context.Context) error { onStart.Add(1); return nil })
			Handle[neverKind](r, Schedule{Every: time.Hour}, func(context.Context) error { never.Add(1); return nil })
		})
		kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_runner"})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for i := range 50 {
			e := model.Event{WriteKeyID: kid, MessageID: fmt.Sprintf("m%d", i), Type: model.EventPage, AnonymousID: fmt.Sprintf("a%d", i%7),
				URL: "https://www.revloop.cn/?utm_source=zhihu", Timestamp: at, ReceivedAt: at, Payload: []byte("{}")}
			if _, err := s.AppendEvents(ctx, []model.Event{e}); err != nil {
				t.Fatal(err)
			}
			r.Notify()
		}
		waitFor(t, "events processed", func() bool {
			n, err := s.UnprocessedEvents(ctx)
			return err == nil && n == 0
		})
		if n := count(t, s, "SELECT COUNT(*) FROM touchpoints"); n != 50 {
			t.Fatalf("%d touchpoints", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM persons"); n != 7 {
			t.Fatalf("%d persons", n)
		}
		waitFor(t, "the kinds after processing and on start", func() bool { return after.Load() > 0 && onStart.Load() > 0 })
		if n := never.Load(); n != 0 {
			t.Errorf("an hourly kind without RunOnStart ran %d times", n)
		}
	})
}

func TestRiverMigrateIsIdempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		for range 2 {
			if err := Migrate(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, s, "SELECT COUNT(*) FROM river_job"); n != 0 {
			t.Fatalf("river_job has %d rows", n)
		}
	})
}

// An operation has a record: queued, running with progress, then its
// result; a second one of the same lock waits its turn as a 409; a wrong
// input fails at once; a failed attempt runs again; a held lease makes it
// wait.
func TestOperations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		var attempts atomic.Int64
		release := make(chan struct{})
		r := testRunner(t, s, func(r *Runner) {
			HandleOperation(r, func(ctx context.Context, a echoOp, p *Progress) (any, error) {
				switch a.Say {
				case "slow":
					if err := p.Set(ctx, 1, 2); err != nil {
						return nil, err
					}
					<-release
				case "wrong":
					return nil, Permanent(errors.New("the input is wrong"))
				case "flaky":
					if attempts.Add(1) == 1 {
						return nil, errors.New("the database went away")
					}
				case "leased":
					return nil, s.WithLease(ctx, "test", func(context.Context) error { return nil })
				}
				return map[string]string{"said": a.Say}, nil
			})
		})
		start := func(say, lock string) (model.Job, error) {
			return r.Enqueue(ctx, model.Job{Kind: "test.echo", LockName: lock, CreatedBy: "tester"},
				func(id int64) Operation { return echoOp{Op: Op{JobID: id}, Say: say} })
		}
		wait := func(id int64) model.Job {
			t.Helper()
			var j model.Job
			waitFor(t, fmt.Sprintf("job %d", id), func() bool {
				var err error
				j, err = s.GetJob(ctx, id)
				return err == nil && j.State.Done()
			})
			return j
		}

		slow, err := start("slow", "echo")
		if err != nil || slow.State != model.JobQueued {
			t.Fatalf("enqueue: %+v %v", slow, err)
		}
		waitFor(t, "progress", func() bool {
			j, err := s.GetJob(ctx, slow.ID)
			return err == nil && j.State == model.JobRunning && j.ProgressDone == 1 && j.ProgressTotal == 2
		})
		var busy *store.JobBusyError
		if _, err := start("again", "echo"); !errors.As(err, &busy) || busy.Holder.ID != slow.ID {
			t.Fatalf("second of one lock: %v", err)
		}
		close(release)
		if j := wait(slow.ID); j.State != model.JobSucceeded || string(j.Result) != `{"said":"slow"}` || j.CreatedBy != "tester" {
			t.Fatalf("slow: %+v", j)
		}

		wrong, _ := start("wrong", "")
		if j := wait(wrong.ID); j.State != model.JobFailed || j.Error != "the input is wrong" || attempts.Load() != 0 {
			t.Fatalf("wrong: %+v", j)
		}
		flaky, _ := start("flaky", "")
		if j := wait(flaky.ID); j.State != model.JobSucceeded || attempts.Load() != 2 {
			t.Fatalf("flaky: %+v after %d attempts", j, attempts.Load())
		}

		// Held by another run (another node): it waits, then runs.
		held := make(chan struct{})
		go s.WithLease(ctx, "test", func(context.Context) error { <-held; return nil })
		time.Sleep(100 * time.Millisecond)
		leased, _ := start("leased", "")
		waitFor(t, "the leased operation to wait", func() bool {
			j, err := s.GetJob(ctx, leased.ID)
			return err == nil && j.State == model.JobQueued && j.Error != ""
		})
		close(held)
		if j := wait(leased.ID); j.State != model.JobSucceeded {
			t.Fatalf("leased: %+v", j)
		}
	})
}

// A job of a kind no node knows (left by another version) is an error in
// River's table, never silently done.
func TestUnknownKindIsAnError(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		testRunner(t, s, func(*Runner) {})
		// This node refuses to enqueue a kind it does not know; another
		// version's node, which knows it, may.
		other, err := river.NewClient(driver(s), &river.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Insert(ctx, neverKind{}, nil); err != nil {
			t.Fatal(err)
		}
		var state string
		var errs []byte
		waitFor(t, "the unknown kind's error", func() bool {
			err := s.WriterDB().QueryRowContext(ctx, "SELECT state, errors FROM river_job WHERE kind = 'test_never'").Scan(&state, &errs)
			return err == nil && len(errs) > 0 && string(errs) != "null"
		})
		if !strings.Contains(string(errs), "job kind is not registered") || state == "completed" {
			t.Fatalf("state %s, errors %q", state, errs)
		}
	})
}
