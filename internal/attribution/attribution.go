// Package attribution credits conversions to the touches and channels that
// preceded them, under every standard model: rule-based ones (first, last,
// linear, position, time-decay, milestone models) and data-driven ones
// (an exactly solved Markov chain, exact Shapley values). It is pure:
// journeys in, credits out; no database, no HTTP.
//
// Journeys are held column-wise (channels are small integers, touches sit in
// flat slices) so that tens of millions of touches fit in a few hundred
// megabytes and every model runs in one pass without per-touch allocations.
package attribution

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Model names an attribution model.
type Model string

// The models. Their exact definitions are in docs/attribution.md.
const (
	First         Model = "first"
	Last          Model = "last"
	LastNonDirect Model = "last-non-direct"
	Linear        Model = "linear"
	LinearUnique  Model = "linear-unique"
	Position      Model = "position"
	ULead         Model = "u-lead"
	WShaped       Model = "w-shaped"
	FullPath      Model = "full-path"
	JShaped       Model = "j-shaped"
	InverseJ      Model = "inverse-j"
	TimeDecay     Model = "time-decay"
	Markov        Model = "markov"
	Shapley       Model = "shapley"
	ShapleyRate   Model = "shapley-rate"
)

// Models lists every model in a stable order.
var Models = []Model{First, Last, LastNonDirect, Linear, LinearUnique, Position, ULead, WShaped, FullPath,
	JShaped, InverseJ, TimeDecay, Markov, Shapley, ShapleyRate}

// ParseModel accepts a model name as the CLI and API spell it.
func ParseModel(s string) (Model, error) {
	m := Model(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Models, m) {
		return m, nil
	}
	names := make([]string, len(Models))
	for i, m := range Models {
		names[i] = string(m)
	}
	return "", fmt.Errorf("unknown model %q (one of %s)", s, strings.Join(names, ", "))
}

// NeedsTimes reports whether the model reads touch times or milestones, which
// path files do not have.
func (m Model) NeedsTimes() bool {
	switch m {
	case TimeDecay, ULead, WShaped, FullPath:
		return true
	}
	return false
}

// DataDriven reports whether the model learns from converting and
// non-converting journeys together (and so supports a bootstrap).
func (m Model) DataDriven() bool { return m == Markov || m == Shapley || m == ShapleyRate }

// RuleBased reports whether the model splits each journey on its own.
func (m Model) RuleBased() bool { return !m.DataDriven() }

// Unordered reports whether the model ignores the order of touches.
func (m Model) Unordered() bool {
	return m == LinearUnique || m == Shapley || m == ShapleyRate || m == Linear
}

// Options tune the models; the zero value means the defaults.
type Options struct {
	// Order is the Markov chain's order (1 to 4); 0 means 1.
	Order int
	// HalfLife is time-decay's half-life; 0 means 7 days.
	HalfLife time.Duration
	// Samples asks shapley-rate for a sampled (random permutation) estimate
	// instead of the exact value; needed above MaxExactShapleyChannels.
	Samples int
	// Bootstrap is the number of resampled replicates for the 5th and 95th
	// percentiles of a data-driven model's credits; 0 means none.
	Bootstrap int
	// Seed makes Samples and Bootstrap reproducible.
	Seed uint64
	// IsDirect tells last-non-direct which channels are Direct; nil means
	// names equal to "direct" or "(direct)", ignoring case.
	IsDirect func(channel string) bool
	// Weights are channel weights of markov and shapley-rate from an
	// earlier fit (see ChannelWeights), by model and channel name, for
	// TouchCredits and TouchShares; a model without them is fitted on the
	// journeys at hand. Attribute always fits.
	Weights map[Model]map[string]float64
}

// DefaultHalfLife is time-decay's half-life unless Options say otherwise.
const DefaultHalfLife = 7 * 24 * time.Hour

// MaxMarkovOrder is the highest Markov order accepted.
const MaxMarkovOrder = 4

// MaxExactShapleyChannels is the most channels shapley-rate computes exactly
// (it walks all 2^n channel sets).
const MaxExactShapleyChannels = 20

func (o Options) order() int {
	if o.Order == 0 {
		return 1
	}
	return o.Order
}

func (o Options) halfLife() time.Duration {
	if o.HalfLife == 0 {
		return DefaultHalfLife
	}
	return o.HalfLife
}

func (o Options) isDirect(name string) bool {
	if o.IsDirect != nil {
		return o.IsDirect(name)
	}
	return strings.EqualFold(name, "direct") || strings.EqualFold(name, "(direct)")
}

