package report

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 12, 0, 0, 0, time.UTC) }

// funnelPerson is one hand-built path through the funnel.
type funnelPerson struct {
	id      int64
	channel string
	steps   []funnelStep
}

type funnelStep struct {
	to model.Stage
	at time.Time
}

// funnelFixture is a small world whose figures are counted by hand in
// TestBuildFunnel. The window is March to May 2026.
//
//	P1 paid_search: lead Mar 1, mql Mar 5, sql Mar 20, opportunity Apr 10, customer May 20
//	P2 paid_search: lead Mar 10, mql Apr 20, nurture May 1
//	P3 webinar:     lead Mar 15, mql Mar 16, sql Mar 18, customer Mar 28 (no opportunity stage)
//	P4 paid_search: lead Feb 20, mql Feb 22 (the period before the window)
//	P5 paid_search: lead Mar 3, mql Mar 4, nurture May 1, mql again May 10
//	P6 webinar:     lead Apr 1, disqualified Apr 2
//	P7 webinar:     lead 2025-10-01, mql Oct 5, sql Oct 10, customer 2026-01-10 (trailing)
//	P8 paid_search: lead 2025-10-20, mql Oct 25, sql Nov 1 (trailing, never won)
//
//	O1 (P1) ¥100,000 created Apr 10, won May 20 (40 days)
//	O2 (P3) ¥50,000 created 2025-12-01, won 2026-02-01 (62 days)
//	O3 (P4) ¥30,000 created Jan 15, open
//	O4 (no contact) ¥20,000 created Mar 5, lost Mar 25
var funnelFixture = []funnelPerson{
	{1, "paid_search", []funnelStep{{"lead", d(2026, 3, 1)}, {"mql", d(2026, 3, 5)}, {"sql", d(2026, 3, 20)}, {"opportunity", d(2026, 4, 10)}, {"customer", d(2026, 5, 20)}}},
	{2, "paid_search", []funnelStep{{"lead", d(2026, 3, 10)}, {"mql", d(2026, 4, 20)}, {"nurture", d(2026, 5, 1)}}},
	{3, "webinar", []funnelStep{{"lead", d(2026, 3, 15)}, {"mql", d(2026, 3, 16)}, {"sql", d(2026, 3, 18)}, {"customer", d(2026, 3, 28)}}},
	{4, "paid_search", []funnelStep{{"lead", d(2026, 2, 20)}, {"mql", d(2026, 2, 22)}}},
	{5, "paid_search", []funnelStep{{"lead", d(2026, 3, 3)}, {"mql", d(2026, 3, 4)}, {"nurture", d(2026, 5, 1)}, {"mql", d(2026, 5, 10)}}},
	{6, "webinar", []funnelStep{{"lead", d(2026, 4, 1)}, {"disqualified", d(2026, 4, 2)}}},
	{7, "webinar", []funnelStep{{"lead", d(2025, 10, 1)}, {"mql", d(2025, 10, 5)}, {"sql", d(2025, 10, 10)}, {"customer", d(2026, 1, 10)}}},
	{8, "paid_search", []funnelStep{{"lead", d(2025, 10, 20)}, {"mql", d(2025, 10, 25)}, {"sql", d(2025, 11, 1)}}},
}

type funnelOpp struct {
	id       int64
	contact  int64 // 0: none
	stage    string
	amount   model.Money
	created  time.Time
	closedAt *time.Time
}

func tp(t time.Time) *time.Time { return &t }

var funnelOpps = []funnelOpp{
	{1, 1, model.OppStageClosedWon, model.Yuan(100000), d(2026, 4, 10), tp(d(2026, 5, 20))},
	{2, 3, model.OppStageClosedWon, model.Yuan(50000), d(2025, 12, 1), tp(d(2026, 2, 1))},
	{3, 4, model.OppStageProposal, model.Yuan(30000), d(2026, 1, 15), nil},
	{4, 0, model.OppStageClosedLost, model.Yuan(20000), d(2026, 3, 5), tp(d(2026, 3, 25))},
}

func funnelInput() FunnelInput {
	var in FunnelInput
	channel := map[int64]string{}
	for _, p := range funnelFixture {
		channel[p.id] = p.channel
		for _, s := range p.steps {
			in.Changes = append(in.Changes, store.FunnelChange{PersonID: p.id, To: s.to, At: s.at, Channel: p.channel})
		}
	}
	for _, o := range funnelOpps {
		in.Opportunities = append(in.Opportunities, store.FunnelOpportunity{ID: o.id, Stage: o.stage, Amount: o.amount,
			CreatedAt: o.created, ClosedAt: o.closedAt, Channel: channel[o.contact]})
	}
	return in
}

