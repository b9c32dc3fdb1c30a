package report_test

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// dashCase is a range and a model the dashboards are checked over.
type dashCase struct {
	name     string
	from, to time.Time
	model    string
}

func dashCases() []dashCase {
	return []dashCase{
		{"year, linear", demoEnd.AddDate(-1, 0, 1), demoEnd, "linear"},
		{"a quarter, first touch", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), "first"},
		{"one month, w-shaped", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC), "w-shaped"},
		{"after the data", demoEnd.AddDate(0, 1, 0), demoEnd.AddDate(0, 2, 0), "linear"},
	}
}

// expectEvent is one event's figures computed from the base tables.
type expectEvent struct {
	regs, atts, watch, viewers, long   int64
	leads, mqls, sqls, opps, customers int64
	pipe, won                          float64
	credRows                           int
	credited                           bool            // a credit row with a share under the model
	influenced                         map[int64]int64 // conversion → value
	cost                               int64
}

func (f *facts) expectEvents(p model.Period, col string) map[int64]*expectEvent {
	out := map[int64]*expectEvent{}
	of := func(id int64) *expectEvent {
		if out[id] == nil {
			out[id] = &expectEvent{influenced: map[int64]int64{}}
		}
		return out[id]
	}
	for _, x := range f.touches {
		if _, ok := f.campaigns[x.campaign]; !ok || !f.in(p, x.at) {
			continue
		}
		e := of(x.campaign)
		switch {
		case slices.Contains(report.RegistrationTypes, x.typ):
			e.regs++
		case slices.Contains(report.AttendanceTypes, x.typ):
			e.atts++
		}
		e.watch += x.watch
		if x.watch > 0 {
			e.viewers++
			if x.watch >= 1800 {
				e.long++
			}
		}
	}
	for _, l := range f.leads {
		if _, ok := f.campaigns[l.campaign]; !ok || !f.in(p, l.at) {
			continue
		}
		e := of(l.campaign)
		e.leads++
		for _, x := range []struct {
			n  *int64
			st model.Stage
		}{{&e.mqls, model.StageMQL}, {&e.sqls, model.StageSQL}, {&e.opps, model.StageOpportunity}, {&e.customers, model.StageCustomer}} {
			if l.reached >= x.st.Rank() {
				*x.n++
			}
		}
	}
	for _, c := range f.credits {
		if _, ok := f.campaigns[c.campaign]; !ok || !f.in(p, c.at) {
			continue
		}
		e := of(c.campaign)
		e.credRows++
		e.credited = e.credited || c.share[col] != 0
		switch c.kind {
		case "opportunity":
			e.pipe += c.share[col] * float64(c.value)
			e.influenced[c.conv] = c.value
		case "won":
			e.won += c.share[col] * float64(c.value)
		}
	}
	for _, c := range f.costs {
		if _, ok := f.campaigns[c.campaign]; ok && p.Contains(c.day) {
			of(c.campaign).cost += c.fen
		}
	}
	return out
}

func perOf(m model.Money, n int64) *model.Money {
	if n == 0 || m == 0 {
		return nil
	}
	v := model.Money(math.Round(float64(m) / float64(n)))
	return &v
}

