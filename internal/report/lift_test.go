package report_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/stats"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The lift fixtures: an event campaign (id 1, an exhibition on the team
// days 2026-03-10 and 11, Asia/Shanghai) and groups of persons built to
// given counts, so that every figure is known by construction.
var (
	liftFrom = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	liftTo   = time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	// w0 is the window's first instant: midnight of 10 March in Shanghai.
	w0 = time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC)
)

// liftGroup is n persons of one stratum and group: the first mql of them
// reach MQL three days into the window, the first opp of those an
// opportunity of ¥100,000 ten days in (its only contact).
type liftGroup struct {
	industry string
	cohort   bool
	n        int
	mql, opp int
}

// liftWorld loads the groups and the persons every fixture has around
// them:
//
//   - every person an account of its stratum's industry (size 100-499,
//     region east), a lead since 40 days before the window, a paid
//     search touch 20 days before it and, in the window, a badge scan of
//     the event on its first day (cohort) or a direct visit on its second
//     (baseline);
//   - a cohort person of an industry no baseline person has (energy), who
//     reaches MQL: in the cohort, never matched;
//   - a baseline person of the first group's industry who was an MQL
//     before the window: matched, but not among those who could reach MQL;
//   - a person the event touched only before the window, active in it:
//     in neither group;
//   - an anonymous touch of the event in the window: nobody's.
//
// extra adds rows to the load.
func liftWorld(t *testing.T, s *store.Store, groups []liftGroup, extra func(ins func(table, cols string, rows ...[]any))) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) {
			if len(rows) == 0 {
				return
			}
			if err := l.Insert(table, strings.Split(cols, ","), rows); err != nil {
				t.Fatal(err)
			}
		}
		ins("campaigns", "id,code,name,channel,kind,start_date,end_date,created_at",
			[]any{int64(1), "expo", "博览会", "offline_event", "exhibition", liftFrom, liftTo, w0.AddDate(0, -2, 0)},
			[]any{int64(2), "tiny", "小沙龙", "offline_event", "salon", liftFrom, liftTo, w0.AddDate(0, -2, 0)})
		var accounts, persons, touches, changes, opps, contacts [][]any
		var pid, tid, cid, oid int64
		person := func(industry string, lead bool) int64 {
			pid++
			accounts = append(accounts, []any{pid, "公司", industry, "100-499", "east", w0.AddDate(0, -3, 0)})
			var leadAt any
			if lead {
				leadAt = w0.AddDate(0, 0, -40)
				cid++
				changes = append(changes, []any{cid, pid, "visitor", "lead", leadAt})
			}
			persons = append(persons, []any{pid, pid, "lead", w0.AddDate(0, 0, -30), leadAt, w0.AddDate(0, 0, -30)})
			return pid
		}
		touch := func(p any, at time.Time, typ, ch string, campaign any) {
			tid++
			touches = append(touches, []any{tid, p, at, typ, ch, campaign})
		}
		change := func(p int64, from, to string, at time.Time) {
			cid++
			changes = append(changes, []any{cid, p, from, to, at})
		}
		opportunity := func(amountFen int64, at time.Time, contactIDs ...int64) {
			oid++
			opps = append(opps, []any{oid, contactIDs[0], "商机", "open", amountFen, at})
			for _, c := range contactIDs {
				contacts = append(contacts, []any{oid, c})
			}
		}
		for _, g := range groups {
			for i := 0; i < g.n; i++ {
				p := person(g.industry, true)
				touch(p, w0.AddDate(0, 0, -20), "ad_click", "paid_search", nil)
				if g.cohort {
					touch(p, w0.Add(2*time.Hour), "badge_scan", "offline_event", int64(1))
				} else {
					touch(p, w0.Add(30*time.Hour), "page_view", "direct", nil)
				}
				if i < g.mql {
					change(p, "lead", "mql", w0.AddDate(0, 0, 3))
				} else if i == g.n-1 {
					// Too late: after the 30-day follow window.
					change(p, "lead", "mql", w0.AddDate(0, 0, 2+30+1))
				}
				if i < g.opp {
					change(p, "mql", "opportunity", w0.AddDate(0, 0, 10))
					opportunity(10_000_000, w0.AddDate(0, 0, 10), p)
				}
			}
		}
		// The cohort person without a baseline stratum.
		p := person("energy", true)
		touch(p, w0.AddDate(0, 0, -20), "ad_click", "paid_search", nil)
		touch(p, w0.Add(3*time.Hour), "badge_scan", "offline_event", int64(1))
		change(p, "lead", "mql", w0.AddDate(0, 0, 4))
		// The baseline person who was an MQL before.
		p = person(groups[0].industry, true)
		touch(p, w0.AddDate(0, 0, -20), "ad_click", "paid_search", nil)
		touch(p, w0.Add(30*time.Hour), "page_view", "direct", nil)
		change(p, "lead", "mql", w0.AddDate(0, 0, -10))
		// The person the event touched before the window.
		p = person(groups[0].industry, true)
		touch(p, w0.AddDate(0, 0, -5), "badge_scan", "offline_event", int64(1))
		touch(p, w0.Add(30*time.Hour), "page_view", "direct", nil)
		change(p, "lead", "mql", w0.AddDate(0, 0, 3))
		// An anonymous touch of the event.
		touch(nil, w0.Add(27*time.Hour), "badge_scan", "offline_event", int64(1))
		ins("accounts", "id,name,industry,size_band,region,created_at", accounts...)
		ins("persons", "id,account_id,stage,first_seen_at,lead_at,created_at", persons...)
		ins("touchpoints", "id,person_id,occurred_at,type,channel,campaign_id", touches...)
		ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at", changes...)
		ins("opportunities", "id,account_id,name,stage,amount_fen,created_at", opps...)
		ins("opportunity_contacts", "opportunity_id,person_id", contacts...)
		if extra != nil {
			extra(ins)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func liftOf(t *testing.T, s *store.Store, id int64, q report.LiftQuery) *report.Lift {
	t.Helper()
	if q.FollowDays == 0 {
		q.FollowDays = 30
	}
	q.Period.Cal = model.DefaultCalendar()
	l, err := report.Reporter{Store: s}.Lift(ctx, id, q)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func outcome(t *testing.T, l *report.Lift, key string) report.LiftOutcome {
	t.Helper()
	for _, o := range l.Outcomes {
		if o.Outcome == key {
			return o
		}
	}
	t.Fatalf("no outcome %s", key)
	return report.LiftOutcome{}
}

func closeTo(t *testing.T, what string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > tol {
		t.Errorf("%s = %v, want %.6f", what, deref(got), want)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestLiftFindsAKnownEffect: in both industries the event's cohort
// reaches MQL at twice the baseline's rate or more.
//
//	retail:   cohort 40, 20 reach MQL, 10 an opportunity; baseline 80 (+1 MQL before), 16 and 4
//	software: cohort 60, 24 and 12;                         baseline 60, 12 and 3
//
// The MH weights are 40·80/120 = 26.667 and 60·60/120 = 30 (ΣW 56.667),
// so the cohort's rate is (26.667·0.5 + 30·0.4)/56.667 = 0.447059, the
// baseline's (26.667·0.2 + 30·0.2)/56.667 = 0.2 and the lift 0.247059
// (relative: 1.235294). For the opportunity outcome the retail baseline
// has 81 persons who could reach it (the former MQL too): W = 40·81/121 =
// 26.777, rates (26.777·0.25 + 30·0.2)/56.777 = 0.223581 and
// (26.777·4/81 + 30·0.05)/56.777 = 0.049709. Pipeline: ¥100,000 for each
// opportunity, plus one of ¥50,000 shared by a software cohort and a
// software baseline person (¥25,000 each): cohort means ¥25,000 (retail)
// and ¥20,416.67 (software: ¥1,225,000 / 60), baseline ¥4,938.27 (retail:
// ¥400,000 / 81) and ¥5,416.67 (¥325,000 / 60).
func TestLiftFindsAKnownEffect(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		groups := []liftGroup{
			{industry: "retail", cohort: true, n: 40, mql: 20, opp: 10},
			{industry: "retail", n: 80, mql: 16, opp: 4},
			{industry: "software", cohort: true, n: 60, mql: 24, opp: 12},
			{industry: "software", n: 60, mql: 12, opp: 3},
		}
		liftWorld(t, s, groups, func(ins func(table, cols string, rows ...[]any)) {
			// Person 121 is the software cohort's first, 181 the software
			// baseline's first.
			ins("opportunities", "id,account_id,name,stage,amount_fen,created_at", []any{int64(1000), int64(121), "共享商机", "open", int64(5_000_000), w0.AddDate(0, 0, 12)})
			ins("opportunity_contacts", "opportunity_id,person_id", []any{int64(1000), int64(121)}, []any{int64(1000), int64(181)})
		})
		l := liftOf(t, s, 1, report.LiftQuery{})
		if l.From != "2026-03-10" || l.To != "2026-03-11" || l.FollowTo != "2026-04-10" || !l.Complete {
			t.Errorf("window %s – %s, follow to %s, complete %v", l.From, l.To, l.FollowTo, l.Complete)
		}
		if l.Cohort != (report.LiftGroupSize{Persons: 101, Matched: 100}) || l.Baseline != (report.LiftGroupSize{Persons: 141, Matched: 141}) {
			t.Errorf("groups: cohort %+v, baseline %+v", l.Cohort, l.Baseline)
		}
		if l.Matching.Strata != 2 || l.Matching.CohortStrata != 3 {
			t.Errorf("matching %+v", l.Matching)
		}
		closeTo(t, "matched share", l.Matching.CohortMatchedShare, 100.0/101, 1e-12)

		mql := outcome(t, l, report.OutcomeMQL)
		if mql.Cohort.Persons != 100 || mql.Cohort.Reached != 44 || mql.Baseline.Persons != 140 || mql.Baseline.Reached != 28 {
			t.Errorf("MQL counts %+v %+v", mql.Cohort, mql.Baseline)
		}
		closeTo(t, "cohort MQL rate", mql.Cohort.Value, 0.447059, 5e-7)
		closeTo(t, "baseline MQL rate", mql.Baseline.Value, 0.2, 1e-12)
		closeTo(t, "MQL lift", mql.AbsoluteLift, 0.247059, 5e-7)
		closeTo(t, "MQL relative lift", mql.RelativeLift, 1.235294, 5e-6)
		want, _ := stats.MantelHaenszel([]stats.Stratum{{N1: 40, X1: 20, N0: 80, X0: 16}, {N1: 60, X1: 24, N0: 60, X0: 12}}, stats.Z(0.95))
		if *mql.AbsoluteCI != want.NewcombeCI || *mql.SatoCI != want.DiffCI || mql.AbsoluteCI.Lo <= 0 || mql.Verdict != report.VerdictLift {
			t.Errorf("MQL interval %+v (want %+v), verdict %s", mql.AbsoluteCI, want.NewcombeCI, mql.Verdict)
		}
		// Unadjusted: every cohort person (the energy one reached MQL) and
		// every baseline person who could.
		un := mql.Unadjusted
		if un.CohortPersons != 101 || un.CohortReached != 45 || un.BaselinePersons != 140 || un.BaselineReached != 28 {
			t.Errorf("unadjusted %+v", un)
		}
		wc, _ := stats.Wilson(45, 101, stats.Z(0.95))
		nd, _ := stats.NewcombeDiff(45, 101, 28, 140, stats.Z(0.95))
		if *un.CohortCI != wc || *un.DifferenceCI != nd {
			t.Errorf("unadjusted intervals %+v %+v", un.CohortCI, un.DifferenceCI)
		}

		opp := outcome(t, l, report.OutcomeOpportunity)
		if opp.Cohort.Persons != 100 || opp.Cohort.Reached != 22 || opp.Baseline.Persons != 141 || opp.Baseline.Reached != 7 {
			t.Errorf("opportunity counts %+v %+v", opp.Cohort, opp.Baseline)
		}
		closeTo(t, "cohort opportunity rate", opp.Cohort.Value, 0.223581, 5e-7)
		closeTo(t, "baseline opportunity rate", opp.Baseline.Value, 0.049709, 5e-7)
		if opp.Verdict != report.VerdictLift {
			t.Errorf("opportunity verdict %s, interval %+v", opp.Verdict, opp.AbsoluteCI)
		}

		pipe := outcome(t, l, report.OutcomePipeline)
		if pipe.Unit != "cny" || pipe.Cohort.Persons != 100 || pipe.Cohort.Reached != 22 || pipe.Baseline.Persons != 141 || pipe.Baseline.Reached != 7 {
			t.Errorf("pipeline counts %+v %+v", pipe.Cohort, pipe.Baseline)
		}
		wm, _ := stats.StratifiedMeans([]stats.MeanStratum{
			{N1: 40, Sum1: 10e7, SumSq1: 10 * 1e14, N0: 81, Sum0: 4e7, SumSq0: 4 * 1e14},
			{N1: 60, Sum1: 12e7 + 2.5e6, SumSq1: 11*1e14 + 1.25e7*1.25e7, N0: 60, Sum0: 3e7 + 2.5e6, SumSq0: 2*1e14 + 1.25e7*1.25e7},
		}, 0.95)
		// Means in yuan: cohort (W 26.777·25,000 + 30·20,416.67)/56.777.
		closeTo(t, "cohort pipeline", pipe.Cohort.Value, math.Round(wm.Mean1)/100, 0.005)
		closeTo(t, "baseline pipeline", pipe.Baseline.Value, math.Round(wm.Mean0)/100, 0.005)
		closeTo(t, "cohort pipeline by hand", pipe.Cohort.Value, (26.7768595*25000+30*20416.6667)/56.7768595, 0.01)
		closeTo(t, "pipeline lift", pipe.AbsoluteLift, math.Round(wm.Diff)/100, 0.005)
		if pipe.AbsoluteCI.Lo <= 0 || pipe.Verdict != report.VerdictLift {
			t.Errorf("pipeline interval %+v, verdict %s", pipe.AbsoluteCI, pipe.Verdict)
		}
		closeTo(t, "unadjusted cohort pipeline", pipe.Unadjusted.CohortValue, (10e5+12e5+25000)/101.0, 0.005)

		// The strata: the largest cohort first; the energy one unmatched.
		if len(l.Strata) != 3 || l.StrataTotal != 3 {
			t.Fatalf("strata %+v", l.Strata)
		}
		sw, re, en := l.Strata[0], l.Strata[1], l.Strata[2]
		if sw.Industry != "software" || sw.Cohort != 60 || sw.Baseline != 60 || re.Industry != "retail" || re.Baseline != 81 ||
			en.Industry != "energy" || en.Baseline != 0 || en.WeightShare != 0 || sw.PriorChannel != model.ChannelPaidSearch || !sw.LeadBefore ||
			sw.SizeBand != "100-499" || sw.Region != "east" {
			t.Errorf("strata %+v", l.Strata)
		}
		closeTo(t, "software weight", &sw.WeightShare, 30/(30+40*81/121.0), 1e-9)
		closeTo(t, "retail baseline MQL rate", re.BaselineMQLRate, 16.0/80, 1e-12)
		closeTo(t, "software cohort pipeline", sw.CohortPipeline, 1225000.0/60, 0.005)
	})
}

// TestLiftFindsNoEffectWhereThereIsNone: the same persons, both groups
// reaching every outcome at the same rates (30 % MQL, 10 % opportunity):
// the lift is 0, its interval contains 0, and the verdict says so.
func TestLiftFindsNoEffectWhereThereIsNone(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		liftWorld(t, s, []liftGroup{
			{industry: "retail", cohort: true, n: 40, mql: 12, opp: 4},
			{industry: "retail", n: 80, mql: 24, opp: 8},
			{industry: "software", cohort: true, n: 60, mql: 18, opp: 6},
			{industry: "software", n: 60, mql: 18, opp: 6},
		}, nil)
		l := liftOf(t, s, 1, report.LiftQuery{})
		o := outcome(t, l, report.OutcomeMQL)
		if o.AbsoluteLift == nil || math.Abs(*o.AbsoluteLift) > 1e-12 || !o.AbsoluteCI.Contains(0) || o.Verdict != report.VerdictNoLift {
			t.Errorf("MQL: lift %v, interval %+v, verdict %s", deref(o.AbsoluteLift), o.AbsoluteCI, o.Verdict)
		}
		// The opportunity rate and the pipeline differ a little, through
		// the former MQL in the retail baseline (8 opportunities of 81
		// persons against 4 of 40): the pipeline lift is
		// 26.777·(¥10,000 − ¥9,876.54)/56.777 = ¥58.23; no verdict either way.
		for _, key := range []string{report.OutcomeOpportunity, report.OutcomePipeline} {
			o := outcome(t, l, key)
			if o.AbsoluteCI == nil || !o.AbsoluteCI.Contains(0) || o.Verdict != report.VerdictNoLift {
				t.Errorf("%s: lift %v, interval %+v, verdict %s", key, deref(o.AbsoluteLift), o.AbsoluteCI, o.Verdict)
			}
		}
		closeTo(t, "pipeline lift", outcome(t, l, report.OutcomePipeline).AbsoluteLift, 26.7768595*(10000-800000.0/81)/56.7768595, 0.006)
	})
}

