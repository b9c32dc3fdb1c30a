package report

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Funnel periods and groupings.
const (
	PeriodWeek    = "week"
	PeriodMonth   = "month"
	PeriodQuarter = "quarter"

	ByNone     = "none"
	ByChannel  = "channel"
	ByCampaign = "campaign"
)

// MaxFunnelPeriods bounds one funnel request.
const MaxFunnelPeriods = 260

// TrailingWindow is how far back the leading indicators look for win rates
// and won amounts.
const TrailingWindow = 365 * day

const day = 24 * time.Hour

// funnelStages are the stages a funnel counts entries into: the forward
// stages from lead on, then the side states.
var funnelStages = []model.Stage{model.StageLead, model.StageMQL, model.StageSQL, model.StageOpportunity, model.StageCustomer,
	model.StageNurture, model.StageDisqualified}

const numForward = 5 // lead … customer in funnelStages

func funnelIndex(s model.Stage) int {
	for i, x := range funnelStages {
		if x == s {
			return i
		}
	}
	return -1
}

// FunnelQuery asks for funnel figures. From and To bound the periods (To
// exclusive); both are widened to whole periods.
type FunnelQuery struct {
	From, To time.Time
	Period   string
	By       string
	Now      time.Time
}

// Funnel is the funnel figures of a window.
type Funnel struct {
	From    time.Time      `json:"from"`
	To      time.Time      `json:"to"`
	Period  string         `json:"period"`
	By      string         `json:"by"`
	Stages  []model.Stage  `json:"stages"`
	Periods []FunnelPeriod `json:"periods"`
}

// FunnelPeriod is one period's figures, per group.
type FunnelPeriod struct {
	Start  time.Time     `json:"start"`
	End    time.Time     `json:"end"`
	Groups []FunnelGroup `json:"groups"`
}

// FunnelGroup is one group's figures in one period.
type FunnelGroup struct {
	Key        string                `json:"key"`
	Label      string                `json:"label"`
	Entered    map[model.Stage]int64 `json:"entered"`
	Conversion []Conversion          `json:"conversion"`
	Leading    Leading               `json:"leading"`
}

// Conversion is the step from one stage to the next for the persons who
// entered From in the period: how many reached To (or a stage after it) by
// now, within 30 and 90 days, and the median days it took.
type Conversion struct {
	From       model.Stage `json:"from"`
	To         model.Stage `json:"to"`
	Entered    int64       `json:"entered"`
	Reached    int64       `json:"reached"`
	Rate       *float64    `json:"rate"`
	Within30d  int64       `json:"reached_within_30d"`
	Rate30d    *float64    `json:"rate_30d"`
	Within90d  int64       `json:"reached_within_90d"`
	Rate90d    *float64    `json:"rate_90d"`
	MedianDays *float64    `json:"median_days"`
}

// Leading are indicators for long sales cycles, where revenue shows months
// after the work that made it.
type Leading struct {
	OpportunitiesCreated int64       `json:"opportunities_created"`
	PipelineCreated      model.Money `json:"pipeline_created"`
	SQLs                 int64       `json:"sqls"`
	// Of the persons who entered SQL in the year before the period, the
	// share who became customers (by now); the average won opportunity
	// amount closed in that year; and their product with this period's SQLs.
	TrailingSQLToWonRate *float64     `json:"trailing_sql_to_won_rate"`
	TrailingAvgWonAmount *model.Money `json:"trailing_avg_won_amount"`
	ExpectedRevenue      *model.Money `json:"expected_revenue"`
	// MQL→SQL rate of this period and of the period before, and the change
	// (positive: improving).
	MQLToSQLRate         *float64 `json:"mql_to_sql_rate"`
	MQLToSQLRatePrevious *float64 `json:"mql_to_sql_rate_previous"`
	MQLToSQLTrend        *float64 `json:"mql_to_sql_trend"`
	// Open opportunities at the end of the period (or now) older than the
	// median days from creation to win of the deals won before then.
	MedianCycleDays          *float64 `json:"median_cycle_days"`
	OpenOlderThanMedianCycle int64    `json:"open_opportunities_older_than_median_cycle"`
}

// QueryError is a funnel query the caller must fix: a bad period,
// grouping or window.
type QueryError struct{ msg string }

func (e *QueryError) Error() string { return e.msg }

func queryError(format string, args ...any) error {
	return &QueryError{fmt.Sprintf(format, args...)}
}

