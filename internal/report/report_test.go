package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/revloop/revloop/internal/model"
	"github.com/revloop/revloop/internal/report"
	"github.com/revloop/revloop/internal/rollup"
	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var (
	ctx  = context.Background()
	day0 = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
)

// load makes four leads from two channels: three reach MQL, one reaches
// customer. Paid search cost 1000.00 for 3 leads (333.33 per lead).
func load(t *testing.T, s *store.Store) {
	t.Helper()
	err := s.Load(ctx, func(l store.Loader) error {
		ins := func(table, cols string, rows ...[]any) {
			if err := l.Insert(table, strings.Split(cols, ","), rows); err != nil {
				t.Fatal(err)
			}
		}
		ins("accounts", "id,name,created_at", []any{int64(1), "丙公司", day0})
		ins("campaigns", "id,code,name,channel,created_at", []any{int64(1), "bd", "百度", "paid_search", day0}, []any{int64(2), "web", "直播", "webinar", day0})
		var persons, changes, touches [][]any
		ch := []string{"paid_search", "paid_search", "paid_search", "webinar"}
		campaignOf := map[string]int64{"paid_search": 1, "webinar": 2}
		reach := []int{1, 2, 2, 5}
		stages := []string{"lead", "mql", "sql", "opportunity", "customer"}
		cid := int64(0)
		for i := range 4 {
			pid := int64(i + 1)
			lead := day0.AddDate(0, 0, i)
			persons = append(persons, []any{pid, int64(1), stages[reach[i]-1], day0, ch[i], lead, day0})
			// The form fill that made the lead, its lead source.
			touches = append(touches, []any{pid, pid, lead, "form_submit", ch[i], campaignOf[ch[i]]})
			prev := "visitor"
			for k := 0; k < reach[i]; k++ {
				cid++
				changes = append(changes, []any{cid, pid, prev, stages[k], lead.AddDate(0, 0, 10*k)})
				prev = stages[k]
			}
		}
		ins("persons", "id,account_id,stage,first_seen_at,first_touch_channel,lead_at,created_at", persons...)
		ins("stage_changes", "id,person_id,from_stage,to_stage,changed_at", changes...)
		ins("touchpoints", "id,person_id,occurred_at,type,channel,campaign_id", touches...)
		ins("daily_costs", "id,day,platform,campaign_id,cost_fen", []any{int64(1), day0, "baidu", int64(1), int64(100000)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFunnelAndChannels(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		load(t, s)
		if _, err := rollup.Refresh(ctx, s, day0.AddDate(0, 2, 0)); err != nil {
			t.Fatal(err)
		}
		r := report.Reporter{Store: s}
		cal := model.DefaultCalendar()
		f, err := r.StageFunnel(ctx, model.Period{Cal: cal}, "")
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{4, 3, 1, 1, 1}
		for i, st := range f.Stages {
			if st.Count != want[i] {
				t.Fatalf("stage %s: %d, want %d", st.Stage, st.Count, want[i])
			}
		}
		if f.Mode != report.Cohort || f.Stages[0].Rate != nil || *f.Stages[1].Rate != 0.75 || *f.Stages[2].Rate != 0.3333 || *f.Overall != 0.25 {
			t.Fatalf("rates: %+v overall %v", f.Stages, *f.Overall)
		}
		// Period mode over days 10..20 sees the MQL entries of persons 2 and 3
		// (day 11, 12) and the person 4 MQL (day 13) and SQL (day 23 — outside).
		f, err = r.StageFunnel(ctx, model.Period{From: day0.AddDate(0, 0, 10), To: day0.AddDate(0, 0, 19), Cal: cal}, report.Period)
		if err != nil {
			t.Fatal(err)
		}
		if f.Stages[0].Count != 0 || f.Stages[1].Count != 3 || f.Stages[1].Rate != nil || f.Stages[2].Count != 0 {
			t.Fatalf("period: %+v", f.Stages)
		}
		if _, err := r.StageFunnel(ctx, model.Period{Cal: cal}, "weekly"); err == nil || !strings.Contains(err.Error(), "weekly") {
			t.Fatalf("unknown mode: %v", err)
		}

		rows, total, err := r.Channels(ctx, model.Period{Cal: cal})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Channel != model.ChannelPaidSearch || rows[0].Leads != 3 || rows[0].Cost != 100000 ||
			rows[0].CostPerLead == nil || *rows[0].CostPerLead != 33333 || rows[0].ROI == nil || *rows[0].ROI != 0 {
			t.Fatalf("paid search row: %+v", rows[0])
		}
		if rows[1].CostPerLead != nil || rows[1].ROI != nil {
			t.Fatalf("webinar without cost has no CPL or ROI: %+v", rows[1])
		}
		if total.Leads != 4 || total.Cost != 100000 || *total.CostPerLead != 25000 {
			t.Fatalf("total: %+v", total)
		}

		st, err := r.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Persons != 4 || st.Cost == nil || *st.Cost != 100000 || st.Currency != "CNY" || st.ROI == nil || *st.ROI != 0 {
			t.Fatalf("stats: %+v", st)
		}
	})
}
