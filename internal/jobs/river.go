// Package jobs runs revloop's background work on River, on every node that
// shares the database: event processing (after intake and a periodic
// sweep), the kinds of work that follow processing or run on a schedule
// (credits, scores, lifecycle rules, routing, maintenance), and the long
// operations people start (a rescore, a credit recompute, an erasure, an
// import), each a kind of its own with typed arguments (kinds.go). What a
// kind does is given by the application (internal/app) with Handle and
// HandleOperation; this package holds River's setup only.
//
// Every kind is idempotent: it may run twice, or late. Kinds that run by
// themselves are unique while one waits or runs, on every node; an
// operation also has a record in the jobs table (state, progress, result),
// written in the same transaction as River's own row.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
)

// driver picks River's driver for the store's engine, over the store's own
// write pool (one connection on SQLite, as River's SQLite driver wants).
func driver(s *store.Store) riverdriver.Driver[*sql.Tx] {
	if s.Dialect() == store.Postgres {
		return riverdatabasesql.New(s.WriterDB())
	}
	return riversqlite.New(s.WriterDB())
}

// Migrate applies River's own schema migrations (its job tables). It is
// idempotent and runs with revloop's migrations on start and on `migrate`.
func Migrate(ctx context.Context, s *store.Store) error {
	m, err := rivermigrate.New(driver(s), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	// Nodes starting together take turns.
	return s.WithAdvisoryLock(ctx, "revloop river migrations", func() error {
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("job queue migrations on %s: %w", s.Where(), err)
		}
		return nil
	})
}

// Queues: event processing and the kinds that follow it share one; the
// long operations people start have their own, so that a rescore never
// holds up the processing of new events.
const (
	queueDefault    = river.QueueDefault
	queueOperations = "operations"
)

// jobBudget bounds one processing job's run; a backlog larger than that
// continues in a follow-up job, so that no job hits its timeout.
const jobBudget = 40 * time.Second

// Timeouts of a run. River rescues a job that has been running longer
// than the longest of them plus rescueMargin (its node died): it runs
// again elsewhere. Every kind is idempotent and an import resumes from its
// last chunk, so a run cut off by its timeout loses nothing; a long import
// goes on in the next attempt.
const (
	processTimeout   = 5 * time.Minute
	taskTimeout      = 10 * time.Minute
	operationTimeout = 10 * time.Minute
	rescueMargin     = 2 * time.Minute
)

// Options tune a Runner; zero values take the defaults.
type Options struct {
	// Work runs workers on this node. Without it the runner only enqueues
	// (a web node: intake, pages and API, while worker nodes do the work).
	Work          bool
	SweepInterval time.Duration // default 30 s
	Debounce      time.Duration // how long notifications gather before one job is enqueued; default 200 ms
	PollInterval  time.Duration // how often idle workers look for jobs; default 250 ms
	TaskDelay     time.Duration // how long intake must be quiet before the kinds after processing run; default 2 s
	MaxTaskDelay  time.Duration // how long they wait at most while events keep coming; default 30 s
	// Workers is how many jobs of the default queue run at once on this
	// node (default 2); operations run one at a time per node.
	Workers int
}

// Schedule is when a kind runs by itself. The zero Schedule is never.
type Schedule struct {
	Every      time.Duration // periodically, on one node of all (River's leader)
	RunOnStart bool          // with Every: also once when the leader starts
	// AfterProcess: after events were processed (at intake or by a
	// processing job), once per burst. Such a kind also runs at least
	// every minute, to catch anything a missed notification left.
	AfterProcess bool
}

// Runner owns the River client of one revloop process.
type Runner struct {
	store     *store.Store
	log       *slog.Logger
	opts      Options
	notify    chan struct{}
	processed chan struct{}
	// processedFlag is set by Processed and taken by the enqueue loop.
	processedFlag atomic.Bool

	mu           sync.Mutex
	register     []func(*river.Workers)
	periodic     []*river.PeriodicJob
	afterProcess []func() river.JobArgs // the kinds that follow processing
	client       *river.Client[*sql.Tx]
	inserter     *river.Client[*sql.Tx] // before Start: a client that only enqueues
	started      bool
	stop         chan struct{}
	done         chan struct{}
}

