package web

import (
	"database/sql"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
)

// The dashboards' tests run over a small demo (a few thousand persons,
// its credits and roll-ups computed as `revloop demo` does) and check
// every figure against a second computation: the base tables read with
// plain SQL and summed in Go, without the roll-ups.

// demoEnd is the last day of the dashboards' demo data.
var demoEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// newDemoEnv is a server over a small demo dataset, with a marketer, a
// viewer API key and the clock at the end of the data.
func newDemoEnv(t *testing.T, s *store.Store) *env {
	t.Helper()
	if _, err := demo.Generate(ctx, s, demo.Options{Seed: 11, End: demoEnd, Scale: 0.05}); err != nil {
		t.Fatal(err)
	}
	a := auth.New(s)
	now := demoEnd.Add(20 * time.Hour) // 04:00 on 1 July in Shanghai: today is 1 July
	a.Now = func() time.Time { return now }
	if _, err := a.CreateUser(ctx, testEmail, "李娜", model.RoleMarketer, testPassword); err != nil {
		t.Fatal(err)
	}
	key, _, err := a.CreateAPIKey(ctx, "test", model.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newWith(t, testOpts{Store: s, Auth: a, Logger: slog.New(slog.DiscardHandler), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: s, auth: a, srv: srv, h: srv.Handler(), key: key}
}

// world is the base tables the dashboards read, as plain rows.
type world struct {
	cal       model.Calendar
	opps      []wOpp
	costs     []wCost
	campaigns map[int64]wCampaign
	kwGroup   map[int64]int64 // keyword → ad group
	leads     []wLead
	entries   map[int64]map[model.Stage]time.Time // person → stage → first entry
	convs     map[string]map[int64]wConv          // kind → conversion
	credits   []wCredit
}

type wOpp struct {
	account int64
	stage   string
	amount  int64
	created time.Time
	closed  *time.Time
}

type wCost struct {
	day                          time.Time
	campaign, adGroup, keyword   int64
	impressions, clicks, costFen int64
}

type wCampaign struct {
	channel, platform, name       string
	start, end                    *time.Time
	targetPipeline, targetRevenue int64
}

type wLead struct {
	at                time.Time
	channel           string
	campaign, keyword int64
	reached           int // furthest forward stage rank
}

type wConv struct {
	at                  time.Time
	value               int64
	sourced, influenced bool
}

type wCredit struct {
	kind              string
	conversion        int64
	channel           string
	campaign, keyword int64
	share             float64 // of the model read
}

// rows runs a query on the raw database and calls fn per row.
func rows(t *testing.T, db *sql.DB, q string, fn func(scan func(...any) error)) {
	t.Helper()
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	for rs.Next() {
		fn(func(dst ...any) error {
			if err := rs.Scan(dst...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return nil
		})
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
}

func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// loadWorld reads the base tables, with the credits of one model column.
func loadWorld(t *testing.T, s *store.Store, col string) world {
	t.Helper()
	db := rawDB(t, s)
	w := world{cal: model.DefaultCalendar(), campaigns: map[int64]wCampaign{}, kwGroup: map[int64]int64{},
		entries: map[int64]map[model.Stage]time.Time{}, convs: map[string]map[int64]wConv{}}
	rows(t, db, `SELECT account_id, stage, amount_fen, created_at, closed_at FROM opportunities`, func(scan func(...any) error) {
		var o wOpp
		var closed sql.NullTime
		scan(&o.account, &o.stage, &o.amount, &o.created, &closed)
		if closed.Valid {
			c := closed.Time
			o.closed = &c
		}
		w.opps = append(w.opps, o)
	})
	rows(t, db, `SELECT day, campaign_id, COALESCE(ad_group_id, 0), COALESCE(keyword_id, 0), impressions, clicks, cost_fen FROM daily_costs`, func(scan func(...any) error) {
		var c wCost
		scan(&c.day, &c.campaign, &c.adGroup, &c.keyword, &c.impressions, &c.clicks, &c.costFen)
		c.day = dayOf(c.day)
		w.costs = append(w.costs, c)
	})
	rows(t, db, `SELECT id, channel, platform, name, start_date, end_date, target_pipeline_fen, target_revenue_fen FROM campaigns`, func(scan func(...any) error) {
		var id int64
		var c wCampaign
		var start, end sql.NullTime
		scan(&id, &c.channel, &c.platform, &c.name, &start, &end, &c.targetPipeline, &c.targetRevenue)
		if start.Valid {
			d := dayOf(start.Time)
			c.start = &d
		}
		if end.Valid {
			d := dayOf(end.Time)
			c.end = &d
		}
		w.campaigns[id] = c
	})
	rows(t, db, `SELECT id, COALESCE(ad_group_id, 0) FROM keywords`, func(scan func(...any) error) {
		var id, g int64
		scan(&id, &g)
		w.kwGroup[id] = g
	})
	type touch struct {
		id                int64
		at                time.Time
		channel           string
		campaign, keyword int64
	}
	touches := map[int64][]touch{}
	touchByID := map[int64]touch{}
	rows(t, db, `SELECT id, person_id, occurred_at, channel, COALESCE(campaign_id, 0), COALESCE(keyword_id, 0) FROM touchpoints`, func(scan func(...any) error) {
		var tc touch
		var person sql.NullInt64
		scan(&tc.id, &person, &tc.at, &tc.channel, &tc.campaign, &tc.keyword)
		touchByID[tc.id] = tc
		if person.Valid {
			touches[person.Int64] = append(touches[person.Int64], tc)
		}
	})
	reached := map[int64]int{}
	type entry struct {
		id int64
		at time.Time
	}
	first := map[int64]map[model.Stage]entry{}
	rows(t, db, `SELECT id, person_id, to_stage, changed_at FROM stage_changes`, func(scan func(...any) error) {
		var id, person int64
		var st string
		var at time.Time
		scan(&id, &person, &st, &at)
		stage := model.Stage(st)
		if r := stage.Rank(); r > reached[person] {
			reached[person] = r
		}
		if first[person] == nil {
			first[person] = map[model.Stage]entry{}
		}
		if e, ok := first[person][stage]; !ok || at.Before(e.at) || at.Equal(e.at) && id < e.id {
			first[person][stage] = entry{id, at}
		}
	})
	for p, m := range first {
		w.entries[p] = map[model.Stage]time.Time{}
		for st, e := range m {
			w.entries[p][st] = e.at
		}
	}
	rows(t, db, `SELECT id, lead_at FROM persons WHERE lead_at IS NOT NULL AND merged_into_id IS NULL`, func(scan func(...any) error) {
		var id int64
		var at time.Time
		scan(&id, &at)
		l := wLead{at: at, reached: reached[id]}
		var src *touch
		for i, tc := range touches[id] {
			if tc.at.After(at) {
				continue
			}
			if src == nil || tc.at.After(src.at) || tc.at.Equal(src.at) && tc.id > src.id {
				src = &touches[id][i]
			}
		}
		if src != nil {
			l.channel, l.campaign, l.keyword = src.channel, src.campaign, src.keyword
		}
		w.leads = append(w.leads, l)
	})
	rows(t, db, `SELECT kind, conversion_id, converted_at, value_fen, sourced, influenced FROM attribution_conversions`, func(scan func(...any) error) {
		var kind string
		var id int64
		var c wConv
		var sourced, influenced int64
		scan(&kind, &id, &c.at, &c.value, &sourced, &influenced)
		c.sourced, c.influenced = sourced != 0, influenced != 0
		if w.convs[kind] == nil {
			w.convs[kind] = map[int64]wConv{}
		}
		w.convs[kind][id] = c
	})
	rows(t, db, `SELECT kind, conversion_id, touch_id, channel, `+col+` FROM attribution_credits WHERE kind IN ('opportunity', 'won')`, func(scan func(...any) error) {
		var c wCredit
		var touchID int64
		scan(&c.kind, &c.conversion, &touchID, &c.channel, &c.share)
		tc := touchByID[touchID]
		c.campaign, c.keyword = tc.campaign, tc.keyword
		w.credits = append(w.credits, c)
	})
	return w
}

// span is a range of team days and its instants.
type span struct {
	from, to   time.Time // days, both included
	start, end time.Time
}

func (w world) span(from, to string) span {
	f, _ := time.Parse(time.DateOnly, from)
	l, _ := time.Parse(time.DateOnly, to)
	return span{from: f, to: l, start: w.cal.Start(f), end: w.cal.Start(l.AddDate(0, 0, 1))}
}

func (sp span) has(t time.Time) bool    { return !t.Before(sp.start) && t.Before(sp.end) }
func (sp span) hasDay(d time.Time) bool { return !d.Before(sp.from) && !d.After(sp.to) }

// moneyRate is a ÷ b rounded as the reports round (four places).
func rate(a, b int64) *float64 {
	if b == 0 {
		return nil
	}
	v := math.Round(float64(a)/float64(b)*10000) / 10000
	return &v
}

func samePtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) < 1e-9
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatFloat(*p, 'f', 4, 64)
}

// perUnit is money ÷ n, rounded half away from zero to the fen.
func perUnitFen(m, n int64) *model.Money {
	if n == 0 {
		return nil
	}
	v := model.Money((m*2 + n) / (2 * n))
	return &v
}

func sameMoneyPtr(a, b *model.Money) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// near says whether a credited amount (rounded per row) is within a fen
// or so of the exact sum.
func near(got model.Money, want float64) bool { return math.Abs(float64(got)-want) <= 1.01 }

// expectedHeadline is the headline as the definitions say, from the rows.
func (w world) expectedHeadline(sp span) report.MarketingHeadline {
	var h report.MarketingHeadline
	accountsFirstWon := map[int64]time.Time{}
	for _, o := range w.opps {
		if sp.has(o.created) {
			h.OpportunitiesCreated++
			h.PipelineCreated += model.Money(o.amount)
		}
		if o.closed != nil && o.stage == "closed_won" {
			if sp.has(*o.closed) {
				h.WonDeals++
				h.WonRevenue += model.Money(o.amount)
			}
			if f, ok := accountsFirstWon[o.account]; !ok || o.closed.Before(f) {
				accountsFirstWon[o.account] = *o.closed
			}
		}
		if o.closed != nil && o.stage == "closed_lost" && sp.has(*o.closed) {
			h.LostDeals++
			h.ClosedLost += model.Money(o.amount)
		}
		open := o.created.Before(sp.end) && (o.closed == nil && o.stage != "closed_won" && o.stage != "closed_lost" || o.closed != nil && !o.closed.Before(sp.end))
		if open {
			h.OpenOpportunities++
			h.OpenPipeline += model.Money(o.amount)
		}
	}
	for _, first := range accountsFirstWon {
		if sp.has(first) {
			h.NewCustomers++
		}
	}
	h.WinRate = rate(h.WonDeals, h.WonDeals+h.LostDeals)
	for kind, convs := range w.convs {
		for _, c := range convs {
			if !sp.has(c.at) {
				continue
			}
			switch kind {
			case "opportunity":
				if c.sourced {
					h.PipelineSourced += model.Money(c.value)
				}
				if c.influenced {
					h.PipelineInfluenced += model.Money(c.value)
				}
			case "won":
				if c.sourced {
					h.WonSourced += model.Money(c.value)
				}
				if c.influenced {
					h.WonInfluenced += model.Money(c.value)
				}
			}
		}
	}
	for _, c := range w.campaigns {
		if (c.start == nil || !c.start.After(sp.to)) && (c.end == nil || !c.end.Before(sp.from)) {
			h.TargetCampaigns++
			h.TargetPipeline += model.Money(c.targetPipeline)
			h.TargetRevenue += model.Money(c.targetRevenue)
		}
	}
	for _, c := range w.costs {
		if sp.hasDay(c.day) {
			h.Spend += model.Money(c.costFen)
		}
	}
	for _, l := range w.leads {
		if sp.has(l.at) {
			h.Leads++
		}
	}
	h.ROAS = rate(int64(h.WonRevenue), int64(h.Spend))
	h.ROI = rate(int64(h.WonRevenue-h.Spend), int64(h.Spend))
	h.CAC = perUnitFen(int64(h.Spend), h.NewCustomers)
	return h
}

// expectedFunnel is the cohort or period funnel from the stage history.
func (w world) expectedFunnel(sp span, mode report.FunnelMode) []report.DashStep {
	counts := map[model.Stage]int64{}
	if mode == report.Cohort {
		for _, l := range w.leads {
			if !sp.has(l.at) {
				continue
			}
			counts[model.StageLead]++
			for _, st := range model.FunnelStages[1:] {
				if l.reached >= st.Rank() {
					counts[st]++
				}
			}
		}
	}
	days := map[model.Stage]float64{}
	timed := map[model.Stage]int64{}
	for _, e := range w.entries {
		for i, st := range model.FunnelStages {
			at, ok := e[st]
			if !ok || !sp.has(at) {
				continue
			}
			if mode == report.Period {
				counts[st]++
			}
			if i == 0 {
				continue
			}
			if prev, ok := e[model.FunnelStages[i-1]]; ok && !prev.After(at) {
				timed[st]++
				days[st] += at.Sub(prev).Hours() / 24
			}
		}
	}
	var out []report.DashStep
	for i, st := range model.FunnelStages {
		s := report.DashStep{Stage: st, Count: counts[st]}
		if i > 0 {
			s.Rate = rate(s.Count, out[i-1].Count)
			if timed[st] > 0 {
				v := days[st] / float64(timed[st])
				s.VelocityDays = &v
			}
		}
		out = append(out, s)
	}
	return out
}

// creditedBy sums a model's credited value and count of a kind in a span
// by a key of the credited touch.
func (w world) creditedBy(sp span, kind string, key func(wCredit) string) (map[string]float64, map[string]float64) {
	fen, n := map[string]float64{}, map[string]float64{}
	for _, c := range w.credits {
		conv, ok := w.convs[c.kind][c.conversion]
		if c.kind != kind || !ok || !sp.has(conv.at) {
			continue
		}
		k := key(c)
		fen[k] += c.share * float64(conv.value)
		n[k] += c.share
	}
	return fen, n
}

// influencedBy counts the conversions of a kind in a span with at least
// one credited touch of each key, and their value.
func (w world) influencedBy(sp span, kind string, key func(wCredit) string) (map[string]int64, map[string]int64) {
	seen := map[[2]string]bool{}
	count, value := map[string]int64{}, map[string]int64{}
	for _, c := range w.credits {
		conv, ok := w.convs[c.kind][c.conversion]
		if c.kind != kind || !ok || !sp.has(conv.at) {
			continue
		}
		k := key(c)
		id := [2]string{k, strconv.FormatInt(c.conversion, 10)}
		if seen[id] {
			continue
		}
		seen[id] = true
		count[k]++
		value[k] += conv.value
	}
	return count, value
}

func byChannel(c wCredit) string { return c.channel }

// isAd says whether a campaign is an advertising campaign.
func (w world) isAd(id int64) bool {
	c, ok := w.campaigns[id]
	return ok && slices.Contains(report.AdChannels, c.channel)
}

// getJSON fetches an API answer with the API key, as curl would.
func (e *env) getJSON(t *testing.T, target string, v any) {
	t.Helper()
	decodeJSON(t, e.api(t, target), http.StatusOK, v)
}

// refreshDerived computes what the background work keeps current — the
// stored credits, then the roll-ups — as of now.
func refreshDerived(t *testing.T, s *store.Store) {
	t.Helper()
	now := time.Now().UTC()
	if _, err := credits.Recompute(ctx, s, credits.Full, now); err != nil {
		t.Fatal(err)
	}
	if _, err := rollup.Refresh(ctx, s, now); err != nil {
		t.Fatal(err)
	}
}
