package report

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// Attributor answers attribution questions: by channel or below it
// (campaign, ad group, keyword, asset, promoter, source / medium), for any
// model, conversion and window. Questions the stored credits answer cost
// a few queries; the others are computed on request, within bounds
// (Limit) and remembered until the data moves.
type Attributor struct {
	store *store.Store
	log   *slog.Logger
	// Limit bounds the computations on request.
	Limit *Limiter
	live  liveCache
}

// NewAttributor returns an Attributor over a store with the default
// bounds.
func NewAttributor(s *store.Store, log *slog.Logger) *Attributor {
	if log == nil {
		log = slog.Default()
	}
	return &Attributor{store: s, log: log, Limit: &Limiter{}}
}

// AttributionDims are the ?by= roll-ups.
var AttributionDims = []string{"channel", "source", "campaign", "adgroup", "keyword", "asset", "promoter"}

// MaxLookbackDays bounds ?lookback= (ten years).
const MaxLookbackDays = 3650

// noneKey is the row of credits whose touches have no value for the
// dimension (a touch without a campaign, say).
const noneKey = "(none)"

// AttributionQuery is a parsed request.
type AttributionQuery struct {
	Model      attribution.Model
	Conversion model.ConversionKind
	By         string
	Window     model.Window
	Lookback   time.Duration // ≤ 0: credits.DefaultLookback
	OrderKind  string        // conversion=order only: new, renewal or upsell; empty for all
}

// AttributionRow is one line of the response.
type AttributionRow struct {
	Key           string       `json:"key"` // channel, "source / medium", or the id of the campaign, ad group, keyword, asset or promoter; "(none)"
	Name          string       `json:"name,omitempty"`
	NameEN        string       `json:"name_en,omitempty"`
	Conversions   float64      `json:"conversions"`
	Value         model.Money  `json:"value"`
	Cost          *model.Money `json:"cost"`
	ROI           *float64     `json:"roi"` // credited value per yuan of cost; null without cost
	RemovalEffect *float64     `json:"removal_effect,omitempty"`

	fen float64 // credited value in fen, before rounding
}

// PipelineSplit is the sourced or influenced share of the conversions.
type PipelineSplit struct {
	Count int64       `json:"count"`
	Value model.Money `json:"value"`
}

// Attribution is the body of GET /api/v1/attribution.
type Attribution struct {
	Model        attribution.Model    `json:"model"`
	Conversion   model.ConversionKind `json:"conversion"`
	OrderKind    string               `json:"order_kind,omitempty"`
	By           string               `json:"by"`
	From         *time.Time           `json:"from"`
	To           *time.Time           `json:"to"`
	LookbackDays int                  `json:"lookback_days"`
	Currency     string               `json:"currency"`
	// Conversions are all conversions in the window; Credited those with at
	// least one touch in their lookback window, whose count and value the
	// rows share out; the rest cannot be credited to anything.
	Conversions     int64            `json:"conversions"`
	Value           model.Money      `json:"value"`
	Credited        float64          `json:"credited_conversions"`
	CreditedValue   model.Money      `json:"credited_value"`
	Uncredited      int64            `json:"uncredited_conversions"`
	UncreditedValue model.Money      `json:"uncredited_value"`
	Cost            model.Money      `json:"cost"`
	ROI             *float64         `json:"roi"`
	Rows            []AttributionRow `json:"rows"`
	Sourced         *PipelineSplit   `json:"sourced,omitempty"`
	Influenced      *PipelineSplit   `json:"influenced,omitempty"`
	// Source says where the credits come from: "stored" (the stored
	// per-touch credits, as of CreditsAsOf) or "computed" (on request).
	Source      string     `json:"source"`
	CreditsAsOf *time.Time `json:"credits_as_of,omitempty"`
	// Unavailable names the totals beyond store.MaxTotal (about ¥90
	// trillion), which only implausible stored amounts reach: they show
	// the saturated figure and take no part in ROI.
	Unavailable []string `json:"unavailable,omitempty"`
}