// Result is a model's credit per channel.
type Result struct {
	Model            Model           `json:"model"`
	TotalConversions float64         `json:"total_conversions"`
	TotalValue       float64         `json:"total_value"`
	Channels         []ChannelCredit `json:"channels"`
}

// ChannelCredit is one channel's share of the conversions and their value.
// RemovalEffect is set by markov; P5 and P95 by a bootstrap.
type ChannelCredit struct {
	Channel       string   `json:"channel"`
	Conversions   float64  `json:"conversions"`
	Value         float64  `json:"value"`
	RemovalEffect *float64 `json:"removal_effect,omitempty"`
	P5            *float64 `json:"p5,omitempty"`
	P95           *float64 `json:"p95,omitempty"`
}

// noTime marks a missing time.
const noTime = math.MinInt64

// Journeys is a set of journeys stored column-wise. Build it with Channel,
// AddPath and Add; it is not safe for concurrent writes, but the models only
// read it.
type Journeys struct {
	names []string
	ids   map[string]int32

	start []int32 // journey j's touches are [start[j], start[j+1])
	ch    []int32 // channel id of each touch
	at    []int64 // Unix nanoseconds of each touch, noTime for path input; empty while all input is paths
	// per journey
	conv, null, value []float64
	lc, oc            []int32 // touch index (within the journey) of the milestone, -1 when missing
	end               []int64 // conversion time (or last touch), noTime for path input
	untimed           bool    // some journey came from a path without times
	bad               error   // the first journey no model can use

	// refs and keys are kept for journeys added with Add, for TouchCredits.
	refs []int64
	keys []Keys
}

// NewJourneys returns an empty set.
func NewJourneys() *Journeys {
	return &Journeys{ids: map[string]int32{}, start: []int32{0}}
}

// Channel returns the id of a channel name, adding it when new.
func (js *Journeys) Channel(name string) int32 {
	if id, ok := js.ids[name]; ok {
		return id
	}
	id := int32(len(js.names))
	js.names = append(js.names, name)
	js.ids[name] = id
	return id
}

// ChannelName returns the name of a channel id.
func (js *Journeys) ChannelName(id int32) string { return js.names[id] }

// NumChannels is the number of distinct channels seen.
func (js *Journeys) NumChannels() int { return len(js.names) }

// Len is the number of journeys.
func (js *Journeys) Len() int { return len(js.conv) }

// NumTouches is the number of touches over all journeys.
func (js *Journeys) NumTouches() int { return len(js.ch) }

// Timed reports whether every journey has touch times (so time-decay and
// the milestone models can run).
func (js *Journeys) Timed() bool { return !js.untimed }

// AddPath adds a row of path data: the ordered channel ids of a path, the
// conversions it ended in, their total value and the number of times it
// ended without one. Such a row has no times or milestones. An empty path
// is ignored, and so is a value without conversions (there is nothing to
// credit it to).
func (js *Journeys) AddPath(channels []int32, conversions, value, nulls float64) {
	if len(channels) == 0 {
		return
	}
	if conversions == 0 {
		value = 0
	}
	js.validate(conversions, value, nulls)
	js.untimed = true
	js.ch = append(js.ch, channels...)
	if len(js.at) > 0 {
		js.padTimes()
	}
	js.start = append(js.start, int32(len(js.ch)))
	js.conv = append(js.conv, conversions)
	js.null = append(js.null, nulls)
	js.value = append(js.value, value)
	js.lc = append(js.lc, -1)
	js.oc = append(js.oc, -1)
	js.end = append(js.end, noTime)
	if js.refs != nil {
		js.refs = append(js.refs, make([]int64, len(channels))...)
		js.keys = append(js.keys, make([]Keys, len(channels))...)
	}
}

// Touch is one touch of a buyer, as the product knows it.
type Touch struct {
	Time    time.Time
	Channel string
	// Ref is the caller's identifier for the touch (a touchpoint id, say);
	// TouchCredits hands it back.
	Ref int64
	// Keys are opaque dimension keys credits can be rolled up by.
	Keys Keys
}

// Keys are a touch's identifiers below the channel. The models never read
// them; RollUp groups credits by them.
type Keys struct {
	SourceMedium string
	Campaign     string
	AdGroup      string
	Keyword      string
	Content      string
	Promoter     string
}

// Journey is one buyer's touches towards one conversion, or towards none.
type Journey struct {
	Touches   []Touch
	Converted bool
	// Conversions is the number of conversions the journey stands for when
	// converted; 0 means 1.
	Conversions float64
	Value       float64
	// LeadAt, OpportunityAt and ConvertedAt are the milestones; zero when
	// unknown.
	LeadAt, OpportunityAt, ConvertedAt time.Time
}

