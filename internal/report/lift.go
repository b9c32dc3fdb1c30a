package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/stats"
	"github.com/revloop/revloop/internal/store"
)

// Cohort lift of a brand event (docs/lift.md): the persons who touched a
// campaign in its window against a matched baseline of persons active in
// the same window whom it never touched, on whether they went on to reach
// MQL and opportunity and on their pipeline, with 95 % intervals and a
// plain verdict. Matching is exact stratification on the account's
// industry, size band and region and on the channel of most of a
// person's touches before the window; strata weigh as Mantel and
// Haenszel's.

// The bounds of a lift question.
const (
	DefaultLiftFollowDays = 90
	MinLiftFollowDays     = 1
	MaxLiftFollowDays     = 365
	// MaxLiftWindowDays bounds the event window itself.
	MaxLiftWindowDays = 366
	// LiftPriorDays is how far before the window a person's channel mix
	// is read.
	LiftPriorDays = 90
	// MinLiftGroup is the fewest matched persons each group needs on an
	// outcome, and MinLiftOutcomes the fewest persons with (and, for a
	// rate, without) the outcome in the two groups together, before a
	// verdict is given: below them the normal approximation behind the
	// intervals is not to be trusted.
	MinLiftGroup    = 30
	MinLiftOutcomes = 5
	// MaxLiftStrata is how many strata the answer lists, the largest
	// cohorts first.
	MaxLiftStrata = 500
	// liftConf is the confidence level of every interval.
	liftConf = 0.95
)

// The outcomes, by key.
const (
	OutcomeMQL         = "reached_mql"
	OutcomeOpportunity = "reached_opportunity"
	OutcomePipeline    = "pipeline_per_person"
)

// The verdicts.
const (
	VerdictLift       = "lift"               // the interval lies above 0
	VerdictDrop       = "drop"               // the interval lies below 0
	VerdictNoLift     = "no_detectable_lift" // the interval contains 0
	VerdictTooSmall   = "too_small"          // too few persons or outcomes to say
	liftMethodMatch   = "exact_strata"
	liftMethodWeights = "mantel_haenszel"
)

// LiftQuery asks for the lift of a campaign.
type LiftQuery struct {
	Period     model.Period // the event window, team days; zero: the campaign's dates
	FollowDays int          // outcomes count up to this many days after the window
	Now        time.Time    // what counts as now: outcomes after it are not known yet
}

// ErrLiftNoDates is a campaign without dates asked without a window.
var ErrLiftNoDates = errors.New("the campaign has no start date: give from and to")

// LiftGroupSize is how many persons a group holds, and how many of them
// are in strata the other group also has.
type LiftGroupSize struct {
	Persons int64 `json:"persons"`
	Matched int64 `json:"matched"`
}

// LiftMatching says how the groups were matched and how well.
type LiftMatching struct {
	Method       string   `json:"method"`  // exact_strata
	Keys         []string `json:"keys"`    // the stratum's parts
	Weights      string   `json:"weights"` // mantel_haenszel
	PriorDays    int      `json:"prior_days"`
	Strata       int      `json:"strata"`        // strata with both groups
	CohortStrata int      `json:"cohort_strata"` // strata with cohort persons, with a baseline or not
	// CohortMatchedShare is the share of the cohort in strata the
	// baseline also has.
	CohortMatchedShare *float64 `json:"cohort_matched_share"`
}

// LiftSide is one group's figures on an outcome: its matched persons
// who could reach it (for a rate: not there before the window), how
// many did (for pipeline: how many have some), and the group's value
// averaged over the strata with the Mantel–Haenszel weights (a rate, or
// yuan per person).
type LiftSide struct {
	Persons int64    `json:"persons"`
	Reached int64    `json:"reached"`
	Value   *float64 `json:"value"`
}

// LiftUnadjusted is the plain comparison of the groups, every person of
// each, without matching: context for how much matching changed.
type LiftUnadjusted struct {
	CohortPersons   int64           `json:"cohort_persons"`
	CohortReached   int64           `json:"cohort_reached"`
	CohortValue     *float64        `json:"cohort_value"`
	CohortCI        *stats.Interval `json:"cohort_ci"` // Wilson, rates only
	BaselinePersons int64           `json:"baseline_persons"`
	BaselineReached int64           `json:"baseline_reached"`
	BaselineValue   *float64        `json:"baseline_value"`
	BaselineCI      *stats.Interval `json:"baseline_ci"`
	Difference      *float64        `json:"difference"`
	DifferenceCI    *stats.Interval `json:"difference_ci"` // Newcombe, rates only
}

