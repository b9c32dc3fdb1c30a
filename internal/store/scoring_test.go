package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

var scoreT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// loadScoringWorld: persons 1–3 (3 merged into 1); events 1–5 of which 4 is
// not processed yet; touchpoints 1–3 (2 made from event 1).
func loadScoringWorld(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		for _, err := range []error{
			ins("accounts", "id,name,industry,employees,tier,created_at", []any{int64(1), "甲", "制造", int64(800), "A", scoreT0}),
			ins("persons", "id,account_id,stage,title,email,traits,first_seen_at,created_at",
				[]any{int64(1), int64(1), "lead", "CTO", "li@x.cn", `{"plan":"pro"}`, scoreT0, scoreT0},
				[]any{int64(2), nil, "subscriber", "", "", "{}", scoreT0, scoreT0}),
			ins("persons", "id,stage,first_seen_at,created_at,merged_into_id", []any{int64(3), "lead", scoreT0, scoreT0, int64(1)}),
			ins("write_keys", "id,name,key,created_at", []any{int64(1), "site", "wk", scoreT0}),
			ins("events", "id,write_key_id,message_id,type,name,url,ts,received_at,payload,person_id,processed_at,bot",
				[]any{int64(1), int64(1), "m1", "track", "Plan Chosen", "https://x.cn/p?q", scoreT0, scoreT0, `{"properties":{"plan":"pro"}}`, int64(1), scoreT0, false},
				[]any{int64(2), int64(1), "m2", "page", "", "https://x.cn/pricing", scoreT0, scoreT0, `{}`, int64(1), scoreT0, true},
				[]any{int64(3), int64(1), "m3", "identify", "", "", scoreT0, scoreT0, `{}`, int64(1), scoreT0, false},
				[]any{int64(4), int64(1), "m4", "track", "Late", "", scoreT0, scoreT0, `{}`, nil, nil, false},
				[]any{int64(5), int64(1), "m5", "page", "", "https://x.cn/", scoreT0, scoreT0, `{"properties":{"plan":"x"}}`, int64(2), scoreT0, false}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,url,event_id",
				[]any{int64(1), int64(2), scoreT0, "webinar_attend", "webinar", "", nil},
				[]any{int64(2), int64(1), scoreT0, "plan_chosen", "direct", "", int64(1)},
				[]any{int64(3), int64(1), scoreT0, "page_view", "direct", "https://x.cn/a", nil}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at",
				[]any{int64(1), int64(1), "visitor", "lead", scoreT0}, []any{int64(2), int64(2), "sql", "subscriber", scoreT0}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestScoringProfilesAndActivities(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadScoringWorld(t, s)
		ps, err := s.ScoringProfiles(ctx, nil)
		if err != nil || len(ps) != 2 {
			t.Fatalf("profiles %+v %v", ps, err)
		}
		p := ps[0]
		if p.PersonID != 1 || p.Stage != model.StageLead || p.Title != "CTO" || p.Email != "li@x.cn" || p.Traits != `{"plan":"pro"}` ||
			p.Industry != "制造" || p.Employees != 800 || p.Tier != "A" {
			t.Fatalf("profile %+v", p)
		}
		if ps, err := s.ScoringProfiles(ctx, []int64{2, 3}); err != nil || len(ps) != 1 || ps[0].PersonID != 2 {
			t.Fatalf("profiles of 2 and merged 3: %+v %v", ps, err)
		}

		collect := func(ids []int64, payloadFor []string) []string {
			var out []string
			err := s.ScoringActivities(ctx, ids, payloadFor, func(a store.ActivityRow) error {
				out = append(out, strings.Join([]string{string(rune('0' + a.PersonID)), a.Type, a.Name, a.URL, a.Properties}, "|"))
				if !a.At.Equal(scoreT0) {
					t.Errorf("activity time %v", a.At)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(out)
			return out
		}
		// Bots, identify calls, unprocessed events and touchpoints made
		// from events are left out.
		want := []string{
			"1|page_view||https://x.cn/a|",
			"1|track|Plan Chosen|https://x.cn/p?q|",
			"2|page||https://x.cn/|",
			"2|webinar_attend|||",
		}
		if got := collect(nil, nil); !slices.Equal(got, want) {
			t.Fatalf("activities\n%q\nwant\n%q", got, want)
		}
		want[1] = `1|track|Plan Chosen|https://x.cn/p?q|{"properties":{"plan":"pro"}}`
		if got := collect(nil, []string{"Plan Chosen"}); !slices.Equal(got, want) {
			t.Fatalf("activities with payload\n%q", got)
		}
		if got := collect([]int64{2}, nil); !slices.Equal(got, want[2:]) {
			t.Fatalf("activities of 2: %q", got)
		}
	})
}

func TestWriteScoresKeepsNewer(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadScoringWorld(t, s)
		score := func(id int64) (float64, int64, time.Time) {
			d, err := s.PersonDetail(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var at time.Time
			if d.ScoredAt != nil {
				at = *d.ScoredAt
			}
			return d.Score, d.ScoreVersion, at
		}
		t1, t2 := scoreT0.Add(time.Hour), scoreT0.Add(2*time.Hour)
		write := func(version int64, at time.Time, v float64, ids ...int64) int {
			var ps []model.PersonScore
			for _, id := range ids {
				ps = append(ps, model.PersonScore{PersonID: id, Fit: 1, Engagement: v - 1, Score: v})
			}
			n, err := s.WriteScores(ctx, ps, version, at)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := write(2, t1, 10, 1, 2, 3); n != 2 {
			t.Fatalf("first write updated %d, want 2 (3 is merged)", n)
		}
		for _, c := range []struct {
			version int64
			at      time.Time
			value   float64
			updated int
		}{
			{1, t2, 99, 0},      // older version: kept
			{2, scoreT0, 99, 0}, // same version, earlier run: kept
			{2, t1, 11, 1},      // same version, same time: written
			{3, scoreT0, 12, 1}, // newer version: written
		} {
			if n := write(c.version, c.at, c.value, 1); n != c.updated {
				t.Errorf("write v%d at %v: updated %d, want %d", c.version, c.at, n, c.updated)
			}
		}
		if v, ver, at := score(1); v != 12 || ver != 3 || !at.Equal(scoreT0) {
			t.Fatalf("person 1: %v v%d at %v", v, ver, at)
		}
		if d, _ := s.PersonDetail(ctx, 1); d.FitScore != 1 || d.EngagementScore != 11 {
			t.Fatalf("parts %v %v", d.FitScore, d.EngagementScore)
		}
		if _, ver, _ := score(3); ver != 0 {
			t.Fatalf("merged person scored")
		}
	})
}

func TestScoringWatermarksAndHistory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadScoringWorld(t, s)
		w, err := s.ScoringWatermarks(ctx)
		if err != nil || w.Set {
			t.Fatalf("watermarks before any run %+v %v", w, err)
		}
		// Event 4 is not processed: the high water stops below it.
		hw, err := s.ScoringHighWater(ctx)
		if err != nil || hw.EventID != 3 || hw.TouchpointID != 3 {
			t.Fatalf("high water %+v %v", hw, err)
		}
		ids, err := s.PersonsActiveBetween(ctx, store.ScoringWatermarks{}, hw)
		if err != nil || !slices.Equal(ids, []int64{1, 2}) {
			t.Fatalf("active persons %v %v", ids, err)
		}
		if err := s.SetScoringWatermarks(ctx, hw, scoreT0); err != nil {
			t.Fatal(err)
		}
		if w, err := s.ScoringWatermarks(ctx); err != nil || w != hw {
			t.Fatalf("stored watermarks %+v %v", w, err)
		}
		// Once event 4 is processed (for person 2), events 4 and 5 count.
		if err := s.ExecForTest(ctx, "UPDATE events SET processed_at = ?, person_id = 2 WHERE id = 4", scoreT0); err != nil {
			t.Fatal(err)
		}
		if err := s.ExecForTest(ctx, "INSERT INTO touchpoints (id, person_id, occurred_at, type, channel) VALUES (4, 1, ?, 'call', 'outbound')", scoreT0); err != nil {
			t.Fatal(err)
		}
		next, err := s.ScoringHighWater(ctx)
		if err != nil || next.EventID != 5 || next.TouchpointID != 4 {
			t.Fatalf("next high water %+v %v", next, err)
		}
		ids, err = s.PersonsActiveBetween(ctx, hw, next)
		if err != nil || !slices.Equal(ids, []int64{1, 2}) {
			t.Fatalf("newly active persons %v %v", ids, err)
		}
		if err := s.SetScoringWatermarks(ctx, next, scoreT0); err != nil {
			t.Fatal(err)
		}
		if ids, err := s.PersonsActiveBetween(ctx, next, next); err != nil || len(ids) != 0 {
			t.Fatalf("nothing new: %v %v", ids, err)
		}

		ever, err := s.EverReached(ctx, []int64{1, 2, 3}, []model.Stage{model.StageMQL, model.StageSQL})
		if err != nil || len(ever) != 1 || !ever[2] {
			t.Fatalf("ever reached %v %v", ever, err)
		}
	})
}
