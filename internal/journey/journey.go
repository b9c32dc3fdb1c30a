// Package journey runs nurture journeys: it takes due steps from the
// ledger (store.ClaimJourneySteps), runs them — messages through a
// message.Sender, waits, branches, updates, exits — and completes them
// with the next step's row in one transaction (store.CompleteJourneySteps).
// It also enters persons from the segment change feed and the daily
// date-trait pass. Event and stage triggers are entered by the store
// itself, inside event processing and stage moves. docs/journeys.md
// describes the whole.
package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/message"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Segments answers segment conditions: membership of a saved segment and
// an inline filter in the segment package's condition language.
type Segments interface {
	Member(ctx context.Context, segmentID, personID int64) (bool, error)
	Matches(ctx context.Context, filter json.RawMessage, personID int64) (bool, error)
}

// SegmentChange is a person entering (or leaving) a segment.
type SegmentChange struct {
	ID, SegmentID, PersonID int64
	Entered                 bool
	At                      time.Time
}

// SegmentFeed is the segments' change feed, in id order.
type SegmentFeed interface {
	ChangesAfter(ctx context.Context, afterID int64, limit int) ([]SegmentChange, error)
}

// Outcomes says whether a message (by its key) was opened, clicked or
// replied to (kind is model.OutcomeOpened, ...).
type Outcomes interface {
	Outcome(ctx context.Context, key, kind string) (bool, error)
}

// Options configure a Runner; only the store is required.
type Options struct {
	// Sender sends email, WeCom and webhook steps (usually a
	// message.Dispatcher). Without one, message steps are skipped with
	// the reason "channel_not_configured".
	Sender   message.Sender
	Segments Segments
	Feed     SegmentFeed
	Outcomes Outcomes
	// Now is the clock (tests run waits on a fake one); default time.Now.
	Now func() time.Time
	// Worker names this runner in the ledger's claims; default host:pid
	// and a random suffix.
	Worker string
	// Batch is how many rows one claim takes (default 500), Lease how
	// long a claim holds (default 5 minutes), Concurrency how many steps
	// of a batch run at once (default 16).
	Batch       int
	Lease       time.Duration
	Concurrency int
	// MaxAttempts bounds the tries of a step that fails transiently
	// (default 5); Backoff is the delay before try n+1 after try n
	// (default 30s·2^(n-1), at most an hour).
	MaxAttempts int
	Backoff     func(attempt int) time.Duration
	Log         *slog.Logger
}

// Runner runs journeys' steps. It is safe to run any number of runners,
// in one process or many, over one database.
type Runner struct {
	st   *store.Store
	o    Options
	kick chan struct{}

	mu   sync.Mutex
	defs map[defKey]*model.JourneyDef
}

type defKey struct {
	journey int64
	version int
}

// NewRunner makes a Runner over the store.
func NewRunner(st *store.Store, o Options) *Runner {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Worker == "" {
		host, _ := os.Hostname()
		o.Worker = fmt.Sprintf("%s:%d:%d", host, os.Getpid(), time.Now().UnixNano()%1_000_000)
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Backoff == nil {
		o.Backoff = func(n int) time.Duration {
			d := 30 * time.Second << min(max(n-1, 0), 7)
			return min(d, time.Hour)
		}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Runner{st: st, o: o, kick: make(chan struct{}, 1), defs: map[defKey]*model.JourneyDef{}}
}

// Kick wakes Run now (after events were processed).
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run drains due steps every poll (and when kicked), polls the segment
// feed and runs the daily date-trait pass, until ctx ends.
func (r *Runner) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.o.Log.Warn("journeys", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
		}
	}
}

// Tick is one round of Run: segment entries, the date pass when due,
// then every due step.
func (r *Runner) Tick(ctx context.Context) error {
	var errs []error
	if _, err := r.PollSegments(ctx); err != nil {
		errs = append(errs, fmt.Errorf("segment feed: %w", err))
	}
	if _, err := r.DatePass(ctx); err != nil {
		errs = append(errs, fmt.Errorf("date pass: %w", err))
	}
	if _, err := r.Drain(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Drain runs batches until no step is due; it returns the steps run.
func (r *Runner) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.RunBatch(ctx)
		total += n
		if err != nil || n == 0 || ctx.Err() != nil {
			return total, err
		}
	}
}

// RunBatch claims one batch of due steps, runs them and completes them in
// one transaction. It returns how many it claimed.
func (r *Runner) RunBatch(ctx context.Context) (int, error) {
	now := r.o.Now()
	work, err := r.st.ClaimJourneySteps(ctx, r.o.Worker, now, r.o.Lease, r.o.Batch)
	if err != nil || len(work) == 0 {
		return 0, err
	}
	done := make([]store.JourneyStepDone, len(work))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(r.o.Concurrency, len(work)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				done[i] = r.runStep(ctx, work[i], now)
			}
		}()
	}
	for i := range work {
		next <- i
	}
	close(next)
	wg.Wait()
	if _, err := r.st.CompleteJourneySteps(context.WithoutCancel(ctx), r.o.Worker, r.o.Now(), done); err != nil {
		return 0, err
	}
	return len(work), nil
}

