// Package credits keeps the stored attribution credits current: it reads
// journeys through the store, splits every conversion over its touches
// under every model with internal/attribution, and writes one row per
// conversion and touch holding each model's share. Reports then sum rows
// instead of rebuilding journeys.
//
// An incremental run recomputes the conversions that are new, whose time,
// value, milestones or persons changed, or whose persons got touches since
// the last run (touchpoint ids only grow) or were logged as changed since
// (store person_changes: a merge moves touches whose ids the last run has
// passed already, an undo moves them back), and drops conversions that no
// longer exist or qualify. A full run recomputes everything and refits the
// data-driven models on converting and non-converting journeys.
package credits

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Mode says how much a run recomputes.
type Mode string

// The modes.
const (
	Incremental Mode = "incremental"
	Full        Mode = "full"
)

// ParseMode accepts a mode as the API spells it.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Incremental, Full:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (full or incremental)", s)
}

// Models are the stored models, in the order of store.CreditColumns.
var Models = [store.NumCreditModels]attribution.Model{attribution.First, attribution.Last, attribution.LastNonDirect,
	attribution.Linear, attribution.LinearUnique, attribution.Position, attribution.ULead, attribution.WShaped,
	attribution.FullPath, attribution.JShaped, attribution.InverseJ, attribution.TimeDecay, attribution.Markov,
	attribution.Shapley, attribution.ShapleyRate}

// Column is the index of a model's stored column (see store.CreditColumns).
func Column(m attribution.Model) (int, bool) {
	for i, x := range Models {
		if x == m {
			return i, true
		}
	}
	return 0, false
}

// columnName is a stored model's column.
func columnName(m attribution.Model) string {
	c, ok := Column(m)
	if !ok {
		panic("credits: model " + string(m) + " is not stored")
	}
	return store.CreditColumns[c]
}

// options are the settings the stored credits are computed with: the
// defaults (time-decay half-life 7 days, markov order 1).
var options = attribution.Options{}

// Stats says what a run did.
type Stats struct {
	Mode        Mode          `json:"mode"`
	Conversions int           `json:"conversions"` // conversions (re)computed
	Deleted     int           `json:"deleted"`     // conversions whose credits were dropped
	Credits     int           `json:"credits"`     // credit rows written
	Took        time.Duration `json:"-"`
	TookMS      int64         `json:"took_ms"`
	// Notes are remarks on the run (a sampled estimate instead of an
	// exact one, say).
	Notes []string `json:"notes,omitempty"`
}

// LeaseName is the lease a recomputation holds: one at a time on every
// node that shares the database, since two at once would write the same
// credits twice.
const LeaseName = "attribution_credits"

// Recompute brings the stored credits of every conversion kind up to
// date, at time now. A kind that was never fully computed gets a full run
// whatever the mode. While another recomputation runs (here or on another
// node) it does nothing and the error is store.ErrLeaseHeld.
func Recompute(ctx context.Context, s *store.Store, mode Mode, now time.Time) (Stats, error) {
	st := Stats{Mode: mode}
	if mode != Full && mode != Incremental {
		return st, fmt.Errorf("unknown mode %q", mode)
	}
	err := s.WithLease(ctx, LeaseName, func(ctx context.Context) error {
		var err error
		st, err = recompute(ctx, s, mode, now)
		return err
	})
	return st, err
}

