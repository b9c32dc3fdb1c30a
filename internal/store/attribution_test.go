package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// loadAttributionFixture: account 1 has a won deal (opportunity 1, two
// contacts) and an order; account 2 an open opportunity whose contact has
// no touches and an order without an opportunity.
//
//	person 1 (lead day 10): t1 day −400 paid_search · t2 day 0 paid_search · t3 day 10 webinar · t4 day 25 email · t5 day 50 direct
//	person 2 (lead day 5):  t6 day 15 employee_sharing
//	opportunity 1 created day 20, won day 40, ¥500,000; order 1 day 41 ¥480,000
//	opportunity 2 created day 30 (person 3, no touches) ¥10,000; order 2 day 42 ¥1.00, no opportunity
//	person 1 → mql day 12 and again day 13; person 2 → sql day 16
func loadAttributionFixture(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table string, cols string, rows ...[]any) error {
			return l.Insert(table, strings.Split(cols, ","), rows)
		}
		steps := []error{
			ins("users", "id,email,name,role,created_at", []any{int64(1), "a@x.cn", "", "admin", day0}, []any{int64(2), "s@x.cn", "王芳", "sales", day0}),
			ins("accounts", "id,name,created_at", []any{int64(1), "甲公司", day0}, []any{int64(2), "乙公司", day0}),
			ins("campaigns", "id,code,name,name_en,channel,platform,created_at",
				[]any{int64(1), "baidu-1", "百度搜索", "Baidu search", "paid_search", "baidu", day0},
				[]any{int64(2), "web-1", "线上研讨会", "Webinar", "webinar", "", day0}),
			ins("keywords", "id,campaign_id,text", []any{int64(1), int64(1), "cdp 系统"}),
			ins("content_assets", "id,campaign_id,kind,title,title_en,created_at", []any{int64(1), int64(2), "webinar", "白皮书", "White paper", day0}),
			ins("persons", "id,account_id,stage,first_seen_at,lead_at,created_at",
				[]any{int64(1), int64(1), "customer", at(-400, 0), at(10, 0), at(-400, 0)},
				[]any{int64(2), int64(1), "sql", at(15, 0), at(5, 0), at(15, 0)},
				[]any{int64(3), int64(2), "lead", at(0, 0), nil, at(0, 0)}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,source,medium,campaign_id,keyword_id,content_id,promoter_id",
				[]any{int64(1), int64(1), at(-400, 0), "ad_click", "paid_search", "baidu", "cpc", int64(1), int64(1), nil, nil},
				[]any{int64(2), int64(1), at(0, 0), "ad_click", "paid_search", "baidu", "cpc", int64(1), int64(1), nil, nil},
				[]any{int64(3), int64(1), at(10, 0), "webinar_attend", "webinar", "", "", int64(2), nil, int64(1), nil},
				[]any{int64(4), int64(1), at(25, 0), "email_click", "email", "", "", nil, nil, nil, nil},
				[]any{int64(5), int64(1), at(50, 0), "page_view", "direct", "", "", nil, nil, nil, nil},
				[]any{int64(6), int64(2), at(15, 0), "share_click", "employee_sharing", "", "", nil, nil, nil, int64(2)}),
			ins("opportunities", "id,account_id,name,stage,amount_fen,created_at,closed_at",
				[]any{int64(1), int64(1), "甲公司 CDP", "closed_won", int64(50000000), at(20, 0), at(40, 0)},
				[]any{int64(2), int64(2), "乙公司 CDP", "proposal", int64(1000000), at(30, 0), nil}),
			ins("opportunity_contacts", "opportunity_id,person_id,role,is_primary",
				[]any{int64(1), int64(1), "decision_maker", true},
				[]any{int64(1), int64(2), "user", false},
				[]any{int64(2), int64(3), "user", true}),
			ins("orders", "id,opportunity_id,account_id,amount_fen,ordered_at",
				[]any{int64(1), int64(1), int64(1), int64(48000000), at(41, 0)},
				[]any{int64(2), nil, int64(2), int64(100), at(42, 0)}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at",
				[]any{int64(1), int64(1), "lead", "mql", at(12, 0)},
				[]any{int64(2), int64(1), "lead", "mql", at(13, 0)},
				[]any{int64(3), int64(2), "mql", "sql", at(16, 0)}),
		}
		for _, e := range steps {
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

// journeyString prints journeys compactly for comparison.
func journeyString(js []store.ConversionJourney) string {
	var b strings.Builder
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return fmt.Sprint(int(t.Sub(day0).Hours() / 24))
	}
	for _, j := range js {
		fmt.Fprintf(&b, "#%d@%s ¥%s lead=%s opp=%s [", j.ID, day(j.At), j.Value, day(j.LeadAt), day(j.OpportunityAt))
		for i, t := range j.Touches {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "t%d", t.ID)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestAttributionJourneys(t *testing.T) {
	const year = 365 * 24 * time.Hour
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadAttributionFixture(t, s)
		cases := []struct {
			kind     model.ConversionKind
			w        model.Window
			lookback time.Duration
			want     string
		}{
			// All contacts' touches; t1 is beyond the 365-day lookback, t4 and t5 after creation.
			{model.ConvOpportunity, model.Window{}, year,
				"#1@20 ¥500000.00 lead=5 opp=20 [t2 t3 t6]\n#2@30 ¥10000.00 lead=- opp=30 []\n"},
			{model.ConvOpportunity, model.Window{}, 500 * 24 * time.Hour,
				"#1@20 ¥500000.00 lead=5 opp=20 [t1 t2 t3 t6]\n#2@30 ¥10000.00 lead=- opp=30 []\n"},
			{model.ConvOpportunity, model.Window{From: at(25, 0)}, year,
				"#2@30 ¥10000.00 lead=- opp=30 []\n"},
			{model.ConvOpportunity, model.Window{To: at(20, 0)}, year, ""},
			// Won: converted at closed_at, so the email after creation counts.
			{model.ConvWon, model.Window{}, year,
				"#1@40 ¥500000.00 lead=5 opp=20 [t2 t3 t6 t4]\n"},
			{model.ConvWon, model.Window{To: at(39, 0)}, year, ""},
			{model.ConvOrder, model.Window{}, year,
				"#1@41 ¥480000.00 lead=5 opp=20 [t2 t3 t6 t4]\n#2@42 ¥1.00 lead=- opp=- []\n"},
			// The first entry into MQL counts, once per person.
			{model.ConvMQL, model.Window{}, year,
				"#1@12 ¥0.00 lead=10 opp=- [t2 t3]\n"},
			{model.ConvMQL, model.Window{From: at(13, 0)}, year,
				"#2@13 ¥0.00 lead=10 opp=- [t2 t3]\n"},
			{model.ConvSQL, model.Window{}, 10 * 24 * time.Hour,
				"#3@16 ¥0.00 lead=5 opp=- [t6]\n"},
		}
		for _, c := range cases {
			js, err := s.AttributionJourneys(ctx, c.kind, c.w, c.lookback)
			if err != nil {
				t.Fatalf("%s: %v", c.kind, err)
			}
			if got := journeyString(js); got != c.want {
				t.Errorf("%s %+v lookback %v:\ngot\n%s\nwant\n%s", c.kind, c.w, c.lookback, got, c.want)
			}
		}
		js, err := s.AttributionJourneys(ctx, model.ConvOpportunity, model.Window{}, year)
		if err != nil {
			t.Fatal(err)
		}
		t2 := js[0].Touches[0]
		if t2.Source != "baidu" || t2.Medium != "cpc" || t2.CampaignID != 1 || t2.KeywordID != 1 || t2.PersonID != 1 || !t2.At.Equal(at(0, 0)) {
			t.Errorf("touch keys: %+v", t2)
		}
		if t6 := js[0].Touches[2]; t6.PromoterID != 2 || t6.Channel != "employee_sharing" {
			t.Errorf("promoter touch: %+v", t6)
		}
		if _, err := s.AttributionJourneys(ctx, "signup", model.Window{}, year); err == nil {
			t.Error("an unknown kind must fail")
		}
		if _, err := s.AttributionJourneys(ctx, model.ConvOpportunity, model.Window{}, 0); err == nil {
			t.Error("a lookback of 0 must fail: the default is not the store's")
		}
	})
}

