package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict/predictdb"
	"github.com/revloop/revloop/internal/privacy"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
)

// Operation is a long operation a person can start: it runs as a job
// (on a worker, after the request that started it has returned) with a
// record that GET /api/v1/jobs/{id} shows: state, progress and result.
// One operation of a kind is queued or running at a time, on all nodes.
type Operation struct {
	Kind    string // the record's kind, e.g. "scoring.rescore"
	Lock    string // held while queued or running
	Subject string
	Unit    string // what progress counts
	Total   int64
	args    func(jobID int64) jobs.Operation
}

// Rescore scores everyone again with the rules in force.
func Rescore() Operation {
	return Operation{Kind: "scoring.rescore", Lock: "scoring.rescore", Unit: "persons",
		args: func(id int64) jobs.Operation { return jobs.Rescore{Op: jobs.Op{JobID: id}} }}
}

// RecomputeCredits recomputes the stored attribution credits.
func RecomputeCredits(mode credits.Mode) Operation {
	return Operation{Kind: "attribution.recompute", Lock: "attribution.recompute", Subject: string(mode), Unit: "conversions",
		args: func(id int64) jobs.Operation {
			return jobs.RecomputeCredits{Op: jobs.Op{JobID: id}, Mode: string(mode)}
		}}
}

// TrainModel trains the predictive model and scores every lead with it.
func TrainModel() Operation {
	return Operation{Kind: "scoring.train", Lock: "scoring.train", Unit: "leads",
		args: func(id int64) jobs.Operation { return jobs.TrainModel{Op: jobs.Op{JobID: id}} }}
}

// Reclassify classifies every touchpoint again with the channel rules in
// force.
func Reclassify() Operation {
	return Operation{Kind: "channels.reclassify", Lock: "channels.reclassify", Unit: "touchpoints",
		args: func(id int64) jobs.Operation { return jobs.Reclassify{Op: jobs.Op{JobID: id}} }}
}

// RunLifecycleRules runs the lifecycle rules over everyone now.
func RunLifecycleRules() Operation {
	return Operation{Kind: "lifecycle.run", Lock: "lifecycle.run", Unit: "persons",
		args: func(id int64) jobs.Operation { return jobs.RunLifecycleRules{Op: jobs.Op{JobID: id}} }}
}

// RunRouting assigns the waiting leads and checks the follow-up SLAs now.
func RunRouting() Operation {
	return Operation{Kind: "routing.run", Lock: "routing.run", Unit: "leads",
		args: func(id int64) jobs.Operation { return jobs.RunRouting{Op: jobs.Op{JobID: id}} }}
}

// ErasePerson erases a person; the result is the erasure's receipt.
func ErasePerson(personID int64, actor string) Operation {
	return Operation{Kind: "person.erase", Lock: fmt.Sprintf("person.erase:%d", personID), Subject: fmt.Sprint(personID),
		Unit: "persons", Total: 1,
		args: func(id int64) jobs.Operation {
			return jobs.ErasePerson{Op: jobs.Op{JobID: id}, PersonID: personID, Actor: actor}
		}}
}

// Enqueue records and queues an operation that actor asked for. While
// another of the same kind (and subject) is queued or running, the error
// is a *store.JobBusyError naming it.
func (a *App) Enqueue(ctx context.Context, op Operation, actor string) (model.Job, error) {
	return a.Jobs.Enqueue(ctx, model.Job{Kind: op.Kind, LockName: op.Lock, Subject: op.Subject, ProgressUnit: op.Unit,
		ProgressTotal: op.Total, CreatedBy: actor}, op.args)
}

