package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
)

// The content review (/reviews/content) and its JSON twin: per asset and
// per kind of asset the content dashboard's figures with who downloaded
// and how far they got afterwards; for one asset (?asset=ID) or for all,
// the downloaders by industry, company size, seniority and title. The
// figures come from report.ContentReview.

func (s *Server) contentReviewRoutes(m *http.ServeMux) error {
	m.Handle("GET /reviews/content", s.page("content_review", s.contentReviewPage))
	m.Handle("GET /api/v1/reviews/content", s.pageAPI("content_review", s.apiContentReview))
	return nil
}

// contentReviewRequest reads the review's range, model and asset (an id);
// each bad value is a *filterError naming its parameter.
func (s *Server) contentReviewRequest(r *http.Request) (viewFilter, report.ContentReviewQuery, error) {
	f, dq, err := s.dashRequest(r)
	q := report.ContentReviewQuery{Period: dq.Period, Model: string(dq.Model)}
	if err != nil {
		return f, q, err
	}
	if raw := strings.TrimSpace(r.URL.Query().Get("asset")); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return f, q, &filterError{Param: "asset", Key: "content_review.error.bad_asset",
				Msg: fmt.Sprintf("asset: %q is not a content asset id (a positive whole number)", clip(raw, 40))}
		}
		q.AssetID = id
	}
	return f, q, nil
}