// LiftOutcome is the comparison on one outcome.
type LiftOutcome struct {
	Outcome  string   `json:"outcome"`
	Unit     string   `json:"unit"` // rate (0–1) or cny (yuan per person)
	Cohort   LiftSide `json:"cohort"`
	Baseline LiftSide `json:"baseline"`
	// AbsoluteLift is cohort − baseline (rate points, or yuan per
	// person), RelativeLift cohort ÷ baseline − 1; each with its 95 %
	// interval. Nil when they cannot be computed.
	AbsoluteLift *float64        `json:"absolute_lift"`
	AbsoluteCI   *stats.Interval `json:"absolute_ci"`
	RelativeLift *float64        `json:"relative_lift"`
	RelativeCI   *stats.Interval `json:"relative_ci"`
	// Interval names the method of AbsoluteCI. For rates SatoCI is the
	// Wald interval of the same difference with Sato's variance, for
	// comparison: narrower where outcomes are rare, and then too narrow.
	Interval   string          `json:"interval"`
	SatoCI     *stats.Interval `json:"sato_ci,omitempty"`
	Verdict    string          `json:"verdict"`
	Unadjusted LiftUnadjusted  `json:"unadjusted"`
}

// LiftStratum is one stratum with cohort persons.
type LiftStratum struct {
	Industry     string        `json:"industry"`
	SizeBand     string        `json:"size_band"`
	Region       string        `json:"region"`
	PriorChannel model.Channel `json:"prior_channel"` // "": no touch before the window
	LeadBefore   bool          `json:"lead_before"`   // a lead before the window
	Cohort       int64         `json:"cohort_persons"`
	Baseline     int64         `json:"baseline_persons"`
	// WeightShare is the stratum's share of the Mantel–Haenszel weight
	// (of all persons; per outcome the eligible ones weigh); 0 when the
	// baseline has nobody in it, so that its cohort is not compared.
	WeightShare      float64  `json:"weight_share"`
	CohortMQLRate    *float64 `json:"cohort_mql_rate"`
	BaselineMQLRate  *float64 `json:"baseline_mql_rate"`
	CohortOppRate    *float64 `json:"cohort_opportunity_rate"`
	BaselineOppRate  *float64 `json:"baseline_opportunity_rate"`
	CohortPipeline   *float64 `json:"cohort_pipeline_per_person"` // yuan
	BaselinePipeline *float64 `json:"baseline_pipeline_per_person"`
}

// Lift is the answer.
type Lift struct {
	CampaignID  int64         `json:"campaign_id"`
	From        string        `json:"from"` // the event window, team days
	To          string        `json:"to"`
	FollowDays  int           `json:"window"`
	FollowTo    string        `json:"follow_to"` // the last day outcomes count
	Complete    bool          `json:"complete"`  // the follow window has ended
	Cohort      LiftGroupSize `json:"cohort"`
	Baseline    LiftGroupSize `json:"baseline"`
	Matching    LiftMatching  `json:"matching"`
	MinGroup    int           `json:"min_group"`
	MinOutcomes int           `json:"min_outcomes"`
	Outcomes    []LiftOutcome `json:"outcomes"`
	Strata      []LiftStratum `json:"strata"`
	StrataTotal int           `json:"strata_total"` // strata with cohort persons, listed or not
}

// LiftWindow is the event window a query asks for: its period, or the
// campaign's dates (start to end; the start alone when it has no end).
func LiftWindow(c model.Campaign, q LiftQuery) (from, to time.Time, err error) {
	from, to = q.Period.From, q.Period.To
	if from.IsZero() && to.IsZero() {
		if c.StartDate.IsZero() {
			return from, to, ErrLiftNoDates
		}
		from, to = c.StartDate, c.EndDate
		if to.IsZero() || to.Before(from) {
			to = from
		}
	}
	if from.IsZero() || to.IsZero() {
		return from, to, errors.New("give both from and to")
	}
	return from, to, nil
}