// ModelError is a model refusing the data (too many channels for an exact
// Shapley value, say): the request's fault, not the server's.
type ModelError struct{ err error }

func (e *ModelError) Error() string { return e.err.Error() }

func idKey(id int64) string {
	if id == 0 {
		return noneKey
	}
	return strconv.FormatInt(id, 10)
}

// storedColumn says whether the stored credits answer a request, and
// from which column: they hold every model's per-touch shares at the
// default lookback and half-life. markov and shapley-rate by channel are
// defined on the window's journeys and always computed on request;
// shapley's channel totals are its per-touch shares summed.
func storedColumn(aq AttributionQuery) (int, bool) {
	if aq.Lookback != credits.DefaultLookback {
		return 0, false
	}
	if aq.By == "channel" && (aq.Model == attribution.Markov || aq.Model == attribution.ShapleyRate) {
		return 0, false
	}
	return credits.Column(aq.Model)
}

// Attribute credits a query's conversions: from the stored credits when
// they match the query and cover the window's conversions, else from
// journeys read and computed on request, within the bounds (who names the
// caller, for the per-caller rate). A computation refused by the bounds
// is ErrBusy or a *RateError; a model refusing the data a *ModelError.
func (a *Attributor) Attribute(ctx context.Context, who string, aq AttributionQuery) (*Attribution, error) {
	if aq.Lookback <= 0 {
		aq.Lookback = credits.DefaultLookback
	}
	if col, ok := storedColumn(aq); ok {
		current, asOf, err := a.store.CreditsCurrent(ctx, aq.Conversion, aq.Window)
		if err != nil {
			return nil, err
		}
		if current {
			return a.attributeStored(ctx, aq, col, asOf)
		}
	}
	return a.attributeLiveCached(ctx, who, aq)
}

// liveCache keeps recent answers computed on request (markov and
// shapley-rate by channel read every touch: seconds on a large database),
// keyed by the request and by store.CreditStamp: the kind's last credit
// run and the newest touch. An answer is reused until either moves: a new
// touch shows at once, anything else (a conversion, a cost, a changed
// touch) after the next credit run, as in the stored credits. Answers are
// shared: nobody modifies a response once it is built.
type liveCache struct {
	mu      sync.Mutex
	entries map[string]*Attribution
}

// maxLiveCache bounds the cache; when full it starts over.
const maxLiveCache = 64

func (a *Attributor) attributeLiveCached(ctx context.Context, who string, aq AttributionQuery) (*Attribution, error) {
	ranAt, mark, err := a.store.CreditStamp(ctx, aq.Conversion)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s|%s|%s|%s|%d|%d|%d|%d|%d", aq.Model, aq.Conversion, aq.OrderKind, aq.By, aq.Window.From.UnixNano(),
		aq.Window.To.UnixNano(), aq.Lookback, ranAt.UnixNano(), mark)
	c := &a.live
	c.mu.Lock()
	res, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return res, nil
	}
	if retry, ok := a.Limit.allow(who, time.Now()); !ok {
		return nil, &RateError{Retry: retry}
	}
	if res, err = a.Limit.do(ctx, key, func(ctx context.Context) (*Attribution, error) { return a.attributeLive(ctx, aq) }); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxLiveCache {
		c.entries = map[string]*Attribution{}
	}
	c.entries[key] = res
	c.mu.Unlock()
	return res, nil
}

func (a *Attributor) newResponse(aq AttributionQuery) *Attribution {
	res := &Attribution{Model: aq.Model, Conversion: aq.Conversion, OrderKind: aq.OrderKind, By: aq.By,
		From: utcPtr(aq.Window.From), To: utcPtr(aq.Window.To), LookbackDays: int(aq.Lookback / (24 * time.Hour)),
		Currency: "CNY", Rows: []AttributionRow{}, Source: "computed"}
	if aq.Conversion == model.ConvOpportunity || aq.Conversion == model.ConvWon || aq.Conversion == model.ConvOrder {
		res.Sourced, res.Influenced = &PipelineSplit{}, &PipelineSplit{}
	}
	return res
}

