package process_test

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/process"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// mixedStream is a deterministic stream of what a site and a backend send:
// anonymous page views with and without campaigns, identifies that stitch
// visitors to known people (some on a second device), form fills, group
// calls and company traits, a shared device, two people claiming one user
// id (a conflict; on the browser key the stream is sent with, the second
// email is kept apart), crawlers' identifies, trait changes, and retries of
// messages already sent.
func mixedStream(seed uint64, n int) []model.Event {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []model.Event
	at := t0
	add := func(e model.Event, payload string) {
		at = at.Add(time.Duration(1+r.IntN(90)) * time.Second)
		e.MessageID = fmt.Sprintf("m%05d", len(out))
		e.Timestamp, e.ReceivedAt = at, at
		e.Payload = []byte(payload)
		out = append(out, e)
	}
	pages := []string{
		"https://www.example.cn/?utm_source=baidu&utm_medium=cpc&utm_campaign=q4-search",
		"https://www.example.cn/pricing",
		"https://www.example.cn/whitepaper?utm_source=wechat&utm_medium=social",
		"https://www.example.cn/blog/cdp?utm_source=linkedin&utm_medium=paid_social",
	}
	referrers := []string{"", "https://www.baidu.com/", "https://www.google.com/", "https://mp.weixin.qq.com/"}
	for len(out) < n {
		v := r.IntN(60)
		anon := fmt.Sprintf("anon-%d", v)
		user := fmt.Sprintf("user-%d", v%45) // some visitors share a user (second devices)
		email := fmt.Sprintf("p%d@company%d.cn", v%45, v%9)
		switch k := r.IntN(20); {
		case k < 9:
			u := pages[r.IntN(len(pages))]
			add(model.Event{Type: model.EventPage, AnonymousID: anon, URL: u, Referrer: referrers[r.IntN(len(referrers))]},
				fmt.Sprintf(`{"context":{"page":{"url":%q}}}`, u))
		case k < 12:
			add(model.Event{Type: model.EventIdentify, AnonymousID: anon, UserID: user},
				fmt.Sprintf(`{"traits":{"email":%q,"name":"访客%d","industry":%q,"employees":%d,"plan":null}}`, email, v, []string{"software", "retail", "manufacturing"}[r.IntN(3)], 10*(1+r.IntN(50))))
		case k < 14:
			add(model.Event{Type: model.EventTrack, Name: "Form Submitted", AnonymousID: anon},
				fmt.Sprintf(`{"properties":{"email":%q,"phone":"1380013%04d"}}`, email, v))
		case k < 15:
			add(model.Event{Type: model.EventGroup, AnonymousID: anon, UserID: user, GroupID: fmt.Sprintf("g-%d", v%9)},
				fmt.Sprintf(`{"traits":{"name":"公司%d","website":"https://company%d.cn","industry":"software"}}`, v%9, v%9))
		case k < 16:
			add(model.Event{Type: model.EventIdentify, UserID: user},
				fmt.Sprintf(`{"traits":{"company":{"name":"公司%d","employee_count":%d,"industry":"saas"},"title":"CTO"}}`, v%9, 100+v))
		case k < 17:
			// The same user id with another person's email: never merged.
			add(model.Event{Type: model.EventIdentify, UserID: user},
				fmt.Sprintf(`{"traits":{"email":"other%d@company%d.cn"}}`, v, v%9))
		case k < 18:
			add(model.Event{Type: model.EventTrack, Name: "Pricing Viewed", UserID: user, AnonymousID: anon},
				`{"properties":{"plan":"enterprise"}}`)
		case k < 19 && v%4 == 0:
			// A crawler's identify: it changes no one.
			add(model.Event{Type: model.EventIdentify, UserID: user, Bot: true},
				fmt.Sprintf(`{"traits":{"email":"bot%d@company%d.cn","title":"CEO"}}`, v, v%9))
		default:
			if len(out) > 0 { // a retry: the same message again
				out = append(out, out[r.IntN(len(out))])
			}
		}
	}
	return out
}

