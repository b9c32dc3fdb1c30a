package demo_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
)

// TestBrandEventLift checks the demo's brand event (brandlift.go): the
// retail expo's attendees reach MQL and opportunity at a clearly higher
// rate than the matched baseline, and more than the other exhibitions'
// attendees do over theirs. Then it takes a campaign other than the expo
// at random and checks that the intervals the lift page draws are honest:
// cohorts of persons drawn at random from that campaign's baseline —
// placebo campaigns, which cannot have changed anything — are found to
// have no lift about as often as a 95 % interval promises.
func TestBrandEventLift(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a demo")
	}
	onBothEngines(t, demo.Options{Seed: 3, End: end, Scale: 0.3}, func(t *testing.T, w world) {
		camps, err := w.s.AllCampaigns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r := report.Reporter{Store: w.s}
		lift := func(id int64) *report.Lift {
			t.Helper()
			l, err := r.Lift(ctx, id, report.LiftQuery{FollowDays: 90, Period: model.Period{Cal: model.DefaultCalendar()}})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		var expo model.Campaign
		others := map[string]float64{}
		for _, c := range camps {
			if c.Code == "evt-retail-expo" {
				expo = c
				continue
			}
			if c.Kind == "exhibition" {
				if o := outcomeOf(lift(c.ID), report.OutcomeMQL); o.AbsoluteLift != nil {
					others[c.Code] = *o.AbsoluteLift
				}
			}
		}
		l := lift(expo.ID)
		mql, opp := outcomeOf(l, report.OutcomeMQL), outcomeOf(l, report.OutcomeOpportunity)
		t.Logf("expo: cohort %d (%d matched), baseline %d; MQL %.3f vs %.3f, lift %.3f [%.3f, %.3f]; opportunity %.3f vs %.3f; other exhibitions' MQL lift %v",
			l.Cohort.Persons, l.Cohort.Matched, l.Baseline.Matched, *mql.Cohort.Value, *mql.Baseline.Value, *mql.AbsoluteLift,
			mql.AbsoluteCI.Lo, mql.AbsoluteCI.Hi, *opp.Cohort.Value, *opp.Baseline.Value, others)
		if mql.Verdict != report.VerdictLift || mql.AbsoluteCI.Lo < 0.15 || opp.Verdict != report.VerdictLift {
			t.Errorf("expo: MQL %s %+v, opportunity %s %+v", mql.Verdict, mql.AbsoluteCI, opp.Verdict, opp.AbsoluteCI)
		}
		if len(others) < 2 {
			t.Fatalf("other exhibitions: %v", others)
		}
		for code, x := range others {
			if x >= mql.AbsoluteCI.Lo {
				t.Errorf("%s's MQL lift %.3f is not clearly below the expo's (interval from %.3f)", code, x, mql.AbsoluteCI.Lo)
			}
		}

		// A campaign other than the expo, at random (of a fixed seed).
		rng := rand.New(rand.NewPCG(14, 2026))
		var pick model.Campaign
		for pick.ID == 0 || pick.ID == expo.ID || pick.Kind == "programme" {
			pick = camps[rng.IntN(len(camps))]
		}
		pl := lift(pick.ID)
		for _, o := range pl.Outcomes {
			t.Logf("%s: %s %s, lift %v %+v", pick.Code, o.Outcome, o.Verdict, deref(o.AbsoluteLift), o.AbsoluteCI)
			if o.AbsoluteCI != nil && o.Verdict != report.VerdictTooSmall {
				want := report.VerdictNoLift
				if o.AbsoluteCI.Lo > 0 {
					want = report.VerdictLift
				} else if o.AbsoluteCI.Hi < 0 {
					want = report.VerdictDrop
				}
				if o.Verdict != want || !o.AbsoluteCI.Contains(*o.AbsoluteLift) {
					t.Errorf("%s %s: verdict %s for interval %+v around %v", pick.Code, o.Outcome, o.Verdict, o.AbsoluteCI, *o.AbsoluteLift)
				}
			}
		}
		checkPlacebos(t, w, r, pick, rng)
	})
}

