package report_test

import (
	"slices"
	"testing"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// expectAsset is one asset's figures computed from the base tables.
type expectAsset struct {
	views, downloads, leads, mqls int64
	pipe                          float64
	credRows                      int
	credited                      bool
	influenced                    map[int64]int64
}

func (f *facts) expectContent(p model.Period, col string) map[int64]*expectAsset {
	out := map[int64]*expectAsset{}
	of := func(id int64) *expectAsset {
		if out[id] == nil {
			out[id] = &expectAsset{influenced: map[int64]int64{}}
		}
		return out[id]
	}
	for _, x := range f.touches {
		if _, ok := f.assets[x.content]; !ok || !f.in(p, x.at) {
			continue
		}
		switch {
		case x.typ == "page_view":
			of(x.content).views++
		case slices.Contains(report.DownloadTypes, x.typ):
			of(x.content).downloads++
		}
	}
	for _, l := range f.leads {
		if _, ok := f.assets[l.content]; ok && f.in(p, l.at) {
			a := of(l.content)
			a.leads++
			if l.reached >= model.StageMQL.Rank() {
				a.mqls++
			}
		}
	}
	for _, c := range f.credits {
		if _, ok := f.assets[c.content]; !ok || c.kind != "opportunity" || !f.in(p, c.at) {
			continue
		}
		a := of(c.content)
		a.credRows++
		a.pipe += c.share[col] * float64(c.value)
		a.credited = a.credited || c.share[col] != 0
		a.influenced[c.conv] = c.value
	}
	return out
}

// Every figure of the content dashboard equals the same figure computed
// from the base tables; the total and the kinds are sums of the rows.
func TestContentAgainstBaseTables(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadDemo(t, s)
		f := readFacts(t, s)
		r := report.Reporter{Store: s}
		for _, tc := range dashCases() {
			t.Run(tc.name, func(t *testing.T) {
				p := model.Period{From: tc.from, To: tc.to, Cal: f.cal}
				col, err := creditColumn(tc.model)
				if err != nil {
					t.Fatal(err)
				}
				got, err := r.Content(ctx, report.ContentQuery{Period: p, Model: tc.model})
				if err != nil {
					t.Fatal(err)
				}
				want := f.expectContent(p, col)
				end := p.Window().To
				var wantIDs, gotIDs []int64
				for id, a := range f.assets {
					e := want[id]
					active := e != nil && (e.views+e.downloads+e.leads != 0 || e.credited || len(e.influenced) > 0)
					if active || a.assetCreated.Before(end) {
						wantIDs = append(wantIDs, id)
					}
				}
				for _, row := range got.Assets {
					gotIDs = append(gotIDs, row.ID)
				}
				slices.Sort(wantIDs)
				slices.Sort(gotIDs)
				if !slices.Equal(gotIDs, wantIDs) {
					t.Fatalf("assets %v, want %v", gotIDs, wantIDs)
				}

				var sum report.ContentFigures
				var viewedDownloads int64
				kinds := map[string]*report.ContentKind{}
				kindViewed := map[string]int64{}
				for _, row := range got.Assets {
					e := want[row.ID]
					if e == nil {
						e = &expectAsset{influenced: map[int64]int64{}}
					}
					var infl int64
					for _, v := range e.influenced {
						infl += v
					}
					g := row.ContentFigures
					if g.Views != e.views || g.Downloads != e.downloads || g.Leads != e.leads || g.MQLs != e.mqls {
						t.Errorf("asset %d: views %d downloads %d leads %d mqls %d, want %d %d %d %d", row.ID, g.Views, g.Downloads, g.Leads, g.MQLs,
							e.views, e.downloads, e.leads, e.mqls)
					}
					if !near(g.CreditedPipeline, e.pipe, e.credRows) {
						t.Errorf("asset %d credited pipeline %v, want %.2f", row.ID, g.CreditedPipeline, e.pipe)
					}
					if g.InfluencedPipeline == nil || int64(*g.InfluencedPipeline) != infl || *g.InfluencedOpportunities != int64(len(e.influenced)) {
						t.Errorf("asset %d influenced %v (%v), want %d (%d)", row.ID, g.InfluencedPipeline, g.InfluencedOpportunities, infl, len(e.influenced))
					}
					if !same(g.DownloadRate, ratioOf(g.Downloads, g.Views)) || !same(g.EffectiveRate, ratioOf(g.MQLs, g.Leads)) {
						t.Errorf("asset %d rates: download %s effective %s", row.ID, show(g.DownloadRate), show(g.EffectiveRate))
					}
					if f.assets[row.ID].assetKind != row.Kind {
						t.Errorf("asset %d kind %s", row.ID, row.Kind)
					}
					sum.Views += g.Views
					sum.Downloads += g.Downloads
					sum.Leads += g.Leads
					sum.MQLs += g.MQLs
					sum.CreditedPipeline += g.CreditedPipeline
					k := kinds[row.Kind]
					if k == nil {
						k = &report.ContentKind{Kind: row.Kind}
						kinds[row.Kind] = k
					}
					k.Assets++
					k.Views += g.Views
					k.Downloads += g.Downloads
					k.Leads += g.Leads
					k.MQLs += g.MQLs
					k.CreditedPipeline += g.CreditedPipeline
					if g.Views > 0 {
						viewedDownloads += g.Downloads
						kindViewed[row.Kind] += g.Downloads
					}
				}
				tot := got.Total
				if tot.Views != sum.Views || tot.Downloads != sum.Downloads || tot.Leads != sum.Leads || tot.MQLs != sum.MQLs || tot.CreditedPipeline != sum.CreditedPipeline {
					t.Errorf("total %+v is not the sum of the rows %+v", tot, sum)
				}
				if tot.InfluencedPipeline != nil || !same(tot.DownloadRate, ratioOf(viewedDownloads, tot.Views)) || !same(tot.EffectiveRate, ratioOf(tot.MQLs, tot.Leads)) {
					t.Errorf("total rates: download %s effective %s influenced %v", show(tot.DownloadRate), show(tot.EffectiveRate), tot.InfluencedPipeline)
				}
				if len(got.Kinds) != len(kinds) {
					t.Errorf("%d kinds, want %d", len(got.Kinds), len(kinds))
				}
				for _, k := range got.Kinds {
					w := kinds[k.Kind]
					if w == nil || k.Assets != w.Assets || k.Views != w.Views || k.Downloads != w.Downloads || k.Leads != w.Leads || k.MQLs != w.MQLs ||
						k.CreditedPipeline != w.CreditedPipeline || !same(k.DownloadRate, ratioOf(kindViewed[k.Kind], k.Views)) || k.InfluencedPipeline != nil {
						t.Errorf("kind %s: %+v, want the sum of its assets %+v", k.Kind, k, w)
					}
				}
				var ms report.ContentMonth
				for _, m := range got.Months {
					ms.Views += m.Views
					ms.Downloads += m.Downloads
					ms.Leads += m.Leads
					ms.MQLs += m.MQLs
					ms.CreditedPipeline += m.CreditedPipeline
				}
				if ms.Views != tot.Views || ms.Downloads != tot.Downloads || ms.Leads != tot.Leads || ms.MQLs != tot.MQLs ||
					!near(ms.CreditedPipeline, float64(tot.CreditedPipeline), len(got.Assets)+len(got.Months)) {
					t.Errorf("months %+v do not add up to the total %+v", ms, tot)
				}
			})
		}
		if _, err := r.Content(ctx, report.ContentQuery{Period: model.Period{}, Model: "nope"}); err == nil {
			t.Error("unknown model accepted")
		}
	})
}
