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
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations on %s: %w", s.Where(), err)
	}
	return nil
}

// ProcessEventsArgs is the job that processes unprocessed events, enqueued
// (debounced) after the collector commits new ones.
type ProcessEventsArgs struct{}

// Kind names the job in River's table.
func (ProcessEventsArgs) Kind() string { return "process_events" }

// SweepEventsArgs is the periodic job that picks up events left
// unprocessed, e.g. after a crash between commit and enqueue.
type SweepEventsArgs struct{}

// Kind names the job in River's table.
func (SweepEventsArgs) Kind() string { return "sweep_events" }

// TaskArgs runs one named Task: periodically, or after events were
// processed when the task asks for it.
type TaskArgs struct {
	Name string `json:"name"`
}

// Kind names the job in River's table.
func (TaskArgs) Kind() string { return "task" }

// Task is work another part of revloop hands the runner: incremental
// scoring or attribution after new events, a model retrain, an SLA check.
// Run must be idempotent: a task may run twice, or late.
type Task struct {
	Name         string
	Every        time.Duration // 0: not periodic
	RunOnStart   bool          // with Every: also run once when the runner starts
	AfterProcess bool          // enqueue after each processing run that processed events
	Run          func(ctx context.Context) error
}

type taskWorker struct {
	river.WorkerDefaults[TaskArgs]
	r *Runner
}

func (w *taskWorker) Timeout(*river.Job[TaskArgs]) time.Duration { return 10 * time.Minute }

func (w *taskWorker) Work(ctx context.Context, job *river.Job[TaskArgs]) error {
	w.r.mu.Lock()
	t, ok := w.r.tasks[job.Args.Name]
	w.r.mu.Unlock()
	if !ok {
		// A task of another version of revloop; nothing to do here.
		w.r.log.Warn("unknown task", "name", job.Args.Name)
		return nil
	}
	if err := t.Run(ctx); err != nil {
		return fmt.Errorf("task %s: %w", t.Name, err)
	}
	return nil
}

// AddTask registers a task; call it before Start. A second task with the
// same name replaces the first. An AfterProcess task without Every runs at
// least once a minute as well.
func (r *Runner) AddTask(t Task) {
	if t.AfterProcess && t.Every <= 0 {
		t.Every = time.Minute
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tasks == nil {
		r.tasks = map[string]Task{}
	}
	if _, dup := r.tasks[t.Name]; !dup {
		r.taskOrder = append(r.taskOrder, t.Name)
	}
	r.tasks[t.Name] = t
}

// jobBudget bounds one job's run; a backlog larger than that continues in a
// follow-up job, so that no job hits River's timeout.
const jobBudget = 40 * time.Second

type processWorker struct {
	river.WorkerDefaults[ProcessEventsArgs]
	r *Runner
}

func (w *processWorker) Timeout(*river.Job[ProcessEventsArgs]) time.Duration { return 5 * time.Minute }

func (w *processWorker) Work(ctx context.Context, _ *river.Job[ProcessEventsArgs]) error {
	return w.r.work(ctx)
}

type sweepWorker struct {
	river.WorkerDefaults[SweepEventsArgs]
	r *Runner
}

func (w *sweepWorker) Timeout(*river.Job[SweepEventsArgs]) time.Duration { return 5 * time.Minute }

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepEventsArgs]) error {
	return w.r.work(ctx)
}

// Options tune a Runner; zero values take the defaults.
type Options struct {
	SweepInterval time.Duration // default 30 s
	Debounce      time.Duration // how long notifications gather before one job is enqueued; default 200 ms
	PollInterval  time.Duration // how often idle workers look for jobs; default 250 ms
	TaskDelay     time.Duration // how long after processing its tasks run; default 2 s
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

	mu        sync.Mutex
	tasks     map[string]Task
	taskOrder []string
	client    *river.Client[*sql.Tx]
	stop      chan struct{}
	done      chan struct{}
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
	return &Runner{store: s, log: log, opts: opts, notify: make(chan struct{}, 1), processed: make(chan struct{}, 1)}
}

