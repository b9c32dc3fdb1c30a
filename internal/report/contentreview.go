package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict"
	"github.com/revloop/revloop/internal/store"
)

// The content review: per content asset and per kind of asset (assets
// have no topic; the kind — whitepaper, case study, report... — is what
// groups them) the content dashboard's figures (views, downloads, the
// download rate, leads, MQLs, credited and influenced pipeline), and who
// downloaded: how many persons, their industries, titles and company
// sizes, and the stages they reached after downloading. The words are
// defined in docs/metrics.md ("Content review").

// ContentReviewQuery selects the review.
type ContentReviewQuery struct {
	Period  model.Period
	Model   string // a stored attribution model (credits.Models)
	AssetID int64  // the asset whose downloaders "who" describes; 0: all
}

// ContentPath is how far downloaders got after downloading: of them,
// those who entered each stage or a later one at or after their first
// download in the range.
type ContentPath struct {
	Leads         int64 `json:"leads"`
	MQLs          int64 `json:"mqls"`
	SQLs          int64 `json:"sqls"`
	Opportunities int64 `json:"opportunities"`
	Customers     int64 `json:"customers"`
}

// add counts a downloader who reached a stage afterwards.
func (p *ContentPath) add(reached model.Stage) {
	r := reached.Rank()
	for _, c := range []struct {
		n     *int64
		stage model.Stage
	}{{&p.Leads, model.StageLead}, {&p.MQLs, model.StageMQL}, {&p.SQLs, model.StageSQL}, {&p.Opportunities, model.StageOpportunity}, {&p.Customers, model.StageCustomer}} {
		if r >= c.stage.Rank() {
			*c.n++
		}
	}
}

// DownloaderFigures are the review's own figures of an asset, a kind or all:
// the persons who downloaded in the range and their path.
type DownloaderFigures struct {
	Downloaders int64       `json:"downloaders"`
	Path        ContentPath `json:"path"`
}

// ShareOf is n ÷ the downloaders (four decimals), nil without any: the
// share of them that reached a stage.
func (d DownloaderFigures) ShareOf(n int64) *float64 { return ratio(n, d.Downloaders) }

// ReviewAsset is one asset in the review.
type ReviewAsset struct {
	AssetRow
	DownloaderFigures
}

// ReviewKind is one kind of asset in the review; downloaders are counted
// once per kind.
type ReviewKind struct {
	ContentKind
	DownloaderFigures
}

// Share is one group of downloaders: a value of a trait and how many
// downloaders have it, and their share of all.
type Share struct {
	Key         string   `json:"key"` // the stored value; "" when unknown; "(other)" for the titles beyond the first
	Downloaders int64    `json:"downloaders"`
	Share       *float64 `json:"share"`
}

// ContentWho describes the downloaders of the chosen asset, or of every
// asset (each person once).
type ContentWho struct {
	AssetID     int64   `json:"asset_id"` // 0: every asset
	Downloaders int64   `json:"downloaders"`
	Industries  []Share `json:"industries"`
	Sizes       []Share `json:"sizes"`
	Seniority   []Share `json:"seniority"`
	Titles      []Share `json:"titles"`
}

// SeniorityLevels are the levels of the seniority breakdown, most senior
// first: predictive scoring's reading of a job title.
var SeniorityLevels = []string{predict.SeniorityExecutive, predict.SeniorityDirector, predict.SeniorityManager, predict.SeniorityIndividual}

// MaxTitles is how many titles the review names; the rest are "(other)".
const MaxTitles = 15

// OtherTitles is the key of the titles beyond MaxTitles.
const OtherTitles = "(other)"

// ContentReview is the review.
type ContentReview struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	Model    string        `json:"model"`
	Currency string        `json:"currency"`
	Asset    *ReviewAsset  `json:"asset"` // the chosen asset
	Assets   []ReviewAsset `json:"assets"`
	Kinds    []ReviewKind  `json:"kinds"`
	Total    struct {
		ContentFigures
		DownloaderFigures
	} `json:"total"`
	Who ContentWho `json:"who"`
	// Truncated says the range had more (asset, downloader) pairs than
	// store.MaxDownloaders: downloaders and their path count the first.
	Truncated bool `json:"truncated,omitempty"`
}

