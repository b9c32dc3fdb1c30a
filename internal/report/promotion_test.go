package report_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// The reviews' small world, every figure counted by hand below. The team
// is in Asia/Shanghai (the default); the range is March 2026 in its days.
//
// Employees: 1 admin (no team), 2 李娜 and 3 王海 (sales, east), 4 赵敏
// (marketer, mkt), 5 钱 (viewer, disabled, nothing), 6 孙悦 (sales, north,
// disabled, one visit). Campaigns: 1 share-a, 2 share-b (employee
// sharing), 3 search.
//
// Share links (promoter, campaign, created): L1 2/c1 Mar 2, L2 2/c2 Mar 5,
// L3 3/c1 Feb 20 (before), L4 4/c1 Mar 10, L5 none/c1 Mar 3, L6 3/c2 Apr 2
// (after), L7 6/c1 Mar 21, L8 3/c1 Apr 1 00:30 (after, 16:30 UTC Mar 31),
// L9 3/c1 Mar 1 00:30 (in, 16:30 UTC Feb 28).
//
// Promoter touches (promoter/campaign): T1 P1 2/c1 Mar 3; T4 P2 2/c1 Mar 5
// (P2's first touch is T3, a search click); T5 P3 3/c1 Mar 1 00:30 (in);
// T6 P4 3/c2 Feb 28 23:30 (out); T7 P5 4/c1 Mar 15; T8 P5 4/c2 Mar 16;
// T9 P6 2/c2 Mar 20 (P6 was a lead from the CRM on Mar 1); T10 P7 6/c1;
// T11 P8 2/c1 Mar 25; T12 P8 3/c1 Mar 26; T13 and T14 P10 4/c1 and 2/c1
// at the same instant, Mar 12 (the lower id, T13, is first).
//
// Leads of March by first touch: P1 (2, MQL), P3 (3), P4 (3, c2), P5 (4,
// MQL), P8 (2, MQL), P10 (4). Not: P2 (first touch a search click), P6
// (first touch after becoming a lead).
//
// Opportunities: O1 ¥100,000 created Mar 20, contact P1, journey T1 T2
// T15 T16; O2 ¥30,000 created Mar 6 (journey T5 T25) and won Mar 28
// (journey T5 T25 T7 T8 T18 T19), contacts P3 and P5.
//
// Content: asset 1 whitepaper (views T24 T25; downloads T15 T16 by P1,
// T17 by P2, T18 by P5), asset 2 case study (downloads T19 P3, T20 P4, T22
// P8 as a whitepaper_downloaded, T23 P2; T21 by P2 on Feb 28 23:30 is
// out), asset 3 report created Apr 15 (nothing).
func reviewWorld(t *testing.T, s *store.Store) {
	t.Helper()
	sh := time.FixedZone("CST", 8*3600)
	at := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, sh).UTC() }
	feb1 := at(2, 1, 0, 0)
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) {
			if err := l.Insert(table, strings.Split(cols, ","), rows); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
		}
		n := func(v int64) any { // 0: NULL
			if v == 0 {
				return nil
			}
			return v
		}
		disabled := at(2, 15, 0, 0)
		ins("users", "id,email,name,role,team,created_at,disabled_at",
			[]any{int64(1), "boss@x.cn", "老板", "admin", "", feb1, nil},
			[]any{int64(2), "li@x.cn", "李娜", "sales", "east", feb1, nil},
			[]any{int64(3), "wang@x.cn", "王海", "sales", "east", feb1, nil},
			[]any{int64(4), "zhao@x.cn", "赵敏", "marketer", "mkt", feb1, nil},
			[]any{int64(5), "qian@x.cn", "钱", "viewer", "", feb1, disabled},
			[]any{int64(6), "sun@x.cn", "孙悦", "sales", "north", feb1, disabled})
		ins("accounts", "id,name,industry,size_band,created_at",
			[]any{int64(1), "甲", "retail", "100-499", feb1}, []any{int64(2), "乙", "software", "1000-4999", feb1}, []any{int64(3), "丙", "", "", feb1})
		ins("campaigns", "id,code,name,channel,landing_url,created_at",
			[]any{int64(1), "share-a", "转发A", "employee_sharing", "https://www.example.cn/a", feb1},
			[]any{int64(2), "share-b", "转发B", "employee_sharing", "https://www.example.cn/b", feb1},
			[]any{int64(3), "search", "搜索", "paid_search", "https://www.example.cn/s", feb1})
		ins("content_assets", "id,kind,title,created_at",
			[]any{int64(1), "whitepaper", "白皮书", feb1}, []any{int64(2), "case_study", "案例", feb1}, []any{int64(3), "report", "报告", at(4, 15, 0, 0)})
		link := func(id, campaign, promoter int64, created time.Time) []any {
			return []any{id, "code" + string(rune('A'+id)), campaign, "https://www.example.cn/a", n(promoter), created}
		}
		ins("tracked_links", "id,code,campaign_id,target_url,promoter_id,created_at",
			link(1, 1, 2, at(3, 2, 10, 0)), link(2, 2, 2, at(3, 5, 10, 0)), link(3, 1, 3, at(2, 20, 10, 0)), link(4, 1, 4, at(3, 10, 10, 0)),
			link(5, 1, 0, at(3, 3, 10, 0)), link(6, 2, 3, at(4, 2, 10, 0)), link(7, 1, 6, at(3, 21, 10, 0)),
			link(8, 1, 3, time.Date(2026, 3, 31, 16, 30, 0, 0, time.UTC)), link(9, 1, 3, time.Date(2026, 2, 28, 16, 30, 0, 0, time.UTC)))
		person := func(id, account int64, title, stage string, lead time.Time) []any {
			var l any
			if !lead.IsZero() {
				l = lead
			}
			return []any{id, n(account), title, stage, feb1, l, feb1}
		}
		ins("persons", "id,account_id,title,stage,first_seen_at,lead_at,created_at",
			person(1, 1, "市场总监", "mql", at(3, 3, 11, 0)),
			person(2, 2, "数据分析师", "lead", at(3, 6, 10, 0)),
			person(3, 1, "市场经理", "lead", at(3, 1, 1, 0)),
			person(4, 0, "", "lead", at(3, 2, 10, 0)),
			person(5, 3, "IT总监", "customer", at(3, 18, 10, 0)),
			person(6, 2, "销售运营经理", "lead", at(3, 1, 9, 0)),
			person(7, 0, "", "visitor", time.Time{}),
			person(8, 2, "CMO", "sql", at(3, 27, 10, 0)),
			person(10, 1, "市场专员", "lead", at(3, 12, 9, 0)))
		feb28late := time.Date(2026, 2, 28, 15, 30, 0, 0, time.UTC) // Feb 28 23:30 in Shanghai: out
		mar1early := time.Date(2026, 2, 28, 16, 30, 0, 0, time.UTC) // Mar 1 00:30 in Shanghai: in
		touch := func(id, person int64, when time.Time, typ, channel string, campaign, content, promoter int64) []any {
			return []any{id, person, when, typ, channel, n(campaign), n(content), n(promoter)}
		}
		ins("touchpoints", "id,person_id,occurred_at,type,channel,campaign_id,content_id,promoter_id",
			touch(1, 1, at(3, 3, 10, 0), "share_click", "employee_sharing", 1, 0, 2),
			touch(2, 1, at(3, 4, 9, 0), "page_view", "direct", 0, 0, 0),
			touch(3, 2, at(3, 2, 9, 0), "ad_click", "paid_search", 3, 0, 0),
			touch(4, 2, at(3, 5, 9, 0), "share_click", "employee_sharing", 1, 0, 2),
			touch(5, 3, mar1early, "share_click", "employee_sharing", 1, 0, 3),
			touch(6, 4, feb28late, "share_click", "employee_sharing", 2, 0, 3),
			touch(7, 5, at(3, 15, 10, 0), "share_click", "employee_sharing", 1, 0, 4),
			touch(8, 5, at(3, 16, 10, 0), "share_click", "employee_sharing", 2, 0, 4),
			touch(9, 6, at(3, 20, 10, 0), "share_click", "employee_sharing", 2, 0, 2),
			touch(10, 7, at(3, 21, 10, 0), "share_click", "employee_sharing", 1, 0, 6),
			touch(11, 8, at(3, 25, 10, 0), "share_click", "employee_sharing", 1, 0, 2),
			touch(12, 8, at(3, 26, 9, 0), "share_click", "employee_sharing", 1, 0, 3),
			touch(13, 10, at(3, 12, 9, 0), "share_click", "employee_sharing", 1, 0, 4),
			touch(14, 10, at(3, 12, 9, 0), "share_click", "employee_sharing", 1, 0, 2),
			touch(15, 1, at(3, 4, 10, 0), "content_download", "content", 0, 1, 0),
			touch(16, 1, at(3, 12, 10, 0), "content_download", "content", 0, 1, 0),
			touch(17, 2, at(3, 5, 10, 0), "content_download", "content", 0, 1, 0),
			touch(18, 5, at(3, 17, 10, 0), "content_download", "content", 0, 1, 0),
			touch(19, 3, at(3, 20, 10, 0), "content_download", "content", 0, 2, 0),
			touch(20, 4, at(3, 21, 10, 0), "content_download", "content", 0, 2, 0),
			touch(21, 2, feb28late, "content_download", "content", 0, 2, 0),
			touch(22, 8, at(3, 26, 10, 0), "whitepaper_downloaded", "content", 0, 2, 0),
			touch(23, 2, at(3, 22, 10, 0), "content_download", "content", 0, 2, 0),
			touch(24, 2, at(3, 3, 9, 0), "page_view", "content", 0, 1, 0),
			touch(25, 3, at(3, 4, 9, 30), "page_view", "content", 0, 1, 0),
			touch(26, 3, at(4, 1, 9, 0), "page_view", "content", 0, 1, 0))
		var changes [][]any
		change := func(person int64, steps ...any) {
			from := "visitor"
			for i := 0; i < len(steps); i += 2 {
				to := steps[i].(string)
				changes = append(changes, []any{int64(len(changes) + 1), person, from, to, steps[i+1].(time.Time)})
				from = to
			}
		}
		change(1, "lead", at(3, 3, 11, 0), "mql", at(3, 10, 10, 0))
		change(2, "lead", at(3, 6, 10, 0))
		change(3, "lead", at(3, 1, 1, 0))
		change(4, "lead", at(3, 2, 10, 0))
		change(5, "lead", at(3, 18, 10, 0), "mql", at(3, 19, 10, 0), "sql", at(3, 20, 10, 0), "opportunity", at(3, 21, 10, 0), "customer", at(3, 29, 10, 0))
		change(6, "lead", at(3, 1, 9, 0))
		change(8, "lead", at(3, 27, 10, 0), "mql", at(3, 27, 11, 0), "sql", at(3, 28, 10, 0))
		change(10, "lead", at(3, 12, 9, 0))
		ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at", changes...)
		ins("opportunities", "id,account_id,name,stage,amount_fen,created_at,closed_at",
			[]any{int64(1), int64(1), "甲 CDP", "proposal", int64(10_000_000), at(3, 20, 12, 0), nil},
			[]any{int64(2), int64(3), "丙 SCRM", "closed_won", int64(3_000_000), at(3, 6, 12, 0), at(3, 28, 12, 0)})
		ins("opportunity_contacts", "opportunity_id,person_id,role,is_primary",
			[]any{int64(1), int64(1), "champion", true}, []any{int64(2), int64(3), "champion", true}, []any{int64(2), int64(5), "decision_maker", false})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := credits.Recompute(ctx, s, credits.Full, time.Now()); err != nil {
		t.Fatalf("credits: %v", err)
	}
	if _, err := rollup.Refresh(ctx, s, time.Now()); err != nil {
		t.Fatalf("roll-ups: %v", err)
	}
}

