package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
)

// The dashboards' sums, read from the roll-ups (rollup_touches,
// rollup_leads, rollup_stages, rollup_credits, rollup_influence) and from
// daily_costs, which is daily already. Every reader takes a RollupQuery:
//
//   - From and To are team days (model.Calendar.Day: midnight UTC of the
//     date), both included; a zero end is open.
//   - By groups the sums: any of the dimensions the figure has (below),
//     in any order; none gives one total row (also when nothing matched:
//     a row of zeros). DimMonth folds days into months (the first day of
//     the month in Key.Day).
//   - Channels, Types, Campaigns, Keywords, Contents, Stages, Kinds,
//     Platforms and AdGroups keep the rows whose value is in the list (an
//     empty list keeps all); 0 selects rows without a campaign, keyword or
//     asset.
//
// A dimension or filter the figure does not have is an error. Rows come
// sorted by their key, in the order of the RollupKey fields.
//
//	figure          reader        dimensions
//	touches         SumTouches    day month channel type campaign keyword content
//	leads           SumLeads      day month channel campaign keyword content (of the lead source)
//	stage entries   SumStages     day month stage channel (first touch)
//	credits         SumCredits    day month kind channel campaign keyword content
//	influence       SumInfluence  day month kind, and the one dimension asked for
//	costs           SumCosts      day month platform channel (of the campaign) campaign adgroup keyword
//
// Counts are exact integers; money in fen is summed without overflow and
// saturates at MaxTotal (see Saturated); credited value and counts are
// sums of shares (float64).

// RollupDim is a dimension sums can be grouped by.
type RollupDim string

// The dimensions.
const (
	DimDay      RollupDim = "day"
	DimMonth    RollupDim = "month"
	DimChannel  RollupDim = "channel"
	DimType     RollupDim = "type"
	DimCampaign RollupDim = "campaign"
	DimKeyword  RollupDim = "keyword"
	DimContent  RollupDim = "content"
	DimStage    RollupDim = "stage"
	DimKind     RollupDim = "kind"
	DimPlatform RollupDim = "platform"
	DimAdGroup  RollupDim = "adgroup"
)

// RollupQuery selects and groups roll-up sums; see the top of this file.
type RollupQuery struct {
	From, To  time.Time // team days, both included; zero: open
	By        []RollupDim
	Channels  []string
	Types     []string
	Campaigns []int64
	Keywords  []int64
	Contents  []int64
	Stages    []string
	Kinds     []model.ConversionKind
	Platforms []string
	AdGroups  []int64
}

// RollupKey is what a sum is grouped by; the fields of dimensions not
// grouped by are zero.
type RollupKey struct {
	Day        time.Time // the day, or the first day of the month
	Kind       model.ConversionKind
	Stage      string
	Channel    string
	Platform   string
	Type       string
	CampaignID int64
	AdGroupID  int64
	KeywordID  int64
	ContentID  int64
}

func compareKeys(a, b RollupKey) int {
	return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Channel, b.Channel),
		cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Type, b.Type), cmp.Compare(a.CampaignID, b.CampaignID),
		cmp.Compare(a.AdGroupID, b.AdGroupID), cmp.Compare(a.KeywordID, b.KeywordID), cmp.Compare(a.ContentID, b.ContentID))
}

// TouchSum is touchpoints summed: how many, how many by known persons
// (past visitor now), and their watch time.
type TouchSum struct {
	RollupKey
	Touches, Known, WatchSeconds int64
}

// LeadSum is leads summed by the day they became leads and their lead
// source, with how many of them have reached each later stage by now.
type LeadSum struct {
	RollupKey
	Leads, MQLs, SQLs, Opportunities, Customers int64
}

// StageSum is first entries into a stage summed: Entered persons, of whom
// Timed had entered the funnel stage before it, DaysInBefore days after
// that in all (velocity: DaysInBefore / Timed).
type StageSum struct {
	RollupKey
	Entered, Timed int64
	DaysInBefore   float64
}

// CreditedSum is one model's credit summed: the credited value in fen
// (share × value) and the credited conversions (the shares).
type CreditedSum struct {
	RollupKey
	Fen         float64
	Conversions float64
}

