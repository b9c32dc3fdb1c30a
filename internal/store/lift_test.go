package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestLiftStrata checks how LiftStrata sorts persons into strata and
// groups, against a world small enough to count by hand. The window is
// 1–7 June; the channel mix is read from 3 March on; outcomes count to 1
// July.
//
//	person 1: cohort (a touch of campaign 1 in the window); before it 2 email and 2 paid search touches
//	          → paid search (as many, listed first); a lead since May; MQL 10 June; opportunity 20 June
//	person 2: cohort, without an account; no touch before → no channel; MQL 5 July (too late)
//	person 3: baseline (a direct visit in the window); before it 3 email, 1 direct → email; MQL in May
//	          (not eligible for MQL), opportunity 15 June, contact of a ¥90,000 deal with person 4
//	person 4: baseline; before it a touch of a channel the rules do not know → unknown; its only
//	          touch before that one is older than 90 days; contact of the shared deal
//	person 5: touched by campaign 1 before the window only: in neither group
//	person 6: merged into person 3: in neither (its touch stays its own here, as a merge never leaves one)
//	person 7: active only after the window: in neither
func TestLiftStrata(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		at := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, time.UTC) }
		exec := func(q string, args ...any) {
			t.Helper()
			if err := s.ExecForTest(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO accounts (id, name, industry, size_band, region, created_at) VALUES (1, '甲', 'retail', '100-499', 'east', ?), (2, '乙', 'software', '1000-4999', 'north', ?)`, at(1, 1), at(1, 1))
		exec(`INSERT INTO campaigns (id, code, name, channel, created_at) VALUES (1, 'expo', '博览会', 'offline_event', ?)`, at(1, 1))
		for _, p := range []struct {
			id      int64
			account any
			leadAt  any
		}{{1, int64(1), at(5, 1)}, {2, nil, nil}, {3, int64(2), at(4, 1)}, {4, int64(1), nil}, {5, int64(1), nil}, {6, int64(2), nil}, {7, int64(1), nil}} {
			exec(`INSERT INTO persons (id, account_id, stage, first_seen_at, created_at, lead_at) VALUES (?, ?, 'lead', ?, ?, ?)`, p.id, p.account, at(1, 1), at(1, 1), p.leadAt)
		}
		exec(`UPDATE persons SET merged_into_id = 3 WHERE id = 6`)
		id := int64(0)
		touch := func(person int64, when time.Time, channel string, campaign any) {
			id++
			exec(`INSERT INTO touchpoints (id, person_id, occurred_at, type, channel, campaign_id) VALUES (?, ?, ?, 'page_view', ?, ?)`, id, person, when, channel, campaign)
		}
		touch(1, at(5, 2), "email", nil)
		touch(1, at(5, 3), "email", nil)
		touch(1, at(5, 4), "paid_search", nil)
		touch(1, at(5, 5), "paid_search", nil)
		touch(1, at(6, 2), "offline_event", int64(1))
		touch(2, at(6, 3), "offline_event", int64(1))
		touch(3, at(4, 2), "email", nil)
		touch(3, at(4, 3), "email", nil)
		touch(3, at(5, 20), "email", nil)
		touch(3, at(5, 21), "direct", nil)
		touch(3, at(6, 4), "direct", nil)
		touch(4, at(2, 1), "email", nil) // before the 90 days
		touch(4, at(5, 1), "custom_partner", nil)
		touch(4, at(6, 5), "organic_search", nil)
		touch(5, at(5, 30), "offline_event", int64(1))
		touch(5, at(6, 5), "direct", nil)
		touch(6, at(6, 5), "direct", nil)
		touch(7, at(6, 9), "direct", nil)
		for i, c := range []struct {
			person int64
			to     string
			when   time.Time
		}{{1, "mql", at(6, 10)}, {1, "opportunity", at(6, 20)}, {2, "mql", at(7, 5)}, {3, "mql", at(5, 10)}, {3, "opportunity", at(6, 15)}} {
			exec(`INSERT INTO stage_changes (id, person_id, from_stage, to_stage, changed_at) VALUES (?, ?, 'lead', ?, ?)`, i+1, c.person, c.to, c.when)
		}
		exec(`INSERT INTO opportunities (id, account_id, name, stage, amount_fen, created_at) VALUES (1, 1, '合作', 'open', 9000000, ?), (2, 2, '旧单', 'open', 5000000, ?)`, at(6, 15), at(5, 1))
		exec(`INSERT INTO opportunity_contacts (opportunity_id, person_id) VALUES (1, 3), (1, 4), (2, 3)`)

		// The team days 1–7 June in Shanghai.
		shanghai := func(m time.Month, d int) time.Time {
			return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC).Add(-8 * time.Hour)
		}
		got, err := s.LiftStrata(ctx, store.LiftParams{CampaignID: 1, From: shanghai(6, 1), To: shanghai(6, 8),
			FollowTo: shanghai(7, 2), PriorFrom: shanghai(6, 1).AddDate(0, 0, -90)})
		if err != nil {
			t.Fatal(err)
		}
		want := []store.LiftStratum{
			{Cohort: true, Persons: 1, MQLEligible: 1, OppEligible: 1},
			{Cohort: true, Industry: "retail", SizeBand: "100-499", Region: "east", Channel: "paid_search", Lead: true, Persons: 1,
				MQLEligible: 1, MQLReached: 1, OppEligible: 1, OppReached: 1},
			{Industry: "retail", SizeBand: "100-499", Region: "east", Channel: "unknown", Persons: 1, MQLEligible: 1, OppEligible: 1,
				Pipeline: 4500000, PipelineSq: 4500000 * 4500000, WithPipeline: 1},
			{Industry: "software", SizeBand: "1000-4999", Region: "north", Channel: "email", Lead: true, Persons: 1, OppEligible: 1, OppReached: 1,
				Pipeline: 4500000, PipelineSq: 4500000 * 4500000, WithPipeline: 1},
		}
		// The order: the cohort first, then the larger strata, then by key
		// (no industry before any).
		if !slices.Equal(got, want) {
			t.Errorf("strata\n got %+v\nwant %+v", got, want)
		}

		// Bounds out of order are refused.
		if _, err := s.LiftStrata(ctx, store.LiftParams{CampaignID: 1, From: shanghai(6, 8), To: shanghai(6, 1), FollowTo: shanghai(7, 2)}); err == nil {
			t.Error("a window ending before it begins was accepted")
		}
	})
}