// rowSet collects rows by key in the order they are first seen.
type rowSet struct {
	rows  map[string]*AttributionRow
	order []string
}

func (rs *rowSet) row(k string) *AttributionRow {
	if r, ok := rs.rows[k]; ok {
		return r
	}
	if rs.rows == nil {
		rs.rows = map[string]*AttributionRow{}
	}
	r := &AttributionRow{Key: k}
	rs.rows[k] = r
	rs.order = append(rs.order, k)
	return r
}

// attributeStored sums the stored credits.
func (a *Attributor) attributeStored(ctx context.Context, aq AttributionQuery, col int, asOf time.Time) (*Attribution, error) {
	sums, tot, err := a.store.StoredCredits(ctx, aq.Conversion, col, aq.By, aq.Window, aq.OrderKind)
	if err != nil {
		return nil, err
	}
	res := a.newResponse(aq)
	res.Source, res.CreditsAsOf = "stored", &asOf
	res.Conversions, res.Value = tot.Conversions, tot.Value
	res.Uncredited, res.UncreditedValue = tot.Uncredited, tot.UncreditedValue
	res.Credited = float64(tot.Conversions - tot.Uncredited)
	res.CreditedValue = tot.Value - tot.UncreditedValue
	if res.Sourced != nil {
		*res.Sourced = PipelineSplit{Count: tot.Sourced, Value: tot.SourcedValue}
		*res.Influenced = PipelineSplit{Count: tot.Influenced, Value: tot.InfluencedValue}
	}
	var rs rowSet
	for _, c := range sums {
		k := c.Key
		if k == "" {
			k = noneKey
		}
		r := rs.row(k)
		r.Conversions += c.Conversions
		r.fen += c.Fen
	}
	return a.finishAttribution(ctx, aq, res, &rs)
}

