package store_test

import (
	"cmp"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// personsWorld loads 41 persons whose sort keys tie often: four first-seen
// instants, four scores, names repeated or empty, lead times repeated or
// missing; one more is merged into another and must never be listed.
func personsWorld(t *testing.T, s *store.Store, t0 time.Time) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		var persons [][]any
		names := []string{"王伟", "", "李娜", "王伟", "Zhang Wei", "", "100%_done"}
		stages := []string{"visitor", "lead", "mql", "sql", "opportunity", "nurture"}
		grades := []string{"", "A", "B", "C"}
		channels := []string{"paid_search", "webinar", "direct"}
		for i := 1; i <= 41; i++ {
			var lead any
			if i%2 == 0 {
				lead = t0.Add(time.Duration(i%3) * time.Hour)
			}
			var owner, account, merged any
			if i%4 == 1 {
				owner = int64(1 + i%2)
			}
			if i%3 == 0 {
				account = int64(1 + i%2)
			}
			if i == 41 {
				merged = int64(1)
			}
			email := ""
			if i%5 == 0 {
				email = fmt.Sprintf("p%d@jia.cn", i)
			}
			persons = append(persons, []any{int64(i), account, names[i%len(names)], email, fmt.Sprintf("+86138%08d", i), stages[i%len(stages)],
				grades[i%len(grades)], owner, t0.Add(time.Duration(i%4) * 24 * time.Hour), channels[i%len(channels)], lead,
				float64(i%4) * 10.5, merged, t0})
		}
		for _, e := range []error{
			ins("users", "id,email,name,role,created_at", []any{int64(1), "a@x.cn", "甲", "sales", t0}, []any{int64(2), "b@x.cn", "乙", "sales", t0}),
			ins("accounts", "id,name,name_en,domain,created_at", []any{int64(1), "甲公司", "Jia Corp", "jia.cn", t0}, []any{int64(2), "乙公司", "Yi Ltd", "yi.cn", t0}),
			ins("persons", "id,account_id,name,email,phone,stage,grade,owner_id,first_seen_at,first_touch_channel,lead_at,score,merged_into_id,created_at", persons...),
			ins("identities", "type,value,person_id,created_at", []any{"email", "boss@jia.cn", int64(7), t0}),
		} {
			if e != nil {
				return e
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// personKeyRow is what an independent read of the persons gives.
type personKeyRow struct {
	id        int64
	firstSeen time.Time
	lead      *time.Time
	score     float64
	name      string
}

// expectedOrder lists ids in the order a sort should give, computed in Go
// from plain rows: values ascending or descending, ties by id in the same
// direction, absent values (no lead time, no name) last by id.
func expectedOrder(rows []personKeyRow, sort store.PersonSort, desc bool) []int64 {
	absent := func(r personKeyRow) bool {
		return (sort == store.SortLeadAt && r.lead == nil) || (sort == store.SortName && r.name == "")
	}
	slices.SortFunc(rows, func(a, b personKeyRow) int {
		if absent(a) != absent(b) {
			if absent(a) {
				return 1
			}
			return -1
		}
		c := 0
		if !absent(a) {
			switch sort {
			case store.SortFirstSeen:
				c = a.firstSeen.Compare(b.firstSeen)
			case store.SortLeadAt:
				c = a.lead.Compare(*b.lead)
			case store.SortScore:
				c = cmp.Compare(a.score, b.score)
			case store.SortName:
				c = strings.Compare(a.name, b.name)
			}
		}
		if c == 0 {
			c = cmp.Compare(a.id, b.id)
		}
		if desc {
			c = -c
		}
		return c
	})
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids
}

func TestListPersonsPagesEveryPersonOnceInOrder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 1, 2, 0, 0, 500000000, time.UTC)
		personsWorld(t, s, t0)
		q := func(query string) string {
			if s.Dialect() == store.Postgres {
				for i := 1; strings.Contains(query, "?"); i++ {
					query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
				}
			}
			return query
		}
		min := 10.5
		filters := []personFilter{
			{"everyone", store.PersonQuery{}, "1 = 1", nil},
			{"stage and grade", store.PersonQuery{Stages: []model.Stage{"mql", "sql"}, Grades: []string{"A", ""}}, "stage IN ('mql', 'sql') AND grade IN ('A', '')", nil},
			{"owner", store.PersonQuery{OwnerID: 2}, "owner_id = 2", nil},
			{"no owner, score", store.PersonQuery{NoOwner: true, MinScore: &min}, "owner_id IS NULL AND score >= 10.5", nil},
			{"channel", store.PersonQuery{Channels: []model.Channel{"webinar"}}, "first_touch_channel = 'webinar'", nil},
			{"lead range", store.PersonQuery{DateBy: store.DateLead, From: t0, To: t0.Add(2 * time.Hour)}, "lead_at >= ? AND lead_at < ?", []any{t0, t0.Add(2 * time.Hour)}},
			{"seen range", store.PersonQuery{DateBy: store.DateFirstSeen, From: t0.Add(24 * time.Hour)}, "first_seen_at >= ?", []any{t0.Add(24 * time.Hour)}},
			{"name search", store.PersonQuery{Text: "王伟"}, "name = '王伟'", nil},
			{"company search", store.PersonQuery{Text: "JIA"}, "(account_id = 1 OR email LIKE '%jia%')", nil},
			{"wildcards are literal", store.PersonQuery{Text: "%_"}, "name = '100%_done'", nil},
			{"email identity", store.PersonQuery{Text: "boss@jia.cn", Email: "boss@jia.cn"}, "id = 7", nil},
			{"phone", store.PersonQuery{Text: "+8613800000012", Phone: "+8613800000012"}, "id = 12", nil},
			{"surname", store.PersonQuery{Text: "王"}, "name LIKE '%王%'", nil},
			{"latin name, other case", store.PersonQuery{Text: "zHANG"}, "name = 'Zhang Wei'", nil},
			{"phone tail", store.PersonQuery{Text: "0012"}, "phone LIKE '%0012'", nil},
			{"two digits", store.PersonQuery{Text: "12"}, "(phone LIKE '%12%' OR email LIKE '%12%')", nil},
			{"email domain", store.PersonQuery{Text: "JIA.CN"}, "(account_id = 1 OR email LIKE '%jia.cn%')", nil},
			{"company fragment", store.PersonQuery{Text: "公司"}, "account_id IS NOT NULL", nil},
			{"company name", store.PersonQuery{Text: "乙公司"}, "account_id = 2", nil},
			{"english company name", store.PersonQuery{Text: "yi ltd"}, "account_id = 2", nil},
		}
		// Each way a search can find its persons (candidates from the
		// trigram index or every row tested; accounts by a list of ids or
		// by a subquery) must select the same.
		for _, caps := range [][2]int{{20_000, 1_000}, {0, 0}} {
			s.SetSearchCapsForTest(caps[0], caps[1])
			testPersonFilters(t, s, q, filters, fmt.Sprint(caps))
		}
		// A row carries what the list shows.
		page, _, err := s.ListPersons(ctx, store.PersonQuery{Text: "boss@jia.cn", Email: "boss@jia.cn", Limit: 5})
		if err != nil || len(page) != 1 {
			t.Fatalf("%+v, %v", page, err)
		}
		if p := page[0]; p.ID != 7 || p.Stage != "lead" || p.Grade != "C" || p.FirstTouchChannel != "webinar" || p.Phone != "+8613800000007" {
			t.Errorf("row %+v", p)
		}
		if _, _, err := s.ListPersons(ctx, store.PersonQuery{}); err == nil {
			t.Error("a list without a limit was read")
		}
	})
}

