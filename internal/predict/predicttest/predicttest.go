// Package predicttest loads synthetic lead histories with a known signal
// into a store, for tests of predictive scoring: whether a lead reaches
// SQL depends on webinar attendance and the account's tier, drawn from a
// fixed seed.
package predicttest

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/store"
)

// World describes the loaded data.
type World struct {
	Leads     int
	Positives int       // leads that reached sql within the horizon
	Now       time.Time // the time to train at: every lead is settled
	PersonIDs []int64
}

// Load writes n leads (ids 1..n, one account each) whose lead times lie
// 100 to 300 days before now. A lead attends a webinar on day 2 with
// probability ½ and belongs to a tier A account with probability ⅓; it
// reaches SQL on day 20 with probability σ(−2 + 2·attended + 1·tierA).
// Every lead also has an email open on day 1 and a page view on day 3.
func Load(t testing.TB, s *store.Store, n int, now time.Time) World {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	w := World{Leads: n, Now: now}
	var accounts, persons, touches, changes [][]any
	day := 24 * time.Hour
	tid, cid := int64(0), int64(0)
	for i := 1; i <= n; i++ {
		id := int64(i)
		w.PersonIDs = append(w.PersonIDs, id)
		leadAt := now.Add(-100*day - time.Duration(float64(200*day)*float64(i)/float64(n))).Truncate(time.Second)
		tierA := r.Float64() < 1.0/3
		attended := r.Float64() < 0.5
		tier := "C"
		if tierA {
			tier = "A"
		}
		industries := []string{"retail", "manufacturing", "software"}
		accounts = append(accounts, []any{id, "公司", industries[i%3], "100-499", int64(200), "east", tier, leadAt})
		titles := []string{"市场总监", "Marketing Manager", "数据分析师", "CTO"}
		positive := r.Float64() < sigmoid(-2+2*b2f(attended)+1*b2f(tierA))
		stage := "lead"
		if positive {
			stage = "sql"
			w.Positives++
		}
		persons = append(persons, []any{id, id, titles[i%4], "p" + strconv.Itoa(i) + "@acme" + strconv.Itoa(i%7) + ".cn", stage,
			leadAt.Add(-day), "paid_search", leadAt, leadAt.Add(-day)})
		cid++
		changes = append(changes, []any{cid, id, "visitor", "lead", leadAt})
		if positive {
			cid++
			changes = append(changes, []any{cid, id, "lead", "sql", leadAt.Add(20 * day)})
		}
		tid++
		touches = append(touches, []any{tid, id, leadAt, "form_submit", "paid_search", "https://x.cn/contact"})
		tid++
		touches = append(touches, []any{tid, id, leadAt.Add(day), "email_open", "email", ""})
		tid++
		touches = append(touches, []any{tid, id, leadAt.Add(3 * day), "page_view", "direct", "https://x.cn/product"})
		if attended {
			tid++
			touches = append(touches, []any{tid, id, leadAt.Add(2 * day), "webinar_attend", "webinar", ""})
		}
	}
	err := s.Load(context.Background(), func(l store.Loader) error {
		if err := l.Insert("accounts", []string{"id", "name", "industry", "size_band", "employees", "region", "tier", "created_at"}, accounts); err != nil {
			return err
		}
		if err := l.Insert("persons", []string{"id", "account_id", "title", "email", "stage", "first_seen_at", "first_touch_channel", "lead_at", "created_at"}, persons); err != nil {
			return err
		}
		if err := l.Insert("stage_changes", []string{"id", "person_id", "from_stage", "to_stage", "changed_at"}, changes); err != nil {
			return err
		}
		return l.Insert("touchpoints", []string{"id", "person_id", "occurred_at", "type", "channel", "url"}, touches)
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