// TestLiftTooSmall: a cohort under the minimum gets figures but no
// verdict; a window with nobody in it, no figures.
func TestLiftTooSmall(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		liftWorld(t, s, []liftGroup{
			{industry: "retail", cohort: true, n: 12, mql: 10, opp: 5},
			{industry: "retail", n: 200, mql: 20, opp: 5},
		}, nil)
		l := liftOf(t, s, 1, report.LiftQuery{})
		for _, o := range l.Outcomes {
			if o.Verdict != report.VerdictTooSmall || o.AbsoluteLift == nil {
				t.Errorf("%s: verdict %s, lift %v", o.Outcome, o.Verdict, deref(o.AbsoluteLift))
			}
		}
		// Campaign 2 touched nobody.
		l = liftOf(t, s, 2, report.LiftQuery{})
		if l.Cohort.Persons != 0 || l.Baseline.Persons != 215 || len(l.Strata) != 0 || l.Matching.CohortMatchedShare != nil {
			t.Errorf("empty cohort: %+v", l)
		}
		for _, o := range l.Outcomes {
			if o.Verdict != report.VerdictTooSmall || o.AbsoluteLift != nil || o.Cohort.Value != nil {
				t.Errorf("%s: %+v", o.Outcome, o)
			}
		}
	})
}

