package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
)

// The content dashboard: per content asset (whitepapers, case studies,
// reports, toolkits, articles, videos) its views and downloads, the leads
// it brought in and how many of them became MQLs, and the pipeline it
// influenced and is credited with. Read from the roll-ups; the words are
// defined in docs/metrics.md ("Content").

// ViewType is the touch type of a view of an asset.
const ViewType = "page_view"

// DownloadTypes are the touch types of a download of an asset: the demo's
// content_download and a collected "Content Downloaded" or "Whitepaper
// Downloaded".
var DownloadTypes = []string{"content_download", "content_downloaded", "whitepaper_downloaded"}

// ContentQuery selects the content dashboard.
type ContentQuery struct {
	Period model.Period // team days, both included
	Model  string       // a stored attribution model (credits.Models)
}

// ContentFigures are an asset's figures (or a kind's, or the total).
type ContentFigures struct {
	Views     int64 `json:"views"`
	Downloads int64 `json:"downloads"`
	// DownloadRate is downloads ÷ views, over the assets with views (a
	// file linked from elsewhere has downloads and no views).
	DownloadRate *float64 `json:"download_rate"`
	// Leads whose lead source is the asset, and of them the MQLs (by now).
	Leads         int64    `json:"leads"`
	MQLs          int64    `json:"mqls"`
	EffectiveRate *float64 `json:"effective_lead_rate"` // MQLs ÷ leads
	// CreditedPipeline is what the chosen model credits the asset with.
	CreditedPipeline model.Money `json:"credited_pipeline"`
	// Influenced: opportunities with a credited touch of the asset, each
	// once, and their amount. Nil for a kind and for the total: influence
	// does not add up across assets.
	InfluencedPipeline      *model.Money `json:"influenced_pipeline"`
	InfluencedOpportunities *int64       `json:"influenced_opportunities"`
	// viewedDownloads are the downloads of the assets with views: what the
	// download rate divides.
	viewedDownloads int64
}

// AssetRow is one content asset and its figures.
type AssetRow struct {
	ID         int64  `json:"id"`
	Kind       string `json:"kind"`
	Title      string `json:"title"`
	TitleEN    string `json:"title_en"`
	URL        string `json:"url"`
	CampaignID int64  `json:"campaign_id"`   // 0: none
	Href       string `json:"campaign_href"` // the campaign's page; "" without one
	ContentFigures
}

// ContentKind is the assets of one kind together.
type ContentKind struct {
	Kind   string `json:"kind"`
	Assets int    `json:"assets"`
	ContentFigures
}

// ContentMonth is one month of every asset together.
type ContentMonth struct {
	Month            string      `json:"month"` // YYYY-MM
	Views            int64       `json:"views"`
	Downloads        int64       `json:"downloads"`
	Leads            int64       `json:"leads"`
	MQLs             int64       `json:"mqls"`
	CreditedPipeline model.Money `json:"credited_pipeline"`
}

// Content is the content dashboard.
type Content struct {
	From     string         `json:"from"`
	To       string         `json:"to"`
	Model    string         `json:"model"`
	Currency string         `json:"currency"`
	Assets   []AssetRow     `json:"assets"`
	Total    ContentFigures `json:"total"`
	Kinds    []ContentKind  `json:"kinds"`
	Months   []ContentMonth `json:"months"`
}