func recompute(ctx context.Context, s *store.Store, mode Mode, now time.Time) (Stats, error) {
	start := time.Now()
	st := Stats{Mode: mode}
	// Read the watermarks first: touches and person changes added while
	// the run reads are above them, so the next run looks at them again.
	mark, err := s.MaxTouchID(ctx)
	if err != nil {
		return st, fmt.Errorf("read touch watermark: %w", err)
	}
	changeMark, err := s.MaxPersonChangeID(ctx)
	if err != nil {
		return st, fmt.Errorf("read person change watermark: %w", err)
	}
	marks := watermarks{touch: mark, change: changeMark}
	var full, incr []model.ConversionKind
	states := map[model.ConversionKind]store.CreditState{}
	for _, k := range ConversionKinds {
		cs, ok, err := s.CreditStateOf(ctx, k)
		if err != nil {
			return st, fmt.Errorf("read attribution state: %w", err)
		}
		if mode == Full || !ok || cs.FittedAt.IsZero() {
			full = append(full, k)
		} else {
			incr = append(incr, k)
			states[k] = cs
		}
	}
	if len(full) > 0 {
		if err := recomputeFull(ctx, s, full, marks, now, &st); err != nil {
			return st, err
		}
	}
	touched := map[watermarks]map[int64]bool{} // by the kind's watermarks
	for _, k := range incr {
		from := watermarks{touch: states[k].Watermark, change: states[k].ChangeWatermark}
		if touched[from] == nil {
			if touched[from], err = touchedBetween(ctx, s, from, marks); err != nil {
				return st, err
			}
		}
		if err := recomputeChanged(ctx, s, k, touched[from], marks, now, &st); err != nil {
			return st, err
		}
	}
	if mode == Full {
		// Once a day is often enough to drop the changes every reader
		// has passed.
		if _, err := s.PrunePersonChanges(ctx, now); err != nil {
			return st, err
		}
	}
	st.Took = time.Since(start)
	st.TookMS = st.Took.Milliseconds()
	return st, nil
}

// watermarks are how far a run has read: touchpoint ids and person_changes
// ids.
type watermarks struct{ touch, change int64 }

// touchedBetween lists the persons with touches, or logged changes, above
// from and up to upTo.
func touchedBetween(ctx context.Context, s *store.Store, from, upTo watermarks) (map[int64]bool, error) {
	touched, err := s.PersonsTouchedBetween(ctx, from.touch, upTo.touch)
	if err != nil {
		return nil, fmt.Errorf("read new touches: %w", err)
	}
	changed, err := s.PersonChangesBetween(ctx, from.change, upTo.change)
	if err != nil {
		return nil, fmt.Errorf("read person changes: %w", err)
	}
	for _, p := range changed {
		touched[p] = true
	}
	return touched, nil
}

// recomputeFull recomputes every conversion of the kinds and refits the
// data-driven models, reading all touches once.
func recomputeFull(ctx context.Context, s *store.Store, kinds []model.ConversionKind, mark watermarks, now time.Time, st *Stats) error {
	groups := make([][]store.ConversionHead, len(kinds))
	for g, k := range kinds {
		heads, err := s.ConversionHeads(ctx, k, model.Window{}, "")
		if err != nil {
			return fmt.Errorf("read %s conversions: %w", k, err)
		}
		groups[g] = heads
	}
	// The fit sees each person's first conversion of the kind and every
	// person without one, as GET /api/v1/attribution does over all time.
	fits := make([]*attribution.Journeys, len(kinds))
	for g := range fits {
		fits[g] = attribution.NewJourneys()
	}
	var chans []int32
	var times []int64
	journeys, err := s.JourneysOf(ctx, groups, store.JourneyOptions{Lookback: DefaultLookback, ChannelsOnly: true,
		NonConverting: func(g int, _ int64, ts []store.AttributionTouch) error {
			return AddJourney(fits[g], ts, false, 0, time.Time{}, time.Time{}, time.Time{}, &chans, &times)
		}})
	if err != nil {
		return fmt.Errorf("read journeys: %w", err)
	}
	for g, k := range kinds {
		converting := 0
		for _, cj := range journeys[g] {
			if cj.First && len(cj.Touches) > 0 {
				if err := AddJourney(fits[g], cj.Touches, true, float64(cj.Value), cj.LeadAt, cj.OpportunityAt, cj.At, &chans, &times); err != nil {
					return err
				}
				converting++
			}
		}
		weights, notes, err := fit(fits[g], converting)
		if err != nil {
			return fmt.Errorf("fit %s: %w", k, err)
		}
		fits[g] = nil // free the fit's journeys before the next kind's split
		for _, n := range notes {
			st.Notes = append(st.Notes, string(k)+": "+n)
		}
		b, err := split(k, journeys[g], weights, chans[:0], times[:0])
		if err != nil {
			return fmt.Errorf("%s credits: %w", k, err)
		}
		b.Full, b.Watermark, b.ChangeWatermark, b.At, b.Fitted = true, mark.touch, mark.change, now, true
		b.Weights = map[string]map[string]float64{}
		for m, w := range weights {
			b.Weights[columnName(m)] = w
		}
		if err := s.WriteCredits(ctx, b); err != nil {
			return fmt.Errorf("write %s credits: %w", k, err)
		}
		journeys[g] = nil
		st.Conversions += len(b.Conversions)
		st.Credits += len(b.Credits)
	}
	return nil
}