var funnelQuery = FunnelQuery{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	Period: PeriodMonth, Now: time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)}

func fp(v float64) *float64         { return &v }
func mp(m model.Money) *model.Money { return &m }

func eqF(a, b *float64) bool     { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
func eqM(a, b *model.Money) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

func showF(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func group(t *testing.T, f Funnel, period int, key string) FunnelGroup {
	t.Helper()
	for _, g := range f.Periods[period].Groups {
		if g.Key == key {
			return g
		}
	}
	t.Fatalf("period %d has no group %q", period, key)
	return FunnelGroup{}
}

type convWant struct {
	entered, reached, w30, w90 int64
	rate, median               *float64
}

func checkConv(t *testing.T, what string, c Conversion, w convWant) {
	t.Helper()
	if c.Entered != w.entered || c.Reached != w.reached || c.Within30d != w.w30 || c.Within90d != w.w90 || !eqF(c.Rate, w.rate) || !eqF(c.MedianDays, w.median) {
		t.Errorf("%s %s→%s: entered %d reached %d w30 %d w90 %d rate %v median %v; want %+v (rate %v, median %v)",
			what, c.From, c.To, c.Entered, c.Reached, c.Within30d, c.Within90d, showF(c.Rate), showF(c.MedianDays), w, showF(w.rate), showF(w.median))
	}
}

func checkEntered(t *testing.T, what string, g FunnelGroup, want map[model.Stage]int64) {
	t.Helper()
	for _, st := range funnelStages {
		if g.Entered[st] != want[st] {
			t.Errorf("%s: %s entered %d, want %d", what, st, g.Entered[st], want[st])
		}
	}
}

func checkFunnelNone(t *testing.T, f Funnel) {
	t.Helper()
	if len(f.Periods) != 3 || !f.From.Equal(funnelQuery.From) || !f.To.Equal(funnelQuery.To) {
		t.Fatalf("%d periods from %s to %s", len(f.Periods), f.From, f.To)
	}
	mar, apr, may := group(t, f, 0, "all"), group(t, f, 1, "all"), group(t, f, 2, "all")
	checkEntered(t, "March", mar, map[model.Stage]int64{"lead": 4, "mql": 3, "sql": 2, "customer": 1})
	checkEntered(t, "April", apr, map[model.Stage]int64{"lead": 1, "mql": 1, "opportunity": 1, "disqualified": 1})
	checkEntered(t, "May", may, map[model.Stage]int64{"customer": 1, "nurture": 2})

	// March leads reached MQL after 4, 41, 1 and 1 days.
	checkConv(t, "March", mar.Conversion[0], convWant{4, 4, 3, 4, fp(1), fp(2.5)})
	// March MQLs: P1 (15 days), P3 (2 days), P5 never.
	checkConv(t, "March", mar.Conversion[1], convWant{3, 2, 2, 2, fp(0.6667), fp(8.5)})
	// March SQLs: P1 to opportunity (21 days), P3 straight to customer (10 days).
	checkConv(t, "March", mar.Conversion[2], convWant{2, 2, 2, 2, fp(1), fp(15.5)})
	checkConv(t, "March", mar.Conversion[3], convWant{0, 0, 0, 0, nil, nil})
	checkConv(t, "April", apr.Conversion[0], convWant{1, 0, 0, 0, fp(0), nil})
	checkConv(t, "April", apr.Conversion[1], convWant{1, 0, 0, 0, fp(0), nil})
	checkConv(t, "April", apr.Conversion[3], convWant{1, 1, 0, 1, fp(1), fp(40)})

	type leadWant struct {
		opps                int64
		pipeline            model.Money
		sqls                int64
		rate                *float64
		avg, expected       *model.Money
		mql, mqlPrev, trend *float64
		cycle               *float64
		stale               int64
	}
	check := func(what string, l Leading, w leadWant) {
		t.Helper()
		if l.OpportunitiesCreated != w.opps || l.PipelineCreated != w.pipeline || l.SQLs != w.sqls || !eqF(l.TrailingSQLToWonRate, w.rate) ||
			!eqM(l.TrailingAvgWonAmount, w.avg) || !eqM(l.ExpectedRevenue, w.expected) || !eqF(l.MQLToSQLRate, w.mql) ||
			!eqF(l.MQLToSQLRatePrevious, w.mqlPrev) || !eqF(l.MQLToSQLTrend, w.trend) || !eqF(l.MedianCycleDays, w.cycle) || l.OpenOlderThanMedianCycle != w.stale {
			t.Errorf("%s leading: %+v; rate %v avg %v expected %v mql %v prev %v trend %v cycle %v", what, l, showF(l.TrailingSQLToWonRate),
				l.TrailingAvgWonAmount, l.ExpectedRevenue, showF(l.MQLToSQLRate), showF(l.MQLToSQLRatePrevious), showF(l.MQLToSQLTrend), showF(l.MedianCycleDays))
		}
	}
	// March: O4 created; trailing SQLs P7 (won) and P8 (not): 0.5; trailing
	// won O2 ¥50,000; 2 SQLs × 0.5 × ¥50,000. February's MQL (P4) never
	// became an SQL. Deals won before April: O2 (62 days); O3 is 76 days old.
	check("March", mar.Leading, leadWant{1, model.Yuan(20000), 2, fp(0.5), mp(model.Yuan(50000)), mp(model.Yuan(50000)), fp(0.6667), fp(0), fp(0.6667), fp(62), 1})
	// April: O1 created; the cohort adds P1 and P3 (both won): 3 of 4.
	check("April", apr.Leading, leadWant{1, model.Yuan(100000), 0, fp(0.75), mp(model.Yuan(50000)), mp(0), fp(0), fp(0.6667), fp(-0.6667), fp(62), 1})
	// May: O1 won on May 20: the median of 40 and 62 days is 51; O3 still open.
	check("May", may.Leading, leadWant{0, 0, 0, fp(0.75), mp(model.Yuan(50000)), mp(0), nil, fp(0), nil, fp(51), 1})
}

func TestBuildFunnel(t *testing.T) {
	f, err := BuildFunnel(funnelQuery, funnelInput())
	if err != nil {
		t.Fatal(err)
	}
	checkFunnelNone(t, f)

	q := funnelQuery
	q.By = ByChannel
	f, err = BuildFunnel(q, funnelInput())
	if err != nil {
		t.Fatal(err)
	}
	ps, web := group(t, f, 0, "paid_search"), group(t, f, 0, "webinar")
	checkEntered(t, "March paid search", ps, map[model.Stage]int64{"lead": 3, "mql": 2, "sql": 1})
	checkEntered(t, "March webinar", web, map[model.Stage]int64{"lead": 1, "mql": 1, "sql": 1, "customer": 1})
	if f.Periods[0].Groups[0].Key != "paid_search" {
		t.Errorf("groups not ordered by leads: first is %s", f.Periods[0].Groups[0].Key)
	}
	// Paid search: P8 was its only trailing SQL and never won, and it won
	// no deal in the trailing year: no expected revenue.
	if l := ps.Leading; !eqF(l.TrailingSQLToWonRate, fp(0)) || l.TrailingAvgWonAmount != nil || l.ExpectedRevenue != nil ||
		!eqF(l.MQLToSQLRate, fp(0.5)) || !eqF(l.MQLToSQLTrend, fp(0.5)) || l.OpenOlderThanMedianCycle != 1 {
		t.Errorf("March paid search leading %+v", l)
	}
	// Webinar: P7 won, O2 (P3's) ¥50,000: one SQL is worth ¥50,000.
	if l := web.Leading; !eqF(l.TrailingSQLToWonRate, fp(1)) || !eqM(l.ExpectedRevenue, mp(model.Yuan(50000))) || l.MQLToSQLRatePrevious != nil {
		t.Errorf("March webinar leading %+v", l)
	}
	// O4 has no contact: its pipeline is unknown's.
	if u := group(t, f, 0, "unknown"); u.Leading.PipelineCreated != model.Yuan(20000) || u.Entered["lead"] != 0 {
		t.Errorf("March unknown %+v", u)
	}

	q.Period = PeriodQuarter
	q.By = ByNone
	f, err = BuildFunnel(q, funnelInput())
	if err != nil {
		t.Fatal(err)
	}
	// Q1 (Jan-Mar) and Q2 (Apr-Jun): the window widens to whole quarters.
	if len(f.Periods) != 2 || !f.From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !f.To.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("quarters %d from %s to %s", len(f.Periods), f.From, f.To)
	}
	checkEntered(t, "Q1", group(t, f, 0, "all"), map[model.Stage]int64{"lead": 5, "mql": 4, "sql": 2, "customer": 2})

	// Names are read case-insensitively.
	q.Period, q.By = " Week", "CHANNEL"
	if f, err = BuildFunnel(q, funnelInput()); err != nil || f.Period != PeriodWeek || f.By != ByChannel {
		t.Fatalf("period %q by %q: %v", f.Period, f.By, err)
	}
}

func TestFunnelQueryErrors(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		q    FunnelQuery
		want string
	}{
		{FunnelQuery{Period: "day"}, `period "day": want week, month or quarter`},
		{FunnelQuery{By: "Owner"}, `by "owner": want none, channel or campaign`},
		{FunnelQuery{From: at, To: at}, "from,to: from must be before to"},
		{FunnelQuery{From: at.AddDate(-26, 0, 0), To: at, Period: PeriodWeek}, "from,to: more than 260 weeks"},
	} {
		_, err := BuildFunnel(c.q, FunnelInput{})
		var qe *QueryError
		if !errors.As(err, &qe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("BuildFunnel(%+v): %v, want a QueryError containing %q", c.q, err, c.want)
		}
		// LoadFunnel refuses it before reading: a nil store is never touched.
		if _, err := LoadFunnel(ctx, nil, c.q); !errors.As(err, &qe) {
			t.Errorf("LoadFunnel(%+v): %v, want a QueryError", c.q, err)
		}
	}
}