// TestLiftWindows: a window from the query rather than the campaign's
// dates, one still running, and the bounds.
func TestLiftWindows(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		liftWorld(t, s, []liftGroup{
			{industry: "retail", cohort: true, n: 40, mql: 20, opp: 10},
			{industry: "retail", n: 80, mql: 16, opp: 4},
		}, nil)
		// A window of the second day only: the cohort's badge scans were
		// on the first, so nobody is in the cohort.
		q := report.LiftQuery{Period: model.Period{From: liftTo, To: liftTo}}
		l := liftOf(t, s, 1, q)
		if l.Cohort.Persons != 0 || l.From != "2026-03-11" {
			t.Errorf("second day: cohort %+v from %s", l.Cohort, l.From)
		}
		// Still running: now is within the follow window.
		l = liftOf(t, s, 1, report.LiftQuery{Now: w0.AddDate(0, 0, 20), FollowDays: 90})
		if l.Complete || l.FollowTo != "2026-06-09" {
			t.Errorf("running: complete %v, follow to %s", l.Complete, l.FollowTo)
		}
		r := report.Reporter{Store: s}
		for _, q := range []report.LiftQuery{{FollowDays: 0}, {FollowDays: 366},
			{FollowDays: 90, Period: model.Period{From: liftFrom.AddDate(-2, 0, 0), To: liftTo}}} {
			q.Period.Cal = model.DefaultCalendar()
			if _, err := r.Lift(ctx, 1, q); err == nil {
				t.Errorf("%+v: no error", q)
			}
		}
		if _, err := r.Lift(ctx, 99, report.LiftQuery{FollowDays: 90, Period: model.Period{Cal: model.DefaultCalendar()}}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown campaign: %v", err)
		}
	})
}
