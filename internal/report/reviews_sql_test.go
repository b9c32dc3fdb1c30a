package report_test

import (
	"database/sql"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/predict"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The promotion leaderboard and the content review on the demo, against
// the same figures computed a second way: every row read from the base
// tables in plain SQL and counted in Go by the team days, and the credited
// pipeline against the attribution report by promoter.

// reviewFacts are the base rows both reviews count.
type reviewFacts struct {
	cal   model.Calendar
	team  map[int64]string
	links []struct {
		promoter, campaign int64
		at                 time.Time
	}
	touches []struct {
		id, person, campaign, content, promoter int64
		typ                                     string
		at                                      time.Time
	}
	leads   map[int64]time.Time // person → lead time, merged persons left out
	changes map[int64][]struct {
		at    time.Time
		stage model.Stage
	}
	who     map[int64][3]string // person → title, industry, size band
	credits []struct {
		kind               string
		at                 time.Time
		fen                int64
		share              map[string]float64
		promoter, campaign int64
	}
}

func readReviewFacts(t *testing.T, s *store.Store) *reviewFacts {
	t.Helper()
	cal, err := s.Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := &reviewFacts{cal: cal, team: map[int64]string{}, leads: map[int64]time.Time{}, who: map[int64][3]string{},
		changes: map[int64][]struct {
			at    time.Time
			stage model.Stage
		}{}}
	db := s.WriterDB()
	query := func(q string, fn func(r *sql.Rows) error) { t.Helper(); eachRow(t, db, q, fn) }
	query(`SELECT id, team FROM users`, func(r *sql.Rows) error {
		var id int64
		var team string
		err := r.Scan(&id, &team)
		f.team[id] = team
		return err
	})
	query(`SELECT promoter_id, campaign_id, created_at FROM tracked_links WHERE promoter_id IS NOT NULL`, func(r *sql.Rows) error {
		var l struct {
			promoter, campaign int64
			at                 time.Time
		}
		err := r.Scan(&l.promoter, &l.campaign, &l.at)
		f.links = append(f.links, l)
		return err
	})
	query(`SELECT id, COALESCE(person_id, 0), COALESCE(campaign_id, 0), COALESCE(content_id, 0), COALESCE(promoter_id, 0), type, occurred_at
		FROM touchpoints ORDER BY id`, func(r *sql.Rows) error {
		var x struct {
			id, person, campaign, content, promoter int64
			typ                                     string
			at                                      time.Time
		}
		err := r.Scan(&x.id, &x.person, &x.campaign, &x.content, &x.promoter, &x.typ, &x.at)
		f.touches = append(f.touches, x)
		return err
	})
	query(`SELECT id, lead_at FROM persons WHERE lead_at IS NOT NULL AND merged_into_id IS NULL`, func(r *sql.Rows) error {
		var id int64
		var at time.Time
		err := r.Scan(&id, &at)
		f.leads[id] = at
		return err
	})
	query(`SELECT person_id, to_stage, changed_at FROM stage_changes`, func(r *sql.Rows) error {
		var id int64
		var c struct {
			at    time.Time
			stage model.Stage
		}
		var st string
		err := r.Scan(&id, &st, &c.at)
		c.stage = model.Stage(st)
		f.changes[id] = append(f.changes[id], c)
		return err
	})
	query(`SELECT p.id, p.title, COALESCE(a.industry, ''), COALESCE(a.size_band, '') FROM persons p LEFT JOIN accounts a ON a.id = p.account_id`,
		func(r *sql.Rows) error {
			var id int64
			var w [3]string
			err := r.Scan(&id, &w[0], &w[1], &w[2])
			f.who[id] = w
			return err
		})
	cols := store.CreditColumns
	sel := ""
	for _, c := range cols {
		sel += ", c." + c
	}
	query(`SELECT v.kind, v.converted_at, v.value_fen, COALESCE(t.promoter_id, 0), COALESCE(t.campaign_id, 0)`+sel+`
		FROM attribution_credits c JOIN attribution_conversions v ON v.kind = c.kind AND v.conversion_id = c.conversion_id
		JOIN touchpoints t ON t.id = c.touch_id WHERE v.kind IN ('opportunity', 'won')`, func(r *sql.Rows) error {
		var c struct {
			kind               string
			at                 time.Time
			fen                int64
			share              map[string]float64
			promoter, campaign int64
		}
		shares := make([]float64, len(cols))
		dst := []any{&c.kind, &c.at, &c.fen, &c.promoter, &c.campaign}
		for i := range shares {
			dst = append(dst, &shares[i])
		}
		if err := r.Scan(dst...); err != nil {
			return err
		}
		c.share = map[string]float64{}
		for i, col := range cols {
			c.share[col] = shares[i]
		}
		f.credits = append(f.credits, c)
		return nil
	})
	return f
}

func (f *reviewFacts) in(p model.Period, at time.Time) bool { return p.Contains(f.cal.Day(at)) }

// reachedAfter is the furthest stage a person entered at or after at.
func (f *reviewFacts) reachedAfter(person int64, at time.Time) int {
	best := -1
	for _, c := range f.changes[person] {
		if !c.at.Before(at) {
			best = max(best, c.stage.Rank())
		}
	}
	return best
}

type promoFigures struct {
	links, visits, leads, mqls int64
	visitors                   map[int64]bool
	pipe, revenue              float64
	pipeRows, revenueRows      int
}

// expectPromotion counts the leaderboard's figures per promoter.
func (f *reviewFacts) expectPromotion(p model.Period, col string, campaign int64) map[int64]*promoFigures {
	out := map[int64]*promoFigures{}
	of := func(id int64) *promoFigures {
		if out[id] == nil {
			out[id] = &promoFigures{visitors: map[int64]bool{}}
		}
		return out[id]
	}
	ok := func(c int64) bool { return campaign == 0 || c == campaign }
	for _, l := range f.links {
		if f.in(p, l.at) && ok(l.campaign) {
			of(l.promoter).links++
		}
	}
	first := map[int64]int{} // person → index of the first touch
	for i, x := range f.touches {
		if x.promoter != 0 && f.in(p, x.at) && ok(x.campaign) {
			e := of(x.promoter)
			e.visits++
			if x.person != 0 {
				e.visitors[x.person] = true
			}
		}
		if x.person == 0 {
			continue
		}
		if j, seen := first[x.person]; !seen || x.at.Before(f.touches[j].at) || (x.at.Equal(f.touches[j].at) && x.id < f.touches[j].id) {
			first[x.person] = i
		}
	}
	for person, at := range f.leads {
		j, seen := first[person]
		if !seen || !f.in(p, at) {
			continue
		}
		x := f.touches[j]
		if x.promoter == 0 || x.at.After(at) || !ok(x.campaign) {
			continue
		}
		e := of(x.promoter)
		e.leads++
		if f.reachedAfter(person, time.Time{}) >= model.StageMQL.Rank() {
			e.mqls++
		}
	}
	for _, c := range f.credits {
		if c.promoter == 0 || !f.in(p, c.at) || !ok(c.campaign) {
			continue
		}
		e := of(c.promoter)
		v := c.share[col] * float64(c.fen)
		if c.kind == "opportunity" {
			e.pipe += v
			e.pipeRows++
		} else {
			e.revenue += v
			e.revenueRows++
		}
	}
	return out
}

func TestReviewsAgainstPlainSQL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadDemo(t, s)
		f := readReviewFacts(t, s)
		r := report.Reporter{Store: s}
		// The employee-sharing campaign with the most promoter touches.
		per := map[int64]int{}
		var share int64
		for _, x := range f.touches {
			if x.promoter != 0 && x.campaign != 0 {
				per[x.campaign]++
				if per[x.campaign] > per[share] {
					share = x.campaign
				}
			}
		}
		if share == 0 || len(f.links) == 0 {
			t.Fatalf("the demo has no promoter touches (%d) or links (%d)", len(per), len(f.links))
		}
		att := report.NewAttributor(s, nil)
		for _, tc := range dashCases() {
			p := model.Period{From: tc.from, To: tc.to, Cal: f.cal}
			col, err := creditColumn(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			for _, campaign := range []int64{0, share} {
				t.Run(tc.name+"/campaign "+strconv.FormatInt(campaign, 10), func(t *testing.T) {
					got, err := r.Promotion(ctx, report.PromotionQuery{Period: p, Model: tc.model, CampaignID: campaign})
					if err != nil {
						t.Fatal(err)
					}
					want := f.expectPromotion(p, col, campaign)
					t.Logf("%d employees; total %+v", len(got.Employees), got.Total)
					listed := map[int64]bool{}
					var leads int64
					for _, e := range got.Employees {
						listed[e.UserID] = true
						w := want[e.UserID]
						if w == nil {
							w = &promoFigures{}
						}
						leads += e.Leads
						if e.Links != w.links || e.Visits != w.visits || e.Visitors != int64(len(w.visitors)) || e.Leads != w.leads || e.MQLs != w.mqls {
							t.Errorf("user %d: links %d visits %d visitors %d leads %d mqls %d, want %d %d %d %d %d", e.UserID, e.Links, e.Visits,
								e.Visitors, e.Leads, e.MQLs, w.links, w.visits, len(w.visitors), w.leads, w.mqls)
						}
						if !near(e.CreditedPipeline, w.pipe, 1) || !near(e.CreditedRevenue, w.revenue, 1) {
							t.Errorf("user %d: credited %v / %v, want %.2f / %.2f", e.UserID, e.CreditedPipeline, e.CreditedRevenue, w.pipe, w.revenue)
						}
					}
					for id, w := range want {
						if !listed[id] && (w.links+w.visits+w.leads != 0 || w.pipe != 0 || w.revenue != 0) {
							t.Errorf("user %d has figures and is not listed", id)
						}
					}
					if campaign == 0 && tc.name == dashCases()[0].name && leads == 0 {
						t.Error("a year of the demo without a lead through a share link")
					}
					// Teams: the sums of their employees, visitors once.
					teams := map[string]*report.TeamRow{}
					visitors := map[string]map[int64]bool{}
					all := map[int64]bool{}
					for _, e := range got.Employees {
						tr := teams[e.Team]
						if tr == nil {
							tr = &report.TeamRow{Team: e.Team}
							teams[e.Team], visitors[e.Team] = tr, map[int64]bool{}
						}
						tr.Employees++
						tr.Links += e.Links
						tr.Visits += e.Visits
						tr.Leads += e.Leads
						tr.MQLs += e.MQLs
						tr.CreditedPipeline += e.CreditedPipeline
						tr.CreditedRevenue += e.CreditedRevenue
						if w := want[e.UserID]; w != nil {
							for v := range w.visitors {
								visitors[e.Team][v] = true
								all[v] = true
							}
						}
					}
					if len(got.Teams) != len(teams) {
						t.Errorf("%d teams, want %d", len(got.Teams), len(teams))
					}
					for _, g := range got.Teams {
						w := teams[g.Team]
						if w == nil || g.Employees != w.Employees || g.Links != w.Links || g.Visits != w.Visits || g.Leads != w.Leads || g.MQLs != w.MQLs ||
							g.CreditedPipeline != w.CreditedPipeline || g.CreditedRevenue != w.CreditedRevenue || g.Visitors != int64(len(visitors[g.Team])) {
							t.Errorf("team %q: %+v, want the sum of its employees %+v (%d visitors)", g.Team, g, w, len(visitors[g.Team]))
						}
					}
					if got.Total.Visitors != int64(len(all)) {
						t.Errorf("total visitors %d, want %d", got.Total.Visitors, len(all))
					}
					if campaign != 0 {
						return
					}
					// The attribution report by promoter, from the same stored
					// credits, rounds its rows to add up to its total: a fen apart.
					for _, k := range []struct {
						kind model.ConversionKind
						get  func(report.PromoterRow) model.Money
					}{{model.ConvOpportunity, func(e report.PromoterRow) model.Money { return e.CreditedPipeline }},
						{model.ConvWon, func(e report.PromoterRow) model.Money { return e.CreditedRevenue }}} {
						a, err := att.Attribute(ctx, "test", report.AttributionQuery{Model: attribution.Model(tc.model), Conversion: k.kind, By: "promoter", Window: p.Window()})
						if err != nil {
							t.Fatal(err)
						}
						if a.Source != "stored" {
							t.Fatalf("attribution by promoter is %s, want the stored credits", a.Source)
						}
						byKey := map[string]model.Money{}
						for _, row := range a.Rows {
							byKey[row.Key] = row.Value
						}
						for _, e := range got.Employees {
							if d := k.get(e) - byKey[strconv.FormatInt(e.UserID, 10)]; math.Abs(float64(d)) > 1 {
								t.Errorf("%s of user %d: %v, the attribution report says %v", k.kind, e.UserID, k.get(e), byKey[strconv.FormatInt(e.UserID, 10)])
							}
						}
					}
				})
			}
			t.Run(tc.name+"/content", func(t *testing.T) {
				checkContentReview(t, r, f, p, tc.model)
			})
		}
	})
}