// choice reads a parameter that names one of names (case and surrounding
// space ignored); "" is def.
func choice(param, v, def string, names ...string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return def, nil
	}
	for _, n := range names {
		if v == n {
			return v, nil
		}
	}
	return "", queryError("%s %q: want %s or %s", param, clipText(v), strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

// periodStart is the start of the period holding t (UTC; weeks start on Monday).
func periodStart(period string, t time.Time) time.Time {
	t = t.UTC()
	switch period {
	case PeriodWeek:
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case PeriodQuarter:
		return time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func nextPeriod(period string, t time.Time) time.Time {
	switch period {
	case PeriodWeek:
		return t.AddDate(0, 0, 7)
	case PeriodQuarter:
		return t.AddDate(0, 3, 0)
	}
	return t.AddDate(0, 1, 0)
}

// periods lists the period starts covering [from, to), plus the end.
func periods(period string, from, to time.Time) ([]time.Time, error) {
	var out []time.Time
	for t := periodStart(period, from); t.Before(to); t = nextPeriod(period, t) {
		if len(out) >= MaxFunnelPeriods {
			return nil, queryError("from,to: more than %d %ss; narrow the window or use a longer period", MaxFunnelPeriods, period)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, queryError("from,to: the window is empty")
	}
	return append(out, nextPeriod(period, out[len(out)-1])), nil
}

// FunnelInput is what a funnel is computed from.
type FunnelInput struct {
	Changes       []store.FunnelChange
	Opportunities []store.FunnelOpportunity
	Campaigns     map[int64]store.CampaignLabel
}

// LoadFunnel checks q, then reads the store and computes the funnel. A
// query the caller must fix is a *QueryError, found before any reading.
func LoadFunnel(ctx context.Context, s *store.Store, q FunnelQuery) (Funnel, error) {
	q, starts, err := q.plan()
	if err != nil {
		return Funnel{}, err
	}
	var in FunnelInput
	if in.Changes, err = s.FunnelChanges(ctx, q.By == ByChannel, q.By == ByCampaign); err != nil {
		return Funnel{}, fmt.Errorf("funnel stage changes: %w", err)
	}
	if in.Opportunities, err = s.FunnelOpportunities(ctx); err != nil {
		return Funnel{}, fmt.Errorf("funnel opportunities: %w", err)
	}
	if q.By == ByCampaign {
		if in.Campaigns, err = s.CampaignLabels(ctx); err != nil {
			return Funnel{}, fmt.Errorf("funnel campaigns: %w", err)
		}
	}
	return build(q, starts, in), nil
}

// plan checks q and fills in its defaults (period month, grouping none,
// the 12 months up to now). It lists the period starts: one period before
// the window (for the first period's MQL→SQL trend), the window's periods
// widened to whole ones, and the end.
func (q FunnelQuery) plan() (FunnelQuery, []time.Time, error) {
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	q.Now = q.Now.UTC()
	var err error
	if q.Period, err = choice("period", q.Period, PeriodMonth, PeriodWeek, PeriodMonth, PeriodQuarter); err != nil {
		return q, nil, err
	}
	if q.By, err = choice("by", q.By, ByNone, ByNone, ByChannel, ByCampaign); err != nil {
		return q, nil, err
	}
	if q.To.IsZero() {
		q.To = q.Now
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(-1, 0, 0)
	}
	if !q.From.Before(q.To) {
		return q, nil, queryError("from,to: from must be before to")
	}
	starts, err := periods(q.Period, q.From, q.To)
	if err != nil {
		return q, nil, err
	}
	prev := periodStart(q.Period, starts[0].Add(-time.Nanosecond))
	return q, append([]time.Time{prev}, starts...), nil
}

type groupKey struct{ key, label string }

func (in FunnelInput) group(by, channel string, campaign int64) groupKey {
	switch by {
	case ByChannel:
		if channel == "" {
			channel = string(model.ChannelUnknown)
		}
		return groupKey{channel, channel}
	case ByCampaign:
		if campaign == 0 {
			return groupKey{"none", "(no campaign)"}
		}
		if c, ok := in.Campaigns[campaign]; ok {
			return groupKey{c.Code, c.Name}
		}
		id := strconv.FormatInt(campaign, 10)
		return groupKey{id, "campaign " + id}
	}
	return groupKey{"all", "all"}
}

// personPath is when a person first entered each funnel stage.
type personPath struct {
	group groupKey
	first [7]time.Time
}

// next is when the person first reached a forward stage after stage i,
// at or after entering i.
func (p *personPath) next(i int) (time.Time, bool) {
	var best time.Time
	for j := i + 1; j < numForward; j++ {
		t := p.first[j]
		if t.IsZero() || t.Before(p.first[i]) {
			continue
		}
		if best.IsZero() || t.Before(best) {
			best = t
		}
	}
	return best, !best.IsZero()
}

type cell struct {
	entered   [7]int64
	reached   [numForward]int64
	within30  [numForward]int64
	within90  [numForward]int64
	days      [numForward][]float64
	opps      int64
	pipeline  model.Money
	openStale int64
}

// BuildFunnel computes the funnel figures. A person counts once per stage:
// in the period in which they first entered it.
func BuildFunnel(q FunnelQuery, in FunnelInput) (Funnel, error) {
	q, starts, err := q.plan()
	if err != nil {
		return Funnel{}, err
	}
	return build(q, starts, in), nil
}

// build computes the funnel of a planned query.
func build(q FunnelQuery, starts []time.Time, in FunnelInput) Funnel {
	nper := len(starts) - 1
	find := func(t time.Time) int {
		if t.Before(starts[0]) || !t.Before(starts[nper]) {
			return -1
		}
		return sort.Search(nper, func(i int) bool { return starts[i+1].After(t) })
	}

	paths := map[int64]*personPath{}
	for _, c := range in.Changes {
		i := funnelIndex(c.To)
		if i < 0 {
			continue
		}
		p := paths[c.PersonID]
		if p == nil {
			p = &personPath{group: in.group(q.By, c.Channel, c.CampaignID)}
			paths[c.PersonID] = p
		}
		if p.first[i].IsZero() || c.At.Before(p.first[i]) {
			p.first[i] = c.At
		}
	}

	cells := make([]map[groupKey]*cell, nper)
	for i := range cells {
		cells[i] = map[groupKey]*cell{}
	}
	get := func(per int, g groupKey) *cell {
		c := cells[per][g]
		if c == nil {
			c = &cell{}
			cells[per][g] = c
		}
		return c
	}
	// Trailing SQL cohorts per group: when each SQL entered, and whether
	// and when they became customers.
	type sqlEntry struct{ at, won time.Time }
	sqls := map[groupKey][]sqlEntry{}
	for _, p := range paths {
		for i := range funnelStages {
			t := p.first[i]
			if t.IsZero() {
				continue
			}
			if i == 2 {
				won := p.first[4]
				if !won.IsZero() && won.Before(t) {
					won = time.Time{}
				}
				sqls[p.group] = append(sqls[p.group], sqlEntry{t, won})
			}
			per := find(t)
			if per < 0 {
				continue
			}
			c := get(per, p.group)
			c.entered[i]++
			if i >= numForward-1 {
				continue // customer and the side states have no next stage
			}
			if nt, ok := p.next(i); ok {
				d := nt.Sub(t)
				c.reached[i]++
				if d <= 30*day {
					c.within30[i]++
				}
				if d <= 90*day {
					c.within90[i]++
				}
				c.days[i] = append(c.days[i], d.Hours()/24)
			}
		}
	}

	// Opportunities: pipeline created, and the won cycle.
	type wonDeal struct {
		closed time.Time
		days   float64
		amount model.Money
	}
	var won []wonDeal                 // every group's, by closing time
	wonBy := map[groupKey][]wonDeal{} // per group, for the trailing amounts
	oppGroup := make([]groupKey, len(in.Opportunities))
	for k, o := range in.Opportunities {
		g := in.group(q.By, o.Channel, o.CampaignID)
		oppGroup[k] = g
		if per := find(o.CreatedAt); per >= 0 {
			c := get(per, g)
			c.opps++
			c.pipeline += o.Amount
		}
		if o.Stage == model.OppStageClosedWon && o.ClosedAt != nil {
			w := wonDeal{*o.ClosedAt, o.ClosedAt.Sub(o.CreatedAt).Hours() / 24, o.Amount}
			won = append(won, w)
			wonBy[g] = append(wonBy[g], w)
		}
	}
	sort.Slice(won, func(i, j int) bool { return won[i].closed.Before(won[j].closed) })

	f := Funnel{From: starts[1], To: starts[nper], Period: q.Period, By: q.By,
		Stages: append([]model.Stage(nil), funnelStages...), Periods: []FunnelPeriod{}}
	for per := 1; per < nper; per++ {
		start, end := starts[per], starts[per+1]
		asOf := end
		if q.Now.Before(asOf) {
			asOf = q.Now
		}
		// Median cycle of the deals won before the period ended.
		var cycle []float64
		for _, w := range won {
			if !w.closed.Before(asOf) {
				break
			}
			cycle = append(cycle, w.days)
		}
		median := medianOf(cycle)
		if median != nil {
			for k, o := range in.Opportunities {
				open := o.CreatedAt.Before(asOf) && (o.ClosedAt == nil || !o.ClosedAt.Before(asOf))
				if open && asOf.Sub(o.CreatedAt).Hours()/24 > *median {
					get(per, oppGroup[k]).openStale++
				}
			}
		}
		fp := FunnelPeriod{Start: start, End: end, Groups: []FunnelGroup{}}
		keys := make([]groupKey, 0, len(cells[per]))
		for g := range cells[per] {
			keys = append(keys, g)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := cells[per][keys[i]], cells[per][keys[j]]
			if a.entered[0] != b.entered[0] {
				return a.entered[0] > b.entered[0]
			}
			return keys[i].key < keys[j].key
		})
		for _, g := range keys {
			c := cells[per][g]
			fg := FunnelGroup{Key: g.key, Label: g.label, Entered: map[model.Stage]int64{}}
			for i, st := range funnelStages {
				fg.Entered[st] = c.entered[i]
			}
			for i := 0; i < numForward-1; i++ {
				fg.Conversion = append(fg.Conversion, Conversion{
					From: funnelStages[i], To: funnelStages[i+1], Entered: c.entered[i],
					Reached: c.reached[i], Rate: ratio(c.reached[i], c.entered[i]),
					Within30d: c.within30[i], Rate30d: ratio(c.within30[i], c.entered[i]),
					Within90d: c.within90[i], Rate90d: ratio(c.within90[i], c.entered[i]),
					MedianDays: medianOf(c.days[i]),
				})
			}
			l := &fg.Leading
			l.OpportunitiesCreated, l.PipelineCreated, l.SQLs = c.opps, c.pipeline, c.entered[2]
			var cohort, converted int64
			for _, e := range sqls[g] {
				if !e.at.Before(start.Add(-TrailingWindow)) && e.at.Before(start) {
					cohort++
					if !e.won.IsZero() {
						converted++
					}
				}
			}
			l.TrailingSQLToWonRate = ratio(converted, cohort)
			var sum model.Money
			var n int64
			for _, w := range wonBy[g] {
				if !w.closed.Before(start.Add(-TrailingWindow)) && w.closed.Before(start) {
					sum += w.amount
					n++
				}
			}
			if n > 0 {
				avg := model.Money(math.Round(float64(sum) / float64(n)))
				l.TrailingAvgWonAmount = &avg
				if l.TrailingSQLToWonRate != nil {
					exp := model.Money(math.Round(float64(l.SQLs) * float64(converted) / float64(cohort) * float64(sum) / float64(n)))
					l.ExpectedRevenue = &exp
				}
			}
			l.MQLToSQLRate = fg.Conversion[1].Rate
			if pc := cells[per-1][g]; pc != nil {
				l.MQLToSQLRatePrevious = ratio(pc.reached[1], pc.entered[1])
			}
			if l.MQLToSQLRate != nil && l.MQLToSQLRatePrevious != nil {
				l.MQLToSQLTrend = round4(*l.MQLToSQLRate - *l.MQLToSQLRatePrevious)
			}
			l.MedianCycleDays, l.OpenOlderThanMedianCycle = median, c.openStale
			fp.Groups = append(fp.Groups, fg)
		}
		f.Periods = append(f.Periods, fp)
	}
	return f
}

func ratio(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	return round4(float64(n) / float64(d))
}

func round4(v float64) *float64 {
	r := math.Round(v*10000) / 10000
	return &r
}

// medianOf returns the median rounded to a tenth, or nil for no values.
// It sorts vs.
func medianOf(vs []float64) *float64 {
	if len(vs) == 0 {
		return nil
	}
	sort.Float64s(vs)
	m := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		m = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	r := math.Round(m*10) / 10
	return &r
}

// clipText shortens a value quoted in an error message.
func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