type personFilter struct {
	name  string
	query store.PersonQuery
	where string // the same filter in plain SQL
	args  []any
}

// testPersonFilters checks that each filter counts and lists, in every
// order and page size, exactly the persons its plain SQL selects.
func testPersonFilters(t *testing.T, s *store.Store, q func(string) string, filters []personFilter, mode string) {
	db := s.WriterDB()
	for _, f := range filters {
		f.name += " " + mode
		{
			var rows []personKeyRow
			r, err := db.QueryContext(ctx, q("SELECT id, first_seen_at, lead_at, score, name FROM persons WHERE merged_into_id IS NULL AND "+f.where), f.args...)
			if err != nil {
				t.Fatal(f.name, err)
			}
			for r.Next() {
				var k personKeyRow
				var lead sql.NullTime
				if err := r.Scan(&k.id, &k.firstSeen, &lead, &k.score, &k.name); err != nil {
					t.Fatal(err)
				}
				if lead.Valid {
					lt := lead.Time.UTC()
					k.lead = &lt
				}
				rows = append(rows, k)
			}
			r.Close()
			if len(rows) == 0 {
				t.Fatalf("%s: the filter selects nobody; the test would prove nothing", f.name)
			}
			if n, err := s.CountPersons(ctx, f.query); err != nil || n != int64(len(rows)) {
				t.Errorf("%s: counted %d (%v), want %d", f.name, n, err, len(rows))
			}
			for _, sort := range store.PersonSorts {
				for _, desc := range []bool{false, true} {
					want := expectedOrder(slices.Clone(rows), sort, desc)
					for _, limit := range []int{1, 3, 7, 100} {
						pq := f.query
						pq.Sort, pq.Desc, pq.Limit = sort, desc, limit
						var got []int64
						for pages := 0; ; pages++ {
							if pages > 100 {
								t.Fatalf("%s %s: paging does not end", f.name, sort)
							}
							page, next, err := s.ListPersons(ctx, pq)
							if err != nil {
								t.Fatal(f.name, sort, err)
							}
							if len(page) > limit {
								t.Fatalf("%s: page of %d rows, limit %d", f.name, len(page), limit)
							}
							for _, p := range page {
								got = append(got, p.ID)
							}
							if next == nil {
								break
							}
							pq.After = next
						}
						if !slices.Equal(got, want) {
							t.Errorf("%s, %s desc=%v limit %d:\n got %v\nwant %v", f.name, sort, desc, limit, got, want)
						}
					}
				}
			}
		}
	}
}