func (s *Server) apiContentReview(w http.ResponseWriter, r *http.Request) {
	format, err := apiFormat(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	f, q, err := s.contentReviewRequest(r)
	if s.apiFailed(w, r, err, "") {
		return
	}
	c, err := s.reports.ContentReview(r.Context(), q)
	if s.apiFailed(w, r, err, fmt.Sprintf("content asset %d does not exist", q.AssetID)) {
		return
	}
	if format != formatJSON {
		// The page's tables, in the caller's language.
		t := contentReviewTables(s.catalog.locale(langOnly(r)), r, c, f.Period.Cal.Loc)
		s.apiTables(w, r, format, "content-review", f, t.all()...)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// contentReviewView is the review's page.
type contentReviewView struct {
	Filter    viewFilter
	Models    []string
	Error     string
	Data      *report.ContentReview
	Asset     string // the asset filter as the URL has it
	AssetName string // the chosen asset's title in the page's language
	AllHref   string // the same view over every asset
	KPIs      []kpi
	Assets    *dataTable
	Kinds     *dataTable
	Path      *dataTable
	Who       []*dataTable // industries, sizes, seniority, titles
}

func (contentReviewView) NavKey() string { return "content_review" }

func (s *Server) contentReviewPage(w http.ResponseWriter, r *http.Request) {
	loc := s.catalog.locale(langOnly(r))
	f, q, err := s.contentReviewRequest(r)
	v := contentReviewView{Filter: f, Models: creditModels(), Asset: strings.TrimSpace(r.URL.Query().Get("asset"))}
	v.AllHref = r.URL.Path + "?" + cloneQuery(r.URL.Query(), "asset", "export", "lang").Encode()
	var c report.ContentReview
	if err == nil {
		c, err = s.reports.ContentReview(r.Context(), q)
	}
	if s.pageFailed(w, r, err, "content_review.error.no_asset", "content review", func(text string) {
		v.Error = text
		s.render(w, r, http.StatusBadRequest, "content_review", "content_review.title", v)
	}) {
		return
	}
	v.Data = &c
	figures, downloads := c.Total.ContentFigures, c.Total.DownloaderFigures
	if c.Asset != nil {
		figures, downloads = c.Asset.ContentFigures, c.Asset.DownloaderFigures
		v.AssetName, _ = inLanguage(loc, c.Asset.Title, c.Asset.TitleEN)
	}
	v.KPIs = contentReviewKPIs(loc, figures, downloads, c.Asset != nil)
	t := contentReviewTables(loc, r, c, f.Period.Cal.Loc)
	v.Assets, v.Kinds, v.Path, v.Who = t.assets, t.kinds, t.path, t.who
	if s.exportTable(w, r, "content-review", f, t.all()...) {
		return
	}
	s.render(w, r, http.StatusOK, "content_review", "content_review.title", v)
}

// contentReviewTableSet are the content review's tables.
type contentReviewTableSet struct {
	assets, kinds, path *dataTable
	who                 []*dataTable // industries, sizes, seniority, titles
}

func (t contentReviewTableSet) all() []*dataTable {
	return append([]*dataTable{t.assets, t.kinds, t.path}, t.who...)
}

// contentReviewTables builds the content review's tables, sorted as the
// request asks: one function for the page and its twin's files.
func contentReviewTables(loc Locale, r *http.Request, c report.ContentReview, tz *time.Location) contentReviewTableSet {
	downloads := c.Total.DownloaderFigures
	if c.Asset != nil {
		downloads = c.Asset.DownloaderFigures
	}
	t := contentReviewTableSet{assets: reviewAssetsTable(loc, r, c), kinds: reviewKindsTable(loc, c), path: reviewPathTable(loc, downloads)}
	t.who = []*dataTable{
		whoTable(loc, "industries", c.Who.Industries, func(k string) string { return k }),
		whoTable(loc, "sizes", c.Who.Sizes, func(k string) string { return k }),
		whoTable(loc, "seniority", c.Who.Seniority, func(k string) string { return loc.T("content_review.seniority." + k) }),
		whoTable(loc, "titles", c.Who.Titles, func(k string) string {
			if k == report.OtherTitles {
				return loc.T("content_review.other_titles")
			}
			return k
		}),
	}
	t.assets.Title, t.kinds.Title, t.path.Title = loc.T("content_review.assets_title"), loc.T("content_review.kinds_title"), loc.T("content_review.path_title")
	for _, x := range t.who {
		x.Title = x.Columns[0].Label
	}
	for _, x := range t.all() {
		x.Loc = tz
	}
	t.assets.prepare(r, "downloaders", true)
	t.kinds.prepare(r, "downloaders", true)
	t.path.prepare(r, "", false)
	for _, x := range t.who {
		x.prepare(r, "", false) // as the review orders them: most first, unknown last
	}
	return t
}

func contentReviewKPIs(l Locale, f report.ContentFigures, d report.DownloaderFigures, asset bool) []kpi {
	count := func(id string, n int64) kpi {
		return kpi{ID: id, Label: l.T("content_review." + id), Tip: l.T("content_review.tip." + id), Value: formatInt(n), Raw: strconv.FormatInt(n, 10)}
	}
	out := []kpi{
		count("views", f.Views),
		count("downloads", f.Downloads),
		{ID: "download_rate", Label: l.T("content_review.download_rate"), Tip: l.T("content_review.tip.download_rate"),
			Value: formatPercent(f.DownloadRate), Raw: rawRateText(f.DownloadRate)},
		count("downloaders", d.Downloaders),
		count("path_mqls", d.Path.MQLs),
		count("path_opportunities", d.Path.Opportunities),
	}
	if asset && f.InfluencedPipeline != nil {
		out = append(out, kpi{ID: "influenced_pipeline", Label: l.T("content_review.influenced_pipeline"), Tip: l.T("content_review.tip.influenced_pipeline"),
			Value: formatMoney(*f.InfluencedPipeline), Raw: rawMoneyText(*f.InfluencedPipeline), Accent: true})
	} else {
		out = append(out, kpi{ID: "credited_pipeline", Label: l.T("content_review.credited_pipeline"), Tip: l.T("content_review.tip.credited_pipeline"),
			Value: formatMoney(f.CreditedPipeline), Raw: rawMoneyText(f.CreditedPipeline), Accent: true})
	}
	return out
}

// reviewColumns are the figures' columns of an asset, a kind or the total.
func reviewColumns(l Locale, influence bool) []column {
	col := func(key string, kind cellKind) column {
		return column{Key: key, Label: l.T("content_review." + key), Tip: l.T("content_review.tip." + key), Kind: kind}
	}
	out := []column{col("views", kindInt), col("downloads", kindInt), col("download_rate", kindPercent), col("downloaders", kindInt),
		col("path_leads", kindInt), col("path_mqls", kindInt), col("path_sqls", kindInt), col("path_opportunities", kindInt), col("path_customers", kindInt),
		col("credited_pipeline", kindMoney)}
	if influence {
		out = append(out, col("influenced_pipeline", kindMoney), col("influenced_opportunities", kindInt))
	}
	return out
}

func reviewCells(f report.ContentFigures, d report.DownloaderFigures, influence bool) []cell {
	out := []cell{{V: f.Views}, {V: f.Downloads}, {V: f.DownloadRate}, {V: d.Downloaders},
		{V: d.Path.Leads}, {V: d.Path.MQLs}, {V: d.Path.SQLs}, {V: d.Path.Opportunities}, {V: d.Path.Customers},
		{V: f.CreditedPipeline}}
	if influence {
		var n any
		if f.InfluencedOpportunities != nil {
			n = *f.InfluencedOpportunities
		}
		out = append(out, cell{V: f.InfluencedPipeline}, cell{V: n})
	}
	return out
}

func reviewAssetsTable(l Locale, r *http.Request, c report.ContentReview) *dataTable {
	t := &dataTable{ID: "assets", Empty: l.T("content_review.empty"), Columns: append([]column{
		{Key: "title", Label: l.T("content_review.asset"), Kind: kindText},
		{Key: "kind", Label: l.T("content_review.kind"), Kind: kindText},
	}, reviewColumns(l, true)...)}
	for _, a := range c.Assets {
		title, _ := inLanguage(l, a.Title, a.TitleEN)
		q := cloneQuery(r.URL.Query(), "export", "lang")
		q.Set("asset", strconv.FormatInt(a.ID, 10))
		href := (&url.URL{Path: r.URL.Path, RawQuery: q.Encode(), Fragment: "who"}).String()
		t.Rows = append(t.Rows, append([]cell{{V: title, Href: href}, {V: a.Kind, Text: assetKind(l, a.Kind)}}, reviewCells(a.ContentFigures, a.DownloaderFigures, true)...))
	}
	if len(c.Assets) > 0 {
		t.Total = append([]cell{{V: l.T("content_review.total")}, {}}, reviewCells(c.Total.ContentFigures, c.Total.DownloaderFigures, true)...)
	}
	return t
}

func reviewKindsTable(l Locale, c report.ContentReview) *dataTable {
	t := &dataTable{ID: "kinds", Empty: l.T("content_review.empty"), Columns: append([]column{
		{Key: "kind", Label: l.T("content_review.kind"), Kind: kindText},
		{Key: "assets", Label: l.T("content_review.assets"), Kind: kindInt},
	}, reviewColumns(l, false)...)}
	for _, k := range c.Kinds {
		t.Rows = append(t.Rows, append([]cell{{V: k.Kind, Text: assetKind(l, k.Kind)}, {V: int64(k.Assets)}}, reviewCells(k.ContentFigures, k.DownloaderFigures, false)...))
	}
	if len(c.Kinds) > 0 {
		t.Total = append([]cell{{V: l.T("content_review.total")}, {V: int64(len(c.Assets))}}, reviewCells(c.Total.ContentFigures, c.Total.DownloaderFigures, false)...)
	}
	return t
}

// reviewPathTable is how far the downloaders got: each stage, how many
// reached it afterwards and their share of the downloaders.
func reviewPathTable(l Locale, d report.DownloaderFigures) *dataTable {
	t := &dataTable{ID: "path", Columns: []column{
		{Key: "stage", Label: l.T("content_review.stage"), Kind: kindText},
		{Key: "downloaders", Label: l.T("content_review.reached"), Tip: l.T("content_review.tip.reached"), Kind: kindInt},
		{Key: "share", Label: l.T("content_review.share"), Tip: l.T("content_review.tip.path_share"), Kind: kindPercent},
	}}
	for _, st := range []struct {
		stage model.Stage
		n     int64
	}{{model.StageLead, d.Path.Leads}, {model.StageMQL, d.Path.MQLs}, {model.StageSQL, d.Path.SQLs}, {model.StageOpportunity, d.Path.Opportunities},
		{model.StageCustomer, d.Path.Customers}} {
		t.Rows = append(t.Rows, []cell{{V: string(st.stage), Text: l.T("stage." + string(st.stage))}, {V: st.n}, {V: d.ShareOf(st.n)}})
	}
	return t
}

// whoTable is one breakdown of the downloaders.
func whoTable(l Locale, id string, rows []report.Share, name func(string) string) *dataTable {
	t := &dataTable{ID: id, Empty: l.T("content_review.no_downloaders"), Columns: []column{
		{Key: "key", Label: l.T("content_review.who." + id), Kind: kindText},
		{Key: "downloaders", Label: l.T("content_review.downloaders"), Tip: l.T("content_review.tip.downloaders"), Kind: kindInt},
		{Key: "share", Label: l.T("content_review.share"), Tip: l.T("content_review.tip.share"), Kind: kindPercent},
	}}
	for _, s := range rows {
		text := l.T("content_review.unknown")
		if s.Key != "" {
			text = name(s.Key)
		}
		t.Rows = append(t.Rows, []cell{{V: s.Key, Text: text}, {V: s.Downloaders}, {V: s.Share}})
	}
	return t
}