// marchOf is the reviews' range: March 2026 in the team's days.
func marchOf(t *testing.T, s *store.Store) model.Period {
	t.Helper()
	cal, err := s.Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return model.Period{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Cal: cal}
}

// wantFigures are figures in the order links, visits, visitors, leads,
// MQLs, credited pipeline, credited revenue (fen).
type wantFigures [7]int64

func figuresOf(f report.PromotionFigures) wantFigures {
	return wantFigures{f.Links, f.Visits, f.Visitors, f.Leads, f.MQLs, int64(f.CreditedPipeline), int64(f.CreditedRevenue)}
}

// Every figure of the leaderboard, counted by hand on reviewWorld: by
// employee and team, under two models, for all campaigns and for one.
func TestPromotionByHand(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		reviewWorld(t, s)
		p := marchOf(t, s)
		r := report.Reporter{Store: s}
		type emp struct {
			id, rank int
			f        wantFigures
		}
		type team struct {
			name                string
			rank, emps, sharing int
			f                   wantFigures
		}
		for _, c := range []struct {
			name     string
			model    string
			campaign int64
			emps     []emp
			teams    []team
			total    wantFigures
		}{
			{"linear, all campaigns", "linear", 0,
				// O1: four touches, T1 (李娜's) a quarter of ¥100,000. O2 created:
				// T5 (王海's) half of ¥30,000; won: T5 a sixth, T7 and T8
				// (赵敏's) two sixths.
				[]emp{
					{2, 1, wantFigures{2, 5, 5, 2, 2, 2_500_000, 0}},
					{3, 2, wantFigures{1, 2, 2, 2, 0, 1_500_000, 500_000}},
					{4, 3, wantFigures{1, 3, 2, 2, 1, 0, 1_000_000}},
					{6, 4, wantFigures{1, 1, 1, 0, 0, 0, 0}},
					{1, 5, wantFigures{}},
				},
				[]team{
					// East: P8 came through both, once.
					{"east", 1, 2, 2, wantFigures{3, 7, 6, 4, 2, 4_000_000, 500_000}},
					{"mkt", 2, 1, 1, wantFigures{1, 3, 2, 2, 1, 0, 1_000_000}},
					{"north", 3, 1, 1, wantFigures{1, 1, 1, 0, 0, 0, 0}},
					{"", 4, 1, 0, wantFigures{}},
				},
				// P10 came through 李娜 and 赵敏: eight visitors in all.
				wantFigures{5, 11, 8, 6, 3, 4_000_000, 1_500_000}},
			{"first touch, all campaigns", "first", 0,
				[]emp{
					{2, 1, wantFigures{2, 5, 5, 2, 2, 10_000_000, 0}},
					{3, 2, wantFigures{1, 2, 2, 2, 0, 3_000_000, 3_000_000}},
					{4, 3, wantFigures{1, 3, 2, 2, 1, 0, 0}},
					{6, 4, wantFigures{1, 1, 1, 0, 0, 0, 0}},
					{1, 5, wantFigures{}},
				},
				[]team{
					{"east", 1, 2, 2, wantFigures{3, 7, 6, 4, 2, 13_000_000, 3_000_000}},
					{"mkt", 2, 1, 1, wantFigures{1, 3, 2, 2, 1, 0, 0}},
					{"north", 3, 1, 1, wantFigures{1, 1, 1, 0, 0, 0, 0}},
					{"", 4, 1, 0, wantFigures{}},
				},
				wantFigures{5, 11, 8, 6, 3, 13_000_000, 3_000_000}},
			{"linear, share-a only", "linear", 1,
				// Not: L2, T8, T9 (share-b) and P4 (first touch of share-b):
				// 王海 falls to one lead, behind 赵敏.
				[]emp{
					{2, 1, wantFigures{1, 4, 4, 2, 2, 2_500_000, 0}},
					{4, 2, wantFigures{1, 2, 2, 2, 1, 0, 500_000}},
					{3, 3, wantFigures{1, 2, 2, 1, 0, 1_500_000, 500_000}},
					{6, 4, wantFigures{1, 1, 1, 0, 0, 0, 0}},
					{1, 5, wantFigures{}},
				},
				[]team{
					{"east", 1, 2, 2, wantFigures{2, 6, 5, 3, 2, 4_000_000, 500_000}},
					{"mkt", 2, 1, 1, wantFigures{1, 2, 2, 2, 1, 0, 500_000}},
					{"north", 3, 1, 1, wantFigures{1, 1, 1, 0, 0, 0, 0}},
					{"", 4, 1, 0, wantFigures{}},
				},
				wantFigures{4, 9, 7, 5, 3, 4_000_000, 1_000_000}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := r.Promotion(ctx, report.PromotionQuery{Period: p, Model: c.model, CampaignID: c.campaign})
				if err != nil {
					t.Fatal(err)
				}
				if got.From != "2026-03-01" || got.To != "2026-03-31" || got.Model != c.model || got.Currency != "CNY" {
					t.Errorf("header %s %s %s %s", got.From, got.To, got.Model, got.Currency)
				}
				if (c.campaign == 0) != (got.Campaign == nil) || (got.Campaign != nil && (got.Campaign.ID != 1 || got.Campaign.Code != "share-a")) {
					t.Errorf("campaign %+v", got.Campaign)
				}
				if len(got.Employees) != len(c.emps) {
					t.Fatalf("%d employees, want %d (钱 is disabled and did nothing): %+v", len(got.Employees), len(c.emps), got.Employees)
				}
				for i, w := range c.emps {
					g := got.Employees[i]
					if g.UserID != int64(w.id) || g.Rank != w.rank || figuresOf(g.PromotionFigures) != w.f {
						t.Errorf("row %d: user %d rank %d %v, want user %d rank %d %v", i, g.UserID, g.Rank, figuresOf(g.PromotionFigures), w.id, w.rank, w.f)
					}
					if g.UserID == 6 && (!g.Disabled || g.Team != "north" || g.Email != "sun@x.cn" || g.Name != "孙悦" || g.Role != model.RoleSales) {
						t.Errorf("孙悦's row %+v", g)
					}
				}
				if len(got.Teams) != len(c.teams) {
					t.Fatalf("%d teams, want %d", len(got.Teams), len(c.teams))
				}
				for i, w := range c.teams {
					g := got.Teams[i]
					if g.Team != w.name || g.Rank != w.rank || g.Employees != w.emps || g.Sharing != w.sharing || figuresOf(g.PromotionFigures) != w.f {
						t.Errorf("team row %d: %q rank %d %d/%d %v, want %q rank %d %d/%d %v", i, g.Team, g.Rank, g.Employees, g.Sharing,
							figuresOf(g.PromotionFigures), w.name, w.rank, w.emps, w.sharing, w.f)
					}
				}
				if figuresOf(got.Total) != c.total {
					t.Errorf("total %v, want %v", figuresOf(got.Total), c.total)
				}
			})
		}
		// Outside the data: everyone listed with nothing.
		empty := model.Period{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC), Cal: p.Cal}
		got, err := r.Promotion(ctx, report.PromotionQuery{Period: empty, Model: "linear"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Employees) != 4 || figuresOf(got.Total) != (wantFigures{}) {
			t.Errorf("January 2025: %d employees (the enabled four), total %v", len(got.Employees), figuresOf(got.Total))
		}
		for _, e := range got.Employees {
			if e.Rank != 1 {
				t.Errorf("January 2025: %d ranks %d; equal figures share rank 1", e.UserID, e.Rank)
			}
		}
		if _, err := r.Promotion(ctx, report.PromotionQuery{Period: p, Model: "linear", CampaignID: 99}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown campaign: %v", err)
		}
		if _, err := r.Promotion(ctx, report.PromotionQuery{Period: p, Model: "nope"}); err == nil {
			t.Error("unknown model accepted")
		}
	})
}