// checkPlacebos draws 20 cohorts of 150 persons at random from the
// persons active in the campaign's window whom no campaign of theirs
// decides (any active person the campaign never touched), gives each a
// touch of a placebo campaign of its own at the time of one of its touches
// in the window, and asks each placebo's lift: being drawn at random, a
// cohort has no lift, so a 95 % interval excludes 0 about once in twenty.
// Allowed: at most 4 of the 20 on reaching MQL (a chance of 0.3 % for a
// true 95 % interval) and 9 of the 60 over the three outcomes.
func checkPlacebos(t *testing.T, w world, r report.Reporter, c model.Campaign, rng *rand.Rand) {
	t.Helper()
	cal := model.DefaultCalendar()
	to := c.EndDate
	if to.IsZero() {
		to = c.StartDate
	}
	win := model.Period{From: c.StartDate, To: to, Cal: cal}.Window()
	q := func(s string) string { return rebindFor(w.s, s) }
	// Each active person's first touch in the window, if the campaign never
	// touched them.
	rows, err := w.db.QueryContext(ctx, q(`SELECT t.person_id, MIN(t.id) FROM touchpoints t WHERE t.occurred_at >= ? AND t.occurred_at < ?
		AND t.person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM touchpoints x WHERE x.campaign_id = ? AND x.person_id = t.person_id)
		GROUP BY t.person_id ORDER BY t.person_id`), win.From.UTC(), win.To.UTC(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var pool []int64 // touch ids
	for rows.Next() {
		var pid, tid int64
		if err := rows.Scan(&pid, &tid); err != nil {
			t.Fatal(err)
		}
		pool = append(pool, tid)
	}
	rows.Close()
	const draws, size = 20, 150
	if len(pool) < 4*size {
		t.Fatalf("%s: only %d persons active in its window", c.Code, len(pool))
	}
	var mqlMissed, allMissed, verdicts int
	for d := 0; d < draws; d++ {
		pc, err := w.s.CreateCampaign(ctx, model.Campaign{Code: fmt.Sprintf("placebo-%d", d), Name: "安慰剂", Channel: model.ChannelOfflineEvent,
			StartDate: c.StartDate, EndDate: to}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		ids := make([]string, size)
		for i, id := range pool[:size] {
			ids[i] = fmt.Sprint(id)
		}
		if _, err := w.db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO touchpoints (person_id, account_id, occurred_at, type, channel, campaign_id)
			SELECT person_id, account_id, occurred_at, 'badge_scan', 'offline_event', %d FROM touchpoints WHERE id IN (%s)`, pc.ID, strings.Join(ids, ","))); err != nil {
			t.Fatal(err)
		}
		l, err := r.Lift(ctx, pc.ID, report.LiftQuery{FollowDays: 90, Period: model.Period{Cal: cal}})
		if err != nil {
			t.Fatal(err)
		}
		if l.Cohort.Persons != size {
			t.Fatalf("placebo %d: cohort %d", d, l.Cohort.Persons)
		}
		for _, o := range l.Outcomes {
			if o.Verdict == report.VerdictTooSmall || o.AbsoluteCI == nil {
				continue
			}
			verdicts++
			if testing.Verbose() && !o.AbsoluteCI.Contains(0) {
				t.Logf("placebo %d %s: %v vs %v, lift %v %+v (%d/%d vs %d/%d)", d, o.Outcome, deref(o.Cohort.Value), deref(o.Baseline.Value), deref(o.AbsoluteLift), *o.AbsoluteCI, o.Cohort.Reached, o.Cohort.Persons, o.Baseline.Reached, o.Baseline.Persons)
			}
			if !o.AbsoluteCI.Contains(0) {
				allMissed++
				if o.Outcome == report.OutcomeMQL {
					mqlMissed++
				}
			}
		}
	}
	t.Logf("placebos in %s's window: %d of %d intervals exclude 0 (%d of %d on MQL)", c.Code, allMissed, verdicts, mqlMissed, draws)
	if verdicts < 2*draws {
		t.Errorf("only %d placebo outcomes had a verdict", verdicts)
	}
	if mqlMissed > 4 || allMissed > 9 {
		t.Errorf("placebo cohorts claim a lift or a drop too often: %d of %d on MQL, %d of %d in all", mqlMissed, draws, allMissed, verdicts)
	}
}

func outcomeOf(l *report.Lift, key string) report.LiftOutcome {
	for _, o := range l.Outcomes {
		if o.Outcome == key {
			return o
		}
	}
	return report.LiftOutcome{}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// rebindFor writes a query's ? placeholders as PostgreSQL's $n when the
// store is on PostgreSQL.
func rebindFor(s *store.Store, q string) string {
	if s.Dialect() != store.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
