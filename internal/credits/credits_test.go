package credits_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/attribution"
	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var (
	ctx  = context.Background()
	day0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now1 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now2 = now1.Add(time.Hour)
)

func at(d, h int) time.Time {
	return day0.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
}

// exec runs a statement on the writer with ? placeholders on both engines.
func exec(t *testing.T, s *store.Store, q string, args ...any) {
	t.Helper()
	if s.Dialect() == store.Postgres {
		n := 0
		var b strings.Builder
		for _, c := range q {
			if c == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(c)
		}
		q = b.String()
	}
	if _, err := s.WriterDB().ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// loadFixture: two accounts.
//
//	p1: t1 day 0 paid_search (keyword 1 of ad group 1) · t2 day 2 webinar; lead day 1, mql day 1
//	p2: t3 day 3 email
//	p3: t4 day 1 paid_search (ad group 1 itself, no keyword)
//	p4: t5 day 4 direct; mql day 5
//	o1 (p1, p2) created day 5, won day 20, ¥1,000.00; order r1 day 21 ¥900.00
//	o2 (p3) created day 6, open, ¥500.00
func loadFixture(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table string, cols string, rows ...[]any) error {
			return l.Insert(table, strings.Split(cols, ","), rows)
		}
		for _, e := range []error{
			ins("accounts", "id,name,created_at", []any{int64(1), "甲公司", day0}, []any{int64(2), "乙公司", day0}),
			ins("campaigns", "id,code,name,channel,platform,created_at",
				[]any{int64(1), "baidu-1", "百度搜索", "paid_search", "baidu", day0},
				[]any{int64(2), "web-1", "线上研讨会", "webinar", "", day0}),
			ins("ad_groups", "id,campaign_id,name", []any{int64(1), int64(1), "品牌词"}),
			ins("keywords", "id,campaign_id,ad_group_id,text", []any{int64(1), int64(1), int64(1), "cdp"}),
			ins("persons", "id,account_id,stage,first_seen_at,lead_at,created_at",
				[]any{int64(1), int64(1), "customer", at(0, 0), at(1, 0), at(0, 0)},
				[]any{int64(2), int64(1), "lead", at(3, 0), nil, at(3, 0)},
				[]any{int64(3), int64(2), "opportunity", at(1, 0), nil, at(1, 0)},
				[]any{int64(4), nil, "mql", at(4, 0), nil, at(4, 0)}),
			ins("touchpoints", "id,person_id,occurred_at,type,channel,campaign_id,ad_group_id,keyword_id",
				[]any{int64(1), int64(1), at(0, 0), "ad_click", "paid_search", int64(1), nil, int64(1)},
				[]any{int64(2), int64(1), at(2, 0), "webinar_attend", "webinar", int64(2), nil, nil},
				[]any{int64(3), int64(2), at(3, 0), "email_click", "email", nil, nil, nil},
				[]any{int64(4), int64(3), at(1, 0), "ad_click", "paid_search", int64(1), int64(1), nil},
				[]any{int64(5), int64(4), at(4, 0), "page_view", "direct", nil, nil, nil}),
			ins("opportunities", "id,account_id,name,stage,amount_fen,created_at,closed_at",
				[]any{int64(1), int64(1), "甲公司 CDP", "closed_won", int64(100000), at(5, 0), at(20, 0)},
				[]any{int64(2), int64(2), "乙公司 CDP", "proposal", int64(50000), at(6, 0), nil}),
			ins("opportunity_contacts", "opportunity_id,person_id,is_primary",
				[]any{int64(1), int64(1), true}, []any{int64(1), int64(2), false}, []any{int64(2), int64(3), true}),
			ins("orders", "id,opportunity_id,account_id,amount_fen,ordered_at", []any{int64(1), int64(1), int64(1), int64(90000), at(21, 0)}),
			ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at",
				[]any{int64(1), int64(1), "lead", "mql", at(1, 0)},
				[]any{int64(2), int64(4), "lead", "mql", at(5, 0)}),
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

// snapshot prints a kind's stored conversions and credits.
func snapshot(t *testing.T, s *store.Store, kind model.ConversionKind) (convs []store.StoredConversion, rows []store.CreditRow) {
	t.Helper()
	convs, rows, err := s.StoredCreditsOf(ctx, kind)
	if err != nil {
		t.Fatal(err)
	}
	return convs, rows
}

// computedAt lists the conversions computed at a time, as "id,id".
func computedAt(convs []store.StoredConversion, when time.Time) string {
	var ids []string
	for _, c := range convs {
		if c.ComputedAt.Equal(when) {
			ids = append(ids, fmt.Sprint(c.ID))
		}
	}
	return strings.Join(ids, ",")
}

func recompute(t *testing.T, s *store.Store, mode credits.Mode, now time.Time) credits.Stats {
	t.Helper()
	st, err := credits.Recompute(ctx, s, mode, now)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestStoredEqualsOnRequest: every rule model's stored share of every touch
// equals attribution.TouchCredits on the journeys the API reads, for every
// kind, and every conversion's shares sum to 1 under every model.
func TestStoredEqualsOnRequest(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadFixture(t, s)
		st := recompute(t, s, credits.Full, now1)
		// opportunity 2 + won 1 + order 1 + mql 2 conversions.
		if st.Conversions != 6 || st.Deleted != 0 {
			t.Errorf("stats %+v", st)
		}
		for _, kind := range credits.ConversionKinds {
			convs, rows := snapshot(t, s, kind)
			cjs, err := s.AttributionJourneys(ctx, kind, model.Window{}, credits.DefaultLookback)
			if err != nil {
				t.Fatal(err)
			}
			if len(convs) != len(cjs) {
				t.Fatalf("%s: %d stored conversions, %d journeys", kind, len(convs), len(cjs))
			}
			stored := map[[2]int64][]float64{}
			sums := map[int64][]float64{}
			for _, r := range rows {
				stored[[2]int64{r.ConversionID, r.TouchID}] = r.Shares[:]
				if sums[r.ConversionID] == nil {
					sums[r.ConversionID] = make([]float64, len(r.Shares))
				}
				for m, x := range r.Shares {
					sums[r.ConversionID][m] += x
				}
			}
			for id, sum := range sums {
				for m, x := range sum {
					if math.Abs(x-1) > 1e-12 {
						t.Errorf("%s #%d: %s shares sum to %v", kind, id, credits.Models[m], x)
					}
				}
			}
			for k, m := range credits.Models {
				if m.DataDriven() && m != attribution.Shapley {
					continue
				}
				js := attribution.NewJourneys()
				var ids []int64
				for _, cj := range cjs {
					j := attribution.Journey{Converted: true, Value: float64(cj.Value), LeadAt: cj.LeadAt, OpportunityAt: cj.OpportunityAt, ConvertedAt: cj.At}
					for _, tc := range cj.Touches {
						j.Touches = append(j.Touches, attribution.Touch{Time: tc.At, Channel: tc.Channel, Ref: tc.ID})
					}
					if js.Add(j, credits.DefaultLookback) > 0 {
						ids = append(ids, cj.ID)
					}
				}
				tcs, err := attribution.TouchCredits(js, m, attribution.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if len(tcs) != len(rows) {
					t.Errorf("%s %s: %d touch credits, %d stored rows", kind, m, len(tcs), len(rows))
				}
				for _, tc := range tcs {
					got, ok := stored[[2]int64{ids[tc.Journey], tc.Ref}]
					if !ok || math.Abs(got[k]-tc.Conversions) > 1e-12 {
						t.Errorf("%s %s conversion %d touch %d: stored %v, on request %v", kind, m, ids[tc.Journey], tc.Ref, got, tc.Conversions)
					}
				}
			}
		}
		// Hand-checked rows: o1's journey is t1 (paid search, day 0), t2
		// (webinar, day 2), t3 (email, day 3); lead day 1, so LC is t1;
		// created day 5, so OC is t3. W-shaped: t1 FT+LC 0.6, t3 OC 0.3,
		// t2 the 0.1 of the other touches. o2 has the one touch t4.
		_, rows := snapshot(t, s, model.ConvOpportunity)
		want := map[int64][3]float64{ // first, linear, w-shaped
			1: {1, 1. / 3, 0.6},
			2: {0, 1. / 3, 0.1},
			3: {0, 1. / 3, 0.3},
			4: {1, 1, 1},
		}
		for _, r := range rows {
			w := want[r.TouchID]
			if !near(r.Shares[0], w[0]) || !near(r.Shares[3], w[1]) || !near(r.Shares[7], w[2]) {
				t.Errorf("touch %d: first %v linear %v w-shaped %v, want %v", r.TouchID, r.Shares[0], r.Shares[3], r.Shares[7], w)
			}
		}
		// The stored conversions carry their facts.
		convs, _ := snapshot(t, s, model.ConvOpportunity)
		if len(convs) != 2 || convs[0].Touches != 3 || !convs[0].Sourced || !convs[0].Influenced || convs[0].Value != 100000 ||
			!convs[0].At.Equal(at(5, 0)) || !convs[0].ComputedAt.Equal(now1) {
			t.Errorf("stored conversions %+v", convs)
		}
	})
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// TestFullIsIdempotent: a second full run stores the same rows.
func TestFullIsIdempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadFixture(t, s)
		recompute(t, s, credits.Full, now1)
		type snap struct {
			convs []store.StoredConversion
			rows  []store.CreditRow
		}
		before := map[model.ConversionKind]snap{}
		for _, k := range credits.ConversionKinds {
			c, r := snapshot(t, s, k)
			before[k] = snap{c, r}
		}
		weights, _ := s.CreditWeights(ctx, model.ConvOpportunity)
		st := recompute(t, s, credits.Full, now2)
		// Rows: opportunity 3+1, won 3, order 3, mql 1+1.
		if st.Conversions != 6 || st.Credits != 12 {
			t.Errorf("second run: %+v", st)
		}
		for _, k := range credits.ConversionKinds {
			c, r := snapshot(t, s, k)
			for i := range c {
				c[i].ComputedAt = before[k].convs[i].ComputedAt
			}
			if fmt.Sprint(c) != fmt.Sprint(before[k].convs) || fmt.Sprint(r) != fmt.Sprint(before[k].rows) {
				t.Errorf("%s changed:\n%v %v\n%v %v", k, before[k].convs, before[k].rows, c, r)
			}
		}
		again, _ := s.CreditWeights(ctx, model.ConvOpportunity)
		if fmt.Sprint(again) != fmt.Sprint(weights) {
			t.Errorf("weights changed: %v → %v", weights, again)
		}
		// An incremental run with nothing new recomputes nothing.
		st = recompute(t, s, credits.Incremental, now2.Add(time.Hour))
		if st.Conversions != 0 || st.Deleted != 0 {
			t.Errorf("idle incremental run: %+v", st)
		}
	})
}