// NewRunner prepares a runner; nothing runs until Start.
func NewRunner(s *store.Store, log *slog.Logger, opts Options) *Runner {
	if log == nil {
		log = slog.Default()
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = 30 * time.Second
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 200 * time.Millisecond
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 250 * time.Millisecond
	}
	if opts.TaskDelay <= 0 {
		opts.TaskDelay = 2 * time.Second
	}
	if opts.MaxTaskDelay < opts.TaskDelay {
		opts.MaxTaskDelay = max(30*time.Second, opts.TaskDelay)
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	r := &Runner{store: s, log: log, opts: opts, notify: make(chan struct{}, 1), processed: make(chan struct{}, 1)}
	addWorker(r, processTimeout, func(ctx context.Context, _ *river.Job[ProcessEvents]) error { return r.work(ctx) })
	addWorker(r, processTimeout, func(ctx context.Context, _ *river.Job[SweepEvents]) error { return r.work(ctx) })
	r.periodic = append(r.periodic, river.NewPeriodicJob(river.PeriodicInterval(opts.SweepInterval),
		func() (river.JobArgs, *river.InsertOpts) { return SweepEvents{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
	return r
}

// funcWorker is a River worker of kind T made of a function, with a timeout.
type funcWorker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	timeout time.Duration
	work    func(context.Context, *river.Job[T]) error
}

func (w *funcWorker[T]) Timeout(*river.Job[T]) time.Duration             { return w.timeout }
func (w *funcWorker[T]) Work(ctx context.Context, j *river.Job[T]) error { return w.work(ctx, j) }

func addWorker[T river.JobArgs](r *Runner, timeout time.Duration, work func(context.Context, *river.Job[T]) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		panic("jobs: a kind was added after Start")
	}
	r.register = append(r.register, func(ws *river.Workers) {
		river.AddWorker(ws, &funcWorker[T]{timeout: timeout, work: work})
	})
}

// uniqueWithin makes a kind that runs by itself unique while one job of it
// waits or runs, on every node (River wants the running state in the set),
// within a period: a job left running by a node that died blocks its kind
// until the period turns, not until River rescues it.
func uniqueWithin(period time.Duration) river.UniqueOpts {
	return river.UniqueOpts{ByArgs: true, ByPeriod: period, ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
		rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}
}

// afterProcessPeriod is the uniqueness period of the kinds that follow
// processing.
const afterProcessPeriod = time.Minute

// Handle says what kind T does and when it runs by itself; call it before
// Start. A run that finds its lease held by another run (store.WithLease)
// is skipped when it runs by period (that run does the work); a run after
// processing waits for it instead, since it may hold work the other one
// read too early.
func Handle[T river.JobArgs](r *Runner, when Schedule, work func(ctx context.Context) error) {
	var zero T
	addWorker(r, taskTimeout, func(ctx context.Context, j *river.Job[T]) error {
		err := work(ctx)
		if errors.Is(err, store.ErrLeaseHeld) {
			if when.AfterProcess {
				return river.JobSnooze(leaseWait)
			}
			r.log.Debug("skipped: another run holds the lease", "kind", j.Kind, "err", err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", j.Kind, err)
		}
		return nil
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	every := when.Every
	if when.AfterProcess {
		r.afterProcess = append(r.afterProcess, func() river.JobArgs { return zero })
		if every <= 0 {
			every = time.Minute
		}
	}
	if every > 0 {
		period := every
		if when.AfterProcess {
			period = afterProcessPeriod
		}
		r.periodic = append(r.periodic, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) {
				return zero, &river.InsertOpts{UniqueOpts: uniqueWithin(period)}
			},
			&river.PeriodicJobOpts{RunOnStart: when.RunOnStart}))
	}
}

// Operation is the arguments of a long operation that a person started:
// every such kind carries the id of its record in the jobs table.
type Operation interface {
	river.JobArgs
	record() int64
}

// Op is what every operation's arguments share: the id of its record.
type Op struct {
	JobID int64 `json:"job_id"`
}

func (o Op) record() int64 { return o.JobID }

// Progress reports how far an operation got; every report is also the
// job's sign of life.
type Progress struct {
	store *store.Store
	id    int64
}

// JobID is the id of the operation's record.
func (p *Progress) JobID() int64 { return p.id }

// Set records done of total (a total of 0: not known).
func (p *Progress) Set(ctx context.Context, done, total int64) error {
	return p.store.SetJobProgress(ctx, p.id, done, total)
}

// permanent marks an error that running again cannot fix (the input is
// wrong): the operation fails at once.
type permanent struct{ error }

func (e permanent) Unwrap() error { return e.error }

// Permanent marks err as one that another attempt cannot fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// operationAttempts is how often an operation runs before it fails: a
// node that died, a database that was away for a moment or a run cut off
// by its timeout get more chances.
const operationAttempts = 5

// leaseWait is how long an operation whose lease is held waits before it
// looks again.
const leaseWait = time.Second

// HandleOperation says what operation kind T does: work returns the
// operation's result, recorded as the job's result (JSON). A failed
// attempt runs again (up to three in all) unless its error is Permanent;
// an operation whose lease another run holds waits for it.
func HandleOperation[T Operation](r *Runner, work func(ctx context.Context, args T, p *Progress) (any, error)) {
	addWorker(r, operationTimeout, func(ctx context.Context, j *river.Job[T]) error {
		id := j.Args.record()
		if err := r.store.StartJob(ctx, id); errors.Is(err, store.ErrNotFound) {
			r.log.Warn("operation skipped: its record has ended", "kind", j.Kind, "job", id)
			return nil
		} else if err != nil {
			return err
		}
		res, err := r.whileAlive(ctx, id, func(ctx context.Context) (any, error) {
			return work(ctx, j.Args, &Progress{store: r.store, id: id})
		})
		switch {
		case errors.Is(err, store.ErrLeaseHeld):
			if rerr := r.store.RetryJob(ctx, id, "waiting: "+err.Error()); rerr != nil {
				r.log.Warn("operation record", "job", id, "err", rerr)
			}
			return river.JobSnooze(leaseWait)
		case err != nil && ctx.Err() == nil && j.Attempt < operationAttempts && !errors.As(err, new(permanent)):
			if rerr := r.store.RetryJob(ctx, id, fmt.Sprintf("attempt %d failed, trying again: %v", j.Attempt, err)); rerr != nil {
				r.log.Warn("operation record", "job", id, "err", rerr)
			}
			return err
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		// An operation may have ended its own record already, in the
		// transaction of its last write (an import does): then there is
		// nothing left to write.
		if ferr := r.store.FinishJob(fctx, id, res, err); ferr != nil && !errors.Is(ferr, store.ErrNotFound) {
			r.log.Error("operation ended but its record was not written", "kind", j.Kind, "job", id, "err", ferr, "result_err", err)
		}
		if err != nil {
			r.log.Warn("operation failed", "kind", j.Kind, "job", id, "err", err)
		}
		return nil
	})
}

// heartbeat is how often a running operation shows it is alive, well
// within store.JobStaleAfter.
const heartbeat = time.Minute

// whileAlive runs an operation's work, keeping its record alive; if the
// record stops being running meanwhile (another node took the operation
// over as abandoned), the work is stopped.
func (r *Runner) whileAlive(ctx context.Context, id int64, work func(context.Context) (any, error)) (any, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := r.store.TouchJob(ctx, id); errors.Is(err, store.ErrNotFound) {
					cancel(fmt.Errorf("job %d was ended elsewhere", id))
					return
				}
			}
		}
	}()
	return work(ctx)
}

// Enqueue records an operation and queues it, in one transaction. j says
// what the record holds (kind, lock, subject, who); args makes the
// operation's arguments from the record's id. A lock name held by another
// queued or running job is a *store.JobBusyError.
func (r *Runner) Enqueue(ctx context.Context, j model.Job, args func(jobID int64) Operation) (model.Job, error) {
	client, err := r.enqueuer(ctx)
	if err != nil {
		return j, err
	}
	j.State = model.JobQueued
	return r.store.CreateJobWith(ctx, j, func(tx *sql.Tx, rec model.Job) error {
		a := args(rec.ID)
		_, err := client.InsertTx(ctx, tx, a, &river.InsertOpts{Queue: queueOperations, MaxAttempts: operationAttempts})
		return err
	})
}

// Kick runs a kind that runs by itself now, rather than at its next time
// (unless one is waiting or running already).
func (r *Runner) Kick(ctx context.Context, args river.JobArgs) error {
	client, err := r.enqueuer(ctx)
	if err != nil {
		return err
	}
	_, err = client.Insert(ctx, args, &river.InsertOpts{UniqueOpts: uniqueWithin(afterProcessPeriod)})
	return err
}

// enqueuer is the client jobs are enqueued with: the running one, or
// before Start one that only enqueues (what runs them is another node's,
// or this one's once started).
func (r *Runner) enqueuer(ctx context.Context) (*river.Client[*sql.Tx], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		return r.client, nil
	}
	if r.inserter == nil {
		if err := Migrate(ctx, r.store); err != nil {
			return nil, err
		}
		c, err := river.NewClient(driver(r.store), &river.Config{Logger: r.log.With("component", "jobs")})
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		r.inserter = c
	}
	return r.inserter, nil
}

// Start applies River's migrations and starts the client: with
// Options.Work its workers, the periodic jobs, and the loop that turns
// notifications into jobs; without, a client that only enqueues. Jobs are
// not cancelled when ctx ends; Stop drains them.
func (r *Runner) Start(ctx context.Context) error {
	if err := Migrate(ctx, r.store); err != nil {
		return err
	}
	r.mu.Lock()
	r.started = true
	cfg := &river.Config{
		Logger:                      r.log.With("component", "jobs"),
		PollOnly:                    true,
		FetchCooldown:               min(50*time.Millisecond, r.opts.PollInterval),
		FetchPollInterval:           r.opts.PollInterval,
		CompletedJobRetentionPeriod: time.Hour,
		RescueStuckJobsAfter:        operationTimeout + rescueMargin,
	}
	if r.opts.Work {
		workers := river.NewWorkers()
		for _, reg := range r.register {
			reg(workers)
		}
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{queueDefault: {MaxWorkers: r.opts.Workers}, queueOperations: {MaxWorkers: 1}}
		cfg.PeriodicJobs = r.periodic
	}
	r.mu.Unlock()
	client, err := river.NewClient(driver(r.store), cfg)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if r.opts.Work {
		if err := client.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start job queue: %w", err)
		}
	}
	r.mu.Lock()
	r.client, r.stop, r.done = client, make(chan struct{}), make(chan struct{})
	r.mu.Unlock()
	go r.enqueueLoop(r.stop, r.done)
	return nil
}

