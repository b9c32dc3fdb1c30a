package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The content review over a small demo: the API answers what the report
// computes, for all assets and one; the page shows the same figures, its
// tables export them (a hostile title escaped in both), and wrong input
// is a 400 or 404 that names it.
func TestContentReviewPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEventsEnv(t, s)
		cal, _ := s.Calendar(ctx)
		p := model.Period{From: dashEnd.AddDate(-1, 0, 1), To: dashEnd, Cal: cal}
		r := report.Reporter{Store: s}
		all, err := r.ContentReview(ctx, report.ContentReviewQuery{Period: p, Model: "linear"})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total.Downloaders == 0 || len(all.Who.Industries) < 2 || all.Total.Path.Leads == 0 {
			t.Fatalf("the demo's content has no downloaders: %+v", all.Total)
		}
		// The asset most downloaded by distinct persons.
		top := all.Assets[0]
		for _, a := range all.Assets {
			if a.Downloaders > top.Downloaders {
				top = a
			}
		}
		for _, c := range []struct {
			query string
			asset int64
			model string
		}{{"", 0, "linear"}, {"&asset=" + strconv.FormatInt(top.ID, 10) + "&model=position", top.ID, "position"}} {
			var api json.RawMessage
			decodeJSON(t, e.api(t, "/api/v1/reviews/content?"+dashRange+c.query), http.StatusOK, &api)
			want, err := r.ContentReview(ctx, report.ContentReviewQuery{Period: p, Model: c.model, AssetID: c.asset})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(want)
			if !sameJSON(t, api, b) {
				t.Errorf("%s: the API differs from the report:\n%s\n%s", c.query, api, b)
			}
		}

		// The twin's files: CSV holds the assets table, a row per asset
		// and the total; the workbook every table, the assets' sheet the
		// same cells as the CSV.
		csvRes := e.api(t, "/api/v1/reviews/content?"+dashRange+"&format=csv")
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(bodyOf(t, csvRes), "\uFEFF"))).ReadAll()
		if csvRes.StatusCode != http.StatusOK || err != nil || len(recs) < len(all.Assets)+1 {
			t.Fatalf("csv: %d, %d records for %d assets, %v", csvRes.StatusCode, len(recs), len(all.Assets), err)
		}
		xlsxRes := e.api(t, "/api/v1/reviews/content?"+dashRange+"&format=xlsx")
		if xlsxRes.StatusCode != http.StatusOK {
			t.Fatalf("xlsx: %d", xlsxRes.StatusCode)
		}
		d := openXLSX(t, []byte(bodyOf(t, xlsxRes)))
		if sheets := d.sheets(); len(sheets) != 7 {
			t.Errorf("sheets %q, want the 7 tables", sheets)
		}
		sameAsCSV(t, "content review", recs, d, d.sheets()[0])

		// The page of one asset: its figures, its downloaders.
		cm := e.login(t)
		target := "/reviews/content?" + dashRange + "&asset=" + strconv.FormatInt(top.ID, 10)
		res := e.do(t, req{target: target, cookies: []*http.Cookie{cm}})
		page := bodyOf(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page: %d %s", res.StatusCode, page)
		}
		kpis := kpiValues(page)
		for id, v := range map[string]string{"views": strconv.FormatInt(top.Views, 10), "downloads": strconv.FormatInt(top.Downloads, 10),
			"downloaders": strconv.FormatInt(top.Downloaders, 10), "path_mqls": strconv.FormatInt(top.Path.MQLs, 10),
			"path_opportunities": strconv.FormatInt(top.Path.Opportunities, 10), "influenced_pipeline": top.InfluencedPipeline.String()} {
			if kpis[id] != v {
				t.Errorf("KPI %s = %q, want %q", id, kpis[id], v)
			}
		}
		for _, frag := range []string{`id="asset-scope"`, `id="all-assets"`, `id="table-industries"`, `id="table-sizes"`, `id="table-seniority"`,
			`id="table-titles"`, `id="table-path"`, `id="table-assets"`, `id="table-kinds"`} {
			if !strings.Contains(page, frag) {
				t.Errorf("page lacks %s", frag)
			}
		}
		// The hostile title is text on the page and in the export.
		all0 := bodyOf(t, e.do(t, req{target: "/reviews/content?" + dashRange, cookies: []*http.Cookie{cm}}))
		if strings.Contains(all0, "<script>alert(1)") || !strings.Contains(all0, "&lt;script&gt;alert(1)") {
			t.Error("a hostile title is not escaped")
		}
		assets := exported(t, e, "/reviews/content?"+dashRange+"&export=assets&assets_sort=downloaders", cm)
		if len(assets) != len(all.Assets)+2 {
			t.Fatalf("assets export: %d rows, want %d assets, heading and total", len(assets), len(all.Assets))
		}
		if !slices.ContainsFunc(assets, func(r []string) bool { return strings.HasPrefix(r[0], `'=HYPERLINK`) }) {
			t.Error("a hostile title is exported as a formula")
		}
		di := columnOf(t, assets[0], "Downloaders")
		if got := assets[1][di]; got != strconv.FormatInt(top.Downloaders, 10) {
			t.Errorf("sorted by downloaders, the first row has %s, want %d", got, top.Downloaders)
		}
		if got := assets[len(assets)-1][di]; got != strconv.FormatInt(all.Total.Downloaders, 10) {
			t.Errorf("total downloaders %s, want %d", got, all.Total.Downloaders)
		}
		industries := exported(t, e, target+"&export=industries", cm)
		var sum int64
		for _, row := range industries[1:] {
			n, _ := strconv.ParseInt(row[1], 10, 64)
			sum += n
		}
		if sum != top.Downloaders {
			t.Errorf("the industries of asset %d add up to %d, want %d", top.ID, sum, top.Downloaders)
		}
		path := exported(t, e, target+"&export=path", cm)
		if len(path) != 6 || path[2][1] != strconv.FormatInt(top.Path.MQLs, 10) {
			t.Errorf("path export %v, MQLs %d", path, top.Path.MQLs)
		}

		for _, c := range []struct {
			query string
			code  int
			msg   string
		}{
			{"asset=abc", 400, "asset"},
			{"asset=0", 400, "asset"},
			{"asset=1.5", 400, "asset"},
			{"asset=999999", 404, "content asset 999999 does not exist"},
			{"model=nope", 400, "model"},
			{"to=2026-02-30", 400, "to"},
		} {
			res := e.api(t, "/api/v1/reviews/content?"+c.query)
			body := bodyOf(t, res)
			if res.StatusCode != c.code || !strings.Contains(body, c.msg) {
				t.Errorf("%s: %d %s, want %d naming %q", c.query, res.StatusCode, body, c.code, c.msg)
			}
			if res := e.do(t, req{target: "/reviews/content?" + c.query, cookies: []*http.Cookie{cm}}); res.StatusCode != c.code {
				t.Errorf("page %s: %d, want %d", c.query, res.StatusCode, c.code)
			}
		}
		cs := e.loginAs(t, model.RoleSales)
		if res := e.do(t, req{target: "/reviews/content", cookies: []*http.Cookie{cs}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("sales opened the content review: %d", res.StatusCode)
		}
	})
}