// Start applies River's migrations and starts the client: workers, the
// periodic sweep, and the loop that turns notifications into jobs. Jobs are
// not cancelled when ctx ends; Stop drains them.
func (r *Runner) Start(ctx context.Context) error {
	if err := Migrate(ctx, r.store); err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &processWorker{r: r})
	river.AddWorker(workers, &sweepWorker{r: r})
	river.AddWorker(workers, &taskWorker{r: r})
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(r.opts.SweepInterval),
		func() (river.JobArgs, *river.InsertOpts) { return SweepEventsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
	r.mu.Lock()
	for _, name := range r.taskOrder {
		t := r.tasks[name]
		if t.Every <= 0 {
			continue
		}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(t.Every),
			func() (river.JobArgs, *river.InsertOpts) {
				return TaskArgs{Name: name}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
			},
			&river.PeriodicJobOpts{RunOnStart: t.RunOnStart}))
	}
	r.mu.Unlock()
	client, err := river.NewClient(driver(r.store), &river.Config{
		Logger:                      r.log.With("component", "jobs"),
		Queues:                      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:                     workers,
		PollOnly:                    true,
		FetchCooldown:               50 * time.Millisecond,
		FetchPollInterval:           r.opts.PollInterval,
		CompletedJobRetentionPeriod: time.Hour,
		PeriodicJobs:                periodic,
	})
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start job queue: %w", err)
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
	return client.Stop(ctx)
}

// Notify says new events were committed. It never blocks: notifications
// that arrive while one is pending fold into it.
func (r *Runner) Notify() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *Runner) enqueueLoop(stop, done chan struct{}) {
	defer close(done)
	for {
		process := false
		select {
		case <-stop:
			return
		case <-r.notify:
			process = true
		case <-r.processed:
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
			if _, err := client.Insert(ctx, ProcessEventsArgs{}, nil); err != nil {
				// The sweep picks the events up; nothing is lost.
				r.log.Warn("enqueue event processing", "err", err)
			}
		}
		if r.processedFlag.Swap(false) {
			r.enqueueAfterProcess(ctx, client)
		}
		cancel()
	}
}

// work processes events for up to jobBudget and hands any remainder to a
// follow-up job.
func (r *Runner) work(ctx context.Context) error {
	n, more, err := processFor(ctx, r.store, jobBudget)
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
		if _, err := client.Insert(ctx, ProcessEventsArgs{}, nil); err != nil {
			r.log.Warn("enqueue follow-up processing", "err", err)
		}
	}
	if n > 0 && client != nil {
		r.enqueueAfterProcess(ctx, client)
	}
	return nil
}

// enqueueAfterProcess enqueues the tasks that follow processing.
func (r *Runner) enqueueAfterProcess(ctx context.Context, client *river.Client[*sql.Tx]) {
	r.mu.Lock()
	var names []string
	for _, name := range r.taskOrder {
		if r.tasks[name].AfterProcess {
			names = append(names, name)
		}
	}
	r.mu.Unlock()
	for _, name := range names {
		// One pending run per task: a burst of events folds into it, and
		// the run waits TaskDelay so that a burst does not rerun its tasks
		// continually while it is being processed.
		opts := &river.InsertOpts{ScheduledAt: time.Now().Add(r.opts.TaskDelay), UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
		if _, err := client.Insert(ctx, TaskArgs{Name: name}, opts); err != nil {
			r.log.Warn("enqueue task", "task", name, "err", err)
		}
	}
}

// Processed says events were processed outside the runner (at intake, by
// an Ingester): the tasks that follow processing are enqueued after the
// debounce, as after the runner's own processing. It never blocks.
func (r *Runner) Processed() {
	r.processedFlag.Store(true)
	select {
	case r.processed <- struct{}{}:
	default:
	}
}

// pendingStates make a task unique while a run waits or runs (River
// requires the running state in the set). Events that arrive during a run
// are picked up by the next one: every AfterProcess task is also periodic.
var pendingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateScheduled}