// ContentReview computes the review: the content dashboard of the range
// with each asset's downloaders and their path. An unknown AssetID is
// store.ErrNotFound.
func (r Reporter) ContentReview(ctx context.Context, q ContentReviewQuery) (ContentReview, error) {
	out := ContentReview{Assets: []ReviewAsset{}, Kinds: []ReviewKind{}}
	var chosen model.ContentAsset
	if q.AssetID > 0 {
		var err error
		if chosen, err = r.Store.ContentAssetByID(ctx, q.AssetID); err != nil {
			return out, fmt.Errorf("content review: asset %d: %w", q.AssetID, err)
		}
	}
	c, err := r.Content(ctx, ContentQuery{Period: q.Period, Model: q.Model})
	if err != nil {
		return out, err
	}
	out.From, out.To, out.Model, out.Currency = c.From, c.To, c.Model, c.Currency
	kindOf := map[int64]string{}
	for _, a := range c.Assets {
		kindOf[a.ID] = a.Kind
	}
	f, err := kept(ctx, r, factsContent, contentKey{Window: q.Period.Window(), AssetID: q.AssetID, Kinds: kindOf}, r.contentFacts)
	if err != nil {
		return out, err
	}
	out.Truncated = f.Truncated
	perAsset := f.PerAsset
	for _, a := range c.Assets {
		ra := ReviewAsset{AssetRow: a}
		if d, ok := perAsset[a.ID]; ok {
			ra.DownloaderFigures = d
		}
		out.Assets = append(out.Assets, ra)
		if a.ID == q.AssetID {
			row := ra
			out.Asset = &row
		}
	}
	for _, k := range c.Kinds {
		out.Kinds = append(out.Kinds, ReviewKind{ContentKind: k, DownloaderFigures: f.PerKind[k.Kind]})
	}
	out.Total.ContentFigures = c.Total
	out.Total.DownloaderFigures = f.All
	if q.AssetID > 0 && out.Asset == nil {
		// Created after the range and without a figure in it: an empty row.
		a := chosen
		row := ReviewAsset{AssetRow: AssetRow{ID: a.ID, Kind: a.Kind, Title: a.Title, TitleEN: a.TitleEN, URL: a.URL, CampaignID: a.CampaignID}}
		if a.CampaignID != 0 {
			row.Href = fmt.Sprintf("/campaigns/%d", a.CampaignID)
		}
		var v model.Money
		var n int64
		row.InfluencedPipeline, row.InfluencedOpportunities = &v, &n
		finishContent(&row.ContentFigures)
		out.Asset = &row
	}

	out.Who = f.Who
	return out, nil
}

// The kept facts of the content review (facts.go).
const factsContent = "content_review"

func init() {
	registerFacts(factsContent, func(r Reporter) func(context.Context, contentKey) (contentFacts, error) { return r.contentFacts })
}

// contentKey is what the review's downloader facts depend on besides the
// facts themselves: the window, the chosen asset and each asset's kind.
type contentKey struct {
	Window  model.Window     `json:"window"`
	AssetID int64            `json:"asset_id"`
	Kinds   map[int64]string `json:"kinds"`
}

// contentFacts are the review's sums of the downloaders: per asset, per
// kind, in all, and who the chosen asset's (or everyone's) are.
type contentFacts struct {
	PerAsset  map[int64]DownloaderFigures  `json:"per_asset"`
	PerKind   map[string]DownloaderFigures `json:"per_kind"`
	All       DownloaderFigures            `json:"all"`
	Who       ContentWho                   `json:"who"`
	Truncated bool                         `json:"truncated"`
}

