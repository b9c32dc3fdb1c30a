package scoring_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/lifecycle"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/scoring"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var (
	ctx = context.Background()
	now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func ago(d time.Duration) time.Time { return now.Add(-d) }

const day = 24 * time.Hour

// loadWorld loads six persons whose scores are easy to work out by hand
// with testRules (threshold 30, half-life 10 days, UTC days):
//
//	1: tier A lead: fit 10; webinar 10 days ago 20→10; two /pricing views
//	   now 5 (the second capped); "Trial Started" 20 days ago 8→2: 27
//	2: tier A lead: fit 10; webinar now 20: 30, becomes an MQL
//	3: tier A lead, recycled from mql before: 30, never moved again
//	4: merged into 2: never scored
//	5: tier A visitor: 30, not a lead, not moved
//	6: subscriber without account, trait plan=enterprise 12; "Trial Started" now 8: 20
func loadWorld(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		for _, err := range []error{
			ins("accounts", "id,name,tier,created_at", []any{int64(1), "甲", "A", ago(400 * day)}, []any{int64(2), "乙", "B", ago(400 * day)}),
			ins("persons", "id,account_id,stage,first_seen_at,created_at,traits",
				[]any{int64(1), int64(1), "lead", ago(90 * day), ago(90 * day), "{}"},
				[]any{int64(2), int64(1), "lead", ago(90 * day), ago(90 * day), "{}"},
				[]any{int64(3), int64(1), "lead", ago(90 * day), ago(90 * day), "{}"},
				[]any{int64(5), int64(1), "visitor", ago(90 * day), ago(90 * day), "{}"},
				[]any{int64(6), nil, "subscriber", ago(90 * day), ago(90 * day), `{"plan": "Enterprise"}`}),
			ins("persons", "id,account_id,stage,first_seen_at,created_at,merged_into_id",
				[]any{int64(4), int64(1), "lead", ago(90 * day), ago(90 * day), int64(2)}),
			ins("identities", "type,value,person_id,created_at",
				[]any{"user_id", "u1", int64(1), ago(90 * day)}, []any{"user_id", "u6", int64(6), ago(90 * day)}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at",
				[]any{int64(1), int64(3), "lead", "mql", ago(50 * day)}, []any{int64(2), int64(3), "mql", "lead", ago(20 * day)}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,url",
				[]any{int64(1), int64(1), ago(10 * day), "webinar_attend", "webinar", ""},
				[]any{int64(2), int64(1), now, "page_view", "direct", "https://x.cn/pricing"},
				[]any{int64(3), int64(1), now, "page_view", "direct", "https://x.cn/Pricing?a=1"},
				[]any{int64(4), int64(2), now, "webinar_attend", "webinar", ""},
				[]any{int64(5), int64(3), now, "webinar_attend", "webinar", ""},
				[]any{int64(6), int64(4), now, "webinar_attend", "webinar", ""},
				[]any{int64(7), int64(5), now, "webinar_attend", "webinar", ""}),
			ins("write_keys", "id,name,key,created_at", []any{int64(1), "site", "wk_test", ago(400 * day)}),
			ins("events", "write_key_id,message_id,type,name,ts,received_at,payload,person_id,processed_at,bot",
				[]any{int64(1), "m1", "track", "Trial Started", ago(20 * day), ago(20 * day), "{}", int64(1), ago(20 * day), false},
				[]any{int64(1), "m2", "track", "Trial Started", ago(day), ago(day), "{}", int64(1), ago(day), true},
				[]any{int64(1), "m3", "identify", "", ago(day), ago(day), "{}", int64(1), ago(day), false},
				[]any{int64(1), "m4", "track", "Trial Started", now, now, "{}", int64(6), now, false}),
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

const testRules = `{"mql_threshold": %d, "decay_half_life_days": 10, "time_zone": "UTC",
	"fit": [{"field": "tier", "in": ["a"], "points": 10}, {"field": "traits.plan", "equals": "enterprise", "points": 12}],
	"engagement": [
		{"event": "Webinar Attended", "points": 20},
		{"event": "page", "path_prefix": "/pricing", "points": 5, "max_per_day": 5},
		{"event": "Trial Started", "points": 8}
	]}`

func save(t *testing.T, s *store.Store, threshold int) scoring.RuleSet {
	t.Helper()
	r, err := scoring.Parse(fmt.Appendf(nil, testRules, threshold))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := scoring.Save(ctx, s, r, "test", now)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func detail(t *testing.T, s *store.Store, id int64) model.PersonDetail {
	t.Helper()
	d, err := s.PersonDetail(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func lastChange(t *testing.T, s *store.Store, id int64) model.StageChange {
	t.Helper()
	h, err := s.StageHistory(ctx, id)
	if err != nil || len(h) == 0 {
		t.Fatalf("history of %d: %v %v", id, h, err)
	}
	return h[len(h)-1]
}

func TestRescoreReplayAndMQL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadWorld(t, s)
		if rs, err := scoring.Active(ctx, s); err != nil || rs.Version != 1 || !rs.Default {
			t.Fatalf("before any save: %+v %v", rs, err)
		}
		if rs := save(t, s, 30); rs.Version != 2 {
			t.Fatalf("first save is version %d, want 2 (the default is 1)", rs.Version)
		}
		if v1, err := scoring.Version(ctx, s, 1); err != nil || v1.Rules.MQLThreshold != 46 || v1.CreatedBy != "default" {
			t.Fatalf("version 1: %+v %v", v1, err)
		}

		res, err := scoring.Rescore(ctx, s, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Version != 2 || res.Persons != 5 || res.Updated != 5 || res.MovedToMQL != 1 {
			t.Fatalf("full rescore %+v", res)
		}
		want := map[int64][3]float64{1: {10, 17, 27}, 2: {10, 20, 30}, 3: {10, 20, 30}, 5: {10, 20, 30}, 6: {12, 8, 20}}
		for id, w := range want {
			d := detail(t, s, id)
			if d.FitScore != w[0] || d.EngagementScore != w[1] || d.Score != w[2] || d.ScoreVersion != 2 || d.ScoredAt == nil || !d.ScoredAt.Equal(now) {
				t.Errorf("person %d: fit %v engagement %v score %v version %d at %v, want %v", id, d.FitScore, d.EngagementScore, d.Score, d.ScoreVersion, d.ScoredAt, w)
			}
		}
		if d := detail(t, s, 4); d.ScoreVersion != 0 || d.ScoredAt != nil {
			t.Errorf("merged person scored: %+v", d.Qualification)
		}
		stages := map[int64]model.Stage{1: model.StageLead, 2: model.StageMQL, 3: model.StageLead, 5: model.StageVisitor, 6: model.StageSubscriber}
		for id, st := range stages {
			if d := detail(t, s, id); d.Stage != st {
				t.Errorf("person %d in %s, want %s", id, d.Stage, st)
			}
		}
		c := lastChange(t, s, 2)
		if c.FromStage != model.StageLead || c.ToStage != model.StageMQL || c.Actor != lifecycle.ActorScoring || c.RuleVersion != 2 ||
			c.Reason != "score 30 ≥ 30" || !c.ChangedAt.Equal(now) {
			t.Fatalf("stage change %+v", c)
		}

		// Once: a second run moves nobody.
		if res, err := scoring.Rescore(ctx, s, now, nil); err != nil || res.MovedToMQL != 0 {
			t.Fatalf("second run %+v %v", res, err)
		}

		// A new version with a lower threshold replays everyone.
		if rs := save(t, s, 20); rs.Version != 3 {
			t.Fatalf("second save is version %d", rs.Version)
		}
		res, err = scoring.Rescore(ctx, s, now, nil)
		if err != nil || res.Version != 3 || res.MovedToMQL != 2 {
			t.Fatalf("replay %+v %v", res, err)
		}
		for id, reason := range map[int64]string{1: "score 27 ≥ 20", 6: "score 20 ≥ 20"} {
			c := lastChange(t, s, id)
			if c.ToStage != model.StageMQL || c.RuleVersion != 3 || c.Reason != reason {
				t.Errorf("person %d: %+v", id, c)
			}
		}
		if h, _ := s.StageHistory(ctx, 2); len(h) != 1 {
			t.Errorf("person 2 moved again: %+v", h)
		}
		if d := detail(t, s, 3); d.Stage != model.StageLead || d.ScoreVersion != 3 {
			t.Errorf("recycled person 3: %s, version %d", d.Stage, d.ScoreVersion)
		}

		// Explanation, live with the active rules.
		b, err := scoring.Explain(ctx, s, 1, now)
		if err != nil {
			t.Fatal(err)
		}
		if b.Version != 3 || b.Score != 27 || b.Threshold != 20 || len(b.Fit) != 1 || b.Fit[0].Value != "A" || len(b.Engagement) != 3 {
			t.Fatalf("explanation %+v", b)
		}
		for i, w := range []scoring.EngagementLine{
			{Rule: 0, Event: "Webinar Attended", Occurrences: 1, PointsBeforeDecay: 20, PointsNow: 10},
			{Rule: 1, Event: "page", PathPrefix: "/pricing", Occurrences: 2, PointsBeforeDecay: 5, PointsNow: 5, Capped: 1},
			{Rule: 2, Event: "Trial Started", Occurrences: 1, PointsBeforeDecay: 8, PointsNow: 2},
		} {
			if b.Engagement[i] != w {
				t.Errorf("line %d: %+v, want %+v", i, b.Engagement[i], w)
			}
		}
		if _, err := scoring.Explain(ctx, s, 4, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("explain merged person: %v", err)
		}
	})
}

func TestRescoreNewPicksOnlyPersonsWithNewActivity(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadWorld(t, s)
		save(t, s, 100) // nobody becomes an MQL here
		// Never ran: the first incremental run is a full one.
		res, err := scoring.RescoreNew(ctx, s, now)
		if err != nil || res.Persons != 5 {
			t.Fatalf("first incremental run %+v %v", res, err)
		}
		later := now.Add(time.Hour)
		if res, err := scoring.RescoreNew(ctx, s, later); err != nil || res.Persons != 0 {
			t.Fatalf("nothing new: %+v %v", res, err)
		}

		kid := int64(1)
		for i, ev := range []model.Event{
			{Type: model.EventTrack, Name: "Trial Started", UserID: "u1"},
			{Type: model.EventPage, UserID: "u6", URL: "https://x.cn/pricing"},
		} {
			ev.WriteKeyID, ev.MessageID, ev.Timestamp, ev.ReceivedAt, ev.Payload = kid, fmt.Sprintf("new-%d", i), later, later, []byte("{}")
			if _, err := s.AppendEvents(ctx, []model.Event{ev}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := process.ProcessPending(ctx, s); err != nil {
			t.Fatal(err)
		}
		res, err = scoring.RescoreNew(ctx, s, later)
		if err != nil || res.Persons != 2 {
			t.Fatalf("after two new events: %+v %v", res, err)
		}
		for id, at := range map[int64]time.Time{1: later, 6: later, 2: now, 3: now, 5: now} {
			if d := detail(t, s, id); d.ScoredAt == nil || !d.ScoredAt.Equal(at) {
				t.Errorf("person %d scored at %v, want %v", id, d.ScoredAt, at)
			}
		}
		// Person 6 gained a /pricing view (5); the trial of an hour ago
		// decayed to 8·2^(−1/240) = 7.98: 12 + 12.98.
		if d := detail(t, s, 6); d.FitScore != 12 || d.EngagementScore != 12.98 || d.Score != 24.98 {
			t.Errorf("person 6: %v + %v = %v", d.FitScore, d.EngagementScore, d.Score)
		}
		if res, err := scoring.RescoreNew(ctx, s, later); err != nil || res.Persons != 0 {
			t.Fatalf("again: %+v %v", res, err)
		}
	})
}

// TestPreviewAgreesWithTheReplay: the dry run of a rule set lists the
// changes the replay after saving it then makes, and writes nothing.
func TestPreviewAgreesWithTheReplay(t *testing.T) {
	for _, c := range []struct {
		threshold int
		toMQL     []int64 // persons the replay moves, in the sample's order
	}{
		{30, []int64{2}},
		{20, []int64{2, 1, 6}}, // the largest rise first; 1 and 6 are below 30
		{100, nil},
	} {
		t.Run(fmt.Sprint(c.threshold), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, s *store.Store) {
				loadWorld(t, s)
				r, err := scoring.Parse(fmt.Appendf(nil, testRules, c.threshold))
				if err != nil {
					t.Fatal(err)
				}
				p, err := scoring.PreviewRules(ctx, s, r, now, 10)
				if err != nil {
					t.Fatal(err)
				}
				for id := range map[int64]bool{1: true, 2: true, 3: true, 5: true, 6: true} {
					if d := detail(t, s, id); d.ScoreVersion != 0 || d.ScoredAt != nil || len(lastHistory(t, s, id)) != map[int64]int{3: 2}[id] {
						t.Fatalf("the preview wrote person %d: %+v", id, d.Qualification)
					}
				}
				var moved []int64
				for _, ch := range p.Sample {
					if ch.StageAfter == model.StageMQL {
						moved = append(moved, ch.PersonID)
					}
				}
				// Every loaded score is 0, so every non-zero new score is a change.
				if p.Persons != 5 || p.ScoreChanges != 5 || p.WouldBecomeMQL != len(c.toMQL) || fmt.Sprint(moved) != fmt.Sprint(c.toMQL) {
					t.Fatalf("preview %+v, want %v to become MQL", p, c.toMQL)
				}
				save(t, s, c.threshold)
				res, err := scoring.Rescore(ctx, s, now, nil)
				if err != nil || res.MovedToMQL != p.WouldBecomeMQL || res.Persons != p.Persons {
					t.Fatalf("replay %+v %v, preview said %d would move", res, err, p.WouldBecomeMQL)
				}
				for _, ch := range p.Sample {
					if d := detail(t, s, ch.PersonID); d.Score != ch.ScoreAfter || d.Stage != ch.StageAfter {
						t.Errorf("person %d: %v in %s after the replay, preview said %v in %s", ch.PersonID, d.Score, d.Stage, ch.ScoreAfter, ch.StageAfter)
					}
				}
			})
		})
	}
}

func lastHistory(t *testing.T, s *store.Store, id int64) []model.StageChange {
	t.Helper()
	h, err := s.StageHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