// attributeLive reads the journeys and credits them on request. markov and
// shapley-rate also read the journeys of persons without a conversion in
// the window, which they learn from.
func (a *Attributor) attributeLive(ctx context.Context, aq AttributionQuery) (*Attribution, error) {
	res := a.newResponse(aq)
	heads, err := a.store.ConversionHeads(ctx, aq.Conversion, aq.Window, aq.OrderKind)
	if err != nil {
		return nil, err
	}
	heads = slices.DeleteFunc(heads, func(h store.ConversionHead) bool { return !h.First })
	js := attribution.NewJourneys()
	o := attribution.Options{}
	fitted := aq.Model == attribution.Markov || aq.Model == attribution.ShapleyRate
	needNull := fitted
	if fitted && aq.By != "channel" {
		// Drill-downs split journeys by the channel weights of the stored
		// global fit when there is one (see docs/attribution.md).
		named, err := a.store.CreditWeights(ctx, aq.Conversion)
		if err != nil {
			return nil, err
		}
		if col, _ := credits.Column(aq.Model); named[store.CreditColumns[col]] != nil {
			o.Weights = map[attribution.Model]map[string]float64{aq.Model: named[store.CreditColumns[col]]}
			needNull = false
		}
	}
	// The non-converting journeys, when the model learns from them: by
	// channel in the same scan as the conversions' touches (channels are
	// all it reads), below the channel in a scan of their own.
	var nulls store.JourneyOptions
	if needNull {
		var chans []int32
		var times []int64
		nulls = store.JourneyOptions{Lookback: aq.Lookback, ChannelsOnly: true, Window: aq.Window,
			NonConverting: func(_ int, _ int64, ts []store.AttributionTouch) error {
				return credits.AddJourney(js, ts, false, 0, time.Time{}, time.Time{}, time.Time{}, &chans, &times)
			}}
	}
	groups := [][]store.ConversionHead{heads}
	jo := store.JourneyOptions{Lookback: aq.Lookback, ChannelsOnly: aq.By == "channel"}
	if needNull && aq.By == "channel" {
		jo = nulls
	}
	all, err := a.store.JourneysOf(ctx, groups, jo)
	if err != nil {
		return nil, err
	}
	cjs := all[0]
	if needNull && aq.By != "channel" {
		if _, err := a.store.JourneysOf(ctx, groups, nulls); err != nil {
			return nil, err
		}
	}
	var creditedFen int64
	credited := 0
	for _, cj := range cjs {
		res.Conversions++
		res.Value = store.AddTotal(res.Value, cj.Value)
		j := attribution.Journey{Converted: true, Value: float64(cj.Value), LeadAt: cj.LeadAt, OpportunityAt: cj.OpportunityAt, ConvertedAt: cj.At}
		j.Touches = make([]attribution.Touch, len(cj.Touches))
		for i, t := range cj.Touches {
			sm := noneKey
			if t.Source != "" || t.Medium != "" {
				sm = t.Source + " / " + t.Medium
			}
			j.Touches[i] = attribution.Touch{Time: t.At, Channel: t.Channel, Ref: t.ID, Keys: attribution.Keys{
				SourceMedium: sm, Campaign: idKey(t.CampaignID), AdGroup: idKey(t.AdGroupID), Keyword: idKey(t.KeywordID),
				Content: idKey(t.ContentID), Promoter: idKey(t.PromoterID)}}
		}
		if js.Add(j, aq.Lookback) == 0 {
			res.Uncredited++
			res.UncreditedValue = store.AddTotal(res.UncreditedValue, cj.Value)
			continue
		}
		credited++
		creditedFen = int64(store.AddTotal(model.Money(creditedFen), cj.Value))
		if res.Sourced != nil {
			if credits.Sourced(cj) {
				res.Sourced.Count++
				res.Sourced.Value = store.AddTotal(res.Sourced.Value, cj.Value)
			}
			if credits.Influenced(cj) {
				res.Influenced.Count++
				res.Influenced.Value = store.AddTotal(res.Influenced.Value, cj.Value)
			}
		}
	}
	res.CreditedValue = model.Money(creditedFen)
	res.Credited = float64(res.Conversions - res.Uncredited)

	var rs rowSet
	if credited > 0 {
		if aq.By == "channel" {
			ar, err := attribution.Attribute(js, aq.Model, o)
			if err != nil {
				return nil, &ModelError{err}
			}
			for _, c := range ar.Channels {
				r := rs.row(c.Channel)
				r.Conversions, r.fen, r.RemovalEffect = c.Conversions, c.Value, c.RemovalEffect
			}
		} else {
			tc, err := attribution.TouchCredits(js, aq.Model, o)
			if err != nil {
				return nil, &ModelError{err}
			}
			key := map[string]func(attribution.TouchCredit) string{
				"campaign": func(c attribution.TouchCredit) string { return c.Keys.Campaign },
				"adgroup":  func(c attribution.TouchCredit) string { return c.Keys.AdGroup },
				"keyword":  func(c attribution.TouchCredit) string { return c.Keys.Keyword },
				"asset":    func(c attribution.TouchCredit) string { return c.Keys.Content },
				"promoter": func(c attribution.TouchCredit) string { return c.Keys.Promoter },
				"source":   func(c attribution.TouchCredit) string { return c.Keys.SourceMedium },
			}[aq.By]
			for _, c := range attribution.RollUp(tc, key) {
				r := rs.row(c.Key)
				r.Conversions, r.fen = c.Conversions, c.Value
			}
		}
	}
	return a.finishAttribution(ctx, aq, res, &rs)
}

