package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// attributionRoutes mounts GET /api/v1/attribution. Credits are computed on
// request from the stored touches and conversions; they are not stored.
func (s *Server) attributionRoutes(m *http.ServeMux) error {
	m.Handle("GET /api/v1/attribution", s.requireAPI(s.apiAttribution))
	return nil
}

// attributionDims are the ?by= roll-ups.
var attributionDims = []string{"channel", "campaign", "keyword", "asset", "promoter", "source"}

// maxLookbackDays bounds ?lookback= (ten years).
const maxLookbackDays = 3650

// noneKey is the row of credits whose touches have no value for the
// dimension (a touch without a campaign, say).
const noneKey = "(none)"

// attributionQuery is a parsed request.
type attributionQuery struct {
	Model      attribution.Model
	Conversion store.ConversionKind
	By         string
	Window     store.Window
	Lookback   time.Duration
}

// paramError names the parameter that was wrong.
type paramError struct{ Param, Msg string }

func (e *paramError) Error() string { return e.Param + ": " + e.Msg }

func shorten(v string) string {
	if len(v) > 40 {
		return v[:40] + "…"
	}
	return v
}

func parseAttributionQuery(r *http.Request) (attributionQuery, error) {
	q := r.URL.Query()
	var aq attributionQuery
	var err error
	if aq.Model, err = attribution.ParseModel(q.Get("model")); err != nil {
		names := make([]string, len(attribution.Models))
		for i, m := range attribution.Models {
			names[i] = string(m)
		}
		return aq, &paramError{"model", fmt.Sprintf("unknown model %q: use one of %s", shorten(q.Get("model")), strings.Join(names, ", "))}
	}
	conv := q.Get("conversion")
	if strings.TrimSpace(conv) == "" {
		conv = string(store.ConvOpportunity)
	}
	if aq.Conversion, err = store.ParseConversionKind(conv); err != nil {
		names := make([]string, len(store.ConversionKinds))
		for i, k := range store.ConversionKinds {
			names[i] = string(k)
		}
		return aq, &paramError{"conversion", fmt.Sprintf("unknown conversion %q: use one of %s", shorten(conv), strings.Join(names, ", "))}
	}
	aq.By = strings.ToLower(strings.TrimSpace(q.Get("by")))
	if aq.By == "" {
		aq.By = "channel"
	}
	if !slices.Contains(attributionDims, aq.By) {
		return aq, &paramError{"by", fmt.Sprintf("unknown roll-up %q: use one of %s", shorten(q.Get("by")), strings.Join(attributionDims, ", "))}
	}
	aq.Lookback = store.DefaultLookback
	if v := strings.TrimSpace(q.Get("lookback")); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 1 || d > maxLookbackDays {
			return aq, &paramError{"lookback", fmt.Sprintf("%q is not a number of days from 1 to %d", shorten(v), maxLookbackDays)}
		}
		aq.Lookback = time.Duration(d) * 24 * time.Hour
	}
	if aq.Window, err = parseWindow(r); err != nil {
		return aq, err
	}
	return aq, nil
}

// attributionRow is one line of the response.
type attributionRow struct {
	Key           string       `json:"key"` // channel, "source / medium", or the id of the campaign, keyword, asset or promoter; "(none)"
	Name          string       `json:"name,omitempty"`
	NameEN        string       `json:"name_en,omitempty"`
	Conversions   float64      `json:"conversions"`
	Value         model.Money  `json:"value"`
	Cost          *model.Money `json:"cost"`
	ROI           *float64     `json:"roi"` // credited value per yuan of cost; null without cost
	RemovalEffect *float64     `json:"removal_effect,omitempty"`

	fen float64 // credited value in fen, before rounding
}

// pipelineSplit is the sourced or influenced share of the conversions.
type pipelineSplit struct {
	Count int64       `json:"count"`
	Value model.Money `json:"value"`
}

// attributionResponse is the body of GET /api/v1/attribution.
type attributionResponse struct {
	Model        attribution.Model    `json:"model"`
	Conversion   store.ConversionKind `json:"conversion"`
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
	Rows            []attributionRow `json:"rows"`
	Sourced         *pipelineSplit   `json:"sourced,omitempty"`
	Influenced      *pipelineSplit   `json:"influenced,omitempty"`
}

