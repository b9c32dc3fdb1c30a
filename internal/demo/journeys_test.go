package demo_test

import (
	"testing"
	"time"
)

// checkJourneys: two live journeys with history, persons in flight; every
// active entry waits at exactly one due row, every ended one at none; both
// have conversions and opportunities.
func checkJourneys(t *testing.T, w world, end time.Time) {
	list, err := w.s.Journeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d journeys, want 2", len(list))
	}
	active := int64(0)
	for _, j := range list {
		st, err := w.s.JourneyStats(ctx, j.ID, end)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: entered %d, active %d, completed %d, exited %d; converted %d, opportunities %d, revenue %s yuan",
			j.Name, st.Entered, st.Active, st.Completed, st.Exited, st.Converted, st.Opportunities, st.Revenue)
		if j.Status != "live" || st.Entered < 20 || st.Completed+st.Exited == 0 || st.Converted == 0 || st.Opportunities == 0 {
			t.Errorf("journey %s: %+v, stats %+v", j.Name, j, st)
		}
		active += st.Active
	}
	if active == 0 {
		t.Errorf("nobody in flight")
	}
	if n := w.count(t, `SELECT COUNT(*) FROM journey_entries e WHERE (e.state = 'active') <>
		((SELECT COUNT(*) FROM journey_ledger l WHERE l.entry_id = e.id AND l.status = 'due') = 1)`); n != 0 {
		t.Errorf("%d entries whose due rows do not match their state", n)
	}
	if n := w.count(t, `SELECT COUNT(*) FROM journey_ledger WHERE status IN ('done', 'skipped') AND finished_at IS NULL`); n != 0 {
		t.Errorf("%d finished rows without a time", n)
	}
}
