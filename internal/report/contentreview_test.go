package report_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// pathOf is a path as [leads, MQLs, SQLs, opportunities, customers].
func pathOf(p report.ContentPath) [5]int64 {
	return [5]int64{p.Leads, p.MQLs, p.SQLs, p.Opportunities, p.Customers}
}

// sharesText shows a breakdown as "key:n:share ...".
func sharesText(s []report.Share) string {
	out := ""
	for _, x := range s {
		out += fmt.Sprintf("%s:%d:%s ", x.Key, x.Downloaders, show(x.Share))
	}
	return out
}

// Every figure of the content review, counted by hand on reviewWorld (see
// its comment): per asset, per kind, in all, who downloaded, their path.
func TestContentReviewByHand(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		reviewWorld(t, s)
		p := marchOf(t, s)
		r := report.Reporter{Store: s}
		got, err := r.ContentReview(ctx, report.ContentReviewQuery{Period: p, Model: "linear"})
		if err != nil {
			t.Fatal(err)
		}
		if got.From != "2026-03-01" || got.To != "2026-03-31" || got.Model != "linear" || got.Asset != nil || got.Truncated {
			t.Errorf("header %s %s %s asset %v truncated %v", got.From, got.To, got.Model, got.Asset, got.Truncated)
		}
		rate := func(v float64) *float64 { return &v }
		type want struct {
			id                              int64
			views, downloads                int64
			rate                            *float64
			downloaders                     int64
			path                            [5]int64
			leads, mqls, credited, infl, io int64
		}
		// The report (asset 3) was created after the range and has nothing.
		wants := []want{
			// P1 (first 3/4, then MQL 3/10), P2 (3/5, lead 3/6), P5 (3/17,
			// then to customer); O1 and O2 (T25) influenced; credited a
			// half of O1 (T15, T16) and half of O2 (T25).
			{1, 2, 4, rate(2), 3, [5]int64{3, 2, 1, 1, 1}, 2, 1, 6_500_000, 13_000_000, 2},
			// P3, P4 and P2 went nowhere after; P8 to SQL. No views: no rate.
			{2, 0, 4, nil, 4, [5]int64{1, 1, 1, 0, 0}, 1, 1, 0, 0, 0},
		}
		if len(got.Assets) != len(wants) {
			t.Fatalf("%d assets, want %d", len(got.Assets), len(wants))
		}
		byID := map[int64]report.ReviewAsset{}
		for _, a := range got.Assets {
			byID[a.ID] = a
		}
		for _, w := range wants {
			a, ok := byID[w.id]
			if !ok {
				t.Errorf("asset %d missing", w.id)
				continue
			}
			if a.Views != w.views || a.Downloads != w.downloads || !same(a.DownloadRate, w.rate) || a.Downloaders != w.downloaders ||
				pathOf(a.Path) != w.path || a.Leads != w.leads || a.MQLs != w.mqls || int64(a.CreditedPipeline) != w.credited ||
				a.InfluencedPipeline == nil || int64(*a.InfluencedPipeline) != w.infl || *a.InfluencedOpportunities != w.io {
				t.Errorf("asset %d: views %d downloads %d rate %s downloaders %d path %v leads %d mqls %d credited %d influenced %v (%v), want %+v",
					a.ID, a.Views, a.Downloads, show(a.DownloadRate), a.Downloaders, pathOf(a.Path), a.Leads, a.MQLs, a.CreditedPipeline,
					a.InfluencedPipeline, a.InfluencedOpportunities, w)
			}
		}
		kinds := map[string][2]any{}
		for _, k := range got.Kinds {
			kinds[k.Kind] = [2]any{k.Downloaders, pathOf(k.Path)}
		}
		if fmt.Sprint(kinds) != fmt.Sprint(map[string][2]any{"whitepaper": {int64(3), [5]int64{3, 2, 1, 1, 1}}, "case_study": {int64(4), [5]int64{1, 1, 1, 0, 0}}}) {
			t.Errorf("kinds %v", kinds)
		}
		// Six persons: P2 downloaded both, counted once from 3/5 (a lead
		// on 3/6).
		tot := got.Total
		if tot.Views != 2 || tot.Downloads != 8 || !same(tot.DownloadRate, rate(2)) || tot.Downloaders != 6 || pathOf(tot.Path) != [5]int64{4, 3, 2, 1, 1} ||
			tot.Leads != 3 || tot.MQLs != 2 || tot.CreditedPipeline != 6_500_000 || tot.InfluencedPipeline != nil {
			t.Errorf("total %+v", tot)
		}
		if got.Who.AssetID != 0 || got.Who.Downloaders != 6 {
			t.Errorf("who: asset %d, %d downloaders", got.Who.AssetID, got.Who.Downloaders)
		}
		for _, c := range []struct {
			what string
			got  []report.Share
			want string
		}{
			{"industries", got.Who.Industries, "retail:2:0.3333 software:2:0.3333 :2:0.3333 "},
			{"sizes", got.Who.Sizes, "100-499:2:0.3333 1000-4999:2:0.3333 :2:0.3333 "},
			{"seniority", got.Who.Seniority, "director:2:0.3333 executive:1:0.1667 individual:1:0.1667 manager:1:0.1667 :1:0.1667 "},
			{"titles", got.Who.Titles, "CMO:1:0.1667 IT总监:1:0.1667 市场总监:1:0.1667 市场经理:1:0.1667 数据分析师:1:0.1667 :1:0.1667 "},
		} {
			if s := sharesText(c.got); s != c.want {
				t.Errorf("who, %s: %s, want %s", c.what, s, c.want)
			}
		}

		// One asset: its row and its downloaders.
		one, err := r.ContentReview(ctx, report.ContentReviewQuery{Period: p, Model: "linear", AssetID: 1})
		if err != nil {
			t.Fatal(err)
		}
		if one.Asset == nil || one.Asset.ID != 1 || one.Asset.Downloaders != 3 || len(one.Assets) != 2 {
			t.Fatalf("asset 1: %+v", one.Asset)
		}
		if one.Who.AssetID != 1 || one.Who.Downloaders != 3 {
			t.Errorf("who of asset 1: %+v", one.Who)
		}
		for _, c := range []struct {
			what string
			got  []report.Share
			want string
		}{
			{"industries", one.Who.Industries, "retail:1:0.3333 software:1:0.3333 :1:0.3333 "},
			{"sizes", one.Who.Sizes, "100-499:1:0.3333 1000-4999:1:0.3333 :1:0.3333 "},
			{"seniority", one.Who.Seniority, "director:2:0.6667 individual:1:0.3333 "},
			{"titles", one.Who.Titles, "IT总监:1:0.3333 市场总监:1:0.3333 数据分析师:1:0.3333 "},
		} {
			if s := sharesText(c.got); s != c.want {
				t.Errorf("who of asset 1, %s: %s, want %s", c.what, s, c.want)
			}
		}
		// An asset without a figure in the range: an empty row, nobody.
		three, err := r.ContentReview(ctx, report.ContentReviewQuery{Period: p, Model: "linear", AssetID: 3})
		if err != nil {
			t.Fatal(err)
		}
		if three.Asset == nil || three.Asset.ID != 3 || three.Asset.Kind != "report" || three.Asset.Downloads != 0 || three.Asset.DownloadRate != nil ||
			three.Asset.InfluencedPipeline == nil || *three.Asset.InfluencedPipeline != 0 || three.Who.Downloaders != 0 || len(three.Who.Industries) != 0 {
			t.Errorf("asset 3: %+v, who %+v", three.Asset, three.Who)
		}
		if _, err := r.ContentReview(ctx, report.ContentReviewQuery{Period: p, Model: "linear", AssetID: 99}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown asset: %v", err)
		}
		if _, err := r.ContentReview(ctx, report.ContentReviewQuery{Period: p, Model: "nope"}); err == nil {
			t.Error("unknown model accepted")
		}
	})
}