// Stop stops enqueuing and lets running jobs finish (until ctx ends).
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	client, stop, done := r.client, r.stop, r.done
	r.client = nil
	r.mu.Unlock()
	if client == nil {
		return nil
	}
	close(stop)
	<-done
	if !r.opts.Work {
		return nil
	}
	return client.Stop(ctx)
}

// Notify says new events were committed unprocessed. It never blocks:
// notifications that arrive while one is pending fold into it.
func (r *Runner) Notify() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Processed says events were processed outside the runner (at intake):
// the kinds that follow processing are enqueued after the debounce, as
// after the runner's own processing. It never blocks.
func (r *Runner) Processed() {
	r.processedFlag.Store(true)
	select {
	case r.processed <- struct{}{}:
	default:
	}
}

func (r *Runner) enqueueLoop(stop, done chan struct{}) {
	defer close(done)
	// The kinds after processing follow a burst of events once it has been
	// quiet for TaskDelay, and at least every MaxTaskDelay while events
	// keep coming: during heavy intake they run now and then rather than
	// back to back (they compete with intake for the cores and, on SQLite,
	// the one writer, and a rescore reads the whole history of the persons
	// it rescores). again wakes the loop when they are due, or to try again
	// while a job of theirs still runs.
	var again <-chan time.Time
	var firstSeen, lastSeen time.Time // of the processed events not yet followed
	for {
		process := false
		select {
		case <-stop:
			return
		case <-r.notify:
			process = true
		case <-r.processed:
		case <-again:
			again = nil
		}
		// Gather the notifications of a burst into one job.
		select {
		case <-stop:
			return
		case <-time.After(r.opts.Debounce):
		}
		select {
		case <-r.notify:
			process = true
		default:
		}
		r.mu.Lock()
		client := r.client
		r.mu.Unlock()
		if client == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if process {
			if _, err := client.Insert(ctx, ProcessEvents{}, nil); err != nil {
				// The sweep picks the events up; nothing is lost.
				r.log.Warn("enqueue event processing", "err", err)
			}
		}
		now := time.Now()
		if r.processedFlag.Swap(false) {
			lastSeen = now
			if firstSeen.IsZero() {
				firstSeen = now
			}
		}
		if !firstSeen.IsZero() {
			due := lastSeen.Add(r.opts.TaskDelay)
			if latest := firstSeen.Add(r.opts.MaxTaskDelay); latest.Before(due) {
				due = latest
			}
			switch {
			case now.Before(due):
				again = time.After(due.Sub(now))
			case r.enqueueAfterProcess(ctx, client):
				// A job of theirs still runs and may have read too early.
				again = time.After(r.opts.TaskDelay)
			default:
				firstSeen, lastSeen = time.Time{}, time.Time{}
			}
		}
		cancel()
	}
}