// Add adds a journey with timed touches and returns how many touches were
// kept. Touches are sorted by time (ties keep their order); touches after
// ConvertedAt, or earlier than lookback before the end of the window, are
// dropped (lookback 0 keeps them all). The window of a journey without a
// conversion time ends at its last touch. A journey left without touches
// is not added and 0 is returned.
func (js *Journeys) Add(j Journey, lookback time.Duration) int {
	ts := slices.Clone(j.Touches)
	sort.SliceStable(ts, func(a, b int) bool { return ts[a].Time.Before(ts[b].Time) })
	chans := make([]int32, len(ts))
	times := make([]int64, len(ts))
	for i, t := range ts {
		times[i] = t.Time.UnixNano()
	}
	conv := 0.0
	if j.Converted {
		conv = j.Conversions
		if conv == 0 {
			conv = 1
		}
	}
	lo, hi := window(times, j.Converted, unixOrNone(j.ConvertedAt), lookback)
	if lo >= hi {
		return 0
	}
	if js.refs == nil {
		js.refs = make([]int64, len(js.ch), len(js.ch)+hi-lo)
		js.keys = make([]Keys, len(js.ch), len(js.ch)+hi-lo)
	}
	for i := lo; i < hi; i++ {
		chans[i] = js.Channel(ts[i].Channel)
		js.refs = append(js.refs, ts[i].Ref)
		js.keys = append(js.keys, ts[i].Keys)
	}
	null, value := 0.0, j.Value
	if !j.Converted {
		null, value = 1, 0
	}
	js.addTimed(chans[lo:hi], times[lo:hi], conv, value, null, unixOrNone(j.LeadAt), unixOrNone(j.OpportunityAt), unixOrNone(j.ConvertedAt))
	return hi - lo
}

func unixOrNone(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixNano()
}

// window returns the range [lo, hi) of sorted touch times inside a journey's
// window.
func window(times []int64, converted bool, convertedAt int64, lookback time.Duration) (lo, hi int) {
	hi = len(times)
	if converted && convertedAt != noTime {
		hi = sort.Search(len(times), func(i int) bool { return times[i] > convertedAt })
	}
	if hi == 0 {
		return 0, 0
	}
	end := times[hi-1]
	if converted && convertedAt != noTime {
		end = convertedAt
	}
	if lookback > 0 {
		from := end - int64(lookback)
		lo = sort.Search(hi, func(i int) bool { return times[i] >= from })
	}
	return lo, hi
}

// addTimed appends one journey whose touches are sorted and inside the
// window. For a non-converting journey, null is 1 and conv 0.
func (js *Journeys) addTimed(chans []int32, times []int64, conv, value, null float64, leadAt, oppAt, convAt int64) {
	js.validate(conv, value, null)
	js.padTimes()
	js.ch = append(js.ch, chans...)
	js.at = append(js.at, times...)
	js.start = append(js.start, int32(len(js.ch)))
	js.conv = append(js.conv, conv)
	js.null = append(js.null, null)
	js.value = append(js.value, value)
	js.lc = append(js.lc, lastAtOrBefore(times, leadAt))
	js.oc = append(js.oc, lastAtOrBefore(times, oppAt))
	end := times[len(times)-1]
	if conv > 0 && convAt != noTime {
		end = convAt
	}
	js.end = append(js.end, end)
}

// AddTimed adds a journey given as channel ids and sorted Unix-nanosecond
// times, already cut to its window (times must not pass the conversion).
// Converted journeys count conversions (1 when 0); others count as one
// journey without a conversion. Missing milestones are zero times. It is
// the fast way in for readers of large files.
func (js *Journeys) AddTimed(chans []int32, times []int64, converted bool, conversions, value float64, leadAt, oppAt, convertedAt time.Time) error {
	if len(chans) == 0 || len(chans) != len(times) {
		return errors.New("a journey needs touches, each with a time")
	}
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			return errors.New("touch times are not sorted")
		}
	}
	if js.refs != nil {
		js.refs = append(js.refs, make([]int64, len(chans))...)
		js.keys = append(js.keys, make([]Keys, len(chans))...)
	}
	conv, null := 0.0, 1.0
	if converted {
		conv, null = conversions, 0
		if conv == 0 {
			conv = 1
		}
	} else {
		value = 0
	}
	js.addTimed(chans, times, conv, value, null, unixOrNone(leadAt), unixOrNone(oppAt), unixOrNone(convertedAt))
	return nil
}

