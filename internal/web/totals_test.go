package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/auth"
	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// Amounts written around the input limits (an old release, a direct
// import) must not take the reports down: 95 opportunities of
// ¥999,999,999,999,999.99 overflowed SUM, and so did three huge cost rows.
func TestHugeStoredAmountsLeaveReportsStanding(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		db := rawDB(t, s)
		exec := func(q string, args ...any) {
			t.Helper()
			if s.Dialect() == store.Postgres {
				for i := 1; strings.Contains(q, "?"); i++ {
					q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
				}
			}
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 95 {
			id := int64(100 + i)
			exec(`INSERT INTO opportunities (id, account_id, name, stage, amount_fen, created_at, closed_at) VALUES (?, 1, 'huge', 'closed_won', 99999999999999999, ?, ?)`,
				id, at(5, 0), at(30, 0))
			exec(`INSERT INTO opportunity_contacts (opportunity_id, person_id, role, is_primary) VALUES (?, 1, 'decision_maker', ?)`, id, true)
		}
		for i := range 3 {
			exec(`INSERT INTO daily_costs (id, day, platform, campaign_id, impressions, clicks, cost_fen) VALUES (?, ?, 'baidu', 1, 1, 1, 4000000000000000000)`,
				int64(10+i), day0.AddDate(0, 0, 2+i))
		}
		var st struct {
			Opportunities int64           `json:"opportunities"`
			WonRevenue    json.RawMessage `json:"won_revenue"`
			Pipeline      json.RawMessage `json:"pipeline"`
			Cost          json.RawMessage `json:"cost"`
			ROI           *float64        `json:"roi"`
			Unavailable   []string        `json:"unavailable"`
		}
		decodeJSON(t, e.api(t, "/api/v1/stats"), http.StatusOK, &st)
		if st.Opportunities != 96 || string(st.WonRevenue) != "480000.00" || string(st.Pipeline) != "null" || string(st.Cost) != "null" ||
			st.ROI != nil || !slices.Equal(st.Unavailable, []string{"pipeline", "cost"}) {
			t.Fatalf("stats: %+v pipeline %s cost %s", st, st.Pipeline, st.Cost)
		}
		var ch channelsResponse
		decodeJSON(t, e.api(t, "/api/v1/channels"), http.StatusOK, &ch)
		if !store.Saturated(ch.Total.Pipeline) || !store.Saturated(ch.Total.Cost) || ch.Total.Opportunities != 96 ||
			!slices.Equal(ch.Total.Unavailable, []string{"cost", "pipeline"}) || ch.Total.ROI != nil || ch.Total.CostPerLead != nil {
			t.Fatalf("channels total: %+v", ch.Total)
		}
		for _, q := range []string{"?model=linear", "?model=markov", "?model=linear&by=campaign&lookback=30"} {
			var at struct {
				Conversions int64    `json:"conversions"`
				Unavailable []string `json:"unavailable"`
				ROI         *float64 `json:"roi"`
			}
			decodeJSON(t, e.api(t, "/api/v1/attribution"+q), http.StatusOK, &at)
			if at.Conversions != 96 || !slices.Contains(at.Unavailable, "value") || !slices.Contains(at.Unavailable, "cost") || at.ROI != nil {
				t.Fatalf("attribution%s: %+v", q, at)
			}
		}
		var m report.Marketing
		decodeJSON(t, e.api(t, "/api/v1/dashboards/marketing?from=2026-01-01&to=2026-03-31"), http.StatusOK, &m)
		if !store.Saturated(m.Headline.PipelineCreated) || !store.Saturated(m.Headline.Spend) || m.Headline.ROAS != nil || m.Headline.ROI != nil ||
			m.Headline.CAC != nil || !slices.Contains(m.Headline.Unavailable, "pipeline_created") || !slices.Contains(m.Headline.Unavailable, "spend") {
			t.Fatalf("marketing dashboard: %+v", m.Headline)
		}
		var ads report.Ads
		decodeJSON(t, e.api(t, "/api/v1/dashboards/ads?from=2026-01-01&to=2026-03-31"), http.StatusOK, &ads)
		if !store.Saturated(ads.Total.Spend) || ads.Total.CPC != nil || ads.Total.ROI != nil {
			t.Fatalf("advertising dashboard: %+v", ads.Total)
		}
		res := e.do(t, req{target: "/dashboards/marketing?from=2026-01-01&to=2026-03-31", cookies: []*http.Cookie{e.login(t)}})
		body := bodyOf(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="unavailable"`) || !strings.Contains(body, `id="table-channels"`) {
			t.Fatalf("marketing dashboard: status %d\n%s", res.StatusCode, body)
		}
	})
}

// Single amounts are bounded at input: the 400 names the field and the limit.
func TestAmountLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newLcEnv(t, s)
		const over = `"10000000000.01"`
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, `{"external_id":"SF-1","account_id":1,"name":"n","stage":"proposal","amount":`+over+`}`,
			400, "amount: \"10000000000.01\" is above the limit of 10000000000.00", nil)
		var o opportunityJSON
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, `{"external_id":"SF-1","account_id":1,"name":"n","stage":"proposal","amount":"10000000000.00"}`, 201, "", &o)
		e.expect(t, "PATCH", fmt.Sprintf("/api/v1/opportunities/%d", o.ID), e.sales, `{"amount":`+over+`}`, 400, "amount: \"10000000000.01\" is above the limit", nil)
		e.expect(t, "POST", "/api/v1/orders", e.sales, `{"external_id":"O-1","account_id":1,"amount":"999999999999999.99","ordered_at":"2026-03-02"}`,
			400, "amount: \"999999999999999.99\" is above the limit", nil)
	})
}

// A CRM that resends an opportunity without created_at or closed_at must
// not move it into the current period: an update keeps the stored times.
func TestOpportunityUpsertKeepsStoredDates(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newLcEnv(t, s)
		base := `{"external_id":"SF-7","account_id":1,"name":"n","amount":"1000.00"`
		var o opportunityJSON
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, base+`,"stage":"closed_won","created_at":"2025-06-01","closed_at":"2025-07-01"}`, 201, "", &o)
		// Date-only times are the end of the day in Asia/Shanghai.
		created, closed := time.Date(2025, 6, 1, 15, 59, 59, 0, time.UTC), time.Date(2025, 7, 1, 15, 59, 59, 0, time.UTC)
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, base+`,"stage":"closed_won"}`, 200, "", &o)
		if !o.CreatedAt.Equal(created) || o.ClosedAt == nil || !o.ClosedAt.Equal(closed) {
			t.Fatalf("update without dates moved them: created %v closed %v", o.CreatedAt, o.ClosedAt)
		}
		e.expect(t, "GET", fmt.Sprintf("/api/v1/opportunities/%d", o.ID), e.viewer, "", 200, "", &o)
		if !o.CreatedAt.Equal(created) || o.ClosedAt == nil || !o.ClosedAt.Equal(closed) {
			t.Fatalf("stored: created %v closed %v", o.CreatedAt, o.ClosedAt)
		}
		// Reopened: no closed_at; the creation stays.
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, base+`,"stage":"negotiation"}`, 200, `"closed_at":null`, &o)
		if !o.CreatedAt.Equal(created) {
			t.Fatalf("reopen moved created_at to %v", o.CreatedAt)
		}
		// Given times still win; a new opportunity without them starts now.
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, base+`,"stage":"negotiation","created_at":"2025-05-01"}`, 200, "", &o)
		if !o.CreatedAt.Equal(time.Date(2025, 5, 1, 15, 59, 59, 0, time.UTC)) {
			t.Fatalf("given created_at ignored: %v", o.CreatedAt)
		}
		before := time.Now().Add(-time.Minute)
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, `{"external_id":"SF-8","account_id":1,"name":"n","amount":"1","stage":"closed_lost"}`, 201, "", &o)
		if o.CreatedAt.Before(before) || o.ClosedAt == nil || o.ClosedAt.Before(before) {
			t.Fatalf("new opportunity: created %v closed %v", o.CreatedAt, o.ClosedAt)
		}
	})
}

// Names from outside lose their bidi controls wherever they are stored, so
// that a name cannot display as something other than what it holds.
func TestNamesLoseBidiControls(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		e := newLcEnv(t, s)
		var o opportunityJSON
		e.expect(t, "POST", "/api/v1/opportunities", e.sales, `{"external_id":"SF-9","account_id":1,"name":"\u202eACME CDP\u202c","stage":"proposal","amount":"1.00"}`, 201, "", &o)
		if o.Name != "ACME CDP" {
			t.Fatalf("opportunity name %q", o.Name)
		}
		ctx := context.Background()
		a := auth.New(s)
		u, err := a.CreateUser(ctx, "bidi@example.com", "\u2067王伟\u2069", model.RoleViewer, "Lq7-vX2p!kR9zt-w")
		if err != nil || u.Name != "王伟" {
			t.Fatalf("user %q, %v", u.Name, err)
		}
	})
}
