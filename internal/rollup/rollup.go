// Package rollup keeps the roll-ups current: the figures the dashboards
// read (touches, leads by lead source, entries into each stage, credits
// and influence per stored model and conversion kind) summed per team
// calendar day, so that a page sums a few thousand rows instead of
// scanning touchpoints, persons and credits. store's Sum* readers
// (internal/store/rollups.go) read them.
//
// Refresh recomputes what changed since it last ran, one team day at a
// time from the facts: the days of touchpoints and stage changes above
// each roll-up's watermarks, and the days writers marked (merges, undos,
// erasures, reclassifications, rewritten credits, replays, loads). A
// roll-up never built, or built in another time zone, is rebuilt whole.
// Days are computed here, in Go, with the team's calendar (the time_zone
// setting), never with SQL date arithmetic.
//
// Definitions (docs/metrics.md):
//   - a touch counts on the day it happened; it is "known" when its
//     person is past visitor now;
//   - a lead counts on the day of persons.lead_at, for its lead source:
//     the person's last touch at or before that moment (none: channel ""
//     and no campaign, keyword or asset); of them, those whose stage
//     history reached MQL, SQL, opportunity, customer (or further) by now,
//     whatever they are now (a disqualified MQL still reached MQL);
//     persons merged into another are not leads of their own;
//   - an entry into a stage counts once per person, on the day of their
//     first entry into it, by the channel of their first touch; it is
//     timed when they had entered the funnel stage before it (lead before
//     MQL, ...) by then, with the days in between;
//   - credits count on the day of the conversion: value × share and the
//     share, per model; for mql and sql each person's first entry only;
//   - influence counts each conversion once per channel, campaign,
//     keyword or asset among its credited touches.
package rollup

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// LeaseName is the lease a refresh holds: one at a time on every node.
const LeaseName = "rollups"

// Result says what a refresh did.
type Result struct {
	Rebuilt []string       `json:"rebuilt,omitempty"` // roll-ups rebuilt whole
	Days    map[string]int `json:"days,omitempty"`    // team days recomputed, per roll-up
	Rows    int            `json:"rows"`              // roll-up rows written
	Took    time.Duration  `json:"-"`
	TookMS  int64          `json:"took_ms"`
}

// Changed says whether the refresh rewrote anything.
func (r Result) Changed() bool { return len(r.Rebuilt) > 0 || len(r.Days) > 0 }

// Refresh brings every roll-up up to date, at time now (what the state
// records as its refresh time), and when it changed any makes the
// reviews' kept facts stale (store.NextReportFactsGeneration). While another refresh runs (here or on
// another node) it does nothing and the error is store.ErrLeaseHeld.
func Refresh(ctx context.Context, s *store.Store, now time.Time) (Result, error) {
	start := time.Now()
	var res Result
	err := s.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		res, err = refresh(ctx, s, now)
		if err == nil && res.Changed() {
			// The reviews' kept facts (report/facts.go) are sums of the
			// same facts: they are stale now.
			err = s.NextReportFactsGeneration(ctx)
		}
		return err
	})
	res.Took = time.Since(start)
	res.TookMS = res.Took.Milliseconds()
	return res, err
}

// spec is one roll-up: its name, what tells it which days changed since
// its watermarks (nil: marks only), and how it is built.
type spec struct {
	name    string
	changes func(s *store.Store, ctx context.Context, t0, t1, s0, s1 int64, fn func(time.Time)) error
	builder func(cal model.Calendar) builder
}

// builder sums the facts of ranges of time into roll-up rows and writes
// them.
type builder interface {
	// add sums the facts of [from, to) whose day keep accepts.
	add(ctx context.Context, s *store.Store, from, to time.Time, keep func(day time.Time) bool) error
	// write replaces the slice with the rows summed; it returns how many.
	write(ctx context.Context, s *store.Store, sl store.RollupSlice) (int, error)
}