// Lift compares the cohort of a campaign with its matched baseline.
func (r Reporter) Lift(ctx context.Context, campaignID int64, q LiftQuery) (*Lift, error) {
	c, err := r.Store.CampaignByID(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if q.FollowDays < MinLiftFollowDays || q.FollowDays > MaxLiftFollowDays {
		return nil, fmt.Errorf("window %d: want %d to %d days", q.FollowDays, MinLiftFollowDays, MaxLiftFollowDays)
	}
	from, to, err := LiftWindow(c, q)
	if err != nil {
		return nil, err
	}
	if d := int(to.Sub(from)/(24*time.Hour)) + 1; d > MaxLiftWindowDays {
		return nil, fmt.Errorf("the event window is %d days: at most %d", d, MaxLiftWindowDays)
	}
	cal := q.Period.Cal
	followLast := to.AddDate(0, 0, q.FollowDays)
	p := store.LiftParams{CampaignID: campaignID, From: cal.Start(from), To: cal.Start(to.AddDate(0, 0, 1)),
		FollowTo: cal.Start(followLast.AddDate(0, 0, 1)), PriorFrom: cal.Start(from.AddDate(0, 0, -LiftPriorDays))}
	kl, err := kept(ctx, r, factsLift, liftKey{Params: p, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), FollowDays: q.FollowDays}, r.liftFacts)
	if err != nil {
		return nil, err
	}
	l := &kl
	l.Complete = q.Now.IsZero() || !q.Now.Before(p.FollowTo)
	return l, nil
}

// The kept facts of the cohort lift (facts.go): the answer to a
// question but whether its follow window has ended, which depends on
// when it is asked.
const factsLift = "lift"

func init() {
	registerFacts(factsLift, func(r Reporter) func(context.Context, liftKey) (Lift, error) { return r.liftFacts })
}

// liftKey is a lift question: its instants and its team days.
type liftKey struct {
	Params     store.LiftParams `json:"params"`
	From       string           `json:"from"`
	To         string           `json:"to"`
	FollowDays int              `json:"follow_days"`
}

// liftFacts computes the answer (Complete left false).
func (r Reporter) liftFacts(ctx context.Context, k liftKey) (Lift, error) {
	rows, err := r.Store.LiftStrata(ctx, k.Params)
	if err != nil {
		return Lift{}, err
	}
	followLast, err := time.Parse(time.DateOnly, k.To)
	if err != nil {
		return Lift{}, err
	}
	followLast = followLast.AddDate(0, 0, k.FollowDays)
	l := Lift{CampaignID: k.Params.CampaignID, From: k.From, To: k.To, FollowDays: k.FollowDays,
		FollowTo: followLast.Format(time.DateOnly), MinGroup: MinLiftGroup, MinOutcomes: MinLiftOutcomes}
	summarizeLift(&l, rows)
	return l, nil
}

// stratumKey is a stratum apart from its group.
type stratumKey struct {
	industry, size, region, channel string
	lead                            bool
}