// recomputeChanged recomputes the conversions of a kind that are new or
// changed, or whose persons were touched or changed, with the stored fit.
func recomputeChanged(ctx context.Context, s *store.Store, kind model.ConversionKind, touched map[int64]bool, mark watermarks, now time.Time, st *Stats) error {
	heads, err := s.ConversionHeads(ctx, kind, model.Window{}, "")
	if err != nil {
		return fmt.Errorf("read %s conversions: %w", kind, err)
	}
	stored, err := s.CreditFingerprints(ctx, kind)
	if err != nil {
		return fmt.Errorf("read stored %s conversions: %w", kind, err)
	}
	var redo []store.ConversionHead
	for _, h := range heads {
		fp, ok := stored[h.ID]
		delete(stored, h.ID)
		if ok && fp == fingerprint(h) && !anyTouched(h.Persons, touched) {
			continue
		}
		redo = append(redo, h)
	}
	gone := make([]int64, 0, len(stored))
	for id := range stored {
		gone = append(gone, id)
	}
	named, err := s.CreditWeights(ctx, kind)
	if err != nil {
		return fmt.Errorf("read %s weights: %w", kind, err)
	}
	// Never refit on a handful of journeys: a channel the last fit did not
	// see weighs 0 until the next full run.
	weights := map[attribution.Model]map[string]float64{
		attribution.Markov:      named[columnName(attribution.Markov)],
		attribution.ShapleyRate: named[columnName(attribution.ShapleyRate)],
	}
	for m, w := range weights {
		if w == nil {
			weights[m] = map[string]float64{}
		}
	}
	b := store.CreditBatch{Kind: kind, Delete: gone, Watermark: mark.touch, ChangeWatermark: mark.change, At: now}
	if len(redo) > 0 {
		js, err := s.JourneysOf(ctx, [][]store.ConversionHead{redo}, store.JourneyOptions{Lookback: DefaultLookback, ChannelsOnly: true})
		if err != nil {
			return fmt.Errorf("read %s journeys: %w", kind, err)
		}
		sb, err := split(kind, js[0], weights, nil, nil)
		if err != nil {
			return fmt.Errorf("%s credits: %w", kind, err)
		}
		b.Conversions, b.Credits = sb.Conversions, sb.Credits
	}
	if err := s.WriteCredits(ctx, b); err != nil {
		return fmt.Errorf("write %s credits: %w", kind, err)
	}
	st.Conversions += len(b.Conversions)
	st.Deleted += len(gone)
	st.Credits += len(b.Credits)
	return nil
}

func anyTouched(persons []int64, touched map[int64]bool) bool {
	for _, p := range persons {
		if touched[p] {
			return true
		}
	}
	return false
}

// addFit adds one journey of touches already cut to its window to a fit.
func AddJourney(js *attribution.Journeys, ts []store.AttributionTouch, converted bool, value float64, leadAt, oppAt, at time.Time, chans *[]int32, times *[]int64) error {
	if len(ts) == 0 {
		return nil
	}
	c, t := (*chans)[:0], (*times)[:0]
	for _, x := range ts {
		c = append(c, js.Channel(x.Channel))
		t = append(t, x.At.UnixNano())
	}
	*chans, *times = c, t
	return js.AddTimed(c, t, converted, 1, value, leadAt, oppAt, at)
}

// fit fits markov and shapley-rate on the journeys, converting of which
// converted. Above the channels
// shapley-rate computes exactly, it falls back to a sampled estimate and
// says so.
func fit(js *attribution.Journeys, converting int) (map[attribution.Model]map[string]float64, []string, error) {
	out := map[attribution.Model]map[string]float64{attribution.Markov: {}, attribution.ShapleyRate: {}}
	if converting == 0 {
		return out, nil, nil // nothing converted: no weights, linear-unique splits
	}
	var notes []string
	for m := range out {
		w, err := attribution.ChannelWeights(js, m, options)
		if err != nil && m == attribution.ShapleyRate && js.NumChannels() > attribution.MaxExactShapleyChannels {
			o := options
			o.Samples, o.Seed = sampledShapley, 1
			w, err = attribution.ChannelWeights(js, m, o)
			notes = append(notes, fmt.Sprintf("shapley-rate estimated from %d random channel orders: %d channels are more than the %d computed exactly",
				sampledShapley, js.NumChannels(), attribution.MaxExactShapleyChannels))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", m, err)
		}
		out[m] = w
	}
	return out, notes, nil
}