func (s *Server) apiAttribution(w http.ResponseWriter, r *http.Request) {
	aq, err := parseAttributionQuery(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.attribute(r.Context(), aq)
	var me *modelError
	switch {
	case errors.As(err, &me):
		writeJSONError(w, http.StatusUnprocessableEntity, "model: "+me.Error())
		return
	case err != nil:
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// modelError is a model refusing the data (too many channels for an exact
// Shapley value, say): the request's fault, not the server's.
type modelError struct{ err error }

func (e *modelError) Error() string { return e.err.Error() }

// isMarketing reports whether a channel is marketing's doing: anything but
// Direct, Outbound (sales) and Unknown.
func isMarketing(ch string) bool {
	switch model.Channel(ch) {
	case model.ChannelDirect, model.ChannelOutbound, model.ChannelUnknown, "":
		return false
	}
	return true
}

func idKey(id int64) string {
	if id == 0 {
		return noneKey
	}
	return strconv.FormatInt(id, 10)
}

// attribute reads the journeys and credits them.
func (s *Server) attribute(ctx context.Context, aq attributionQuery) (*attributionResponse, error) {
	cjs, err := s.store.AttributionJourneys(ctx, aq.Conversion, aq.Window, aq.Lookback)
	if err != nil {
		return nil, err
	}
	res := &attributionResponse{Model: aq.Model, Conversion: aq.Conversion, By: aq.By,
		From: utcPtr(aq.Window.From), To: utcPtr(aq.Window.To), LookbackDays: int(aq.Lookback / (24 * time.Hour)),
		Currency: "CNY", Rows: []attributionRow{}}
	money := aq.Conversion == store.ConvOpportunity || aq.Conversion == store.ConvWon || aq.Conversion == store.ConvOrder
	if money {
		res.Sourced, res.Influenced = &pipelineSplit{}, &pipelineSplit{}
	}
	js := attribution.NewJourneys()
	var creditedFen int64
	for _, cj := range cjs {
		res.Conversions++
		res.Value += cj.Value
		j := attribution.Journey{Converted: true, Value: float64(cj.Value), LeadAt: cj.LeadAt, OpportunityAt: cj.OpportunityAt, ConvertedAt: cj.At}
		j.Touches = make([]attribution.Touch, len(cj.Touches))
		for i, t := range cj.Touches {
			sm := noneKey
			if t.Source != "" || t.Medium != "" {
				sm = t.Source + " / " + t.Medium
			}
			j.Touches[i] = attribution.Touch{Time: t.At, Channel: t.Channel, Ref: t.ID, Keys: attribution.Keys{
				SourceMedium: sm, Campaign: idKey(t.CampaignID), Keyword: idKey(t.KeywordID),
				Content: idKey(t.ContentID), Promoter: idKey(t.PromoterID)}}
		}
		if js.Add(j, aq.Lookback) == 0 {
			res.Uncredited++
			res.UncreditedValue += cj.Value
			continue
		}
		creditedFen += int64(cj.Value)
		if money {
			if isMarketing(cj.Touches[0].Channel) {
				res.Sourced.Count++
				res.Sourced.Value += cj.Value
			}
			before := cj.OpportunityAt
			if before.IsZero() {
				before = cj.At
			}
			for _, t := range cj.Touches {
				if t.At.After(before) {
					break
				}
				if isMarketing(t.Channel) {
					res.Influenced.Count++
					res.Influenced.Value += cj.Value
					break
				}
			}
		}
	}
	res.CreditedValue = model.Money(creditedFen)
	res.Credited = float64(res.Conversions - res.Uncredited)

	costs, err := s.store.AttributionCosts(ctx, aq.Window)
	if err != nil {
		return nil, err
	}
	for _, c := range costs.ByChannel {
		res.Cost += c
	}
	res.ROI = moneyRatio(float64(res.CreditedValue), res.Cost)

	rows := map[string]*attributionRow{}
	var order []string
	row := func(k string) *attributionRow {
		if r, ok := rows[k]; ok {
			return r
		}
		r := &attributionRow{Key: k}
		rows[k] = r
		order = append(order, k)
		return r
	}
	if js.Len() > 0 {
		o := attribution.Options{}
		if aq.By == "channel" {
			ar, err := attribution.Attribute(js, aq.Model, o)
			if err != nil {
				return nil, &modelError{err}
			}
			for _, c := range ar.Channels {
				r := row(c.Channel)
				r.Conversions, r.fen, r.RemovalEffect = c.Conversions, c.Value, c.RemovalEffect
			}
		} else {
			tc, err := attribution.TouchCredits(js, aq.Model, o)
			if err != nil {
				return nil, &modelError{err}
			}
			key := map[string]func(attribution.TouchCredit) string{
				"campaign": func(c attribution.TouchCredit) string { return c.Keys.Campaign },
				"keyword":  func(c attribution.TouchCredit) string { return c.Keys.Keyword },
				"asset":    func(c attribution.TouchCredit) string { return c.Keys.Content },
				"promoter": func(c attribution.TouchCredit) string { return c.Keys.Promoter },
				"source":   func(c attribution.TouchCredit) string { return c.Keys.SourceMedium },
			}[aq.By]
			for _, c := range attribution.RollUp(tc, key) {
				r := row(c.Key)
				r.Conversions, r.fen = c.Conversions, c.Value
			}
		}
	}
	// Spend that bought nothing is a row too.
	switch aq.By {
	case "channel":
		for ch := range costs.ByChannel {
			row(ch)
		}
	case "campaign":
		for id := range costs.ByCampaign {
			row(idKey(id))
		}
	case "keyword":
		for id := range costs.ByKeyword {
			row(idKey(id))
		}
	}
	out := make([]*attributionRow, 0, len(order))
	for _, k := range order {
		out = append(out, rows[k])
	}
	roundFen(out, creditedFen)
	for _, r := range out {
		var cost model.Money
		var has bool
		id, _ := strconv.ParseInt(r.Key, 10, 64)
		switch aq.By {
		case "channel":
			cost, has = costs.ByChannel[r.Key], true
		case "campaign":
			cost, has = costs.ByCampaign[id], id != 0
		case "keyword":
			cost, has = costs.ByKeyword[id], id != 0
		}
		if has {
			c := cost
			r.Cost = &c
			r.ROI = moneyRatio(float64(r.Value), cost)
		}
	}
	if err := s.nameRows(ctx, aq.By, out); err != nil {
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
func roundFen(rows []*attributionRow, total int64) {
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
func (s *Server) nameRows(ctx context.Context, by string, rows []*attributionRow) error {
	if by == "channel" || by == "source" {
		return nil
	}
	var ids []int64
	for _, r := range rows {
		if id, err := strconv.ParseInt(r.Key, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	var camps, kws, assets, proms []int64
	switch by {
	case "campaign":
		camps = ids
	case "keyword":
		kws = ids
	case "asset":
		assets = ids
	case "promoter":
		proms = ids
	}
	n, err := s.store.AttributionNames(ctx, camps, kws, assets, proms)
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

// DefaultOverviewModel is the overview's attribution model unless
// ?model= says otherwise.
const DefaultOverviewModel = attribution.Linear

// attributionView is the overview's attribution table: credited
// opportunities, pipeline and won revenue (orders) by channel.
type attributionView struct {
	Model      attribution.Model
	Models     []attribution.Model
	Error      string // a bad ?model=, in words
	Rows       []attributionChannel
	Total      attributionChannel
	Sourced    pipelineSplit // opportunities whose first touch was marketing
	Influenced pipelineSplit
	Computed   bool
}

type attributionChannel struct {
	Channel       model.Channel
	Opportunities float64
	Pipeline      model.Money
	WonRevenue    model.Money
}

// overviewAttribution builds the overview's attribution table for the
// request's window and ?model=. A bad window is reported by the page
// itself; the table is then left out.
func (s *Server) overviewAttribution(r *http.Request, loc Locale) (*attributionView, error) {
	v := &attributionView{Model: DefaultOverviewModel, Models: attribution.Models}
	if m := r.URL.Query().Get("model"); strings.TrimSpace(m) != "" {
		pm, err := attribution.ParseModel(m)
		if err != nil {
			v.Error = loc.T("error.bad_model")
			return v, nil
		}
		v.Model = pm
	}
	win, err := parseWindow(r)
	if err != nil {
		return v, nil
	}
	rows := map[model.Channel]*attributionChannel{}
	get := func(ch string) *attributionChannel {
		c := model.Channel(ch)
		if rows[c] == nil {
			rows[c] = &attributionChannel{Channel: c}
		}
		return rows[c]
	}
	// The two computations read separately; run them side by side.
	kinds := []store.ConversionKind{store.ConvOpportunity, store.ConvOrder}
	results := make([]*attributionResponse, len(kinds))
	errs := make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, kind := range kinds {
		wg.Go(func() {
			results[i], errs[i] = s.attribute(r.Context(), attributionQuery{Model: v.Model, Conversion: kind, By: "channel", Window: win, Lookback: store.DefaultLookback})
		})
	}
	wg.Wait()
	for i, kind := range kinds {
		res, err := results[i], errs[i]
		var me *modelError
		if errors.As(err, &me) {
			v.Error = me.Error()
			return v, nil
		}
		if err != nil {
			return nil, err
		}
		for _, row := range res.Rows {
			if row.Conversions == 0 && row.Value == 0 {
				continue
			}
			c := get(row.Key)
			if kind == store.ConvOpportunity {
				c.Opportunities, c.Pipeline = row.Conversions, row.Value
				v.Total.Opportunities += row.Conversions
				v.Total.Pipeline += row.Value
			} else {
				c.WonRevenue = row.Value
				v.Total.WonRevenue += row.Value
			}
		}
		if kind == store.ConvOpportunity {
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
	v.Computed = true
	return v, nil
}

// Credited prints the credited opportunities with one decimal.
func (c attributionChannel) Credited() string { return formatDecimal(c.Opportunities, 1) }