// InfluenceSum is the conversions with at least one credited touch of the
// key's channel, campaign, keyword or asset, each once, and their value.
type InfluenceSum struct {
	RollupKey
	Conversions int64
	Value       model.Money
}

// CostSum is daily costs summed.
type CostSum struct {
	RollupKey
	Impressions, Clicks int64
	Cost                model.Money
}

// rollupSource describes one table the readers sum.
type rollupSource struct {
	from string               // FROM clause
	day  string               // the day column
	dims map[RollupDim]string // grouping and filter columns, DimDay and DimMonth aside
}

var (
	touchSource = rollupSource{"rollup_touches", "day", map[RollupDim]string{DimChannel: "channel", DimType: "type",
		DimCampaign: "campaign_id", DimKeyword: "keyword_id", DimContent: "content_id"}}
	leadSource = rollupSource{"rollup_leads", "day", map[RollupDim]string{DimChannel: "channel",
		DimCampaign: "campaign_id", DimKeyword: "keyword_id", DimContent: "content_id"}}
	stageSource  = rollupSource{"rollup_stages", "day", map[RollupDim]string{DimStage: "stage", DimChannel: "channel"}}
	creditSource = rollupSource{"rollup_credits", "day", map[RollupDim]string{DimKind: "kind", DimChannel: "channel",
		DimCampaign: "campaign_id", DimKeyword: "keyword_id", DimContent: "content_id"}}
	costSource = rollupSource{"daily_costs d JOIN campaigns c ON c.id = d.campaign_id", "d.day", map[RollupDim]string{
		DimPlatform: "d.platform", DimChannel: "c.channel", DimCampaign: "d.campaign_id", DimAdGroup: "COALESCE(d.ad_group_id, 0)",
		DimKeyword: "COALESCE(d.keyword_id, 0)"}}
)

// filters lists the query's filters by dimension.
func (q RollupQuery) filters() map[RollupDim][]any {
	out := map[RollupDim][]any{}
	add := func(d RollupDim, n int, v func(i int) any) {
		if n == 0 {
			return
		}
		vals := make([]any, n)
		for i := range n {
			vals[i] = v(i)
		}
		out[d] = vals
	}
	add(DimChannel, len(q.Channels), func(i int) any { return q.Channels[i] })
	add(DimType, len(q.Types), func(i int) any { return q.Types[i] })
	add(DimCampaign, len(q.Campaigns), func(i int) any { return q.Campaigns[i] })
	add(DimKeyword, len(q.Keywords), func(i int) any { return q.Keywords[i] })
	add(DimContent, len(q.Contents), func(i int) any { return q.Contents[i] })
	add(DimStage, len(q.Stages), func(i int) any { return q.Stages[i] })
	add(DimKind, len(q.Kinds), func(i int) any { return string(q.Kinds[i]) })
	add(DimPlatform, len(q.Platforms), func(i int) any { return q.Platforms[i] })
	add(DimAdGroup, len(q.AdGroups), func(i int) any { return q.AdGroups[i] })
	return out
}

// rollupPlan is a sum query built from a RollupQuery.
type rollupPlan struct {
	query string
	args  []any
	dims  []RollupDim // the key columns selected, in order (DimDay for a month too)
	month bool
}

