package app

import (
	"context"
	"errors"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/privacy"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/review"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
)

// The background work's schedule: what runs by itself, and when. A kind
// that runs after processing runs once per burst of processed events and
// at least every minute. Each holds the lease of its domain (credits,
// scores, lifecycle, routing, predict), so that on any number of nodes one
// run of a kind goes at a time and each period runs once.
func (a *App) schedule() {
	r := a.Jobs
	jobs.Handle[jobs.CreditsIncremental](r, jobs.Schedule{AfterProcess: true, Every: 5 * time.Minute, RunOnStart: true}, a.credits(credits.Incremental))
	jobs.Handle[jobs.CreditsFull](r, jobs.Schedule{Every: 24 * time.Hour}, a.credits(credits.Full))
	jobs.Handle[jobs.ScoresNew](r, jobs.Schedule{AfterProcess: true}, a.scoresNew)
	jobs.Handle[jobs.RollupsRefresh](r, jobs.Schedule{AfterProcess: true, Every: time.Minute, RunOnStart: true}, a.rollups)
	jobs.Handle[jobs.ScoresDaily](r, jobs.Schedule{Every: 24 * time.Hour}, a.scoresDaily)
	jobs.Handle[jobs.LifecycleRules](r, jobs.Schedule{Every: time.Hour}, a.lifecycleRules)
	jobs.Handle[jobs.RoutingAssign](r, jobs.Schedule{AfterProcess: true, Every: time.Minute}, a.routingAssign)
	jobs.Handle[jobs.RoutingSLA](r, jobs.Schedule{Every: time.Minute, RunOnStart: true}, a.routingSLA)
	jobs.Handle[jobs.TrainModelDaily](r, jobs.Schedule{Every: 24 * time.Hour}, a.trainDaily)
	jobs.Handle[jobs.ReviewFacts](r, jobs.Schedule{Every: 5 * time.Minute, RunOnStart: true}, a.reviewFacts)
	jobs.Handle[jobs.ReviewReminders](r, jobs.Schedule{Every: 5 * time.Minute, RunOnStart: true}, a.reminders)
	jobs.Handle[jobs.AuthCleanup](r, jobs.Schedule{Every: time.Hour, RunOnStart: true}, a.authCleanup)
	jobs.Handle[jobs.PrivacyRetention](r, jobs.Schedule{Every: time.Hour, RunOnStart: true}, a.privacy)
	a.segmentJobs()
	jobs.Handle[jobs.JourneySteps](r, jobs.Schedule{AfterProcess: true, Every: time.Minute, RunOnStart: true}, a.journeySteps)
	if a.Store.Dialect() == store.SQLite {
		// An import can grow the write-ahead log by hundreds of MB, which
		// journal_size_limit cuts back only once a checkpoint completes.
		jobs.Handle[jobs.SQLiteCheckpoint](r, jobs.Schedule{Every: 5 * time.Minute}, a.Store.Checkpoint)
	}
}

func (a *App) credits(mode credits.Mode) func(context.Context) error {
	return func(ctx context.Context) error {
		st, err := credits.Recompute(ctx, a.Store, mode, a.now())
		if err == nil && st.Conversions+st.Deleted > 0 {
			a.Log.Info("attribution credits", "mode", mode, "conversions", st.Conversions, "deleted", st.Deleted, "credits", st.Credits, "took", st.Took)
			a.RollupsChanged(ctx)
		}
		for _, n := range st.Notes {
			a.Log.Warn("attribution credits", "note", n)
		}
		return err
	}
}

// rollups brings the dashboards' roll-ups up to date.
func (a *App) rollups(ctx context.Context) error {
	res, err := rollup.Refresh(ctx, a.Store, a.now())
	if err == nil && res.Changed() {
		a.Log.Debug("roll-ups refreshed", "rebuilt", res.Rebuilt, "days", res.Days, "rows", res.Rows, "took", res.Took)
	}
	return err
}

// The reviews' kept facts the review_facts job computes again: those read
// within FactsReadWithin, at most FactsRefreshLimit of each review, for at
// most FactsRefreshBudget per run; the rest are computed on their next
// visit.
const (
	FactsReadWithin    = 24 * time.Hour
	FactsRefreshLimit  = 8
	FactsRefreshBudget = time.Minute
)

// reviewFacts computes again the reviews' kept facts that the roll-up
// refresh made stale and that people read lately, so that their next
// visit finds them current.
func (a *App) reviewFacts(ctx context.Context) error {
	kf, err := report.Reporter{Store: a.Store, KeepFacts: true}.RefreshFacts(ctx, time.Now().Add(-FactsReadWithin), FactsRefreshLimit, FactsRefreshBudget)
	if err == nil && kf.Entries > 0 {
		a.Log.Debug("review facts refreshed", "entries", kf.Entries, "took", kf.Took)
	}
	return err
}

// reminders reminds the owners of action items due soon or overdue.
func (a *App) reminders(ctx context.Context) error {
	res, err := review.Reminders{Store: a.Store, Notify: a.Notify}.Run(ctx, a.now())
	if err == nil && res.Created+res.Notified+res.Failed > 0 {
		a.Log.Info("action item reminders", "created", res.Created, "notified", res.Notified, "failed", res.Failed, "last_error", res.LastError)
	}
	return err
}