// sampledShapley is the number of channel orders of the sampled
// shapley-rate fallback.
const sampledShapley = 2000

// split computes every model's shares of the journeys' touches.
func split(kind model.ConversionKind, cjs []store.ConversionJourney, weights map[attribution.Model]map[string]float64, chans []int32, times []int64) (store.CreditBatch, error) {
	b := store.CreditBatch{Kind: kind, Conversions: make([]store.StoredConversion, len(cjs))}
	js := attribution.NewJourneys()
	var added []int // journey index in js → index in cjs
	for i, cj := range cjs {
		b.Conversions[i] = store.StoredConversion{ID: cj.ID, PersonID: cj.PersonID, At: cj.At, Value: cj.Value,
			Touches: len(cj.Touches), Sourced: Sourced(cj), Influenced: Influenced(cj), Fingerprint: fingerprint(cj.ConversionHead)}
		if len(cj.Touches) == 0 {
			continue
		}
		if err := AddJourney(js, cj.Touches, true, float64(cj.Value), cj.LeadAt, cj.OpportunityAt, cj.At, &chans, &times); err != nil {
			return b, err
		}
		added = append(added, i)
	}
	if len(added) == 0 {
		return b, nil
	}
	o := options
	o.Weights = weights
	shares, err := attribution.TouchShares(js, Models[:], o)
	if err != nil {
		return b, err
	}
	b.Credits = make([]store.CreditRow, 0, js.NumTouches())
	for j, i := range added {
		lo, hi := js.TouchRange(j)
		ts := cjs[i].Touches
		if hi-lo != len(ts) {
			return b, errors.New("a journey lost touches on the way") // cannot happen: touches come cut and sorted
		}
		for t := lo; t < hi; t++ {
			r := store.CreditRow{ConversionID: cjs[i].ID, TouchID: ts[t-lo].ID, Channel: ts[t-lo].Channel}
			for m := range Models {
				r.Shares[m] = shares[m][t]
			}
			b.Credits = append(b.Credits, r)
		}
	}
	return b, nil
}

// fingerprintVersion changes when the stored credits' definition does, so
// that the next incremental run recomputes everything.
const fingerprintVersion = 1

// fingerprint sums up what a conversion's credits depend on besides its
// touches: time, value, milestones and persons.
func fingerprint(h store.ConversionHead) int64 {
	f := fnv.New64a()
	var buf [8]byte
	put := func(x int64) {
		for i := range buf {
			buf[i] = byte(x >> (8 * i))
		}
		f.Write(buf[:])
	}
	micro := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixMicro()
	}
	put(fingerprintVersion)
	put(micro(h.At))
	put(int64(h.Value))
	put(micro(h.LeadAt))
	put(micro(h.OpportunityAt))
	put(h.PersonID)
	for _, p := range h.Persons {
		put(p)
	}
	return int64(f.Sum64())
}

// IsMarketing reports whether a channel is marketing's doing: anything but
// Direct, Outbound (sales) and Unknown.
func IsMarketing(ch string) bool {
	switch model.Channel(ch) {
	case model.ChannelDirect, model.ChannelOutbound, model.ChannelUnknown, "":
		return false
	}
	return true
}

// Sourced reports whether a conversion's first touch was marketing.
func Sourced(cj store.ConversionJourney) bool {
	return len(cj.Touches) > 0 && IsMarketing(cj.Touches[0].Channel)
}

// Influenced reports whether a marketing touch came at or before the
// opportunity's creation (the conversion time when there is no
// opportunity).
func Influenced(cj store.ConversionJourney) bool {
	before := cj.OpportunityAt
	if before.IsZero() {
		before = cj.At
	}
	for _, t := range cj.Touches {
		if t.At.After(before) {
			return false
		}
		if IsMarketing(t.Channel) {
			return true
		}
	}
	return false
}