// Content computes the content dashboard. Its rows are the assets that
// existed by the end of the range or have a figure in it.
func (r Reporter) Content(ctx context.Context, q ContentQuery) (Content, error) {
	col, err := creditColumnOf(q.Model)
	if err != nil {
		return Content{}, err
	}
	out := Content{From: calendarDay(q.Period.From), To: calendarDay(q.Period.To), Model: q.Model, Currency: "CNY",
		Assets: []AssetRow{}, Kinds: []ContentKind{}, Months: []ContentMonth{}}
	assets, err := r.Store.ContentAssets(ctx)
	if err != nil {
		return out, fmt.Errorf("content: assets: %w", err)
	}
	if len(assets) == 0 {
		finishContent(&out.Total)
		return out, nil
	}
	ids := make([]int64, len(assets))
	for i, a := range assets {
		ids[i] = a.ID
	}
	type facts struct {
		ContentFigures
		pipe   float64
		active bool
	}
	by := map[int64]*facts{}
	of := func(id int64) *facts {
		if by[id] == nil {
			by[id] = &facts{}
		}
		return by[id]
	}
	type month struct {
		ContentMonth
		pipe float64
	}
	months := map[time.Time]*month{}
	mo := func(d time.Time) *month {
		if months[d] == nil {
			months[d] = &month{ContentMonth: ContentMonth{Month: d.Format("2006-01")}}
		}
		return months[d]
	}

	q0 := store.RollupQuery{From: q.Period.From, To: q.Period.To, Contents: ids}
	qt := q0
	qt.By, qt.Types = []store.RollupDim{store.DimMonth, store.DimContent, store.DimType}, append([]string{ViewType}, DownloadTypes...)
	touches, err := r.Store.SumTouches(ctx, qt)
	if err != nil {
		return out, fmt.Errorf("content: touches: %w", err)
	}
	for _, t := range touches {
		f, m := of(t.ContentID), mo(t.Day)
		if t.Type == ViewType {
			f.Views += t.Touches
			m.Views += t.Touches
		} else {
			f.Downloads += t.Touches
			m.Downloads += t.Touches
		}
		f.active = f.active || t.Touches > 0
	}

	ql := q0
	ql.By = []store.RollupDim{store.DimMonth, store.DimContent}
	leads, err := r.Store.SumLeads(ctx, ql)
	if err != nil {
		return out, fmt.Errorf("content: leads: %w", err)
	}
	for _, l := range leads {
		f, m := of(l.ContentID), mo(l.Day)
		f.Leads += l.Leads
		f.MQLs += l.MQLs
		m.Leads += l.Leads
		m.MQLs += l.MQLs
		f.active = f.active || l.Leads > 0
	}

	qc := q0
	qc.By, qc.Kinds = []store.RollupDim{store.DimMonth, store.DimContent}, []model.ConversionKind{model.ConvOpportunity}
	credited, err := r.Store.SumCredits(ctx, qc, col)
	if err != nil {
		return out, fmt.Errorf("content: credits: %w", err)
	}
	for _, c := range credited {
		f := of(c.ContentID)
		f.pipe += c.Fen
		mo(c.Day).pipe += c.Fen
		f.active = f.active || c.Conversions != 0
	}

	qi := q0
	qi.Kinds = []model.ConversionKind{model.ConvOpportunity}
	infl, err := r.Store.SumInfluence(ctx, qi, store.DimContent)
	if err != nil {
		return out, fmt.Errorf("content: influence: %w", err)
	}
	for _, i := range infl {
		f := of(i.ContentID)
		v, n := i.Value, i.Conversions
		f.InfluencedPipeline, f.InfluencedOpportunities = &v, &n
		f.active = f.active || n > 0
	}

	var end time.Time
	if !q.Period.To.IsZero() {
		end = q.Period.Window().To
	}
	kinds := map[string]*ContentKind{}
	for _, a := range assets {
		f := of(a.ID)
		if !f.active && !end.IsZero() && !a.CreatedAt.Before(end) {
			continue
		}
		row := AssetRow{ID: a.ID, Kind: a.Kind, Title: a.Title, TitleEN: a.TitleEN, URL: a.URL, CampaignID: a.CampaignID, ContentFigures: f.ContentFigures}
		if a.CampaignID != 0 {
			row.Href = fmt.Sprintf("/campaigns/%d", a.CampaignID)
		}
		row.CreditedPipeline = roundedFen(f.pipe)
		if row.Views > 0 {
			row.viewedDownloads = row.Downloads
		}
		if row.InfluencedPipeline == nil {
			var v model.Money
			var n int64
			row.InfluencedPipeline, row.InfluencedOpportunities = &v, &n
		}
		finishContent(&row.ContentFigures)
		out.Assets = append(out.Assets, row)
		addContent(&out.Total, row.ContentFigures)
		k := kinds[a.Kind]
		if k == nil {
			k = &ContentKind{Kind: a.Kind}
			kinds[a.Kind] = k
		}
		k.Assets++
		addContent(&k.ContentFigures, row.ContentFigures)
	}
	finishContent(&out.Total)
	for _, k := range kinds {
		finishContent(&k.ContentFigures)
		out.Kinds = append(out.Kinds, *k)
	}
	slices.SortFunc(out.Kinds, func(a, b ContentKind) int {
		return cmp.Or(cmp.Compare(b.Leads, a.Leads), cmp.Compare(b.Downloads, a.Downloads), cmp.Compare(a.Kind, b.Kind))
	})
	slices.SortStableFunc(out.Assets, func(a, b AssetRow) int {
		return cmp.Or(cmp.Compare(b.Leads, a.Leads), cmp.Compare(b.Downloads, a.Downloads), cmp.Compare(a.ID, b.ID))
	})

	var days []time.Time
	for d := range months {
		days = append(days, d)
	}
	slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
	for i, d := range days {
		if i > 0 {
			for gap := days[i-1].AddDate(0, 1, 0); gap.Before(d); gap = gap.AddDate(0, 1, 0) {
				out.Months = append(out.Months, ContentMonth{Month: gap.Format("2006-01")})
			}
		}
		m := months[d]
		m.CreditedPipeline = roundedFen(m.pipe)
		out.Months = append(out.Months, m.ContentMonth)
	}
	return out, nil
}

// addContent adds an asset's figures into a kind's or the total; influence
// is left out (it does not add up across assets).
func addContent(t *ContentFigures, a ContentFigures) {
	t.Views += a.Views
	t.Downloads += a.Downloads
	t.viewedDownloads += a.viewedDownloads
	t.Leads += a.Leads
	t.MQLs += a.MQLs
	t.CreditedPipeline = store.AddTotal(t.CreditedPipeline, a.CreditedPipeline)
}

// finishContent computes the rates of content figures.
func finishContent(f *ContentFigures) {
	f.DownloadRate = ratio(f.viewedDownloads, f.Views)
	f.EffectiveRate = ratio(f.MQLs, f.Leads)
}
