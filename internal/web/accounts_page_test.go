package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/demo"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

type accountsAnswer struct {
	Accounts []struct {
		ID           int64       `json:"id"`
		Name         string      `json:"name"`
		People       int64       `json:"people"`
		Leads        int64       `json:"leads"`
		MQLs         int64       `json:"mqls"`
		OpenPipeline model.Money `json:"open_pipeline"`
		WonRevenue   model.Money `json:"won_revenue"`
		LastTouch    *time.Time  `json:"last_touch_at"`
		Engagement   int64       `json:"engagement"`
	} `json:"accounts"`
	Next *string `json:"next_cursor"`
}

func TestAccountsPagesAndAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		var got accountsAnswer
		decodeJSON(t, e.api(t, "/api/v1/accounts?from=2026-01-01&to=2026-03-31"), http.StatusOK, &got)
		if len(got.Accounts) != 2 || got.Next != nil {
			t.Fatalf("accounts %+v", got)
		}
		a, b := got.Accounts[1], got.Accounts[0] // by name: 乙 (U+4E59) before 甲 (U+7532)
		if a.Name != "甲公司" || a.People != 1 || a.Leads != 1 || a.MQLs != 1 || a.WonRevenue != model.Yuan(500000) || a.OpenPipeline != 0 || a.Engagement != 2 || a.LastTouch == nil {
			t.Errorf("甲公司 %+v", a)
		}
		if b.People != 1 || b.Leads != 1 || b.MQLs != 1 || b.WonRevenue != 0 || b.Engagement != 1 {
			t.Errorf("乙公司 %+v", b)
		}
		// Open pipeline at the end of a range the deal was open in.
		decodeJSON(t, e.api(t, "/api/v1/accounts?from=2026-01-01&to=2026-01-31"), http.StatusOK, &got)
		if got.Accounts[1].OpenPipeline != model.Yuan(500000) || got.Accounts[1].WonRevenue != 0 {
			t.Errorf("January %+v", got.Accounts[1])
		}
		// Keyset paging: one a page.
		decodeJSON(t, e.api(t, "/api/v1/accounts?limit=1"), http.StatusOK, &got)
		if len(got.Accounts) != 1 || got.Next == nil {
			t.Fatalf("page 1 %+v", got)
		}
		decodeJSON(t, e.api(t, "/api/v1/accounts?limit=1&cursor="+*got.Next), http.StatusOK, &got)
		if len(got.Accounts) != 1 || got.Accounts[0].Name != "甲公司" || got.Next != nil {
			t.Errorf("page 2 %+v", got)
		}
		decodeJSON(t, e.api(t, "/api/v1/accounts?q=%E4%B9%99"), http.StatusOK, &got)
		if len(got.Accounts) != 1 || got.Accounts[0].Name != "乙公司" {
			t.Errorf("search %+v", got)
		}
		for _, bad := range []string{"limit=100000", "limit=0", "cursor=!!", "owner=x", "from=2026-02-30", "q=" + strings.Repeat("a", 300)} {
			if res := e.api(t, "/api/v1/accounts?"+bad); res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d", bad, res.StatusCode)
			}
		}
		var one struct {
			Account struct {
				People int64 `json:"people"`
			} `json:"account"`
			Months []struct {
				Month   string `json:"month"`
				Touches int64  `json:"touches"`
			} `json:"touches_by_month"`
			Opportunities []struct {
				PrimaryFirst string `json:"primary_contact_first_touch_channel"`
			} `json:"opportunities"`
			Orders []struct {
				Amount model.Money `json:"amount"`
			} `json:"orders"`
		}
		decodeJSON(t, e.api(t, "/api/v1/accounts/1?from=2026-01-01&to=2026-03-31"), http.StatusOK, &one)
		var touches int64
		for _, m := range one.Months {
			touches += m.Touches
		}
		if one.Account.People != 1 || len(one.Months) != 3 || touches != 2 || len(one.Opportunities) != 1 || one.Opportunities[0].PrimaryFirst != "paid_search" ||
			len(one.Orders) != 1 || one.Orders[0].Amount != model.Yuan(480000) {
			t.Errorf("account 1: %+v", one)
		}
		if res := e.api(t, "/api/v1/accounts/99"); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown account: %d", res.StatusCode)
		}
		if _, err := s.WriterDB().ExecContext(ctx, `UPDATE accounts SET name = '<img src=x onerror=alert(1)>' WHERE id = 2`); err != nil {
			t.Fatal(err)
		}
		c := e.loginAs(t, model.RoleSales)
		for _, p := range []struct {
			target string
			code   int
			want   string
		}{
			{"/accounts?lang=zh-CN&from=2026-01-01&to=2026-03-31", 200, "甲公司"},
			{"/accounts?lang=en", 200, "Open pipeline"},
			{"/accounts/1?lang=zh-CN&from=2026-01-01&to=2026-03-31", 200, `data-chart="touches"`},
			{"/accounts/2?lang=en", 200, "&lt;img"},
			{"/accounts?limit=9999&lang=en", 400, "between 1 and 500"},
			{"/accounts/99", 404, ""},
			{"/accounts?export=accounts&from=2026-01-01&to=2026-03-31", 200, "500000.00"},
		} {
			res := e.do(t, req{target: p.target, cookies: []*http.Cookie{c}})
			body := bodyOf(t, res)
			if res.StatusCode != p.code || !strings.Contains(body, p.want) || (!strings.Contains(p.target, "export") && strings.Contains(body, "<img src=x")) {
				t.Errorf("%s: %d, want %d with %q: %.300s", p.target, res.StatusCode, p.code, p.want, body)
			}
		}
	})
}

