// Package segment keeps segments' membership current: saved filters over
// persons or accounts (model.SegmentCond), evaluated in full when a
// segment is built, for the changed persons after every burst of
// processing, and again as time passes for filters that ask about "the
// last D days". Every enter and leave is logged (store.SegmentChangesAfter)
// for the readers that act on them.
package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// LeaseName is the lease every pass holds, so that on any number of
// nodes one pass at a time writes membership.
const LeaseName = "segments"

// changedChunk bounds the persons one incremental transaction evaluates.
const changedChunk = 2000

// Matches reports whether the person matches a person filter written
// inline (a journey's branch condition) now. A filter that is not valid is
// a *model.SegmentFilterError naming the field.
func Matches(ctx context.Context, s *store.Store, filter json.RawMessage, personID int64) (bool, error) {
	return MatchesAt(ctx, s, filter, personID, time.Now())
}

// MatchesAt is Matches with windows of days counted back from now.
func MatchesAt(ctx context.Context, s *store.Store, filter json.RawMessage, personID int64, now time.Time) (bool, error) {
	cond, err := model.ParseSegmentFilter(model.SegmentPersons, filter, "filter")
	if err != nil {
		return false, err
	}
	got, err := Evaluate(ctx, s, cond, []int64{personID}, now)
	return got[personID], err
}

// Evaluate evaluates a validated person filter for a few persons (at most
// store.MaxSegmentFactsPersons) in Go, over the facts the filter reads:
// one small query per kind of fact instead of the filter's SQL, with the
// same meaning (the tests hold the two to each other). A person merged
// away or unknown does not match.
func Evaluate(ctx context.Context, s *store.Store, cond *model.SegmentCond, personIDs []int64, now time.Time) (map[int64]bool, error) {
	facts, err := s.SegmentFacts(ctx, cond, personIDs, now)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(personIDs))
	for _, id := range personIDs {
		if f, ok := facts[id]; ok {
			out[id] = cond.Eval(f)
		} else {
			out[id] = false
		}
	}
	return out, nil
}

// Result is what one pass changed.
type Result struct {
	Persons  int           `json:"persons"`  // changed persons evaluated (incremental)
	Segments int           `json:"segments"` // segments built (full)
	Entered  int           `json:"entered"`
	Left     int           `json:"left"`
	Took     time.Duration `json:"took_ns"`
}

// RefreshChanged re-evaluates every built segment for the persons that
// changed since the last pass (new events and touches once scored, merges,
// traits, account fields, lifecycle and qualification moves, owners,
// consents), then builds the segments whose filter is new or edited. The
// first pass builds every segment in full and sets the watermarks.
func RefreshChanged(ctx context.Context, s *store.Store, now time.Time) (Result, error) {
	var res Result
	err := s.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		res, err = refreshChanged(ctx, s, now)
		return err
	})
	return res, err
}

func refreshChanged(ctx context.Context, s *store.Store, now time.Time) (Result, error) {
	start := time.Now()
	var res Result
	from, err := s.SegmentWatermarks(ctx)
	if err != nil {
		return res, fmt.Errorf("segments: read watermarks: %w", err)
	}
	to, err := s.SegmentHighWater(ctx)
	if err != nil {
		return res, fmt.Errorf("segments: high water: %w", err)
	}
	if !from.Set {
		// The first pass has no watermarks to start from: it builds every
		// segment in full, which reflects everything up to the high water
		// read before it.
		r, err := rebuild(ctx, s, now, false, true)
		if err != nil {
			return r, err
		}
		if err := s.SetSegmentWatermarks(ctx, to, now); err != nil {
			return r, fmt.Errorf("segments: store watermarks: %w", err)
		}
		r.Took = time.Since(start)
		return r, nil
	}
	ids, err := s.PersonsChangedForSegments(ctx, from, to)
	if err != nil {
		return res, fmt.Errorf("segments: changed persons: %w", err)
	}
	res.Persons = len(ids)
	for len(ids) > 0 {
		part := ids[:min(changedChunk, len(ids))]
		ids = ids[len(part):]
		b, err := s.RefreshSegmentsFor(ctx, part, now)
		if err != nil {
			return res, fmt.Errorf("segments: evaluate %d changed persons: %w", len(part), err)
		}
		res.Entered += b.Entered
		res.Left += b.Left
	}
	if to != from {
		if err := s.SetSegmentWatermarks(ctx, to, now); err != nil {
			return res, fmt.Errorf("segments: store watermarks: %w", err)
		}
	}
	r, err := rebuild(ctx, s, now, false, false)
	res.Segments, res.Entered, res.Left = r.Segments, res.Entered+r.Entered, res.Left+r.Left
	res.Took = time.Since(start)
	return res, err
}

// RefreshTimed builds again the segments that change as time passes
// (windows of days; account segments, whose opportunities change outside
// the person logs), and any not built yet.
func RefreshTimed(ctx context.Context, s *store.Store, now time.Time) (Result, error) {
	return leased(ctx, s, func(ctx context.Context) (Result, error) { return rebuild(ctx, s, now, true, false) })
}

// RebuildAll builds every segment again (daily: scores decay without any
// change being logged).
func RebuildAll(ctx context.Context, s *store.Store, now time.Time) (Result, error) {
	return leased(ctx, s, func(ctx context.Context) (Result, error) { return rebuild(ctx, s, now, false, true) })
}

func leased(ctx context.Context, s *store.Store, fn func(context.Context) (Result, error)) (Result, error) {
	var res Result
	err := s.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		res, err = fn(ctx)
		return err
	})
	return res, err
}

// rebuildPatience is how long a rebuild someone asked for waits for a
// pass in progress.
const rebuildPatience = 10 * time.Minute

// Rebuild builds one segment in full (now, the time it is evaluated at,
// is read once the lease is held).
func Rebuild(ctx context.Context, s *store.Store, id int64, now func() time.Time) (store.SegmentBuild, error) {
	var b store.SegmentBuild
	err := s.WithLeaseWait(ctx, LeaseName, rebuildPatience, func(ctx context.Context) error {
		var err error
		b, err = s.RebuildSegment(ctx, id, now())
		return err
	})
	return b, err
}

func rebuild(ctx context.Context, s *store.Store, now time.Time, timed, all bool) (Result, error) {
	start := time.Now()
	var res Result
	ids, err := s.SegmentsToRebuild(ctx, timed, all)
	if err != nil {
		return res, fmt.Errorf("segments to build: %w", err)
	}
	for _, id := range ids {
		b, err := s.RebuildSegment(ctx, id, now)
		if err == store.ErrNotFound {
			continue // deleted meanwhile
		}
		if err != nil {
			return res, fmt.Errorf("build segment %d: %w", id, err)
		}
		res.Segments++
		res.Entered += b.Entered
		res.Left += b.Left
	}
	res.Took = time.Since(start)
	return res, nil
}