// finishAttribution adds cost, ROI and names to the rows, rounds their
// value to whole fen adding up to the credited value, and sorts them.
func (a *Attributor) finishAttribution(ctx context.Context, aq AttributionQuery, res *Attribution, rs *rowSet) (*Attribution, error) {
	costs, err := a.store.AttributionCosts(ctx, aq.Window)
	if err != nil {
		return nil, err
	}
	for _, c := range costs.ByChannel {
		res.Cost = store.AddTotal(res.Cost, c)
	}
	// A total that reached store.MaxTotal is not the true sum: named,
	// logged, and left out of the ratios; the rest of the answer stands.
	for name, v := range map[string]model.Money{"value": res.Value, "credited_value": res.CreditedValue, "uncredited_value": res.UncreditedValue, "cost": res.Cost} {
		if store.Saturated(v) {
			res.Unavailable = append(res.Unavailable, name)
		}
	}
	if len(res.Unavailable) > 0 {
		sort.Strings(res.Unavailable)
		a.log.Warn("attribution: totals beyond the reportable range", "figures", res.Unavailable)
	}
	if len(res.Unavailable) == 0 {
		res.ROI = moneyRatio(float64(res.CreditedValue), res.Cost)
	}
	// Spend that bought nothing is a row too.
	byID := map[string]map[int64]model.Money{"campaign": costs.ByCampaign, "adgroup": costs.ByAdGroup, "keyword": costs.ByKeyword}
	if aq.By == "channel" {
		for ch := range costs.ByChannel {
			rs.row(ch)
		}
	}
	for id := range byID[aq.By] {
		rs.row(idKey(id))
	}
	out := make([]*AttributionRow, 0, len(rs.order))
	for _, k := range rs.order {
		out = append(out, rs.rows[k])
	}
	roundFen(out, int64(res.CreditedValue))
	for _, r := range out {
		var cost model.Money
		var has bool
		id, _ := strconv.ParseInt(r.Key, 10, 64)
		switch aq.By {
		case "channel":
			cost, has = costs.ByChannel[r.Key], true
		case "campaign", "adgroup", "keyword":
			cost, has = byID[aq.By][id], id != 0
		}
		if has {
			c := cost
			r.Cost = &c
			r.ROI = moneyRatio(float64(r.Value), cost)
		}
	}
	if err := a.nameRows(ctx, aq.By, out); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(a, b int) bool {
		x, y := out[a], out[b]
		if x.Conversions != y.Conversions {
			return x.Conversions > y.Conversions
		}
		if x.Value != y.Value {
			return x.Value > y.Value
		}
		return x.Key < y.Key
	})
	for _, r := range out {
		res.Rows = append(res.Rows, *r)
	}
	return res, nil
}

// moneyRatio is value per unit of cost, rounded to four decimals; nil
// without cost.
func moneyRatio(value float64, cost model.Money) *float64 {
	if cost == 0 {
		return nil
	}
	v := math.Round(value/float64(cost)*10000) / 10000
	return &v
}

