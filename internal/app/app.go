// Package app builds revloop in one place: over an opened store it makes
// the services (accounts, the collector with processing at intake, the job
// runner with the schedule of background work and the long operations),
// and starts and stops them in order. The web server is handed an App and
// serves it; nothing here speaks HTTP but the listener's lifecycle.
//
// A process has a role: "web" takes intake, pages and the API and only
// enqueues background work; "worker" runs the background work; "all"
// (the default) does both. Any number of processes of any role may share
// one PostgreSQL database.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/collect"
	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/journey"
	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/review"
	"github.com/revloop/revloop/internal/routing"
	"github.com/revloop/revloop/internal/secret"
	"github.com/revloop/revloop/internal/store"
)

// Role is what a process does.
type Role string

const (
	RoleAll    Role = "all"
	RoleWeb    Role = "web"
	RoleWorker Role = "worker"
)

// ParseRole reads a --role value.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAll, RoleWeb, RoleWorker:
		return r, nil
	case "":
		return RoleAll, nil
	}
	return "", fmt.Errorf("role %q: want all, web or worker", s)
}

// Serves says whether the role takes intake, pages and the API.
func (r Role) Serves() bool { return r != RoleWorker }

// Works says whether the role runs background work.
func (r Role) Works() bool { return r != RoleWeb }

// Options are what New needs.
type Options struct {
	Store   *store.Store
	Role    Role
	Logger  *slog.Logger
	Version string
	// Now is the one clock of the application (tests set it); default
	// time.Now.
	Now func() time.Time
	// Jobs tunes the runner (tests shorten its intervals); Work is set
	// from the role.
	Jobs jobs.Options
	// Collector tunes the collector; Store, Logger, Registerer and Ingest
	// are set here.
	Collector collect.Options
	// Secrets seals and opens the secrets revloop keeps (the SMTP
	// password); nil when no secret key is configured.
	Secrets *secret.Box
	// Email tunes the email sender; Store, Secrets, Log and Now are set
	// here.
	Email message.EmailOptions
	// Journeys are the services journey steps use: the sender of their
	// messages, segment conditions, the segment change feed and message
	// outcomes. Each left nil is revloop's own: the channels behind the
	// consent and frequency-cap gate, the segments, the email events.
	JourneySender   message.Sender
	JourneySegments journey.Segments
	JourneyFeed     journey.SegmentFeed
	JourneyOutcomes journey.Outcomes
	// JourneyPoll is how often a worker looks for due journey steps
	// (default a second); JourneyLease how long a claim of steps holds
	// before another runner may take them over (default 5 minutes).
	JourneyPoll  time.Duration
	JourneyLease time.Duration
	// Notify, when set, also delivers each reminder of an action item
	// outside the app (e.g. by email); see App.Notify.
	Notify review.NotifyFunc
}

// App is revloop's services over one database.
type App struct {
	Store *store.Store
	Auth  *auth.Service
	// Collector takes every event: the /v1 API, tracked-link clicks and
	// pixel hits. Nil on a worker.
	Collector *collect.Collector
	// Jobs runs (worker) or only enqueues (web) background work.
	Jobs *jobs.Runner
	// Router assigns leads and watches follow-up SLAs.
	Router *routing.Router
	// Attribution answers attribution questions, from the stored credits
	// or computed on request within bounds.
	Attribution *report.Attributor
	// Journeys runs the journeys' steps (on a worker, in a loop and as
	// the journey_steps job).
	Journeys *journey.Runner
	// Metrics is the process's Prometheus registry.
	Metrics *prometheus.Registry
	// Secrets is the box of stored secrets; nil without a secret key.
	Secrets *secret.Box
	// Email sends email steps over the SMTP server of the email.smtp
	// setting, on a few reused connections.
	Email   *message.EmailSender
	Log     *slog.Logger
	Role    Role
	Version string
	// Notify, when set, is handed every new reminder of an action item
	// (review.Reminders); the in-app notification is made either way.
	Notify review.NotifyFunc

	now     func() time.Time
	started bool

	journeyPoll time.Duration
	journeyStop context.CancelFunc
	journeyDone chan struct{}
}