func TestAttributionCostsAndNames(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadFixture(t, s)
		c, err := s.AttributionCosts(ctx, model.Window{})
		if err != nil {
			t.Fatal(err)
		}
		if c.ByChannel["paid_search"] != 223456 || c.ByCampaign[1] != 223456 || len(c.ByKeyword) != 0 {
			t.Errorf("costs: %+v", c)
		}
		c, err = s.AttributionCosts(ctx, model.Window{From: at(1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if c.ByChannel["paid_search"] != 100000 {
			t.Errorf("costs from day 1: %+v", c)
		}
		n, err := s.AttributionNames(ctx, []int64{1, 2, 99}, nil, nil, nil, []int64{2})
		if err != nil {
			t.Fatal(err)
		}
		if n.Campaigns[1][0] != "百度搜索" || n.Campaigns[2][0] != "线上研讨会" || len(n.Campaigns) != 2 || n.Promoters[2] != "s@x.cn" {
			t.Errorf("names: %+v", n)
		}
	})
}

func TestParseConversionKind(t *testing.T) {
	for _, ok := range []string{"opportunity", " WON ", "order", "mql", "sql"} {
		if _, err := credits.ParseConversionKind(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if _, err := credits.ParseConversionKind("lead"); err == nil || !strings.Contains(err.Error(), "opportunity, won, order, mql, sql") {
		t.Errorf("lead: %v", err)
	}
}

// TestOrderKindAndStoredCredits: conversion heads and stored credits of
// orders filter by order kind alike; CreditsCurrent and CreditStamp follow
// the writes and the data.
func TestOrderKindAndStoredCredits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadAttributionFixture(t, s)
		if err := s.ExecForTest(ctx, "UPDATE orders SET kind = 'upsell' WHERE id = 2"); err != nil {
			t.Fatal(err)
		}
		ids := func(hs []store.ConversionHead) string {
			var b []string
			for _, h := range hs {
				b = append(b, fmt.Sprint(h.ID))
			}
			return strings.Join(b, ",")
		}
		for kind, want := range map[string]string{"": "1,2", "new": "1", "upsell": "2", "renewal": ""} {
			hs, err := s.ConversionHeads(ctx, model.ConvOrder, model.Window{}, kind)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(hs); got != want {
				t.Errorf("orders of kind %q: %s, want %s", kind, got, want)
			}
		}
		if _, err := s.ConversionHeads(ctx, model.ConvWon, model.Window{}, "new"); err == nil || !strings.Contains(err.Error(), "orders only") {
			t.Errorf("an order kind on won deals: %v", err)
		}

		// Before any run: not current, no stamp but the newest touch.
		if ok, asOf, err := s.CreditsCurrent(ctx, model.ConvOrder, model.Window{}); err != nil || ok || !asOf.IsZero() {
			t.Errorf("before a run: %v %v %v", ok, asOf, err)
		}
		if ranAt, mark, err := s.CreditStamp(ctx, model.ConvOrder); err != nil || !ranAt.IsZero() || mark != 6 {
			t.Errorf("stamp before a run: %v %d %v", ranAt, mark, err)
		}
		// Store order 1 (all of it on touch 2) and order 2 (no touches).
		hs, err := s.ConversionHeads(ctx, model.ConvOrder, model.Window{}, "")
		if err != nil {
			t.Fatal(err)
		}
		b := store.CreditBatch{Kind: model.ConvOrder, Full: true, Watermark: 6, At: at(50, 0), Fitted: true,
			Credits: []store.CreditRow{{ConversionID: 1, TouchID: 2, Channel: "paid_search", Shares: [store.NumCreditModels]float64{1}}}}
		for _, h := range hs {
			b.Conversions = append(b.Conversions, store.StoredConversion{ID: h.ID, At: h.At, Value: h.Value, Touches: int(h.ID % 2)})
		}
		if err := s.WriteCredits(ctx, b); err != nil {
			t.Fatal(err)
		}
		if ok, asOf, err := s.CreditsCurrent(ctx, model.ConvOrder, model.Window{}); err != nil || !ok || !asOf.Equal(at(50, 0)) {
			t.Errorf("after the run: %v %v %v", ok, asOf, err)
		}
		if ranAt, mark, err := s.CreditStamp(ctx, model.ConvOrder); err != nil || !ranAt.Equal(at(50, 0)) || mark != 6 {
			t.Errorf("stamp after the run: %v %d %v", ranAt, mark, err)
		}
		for kind, want := range map[string]string{
			"":        "2 conversions ¥480001.00, 1 uncredited; paid_search=1/48000000",
			"new":     "1 conversions ¥480000.00, 0 uncredited; paid_search=1/48000000",
			"upsell":  "1 conversions ¥1.00, 1 uncredited;",
			"renewal": "0 conversions ¥0.00, 0 uncredited;",
		} {
			sums, tot, err := s.StoredCredits(ctx, model.ConvOrder, 0, "channel", model.Window{}, kind)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%d conversions ¥%s, %d uncredited;", tot.Conversions, tot.Value, tot.Uncredited)
			for _, c := range sums {
				got += fmt.Sprintf(" %s=%g/%.0f", c.Key, c.Conversions, c.Fen)
			}
			if got != want {
				t.Errorf("stored credits of order kind %q: %s, want %s", kind, got, want)
			}
		}
		// A changed amount, then a new order, make the stored credits stale;
		// a window without the new order is still current.
		if err := s.ExecForTest(ctx, "UPDATE orders SET amount_fen = 200 WHERE id = 2"); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := s.CreditsCurrent(ctx, model.ConvOrder, model.Window{}); err != nil || ok {
			t.Errorf("after a changed amount: %v %v", ok, err)
		}
		if err := s.ExecForTest(ctx, "UPDATE orders SET amount_fen = 100 WHERE id = 2"); err != nil {
			t.Fatal(err)
		}
		if err := s.ExecForTest(ctx, "INSERT INTO orders (id, account_id, amount_fen, ordered_at) VALUES (3, 2, 100, ?)", at(60, 0)); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := s.CreditsCurrent(ctx, model.ConvOrder, model.Window{}); err != nil || ok {
			t.Errorf("after a new order: %v %v", ok, err)
		}
		if ok, _, err := s.CreditsCurrent(ctx, model.ConvOrder, model.Window{To: at(50, 0)}); err != nil || !ok {
			t.Errorf("a window without the new order: %v %v", ok, err)
		}
	})
}