// timelineWorld gives person 1 two touches (one from a collected event),
// an identify event, a stage change, an activity, a won opportunity with
// an order, and person 2 one touch; several share an instant.
func timelineWorld(t *testing.T, s *store.Store, t0 time.Time) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) error { return l.Insert(table, strings.Split(cols, ","), rows) }
		for _, e := range []error{
			ins("users", "id,email,name,role,created_at", []any{int64(1), "a@x.cn", "甲", "sales", t0}),
			ins("write_keys", "id,name,key,created_at", []any{int64(1), "web", "wk_test", t0}),
			ins("accounts", "id,name,created_at", []any{int64(1), "甲公司", t0}),
			ins("campaigns", "id,code,name,name_en,channel,created_at", []any{int64(1), "c1", "春季发布会", "Spring launch", "webinar", t0}),
			ins("persons", "id,account_id,name,stage,first_seen_at,created_at", []any{int64(1), int64(1), "王", "customer", t0, t0}, []any{int64(2), int64(1), "李", "lead", t0, t0}),
			ins("events", "id,write_key_id,message_id,type,name,ts,received_at,payload,person_id",
				[]any{int64(1), int64(1), "m1", "track", "Form Submitted", t0.Add(time.Hour), t0, "{}", int64(1)},
				[]any{int64(2), int64(1), "m2", "identify", "", t0.Add(time.Hour), t0, "{}", int64(1)}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,campaign_id,event_id,watch_seconds",
				[]any{int64(1), int64(1), t0, "webinar_attend", "webinar", int64(1), nil, int64(1800)},
				[]any{int64(2), int64(1), t0.Add(time.Hour), "form_submit", "direct", nil, int64(1), int64(0)},
				[]any{int64(3), int64(2), t0, "ad_click", "paid_search", nil, nil, int64(0)}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at,actor", []any{int64(1), int64(1), "visitor", "lead", t0.Add(time.Hour), "system:processing"}),
			ins("activities", "id,person_id,user_id,kind,occurred_at,note,created_at", []any{int64(1), int64(1), int64(1), "call", t0.Add(time.Hour), "接通", t0}),
			ins("opportunities", "id,account_id,name,stage,amount_fen,created_at,closed_at",
				[]any{int64(1), int64(1), "甲公司 CDP", "closed_won", int64(100000), t0.Add(2 * time.Hour), t0.Add(3 * time.Hour)}),
			ins("opportunity_contacts", "opportunity_id,person_id,role,is_primary", []any{int64(1), int64(1), "decision_maker", true}, []any{int64(1), int64(2), "user", false}),
			ins("orders", "id,opportunity_id,account_id,amount_fen,ordered_at", []any{int64(1), int64(1), int64(1), int64(90000), t0.Add(3 * time.Hour)}),
		} {
			if e != nil {
				return e
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPersonTimelinePagesEveryItemOnceNewestFirst(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
		timelineWorld(t, s, t0)
		want := []string{
			"order 1", "opportunity_closed 1", "opportunity 1",
			"activity 1", "stage 1", "event 2", "touch 2", // all at t0+1h: by kind, newest kind first
			"touch 1",
		}
		counts, err := s.PersonTimelineCounts(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		// Counted independently: touches, events without a touch, stage
		// changes, activities, opportunities (created and closed), orders.
		var independent int64
		for _, qy := range []string{
			"SELECT COUNT(*) FROM touchpoints WHERE person_id = 1",
			"SELECT COUNT(*) FROM events e WHERE person_id = 1 AND NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.event_id = e.id)",
			"SELECT COUNT(*) FROM stage_changes WHERE person_id = 1",
			"SELECT COUNT(*) FROM activities WHERE person_id = 1",
			"SELECT COUNT(*) FROM opportunity_contacts WHERE person_id = 1",
			"SELECT COUNT(*) FROM opportunity_contacts oc JOIN opportunities o ON o.id = oc.opportunity_id WHERE oc.person_id = 1 AND o.closed_at IS NOT NULL",
			"SELECT COUNT(*) FROM orders r JOIN opportunity_contacts oc ON oc.opportunity_id = r.opportunity_id WHERE oc.person_id = 1",
		} {
			var n int64
			if err := s.WriterDB().QueryRowContext(ctx, qy).Scan(&n); err != nil {
				t.Fatal(err)
			}
			independent += n
		}
		if counts.Total() != independent || independent != int64(len(want)) || counts[model.ItemTouch] != 2 {
			t.Fatalf("counts %v (total %d), independently %d, want %d", counts, counts.Total(), independent, len(want))
		}
		for _, limit := range []int{1, 2, 3, 100} {
			var got []string
			var before *model.TimelineKey
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatal("paging does not end")
				}
				items, next, err := s.PersonTimelinePage(ctx, 1, before, limit)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range items {
					got = append(got, fmt.Sprintf("%s %d", it.Kind, it.ID))
				}
				if next == nil {
					break
				}
				before = next
			}
			if strings.Join(got, ", ") != strings.Join(want, ", ") {
				t.Errorf("limit %d:\n got %v\nwant %v", limit, got, want)
			}
		}
		items, _, err := s.PersonTimelinePage(ctx, 1, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		last := items[len(items)-1]
		if last.Kind != model.ItemTouch || last.CampaignName != "春季发布会" || last.CampaignNameEN != "Spring launch" || last.WatchSeconds != 1800 || last.Channel != "webinar" {
			t.Errorf("generated touch %+v", last)
		}
		if fromEvent := items[6]; fromEvent.EventID != 1 || fromEvent.MessageID != "m1" || fromEvent.Name != "Form Submitted" {
			t.Errorf("collected touch %+v", fromEvent)
		}
		if o := items[2]; o.OpportunityName != "甲公司 CDP" || o.Amount != 100000 || !o.Primary || o.Role != "decision_maker" {
			t.Errorf("opportunity %+v", o)
		}
	})
}

func TestPersonCreditsSumTheirTouchesShares(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
		timelineWorld(t, s, t0)
		linear := slices.Index(store.CreditColumns[:], "linear")
		cols := strings.Join(store.CreditColumns[:], ",")
		credit := func(kind string, conv, touch int64, share float64) []any {
			row := []any{kind, conv, touch, "x"}
			for i := range store.NumCreditModels {
				v := 0.0
				if i == linear {
					v = share
				}
				row = append(row, v)
			}
			return row
		}
		// The opportunity (¥1,000): two touches of person 1 and one of
		// person 2 share it; the order (¥900) only person 2's touch.
		if _, err := s.WriterDB().ExecContext(ctx, `INSERT INTO attribution_conversions (kind, conversion_id, person_id, converted_at, value_fen, touches, fingerprint, computed_at)
			VALUES ('opportunity', 1, NULL, '2026-03-01 04:00:00+00:00', 100000, 3, 1, '2026-03-02 00:00:00+00:00'),
			       ('order', 1, NULL, '2026-03-01 05:00:00+00:00', 90000, 1, 1, '2026-03-02 00:00:00+00:00')`); err != nil {
			t.Fatal(err)
		}
		for _, row := range [][]any{credit("opportunity", 1, 1, 0.25), credit("opportunity", 1, 2, 0.25), credit("opportunity", 1, 3, 0.5), credit("order", 1, 3, 1)} {
			ph := strings.TrimSuffix(strings.Repeat("?,", len(row)), ",")
			query := "INSERT INTO attribution_credits (kind, conversion_id, touch_id, channel," + cols + ") VALUES (" + ph + ")"
			if s.Dialect() == store.Postgres {
				for i := 1; strings.Contains(query, "?"); i++ {
					query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
				}
			}
			if _, err := s.WriterDB().ExecContext(ctx, query, row...); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := s.PersonCredits(ctx, 1, linear)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Kind != model.ConvOpportunity || cs[0].Touches != 2 || cs[0].Share != 0.5 || cs[0].Credited() != 50000 || cs[0].Label != "甲公司 CDP" {
			t.Fatalf("person 1: %+v", cs)
		}
		cs, err = s.PersonCredits(ctx, 2, linear)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].Kind != model.ConvOrder || cs[0].Credited() != 90000 || cs[1].Credited() != 50000 {
			t.Fatalf("person 2: %+v", cs)
		}
		if cs, err := s.PersonCredits(ctx, 1, linear+1); err != nil || len(cs) != 1 || cs[0].Share != 0 {
			t.Fatalf("another model: %+v, %v", cs, err)
		}
		if _, err := s.PersonCredits(ctx, 1, store.NumCreditModels); err == nil {
			t.Error("a column past the models was read")
		}
	})
}