// On a demo, every account's figures of a page equal plain SQL, and a
// page of the list answers quickly.
func TestAccountsOnDemoMatchSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("demo data skipped in -short mode")
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		end := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
		if _, err := demo.Generate(ctx, s, demo.Options{Seed: 3, End: end, Scale: 0.05}); err != nil {
			t.Fatal(err)
		}
		e := newEnvOver(t, s)
		var got accountsAnswer
		start := time.Now()
		decodeJSON(t, e.api(t, "/api/v1/accounts?from=2026-01-01&to=2026-06-30&limit=200"), http.StatusOK, &got)
		t.Logf("a page of 200 accounts in %v", time.Since(start))
		cal := model.DefaultCalendar()
		w0, w1 := cal.Start(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).UTC(), cal.Start(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)).UTC()
		db := s.WriterDB()
		ph := func(q string) string {
			if strings.Contains(fmt.Sprintf("%T", db.Driver()), "sqlite") {
				return q
			}
			n := 0
			var b strings.Builder
			for _, c := range q {
				if c == '?' {
					n++
					fmt.Fprintf(&b, "$%d", n)
				} else {
					b.WriteRune(c)
				}
			}
			return b.String()
		}
		checked := 0
		for _, a := range got.Accounts {
			var people, leads, won, open, eng int64
			if err := db.QueryRowContext(ctx, ph(`SELECT
				(SELECT COUNT(*) FROM persons WHERE account_id = ? AND merged_into_id IS NULL),
				(SELECT COUNT(*) FROM persons WHERE account_id = ? AND merged_into_id IS NULL AND lead_at >= ? AND lead_at < ?),
				(SELECT COALESCE(SUM(amount_fen), 0) FROM opportunities WHERE account_id = ? AND stage = 'closed_won' AND closed_at >= ? AND closed_at < ?),
				(SELECT COALESCE(SUM(amount_fen), 0) FROM opportunities WHERE account_id = ? AND created_at < ? AND (closed_at IS NULL OR closed_at >= ?)),
				(SELECT COUNT(*) FROM touchpoints t JOIN persons p ON p.id = t.person_id WHERE p.account_id = ? AND t.occurred_at >= ? AND t.occurred_at < ?)`),
				a.ID, a.ID, w0, w1, a.ID, w0, w1, a.ID, w1, w1, a.ID, w1.AddDate(0, 0, -90), w1).Scan(&people, &leads, &won, &open, &eng); err != nil {
				t.Fatal(err)
			}
			if a.People != people || a.Leads != leads || int64(a.WonRevenue) != won || int64(a.OpenPipeline) != open || a.Engagement != eng {
				t.Errorf("account %d: %+v, want people %d leads %d won %d open %d engagement %d", a.ID, a, people, leads, won, open, eng)
			}
			checked++
		}
		if checked != 200 {
			t.Errorf("checked %d accounts", checked)
		}
	})
}