// contentFacts reads the downloaders of the window and sums them.
func (r Reporter) contentFacts(ctx context.Context, k contentKey) (contentFacts, error) {
	out := contentFacts{PerAsset: map[int64]DownloaderFigures{}, PerKind: map[string]DownloaderFigures{}}
	ds, truncated, err := r.Store.ContentDownloaders(ctx, k.Window, DownloadTypes)
	if err != nil {
		return out, fmt.Errorf("content review: downloaders: %w", err)
	}
	out.Truncated = truncated
	// Each person once per asset, per kind and in all: the earliest first
	// download, whose path is the longest (stages entered after an earlier
	// moment include those entered after a later one).
	type seen struct {
		first   time.Time
		reached model.Stage
		d       *store.Downloader
	}
	perKind := map[string]map[int64]seen{}
	all := map[int64]seen{}
	keep := func(m map[int64]seen, d *store.Downloader) {
		if s, ok := m[d.PersonID]; !ok || d.First.Before(s.first) {
			m[d.PersonID] = seen{first: d.First, reached: d.ReachedAfter, d: d}
		}
	}
	for i := range ds {
		d := &ds[i]
		a := out.PerAsset[d.ContentID]
		a.Downloaders++
		a.Path.add(d.ReachedAfter)
		out.PerAsset[d.ContentID] = a
		kind := k.Kinds[d.ContentID]
		if perKind[kind] == nil {
			perKind[kind] = map[int64]seen{}
		}
		keep(perKind[kind], d)
		keep(all, d)
	}
	downloadsOf := func(m map[int64]seen) DownloaderFigures {
		var out DownloaderFigures
		for _, s := range m {
			out.Downloaders++
			out.Path.add(s.reached)
		}
		return out
	}
	for kind, m := range perKind {
		out.PerKind[kind] = downloadsOf(m)
	}
	out.All = downloadsOf(all)

	// Who: the chosen asset's downloaders, or everyone's once.
	people := all
	if k.AssetID > 0 {
		people = map[int64]seen{}
		for i := range ds {
			if ds[i].ContentID == k.AssetID {
				keep(people, &ds[i])
			}
		}
	}
	out.Who = ContentWho{AssetID: k.AssetID, Downloaders: int64(len(people))}
	industries, sizes, seniority, titles := map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, s := range people {
		industries[s.d.Industry]++
		sizes[s.d.SizeBand]++
		title := strings.TrimSpace(s.d.Title)
		titles[title]++
		level := predict.Seniority(title)
		if !slices.Contains(SeniorityLevels, level) {
			level = "" // no title, or one that says nothing of it
		}
		seniority[level]++
	}
	n := out.Who.Downloaders
	out.Who.Industries, out.Who.Sizes, out.Who.Seniority = shares(industries, n, 0), shares(sizes, n, 0), shares(seniority, n, 0)
	out.Who.Titles = shares(titles, n, MaxTitles)
	return out, nil
}

// shares lists the groups, most downloaders first (then by key), the
// unknown ("") last, each with its share of n; with limit above 0 the
// known groups beyond the first limit are one group, OtherTitles, before
// the unknown.
func shares(m map[string]int64, n int64, limit int) []Share {
	out := make([]Share, 0, len(m))
	for k, v := range m {
		if k != "" {
			out = append(out, Share{Key: k, Downloaders: v})
		}
	}
	slices.SortFunc(out, func(a, b Share) int {
		return cmp.Or(cmp.Compare(b.Downloaders, a.Downloaders), cmp.Compare(a.Key, b.Key))
	})
	if limit > 0 && len(out) > limit {
		other := Share{Key: OtherTitles}
		for _, s := range out[limit:] {
			other.Downloaders += s.Downloaders
		}
		out = append(out[:limit], other)
	}
	if v, ok := m[""]; ok {
		out = append(out, Share{Key: "", Downloaders: v})
	}
	for i := range out {
		out[i].Share = ratio(out[i].Downloaders, n)
	}
	return out
}