// New builds the services; nothing runs until Start.
func New(opts Options) (*App, error) {
	if opts.Store == nil {
		return nil, errors.New("app: a store is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Role == "" {
		opts.Role = RoleAll
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	a := &App{Store: opts.Store, Log: opts.Logger, Role: opts.Role, Version: opts.Version, now: opts.Now, Notify: opts.Notify,
		Metrics: prometheus.NewRegistry()}
	a.Auth = auth.New(a.Store)
	a.Auth.Now = a.now
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "revloop_build_info",
		Help:        "Always 1; the version label says which revloop runs.",
		ConstLabels: prometheus.Labels{"version": a.Version, "role": string(a.Role)},
	})
	build.Set(1)
	a.Metrics.MustRegister(build, newBacklogCollector(a.Store, a.Log))
	breaches := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "revloop_routing_sla_breaches_total",
		Help: "Assignments marked as having missed their first-follow-up SLA (each raises one escalation task).",
	})
	a.Metrics.MustRegister(breaches)
	a.Router = &routing.Router{Store: a.Store, Now: a.now, OnBreach: func(n int) { breaches.Add(float64(n)) }}
	a.Attribution = report.NewAttributor(a.Store, a.Log)
	a.Secrets = opts.Secrets
	eo := opts.Email
	eo.Store, eo.Secrets, eo.Log, eo.Now = a.Store, a.Secrets, a.Log, a.now
	a.Email = message.NewEmailSender(eo)
	if a.Notify == nil {
		a.Notify = a.emailNotice
	}

	jopts := journey.Options{Sender: opts.JourneySender, Segments: opts.JourneySegments,
		Feed: opts.JourneyFeed, Outcomes: opts.JourneyOutcomes, Now: a.now, Log: a.Log, Lease: opts.JourneyLease}
	if jopts.Sender == nil {
		jopts.Sender = a.messageDispatcher()
	}
	if jopts.Segments == nil {
		jopts.Segments = journeySegments{st: a.Store, now: a.now}
	}
	if jopts.Feed == nil {
		jopts.Feed = &journeyFeed{st: a.Store}
	}
	if jopts.Outcomes == nil {
		jopts.Outcomes = journeyOutcomes{st: a.Store}
	}
	a.Journeys = journey.NewRunner(a.Store, jopts)
	a.journeyPoll = opts.JourneyPoll
	if a.journeyPoll <= 0 {
		a.journeyPoll = time.Second
	}

	jo := opts.Jobs
	jo.Work = a.Role.Works()
	a.Jobs = jobs.NewRunner(a.Store, a.Log, jo)
	a.schedule()
	a.operations()

	if a.Role.Serves() {
		// Events are processed as they are committed; a commit whose
		// processing failed is left to the runner.
		ingester := process.NewIngester(a.Store, a.Log, a.Jobs.Processed, a.Jobs.Notify)
		co := opts.Collector
		co.Store, co.Logger, co.Registerer, co.Ingest = a.Store, a.Log, a.Metrics, ingester.Ingest
		if co.Committers == 0 {
			// Two on either engine: one commit parses its events while
			// the other writes.
			co.Committers = 2
		}
		if co.Now == nil {
			co.Now = a.now
		}
		c, err := collect.New(co)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		a.Collector = c
	}
	return a, nil
}

// Now is the application's clock.
func (a *App) Now() time.Time { return a.now() }

// Start starts the job runner (workers on a worker, an enqueuer on a web
// node) and the collector's committers.
func (a *App) Start(ctx context.Context) error {
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	if a.Collector != nil {
		if err := a.Collector.Start(ctx); err != nil {
			return err
		}
	}
	if a.Role.Works() {
		// Due journey steps are drained every poll; waits end within a
		// poll of their time.
		jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		a.journeyStop, a.journeyDone = cancel, make(chan struct{})
		go func() {
			defer close(a.journeyDone)
			a.Journeys.Run(jctx, a.journeyPoll)
		}()
	}
	a.started = true
	return nil
}

// Stop drains what was taken: the collector commits every event it
// acknowledged, then the runner lets running jobs finish (until ctx
// ends). Call it after the HTTP server stopped taking requests.
func (a *App) Stop(ctx context.Context) error {
	var errs []error
	if a.Collector != nil {
		errs = append(errs, a.Collector.Close(ctx))
	}
	if a.journeyStop != nil {
		a.journeyStop()
		select {
		case <-a.journeyDone:
		case <-ctx.Done():
		}
	}
	errs = append(errs, a.Jobs.Stop(ctx))
	errs = append(errs, a.Email.Close())
	return errors.Join(errs...)
}
