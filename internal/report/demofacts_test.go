package report_test

import (
	"database/sql"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
)

// A small demo with its roll-ups refreshed, and the facts the dashboards
// sum read back from the base tables (touchpoints, persons, stage changes,
// credits, daily costs), so that every figure can be computed a second
// way, in Go, without the roll-ups.

// demoEnd is the last day of the test demo.
var demoEnd = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// loadDemo generates a small demo into s, gives the webinar attendances
// a spread of watch times (unless the demo gave them some) and refreshes
// the roll-ups.
func loadDemo(t *testing.T, s *store.Store) {
	t.Helper()
	if _, err := demo.Generate(ctx, s, demo.Options{Seed: 5, End: demoEnd, Scale: 0.05}); err != nil {
		t.Fatalf("demo: %v", err)
	}
	db := s.WriterDB()
	var watched int64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM touchpoints WHERE watch_seconds > 0`).Scan(&watched); err != nil {
		t.Fatal(err)
	}
	if watched == 0 {
		// 0 to 66 minutes; every seventh attendance without a watch time,
		// as a file without the minutes column gives.
		if _, err := db.ExecContext(ctx, `UPDATE touchpoints SET watch_seconds = CASE WHEN id % 7 = 0 THEN 0 ELSE (id * 7919) % 4000 END
			WHERE type = 'webinar_attend'`); err != nil {
			t.Fatal(err)
		}
		// Written behind the store's back: ask for every day of the
		// touches roll-up again, as the store's own writers would.
		if _, err := db.ExecContext(ctx, `INSERT INTO rollup_dirty (name, day) VALUES ('touches', '0001-01-01')`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rollup.Refresh(ctx, s, time.Now()); err != nil {
		t.Fatalf("refresh roll-ups: %v", err)
	}
}

type factTouch struct {
	id, person, campaign, content int64
	typ                           string
	at                            time.Time
	watch                         int64
}

type factLead struct {
	person   int64
	at       time.Time
	campaign int64 // of the lead source
	content  int64
	reached  int // rank of the furthest stage
}

type factCredit struct {
	kind     string
	conv     int64
	at       time.Time
	value    int64
	campaign int64
	content  int64
	share    map[string]float64 // by model column
}

type factCost struct {
	campaign int64
	day      time.Time
	fen      int64
}

type factCampaign struct {
	id                 int64
	channel, kind      string
	start, end         time.Time
	assetKind          string
	assetCreated       time.Time
	isAsset, isEventCh bool
}

// facts are the base tables as the tests read them.
type facts struct {
	cal       model.Calendar
	touches   []factTouch
	leads     []factLead
	credits   []factCredit
	costs     []factCost
	campaigns map[int64]factCampaign // event campaigns
	assets    map[int64]factCampaign // content assets (id, kind, created)
	parents   map[int64]bool         // campaigns other campaigns belong to
}

func readFacts(t *testing.T, s *store.Store) *facts {
	t.Helper()
	cal, err := s.Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := &facts{cal: cal, campaigns: map[int64]factCampaign{}, assets: map[int64]factCampaign{}, parents: map[int64]bool{}}
	db := s.WriterDB()
	query := func(q string, fn func(r *sql.Rows) error) { t.Helper(); eachRow(t, db, q, fn) }
	query(`SELECT id, COALESCE(person_id, 0), COALESCE(campaign_id, 0), COALESCE(content_id, 0), type, occurred_at, watch_seconds FROM touchpoints`,
		func(r *sql.Rows) error {
			var x factTouch
			err := r.Scan(&x.id, &x.person, &x.campaign, &x.content, &x.typ, &x.at, &x.watch)
			f.touches = append(f.touches, x)
			return err
		})
	// The lead source: the last touch at or before becoming a lead, the
	// later id on a tie.
	byPerson := map[int64][]factTouch{}
	for _, x := range f.touches {
		byPerson[x.person] = append(byPerson[x.person], x)
	}
	reached := map[int64]int{}
	query(`SELECT person_id, to_stage FROM stage_changes`, func(r *sql.Rows) error {
		var id int64
		var st string
		if err := r.Scan(&id, &st); err != nil {
			return err
		}
		reached[id] = max(reached[id], model.Stage(st).Rank())
		return nil
	})
	query(`SELECT id, lead_at FROM persons WHERE lead_at IS NOT NULL AND merged_into_id IS NULL`, func(r *sql.Rows) error {
		var l factLead
		if err := r.Scan(&l.person, &l.at); err != nil {
			return err
		}
		var src *factTouch
		for i, x := range byPerson[l.person] {
			if x.at.After(l.at) {
				continue
			}
			if src == nil || x.at.After(src.at) || (x.at.Equal(src.at) && x.id > src.id) {
				src = &byPerson[l.person][i]
			}
		}
		if src != nil {
			l.campaign, l.content = src.campaign, src.content
		}
		l.reached = reached[l.person]
		f.leads = append(f.leads, l)
		return nil
	})
	touchOf := map[int64]factTouch{}
	for _, x := range f.touches {
		touchOf[x.id] = x
	}
	cols := store.CreditColumns
	sel := ""
	for _, c := range cols {
		sel += ", c." + c
	}
	query(`SELECT v.kind, v.conversion_id, v.converted_at, v.value_fen, c.touch_id`+sel+`
		FROM attribution_credits c JOIN attribution_conversions v ON v.kind = c.kind AND v.conversion_id = c.conversion_id
		WHERE v.kind IN ('opportunity', 'won')`, func(r *sql.Rows) error {
		var c factCredit
		var touch int64
		shares := make([]float64, len(cols))
		dst := []any{&c.kind, &c.conv, &c.at, &c.value, &touch}
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
		x := touchOf[touch]
		c.campaign, c.content = x.campaign, x.content
		f.credits = append(f.credits, c)
		return nil
	})
	query(`SELECT campaign_id, day, cost_fen FROM daily_costs`, func(r *sql.Rows) error {
		var c factCost
		err := r.Scan(&c.campaign, &c.day, &c.fen)
		c.day = time.Date(c.day.Year(), c.day.Month(), c.day.Day(), 0, 0, 0, 0, time.UTC)
		f.costs = append(f.costs, c)
		return err
	})
	query(`SELECT id, channel, kind, start_date, end_date FROM campaigns WHERE channel IN ('webinar', 'offline_event')`, func(r *sql.Rows) error {
		var c factCampaign
		var start, end sql.NullTime
		if err := r.Scan(&c.id, &c.channel, &c.kind, &start, &end); err != nil {
			return err
		}
		day := func(n sql.NullTime) time.Time {
			if !n.Valid {
				return time.Time{}
			}
			u := n.Time.UTC()
			return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
		}
		c.start, c.end, c.isEventCh = day(start), day(end), true
		f.campaigns[c.id] = c
		return nil
	})
	query(`SELECT parent_id FROM campaigns WHERE parent_id IS NOT NULL`, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		f.parents[id] = true
		return err
	})
	query(`SELECT id, kind, created_at FROM content_assets`, func(r *sql.Rows) error {
		var c factCampaign
		if err := r.Scan(&c.id, &c.assetKind, &c.assetCreated); err != nil {
			return err
		}
		c.isAsset = true
		f.assets[c.id] = c
		return nil
	})
	if len(f.campaigns) == 0 || len(f.assets) == 0 || len(f.credits) == 0 {
		t.Fatalf("the demo lacks events (%d), assets (%d) or credits (%d)", len(f.campaigns), len(f.assets), len(f.credits))
	}
	return f
}

// creditColumn is a stored model's column in attribution_credits.
func creditColumn(name string) (string, error) {
	i, ok := credits.Column(attribution.Model(name))
	if !ok {
		return "", fmt.Errorf("model %q is not stored", name)
	}
	return store.CreditColumns[i], nil
}

// in says whether an instant falls on a day of the period.
func (f *facts) in(p model.Period, at time.Time) bool { return p.Contains(f.cal.Day(at)) }

// month is the YYYY-MM of an instant's team day.
func (f *facts) month(at time.Time) string { return f.cal.Day(at).Format("2006-01") }

// ratioOf is n ÷ d to four places, as the reports round.
func ratioOf(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	v := math.Round(float64(n)/float64(d)*10000) / 10000
	return &v
}

func same(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func show(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// near says whether credited money (a float sum, rounded) is within a few
// fen of the expected float sum: the roll-up adds the shares in another
// order and rounds per row.
func near(got model.Money, want float64, rows int) bool {
	return math.Abs(float64(got)-want) <= 0.5*float64(rows)+0.01
}

// eachRow runs a query of a test's independent computation and calls fn
// with each row; any error fails the test.
func eachRow(t *testing.T, db *sql.DB, q string, fn func(r *sql.Rows) error) {
	t.Helper()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