// stateOf describes a store's derived state without its ids: each person
// is named by the smallest message id among its events.
func stateOf(t *testing.T, s *store.Store) string {
	t.Helper()
	db := s.WriterDB()
	label := `(SELECT person_id, MIN(message_id) AS label FROM events WHERE person_id IS NOT NULL GROUP BY person_id)`
	var b strings.Builder
	for _, q := range []string{
		`SELECT e.message_id, COALESCE(l.label, '-'), CASE WHEN e.processed_at IS NULL THEN 'waiting' ELSE 'done' END, e.process_error
			FROM events e LEFT JOIN ` + label + ` l ON l.person_id = e.person_id ORDER BY e.message_id`,
		`SELECT e.message_id, t.type, t.channel, t.source, t.medium, COALESCE(l.label, '-'), COALESCE(a.domain, '-')
			FROM touchpoints t JOIN events e ON e.id = t.event_id LEFT JOIN ` + label + ` l ON l.person_id = t.person_id
			LEFT JOIN accounts a ON a.id = t.account_id ORDER BY e.message_id`,
		`SELECT l.label, p.stage, p.email, p.name, p.title, p.phone, p.traits, p.first_touch_channel,
			CASE WHEN p.lead_at IS NULL THEN 'no lead' ELSE 'lead' END, COALESCE(a.domain, '-'), COALESCE(a.group_id, '-'),
			COALESCE(a.industry, '-'), COALESCE(a.employees, 0)
			FROM persons p JOIN ` + label + ` l ON l.person_id = p.id LEFT JOIN accounts a ON a.id = p.account_id
			WHERE p.merged_into_id IS NULL ORDER BY l.label`,
		`SELECT i.type, i.value, l.label FROM identities i JOIN ` + label + ` l ON l.person_id = i.person_id ORDER BY i.type, i.value`,
		`SELECT l.label, c.from_stage, c.to_stage FROM stage_changes c JOIN ` + label + ` l ON l.person_id = c.person_id ORDER BY l.label, c.to_stage`,
		`SELECT 'merges', COUNT(*) FROM person_merges`,
		`SELECT 'conflicts', COUNT(*) FROM identity_conflicts`,
		`SELECT 'accounts', COUNT(*) FROM accounts`,
		`SELECT 'persons', COUNT(*) FROM persons`,
	} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteString(" | ")
				}
				b.WriteString(v.String)
			}
			b.WriteString("\n")
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// Processing at intake derives exactly what the runner derives from the
// same events, whatever the commits' sizes, and a resent commit changes
// nothing.
func TestIngestMatchesRunner(t *testing.T) {
	eachEngine(t, func(t *testing.T, newStore func(testing.TB) *store.Store) {
		events := mixedStream(42, 600)
		runner, intake := newStore(t), newStore(t)
		var states []string
		for _, s := range []*store.Store{runner, intake} {
			kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_stream"})
			if err != nil {
				t.Fatal(err)
			}
			evs := make([]model.Event, len(events))
			for i, e := range events {
				e.WriteKeyID = kid
				evs[i] = e
			}
			in := process.NewIngester(s, slog.New(slog.DiscardHandler), nil, nil)
			for i, size := 0, 1; i < len(evs); i, size = i+size, size%13+1 {
				part := evs[i:min(i+size, len(evs))]
				if s == runner {
					if _, err := s.AppendEvents(ctx, part); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if _, err := in.Ingest(ctx, part); err != nil {
					t.Fatal(err)
				}
			}
			if s == runner {
				processAll(t, s)
			}
			if s == intake {
				if n := count(t, s, "SELECT COUNT(*) FROM events WHERE processed_at IS NULL"); n != 0 {
					t.Fatalf("%d events left for the runner after intake", n)
				}
				before := stateOf(t, s)
				if n, err := in.Ingest(ctx, evs[:100]); err != nil || n != 0 {
					t.Fatalf("resent commit stored %d (%v)", n, err)
				}
				if after := stateOf(t, s); after != before {
					t.Fatalf("a resent commit changed the state:\n%s", diffLines(before, after))
				}
			}
			// PostgreSQL declares none of these references as foreign keys
			// (migration 00016): processing keeps them.
			for _, q := range []string{
				"SELECT COUNT(*) FROM events e WHERE e.person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = e.person_id)",
				"SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM write_keys k WHERE k.id = e.write_key_id)",
				"SELECT COUNT(*) FROM touchpoints t WHERE t.person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = t.person_id)",
				"SELECT COUNT(*) FROM touchpoints t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = t.event_id)",
			} {
				if n := count(t, s, q); n != 0 {
					t.Errorf("%d rows dangle: %s", n, q)
				}
			}
			states = append(states, stateOf(t, s))
		}
		if states[0] != states[1] {
			t.Fatalf("intake and runner disagree (runner → intake):\n%s", diffLines(states[0], states[1]))
		}
		for _, want := range []string{"merges", "conflicts"} {
			if strings.Contains(states[1], want+" | 0\n") {
				t.Errorf("the stream made no %s: it does not test them", want)
			}
		}
	})
}

// A commit whose processing fails is stored unprocessed, and the runner
// takes it from there: nothing acknowledged is lost.
func TestIngestFailureLeavesEventsToTheRunner(t *testing.T) {
	eachEngine(t, func(t *testing.T, newStore func(testing.TB) *store.Store) {
		s := newStore(t)
		kid, err := s.CreateWriteKey(ctx, model.WriteKey{Name: "site", Key: "wk_fail"})
		if err != nil {
			t.Fatal(err)
		}
		events := mixedStream(7, 40)
		for i := range events {
			events[i].WriteKeyID = kid
		}
		var processed, left int
		in := process.NewIngester(s, slog.New(slog.DiscardHandler), func() { processed++ }, func() { left++ })
		// A processing step that fails for one event fails the commit.
		n, err := s.IngestProcessed(ctx, events, nil, func(p *store.ProcessTx, ev *model.Event) error {
			if ev.MessageID == events[5].MessageID {
				return errors.New("boom")
			}
			return nil
		})
		if err == nil || n != 0 || count(t, s, "SELECT COUNT(*) FROM events") != 0 {
			t.Fatalf("a failed commit stored %d events (%v)", n, err)
		}
		if _, err := in.Ingest(ctx, events); err != nil {
			t.Fatal(err)
		}
		if processed != 1 || left != 0 {
			t.Fatalf("processed %d, left %d", processed, left)
		}
		if got := count(t, s, "SELECT COUNT(*) FROM events WHERE processed_at IS NULL"); got != 0 {
			t.Fatalf("%d events unprocessed", got)
		}
	})
}

// eachEngine runs fn once per engine with a way to open stores of it.
func eachEngine(t *testing.T, fn func(t *testing.T, newStore func(testing.TB) *store.Store)) {
	for _, e := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		t.Run(e.name, func(t *testing.T) { fn(t, e.open) })
	}
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)) && len(out) < 40; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d:\n  - %s\n  + %s", i+1, x, y))
		}
	}
	return strings.Join(out, "\n")
}