// RollupsChanged asks for a refresh of the roll-ups now, rather than at
// the next run after processing or the next minute: after a credit run,
// lifecycle moves, or a change of the team's time zone (which rebuilds
// them). A refresh already running is not interrupted; what it read too
// early is caught by the next one.
func (a *App) RollupsChanged(ctx context.Context) {
	if err := a.Jobs.Kick(ctx, jobs.RollupsRefresh{}); err != nil {
		a.Log.Warn("roll-up refresh not enqueued; the periodic one follows within a minute", "err", err)
	}
}

// scoresNew rescores the persons with new activity, identity or traits
// (a merge, an identify) and runs the lifecycle rules over them, so that
// what processing learnt reaches scores, grades and stages at once.
func (a *App) scoresNew(ctx context.Context) error {
	res, err := scoring.RescoreNew(ctx, a.Store, a.now())
	if err != nil {
		return err
	}
	if res.Persons > 0 {
		a.Log.Debug("rescored persons with new activity", "persons", res.Persons, "moved_to_mql", res.MovedToMQL, "took", res.Took)
	}
	err = a.lifecycleAfter(ctx, res)
	if res.Persons > 0 {
		a.SegmentsChanged(ctx) // segments read events as far as scoring has
	}
	return err
}

// lifecycleAfter runs the lifecycle rules over the persons a rescore
// scored: those with new activity, or everyone after a full replay (the
// first run, a rule change), since grades and stage rules read scores.
func (a *App) lifecycleAfter(ctx context.Context, res scoring.Result) error {
	var lc lifecycle.RunResult
	var err error
	switch {
	case res.Full:
		lc, err = lifecycle.RunRules(ctx, a.Store, a.now())
		if errors.Is(err, store.ErrLeaseHeld) {
			err = nil // the run in progress reads the new scores
		}
	case len(res.Rescored) > 0:
		lc, err = lifecycle.RunRulesFor(ctx, a.Store, res.Rescored, a.now())
	}
	if err == nil && lc.GradeChanges+lc.SDRClassChanges+lc.Moves > 0 {
		a.Log.Info("lifecycle rules applied to rescored persons", "full", res.Full, "persons", len(res.Rescored), "grades", lc.GradeChanges,
			"sdr_classes", lc.SDRClassChanges, "moves", lc.Moves)
	}
	if err == nil && (res.MovedToMQL > 0 || lc.Moves > 0) {
		a.RollupsChanged(ctx)
	}
	return err
}

func (a *App) scoresDaily(ctx context.Context) error {
	res, err := scoring.Rescore(ctx, a.Store, a.now(), nil)
	if err != nil {
		return err
	}
	a.Log.Info("daily rescore", "version", res.Version, "persons", res.Persons, "moved_to_mql", res.MovedToMQL, "took", res.Took)
	return a.lifecycleAfter(ctx, res)
}

func (a *App) lifecycleRules(ctx context.Context) error {
	res, err := lifecycle.RunRules(ctx, a.Store, a.now())
	if err == nil && res.GradeChanges+res.SDRClassChanges+res.Moves > 0 {
		a.Log.Info("lifecycle rules applied", "version", res.Version, "grades", res.GradeChanges, "sdr_classes", res.SDRClassChanges, "moves", res.Moves)
	}
	if err == nil && res.Moves > 0 {
		a.RollupsChanged(ctx)
	}
	return err
}

func (a *App) routingAssign(ctx context.Context) error {
	res, err := a.Router.Assign(ctx)
	if err == nil && (res.Assigned > 0 || res.Waiting > 0) {
		a.Log.Info("leads routed", "assigned", res.Assigned, "waiting", res.Waiting)
	}
	return err
}

func (a *App) routingSLA(ctx context.Context) error {
	n, err := a.Router.CheckSLA(ctx)
	if err == nil && n > 0 {
		a.Log.Info("first-follow-up SLAs missed", "escalated", n)
	}
	return err
}

func (a *App) trainDaily(ctx context.Context) error {
	m, err := predictdb.Train(ctx, a.Store, a.now())
	if err == nil {
		a.Log.Info("predictive model trained", "status", m.Status, "examples", m.Examples, "positives", m.Positives,
			"auc", m.AUC, "scored", m.Scored, "took", m.Duration)
	}
	return err
}

func (a *App) authCleanup(ctx context.Context) error {
	sessions, counters, err := a.Auth.Cleanup(ctx)
	if err == nil && (sessions > 0 || counters > 0) {
		a.Log.Info("expired sessions and sign-in counters deleted", "sessions", sessions, "counters", counters)
	}
	return err
}

// privacy applies the retention of raw payloads and anonymises old
// addresses; it also deletes the uploads that no import took up.
func (a *App) privacy(ctx context.Context) error {
	err := privacy.Maintain(ctx, a.Store, a.now(), a.Log)
	n, derr := a.Store.DeleteUploadsBefore(ctx, a.now().Add(-uploadsKept))
	if n > 0 {
		a.Log.Info("uploads no import took up deleted", "uploads", n)
	}
	return errors.Join(err, derr)
}

// journeySteps enters persons from the segment feed and the date pass and
// runs the due journey steps; the worker's loop does the same every
// second, this run catches what processing started and what a node that
// stopped left.
func (a *App) journeySteps(ctx context.Context) error {
	a.Journeys.Kick()
	return a.Journeys.Tick(ctx)
}
