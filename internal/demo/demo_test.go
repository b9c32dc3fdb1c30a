package demo_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var (
	ctx = context.Background()
	end = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
)

// world is a generated database: the store it was loaded through and a
// plain handle for the test's own queries.
type world struct {
	s   *store.Store
	db  *sql.DB
	sum demo.Summary
}

func (w world) count(t testing.TB, query string) int64 {
	t.Helper()
	var n int64
	if err := w.db.QueryRowContext(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func openSQLite(t testing.TB, path string) (*store.Store, *sql.DB) {
	t.Helper()
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, db
}

func openPostgres(t testing.TB) (*store.Store, *sql.DB) {
	t.Helper()
	dsn := storetest.PostgresDSN(t)
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, db
}

func generate(t testing.TB, s *store.Store, db *sql.DB, opts demo.Options) world {
	t.Helper()
	sum, err := demo.Generate(ctx, s, opts)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return world{s: s, db: db, sum: sum}
}

// onBothEngines generates the dataset on SQLite and on PostgreSQL and runs fn on each.
func onBothEngines(t *testing.T, opts demo.Options, fn func(t *testing.T, w world)) {
	t.Run("sqlite", func(t *testing.T) {
		s, db := openSQLite(t, storetest.SQLiteDSN(t))
		fn(t, generate(t, s, db, opts))
	})
	t.Run("postgres", func(t *testing.T) {
		s, db := openPostgres(t)
		fn(t, generate(t, s, db, opts))
	})
}

func TestGenerateIsConsistent(t *testing.T) {
	onBothEngines(t, demo.Options{Seed: 7, End: end, Scale: 0.02}, func(t *testing.T, w world) {
		tot, err := w.s.Totals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tot.Persons != int64(w.sum.Persons) || tot.Touchpoints != int64(w.sum.Touchpoints) || tot.Opportunities != int64(w.sum.Opportunities) ||
			tot.Orders != int64(w.sum.Orders) || tot.Campaigns != 67 || w.sum.Campaigns != 67 || tot.WonRevenue != w.sum.Revenue || tot.Cost != w.sum.Cost {
			t.Fatalf("totals %+v do not match summary %+v", tot, w.sum)
		}
		zero := []struct{ what, query string }{
			{"persons whose stage is not their last stage change", `SELECT COUNT(*) FROM persons p WHERE p.stage <> COALESCE(
				(SELECT sc.to_stage FROM stage_changes sc WHERE sc.person_id = p.id ORDER BY sc.changed_at DESC, sc.id DESC LIMIT 1), 'visitor')`},
			{"persons whose stage_at is not their last change", `SELECT COUNT(*) FROM persons p WHERE p.stage <> 'visitor' AND p.stage_at <>
				(SELECT sc.changed_at FROM stage_changes sc WHERE sc.person_id = p.id ORDER BY sc.changed_at DESC, sc.id DESC LIMIT 1)`},
			{"persons without touchpoints", `SELECT COUNT(*) FROM persons p WHERE NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.person_id = p.id)`},
			{"persons whose first touch fields disagree with their earliest touchpoint", `SELECT COUNT(*) FROM persons p WHERE
				p.first_touch_channel <> (SELECT t.channel FROM touchpoints t WHERE t.person_id = p.id ORDER BY t.occurred_at, t.id LIMIT 1)
				OR COALESCE(p.first_touch_campaign, 0) <> (SELECT COALESCE(t.campaign_id, 0) FROM touchpoints t WHERE t.person_id = p.id ORDER BY t.occurred_at, t.id LIMIT 1)
				OR p.first_seen_at <> (SELECT t.occurred_at FROM touchpoints t WHERE t.person_id = p.id ORDER BY t.occurred_at, t.id LIMIT 1)`},
			{"leads whose lead_at is not their change to lead", `SELECT COUNT(*) FROM persons p WHERE p.stage <> 'visitor' AND p.lead_at <>
				(SELECT MIN(sc.changed_at) FROM stage_changes sc WHERE sc.person_id = p.id AND sc.to_stage = 'lead')`},
			{"visitors with a lead date or an email", `SELECT COUNT(*) FROM persons WHERE stage = 'visitor' AND (lead_at IS NOT NULL OR email <> '')`},
			{"known persons without their email and phone identities", `SELECT COUNT(*) FROM persons p WHERE p.stage <> 'visitor' AND (
				NOT EXISTS (SELECT 1 FROM identities i WHERE i.person_id = p.id AND i.type = 'email' AND i.value = p.email) OR
				NOT EXISTS (SELECT 1 FROM identities i WHERE i.person_id = p.id AND i.type = 'phone' AND i.value = p.phone))`},
			// A lead an SDR called, met at a booth, never on the web site
			// has none; a visitor is only ever known by one.
			{"visitors without an anonymous id", `SELECT COUNT(*) FROM persons p WHERE p.stage = 'visitor' AND NOT EXISTS
				(SELECT 1 FROM identities i WHERE i.person_id = p.id AND i.type = 'anonymous_id')`},
			{"touchpoints whose anonymous id belongs to someone else", `SELECT COUNT(*) FROM touchpoints t WHERE t.anonymous_id <> '' AND NOT EXISTS
				(SELECT 1 FROM identities i WHERE i.type = 'anonymous_id' AND i.value = t.anonymous_id AND i.person_id = t.person_id)`},
			{"SQL-or-later persons without an owner", `SELECT COUNT(*) FROM persons WHERE stage IN ('sql', 'opportunity', 'customer') AND owner_id IS NULL`},
			{"opportunities without exactly one primary contact", `SELECT COUNT(*) FROM opportunities o WHERE
				(SELECT COUNT(*) FROM opportunity_contacts c WHERE c.opportunity_id = o.id AND c.is_primary) <> 1`},
			{"contacts from another account", `SELECT COUNT(*) FROM opportunity_contacts c JOIN opportunities o ON o.id = c.opportunity_id
				JOIN persons p ON p.id = c.person_id WHERE p.account_id <> o.account_id`},
			{"contacts who never reached the opportunity stage", `SELECT COUNT(*) FROM opportunity_contacts c WHERE NOT EXISTS
				(SELECT 1 FROM stage_changes sc WHERE sc.person_id = c.person_id AND sc.to_stage = 'opportunity')`},
			{"customers who are not a contact of a won deal", `SELECT COUNT(*) FROM persons p WHERE p.stage = 'customer' AND NOT EXISTS
				(SELECT 1 FROM opportunity_contacts c JOIN opportunities o ON o.id = c.opportunity_id WHERE c.person_id = p.id AND o.stage = 'closed_won')`},
			{"orders not of a won deal", `SELECT COUNT(*) FROM orders r LEFT JOIN opportunities o ON o.id = r.opportunity_id
				WHERE o.id IS NULL OR o.stage <> 'closed_won' OR r.account_id <> o.account_id`},
			{"won deals without an order", `SELECT COUNT(*) FROM opportunities o WHERE o.stage = 'closed_won' AND NOT EXISTS (SELECT 1 FROM orders r WHERE r.opportunity_id = o.id)`},
			{"orders above their deal", `SELECT COUNT(*) FROM opportunities o WHERE (SELECT SUM(amount_fen) FROM orders r WHERE r.opportunity_id = o.id) > o.amount_fen`},
			{"deals whose closed_at disagrees with their stage", `SELECT COUNT(*) FROM opportunities WHERE (closed_at IS NULL) <> (stage NOT IN ('closed_won', 'closed_lost'))`},
			{"deals without a sales owner", `SELECT COUNT(*) FROM opportunities o LEFT JOIN users u ON u.id = o.owner_id WHERE u.role IS NULL OR u.role <> 'sales'`},
			{"costs of an unknown campaign", `SELECT COUNT(*) FROM daily_costs d WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = d.campaign_id)`},
			{"keyword costs filed under another campaign or ad group", `SELECT COUNT(*) FROM daily_costs d JOIN keywords k ON k.id = d.keyword_id
				WHERE k.campaign_id <> d.campaign_id OR k.ad_group_id <> d.ad_group_id`},
			{"costs with more clicks than impressions", `SELECT COUNT(*) FROM daily_costs WHERE clicks > impressions`},
			{"search ad clicks without keyword or click id", `SELECT COUNT(*) FROM touchpoints WHERE channel = 'paid_search' AND type = 'ad_click' AND (keyword_id IS NULL OR click_id = '')`},
			{"touches whose channel differs from their campaign's", `SELECT COUNT(*) FROM touchpoints t JOIN campaigns c ON c.id = t.campaign_id WHERE c.channel <> t.channel`},
			{"employee sharing touches without a promoter", `SELECT COUNT(*) FROM touchpoints WHERE channel = 'employee_sharing' AND promoter_id IS NULL`},
			{"content downloads without content", `SELECT COUNT(*) FROM touchpoints WHERE type = 'content_download' AND content_id IS NULL`},
			{"users with id 1 or a login", `SELECT COUNT(*) FROM users WHERE id = 1 OR password_hash <> '' OR role = 'admin'`},
			{"campaigns not run by a marketer", `SELECT COUNT(*) FROM campaigns c LEFT JOIN users u ON u.id = c.owner_id WHERE u.role IS NULL OR u.role <> 'marketer'`},
			{"campaigns under something that is not a programme of their channel", `SELECT COUNT(*) FROM campaigns c JOIN campaigns p ON p.id = c.parent_id
				WHERE p.kind <> 'programme' OR p.channel <> c.channel OR p.parent_id IS NOT NULL`},
			{"programmes without campaigns, or whose budget is not theirs summed", `SELECT COUNT(*) FROM campaigns p WHERE p.kind = 'programme' AND (
				NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.parent_id = p.id) OR
				p.budget_fen <> (SELECT SUM(c.budget_fen) FROM campaigns c WHERE c.parent_id = p.id) OR
				p.target_leads <> (SELECT SUM(c.target_leads) FROM campaigns c WHERE c.parent_id = p.id))`},
			{"touches or costs of a programme", `SELECT (SELECT COUNT(*) FROM touchpoints t JOIN campaigns c ON c.id = t.campaign_id WHERE c.kind = 'programme') +
				(SELECT COUNT(*) FROM daily_costs d JOIN campaigns c ON c.id = d.campaign_id WHERE c.kind = 'programme')`},
			{"feed and display ad clicks without an ad group", `SELECT COUNT(*) FROM touchpoints WHERE channel IN ('paid_social', 'display') AND type = 'ad_click' AND ad_group_id IS NULL`},
			{"feed and display costs not by ad group", `SELECT COUNT(*) FROM daily_costs d JOIN campaigns c ON c.id = d.campaign_id
				WHERE c.channel IN ('paid_social', 'display') AND d.ad_group_id IS NULL`},
			{"costs or touches filed under another campaign's ad group", `SELECT (SELECT COUNT(*) FROM daily_costs d JOIN ad_groups a ON a.id = d.ad_group_id WHERE a.campaign_id <> d.campaign_id) +
				(SELECT COUNT(*) FROM touchpoints t JOIN ad_groups a ON a.id = t.ad_group_id WHERE a.campaign_id <> t.campaign_id)`},
			{"watch times on touches other than webinar attendances", `SELECT COUNT(*) FROM touchpoints WHERE watch_seconds <> 0 AND type <> 'webinar_attend'`},
			{"webinar attendances without a watch time, or over the session", `SELECT COUNT(*) FROM touchpoints WHERE type = 'webinar_attend' AND (watch_seconds < 60 OR watch_seconds > 3900)`},
		}
		for _, z := range zero {
			if n := w.count(t, z.query); n != 0 {
				t.Errorf("%d %s", n, z.what)
			}
		}
		// The segments are built: members and their log agree with the counts.
		if n := w.count(t, `SELECT COUNT(*) FROM segments WHERE built_version = version AND member_count =
			(SELECT COUNT(*) FROM segment_members m WHERE m.segment_id = segments.id) AND member_count =
			(SELECT COUNT(*) FROM segment_changes c WHERE c.segment_id = segments.id AND c.entered)`); n != 4 {
			t.Errorf("%d demo segments built and consistent, want 4", n)
		}
		if n := w.count(t, `SELECT COUNT(*) FROM users WHERE role = 'sales' AND territory <> ''`); n != 12 {
			t.Errorf("%d sales users with a territory, want 12", n)
		}
		if n := w.count(t, `SELECT COUNT(DISTINCT channel) FROM campaigns`); n < 13 {
			t.Errorf("campaigns cover %d channels", n)
		}
		// Every ad platform: campaigns → ad groups (→ keywords on search), with costs.
		if n := w.count(t, `SELECT COUNT(DISTINCT c.platform) FROM campaigns c JOIN ad_groups a ON a.campaign_id = c.id
				JOIN daily_costs d ON d.ad_group_id = a.id WHERE c.platform IN ('baidu', 'oceanengine', 'tencent_ads', 'google_ads', 'linkedin_ads')
				AND d.cost_fen > 0`); n != 5 {
			t.Errorf("%d of the 5 ad platforms have ad groups with costs", n)
		}
		checkStageHistory(t, w)
		checkWindow(t, w, end)
		// The rule sets the demo loads are version 1; a marketer's save is 2.
		for _, kind := range []model.RuleSetKind{model.LifecycleRuleSets, model.RoutingRuleSets} {
			cur, err := w.s.ActiveRuleSet(ctx, kind)
			if err != nil || cur.Version != 1 {
				t.Fatalf("%v rules: version %d, %v", kind, cur.Version, err)
			}
			saved, err := w.s.SaveRuleSet(ctx, kind, cur.Rules, "test", end, nil)
			if err != nil || saved.Version != 2 {
				t.Errorf("%v rules saved after the demo: version %d, %v", kind, saved.Version, err)
			}
		}
	})
}

var rank = map[model.Stage]int{model.StageVisitor: 0, model.StageLead: 1, model.StageMQL: 2, model.StageSQL: 3, model.StageOpportunity: 4, model.StageCustomer: 5}

// checkStageHistory walks every person's stage changes: they start at
// visitor → lead and step one stage at a time, go back from MQL to lead
// when the recycle rule finds them idle, or leave MQL for nurture or
// disqualified when an SDR qualifies them out, by a person with a reason.
func checkStageHistory(t *testing.T, w world) {
	rows, err := w.db.QueryContext(ctx, `SELECT person_id, from_stage, to_stage, reason, actor FROM stage_changes ORDER BY person_id, changed_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var prev int64
	var cur model.Stage
	bad, recycled, n := 0, 0, 0
	for rows.Next() {
		var pid int64
		var from, to model.Stage
		var reason, actor string
		if err := rows.Scan(&pid, &from, &to, &reason, &actor); err != nil {
			t.Fatal(err)
		}
		n++
		if pid != prev {
			prev, cur = pid, model.StageVisitor
		}
		side := to == model.StageNurture || to == model.StageDisqualified
		ok := from == cur && (rank[to] == rank[from]+1 && !side ||
			from == model.StageMQL && to == model.StageLead && actor == "rule:recycle-unresponsive-mql" && reason != "" ||
			from == model.StageMQL && side && strings.HasPrefix(actor, "user:") && reason != "")
		if to == model.StageLead && from == model.StageMQL {
			recycled++
		}
		if !ok {
			if bad < 5 {
				t.Errorf("person %d: change %s → %s (%s) after %s", pid, from, to, reason, cur)
			}
			bad++
		}
		cur = to
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if recycled*20 > n {
		t.Errorf("%d of %d changes are recycles; recycling should be rare", recycled, n)
	}
}

// window is the data year of the tests' End in the team's time zone (the
// default, Asia/Shanghai): from the midnight 364 days before End to the
// midnight after it.
func window(end time.Time) (from, to time.Time) {
	cal := model.DefaultCalendar()
	return cal.Start(end.AddDate(0, 0, -364)).UTC(), cal.Start(end.AddDate(0, 0, 1)).UTC()
}

// checkWindow checks that everything the demo dates lies in the data year:
// nothing before its first moment, and nothing — no touch, order, deal
// created or closed, stage change, assignment, follow-up, task, activity,
// score, grade or cost day — after the last second of End in the team's
// time zone. Deadlines are the exception: an assignment may fall due, and
// a planned absence end, after the data ends.
func checkWindow(t *testing.T, w world, end time.Time) {
	from, to := window(end)
	if !w.sum.From.Equal(from) || !w.sum.To.Equal(to) {
		t.Errorf("window %v – %v, want %v – %v", w.sum.From, w.sum.To, from, to)
	}
	cols := []struct{ table, col string }{
		{"touchpoints", "occurred_at"}, {"persons", "first_seen_at"}, {"persons", "stage_at"}, {"persons", "lead_at"},
		{"persons", "created_at"}, {"persons", "scored_at"}, {"persons", "predicted_at"}, {"persons", "grade_set_at"},
		{"stage_changes", "changed_at"}, {"identities", "created_at"}, {"accounts", "created_at"}, {"campaigns", "created_at"},
		{"opportunities", "created_at"}, {"opportunities", "closed_at"}, {"orders", "ordered_at"}, {"tasks", "created_at"},
		{"tasks", "due_at"}, {"tasks", "done_at"}, {"content_assets", "created_at"}, {"users", "created_at"},
		{"users", "out_of_office_from"}, {"assignments", "assigned_at"}, {"assignments", "first_follow_up_at"},
		{"assignments", "breached_at"}, {"assignments", "superseded_at"}, {"activities", "occurred_at"}, {"activities", "created_at"},
		{"qualification_changes", "changed_at"}, {"routing_cursors", "updated_at"}, {"routing_rule_sets", "created_at"},
		{"lifecycle_rule_sets", "created_at"}, {"attribution_conversions", "converted_at"}, {"attribution_conversions", "computed_at"},
		{"prediction_models", "trained_at"}, {"scoring_watermarks", "moved_at"},
	}
	for _, c := range cols {
		for _, dir := range []string{"ASC", "DESC"} {
			var v time.Time
			q := fmt.Sprintf("SELECT %s FROM %s WHERE %s IS NOT NULL ORDER BY %s %s LIMIT 1", c.col, c.table, c.col, c.col, dir)
			err := w.db.QueryRowContext(ctx, q).Scan(&v)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if v.Before(from) || !v.Before(to) {
				t.Errorf("%s.%s has %v outside [%v, %v)", c.table, c.col, v, from, to)
			}
		}
	}
	// Days: the team's calendar dates of the year, End the last.
	first, last := end.AddDate(0, 0, -364), end
	for _, c := range []struct{ table, col string }{{"daily_costs", "day"}, {"campaigns", "start_date"}, {"campaigns", "end_date"}} {
		for _, dir := range []string{"ASC", "DESC"} {
			var v time.Time
			q := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s %s LIMIT 1", c.col, c.table, c.col, dir)
			if err := w.db.QueryRowContext(ctx, q).Scan(&v); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if v.Before(first) || v.After(last) {
				t.Errorf("%s.%s has day %s outside %s – %s", c.table, c.col, v.Format(time.DateOnly), first.Format(time.DateOnly), last.Format(time.DateOnly))
			}
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	digest := func(name string, seed int64) (string, demo.Summary) {
		s, db := openSQLite(t, filepath.Join(dir, name))
		w := generate(t, s, db, demo.Options{Seed: seed, End: end, Scale: 0.02})
		return contentDigest(t, db), w.sum
	}
	a, sa := digest("a.db", 42)
	b, sb := digest("b.db", 42)
	c, _ := digest("c.db", 43)
	if a != b || sa != sb {
		t.Fatalf("same seed, different data:\n%s\n%s\n%+v\n%+v", a, b, sa, sb)
	}
	if a == c {
		t.Fatal("different seeds gave the same data")
	}
}

// contentDigest hashes every row of every table in primary-key order.
func contentDigest(t *testing.T, db *sql.DB) string {
	t.Helper()
	tables := []struct{ name, order string }{
		{"users", "id"}, {"accounts", "id"}, {"campaigns", "id"}, {"ad_groups", "id"}, {"keywords", "id"},
		{"content_assets", "id"}, {"persons", "id"}, {"identities", "type, value"}, {"touchpoints", "id"},
		{"daily_costs", "id"}, {"opportunities", "id"}, {"opportunity_contacts", "opportunity_id, person_id"},
		{"orders", "id"}, {"stage_changes", "id"}, {"tasks", "id"},
	}
	h := sha256.New()
	for _, tb := range tables {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+tb.name+" ORDER BY "+tb.order)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(h, "%v\x1f", v)
			}
			h.Write([]byte{'\n'})
			n++
		}
		rows.Close()
		fmt.Fprintf(h, "%s:%d\n", tb.name, n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestGenerateRefusesAFullDatabase(t *testing.T) {
	s, db := openSQLite(t, storetest.SQLiteDSN(t))
	generate(t, s, db, demo.Options{Seed: 1, End: end, Scale: 0.005})
	if _, err := demo.Generate(ctx, s, demo.Options{Seed: 1, End: end, Scale: 0.005}); !errors.Is(err, store.ErrNotEmpty) {
		t.Fatalf("second generate: %v", err)
	}
	for _, bad := range []float64{-1, 1000} {
		s2, _ := openSQLite(t, storetest.SQLiteDSN(t))
		if _, err := demo.Generate(ctx, s2, demo.Options{Seed: 1, End: end, Scale: bad}); err == nil || !strings.Contains(err.Error(), "scale") {
			t.Errorf("scale %v: %v", bad, err)
		}
	}
}

func TestGenerateWithoutEndStopsNow(t *testing.T) {
	s, db := openSQLite(t, storetest.SQLiteDSN(t))
	before := time.Now()
	w := generate(t, s, db, demo.Options{Seed: 3, Scale: 0.005})
	var last time.Time
	if err := db.QueryRowContext(ctx, `SELECT occurred_at FROM touchpoints ORDER BY occurred_at DESC LIMIT 1`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if last.After(time.Now()) || w.sum.To.Before(before.Add(-time.Second)) {
		t.Fatalf("last touch %v, window ends %v, generated at %v", last, w.sum.To, before)
	}
}

// TestChannelsConvertDifferently checks that the data carries the signal the
// product exists to find: leads first met at webinars, events and through
// partners become customers far more often than leads from paid media, and
// journeys that end in a deal start and end in different places.
func TestChannelsConvertDifferently(t *testing.T) {
	onBothEngines(t, demo.Options{Seed: 11, End: end, Scale: 0.15}, func(t *testing.T, w world) {
		rate := func(channels, stages string) (float64, int64) {
			leads := w.count(t, `SELECT COUNT(*) FROM persons WHERE lead_at IS NOT NULL AND first_touch_channel IN (`+channels+`)`)
			won := w.count(t, `SELECT COUNT(*) FROM persons WHERE lead_at IS NOT NULL AND first_touch_channel IN (`+channels+`) AND stage IN (`+stages+`)`)
			return float64(won) / float64(leads), leads
		}
		const highTouch, paid = `'webinar', 'offline_event', 'referral'`, `'paid_search', 'paid_social'`
		hc, nh := rate(highTouch, `'customer'`)
		pc, np := rate(paid, `'customer'`)
		t.Logf("lead → customer: high-touch %.1f%% of %d, paid media %.1f%% of %d", 100*hc, nh, 100*pc, np)
		if nh < 500 || np < 1000 {
			t.Fatalf("too few leads for a stable comparison: %d and %d", nh, np)
		}
		if hc < 2*pc {
			t.Errorf("high-touch channels convert %.3f, paid media %.3f; want at least twice", hc, pc)
		}
		for _, ch := range []string{"webinar", "offline_event", "referral"} {
			r, _ := rate("'"+ch+"'", `'sql', 'opportunity', 'customer'`)
			s, _ := rate(`'paid_search'`, `'sql', 'opportunity', 'customer'`)
			if r < 1.5*s {
				t.Errorf("lead → SQL: %s %.3f, paid search %.3f", ch, r, s)
			}
		}
		// Paid media bring many more leads than they bring customers.
		leads := w.count(t, `SELECT COUNT(*) FROM persons WHERE lead_at IS NOT NULL`)
		if share := float64(np) / float64(leads); share < 0.3 {
			t.Errorf("paid media bring %.2f of leads; they should bring the most", share)
		}

		// For the primary contacts of deals: where journeys start is not
		// where they end. Paid search opens more journeys than it closes;
		// direct visits and sales calls close more than they open.
		first := channelShares(t, w, `SELECT p.first_touch_channel FROM opportunities o
			JOIN opportunity_contacts c ON c.opportunity_id = o.id AND c.is_primary JOIN persons p ON p.id = c.person_id ORDER BY o.id`)
		last := channelShares(t, w, `SELECT (SELECT t.channel FROM touchpoints t WHERE t.person_id = c.person_id AND t.occurred_at < o.created_at
				ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1)
			FROM opportunities o JOIN opportunity_contacts c ON c.opportunity_id = o.id AND c.is_primary ORDER BY o.id`)
		t.Logf("first touch of deals: %v", first)
		t.Logf("last touch before deals: %v", last)
		if first["paid_search"] <= last["paid_search"] {
			t.Errorf("paid search: %.2f of first touches, %.2f of last touches", first["paid_search"], last["paid_search"])
		}
		if first["direct"]+first["outbound"] >= last["direct"]+last["outbound"] {
			t.Errorf("direct and outbound: %.2f of first touches, %.2f of last touches",
				first["direct"]+first["outbound"], last["direct"]+last["outbound"])
		}
	})
}

func channelShares(t *testing.T, w world, query string) map[string]float64 {
	t.Helper()
	rows, err := w.db.QueryContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]float64{}
	n := 0.0
	for rows.Next() {
		var ch sql.NullString
		if err := rows.Scan(&ch); err != nil {
			t.Fatal(err)
		}
		out[ch.String]++
		n++
	}
	for k := range out {
		out[k] /= n
	}
	return out
}

// BenchmarkGenerateDefault generates the default dataset (Scale 1) into a
// SQLite file. Run it with
//
//	go test ./internal/demo -run XXX -bench BenchmarkGenerateDefault -benchtime 1x
func BenchmarkGenerateDefault(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), fmt.Sprintf("demo-%d.db", i))
		s, _ := openSQLite(b, path)
		b.StartTimer()
		benchGenerate(b, s, path)
	}
}

// BenchmarkGeneratePostgres generates the default dataset on the throwaway
// PostgreSQL cluster of storetest (or REVLOOP_TEST_POSTGRES):
//
//	go test ./internal/demo -run XXX -bench BenchmarkGeneratePostgres -benchtime 1x
func BenchmarkGeneratePostgres(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, _ := openPostgres(b)
		b.StartTimer()
		benchGenerate(b, s, "")
	}
}

func benchGenerate(b *testing.B, s *store.Store, path string) {
	sum, err := demo.Generate(ctx, s, demo.Options{Seed: 1, End: end, Scale: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	defer b.StartTimer()
	b.Logf("%+v", sum)
	b.ReportMetric(float64(sum.Touchpoints), "touchpoints")
	b.ReportMetric(float64(sum.Persons), "persons")
	if st, err := os.Stat(path); path != "" && err == nil {
		b.ReportMetric(float64(st.Size())/(1<<20), "MB")
	}
}

func TestRoutingStoryIsConsistent(t *testing.T) {
	onBothEngines(t, demo.Options{Seed: 7, End: end, Scale: 0.02}, checkRouting) // routing_demo_test.go
}