// TestIncremental: a new touch, a new opportunity and an opportunity that
// stops being won each change exactly the conversions they affect.
func TestIncremental(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadFixture(t, s)
		// The first run of any mode is full.
		if st := recompute(t, s, credits.Incremental, now1); st.Conversions != 6 {
			t.Fatalf("first run: %+v", st)
		}
		step := now1
		run := func(what string, want map[model.ConversionKind]string, deleted int) {
			t.Helper()
			step = step.Add(time.Hour)
			st := recompute(t, s, credits.Incremental, step)
			if st.Deleted != deleted {
				t.Errorf("%s: deleted %d, want %d", what, st.Deleted, deleted)
			}
			for _, k := range credits.ConversionKinds {
				convs, _ := snapshot(t, s, k)
				if got := computedAt(convs, step); got != want[k] {
					t.Errorf("%s: %s recomputed %q, want %q", what, k, got, want[k])
				}
			}
		}
		// A touch of p3 (o2's only contact) before o2 was created: only o2.
		exec(t, s, `INSERT INTO touchpoints (id, person_id, occurred_at, type, channel) VALUES (6, 3, ?, 'email_click', 'email')`, at(5, 12))
		run("new touch", map[model.ConversionKind]string{model.ConvOpportunity: "2"}, 0)
		_, rows := snapshot(t, s, model.ConvOpportunity)
		if n := len(rows); n != 5 {
			t.Errorf("o2 should now have two touches: %d rows", n)
		}
		// A touch of p2 (contact of o1, won and ordered): o1 in every kind.
		exec(t, s, `INSERT INTO touchpoints (id, person_id, occurred_at, type, channel) VALUES (7, 2, ?, 'page_view', 'direct')`, at(30, 0))
		run("touch of o1's contact", map[model.ConversionKind]string{model.ConvOpportunity: "1", model.ConvWon: "1", model.ConvOrder: "1"}, 0)
		// A new opportunity of p4.
		exec(t, s, `INSERT INTO opportunities (id, account_id, name, stage, amount_fen, created_at) VALUES (3, 2, 'new', 'qualification', 7000, ?)`, at(8, 0))
		exec(t, s, `INSERT INTO opportunity_contacts (opportunity_id, person_id, is_primary) VALUES (3, 4, ?)`, true)
		run("new opportunity", map[model.ConversionKind]string{model.ConvOpportunity: "3"}, 0)
		// o1 is reopened: its won conversion goes, nothing else moves.
		exec(t, s, `UPDATE opportunities SET stage = 'negotiation', closed_at = NULL WHERE id = 1`)
		run("no longer won", map[model.ConversionKind]string{}, 1)
		if convs, rows := snapshot(t, s, model.ConvWon); len(convs) != 0 || len(rows) != 0 {
			t.Errorf("won credits left: %v %v", convs, rows)
		}
		// A changed amount recomputes the opportunity and its value.
		exec(t, s, `UPDATE opportunities SET amount_fen = 60000 WHERE id = 2`)
		run("new amount", map[model.ConversionKind]string{model.ConvOpportunity: "2"}, 0)
		// Incremental results equal a full run's, except for markov and
		// shapley-rate, which the full run refits on the new journeys.
		inc := map[model.ConversionKind][]store.CreditRow{}
		for _, k := range credits.ConversionKinds {
			_, inc[k] = snapshot(t, s, k)
		}
		recompute(t, s, credits.Full, step.Add(time.Hour))
		for _, k := range credits.ConversionKinds {
			_, rows := snapshot(t, s, k)
			if len(rows) != len(inc[k]) {
				t.Errorf("%s: incremental %v, full %v", k, inc[k], rows)
				continue
			}
			for i := range rows {
				for m := range rows[i].Shares {
					fitted := credits.Models[m] == attribution.Markov || credits.Models[m] == attribution.ShapleyRate
					if rows[i].ConversionID != inc[k][i].ConversionID || rows[i].TouchID != inc[k][i].TouchID ||
						(!fitted && !near(rows[i].Shares[m], inc[k][i].Shares[m])) {
						t.Errorf("%s row %d %s: incremental %+v full %+v", k, i, credits.Models[m], inc[k][i], rows[i])
					}
				}
			}
		}
	})
}