func sameMoney(a, b *model.Money) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// Every figure of the events dashboard equals the same figure computed
// from the base tables, the total is the sum of the rows, and the months
// add up to the total.
func TestEventsAgainstBaseTables(t *testing.T) {
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
				got, err := r.Events(ctx, report.EventsQuery{Period: p, Model: tc.model})
				if err != nil {
					t.Fatal(err)
				}
				want := f.expectEvents(p, col)
				var wantIDs []int64
				for id, c := range f.campaigns {
					e := want[id]
					active := e != nil && (e.regs+e.atts+e.watch+e.leads+e.cost != 0 || e.credited || len(e.influenced) > 0)
					end := c.end
					if end.Before(c.start) {
						end = c.start
					}
					dated := !c.start.IsZero() && !c.start.After(tc.to) && !end.Before(tc.from)
					if active || (dated && !f.parents[id]) {
						wantIDs = append(wantIDs, id)
					}
				}
				var gotIDs []int64
				for _, row := range got.Events {
					gotIDs = append(gotIDs, row.ID)
				}
				slices.Sort(wantIDs)
				slices.Sort(gotIDs)
				if !slices.Equal(gotIDs, wantIDs) {
					t.Fatalf("events %v, want %v", gotIDs, wantIDs)
				}
				if tc.name != "after the data" && len(gotIDs) == 0 {
					t.Fatal("no events in the range: the test checks nothing")
				}

				var sum report.EventFigures
				var sumInfl, registeredAtt int64
				for _, row := range got.Events {
					e := want[row.ID]
					if e == nil {
						e = &expectEvent{influenced: map[int64]int64{}}
					}
					var infl int64
					for _, v := range e.influenced {
						infl += v
					}
					g := row.EventFigures
					if g.Registrations != e.regs || g.Attendances != e.atts || g.WatchSeconds != e.watch || g.Viewers != e.viewers || g.LongViewers != e.long {
						t.Errorf("event %d touches: got reg %d att %d watch %d viewers %d long %d, want %d %d %d %d %d", row.ID,
							g.Registrations, g.Attendances, g.WatchSeconds, g.Viewers, g.LongViewers, e.regs, e.atts, e.watch, e.viewers, e.long)
					}
					if g.Leads != e.leads || g.MQLs != e.mqls || g.SQLs != e.sqls || g.Opportunities != e.opps || g.Customers != e.customers {
						t.Errorf("event %d leads: got %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d", row.ID, g.Leads, g.MQLs, g.SQLs, g.Opportunities, g.Customers,
							e.leads, e.mqls, e.sqls, e.opps, e.customers)
					}
					if !near(g.CreditedPipeline, e.pipe, e.credRows) || !near(g.WonRevenue, e.won, e.credRows) {
						t.Errorf("event %d credited: pipeline %v won %v, want %.2f %.2f", row.ID, g.CreditedPipeline, g.WonRevenue, e.pipe, e.won)
					}
					if g.InfluencedPipeline == nil || int64(*g.InfluencedPipeline) != infl || *g.InfluencedOpportunities != int64(len(e.influenced)) {
						t.Errorf("event %d influenced: %v (%v), want %d (%d)", row.ID, g.InfluencedPipeline, g.InfluencedOpportunities, infl, len(e.influenced))
					}
					if int64(g.Cost) != e.cost {
						t.Errorf("event %d cost %d, want %d", row.ID, g.Cost, e.cost)
					}
					checkEventRates(t, row.ID, g, g.Attendances)
					if row.Href == "" || row.Channel != model.Channel(f.campaigns[row.ID].channel) {
						t.Errorf("event %d: href %q channel %s", row.ID, row.Href, row.Channel)
					}
					sum.Registrations += g.Registrations
					sum.Attendances += g.Attendances
					if g.Registrations > 0 {
						registeredAtt += g.Attendances
					}
					sum.WatchSeconds += g.WatchSeconds
					sum.Viewers += g.Viewers
					sum.LongViewers += g.LongViewers
					sum.Leads += g.Leads
					sum.MQLs += g.MQLs
					sum.SQLs += g.SQLs
					sum.CreditedPipeline += g.CreditedPipeline
					sum.WonRevenue += g.WonRevenue
					sum.Cost += g.Cost
					sumInfl += infl
				}
				tot := got.Total
				if tot.Registrations != sum.Registrations || tot.Attendances != sum.Attendances || tot.WatchSeconds != sum.WatchSeconds ||
					tot.Viewers != sum.Viewers || tot.LongViewers != sum.LongViewers || tot.Leads != sum.Leads || tot.MQLs != sum.MQLs ||
					tot.SQLs != sum.SQLs || tot.CreditedPipeline != sum.CreditedPipeline || tot.WonRevenue != sum.WonRevenue || tot.Cost != sum.Cost {
					t.Errorf("total %+v is not the sum of the rows %+v", tot, sum)
				}
				if tot.InfluencedPipeline != nil || tot.InfluencedOpportunities != nil {
					t.Error("the total shows influence, which does not add up")
				}
				checkEventRates(t, 0, tot, registeredAtt)

				// The months add up to the total, and each month is the
				// base tables' month.
				var ms report.EventMonth
				wantMonth := map[string]*report.EventMonth{}
				for _, x := range f.touches {
					if _, ok := f.campaigns[x.campaign]; ok && f.in(p, x.at) && slices.Contains(report.RegistrationTypes, x.typ) {
						if wantMonth[f.month(x.at)] == nil {
							wantMonth[f.month(x.at)] = &report.EventMonth{}
						}
						wantMonth[f.month(x.at)].Registrations++
					}
				}
				for _, l := range f.leads {
					if _, ok := f.campaigns[l.campaign]; ok && f.in(p, l.at) {
						if wantMonth[f.month(l.at)] == nil {
							wantMonth[f.month(l.at)] = &report.EventMonth{}
						}
						wantMonth[f.month(l.at)].Leads++
					}
				}
				for i, m := range got.Months {
					if i > 0 && m.Month <= got.Months[i-1].Month {
						t.Errorf("months out of order: %s after %s", m.Month, got.Months[i-1].Month)
					}
					w := wantMonth[m.Month]
					if w == nil {
						w = &report.EventMonth{}
					}
					if m.Registrations != w.Registrations || m.Leads != w.Leads {
						t.Errorf("month %s: registrations %d leads %d, want %d %d", m.Month, m.Registrations, m.Leads, w.Registrations, w.Leads)
					}
					ms.Registrations += m.Registrations
					ms.Attendances += m.Attendances
					ms.WatchSeconds += m.WatchSeconds
					ms.Leads += m.Leads
					ms.MQLs += m.MQLs
					ms.Cost += m.Cost
					ms.CreditedPipeline += m.CreditedPipeline
					ms.WonRevenue += m.WonRevenue
				}
				if ms.Registrations != tot.Registrations || ms.Attendances != tot.Attendances || ms.WatchSeconds != tot.WatchSeconds ||
					ms.Leads != tot.Leads || ms.MQLs != tot.MQLs || ms.Cost != tot.Cost ||
					!near(ms.CreditedPipeline, float64(tot.CreditedPipeline), 2*len(got.Events)+len(got.Months)) ||
					!near(ms.WonRevenue, float64(tot.WonRevenue), 2*len(got.Events)+len(got.Months)) {
					t.Errorf("months %+v do not add up to the total %+v", ms, tot)
				}
			})
		}

		// The drill-down: the event's row again, its days adding up to it,
		// the funnel of its leads.
		p := model.Period{From: demoEnd.AddDate(-1, 0, 1), To: demoEnd, Cal: f.cal}
		all, err := r.Events(ctx, report.EventsQuery{Period: p, Model: "linear"})
		if err != nil {
			t.Fatal(err)
		}
		var best report.EventRow
		for _, row := range all.Events {
			if row.Attendances+row.Registrations > best.Attendances+best.Registrations {
				best = row
			}
		}
		got, err := r.Events(ctx, report.EventsQuery{Period: p, Model: "linear", Event: best.ID})
		if err != nil {
			t.Fatal(err)
		}
		d := got.Event
		if d == nil || d.ID != best.ID || d.EventFigures.Registrations != best.Registrations || d.Leads != best.Leads || d.CreditedPipeline != best.CreditedPipeline {
			t.Fatalf("detail %+v, want the row %+v", d, best)
		}
		var reg, att, leads int64
		for _, day := range d.Days {
			reg += day.Registrations
			att += day.Attendances
			leads += day.Leads
		}
		if reg != best.Registrations || att != best.Attendances || leads != best.Leads || len(d.Days) == 0 {
			t.Errorf("days add up to %d/%d/%d, want %d/%d/%d", reg, att, leads, best.Registrations, best.Attendances, best.Leads)
		}
		wantFunnel := []int64{best.Leads, best.MQLs, best.SQLs, best.Opportunities, best.Customers}
		for i, st := range d.Funnel {
			if st.Count != wantFunnel[i] || (i > 0 && !same(st.Rate, ratioOf(wantFunnel[i], wantFunnel[i-1]))) {
				t.Errorf("funnel %s: %d (%s)", st.Stage, st.Count, show(st.Rate))
			}
		}

		// Not an event, not a model.
		if _, err := r.Events(ctx, report.EventsQuery{Period: p, Model: "linear", Event: 999999}); !errors.Is(err, report.ErrNoSuchEvent) {
			t.Errorf("unknown event: %v", err)
		}
		if _, err := r.Events(ctx, report.EventsQuery{Period: p, Model: "magic"}); err == nil {
			t.Error("unknown model accepted")
		}
	})
}