func specs() []spec {
	out := []spec{
		{store.RollupTouches, (*store.Store).TouchRollupChanges, func(cal model.Calendar) builder { return newTouchBuilder(cal) }},
		{store.RollupLeads, (*store.Store).LeadRollupChanges, func(cal model.Calendar) builder { return newLeadBuilder(cal) }},
		{store.RollupStages, (*store.Store).StageRollupChanges, func(cal model.Calendar) builder { return newStageBuilder(cal) }},
	}
	for _, k := range credits.ConversionKinds {
		out = append(out, spec{name: store.RollupCredits(k), builder: func(cal model.Calendar) builder { return newCreditBuilder(cal, k) }})
	}
	return out
}

// run is one refresh: what it read at the start, and what it did.
type run struct {
	s     *store.Store
	cal   model.Calendar
	zone  string
	now   time.Time
	src   store.RollupSources
	marks map[string][]store.RollupMark
	res   Result
}

func refresh(ctx context.Context, s *store.Store, now time.Time) (Result, error) {
	r := run{s: s, now: now, marks: map[string][]store.RollupMark{}, res: Result{Days: map[string]int{}}}
	var err error
	if r.cal, err = s.Calendar(ctx); err != nil {
		return r.res, err
	}
	r.zone = r.cal.Loc.String()
	states, err := s.RollupStates(ctx)
	if err != nil {
		return r.res, fmt.Errorf("roll-up state: %w", err)
	}
	// Marks first, then the sources' ids, then the facts: whatever commits
	// after a read is above the ids read or leaves a mark not yet read.
	marks, err := s.RollupMarks(ctx)
	if err != nil {
		return r.res, fmt.Errorf("roll-up marks: %w", err)
	}
	for _, m := range marks {
		r.marks[m.Name] = append(r.marks[m.Name], m)
	}
	if r.src, err = s.RollupSources(ctx); err != nil {
		return r.res, fmt.Errorf("roll-up sources: %w", err)
	}
	for _, sp := range specs() {
		st, built := states[sp.name]
		if err := r.one(ctx, sp, st, built); err != nil {
			return r.res, fmt.Errorf("roll-up %s: %w", sp.name, err)
		}
	}
	if len(r.res.Days) == 0 {
		r.res.Days = nil
	}
	return r.res, nil
}

// one brings one roll-up, whose state is st (if built), up to date.
func (r *run) one(ctx context.Context, sp spec, st store.RollupState, built bool) error {
	next := store.RollupState{Name: sp.name, TimeZone: r.zone, RefreshedAt: r.now}
	if sp.changes != nil {
		next.Watermark, next.AuxWatermark = r.src.Touch, r.src.Stage
		if !r.src.StageSettled {
			next.AuxWatermark = st.AuxWatermark // read again next time
		}
	}
	sl := store.RollupSlice{State: next, All: !built || st.TimeZone != r.zone}
	days := map[time.Time]bool{}
	for _, m := range r.marks[sp.name] {
		sl.Marks = append(sl.Marks, m.ID)
		if m.All {
			sl.All = true
		}
		// The UTC date of the instant that changed is within a day of
		// its team day, whatever the zone.
		for d := -1; d <= 1; d++ {
			days[m.Day.AddDate(0, 0, d)] = true
		}
	}
	b := sp.builder(r.cal)
	if sl.All {
		if err := b.add(ctx, r.s, time.Time{}, time.Time{}, func(time.Time) bool { return true }); err != nil {
			return err
		}
		n, err := b.write(ctx, r.s, sl)
		r.res.Rebuilt = append(r.res.Rebuilt, sp.name)
		r.res.Rows += n
		return err
	}
	if sp.changes != nil {
		err := sp.changes(r.s, ctx, st.Watermark, r.src.Touch, st.AuxWatermark, r.src.Stage, func(t time.Time) { days[r.cal.Day(t)] = true })
		if err != nil {
			return err
		}
	}
	if len(days) == 0 && len(sl.Marks) == 0 && next.Watermark == st.Watermark && next.AuxWatermark == st.AuxWatermark {
		return nil
	}
	for _, dr := range dayRanges(days) {
		for d := dr.from; !d.After(dr.to); d = d.AddDate(0, 0, 1) {
			sl.Days = append(sl.Days, d)
		}
		keep := func(d time.Time) bool { return !d.Before(dr.from) && !d.After(dr.to) }
		if err := b.add(ctx, r.s, r.cal.Start(dr.from), r.cal.Start(dr.to.AddDate(0, 0, 1)), keep); err != nil {
			return err
		}
	}
	n, err := b.write(ctx, r.s, sl)
	if len(sl.Days) > 0 {
		r.res.Days[sp.name] = len(sl.Days)
	}
	r.res.Rows += n
	return err
}