// summarizeLift fills l from the strata rows.
func summarizeLift(l *Lift, rows []store.LiftStratum) {
	type pair struct{ cohort, baseline store.LiftStratum }
	pairs := map[stratumKey]*pair{}
	var keys []stratumKey
	for _, row := range rows {
		k := stratumKey{row.Industry, row.SizeBand, row.Region, row.Channel, row.Lead}
		x := pairs[k]
		if x == nil {
			x = &pair{}
			pairs[k] = x
			keys = append(keys, k)
		}
		if row.Cohort {
			x.cohort = row
			l.Cohort.Persons += row.Persons
		} else {
			x.baseline = row
			l.Baseline.Persons += row.Persons
		}
	}
	l.Matching = LiftMatching{Method: liftMethodMatch, Keys: []string{"industry", "size_band", "region", "prior_channel", "lead_before"},
		Weights: liftMethodWeights, PriorDays: LiftPriorDays}
	var mql, opp []stats.Stratum
	var pipe []stats.MeanStratum
	var all stats.MeanStratum      // the unmatched pipeline comparison
	var unMQL, unOpp [4]int64      // unmatched: cohort n, x, baseline n, x
	var with, matchedWith [2]int64 // persons with pipeline: every one, the matched
	var totalW float64
	for _, k := range keys {
		x := pairs[k]
		c, b := x.cohort, x.baseline
		unMQL = [4]int64{unMQL[0] + c.MQLEligible, unMQL[1] + c.MQLReached, unMQL[2] + b.MQLEligible, unMQL[3] + b.MQLReached}
		unOpp = [4]int64{unOpp[0] + c.OppEligible, unOpp[1] + c.OppReached, unOpp[2] + b.OppEligible, unOpp[3] + b.OppReached}
		all.N1, all.Sum1, all.SumSq1 = all.N1+c.Persons, all.Sum1+c.Pipeline, all.SumSq1+c.PipelineSq
		all.N0, all.Sum0, all.SumSq0 = all.N0+b.Persons, all.Sum0+b.Pipeline, all.SumSq0+b.PipelineSq
		with = [2]int64{with[0] + c.WithPipeline, with[1] + b.WithPipeline}
		if c.Persons > 0 {
			l.Matching.CohortStrata++
		}
		if c.Persons == 0 || b.Persons == 0 {
			continue
		}
		l.Matching.Strata++
		l.Cohort.Matched += c.Persons
		l.Baseline.Matched += b.Persons
		matchedWith = [2]int64{matchedWith[0] + c.WithPipeline, matchedWith[1] + b.WithPipeline}
		totalW += float64(c.Persons) * float64(b.Persons) / float64(c.Persons+b.Persons)
		mql = append(mql, stats.Stratum{N1: c.MQLEligible, X1: c.MQLReached, N0: b.MQLEligible, X0: b.MQLReached})
		opp = append(opp, stats.Stratum{N1: c.OppEligible, X1: c.OppReached, N0: b.OppEligible, X0: b.OppReached})
		pipe = append(pipe, stats.MeanStratum{N1: c.Persons, Sum1: c.Pipeline, SumSq1: c.PipelineSq, N0: b.Persons, Sum0: b.Pipeline, SumSq0: b.PipelineSq})
	}
	if l.Cohort.Persons > 0 {
		l.Matching.CohortMatchedShare = ptr(float64(l.Cohort.Matched) / float64(l.Cohort.Persons))
	}
	l.Outcomes = []LiftOutcome{
		rateOutcome(OutcomeMQL, mql, unMQL),
		rateOutcome(OutcomeOpportunity, opp, unOpp),
		pipelineOutcome(pipe, all, with, matchedWith),
	}
	// The strata with cohort persons, the largest first.
	for _, k := range keys {
		x := pairs[k]
		c, b := x.cohort, x.baseline
		if c.Persons == 0 {
			continue
		}
		s := LiftStratum{Industry: k.industry, SizeBand: k.size, Region: k.region, PriorChannel: model.Channel(k.channel), LeadBefore: k.lead,
			Cohort: c.Persons, Baseline: b.Persons,
			CohortMQLRate: ratio(c.MQLReached, c.MQLEligible), BaselineMQLRate: ratio(b.MQLReached, b.MQLEligible),
			CohortOppRate: ratio(c.OppReached, c.OppEligible), BaselineOppRate: ratio(b.OppReached, b.OppEligible),
			CohortPipeline: perPersonYuan(c.Pipeline, c.Persons), BaselinePipeline: perPersonYuan(b.Pipeline, b.Persons)}
		if b.Persons > 0 && totalW > 0 {
			s.WeightShare = float64(c.Persons) * float64(b.Persons) / float64(c.Persons+b.Persons) / totalW
		}
		l.Strata = append(l.Strata, s)
	}
	slices.SortStableFunc(l.Strata, func(a, b LiftStratum) int {
		return cmp.Or(cmp.Compare(b.Cohort, a.Cohort), cmp.Compare(b.Baseline, a.Baseline), cmp.Compare(a.Industry, b.Industry),
			cmp.Compare(a.SizeBand, b.SizeBand), cmp.Compare(a.Region, b.Region), cmp.Compare(a.PriorChannel, b.PriorChannel),
			cmp.Compare(boolInt(a.LeadBefore), boolInt(b.LeadBefore)))
	})
	l.StrataTotal = len(l.Strata)
	if l.Strata == nil {
		l.Strata = []LiftStratum{}
	}
	if len(l.Strata) > MaxLiftStrata {
		l.Strata = l.Strata[:MaxLiftStrata]
	}
}

func ptr[T any](v T) *T { return &v }

func perPersonYuan(fen float64, n int64) *float64 {
	if n == 0 {
		return nil
	}
	return ptr(yuan(fen / float64(n)))
}

// yuan is an amount of fen as yuan, rounded to the fen.
func yuan(fen float64) float64 { return math.Round(fen) / 100 }

// verdict reads an interval of a difference.
func verdict(ci stats.Interval) string {
	switch {
	case ci.Lo > 0:
		return VerdictLift
	case ci.Hi < 0:
		return VerdictDrop
	}
	return VerdictNoLift
}