// checkContentReview compares the review's downloaders, paths and
// breakdowns with the base rows, and its dashboard figures with the
// content dashboard's.
func checkContentReview(t *testing.T, r report.Reporter, f *reviewFacts, p model.Period, modelName string) {
	t.Helper()
	got, err := r.ContentReview(ctx, report.ContentReviewQuery{Period: p, Model: modelName})
	if err != nil {
		t.Fatal(err)
	}
	dash, err := r.Content(ctx, report.ContentQuery{Period: p, Model: modelName})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Assets) != len(dash.Assets) {
		t.Fatalf("%d assets, the dashboard %d", len(got.Assets), len(dash.Assets))
	}
	firsts := map[int64]map[int64]time.Time{} // asset → person → first download
	kindOf := map[int64]string{}
	for i, a := range got.Assets {
		d := dash.Assets[i]
		if a.ID != d.ID || a.Views != d.Views || a.Downloads != d.Downloads || !same(a.DownloadRate, d.DownloadRate) || a.Leads != d.Leads ||
			a.CreditedPipeline != d.CreditedPipeline || *a.InfluencedPipeline != *d.InfluencedPipeline {
			t.Errorf("asset %d differs from the dashboard: %+v / %+v", a.ID, a.ContentFigures, d.ContentFigures)
		}
		kindOf[a.ID] = a.Kind
	}
	for _, x := range f.touches {
		if x.content == 0 || x.person == 0 || !slices.Contains(report.DownloadTypes, x.typ) || !f.in(p, x.at) {
			continue
		}
		if firsts[x.content] == nil {
			firsts[x.content] = map[int64]time.Time{}
		}
		if at, ok := firsts[x.content][x.person]; !ok || x.at.Before(at) {
			firsts[x.content][x.person] = x.at
		}
	}
	pathOfFirsts := func(m map[int64]time.Time) (int64, [5]int64) {
		var path [5]int64
		for person, at := range m {
			reached := f.reachedAfter(person, at)
			for i, st := range []model.Stage{model.StageLead, model.StageMQL, model.StageSQL, model.StageOpportunity, model.StageCustomer} {
				if reached >= st.Rank() {
					path[i]++
				}
			}
		}
		return int64(len(m)), path
	}
	kinds := map[string]map[int64]time.Time{}
	all := map[int64]time.Time{}
	for _, a := range got.Assets {
		n, path := pathOfFirsts(firsts[a.ID])
		if a.Downloaders != n || pathOf(a.Path) != path {
			t.Errorf("asset %d: %d downloaders %v, want %d %v", a.ID, a.Downloaders, pathOf(a.Path), n, path)
		}
		if kinds[a.Kind] == nil {
			kinds[a.Kind] = map[int64]time.Time{}
		}
		for person, at := range firsts[a.ID] {
			for _, m := range []map[int64]time.Time{kinds[a.Kind], all} {
				if old, ok := m[person]; !ok || at.Before(old) {
					m[person] = at
				}
			}
		}
	}
	for _, k := range got.Kinds {
		n, path := pathOfFirsts(kinds[k.Kind])
		if k.Downloaders != n || pathOf(k.Path) != path {
			t.Errorf("kind %s: %d downloaders %v, want %d %v", k.Kind, k.Downloaders, pathOf(k.Path), n, path)
		}
	}
	n, path := pathOfFirsts(all)
	if got.Total.Downloaders != n || pathOf(got.Total.Path) != path {
		t.Errorf("total: %d downloaders %v, want %d %v", got.Total.Downloaders, pathOf(got.Total.Path), n, path)
	}
	// Who downloaded: each person once, by their traits.
	want := [4]map[string]int64{{}, {}, {}, {}}
	for person := range all {
		w := f.who[person]
		level := predict.Seniority(w[0])
		if !slices.Contains(report.SeniorityLevels, level) {
			level = ""
		}
		want[0][w[1]]++
		want[1][w[2]]++
		want[2][level]++
		want[3][w[0]]++
	}
	for i, got := range [][]report.Share{got.Who.Industries, got.Who.Sizes, got.Who.Seniority, got.Who.Titles} {
		m := map[string]int64{}
		var sum int64
		for _, s := range got {
			m[s.Key] = s.Downloaders
			sum += s.Downloaders
			if !same(s.Share, ratioOf(s.Downloaders, n)) {
				t.Errorf("breakdown %d, %q: share %s of %d", i, s.Key, show(s.Share), n)
			}
		}
		if sum != n {
			t.Errorf("breakdown %d adds up to %d, want %d", i, sum, n)
		}
		if i == 3 && len(want[3]) > report.MaxTitles+1 {
			continue // the rest is "(other)"; the sum says it holds them all
		}
		for k, v := range want[i] {
			if m[k] != v {
				t.Errorf("breakdown %d, %q: %d, want %d", i, k, m[k], v)
			}
		}
	}
}
