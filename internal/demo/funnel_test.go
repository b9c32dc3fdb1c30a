package demo_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestDemoAtScaleOne checks the default dataset as a Chinese B2B marketing
// team would look at it: a lean funnel (2–4 % of leads become customers, a
// win rate of 20–30 %), grades with far fewer A than C and the rule that
// gave each, every MQL owned by an SDR within their capacity with most
// first follow-ups inside the SLA, and nothing dated after the last day.
// Another seed must tell the same story.
func TestDemoAtScaleOne(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the default dataset (about a minute)")
	}
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	onBothEngines(t, demo.Options{Seed: 1, End: end, Scale: 1}, func(t *testing.T, w world) {
		checkFunnel(t, w)
		checkGrades(t, w)
		checkRouting(t, w)
		checkSLAShare(t, w)
		checkWindow(t, w, end)
		checkJourneys(t, w, end)
	})
	t.Run("seed 2", func(t *testing.T) {
		s, db := openSQLite(t, storetest.SQLiteDSN(t))
		w := generate(t, s, db, demo.Options{Seed: 2, End: end, Scale: 1})
		checkFunnel(t, w)
		checkGrades(t, w)
		checkSLAShare(t, w)
	})
}

// checkFunnel: leads → customers (persons who became leads, of them those
// who became customers) 2–4 %; win rate (won ÷ won and lost, by count) 20–30 %.
func checkFunnel(t *testing.T, w world) {
	leads := w.count(t, "SELECT COUNT(*) FROM persons WHERE lead_at IS NOT NULL")
	customers := w.count(t, `SELECT COUNT(DISTINCT sc.person_id) FROM stage_changes sc JOIN persons p ON p.id = sc.person_id
		WHERE sc.to_stage = 'customer' AND p.lead_at IS NOT NULL`)
	mqls := w.count(t, "SELECT COUNT(DISTINCT person_id) FROM stage_changes WHERE to_stage = 'mql'")
	sqls := w.count(t, "SELECT COUNT(DISTINCT person_id) FROM stage_changes WHERE to_stage = 'sql'")
	won := w.count(t, "SELECT COUNT(*) FROM opportunities WHERE stage = 'closed_won'")
	lost := w.count(t, "SELECT COUNT(*) FROM opportunities WHERE stage = 'closed_lost'")
	toCustomer, winRate := float64(customers)/float64(leads), float64(won)/float64(won+lost)
	t.Logf("leads %d, MQLs %d, SQLs %d, customers %d: lead → customer %.2f%%; deals won %d, lost %d: win rate %.1f%%",
		leads, mqls, sqls, customers, 100*toCustomer, won, lost, 100*winRate)
	if toCustomer < 0.02 || toCustomer > 0.04 {
		t.Errorf("lead → customer %.2f%%, want 2–4%%", 100*toCustomer)
	}
	if winRate < 0.20 || winRate > 0.30 {
		t.Errorf("win rate %.1f%%, want 20–30%%", 100*winRate)
	}
}

// checkGrades: grades come from the lifecycle rules, each with the rule as
// who set it and its reason in the history; far fewer A than C.
func checkGrades(t *testing.T, w world) {
	leads := w.count(t, "SELECT COUNT(*) FROM persons WHERE lead_at IS NOT NULL")
	by := map[string]int64{}
	for _, g := range []string{"A", "B", "C", ""} {
		by[g] = w.count(t, "SELECT COUNT(*) FROM persons WHERE lead_at IS NOT NULL AND grade = '"+g+"'")
	}
	t.Logf("grades of %d leads: A %d, B %d, C %d, none %d", leads, by["A"], by["B"], by["C"], by[""])
	if by["A"] == 0 || by["A"]*3 > by["C"] || by["A"] >= by["B"] || by["A"]*10 > leads {
		t.Errorf("grades A %d, B %d, C %d of %d leads: want some A, far fewer than C", by["A"], by["B"], by["C"], leads)
	}
	zero := []struct{ what, query string }{
		{"graded persons not graded by a rule", `SELECT COUNT(*) FROM persons WHERE grade <> '' AND (grade_set_by NOT LIKE 'rule:grade-%' OR grade_set_at IS NULL)`},
		{"graded persons without the grade's history and reason", `SELECT COUNT(*) FROM persons p WHERE p.grade <> '' AND NOT EXISTS (
			SELECT 1 FROM qualification_changes q WHERE q.person_id = p.id AND q.field = 'grade' AND q.new_value = p.grade
			AND q.actor = p.grade_set_by AND q.reason <> '' AND q.rule_version = 1)`},
		{"visitors or customers with a grade", `SELECT COUNT(*) FROM persons WHERE grade <> '' AND stage IN ('visitor', 'customer')`},
	}
	for _, z := range zero {
		if n := w.count(t, z.query); n != 0 {
			t.Errorf("%d %s", n, z.what)
		}
	}
}

// checkSLAShare: of the assignments whose outcome is known (followed up,
// or past due), most were followed up within the SLA, some not.
func checkSLAShare(t *testing.T, w world) {
	var decided, within, breached sql.NullInt64
	err := w.db.QueryRowContext(ctx, `SELECT
		SUM(CASE WHEN first_follow_up_at IS NOT NULL OR breached_at IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN first_follow_up_at IS NOT NULL AND first_follow_up_at <= due_at THEN 1 ELSE 0 END),
		SUM(CASE WHEN breached_at IS NOT NULL THEN 1 ELSE 0 END) FROM assignments`).Scan(&decided, &within, &breached)
	if err != nil {
		t.Fatal(err)
	}
	share := float64(within.Int64) / float64(decided.Int64)
	t.Logf("assignments decided %d: within the SLA %d (%.1f%%), breached %d", decided.Int64, within.Int64, 100*share, breached.Int64)
	if share < 0.6 || share > 0.9 {
		t.Errorf("%.1f%% of first follow-ups within the SLA, want 60–90%%", 100*share)
	}
}
