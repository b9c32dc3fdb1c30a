// Package reviewtest loads a small campaign world whose review figures
// are computed by hand (docs/reviews.md): the report tests check every
// metric against those numbers, the web tests the API that shows them.
package reviewtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/credits"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
)

// The world's campaigns.
const (
	Webinar   = int64(1) // reviewed: 线上直播 in March 2026, in the Q1 programme
	OldJan    = int64(2) // an earlier webinar, January (no programme)
	OldFeb    = int64(3) // an earlier webinar, February, in the Q1 programme
	Programme = int64(4) // Q1 programme: OldFeb, Webinar, Paper
	Paper     = int64(6) // a whitepaper campaign in the programme
)

// The world's users.
const (
	Admin    = int64(1)
	SalesJia = int64(2) // 甲
	SalesYi  = int64(3) // 乙
	Promoter = int64(4) // shares the webinar's link
)

// Now is when the review is read.
var Now = time.Date(2026, 4, 1, 4, 0, 0, 0, time.UTC)

// March is the reviewed period (team days, Asia/Shanghai).
var March = [2]time.Time{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)}

// cst is a time in Shanghai (UTC+8).
func cst(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour-8, min, 0, 0, time.UTC)
}

// Load fills a fresh store with the world, stores its credits and builds
// the roll-ups. The hand-computed figures of the webinar's review over
// March (model linear) are:
//
//	leads 4 (P1 P4 webinar/polyv, P2 employee_sharing/wecom, P3 paid_social/tencent)
//	MQLs 3 (P1 P2 P3), SQLs 2 (P1 P3), opportunities 1 (P1), customers 1 (P1)
//	spend ¥3,000.00 (100 clicks): CPL ¥750.00, cost per MQL ¥1,000.00
//	won revenue ¥318,272.00 (O1, every touch before it the webinar's)
//	ROI (318,272 − 3,000) ÷ 3,000 = 105.090666…
//	influenced pipeline ¥418,272.00 (O1 ¥318,272 + O2 ¥100,000), sourced the same
//	orders 1 (OR1 ¥318,272)
//	registrations 4, attendances 3, downloads 2 (one of the webinar, one
//	naming its replay without a campaign)
//	first follow-up of its leads' assignments: 1, 3, 6 and 0.5 business
//	hours: median 2 h; 甲 (1, 3) median 2 h, 乙 (6, 0.5) median 3.25 h;
//	each breached the 2 h SLA once
func Load(t testing.TB, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	t0 := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) {
			if err := l.Insert(table, strings.Split(cols, ","), rows); err != nil {
				t.Fatal(table, err)
			}
		}
		ins("users", "id,email,name,role,created_at",
			[]any{Admin, "admin@x.cn", "管理员", "admin", t0},
			[]any{SalesJia, "jia@x.cn", "甲", "sales", t0},
			[]any{SalesYi, "yi@x.cn", "乙", "sales", t0},
			[]any{Promoter, "p@x.cn", "推广员", "marketer", t0})
		ins("accounts", "id,name,created_at",
			[]any{int64(1), "甲公司", t0}, []any{int64(2), "老客户公司", t0}, []any{int64(3), "丙公司", t0}, []any{int64(4), "丁公司", t0},
			[]any{int64(5), "戊公司", t0})
		ins("campaigns", "id,code,name,name_en,channel,kind,start_date,end_date,parent_id,created_at",
			[]any{Programme, "q1", "一季度项目", "Q1 programme", "webinar", "programme", day(1, 1), day(3, 31), nil, t0},
			[]any{Webinar, "web-new", "三月直播", "March webinar", "webinar", "webinar", day(3, 1), day(3, 20), Programme, t0},
			[]any{OldJan, "web-jan", "一月直播", "January webinar", "webinar", "webinar", day(1, 1), day(1, 20), nil, t0},
			[]any{OldFeb, "web-feb", "二月直播", "February webinar", "webinar", "webinar", day(2, 1), day(2, 20), Programme, t0},
			[]any{Paper, "wp", "白皮书", "Whitepaper", "content", "whitepaper", day(3, 5), day(3, 31), Programme, t0})
		ins("content_assets", "id,campaign_id,kind,title,created_at",
			[]any{int64(1), Paper, "whitepaper", "白皮书", t0}, []any{int64(2), Webinar, "video", "直播回放", t0})
		ins("tracked_links", "id,code,campaign_id,target_url,promoter_id,created_at",
			[]any{int64(1), "p4link", Webinar, "https://x.cn/webinar", Promoter, t0})
		// Persons: P1–P4 the webinar's leads, P5 a member from an existing
		// customer (a lead since February), P6 a member whose lead source
		// is the whitepaper, P10 and P11 the January webinar's leads.
		p := func(id, account any, stage string, lead time.Time) []any {
			return []any{id, account, stage, lead, lead, lead}
		}
		ins("persons", "id,account_id,stage,first_seen_at,lead_at,created_at",
			p(int64(1), int64(1), "customer", cst(3, 2, 10, 0)),
			p(int64(2), nil, "mql", cst(3, 3, 10, 0)),
			p(int64(3), int64(3), "sql", cst(3, 5, 10, 0)),
			p(int64(4), int64(4), "lead", cst(3, 6, 10, 0)),
			p(int64(5), int64(2), "lead", cst(2, 20, 10, 0)),
			p(int64(6), int64(5), "lead", cst(3, 8, 10, 0)),
			p(int64(10), nil, "lead", cst(1, 5, 10, 0)),
			p(int64(11), nil, "lead", cst(1, 6, 10, 0)))
		sc := func(id, person int64, from, to string, at time.Time) []any { return []any{id, person, from, to, at} }
		ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at",
			sc(1, 1, "visitor", "lead", cst(3, 2, 10, 0)), sc(2, 1, "lead", "mql", cst(3, 2, 14, 0)), sc(3, 1, "mql", "sql", cst(3, 6, 10, 0)),
			sc(4, 1, "sql", "opportunity", cst(3, 15, 10, 0)), sc(5, 1, "opportunity", "customer", cst(3, 25, 10, 0)),
			sc(6, 2, "visitor", "lead", cst(3, 3, 10, 0)), sc(7, 2, "lead", "mql", cst(3, 3, 11, 0)),
			sc(8, 3, "visitor", "lead", cst(3, 5, 10, 0)), sc(9, 3, "lead", "mql", cst(3, 5, 10, 0)), sc(10, 3, "mql", "sql", cst(3, 9, 10, 0)),
			sc(11, 4, "visitor", "lead", cst(3, 6, 10, 0)),
			sc(12, 5, "visitor", "lead", cst(2, 20, 10, 0)),
			sc(13, 6, "visitor", "lead", cst(3, 8, 10, 0)),
			sc(14, 10, "visitor", "lead", cst(1, 5, 10, 0)), sc(15, 11, "visitor", "lead", cst(1, 6, 10, 0)))
		type tp struct {
			person                 any
			anon                   string
			at                     time.Time
			typ, channel, source   string
			campaign, content, pro any
		}
		touches := []tp{
			// The webinar in March.
			{int64(1), "", cst(3, 2, 10, 0), "webinar_register", "webinar", "polyv", Webinar, nil, nil},
			{int64(2), "", cst(3, 3, 10, 0), "link_click", "employee_sharing", "wecom", Webinar, nil, Promoter},
			{nil, "anon-1", cst(3, 4, 10, 0), "link_click", "employee_sharing", "wecom", Webinar, nil, Promoter},
			{int64(3), "", cst(3, 5, 10, 0), "ad_click", "paid_social", "tencent", Webinar, nil, nil},
			{int64(4), "", cst(3, 6, 10, 0), "webinar_register", "webinar", "polyv", Webinar, nil, nil},
			{int64(6), "", cst(3, 7, 10, 0), "webinar_register", "webinar", "polyv", Webinar, nil, nil},
			{int64(5), "", cst(3, 9, 10, 0), "webinar_register", "webinar", "polyv", Webinar, nil, nil},
			{int64(1), "", cst(3, 10, 10, 0), "webinar_attend", "webinar", "polyv", Webinar, nil, nil},
			{int64(5), "", cst(3, 10, 10, 0), "webinar_attend", "webinar", "polyv", Webinar, nil, nil},
			{int64(4), "", cst(3, 10, 10, 0), "webinar_attend", "webinar", "polyv", Webinar, nil, nil},
			{int64(4), "", cst(3, 12, 10, 0), "content_download", "content", "website", Webinar, int64(2), nil},
			// The replay downloaded from a mail: no campaign, the webinar's asset.
			{int64(5), "", cst(3, 13, 10, 0), "content_download", "content", "email", nil, int64(2), nil},
			// The whitepaper: P6's lead source.
			{int64(6), "", cst(3, 8, 10, 0), "content_download", "content", "website", Paper, int64(1), nil},
			// P3 came back by typing the address: half of O2's linear credit.
			{int64(3), "", cst(3, 18, 10, 0), "page_view", "direct", "", nil, nil, nil},
			// January's webinar: 8 registrations, two of them leads.
			{int64(10), "", cst(1, 5, 10, 0), "webinar_register", "webinar", "polyv", OldJan, nil, nil},
			{int64(11), "", cst(1, 6, 10, 0), "webinar_register", "webinar", "polyv", OldJan, nil, nil},
		}
		for i := range 6 {
			touches = append(touches, tp{nil, "jan-" + string(rune('a'+i)), cst(1, 7+i, 10, 0), "webinar_register", "webinar", "polyv", OldJan, nil, nil})
		}
		// February's webinar: 4 registrations from the webinar platform, 2
		// from paid social, no leads.
		for i := range 6 {
			ch, src := "webinar", "polyv"
			if i >= 4 {
				ch, src = "paid_social", "tencent"
			}
			touches = append(touches, tp{nil, "feb-" + string(rune('a'+i)), cst(2, 5+i, 10, 0), "webinar_register", ch, src, OldFeb, nil, nil})
		}
		var rows [][]any
		for i, x := range touches {
			rows = append(rows, []any{int64(i + 1), x.person, x.anon, x.at, x.typ, x.channel, x.source, x.campaign, x.content, x.pro})
		}
		ins("touchpoints", "id,person_id,anonymous_id,occurred_at,type,channel,source,campaign_id,content_id,promoter_id", rows...)
		ins("daily_costs", "id,day,platform,campaign_id,clicks,cost_fen",
			[]any{int64(1), day(3, 2), "polyv", Webinar, int64(60), int64(200000)},
			[]any{int64(2), day(3, 15), "polyv", Webinar, int64(40), int64(100000)},
			[]any{int64(3), day(1, 5), "polyv", OldJan, int64(0), int64(200000)},
			[]any{int64(4), day(2, 10), "polyv", OldFeb, int64(0), int64(400000)})
		ins("opportunities", "id,account_id,name,stage,amount_fen,created_at,closed_at",
			[]any{int64(1), int64(1), "甲公司 CDP", "closed_won", int64(31827200), cst(3, 15, 10, 0), cst(3, 25, 10, 0)},
			[]any{int64(2), int64(3), "丙公司 营销云", "proposal", int64(10000000), cst(3, 20, 10, 0), nil},
			// The old customer's deal of last year.
			[]any{int64(3), int64(2), "老客户 续约", "closed_won", int64(5000000), cst(1, 10, 10, 0), cst(1, 15, 10, 0)})
		ins("opportunity_contacts", "opportunity_id,person_id,is_primary",
			[]any{int64(1), int64(1), true}, []any{int64(2), int64(3), true})
		ins("orders", "id,opportunity_id,account_id,amount_fen,ordered_at",
			[]any{int64(1), int64(1), int64(1), int64(31827200), cst(3, 26, 10, 0)},
			[]any{int64(2), nil, int64(2), int64(5000000), cst(1, 15, 10, 0)})
		a := func(id, person, user int64, assigned, due, follow time.Time) []any {
			return []any{id, person, user, "r", assigned, due, follow}
		}
		ins("assignments", "id,person_id,user_id,rule,assigned_at,due_at,first_follow_up_at",
			a(1, 1, SalesJia, cst(3, 2, 14, 0), cst(3, 2, 16, 0), cst(3, 2, 15, 0)),
			a(2, 2, SalesJia, cst(3, 3, 11, 0), cst(3, 3, 13, 0), cst(3, 3, 14, 0)),
			a(3, 3, SalesYi, cst(3, 5, 10, 0), cst(3, 5, 12, 0), cst(3, 5, 16, 0)),
			a(4, 4, SalesYi, cst(3, 6, 11, 0), cst(3, 6, 13, 0), cst(3, 6, 11, 30)),
			// Not a lead of the webinar: left out.
			a(5, 6, SalesJia, cst(3, 9, 10, 0), cst(3, 9, 12, 0), cst(3, 9, 17, 0)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := credits.Recompute(ctx, s, credits.Full, Now); err != nil {
		t.Fatal(err)
	}
	if _, err := rollup.Refresh(ctx, s, Now); err != nil {
		t.Fatal(err)
	}
}