// plan builds "SELECT key columns, sums FROM source WHERE ... GROUP BY
// key columns" for q, checking its dimensions and filters; extra is a
// further condition with its arguments.
func (src rollupSource) plan(q RollupQuery, sums string, extra string, extraArgs []any) (rollupPlan, error) {
	var p rollupPlan
	if slices.Contains(q.By, DimDay) && slices.Contains(q.By, DimMonth) {
		return p, fmt.Errorf("roll-up sums of %s: group by day or by month, not both", src.from)
	}
	seen := map[RollupDim]bool{}
	var cols []string
	for _, d := range q.By {
		if seen[d] {
			continue
		}
		seen[d] = true
		col, ok := src.dims[d]
		switch {
		case d == DimDay || d == DimMonth:
			p.month = d == DimMonth
			p.dims = append(p.dims, DimDay)
			cols = append(cols, src.day)
		case !ok:
			return p, fmt.Errorf("roll-up sums of %s: cannot group by %q (want %s)", src.from, d, src.names())
		default:
			p.dims = append(p.dims, d)
			cols = append(cols, col)
		}
	}
	conds := []string{"1=1"}
	if !q.From.IsZero() {
		conds = append(conds, src.day+" >= ?")
		p.args = append(p.args, utcDate(q.From))
	}
	if !q.To.IsZero() {
		conds = append(conds, src.day+" <= ?")
		p.args = append(p.args, utcDate(q.To))
	}
	filters := q.filters()
	for _, d := range []RollupDim{DimKind, DimStage, DimChannel, DimPlatform, DimType, DimCampaign, DimAdGroup, DimKeyword, DimContent} {
		vals, ok := filters[d]
		if !ok {
			continue
		}
		col, has := src.dims[d]
		if !has {
			return p, fmt.Errorf("roll-up sums of %s: cannot filter by %q (want %s)", src.from, d, src.names())
		}
		conds = append(conds, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		p.args = append(p.args, vals...)
	}
	if extra != "" {
		conds = append(conds, extra)
		p.args = append(p.args, extraArgs...)
	}
	sel := sums
	if len(cols) > 0 {
		sel = strings.Join(cols, ", ") + ", " + sums
	}
	p.query = "SELECT " + sel + " FROM " + src.from + " WHERE " + strings.Join(conds, " AND ")
	if len(cols) > 0 {
		p.query += " GROUP BY " + strings.Join(cols, ", ")
	}
	return p, nil
}

func (src rollupSource) names() string {
	names := []string{string(DimDay), string(DimMonth)}
	for d := range src.dims {
		names = append(names, string(d))
	}
	slices.Sort(names[2:])
	return strings.Join(names, ", ")
}

// keyDest is where a plan's key columns scan into.
type keyDest struct {
	day                     time.Time
	kind, stage, ch, pf, ty string
	camp, ag, kw, co        int64
	dest                    []any
}

// keyDest prepares destinations for the plan's key columns.
func (p rollupPlan) keyDest() *keyDest {
	k := &keyDest{}
	for _, d := range p.dims {
		k.dest = append(k.dest, map[RollupDim]any{DimDay: &k.day, DimKind: &k.kind, DimStage: &k.stage, DimChannel: &k.ch,
			DimPlatform: &k.pf, DimType: &k.ty, DimCampaign: &k.camp, DimAdGroup: &k.ag, DimKeyword: &k.kw, DimContent: &k.co}[d])
	}
	return k
}

// key is the scanned row's key.
func (k *keyDest) key(month bool) RollupKey {
	out := RollupKey{Kind: model.ConversionKind(k.kind), Stage: k.stage, Channel: k.ch, Platform: k.pf, Type: k.ty,
		CampaignID: k.camp, AdGroupID: k.ag, KeywordID: k.kw, ContentID: k.co}
	if !k.day.IsZero() {
		out.Day = utcDate(k.day)
		if month {
			out.Day = model.MonthOf(out.Day)
		}
	}
	return out
}

// sumRollup runs a plan and folds its rows by key (months from days),
// sorted by key. sums are the destinations of one row's sums in *T;
// add adds one row's sums into another's. Without grouping it returns
// one row, of zeros when nothing matched.
func sumRollup[T any](ctx context.Context, s *Store, p rollupPlan, keyOf func(*T) *RollupKey, sums func(*T) []any, add func(dst, src *T)) ([]T, error) {
	k := p.keyDest()
	var row T
	dest := append(append([]any(nil), k.dest...), sums(&row)...)
	index := map[RollupKey]int{}
	var out []T
	err := s.each(ctx, p.query, p.args, func(r *sql.Rows) error {
		var zero T
		row = zero
		if err := r.Scan(dest...); err != nil {
			return err
		}
		key := k.key(p.month)
		if i, ok := index[key]; ok {
			add(&out[i], &row)
			return nil
		}
		*keyOf(&row) = key
		index[key] = len(out)
		out = append(out, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(p.dims) == 0 && len(out) == 0 {
		var zero T
		out = append(out, zero)
	}
	slices.SortFunc(out, func(a, b T) int { return compareKeys(*keyOf(&a), *keyOf(&b)) })
	return out, nil
}

// SumTouches sums the touches roll-up.
func (s *Store) SumTouches(ctx context.Context, q RollupQuery) ([]TouchSum, error) {
	p, err := touchSource.plan(q, "COALESCE(SUM(touches), 0), COALESCE(SUM(known), 0), COALESCE(SUM(watch_seconds), 0)", "", nil)
	if err != nil {
		return nil, err
	}
	return sumRollup(ctx, s, p, func(t *TouchSum) *RollupKey { return &t.RollupKey },
		func(t *TouchSum) []any { return []any{&t.Touches, &t.Known, &t.WatchSeconds} },
		func(d, x *TouchSum) {
			d.Touches, d.Known, d.WatchSeconds = d.Touches+x.Touches, d.Known+x.Known, d.WatchSeconds+x.WatchSeconds
		})
}

// SumLeads sums the leads roll-up.
func (s *Store) SumLeads(ctx context.Context, q RollupQuery) ([]LeadSum, error) {
	p, err := leadSource.plan(q, "COALESCE(SUM(leads), 0), COALESCE(SUM(mqls), 0), COALESCE(SUM(sqls), 0), COALESCE(SUM(opportunities), 0), COALESCE(SUM(customers), 0)", "", nil)
	if err != nil {
		return nil, err
	}
	return sumRollup(ctx, s, p, func(t *LeadSum) *RollupKey { return &t.RollupKey },
		func(t *LeadSum) []any { return []any{&t.Leads, &t.MQLs, &t.SQLs, &t.Opportunities, &t.Customers} },
		func(d, x *LeadSum) {
			d.Leads += x.Leads
			d.MQLs += x.MQLs
			d.SQLs += x.SQLs
			d.Opportunities += x.Opportunities
			d.Customers += x.Customers
		})
}

// SumStages sums the stages roll-up (first entries into each stage).
func (s *Store) SumStages(ctx context.Context, q RollupQuery) ([]StageSum, error) {
	p, err := stageSource.plan(q, "COALESCE(SUM(entered), 0), COALESCE(SUM(timed), 0), COALESCE(SUM(days_in_before), 0)", "", nil)
	if err != nil {
		return nil, err
	}
	return sumRollup(ctx, s, p, func(t *StageSum) *RollupKey { return &t.RollupKey },
		func(t *StageSum) []any { return []any{&t.Entered, &t.Timed, &t.DaysInBefore} },
		func(d, x *StageSum) {
			d.Entered, d.Timed, d.DaysInBefore = d.Entered+x.Entered, d.Timed+x.Timed, d.DaysInBefore+x.DaysInBefore
		})
}

// SumCredits sums the credit roll-up of one stored model, named as its
// column in CreditColumns ("linear", "w_shaped", ...). Filter or group by
// kind: conversions of different kinds do not add up.
func (s *Store) SumCredits(ctx context.Context, q RollupQuery, modelColumn string) ([]CreditedSum, error) {
	if !slices.Contains(CreditColumns[:], modelColumn) {
		return nil, fmt.Errorf("credit sums: unknown model column %q (want one of %s)", modelColumn, strings.Join(CreditColumns[:], ", "))
	}
	p, err := creditSource.plan(q, "COALESCE(SUM("+modelColumn+"_fen), 0), COALESCE(SUM("+modelColumn+"_n), 0)", "", nil)
	if err != nil {
		return nil, err
	}
	return sumRollup(ctx, s, p, func(t *CreditedSum) *RollupKey { return &t.RollupKey },
		func(t *CreditedSum) []any { return []any{&t.Fen, &t.Conversions} },
		func(d, x *CreditedSum) { d.Fen, d.Conversions = d.Fen+x.Fen, d.Conversions+x.Conversions })
}

// influenceDims are the dimensions influence is kept for.
var influenceDims = []RollupDim{DimChannel, DimCampaign, DimKeyword, DimContent}

// SumInfluence sums the influence roll-up for one dimension (channel,
// campaign, keyword or content): rows are always grouped by it, and q.By
// may add day, month and kind; of the filters only kinds and the list of
// that dimension apply. A conversion counts once per key however many of
// its touches have it, so rows do not add up to the conversions.
func (s *Store) SumInfluence(ctx context.Context, q RollupQuery, dim RollupDim) ([]InfluenceSum, error) {
	if !slices.Contains(influenceDims, dim) {
		return nil, fmt.Errorf("influence sums: unknown dimension %q (want channel, campaign, keyword or content)", dim)
	}
	src := rollupSource{"rollup_influence", "day", map[RollupDim]string{DimKind: "kind", dim: "ref"}}
	// The ref column is text: ids are compared as their decimal text.
	fq := q
	fq.Campaigns, fq.Keywords, fq.Contents = nil, nil, nil
	var refs []int64
	switch dim {
	case DimCampaign:
		refs = q.Campaigns
	case DimKeyword:
		refs = q.Keywords
	case DimContent:
		refs = q.Contents
	}
	for _, d := range influenceDims {
		if d != dim && len(q.filters()[d]) > 0 {
			return nil, fmt.Errorf("influence sums by %s: cannot filter by %s", dim, d)
		}
	}
	extra, extraArgs := "dim = ?", []any{string(dim)}
	if len(refs) > 0 {
		extra += " AND ref IN (" + strings.TrimSuffix(strings.Repeat("?,", len(refs)), ",") + ")"
		for _, id := range refs {
			extraArgs = append(extraArgs, strconv.FormatInt(id, 10))
		}
	}
	by := append([]RollupDim(nil), q.By...)
	if !slices.Contains(by, dim) {
		by = append(by, dim)
	}
	fq.By = nil
	for _, d := range by {
		if d == DimCampaign || d == DimKeyword || d == DimContent {
			if d != dim {
				return nil, fmt.Errorf("influence sums by %s: cannot group by %s", dim, d)
			}
			continue // grouped as the text ref, converted below
		}
		fq.By = append(fq.By, d)
	}
	numeric := dim != DimChannel
	if numeric {
		src.dims[DimChannel] = "ref" // scanned as text, parsed into the id below
		fq.By = append(fq.By, DimChannel)
	}
	p, err := src.plan(fq, "COALESCE(SUM(conversions), 0), "+s.sumFen("value_fen"), extra, extraArgs)
	if err != nil {
		return nil, err
	}
	out, err := sumRollup(ctx, s, p, func(t *InfluenceSum) *RollupKey { return &t.RollupKey },
		func(t *InfluenceSum) []any { return []any{&t.Conversions, &t.Value} },
		func(d, x *InfluenceSum) {
			d.Conversions, d.Value = d.Conversions+x.Conversions, AddTotal(d.Value, x.Value)
		})
	if err != nil || !numeric {
		return out, err
	}
	for i := range out {
		id, err := strconv.ParseInt(out[i].Channel, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("influence sums: ref %q of %s is not an id", out[i].Channel, dim)
		}
		out[i].Channel = ""
		switch dim {
		case DimCampaign:
			out[i].CampaignID = id
		case DimKeyword:
			out[i].KeywordID = id
		case DimContent:
			out[i].ContentID = id
		}
	}
	slices.SortFunc(out, func(a, b InfluenceSum) int { return compareKeys(a.RollupKey, b.RollupKey) })
	return out, nil
}

// SumCosts sums daily costs (by the day the platform reported them; the
// channel is the campaign's).
func (s *Store) SumCosts(ctx context.Context, q RollupQuery) ([]CostSum, error) {
	p, err := costSource.plan(q, "COALESCE(SUM(d.impressions), 0), COALESCE(SUM(d.clicks), 0), "+s.sumFen("d.cost_fen"), "", nil)
	if err != nil {
		return nil, err
	}
	return sumRollup(ctx, s, p, func(t *CostSum) *RollupKey { return &t.RollupKey },
		func(t *CostSum) []any { return []any{&t.Impressions, &t.Clicks, &t.Cost} },
		func(d, x *CostSum) {
			d.Impressions, d.Clicks, d.Cost = d.Impressions+x.Impressions, d.Clicks+x.Clicks, AddTotal(d.Cost, x.Cost)
		})
}