// padTimes gives the touches of path rows their missing times.
func (js *Journeys) padTimes() {
	for len(js.at) < len(js.ch) {
		js.at = append(js.at, noTime)
	}
}

// lastAtOrBefore is the index of the last time ≤ t, or -1.
func lastAtOrBefore(times []int64, t int64) int32 {
	if t == noTime {
		return -1
	}
	return int32(sort.Search(len(times), func(i int) bool { return times[i] > t })) - 1
}

// totals are the conversions and value over journeys with touches.
func (js *Journeys) totals() (conv, value float64) {
	for j := range js.conv {
		conv += js.conv[j]
		value += js.value[j]
	}
	return conv, value
}

// Attribute runs a model over all journeys and credits channels.
func Attribute(js *Journeys, m Model, o Options) (*Result, error) {
	rs, err := AttributeAll(js, []Model{m}, o)
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// AttributeAll runs several models; the rule-based ones share one pass
// over the touches.
func AttributeAll(js *Journeys, models []Model, o Options) ([]*Result, error) {
	var rules []Model
	for _, m := range models {
		if err := check(js, m, o); err != nil {
			return nil, err
		}
		if m.RuleBased() {
			rules = append(rules, m)
		}
	}
	var ruleConv, ruleValue [][]float64
	if len(rules) > 0 {
		ruleConv, ruleValue = ruleCredits(js, rules, o)
	}
	totalConv, totalValue := js.totals()
	out := make([]*Result, len(models))
	for i, m := range models {
		var (
			conv, value []float64
			removal     []float64
			err         error
		)
		switch m {
		case Markov:
			conv, value, removal, err = markovCredits(js, o.order())
		case Shapley:
			c, v := ruleCredits(js, []Model{LinearUnique}, o)
			conv, value = c[0], v[0]
		case ShapleyRate:
			conv, value, err = shapleyRateCredits(js, o)
		default:
			k := slices.Index(rules, m)
			conv, value = ruleConv[k], ruleValue[k]
		}
		if err != nil {
			return nil, err
		}
		r := &Result{Model: m, TotalConversions: totalConv, TotalValue: totalValue}
		r.Channels = make([]ChannelCredit, len(js.names))
		for c, name := range js.names {
			r.Channels[c] = ChannelCredit{Channel: name, Conversions: conv[c], Value: value[c]}
			if removal != nil {
				re := removal[c]
				r.Channels[c].RemovalEffect = &re
			}
		}
		if o.Bootstrap > 0 {
			p5, p95, err := bootstrap(js, m, o)
			if err != nil {
				return nil, err
			}
			for c := range r.Channels {
				r.Channels[c].P5, r.Channels[c].P95 = &p5[c], &p95[c]
			}
		}
		sort.SliceStable(r.Channels, func(a, b int) bool {
			x, y := r.Channels[a], r.Channels[b]
			if x.Conversions != y.Conversions {
				return x.Conversions > y.Conversions
			}
			return x.Channel < y.Channel
		})
		out[i] = r
	}
	return out, nil
}

func check(js *Journeys, m Model, o Options) error {
	if !slices.Contains(Models, m) {
		_, err := ParseModel(string(m))
		return err
	}
	if m.NeedsTimes() && js.untimed {
		return fmt.Errorf("model %s needs touch times and milestones, which path data does not have; use touch-level data", m)
	}
	if o.Order < 0 || o.Order > MaxMarkovOrder {
		return fmt.Errorf("markov order %d: want 1 to %d", o.Order, MaxMarkovOrder)
	}
	if o.HalfLife < 0 {
		return errors.New("half-life must be positive")
	}
	if o.Samples < 0 || o.Bootstrap < 0 {
		return errors.New("samples and bootstrap replicates cannot be negative")
	}
	if o.Bootstrap > 0 && !m.DataDriven() {
		return fmt.Errorf("bootstrap applies to the data-driven models (markov, shapley, shapley-rate), not %s", m)
	}
	return js.bad
}

// validate remembers the first journey with a count or value that no model
// can use; the models then refuse the set.
func (js *Journeys) validate(conv, value, null float64) {
	if js.bad != nil {
		return
	}
	for _, x := range []float64{conv, value, null} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			js.bad = fmt.Errorf("journey %d has a count or value that is not a finite number", js.Len()+1)
			return
		}
	}
	if conv < 0 || null < 0 {
		js.bad = fmt.Errorf("journey %d has a negative count", js.Len()+1)
	}
}
