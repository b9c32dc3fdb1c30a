package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/revloop/revloop/internal/importer"
	"github.com/revloop/revloop/internal/jobs"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// uploadsKept is how long an upload outlives a job that never took it up
// (no worker ran) or that failed for good; a job that ends deletes its own.
const uploadsKept = 7 * 24 * time.Hour

// StartImport starts importing a file ("costs" or "events"; name is for
// the import log): the file is kept in the database and imported by a job
// on a worker, which resumes where it stopped if its node dies. A file
// imported before answers its earlier import and no job. While another
// import is queued or running, the error is a *store.JobBusyError.
func (a *App) StartImport(ctx context.Context, kind, name string, src io.ReadSeeker, createCampaigns bool, actor string) (model.Job, importer.Result, error) {
	im := &importer.Importer{Store: a.Store, CreateCampaigns: createCampaigns, Actor: actor}
	plan, res, err := im.Prepare(ctx, kind, src)
	if plan == nil || err != nil {
		return model.Job{}, res, err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return model.Job{}, res, err
	}
	upload, _, err := a.Store.SaveUpload(ctx, name, src, importer.MaxFileBytes, a.now())
	if err != nil {
		return model.Job{}, res, err
	}
	op := Operation{Kind: "import." + kind, Lock: importer.ImportLock, Subject: plan.Subject, Unit: "rows",
		args: func(id int64) jobs.Operation {
			return jobs.Import{Op: jobs.Op{JobID: id}, Upload: upload, File: kind, Name: name, CreateCampaigns: createCampaigns, Actor: actor}
		}}
	j, err := a.Enqueue(ctx, op, actor)
	if err != nil {
		if derr := a.Store.DeleteUpload(context.WithoutCancel(ctx), upload); derr != nil {
			a.Log.Warn("upload of a refused import not deleted", "upload", upload, "err", derr)
		}
		return j, res, err
	}
	return j, res, nil
}

// importFile is the import operation: the kept file, resumed from its
// last chunk. A refused file fails the job at once with its bad rows; a
// failure of the database is tried again.
func (a *App) importFile(ctx context.Context, args jobs.Import, p *jobs.Progress) (any, error) {
	src, err := a.Store.OpenUpload(ctx, args.Upload)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jobs.Permanent(fmt.Errorf("the uploaded file is gone (kept %s): upload it again", uploadsKept))
	}
	if err != nil {
		return nil, err
	}
	im := &importer.Importer{Store: a.Store, CreateCampaigns: args.CreateCampaigns, Actor: args.Actor}
	run, err := im.Resume(ctx, p.JobID(), args.File, args.Name, src)
	if err != nil {
		if importer.Permanent(err) {
			return nil, jobs.Permanent(err)
		}
		return nil, err
	}
	res, err := run.Import(ctx)
	switch {
	case err == nil:
		if args.File == "events" && res.RowsNew > 0 {
			a.Jobs.Notify() // the imported events wait to be processed
		}
	case importer.Permanent(err):
		// Ended here, with the bad rows as the job's result.
		if ferr := run.Fail(ctx, err); ferr != nil {
			return nil, ferr
		}
	default:
		return nil, err // the job queue tries again, from the last chunk
	}
	if derr := a.Store.DeleteUpload(context.WithoutCancel(ctx), args.Upload); derr != nil {
		a.Log.Warn("upload of an ended import not deleted; the hourly maintenance does", "upload", args.Upload, "err", derr)
	}
	if err != nil {
		return nil, jobs.Permanent(err)
	}
	return res, nil
}