// TestPersonSearchFollowsWrites checks that a search finds persons and
// accounts by what they are called now: the trigram index (SQLite) is
// kept by triggers, not rebuilt.
func TestPersonSearchFollowsWrites(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
		personsWorld(t, s, t0)
		find := func(text string) []int64 {
			t.Helper()
			rows, _, err := s.ListPersons(ctx, store.PersonQuery{Text: text, Limit: 100, Sort: store.SortName})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, r := range rows {
				ids = append(ids, r.ID)
			}
			slices.Sort(ids)
			return ids
		}
		for _, st := range []string{
			"UPDATE persons SET name = '欧阳明月', email = 'moon@example.org' WHERE id = 10",
			"UPDATE persons SET phone = '+8613999990000' WHERE id = 3",
			"UPDATE accounts SET name = '丙科技有限公司' WHERE id = 2",
			"DELETE FROM persons WHERE id = 4",
		} {
			if err := s.ExecForTest(ctx, st); err != nil {
				t.Fatal(st, err)
			}
		}
		var yi []int64 // account 2's persons (i%3 == 0, i odd), less the deleted one
		for i := int64(3); i <= 40; i += 6 {
			yi = append(yi, i)
		}
		for _, c := range []struct {
			text string
			want []int64
		}{
			{"欧阳明月", []int64{10}},
			{"阳明", []int64{10}},
			{"MOON@EXAMPLE", []int64{10}},
			{"p10@jia", nil},
			{"zhang wei", []int64{11, 18, 25, 32, 39}}, // 4 deleted
			{"99990000", []int64{3}},
			{"丙科技", yi},
			{"科技", yi},
			{"乙公司", nil},
		} {
			if got := find(c.text); !slices.Equal(got, c.want) {
				t.Errorf("%q: found %v, want %v", c.text, got, c.want)
			}
		}
	})
}