// operations says what each operation does.
func (a *App) operations() {
	r := a.Jobs
	jobs.HandleOperation(r, a.rescore)
	jobs.HandleOperation(r, func(ctx context.Context, args jobs.RecomputeCredits, _ *jobs.Progress) (any, error) {
		mode, err := credits.ParseMode(args.Mode)
		if err != nil {
			return nil, jobs.Permanent(err)
		}
		st, err := credits.Recompute(ctx, a.Store, mode, a.now())
		if err == nil && st.Conversions+st.Deleted > 0 {
			a.RollupsChanged(ctx)
		}
		return st, err
	})
	jobs.HandleOperation(r, func(ctx context.Context, _ jobs.TrainModel, _ *jobs.Progress) (any, error) {
		m, err := predictdb.Train(ctx, a.Store, a.now())
		if err != nil {
			return nil, err
		}
		a.Log.Info("predictive model trained", "status", m.Status, "examples", m.Examples, "auc", m.AUC, "scored", m.Scored, "took", m.Duration)
		return map[string]any{"status": m.Status, "message": m.Message, "examples": m.Examples, "positives": m.Positives,
			"auc": m.AUC, "scored_persons": m.Scored, "training_ms": m.Duration.Milliseconds()}, nil
	})
	jobs.HandleOperation(r, a.reclassify)
	jobs.HandleOperation(r, a.importFile)
	jobs.HandleOperation(r, func(ctx context.Context, _ jobs.RunLifecycleRules, _ *jobs.Progress) (any, error) {
		res, err := lifecycle.RunRules(ctx, a.Store, a.now())
		if err == nil && res.Moves > 0 {
			a.RollupsChanged(ctx)
		}
		return res, err
	})
	jobs.HandleOperation(r, func(ctx context.Context, _ jobs.RunRouting, _ *jobs.Progress) (any, error) {
		res, err := a.Router.Assign(ctx)
		if err != nil {
			return nil, fmt.Errorf("assign leads: %w", err)
		}
		n, err := a.Router.CheckSLA(ctx)
		if err != nil {
			return nil, fmt.Errorf("check SLAs: %w", err)
		}
		return map[string]any{"assigned": res.Assigned, "waiting": res.Waiting, "closed": res.Closed, "breached": n}, nil
	})
	jobs.HandleOperation(r, func(ctx context.Context, args jobs.ErasePerson, p *jobs.Progress) (any, error) {
		rc, err := a.Store.ErasePerson(ctx, args.PersonID, args.Actor, a.now())
		if errors.Is(err, store.ErrNotFound) || errors.As(err, new(store.ErrMerged)) {
			return nil, jobs.Permanent(fmt.Errorf("erase person %d: %w", args.PersonID, err))
		}
		if err != nil {
			return nil, fmt.Errorf("erase person %d: %w", args.PersonID, err)
		}
		a.Log.Info("person erased", "person", args.PersonID, "actor", args.Actor, "receipt", rc.ID, "suppressed", rc.Suppressed)
		a.SuppressionsChanged(ctx)
		// Credits and scores follow: the kinds that come after processing
		// recompute without the person.
		a.Jobs.Processed()
		_ = p.Set(ctx, 1, 1)
		return rc, nil
	})
}

// SuppressionsChanged makes this node's collector drop newly suppressed
// identifiers at once; the collectors of other nodes pick them up at
// their next settings refresh (a few seconds).
func (a *App) SuppressionsChanged(ctx context.Context) {
	if a.Collector == nil {
		return
	}
	if err := a.Collector.ReloadSuppressions(ctx); err != nil {
		a.Log.Warn("suppressions not reloaded; the collector picks them up at its next settings refresh", "err", err)
	}
}

// reclassify classifies every touchpoint again with the channel rules in
// force. Rules saved while it runs (their reclassification found this
// one running) are applied by another pass once this one ends.
func (a *App) reclassify(ctx context.Context, _ jobs.Reclassify, p *jobs.Progress) (any, error) {
	for {
		version, err := a.channelRulesVersion(ctx)
		if err != nil {
			return nil, err
		}
		rs, err := process.ChannelRules(ctx, a.Store)
		if err != nil {
			return nil, err
		}
		total, err := a.Store.CountTouchSources(ctx)
		if err != nil {
			return nil, err
		}
		res, err := process.Reclassify(ctx, a.Store, rs, func(examined int) {
			if err := p.Set(ctx, int64(examined), total); err != nil {
				a.Log.Warn("reclassify progress", "err", err)
			}
		})
		if err != nil {
			return nil, err
		}
		if res.Updated > 0 {
			a.RollupsChanged(ctx)
		}
		now, err := a.channelRulesVersion(ctx)
		if err != nil || now == version {
			return res, err
		}
	}
}

// channelRulesVersion is the version of the channel rules in force (0:
// the defaults).
func (a *App) channelRulesVersion(ctx context.Context) (int64, error) {
	saved, err := a.Store.ActiveRuleSet(ctx, model.ChannelRuleSets)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return saved.Version, err
}

// rescore scores everyone again with the rules in force. Rules saved
// while it runs (their rescore found this one running) are applied by
// another pass once this one ends.
func (a *App) rescore(ctx context.Context, _ jobs.Rescore, _ *jobs.Progress) (any, error) {
	for {
		before, err := scoring.Active(ctx, a.Store)
		if err != nil {
			return nil, err
		}
		res, err := scoring.Rescore(ctx, a.Store, a.now(), nil)
		if err != nil {
			return nil, err
		}
		a.Log.Info("rescore", "version", res.Version, "persons", res.Persons, "moved_to_mql", res.MovedToMQL, "took", res.Took)
		if err := a.lifecycleAfter(ctx, res); err != nil {
			return nil, err
		}
		after, err := scoring.Active(ctx, a.Store)
		if err != nil || after.Version == before.Version {
			return res, err
		}
	}
}

// AnonymizeStored starts anonymising the client addresses stored so far
// (collector.anonymize_ip was just turned on; later events arrive
// anonymised): the privacy run does it now, in the background, and hourly
// until it is done.
func (a *App) AnonymizeStored(ctx context.Context) error {
	if err := privacy.AnonymizeStored(ctx, a.Store); err != nil {
		return err
	}
	return a.Jobs.Kick(ctx, jobs.PrivacyRetention{})
}