// dayRange is a run of team days, both ends included.
type dayRange struct{ from, to time.Time }

// rangeGap is the widest gap between dirty days that is recomputed rather
// than read in two ranges: a day recomputed for nothing costs less than
// a query.
const rangeGap = 3

// dayRanges turns a set of days into sorted runs, bridging short gaps.
func dayRanges(days map[time.Time]bool) []dayRange {
	list := make([]time.Time, 0, len(days))
	for d := range days {
		list = append(list, d)
	}
	slices.SortFunc(list, func(a, b time.Time) int { return a.Compare(b) })
	var out []dayRange
	for _, d := range list {
		if n := len(out); n > 0 && !d.After(out[n-1].to.AddDate(0, 0, rangeGap+1)) {
			out[n-1].to = d
			continue
		}
		out = append(out, dayRange{d, d})
	}
	return out
}

// sortedRows returns the map's rows sorted by key.
func sortedRows[K comparable, R any](m map[K]*R, compare func(a, b *R) int) []R {
	out := make([]R, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b R) int { return compare(&a, &b) })
	return out
}

// touches

type touchKey struct {
	day                              time.Time
	channel, typ                     string
	campaignID, keywordID, contentID int64
}

type touchBuilder struct {
	cal  model.Calendar
	rows map[touchKey]*store.TouchRollupRow
}

func newTouchBuilder(cal model.Calendar) *touchBuilder {
	return &touchBuilder{cal: cal, rows: map[touchKey]*store.TouchRollupRow{}}
}

func (b *touchBuilder) add(ctx context.Context, s *store.Store, from, to time.Time, keep func(time.Time) bool) error {
	return s.TouchFacts(ctx, from, to, func(f *store.TouchFact) error {
		day := b.cal.Day(f.At)
		if !keep(day) {
			return nil
		}
		k := touchKey{day, f.Channel, f.Type, f.CampaignID, f.KeywordID, f.ContentID}
		r := b.rows[k]
		if r == nil {
			r = &store.TouchRollupRow{Day: day, Channel: f.Channel, Type: f.Type, CampaignID: f.CampaignID, KeywordID: f.KeywordID, ContentID: f.ContentID}
			b.rows[k] = r
		}
		r.Touches++
		if f.Known {
			r.Known++
		}
		r.WatchSeconds += f.WatchSeconds
		return nil
	})
}

func (b *touchBuilder) write(ctx context.Context, s *store.Store, sl store.RollupSlice) (int, error) {
	rows := sortedRows(b.rows, func(x, y *store.TouchRollupRow) int {
		return cmp.Or(x.Day.Compare(y.Day), cmp.Compare(x.Channel, y.Channel), cmp.Compare(x.Type, y.Type),
			cmp.Compare(x.CampaignID, y.CampaignID), cmp.Compare(x.KeywordID, y.KeywordID), cmp.Compare(x.ContentID, y.ContentID))
	})
	return len(rows), s.ReplaceTouchRollup(ctx, sl, rows)
}

// leads

type leadKey struct {
	day                              time.Time
	channel                          string
	campaignID, keywordID, contentID int64
}

type leadBuilder struct {
	cal  model.Calendar
	rows map[leadKey]*store.LeadRollupRow
}

func newLeadBuilder(cal model.Calendar) *leadBuilder {
	return &leadBuilder{cal: cal, rows: map[leadKey]*store.LeadRollupRow{}}
}