// definition returns a version's definition, cached (versions never
// change).
func (r *Runner) definition(ctx context.Context, journeyID int64, version int) (*model.JourneyDef, error) {
	k := defKey{journeyID, version}
	r.mu.Lock()
	d := r.defs[k]
	r.mu.Unlock()
	if d != nil {
		return d, nil
	}
	def, err := r.st.JourneyDefinition(ctx, journeyID, version)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.defs) > 1000 {
		clear(r.defs)
	}
	r.defs[k] = &def
	r.mu.Unlock()
	return &def, nil
}

// runStep runs one claimed step and says how its row ends.
func (r *Runner) runStep(ctx context.Context, w store.JourneyWork, now time.Time) store.JourneyStepDone {
	d := store.JourneyStepDone{Work: w}
	// retry puts the row back after a failure that may pass, or gives up
	// after MaxAttempts: a message step then counts as failed and the
	// journey goes on; any other step ends the entry.
	retry := func(err error, next string, nextType string) store.JourneyStepDone {
		if w.Attempt < r.o.MaxAttempts {
			d.Again, d.DueAt, d.Reason = true, now.Add(r.o.Backoff(w.Attempt)), clipReason(err.Error())
			return d
		}
		d.Status, d.Result, d.Reason = model.LedgerFailed, model.OutcomeFailed, clipReason(fmt.Sprintf("gave up after %d attempts: %v", w.Attempt, err))
		d.Next, d.NextType = next, nextType
		if next == "" {
			d.End, d.EndReason = model.EntryExited, "step "+w.StepID+" failed"
		}
		return d
	}
	def, err := r.definition(ctx, w.JourneyID, w.Version)
	if err != nil {
		return retry(err, "", "")
	}
	idx := -1
	for i := range def.Steps {
		if def.Steps[i].ID == w.StepID {
			idx = i
		}
	}
	if idx < 0 {
		d.Status, d.Result, d.Reason = model.LedgerSkipped, "unknown_step", "the version has no such step"
		d.End, d.EndReason = model.EntryExited, "unknown step "+w.StepID
		return d
	}
	if w.EntryState != model.EntryActive {
		d.Status, d.Result, d.Reason = model.LedgerSkipped, "entry_ended", "the entry had ended"
		return d
	}
	step := &def.Steps[idx]
	setNext := func(id string) {
		d.Next = id
		if id != "" {
			d.NextType = def.Step(id).Type
		}
	}
	// Exit conditions are checked before every step.
	for i, c := range def.Exit {
		ok, err := r.cond(ctx, c, w)
		if err != nil {
			return retry(fmt.Errorf("exit[%d]: %w", i, err), "", "")
		}
		if ok {
			d.Status, d.Result, d.Reason = model.LedgerSkipped, "exit", fmt.Sprintf("exit[%d] met", i)
			d.End, d.EndReason = model.EntryExited, fmt.Sprintf("exit condition %d", i)
			return d
		}
	}
	after := def.After(idx)
	afterType := ""
	if after != "" {
		afterType = def.Step(after).Type
	}
	switch step.Type {
	case model.StepEmail, model.StepWeCom, model.StepWebhook:
		if r.o.Sender == nil {
			d.Status, d.Result, d.Reason = model.LedgerSkipped, model.OutcomeSkipped, "channel_not_configured"
			setNext(after)
			return d
		}
		raw, _ := json.Marshal(step)
		res, err := r.o.Sender.Send(ctx, message.Request{Key: w.MessageKey, Channel: step.Type, PersonID: w.PersonID, JourneyID: w.JourneyID,
			Version: w.Version, StepID: w.StepID, Step: raw, Now: now})
		if err != nil && res.Status != message.Sent {
			return retry(err, after, afterType)
		}
		switch res.Status {
		case message.Sent:
			d.Status, d.Result = model.LedgerDone, model.OutcomeSent
		case message.Skipped:
			d.Status, d.Result = model.LedgerSkipped, model.OutcomeSkipped
		default:
			d.Status, d.Result = model.LedgerFailed, model.OutcomeFailed
		}
		d.Reason = res.Reason
		if res.ProviderID != "" && d.Reason == "" {
			d.Reason = "provider id " + res.ProviderID
		}
		setNext(after)
	case model.StepWait:
		if w.WaitUntil == nil {
			wake, err := r.wakeTime(ctx, step, w, now)
			if err != nil {
				return retry(err, "", "")
			}
			if wake.After(now) {
				d.Again, d.DueAt, d.WaitUntil, d.WaitEvent = true, wake, &wake, step.UntilEvent
				return d
			}
		}
		d.Status, d.Result = model.LedgerDone, "waited"
		if step.UntilEvent != "" {
			d.Result = "timeout"
			if w.Result == "event" {
				d.Result = "event"
			}
		}
		setNext(after)
	case model.StepBranch:
		ok, err := r.cond(ctx, *step.If, w)
		if err != nil {
			return retry(fmt.Errorf("if: %w", err), "", "")
		}
		d.Status = model.LedgerDone
		if ok {
			d.Result = "then"
			setNext(orElse(step.Then, after))
		} else {
			d.Result = "else"
			setNext(orElse(step.Else, after))
		}
	case model.StepUpdate:
		d.Status, d.Result = model.LedgerDone, "updated"
		d.Update = &store.JourneyUpdate{Trait: step.Trait, Value: step.Value, Stage: step.Stage, ScoreDelta: step.ScoreDelta, Owner: step.Owner, Task: step.Task}
		setNext(after)
	case model.StepExit:
		d.Status, d.Result = model.LedgerDone, "exit"
		d.End, d.EndReason = model.EntryExited, "exit step "+step.ID
	default:
		d.Status, d.Result, d.Reason = model.LedgerSkipped, "unknown_type", step.Type
		setNext(after)
	}
	return d
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func clipReason(s string) string {
	if len(s) > 480 {
		return s[:480]
	}
	return s
}

// wakeTime is when a wait that starts now ends.
func (r *Runner) wakeTime(ctx context.Context, step *model.JourneyStep, w store.JourneyWork, now time.Time) (time.Time, error) {
	switch {
	case step.For != "":
		d, err := model.ParseSpan(step.For)
		return now.Add(d), err
	case step.UntilEvent != "":
		d, err := model.ParseSpan(step.Timeout)
		return now.Add(d), err
	case step.Until != "":
		mins, err := model.ParseClock(step.Until)
		if err != nil {
			return now, err
		}
		loc, err := r.personZone(ctx, w.PersonID)
		if err != nil {
			return now, err
		}
		return NextClock(now, mins, loc), nil
	}
	return now, nil
}

// NextClock is the first time after now that the clock in loc shows the
// minute of the day mins.
func NextClock(now time.Time, mins int, loc *time.Location) time.Time {
	l := now.In(loc)
	t := time.Date(l.Year(), l.Month(), l.Day(), mins/60, mins%60, 0, 0, loc)
	if !t.After(now) {
		t = time.Date(l.Year(), l.Month(), l.Day()+1, mins/60, mins%60, 0, 0, loc)
	}
	return t.UTC()
}

// personZone is the person's "timezone" trait when it names a zone, else
// the team's time zone.
func (r *Runner) personZone(ctx context.Context, personID int64) (*time.Location, error) {
	_, zone, err := r.st.JourneyPerson(ctx, personID)
	if err != nil {
		return nil, err
	}
	if zone != "" {
		if loc, err := time.LoadLocation(zone); err == nil {
			return loc, nil
		}
	}
	cal, err := r.st.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	return cal.Loc, nil
}

// errUnwired is a condition whose service was not given to the runner.
var errUnwired = errors.New("not available in this process")

// cond evaluates a condition for the entry of w.
func (r *Runner) cond(ctx context.Context, c model.JourneyCond, w store.JourneyWork) (bool, error) {
	ok, err := r.condRaw(ctx, c, w)
	if err != nil {
		return false, err
	}
	return ok != c.Not, nil
}

func (r *Runner) condRaw(ctx context.Context, c model.JourneyCond, w store.JourneyWork) (bool, error) {
	switch {
	case c.Segment != 0:
		if r.o.Segments == nil {
			return false, fmt.Errorf("segment %d: %w", c.Segment, errUnwired)
		}
		return r.o.Segments.Member(ctx, c.Segment, w.PersonID)
	case len(c.Filter) > 0:
		if r.o.Segments == nil {
			return false, fmt.Errorf("filter: %w", errUnwired)
		}
		return r.o.Segments.Matches(ctx, c.Filter, w.PersonID)
	case c.Step != "":
		status, result, key, found, err := r.st.JourneyStepOutcome(ctx, w.EntryID, c.Step)
		if err != nil || !found {
			return false, err
		}
		switch c.Outcome {
		case model.OutcomeSent:
			return status == model.LedgerDone && result == model.OutcomeSent, nil
		case model.OutcomeSkipped:
			return status == model.LedgerSkipped, nil
		case model.OutcomeFailed:
			return status == model.LedgerFailed, nil
		}
		if status != model.LedgerDone || result != model.OutcomeSent {
			return false, nil // nothing went out to open
		}
		if r.o.Outcomes == nil {
			return false, fmt.Errorf("outcome %s: %w", c.Outcome, errUnwired)
		}
		return r.o.Outcomes.Outcome(ctx, key, c.Outcome)
	case c.Stage != "":
		stage, _, err := r.st.JourneyPerson(ctx, w.PersonID)
		if err != nil {
			return false, err
		}
		if c.Stage.Rank() < 0 || stage.Rank() < 0 {
			return stage == c.Stage, nil
		}
		return stage.Rank() >= c.Stage.Rank(), nil
	case c.Event != "":
		return r.st.PersonDidEventSince(ctx, w.PersonID, c.Event, w.EnteredAt)
	}
	return false, nil
}

// PollSegments enters the persons who entered a segment that triggers a
// live journey, from the change feed; the feed's cursor moves in the same
// transaction as the entries. It returns how many entered.
func (r *Runner) PollSegments(ctx context.Context) (int, error) {
	if r.o.Feed == nil {
		return 0, nil
	}
	total := 0
	for range 100 {
		trig, err := r.st.JourneyTriggered(ctx, "segment")
		if err != nil {
			return total, err
		}
		cursor, err := r.st.JourneyCursor(ctx, "segment_feed")
		if err != nil {
			return total, err
		}
		const limit = 1000
		changes, err := r.o.Feed.ChangesAfter(ctx, cursor, limit)
		if err != nil || len(changes) == 0 {
			return total, err
		}
		bySegment := map[int64][]int64{}
		for id, v := range trig {
			seg, _ := strconv.ParseInt(v, 10, 64)
			bySegment[seg] = append(bySegment[seg], id)
		}
		var ents []store.JourneyEntrant
		last := cursor
		for _, c := range changes {
			last = max(last, c.ID)
			if !c.Entered {
				continue
			}
			for _, j := range bySegment[c.SegmentID] {
				ents = append(ents, store.JourneyEntrant{JourneyID: j, PersonID: c.PersonID, At: c.At})
			}
		}
		n, err := r.st.EnterJourneys(ctx, ents, "segment_feed", last)
		total += n
		if err != nil || len(changes) < limit {
			return total, err
		}
	}
	return total, nil
}

// DatePass enters, once a day per journey, the persons whose date trait
// (shifted by the trigger's offset) is today in the team's time zone, at
// the trigger's time of day in the person's time zone. It returns how
// many entered.
func (r *Runner) DatePass(ctx context.Context) (int, error) {
	trig, err := r.st.JourneyTriggered(ctx, "date_trait")
	if err != nil || len(trig) == 0 {
		return 0, err
	}
	cal, err := r.st.Calendar(ctx)
	if err != nil {
		return 0, err
	}
	now := r.o.Now()
	today := now.In(cal.Loc)
	day := int64(today.Year()*10000 + int(today.Month())*100 + today.Day())
	total := 0
	for id := range trig {
		name := "date_pass:" + strconv.FormatInt(id, 10)
		done, err := r.st.JourneyCursor(ctx, name)
		if err != nil {
			return total, err
		}
		if done >= day {
			continue
		}
		j, err := r.st.Journey(ctx, id)
		if err != nil {
			return total, err
		}
		def, err := r.definition(ctx, id, j.LiveVersion)
		if err != nil {
			return total, err
		}
		at := 0
		if def.Trigger.At != "" {
			at, _ = model.ParseClock(def.Trigger.At)
		}
		var ents []store.JourneyEntrant
		var after int64
		for {
			ps, zones, last, err := r.st.PersonsWithTrait(ctx, def.Trigger.DateTrait, after, 5000)
			if err != nil {
				return total, err
			}
			for i, p := range ps {
				date, ok := traitDate(p.Value)
				if !ok {
					continue
				}
				date = date.AddDate(0, 0, def.Trigger.OffsetDays)
				if date.Year() != today.Year() || date.Month() != today.Month() || date.Day() != today.Day() {
					continue
				}
				loc := cal.Loc
				if z, err := time.LoadLocation(zones[i]); zones[i] != "" && err == nil {
					loc = z
				}
				when := time.Date(today.Year(), today.Month(), today.Day(), at/60, at%60, 0, 0, loc)
				ents = append(ents, store.JourneyEntrant{JourneyID: id, PersonID: p.PersonID, At: when})
			}
			if last == after {
				break
			}
			after = last
		}
		n, err := r.st.EnterJourneys(ctx, ents, name, day)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// traitDate reads a date trait: "2026-03-01", or a timestamp whose first
// ten characters are one.
func traitDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 10 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", v[:10])
	return t, err == nil
}
