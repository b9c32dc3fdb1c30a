package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/segment"
	"github.com/revloop/revloop/internal/store"
)

// RebuildSegment builds one segment in full: a job, with a record that
// GET /api/v1/jobs/{id} shows.
func RebuildSegment(id int64) Operation {
	return Operation{Kind: "segment.rebuild", Lock: fmt.Sprintf("segment.rebuild:%d", id), Subject: fmt.Sprint(id), Unit: "segments", Total: 1,
		args: func(jobID int64) jobs.Operation {
			return jobs.RebuildSegment{Op: jobs.Op{JobID: jobID}, SegmentID: id}
		}}
}

// segmentJobs schedules the passes that keep segments' membership current
// and says what a rebuild does.
func (a *App) segmentJobs() {
	r := a.Jobs
	jobs.Handle[jobs.SegmentsNew](r, jobs.Schedule{AfterProcess: true, RunOnStart: true}, a.segmentsNew)
	jobs.Handle[jobs.SegmentsTimed](r, jobs.Schedule{Every: segmentsTimedEvery}, func(ctx context.Context) error {
		res, err := segment.RefreshTimed(ctx, a.Store, a.now())
		if err == nil && res.Entered+res.Left > 0 {
			a.Log.Info("timed segments rebuilt", "segments", res.Segments, "entered", res.Entered, "left", res.Left, "took", res.Took)
		}
		return err
	})
	jobs.Handle[jobs.SegmentsDaily](r, jobs.Schedule{Every: segmentsDailyEvery}, func(ctx context.Context) error {
		res, err := segment.RebuildAll(ctx, a.Store, a.now())
		if err == nil {
			a.Log.Info("segments rebuilt", "segments", res.Segments, "entered", res.Entered, "left", res.Left, "took", res.Took)
		}
		return err
	})
	jobs.HandleOperation(r, func(ctx context.Context, args jobs.RebuildSegment, p *jobs.Progress) (any, error) {
		b, err := segment.Rebuild(ctx, a.Store, args.SegmentID, a.now)
		if errors.Is(err, store.ErrNotFound) {
			return nil, jobs.Permanent(fmt.Errorf("segment %d: %w", args.SegmentID, err))
		}
		if err != nil {
			return nil, fmt.Errorf("rebuild segment %d: %w", args.SegmentID, err)
		}
		_ = p.Set(ctx, 1, 1)
		return b, nil
	})
}

// segmentsNew re-evaluates the segments of the persons that changed.
func (a *App) segmentsNew(ctx context.Context) error {
	res, err := segment.RefreshChanged(ctx, a.Store, a.now())
	if err == nil && res.Entered+res.Left > 0 {
		a.Log.Debug("segments follow changed persons", "persons", res.Persons, "built", res.Segments, "entered", res.Entered, "left", res.Left, "took", res.Took)
	}
	return err
}

// SegmentsChanged asks for the incremental pass now: after a rescore (the
// pass reads events only as far as scoring has), or a segment saved.
func (a *App) SegmentsChanged(ctx context.Context) {
	if err := a.Jobs.Kick(ctx, jobs.SegmentsNew{}); err != nil {
		a.Log.Warn("segment pass not enqueued; the periodic one follows within a minute", "err", err)
	}
}

const (
	segmentsTimedEvery = 15 * time.Minute
	segmentsDailyEvery = 24 * time.Hour
)