func (b *leadBuilder) add(ctx context.Context, s *store.Store, from, to time.Time, keep func(time.Time) bool) error {
	return s.LeadFacts(ctx, from, to, func(f *store.LeadFact) error {
		day := b.cal.Day(f.LeadAt)
		if !keep(day) {
			return nil
		}
		k := leadKey{day, f.Channel, f.CampaignID, f.KeywordID, f.ContentID}
		r := b.rows[k]
		if r == nil {
			r = &store.LeadRollupRow{Day: day, Channel: f.Channel, CampaignID: f.CampaignID, KeywordID: f.KeywordID, ContentID: f.ContentID}
			b.rows[k] = r
		}
		r.Leads++
		reached := f.Reached.Rank()
		for _, c := range []struct {
			n     *int64
			stage model.Stage
		}{{&r.MQLs, model.StageMQL}, {&r.SQLs, model.StageSQL}, {&r.Opportunities, model.StageOpportunity}, {&r.Customers, model.StageCustomer}} {
			if reached >= c.stage.Rank() {
				*c.n++
			}
		}
		return nil
	})
}

func (b *leadBuilder) write(ctx context.Context, s *store.Store, sl store.RollupSlice) (int, error) {
	rows := sortedRows(b.rows, func(x, y *store.LeadRollupRow) int {
		return cmp.Or(x.Day.Compare(y.Day), cmp.Compare(x.Channel, y.Channel), cmp.Compare(x.CampaignID, y.CampaignID),
			cmp.Compare(x.KeywordID, y.KeywordID), cmp.Compare(x.ContentID, y.ContentID))
	})
	return len(rows), s.ReplaceLeadRollup(ctx, sl, rows)
}

// stages

type stageKey struct {
	day            time.Time
	stage, channel string
}

type stageBuilder struct {
	cal   model.Calendar
	rows  map[stageKey]*store.StageRollupRow
	first []store.StageEntry // per person, reused
}

func newStageBuilder(cal model.Calendar) *stageBuilder {
	return &stageBuilder{cal: cal, rows: map[stageKey]*store.StageRollupRow{}}
}

// previousFunnelStage is the funnel stage before st, "" for lead and for
// stages outside the funnel.
func previousFunnelStage(st model.Stage) model.Stage {
	if i := slices.Index(model.FunnelStages, st); i > 0 {
		return model.FunnelStages[i-1]
	}
	return ""
}

// FirstEntries is each stage's first entry in a person's history (the
// lower id on a tie), in no particular order.
func FirstEntries(history []store.StageEntry, into []store.StageEntry) []store.StageEntry {
	into = into[:0]
	for _, e := range history {
		i := slices.IndexFunc(into, func(x store.StageEntry) bool { return x.Stage == e.Stage })
		switch {
		case i < 0:
			into = append(into, e)
		case e.At.Before(into[i].At) || (e.At.Equal(into[i].At) && e.ID < into[i].ID):
			into[i] = e
		}
	}
	return into
}

func (b *stageBuilder) add(ctx context.Context, s *store.Store, from, to time.Time, keep func(time.Time) bool) error {
	return s.StageHistories(ctx, from, to, func(_ int64, channel string, history []store.StageEntry) error {
		b.first = FirstEntries(history, b.first)
		for _, e := range b.first {
			day := b.cal.Day(e.At)
			if !keep(day) {
				continue
			}
			k := stageKey{day, string(e.Stage), channel}
			r := b.rows[k]
			if r == nil {
				r = &store.StageRollupRow{Day: day, Stage: string(e.Stage), Channel: channel}
				b.rows[k] = r
			}
			r.Entered++
			prev := previousFunnelStage(e.Stage)
			if prev == "" {
				continue
			}
			if i := slices.IndexFunc(b.first, func(x store.StageEntry) bool { return x.Stage == prev }); i >= 0 && !b.first[i].At.After(e.At) {
				r.Timed++
				r.DaysInBefore += e.At.Sub(b.first[i].At).Hours() / 24
			}
		}
		return nil
	})
}

