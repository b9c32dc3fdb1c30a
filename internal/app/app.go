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
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/review"
	"github.com/revloop/revloop/internal/routing"
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
	// Metrics is the process's Prometheus registry.
	Metrics *prometheus.Registry
	Log     *slog.Logger
	Role    Role
	Version string
	// Notify, when set, is handed every new reminder of an action item
	// (review.Reminders); the in-app notification is made either way.
	Notify review.NotifyFunc

	now     func() time.Time
	started bool
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
	errs = append(errs, a.Jobs.Stop(ctx))
	return errors.Join(errs...)
}