// TestNonConvertingJourneys: the stored markov fit learns from persons
// without an opportunity. Opportunity journeys: o1 = paid search › webinar
// › email (converted), o2 = paid search (converted); p4 = direct (null).
// Order 1: P(start) = 2/3·1 + 1/3·0 = 2/3 (every path through paid search
// converts). Without paid search: 0, RE 1. Without webinar or email: o1's
// path breaks, P = 1/3, RE 1/2. Direct: P unchanged, RE 0.
func TestNonConvertingJourneys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadFixture(t, s)
		recompute(t, s, credits.Full, now1)
		w, err := s.CreditWeights(ctx, model.ConvOpportunity)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%.4f %.4f %.4f %.4f", w["markov"]["paid_search"], w["markov"]["webinar"], w["markov"]["email"], w["markov"]["direct"])
		if got != "1.0000 0.5000 0.5000 0.0000" {
			t.Errorf("removal effects paid_search webinar email direct = %s", got)
		}
		// o1's markov shares: weights 1, 1/2, 1/2 over one touch each.
		_, rows := snapshot(t, s, model.ConvOpportunity)
		var shares []string
		for _, r := range rows {
			if r.ConversionID == 1 {
				shares = append(shares, fmt.Sprintf("t%d=%.3f", r.TouchID, r.Shares[12]))
			}
		}
		if g := strings.Join(shares, " "); g != "t1=0.500 t2=0.250 t3=0.250" {
			t.Errorf("o1 markov shares: %s", g)
		}
		// MQL: p1 = paid search and p4 = direct convert; p2 (email) and p3
		// (paid search) do not. P = (2·1/2 + 1 + 0)/4 = 1/2; without paid
		// search or without direct 1/4 (RE 1/2); without email 1/2 (RE 0).
		mw, err := s.CreditWeights(ctx, model.ConvMQL)
		if err != nil {
			t.Fatal(err)
		}
		got = fmt.Sprintf("%.4f %.4f %.4f", mw["markov"]["paid_search"], mw["markov"]["direct"], mw["markov"]["email"])
		if got != "0.5000 0.5000 0.0000" {
			t.Errorf("mql removal effects paid_search direct email = %s", got)
		}
	})
}

func TestParseMode(t *testing.T) {
	for _, ok := range []string{"full", "incremental"} {
		if _, err := credits.ParseMode(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if _, err := credits.ParseMode("sometimes"); err == nil || !strings.Contains(err.Error(), "full or incremental") {
		t.Errorf("sometimes: %v", err)
	}
	if _, err := credits.Recompute(ctx, nil, "sometimes", now1); err == nil {
		t.Error("an unknown mode must fail")
	}
}