func (b *stageBuilder) write(ctx context.Context, s *store.Store, sl store.RollupSlice) (int, error) {
	rows := sortedRows(b.rows, func(x, y *store.StageRollupRow) int {
		return cmp.Or(x.Day.Compare(y.Day), cmp.Compare(x.Stage, y.Stage), cmp.Compare(x.Channel, y.Channel))
	})
	return len(rows), s.ReplaceStageRollup(ctx, sl, rows)
}

// credits and influence

type creditKey struct {
	day                              time.Time
	channel                          string
	campaignID, keywordID, contentID int64
}

type influenceKey struct {
	day      time.Time
	dim, ref string
}

// conversionRefs is what one conversion's credited touches had.
type conversionRefs struct {
	day   time.Time
	value model.Money
	refs  [][2]string // dim, ref
}

type creditBuilder struct {
	cal       model.Calendar
	kind      model.ConversionKind
	rows      map[creditKey]*store.CreditRollupRow
	influence map[influenceKey]*store.InfluenceRollupRow
}

func newCreditBuilder(cal model.Calendar, kind model.ConversionKind) *creditBuilder {
	return &creditBuilder{cal: cal, kind: kind, rows: map[creditKey]*store.CreditRollupRow{},
		influence: map[influenceKey]*store.InfluenceRollupRow{}}
}

func (b *creditBuilder) add(ctx context.Context, s *store.Store, from, to time.Time, keep func(time.Time) bool) error {
	convs := map[int64]*conversionRefs{}
	err := s.CreditFacts(ctx, b.kind, from, to, func(f *store.CreditFact) error {
		day := b.cal.Day(f.At)
		if !keep(day) {
			return nil
		}
		k := creditKey{day, f.Channel, f.CampaignID, f.KeywordID, f.ContentID}
		r := b.rows[k]
		if r == nil {
			r = &store.CreditRollupRow{Day: day, Channel: f.Channel, CampaignID: f.CampaignID, KeywordID: f.KeywordID, ContentID: f.ContentID}
			b.rows[k] = r
		}
		v := float64(f.Value)
		for m, share := range f.Shares {
			r.Fen[m] += share * v
			r.N[m] += share
		}
		c := convs[f.ConversionID]
		if c == nil {
			c = &conversionRefs{day: day, value: f.Value}
			convs[f.ConversionID] = c
		}
		c.add("channel", f.Channel)
		for _, id := range []struct {
			dim string
			id  int64
		}{{"campaign", f.CampaignID}, {"keyword", f.KeywordID}, {"content", f.ContentID}} {
			if id.id != 0 {
				c.add(id.dim, fmt.Sprint(id.id))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range convs {
		for _, dr := range c.refs {
			k := influenceKey{c.day, dr[0], dr[1]}
			r := b.influence[k]
			if r == nil {
				r = &store.InfluenceRollupRow{Day: c.day, Dim: dr[0], Ref: dr[1]}
				b.influence[k] = r
			}
			r.Conversions++
			r.Value = store.AddTotal(r.Value, c.value)
		}
	}
	return nil
}

func (c *conversionRefs) add(dim, ref string) {
	for _, x := range c.refs {
		if x[0] == dim && x[1] == ref {
			return
		}
	}
	c.refs = append(c.refs, [2]string{dim, ref})
}

func (b *creditBuilder) write(ctx context.Context, s *store.Store, sl store.RollupSlice) (int, error) {
	rows := sortedRows(b.rows, func(x, y *store.CreditRollupRow) int {
		return cmp.Or(x.Day.Compare(y.Day), cmp.Compare(x.Channel, y.Channel), cmp.Compare(x.CampaignID, y.CampaignID),
			cmp.Compare(x.KeywordID, y.KeywordID), cmp.Compare(x.ContentID, y.ContentID))
	})
	influence := sortedRows(b.influence, func(x, y *store.InfluenceRollupRow) int {
		return cmp.Or(cmp.Compare(x.Dim, y.Dim), cmp.Compare(x.Ref, y.Ref), x.Day.Compare(y.Day))
	})
	return len(rows) + len(influence), s.ReplaceCreditRollup(ctx, sl, b.kind, rows, influence)
}