// funnelWorld is rows to load, table by table, in the order of their keys.
type funnelWorld struct {
	tables []string
	cols   map[string]string
	rows   map[string][][]any
}

func newFunnelWorld() *funnelWorld {
	w := &funnelWorld{cols: map[string]string{}, rows: map[string][][]any{}}
	w.add("accounts", "id,name,created_at", []any{int64(1), "甲公司", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	return w
}

func (w *funnelWorld) add(table, cols string, rows ...[]any) {
	if _, ok := w.cols[table]; !ok {
		w.tables = append(w.tables, table)
		w.cols[table] = cols
	}
	w.rows[table] = append(w.rows[table], rows...)
}

func (w *funnelWorld) load(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		for _, table := range []string{"accounts", "persons", "opportunities", "opportunity_contacts", "stage_changes"} {
			if rows := w.rows[table]; len(rows) > 0 {
				if err := l.Insert(table, strings.Split(w.cols[table], ","), rows); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoadFunnel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		w := newFunnelWorld()
		seq := int64(0)
		for _, p := range funnelFixture {
			last := p.steps[len(p.steps)-1]
			first := p.steps[0].at.Add(-time.Hour)
			w.add("persons", "id,account_id,stage,stage_at,first_seen_at,first_touch_channel,created_at",
				[]any{p.id, int64(1), string(last.to), last.at, first, p.channel, first})
			from := model.StageVisitor
			for _, st := range p.steps {
				seq++
				w.add("stage_changes", "id,person_id,from_stage,to_stage,changed_at", []any{seq, p.id, string(from), string(st.to), st.at})
				from = st.to
			}
		}
		for _, o := range funnelOpps {
			var closed any
			if o.closedAt != nil {
				closed = *o.closedAt
			}
			w.add("opportunities", "id,account_id,name,stage,amount_fen,created_at,closed_at", []any{o.id, int64(1), "deal", o.stage, int64(o.amount), o.created, closed})
			if o.contact != 0 {
				w.add("opportunity_contacts", "opportunity_id,person_id,role,is_primary", []any{o.id, o.contact, "", true})
			}
		}
		w.load(t, s)
		f, err := LoadFunnel(ctx, s, funnelQuery)
		if err != nil {
			t.Fatal(err)
		}
		checkFunnelNone(t, f)
	})
}

func TestPeriodStart(t *testing.T) {
	at := time.Date(2026, 5, 14, 15, 0, 0, 0, time.UTC) // a Thursday
	for _, c := range []struct {
		period string
		want   time.Time
	}{
		{PeriodWeek, time.Date(2026, 5, 11, 0, 0, 0, 0, time.UTC)},
		{PeriodMonth, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)},
		{PeriodQuarter, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if got := periodStart(c.period, at); !got.Equal(c.want) {
			t.Errorf("%s start of %s = %s, want %s", c.period, at, got, c.want)
		}
	}
	sunday := time.Date(2026, 5, 17, 23, 0, 0, 0, time.UTC)
	if got := periodStart(PeriodWeek, sunday); !got.Equal(time.Date(2026, 5, 11, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("week of a Sunday starts %s", got)
	}
	if _, err := periods(PeriodWeek, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("26 years of weeks accepted")
	}
}