// work processes events for up to jobBudget and hands any remainder to a
// follow-up job.
func (r *Runner) work(ctx context.Context) error {
	n, more, err := process.ProcessFor(ctx, r.store, jobBudget)
	if n > 0 {
		r.log.Debug("processed events", "count", n)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("process events: %w", err)
	}
	client := river.ClientFromContext[*sql.Tx](ctx)
	if more && client != nil {
		if _, err := client.Insert(ctx, ProcessEvents{}, nil); err != nil {
			r.log.Warn("enqueue follow-up processing", "err", err)
		}
	}
	if n > 0 {
		r.Processed()
	}
	return nil
}

// enqueueAfterProcess enqueues the kinds that follow processing: one
// waiting run per kind, so that a burst of events folds into it. A kind
// whose job is running (here or on another node) is not enqueued (its job
// is unique), yet that run may have read the store before what was just
// processed: running says so, and the enqueue loop tries again after
// TaskDelay, until the run has ended.
func (r *Runner) enqueueAfterProcess(ctx context.Context, client *river.Client[*sql.Tx]) (running bool) {
	r.mu.Lock()
	kinds := append([]func() river.JobArgs(nil), r.afterProcess...)
	r.mu.Unlock()
	for _, args := range kinds {
		res, err := client.Insert(ctx, args(), &river.InsertOpts{UniqueOpts: uniqueWithin(afterProcessPeriod)})
		if err != nil {
			r.log.Warn("enqueue work after processing", "kind", args().Kind(), "err", err)
			continue
		}
		if res.UniqueSkippedAsDuplicate && res.Job != nil && res.Job.State == rivertype.JobStateRunning {
			running = true
		}
	}
	return running
}