// rateOutcome compares the groups' rates of an outcome over the matched
// strata; un holds the unmatched counts (cohort eligible, reached,
// baseline eligible, reached).
func rateOutcome(key string, strata []stats.Stratum, un [4]int64) LiftOutcome {
	z := stats.Z(liftConf)
	o := LiftOutcome{Outcome: key, Unit: "rate", Interval: "stratified_newcombe", Verdict: VerdictTooSmall}
	o.Unadjusted = LiftUnadjusted{CohortPersons: un[0], CohortReached: un[1], BaselinePersons: un[2], BaselineReached: un[3],
		CohortValue: ratio(un[1], un[0]), BaselineValue: ratio(un[3], un[2])}
	if iv, ok := stats.Wilson(un[1], un[0], z); ok {
		o.Unadjusted.CohortCI = &iv
	}
	if iv, ok := stats.Wilson(un[3], un[2], z); ok {
		o.Unadjusted.BaselineCI = &iv
	}
	if o.Unadjusted.CohortValue != nil && o.Unadjusted.BaselineValue != nil {
		o.Unadjusted.Difference = ptr(*o.Unadjusted.CohortValue - *o.Unadjusted.BaselineValue)
		if iv, ok := stats.NewcombeDiff(un[1], un[0], un[3], un[2], z); ok {
			o.Unadjusted.DifferenceCI = &iv
		}
	}
	m, ok := stats.MantelHaenszel(strata, z)
	if !ok {
		return o
	}
	o.Cohort = LiftSide{Persons: m.N1, Reached: m.X1, Value: ptr(m.Rate1)}
	o.Baseline = LiftSide{Persons: m.N0, Reached: m.X0, Value: ptr(m.Rate0)}
	o.AbsoluteLift, o.AbsoluteCI, o.SatoCI = ptr(m.Diff), ptr(m.NewcombeCI), ptr(m.DiffCI)
	if m.RatioOK {
		o.RelativeLift = ptr(m.Ratio - 1)
		o.RelativeCI = &stats.Interval{Lo: m.RatioCI.Lo - 1, Hi: m.RatioCI.Hi - 1}
	}
	reached, missed := m.X1+m.X0, m.N1+m.N0-m.X1-m.X0
	if m.N1 >= MinLiftGroup && m.N0 >= MinLiftGroup && reached >= MinLiftOutcomes && missed >= MinLiftOutcomes {
		o.Verdict = verdict(m.NewcombeCI)
	}
	return o
}

// pipelineOutcome compares the groups' pipeline per person over the
// matched strata; all is every person of each group as one stratum, with
// and matched the persons with some pipeline in each group, of all and
// of the matched strata.
func pipelineOutcome(strata []stats.MeanStratum, all stats.MeanStratum, with, matched [2]int64) LiftOutcome {
	o := LiftOutcome{Outcome: OutcomePipeline, Unit: "cny", Interval: "welch_satterthwaite", Verdict: VerdictTooSmall}
	o.Unadjusted = LiftUnadjusted{CohortPersons: all.N1, CohortReached: with[0], BaselinePersons: all.N0, BaselineReached: with[1],
		CohortValue: perPersonYuan(all.Sum1, all.N1), BaselineValue: perPersonYuan(all.Sum0, all.N0)}
	if all.N1 > 0 && all.N0 > 0 {
		o.Unadjusted.Difference = ptr(yuan(all.Sum1/float64(all.N1) - all.Sum0/float64(all.N0)))
	}
	m, ok := stats.StratifiedMeans(strata, liftConf)
	if !ok {
		return o
	}
	o.Cohort = LiftSide{Persons: m.N1, Reached: matched[0], Value: ptr(yuan(m.Mean1))}
	o.Baseline = LiftSide{Persons: m.N0, Reached: matched[1], Value: ptr(yuan(m.Mean0))}
	o.AbsoluteLift = ptr(yuan(m.Diff))
	o.AbsoluteCI = &stats.Interval{Lo: yuan(m.DiffCI.Lo), Hi: yuan(m.DiffCI.Hi)}
	if m.RatioOK {
		o.RelativeLift = ptr(m.Ratio - 1)
		o.RelativeCI = &stats.Interval{Lo: m.RatioCI.Lo - 1, Hi: m.RatioCI.Hi - 1}
	}
	if m.N1 >= MinLiftGroup && m.N0 >= MinLiftGroup && matched[0]+matched[1] >= MinLiftOutcomes {
		o.Verdict = verdict(m.DiffCI)
	}
	return o
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