// checkEventRates recomputes an event's rates from its counts and money.
// Only the attendances of events with registrations (registered) count
// towards the attendance rate.
func checkEventRates(t *testing.T, id int64, g report.EventFigures, registered int64) {
	t.Helper()
	if !same(g.AttendanceRate, ratioOf(registered, g.Registrations)) || !same(g.LongViewShare, ratioOf(g.LongViewers, g.Viewers)) {
		t.Errorf("event %d rates: attendance %s long %s", id, show(g.AttendanceRate), show(g.LongViewShare))
	}
	var avg *float64
	if g.Viewers > 0 {
		v := math.Round(float64(g.WatchSeconds)/60/float64(g.Viewers)*10) / 10
		avg = &v
	}
	if !same(g.AvgWatchMinutes, avg) {
		t.Errorf("event %d average watch %s, want %s", id, show(g.AvgWatchMinutes), show(avg))
	}
	if !sameMoney(g.CostPerLead, perOf(g.Cost, g.Leads)) || !sameMoney(g.CostPerAttendee, perOf(g.Cost, g.Attendances)) {
		t.Errorf("event %d cost per lead %v per attendee %v", id, g.CostPerLead, g.CostPerAttendee)
	}
	if !same(g.ROAS, ratioOf(int64(g.WonRevenue), int64(g.Cost))) {
		t.Errorf("event %d ROAS %s", id, show(g.ROAS))
	}
}