// roundFen rounds the rows' credited fen to whole fen so that they add up
// to total exactly: each to the nearest fen, then the difference (at most
// half a fen per row) goes to the rows that rounding moved the most.
func roundFen(rows []*AttributionRow, total int64) {
	var sum int64
	for _, r := range rows {
		r.Value = model.Money(math.Round(r.fen))
		sum += int64(r.Value)
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	rem := func(i int) float64 { return rows[i].fen - float64(rows[i].Value) }
	sort.SliceStable(idx, func(a, b int) bool { return rem(idx[a]) > rem(idx[b]) })
	for k := 0; sum < total && k < len(idx); k++ {
		rows[idx[k]].Value++
		sum++
	}
	for k := len(idx) - 1; sum > total && k >= 0; k-- {
		if rows[idx[k]].Value > 0 {
			rows[idx[k]].Value--
			sum--
		}
	}
}

// nameRows fills in the names of campaign, keyword, asset and promoter rows.
func (a *Attributor) nameRows(ctx context.Context, by string, rows []*AttributionRow) error {
	if by == "channel" || by == "source" {
		return nil
	}
	var ids []int64
	for _, r := range rows {
		if id, err := strconv.ParseInt(r.Key, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	var camps, groups, kws, assets, proms []int64
	switch by {
	case "campaign":
		camps = ids
	case "adgroup":
		groups = ids
	case "keyword":
		kws = ids
	case "asset":
		assets = ids
	case "promoter":
		proms = ids
	}
	n, err := a.store.AttributionNames(ctx, camps, groups, kws, assets, proms)
	if err != nil {
		return err
	}
	for _, r := range rows {
		id, err := strconv.ParseInt(r.Key, 10, 64)
		if err != nil {
			continue
		}
		switch by {
		case "campaign":
			r.Name, r.NameEN = n.Campaigns[id][0], n.Campaigns[id][1]
		case "adgroup":
			r.Name = n.AdGroups[id][0]
		case "keyword":
			r.Name = n.Keywords[id]
		case "asset":
			r.Name, r.NameEN = n.Assets[id][0], n.Assets[id][1]
		case "promoter":
			r.Name = n.Promoters[id]
		}
	}
	return nil
}

// DefaultModel is the model the overview and dashboards use unless the
// request names another.
const DefaultModel = attribution.Linear

// ChannelTable is pipeline and won revenue credited by channel: credited
// opportunities, their pipeline and the revenue of orders, with the
// sourced and influenced split of the opportunities.
type ChannelTable struct {
	Model      attribution.Model
	Rows       []CreditedChannel
	Total      CreditedChannel
	Sourced    PipelineSplit // opportunities whose first touch was marketing
	Influenced PipelineSplit
}

// CreditedChannel is one channel of a ChannelTable.
type CreditedChannel struct {
	Channel       model.Channel
	Opportunities float64
	Pipeline      model.Money
	WonRevenue    model.Money
}

// ByChannel credits the window's opportunities and orders by channel with
// m, in the order of model.Channels (channels outside it after, sorted).
// who names the caller, as for Attribute.
func (a *Attributor) ByChannel(ctx context.Context, who string, m attribution.Model, win model.Window) (*ChannelTable, error) {
	v := &ChannelTable{Model: m}
	rows := map[model.Channel]*CreditedChannel{}
	get := func(ch string) *CreditedChannel {
		c := model.Channel(ch)
		if rows[c] == nil {
			rows[c] = &CreditedChannel{Channel: c}
		}
		return rows[c]
	}
	// The two computations read separately; run them side by side.
	kinds := []model.ConversionKind{model.ConvOpportunity, model.ConvOrder}
	results := make([]*Attribution, len(kinds))
	errs := make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, kind := range kinds {
		wg.Go(func() {
			results[i], errs[i] = a.Attribute(ctx, who, AttributionQuery{Model: m, Conversion: kind, By: "channel", Window: win, Lookback: credits.DefaultLookback})
		})
	}
	wg.Wait()
	for i, kind := range kinds {
		res, err := results[i], errs[i]
		if err != nil {
			return nil, err
		}
		for _, row := range res.Rows {
			if row.Conversions == 0 && row.Value == 0 {
				continue
			}
			c := get(row.Key)
			if kind == model.ConvOpportunity {
				c.Opportunities, c.Pipeline = row.Conversions, row.Value
				v.Total.Opportunities += row.Conversions
				v.Total.Pipeline += row.Value
			} else {
				c.WonRevenue = row.Value
				v.Total.WonRevenue += row.Value
			}
		}
		if kind == model.ConvOpportunity {
			v.Sourced, v.Influenced = *res.Sourced, *res.Influenced
		}
	}
	for _, ch := range model.Channels {
		if c, ok := rows[ch]; ok {
			v.Rows = append(v.Rows, *c)
			delete(rows, ch)
		}
	}
	rest := make([]model.Channel, 0, len(rows))
	for ch := range rows {
		rest = append(rest, ch)
	}
	slices.Sort(rest)
	for _, ch := range rest { // channels outside the known list, if rules added any
		v.Rows = append(v.Rows, *rows[ch])
	}
	v.Total.Channel = "total"
	return v, nil
}

func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
