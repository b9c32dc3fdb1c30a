package demo_test

import (
	"database/sql"
	"testing"

	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/links"
)

// The demo's share links: one per employee and employee-sharing campaign
// they shared, each share click a click of its employee's link of its
// campaign, valid codes, and several employees of several teams with
// visits and leads that came through them (first touch), so that the
// promotion leaderboard tells a story.
func TestDemoShareLinks(t *testing.T) {
	onBothEngines(t, demo.Options{Seed: 7, End: end, Scale: 0.05}, func(t *testing.T, w world) {
		for _, c := range []struct{ what, query string }{
			{"share clicks without a link", `SELECT COUNT(*) FROM touchpoints WHERE type = 'share_click' AND promoter_id IS NOT NULL AND link_id IS NULL`},
			{"share clicks whose link names another employee or campaign", `SELECT COUNT(*) FROM touchpoints t JOIN tracked_links l ON l.id = t.link_id
				WHERE l.promoter_id <> t.promoter_id OR l.campaign_id <> t.campaign_id`},
			{"links on touches other than share clicks", `SELECT COUNT(*) FROM touchpoints WHERE link_id IS NOT NULL AND type <> 'share_click'`},
			{"two links of one employee and campaign", `SELECT COUNT(*) FROM (SELECT promoter_id, campaign_id FROM tracked_links
				GROUP BY promoter_id, campaign_id HAVING COUNT(*) > 1) x`},
			{"links without a click", `SELECT COUNT(*) FROM tracked_links l WHERE NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.link_id = l.id)`},
			{"links created after their first click", `SELECT COUNT(*) FROM tracked_links l WHERE l.created_at > (SELECT MIN(occurred_at) FROM touchpoints t WHERE t.link_id = l.id)`},
			{"links of campaigns other than employee sharing", `SELECT COUNT(*) FROM tracked_links l JOIN campaigns c ON c.id = l.campaign_id WHERE c.channel <> 'employee_sharing'`},
		} {
			if n := w.count(t, c.query); n != 0 {
				t.Errorf("%s: %d", c.what, n)
			}
		}
		rows, err := w.db.QueryContext(ctx, `SELECT code FROM tracked_links`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var code string
			if err := rows.Scan(&code); err != nil {
				t.Fatal(err)
			}
			if !links.ValidCode(code) {
				t.Errorf("code %q is not a tracked link code", code)
			}
			n++
		}
		if n < 10 {
			t.Errorf("%d share links, want several employees' links", n)
		}
		// Employees whose links brought leads (their first touch), by team.
		var teams, promoters int64
		err = w.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT u.team), COUNT(DISTINCT u.id) FROM persons p
			JOIN touchpoints t ON t.id = (SELECT x.id FROM touchpoints x WHERE x.person_id = p.id ORDER BY x.occurred_at, x.id LIMIT 1)
			JOIN users u ON u.id = t.promoter_id
			WHERE p.lead_at IS NOT NULL AND t.occurred_at <= p.lead_at`).Scan(&teams, &promoters)
		if err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		t.Logf("%d share links; %d employees of %d teams brought leads", n, promoters, teams)
		if promoters < 5 || teams < 3 {
			t.Errorf("%d employees of %d teams brought leads, want at least 5 of 3", promoters, teams)
		}
	})
}
